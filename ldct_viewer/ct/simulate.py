"""Low-dose CT from a normal-dose image: project, add detector noise at a dose fraction, reconstruct.

Two methods:

* ``"noise-insertion"`` (default): ``LDCT = NDCT + FBP(noisy, views) − FBP(clean, full_views)``. Only the
  noise and the view-sparsity error are added; blur and discretisation of the projector/FBP pair cancel
  in the difference, so the NDCT's own sharpness is kept (pixels below −1024 HU — padding outside the
  scan circle — are left untouched).
* ``"full"``: the reconstruction of the noisy sinogram, i.e. the input re-imaged by our scanner.

Dose and views are independent axes: ``dose`` scales the photons of the whole rotation (what a dose
report counts), spread over ``views`` views, so noise variance goes as 1/dose whatever the view
count, and fewer views add streaks (view aliasing) on top.

Calibration of the defaults (``SimulationParams``, version ``CALIBRATION``)
--------------------------------------------------------------------------------
Calibrated to real quarter-dose noise: real 3 mm quarter-dose abdominal scans (B30f) show a liver SD of
about 39 HU (measured on Mayo-challenge-like pairs when issue 20 was filed), twice the full-dose level,
since noise variance goes as 1/dose. Calibration object: a 350 × 250 mm water ellipse (lateral × AP;
~30 cm water-equivalent diameter, adult abdomen) in a 512² image of 380 mm field of view (0.742 mm
pixels), fan-beam curved detector at 595/1085.6 mm, 720 views, Hann-apodized ramp (noise texture
comparable to a B30-type kernel), input treated as noise-free. With ``fluence_per_mm2 = 2.0e8`` photons
per mm² at the isocentre per rotation, the noise in a 60 mm central ROI is 16.6 HU at 100 % and 35.5 HU
at 25 % dose for 3 mm slices (the liver's 39 HU includes its own texture), and 30.6 / 64 HU for 1 mm
slices (``slice_thickness_mm`` scales the photons per reading; checked by
``tests/test_ct_simulate.py::test_calibration_quarter_dose_abdomen``). Our 2-D model has no bowtie
filter, scatter or detector efficiency, so the fluence is an effective value fitted to the image noise,
not a physical tube output. The electronic noise σ_e = 5 quanta per reading matters below ~100
counts, i.e. laterally through large patients at low dose, where it produces photon-starvation streaks.
Texture: a real Siemens Br38f abdomen (TotalSegmentator, 0.98 mm, 3 mm) has grain of power-weighted
mean frequency 0.206 cycles/mm (peak 0.144) in its flat 32 px ROIs; on water at the same spacing our
kernels give 0.200 (Hann), 0.214 (Hamming), 0.241 (cosine), 0.314 (Shepp-Logan) and 0.340 (Ram-Lak),
so the soft-tissue family drawn for real inputs reproduces the real texture and the rest reach sharper
ones (``test_noise_texture_matches_a_real_soft_tissue_kernel``). On that real 340 mm abdomen the
inserted 25 % dose noise is 37.8 HU in a central 80 px square.
What differs between scanners (geometry, kernel, electronic noise, fluence, display pixel spacing) is
drawn at random for training by :mod:`ldct_viewer.ct.scanner_draw`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ldct_viewer.ct.fbp import WINDOWS, FanBeamFBP, ParallelFBP
from ldct_viewer.ct.geometry import FanBeamGeometry, ParallelBeamGeometry
from ldct_viewer.ct.noise import (
    MU_WATER_PER_MM,
    extra_noise_line_integrals,
    hu_to_mu,
    noisy_line_integrals,
)
from ldct_viewer.ct.projector import FanBeamProjector, ParallelProjector
from ldct_viewer.errors import InputError
from ldct_viewer.memory import available_memory

METHODS = ("noise-insertion", "full")
#: Changes whenever the default noise calibration changes: part of every cache key of simulated scans.
CALIBRATION = "2026-12-quarter-dose-3mm"
PADDING_HU = -1024.0


@dataclass(frozen=True)
class SimulationParams:
    """Scanner and noise model. Defaults: see the module docstring for the calibration."""

    geometry: str = "fan"  # "fan" or "parallel"
    detector: str = "curved"  # fan only: "curved" (equiangular) or "flat"
    source_isocenter_mm: float = 595.0
    source_detector_mm: float = 1085.6
    window: str = "hann"  # FBP apodization: ram-lak, shepp-logan, cosine, hann, hamming
    fluence_per_mm2: float = 2.0e8  # photons / mm² at the isocentre / rotation at 100 % dose
    electronic_noise: float = 5.0  # standard deviation of a reading, in detected quanta
    slice_thickness_mm: float = 1.0  # scales the photons per reading
    full_views: int = 1152  # views of the reference (clean) reconstruction in noise insertion
    mu_water_per_mm: float = MU_WATER_PER_MM
    batch_slices: int = 8

    def validate(self) -> None:
        if self.geometry not in ("fan", "parallel"):
            raise InputError(f"unknown geometry {self.geometry!r}: use 'fan' or 'parallel'")
        if self.window not in WINDOWS:
            raise InputError(f"unknown FBP window {self.window!r}: use one of {', '.join(WINDOWS)}")
        if not (self.fluence_per_mm2 > 0 and self.slice_thickness_mm > 0 and self.electronic_noise >= 0):
            raise InputError("fluence and slice thickness must be positive, electronic noise >= 0")


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise the named torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InputError(f"unknown device {device!r}: use auto, cpu or cuda[:N]") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} requested but CUDA is not available")
    return resolved


class Scanner:
    """Projector and FBP of one geometry for images of one size and pixel spacing."""

    def __init__(self, params: SimulationParams, size: int, pixel_spacing_mm: float, views: int,
                 device: torch.device):
        if params.geometry == "fan":
            geometry = FanBeamGeometry.for_image(
                size, pixel_spacing_mm, views, source_isocenter_mm=params.source_isocenter_mm,
                source_detector_mm=params.source_detector_mm, detector=params.detector,
            )
            self.project = _cached(FanBeamProjector, geometry, size, pixel_spacing_mm, device)
            self.reconstruct = _cached(FanBeamFBP, geometry, size, pixel_spacing_mm, device, params.window)
            bin_width = geometry.bin_width_at_isocenter_mm
        else:
            geometry = ParallelBeamGeometry.for_image(size, pixel_spacing_mm, views)
            self.project = _cached(ParallelProjector, geometry, size, pixel_spacing_mm, device)
            self.reconstruct = _cached(ParallelFBP, geometry, size, pixel_spacing_mm, device, params.window)
            bin_width = geometry.detector_spacing_mm
        self.geometry = geometry
        # photons per reading (one bin, one view) at 100 % dose
        self.incident_full = params.fluence_per_mm2 * bin_width * params.slice_thickness_mm / views


@functools.lru_cache(maxsize=8)
def _cached(kind, *args):
    """Projectors and FBPs hold sparse matrices costly to build: keep the recent ones."""
    return kind(*args)


def simulate_low_dose(
    ndct_hu: np.ndarray,
    pixel_spacing_mm: float,
    *,
    dose: float,
    views: int,
    seed: int = 0,
    method: str = "noise-insertion",
    device: str = "auto",
    params: SimulationParams | None = None,
    input_dose: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Simulate a scan of ``ndct_hu`` (``[Z, H, W]`` or ``[H, W]``, square slices, HU) at ``dose``
    (fraction of full dose, 0 < dose ≤ 1) with ``views`` views per rotation; float32 HU, same shape.

    ``input_dose`` (fraction): the dose the input was acquired at. ``None`` treats the input as noise-free
    (phantoms) and inserts all the noise of ``dose``; a value (1.0 for a real full-dose scan) inserts only
    the extra noise, so the total noise matches ``dose``. Deterministic for a given ``seed``; each slice
    draws from its own generator seeded by ``(seed, slice index)``. Non-square slices are padded with
    air to a square for the scan and cropped back. ``progress(done)`` is called after each batch of slices.
    """
    params = params or SimulationParams()
    params.validate()
    volume, squeeze = _as_volume(ndct_hu)
    _check_arguments(volume, pixel_spacing_mm, dose, views, method, input_dose)
    dev = resolve_device(device)
    rows, cols = volume.shape[1:]
    size = max(rows, cols)
    check_memory(size, views, params, dev.type)
    top, left = (size - rows) // 2, (size - cols) // 2
    scanner = Scanner(params, size, float(pixel_spacing_mm), int(views), dev)
    reference = Scanner(params, size, float(pixel_spacing_mm), max(int(views), params.full_views), dev)
    mu_w = params.mu_water_per_mm
    out = np.empty_like(volume)
    for start in range(0, volume.shape[0], params.batch_slices):
        # torch.tensor copies: the input may be a read-only cached Series volume
        hu = torch.tensor(volume[start:start + params.batch_slices], device=dev)
        if rows != cols:
            square = hu.new_full((hu.shape[0], size, size), PADDING_HU)
            square[:, top:top + rows, left:left + cols] = hu
            hu = square
        mu = hu_to_mu(hu, mu_w)
        clean = scanner.project(mu)
        noisy = torch.stack([
            _measure(clean[i], scanner.incident_full, dose, input_dose, params.electronic_noise,
                     _generator(seed, start + i, dev))
            for i in range(clean.shape[0])
        ])
        recon = scanner.reconstruct(noisy)
        if method == "full":
            result = (recon / mu_w - 1.0) * 1000.0
        else:
            ref = reference.reconstruct(reference.project(mu))
            result = hu + (recon - ref) * (1000.0 / mu_w)
            result = torch.where(hu < PADDING_HU, hu, result)
        result = result[:, top:top + rows, left:left + cols]
        out[start:start + hu.shape[0]] = result.to("cpu", torch.float32).numpy()
        if progress is not None:
            progress(start + hu.shape[0])
    return out[0] if squeeze else out


def _measure(line_integrals, incident_full, dose, input_dose, electronic_std, generator):
    if input_dose is None:
        return noisy_line_integrals(line_integrals, incident_full * dose, electronic_std, generator)
    return extra_noise_line_integrals(line_integrals, incident_full, dose, input_dose, electronic_std,
                                      generator)


def _generator(seed: int, index: int, device: torch.device) -> torch.Generator:
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index)]).generate_state(2, dtype=np.uint32)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(state[0]) << 32 | int(state[1]))
    return generator


def _as_volume(ndct_hu) -> tuple[np.ndarray, bool]:
    array = np.asarray(ndct_hu)
    if array.ndim not in (2, 3):
        raise InputError(f"expected an image [H, W] or a volume [Z, H, W], got shape {array.shape}")
    squeeze = array.ndim == 2
    volume = np.ascontiguousarray(array[None] if squeeze else array, dtype=np.float32)
    if min(volume.shape[1:]) < 16:
        raise InputError(f"slices must be at least 16×16 pixels, got {volume.shape[1]}×{volume.shape[2]}")
    if not np.all(np.isfinite(volume)):
        raise InputError("input image contains NaN or infinite values")
    return volume, squeeze


MAX_VIEWS = 20000  # 10x a real scanner's views per rotation
# Peak memory of a CPU simulation grows with image side x views (the Fourier-slice matrices of the
# scanner and of the reference scan): about 3.6 kB per pixel of side per view, measured on
# 128² and 256² slices with 1152 and 4608 views (0.55 to 3.7 GB).
BYTES_PER_SIDE_VIEW = 3600


def simulation_bytes(size: int, views: int, params: SimulationParams | None = None) -> int:
    """Estimated peak memory (bytes) of simulating ``size``² slices with ``views`` views."""
    params = params or SimulationParams()
    scanners = {int(views), max(int(views), params.full_views)}
    return BYTES_PER_SIDE_VIEW * int(size) * sum(scanners)


def check_views(views) -> None:
    if isinstance(views, bool) or int(views) != views or not 8 <= views <= MAX_VIEWS:
        raise InputError(f"views must be an integer from 8 to {MAX_VIEWS}, got {views}")


def check_memory(size: int, views: int, params: SimulationParams | None = None, device: str = "cpu") -> None:
    """Refuse a CPU simulation whose estimated memory exceeds what the system has available."""
    if str(device).startswith("cuda"):
        return
    need, have = simulation_bytes(size, views, params), available_memory()
    if have is not None and need > have:
        raise InputError(f"simulating {size}x{size} slices with {views} views needs about {need / 2**30:.1f} GiB "
                         f"of memory, {have / 2**30:.1f} GiB available: use fewer views")


def _check_arguments(volume, pixel_spacing_mm, dose, views, method, input_dose) -> None:
    if not (isinstance(pixel_spacing_mm, (int, float, np.floating)) and math.isfinite(pixel_spacing_mm)
            and pixel_spacing_mm > 0):
        raise InputError(f"pixel spacing must be a positive number of mm, got {pixel_spacing_mm!r}")
    if not (0 < dose <= 1):
        raise InputError(f"dose must be a fraction in (0, 1], got {dose}")
    if input_dose is not None and not (dose <= input_dose <= 1):
        raise InputError(f"input dose ({input_dose}) must lie between the target dose ({dose}) and 1")
    check_views(views)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}: use {' or '.join(METHODS)}")
