"""``ldct-viewer info PATH... [--json]``: what CT series are there, and what was skipped and why."""

from __future__ import annotations

import argparse
import json
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ldct_viewer.errors import InputError
from ldct_viewer.io import Series, SkippedFile, scan


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info",
        help="list the CT series under files/folders/DICOMDIRs",
        description="List every CT series found under the given files, folders (recursive) and "
        "DICOMDIRs: UID, description, slice count, matrix, spacing, HU range and issues such as "
        "gaps; then every skipped file with its reason. Exit code 2 when nothing usable is found.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DICOM file, folder or DICOMDIR")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("pydicom").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scan(args.paths)
        where = ", ".join(str(p) for p in args.paths)
        if result.files_seen == 0 and not result.skipped:
            raise InputError(f"no DICOM files found in {where}")
        skipped = list(result.skipped)
        reports = [describe(series, skipped) for series in result.series]

    readable = [r for r in reports if r["hu_min"] is not None]
    if args.json:
        document = {"series": reports, "skipped": [_skipped_dict(s) for s in skipped]}
        print(json.dumps(document, indent=2))
    else:
        print(format_text(reports, skipped))
    if not readable:
        if reports:
            raise InputError(f"no CT series with readable pixel data in {where}")
        raise InputError(f"no CT series found in {where}: {len(skipped)} file(s) skipped")
    return 0


def describe(series: Series, skipped: list[SkippedFile]) -> dict:
    """The series' facts; pixel errors become skipped files and an issue, not an exception."""
    hu_min, hu_max = _hu_range(series, skipped)
    z, rows, cols = series.shape
    return {
        "uid": series.uid,
        "selector": series.selector,
        "description": series.description,
        "modality": series.modality,
        "patient_id": series.patient_id,
        "study_uid": series.study_uid,
        "slices": z,
        "rows": rows,
        "columns": cols,
        "pixel_spacing_mm": [round(v, 6) for v in series.pixel_spacing],
        "slice_spacing_mm": round(series.slice_spacing, 6),
        "hu_min": hu_min,
        "hu_max": hu_max,
        "localizer": series.is_localizer,
        "folder": str(series.folder),
        "issues": list(series.issues),
    }


def _hu_range(series: Series, skipped: list[SkippedFile]) -> tuple[float | None, float | None]:
    def extremes(i: int):
        try:
            hu = series.slice(i)
        except InputError as err:
            return err
        return float(np.min(hu)), float(np.max(hu))

    workers = min(8, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(extremes, range(len(series))))
    failed = {}
    for i, r in enumerate(results):
        if isinstance(r, InputError) and series.paths[i] not in failed:
            failed[series.paths[i]] = str(r)
    for path, message in failed.items():
        reason = message.split(": ", 1)[1] if message.startswith(f"{path}: ") else message
        skipped.append(SkippedFile(path, reason))
    if failed:
        series.issues.append(f"{len(failed)} file(s) with unreadable pixel data (listed as skipped)")
    good = [r for r in results if not isinstance(r, InputError)]
    if not good:
        return None, None
    return min(r[0] for r in good), max(r[1] for r in good)


def _skipped_dict(skipped: SkippedFile) -> dict:
    return {"path": str(skipped.path), "reason": skipped.reason}


def format_text(reports: list[dict], skipped: list[SkippedFile]) -> str:
    lines = [f"{len(reports)} CT series, {len(skipped)} file(s) skipped"]
    for n, r in enumerate(reports, 1):
        hu = "unreadable" if r["hu_min"] is None else f"{r['hu_min']:g} .. {r['hu_max']:g}"
        kind = " (localizer)" if r["localizer"] else ""
        lines += [
            "",
            f"[{n}] {r['description'] or '(no description)'}{kind}",
            f"    SeriesInstanceUID  {r['uid']}",
        ]
        if r["selector"] != r["uid"]:
            lines.append(f"    selector           {r['selector']}  (a part of a split series: give it to --series)")
        lines += [
            f"    modality           {r['modality']}    patient {r['patient_id'] or '-'}",
            f"    slices             {r['slices']}    matrix {r['rows']}x{r['columns']}",
            f"    pixel spacing      {r['pixel_spacing_mm'][0]:g} x {r['pixel_spacing_mm'][1]:g} mm"
            f"    slice spacing {r['slice_spacing_mm']:g} mm",
            f"    HU range           {hu}",
            f"    folder             {r['folder']}",
        ]
        lines += [f"    issue: {issue}" for issue in r["issues"]]
    if skipped:
        lines += ["", "Skipped:"]
        lines += [f"    {s.path}: {s.reason}" for s in skipped]
    return "\n".join(lines)

