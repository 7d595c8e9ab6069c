"""insert_image_noise: the evaluation's image-domain low-dose method (level, texture, aliasing, checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ldct_viewer.analysis.nps import noise_power_spectrum
from ldct_viewer.ct import SimulationParams
from ldct_viewer.ct.image_noise import (
    CALIBRATED,
    ImageNoiseModel,
    coloured_noise,
    insert_image_noise,
    noise_sd,
    water_equivalent_diameter,
)
from ldct_viewer.errors import InputError
from test_ct_simulate import central_roi, roi_noise, water_ellipse


def test_water_equivalent_diameter_of_a_water_disc():
    n, px = 256, 1.5
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2.0) * px
    disc = np.where(xx**2 + yy**2 < 150.0**2, 0.0, -1000.0).astype(np.float32)
    assert water_equivalent_diameter(disc, px) == pytest.approx(300.0, rel=0.01)
    fat = np.where(disc > -500, -100.0, -1000.0)  # 0.9 x water's attenuation per area
    assert water_equivalent_diameter(fat, px) == pytest.approx(300.0 * math.sqrt(0.9), rel=0.01)


def test_noise_model_scales_with_thickness_size_and_dose():
    ref = noise_sd(CALIBRATED, CALIBRATED.diameter_ref_mm, CALIBRATED.thickness_ref_mm)
    assert ref == pytest.approx(CALIBRATED.sd_ref_hu)
    assert noise_sd(CALIBRATED, 300.0, 1.0) == pytest.approx(ref * math.sqrt(3.0))
    assert noise_sd(CALIBRATED, 350.0, 3.0) > ref > noise_sd(CALIBRATED, 200.0, 3.0)
    flat = ImageNoiseModel(size_exponent=0.0)
    assert noise_sd(flat, 200.0, 3.0) == pytest.approx(noise_sd(flat, 350.0, 3.0))


@pytest.mark.parametrize("dose", [0.25, 0.1])
def test_added_noise_level_matches_the_model(dose):
    """The calibration object of the projection simulator (350 x 250 mm water ellipse, 3 mm): the added
    noise is σ_100 % · sqrt(1/dose − 1) for its own D_w, measured in a central ROI."""
    n, fov = 256, 380.0
    ndct = np.stack([water_ellipse(n, fov)] * 4)
    roi = central_roi(n, fov, 60.0)
    low = insert_image_noise(ndct, fov / n, dose=dose, views=1152, thickness_mm=3.0, seed=5)
    expected = noise_sd(CALIBRATED, water_equivalent_diameter(ndct[0], fov / n), 3.0) * math.sqrt(1 / dose - 1)
    assert roi_noise(low - ndct, roi) == pytest.approx(expected, rel=0.08)
    assert abs(float((low - ndct)[:, roi].mean())) < 2.0


@pytest.mark.parametrize("own_sd", [10.0, 30.0])
def test_measured_level_follows_the_ndcts_own_noise(own_sd):
    """``level="measured"``: the added noise is sqrt(1/dose − 1) × the NDCT's own noise SD, whatever the
    patient-size model says (an NDCT with 3x the grain gets 3x the added noise)."""
    n, fov = 256, 380.0
    px = fov / n
    clean = water_ellipse(n, fov)
    grain = np.stack([coloured_noise((n, n), px, CALIBRATED.peak_per_mm, np.random.default_rng(9 + k))
                      for k in range(2)])
    ndct = (clean + own_sd * grain * (clean > -500)).astype(np.float32)
    roi = central_roi(n, fov, 60.0)
    low = insert_image_noise(ndct, px, dose=0.25, views=1152, thickness_mm=3.0, seed=5, level="measured")
    # the outline's pixels inside -300..300 HU read as noise too: +13 % at 10 HU of grain, +2 % at 30
    assert roi_noise(low - ndct, roi) == pytest.approx(own_sd * math.sqrt(3.0), rel=0.15)
    model = insert_image_noise(ndct, px, dose=0.25, views=1152, thickness_mm=3.0, seed=5)
    assert roi_noise(model - ndct, roi) == pytest.approx(
        noise_sd(CALIBRATED, water_equivalent_diameter(clean, px), 3.0) * math.sqrt(3.0), rel=0.08)
    with pytest.raises(InputError, match="too little soft tissue"):
        insert_image_noise(np.full((64, 64), 1000.0, np.float32), px, dose=0.25, views=1152, thickness_mm=3.0,
                           level="measured")


def test_texture_peaks_at_the_model_frequency():
    """The radially averaged NPS of the noise peaks near s (cycles/mm) and falls off towards Nyquist."""
    px = 0.8
    noise = np.stack([coloured_noise((128, 128), px, 0.2, np.random.default_rng(i)) for i in range(16)])
    assert float(noise.std()) == pytest.approx(1.0, rel=0.05)
    rois = [(k, y, x) for k in range(16) for y in (0, 64) for x in (0, 64)]
    spectrum = noise_power_spectrum(noise, (px, px), rois=rois, roi_size=64, detrend_sigma=50.0)
    peak = float(spectrum.frequency[np.nanargmax(spectrum.power)])
    assert peak == pytest.approx(0.2, abs=0.04)
    assert spectrum.power[-1] < 0.2 * np.nanmax(spectrum.power)


def test_sparse_views_add_the_projectors_aliasing_and_nothing_else_is_shared():
    n, fov = 128, 380.0
    ndct = water_ellipse(n, fov)
    params = SimulationParams(geometry="parallel", slice_thickness_mm=3.0)
    full = insert_image_noise(ndct, fov / n, dose=0.5, views=1152, thickness_mm=3.0, seed=1, aliasing_params=params,
                              device="cpu")
    sparse = insert_image_noise(ndct, fov / n, dose=0.5, views=60, thickness_mm=3.0, seed=1,
                                aliasing_params=params, device="cpu")
    streaks = sparse - full  # same noise realization: the difference is the view aliasing alone
    assert float(np.abs(streaks).max()) > 20.0
    again = insert_image_noise(ndct, fov / n, dose=0.5, views=60, thickness_mm=3.0, seed=1,
                               aliasing_params=params, device="cpu")
    np.testing.assert_array_equal(sparse, again)
    other = insert_image_noise(ndct, fov / n, dose=0.5, views=60, thickness_mm=3.0, seed=2,
                               aliasing_params=params, device="cpu")
    assert not np.array_equal(sparse, other)


def test_padding_outside_the_scan_circle_is_kept_and_input_untouched():
    ndct = water_ellipse(64, 380.0)
    ndct[:4] = -3024.0
    before = ndct.copy()
    low = insert_image_noise(ndct, 380.0 / 64, dose=0.25, views=1152, thickness_mm=3.0)
    assert low.dtype == np.float32 and low.shape == ndct.shape
    np.testing.assert_array_equal(low[:4], -3024.0)
    np.testing.assert_array_equal(ndct, before)


@pytest.mark.parametrize("kwargs, message", [
    ({"dose": 0.0}, "dose"),
    ({"dose": 0.5, "input_dose": 0.25}, "input dose"),
    ({"thickness_mm": 0.0}, "thickness"),
    ({"views": 3}, "views"),
    ({"model": ImageNoiseModel(peak_per_mm=0.0)}, "image noise model"),
    ({"level": "guessed"}, "unknown noise level"),
])
def test_bad_arguments_are_refused(kwargs, message):
    args = {"dose": 0.25, "views": 720, "thickness_mm": 3.0} | kwargs
    with pytest.raises(InputError, match=message):
        insert_image_noise(water_ellipse(32, 380.0), 380.0 / 32, **args)
