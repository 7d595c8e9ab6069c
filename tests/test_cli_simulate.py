"""``ldct-viewer simulate`` end to end through a subprocess, on a small DICOM series written by the test."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ldct_viewer.io import load_series
from dicom_factory import write_ct_series


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ldct_viewer", "simulate", *args],
                          capture_output=True, text=True, timeout=300)


def body_volume(slices: int = 3, size: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
    vol = np.full((slices, size, size), -1000.0, dtype=np.float32)
    vol[:, (xx / 28) ** 2 + (yy / 20) ** 2 < 1] = 40.0
    for z in range(slices):
        vol[z, (xx - 8 + z) ** 2 + (yy - 5) ** 2 < 16] = 700.0
    return vol


@pytest.fixture
def ndct_folder(tmp_path):
    folder = tmp_path / "ndct"
    write_ct_series(folder, body_volume(), spacing=(1.0, 5.0, 5.0), description="Abdomen 1.0 B30f")
    return folder


def test_simulate_writes_a_dicom_series_with_the_input_geometry(ndct_folder, tmp_path):
    out = tmp_path / "ldct"
    result = run_cli(str(ndct_folder), "--dose", "25", "--views", "180", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    ndct, ldct = load_series(ndct_folder), load_series(out)
    assert ldct.shape == ndct.shape
    assert ldct.uid != ndct.uid and ldct.study_uid == ndct.study_uid
    assert np.allclose(ldct.positions, ndct.positions) and ldct.pixel_spacing == ndct.pixel_spacing
    assert "25% dose, 180 views" in ldct.description
    assert "25% dose, 180 views (from Abdomen 1.0 B30f)" in str(ldct.header(0).get("DerivationDescription", ""))
    difference = ldct.volume() - ndct.volume()
    # 5 mm pixels average a lot of photons: ~1 HU of noise is expected here (22 HU at 0.74 mm).
    assert 0.3 < float(difference[:, 20:44, 20:44].std()) < 50.0  # noise was added ...
    assert abs(float(np.median(difference[:, 20:44, 20:44]))) < 2.0  # ... without a bias
    # Deterministic by seed: the same command gives the same pixels.
    again = tmp_path / "again"
    assert run_cli(str(ndct_folder), "--dose", "25", "--views", "180", "--out", str(again),
                   "--seed", "3").returncode == 0
    assert np.array_equal(load_series(again).volume(), ldct.volume())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dose", "0", "--views", "180"], "--dose"),
        (["--dose", "150", "--views", "180"], "--dose"),
        (["--dose", "25", "--views", "3"], "--views"),
        (["--dose", "25", "--views", "100000000"], "--views 100000000: views must be an integer from 8 to 20000"),
        (["--dose", "50", "--views", "180", "--input-dose", "25"], "--input-dose"),
    ],
)
def test_bad_options_exit_2_with_one_line(ndct_folder, tmp_path, args, message):
    result = run_cli(str(ndct_folder), *args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_input_and_occupied_output_exit_2(ndct_folder, tmp_path):
    result = run_cli(str(tmp_path / "nowhere"), "--dose", "25", "--views", "180", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    result = run_cli(str(ndct_folder), "--dose", "25", "--views", "180", "--out", str(occupied))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (occupied / "keep.txt").read_text() == "mine"
