"""Entry points: ``scan`` everything under some paths, or ``load_series`` the one CT series there."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ldct_viewer.errors import InputError
from ldct_viewer.io.discovery import SkippedFile, Unreadable, find_files, read_image_header
from ldct_viewer.io.series import Series, group_series, slice_records


@dataclass
class ScanResult:
    """Series found (sorted by patient, study, series) and files skipped with their reasons."""

    series: list[Series] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_seen: int = 0


def scan(paths: str | Path | Sequence[str | Path]) -> ScanResult:
    """Read the headers of every file under ``paths`` and group the CT images into series.

    Raises :class:`InputError` only for a path that does not exist; every unusable file is
    listed in ``skipped`` instead.
    """
    paths = _as_paths(paths)
    files, skipped = find_files(paths)
    with warnings.catch_warnings():
        # pydicom warns about each non-conformant value it converts; skips carry the real reasons.
        warnings.simplefilter("ignore")
        return _scan_files(files, skipped)


def _scan_files(files: list[Path], skipped: list[SkippedFile]) -> ScanResult:
    records = []
    for path in files:
        try:
            image = read_image_header(path)
            records.extend(slice_records(image))
        except Unreadable as why:
            skipped.append(SkippedFile(path, str(why)))
        except Exception as err:  # malformed values surface lazily; still one file, one reason
            skipped.append(SkippedFile(path, f"unusable header: {' '.join(str(err).split())[:200]}"))
    return ScanResult(series=group_series(records), skipped=skipped, files_seen=len(files))


def load_series(path_or_paths: str | Path | Sequence[str | Path], series_uid: str | None = None) -> Series:
    """The single CT series under the given path(s), or the one ``series_uid`` selects.

    ``series_uid`` is a SeriesInstanceUID, or ``UID:ROWSxCOLUMNS`` / ``UID:N`` (``Series.selector``,
    listed by ``info``) for one part of a series split by matrix size, orientation or localizer.

    Localizers are set aside when a non-localizer series is present. Raises
    :class:`InputError` when nothing usable is found or the choice is ambiguous.
    """
    paths = _as_paths(path_or_paths)
    where = ", ".join(str(p) for p in paths)
    result = scan(paths)
    candidates = result.series
    if not candidates:
        if result.files_seen == 0:
            raise InputError(f"no DICOM files found in {where}")
        first = result.skipped[0]
        raise InputError(
            f"no CT series in {where}: {len(result.skipped)} file(s) skipped "
            f"(e.g. {first.path}: {first.reason})"
        )
    if series_uid is not None:
        candidates = [s for s in candidates if s.matches(series_uid)]
        if not candidates:
            found = ", ".join(s.selector for s in result.series)
            raise InputError(f"no series with UID {series_uid} in {where} (found: {found})")
    if len(candidates) > 1:
        images = [s for s in candidates if not s.is_localizer]
        candidates = images or candidates
    if len(candidates) > 1:
        listed = "; ".join(f"{s.selector} ({s.label}, {len(s)} slices, {s.shape[1]}x{s.shape[2]})"
                           for s in candidates)
        raise InputError(f"{len(candidates)} CT series in {where}, choose one by UID "
                         f"(UID:ROWSxCOLUMNS for a part of a split series): {listed}")
    return candidates[0]


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise InputError("no input paths given")
    return out
