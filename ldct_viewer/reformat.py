"""Multiplanar reformats: coronal and sagittal sections of a stack of axial slices (no Qt).

A section holds one display row (or column) of every slice of the display volume
(``orientation.Orientation``), turned to its plane's radiological convention and resampled to square
pixels (slices are usually further apart than pixels), so it has the right aspect on screen and in
exported PNGs. A slice that is missing — a network output not computed yet, an LDCT slice without an
NDCT partner — leaves its line NaN; :func:`missing_bands` finds those lines so the screen and the
export draw a labelled placeholder band there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ldct_viewer.orientation import PLANE_NORMAL_AXIS, PLANES, Flip, Orientation, screen_flip


@dataclass(frozen=True)
class PlaneView:
    """How ``plane`` is cut from a display volume of ``shape`` ``[Z, H, W]``.

    ``fixed_axis`` is the display-volume axis held at the chosen index (0: the acquired slices
    themselves); the two others, in order, form the section, which ``flip`` turns to the screen;
    ``scale`` is the output pixels per input sample along the section's (rows, columns).
    """

    plane: str
    fixed_axis: int
    shape: tuple[int, int, int]
    flip: Flip
    spacing: tuple[float, float]  # mm between the section's samples (rows, columns), before resampling
    scale: tuple[float, float]

    @property
    def count(self) -> int:
        """How many sections there are along the fixed axis (the slider's range)."""
        return self.shape[self.fixed_axis]

    @property
    def pixel_mm(self) -> float:
        """The square pixel size of the resampled section."""
        return min(self.spacing)

    @property
    def slice_axis(self) -> int | None:
        """Axis (0 rows, 1 columns) of the output along which the acquired slices lie; None for the native plane."""
        if self.fixed_axis == 0:
            return None
        return 1 if self.flip.transpose else 0

    @property
    def output_shape(self) -> tuple[int, int]:
        a, b = self._section_shape()
        rows, cols = (b, a) if self.flip.transpose else (a, b)
        return _resampled(rows, self.scale[0]), _resampled(cols, self.scale[1])

    def _section_shape(self) -> tuple[int, int]:
        rest = [n for axis, n in enumerate(self.shape) if axis != self.fixed_axis]
        return rest[0], rest[1]

    def volume_index(self, row: float, col: float, index: int) -> tuple[int, int, int]:
        """Display-volume ``(slice, row, col)`` shown at output pixel ``(row, col)`` of section ``index``."""
        a_n, b_n = self._section_shape()
        rows_n, cols_n = (b_n, a_n) if self.flip.transpose else (a_n, b_n)
        r = _source_index(row, rows_n, self.scale[0])
        c = _source_index(col, cols_n, self.scale[1])
        if self.flip.flip_rows:
            r = rows_n - 1 - r
        if self.flip.flip_cols:
            c = cols_n - 1 - c
        a, b = (c, r) if self.flip.transpose else (r, c)
        point = [a, b]
        point.insert(self.fixed_axis, int(index))
        return (int(point[0]), int(point[1]), int(point[2]))

    def slice_at(self, row: float, col: float) -> int:
        """The acquired slice shown at output pixel ``(row, col)`` of a reformat."""
        return self.volume_index(row, col, 0)[0]

    def slices_between(self, start: float, stop: float) -> tuple[int, int]:
        """The acquired slices ``(first, last)`` inclusive shown between output coordinates ``start`` and
        ``stop`` along :attr:`slice_axis` (what a zoomed reformat shows)."""
        lo, hi = sorted((float(start), float(stop)))
        if self.slice_axis == 0:
            ends = [self.slice_at(max(lo, 0), 0), self.slice_at(max(hi - 1e-6, 0), 0)]
        else:
            ends = [self.slice_at(0, max(lo, 0)), self.slice_at(0, max(hi - 1e-6, 0))]
        return min(ends), max(ends)


def plane_view(orientation: Orientation, n_slices: int, plane: str) -> PlaneView:
    """How to cut ``plane`` from the display volume of a series with ``orientation`` and ``n_slices``."""
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; known: {', '.join(PLANES)}")
    h, w = orientation.display_shape
    shape = (int(n_slices), h, w)
    wanted = PLANE_NORMAL_AXIS[plane]
    fixed = next(axis for axis, direction in enumerate(orientation.axes) if direction[0] == wanted)
    rest = [axis for axis in range(3) if axis != fixed]
    down, right = orientation.axes[rest[0]], orientation.axes[rest[1]]
    flip = screen_flip(down, right, plane)
    spacing = (orientation.spacing[rest[0]], orientation.spacing[rest[1]])
    if flip.transpose:
        spacing = (spacing[1], spacing[0])
    target = min(spacing)
    return PlaneView(plane, fixed, shape, flip, spacing, (spacing[0] / target, spacing[1] / target))


def section(slices: np.ndarray | Sequence[np.ndarray | None], view: PlaneView, index: int,
            display=None) -> np.ndarray:
    """Section ``index`` of ``view`` as float32 HU with square pixels, NaN where a slice is missing.

    ``slices`` is a display volume ``[Z, H, W]`` or a sequence of per-slice arrays (``None`` where
    there is none); ``display`` (e.g. ``Orientation.display``) turns a stored slice into its display
    orientation first.
    """
    index = int(index)
    if not 0 <= index < view.count:
        raise IndexError(f"{view.plane} section {index} out of range 0..{view.count - 1}")
    if view.fixed_axis == 0:
        image = slices[index]
        image = display(image) if (display is not None and image is not None) else image
        if image is None:
            return np.full(view.output_shape, np.nan, np.float32)
        return np.asarray(view.flip.apply(image), dtype=np.float32)
    z, h, w = view.shape
    if isinstance(slices, np.ndarray) and display is None:
        lines = slices[:, index, :] if view.fixed_axis == 1 else slices[:, :, index]
        part = np.asarray(lines, dtype=np.float32)
    else:
        length = w if view.fixed_axis == 1 else h
        part = np.full((z, length), np.nan, np.float32)
        for k in range(z):
            image = slices[k]
            if image is None:
                continue
            image = display(image) if display is not None else image
            part[k] = image[index, :] if view.fixed_axis == 1 else image[:, index]
    return to_square(view.flip.apply(part), view.scale)


def to_square(image: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """Linear resampling of rows and columns by ``scale`` (output samples per input sample)."""
    out = np.asarray(image, dtype=np.float32)
    for axis, factor in enumerate(scale):
        if abs(factor - 1.0) < 1e-6:
            continue
        n = out.shape[axis]
        m = _resampled(n, factor)
        pos = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        t = (pos - lo).astype(np.float32)
        a, b = np.take(out, lo, axis=axis), np.take(out, hi, axis=axis)
        shape = [1, 1]
        shape[axis] = m
        t = t.reshape(shape)
        exact = t.reshape(-1) == 0  # avoid NaN*0 spreading a missing neighbour onto an exact sample
        blended = a * (1 - t) + b * t
        if exact.any():
            idx = [slice(None), slice(None)]
            idx[axis] = exact
            blended[tuple(idx)] = a[tuple(idx)]
        out = blended.astype(np.float32)
    return np.ascontiguousarray(out)


def missing_bands(image: np.ndarray, axis: int | None) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: runs of whole rows (``axis`` 0) or columns (1) that are NaN."""
    if axis is None or image.size == 0:
        return []
    empty = np.isnan(image).all(axis=1 - axis)
    bands, start = [], None
    for i, e in enumerate(empty):
        if e and start is None:
            start = i
        elif not e and start is not None:
            bands.append((start, i))
            start = None
    if start is not None:
        bands.append((start, len(empty)))
    return bands


def _resampled(n: int, factor: float) -> int:
    return max(1, int(round(n * factor)))


def _source_index(pos: float, n: int, factor: float) -> int:
    m = _resampled(n, factor)
    pixel = np.floor(float(pos))  # a view coordinate inside output pixel ``pixel``
    return int(min(max(round((pixel + 0.5) * n / m - 0.5), 0), n - 1))
