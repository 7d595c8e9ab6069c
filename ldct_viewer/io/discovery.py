"""Find DICOM files under user-given paths and read their headers, without touching pixels.

Every file ends up either as an :class:`ImageFile` (a readable CT image header plus where its
pixel bytes sit) or as a :class:`SkippedFile` with a one-line reason, so one bad file never
stops the good ones from loading.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    EnhancedCTImageStorage,
    MediaStorageDirectoryStorage,
    RLELossless,
)

from ldct_viewer.errors import InputError
from ldct_viewer.memory import available_memory

CT_STORAGE_CLASSES = frozenset({CTImageStorage, EnhancedCTImageStorage, "1.2.840.10008.5.1.4.1.1.2.2"})
PIXEL_DATA_TAG = 0x7FE00010
FLOAT_PIXEL_TAGS = {0x7FE00008: "Float Pixel Data", 0x7FE00009: "Double Float Pixel Data"}
# Explicit-VR element headers with a 4-byte length field (PS3.5 7.1.2).
LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM_TAG, SEQUENCE_DELIMITER_TAG = 0xFFFEE000, 0xFFFEE0DD
# Sane limits, checked on the header before any pixel is decoded: the largest CT matrix in use is
# 2048² (micro-CT 4096²); a frame of 8192² 16-bit pixels is already 128 MiB, 256 MiB in HU.
MAX_FRAME_PIXELS = 8192 * 8192
MAX_FRAMES = 65536
BITS_ALLOCATED = (8, 16, 32)
RLE_MAX_RATIO = 64  # an RLE run of 128 bytes takes 2: no RLE frame decodes to more than 64x its size


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not loaded, and why (one line, for the user)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class NativeLayout:
    """Where uncompressed little-endian pixel bytes of a file start, so they can be read directly."""

    offset: int
    length: int


@dataclass(frozen=True)
class ImageFile:
    """A readable CT image file: its header (no pixel data) and, if native, its pixel layout."""

    path: Path
    dataset: Dataset
    native: NativeLayout | None


class Unreadable(Exception):
    """Raised by :func:`read_image_header` with the reason a file is skipped."""


def find_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Candidate files under ``paths``: files as given, folders recursively, DICOMDIRs expanded.

    Hidden files and folders (names starting with ``.``) are ignored. Each file appears once.
    Only regular files are opened: a FIFO, device, socket, symlink loop or dangling symlink is
    skipped with its reason (opening a FIFO would block forever). Raises :class:`InputError` for
    a path that does not exist.
    """
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    seen: set[tuple[int, int]] = set()

    def add(path: Path) -> None:
        try:
            info = _stat_regular(path)
        except Unreadable as why:
            skipped.append(SkippedFile(path, str(why)))
            return
        key = (info.st_dev, info.st_ino)
        if key not in seen:
            seen.add(key)
            files.append(path)

    def add_or_expand(path: Path) -> None:
        if _is_dicomdir(path):
            _expand_dicomdir(path, add, skipped)
        else:
            add(path)

    for given in paths:
        path = Path(given)
        if not path.exists():
            if os.path.islink(path):
                skipped.append(SkippedFile(path, _stat_problem(path)))
                continue
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for file in _walk(path):
                add_or_expand(file)
        else:
            add_or_expand(path)
    return files, skipped


def _stat_problem(path: Path) -> str:
    try:
        _stat_regular(path)
    except Unreadable as why:
        return str(why)
    return "unusable"


def _stat_regular(path: Path) -> os.stat_result:
    """``os.stat(path)`` of a regular file, or :class:`Unreadable` saying what it is instead."""
    try:
        info = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Unreadable("symbolic link loop") from None
        if err.errno == errno.ENOENT and os.path.islink(path):
            raise Unreadable(f"dangling symbolic link (to {os.readlink(path)})") from None
        raise Unreadable(f"cannot read file: {err.strerror or err}") from None
    _require_regular(info)
    return info


def _require_regular(info: os.stat_result) -> None:
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise Unreadable(f"not a regular file ({kind})")


def open_regular(path: Path):
    """Open ``path`` for binary reading only if it is a regular file (checked on the open file, so a
    FIFO swapped in after a stat is refused instead of blocking); :class:`Unreadable` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Unreadable("symbolic link loop") from None
        raise Unreadable(f"cannot read file: {err.strerror or err}") from None
    try:
        _require_regular(os.fstat(fd))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(root) / name


def _is_dicomdir(path: Path) -> bool:
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        with open_regular(path) as fp:
            head = fp.read(512)
    except (OSError, Unreadable):
        return False
    return head[128:132] == b"DICM" and MediaStorageDirectoryStorage.encode() in head


def _expand_dicomdir(path: Path, add, skipped: list[SkippedFile]) -> None:
    """Add every file a DICOMDIR references; a broken DICOMDIR is skipped, not fatal.

    The directory records are read directly (pydicom's FileSet silently drops the records whose
    file is missing): a missing or unsafe reference is listed as skipped with its reason.
    """
    try:
        with open_regular(path) as fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records = list(pydicom.dcmread(fp).DirectoryRecordSequence)
        referenced = [file_id for record in records if (file_id := record.get("ReferencedFileID")) is not None]
    except Unreadable as why:
        skipped.append(SkippedFile(path, str(why)))
        return
    except Exception as err:  # a DICOMDIR is third-party input: any parse failure is a skip
        skipped.append(SkippedFile(path, f"unreadable DICOMDIR: {_one_line(err)}"))
        return
    for file_id in referenced:
        parts = [str(p).strip() for p in ([file_id] if isinstance(file_id, str) else file_id)]
        file = path.parent.joinpath(*parts)
        if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
            file_id_text = "\\".join(parts)
            skipped.append(SkippedFile(file, f"listed in DICOMDIR {path} with an invalid file ID {file_id_text!r}"))
        elif not os.path.lexists(file):
            skipped.append(SkippedFile(file, f"listed in DICOMDIR {path} but missing"))
        else:
            add(file)


def read_image_header(path: Path) -> ImageFile:
    """Read ``path``'s header (pixel data left on disk); raise :class:`Unreadable` with the reason."""
    try:
        with open_regular(path) as fp:
            head = fp.read(132)
            if len(head) == 0:
                raise Unreadable("empty file")
            has_preamble = head[128:132] == b"DICM"
            if not has_preamble and not _looks_like_raw_dataset(head):
                raise Unreadable("not a DICOM file")
            fp.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not has_preamble)
                native = _check_image(ds, fp, path)
    except Unreadable:
        raise
    except OSError as err:
        raise Unreadable(f"cannot read file: {err.strerror or err}") from err
    except Exception as err:  # pydicom raises many types on malformed input; all mean "skip"
        raise Unreadable(f"unreadable DICOM header: {_one_line(err)}") from err
    return ImageFile(path, ds, native)


def _looks_like_raw_dataset(head: bytes) -> bool:
    """A DICOM stream without preamble starts with a group 0002 or 0008 element."""
    if len(head) < 8:
        return False
    group_le = struct.unpack("<H", head[:2])[0]
    group_be = struct.unpack(">H", head[:2])[0]
    return group_le in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


def _check_image(ds: Dataset, fp, path: Path) -> NativeLayout | None:
    """Reject what is not a grayscale CT image with pixel data; locate native pixel bytes."""
    sop_class = str(ds.get("SOPClassUID", ""))
    modality = str(ds.get("Modality", "") or "").strip()
    if modality and modality != "CT":
        raise Unreadable(f"modality {modality}, not CT")
    if not modality and sop_class not in CT_STORAGE_CLASSES:
        raise Unreadable("no Modality and not a CT storage class")
    if "Rows" not in ds or "Columns" not in ds:
        raise Unreadable("no pixel data (no Rows/Columns)")
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if samples != 1:
        raise Unreadable(f"not a grayscale image ({samples} samples per pixel)")
    decoded_bytes = _check_dimensions(ds)

    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax == DeflatedExplicitVRLittleEndian:
        return None  # the file position no longer points into the file; decode with pydicom
    is_implicit, is_little = ds.original_encoding
    if syntax is not None:
        is_implicit, is_little = syntax.is_implicit_VR, syntax.is_little_endian
    tag, length, value_offset = _read_element_header(fp, bool(is_implicit), bool(is_little))
    if tag is None:
        raise Unreadable("no pixel data")
    if tag in FLOAT_PIXEL_TAGS:
        raise Unreadable(f"{FLOAT_PIXEL_TAGS[tag]} is not CT stored values")
    if tag != PIXEL_DATA_TAG:
        raise Unreadable("no pixel data")
    file_size = os.fstat(fp.fileno()).st_size
    if length == UNDEFINED_LENGTH:
        _check_decoder(syntax)
        _check_encapsulated(ds, fp, bool(is_little), file_size, decoded_bytes, syntax)
        return None
    if value_offset + length > file_size:
        raise Unreadable(
            f"truncated: pixel data needs {length} bytes, only {max(file_size - value_offset, 0)} present"
        )
    expected = _expected_native_length(ds)
    if expected is not None and length < expected:
        raise Unreadable(f"truncated: pixel data has {length} bytes, image needs {expected}")
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if is_little and bits in (8, 16, 32):
        return NativeLayout(value_offset, length)
    return None


def _check_dimensions(ds: Dataset) -> int:
    """Refuse declared sizes no CT has (before anything is allocated); return the decoded byte count."""
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        bits = int(ds.get("BitsAllocated", 0) or 0)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError) as err:
        raise Unreadable(f"unusable image size attributes ({_one_line(err)})") from None
    if rows < 1 or cols < 1:
        raise Unreadable(f"image size {rows}x{cols}: no pixels")
    if rows * cols > MAX_FRAME_PIXELS:
        raise Unreadable(f"image size {rows}x{cols} exceeds the limit of {MAX_FRAME_PIXELS} pixels per slice")
    if bits not in BITS_ALLOCATED:
        raise Unreadable(f"BitsAllocated {bits} is not one of {', '.join(map(str, BITS_ALLOCATED))}")
    if not 1 <= frames <= MAX_FRAMES:
        raise Unreadable(f"NumberOfFrames {frames} is outside 1..{MAX_FRAMES}")
    return rows * cols * frames * bits // 8


def _check_encapsulated(ds: Dataset, fp, is_little: bool, file_size: int, decoded_bytes: int, syntax) -> None:
    """Walk the fragment items (headers only) and refuse a frame count or size the data cannot hold."""
    endian = "<" if is_little else ">"
    fragments, data_bytes, offset_table = 0, 0, None
    while True:
        raw = fp.read(8)
        if len(raw) < 8:
            raise Unreadable("truncated: encapsulated pixel data has no sequence delimiter")
        group, elem, length = struct.unpack(endian + "HHL", raw)
        tag = group << 16 | elem
        if tag == SEQUENCE_DELIMITER_TAG:
            break
        if tag != ITEM_TAG or length == UNDEFINED_LENGTH or fp.tell() + length > file_size:
            raise Unreadable("truncated or malformed encapsulated pixel data")
        if offset_table is None:
            offset_table = length // 4
        else:
            fragments += 1
            data_bytes += length
        fp.seek(length, os.SEEK_CUR)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if fragments == 0:
        raise Unreadable("encapsulated pixel data holds no fragments")
    if frames > fragments:
        raise Unreadable(f"NumberOfFrames {frames} but the pixel data holds only {fragments} fragment(s)")
    if offset_table and offset_table != frames:
        raise Unreadable(f"NumberOfFrames {frames} but the offset table lists {offset_table} frame(s)")
    if syntax == RLELossless and decoded_bytes > RLE_MAX_RATIO * data_bytes:
        raise Unreadable(f"RLE data of {data_bytes} bytes cannot hold the declared "
                         f"{decoded_bytes} bytes ({frames} frame(s) of {ds.Rows}x{ds.Columns})")
    have = available_memory()  # a compressed multi-frame file is decoded whole
    if have is not None and decoded_bytes > have:
        raise Unreadable(f"decoding {frames} frame(s) of {ds.Rows}x{ds.Columns} needs {decoded_bytes / 2**30:.1f} GiB, "
                         f"{have / 2**30:.1f} GiB of memory available")


def _read_element_header(fp, is_implicit: bool, is_little: bool) -> tuple[int | None, int, int]:
    """Parse the element header at ``fp`` (where ``stop_before_pixels`` left it)."""
    endian = "<" if is_little else ">"
    raw = fp.read(8)
    if len(raw) < 8:
        return None, 0, 0
    group, elem = struct.unpack(endian + "HH", raw[:4])
    tag = group << 16 | elem
    if is_implicit:
        length = struct.unpack(endian + "L", raw[4:8])[0]
    elif raw[4:6] in LONG_LENGTH_VRS:
        more = fp.read(4)
        if len(more) < 4:
            return None, 0, 0
        length = struct.unpack(endian + "L", more)[0]
    else:
        length = struct.unpack(endian + "H", raw[6:8])[0]
    return tag, length, fp.tell()


def _expected_native_length(ds: Dataset) -> int | None:
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        bits = int(ds.BitsAllocated)
        pixels = int(ds.Rows) * int(ds.Columns) * frames
    except (AttributeError, TypeError, ValueError):
        return None
    return (pixels * bits + 7) // 8


def _check_decoder(syntax) -> None:
    from pydicom.pixels import get_decoder

    if syntax is None:
        raise Unreadable("compressed pixel data without a transfer syntax")
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise Unreadable(f"transfer syntax {syntax.name} has no pixel data decoder") from None
    if not decoder.is_available:
        raise Unreadable(f"transfer syntax {syntax.name} needs a decoder plugin that is not installed")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
