"""Geometry and texture primitives for the procedural phantom.

Shapes are approximate signed distances in millimetres (negative inside), evaluated on a
block of slices at once with per-slice parameters (arrays shaped ``[Z, 1, 1]``), so an organ
whose size and position vary with z is a single vectorised call. Edges are anti-aliased
analytically from the distance (partial-volume coverage of a pixel), which is much cheaper than
rendering at twice the resolution and downsampling.

``Canvas`` is the volume being painted: blocks of slices, the painter's-algorithm blend and the
tissue labels.

Textures are band-limited Gaussian random fields made by filtering white noise in the Fourier
domain with the voxel spacing taken into account, so correlation lengths are in millimetres and
the texture is continuous from slice to slice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

#: Distance returned where a shape does not exist on a slice (organ above/below its extent).
FAR_MM = 1.0e4


def as_column(values: np.ndarray | float, z: int) -> np.ndarray:
    """Per-slice parameter as float32 ``[Z, 1, 1]`` (a scalar is broadcast to every slice)."""
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim == 0:
        arr = np.full(z, float(arr), dtype=np.float32)
    return arr.reshape(-1, 1, 1)


def superellipse_distance(
    x: np.ndarray,
    y: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    power: float = 2.0,
    angle: np.ndarray | float = 0.0,
    a_neg: np.ndarray | None = None,
    b_neg: np.ndarray | None = None,
) -> np.ndarray:
    """Approximate signed distance (mm) to ``|u/a|^p + |v/b|^p = 1``.

    ``u, v`` are the coordinates relative to ``(cx, cy)`` rotated by ``angle`` (radians).
    ``a_neg``/``b_neg`` give different semi-axes on the negative side of u/v, which makes
    egg shapes such as a body flattened on its back. A semi-axis of 0 means "absent on this
    slice" and yields :data:`FAR_MM`. The distance is the first-order estimate
    ``(r - 1) / |grad r|``: exact on the boundary, good to a few millimetres near it.
    """
    dx = x - cx
    dy = y - cy
    if np.any(angle != 0.0):
        c = np.cos(angle).astype(np.float32)
        s = np.sin(angle).astype(np.float32)
        u = dx * c + dy * s
        v = dy * c - dx * s
    else:
        u, v = dx, dy
    if a_neg is not None:
        a = np.where(u < 0, a_neg, a)
    if b_neg is not None:
        b = np.where(v < 0, b_neg, b)
    absent = (a <= 0.05) | (b <= 0.05)
    a = np.maximum(a, 0.05)
    b = np.maximum(b, 0.05)
    ua = np.abs(u) / a
    vb = np.abs(v) / b
    if power == 2.0:
        r = np.sqrt(ua * ua + vb * vb)
        grad = np.sqrt((ua / a) ** 2 + (vb / b) ** 2) / np.maximum(r, 1e-6)
    else:
        p = np.float32(power)
        up = ua**p
        vp = vb**p
        r = (up + vp) ** (1.0 / p)
        gu = up / np.maximum(ua, 1e-6) / a
        gv = vp / np.maximum(vb, 1e-6) / b
        grad = np.maximum(r, 1e-6) ** (1.0 - p) * np.sqrt(gu * gu + gv * gv)
    d = (r - 1.0) / np.maximum(grad, 1e-4)
    return np.where(absent, np.float32(FAR_MM), d).astype(np.float32, copy=False)


def capsule_distance(
    x: np.ndarray, y: np.ndarray, x0, y0, x1, y1, radius
) -> np.ndarray:
    """Signed distance to a thick line segment (a vessel or bronchus seen obliquely)."""
    px, py = x - x0, y - y0
    ex, ey = x1 - x0, y1 - y0
    length2 = np.maximum(ex * ex + ey * ey, 1e-6)
    t = np.clip((px * ex + py * ey) / length2, 0.0, 1.0)
    qx, qy = px - t * ex, py - t * ey
    d = np.sqrt(qx * qx + qy * qy) - radius
    return np.where(np.asarray(radius) <= 0.05, np.float32(FAR_MM), d).astype(np.float32, copy=False)


def coverage(distance_mm: np.ndarray, pixel_mm: float, edge_px: float = 1.0) -> np.ndarray:
    """Fraction of a pixel inside the shape: a linear ramp one pixel (``edge_px``) wide."""
    return np.clip(0.5 - distance_mm / (pixel_mm * edge_px), 0.0, 1.0).astype(np.float32, copy=False)


def ellipsoid_profile(s: np.ndarray, centre: float, half_length: float) -> np.ndarray:
    """Relative cross-section scale of an ellipsoid-like organ at body level ``s`` (0 outside).

    ``sqrt(1 - u^2)`` makes organ poles round in z instead of abrupt, as on real scans.
    """
    u = (np.asarray(s, dtype=np.float32) - centre) / max(half_length, 1e-3)
    return np.sqrt(np.clip(1.0 - u * u, 0.0, 1.0)).astype(np.float32)


def smoothstep(edge0: float, edge1: float, s: np.ndarray) -> np.ndarray:
    """0 below ``edge0``, 1 above ``edge1``, C1-smooth in between (transitions along z)."""
    t = np.clip((np.asarray(s, dtype=np.float32) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


@dataclass(frozen=True)
class Grid:
    """Pixel-centre coordinates (mm) of one slice, origin at the image centre.

    x grows to the image right (patient left), y grows downwards (posterior), as in the
    standard axial display and DICOM's identity orientation.
    """

    size: int
    pixel_mm: float

    def coords(self, rows: slice = slice(None), cols: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        idx = (np.arange(self.size, dtype=np.float32) - (self.size - 1) / 2.0) * self.pixel_mm
        return idx[cols][None, None, :], idx[rows][None, :, None]

    def index_range(self, low_mm: float, high_mm: float) -> slice:
        """Pixel index range covering ``[low_mm, high_mm]`` (clipped to the image)."""
        centre = (self.size - 1) / 2.0
        lo = int(math.floor(low_mm / self.pixel_mm + centre)) - 2
        hi = int(math.ceil(high_mm / self.pixel_mm + centre)) + 3
        return slice(max(lo, 0), min(max(hi, 0), self.size))


def gaussian_random_field(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    correlation_mm: float,
    *,
    band: tuple[float, float] | None = None,
) -> np.ndarray:
    """Zero-mean, unit-variance random field with a Gaussian correlation of ``correlation_mm``.

    ``band`` = (low, high) in cycles/mm instead gives a band-pass (ring) spectrum, whose
    level sets look like interconnected struts (trabecular bone, fat septa). Computed with
    torch's FFT on a grid 2x coarser in-plane when the correlation length allows it, then
    linearly upsampled: four times less work for the smooth fields.
    """
    z, h, w = shape
    dz, dy, dx = spacing_mm
    factor = 2 if (band is None and correlation_mm >= 4.0 * dx and h % 2 == 0 and w % 2 == 0) else 1
    gh, gw = h // factor, w // factor
    white = torch.from_numpy(rng.standard_normal((z, gh, gw), dtype=np.float32))
    fz = torch.fft.fftfreq(z, d=dz).reshape(-1, 1, 1)
    fy = torch.fft.fftfreq(gh, d=dy * factor).reshape(1, -1, 1)
    fx = torch.fft.rfftfreq(gw, d=dx * factor).reshape(1, 1, -1)
    f2 = fz * fz + fy * fy + fx * fx
    if band is None:
        # Gaussian smoothing kernel of standard deviation correlation_mm / 2.
        filt = torch.exp(-((math.pi * correlation_mm) ** 2) * f2 / 2.0)
    else:
        f = torch.sqrt(f2)
        lo, hi = band
        centre, width = (lo + hi) / 2.0, (hi - lo) / 2.0
        filt = torch.exp(-(((f - centre) / width) ** 2))
    field = torch.fft.irfftn(torch.fft.rfftn(white) * filt, s=(z, gh, gw))
    field = field - field.mean()
    field = field / torch.clamp(field.std(), min=1e-12)
    if factor > 1:
        field = torch.nn.functional.interpolate(
            field[None], size=(h, w), mode="bilinear", align_corners=False
        )[0]
    return field.numpy().astype(np.float32, copy=False)


@dataclass
class Block:
    """A sub-volume (slices × rows × cols) a structure is evaluated on, with its coordinates."""

    zs: slice
    rows: slice
    cols: slice
    x: np.ndarray
    y: np.ndarray

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        """Per-slice column ``[Z,1,1]`` or full volume restricted to this block."""
        if arr.shape[1:] == (1, 1):
            return arr[self.zs]
        return arr[self.zs, self.rows, self.cols]


class Canvas:
    """An HU volume (air) and its tissue labels, painted shape by shape back to front: each shape
    blends its value in by its partial-volume coverage (painter's algorithm) and labels the voxels
    it covers by half or more."""

    def __init__(self, size: int, pixel_mm: float, slices: int):
        self.grid = Grid(size, pixel_mm)
        self.px = pixel_mm
        self.z = slices
        self.hu = np.full((slices, size, size), -1000.0, dtype=np.float32)
        self.labels = np.zeros((slices, size, size), dtype=np.uint8)

    def col(self, values) -> np.ndarray:
        return as_column(values, self.z)

    def block(self, cx, cy, rx, ry, present=None) -> Block | None:
        """Block covering centres ``cx, cy`` ± radii (per-slice arrays) on slices where present."""
        cx, cy, rx, ry = (np.broadcast_to(np.asarray(v, dtype=np.float32).reshape(-1), (self.z,)) for v in (cx, cy, rx, ry))
        mask = (rx > 0.05) & (ry > 0.05) if present is None else np.broadcast_to(present, (self.z,))
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return None
        zs = slice(int(idx[0]), int(idx[-1]) + 1)
        sel = slice(zs.start, zs.stop)
        rows = self.grid.index_range(float(np.min(cy[sel] - ry[sel])), float(np.max(cy[sel] + ry[sel])))
        cols = self.grid.index_range(float(np.min(cx[sel] - rx[sel])), float(np.max(cx[sel] + rx[sel])))
        if rows.stop <= rows.start or cols.stop <= cols.start:
            return None
        x, y = self.grid.coords(rows, cols)
        return Block(zs, rows, cols, x, y)

    def full(self) -> Block:
        x, y = self.grid.coords()
        return Block(slice(0, self.z), slice(None), slice(None), x, y)

    def paint(self, blk: Block, distance: np.ndarray, value, label: int | None, *, mask=None) -> np.ndarray:
        """Blend ``value`` (scalar or block array) where ``distance`` < 0, anti-aliased."""
        alpha = coverage(distance, self.px)
        if mask is not None:
            alpha = alpha * mask
        view = self.hu[blk.zs, blk.rows, blk.cols]
        view += alpha * (value - view)
        if label is not None:
            lab = self.labels[blk.zs, blk.rows, blk.cols]
            lab[alpha >= 0.5] = label
        return alpha

    def ellipse(self, blk: Block, cx, cy, a, b, **kw) -> np.ndarray:
        return superellipse_distance(
            blk.x, blk.y, blk(self.col(cx)), blk(self.col(cy)), blk(self.col(a)), blk(self.col(b)), **kw
        )


def lerp(pair: tuple[float, float], t):
    """The table's ``(base, k)``: base + k x t."""
    base, k = pair
    return base + k * t
