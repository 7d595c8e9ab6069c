"""Export comparison PNGs for a set of slices of a ``Case`` — shared by the CLI and the GUI dialog."""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from ldct_viewer import __version__
from ldct_viewer.analysis.metrics import SSIM_RADIUS
from ldct_viewer.analysis.roi import EllipseRoi, RoiStats
from ldct_viewer.errors import InputError
from ldct_viewer.display import DIFF_MODES
from ldct_viewer.export.compose import compose_panels
from ldct_viewer.methods import METHOD_LABELS, METHODS
from ldct_viewer.export.png import write_png
from ldct_viewer.orientation import PLANES
from ldct_viewer.planes import PlaneGeometry, plane_images
from ldct_viewer.windowing import parse_window


def parse_slices(text: str, n_slices: int) -> list[int]:
    """User slice selection (1-based, inclusive) -> sorted 0-based indices.

    ``"all"``, ``"12"``, ``"5:9"`` (5 to 9 inclusive), ``"5:"``/``":9"`` (open ends) and
    comma-separated combinations such as ``"1,4:6"``. ``InputError`` for anything else or out of range.
    """
    spec = str(text).strip().lower()
    if n_slices < 1:
        raise InputError("the series has no slices to export")
    if spec == "all":
        return list(range(n_slices))
    chosen: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if ":" in part:
                a, b = part.split(":", 1)
                first = int(a) if a.strip() else 1
                last = int(b) if b.strip() else n_slices
            else:
                first = last = int(part)
        except ValueError:
            raise InputError(f"slices {text!r} not understood: use all, N or A:B (1-based, inclusive)") from None
        if not (1 <= first <= last <= n_slices):
            raise InputError(f"slices {text!r}: the series has slices 1..{n_slices}; got {first}..{last}")
        chosen.update(range(first - 1, last))
    return sorted(chosen)


def slice_file_name(index: int, plane: str = "axial") -> str:
    """File name for 0-based slice ``index``: ``slice_0012.png`` for the 12th slice, ``coronal_0012.png``
    for the 12th coronal section."""
    return f"{'slice' if plane == 'axial' else plane}_{index + 1:04d}.png"


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``stem_2.png``, ``stem_3.png``... — the first that does not exist yet."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    k = 2
    while os.path.lexists(path):  # a dangling symlink holds its name too
        path = folder / f"{stem}_{k}{suffix}"
        k += 1
    return path


def _engines_by_network(engines: Mapping[str, object | None] | None) -> dict[str, object | None]:
    """Network key → engine (or None), in panel order; the bundled pair's keys, empty, when none is given."""
    if not engines:
        return {key: None for key in METHODS}
    reserved = set(engines) & {"ldct", "ndct"}
    if reserved:
        raise ValueError(f"engine keys {sorted(reserved)}: ldct and ndct are not networks")
    return dict(engines)


def checkpoint_caption(engine: object | None) -> str:
    """``"redcnn-mse.pt · 1a2b3c4d"`` for an engine's checkpoint, or ``""``."""
    checkpoint = getattr(engine, "checkpoint", None)
    if checkpoint is None:
        return ""
    name = Path(str(getattr(checkpoint, "path", "") or "")).name
    digest = str(getattr(checkpoint, "sha256", "") or "")[:8]
    return " \u00b7 ".join(p for p in (name, digest) if p)


def _provenance(case, engines: Mapping[str, object | None], i: int, window: tuple[float, float],
                diff_mode: str, diff_range: float, metrics: dict, roi: EllipseRoi | None = None,
                stats: Mapping[str, RoiStats] | None = None, geometry: PlaneGeometry | None = None,
                plane: str = "axial", labels: Mapping[str, str] | None = None) -> dict[str, str]:
    labels = labels or {key: METHOD_LABELS.get(key, key) for key in engines}
    geometry = geometry or PlaneGeometry.of(case.ldct, case.ndct)
    axis, value = geometry.coordinate(plane, i)
    text = {
        "Software": f"ldct-viewer {__version__}",
        "Description": f"LDCT | {' | '.join(labels.values())} | NDCT comparison",
        "plane": plane,
        "slice" if plane == "axial" else plane: f"{i + 1}/{geometry.count(plane)}",
        "position_mm": f"{value:.3f}",
        "position_axis": f"{axis} (DICOM patient coordinate, LPS)",
        "orientation": geometry.orientation_text(plane),
        "window": f"{window[0]:g}/{window[1]:g}",
        "diff": "none" if diff_mode == "none" else f"{diff_mode} +-{diff_range:g} HU",
        "ldct.series_uid": case.ldct.uid,
    }
    if case.ndct is not None:
        text["ndct.series_uid"] = case.ndct.uid
        if plane == "axial":
            j = case.ndct_index(i)
            text["ndct.slice"] = "unmatched" if j is None else str(j + 1)
    if case.simulated:
        text["ldct.simulated"] = json.dumps(case.simulated, sort_keys=True)
    text["networks"] = json.dumps([{"key": key, "label": labels.get(key, key)} for key in engines])
    for key, engine in engines.items():
        checkpoint = getattr(engine, "checkpoint", None)
        if checkpoint is not None:
            text[f"{key}.checkpoint_sha256"] = str(getattr(checkpoint, "sha256", ""))
            text[f"{key}.checkpoint"] = Path(str(getattr(checkpoint, "path", ""))).name
        if engine is not None and getattr(engine, "device_description", None):
            text[f"{key}.device"] = str(engine.device_description)
    if roi is not None:
        text["roi"] = json.dumps({"ellipse_px": [roi.x0, roi.y0, roi.width, roi.height],
                                  "stats": {k: asdict(v) for k, v in (stats or {}).items()}}, sort_keys=True)
    if metrics:
        text["metrics"] = json.dumps({k: {m: None if math.isnan(v) else round(float(v), 5) for m, v in d.items()}
                                      for k, d in metrics.items()}, sort_keys=True)  # NaN: not measurable
    return text


def export_comparisons(
    case,
    engines: Mapping[str, object | None] | None,
    out_dir: str | Path,
    slices: Iterable[int] | None = None,
    window: tuple[float, float] | str = "abdomen",
    diff_mode: str = "none",
    diff_range: float = 50.0,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    roi: EllipseRoi | None = None,
    labels: Mapping[str, str] | None = None,
    plane: str = "axial",
) -> list[Path]:
    """Write one comparison PNG per slice into ``out_dir`` (created if needed); return the paths.

    ``engines`` maps each network's key to an ``inference.Engine`` or None (placeholder panel), in
    panel order (any number; the bundled pair's "mse" / "wgan-gp" when None); ``labels`` titles them
    (default: the bundled pair's method labels, else the checkpoint's architecture and mode).
    ``slices`` are 0-based LDCT indices (default: all). Files are named ``slice_NNNN.png`` with
    the 1-based slice number; an existing file is never replaced — the new one gets ``_2``,
    ``_3``... appended. ``progress(done, total)`` is called after each slice; setting ``cancel``
    stops after the current slice (the files written so far are kept and returned). ``roi``
    (image pixels) is outlined on every image with its statistics (``compose_comparison``), and
    recorded with them in the PNG's text chunk ``roi``.

    Images follow the patient orientation of the screen (``planes``): anterior up, patient right on
    the left. ``plane`` "coronal" or "sagittal" writes reformats instead (``slices`` are then 0-based
    section indices, files ``coronal_NNNN.png``); every slice is denoised first (cached).
    """
    if plane not in PLANES:
        raise InputError(f"plane {plane!r}: use one of {', '.join(PLANES)}")
    if diff_mode not in DIFF_MODES:
        raise InputError(f"difference mode {diff_mode!r}: use one of {', '.join(DIFF_MODES)}")
    if not diff_range > 0:
        raise InputError(f"difference range {diff_range!r}: must be greater than 0 HU")
    wl = parse_window(window) if isinstance(window, str) else (float(window[0]), float(window[1]))
    geometry = PlaneGeometry.of(case.ldct, case.ndct)
    count = geometry.count(plane)
    indices: Sequence[int] = list(range(count)) if slices is None else [int(i) for i in slices]
    word = "slice" if plane == "axial" else f"{plane} section"
    for i in indices:
        if not 0 <= i < count:
            raise InputError(f"{word} {i + 1}: the series has {word}s 1..{count}")
    engines = _engines_by_network(engines)
    labels = {key: (labels or {}).get(key) or METHOD_LABELS.get(key) or getattr(getattr(engine, "checkpoint", None),
                                                                              "label", key)
              for key, engine in engines.items()}
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is not a folder")
    out.mkdir(parents=True, exist_ok=True)

    captions = {key: checkpoint_caption(engine) for key, engine in engines.items()}
    sim = case.simulated or {}
    if sim:
        captions["ldct"] = f"simulated {float(sim.get('dose', 0)):.0%} dose, {sim.get('views', '?')} views"
    placeholders = {key: f"{labels[key]}: no checkpoint" for key, e in engines.items() if e is None}
    if case.ndct is not None:
        placeholders["ndct"] = "NDCT: no slice at this position"

    reformat = geometry.view(plane).fixed_axis != 0
    outputs: dict[str, np.ndarray | None] = {}
    if reformat:  # a reformat needs every slice of every output: denoise the volume once (cached)
        volume = case.ldct.volume()
        outputs = {key: None if engine is None else np.asarray(engine.denoise(volume, progress=progress), np.float32)
                   for key, engine in engines.items()}
    spacing = geometry.pixel_mm(plane)
    ldct_display = geometry.orientation.display
    ndct_display = geometry.ndct_orientation.display if geometry.ndct_orientation is not None else None

    if reformat:
        sources = {"ldct": (case.ldct.volume(), ldct_display),
                   **{key: None if out is None else (out, ldct_display) for key, out in outputs.items()}}
        if case.ndct is not None and geometry.ndct_fits():
            ndct_volume = case.ndct.volume()
            sources["ndct"] = ([None if case.ndct_index(k) is None else ndct_volume[case.ndct_index(k)]
                                for k in range(case.n_slices)], ndct_display)

    written: list[Path] = []
    for done, i in enumerate(indices, start=1):
        if cancel is not None and cancel.is_set():
            break
        if not reformat:
            stored = case.ldct_slice(i)
            ndct = case.ndct_slice(i)
            sources = {"ldct": ([stored], ldct_display),
                       **{key: None if engine is None else ([np.asarray(engine.denoise(stored), np.float32)],
                                                            ldct_display) for key, engine in engines.items()},
                       "ndct": None if ndct is None else ([ndct], ndct_display)}
        images = plane_images(geometry, plane, i if reformat else 0, sources)
        reference = images.get("ndct")
        complete = reference is not None and not np.isnan(reference).any()
        if reference is not None and not complete:  # unpaired NDCT slices: black lines, no metrics
            images["ndct"] = np.nan_to_num(reference, nan=-1024.0)
        axis, value = geometry.coordinate(plane, i)
        header = f"{axis} = {value:.1f} mm   {geometry.orientation_text(plane)}"
        if plane != "axial":
            header = f"{plane.capitalize()} {i + 1} / {count}   " + header
        comp = compose_panels(
            images["ldct"], {key: images.get(key) for key in engines}, images.get("ndct"), titles=labels, window=wl,
            diff_mode=diff_mode, diff_range=diff_range, slice_number=i + 1 if plane == "axial" else None,
            n_slices=case.n_slices if plane == "axial" else None, header=header,
            captions=captions, placeholders=placeholders, roi=roi, pixel_spacing=spacing,
            with_metrics=(reference is None or complete) and min(images["ldct"].shape) > 2 * SSIM_RADIUS,
        )
        text = _provenance(case, engines, i, wl, diff_mode, diff_range, comp.metrics, roi, comp.roi_stats,
                           geometry, plane, labels)
        path = unique_path(out, slice_file_name(i, plane))
        for _attempt in range(100):  # another writer may take the name between the check and the link
            try:
                written.append(write_png(path, comp.rgb, text))
                break
            except InputError:
                if not os.path.lexists(path):
                    raise
                path = unique_path(out, slice_file_name(i, plane))
        if progress is not None:
            progress(done, len(indices))
    return written
