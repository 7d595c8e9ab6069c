"""The per-slice figures of an image against its NDCT slice — RMSE, PSNR, SSIM, grain and the noise
power spectra — in one place, so that the viewer's table and NPS plot, the exported PNGs and their
metadata agree.

Grain is what RMSE cannot show: whether an output is smoother than NDCT (over-smoothed, < 0 dB)
or grainier (noise left in, > 0 dB), as high-frequency noise power relative to NDCT's
(``ldct_viewer.analysis.nps``), in NDCT's flat tiles.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ldct_viewer.analysis.metrics import psnr, rmse, ssim
from ldct_viewer.analysis.nps import DEFAULT_ROI, Spectrum, flat_rois, high_frequency_power_ratio, noise_power_spectrum


def grain_rois(reference: np.ndarray) -> list[tuple[int, int, int]]:
    """The reference slice's flat ROIs (``flat_rois``), [] when it has none or is smaller than one ROI."""
    ref = np.asarray(reference)
    if min(ref.shape[-2:]) < DEFAULT_ROI:
        return []
    return flat_rois(ref, DEFAULT_ROI)


def slice_metrics(image: np.ndarray, reference: np.ndarray,
                  rois: list[tuple[int, int, int]] | None = None) -> dict[str, float]:
    """RMSE (HU), PSNR (dB) and SSIM (data range 4096 HU) of ``image`` against ``reference``, and
    ``grain_db``: its high-frequency noise power relative to the reference's (0.25-0.5 cycles/px, in
    ``rois``, default ``grain_rois(reference)``), NaN when there is no flat ROI to measure in."""
    if rois is None:
        rois = grain_rois(reference)
    grain = high_frequency_power_ratio(image, reference, rois=rois) if rois else math.nan
    return {"rmse": rmse(image, reference), "psnr": psnr(image, reference), "ssim": ssim(image, reference),
            "grain_db": grain}


def slice_spectra(images: Mapping[str, np.ndarray | None], reference: np.ndarray,
                  pixel_spacing: tuple[float, float],
                  rois: list[tuple[int, int, int]] | None = None) -> dict[str, Spectrum]:
    """The radial NPS of each given image (pass the reference too, to see its own curve), all over
    the reference's flat ROIs (``rois``, default ``grain_rois(reference)``), frequencies in
    cycles/mm; {} when the reference has no flat ROI."""
    if rois is None:
        rois = grain_rois(reference)
    if not rois:
        return {}
    return {key: noise_power_spectrum(image, pixel_spacing, rois=rois)
            for key, image in images.items() if image is not None}
