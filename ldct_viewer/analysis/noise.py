"""How noisy a CT slice is, measured robustly on anatomy, and the difference-map range that shows it.

Why: a difference map (output − LDCT, output − NDCT) is mostly noise; a colour range far wider than
that noise renders it almost white, one far narrower saturates it. The noise SD is estimated from
the high-pass residual (image minus a Gaussian blur) in soft tissue (−300…300 HU: no air, no bone),
as a median absolute deviation, which the edges of organs — a small fraction of the pixels, in the
tails — barely move. The residual of white noise keeps a known part of its variance; that factor is
divided out. Correlated CT noise loses a little more to the blur, so the figure is a slight
underestimate: good enough to scale a colour map.
"""

from __future__ import annotations

import math

import numpy as np

from ldct_viewer.analysis.metrics import _gaussian_taps, gaussian_filter

BLUR_SIGMA = 2.0
SOFT_TISSUE = (-300.0, 300.0)
MIN_PIXELS = 200
#: The difference range is this many NDCT noise SDs (or half as many LDCT SDs): the noise then spans
#: the middle of the colour map with room for real errors.
NDCT_SDS = 4.0
LDCT_SDS = 2.0
RANGE_LIMITS = (10.0, 1000.0)
DEFAULT_RANGE = 200.0


def _white_noise_keep(sigma: float) -> float:
    """Fraction of white noise's SD left in ``image - gaussian_filter(image, sigma)``."""
    taps = _gaussian_taps(sigma, int(3.5 * sigma + 0.5))
    kernel = np.outer(taps, taps)
    centre = kernel[kernel.shape[0] // 2, kernel.shape[1] // 2]
    return math.sqrt(1.0 - 2.0 * centre + float((kernel ** 2).sum()))


def noise_sd(image: np.ndarray | None, *, hu_range: tuple[float, float] = SOFT_TISSUE) -> float:
    """Robust noise SD (HU) of a [H, W] HU slice, in its soft tissue; NaN when there is too little
    soft tissue (under ``MIN_PIXELS`` pixels) or no image."""
    if image is None:
        return math.nan
    a = np.asarray(image, dtype=np.float64)
    if a.ndim != 2 or min(a.shape) < 8:
        return math.nan
    residual = a - gaussian_filter(a, sigma=BLUR_SIGMA)
    inside = (a > hu_range[0]) & (a < hu_range[1])
    inside[:4, :] = inside[-4:, :] = False  # the mirrored border is not noise
    inside[:, :4] = inside[:, -4:] = False
    values = residual[inside]
    if values.size < MIN_PIXELS:
        return math.nan
    mad = float(np.median(np.abs(values - np.median(values))))
    return 1.4826 * mad / _white_noise_keep(BLUR_SIGMA)


def _nice(hu: float) -> float:
    """Round up to a number a reader can hold: 5 HU steps up to 100, then 10, then 50."""
    step = 5.0 if hu <= 100 else 10.0 if hu <= 300 else 50.0
    return step * math.ceil(hu / step)


def difference_range(ndct: np.ndarray | None, ldct: np.ndarray | None = None) -> float:
    """A ± range (HU) for the difference maps from the slices' own noise: ``NDCT_SDS`` × NDCT's SD, or
    ``LDCT_SDS`` × LDCT's when that is larger (a noise-free or missing NDCT); ``DEFAULT_RANGE`` when
    neither can be measured."""
    candidates = [k * sd for k, sd in ((NDCT_SDS, noise_sd(ndct)), (LDCT_SDS, noise_sd(ldct)))
                  if math.isfinite(sd) and sd > 0]
    if not candidates:
        return DEFAULT_RANGE
    lo, hi = RANGE_LIMITS
    return min(max(_nice(max(candidates)), lo), hi)
