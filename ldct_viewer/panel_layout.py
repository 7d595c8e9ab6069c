"""Where the comparison panels go: rows × columns for any number of panels (no Qt).

With N networks there are N + 2 panels (LDCT, the outputs, NDCT). ``auto`` picks the grid that
shows every image largest in the space available: each cell loses ``chrome`` pixels of height to
its title lines and ``spacing`` between cells, and an image of aspect ``aspect`` (width / height)
is scaled to fit the rest.
"""

from __future__ import annotations

import math

PANEL_CHROME_PX = 40  # title and subtitle lines above each image
SPACING_PX = 4


def image_scale(rows: int, cols: int, width: float, height: float, aspect: float = 1.0,
                chrome: float = PANEL_CHROME_PX, spacing: float = SPACING_PX) -> float:
    """The side (in px) of the image's height in each cell of a ``rows × cols`` grid (0 when nothing fits)."""
    cell_w = (width - (cols - 1) * spacing) / cols
    cell_h = (height - (rows - 1) * spacing) / rows - chrome
    return max(0.0, min(cell_w / aspect, cell_h))


def best_grid(n: int, width: float, height: float, aspect: float = 1.0, min_rows: int = 1) -> tuple[int, int]:
    """The ``(rows, cols)`` with at least ``min_rows`` rows (and no empty row) that shows ``n`` images largest."""
    n = max(1, int(n))
    best = None
    for rows in range(min(max(1, min_rows), n), n + 1):
        cols = math.ceil(n / rows)
        if (rows - 1) * cols >= n:  # a whole row would stay empty
            continue
        scale = image_scale(rows, cols, width, height, aspect)
        if best is None or scale > best[0] + 1e-9:
            best = (scale, rows, cols)
    return (best[1], best[2]) if best else (1, n)


def grid_shape(layout: str, n: int, width: float, height: float, aspect: float = 1.0) -> tuple[int, int]:
    """``(rows, cols)`` of ``layout``: ``1x4`` one row, ``2x2`` the best grid of two or more rows, ``auto`` the best."""
    if layout == "1x4" or n <= 1:
        return 1, max(1, n)
    if layout == "2x2":
        return best_grid(n, width, height, aspect, min_rows=2)
    return best_grid(n, width, height, aspect)


def positions(n: int, cols: int) -> list[tuple[int, int]]:
    """Row-major cell of each of ``n`` panels."""
    return [(i // cols, i % cols) for i in range(n)]
