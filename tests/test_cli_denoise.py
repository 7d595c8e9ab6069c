"""``ldct-viewer denoise`` end to end through a subprocess, on a small DICOM series written here."""

import io
import os
import subprocess
import sys

import numpy as np
import pydicom
import pytest
import torch
from dicom_factory import phantom_volume, write_ct_series

from ldct_viewer.inference import Engine
from ldct_viewer.io import load_series
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint
from ldct_viewer.progress import ProgressBar


def _cli(*args, cache):
    env = {**os.environ, "LDCT_VIEWER_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "ldct_viewer", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=180)


@pytest.fixture
def case(tmp_path):
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny-mse.pt"
    save_checkpoint(ckpt, REDCNN(width=8), mode="mse", normalization=Normalization(), config={}, data={})
    series_dir = tmp_path / "input" / "series"
    volume = phantom_volume(3, size=64, seed=1)
    write_ct_series(series_dir, volume, spacing=(2.5, 0.6, 0.6), origin=(-19.2, -19.2, 40.0),
                    patient_id="PAT42", shuffle=True)
    return tmp_path, ckpt, series_dir, volume


def test_denoise_writes_derived_series_with_input_geometry(case):
    tmp_path, ckpt, series_dir, volume = case
    before = sorted((p.name, p.stat().st_mtime_ns) for p in series_dir.iterdir())
    out = tmp_path / "out"
    result = _cli("denoise", series_dir, "--model", ckpt, "--out", out, "--device", "cpu", cache=tmp_path / "c")
    assert result.returncode == 0, result.stderr
    assert "Denoising 3 slices" in result.stderr and "3/3" in result.stderr
    assert "Wrote 3 DICOM files" in result.stdout
    assert sorted((p.name, p.stat().st_mtime_ns) for p in series_dir.iterdir()) == before  # input untouched

    src, dst = load_series(series_dir), load_series(out)
    assert dst.shape == src.shape
    np.testing.assert_allclose(dst.positions, src.positions, atol=1e-4)
    np.testing.assert_allclose(dst.orientation, src.orientation, atol=1e-6)
    np.testing.assert_allclose(dst.pixel_spacing, src.pixel_spacing)
    assert dst.slice_spacing == pytest.approx(src.slice_spacing)
    assert dst.study_uid == src.study_uid and dst.patient_id == src.patient_id == "PAT42"
    assert dst.frame_of_reference_uid == src.frame_of_reference_uid
    assert dst.uid != src.uid
    header = dst.header(0)
    assert list(header.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert header.SeriesDescription == "RED-CNN mse (tiny-mse.pt) denoised"
    sop_in = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in series_dir.iterdir()}
    sop_out = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in out.iterdir()}
    assert not sop_in & sop_out and len(sop_out) == 3

    expected = Engine(load_checkpoint(ckpt), device="cpu", disk_cache=False).denoise(src.volume())
    np.testing.assert_allclose(dst.volume(), expected, atol=0.1)  # stored via RescaleSlope/Intercept


@pytest.mark.parametrize("where", ["input", "inside"])
def test_refuses_to_write_into_the_input_folder(case, where):
    tmp_path, ckpt, series_dir, _ = case
    out = series_dir if where == "input" else series_dir / "denoised"
    result = _cli("denoise", series_dir, "--model", ckpt, "--out", out, cache=tmp_path / "c")
    assert result.returncode == 2
    assert "refusing to write into the input folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (series_dir / "denoised").exists()


def test_missing_checkpoint_and_non_empty_output_exit_2(case):
    tmp_path, ckpt, series_dir, _ = case
    result = _cli("denoise", series_dir, "--model", tmp_path / "nope.pt", "--out", tmp_path / "o1",
                  cache=tmp_path / "c")
    assert result.returncode == 2 and "nope.pt" in result.stderr and "Traceback" not in result.stderr
    env_resources = {**os.environ, "LDCT_VIEWER_RESOURCES": str(tmp_path / "empty-resources"),
                     "LDCT_VIEWER_CACHE": str(tmp_path / "c")}
    bundled = subprocess.run([sys.executable, "-m", "ldct_viewer", "denoise", str(series_dir), "--model", "mse",
                              "--out", str(tmp_path / "o2")], capture_output=True, text=True, env=env_resources,
                             timeout=180)
    assert bundled.returncode == 2 and "redcnn-mse.pt not found" in bundled.stderr
    assert "ldct-train fit" in bundled.stderr and not (tmp_path / "o2").exists()
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    result = _cli("denoise", series_dir, "--model", ckpt, "--out", occupied, cache=tmp_path / "c")
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (occupied / "keep.txt").read_text() == "mine" and len(list(occupied.iterdir())) == 1


def test_progress_bar_reports_count_rate_and_eta():
    stream = io.StringIO()
    bar = ProgressBar(4, "Denoising", stream=stream)
    for done in range(1, 5):
        bar.update(done, 4)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("Denoising [") and "1/4" in lines[0] and "ETA" in lines[0]
    assert "4/4 100%" in lines[-1] and "elapsed" in lines[-1]


def test_denoise_one_part_of_a_series_split_by_matrix_size(case):
    from pydicom.uid import generate_uid

    tmp_path, ckpt, _, _ = case
    uid = generate_uid()
    folder = tmp_path / "mixed"
    write_ct_series(folder, phantom_volume(2, size=48), series_uid=uid, name_pattern="a{index}")
    write_ct_series(folder, phantom_volume(3, size=64), series_uid=uid, name_pattern="b{index}",
                    z_positions=[10, 11, 12])
    info = subprocess.run([sys.executable, "-m", "ldct_viewer", "info", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert f"selector           {uid}:64x64" in info.stdout and f"selector           {uid}:48x48" in info.stdout
    refused = _cli("denoise", folder, "--model", ckpt, "--out", tmp_path / "o1", "--series", uid,
                   "--device", "cpu", cache=tmp_path / "c")
    assert refused.returncode == 2 and f"{uid}:64x64" in refused.stderr
    result = _cli("denoise", folder, "--model", ckpt, "--out", tmp_path / "o2", "--series", f"{uid}:64x64",
                  "--device", "cpu", cache=tmp_path / "c")
    assert result.returncode == 0, result.stderr
    assert load_series(tmp_path / "o2").shape == (3, 64, 64)


def _unwritable_outs(tmp_path):
    """(name, --out path, expected message) for places no output can go; cleanup callable."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    cases = [("under a file", tmp_path / "a_file" / "out", "a_file is not a folder"),
             ("a file", tmp_path / "a_file", "exists and is not a folder"),
             ("dangling symlink", tmp_path / "dangling", "dangling or looping symbolic link")]
    immutable = tmp_path / "immutable"
    immutable.mkdir()
    cleanup = []
    if subprocess.run(["chattr", "+i", str(immutable)], capture_output=True).returncode == 0:
        cases.append(("immutable", immutable / "out", "cannot be created in"))
        cleanup.append(lambda: subprocess.run(["chattr", "-i", str(immutable)]))
    if os.geteuid() != 0:  # root ignores permission bits
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o555)
        cases.append(("read-only", readonly / "out", "cannot be created in"))
    return cases, cleanup


@pytest.mark.parametrize("command", ["denoise", "export"])
def test_unusable_out_is_refused_before_any_work(case, command):
    tmp_path, ckpt, series_dir, _ = case
    (tmp_path / "places").mkdir()
    cases, cleanup = _unwritable_outs(tmp_path / "places")
    try:
        for name, out, message in cases:
            if command == "denoise":
                args = ("denoise", series_dir, "--model", ckpt, "--out", out, "--device", "cpu")
            else:
                args = ("export", series_dir, "--mse", ckpt, "--wgan", "none", "--out", out, "--device", "cpu")
            result = _cli(*args, cache=tmp_path / "c")
            assert result.returncode == 2, (name, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and message in lines[0] and str(out) in lines[0], (name, lines)
            assert "Denoising" not in result.stderr and "exporting" not in result.stderr  # refused before the work
    finally:
        for undo in cleanup:
            undo()


@pytest.mark.parametrize("damage", ["truncated", "wrong shape", "nan"])
def test_damaged_cache_entries_are_misses_recomputed_and_replaced(case, damage):
    tmp_path, ckpt, series_dir, _ = case
    cache = tmp_path / "cache"
    first = _cli("denoise", series_dir, "--model", ckpt, "--out", tmp_path / "o1", "--device", "cpu", cache=cache)
    assert first.returncode == 0, first.stderr
    entries = sorted(cache.rglob("*.npy"))
    assert len(entries) == 3
    for entry in entries:
        if damage == "truncated":
            entry.write_bytes(entry.read_bytes()[:100])
        else:
            np.save(entry, np.zeros((5, 7), np.float32) if damage == "wrong shape" else np.full((64, 64), np.nan, np.float32))
    again = _cli("denoise", series_dir, "--model", ckpt, "--out", tmp_path / "o2", "--device", "cpu", cache=cache)
    assert again.returncode == 0, again.stderr
    np.testing.assert_array_equal(load_series(tmp_path / "o2").volume(), load_series(tmp_path / "o1").volume())
    for entry in entries:  # replaced by the recomputed results
        arr = np.load(entry)
        assert arr.shape == (64, 64) and np.isfinite(arr).all()


@pytest.mark.parametrize("command", ["denoise", "export"])
def test_non_finite_checkpoint_or_rescale_is_one_line_before_any_work(case, command):
    import warnings

    tmp_path, _, series_dir, _ = case
    model = REDCNN(width=4)
    with torch.no_grad():
        model.deconv2.bias[1] = float("inf")
    nan_ckpt = tmp_path / "nan.pt"
    save_checkpoint(nan_ckpt, model, mode="mse", normalization=Normalization(), config={}, data={})
    bad_series = tmp_path / "bad_rescale"
    bad_series.mkdir()
    for path in sorted(series_dir.iterdir()):
        ds = pydicom.dcmread(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns that 'NaN' is no valid DS
            ds.RescaleSlope = "NaN"
        ds.save_as(bad_series / path.name)
    good = tmp_path / "tiny-mse.pt"
    for series, ckpt, message in ((series_dir, nan_ckpt, "nan.pt: refused: non-finite weights"),
                                  (bad_series, good, "RescaleSlope nan is not a finite non-zero number")):
        out = tmp_path / f"out-{ckpt.stem}"
        if command == "denoise":
            args = ("denoise", series, "--model", ckpt, "--out", out, "--device", "cpu")
        else:
            args = ("export", series, "--mse", ckpt, "--wgan", "none", "--out", out, "--device", "cpu")
        result = _cli(*args, cache=tmp_path / "c")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
        assert not list(out.glob("*.png")) if out.exists() else True
