"""CT display windows (width/level in HU) and the diverging colormap for difference maps.

One mapping from HU to 8-bit grey is shared by the viewer and the PNG export, so an exported
tile shows exactly the pixels a reader saw. No Qt here: the GUI feeds the same numbers
(``window_bounds`` as pyqtgraph ``levels``, ``DIVERGING_LUT`` as its ``lut``).
"""

from __future__ import annotations

import re

import numpy as np

from ldct_viewer.errors import InputError

#: Standard CT presets, name -> (width, level) in HU. The order is the GUI's number keys 1-7.
PRESETS: dict[str, tuple[float, float]] = {
    "abdomen": (400.0, 40.0),
    "lung": (1500.0, -600.0),
    "bone": (2000.0, 400.0),
    "brain": (80.0, 40.0),
    "liver": (150.0, 90.0),
    "mediastinum": (350.0, 50.0),
    "stroke": (40.0, 40.0),
}

DEFAULT_WINDOW = "abdomen"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_WINDOW_RE = re.compile(rf"^\s*({_NUMBER})\s*[/,]\s*({_NUMBER})\s*$")


def parse_window(text: str) -> tuple[float, float]:
    """``"abdomen"``, ``"400/40"`` or ``"400,40"`` -> ``(width, level)`` in HU.

    Raises ``InputError`` with a one-line message for anything else (including width <= 0).
    """
    raw = str(text)
    key = raw.strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    match = _WINDOW_RE.match(raw.replace("\u2212", "-"))  # accept a typographic minus sign
    if match is None:
        names = ", ".join(PRESETS)
        raise InputError(
            f"window {raw!r} not understood: give a preset ({names}) or WIDTH/LEVEL in HU, e.g. 400/40"
        )
    width, level = float(match.group(1)), float(match.group(2))
    if not width > 0:
        raise InputError(f"window {raw!r}: width must be greater than 0 HU")
    return width, level


def format_window(width: float, level: float) -> str:
    """``(400, 40)`` -> ``"W 400 / L 40"`` (for labels), naming the preset when it is one."""
    text = f"W {width:g} / L {level:g}"
    for name, (w, lv) in PRESETS.items():
        if w == width and lv == level:
            return f"{text} ({name})"
    return text


def window_bounds(width: float, level: float) -> tuple[float, float]:
    """The HU values that map to black and white: ``(level - width/2, level + width/2)``."""
    return level - width / 2.0, level + width / 2.0


def window_to_uint8(hu: np.ndarray, width: float, level: float) -> np.ndarray:
    """Linear window: HU <= level - width/2 -> 0, HU >= level + width/2 -> 255, rounded between.

    Works on any shape; computes in float32 in place on one temporary, so four 512² slices
    take a few milliseconds.
    """
    if not width > 0:
        raise ValueError(f"window width must be > 0, got {width}")
    low, _ = window_bounds(width, level)
    scale = np.float32(255.0 / width)
    # (hu - low) * scale + 0.5, clipped to [0, 255.5), truncated -> round-half-up to 0..255
    out = np.subtract(np.asarray(hu, dtype=np.float32), np.float32(low), dtype=np.float32)
    np.multiply(out, scale, out=out)
    np.add(out, np.float32(0.5), out=out)
    np.clip(out, 0.0, 255.0, out=out)
    return out.astype(np.uint8)


def _diverging_lut() -> np.ndarray:
    """256 colours blue -> white -> red with white exactly at index 128 (0 HU).

    Index ``128 + k`` is the colour for ``k/127`` of the range, so the two halves are mirror
    images; index 0 repeats the full blue of index 1. This matches pyqtgraph's mapping with
    ``levels=(-r, r)`` and a 256-entry lut, where 0 HU lands on index 128.
    """
    blue = np.array([40.0, 80.0, 200.0])
    white = np.array([255.0, 255.0, 255.0])
    red = np.array([190.0, 20.0, 35.0])
    t = np.clip((np.arange(256) - 128) / 127.0, -1.0, 1.0)[:, None]
    colours = np.where(t < 0, white + (blue - white) * (-t), white + (red - white) * t)
    return np.rint(colours).astype(np.uint8)


#: Diverging colormap for difference images, uint8[256, 3]; index 128 is white (0 HU).
DIVERGING_LUT: np.ndarray = _diverging_lut()
DIVERGING_LUT.setflags(write=False)


def diverging_index(diff_hu: np.ndarray, range_hu: float) -> np.ndarray:
    """Map differences in [-range, +range] HU to LUT indices 1..255 (128 = 0 HU), clipping outside."""
    if not range_hu > 0:
        raise ValueError(f"difference range must be > 0 HU, got {range_hu}")
    t = np.multiply(np.asarray(diff_hu, dtype=np.float32), np.float32(127.0 / range_hu))
    np.clip(t, -127.0, 127.0, out=t)
    np.rint(t, out=t)
    return (t + np.float32(128.0)).astype(np.uint8)


def diverging_rgb(diff_hu: np.ndarray, range_hu: float) -> np.ndarray:
    """Difference image (HU) -> uint8[..., 3] through ``DIVERGING_LUT``, symmetric range ±range_hu."""
    return DIVERGING_LUT[diverging_index(diff_hu, range_hu)]


def colorbar_rgb(length: int, thickness: int, *, vertical: bool = True) -> np.ndarray:
    """A colour bar for ``DIVERGING_LUT``: +range (red) at the top (or right), -range at the bottom.

    Returns uint8[length, thickness, 3] when vertical, uint8[thickness, length, 3] otherwise.
    Labels are drawn by the caller (the export adds the HU values with Pillow).
    """
    if length < 2 or thickness < 1:
        raise ValueError("colour bar needs length >= 2 and thickness >= 1")
    values = np.linspace(1.0, -1.0, length, dtype=np.float32)  # first row = +range
    strip = diverging_rgb(values, 1.0)  # [length, 3]
    if vertical:
        return np.ascontiguousarray(np.broadcast_to(strip[:, None, :], (length, thickness, 3)))
    return np.ascontiguousarray(np.broadcast_to(strip[::-1][None, :, :], (thickness, length, 3)))
