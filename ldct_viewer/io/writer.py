"""Write a float32 HU volume as a DICOM CT series, atomically, next to (not over) its source.

With a reference series the output shares its patient, study, frame of reference and slice
geometry, so any viewer overlays it on the original; UIDs for the new series and images are fresh.
Every standard attribute of the reference slice is carried over — patient, study, series,
equipment, acquisition and CT image modules, Type 2 attributes even when empty — except those
that describe the stored pixels, the instance or its encoding, which the writer replaces, and
private ones. This software is recorded in SoftwareVersions and ContributingEquipmentSequence.
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from ldct_viewer import __version__
from ldct_viewer.atomic import atomic_folder, require_new_folder
from ldct_viewer.errors import InputError
from ldct_viewer.io.series import Series

# Reference attributes not carried over: this instance's identity, the new series' identity and
# derivation, geometry written per slice, multi-frame structure, signatures and encoding.
NOT_CARRIED = frozenset({
    "SpecificCharacterSet", "ImageType", "InstanceCreationDate", "InstanceCreationTime", "InstanceCreatorUID",
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "SeriesDate",
    "SeriesTime", "ContentDate", "ContentTime", "InstanceNumber", "ImageComments", "DerivationDescription",
    "DerivationCodeSequence", "SourceImageSequence", "ImagePositionPatient", "ImageOrientationPatient",
    "SliceThickness", "IconImageSequence", "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence", "DimensionOrganizationSequence", "DimensionIndexSequence",
    "ConcatenationUID", "InConcatenationNumber", "InConcatenationTotalNumber", "ConcatenationFrameOffsetNumber",
    "SOPInstanceUIDOfConcatenationSource", "StorageMediaFileSetID", "StorageMediaFileSetUID",
    "MACParametersSequence", "DigitalSignaturesSequence", "EncryptedAttributesSequence",
    "OriginalAttributesSequence", "InstanceCoercionDateTime", "SoftwareVersions", "ContributingEquipmentSequence",
})
# Of the Image Pixel / LUT group (0028), only the window survives: the stored values change.
KEPT_FROM_GROUP_0028 = frozenset({"WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"})
# Type 2 attributes of the CT Image IOD that must be present (empty when unknown).
TYPE2_ATTRIBUTES = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                    "ReferringPhysicianName", "StudyID", "AccessionNumber", "PositionReferenceIndicator",
                    "Manufacturer", "KVP", "AcquisitionNumber", "Laterality", "PatientPosition")
PROCESSING_EQUIPMENT = ("109102", "DCM", "Processing Equipment")
UINT16_LEVELS = 65535


def write_series(
    out_dir: str | Path,
    volume_hu: np.ndarray,
    *,
    reference: Series | None,
    description: str,
    spacing: tuple[float, float, float] | None = None,
    patient_id: str | None = None,
    derived: bool = True,
) -> list[Path]:
    """Write ``volume_hu`` [Z, H, W] as one CT file per slice into the new folder ``out_dir``.

    HU are stored through Rescale Slope/Intercept: integer HU exactly (slope 1); other values
    on the finest power-of-two grid that 16 bits allow over their range (error <= slope/2, e.g.
    0.0625 HU for a 4096 HU range). The folder is written under a temporary name and renamed,
    so it either appears complete or not at all. Raises :class:`InputError` if ``out_dir``
    exists and is not empty.
    """
    out_dir = Path(out_dir)
    volume = np.asarray(volume_hu)
    if volume.ndim == 2:
        volume = volume[np.newaxis]
    if volume.ndim != 3 or volume.shape[0] == 0:
        raise ValueError(f"expected a [Z, H, W] volume, got shape {volume.shape}")
    if not np.all(np.isfinite(volume)):
        raise ValueError("volume contains NaN or infinite values")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir}: output folder exists and is not empty")

    geometry = _geometry(volume.shape, reference, spacing)
    stored, slope, intercept, signed = quantize(volume)
    series_uid = generate_uid()
    common = _common_attributes(reference, description, patient_id, derived, series_uid)

    names = []
    with atomic_folder(out_dir) as temp:
        for z in range(volume.shape[0]):
            ds = _slice_dataset(common, stored[z], z, geometry, slope, intercept, signed, reference)
            name = f"CT{z + 1:05d}.dcm"
            ds.save_as(temp / name, enforce_file_format=True)
            names.append(name)
    return [out_dir / name for name in names]


def check_output_folder(out: str | Path, inputs: Sequence[str | Path]) -> Path:
    """Refuse an output folder equal to or inside an input folder, one that exists and is not empty,
    or one that cannot be created or written (see :func:`ldct_viewer.atomic.require_new_folder`).

    Called before any work starts, so a user learns at once that nothing will be written.
    """
    target = Path(out).expanduser().resolve()
    for item in inputs:
        path = Path(item).expanduser().resolve()
        folder = path if path.is_dir() else path.parent
        if target == folder or folder in target.parents:
            raise InputError(f"{out}: refusing to write into the input folder {folder}; choose another --out")
    require_new_folder(out)
    return target


def quantize(volume: np.ndarray) -> tuple[np.ndarray, float, float, bool]:
    """Stored integers plus (slope, intercept, signed) reproducing ``volume`` as closely as 16 bits allow."""
    vmin, vmax = float(volume.min()), float(volume.max())
    if np.array_equal(volume, np.round(volume)):
        if vmin >= -32768 and vmax <= 32767:
            return volume.astype(np.int16), 1.0, 0.0, True
        if vmax - vmin <= UINT16_LEVELS:
            return (volume - vmin).astype(np.uint16), 1.0, vmin, False
    intercept = math.floor(vmin)
    slope = 2.0 ** math.ceil(math.log2(max(vmax - intercept, 1e-12) / UINT16_LEVELS))
    stored = np.clip(np.round((volume.astype(np.float64) - intercept) / slope), 0, UINT16_LEVELS)
    return stored.astype(np.uint16), slope, float(intercept), False


def _geometry(shape, reference: Series | None, spacing) -> dict:
    z, h, w = shape
    if reference is not None:
        if reference.shape != tuple(shape):
            raise ValueError(f"volume shape {tuple(shape)} does not match reference {reference.shape}")
        if spacing is not None and not np.allclose(
            spacing, (reference.slice_spacing, *reference.pixel_spacing), rtol=1e-4
        ):
            raise ValueError("spacing differs from the reference series geometry")
        return {
            "positions": reference.positions,
            "orientation": reference.orientation,
            "pixel_spacing": reference.pixel_spacing,
            "thickness": _reference_thickness(reference),
            "locations": reference.slice_locations,
        }
    if spacing is None:
        raise ValueError("spacing (dz, dy, dx) is required without a reference series")
    dz, dy, dx = (float(v) for v in spacing)
    locations = np.arange(z, dtype=np.float64) * dz
    positions = np.stack(
        [np.full(z, -(w - 1) / 2 * dx), np.full(z, -(h - 1) / 2 * dy), locations], axis=1
    )
    return {
        "positions": positions,
        "orientation": np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
        "pixel_spacing": (dy, dx),
        "thickness": dz,
        "locations": locations,
    }


def _reference_thickness(reference: Series) -> float:
    value = reference.header(0).get("SliceThickness")
    try:
        if value is not None and float(value) > 0:
            return float(value)
    except (TypeError, ValueError):
        pass
    return reference.slice_spacing


def carried_over(source: Dataset) -> Dataset:
    """The reference slice's attributes that the derived slice keeps (see the module docstring)."""
    classic = source.get("SOPClassUID") == CTImageStorage
    out = Dataset()
    for elem in source:
        tag = elem.tag
        if tag.is_private or tag.group in (0x0002, 0x7FE0, 0xFFFA, 0xFFFC, 0xFFFE) or 0x5000 <= tag.group <= 0x60FF:
            continue  # meta, pixels, signatures, padding, curves and overlays
        if elem.keyword in NOT_CARRIED or (tag.group == 0x0028 and elem.keyword not in KEPT_FROM_GROUP_0028):
            continue
        if not classic and tag.element >= 0x9000:
            continue  # enhanced multi-frame attributes have no place in a classic CT image
        out.add(elem)
    return out


def _common_attributes(reference, description, patient_id, derived, series_uid) -> Dataset:
    """What every slice gets on top of its reference slice's :func:`carried_over` attributes."""
    base = carried_over(reference.header(0)) if reference is not None else Dataset()
    ds = Dataset()
    if patient_id is not None:
        ds.PatientID = patient_id
    now = datetime.now()
    if reference is None:
        ds.PatientName = ds.get("PatientID", "ANONYMOUS")
        ds.PatientID = ds.get("PatientID", "ANONYMOUS")
        ds.StudyDate = now.strftime("%Y%m%d")
        ds.StudyTime = now.strftime("%H%M%S")
        ds.Manufacturer = "ldct-viewer"
    for keyword in ("StudyInstanceUID", "FrameOfReferenceUID"):
        if not base.get(keyword):
            setattr(ds, keyword, generate_uid())
    for keyword in TYPE2_ATTRIBUTES:
        if keyword not in base and keyword not in ds:
            setattr(ds, keyword, "")
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SeriesDate, ds.SeriesTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.ContentDate, ds.ContentTime = ds.SeriesDate, ds.SeriesTime
    ds.SOPClassUID = CTImageStorage
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 9000 + int.from_bytes(os.urandom(1), "little") % 1000
    ds.SeriesDescription = description[:64]
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"] if derived else ["ORIGINAL", "PRIMARY", "AXIAL"]
    if derived:
        ds.DerivationDescription = description[:1024]
    ours = f"ldct-viewer {__version__}"
    previous = [] if reference is None else list(_as_values(reference.header(0).get("SoftwareVersions")))
    ds.SoftwareVersions = previous + [ours] if previous else __version__
    if reference is not None:
        equipment = Dataset()
        equipment.Manufacturer = "ldct-viewer"
        equipment.SoftwareVersions = __version__
        equipment.ContributionDateTime = now.strftime("%Y%m%d%H%M%S")
        equipment.ContributionDescription = description[:1024]
        purpose = Dataset()
        purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = PROCESSING_EQUIPMENT
        equipment.PurposeOfReferenceCodeSequence = [purpose]
        earlier = list(reference.header(0).get("ContributingEquipmentSequence") or [])
        ds.ContributingEquipmentSequence = earlier + [equipment]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.RescaleType = "HU"
    return ds


def _as_values(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    return list(value)


def _slice_dataset(common, stored, z, geometry, slope, intercept, signed, reference) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    source = reference.header(z) if reference is not None else None
    if source is not None:
        ds.update(carried_over(source))
    ds.update(common)
    ds.file_meta = meta
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.InstanceNumber = z + 1
    ds.ImagePositionPatient = [_ds_number(v) for v in geometry["positions"][z]]
    ds.ImageOrientationPatient = [_ds_number(v) for v in geometry["orientation"]]
    ds.PixelSpacing = [_ds_number(v) for v in geometry["pixel_spacing"]]
    ds.SliceThickness = _ds_number(geometry["thickness"])
    if "SliceLocation" not in ds:  # the scanner's own value, where the reference slice has one
        ds.SliceLocation = _ds_number(geometry["locations"][z])
    ds.Rows, ds.Columns = stored.shape
    ds.PixelRepresentation = 1 if signed else 0
    ds.RescaleSlope = _ds_number(slope)
    ds.RescaleIntercept = _ds_number(intercept)
    if source is not None:
        if "SOPInstanceUID" in source and source.get("SOPClassUID") == CTImageStorage:
            item = Dataset()
            item.ReferencedSOPClassUID = source.SOPClassUID
            item.ReferencedSOPInstanceUID = source.SOPInstanceUID
            ds.SourceImageSequence = [item]
    ds.PixelData = np.ascontiguousarray(stored).astype(stored.dtype.newbyteorder("<")).tobytes()
    return ds


def _ds_number(value: float) -> str:
    """A Decimal String (max 16 chars) that reads back as the same float where possible."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    for digits in range(16, 5, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{value:.6g}"
