"""RMSE / PSNR / SSIM against scikit-image's reference implementations."""

import math

import numpy as np
import pytest
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from ldct_viewer.analysis.metrics import psnr, rmse, ssim


def _pair(seed=0, shape=(64, 80), noise=40.0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    ref = (-1000 + 1040 * ((yy - 30) ** 2 + (xx - 40) ** 2 < 25**2) + 300 * (xx > 60)).astype(np.float32)
    img = ref + rng.normal(0, noise, shape).astype(np.float32)
    return img, ref


def test_rmse_and_psnr_match_skimage():
    img, ref = _pair()
    assert rmse(img, ref) == pytest.approx(math.sqrt(mean_squared_error(ref.astype(float), img.astype(float))), rel=1e-12)
    for data_range in (4096.0, 400.0):
        expected = peak_signal_noise_ratio(ref.astype(float), img.astype(float), data_range=data_range)
        assert psnr(img, ref, data_range) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("noise, data_range", [(5.0, 4096.0), (40.0, 4096.0), (120.0, 1000.0)])
def test_ssim_matches_skimage_gaussian_wang2004(noise, data_range):
    img, ref = _pair(noise=noise)
    expected = structural_similarity(ref.astype(float), img.astype(float), gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=data_range)
    assert ssim(img, ref, data_range) == pytest.approx(expected, abs=1e-10)


def test_ssim_of_a_stack_is_the_mean_of_its_slices():
    a, ref_a = _pair(1)
    b, ref_b = _pair(2, noise=80.0)
    stack = ssim(np.stack([a, b]), np.stack([ref_a, ref_b]))
    assert stack == pytest.approx((ssim(a, ref_a) + ssim(b, ref_b)) / 2, abs=1e-12)


def test_identical_images_and_errors():
    img, _ = _pair()
    assert rmse(img, img) == 0.0
    assert psnr(img, img) == math.inf
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    assert ssim(img + 100.0, img) < 1.0  # a bias lowers SSIM's luminance term
    with pytest.raises(ValueError, match="differs"):
        rmse(img, img[:-1])
    with pytest.raises(ValueError, match="at least 11"):
        ssim(img[:8, :8], img[:8, :8])
