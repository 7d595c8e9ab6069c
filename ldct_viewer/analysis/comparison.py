"""The per-slice figures of an image against its NDCT slice — RMSE, PSNR, SSIM, grain and the noise
power spectra — in one place, so that the viewer's table and NPS plot, the exported PNGs and their
metadata agree.

Grain is what RMSE cannot show: whether an output is smoother than NDCT (over-smoothed, < 0 dB)
or grainier (noise left in, > 0 dB), as high-frequency noise power relative to NDCT's
(``ldct_viewer.analysis.nps``), in NDCT's flat regions: the largest squares (32, 24 or 16 px) of
which at least ``MIN_REGIONS`` disjoint ones fit on the slice (``grain_rois``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ldct_viewer.analysis.metrics import psnr, rmse, ssim
from ldct_viewer.analysis.nps import DEFAULT_ROI, Spectrum, flat_rois, high_frequency_power_ratio, noise_power_spectrum

#: Flat-region sizes tried in turn (px): the largest that yields ``MIN_REGIONS`` disjoint flat regions
#: is used. 32 px gives the finest spectrum; real abdominal slices often hold only 2-3 such squares
#: between organs (a noisier NDCT, none), while 24 or 16 px squares fit in the liver, spleen or muscle.
REGION_SIZES: tuple[int, ...] = (32, 24, 16)
MIN_REGIONS = 4
SEARCH_STRIDE = 8  # candidate regions every 8 px; the flat disjoint ones are kept (``flat_rois``)
#: A region is flat when its smoothed HU vary by at most 8 HU (``flat_rois``), or by ``NOISE_SHARE`` of
#: the slice's noise SD on a noisy NDCT: there the noise itself survives the smoothing (a 1.5 mm CTA with
#: 49 HU of noise: 12 HU in its flattest 16 px squares) and no region of any size passed 8 HU.
FLAT_MAX_STD = 8.0
NOISE_SHARE = 0.35


@dataclass(frozen=True)
class GrainRegions:
    """Where grain is measured on a slice: disjoint ``size`` px squares (``corners``: (slice, row, col))
    of the NDCT with no structure. Empty (falsy) when fewer than ``MIN_REGIONS`` were found;
    ``found`` then says how many there were at best."""

    size: int = DEFAULT_ROI
    corners: list[tuple[int, int, int]] = field(default_factory=list)
    found: int = 0

    def __len__(self) -> int:
        return len(self.corners)

    def __bool__(self) -> bool:
        return bool(self.corners)

    def __iter__(self):
        return iter(self.corners)

    def describe(self) -> str:
        """For a tooltip: "12 flat 24 px regions of NDCT", or why there is no figure."""
        if self.corners:
            return f"{len(self.corners)} flat {self.size} px regions of NDCT"
        return (f"NDCT has {self.found} flat region{'s' if self.found != 1 else ''} (not air) on this slice; "
                f"grain needs at least {MIN_REGIONS}")


def as_regions(rois) -> GrainRegions:
    """``GrainRegions`` as they are; a plain list of corners as ``DEFAULT_ROI`` squares (older callers)."""
    if isinstance(rois, GrainRegions):
        return rois
    corners = list(rois or [])
    return GrainRegions(DEFAULT_ROI, corners, len(corners))


def grain_rois(reference: np.ndarray) -> GrainRegions:
    """The reference slice's flat regions for grain: the largest of ``REGION_SIZES`` with at least
    ``MIN_REGIONS`` disjoint flat squares (``flat_rois`` with ``SEARCH_STRIDE``, flat within
    ``FLAT_MAX_STD`` HU or ``NOISE_SHARE`` of the slice's noise SD if larger); empty regions (with
    the best count found) when no size has enough, or the slice is smaller than the smallest square."""
    from ldct_viewer.analysis.noise import noise_sd

    ref = np.asarray(reference)
    noise = noise_sd(ref) if ref.ndim == 2 else float("nan")
    limit = max(FLAT_MAX_STD, NOISE_SHARE * noise) if math.isfinite(noise) else FLAT_MAX_STD
    best = 0
    for size in REGION_SIZES:
        if min(ref.shape[-2:]) < size:
            continue
        corners = flat_rois(ref, size, stride=SEARCH_STRIDE, flat_max_std=limit)
        if len(corners) >= MIN_REGIONS:
            return GrainRegions(size, corners, len(corners))
        best = max(best, len(corners))
    return GrainRegions(REGION_SIZES[0], [], best)


def slice_metrics(image: np.ndarray, reference: np.ndarray, rois=None) -> dict[str, float]:
    """RMSE (HU), PSNR (dB) and SSIM (data range 4096 HU) of ``image`` against ``reference``, and
    ``grain_db``: its high-frequency noise power relative to the reference's (0.25-0.5 cycles/px, in
    ``rois``, default ``grain_rois(reference)``), NaN when there are too few flat regions to measure
    in; ``grain_regions`` and ``grain_region_px`` say how many flat regions of what size it rests on
    (or, with NaN, how many were found: fewer than ``MIN_REGIONS``)."""
    regions = grain_rois(reference) if rois is None else as_regions(rois)
    grain = (high_frequency_power_ratio(image, reference, roi_size=regions.size, rois=regions.corners)
             if regions else math.nan)
    return {"rmse": rmse(image, reference), "psnr": psnr(image, reference), "ssim": ssim(image, reference),
            "grain_db": grain, "grain_regions": float(len(regions) if regions else regions.found),
            "grain_region_px": float(regions.size)}


def slice_spectra(images: Mapping[str, np.ndarray | None], reference: np.ndarray,
                  pixel_spacing: tuple[float, float], rois=None) -> dict[str, Spectrum]:
    """The radial NPS of each given image (pass the reference too, to see its own curve), all over
    the reference's flat regions (``rois``, default ``grain_rois(reference)``), frequencies in
    cycles/mm; {} when the reference has too few flat regions."""
    regions = grain_rois(reference) if rois is None else as_regions(rois)
    if not regions:
        return {}
    return {key: noise_power_spectrum(image, pixel_spacing, roi_size=regions.size, rois=regions.corners)
            for key, image in images.items() if image is not None}
