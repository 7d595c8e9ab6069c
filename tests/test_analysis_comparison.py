"""Per-slice figures vs NDCT shared by the viewer's table and the exports: RMSE/PSNR/SSIM and grain."""

import math

import numpy as np
import pytest

from ldct_viewer.analysis.comparison import grain_rois, slice_metrics
from ldct_viewer.analysis.metrics import gaussian_filter, psnr, rmse, ssim
from ldct_viewer.export.compose import format_metrics


@pytest.fixture
def reference():
    rng = np.random.default_rng(5)
    ref = np.full((128, 128), 40.0)
    ref[10:60, 10:60] = 400.0  # structure in one corner, flat tissue elsewhere
    return ref + rng.normal(0, 10, ref.shape)


def test_grain_reads_noise_left_in_above_zero_and_smoothing_below(reference):
    rng = np.random.default_rng(6)
    rois = grain_rois(reference)
    assert rois and not any(y < 60 and x < 60 for _, y, x in rois)
    noisy = slice_metrics(reference + rng.normal(0, 30, reference.shape), reference)
    smooth = slice_metrics(gaussian_filter(reference, 1.5), reference)
    assert noisy["grain_db"] > 6.0        # 10x the reference's noise power: ~+10 dB
    assert smooth["grain_db"] < -6.0      # over-smoothed: the high band collapses
    m = slice_metrics(noisy_image := reference + 1.0, reference, rois)
    assert m["rmse"] == pytest.approx(rmse(noisy_image, reference))
    assert m["psnr"] == pytest.approx(psnr(noisy_image, reference))
    assert m["ssim"] == pytest.approx(ssim(noisy_image, reference))
    assert m["grain_db"] == pytest.approx(0.0, abs=1e-6)  # an offset is not grain


def test_no_flat_region_gives_nan_grain_and_a_caption_without_it():
    striped = np.full((64, 64), 40.0)
    striped[:, 8::16] = 400.0
    assert grain_rois(striped) == [] and grain_rois(np.zeros((16, 16))) == []
    m = slice_metrics(striped + 5.0, striped)
    assert math.isnan(m["grain_db"]) and m["rmse"] == pytest.approx(5.0)
    assert format_metrics(m) == (f"RMSE 5.0 HU  PSNR {m['psnr']:.1f} dB  SSIM {m['ssim']:.3f}", "")
    assert format_metrics({**m, "grain_db": -2.34})[1] == "grain -2.3 dB vs NDCT"
