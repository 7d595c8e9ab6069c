"""Every panel's image in a plane — axial slice or coronal/sagittal reformat — shared by screen and export.

One rule set for the viewer and ``ldct-viewer export --plane``: the LDCT series' orientation
(:mod:`ldct_viewer.orientation`) turns the LDCT and every network output (computed on the stored
arrays) to the display convention; the NDCT uses its own orientation, so a reference stored in
another order still lines up. Panels are whatever keys the caller hands in (LDCT, N outputs, NDCT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ldct_viewer.orientation import PLANES, Orientation, describe_screen
from ldct_viewer.reformat import PlaneView, plane_view, section

#: per panel: the stored slices (a ``[Z, H, W]`` volume or a list with None where a slice is
#: missing) and the function that turns a stored slice to the display orientation
Source = tuple[np.ndarray | Sequence[np.ndarray | None], Callable[[np.ndarray], np.ndarray]]


@dataclass
class PlaneGeometry:
    """The orientation of an open series (and its NDCT) and how each plane is cut from it."""

    orientation: Orientation
    n_slices: int
    ndct_orientation: Orientation | None = None
    _views: dict[str, PlaneView] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, series, ndct=None) -> "PlaneGeometry":
        o = Orientation.of_series(series)
        n = Orientation.of_series(ndct) if ndct is not None else None
        return cls(o, len(series), n)

    def view(self, plane: str) -> PlaneView:
        if plane not in self._views:
            self._views[plane] = plane_view(self.orientation, self.n_slices, plane)
        return self._views[plane]

    def count(self, plane: str) -> int:
        return self.view(plane).count

    def pixel_mm(self, plane: str) -> tuple[float, float]:
        """(row, column) mm of the images shown in ``plane`` (square in reformats)."""
        view = self.view(plane)
        if view.fixed_axis == 0:
            return self.orientation.spacing[1], self.orientation.spacing[2]
        return view.pixel_mm, view.pixel_mm

    def letters(self, plane: str) -> dict[str, str]:
        """Patient direction letters at the edges of ``plane``'s images."""
        return self.orientation.edge_letters(None if self.view(plane).fixed_axis == 0 else plane)

    def coordinate(self, plane: str, index: int) -> tuple[str, float]:
        """``("z", -121.0)``: the patient coordinate (DICOM LPS, mm) of section ``index`` of ``plane``."""
        view = self.view(plane)
        if view.fixed_axis == 0:
            return self.orientation.slice_coordinate(index)
        return self.orientation.line_coordinate(view.fixed_axis, index)

    def caption(self, plane: str, index: int) -> str:
        """``"slice 3 / 40  ·  z = -121.0 mm"`` or ``"coronal 200 / 512  ·  y = 12.4 mm"`` (DICOM patient
        coordinates, with their sign)."""
        view = self.view(plane)
        name = "slice" if view.fixed_axis == 0 else plane
        axis, value = self.coordinate(plane, index)
        return f"{name} {index + 1} / {view.count}  \u00b7  {axis} = {value:.1f} mm"

    def orientation_text(self, plane: str) -> str:
        """``"axial, top A, left R"`` for exported images."""
        return f"{plane}, {describe_screen(self.letters(plane))}"

    def notes(self, ndct: bool = False) -> list[str]:
        o = self.ndct_orientation if ndct else self.orientation
        return o.notes if o is not None else []

    def ndct_fits(self) -> bool:
        """The NDCT's display matrix is the LDCT's (else reformats cannot line its slices up)."""
        return self.ndct_orientation is None or self.ndct_orientation.display_shape == self.orientation.display_shape


def plane_images(geometry: PlaneGeometry, plane: str, index: int, sources: Mapping[str, Source | None]
                 ) -> dict[str, np.ndarray | None]:
    """Each panel's HU image of section ``index`` of ``plane`` (NaN lines where a slice is missing)."""
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; known: {', '.join(PLANES)}")
    view = geometry.view(plane)
    out: dict[str, np.ndarray | None] = {}
    for key, source in sources.items():
        if source is None:
            out[key] = None
            continue
        slices, display = source
        if view.fixed_axis == 0:
            stored = slices[index]
            out[key] = None if stored is None else display(stored)
        elif isinstance(slices, np.ndarray):
            out[key] = section(display(slices), view, index)
        else:
            out[key] = section(slices, view, index, display=display)
    return out
