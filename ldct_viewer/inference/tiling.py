"""Memory-bounded tiling with a receptive-field halo.

Each output pixel of RED-CNN depends only on input pixels within ``halo`` (20 px for 5×5 kernels).
A tile is therefore computed from its core region grown by ``halo`` on every side (clipped at the
image border, exactly where the untiled network also sees the border) and only the core is kept:
tiled and untiled results agree to floating-point rounding. Networks that pool (U-Net) see the
same pooling grid in a tile only when the tile's origin is a multiple of their ``align``: tile
edges and halos are rounded to it. Networks with a global receptive field (Restormer's channel
attention) have no exact halo; their tiles are an approximation, used only when memory requires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor


@dataclass(frozen=True)
class Tile:
    """Core rows/cols ``[y0, y1) × [x0, x1)`` and the haloed input region ``[iy0, iy1) × [ix0, ix1)``."""

    y0: int
    y1: int
    x0: int
    x1: int
    iy0: int
    iy1: int
    ix0: int
    ix1: int


def _splits(length: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    edges = [min(length, align * round(i * length / parts / align)) for i in range(parts)] + [length]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def plan_tiles(height: int, width: int, halo: int, max_pixels: int | None, align: int = 1) -> list[Tile]:
    """Fewest near-equal tiles whose haloed input fits ``max_pixels`` (one tile if it all fits);
    every tile edge and the halo are multiples of ``align``."""
    if max_pixels is None or height * width <= max_pixels:
        return [Tile(0, height, 0, width, 0, height, 0, width)]
    halo = -(-halo // align) * align
    min_side = 2 * halo + 8
    if max_pixels < min_side * min_side:
        max_pixels = min_side * min_side
    best: tuple[int, int] | None = None
    for rows in range(1, height + 1):
        core_h = math.ceil(height / rows)
        in_h = min(height, core_h + 2 * halo)
        cols = 1
        while cols <= width:
            core_w = math.ceil(width / cols)
            in_w = min(width, core_w + 2 * halo)
            if in_h * in_w <= max_pixels:
                break
            cols += 1
        if cols <= width and (best is None or rows * cols < best[0] * best[1]):
            best = (rows, cols)
        if best is not None and rows > best[0] * best[1]:
            break
    rows, cols = best if best is not None else (height, width)
    tiles = []
    for y0, y1 in _splits(height, rows, align):
        for x0, x1 in _splits(width, cols, align):
            tiles.append(Tile(y0, y1, x0, x1, max(0, y0 - halo), min(height, y1 + halo),
                              max(0, x0 - halo), min(width, x1 + halo)))
    return tiles


def run_tiled(forward: Callable[[Tensor], Tensor], x: Tensor, halo: int, max_pixels: int | None,
              align: int = 1) -> Tensor:
    """Apply ``forward`` to ``x`` ``[B, C, H, W]`` tile by tile; the result equals ``forward(x)``."""
    height, width = x.shape[-2:]
    tiles = plan_tiles(height, width, halo, max_pixels, align)
    if len(tiles) == 1:
        return forward(x)
    out: Tensor | None = None
    for t in tiles:
        y = forward(x[..., t.iy0:t.iy1, t.ix0:t.ix1])
        if out is None:
            out = torch.empty((*x.shape[:-2], height, width), dtype=y.dtype, device=y.device)
        out[..., t.y0:t.y1, t.x0:t.x1] = y[..., t.y0 - t.iy0:t.y1 - t.iy0, t.x0 - t.ix0:t.x1 - t.ix0]
    assert out is not None
    return out
