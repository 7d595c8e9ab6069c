"""A CT series: slices sorted along the slice normal, geometry, and lazily read HU pixels.

Grouping follows ITK/Orthanc: SeriesInstanceUID, then orientation and matrix size (which splits
localizers and mixed acquisitions apart); slices are sorted by their position along the slice
normal, with InstanceNumber as the fallback when positions are missing.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ldct_viewer.errors import InputError
from ldct_viewer.io.discovery import ImageFile, Unreadable
from ldct_viewer.io.pixels import FrameSource, decode_all_frames, read_hu, stored_to_hu

IDENTITY_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SLICE_CACHE_SIZE = 64
DUPLICATE_TOLERANCE_MM = 1e-3


@dataclass
class SliceRecord:
    """One image (a single-frame file or one frame of a multi-frame file) before grouping."""

    source: FrameSource
    position: np.ndarray | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    instance_number: int | None
    slice_location: float | None
    thickness: float | None
    localizer: bool


class Series:
    """One CT series: sorted slices, geometry, UIDs and HU pixels read on demand.

    ``slice(i)`` reads one slice (cached); ``volume()`` reads all slices with a thread pool and
    keeps the result. Both return read-only float32 HU arrays: copy before modifying.
    """

    def __init__(self, slices: list[SliceRecord], issues: list[str]) -> None:
        if not slices:
            raise ValueError("a series needs at least one slice")
        first = slices[0].source.header
        self.uid: str = str(first.get("SeriesInstanceUID", "") or "")
        self.study_uid: str = str(first.get("StudyInstanceUID", "") or "")
        self.frame_of_reference_uid: str = str(first.get("FrameOfReferenceUID", "") or "")
        self.description: str = str(first.get("SeriesDescription", "") or "")
        self.modality: str = str(first.get("Modality", "") or "CT")
        self.patient_id: str = str(first.get("PatientID", "") or "")
        self.patient_name: str = str(first.get("PatientName", "") or "")
        self.issues: list[str] = list(issues)
        self.part: str | None = None  # "ROWSxCOLUMNS" or "N" when the UID is split into parts (see selector)
        self.is_localizer: bool = all(s.localizer for s in slices)
        self._rows, self._cols = int(first.Rows), int(first.Columns)
        self._index_in_uid = 1
        self._sources = [s.source for s in slices]
        self._place(slices)
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._volume: np.ndarray | None = None

    # --- geometry -------------------------------------------------------------------------
    def _place(self, slices: list[SliceRecord]) -> None:
        orientation = slices[0].orientation
        if slice_normal(orientation) is None:
            orientation = None
        have_positions = orientation is not None and all(s.position is not None for s in slices)
        self.orientation = np.asarray(orientation or IDENTITY_ORIENTATION, dtype=np.float64)
        normal = slice_normal(self.orientation)
        spacing = slices[0].pixel_spacing
        if spacing is None:
            self.issues.append("no PixelSpacing; assuming 1 mm pixels")
            spacing = (1.0, 1.0)
        self.pixel_spacing: tuple[float, float] = (float(spacing[0]), float(spacing[1]))

        if have_positions:
            locations = np.array([float(np.dot(s.position, normal)) for s in slices])
            self.positions = np.array([s.position for s in slices], dtype=np.float64)
        else:
            if len(slices) > 1:
                self.issues.append("no ImagePositionPatient; slice order from InstanceNumber")
            step = slices[0].thickness or 1.0
            if all(s.slice_location is not None for s in slices):
                locations = np.array([s.slice_location for s in slices], dtype=np.float64)
            else:
                locations = np.array(
                    [(s.instance_number if s.instance_number is not None else i) * step
                     for i, s in enumerate(slices)],
                    dtype=np.float64,
                )
            self.positions = normal[np.newaxis, :] * locations[:, np.newaxis]
        self.slice_locations = locations
        self.slice_spacing: float = _slice_spacing(locations, slices[0])
        # reconstructed thickness: sets the photons per reading when a dose is simulated from this series
        thickness = slices[0].thickness
        self.slice_thickness: float = float(thickness) if thickness and thickness > 0 else (
            float(self.slice_spacing) if self.slice_spacing > 0 else 1.0)
        self.issues.extend(_spacing_issues(locations, self.slice_spacing, [s.source for s in slices]))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self._sources), self._rows, self._cols)

    def __len__(self) -> int:
        return len(self._sources)

    def __repr__(self) -> str:
        z, h, w = self.shape
        return f"Series({self.uid!r}, {self.description!r}, {z}x{h}x{w})"

    @property
    def paths(self) -> list[Path]:
        """The file of each slice (a multi-frame file repeats)."""
        return [s.path for s in self._sources]

    @property
    def folder(self) -> Path:
        """The deepest folder holding every file of the series."""
        parents = {str(s.path.parent) for s in self._sources}
        return Path(os.path.commonpath(sorted(parents)))

    @property
    def selector(self) -> str:
        """What ``load_series(..., series_uid=...)`` accepts to pick exactly this series: the UID, or
        ``UID:ROWSxCOLUMNS`` / ``UID:N`` for a part of a UID split by matrix size, orientation or localizer."""
        return self.uid if self.part is None else f"{self.uid}:{self.part}"

    def matches(self, selector: str) -> bool:
        """True if ``selector`` (a UID, or UID:ROWSxCOLUMNS or UID:N as in :attr:`selector`) names this series."""
        uid, sep, qualifier = selector.strip().partition(":")
        if uid != self.uid:
            return False
        if not sep:
            return True
        z, rows, cols = self.shape
        return qualifier.strip().lower() in {self.part or "", f"{rows}x{cols}", str(self._index_in_uid)}

    @property
    def label(self) -> str:
        """Short human name: description, else the last part of the UID."""
        return self.description or f"series …{self.uid[-12:]}"

    # --- pixels ----------------------------------------------------------------------------
    def header(self, i: int) -> Dataset:
        """Slice ``i``'s file header (no pixel data), a copy safe to modify."""
        return copy.deepcopy(self._sources[self._index(i)].header)

    def slice(self, i: int) -> np.ndarray:
        """Slice ``i`` as float32 HU [H, W] (read-only, cached)."""
        i = self._index(i)
        with self._lock:
            if self._volume is not None:
                return self._volume[i]
            cached = self._cache.get(i)
            if cached is not None:
                self._cache.move_to_end(i)
                return cached
        hu = read_hu(self._sources[i])
        hu.flags.writeable = False
        with self._lock:
            self._cache[i] = hu
            while len(self._cache) > SLICE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return hu

    def volume(self, workers: int | None = None) -> np.ndarray:
        """All slices as float32 HU [Z, H, W] (read-only, kept after the first call)."""
        with self._lock:
            if self._volume is not None:
                return self._volume
        out = np.empty(self.shape, dtype=np.float32)
        tasks = self._read_tasks(out)
        workers = workers or min(8, 2 * (os.cpu_count() or 1))
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                task()
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ldct-io") as pool:
                for future in [pool.submit(task) for task in tasks]:
                    future.result()
        out.flags.writeable = False
        with self._lock:
            self._volume = out
            self._cache.clear()
        return out

    def _read_tasks(self, out: np.ndarray) -> list:
        """One task per slice, except compressed multi-frame files: decoded once per file."""
        tasks = []
        per_file: dict[Path, list[int]] = defaultdict(list)
        for z, source in enumerate(self._sources):
            if source.native is None and source.frame is not None:
                per_file[source.path].append(z)
            else:
                tasks.append(lambda z=z, source=source: read_hu(source, out=out[z]))
        for path, zs in per_file.items():
            def read_file(path=path, zs=zs):
                frames = decode_all_frames(path)
                try:
                    for z in zs:
                        source = self._sources[z]
                        stored_to_hu(frames[source.frame], source.rescale, out=out[z])
                except Exception as err:  # frame count or rescale values inconsistent with the data
                    raise InputError(f"{path}: cannot convert to HU ({' '.join(str(err).split())[:200]})") from err
            tasks.append(read_file)
        return tasks

    def _index(self, i: int) -> int:
        n = len(self._sources)
        if not -n <= i < n:
            raise IndexError(f"slice {i} out of range for a series of {n} slices")
        return i % n


def _slice_spacing(locations: np.ndarray, first: SliceRecord) -> float:
    diffs = np.diff(locations)
    steps = diffs[diffs > DUPLICATE_TOLERANCE_MM]
    if steps.size:
        return float(np.median(steps))
    header = first.source.header
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = header.get(keyword)
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except (TypeError, ValueError):
            pass
    return first.thickness or 1.0


def _spacing_issues(locations: np.ndarray, spacing: float, sources: list[FrameSource]) -> list[str]:
    issues = []
    diffs = np.diff(locations)
    for i in np.flatnonzero(diffs <= DUPLICATE_TOLERANCE_MM):
        a, b = sources[i], sources[i + 1]
        issues.append(
            f"duplicate position {locations[i]:.3f} mm: slices {i} and {i + 1} "
            f"({_source_name(a)}, {_source_name(b)})"
        )
    gap_mask = diffs > 1.5 * spacing
    for i in np.flatnonzero(gap_mask):
        missing = max(int(round(diffs[i] / spacing)) - 1, 1)
        issues.append(
            f"gap: about {missing} missing slice(s) between {locations[i]:.3f} mm and "
            f"{locations[i + 1]:.3f} mm (slices {i} and {i + 1})"
        )
    regular = diffs[(diffs > DUPLICATE_TOLERANCE_MM) & ~gap_mask]
    if regular.size > 1 and regular.max() - regular.min() > max(0.01 * spacing, 1e-3):
        issues.append(f"non-uniform slice spacing: {regular.min():.3f} to {regular.max():.3f} mm")
    return issues


def _source_name(source: FrameSource) -> str:
    return source.path.name if source.frame is None else f"{source.path.name} frame {source.frame}"


# --- building series from headers ------------------------------------------------------------
def slice_records(image: ImageFile) -> list[SliceRecord]:
    """Expand a file into its slices: one for classic CT, one per frame for enhanced CT."""
    ds = image.dataset
    frames = _frame_count(ds)
    localizer = "LOCALIZER" in [str(v).upper() for v in _as_list(ds.get("ImageType"))]
    records = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None or frames > 1:
        base_position = _floats(ds.get("ImagePositionPatient"), 3)
        for f in range(frames):
            orientation = _floats(_functional(ds, f, "PlaneOrientationSequence", "ImageOrientationPatient"), 6)
            position = _floats(
                _functional(ds, f, "PlanePositionSequence", "ImagePositionPatient", top_level=False), 3
            )
            spacing = _floats(_functional(ds, f, "PixelMeasuresSequence", "PixelSpacing"), 2)
            thickness = _float(_functional(ds, f, "PixelMeasuresSequence", "SliceThickness"))
            normal = slice_normal(orientation)
            if position is None and base_position is not None and normal is not None:
                step = _float(ds.get("SpacingBetweenSlices")) or thickness or 1.0
                position = tuple(np.asarray(base_position) + normal * step * f)
            rescale = _frame_rescale(ds, f)
            _check_rescale(rescale, f"frame {f + 1}: ")
            source = FrameSource(image.path, f, frames, image.native, ds, rescale)
            records.append(SliceRecord(
                source=source,
                position=None if position is None else np.asarray(position, dtype=np.float64),
                orientation=orientation,
                pixel_spacing=spacing,
                instance_number=f + 1,
                slice_location=None,
                thickness=thickness,
                localizer=localizer,
            ))
        return records
    _check_rescale(ds)
    source = FrameSource(image.path, None, 1, image.native, ds, ds)
    position = _floats(ds.get("ImagePositionPatient"), 3)
    return [SliceRecord(
        source=source,
        position=None if position is None else np.asarray(position, dtype=np.float64),
        orientation=_floats(ds.get("ImageOrientationPatient"), 6),
        pixel_spacing=_floats(ds.get("PixelSpacing"), 2),
        instance_number=_int(ds.get("InstanceNumber")),
        slice_location=_float(ds.get("SliceLocation")),
        thickness=_float(ds.get("SliceThickness")),
        localizer=localizer,
    )]


def group_series(records: Iterable[SliceRecord]) -> list[Series]:
    """Group slices into series: by UID, then orientation, then matrix size; localizers apart."""
    by_key: dict[tuple, list[SliceRecord]] = defaultdict(list)
    for record in records:
        header = record.source.header
        uid = str(header.get("SeriesInstanceUID", "") or "")
        orientation = None if record.orientation is None else tuple(np.round(record.orientation, 4))
        key = (uid, record.localizer, orientation, int(header.Rows), int(header.Columns))
        by_key[key].append(record)

    keys_per_uid: dict[str, list[tuple]] = defaultdict(list)
    for key in by_key:
        keys_per_uid[key[0]].append(key)

    series = []
    for key, group in by_key.items():
        uid, localizer, orientation, rows, cols = key
        issues = []
        siblings = keys_per_uid[uid]
        if localizer and any(not k[1] for k in siblings):
            issues.append("localizer images, split from the rest of the series")
        sizes = {(k[3], k[4]) for k in siblings if k[1] == localizer}
        if len(sizes) > 1:
            listed = ", ".join(f"{r}x{c}" for r, c in sorted(sizes))
            issues.append(f"series split: mixed matrix sizes ({listed}); this part is {rows}x{cols}")
        orientations = {k[2] for k in siblings if k[1] == localizer}
        if len(orientations) > 1:
            issues.append(f"series split: {len(orientations)} different orientations")
        series.append(Series(_sorted(group), issues))
    series.sort(key=lambda s: (s.patient_id, s.study_uid, s.uid, s.is_localizer, -len(s)))
    _name_parts(series)
    return series


def _name_parts(series: list[Series]) -> None:
    """Give each part of a split UID a qualifier: its matrix size when that is unique, else its number."""
    parts: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        parts[s.uid].append(s)
    for group in parts.values():
        sizes = [s.shape[1:] for s in group]
        for n, s in enumerate(group, 1):
            s._index_in_uid = n
            if len(group) > 1:
                size = s.shape[1:]
                s.part = f"{size[0]}x{size[1]}" if sizes.count(size) == 1 else str(n)


def _sorted(group: list[SliceRecord]) -> list[SliceRecord]:
    normal = slice_normal(group[0].orientation)
    if normal is not None and all(r.position is not None for r in group):
        return sorted(group, key=lambda r: (
            float(np.dot(r.position, normal)),
            r.instance_number if r.instance_number is not None else 0,
            str(r.source.path),
        ))
    return sorted(group, key=lambda r: (
        r.instance_number if r.instance_number is not None else float("inf"),
        str(r.source.path),
        r.source.frame or 0,
    ))


def slice_normal(orientation) -> np.ndarray | None:
    """Unit normal of an ImageOrientationPatient (row x column); None if degenerate."""
    if orientation is None:
        return None
    o = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(o[:3], o[3:])
    length = float(np.linalg.norm(normal))
    return normal / length if length > 1e-6 else None


def _frame_count(ds: Dataset) -> int:
    try:
        return max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return 1


def _functional(ds: Dataset, frame: int, sequence: str, keyword: str, top_level: bool = True):
    """An attribute from the per-frame, then the shared functional groups, then the top level."""
    for groups, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(groups)
        if items is not None and len(items) > index:
            inner = items[index].get(sequence)
            if inner is not None and len(inner) > 0 and keyword in inner[0]:
                return inner[0].get(keyword)
    return ds.get(keyword) if top_level else None


def _check_rescale(ds: Dataset, where: str = "") -> None:
    """Refuse a RescaleSlope/Intercept that is not a finite number (or a zero slope): HU would be NaN."""
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        if keyword not in ds or ds[keyword].value in (None, ""):
            continue
        try:
            value = float(ds[keyword].value)
        except (TypeError, ValueError):
            raise Unreadable(f"{where}{keyword} {ds[keyword].value!r} is not a number") from None
        if not np.isfinite(value) or (keyword == "RescaleSlope" and value == 0):
            raise Unreadable(f"{where}{keyword} {value} is not a finite{' non-zero' if keyword == 'RescaleSlope' else ''} "
                             "number")


def _frame_rescale(ds: Dataset, frame: int) -> Dataset:
    slope = _functional(ds, frame, "PixelValueTransformationSequence", "RescaleSlope")
    intercept = _functional(ds, frame, "PixelValueTransformationSequence", "RescaleIntercept")
    if slope is None or intercept is None:
        return ds
    rescale = Dataset()
    rescale.RescaleSlope = slope
    rescale.RescaleIntercept = intercept
    return rescale


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _floats(value, n: int) -> tuple[float, ...] | None:
    values = _as_list(value)
    if len(values) != n:
        return None
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return out if all(np.isfinite(out)) else None


def _float(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
