"""Opening a case from the user's paths: one rule set for the viewer and the command line (no Qt).

1. A folder holding a recognised LDCT/NDCT layout (Mayo ``quarter_1mm``/``full_1mm``, TCIA
   low/full dose) pairs itself.
2. Otherwise the CT series under the paths are the candidates; localizers are set aside when
   another series is there. More than one is for ``choose`` to decide (the viewer asks in a
   dialog; the command line takes ``--series-uid`` or says which UIDs there are).
3. An NDCT the user names for the LDCT is paired by slice position; no matching slice is an error.
4. An NDCT left open from before is kept for a new LDCT only when both share a
   FrameOfReferenceUID: positions in different frames are not comparable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ldct_viewer.case import Case, PathLike
from ldct_viewer.errors import InputError

if TYPE_CHECKING:  # io is imported when opening, so this module stays cheap to import
    from ldct_viewer.io import Series

#: ``choose(candidates, role)``: one of several series for ``role`` ("ldct", "ndct"), None to cancel.
Chooser = Callable[[list["Series"], str], "Series | None"]


def _as_list(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def ct_series(paths: PathLike | Sequence[PathLike]) -> list[Series]:
    """The CT series under ``paths`` (rule 2); InputError, with a skipped file's reason, when none."""
    from ldct_viewer.io import scan

    paths = _as_list(paths)
    result = scan(paths)
    series = [s for s in result.series if str(s.modality or "CT").upper() == "CT"]
    if not series:
        names = ", ".join(str(p) for p in paths[:3])
        first = result.skipped[0] if result.skipped else None
        reason = f" ({len(result.skipped)} file(s) skipped, e.g. {first.path.name}: {first.reason})" if first else ""
        raise InputError(f"{names}: no CT series found{reason}")
    images = [s for s in series if not s.is_localizer]
    return images or series


def refuse_to_guess(candidates: list[Series], role: str) -> Series:
    """The command line's chooser: several candidates are an error naming their UIDs."""
    listed = "; ".join(f"{s.uid} ({s.label}, {len(s)} slices)" for s in candidates)
    raise InputError(f"{len(candidates)} {role.upper()} series found, choose one by UID: {listed}")


def same_frame(ldct: Series, ndct: Series) -> bool:
    """Whether slice positions of the two series can be compared (rule 4); an absent UID does not refuse."""
    a, b = getattr(ldct, "frame_of_reference_uid", ""), getattr(ndct, "frame_of_reference_uid", "")
    return not a or not b or a == b


def pair_case(ldct: Series, ndct: Series) -> Case:
    """``ldct`` with the NDCT named for it, paired by slice position (rule 3)."""
    from ldct_viewer.io import pair_series

    case = Case(ldct=ldct, ndct=ndct, pairing=pair_series(ldct, ndct))
    if case.n_matched == 0:
        raise InputError(f"{ndct.label}: no NDCT slice matches the position of an LDCT slice of {ldct.label}")
    return case


def open_ldct(paths: PathLike | Sequence[PathLike], choose: Chooser, *, series_uid: str | None = None,
              kept_ndct: Series | None = None) -> Case | None:
    """A case for the LDCT under ``paths`` (rules 1, 2 and 4); None when ``choose`` cancels.

    ``series_uid`` narrows the candidates to that LDCT series; ``kept_ndct`` is an NDCT open from before.
    """
    from ldct_viewer.io import find_pairs, pair_series

    paths = _as_list(paths)
    pairs = find_pairs(paths)
    if series_uid is not None:
        pairs = [p for p in pairs if p[0].matches(series_uid)]
    if pairs:
        chosen = pairs[0][0] if len(pairs) == 1 else choose([p[0] for p in pairs], "ldct")
        if chosen is None:
            return None
        ldct, ndct, pairing = next(p for p in pairs if p[0] is chosen)
        return Case(ldct=ldct, ndct=ndct, pairing=pairing)
    candidates = ct_series(paths)
    if series_uid is not None:
        found = ", ".join(sorted(s.selector for s in candidates))
        candidates = [s for s in candidates if s.matches(series_uid)]
        if not candidates:
            raise InputError(f"no series with UID {series_uid} in {', '.join(map(str, paths))} (found: {found})")
    ldct = candidates[0] if len(candidates) == 1 else choose(candidates, "ldct")
    if ldct is None:
        return None
    if kept_ndct is None or not same_frame(ldct, kept_ndct):
        return Case(ldct=ldct)
    return Case(ldct=ldct, ndct=kept_ndct, pairing=pair_series(ldct, kept_ndct))


def open_ndct(paths: PathLike | Sequence[PathLike], choose: Chooser) -> Series | None:
    """The NDCT series under ``paths`` (rule 2); None when ``choose`` cancels."""
    candidates = ct_series(paths)
    return candidates[0] if len(candidates) == 1 else choose(candidates, "ndct")


def open_case(ldct_paths: PathLike | Sequence[PathLike], ndct_paths: PathLike | Sequence[PathLike] | None = None,
              *, series_uid: str | None = None, choose: Chooser = refuse_to_guess) -> Case:
    """Open a case the way the viewer does when given these paths (``ldct-viewer view/export``)."""
    case = open_ldct(ldct_paths, choose, series_uid=series_uid)
    if case is None:
        raise InputError("no LDCT series chosen")
    if ndct_paths is None:
        return case
    ndct = open_ndct(ndct_paths, choose)
    if ndct is None:
        raise InputError("no NDCT series chosen")
    return pair_case(case.ldct, ndct)
