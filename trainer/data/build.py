"""Build a variable-dose dataset folder from NDCT series (simulated LDCT) or real LDCT/NDCT pairs.

Simulated mode: every NDCT series is scanned again by ``ldct_viewer.ct.simulate_low_dose`` under
each dose × views condition (the seed's 12 conditions by default). Paired mode: LDCT/NDCT series
recognised by ``ldct_viewer.io.find_pairs`` (Mayo or TCIA layout) are stored slice-matched as the
single condition ``real``. With ``reference_scan`` a noise-free input (phantom) is kept as
``truth`` and the NDCT target becomes its own simulated normal-dose scan, with full-dose grain and
noise independent of every LDCT condition, as two real acquisitions of one patient would be. The
folder is written under a temporary name next to ``out`` and renamed when complete, so an
interrupted build leaves nothing that looks like a dataset.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import numpy as np

from ldct_viewer.atomic import atomic_folder, require_new_folder
from ldct_viewer.ct.simulate import CALIBRATION
from ldct_viewer.errors import InputError
from trainer.data.conditions import REAL, condition_name
from trainer.data.dataset import FORMAT
from trainer.data.splits import assign_splits

DEFAULT_DOSES = (10, 25, 50, 100)
DEFAULT_VIEWS = (180, 360, 720)
#: Patient IDs written by ``ldct-train phantoms``: noise-free inputs, all noise is simulated.
PHANTOM_PREFIX = "PHANTOM-"


@dataclass(frozen=True)
class BuildOptions:
    doses: tuple[float, ...] = DEFAULT_DOSES  # percent of full dose
    views: tuple[int, ...] = DEFAULT_VIEWS
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    method: str = "noise-insertion"
    input_dose: str = "auto"  # auto | none | full
    device: str = "auto"
    # (dose percent, views) of a simulated normal-dose scan used as the NDCT target of noise-free inputs;
    # None keeps the noise-free image itself as NDCT
    reference_scan: tuple[float, int] | None = None
    # draw a random scanner (geometry, kernel, display pixel spacing; electronic noise, photon scale; slice
    # thickness of noise-free inputs) for every volume x condition; False scans everything with the calibrated
    # default scanner at the source's own pixel spacing
    randomize_scanner: bool = False
    # patient IDs forced into the validation split (the rest are split by val_fraction/test_fraction)
    val_patients: tuple[str, ...] = ()

    def conditions(self) -> list[tuple[str, float, int]]:
        return [(condition_name(d, v), d, v) for d in self.doses for v in self.views]


def build_dataset(
    inputs: Sequence[str | Path],
    out: str | Path,
    options: BuildOptions = BuildOptions(),
    *,
    paired: bool | None = None,
    log: TextIO | None = None,
) -> Path:
    """Write the dataset to ``out`` (which must not exist, or be empty) and return its path.

    ``paired``: True forces real LDCT/NDCT pairs, False forces simulation, None (default) uses
    pairs when the inputs contain any.
    """
    from ldct_viewer.io import find_pairs

    log = log if log is not None else sys.stderr
    out = Path(out)
    _check_output(out)
    _check_options(options)
    inputs = [Path(p) for p in inputs]
    if not inputs:
        raise InputError("no input folders given (--ndct DIR ...)")
    for p in inputs:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")

    pairs = find_pairs(inputs) if paired is not False else []
    if paired and not pairs:
        raise InputError(
            f"{', '.join(map(str, inputs))}: no LDCT/NDCT pairs recognised "
            "(expected e.g. quarter_1mm/full_1mm folders or *_QD_*/*_FD_* files)"
        )
    with atomic_folder(out) as temp:
        if pairs:
            manifest = _build_paired(pairs, temp, options, log)
        else:
            manifest = _build_simulated(inputs, temp, options, log)
        (temp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def _check_output(out: Path) -> None:
    require_new_folder(out)


def _check_options(options: BuildOptions) -> None:
    from ldct_viewer.ct import METHODS

    if not options.doses or not options.views:
        raise InputError("need at least one dose and one view count")
    for d in options.doses:
        if not 0 < d <= 100:
            raise InputError(f"dose {d:g} % is outside (0, 100]")
    for v in options.views:
        if v < 8:
            raise InputError(f"{v} views is too few (at least 8)")
    if len(set(options.conditions())) != len(options.conditions()):
        raise InputError("doses or views repeat")
    if options.method not in METHODS:
        raise InputError(f"unknown simulation method {options.method!r} (choose from {', '.join(METHODS)})")
    if options.input_dose not in ("auto", "none", "full"):
        raise InputError(f"--input-dose must be auto, none or full, not {options.input_dose!r}")
    if options.reference_scan is not None:
        dose, views = options.reference_scan
        if not 0 < dose <= 100 or views < 8:
            raise InputError(f"reference scan {dose:g} % / {views} views: need 0 < dose <= 100 and >= 8 views")


def _splits(groups: list[str], options: BuildOptions) -> list[str]:
    """Splits by patient; ``val_patients`` go to validation, the others are split by the fractions."""
    unknown = set(options.val_patients) - set(groups)
    if unknown:
        raise InputError(f"--val-patients: no series of patient {', '.join(sorted(unknown))}")
    rest = [g for g in groups if g not in options.val_patients]
    if options.val_patients and not rest:
        raise InputError("--val-patients leaves no patient for training")
    drawn = iter(assign_splits(rest, val_fraction=0.0 if options.val_patients else options.val_fraction,
                               test_fraction=options.test_fraction, seed=options.seed) if rest else [])
    return ["val" if g in options.val_patients else next(drawn) for g in groups]


def _input_dose(series, options: BuildOptions) -> float | None:
    """Dose the NDCT was acquired at: None (noise-free) for phantoms, 1.0 for real full-dose scans."""
    if options.input_dose == "none":
        return None
    if options.input_dose == "full":
        return 1.0
    return None if str(series.patient_id or "").startswith(PHANTOM_PREFIX) else 1.0


def _source(series) -> dict:
    from trainer.data.sources import read_provenance

    source = {
        "path": str(series.folder.resolve()),
        "series_uid": series.uid,
        "patient_id": str(series.patient_id or ""),
        "description": str(series.description or ""),
    }
    provenance = read_provenance(series.folder)
    if provenance is not None:
        if provenance.get("role") != "train":
            raise InputError(f"{series.folder}: source {provenance.get('id')!r} is for evaluation only "
                             f"({provenance.get('licence')}); it must not enter a training dataset")
        source["provenance"] = {k: provenance.get(k) for k in
                                ("id", "title", "licence", "licence_note", "package", "version", "artifact",
                                 "artifact_sha256", "member")}
    return source


def _spacing(series) -> list[float]:
    dy, dx = series.pixel_spacing
    return [float(series.slice_spacing), float(dy), float(dx)]


def _scanner(options: BuildOptions, volume_seed: int, seed: int, series, input_dose: float | None):
    """Simulation parameters for one volume x condition, and the record kept in the manifest.

    Randomized, the geometry and kernel are drawn once per volume (a patient's scans come from one
    scanner and one reconstruction; the NDCT and every LDCT share them) and the electronic noise and
    photon scale per condition. A real NDCT already has its scanner's texture, so only kernels near the
    medium-smooth ones of routine abdominal scans (REAL_INPUT_KERNELS) are drawn for it."""
    from ldct_viewer.ct import SimulationParams
    from ldct_viewer.ct.scanner_draw import REAL_INPUT_KERNELS, ScannerRanges, draw_scanner, scanner_record

    if not options.randomize_scanner:
        params = SimulationParams(slice_thickness_mm=series.slice_thickness)
        return params, scanner_record(params)
    thickness = None if input_dose is None else series.slice_thickness  # real noise is tied to its thickness
    ranges = ScannerRanges() if input_dose is None else ScannerRanges(windows=REAL_INPUT_KERNELS)
    scanner, _ = draw_scanner(np.random.default_rng([volume_seed, 0x5CA]), ranges, slice_thickness_mm=thickness)
    params, record = draw_scanner(np.random.default_rng([seed, 0x5CA]), ranges,
                                  slice_thickness_mm=scanner.slice_thickness_mm)
    params = replace(params, geometry=scanner.geometry, window=scanner.window)
    record.update(geometry=scanner.geometry, window=scanner.window)
    return params, record


def _display_spacing(options: BuildOptions, volume_seed: int, source_mm: float) -> float:
    """The pixel spacing a volume's scans are stored at: drawn per patient when randomized, else its own."""
    from ldct_viewer.ct.scanner_draw import draw_pixel_spacing

    if not options.randomize_scanner:
        return source_mm
    return round(draw_pixel_spacing(np.random.default_rng([volume_seed, 0x5AC1])), 4)


def _condition_seed(seed: int, volume: int, condition: int) -> int:
    return int(np.random.SeedSequence([seed, volume, condition]).generate_state(1)[0] & 0x7FFFFFFF)


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def _build_simulated(inputs: list[Path], temp: Path, options: BuildOptions, log: TextIO) -> dict:
    from ldct_viewer.ct import simulate_low_dose
    from ldct_viewer.io import scan
    from trainer.data.spacing import resample_in_plane

    result = scan(inputs)
    series_list = [s for s in result.series if not getattr(s, "is_localizer", False) and s.modality == "CT"]
    if not series_list:
        reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in result.skipped[:3])
        raise InputError(f"{', '.join(map(str, inputs))}: no CT series found" + (f" ({reasons})" if reasons else ""))
    conditions = options.conditions()
    groups = [str(s.patient_id or s.uid) for s in series_list]
    splits = _splits(groups, options)
    volumes = []
    t0 = time.perf_counter()
    for k, (series, split) in enumerate(zip(series_list, splits)):
        vid = f"vol{k:03d}"
        dy, dx = series.pixel_spacing
        if abs(dy - dx) > 0.01 * max(dy, dx):
            raise InputError(f"{series.folder}: non-square pixels ({dy} x {dx} mm) are not supported")
        ndct = np.array(series.volume(), dtype=np.float32)  # writable copy for torch
        input_dose = _input_dose(series, options)
        reference, target = None, ndct
        volume_seed = _condition_seed(options.seed, k, len(conditions) + 1)
        display_mm = _display_spacing(options, volume_seed, float(dx))

        def display(array: np.ndarray) -> np.ndarray:  # simulated at the native grid, stored at the drawn one
            return array if display_mm == float(dx) else resample_in_plane(array, float(dx), display_mm)
        if options.reference_scan is not None and input_dose is None:  # real scans keep their own grain
            ref_dose, ref_views = options.reference_scan
            ref_seed = _condition_seed(options.seed, k, len(conditions))
            print(f"dataset: {vid} ({k + 1}/{len(series_list)}) reference scan {ref_dose:g} % / {ref_views} "
                  f"views {time.perf_counter() - t0:.0f} s", file=log, flush=True)
            _save(temp / "truth" / f"{vid}.npy", display(ndct))
            ref_params, ref_scanner = _scanner(options, volume_seed, ref_seed, series, input_dose)
            target = simulate_low_dose(ndct, float(dx), dose=ref_dose / 100.0, views=int(ref_views), seed=ref_seed,
                                       method=options.method, device=options.device, params=ref_params)
            reference = {"dose": ref_dose / 100.0, "views": int(ref_views), "seed": ref_seed,
                         "scanner": ref_scanner | {"pixel_spacing_mm": display_mm}}
        target = display(target)
        _save(temp / "ndct" / f"{vid}.npy", target)
        entry = {
            "id": vid,
            "source": _source(series),
            "split": split,
            "slices": int(ndct.shape[0]),
            "shape": list(target.shape),
            "spacing": [float(series.slice_spacing), display_mm, display_mm],
            "source_pixel_mm": float(dx),
            "input_dose": input_dose,
            "conditions": {},
        }
        if reference is not None:
            entry["reference_scan"] = reference
            entry["truth"] = True
        for c, (name, dose, views) in enumerate(conditions):
            print(f"dataset: {vid} ({k + 1}/{len(series_list)}, {ndct.shape[0]} slices, {split}) "
                  f"{name} [{c + 1}/{len(conditions)}] {time.perf_counter() - t0:.0f} s", file=log, flush=True)
            seed = _condition_seed(options.seed, k, c)
            fraction = dose / 100.0
            params, scanner = _scanner(options, volume_seed, seed, series, input_dose)
            simulated = simulate_low_dose(ndct, float(dx), dose=fraction, views=int(views), seed=seed,
                                          method=options.method, device=options.device, params=params,
                                          input_dose=None if input_dose is None else max(input_dose, fraction))
            _save(temp / "ldct" / name / f"{vid}.npy", display(simulated))
            scanner["pixel_spacing_mm"] = display_mm
            entry["conditions"][name] = {"dose": fraction, "views": int(views), "seed": seed, "scanner": scanner}
        volumes.append(entry)
    print(f"dataset: {len(volumes)} volumes x {len(conditions)} conditions in {time.perf_counter() - t0:.0f} s",
          file=log, flush=True)
    return {
        "format": FORMAT,
        "kind": "simulated",
        "conditions": [c[0] for c in conditions],
        "normalization": None,
        "simulation": {"method": options.method, "doses_percent": list(options.doses),
                       "calibration": CALIBRATION, "randomize_scanner": options.randomize_scanner,
                       "views": list(options.views), "seed": options.seed, "input_dose": options.input_dose,
                       "reference_scan": (None if options.reference_scan is None else
                                          {"dose_percent": options.reference_scan[0],
                                           "views": options.reference_scan[1]})},
        "splits": {"seed": options.seed, "val_fraction": options.val_fraction,
                   "test_fraction": options.test_fraction, "by": "patient_id"},
        "volumes": volumes,
    }


def _build_paired(pairs, temp: Path, options: BuildOptions, log: TextIO) -> dict:
    groups = [str(ndct.patient_id or ndct.uid) for _, ndct, _ in pairs]
    splits = _splits(groups, options)
    volumes = []
    for k, ((ldct, ndct, pairing), split) in enumerate(zip(pairs, splits)):
        vid = f"vol{k:03d}"
        if len(pairing) == 0:
            print(f"dataset: skipping {ldct.folder} / {ndct.folder}: no slice positions match", file=log)
            continue
        print(f"dataset: {vid} ({k + 1}/{len(pairs)}) real pair {ldct.folder.name} / {ndct.folder.name}: "
              f"{pairing.summary()}", file=log, flush=True)
        order = np.argsort(ndct.slice_locations[pairing.ndct_index], kind="stable")
        ndct_idx, ldct_idx = pairing.ndct_index[order], pairing.ldct_index[order]
        ndct_vol = ndct.volume()[ndct_idx]
        ldct_vol = ldct.volume()[ldct_idx]
        _save(temp / "ndct" / f"{vid}.npy", ndct_vol)
        _save(temp / "ldct" / REAL / f"{vid}.npy", ldct_vol)
        volumes.append({
            "id": vid,
            "source": {"ndct": _source(ndct), "ldct": _source(ldct)},
            "split": split,
            "slices": int(ndct_vol.shape[0]),
            "shape": list(ndct_vol.shape),
            "spacing": _spacing(ndct),
            "slice_pairs": {"ndct_index": ndct_idx.tolist(), "ldct_index": ldct_idx.tolist(),
                            "max_offset_mm": float(pairing.max_offset_mm)},
            "conditions": {REAL: {"dose": None, "views": None}},
        })
    if not volumes:
        raise InputError("no LDCT/NDCT pair has matching slice positions")
    return {
        "format": FORMAT,
        "kind": "paired",
        "conditions": [REAL],
        "normalization": None,
        "splits": {"seed": options.seed, "val_fraction": options.val_fraction,
                   "test_fraction": options.test_fraction, "by": "patient_id"},
        "volumes": volumes,
    }
