"""HU line profiles: where an over-smoothing denoiser shows as a softened edge.

A profile across an organ boundary, a vessel or a bone edge, taken along the same line on the LDCT,
both network outputs and the NDCT, shows whether an output keeps NDCT's edge (a steep rise) or
blurs it (a gentle one), which neither RMSE nor a noise measure separates from noise removal. Kept
free of Qt so that the viewer, tests and scripts measure the same thing.

Coordinates are image pixels with the viewer's convention: x = column, y = row, pixel (r, c)
covers [c, c + 1) x [r, r + 1), so its value sits at its centre (c + 0.5, r + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Line:
    """A segment from (x0, y0) to (x1, y1), image pixels."""

    x0: float
    y0: float
    x1: float
    y1: float

    def length_px(self) -> float:
        return math.hypot(self.x1 - self.x0, self.y1 - self.y0)


@dataclass(frozen=True)
class Profile:
    """HU sampled along a line: ``distance_mm`` from its start, ``hu`` (NaN outside the image)."""

    distance_mm: np.ndarray
    hu: np.ndarray


def line_profile(image: np.ndarray, line: Line, pixel_spacing: tuple[float, float] = (1.0, 1.0),
                 samples_per_pixel: float = 2.0) -> Profile:
    """Bilinear samples of the [H, W] ``image`` along ``line``, ``samples_per_pixel`` per pixel of
    length (at least 2 samples: the endpoints). ``pixel_spacing`` is (row mm, col mm), so distances
    are in mm also for non-square pixels. Samples outside the image are NaN."""
    a = np.asarray(image, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a [H, W] image, got shape {a.shape}")
    h, w = a.shape
    n = max(int(math.ceil(line.length_px() * samples_per_pixel)) + 1, 2)
    t = np.linspace(0.0, 1.0, n)
    x = line.x0 + t * (line.x1 - line.x0) - 0.5  # to pixel-centre coordinates
    y = line.y0 + t * (line.y1 - line.y0) - 0.5
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    xc, yc = np.clip(x, 0.0, w - 1.0), np.clip(y, 0.0, h - 1.0)  # edge pixels extend to the border
    c0 = np.clip(np.floor(xc).astype(int), 0, max(w - 2, 0))
    r0 = np.clip(np.floor(yc).astype(int), 0, max(h - 2, 0))
    c1, r1 = np.minimum(c0 + 1, w - 1), np.minimum(r0 + 1, h - 1)
    fx, fy = xc - c0, yc - r0
    top = a[r0, c0] * (1 - fx) + a[r0, c1] * fx
    bottom = a[r1, c0] * (1 - fx) + a[r1, c1] * fx
    values = np.where(inside, top * (1 - fy) + bottom * fy, np.nan)
    dy, dx = (float(s) for s in pixel_spacing)
    length_mm = math.hypot((line.x1 - line.x0) * dx, (line.y1 - line.y0) * dy)
    return Profile(distance_mm=(t * length_mm).astype(np.float64), hu=values)
