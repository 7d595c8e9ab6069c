"""Comparison composition: layout at native size, exact tile pixels, diff row, placeholders, labels."""

from __future__ import annotations

import numpy as np
import pytest

from ldct_viewer.analysis.metrics import psnr, rmse, ssim
from ldct_viewer.display import PANELS
from ldct_viewer.export import compose_comparison
from ldct_viewer.export.compose import BACKGROUND, GAP, PLACEHOLDER_FILL, ROI_COLOUR, roi_outline
from ldct_viewer.windowing import DIVERGING_LUT, diverging_rgb, window_to_uint8

H, W = 48, 40


@pytest.fixture()
def slices():
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:H, :W]
    ndct = np.where(np.hypot(yy - H / 2, xx - W / 2) < 15, 40.0, -1000.0).astype(np.float32)
    ndct[20:26, 18:24] = 300.0
    ldct = ndct + rng.normal(0, 40, ndct.shape).astype(np.float32)
    mse = ndct + rng.normal(0, 8, ndct.shape).astype(np.float32)
    wgan = ndct + rng.normal(0, 15, ndct.shape).astype(np.float32)
    return ldct, mse, wgan, ndct


def test_one_row_layout_has_four_native_tiles(slices):
    comp = compose_comparison(*slices, window=(400, 40))
    assert comp.rgb.dtype == np.uint8 and comp.rgb.ndim == 3 and comp.rgb.shape[2] == 3
    assert comp.rgb.shape[1] == 4 * W + 3 * GAP
    assert set(comp.tiles) == set(PANELS)
    tops = {comp.tiles[k][0] for k in PANELS}
    assert len(tops) == 1
    top = tops.pop()
    assert comp.header_height > 0 and comp.band_height > 0  # label bands above the tiles
    assert top == comp.header_height + comp.band_height
    assert comp.rgb.shape[0] == top + H
    for col, key in enumerate(PANELS):
        assert comp.tiles[key] == (top, col * (W + GAP), H, W)


def test_tiles_equal_the_windowed_slices(slices):
    ldct, mse, wgan, ndct = slices
    comp = compose_comparison(ldct, mse, wgan, ndct, window="400/40")
    for key, image in zip(PANELS, (ldct, mse, wgan, ndct)):
        tile = comp.tile(key)
        expected = window_to_uint8(image, 400, 40)
        for channel in range(3):
            np.testing.assert_array_equal(tile[..., channel], expected)
    lung = compose_comparison(ldct, mse, wgan, ndct, window="lung")
    np.testing.assert_array_equal(lung.tile("ldct")[..., 0], window_to_uint8(ldct, 1500, -600))


def test_roi_is_outlined_on_every_image_and_its_statistics_are_kept(slices):
    from ldct_viewer.analysis.roi import EllipseRoi, roi_stats

    roi = EllipseRoi(8.0, 10.0, 20.0, 16.0)
    plain = compose_comparison(*slices, window=(400, 40))
    comp = compose_comparison(*slices, window=(400, 40), roi=roi, pixel_spacing=(0.5, 0.5))
    mask = roi.mask((H, W))
    outline = roi_outline(mask)
    assert outline.sum() > 40 and not (outline & ~mask).any()  # a closed border, inside the ROI
    assert comp.band_height > plain.band_height  # one more caption line: the ROI statistics
    for key, image in zip(PANELS, slices):
        tile = comp.tile(key)
        assert (tile[outline] == np.array(ROI_COLOUR, np.uint8)).all()
        np.testing.assert_array_equal(tile[~outline][:, 0], window_to_uint8(image, 400, 40)[~outline])
        assert comp.roi_stats[key] == roi_stats(image, roi, (0.5, 0.5))
    assert comp.roi_stats["ldct"].sd > comp.roi_stats["mse"].sd  # noise 40 vs 8 HU
    missing = compose_comparison(slices[0], None, None, None, window=(400, 40), roi=roi)
    assert set(missing.roi_stats) == {"ldct"}


def test_labels_are_drawn_outside_the_tiles(slices):
    comp = compose_comparison(*slices, window=(400, 40), slice_number=3, n_slices=9, position_mm=-12.5)
    top = comp.tiles["ldct"][0]
    band = comp.rgb[:top]
    assert (band != np.array(BACKGROUND, np.uint8)).any(axis=2).sum() > 50  # some text pixels
    gap = comp.rgb[top:, W:W + GAP]
    assert (gap == np.array(BACKGROUND, np.uint8)).all()


def test_missing_images_become_labelled_placeholders(slices):
    ldct, mse, _, _ = slices
    comp = compose_comparison(ldct, mse, None, None, window=(400, 40),
                              placeholders={"ndct": "NDCT not loaded"})
    for key in ("wgan-gp", "ndct"):
        tile = comp.tile(key)
        fill = (tile == np.array(PLACEHOLDER_FILL, np.uint8)).all(axis=2)
        assert fill.mean() > 0.6  # mostly the placeholder grey...
        assert (~fill).any()  # ...with its message drawn on it
    assert comp.metrics == {}  # no NDCT: no metrics
    assert not (comp.tile("ldct") == np.array(PLACEHOLDER_FILL, np.uint8)).all(axis=2).all()


def test_metrics_are_computed_against_ndct(slices):
    ldct, mse, wgan, ndct = slices
    comp = compose_comparison(ldct, mse, wgan, ndct, window=(400, 40))
    assert set(comp.metrics) == {"ldct", "mse", "wgan-gp"}
    assert comp.metrics["mse"]["rmse"] == pytest.approx(rmse(mse, ndct))
    assert comp.metrics["wgan-gp"]["psnr"] == pytest.approx(psnr(wgan, ndct))
    assert comp.metrics["ldct"]["ssim"] == pytest.approx(ssim(ldct, ndct))
    assert comp.metrics["mse"]["rmse"] < comp.metrics["ldct"]["rmse"]


@pytest.mark.parametrize("mode, base", [("minus_ndct", 3), ("minus_ldct", 0)])
def test_diff_row_values_are_the_differences_through_the_lut(slices, mode, base):
    ldct, mse, wgan, ndct = slices
    images = (ldct, mse, wgan, ndct)
    comp = compose_comparison(ldct, mse, wgan, ndct, window=(400, 40), diff_mode=mode, diff_range=30.0)
    top1, top2 = comp.tiles["ldct"][0], comp.tiles["diff:mse"][0]
    header, band = comp.header_height, comp.band_height
    assert top1 == header + band
    assert top2 == top1 + H + GAP + band
    assert comp.rgb.shape == (header + 2 * (band + H) + GAP, 4 * W + 3 * GAP, 3)
    for key, index in (("mse", 1), ("wgan-gp", 2)):
        expected = diverging_rgb(images[index] - images[base], 30.0)
        np.testing.assert_array_equal(comp.tile(f"diff:{key}"), expected)
    first = (ndct - ldct) if mode == "minus_ldct" else (ldct - ndct)
    np.testing.assert_array_equal(comp.tile("diff:ldct"), diverging_rgb(first, 30.0))
    # where the network output equals the base exactly, the map is white
    same = compose_comparison(ldct, ldct.copy(), wgan, ndct, window=(400, 40), diff_mode="minus_ldct", diff_range=30.0)
    assert (same.tile("diff:mse") == DIVERGING_LUT[128]).all()


def test_diff_row_has_a_colour_bar(slices):
    comp = compose_comparison(*slices, window=(400, 40), diff_mode="minus_ndct", diff_range=50.0)
    bar = comp.tile("colorbar")
    colours = {tuple(c) for c in bar.reshape(-1, 3)}
    assert tuple(DIVERGING_LUT[255]) in colours and tuple(DIVERGING_LUT[1]) in colours
    assert (255, 255, 255) in colours


def test_diff_against_missing_ndct_is_a_placeholder(slices):
    ldct, mse, wgan, _ = slices
    comp = compose_comparison(ldct, mse, wgan, None, window=(400, 40), diff_mode="minus_ndct")
    fill = (comp.tile("diff:mse") == np.array(PLACEHOLDER_FILL, np.uint8)).all(axis=2)
    assert fill.mean() > 0.6


def test_native_resolution_of_a_full_size_slice():
    ldct = np.zeros((512, 512), np.float32)
    comp = compose_comparison(ldct, None, None, None, window=(400, 40), diff_mode="minus_ldct")
    assert comp.rgb.shape[1] == 4 * 512 + 3 * GAP
    assert comp.tiles["diff:mse"][2:] == (512, 512)


def test_bad_arguments_raise(slices):
    ldct, mse, wgan, ndct = slices
    with pytest.raises(ValueError):
        compose_comparison(ldct, mse[:10], wgan, ndct)
    with pytest.raises(ValueError):
        compose_comparison(ldct, mse, wgan, ndct, diff_mode="both")
    with pytest.raises(ValueError):
        compose_comparison(ldct[None], None, None, None)
