"""Stored pixel values to float32 HU, exactly as ``pydicom.pixels.apply_modality_lut`` gives them.

Uncompressed little-endian frames are read straight from the file with numpy (no second header
parse, no Python-level copies); everything else (JPEG, JPEG 2000, RLE, big endian, deflate) goes
through pydicom's decoders. Both paths end in :func:`stored_to_hu`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from ldct_viewer.errors import InputError
from ldct_viewer.io.discovery import NativeLayout


@dataclass(frozen=True)
class FrameSource:
    """Where one slice's pixels live and how its stored values map to HU."""

    path: Path
    frame: int | None  # index in a multi-frame file; None for a single-frame file
    frame_count: int
    native: NativeLayout | None
    header: Dataset  # the file's header, without pixel data
    rescale: Dataset  # holds this frame's Modality LUT / Rescale Slope+Intercept


def native_dtype(header: Dataset) -> np.dtype:
    bits = int(header.BitsAllocated)
    signed = int(header.get("PixelRepresentation", 0) or 0) == 1
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def read_stored(source: FrameSource) -> np.ndarray:
    """Stored values of one frame as pydicom's ``pixel_array`` would give them."""
    try:
        if source.native is not None:
            return _read_native(source)
        return _decode(source)
    except InputError:
        raise
    except Exception as err:  # decoders raise many types on bad data; the user needs file + reason
        raise InputError(f"{source.path}: cannot decode pixel data ({_reason(err)})") from err


def read_hu(source: FrameSource, out: np.ndarray | None = None) -> np.ndarray:
    """One frame in HU (float32), written into ``out`` when given."""
    stored = read_stored(source)
    try:
        return stored_to_hu(stored, source.rescale, out=out)
    except Exception as err:  # a malformed Modality LUT or rescale value in the header
        raise InputError(f"{source.path}: cannot convert to HU ({_reason(err)})") from err


def _reason(err: BaseException) -> str:
    return " ".join(str(err).split())[:200] or type(err).__name__


def decode_all_frames(path: Path) -> np.ndarray:
    """Every frame of a (compressed) multi-frame file, shape (F, H, W), decoded once."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = pydicom.dcmread(path).pixel_array
    except Exception as err:
        raise InputError(f"{path}: cannot decode pixel data ({_reason(err)})") from err
    return arr if arr.ndim == 3 else arr[np.newaxis]


def _read_native(source: FrameSource) -> np.ndarray:
    header = source.header
    rows, cols = int(header.Rows), int(header.Columns)
    dtype = native_dtype(header)
    frame = source.frame or 0
    offset = source.native.offset + frame * rows * cols * dtype.itemsize
    arr = np.fromfile(source.path, dtype=dtype, count=rows * cols, offset=offset)
    if arr.size != rows * cols:
        raise InputError(f"{source.path}: truncated pixel data (frame {frame})")
    arr = arr.reshape(rows, cols)
    bits_stored = int(header.get("BitsStored", dtype.itemsize * 8) or dtype.itemsize * 8)
    shift = dtype.itemsize * 8 - bits_stored
    if 0 < shift < dtype.itemsize * 8:
        # Same correction pydicom applies: unused high bits carry no meaning (PS3.5 8.1.1).
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    return arr


def _decode(source: FrameSource) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if source.frame is None:
            return pydicom.dcmread(source.path).pixel_array
        from pydicom.pixels import pixel_array

        return pixel_array(source.path, index=source.frame)


def stored_to_hu(stored: np.ndarray, rescale: Dataset, out: np.ndarray | None = None) -> np.ndarray:
    """HU as float32, bit-identical to ``apply_modality_lut(stored, rescale).astype(float32)``.

    When the slope is a power of two and the intercept an integer (nearly every CT), the float32
    arithmetic below rounds exactly once, like the float64 path followed by the cast, but runs
    several times faster and without a float64 temporary.
    """
    slope, intercept = _linear_rescale(rescale)
    if slope is not None and _exact_in_float32(stored, slope, intercept):
        if out is None:
            out = np.empty(stored.shape, dtype=np.float32)
        out[...] = stored
        if slope != 1.0:
            out *= np.float32(slope)
        if intercept != 0.0:
            out += np.float32(intercept)
        return out
    if slope is None and not rescale.get("ModalityLUTSequence"):
        hu = stored  # no rescale at all: pydicom returns the stored values unchanged
    else:
        hu = apply_modality_lut(stored, rescale)
    if out is None:
        return np.asarray(hu, dtype=np.float32)
    out[...] = hu
    return out


def _linear_rescale(ds: Dataset) -> tuple[float | None, float]:
    if ds.get("ModalityLUTSequence"):
        return None, 0.0
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, intercept = ds.RescaleSlope, ds.RescaleIntercept
        if slope is None or intercept is None:
            return None, 0.0
        return float(slope), float(intercept)
    return None, 0.0


def _exact_in_float32(stored: np.ndarray, slope: float, intercept: float) -> bool:
    if stored.dtype.kind not in "iu" or stored.dtype.itemsize > 2:
        return False
    mantissa, exponent = math.frexp(slope)
    power_of_two = slope > 0 and mantissa == 0.5 and -20 <= exponent <= 20
    return power_of_two and float(intercept).is_integer() and abs(intercept) < 2**24
