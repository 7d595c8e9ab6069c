"""The per-slice figures of an image against its NDCT slice — RMSE, PSNR, SSIM and grain — in one
place, so that the viewer's metrics table, the exported PNGs and their metadata agree.

Grain is what RMSE cannot show: whether an output is smoother than NDCT (over-smoothed, < 0 dB)
or grainier (noise left in, > 0 dB), as high-frequency noise power relative to NDCT's
(``ldct_viewer.analysis.nps``), in NDCT's flat tiles.
"""

from __future__ import annotations

import math

import numpy as np

from ldct_viewer.analysis.metrics import psnr, rmse, ssim
from ldct_viewer.analysis.nps import DEFAULT_ROI, flat_rois, high_frequency_power_ratio


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
