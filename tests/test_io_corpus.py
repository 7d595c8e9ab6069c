"""Every CT image in pydicom's test corpus (pydicom-data included) loads with exact HU."""

from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.pixels import apply_modality_lut

from ldct_viewer.io import scan


def _ct_files() -> list[str]:
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in get_testdata_files():
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            except Exception:
                continue
            if ds.get("Modality") == "CT" and "Rows" in ds:
                found.append(path)
    return found


CT_FILES = _ct_files()


def _reference_hu(path: str) -> np.ndarray:
    """HU per frame, as pydicom gives them; enhanced CT uses each frame's functional-group rescale."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
        stored = ds.pixel_array
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return apply_modality_lut(stored, ds).astype(np.float32)[np.newaxis]
    frames = []
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        groups = item if "PixelValueTransformationSequence" in item else ds.SharedFunctionalGroupsSequence[0]
        rescale = groups.PixelValueTransformationSequence[0]
        frames.append(apply_modality_lut(stored[f] if stored.ndim == 3 else stored, rescale))
    return np.asarray(frames, dtype=np.float32)


def test_corpus_has_ct_images_of_every_kind():
    names = {p.rsplit("/", 1)[-1] for p in CT_FILES}
    assert "CT_small.dcm" in names
    syntaxes = set()
    for path in CT_FILES:
        syntaxes.add(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID.name)
    assert any("JPEG 2000" in s for s in syntaxes)
    assert any("Lossless" in s and "JPEG" in s for s in syntaxes)
    assert "eCT_Supplemental.dcm" in names, "pydicom-data's enhanced CT file is expected"


@pytest.mark.parametrize("path", CT_FILES, ids=lambda p: "/".join(p.split("/")[-2:]))
def test_ct_file_hu_identical_to_apply_modality_lut(path):
    result = scan([path])
    assert not result.skipped, result.skipped
    assert len(result.series) == 1
    series = result.series[0]
    expected = _reference_hu(path)
    assert series.shape == expected.shape
    frame_of = [0] * len(series)
    for z in range(len(series)):
        src = series._sources[z]
        frame_of[z] = src.frame or 0
    expected_sorted = expected[frame_of]
    volume = series.volume()
    assert volume.dtype == np.float32
    assert np.array_equal(volume, expected_sorted)
    for z in range(len(series)):
        assert np.array_equal(series.slice(z), expected_sorted[z])


def test_enhanced_ct_positions_come_from_functional_groups():
    path = next(p for p in CT_FILES if p.endswith("eCT_Supplemental.dcm"))
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    series = scan([path]).series[0]
    expected = sorted(
        tuple(float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient)
        for item in ds.PerFrameFunctionalGroupsSequence
    )
    assert sorted(map(tuple, series.positions.tolist())) == expected
    shared = ds.SharedFunctionalGroupsSequence[0]
    assert series.pixel_spacing == tuple(float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing)
    assert np.allclose(series.orientation, [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient])


def test_slice_reads_lazily_and_caches():
    path = next(p for p in CT_FILES if p.endswith("CT_small.dcm"))
    series = scan([path]).series[0]
    first = series.slice(0)
    assert series.slice(0) is first
    assert not first.flags.writeable
