"""Noise power spectrum and the high-frequency texture distance."""

import numpy as np
import pytest

from ldct_viewer.analysis.metrics import gaussian_filter
from ldct_viewer.analysis.nps import (
    flat_rois,
    high_frequency_power,
    high_frequency_power_ratio,
    high_frequency_texture_distance,
    noise_power_spectrum,
)


def _noise(seed, sigma=20.0, shape=(2, 128, 128), mean=40.0):
    return (mean + np.random.default_rng(seed).normal(0, sigma, shape)).astype(np.float32)


def test_white_noise_spectrum_is_flat_at_its_variance():
    img = _noise(0, sigma=20.0)
    spectrum = noise_power_spectrum(img, pixel_spacing=(0.5, 0.5))
    assert spectrum.rois == 2 * 16  # every 32 px tile of a uniform image is flat
    high = spectrum.power[spectrum.frequency > 0.5]  # cycles/mm; Nyquist is 1 cycle/mm at 0.5 mm
    # white noise: NPS = sigma^2 * dx * dy at every frequency the local-mean subtraction leaves alone
    assert np.allclose(high, 400.0 * 0.25, rtol=0.2)
    assert spectrum.frequency.max() == pytest.approx(1.0, abs=0.05)


def test_texture_distance_separates_smoothed_from_matching_noise():
    reference = _noise(1)
    same_grain = _noise(2)  # another realization of the same noise
    smoothed = gaussian_filter(_noise(3), sigma=1.5).astype(np.float32)  # over-smoothed output
    louder = _noise(4, sigma=40.0)
    d_same = high_frequency_texture_distance(same_grain, reference)
    d_smooth = high_frequency_texture_distance(smoothed, reference)
    d_loud = high_frequency_texture_distance(louder, reference)
    assert d_same < 0.5
    assert d_smooth > 10.0
    assert d_loud == pytest.approx(20 * np.log10(2.0), abs=0.6)  # 2x the noise = 4x the power = 6 dB


def test_power_ratio_says_which_way_the_grain_is_off():
    """The distance is the same for half and for twice the noise; the signed ratio tells them apart."""
    reference = _noise(1)
    quieter, louder = _noise(6, sigma=10.0), _noise(4, sigma=40.0)
    six_db = 20 * np.log10(2.0)
    assert high_frequency_texture_distance(quieter, reference) == pytest.approx(six_db, abs=0.6)
    assert high_frequency_texture_distance(louder, reference) == pytest.approx(six_db, abs=0.6)
    assert high_frequency_power_ratio(quieter, reference) == pytest.approx(-six_db, abs=0.6)
    assert high_frequency_power_ratio(louder, reference) == pytest.approx(six_db, abs=0.6)
    smoothed = gaussian_filter(_noise(3), sigma=1.5).astype(np.float32)
    assert high_frequency_power_ratio(smoothed, reference) < -10.0  # over-smoothed: power collapses
    assert abs(high_frequency_power_ratio(_noise(2), reference)) < 0.5
    with pytest.raises(ValueError, match="differs"):
        high_frequency_power_ratio(reference, reference[:, :64])


def test_flat_rois_skip_edges_and_air():
    img = np.full((1, 96, 96), 40.0, dtype=np.float32)
    img[:, :, 48:] = 400.0           # an edge at column 48 (crosses the tiles starting at column 32)
    img[:, :24, :] = -1000.0         # air: the first row of tiles is mostly air with an edge
    img += np.random.default_rng(0).normal(0, 10, img.shape).astype(np.float32)
    corners = flat_rois(img, 32)
    assert corners, "some tiles are flat"
    assert all(y >= 32 for _, y, _ in corners)      # not the air/tissue boundary
    assert all(x != 32 for _, _, x in corners)      # not across the edge
    assert len(corners) == 4                        # rows 32 and 64, columns 0 and 64


def test_without_a_flat_tile_there_is_no_roi_and_no_grain_figure():
    img = np.full((1, 64, 64), 40.0, dtype=np.float32)
    img[:, :, 8::16] = 400.0  # stripes through every tile: none is flat
    assert flat_rois(img, 32) == []
    with pytest.raises(ValueError, match="no flat region"):
        high_frequency_power_ratio(img + 1.0, img)


def test_high_frequency_power_and_shape_checks():
    img = _noise(5, sigma=10.0)
    rois = flat_rois(img)
    assert np.allclose(high_frequency_power(img, rois), 100.0, rtol=0.2)
    with pytest.raises(ValueError, match="differs"):
        high_frequency_texture_distance(img, img[:, :64])


def test_air_tiles_are_not_flat_rois():
    img = np.full((1, 96, 96), 40.0, dtype=np.float32)
    img[:, :, :32] = -1000.0  # air, perfectly flat: excluded all the same
    # the column of tiles next to the air holds its edge (smoothed into it): not flat either
    assert flat_rois(img, 32) == [(0, 0, 64), (0, 32, 64), (0, 64, 64)]
