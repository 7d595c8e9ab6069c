"""Elliptical region-of-interest statistics: the radiologist's first check of a denoiser.

Mean and standard deviation in HU inside one ellipse, placed identically on the LDCT, both network
outputs and the NDCT: the SD says how much noise each image keeps (an over-smoothing network's SD
falls below NDCT's), the mean whether it shifted the tissue's attenuation. Kept free of Qt so
that the viewer, tests and scripts measure the same thing.

Coordinates are image pixels with the viewer's convention: x = column, y = row, pixel (r, c)
covers [c, c + 1) x [r, r + 1); a pixel belongs to the ROI when its centre lies inside the ellipse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EllipseRoi:
    """The ellipse inscribed in the rectangle (x0, y0) + (width, height), image pixels."""

    x0: float
    y0: float
    width: float
    height: float

    @classmethod
    def from_corners(cls, a: tuple[float, float], b: tuple[float, float]) -> "EllipseRoi":
        """The ROI spanned by two opposite corners (x, y), in any order (a mouse drag)."""
        (xa, ya), (xb, yb) = a, b
        return cls(min(xa, xb), min(ya, yb), abs(xb - xa), abs(yb - ya))

    def box_mask(self, shape: tuple[int, int]) -> tuple[tuple[slice, slice], np.ndarray] | None:
        """The ellipse's bounding box inside an image of ``shape`` (row and column slices) and the
        mask within it; None when no pixel can be inside (degenerate, or outside the image)."""
        h, w = shape
        rx, ry = self.width / 2.0, self.height / 2.0
        if rx <= 0 or ry <= 0:
            return None
        cx, cy = self.x0 + rx, self.y0 + ry
        r0, r1 = max(int(math.floor(self.y0)), 0), min(int(math.ceil(self.y0 + self.height)), h)
        c0, c1 = max(int(math.floor(self.x0)), 0), min(int(math.ceil(self.x0 + self.width)), w)
        if r0 >= r1 or c0 >= c1:
            return None
        rows = (np.arange(r0, r1) + 0.5 - cy) / ry
        cols = (np.arange(c0, c1) + 0.5 - cx) / rx
        return (slice(r0, r1), slice(c0, c1)), rows[:, None] ** 2 + cols[None, :] ** 2 <= 1.0

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Boolean [H, W] mask of the pixels whose centre is inside the ellipse (empty if degenerate)."""
        out = np.zeros(shape, dtype=bool)
        box = self.box_mask(shape)
        if box is not None:
            out[box[0]] = box[1]
        return out


@dataclass(frozen=True)
class RoiStats:
    """HU statistics of one image inside a ROI; ``sd`` is the sample standard deviation (n - 1)."""

    mean: float
    sd: float
    minimum: float
    maximum: float
    pixels: int
    area_mm2: float

    def text(self) -> str:
        """Two short lines for an overlay label."""
        return (f"mean {self.mean:.1f}  SD {self.sd:.1f} HU\n"
                f"{self.minimum:.0f} … {self.maximum:.0f} HU · {self.area_mm2:.0f} mm²")


def roi_stats(image: np.ndarray, roi: EllipseRoi, pixel_spacing: tuple[float, float] = (1.0, 1.0),
              mask: np.ndarray | None = None) -> RoiStats | None:
    """Statistics of the [H, W] HU ``image`` inside ``roi`` (``mask``: its precomputed mask), None
    when no pixel centre lies inside. ``pixel_spacing`` is (row mm, col mm), for the area."""
    a = np.asarray(image)
    if a.ndim != 2:
        raise ValueError(f"expected a [H, W] image, got shape {a.shape}")
    if mask is not None:
        values = a[mask].astype(np.float64)
    else:  # only the bounding box: ~50x less work than a full-image mask for a small ROI on 512²
        box = roi.box_mask(a.shape)
        values = np.empty(0) if box is None else a[box[0]][box[1]].astype(np.float64)
    if values.size == 0:
        return None
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    dy, dx = (float(s) for s in pixel_spacing)
    return RoiStats(mean=float(values.mean()), sd=sd, minimum=float(values.min()), maximum=float(values.max()),
                    pixels=int(values.size), area_mm2=values.size * dy * dx)
