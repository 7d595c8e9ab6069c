"""Patient orientation: how a series' stored arrays are turned to the radiological display convention.

DICOM gives every image its row and column directions in patient coordinates (ImageOrientationPatient,
LPS: +x towards the patient's left, +y posterior, +z superior). The viewer shows every plane the way
radiologists read it, whatever the file's storage order:

* axial:    patient right on screen left, anterior up        (screen right = L, screen down = P)
* coronal:  patient right on screen left, superior up        (screen right = L, screen down = I)
* sagittal: anterior on screen left, superior up             (screen right = P, screen down = I)

The mapping is a *view transform* — a transpose and flips, never a resampling — applied identically
to every array of a case (LDCT, every network output, NDCT), so inference keeps running on the
stored arrays and its results map back exactly. HU values are never touched.

An oblique series (image axes off the patient axes) is shown on its nearest patient axes, labelled
as such; a gantry-tilted series (slices displaced along a direction other than their normal) is
stacked as acquired, so its reformats are sheared: :attr:`Orientation.notes` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")
PLANE_NORMAL_AXIS: dict[str, int] = {"sagittal": 0, "coronal": 1, "axial": 2}  # LPS axis each plane is normal to
#: screen (right, down) patient directions of each plane, as (LPS axis, sign)
PLANE_SCREEN: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "axial": ((0, +1), (1, +1)),
    "coronal": ((0, +1), (2, -1)),
    "sagittal": ((1, +1), (2, -1)),
}
LETTERS: dict[tuple[int, int], str] = {(0, +1): "L", (0, -1): "R", (1, +1): "P", (1, -1): "A",
                                       (2, +1): "S", (2, -1): "I"}
AXIS_NAMES = "xyz"
OBLIQUE_DEGREES = 1.0  # image axes further than this off the patient axes: the panel says "oblique"
TILT_DEGREES = 1.0  # slice stack further than this off the slice normal: "gantry tilt"

Direction = tuple[int, int]  # (LPS axis 0..2, sign ±1)


def letter(direction: Direction) -> str:
    """The patient direction letter ("L", "P", "S", ...) of ``(axis, sign)``."""
    return LETTERS[(int(direction[0]), 1 if direction[1] > 0 else -1)]


def opposite(direction: Direction) -> Direction:
    return (direction[0], -direction[1])


def nearest_axes(row_dir, col_dir) -> tuple[Direction, Direction]:
    """The patient directions nearest to two image directions, on two different axes."""
    r, c = np.asarray(row_dir, float), np.asarray(col_dir, float)
    best = max(((a, b) for a in range(3) for b in range(3) if a != b), key=lambda ab: abs(r[ab[0]]) + abs(c[ab[1]]))
    a, b = best
    return (a, 1 if r[a] >= 0 else -1), (b, 1 if c[b] >= 0 else -1)


@dataclass(frozen=True)
class Flip:
    """A 2-D view transform: optional transpose first, then flips of the result's rows / columns."""

    transpose: bool = False
    flip_rows: bool = False
    flip_cols: bool = False

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The image (last two axes) as displayed: a numpy view, no copy, values untouched."""
        a = np.swapaxes(image, -1, -2) if self.transpose else image
        if self.flip_rows:
            a = a[..., ::-1, :]
        if self.flip_cols:
            a = a[..., :, ::-1]
        return a

    def stored_index(self, row: int, col: int, shape: tuple[int, int]) -> tuple[int, int]:
        """Stored ``(row, col)`` of displayed pixel ``(row, col)``; ``shape`` is the displayed shape."""
        h, w = shape
        if self.flip_rows:
            row = h - 1 - row
        if self.flip_cols:
            col = w - 1 - col
        return (col, row) if self.transpose else (row, col)


def screen_flip(down: Direction, right: Direction, plane: str) -> Flip:
    """The flip that turns an image whose rows run towards ``down`` and columns towards ``right``
    (patient directions) into ``plane``'s radiological display."""
    want_right, want_down = PLANE_SCREEN[plane]
    if right[0] == want_right[0] and down[0] == want_down[0]:
        return Flip(False, down[1] != want_down[1], right[1] != want_right[1])
    if right[0] == want_down[0] and down[0] == want_right[0]:
        return Flip(True, right[1] != want_down[1], down[1] != want_right[1])
    raise ValueError(f"image axes {letter(down)}/{letter(right)} do not span the {plane} plane")


def plane_of(fixed_axis: int) -> str:
    """The plane normal to LPS axis ``fixed_axis``."""
    return {v: k for k, v in PLANE_NORMAL_AXIS.items()}[int(fixed_axis)]


@dataclass(frozen=True)
class Orientation:
    """How one series is displayed: its in-plane :class:`Flip`, acquired plane and axis directions.

    The *display volume* is the stored ``[Z, H, W]`` volume with the in-plane flip applied to every
    slice (slice order unchanged): axis 0 runs towards ``axes[0]``, axis 1 (screen down) towards
    ``axes[1]``, axis 2 (screen right) towards ``axes[2]``, with ``spacing`` mm between samples.
    """

    flip: Flip
    plane: str  # the acquired plane: "axial" for ordinary CT
    axes: tuple[Direction, Direction, Direction]
    spacing: tuple[float, float, float]  # mm along display axes 0, 1, 2
    origin: tuple[float, ...]  # patient position (mm) of stored pixel (0, 0) on each slice: one per slice
    row_dir: tuple[float, float, float]  # stored column index direction (IOP first triplet)
    col_dir: tuple[float, float, float]  # stored row index direction (IOP second triplet)
    stored_shape: tuple[int, int]
    oblique_degrees: float = 0.0
    tilt_degrees: float = 0.0

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_geometry(cls, orientation, positions, pixel_spacing, slice_spacing: float,
                      stored_shape: tuple[int, int]) -> "Orientation":
        """From ImageOrientationPatient, each slice's ImagePositionPatient (sorted), PixelSpacing
        (row, column mm), the slice spacing and the stored ``(rows, columns)``."""
        o = np.asarray(orientation, dtype=np.float64)
        row_dir, col_dir = o[:3] / max(np.linalg.norm(o[:3]), 1e-12), o[3:] / max(np.linalg.norm(o[3:]), 1e-12)
        right, down = nearest_axes(row_dir, col_dir)  # stored columns run along ``right``, rows along ``down``
        normal_axis = 3 - right[0] - down[0]
        normal = np.cross(row_dir, col_dir)
        plane = plane_of(normal_axis)
        flip = screen_flip(down, right, plane)
        slice_dir = (normal_axis, 1 if normal[normal_axis] >= 0 else -1)
        dy, dx = (float(v) for v in pixel_spacing)
        if flip.transpose:
            axes = (slice_dir, right, down)
            spacing = (float(slice_spacing), dx, dy)
        else:
            axes = (slice_dir, down, right)
            spacing = (float(slice_spacing), dy, dx)
        axes = (axes[0], _signed(axes[1], flip.flip_rows), _signed(axes[2], flip.flip_cols))
        oblique = max(_angle_off_axis(row_dir), _angle_off_axis(col_dir))
        positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
        tilt = 0.0
        if len(positions) > 1:
            step = positions[-1] - positions[0]
            length = float(np.linalg.norm(step))
            if length > 1e-6:
                cos = abs(float(np.dot(step / length, normal))) / max(float(np.linalg.norm(normal)), 1e-12)
                tilt = math.degrees(math.acos(min(1.0, cos)))
        return cls(flip=flip, plane=plane, axes=axes, spacing=spacing,
                   origin=tuple(map(tuple, positions)), row_dir=tuple(row_dir), col_dir=tuple(col_dir),
                   stored_shape=(int(stored_shape[0]), int(stored_shape[1])),
                   oblique_degrees=oblique, tilt_degrees=tilt)

    @classmethod
    def of_series(cls, series) -> "Orientation":
        """The orientation of an ``io.Series`` (or anything with its geometry attributes)."""
        z, h, w = series.shape
        return cls.from_geometry(series.orientation, series.positions, series.pixel_spacing,
                                 series.slice_spacing, (h, w))

    # ------------------------------------------------------------------ use
    def display(self, image: np.ndarray) -> np.ndarray:
        """A stored slice (or ``[Z, H, W]`` volume) as displayed in the acquired plane (a view)."""
        return self.flip.apply(image)

    @property
    def display_shape(self) -> tuple[int, int]:
        h, w = self.stored_shape
        return (w, h) if self.flip.transpose else (h, w)

    def edge_letters(self, plane: str | None = None) -> dict[str, str]:
        """``{"top", "bottom", "left", "right"}`` → patient direction letter at that panel edge."""
        right, down = PLANE_SCREEN[plane or self.plane]
        if plane is None or plane == self.plane:  # the acquired plane: the file's own (nearest) axes
            down, right = self.axes[1], self.axes[2]
        return {"top": letter(opposite(down)), "bottom": letter(down),
                "left": letter(opposite(right)), "right": letter(right)}

    @property
    def notes(self) -> list[str]:
        """What the panel should say about this geometry: oblique image axes, gantry tilt."""
        out = []
        if self.oblique_degrees > OBLIQUE_DEGREES:
            out.append(f"oblique {self.plane}: {self.oblique_degrees:.0f}° off the patient axes "
                       "(shown as acquired, letters give the nearest axes)")
        if self.tilt_degrees > TILT_DEGREES:
            out.append(f"gantry tilt {self.tilt_degrees:.0f}°: slices stacked as acquired "
                       "(reformats sheared, not resampled)")
        return out

    def slice_coordinate(self, i: int) -> tuple[str, float]:
        """``("z", -121.0)``: the patient coordinate (LPS, mm) of slice ``i`` along the acquired plane's normal
        axis — the DICOM z of an axial slice, with its sign."""
        axis = PLANE_NORMAL_AXIS[self.plane]
        return AXIS_NAMES[axis], float(self.origin[int(i)][axis])

    def line_coordinate(self, display_axis: int, index: int) -> tuple[str, float]:
        """The patient coordinate of display row (``display_axis`` 1) or column (2) ``index`` of the
        display volume, along that axis' patient direction: ``("y", 12.3)`` for a coronal line."""
        patient_axis = self.axes[display_axis][0]
        h, w = self.display_shape
        row, col = (int(index), 0) if display_axis == 1 else (0, int(index))
        i, j = self.flip.stored_index(min(row, h - 1), min(col, w - 1), (h, w))
        dy, dx = (self.spacing[1], self.spacing[2]) if not self.flip.transpose else (self.spacing[2], self.spacing[1])
        origin = np.asarray(self.origin[len(self.origin) // 2])
        point = origin + j * dx * np.asarray(self.row_dir) + i * dy * np.asarray(self.col_dir)
        return AXIS_NAMES[patient_axis], float(point[patient_axis])


def _signed(direction: Direction, flipped: bool) -> Direction:
    return (direction[0], -direction[1]) if flipped else direction


def _angle_off_axis(v: np.ndarray) -> float:
    """Degrees between direction ``v`` and its nearest patient axis."""
    return math.degrees(math.acos(min(1.0, float(np.max(np.abs(v))))))


def describe_screen(letters: dict[str, str]) -> str:
    """``"top A, left R"``: the orientation written beside an exported image."""
    return f"top {letters['top']}, left {letters['left']}"
