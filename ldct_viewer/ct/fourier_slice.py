"""Image spectrum on a polar grid, and back: the engine of the parallel projector and of FBP.

By the Fourier-slice theorem the 1-D Fourier transform of the parallel projection at angle θ is the
image's 2-D transform along the line ``(u, v) = (ω cos θ, -ω sin θ)``. Sampling the spectrum on those
lines (a type-2 non-uniform FFT) and inverse-transforming along ω gives all projections at once;
the adjoint (spreading polar samples onto the grid, a type-1 NUFFT) performs filtered back-projection
when the samples are ramp-filtered projection spectra. Both use an FFT on a 2× oversampled grid and a
6-tap Kaiser–Bessel interpolation kernel (Beatty et al., IEEE TMI 2005, β for σ = 2), stored once per
geometry as sparse matrices: the cost per slice is one FFT plus one sparse product, instead of
``views × pixels`` interpolations for a ray-driven projector (this is where the ≥ 10× over
scikit-image comes from). Accuracy is ~1e-4 relative for smooth images.

Everything here works in pixel units (frequencies in cycles/pixel); callers scale by the pixel spacing.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

KERNEL_WIDTH = 6
OVERSAMPLING = 2
_BETA = math.pi * math.sqrt((KERNEL_WIDTH / OVERSAMPLING) ** 2 * (OVERSAMPLING - 0.5) ** 2 - 0.8)


def _kaiser_bessel(s: np.ndarray) -> np.ndarray:
    z = 1.0 - (2.0 * s / KERNEL_WIDTH) ** 2
    bessel = torch.special.i0(torch.from_numpy(_BETA * np.sqrt(np.clip(z, 0.0, None)))).numpy()
    return np.where(z > 0, bessel, 0.0)


def _kaiser_bessel_transform(x: np.ndarray, grid: int) -> np.ndarray:
    """Fourier transform of the kernel at image offsets ``x`` (pixels) for a grid of ``grid`` points."""
    s = np.linspace(-KERNEL_WIDTH / 2, KERNEL_WIDTH / 2, 4001)
    w = _kaiser_bessel(s) * (s[1] - s[0])
    return np.cos(2.0 * np.pi * np.outer(x, s) / grid) @ w


class PolarFourierGrid:
    """Interpolation between an image's oversampled FFT grid and samples at ``ω_m = m / (L·δ)``,
    ``m = 0..L//2`` (δ: detector spacing in pixels, ≥ 1) on the lines of the given angles (the non-negative half; real images are Hermitian).

    ``sample(image)`` returns ``F(ω cos θ, -ω sin θ)`` with the image centred at ``(N-1)/2``;
    ``spread(values)`` returns ``Re Σ values·e^{+2πi(u x + v y)}`` over the full line (negative half
    taken as the conjugate), i.e. the adjoint up to the Hermitian weights.
    """

    def __init__(
        self,
        size: int,
        angles: np.ndarray,
        radial_length: int,
        device: torch.device,
        detector_spacing: float = 1.0,
    ):
        self.size = size
        self.grid = OVERSAMPLING * size
        self.angles = np.asarray(angles, dtype=np.float64)
        self.radial_length = radial_length
        self.device = device
        n, m_grid = size, self.grid
        omega = np.arange(radial_length // 2 + 1) / (radial_length * detector_spacing)
        u = np.outer(np.cos(self.angles), omega)
        v = -np.outer(np.sin(self.angles), omega)
        # FFT places the integer pixel n//2 at the origin; the true centre (N-1)/2 is a phase away.
        self._origin = n // 2
        shift = self._origin - (n - 1) / 2.0
        phase = np.exp(-2j * np.pi * shift * (u + v))
        self.phase = torch.from_numpy(phase.astype(np.complex64)).to(device)
        offsets = np.arange(n) - self._origin
        deapod = 1.0 / _kaiser_bessel_transform(offsets, m_grid)
        self.deapodization = torch.from_numpy(np.outer(deapod, deapod).astype(np.float32)).to(device)
        self._targets = (u.ravel() * m_grid, v.ravel() * m_grid)
        self._sample_matrix: torch.Tensor | None = None  # built on first use: a projector only samples,
        self._spread_matrix: torch.Tensor | None = None  # an FBP only spreads

    def _entries(self):
        return _interpolation_entries(self._targets[0], self._targets[1], self.grid)

    @property
    def sample_matrix(self) -> torch.Tensor:
        if self._sample_matrix is None:
            rows, cols, vals = self._entries()
            shape = (self._targets[0].size, self.grid * self.grid)
            self._sample_matrix = _csr(rows, cols, vals, shape, self.device, rows_sorted=True)
        return self._sample_matrix

    @property
    def spread_matrix(self) -> torch.Tensor:
        if self._spread_matrix is None:
            rows, cols, vals = self._entries()
            shape = (self.grid * self.grid, self._targets[0].size)
            self._spread_matrix = _csr(cols, rows, vals, shape, self.device, rows_sorted=False)
        return self._spread_matrix

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.angles), self.radial_length // 2 + 1

    def sample(self, image: torch.Tensor) -> torch.Tensor:
        """``image [B, N, N]`` float32 → complex64 ``[B, views, L//2+1]``."""
        b, n, m_grid = image.shape[0], self.size, self.grid
        padded = image.new_zeros(b, m_grid, m_grid)
        padded[:, :n, :n] = image * self.deapodization
        padded = torch.roll(padded, (-self._origin, -self._origin), (1, 2))
        spectrum = torch.view_as_real(torch.fft.fft2(padded))  # [B, M, M, 2]
        flat = spectrum.permute(1, 2, 0, 3).reshape(m_grid * m_grid, 2 * b)
        values = (self.sample_matrix @ flat).reshape(*self.shape, b, 2).permute(2, 0, 1, 3).contiguous()
        return torch.view_as_complex(values) * self.phase

    def spread(self, values: torch.Tensor) -> torch.Tensor:
        """complex ``[B, views, L//2+1]`` → float32 ``[B, N, N]``."""
        b, n, m_grid = values.shape[0], self.size, self.grid
        weights = torch.full((self.shape[1],), 2.0, device=values.device)
        weights[0] = 1.0
        if self.radial_length % 2 == 0:
            weights[-1] = 1.0
        values = values * self.phase.conj() * weights
        flat = torch.view_as_real(values.to(torch.complex64)).permute(1, 2, 0, 3).reshape(-1, 2 * b)
        grid = (self.spread_matrix @ flat).reshape(m_grid, m_grid, b, 2).permute(2, 0, 1, 3).contiguous()
        image = torch.fft.ifft2(torch.view_as_complex(grid)).real * float(m_grid * m_grid)
        image = torch.roll(image, (self._origin, self._origin), (1, 2))[:, :n, :n]
        return image * self.deapodization


def fft_length(n: int) -> int:
    """Smallest even 2^a·3^b·5^c >= n (fast FFT sizes)."""
    best = None
    p2 = 2
    while best is None or p2 < best:
        p3 = p2
        while p3 < (best or 10**12):
            p5 = p3
            while p5 < n:
                p5 *= 5
            best = p5 if best is None else min(best, p5)
            p3 *= 3
        p2 *= 2
    return best


def _interpolation_entries(a: np.ndarray, b: np.ndarray, m_grid: int):
    """Sparse (row, column, weight) of the separable kernel around grid coordinates (a: columns, b: rows)."""
    w = KERNEL_WIDTH
    taps = np.arange(w)
    a0 = np.floor(a).astype(np.int64) - w // 2 + 1
    b0 = np.floor(b).astype(np.int64) - w // 2 + 1
    wa = _kaiser_bessel(a[:, None] - (a0[:, None] + taps)).astype(np.float32)
    wb = _kaiser_bessel(b[:, None] - (b0[:, None] + taps)).astype(np.float32)
    col_a = (a0[:, None] + taps) % m_grid
    col_b = (b0[:, None] + taps) % m_grid
    cols = (col_b[:, :, None] * m_grid + col_a[:, None, :]).reshape(len(a), w * w)
    vals = (wb[:, :, None] * wa[:, None, :]).reshape(len(a), w * w)
    rows = np.repeat(np.arange(len(a), dtype=np.int64), w * w)
    return rows, cols.ravel(), vals.ravel()


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape, device, rows_sorted: bool) -> torch.Tensor:
    if not rows_sorted:
        order = np.argsort(rows, kind="stable")
        cols, vals = cols[order], vals[order]
    counts = np.bincount(rows, minlength=shape[0])
    crow = np.concatenate([[0], np.cumsum(counts)])
    index_dtype = np.int32 if len(vals) < 2**31 - 1 else np.int64
    return sparse_csr(
        torch.from_numpy(crow.astype(index_dtype)),
        torch.from_numpy(cols.astype(index_dtype)),
        torch.from_numpy(np.ascontiguousarray(vals)),
        size=shape,
        device=device,
    )


def sparse_csr(crow, col, values, size, device) -> torch.Tensor:
    """CSR tensor, without torch's "beta" warning (the CSR @ dense product we use is stable)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=size, device=device, check_invariants=False)
