"""Window/level mapping, window parsing and the diverging colormap."""

from __future__ import annotations

import numpy as np
import pytest

from ldct_viewer.errors import InputError
from ldct_viewer.windowing import (
    DIVERGING_LUT,
    PRESETS,
    colorbar_rgb,
    diverging_index,
    diverging_rgb,
    format_window,
    parse_window,
    window_bounds,
    window_to_uint8,
)


def test_presets_are_the_standard_ct_windows_in_key_order():
    assert list(PRESETS) == ["abdomen", "lung", "bone", "brain", "liver", "mediastinum", "stroke"]
    assert PRESETS["abdomen"] == (400, 40)
    assert PRESETS["lung"] == (1500, -600)
    assert PRESETS["bone"] == (2000, 400)
    assert PRESETS["brain"] == (80, 40)
    assert PRESETS["liver"] == (150, 90)
    assert PRESETS["mediastinum"] == (350, 50)
    assert PRESETS["stroke"] == (40, 40)


@pytest.mark.parametrize(
    "text, expected",
    [("abdomen", (400, 40)), ("LUNG", (1500, -600)), (" bone ", (2000, 400)), ("400/40", (400, 40)),
     ("400,40", (400, 40)), ("1500/-600", (1500, -600)), ("1500 / \u2212600", (1500, -600)),
     ("80.5,40.25", (80.5, 40.25))],
)
def test_parse_window_accepts_presets_and_numbers(text, expected):
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["", "abdo", "400", "400/40/1", "w400/l40", "0/40", "-400/40", "400;40"])
def test_parse_window_rejects_with_one_line_input_error(text):
    with pytest.raises(InputError) as info:
        parse_window(text)
    assert "\n" not in str(info.value)
    assert repr(text) in str(info.value)


def test_window_edges_map_to_black_and_white():
    width, level = 400.0, 40.0
    low, high = window_bounds(width, level)
    assert (low, high) == (-160.0, 240.0)
    hu = np.array([-3000, low - 1, low, level, high, high + 1, 3000], dtype=np.float32)
    out = window_to_uint8(hu, width, level)
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 0, 128, 255, 255, 255]


def test_window_is_linear_and_monotonic_inside():
    hu = np.linspace(-160, 240, 4001, dtype=np.float32)
    out = window_to_uint8(hu, 400, 40).astype(int)
    assert np.all(np.diff(out) >= 0)
    expected = np.clip(np.floor((hu.astype(np.float64) + 160) * 255 / 400 + 0.5), 0, 255)
    assert np.abs(out - expected).max() <= 1  # float32 arithmetic may differ by one step at a boundary
    assert set(np.unique(out)) == set(range(256))


def test_window_keeps_shape_and_does_not_modify_input():
    hu = np.random.default_rng(0).normal(0, 500, (3, 8, 9)).astype(np.float32)
    before = hu.copy()
    out = window_to_uint8(hu, 1500, -600)
    assert out.shape == hu.shape
    np.testing.assert_array_equal(hu, before)


def test_window_rejects_non_positive_width():
    with pytest.raises(ValueError):
        window_to_uint8(np.zeros(3, np.float32), 0, 40)


def test_format_window_names_presets():
    assert format_window(400, 40) == "W 400 / L 40 (abdomen)"
    assert format_window(123, -4) == "W 123 / L -4"


def test_diverging_lut_is_symmetric_with_white_at_zero():
    assert DIVERGING_LUT.shape == (256, 3) and DIVERGING_LUT.dtype == np.uint8
    assert DIVERGING_LUT[128].tolist() == [255, 255, 255]
    # mirror symmetry in "distance from white" between the blue and red halves
    dist = 255 - DIVERGING_LUT.astype(int).min(axis=1)
    np.testing.assert_array_equal(dist[128 - np.arange(1, 128)] > 0, dist[128 + np.arange(1, 128)] > 0)
    assert DIVERGING_LUT[255][0] > DIVERGING_LUT[255][2]  # red end
    assert DIVERGING_LUT[1][2] > DIVERGING_LUT[1][0]  # blue end
    with pytest.raises(ValueError):
        DIVERGING_LUT[0, 0] = 1  # shared constant is read-only


def test_diverging_rgb_maps_range_ends_and_zero():
    diff = np.array([[-1000.0, -50.0, 0.0, 25.0, 50.0, 1000.0]], dtype=np.float32)
    idx = diverging_index(diff, 50.0)
    assert idx.tolist() == [[1, 1, 128, 192, 255, 255]]  # 25/50*127 = 63.5 -> 64 (round half even)
    rgb = diverging_rgb(diff, 50.0)
    assert rgb.shape == (1, 6, 3)
    np.testing.assert_array_equal(rgb, DIVERGING_LUT[idx])
    assert rgb[0, 2].tolist() == [255, 255, 255]


def test_colorbar_runs_from_plus_range_to_minus_range():
    bar = colorbar_rgb(101, 7)
    assert bar.shape == (101, 7, 3)
    assert bar[0, 0].tolist() == DIVERGING_LUT[255].tolist()
    assert bar[50, 3].tolist() == [255, 255, 255]
    assert bar[-1, 6].tolist() == DIVERGING_LUT[1].tolist()
    horizontal = colorbar_rgb(101, 4, vertical=False)
    assert horizontal.shape == (4, 101, 3)
    assert horizontal[0, -1].tolist() == DIVERGING_LUT[255].tolist()
