"""Image-quality metrics between a denoised (or low-dose) image and its normal-dose reference, in HU.

All three take HU arrays of equal shape. ``data_range`` is the HU span the images are judged over;
the default 4096 HU is the span of the checkpoints' normalization (-2048..2048 HU), so PSNR/SSIM here
equal PSNR/SSIM of the normalized [0, 1] images the network sees.

SSIM follows Wang et al. 2004: Gaussian window sigma 1.5 px truncated to 11 px, population
covariances, K1 = 0.01, K2 = 0.03, the mean over the image minus a 5 px border (the same numbers as
``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``). A [Z, H, W] stack is scored slice by slice and averaged.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_DATA_RANGE = 4096.0
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): an 11-tap window
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _pair(image: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(image, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"image shape {a.shape} differs from reference shape {b.shape}")
    if a.size == 0:
        raise ValueError("empty image")
    return a, b


def rmse(image: np.ndarray, reference: np.ndarray) -> float:
    """Root-mean-square error in HU."""
    a, b = _pair(image, reference)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def psnr(image: np.ndarray, reference: np.ndarray, data_range: float = DEFAULT_DATA_RANGE) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE); inf for identical images."""
    a, b = _pair(image, reference)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return float(10.0 * np.log10(float(data_range) ** 2 / mse))


def _gaussian_taps(sigma: float = SSIM_SIGMA, radius: int = SSIM_RADIUS) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    return taps / taps.sum()


def gaussian_filter(image: np.ndarray, sigma: float = SSIM_SIGMA, radius: int | None = None) -> np.ndarray:
    """Separable Gaussian filter over the last two axes, mirror-padded (the edge sample repeated,
    like ``scipy.ndimage``'s 'reflect'); float64."""
    if radius is None:
        radius = int(3.5 * sigma + 0.5)
    taps = _gaussian_taps(sigma, radius)
    out = np.asarray(image, dtype=np.float64)
    for axis in (-2, -1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.moveaxis(np.pad(out, pad, mode="symmetric"), axis, -1)
        n = out.shape[axis]
        acc = taps[0] * padded[..., :n]
        for k in range(1, len(taps)):  # shifted views, no copies of the taps' windows
            acc += taps[k] * padded[..., k : k + n]
        out = np.moveaxis(acc, -1, axis)
    return out


def ssim_map(image: np.ndarray, reference: np.ndarray, data_range: float = DEFAULT_DATA_RANGE) -> np.ndarray:
    """Local SSIM of 2-D images (or each slice of a stack), same shape as the input."""
    a, b = _pair(image, reference)
    if a.ndim < 2 or min(a.shape[-2:]) < 2 * SSIM_RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least {2 * SSIM_RADIUS + 1} px per side, got {a.shape}")
    ux, uy = gaussian_filter(a), gaussian_filter(b)
    vx = gaussian_filter(a * a) - ux * ux
    vy = gaussian_filter(b * b) - uy * uy
    vxy = gaussian_filter(a * b) - ux * uy
    c1 = (SSIM_K1 * float(data_range)) ** 2
    c2 = (SSIM_K2 * float(data_range)) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def ssim(image: np.ndarray, reference: np.ndarray, data_range: float = DEFAULT_DATA_RANGE) -> float:
    """Mean structural similarity (Wang et al. 2004); a [Z, H, W] stack gives the mean of its slices."""
    local = ssim_map(image, reference, data_range)
    r = SSIM_RADIUS
    return float(local[..., r:-r, r:-r].mean())
