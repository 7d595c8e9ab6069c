"""Synthetic CT series written as real DICOM files, for tests and benchmarks.

Independent of ``ldct_viewer.io.writer`` on purpose: the reader is tested against files this
module writes with plain pydicom, so a bug shared by reader and writer cannot hide itself.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def phantom_volume(slices: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """A small integer-HU volume: air around a water disc with one bright insert per slice."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    vol = np.full((slices, size, size), -1000.0, dtype=np.float32)
    for z in range(slices):
        sl = vol[z]
        sl[r < size * 0.4] = 0.0
        cy, cx = rng.integers(size // 3, 2 * size // 3, size=2)
        sl[np.hypot(yy - cy, xx - cx) < size * 0.08] = 300.0 + 10 * z
    vol += np.round(rng.normal(0.0, 5.0, vol.shape)).astype(np.float32)
    return vol


def noisy_copy(ndct: np.ndarray, seed: int, sd: float = 30.0) -> np.ndarray:
    """An LDCT for ``ndct``: whole-HU Gaussian noise of ``sd`` HU added, clipped to -1024..3000, float32."""
    noise = np.round(np.random.default_rng(seed).normal(0.0, sd, ndct.shape))
    return np.clip(ndct + noise, -1024, 3000).astype(np.float32)


def ct_dataset(
    hu: np.ndarray,
    *,
    position: Sequence[float] | None,
    orientation: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    pixel_spacing: tuple[float, float] = (0.7, 0.7),
    slice_thickness: float = 1.0,
    instance_number: int = 1,
    series_uid: str,
    study_uid: str,
    frame_of_reference_uid: str,
    description: str = "synthetic",
    modality: str = "CT",
    patient_id: str = "TEST001",
    rescale_intercept: float = -1024.0,
    rescale_slope: float = 1.0,
    signed: bool = False,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> Dataset:
    """One single-frame CT image dataset whose stored values give back ``hu`` via the rescale."""
    stored = np.round((np.asarray(hu, dtype=np.float64) - rescale_intercept) / rescale_slope)
    dtype = np.int16 if signed else np.uint16
    info = np.iinfo(dtype)
    if stored.min() < info.min or stored.max() > info.max:
        raise ValueError("HU values do not fit the stored integer type with this rescale")
    stored = stored.astype(dtype)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientID = patient_id
    ds.PatientName = "Test^Phantom"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20240101", "120000", "1"
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_of_reference_uid
    ds.SeriesDescription = description
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    if position is not None:
        ds.ImagePositionPatient = [float(v) for v in position]
        ds.ImageOrientationPatient = [float(v) for v in orientation]
    ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    ds.SliceThickness = slice_thickness
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.RescaleIntercept = rescale_intercept
    ds.RescaleSlope = rescale_slope
    ds.RescaleType = "HU"
    ds.PixelData = stored.tobytes()
    return ds


def write_ct_series(
    folder: str | Path,
    volume_hu: np.ndarray,
    spacing: tuple[float, float, float] = (1.0, 0.7, 0.7),
    *,
    series_uid: str | None = None,
    study_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    origin: Sequence[float] = (-100.0, -100.0, 0.0),
    z_positions: Sequence[float] | None = None,
    orientation: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    with_positions: bool = True,
    shuffle: bool = False,
    file_ext: str = ".dcm",
    name_pattern: str = "IM{index:04d}",
    description: str = "synthetic",
    modality: str = "CT",
    patient_id: str = "TEST001",
    rescale_intercept: float = -1024.0,
    rescale_slope: float = 1.0,
    signed: bool = False,
    transfer_syntax: str = ExplicitVRLittleEndian,
    seed: int = 0,
) -> list[Path]:
    """Write ``volume_hu[z]`` as one file per slice; returns the paths in slice order.

    Slice ``z`` sits at ``origin + normal * z_positions[z]`` (default ``z * spacing[0]``).
    ``shuffle`` scrambles the instance numbers and the file names so that neither gives the
    slice order away; only the positions do.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    volume_hu = np.asarray(volume_hu)
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    frame_of_reference_uid = frame_of_reference_uid or generate_uid()
    n = volume_hu.shape[0]
    zs = [z * spacing[0] for z in range(n)] if z_positions is None else list(z_positions)
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row, col)

    order = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(order)
    paths = []
    for z in range(n):
        position = np.asarray(origin, float) + normal * zs[z] if with_positions else None
        ds = ct_dataset(
            volume_hu[z],
            position=position,
            orientation=orientation,
            pixel_spacing=(spacing[1], spacing[2]),
            slice_thickness=spacing[0],
            instance_number=order[z] + 1 if shuffle else z + 1,
            series_uid=series_uid,
            study_uid=study_uid,
            frame_of_reference_uid=frame_of_reference_uid,
            description=description,
            modality=modality,
            patient_id=patient_id,
            rescale_intercept=rescale_intercept,
            rescale_slope=rescale_slope,
            signed=signed,
            transfer_syntax=transfer_syntax,
        )
        path = folder / (name_pattern.format(index=order[z] if shuffle else z) + file_ext)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def read_stored_hu(path: str | Path) -> np.ndarray:
    """Reference HU of a single-frame file, straight from pydicom."""
    from pydicom.pixels import apply_modality_lut

    ds = pydicom.dcmread(path)
    return apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
