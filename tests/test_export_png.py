"""PNG writing: pixels and text chunks read back with Pillow, atomic, never overwriting."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ldct_viewer.errors import InputError
from ldct_viewer.export import read_png_text, write_png


def test_png_round_trips_pixels_and_text(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    text = {"window": "400/40", "ldct.series_uid": "1.2.3.4", "slice": "3/9", "mse.checkpoint_sha256": "ab" * 32,
            "note": "\u00b150 HU \u2212 non-Latin-1 goes to iTXt"}
    path = write_png(tmp_path / "a.png", rgb, text)
    assert path == tmp_path / "a.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), rgb)
    assert read_png_text(path) == text
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary left behind


def test_grey_image_is_written_too(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    path = write_png(tmp_path / "g.png", grey, {})
    with Image.open(path) as image:
        np.testing.assert_array_equal(np.asarray(image), grey)


def test_existing_file_is_never_replaced(tmp_path):
    target = tmp_path / "slice_0001.png"
    target.write_bytes(b"user data")
    with pytest.raises(InputError, match="exists"):
        write_png(target, np.zeros((4, 4, 3), np.uint8), {"a": "b"})
    assert target.read_bytes() == b"user data"
    assert [p.name for p in tmp_path.iterdir()] == ["slice_0001.png"]


def test_rejects_non_uint8(tmp_path):
    with pytest.raises(ValueError):
        write_png(tmp_path / "f.png", np.zeros((4, 4, 3), np.float32), {})
    assert not (tmp_path / "f.png").exists()
