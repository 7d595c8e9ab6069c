"""Acquisition geometries: where the rays of each view go, relative to an image of known pixel spacing.

Conventions shared by every module in ``ldct_viewer.ct``:

* Images are ``[..., N, N]`` arrays; pixel ``(r, c)`` sits at ``x = (c - (N-1)/2)·Δ``,
  ``y = (r - (N-1)/2)·Δ`` (mm, rows downwards), so the rotation centre is the image centre.
* A parallel ray is the line ``x·cos θ - y·sin θ = t``; a parallel sinogram is ``[..., views, bins]``
  with bin ``j`` at ``t_j = (j - (bins-1)/2)·detector_spacing_mm``. This matches scikit-image's
  ``radon`` for odd image sizes (same angles in radians instead of degrees, transposed layout).
* A fan ray is identified by the source angle β and the fan angle γ of the ray; it is the parallel ray
  ``θ = β + γ``, ``t = D·sin γ`` with D the source–isocentre distance (the source sits at
  ``-D·(sin β, cos β)``). Curved (equiangular) detectors sample γ uniformly; flat detectors sample
  ``s = SDD·tan γ`` uniformly.

Detector sampling is tied to the image: the bin pitch at the isocentre equals the pixel spacing and the
detector covers the image diagonal, so the whole square image is inside the scan field of view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ldct_viewer.errors import InputError


@dataclass(frozen=True)
class ParallelBeamGeometry:
    """Parallel-beam scan over 180° (or any given angles)."""

    angles: tuple[float, ...]  # radians
    bins: int
    detector_spacing_mm: float
    angular_weight: float  # Δθ used by filtered back-projection for each view

    @classmethod
    def for_image(cls, size: int, pixel_spacing_mm: float, views: int) -> "ParallelBeamGeometry":
        """``views`` equally spaced angles over [0, π), bins at the pixel pitch covering the diagonal."""
        _check_views(views)
        angles = tuple(float(a) for a in np.arange(views) * math.pi / views)
        return cls(angles, _bins_for_diagonal(size), float(pixel_spacing_mm), math.pi / views)

    @property
    def views(self) -> int:
        return len(self.angles)


@dataclass(frozen=True)
class FanBeamGeometry:
    """Third-generation fan-beam scan over 360°, clinical distances (Siemens SOMATOM Definition-like)."""

    views: int
    bins: int
    source_isocenter_mm: float
    source_detector_mm: float
    detector: str  # "curved" (equiangular) or "flat" (equispaced)
    fan_spacing: float  # radians between bins (curved) or mm on the detector (flat)
    pixel_spacing_mm: float

    @classmethod
    def for_image(
        cls,
        size: int,
        pixel_spacing_mm: float,
        views: int,
        *,
        source_isocenter_mm: float = 595.0,
        source_detector_mm: float = 1085.6,
        detector: str = "curved",
    ) -> "FanBeamGeometry":
        """Bin pitch at the isocentre = pixel spacing; enough bins for a fan covering the image diagonal."""
        _check_views(views)
        if detector not in ("curved", "flat"):
            raise InputError(f"unknown detector shape {detector!r}: use 'curved' or 'flat'")
        if not source_detector_mm > source_isocenter_mm > 0:
            raise InputError(
                f"fan-beam geometry needs 0 < source-isocentre ({source_isocenter_mm} mm) "
                f"< source-detector ({source_detector_mm} mm)"
            )
        half_diagonal = size * pixel_spacing_mm / math.sqrt(2.0)
        if half_diagonal >= 0.95 * source_isocenter_mm:
            raise InputError(
                f"image field of view ({size * pixel_spacing_mm:.0f} mm) does not fit inside the fan-beam "
                f"source circle (radius {source_isocenter_mm:.0f} mm); use the parallel geometry"
            )
        gamma_max = math.asin(half_diagonal / source_isocenter_mm)
        if detector == "curved":
            spacing = pixel_spacing_mm / source_isocenter_mm
            half = math.ceil(gamma_max / spacing) + 2
        else:
            spacing = pixel_spacing_mm * source_detector_mm / source_isocenter_mm
            half = math.ceil(source_detector_mm * math.tan(gamma_max) / spacing) + 2
        return cls(views, 2 * half + 1, source_isocenter_mm, source_detector_mm, detector, spacing,
                   float(pixel_spacing_mm))

    @property
    def source_angles(self) -> np.ndarray:
        return np.arange(self.views) * 2.0 * math.pi / self.views

    @property
    def fan_angles(self) -> np.ndarray:
        """γ of each detector bin (radians)."""
        offsets = np.arange(self.bins) - (self.bins - 1) / 2.0
        if self.detector == "curved":
            return offsets * self.fan_spacing
        return np.arctan(offsets * self.fan_spacing / self.source_detector_mm)

    def fan_angle_to_bin(self, gamma: np.ndarray) -> np.ndarray:
        """Fractional bin index of fan angle(s) γ."""
        if self.detector == "curved":
            pos = gamma / self.fan_spacing
        else:
            pos = self.source_detector_mm * np.tan(gamma) / self.fan_spacing
        return pos + (self.bins - 1) / 2.0

    @property
    def bin_width_at_isocenter_mm(self) -> float:
        return self.pixel_spacing_mm


def _bins_for_diagonal(size: int) -> int:
    """Odd number of bins at the pixel pitch spanning the image diagonal (plus a guard bin each side)."""
    half = math.ceil(size / math.sqrt(2.0)) + 1
    return 2 * half + 1


def _check_views(views: int) -> None:
    if int(views) != views or views < 8:
        raise InputError(f"number of views must be an integer >= 8, got {views}")
