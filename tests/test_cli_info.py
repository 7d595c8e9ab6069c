"""``ldct-viewer info`` through a real subprocess: output, JSON, exit codes, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from dicom_factory import ct_dataset, phantom_volume, write_ct_series
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, generate_uid


def run_info(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "ldct_viewer", "info", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def assert_clean(proc):
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ldct-viewer: error: "), proc.stderr


def test_whole_pydicom_corpus_in_batches():
    files = sorted(get_testdata_files())
    assert len(files) > 100
    batches = [files[i:i + 140] for i in range(0, len(files), 140)]
    total_series = 0
    for batch in batches:
        proc = run_info("--json", *batch)
        assert_clean(proc)
        document = json.loads(proc.stdout)
        total_series += len(document["series"])
        assert all(s["reason"] and "\n" not in s["reason"] for s in document["skipped"])
    assert total_series >= 8


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "693_J2KI.dcm", "README.txt"])
def test_single_corpus_files(name):
    proc = run_info(get_testdata_file(name))
    assert_clean(proc)
    if name in ("CT_small.dcm", "693_J2KI.dcm"):
        assert proc.returncode == 0 and "1 CT series" in proc.stdout
    if name == "MR_small.dcm":
        assert proc.returncode == 2 and "modality MR, not CT" in proc.stdout


def test_json_lists_series_and_skipped_files(tmp_path):
    a, b = phantom_volume(5, seed=1), phantom_volume(5, seed=2)
    write_ct_series(tmp_path, a, name_pattern="a{index}", description="first", spacing=(2.0, 0.5, 0.5))
    paths = write_ct_series(tmp_path, b, name_pattern="b{index}", description="second")
    paths[2].unlink()
    (tmp_path / "junk.txt").write_text("hello")
    proc = run_info("--json", tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0
    document = json.loads(proc.stdout)
    by_description = {s["description"]: s for s in document["series"]}
    first = by_description["first"]
    assert first["slices"] == 5 and (first["rows"], first["columns"]) == (32, 32)
    assert first["pixel_spacing_mm"] == [0.5, 0.5] and first["slice_spacing_mm"] == 2.0
    assert (first["hu_min"], first["hu_max"]) == (float(a.min()), float(a.max()))
    assert first["modality"] == "CT" and first["uid"]
    assert any(issue.startswith("gap") for issue in by_description["second"]["issues"])
    assert document["skipped"] == [{"path": str(tmp_path / "junk.txt"), "reason": "not a DICOM file"}]


def test_text_output(tmp_path):
    volume = phantom_volume(4)
    write_ct_series(tmp_path, volume, description="abdomen")
    proc = run_info(tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0
    assert "1 CT series, 0 file(s) skipped" in proc.stdout
    assert "abdomen" in proc.stdout and "matrix 32x32" in proc.stdout
    assert f"HU range           {volume.min():g} .. {volume.max():g}" in proc.stdout


def test_undecodable_pixels_are_a_skipped_file_not_a_crash(tmp_path):
    write_ct_series(tmp_path / "good", phantom_volume(2))
    bad = ct_dataset(np.zeros((32, 32)), position=(0, 0, 0), series_uid=generate_uid(), study_uid=generate_uid(),
                     frame_of_reference_uid=generate_uid(), transfer_syntax=JPEG2000Lossless)
    bad.PixelData = encapsulate([b"\x00garbage, not a codestream" * 4])
    bad["PixelData"].VR = "OB"
    bad.save_as(tmp_path / "bad.dcm", enforce_file_format=True)
    proc = run_info("--json", tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0
    document = json.loads(proc.stdout)
    reasons = {s["path"]: s["reason"] for s in document["skipped"]}
    assert reasons[str(tmp_path / "bad.dcm")].startswith("cannot decode pixel data")
    assert len(document["series"]) == 2
    proc = run_info(tmp_path / "bad.dcm")
    assert_clean(proc)
    assert proc.returncode == 2 and "no CT series with readable pixel data" in proc.stderr


def test_nothing_usable_exits_2_with_one_line(tmp_path):
    proc = run_info(tmp_path)
    assert_clean(proc)
    assert proc.returncode == 2 and f"no DICOM files found in {tmp_path}" in proc.stderr
    proc = run_info(tmp_path / "missing")
    assert_clean(proc)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
    (tmp_path / "a.dcm").write_bytes(b"\x08\x00\x05\x00" + b"\xff" * 50)
    proc = run_info("--json", tmp_path)
    assert_clean(proc)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["skipped"][0]["path"] == str(tmp_path / "a.dcm")


def test_help():
    proc = run_info("--help")
    assert proc.returncode == 0 and "--json" in proc.stdout


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_full_stdout_is_one_line_and_exit_2(tmp_path, extra):
    write_ct_series(tmp_path / "s", phantom_volume(2))
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "ldct_viewer", "info", str(tmp_path / "s"), *extra],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ldct-viewer: error: cannot write to standard output (No space left on device)"]


def test_reader_gone_exits_quietly(tmp_path):
    """Like `ldct-viewer info DIR | head -1` when head has already exited: no traceback, exit 141 (as SIGPIPE)."""
    write_ct_series(tmp_path / "s", phantom_volume(2))
    proc = subprocess.Popen([sys.executable, "-m", "ldct_viewer", "info", str(tmp_path / "s")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before anything is written
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == b""
