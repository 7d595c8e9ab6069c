"""Random scanners for training data: what differs between real CT systems, drawn per scan.

A network trained on one simulated scanner learns that scanner's noise texture. Each simulated
training scan therefore draws its geometry (fan or parallel beam), reconstruction kernel (the FBP
apodization, smooth Hann to sharp Ram-Lak), electronic noise, photon scale (patient size and
tube-current modulation move the noise by a factor of about 2 either way), the display pixel
spacing (the reconstruction's field of view: 0.5-1.0 mm) and, for noise-free phantoms, the slice thickness. Evaluation uses :data:`EVALUATION_SCANNER`, a flat-detector fan beam
with another source distance that training never draws, so scores on it measure generalisation
to an unseen scanner rather than recall of the training one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ldct_viewer.ct.fbp import WINDOWS
from ldct_viewer.ct.simulate import SimulationParams


@dataclass(frozen=True)
class ScannerRanges:
    """The ranges drawn from; the defaults are the training distribution."""

    geometries: tuple[str, ...] = ("fan", "parallel")
    windows: tuple[str, ...] = WINDOWS
    electronic_noise: tuple[float, float] = (0.0, 10.0)  # quanta per reading, uniform
    photon_scale: tuple[float, float] = (0.5, 2.0)  # × the calibrated fluence, log-uniform
    slice_thickness_mm: tuple[float, float] = (1.0, 5.0)  # noise-free inputs only, uniform
    pixel_spacing_mm: tuple[float, float] = (0.5, 1.0)  # display pixel spacing (reconstruction FOV), uniform

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        from ldct_viewer.errors import InputError

        if not self.geometries or set(self.geometries) - {"fan", "parallel"}:
            raise InputError(f"scanner geometries must be fan and/or parallel, not {self.geometries}")
        if not self.windows or set(self.windows) - set(WINDOWS):
            raise InputError(f"scanner kernels must be among {', '.join(WINDOWS)}")
        for name in ("electronic_noise", "photon_scale", "slice_thickness_mm", "pixel_spacing_mm"):
            lo, hi = getattr(self, name)
            if not (0 <= lo <= hi) or (name != "electronic_noise" and lo <= 0):
                raise InputError(f"scanner range {name}: need 0 < low <= high, got {lo}..{hi}")


def draw_scanner(rng: np.random.Generator, ranges: ScannerRanges = ScannerRanges(), *,
                 slice_thickness_mm: float | None = None,
                 base: SimulationParams = SimulationParams()) -> tuple[SimulationParams, dict]:
    """Simulation parameters of one random scanner and a JSON-able record of the draw.

    ``slice_thickness_mm``: the input's own thickness (a real scan's noise is tied to it), or None to
    draw one (noise-free phantoms)."""
    geometry = str(rng.choice(ranges.geometries))
    window = str(rng.choice(ranges.windows))
    electronic = float(rng.uniform(*ranges.electronic_noise))
    lo, hi = ranges.photon_scale
    scale = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    thickness = (float(rng.uniform(*ranges.slice_thickness_mm)) if slice_thickness_mm is None
                 else float(slice_thickness_mm))
    params = replace(base, geometry=geometry, window=window, electronic_noise=electronic,
                     fluence_per_mm2=base.fluence_per_mm2 * scale, slice_thickness_mm=thickness)
    return params, scanner_record(params, scale)


def draw_pixel_spacing(rng: np.random.Generator, ranges: ScannerRanges = ScannerRanges()) -> float:
    """The display pixel spacing (mm) of one patient's reconstructions: a field of view of 256-512 mm
    on a 512² grid, as routine protocols choose it per patient size and target organ."""
    return float(rng.uniform(*ranges.pixel_spacing_mm))


def scanner_record(params: SimulationParams, photon_scale: float = 1.0) -> dict:
    """What a dataset manifest records of the scanner that made a scan."""
    return {"geometry": params.geometry, "window": params.window,
            "electronic_noise": round(params.electronic_noise, 3), "photon_scale": round(photon_scale, 4),
            "slice_thickness_mm": round(params.slice_thickness_mm, 3)}


#: Kernels drawn for real NDCT inputs, whose own grain comes from a medium-smooth kernel (B30f/Br38f-like):
#: the inserted low-dose noise must share the NDCT's texture, as a real low-dose scan would.
REAL_INPUT_KERNELS = ("hann", "hamming", "cosine")

#: The scanner of the real-anatomy evaluation: a flat-detector fan beam at 541/949 mm (training draws
#: only the curved detector at 595/1085.6 mm or parallel beams), 7 quanta electronic noise, the
#: calibrated fluence, and a Hann kernel. The kernel is the one setting kept in the routine family: the
#: inserted noise must have the real NDCT's own texture class (soft-tissue kernels such as B30f/Br38f),
#: as a real low-dose scan of that patient would; a sharp kernel put +23 dB of grain over these NDCTs at
#: 25 % dose where the dose alone accounts for +6 dB (measured on the bundled pair), so the grain column
#: would measure the kernel mismatch instead of a network.
EVALUATION_SCANNER = SimulationParams(geometry="fan", detector="flat", source_isocenter_mm=541.0,
                                      source_detector_mm=949.0, window="hann", electronic_noise=7.0)
