"""Filtered back-projection: line integrals [B, views, bins] → attenuation μ [B, N, N] (1/mm).

The ramp is the discrete Ram-Lak kernel's transform (correct DC, unlike a sampled |ω|), multiplied by an
apodization window. Filtering and back-projection happen together in the frequency domain: the
ramp-filtered projection spectra are spread onto the image grid along their Fourier-slice lines
(``fourier_slice``), which is back-projection with band-limited instead of linear interpolation.
Fan-beam data are first rebinned to parallel rays over 360° (each ray then counted twice at half weight),
as clinical scanners do.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ldct_viewer.ct.fourier_slice import PolarFourierGrid, fft_length
from ldct_viewer.ct.geometry import FanBeamGeometry, ParallelBeamGeometry, _bins_for_diagonal
from ldct_viewer.ct.rebinning import apply_matrix, parallel_from_fan_matrix

WINDOWS = ("ram-lak", "shepp-logan", "cosine", "hann", "hamming")


def apodization(window: str, nu: np.ndarray) -> np.ndarray:
    """Window value at ``nu`` = frequency / Nyquist (0..1)."""
    if window == "ram-lak":
        return np.ones_like(nu)
    if window == "shepp-logan":
        return np.sinc(nu / 2.0)
    if window == "cosine":
        return np.cos(np.pi * nu / 2.0)
    if window == "hann":
        return 0.5 + 0.5 * np.cos(np.pi * nu)
    if window == "hamming":
        return 0.54 + 0.46 * np.cos(np.pi * nu)
    raise ValueError(f"unknown FBP window {window!r}; choose one of {', '.join(WINDOWS)}")


def ramp_response(length: int, window: str = "ram-lak") -> np.ndarray:
    """rFFT (``length//2 + 1`` values) of the Ram-Lak kernel at unit spacing times the window:
    ≈ |ω| in cycles/bin, with the DC term of the discrete kernel (1/4 − Σ 2/(π²n²) over odd n < L/2)."""
    n = np.arange(length)
    n = np.where(n > length // 2, n - length, n)
    kernel = np.zeros(length)
    kernel[0] = 0.25
    odd = (n % 2) != 0
    kernel[odd] = -1.0 / (np.pi * n[odd]) ** 2
    response = np.fft.rfft(kernel).real
    nu = np.arange(length // 2 + 1) / (length / 2.0)
    return response * apodization(window, nu)


class ParallelFBP:
    """FBP for a parallel sinogram with ``geometry.angular_weight`` per view."""

    def __init__(self, geometry: ParallelBeamGeometry, size: int, pixel_spacing_mm: float,
                 device: torch.device, window: str = "hann"):
        self.geometry = geometry
        self.pixel_spacing_mm = float(pixel_spacing_mm)
        spacing = geometry.detector_spacing_mm / self.pixel_spacing_mm
        self.length = fft_length(2 * geometry.bins)
        self.grid = PolarFourierGrid(size, np.asarray(geometry.angles), self.length, device, spacing)
        omega = np.arange(self.length // 2 + 1) / (self.length * spacing)
        t0 = -(geometry.bins - 1) / 2.0 * spacing
        # Q = Δθ · H · DFT(p) · e^{-2πiω t0} / L, with H ≈ |ω| in cycles/pixel = ramp(cycles/bin) / δ;
        # the result is μ in 1/pixel: divide by Δ for 1/mm.
        weights = (
            ramp_response(self.length, window) / spacing * geometry.angular_weight / self.length
            * np.exp(-2j * np.pi * omega * t0) / self.pixel_spacing_mm
        )
        self._weights = torch.from_numpy(weights.astype(np.complex64)).to(device)

    def __call__(self, sinogram: torch.Tensor) -> torch.Tensor:
        spectra = torch.fft.rfft(sinogram, n=self.length) * self._weights
        return self.grid.spread(spectra)


class FanBeamFBP:
    """Rebin fan → parallel (same angles, over 360°), then parallel FBP with Δθ = π / views."""

    def __init__(self, geometry: FanBeamGeometry, size: int, pixel_spacing_mm: float,
                 device: torch.device, window: str = "hann"):
        self.geometry = geometry
        bins = _bins_for_diagonal(size)
        parallel = ParallelBeamGeometry(
            tuple(float(a) for a in geometry.source_angles), bins, float(pixel_spacing_mm),
            math.pi / geometry.views,
        )
        self.rebin = parallel_from_fan_matrix(geometry, bins, pixel_spacing_mm, device)
        self.parallel = ParallelFBP(parallel, size, pixel_spacing_mm, device, window)

    def __call__(self, sinogram: torch.Tensor) -> torch.Tensor:
        par = apply_matrix(self.rebin, sinogram, (self.geometry.views, self.parallel.geometry.bins))
        return self.parallel(par)
