"""Line profiles (``ldct_viewer.analysis.profile``) against values known by construction."""

import numpy as np
import pytest

from ldct_viewer.analysis.profile import Line, line_profile


def test_a_line_through_pixel_centres_reads_the_pixels_and_interpolates_between_them():
    image = np.arange(5 * 6, dtype=np.float32).reshape(5, 6)  # value = 6 row + col
    p = line_profile(image, Line(0.5, 2.5, 5.5, 2.5), samples_per_pixel=2)  # along row 2, centre to centre
    assert p.hu.size == 11
    np.testing.assert_allclose(p.hu, 12 + np.linspace(0, 5, 11))
    np.testing.assert_allclose(p.distance_mm, np.linspace(0, 5, 11))


def test_bilinear_along_a_diagonal_of_a_linear_ramp_is_exact():
    rows, cols = np.mgrid[0:20, 0:30]
    image = (3.0 * rows - 2.0 * cols).astype(np.float32)
    line = Line(2.5, 1.5, 20.5, 13.5)
    p = line_profile(image, line, pixel_spacing=(1.0, 1.0))
    t = p.distance_mm / p.distance_mm[-1]
    x, y = 2.0 + t * 18.0, 1.0 + t * 12.0  # pixel-centre coordinates
    np.testing.assert_allclose(p.hu, 3.0 * y - 2.0 * x, atol=1e-9)


def test_distances_follow_the_pixel_spacing_and_outside_is_nan():
    image = np.ones((10, 10))
    p = line_profile(image, Line(0.5, 0.5, 8.5, 6.5), pixel_spacing=(0.5, 0.75))
    assert p.distance_mm[-1] == pytest.approx(np.hypot(8 * 0.75, 6 * 0.5))
    assert np.all(p.hu == 1.0)
    out = line_profile(image, Line(5, 5, 15, 5))
    assert np.isnan(out.hu[-1]) and out.hu[0] == 1.0
    assert np.isnan(out.hu).sum() == pytest.approx(out.hu.size / 2, abs=2)


def test_a_blurred_edge_rises_less_steeply_than_a_sharp_one():
    from ldct_viewer.analysis.metrics import gaussian_filter

    sharp = np.zeros((32, 32))
    sharp[:, 16:] = 100.0
    blurred = gaussian_filter(sharp, sigma=2.0)
    line = Line(4.0, 16.0, 28.0, 16.0)
    steepest = [np.nanmax(np.diff(line_profile(im, line).hu)) for im in (sharp, blurred)]
    assert steepest[0] > 2 * steepest[1]


def test_a_degenerate_line_gives_its_point_and_volumes_are_refused():
    p = line_profile(np.full((4, 4), 7.0), Line(1.5, 1.5, 1.5, 1.5))
    assert p.hu.tolist() == [7.0, 7.0] and p.distance_mm.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        line_profile(np.zeros((2, 4, 4)), Line(0, 0, 1, 1))
