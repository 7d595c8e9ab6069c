"""Fan ↔ parallel rebinning: every fan ray (β, γ) is the parallel ray (θ = β + γ, t = D·sin γ).

Clinical scanners rebin fan data to parallel before reconstruction; we do the same, and also use the
relation the other way to obtain fan-beam projections from a finely sampled parallel sinogram.
Both directions are bilinear interpolations stored once per geometry as sparse matrices.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ldct_viewer.ct.fourier_slice import sparse_csr
from ldct_viewer.ct.geometry import FanBeamGeometry


def bilinear_matrix(rows_pos: np.ndarray, cols_pos: np.ndarray, shape_in: tuple[int, int],
                    device: torch.device, wrap_rows: bool = False) -> torch.Tensor:
    """Sparse ``[targets, H·W]`` matrix sampling an ``H×W`` array at fractional (row, col) positions.

    Columns outside ``[0, W-1]`` read zero; rows wrap around when ``wrap_rows`` (angles), else read zero.
    """
    h, w = shape_in
    r0 = np.floor(rows_pos).astype(np.int64)
    c0 = np.floor(cols_pos).astype(np.int64)
    fr = (rows_pos - r0).astype(np.float32)
    fc = (cols_pos - c0).astype(np.float32)
    targets = np.arange(rows_pos.size, dtype=np.int64)
    entries_r, entries_c, entries_v = [], [], []
    for dr, wr in ((0, 1.0 - fr), (1, fr)):
        for dc, wc in ((0, 1.0 - fc), (1, fc)):
            r = r0 + dr
            c = c0 + dc
            ok = (c >= 0) & (c < w)
            if wrap_rows:
                r = r % h
            else:
                ok &= (r >= 0) & (r < h)
            ok &= (wr * wc) > 0
            entries_r.append(targets[ok])
            entries_c.append(r[ok] * w + c[ok])
            entries_v.append((wr * wc)[ok])
    rows = np.concatenate(entries_r)
    cols = np.concatenate(entries_c)
    vals = np.concatenate(entries_v).astype(np.float32)
    order = np.argsort(rows, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    crow = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=rows_pos.size))])
    return sparse_csr(
        torch.from_numpy(crow.astype(np.int32)),
        torch.from_numpy(cols.astype(np.int32)),
        torch.from_numpy(vals),
        size=(rows_pos.size, h * w),
        device=device,
    )


def fan_from_parallel_matrix(geometry: FanBeamGeometry, parallel_views: int, parallel_bins: int,
                             parallel_spacing_mm: float, device: torch.device) -> torch.Tensor:
    """Matrix taking a parallel sinogram over [0, π] (``parallel_views + 1`` rows, the last one being
    view 0 mirrored in t) to the fan sinogram ``[views·bins]``."""
    beta = geometry.source_angles[:, None]
    gamma = geometry.fan_angles[None, :]
    theta = np.mod(beta + gamma, 2.0 * math.pi)
    t = np.broadcast_to(geometry.source_isocenter_mm * np.sin(gamma), theta.shape).copy()
    second_half = theta >= math.pi
    theta = np.where(second_half, theta - math.pi, theta)
    t = np.where(second_half, -t, t)
    rows = theta / (math.pi / parallel_views)
    cols = t / parallel_spacing_mm + (parallel_bins - 1) / 2.0
    return bilinear_matrix(rows.ravel(), cols.ravel(), (parallel_views + 1, parallel_bins), device)


def parallel_from_fan_matrix(geometry: FanBeamGeometry, parallel_bins: int, parallel_spacing_mm: float,
                             device: torch.device) -> torch.Tensor:
    """Matrix taking the fan sinogram to a parallel one at the fan's source angles (over 2π) and
    ``parallel_bins`` bins of ``parallel_spacing_mm``."""
    theta = geometry.source_angles[:, None]
    t = (np.arange(parallel_bins) - (parallel_bins - 1) / 2.0)[None, :] * parallel_spacing_mm
    gamma = np.arcsin(np.clip(t / geometry.source_isocenter_mm, -1.0, 1.0))
    beta = theta - gamma
    rows = np.mod(beta, 2.0 * math.pi) / (2.0 * math.pi / geometry.views)
    cols = geometry.fan_angle_to_bin(gamma)
    rows, cols = np.broadcast_arrays(rows, cols)
    return bilinear_matrix(rows.ravel(), cols.ravel(), (geometry.views, geometry.bins), device,
                           wrap_rows=True)


def apply_matrix(matrix: torch.Tensor, data: torch.Tensor, out_shape: tuple[int, int]) -> torch.Tensor:
    """``data [B, ...]`` flattened per batch item, multiplied by ``matrix``, reshaped to ``[B, *out_shape]``."""
    b = data.shape[0]
    return (matrix @ data.reshape(b, -1).T).T.reshape(b, *out_shape).contiguous()
