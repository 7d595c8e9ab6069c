"""Low dose by image-domain noise insertion: a second, independent way to make an LDCT from a real NDCT.

Why: the training data's LDCT comes from the projection-domain simulator (:mod:`ldct_viewer.ct.simulate`:
Poisson counts on our projector, FBP). Scoring a network on LDCT made the same way partly measures how
well it learned that simulator. This method shares none of its noise model: stationary Gaussian noise
coloured in Fourier space to a parametric FBP noise power spectrum,

    NPS(f) ∝ f · exp(−f² / 2 s²)        (a ramp times a Gaussian apodization, peak at f = s, in cycles/mm)

with a magnitude from a patient-size noise model (AAPM TG-220 water-equivalent diameter D_w):

    σ_100 % = σ_ref · sqrt(t_ref / t) · exp(k · μ_w · (D_w − D_ref) / 2)

and the dose relation of a real repeat scan of the same patient, σ_added = σ_100 % · sqrt(1/dose − 1/input_dose).
``k`` is the part of the attenuation that tube-current modulation leaves uncompensated (0 = noise
independent of size, 1 = a fixed tube current). Only the view aliasing of sparse-view scans, which has
no image-domain model, is taken from the projector, noise-free: FBP(clean, views) − FBP(clean, full views).

Calibration (:data:`CALIBRATED`): ``s`` reproduces the NPS of a real Siemens Br38f abdomen (TotalSegmentator's
20 slices, 3 mm): measured in the same flat 32-px ROIs with the same detrending (``analysis.nps``), the
real NDCT's grain peaks at 0.144 cycles/mm with a power-weighted mean frequency of 0.206 cycles/mm;
this model's noise with s = 0.145 peaks at 0.144 with a mean of 0.20-0.21 (s = 0.12 / 0.18 give 0.18 / 0.24).
``σ_ref`` = 18 HU at 3 mm for a 300 mm abdomen, so 25 % dose totals 36 HU, the real quarter-dose liver SD
of about 39 HU (which includes the liver's own texture) that issue 20 reported. On a real 340 mm
abdomen slice the projection simulator inserts 37.8 HU at 25 % dose in a central 80 px square and this
model 37.9 HU: the two methods agree on the level and differ in how it is made.

``level="measured"`` replaces the patient-size model by the NDCT's own noise: σ_100 % is the slice's
robust soft-tissue noise SD (:func:`ldct_viewer.analysis.noise.noise_sd`) divided by that estimator's
reading of unit noise of this texture on the same grid. A real reduced-dose scan relates to the full-dose
scan of the same patient, scanner and kernel that way, whatever that scan's noise; the model cannot know
that a thin-slice CTA carries 2-3x the grain of a 3 mm abdomen (measured on TotalSegmentator's CTA,
resampled to 1.5 mm: 47-52 HU against the model's 20-21 HU), and there a low-dose copy at the model's
level holds less noise than the NDCT itself. The estimate includes some of the tissue's own texture
(about 1.1x the model on the 3 mm Br38f abdomen the model is calibrated on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ldct_viewer.analysis.noise import noise_sd as robust_noise_sd
from ldct_viewer.ct.noise import MU_WATER_PER_MM
from ldct_viewer.errors import InputError

BODY_THRESHOLD_HU = -500.0
PADDING_HU = -1024.0
LEVELS = ("model", "measured")


@dataclass(frozen=True)
class ImageNoiseModel:
    """Noise level and texture of the image-domain method; the defaults are the calibrated ones."""

    sd_ref_hu: float = 18.0  # noise SD at 100 % dose for the reference thickness and patient size
    thickness_ref_mm: float = 3.0
    diameter_ref_mm: float = 300.0  # water-equivalent diameter of the reference patient (adult abdomen)
    size_exponent: float = 0.5  # share of the attenuation tube-current modulation leaves uncompensated
    peak_per_mm: float = 0.145  # s: the NPS peak frequency (cycles/mm)

    def validate(self) -> None:
        if not (self.sd_ref_hu > 0 and self.thickness_ref_mm > 0 and self.diameter_ref_mm > 0
                and 0 <= self.size_exponent <= 1 and self.peak_per_mm > 0):
            raise InputError("image noise model: SD, thickness, diameter and peak frequency must be positive, "
                             "size exponent in 0..1")


CALIBRATED = ImageNoiseModel()


def water_equivalent_diameter(hu: np.ndarray, pixel_spacing_mm: float) -> float:
    """D_w in mm of one slice (AAPM TG-220): the diameter of the water disc that attenuates as much as
    the pixels above −500 HU (the patient; air and lung-free background excluded)."""
    body = hu > BODY_THRESHOLD_HU
    area = float(np.sum(np.clip(hu[body] / 1000.0 + 1.0, 0.0, None))) * pixel_spacing_mm ** 2
    return 2.0 * math.sqrt(area / math.pi)


def noise_sd(model: ImageNoiseModel, diameter_mm: float, thickness_mm: float) -> float:
    """Noise SD (HU) at 100 % dose for a patient of water-equivalent diameter ``diameter_mm``."""
    size = math.exp(model.size_exponent * MU_WATER_PER_MM * (diameter_mm - model.diameter_ref_mm) / 2.0)
    return model.sd_ref_hu * math.sqrt(model.thickness_ref_mm / thickness_mm) * size


def coloured_noise(shape: tuple[int, int], pixel_spacing_mm: float, peak_per_mm: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise whose 2-D NPS is ∝ f·exp(−f²/2s²) (float64)."""
    rows, cols = shape
    fy = np.fft.fftfreq(rows, d=pixel_spacing_mm)
    fx = np.fft.fftfreq(cols, d=pixel_spacing_mm)
    f = np.hypot(*np.meshgrid(fy, fx, indexing="ij"))
    nps = f * np.exp(-f ** 2 / (2.0 * peak_per_mm ** 2))
    gain = np.sqrt(nps / nps.mean())  # a unit-variance white field keeps unit variance
    return np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * gain).real


def measured_full_dose_sd(hu: np.ndarray, pixel_spacing_mm: float,
                          peak_per_mm: float = CALIBRATED.peak_per_mm) -> float:
    """σ_100 % (HU) of a real slice read off the slice itself (``level="measured"``); NaN when it has too
    little soft tissue to measure."""
    reading = robust_noise_sd(hu)
    unit = robust_noise_sd(40.0 + coloured_noise(hu.shape, pixel_spacing_mm, peak_per_mm, np.random.default_rng(0)))
    return reading / unit


def insert_image_noise(
    ndct_hu: np.ndarray,
    pixel_spacing_mm: float,
    *,
    dose: float,
    views: int,
    thickness_mm: float,
    seed: int = 0,
    input_dose: float = 1.0,
    model: ImageNoiseModel = CALIBRATED,
    level: str = "model",
    aliasing_params=None,
    device: str = "auto",
) -> np.ndarray:
    """``ndct_hu`` ([H, W] or [Z, H, W] HU, a real scan acquired at ``input_dose``) as scanned at ``dose``
    with ``views`` views: float32 HU, same shape. Each slice's noise level follows its own D_w; the
    realization is fixed by ``(seed, slice index)``. ``level``: "model" (the patient-size model) or
    "measured" (each slice's own noise, :func:`measured_full_dose_sd`). ``aliasing_params`` (a
    ``SimulationParams``) is the scanner whose noise-free view aliasing is added when ``views`` is below
    its full view count."""
    from ldct_viewer.ct.simulate import SimulationParams, _as_volume, check_views, simulate_low_dose

    model.validate()
    volume, squeeze = _as_volume(ndct_hu)
    if not (isinstance(pixel_spacing_mm, (int, float, np.floating)) and pixel_spacing_mm > 0):
        raise InputError(f"pixel spacing must be a positive number of mm, got {pixel_spacing_mm!r}")
    if not (0 < dose <= input_dose <= 1):
        raise InputError(f"need 0 < dose ({dose}) <= input dose ({input_dose}) <= 1")
    if not thickness_mm > 0:
        raise InputError(f"slice thickness must be positive, got {thickness_mm}")
    check_views(views)
    if level not in LEVELS:
        raise InputError(f"unknown noise level {level!r}: use {' or '.join(LEVELS)}")
    params = aliasing_params or SimulationParams(slice_thickness_mm=thickness_mm)
    out = volume.copy()
    if views < params.full_views:
        # dose == input_dose: the projection-domain insertion adds no noise, only FBP(views) − FBP(full)
        out = simulate_low_dose(volume, float(pixel_spacing_mm), dose=1.0, views=int(views), seed=seed,
                                params=params, input_dose=1.0, device=device)
    extra = math.sqrt(1.0 / dose - 1.0 / input_dose)
    for k, hu in enumerate(volume):
        if level == "measured":
            full = measured_full_dose_sd(hu, float(pixel_spacing_mm), model.peak_per_mm)
            if not math.isfinite(full):
                raise InputError(f"slice {k}: too little soft tissue (-300..300 HU) to measure its own noise")
        else:
            full = noise_sd(model, water_equivalent_diameter(hu, float(pixel_spacing_mm)), thickness_mm)
        sd = full * extra
        rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, k, 0x1D]))
        noise = coloured_noise(hu.shape, float(pixel_spacing_mm), model.peak_per_mm, rng)
        out[k] = np.where(hu < PADDING_HU, hu, out[k] + sd * noise)
    return out[0] if squeeze else out
