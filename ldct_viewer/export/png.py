"""PNG files with provenance in their text chunks, written atomically and never over a user's file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ldct_viewer.atomic import atomic_write
from ldct_viewer.errors import InputError


def write_png(path: str | Path, rgb: np.ndarray, text: Mapping[str, object] | None = None, *,
              compress_level: int = 6) -> Path:
    """Write ``rgb`` (uint8 [H, W, 3] or [H, W]) to ``path`` with ``text`` as PNG text chunks.

    Values are stored as ``str(value)`` (tEXt for Latin-1 text, iTXt otherwise). The file is
    written under a fresh private name in the same folder and then hard-linked into place
    (:func:`ldct_viewer.atomic.atomic_write`), which fails instead of replacing an existing file:
    ``InputError`` if ``path`` exists.
    """
    path = Path(path)
    array = np.asarray(rgb)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f"expected uint8 [H, W] or [H, W, 3], got {array.dtype} {array.shape}")
    if os.path.lexists(path):
        raise InputError(f"{path}: exists already; not overwriting it")
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(str(key), str(value))
    image = Image.fromarray(np.ascontiguousarray(array))
    try:
        atomic_write(path, lambda f: image.save(f, format="PNG", pnginfo=info, compress_level=compress_level),
                     overwrite=False, fsync=False)
    except FileExistsError:
        raise InputError(f"{path}: exists already; not overwriting it") from None
    return path


def read_png_text(path: str | Path) -> dict[str, str]:
    """The text chunks of a PNG file (for checks and for tools that read our exports)."""
    with Image.open(path) as image:
        image.load()
        return dict(getattr(image, "text", {}) or {})
