"""write_series: HU and geometry survive a round trip; new UIDs; atomic; never overwrites."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_factory import phantom_volume, write_ct_series

from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series, write_series
from ldct_viewer.io.writer import quantize


@pytest.fixture
def reference(tmp_path):
    write_ct_series(tmp_path / "ref", phantom_volume(6), spacing=(1.5, 0.75, 0.6), origin=(-12.5, 30.25, -100.0),
                    shuffle=True, description="reference")
    return load_series(tmp_path / "ref")


def test_round_trip_with_reference_keeps_geometry_and_integer_hu(tmp_path, reference):
    derived = reference.volume() - 7.0
    paths = write_series(tmp_path / "out", derived, reference=reference, description="denoised (MSE)")
    assert len(paths) == 6 and all(p.parent == tmp_path / "out" for p in paths)
    back = load_series(tmp_path / "out")
    assert np.array_equal(back.volume(), derived)
    assert np.array_equal(back.positions, reference.positions)
    assert np.array_equal(back.orientation, reference.orientation)
    assert back.pixel_spacing == reference.pixel_spacing
    assert back.slice_spacing == pytest.approx(reference.slice_spacing)
    assert back.uid != reference.uid
    assert back.study_uid == reference.study_uid
    assert back.frame_of_reference_uid == reference.frame_of_reference_uid
    assert back.patient_id == reference.patient_id
    assert back.description == "denoised (MSE)"
    ds = pydicom.dcmread(paths[0])
    assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    source_uids = {reference.header(z).SOPInstanceUID for z in range(len(reference))}
    assert ds.SOPInstanceUID not in source_uids
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == reference.header(0).SOPInstanceUID
    assert len({pydicom.dcmread(p).SOPInstanceUID for p in paths}) == 6


def test_fractional_hu_are_quantized_finely(tmp_path, reference):
    rng = np.random.default_rng(1)
    derived = (reference.volume() + rng.normal(0, 3, reference.shape)).astype(np.float32)
    write_series(tmp_path / "out", derived, reference=reference, description="float")
    back = load_series(tmp_path / "out").volume()
    span = float(derived.max() - derived.min())
    slope = 2.0 ** np.ceil(np.log2((span + 1) / 65535))
    assert np.max(np.abs(back - derived)) <= slope / 2 + 1e-4
    assert slope <= 2.0 ** -3


def test_quantize_is_exact_on_its_own_grid():
    values = (np.arange(-32000, 32000, dtype=np.float64) * 0.125).astype(np.float32).reshape(1, 80, 800)
    stored, slope, intercept, signed = quantize(values)
    assert slope == 0.125 and not signed
    assert np.array_equal((stored * slope + intercept).astype(np.float32), values)
    ints = np.array([[[-1024, 0, 3071]]], dtype=np.float32)
    stored, slope, intercept, signed = quantize(ints)
    assert (slope, intercept, signed) == (1.0, 0.0, True) and stored.dtype == np.int16


def test_without_reference_writes_a_fresh_series(tmp_path):
    volume = phantom_volume(4, size=16)
    write_series(tmp_path / "phantom", volume, reference=None, description="phantom", spacing=(2.0, 0.5, 0.25),
                 patient_id="PHANTOM", derived=False)
    back = load_series(tmp_path / "phantom")
    assert np.array_equal(back.volume(), volume)
    assert back.pixel_spacing == (0.5, 0.25) and back.slice_spacing == pytest.approx(2.0)
    assert np.allclose(back.orientation, [1, 0, 0, 0, 1, 0])
    assert back.patient_id == "PHANTOM"
    assert list(back.header(0).ImageType)[:2] == ["ORIGINAL", "PRIMARY"]
    with pytest.raises(ValueError, match="spacing"):
        write_series(tmp_path / "again", volume, reference=None, description="x")


def test_refuses_non_empty_output_and_leaves_no_partial_folder(tmp_path, reference):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        write_series(out, reference.volume(), reference=reference, description="x")
    assert [p.name for p in out.iterdir()] == ["mine.txt"]

    empty = tmp_path / "empty"
    empty.mkdir()
    write_series(empty, reference.volume(), reference=reference, description="x")
    assert len(list(empty.iterdir())) == 6

    with pytest.raises(ValueError):
        write_series(tmp_path / "bad", np.full(reference.shape, np.nan, np.float32), reference=reference,
                     description="x")
    with pytest.raises(ValueError, match="does not match"):
        write_series(tmp_path / "bad", reference.volume()[:3], reference=reference, description="x")
    assert not (tmp_path / "bad").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_failure_while_writing_removes_the_temporary_folder(tmp_path, reference, monkeypatch):
    import ldct_viewer.io.writer as writer

    calls = {"n": 0}
    original = writer._slice_dataset

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(writer, "_slice_dataset", failing)
    with pytest.raises(OSError, match="disk full"):
        write_series(tmp_path / "out", reference.volume(), reference=reference, description="x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref"]


# Deliberately changed in a derived series (new identity, derivation, geometry/pixel encoding rewritten).
CHANGED = {"SpecificCharacterSet", "ImageType", "InstanceCreationDate", "InstanceCreationTime", "InstanceCreatorUID",
           "SOPInstanceUID", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "SeriesDate", "SeriesTime",
           "ContentDate", "ContentTime", "ImageComments", "SoftwareVersions", "SliceThickness"}


def _ct_small_folder(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    folder = tmp_path / "ct_small"
    folder.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), folder / "CT_small.dcm")
    return folder


def test_derived_series_keeps_every_patient_study_series_equipment_attribute(tmp_path):
    """pydicom's CT_small.dcm: its Type 2 attributes (empty PatientBirthDate, ReferringPhysicianName,
    AccessionNumber, Laterality) and every standard non-pixel attribute survive, except the ones a new
    derived series must change."""
    folder = _ct_small_folder(tmp_path)
    reference = load_series(folder)
    (path,) = write_series(tmp_path / "out", reference.volume(), reference=reference, description="denoised")
    source = pydicom.dcmread(folder / "CT_small.dcm")
    out = pydicom.dcmread(path)
    kept = [e for e in source if not e.tag.is_private and e.tag.group not in (0x0028, 0x7FE0, 0xFFFC)
            and e.keyword not in CHANGED]
    assert len(kept) > 40
    lost = [e.keyword for e in kept if e.tag not in out]
    differ = [e.keyword for e in kept if e.tag in out and out[e.tag].value != e.value]
    assert lost == [] and differ == []
    for keyword in ("PatientBirthDate", "ReferringPhysicianName", "AccessionNumber", "Laterality"):
        assert keyword in out and out[keyword].value in ("", None)  # Type 2: present even when empty
    assert out.Manufacturer == "GE MEDICAL SYSTEMS" and list(out.SoftwareVersions) == ["05", "ldct-viewer 0.1.0"]
    assert out.ContributingEquipmentSequence[0].Manufacturer == "ldct-viewer"
    assert out.SeriesInstanceUID != source.SeriesInstanceUID and out.SOPInstanceUID != source.SOPInstanceUID
    assert "PixelPaddingValue" not in out  # the stored values are new: the input's padding value means nothing
    assert not [e for e in out if e.tag.is_private]
    assert np.array_equal(load_series(tmp_path / "out").volume(), reference.volume())


@pytest.mark.skipif(__import__("shutil").which("dciodvfy") is None, reason="dicom3tools' dciodvfy not installed")
def test_dciodvfy_finds_no_errors_in_a_derived_series(tmp_path):
    import subprocess

    folder = _ct_small_folder(tmp_path)
    reference = load_series(folder)
    (path,) = write_series(tmp_path / "out", reference.volume(), reference=reference, description="denoised")
    volume = phantom_volume(2, size=16)
    write_series(tmp_path / "fresh", volume, reference=None, description="phantom", spacing=(1.0, 0.5, 0.5),
                 derived=False)
    for checked in [folder / "CT_small.dcm", path, *sorted((tmp_path / "fresh").iterdir())]:
        report = subprocess.run(["dciodvfy", str(checked)], capture_output=True, text=True).stderr
        assert [line for line in report.splitlines() if line.startswith("Error")] == [], checked
