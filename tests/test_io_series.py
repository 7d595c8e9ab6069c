"""Discovery, grouping, sorting and issue detection on series written by the tests."""

from __future__ import annotations

import contextlib
import shutil

import numpy as np
import pydicom
import pytest
from dicom_factory import ct_dataset, phantom_volume, read_stored_hu, write_ct_series
from pydicom.uid import generate_uid

from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series, scan


def test_shuffled_files_are_sorted_by_position(tmp_path):
    volume = phantom_volume(12)
    write_ct_series(tmp_path, volume, spacing=(2.5, 0.8, 0.6), shuffle=True, origin=(-10, -20, -30))
    series = load_series(tmp_path)
    assert series.shape == (12, 32, 32)
    assert np.array_equal(series.volume(), volume)
    assert np.allclose(series.slice_locations, -30 + 2.5 * np.arange(12))
    assert np.allclose(series.positions[:, 2], series.slice_locations)
    assert series.slice_spacing == pytest.approx(2.5)
    assert series.pixel_spacing == (0.8, 0.6)
    assert np.allclose(series.orientation, [1, 0, 0, 0, 1, 0])
    assert series.issues == []
    assert series.volume().dtype == np.float32


def test_sort_uses_the_slice_normal_not_z(tmp_path):
    # Sagittal stack: the slice normal is -x, so only the x positions tell the order.
    volume = phantom_volume(5)
    orientation = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    write_ct_series(tmp_path, volume, orientation=orientation, shuffle=True, seed=3)
    series = load_series(tmp_path)
    assert np.array_equal(series.volume(), volume)
    normal = np.cross(orientation[:3], orientation[3:])
    assert np.all(np.diff(series.positions @ normal) > 0)


def test_instance_number_fallback_without_positions(tmp_path):
    volume = phantom_volume(6)
    write_ct_series(tmp_path, volume, with_positions=False)
    series = load_series(tmp_path)
    assert np.array_equal(series.volume(), volume)
    assert any("InstanceNumber" in issue for issue in series.issues)


def test_two_series_in_one_folder(tmp_path):
    a, b = phantom_volume(4, seed=1), phantom_volume(7, seed=2)
    write_ct_series(tmp_path, a, name_pattern="A{index:03d}", description="first")
    write_ct_series(tmp_path, b, name_pattern="B{index:03d}", description="second", shuffle=True)
    result = scan([tmp_path])
    assert sorted(len(s) for s in result.series) == [4, 7]
    assert not result.skipped
    by_description = {s.description: s for s in result.series}
    assert np.array_equal(by_description["first"].volume(), a)
    assert np.array_equal(by_description["second"].volume(), b)
    with pytest.raises(InputError, match="2 CT series") as err:
        load_series(tmp_path)
    assert by_description["second"].uid in str(err.value)
    chosen = load_series(tmp_path, series_uid=by_description["second"].uid)
    assert chosen.description == "second"
    with pytest.raises(InputError, match="no series with UID"):
        load_series(tmp_path, series_uid="1.2.3")


def test_missing_slice_is_reported_as_a_gap(tmp_path):
    volume = phantom_volume(10)
    paths = write_ct_series(tmp_path, volume, spacing=(1.25, 0.7, 0.7))
    paths[4].unlink()
    series = load_series(tmp_path)
    assert len(series) == 9
    assert series.slice_spacing == pytest.approx(1.25)
    gaps = [i for i in series.issues if i.startswith("gap")]
    assert len(gaps) == 1 and "about 1 missing" in gaps[0] and "3.750 mm" in gaps[0]


def test_duplicate_positions_and_non_uniform_spacing(tmp_path):
    volume = phantom_volume(6)
    write_ct_series(tmp_path / "dup", volume, z_positions=[0, 1, 2, 2, 3, 4])
    series = load_series(tmp_path / "dup")
    assert len(series) == 6
    assert any(i.startswith("duplicate position 2.000 mm") for i in series.issues)
    write_ct_series(tmp_path / "uneven", volume, z_positions=[0, 1, 2, 3.2, 4.2, 5.2])
    uneven = load_series(tmp_path / "uneven")
    assert any(i.startswith("non-uniform slice spacing") for i in uneven.issues)


def test_extensionless_and_ima_files(tmp_path):
    volume = phantom_volume(3)
    write_ct_series(tmp_path / "plain", volume, file_ext="")
    write_ct_series(tmp_path / "siemens", volume, file_ext=".IMA", name_pattern="L067_FD_1_1.CT.{index:04d}")
    for folder in ("plain", "siemens"):
        assert np.array_equal(load_series(tmp_path / folder).volume(), volume)


def test_single_file_and_several_paths(tmp_path):
    volume = phantom_volume(4)
    paths = write_ct_series(tmp_path, volume)
    one = load_series(paths[2])
    assert one.shape == (1, 32, 32)
    assert np.array_equal(one.slice(0), volume[2])
    two = load_series([paths[3], paths[0]])
    assert np.array_equal(two.volume(), volume[[0, 3]])


def test_bad_files_are_skipped_with_reasons_and_good_series_still_load(tmp_path):
    volume = phantom_volume(5)
    paths = write_ct_series(tmp_path / "good", volume)
    (tmp_path / "notes.txt").write_text("not an image\n")
    (tmp_path / "empty.dcm").write_bytes(b"")
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(paths[0].read_bytes()[:-1000])
    header_cut = tmp_path / "header_cut.dcm"
    header_cut.write_bytes(paths[0].read_bytes()[:200])
    mr = ct_dataset(volume[0], position=(0, 0, 0), series_uid=generate_uid(), study_uid=generate_uid(),
                    frame_of_reference_uid=generate_uid(), modality="MR")
    mr.save_as(tmp_path / "mr.dcm", enforce_file_format=True)
    no_pixels = ct_dataset(volume[0], position=(0, 0, 0), series_uid=generate_uid(), study_uid=generate_uid(),
                           frame_of_reference_uid=generate_uid())
    del no_pixels.PixelData
    no_pixels.save_as(tmp_path / "nopix.dcm", enforce_file_format=True)

    result = scan([tmp_path])
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons["notes.txt"] == "not a DICOM file"
    assert reasons["empty.dcm"] == "empty file"
    assert reasons["truncated.dcm"].startswith("truncated: pixel data needs")
    assert "header_cut.dcm" in reasons
    assert reasons["mr.dcm"] == "modality MR, not CT"
    assert reasons["nopix.dcm"] == "no pixel data"
    assert all("\n" not in r for r in reasons.values())
    assert len(result.series) == 1
    assert np.array_equal(result.series[0].volume(), volume)
    assert np.array_equal(load_series(tmp_path).volume(), volume)


def test_mixed_matrix_sizes_split_into_groups(tmp_path):
    uid = generate_uid()
    write_ct_series(tmp_path, phantom_volume(4, size=32), series_uid=uid, name_pattern="a{index}")
    write_ct_series(tmp_path, phantom_volume(3, size=16), series_uid=uid, name_pattern="b{index}",
                    z_positions=[10, 11, 12])
    result = scan([tmp_path])
    assert sorted(s.shape for s in result.series) == [(3, 16, 16), (4, 32, 32)]
    for s in result.series:
        assert s.uid == uid
        assert any("mixed matrix sizes (16x16, 32x32)" in i for i in s.issues)


def test_localizer_is_split_out_and_load_series_prefers_the_volume(tmp_path):
    uid = generate_uid()
    volume = phantom_volume(5)
    write_ct_series(tmp_path, volume, series_uid=uid)
    scout = ct_dataset(volume[0], position=(0, -100, 100), orientation=(1, 0, 0, 0, 0, -1), series_uid=uid,
                       study_uid=generate_uid(), frame_of_reference_uid=generate_uid())
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    scout.save_as(tmp_path / "scout.dcm", enforce_file_format=True)
    result = scan(tmp_path)
    assert len(result.series) == 2
    localizer = next(s for s in result.series if s.is_localizer)
    assert len(localizer) == 1 and any("localizer" in i for i in localizer.issues)
    assert np.array_equal(load_series(tmp_path).volume(), volume)


def test_empty_folder_and_missing_path(tmp_path):
    assert scan([tmp_path]).series == []
    with pytest.raises(InputError, match=f"no DICOM files found in {tmp_path}"):
        load_series(tmp_path)
    with pytest.raises(InputError, match="no such file or folder"):
        scan([tmp_path / "nope"])
    (tmp_path / "junk.bin").write_bytes(b"\x00" * 10)
    with pytest.raises(InputError, match="junk.bin: not a DICOM file"):
        load_series(tmp_path)


def test_dicomdir_is_followed(tmp_path):
    from pydicom.fileset import FileSet

    volume = phantom_volume(4)
    paths = write_ct_series(tmp_path / "src", volume, shuffle=True)
    fileset = FileSet()
    for path in paths:
        fileset.add(path)
    fileset.write(tmp_path / "media")
    shutil.rmtree(tmp_path / "src")
    dicomdir = tmp_path / "media" / "DICOMDIR"
    assert np.array_equal(load_series(dicomdir).volume(), volume)
    via_folder = scan([tmp_path / "media"])
    assert len(via_folder.series) == 1 and len(via_folder.series[0]) == 4
    assert not via_folder.skipped


def test_rescale_slope_and_signed_storage(tmp_path):
    volume = phantom_volume(3) + 0.5
    write_ct_series(tmp_path, volume, rescale_slope=0.5, rescale_intercept=-1000.0, signed=True)
    series = load_series(tmp_path)
    for z, path in enumerate(sorted(tmp_path.iterdir())):
        assert np.array_equal(series.slice(z), read_stored_hu(path))
    assert np.array_equal(series.volume(), volume)


def test_header_has_no_pixel_data_and_is_a_copy(tmp_path):
    write_ct_series(tmp_path, phantom_volume(2), description="hdr")
    series = load_series(tmp_path)
    header = series.header(1)
    assert "PixelData" not in header
    assert header.SeriesDescription == "hdr" and header.InstanceNumber == 2
    header.SeriesDescription = "changed"
    assert series.header(1).SeriesDescription == "hdr"
    assert series.uid == header.SeriesInstanceUID
    assert series.study_uid and series.frame_of_reference_uid and series.patient_id == "TEST001"
    with pytest.raises(IndexError):
        series.slice(2)


def test_pixel_error_names_the_file(tmp_path):
    paths = write_ct_series(tmp_path, phantom_volume(3))
    series = load_series(tmp_path)
    paths[1].write_bytes(paths[1].read_bytes()[:600])  # cut after the scan
    with pytest.raises(InputError, match=paths[1].name):
        series.volume()


def test_rle_compressed_single_and_multi_frame(tmp_path):
    from pydicom.uid import RLELossless

    volume = phantom_volume(3)
    paths = write_ct_series(tmp_path / "single", volume)
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless)
        ds.save_as(path)
    assert np.array_equal(load_series(tmp_path / "single").volume(), volume)

    ds = ct_dataset(volume[0], position=(0.0, 0.0, 10.0), series_uid=generate_uid(), study_uid=generate_uid(),
                    frame_of_reference_uid=generate_uid())
    ds.NumberOfFrames = 3
    ds.SpacingBetweenSlices = 2.0
    ds.PixelData = np.round(volume + 1024).astype(np.uint16).tobytes()
    ds.compress(RLELossless)
    ds.save_as(tmp_path / "multi.dcm", enforce_file_format=True)
    series = load_series(tmp_path / "multi.dcm")
    assert series.shape == (3, 32, 32)
    assert np.allclose(series.slice_locations, [10.0, 12.0, 14.0])
    assert np.array_equal(series.slice(1), volume[1])
    assert np.array_equal(series.volume(), volume)


def test_parts_of_a_split_series_are_addressable(tmp_path):
    uid, study = generate_uid(), generate_uid()
    big, small = phantom_volume(4, size=32), phantom_volume(3, size=16)
    write_ct_series(tmp_path, big, series_uid=uid, study_uid=study, name_pattern="a{index}")
    write_ct_series(tmp_path, small, series_uid=uid, study_uid=study, name_pattern="b{index}", z_positions=[10, 11, 12])
    with pytest.raises(InputError, match="choose one") as err:
        load_series(tmp_path, uid)
    assert f"{uid}:32x32 (synthetic, 4 slices" in str(err.value) and f"{uid}:16x16 (synthetic, 3 slices" in str(err.value)
    assert np.array_equal(load_series(tmp_path, f"{uid}:16x16").volume(), small)
    assert np.array_equal(load_series(tmp_path, f"{uid}:32x32").volume(), big)
    assert np.array_equal(load_series(tmp_path, f"{uid}:2").volume(), small)  # the part's number in info
    assert sorted(s.selector for s in scan(tmp_path).series) == sorted([f"{uid}:16x16", f"{uid}:32x32"])
    with pytest.raises(InputError, match="no series .*:64x64"):
        load_series(tmp_path, f"{uid}:64x64")


@pytest.mark.parametrize("slope, intercept, reason", [
    ("NaN", "-1024", "RescaleSlope nan is not a finite non-zero number"),
    ("1", "inf", "RescaleIntercept inf is not a finite number"),
    ("0", "-1024", "RescaleSlope 0.0 is not a finite non-zero number"),
])
def test_non_finite_rescale_is_skipped_with_its_reason(tmp_path, slope, intercept, reason):
    paths = write_ct_series(tmp_path, phantom_volume(3))
    ds = pydicom.dcmread(paths[1])
    with pytest.warns(UserWarning) if "n" in (slope + intercept).lower() else contextlib.nullcontext():  # pydicom: invalid DS
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.save_as(paths[1])
    result = scan(tmp_path)
    assert [(s.path, s.reason) for s in result.skipped] == [(paths[1], reason)]
    assert len(result.series) == 1 and len(result.series[0]) == 2
    assert np.isfinite(result.series[0].volume()).all()
