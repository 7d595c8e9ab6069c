"""simulate_low_dose: calibration, dose scaling, streaks, determinism, shapes, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from ldct_viewer.ct import SimulationParams, simulate_low_dose
from ldct_viewer.errors import InputError


def water_ellipse(n: int, fov_mm: float, lateral_mm: float = 350.0, ap_mm: float = 250.0) -> np.ndarray:
    """Uniform water ellipse (0 HU) in air: the calibration object (adult abdomen, ~30 cm water-equivalent)."""
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2.0) * (fov_mm / n)
    return np.where((xx / (lateral_mm / 2)) ** 2 + (yy / (ap_mm / 2)) ** 2 < 1, 0.0, -1000.0).astype(np.float32)


def central_roi(n: int, fov_mm: float, radius_mm: float = 30.0) -> np.ndarray:
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2.0) * (fov_mm / n)
    return xx**2 + yy**2 < radius_mm**2


def roi_noise(images: np.ndarray, roi: np.ndarray) -> float:
    return float(np.sqrt(np.mean([im[roi].var() for im in np.atleast_3d(images).reshape(-1, *roi.shape)])))


def test_calibration_quarter_dose_abdomen():
    """The documented calibration: 512², 380 mm FOV, fan beam, 720 views, Hann, 3 mm slices.
    Target ~17 HU at full dose and ~36 HU at 25 % (real 3 mm quarter-dose abdomen: liver SD ~39 HU
    including its own texture), and sqrt(3) x that for 1 mm slices."""
    n, fov = 512, 380.0
    ndct = water_ellipse(n, fov)
    roi = central_roi(n, fov)
    thick = SimulationParams(slice_thickness_mm=3.0)
    full = simulate_low_dose(ndct, fov / n, dose=1.0, views=720, seed=1, method="full", device="cpu", params=thick)
    quarter = simulate_low_dose(ndct, fov / n, dose=0.25, views=720, seed=1, method="full", device="cpu",
                                params=thick)
    sigma_full, sigma_quarter = roi_noise(full, roi), roi_noise(quarter, roi)
    assert 15.0 < sigma_full < 18.5
    assert 33.0 < sigma_quarter < 39.0
    assert abs(float(quarter[roi].mean())) < 5.0  # no bias from the log of noisy counts
    thin = simulate_low_dose(ndct, fov / n, dose=0.25, views=720, seed=1, method="full", device="cpu")
    assert roi_noise(thin, roi) / sigma_quarter == pytest.approx(np.sqrt(3.0), rel=0.1)


def _mean_frequency(noise: np.ndarray, pixel_mm: float) -> float:
    from ldct_viewer.analysis.nps import noise_power_spectrum

    rois = [(k, y, x) for k in range(len(noise)) for y in range(64, 192, 32) for x in range(64, 192, 32)]
    spectrum = noise_power_spectrum(noise, (pixel_mm, pixel_mm), rois=rois)
    power = np.nan_to_num(spectrum.power)
    return float((spectrum.frequency * power).sum() / power.sum())


def test_noise_texture_matches_a_real_soft_tissue_kernel():
    """NPS shape calibration: a real Siemens Br38f abdomen (TotalSegmentator, 0.98 mm, 3 mm) has grain of
    power-weighted mean frequency 0.206 cycles/mm in its flat 32 px ROIs (measured with analysis.nps).
    The Hann kernel drawn for real inputs must give the same texture; Ram-Lak is the sharp end."""
    n, px = 256, 0.9765625
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2.0) * px
    water = np.stack([np.where((xx / 110) ** 2 + (yy / 90) ** 2 < 1, 0.0, -1000.0).astype(np.float32)] * 2)
    means = {}
    for window in ("hann", "ram-lak"):
        low = simulate_low_dose(water, px, dose=1.0, views=1152, seed=1, device="cpu",
                                params=SimulationParams(window=window, slice_thickness_mm=3.0))
        means[window] = _mean_frequency(low - water, px)
    assert means["hann"] == pytest.approx(0.206, abs=0.02)
    assert means["ram-lak"] > 0.3


@pytest.mark.parametrize("dose", [0.25, 0.1])
def test_noise_scales_as_inverse_sqrt_dose(dose):
    n, fov = 192, 380.0
    ndct = np.stack([water_ellipse(n, fov)] * 3)
    roi = central_roi(n, fov, 40.0)
    params = SimulationParams(geometry="parallel")
    ref = simulate_low_dose(ndct, fov / n, dose=1.0, views=360, seed=3, params=params, device="cpu")
    low = simulate_low_dose(ndct, fov / n, dose=dose, views=360, seed=4, params=params, device="cpu")
    ratio = roi_noise(low - ndct, roi) / roi_noise(ref - ndct, roi)
    assert ratio == pytest.approx(1.0 / np.sqrt(dose), rel=0.10)


def bony_slice(n: int) -> np.ndarray:
    """Soft tissue body with high-contrast bone and air: the objects that streak at few views."""
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2.0
    hu = np.full((n, n), -1000.0, dtype=np.float32)
    hu[(xx / (0.45 * n)) ** 2 + (yy / (0.33 * n)) ** 2 < 1] = 40.0
    for cx, cy, value in ((-0.2, 0.15, 1200.0), (0.22, 0.1, 1000.0), (0.0, -0.18, -1000.0), (0.05, 0.2, 900.0)):
        hu[(xx - cx * n) ** 2 + (yy - cy * n) ** 2 < (0.05 * n) ** 2] = value
    return gaussian_filter(hu, 0.7).astype(np.float32)


def high_pass_energy(image: np.ndarray) -> float:
    return float(np.mean((image - gaussian_filter(image, 3.0)) ** 2))


def test_fewer_views_give_more_streak_energy():
    n, spacing = 192, 2.0
    ndct = bony_slice(n)
    quiet = SimulationParams(fluence_per_mm2=1e13, electronic_noise=0.0)  # isolate view aliasing
    energy = {}
    for views in (180, 360, 720):
        out = simulate_low_dose(ndct, spacing, dose=1.0, views=views, params=quiet, device="cpu")
        energy[views] = high_pass_energy(out - ndct)
    assert energy[180] > 5.0 * energy[360] > 25.0 * energy[720]  # measured 52, 1.6, 0.06
    # With the default (noisy) full-dose scan the streaks still add up on top of the noise.
    noisy = {v: high_pass_energy(simulate_low_dose(ndct, spacing, dose=1.0, views=v, device="cpu") - ndct)
             for v in (180, 720)}
    assert noisy[180] > 1.2 * noisy[720]


def test_noise_insertion_keeps_ndct_where_nothing_is_added():
    """Same dose as the input and full views: nothing to insert, so the NDCT comes back unchanged,
    including detail finer than the projector resolves and the padding outside the scan circle."""
    n = 96
    rng = np.random.default_rng(0)
    ndct = bony_slice(n) + rng.normal(0, 10, (n, n)).astype(np.float32)
    ndct[:4, :4] = -2000.0  # DICOM padding value
    params = SimulationParams(full_views=720)
    out = simulate_low_dose(ndct, 2.0, dose=0.5, views=720, input_dose=0.5, params=params, device="cpu")
    assert np.abs(out - ndct).max() < 0.05
    low = simulate_low_dose(ndct, 2.0, dose=0.25, views=720, params=params, device="cpu")
    assert np.all(low[:4, :4] == -2000.0)


def test_input_dose_inserts_only_the_missing_noise():
    n, fov = 192, 380.0
    ndct = np.stack([water_ellipse(n, fov)] * 3)
    roi = central_roi(n, fov, 40.0)
    params = SimulationParams(geometry="parallel")
    everything = simulate_low_dose(ndct, fov / n, dose=0.25, views=360, seed=5, params=params, device="cpu")
    extra = simulate_low_dose(ndct, fov / n, dose=0.25, views=360, seed=5, params=params, input_dose=1.0,
                              device="cpu")
    # Variance 1/0.25 − 1/1 = 3 instead of 4 units: std ratio √(3/4).
    ratio = roi_noise(extra - ndct, roi) / roi_noise(everything - ndct, roi)
    assert ratio == pytest.approx(np.sqrt(0.75), rel=0.10)


def test_deterministic_by_seed_and_independent_of_batching():
    ndct = np.stack([bony_slice(64)] * 3)
    a = simulate_low_dose(ndct, 3.0, dose=0.25, views=180, seed=7, device="cpu")
    b = simulate_low_dose(ndct, 3.0, dose=0.25, views=180, seed=7, device="cpu",
                          params=SimulationParams(batch_slices=1))
    c = simulate_low_dose(ndct, 3.0, dose=0.25, views=180, seed=8, device="cpu")
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a[0], a[1])  # each slice gets its own noise


@pytest.mark.parametrize("method", ["noise-insertion", "full"])
def test_shapes_and_dtype(method):
    image = bony_slice(64).astype(np.float64)
    out2d = simulate_low_dose(image, 3.0, dose=0.5, views=90, method=method, device="cpu")
    assert out2d.shape == (64, 64) and out2d.dtype == np.float32
    volume = np.stack([image[:, :48]] * 2)  # non-square slices are padded for the scan and cropped back
    out3d = simulate_low_dose(volume, 3.0, dose=0.5, views=90, method=method, device="cpu")
    assert out3d.shape == (2, 64, 48) and out3d.dtype == np.float32
    assert abs(float(np.median(out3d[:, 20:44, 12:36] - volume[:, 20:44, 12:36]))) < 15.0


def test_full_method_reproduces_the_image_without_noise():
    ndct = gaussian_filter(bony_slice(128), 1.5)
    quiet = SimulationParams(fluence_per_mm2=1e13, electronic_noise=0.0, window="ram-lak", geometry="parallel")
    out = simulate_low_dose(ndct, 2.5, dose=1.0, views=720, method="full", params=quiet, device="cpu")
    yy, xx = np.mgrid[:128, :128] - 63.5
    inside = xx**2 + yy**2 < 60**2
    assert np.abs(out - ndct)[inside].mean() < 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dose=0.0, views=180), "dose"),
        (dict(dose=1.5, views=180), "dose"),
        (dict(dose=0.5, views=4), "views"),
        (dict(dose=0.5, views=180, method="magic"), "method"),
        (dict(dose=0.5, views=180, input_dose=0.2), "input dose"),
        (dict(dose=0.5, views=180, params=SimulationParams(geometry="helical")), "geometry"),
        (dict(dose=0.5, views=180, params=SimulationParams(window="boxcar")), "window"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate_low_dose(bony_slice(32), 2.0, device="cpu", **kwargs)


def test_bad_images_raise_input_error():
    with pytest.raises(InputError, match="shape"):
        simulate_low_dose(np.zeros(32, np.float32), 1.0, dose=0.5, views=90)
    bad = bony_slice(32)
    bad[3, 3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        simulate_low_dose(bad, 1.0, dose=0.5, views=90)
    with pytest.raises(InputError, match="spacing"):
        simulate_low_dose(bony_slice(32), -1.0, dose=0.5, views=90)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_request_without_cuda_is_an_input_error():
    with pytest.raises(InputError, match="CUDA"):
        simulate_low_dose(bony_slice(32), 2.0, dose=0.5, views=90, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_statistics():
    n, fov = 256, 380.0
    ndct = np.stack([water_ellipse(n, fov)] * 2)
    roi = central_roi(n, fov, 40.0)
    cpu = simulate_low_dose(ndct, fov / n, dose=0.25, views=360, device="cpu")
    gpu = simulate_low_dose(ndct, fov / n, dose=0.25, views=360, device="cuda")
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape
    assert roi_noise(gpu - ndct, roi) == pytest.approx(roi_noise(cpu - ndct, roi), rel=0.1)
    quiet = SimulationParams(fluence_per_mm2=1e13, electronic_noise=0.0)
    a = simulate_low_dose(ndct, fov / n, dose=1.0, views=360, params=quiet, device="cpu")
    b = simulate_low_dose(ndct, fov / n, dose=1.0, views=360, params=quiet, device="cuda")
    assert np.abs(a - b).mean() < 0.5


def test_a_simulation_that_cannot_fit_in_memory_is_refused_before_allocating():
    from ldct_viewer.ct.simulate import simulation_bytes
    from ldct_viewer.memory import available_memory

    big = np.zeros((1, 4096, 4096), np.float32)
    need = simulation_bytes(4096, 20000)
    have = available_memory()
    if have is None or need <= have:
        pytest.skip(f"this machine has {have} bytes available, enough for the estimate {need}")
    with pytest.raises(InputError, match=r"4096x4096 slices with 20000 views needs about .* GiB of memory"):
        simulate_low_dose(big, 0.1, dose=0.25, views=20000, device="cpu")
    with pytest.raises(InputError, match="views must be an integer from 8 to 20000, got 100000000"):
        simulate_low_dose(big[:, :16, :16], 0.1, dose=0.25, views=100_000_000, device="cpu")
