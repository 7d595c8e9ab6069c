"""Forward projection: attenuation image μ [B, N, N] (1/mm) → line integrals [B, views, bins].

The parallel projector evaluates the image spectrum on the Fourier-slice lines (``fourier_slice``) and
inverse-transforms along the detector: the projection of the band-limited image, sampled at the bin
centres. The fan-beam projector computes a parallel sinogram at fine angular (≈ 1 pixel of arc at the
image corner) and radial (½ pixel) sampling, then reads each fan ray from it by bilinear interpolation.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ldct_viewer.ct.fourier_slice import PolarFourierGrid, fft_length
from ldct_viewer.ct.geometry import FanBeamGeometry, ParallelBeamGeometry
from ldct_viewer.ct.rebinning import apply_matrix, fan_from_parallel_matrix


class ParallelProjector:
    """Line integrals along parallel rays; ``oversample`` > 1 returns bins at ``spacing / oversample``."""

    def __init__(self, geometry: ParallelBeamGeometry, size: int, pixel_spacing_mm: float,
                 device: torch.device, oversample: int = 1):
        self.geometry = geometry
        self.pixel_spacing_mm = float(pixel_spacing_mm)
        self.oversample = int(oversample)
        self.spacing = geometry.detector_spacing_mm / self.pixel_spacing_mm  # δ in pixels
        if self.spacing < 1.0 - 1e-9:
            raise ValueError("detector spacing below the pixel spacing is not supported; use oversample")
        self.length = fft_length(geometry.bins + 2)
        self.grid = PolarFourierGrid(size, np.asarray(geometry.angles), self.length, device, self.spacing)
        omega = np.arange(self.length // 2 + 1) / (self.length * self.spacing)
        t0 = -(geometry.bins - 1) / 2.0 * self.spacing
        self._phase = torch.from_numpy(np.exp(2j * np.pi * omega * t0).astype(np.complex64)).to(device)
        self.out_bins = (geometry.bins - 1) * self.oversample + 1

    def __call__(self, mu: torch.Tensor) -> torch.Tensor:
        spectrum = self.grid.sample(mu) * self._phase
        n = self.length * self.oversample
        # irfft gives (1/n)Σ; the integral needs Δω = 1/(L·δ) per sample, and Δ mm per pixel.
        proj = torch.fft.irfft(spectrum, n=n) * (self.oversample / self.spacing) * self.pixel_spacing_mm
        return proj[..., : self.out_bins].contiguous()


class FanBeamProjector:
    """Fan-beam line integrals read from an oversampled parallel sinogram."""

    def __init__(self, geometry: FanBeamGeometry, size: int, pixel_spacing_mm: float, device: torch.device):
        self.geometry = geometry
        parallel_views = max(geometry.views, math.ceil(math.pi * size / math.sqrt(2.0)))
        parallel = ParallelBeamGeometry(
            tuple(float(a) for a in np.arange(parallel_views) * math.pi / parallel_views),
            _odd_bins_for_fan(geometry, pixel_spacing_mm),
            float(pixel_spacing_mm),
            math.pi / parallel_views,
        )
        self.parallel = ParallelProjector(parallel, size, pixel_spacing_mm, device, oversample=2)
        self.rebin = fan_from_parallel_matrix(
            geometry, parallel_views, self.parallel.out_bins, pixel_spacing_mm / 2.0, device
        )

    def __call__(self, mu: torch.Tensor) -> torch.Tensor:
        par = self.parallel(mu)
        par = torch.cat([par, par[:, :1].flip(-1)], dim=1)  # θ = π is θ = 0 seen from the other side
        return apply_matrix(self.rebin, par, (self.geometry.views, self.geometry.bins))


def _odd_bins_for_fan(geometry: FanBeamGeometry, pixel_spacing_mm: float) -> int:
    t_max = geometry.source_isocenter_mm * np.max(np.abs(np.sin(geometry.fan_angles)))
    return 2 * (math.ceil(t_max / pixel_spacing_mm) + 2) + 1
