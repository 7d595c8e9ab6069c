"""Display pixel spacing of a training scan: the same acquisition reconstructed on another grid.

Scanners reconstruct one acquisition at the display field of view the protocol asks for (0.5-1.0 mm
pixels on 512² for body CT), so the same anatomy and noise reach a network at different scales. The
dataset builder simulates each scan at its source's native spacing (the projector needs the whole
body) and then resamples the NDCT target, the truth and every LDCT condition identically to one drawn
spacing: bilinear interpolation, antialiased when shrinking, centred, cropped to at most 512 px a side
(a targeted reconstruction of the centre of the field)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MAX_SIDE = 512


def resample_in_plane(volume: np.ndarray, from_mm: float, to_mm: float, max_side: int = MAX_SIDE) -> np.ndarray:
    """``volume`` ([Z, H, W] HU, square ``from_mm`` pixels) on a grid of ``to_mm`` pixels about the same
    centre, cropped to at most ``max_side`` px a side; float32. The identity when the spacings agree."""
    if from_mm <= 0 or to_mm <= 0:
        raise ValueError(f"pixel spacings must be positive, got {from_mm} and {to_mm} mm")
    if abs(from_mm - to_mm) <= 1e-6 * from_mm and max(volume.shape[1:]) <= max_side:
        return np.ascontiguousarray(volume, dtype=np.float32)
    rows, cols = (max(1, round(n * from_mm / to_mm)) for n in volume.shape[1:])  # before cropping
    x = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[:, None]
    y = F.interpolate(x, size=(rows, cols), mode="bilinear", align_corners=False, antialias=to_mm > from_mm)[:, 0]
    top, left = max(0, (rows - max_side) // 2), max(0, (cols - max_side) // 2)
    return y[:, top:top + max_side, left:left + max_side].numpy().copy()
