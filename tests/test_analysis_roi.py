"""Elliptical ROI masks and statistics (``ldct_viewer.analysis.roi``) against direct computation."""

import math

import numpy as np
import pytest

from ldct_viewer.analysis.roi import EllipseRoi, roi_stats
from ldct_viewer.viewstate import ViewState


def test_mask_takes_the_pixels_whose_centre_is_inside():
    # centre (4, 4), radii 2 (x) and 1 (y): rows 3-4 (centres at 0.5 px from it), columns 2-5
    mask = EllipseRoi(2.0, 3.0, 4.0, 2.0).mask((8, 8))
    expected = np.zeros((8, 8), bool)
    expected[3:5, 2:6] = True
    np.testing.assert_array_equal(mask, expected)


def test_circle_area_and_symmetry():
    mask = EllipseRoi(30.0, 30.0, 40.0, 40.0).mask((100, 100))  # radius 20 px around (50, 50)
    assert abs(mask.sum() - math.pi * 20 ** 2) < 0.01 * math.pi * 20 ** 2
    np.testing.assert_array_equal(mask, mask[::-1, :])
    np.testing.assert_array_equal(mask, mask.T)


def test_mask_is_clipped_to_the_image_and_empty_outside_it():
    part = EllipseRoi(-10.0, -10.0, 20.0, 20.0).mask((32, 32))  # a quarter of the circle is inside
    whole = EllipseRoi(0.0, 0.0, 20.0, 20.0).mask((40, 40))
    assert part.sum() == whole[10:, 10:].sum()
    assert not EllipseRoi(50.0, 50.0, 10.0, 10.0).mask((32, 32)).any()
    assert not EllipseRoi(5.0, 5.0, 0.0, 10.0).mask((32, 32)).any()


def test_corners_in_any_order_give_the_same_roi():
    roi = EllipseRoi(4, 2, 6, 6)
    assert EllipseRoi.from_corners((10, 2), (4, 8)) == roi == EllipseRoi.from_corners((4, 8), (10, 2))


def test_statistics_match_numpy_on_the_mask():
    rng = np.random.default_rng(3)
    image = (40 + 12 * rng.standard_normal((64, 80))).astype(np.float32)
    roi = EllipseRoi(10.5, 7.25, 30.0, 21.0)
    mask = roi.mask(image.shape)
    values = image[mask].astype(np.float64)
    stats = roi_stats(image, roi, (0.7, 0.8))
    assert stats.pixels == mask.sum() > 400
    assert stats.mean == pytest.approx(values.mean())
    assert stats.sd == pytest.approx(values.std(ddof=1))
    assert (stats.minimum, stats.maximum) == (values.min(), values.max())
    assert stats.area_mm2 == pytest.approx(mask.sum() * 0.7 * 0.8)
    assert stats.text().startswith(f"mean {values.mean():.1f}  SD {values.std(ddof=1):.1f} HU")


def test_no_pixel_inside_gives_none_and_a_volume_is_refused():
    assert roi_stats(np.zeros((16, 16)), EllipseRoi(40, 40, 5, 5)) is None
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        roi_stats(np.zeros((2, 16, 16)), EllipseRoi(0, 0, 5, 5))


def test_view_state_announces_each_new_roi_once():
    state = ViewState(4)
    seen = []
    state.subscribe("roi", lambda roi: seen.append(roi))
    roi = EllipseRoi(1, 2, 3, 4)
    state.set_roi(roi)
    state.set_roi(EllipseRoi(1, 2, 3, 4))
    state.set_roi(None)
    assert seen == [roi, None]
    with pytest.raises(ValueError, match="ROI"):
        state.set_roi(EllipseRoi(0, 0, math.nan, 3))
