"""Match a low-dose series with its normal-dose reference, slice by slice, by position.

Folder layouts recognised: the Mayo challenge (``quarter_1mm``/``full_1mm``,
``quarter_3mm``/``full_3mm``, file names ``*_QD_*``/``*_FD_*``) and TCIA's
LDCT-and-Projection-data ("Low Dose Images"/"Full Dose Images" series folders).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ldct_viewer.errors import InputError
from ldct_viewer.io.scanning import scan
from ldct_viewer.io.series import Series

MAYO_FOLDER = re.compile(r"^(quarter|full)_(\w+)$", re.IGNORECASE)
MAYO_FILE = re.compile(r"^(?P<before>.*?)_(?P<dose>QD|FD)_(?P<after>[^.]*)", re.IGNORECASE)
TCIA_FOLDER = re.compile(r"(low|full)[ _-]?dose[ _-]?images", re.IGNORECASE)
LOW, FULL = "ldct", "ndct"


@dataclass
class Pairing:
    """Matched slice indices (``ldct_index[k]`` pairs with ``ndct_index[k]``) and what is left over."""

    ldct_index: np.ndarray
    ndct_index: np.ndarray
    unmatched_ldct: list[int] = field(default_factory=list)
    unmatched_ndct: list[int] = field(default_factory=list)
    tolerance_mm: float = 0.0
    max_offset_mm: float = 0.0

    def __len__(self) -> int:
        return int(self.ldct_index.size)

    def summary(self) -> str:
        text = f"{len(self)} slice pairs (max offset {self.max_offset_mm:.3f} mm)"
        if self.unmatched_ldct or self.unmatched_ndct:
            text += f"; unmatched: {len(self.unmatched_ldct)} LDCT, {len(self.unmatched_ndct)} NDCT slices"
        return text


def pair_series(ldct: Series, ndct: Series, tolerance_mm: float | None = None) -> Pairing:
    """Pair slices whose positions along the LDCT slice normal agree within ``tolerance_mm``.

    Default tolerance: half the smaller slice spacing. Each slice is used at most once, closest
    pairs first. Raises :class:`InputError` when the two series are not parallel stacks or
    have different matrix sizes.
    """
    if ldct.shape[1:] != ndct.shape[1:]:
        raise InputError(
            f"cannot pair {ldct.label} ({ldct.shape[1]}x{ldct.shape[2]}) with "
            f"{ndct.label} ({ndct.shape[1]}x{ndct.shape[2]}): matrix sizes differ"
        )
    normal = np.cross(ldct.orientation[:3], ldct.orientation[3:])
    other = np.cross(ndct.orientation[:3], ndct.orientation[3:])
    if abs(float(np.dot(normal, other))) < 0.999:
        raise InputError(f"cannot pair {ldct.label} with {ndct.label}: slice orientations differ")
    if tolerance_mm is None:
        tolerance_mm = 0.5 * min(ldct.slice_spacing, ndct.slice_spacing)
    low = ldct.positions @ normal
    full = ndct.positions @ normal

    order = np.argsort(full, kind="stable")
    full_sorted = full[order]
    candidates = []  # (distance, ldct index, ndct index): each LDCT slice's nearest neighbours
    for i, z in enumerate(low):
        k = int(np.searchsorted(full_sorted, z))
        for j in (k - 1, k):
            if 0 <= j < full_sorted.size:
                distance = abs(float(full_sorted[j] - z))
                if distance <= tolerance_mm:
                    candidates.append((distance, i, int(order[j])))
    candidates.sort()
    used_low, used_full, pairs = set(), set(), []
    for distance, i, j in candidates:
        if i not in used_low and j not in used_full:
            used_low.add(i)
            used_full.add(j)
            pairs.append((i, j, distance))
    pairs.sort()
    ldct_index = np.array([p[0] for p in pairs], dtype=np.int64)
    ndct_index = np.array([p[1] for p in pairs], dtype=np.int64)
    return Pairing(
        ldct_index=ldct_index,
        ndct_index=ndct_index,
        unmatched_ldct=[i for i in range(len(ldct)) if i not in used_low],
        unmatched_ndct=[j for j in range(len(ndct)) if j not in used_full],
        tolerance_mm=float(tolerance_mm),
        max_offset_mm=max((p[2] for p in pairs), default=0.0),
    )


def dose_role(series: Series) -> tuple[str, tuple] | None:
    """``(LOW|FULL, pairing key)`` from the Mayo/TCIA layout of the series' files, else None."""
    folder = series.folder
    name = series.paths[0].name
    match = MAYO_FILE.match(name)
    if match:
        role = LOW if match["dose"].upper() == "QD" else FULL
        parent = folder.parent if MAYO_FOLDER.match(folder.name) else folder
        return role, ("mayo-file", str(parent), match["before"].upper(), match["after"].upper())
    for part in (folder, *folder.parents):
        mayo = MAYO_FOLDER.match(part.name)
        if mayo:
            role = LOW if mayo[1].lower() == "quarter" else FULL
            return role, ("mayo-folder", str(part.parent), mayo[2].lower())
        tcia = TCIA_FOLDER.search(part.name)
        if tcia:
            role = LOW if tcia[1].lower() == "low" else FULL
            return role, ("tcia", str(part.parent))
    return None


def find_pairs(paths: str | Path | Sequence[str | Path]) -> list[tuple[Series, Series, Pairing]]:
    """Every (LDCT, NDCT, Pairing) recognisable from folder and file names under ``paths``.

    When one key has several candidates (e.g. two reconstructions), each LDCT series takes the
    NDCT series it shares the most slice positions with.
    """
    result = scan(paths)
    roles: dict[tuple, dict[str, list[Series]]] = defaultdict(lambda: {LOW: [], FULL: []})
    for series in result.series:
        if series.is_localizer:
            continue
        found = dose_role(series)
        if found is not None:
            role, key = found
            roles[key][role].append(series)

    pairs = []
    for key in sorted(roles):
        low_list, full_list = roles[key][LOW], list(roles[key][FULL])
        for low in low_list:
            best = None
            for full in full_list:
                try:
                    pairing = pair_series(low, full)
                except InputError:
                    continue
                if len(pairing) and (best is None or len(pairing) > len(best[1])):
                    best = (full, pairing)
            if best is not None:
                full_list.remove(best[0])
                pairs.append((low, best[0], best[1]))
    return pairs
