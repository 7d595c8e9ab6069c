"""Text for exported images, rendered with Pillow into numpy tiles (no Qt, no screen).

The font is DejaVu Sans from matplotlib's data folder (matplotlib is a dependency anyway), so
labels look the same on every machine; Pillow's built-in font is the fallback.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]


def font_path() -> Path | None:
    """DejaVu Sans shipped with matplotlib, or None if it is not there."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a project dependency
        return None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.is_file() else None


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The label font at ``size`` pixels (cached)."""
    path = font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def line_height(size: int) -> int:
    """Vertical advance of one text line at font ``size``."""
    return int(round(size * 1.35))


def text_block(width: int, height: int, lines: list[tuple[str, Colour]], *, size: int,
               background: Colour, pad: int | None = None, center: bool = False) -> np.ndarray:
    """uint8[height, width, 3]: ``lines`` drawn top-down (or centred) and clipped to the block."""
    image = Image.new("RGB", (int(width), int(height)), background)
    draw = ImageDraw.Draw(image)
    face = font(size)
    pad = max(2, size // 3) if pad is None else pad
    step = line_height(size)
    if center:
        y = max(0, (height - step * len(lines)) // 2)
    else:
        y = pad
    for text, colour in lines:
        if center:
            left, _, right, _ = draw.textbbox((0, 0), text, font=face)
            x = max(pad, (width - (right - left)) // 2)
        else:
            x = pad
        draw.text((x, y), text, font=face, fill=colour)
        y += step
    return np.asarray(image, dtype=np.uint8)


def draw_text(canvas: np.ndarray, xy: tuple[int, int], text: str, *, size: int, colour: Colour) -> None:
    """Draw ``text`` onto an RGB ``canvas`` in place, at pixel ``xy`` (left, top)."""
    image = Image.fromarray(canvas)
    ImageDraw.Draw(image).text(xy, text, font=font(size), fill=colour)
    canvas[...] = np.asarray(image)
