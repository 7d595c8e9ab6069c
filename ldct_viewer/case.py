"""A *case*: the LDCT series a reader looks at, its normal-dose reference (if any) and how they pair.

Both the viewer and the headless export work on a ``Case``; indices are always LDCT slice
indices (0-based internally; the user interfaces show them 1-based).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ldct_viewer.errors import InputError
from ldct_viewer.progress import JobProgress, StagedProgress

if TYPE_CHECKING:  # io is imported lazily at run time so this module stays cheap to import
    from ldct_viewer.io import Pairing, Series

PathLike = str | Path


@dataclass
class Case:
    """LDCT series + optional NDCT series paired slice-by-slice.

    ``pairing`` maps LDCT slice indices to NDCT slice indices (by position). When the NDCT is
    present but ``pairing`` is None, slices pair by index if both series have the same length.
    ``simulated`` records how the LDCT was made when it was simulated from the NDCT
    (e.g. ``{"dose": 0.25, "views": 720, "method": "noise-insertion"}``).
    """

    ldct: Series
    ndct: Series | None = None
    pairing: Pairing | None = None
    simulated: dict | None = None
    _ndct_for_ldct: dict[int, int] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._ndct_for_ldct = {}
        if self.ndct is None:
            return
        if self.pairing is not None:
            for i, j in zip(np.asarray(self.pairing.ldct_index), np.asarray(self.pairing.ndct_index)):
                self._ndct_for_ldct[int(i)] = int(j)
        elif len(self.ndct) == len(self.ldct):
            self._ndct_for_ldct = {i: i for i in range(len(self.ldct))}

    @property
    def n_slices(self) -> int:
        return len(self.ldct)

    @property
    def n_matched(self) -> int:
        """How many LDCT slices have an NDCT partner."""
        return len(self._ndct_for_ldct)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """(dz, dy, dx) in mm of the LDCT series."""
        dy, dx = self.ldct.pixel_spacing
        return float(self.ldct.slice_spacing), float(dy), float(dx)

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n_slices:
            raise IndexError(f"slice index {i} out of range 0..{self.n_slices - 1}")
        return i

    def ldct_slice(self, i: int) -> np.ndarray:
        """LDCT slice ``i`` as float32 HU [H, W]."""
        return self.ldct.slice(self._check(i))

    def ndct_index(self, i: int) -> int | None:
        """Index in the NDCT series paired with LDCT slice ``i``, or None."""
        return self._ndct_for_ldct.get(self._check(i))

    def ndct_slice(self, i: int) -> np.ndarray | None:
        """The NDCT slice paired with LDCT slice ``i`` (float32 HU), None when absent or unmatched."""
        j = self.ndct_index(i)
        return None if j is None else self.ndct.slice(j)

    def position_mm(self, i: int) -> float:
        """Position of LDCT slice ``i`` along the slice normal, in mm."""
        return float(self.ldct.slice_locations[self._check(i)])

    def describe(self) -> str:
        """One line for status bars and logs."""
        z, h, w = self.ldct.shape
        text = f"LDCT {z}×{h}×{w}"
        if self.simulated:
            dose, views = self.simulated.get("dose"), self.simulated.get("views")
            text += f" (simulated, dose {dose if dose is None else format(dose, 'g')}, {views} views)"
        if self.ndct is None:
            return text + ", no NDCT"
        return text + f", NDCT {len(self.ndct)} slices, {self.n_matched} paired"


def _pair(ldct, ndct):
    from ldct_viewer.io import pair_series

    return pair_series(ldct, ndct)


SIMULATION_VERSION = "sim-case/2"
#: Shares of a simulation's time: the scan (per batch of slices), writing the series, loading it back.
SIMULATION_STAGES: dict[str, float] = {"scan": 90.0, "write": 7.0, "open": 3.0}


def _simulation_key(ndct, info: dict) -> str:
    from ldct_viewer.ct.simulate import CALIBRATION

    recipe = {"version": SIMULATION_VERSION, "calibration": CALIBRATION, "shape": list(ndct.shape),
              "thickness": ndct.slice_thickness, **info}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def simulate_case(ndct, dose: float, views: int, out_dir: PathLike | None = None, *,
                  method: str = "noise-insertion", seed: int = 0, input_dose: float | None = None,
                  device: str = "auto", progress: Callable[[JobProgress], None] | None = None) -> Case:
    """Simulate an LDCT series from ``ndct`` at ``dose`` (fraction of full dose) and ``views``.

    The simulated series is written as DICOM (derived from the NDCT: same geometry, patient,
    study; new series UID) into ``out_dir``, or into the user cache keyed by the NDCT series
    UID and the parameters (reused when it exists), then loaded back through the normal loader
    so the viewer treats it like any other series. ``input_dose`` (fraction) is the dose the NDCT
    was acquired at (1.0 for a real full-dose scan: only the extra noise is inserted); None treats
    the NDCT as noise-free, like ``ldct-viewer simulate`` does by default. ``progress`` receives a
    ``JobProgress`` per batch of simulated slices and per stage (scan, writing, loading).
    """
    from ldct_viewer.ct import SimulationParams, simulate_low_dose
    from ldct_viewer.io import load_series, write_series
    from ldct_viewer.paths import cache_dir

    if not 0 < float(dose) <= 1:
        raise InputError(f"dose {dose}: must be a fraction of full dose in (0, 1]")
    if int(views) < 1:
        raise InputError(f"views {views}: must be a positive number of projections")
    info = {"dose": float(dose), "views": int(views), "method": method, "seed": int(seed),
            "input_dose": None if input_dose is None else float(input_dose), "ndct_series_uid": ndct.uid}
    if out_dir is None:
        target = cache_dir() / "simulated" / _simulation_key(ndct, info)
        if target.is_dir() and any(target.iterdir()):
            tracker = StagedProgress({"open": 1.0}, progress)
            tracker.start("open", "loading the simulated series (cached)")
            ldct = load_series(target)
            tracker.finish("simulated series ready")
            return Case(ldct=ldct, ndct=ndct, pairing=_pair(ldct, ndct), simulated=info)
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = Path(out_dir)

    tracker = StagedProgress(SIMULATION_STAGES, progress)
    tracker.start("scan", f"simulating {float(dose):.0%} dose, {int(views)} views")
    volume = ndct.volume()
    pixel_mm = float(ndct.pixel_spacing[1])
    low = simulate_low_dose(volume, pixel_mm, dose=float(dose), views=int(views), seed=int(seed),
                            method=method, device=device, input_dose=info["input_dose"],
                            params=SimulationParams(slice_thickness_mm=ndct.slice_thickness),
                            progress=lambda done: tracker.update(done, len(volume)))
    tracker.start("write", "writing the simulated series")
    description = f"Simulated LDCT {float(dose):.0%} dose {int(views)} views"
    try:
        write_series(target, np.asarray(low, dtype=np.float32), reference=ndct, description=description)
    except InputError:
        # another process may have filled the cache entry meanwhile; a user's folder is never reused
        if out_dir is not None or not (target.is_dir() and any(target.iterdir())):
            raise
    tracker.start("open", "loading the simulated series")
    ldct = load_series(target)
    tracker.finish("simulated series ready")
    return Case(ldct=ldct, ndct=ndct, pairing=_pair(ldct, ndct), simulated=info)
