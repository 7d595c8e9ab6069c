"""``ldct-viewer export`` end to end through a subprocess, on a small series pair written by the test."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from dicom_factory import phantom_volume, write_ct_series
from PIL import Image
from pydicom.uid import generate_uid

from ldct_viewer.export import read_png_text
from ldct_viewer.model import REDCNN, Normalization, save_checkpoint
from ldct_viewer.windowing import window_to_uint8

SIZE = 32


@pytest.fixture()
def workspace(tmp_path):
    study, frame = generate_uid(), generate_uid()
    ndct = phantom_volume(5, SIZE, seed=1)
    ldct = np.maximum(ndct + np.random.default_rng(2).normal(0, 30, ndct.shape).round(), -1024).astype(np.float32)
    patient = tmp_path / "L042"
    write_ct_series(patient / "full_1mm", ndct, study_uid=study, frame_of_reference_uid=frame)
    write_ct_series(patient / "quarter_1mm", ldct, study_uid=study, frame_of_reference_uid=frame)
    checkpoints = {}
    for mode in ("mse", "wgan-gp"):
        torch.manual_seed(len(mode))
        checkpoints[mode] = tmp_path / f"tiny-{mode}.pt"
        save_checkpoint(checkpoints[mode], REDCNN(width=4), mode=mode, normalization=Normalization(),
                        config={"width": 4}, data={"source": "test"})
    return tmp_path, patient, ldct, checkpoints


def run_cli(tmp_path, *args):
    env = dict(os.environ, LDCT_VIEWER_CACHE=str(tmp_path / "cache"),
               LDCT_VIEWER_RESOURCES=str(tmp_path / "no-resources"))  # no bundled checkpoints
    return subprocess.run([sys.executable, "-m", "ldct_viewer", "export", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_export_end_to_end_writes_expected_pngs(workspace):
    tmp_path, patient, ldct, ckpt = workspace
    out = tmp_path / "out" / "pngs"
    result = run_cli(tmp_path, patient / "quarter_1mm", "--ndct", patient / "full_1mm", "--out", out,
                     "--slices", "2:3", "--window", "lung", "--diff", "minus_ldct", "--diff-range", "80",
                     "--mse", ckpt["mse"], "--wgan", ckpt["wgan-gp"], "--device", "cpu")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["slice_0002.png", "slice_0003.png"]
    assert result.stdout.split() == [str(out / n) for n in names]
    assert "2/2" in result.stderr  # progress bar reached the end
    text = read_png_text(out / "slice_0002.png")
    assert text["window"] == "1500/-600" and text["slice"] == "2/5" and text["diff"] == "minus_ldct +-80 HU"
    assert len(text["mse.checkpoint_sha256"]) == 64 and len(text["wgan-gp.checkpoint_sha256"]) == 64
    with Image.open(out / "slice_0002.png") as image:
        rgb = np.asarray(image)
    assert rgb.shape[1] == 4 * SIZE + 3 * 4
    # the LDCT tile is the windowed slice 2 (index 1): find it at the bottom-left of the first row
    windowed = window_to_uint8(ldct[1], 1500, -600)
    rows = [y for y in range(rgb.shape[0] - SIZE + 1) if np.array_equal(rgb[y:y + SIZE, :SIZE, 0], windowed)]
    assert len(rows) == 1


def test_roi_is_outlined_and_its_statistics_recorded(workspace):
    import json

    from ldct_viewer.analysis.roi import EllipseRoi, roi_stats

    tmp_path, patient, ldct, ckpt = workspace
    out = tmp_path / "roi"
    result = run_cli(tmp_path, patient / "quarter_1mm", "--ndct", patient / "full_1mm", "--out", out,
                     "--slices", "3", "--roi", "6,8,16,12", "--mse", ckpt["mse"], "--wgan", "none")
    assert result.returncode == 0, result.stderr
    recorded = json.loads(read_png_text(out / "slice_0003.png")["roi"])
    assert recorded["ellipse_px"] == [6.0, 8.0, 16.0, 12.0]
    assert set(recorded["stats"]) == {"ldct", "mse", "ndct"}  # no WGAN-GP panel
    expected = roi_stats(ldct[2], EllipseRoi(6, 8, 16, 12))
    assert recorded["stats"]["ldct"]["mean"] == pytest.approx(expected.mean)
    assert recorded["stats"]["ldct"]["sd"] == pytest.approx(expected.sd)


def test_folder_with_mayo_pair_and_no_overwrite(workspace):
    tmp_path, patient, _, ckpt = workspace
    out = tmp_path / "o"
    out.mkdir()
    (out / "slice_0001.png").write_bytes(b"mine")
    result = run_cli(tmp_path, patient, "--out", out, "--slices", "1", "--mse", ckpt["mse"], "--wgan", "none",
                     "--window", "400/40")
    assert result.returncode == 0, result.stderr
    assert (out / "slice_0001.png").read_bytes() == b"mine"
    text = read_png_text(out / "slice_0001_2.png")
    assert "ndct.series_uid" in text  # NDCT found from the Mayo layout
    assert "wgan-gp.checkpoint_sha256" not in text
    # bundled checkpoints absent (LDCT_VIEWER_RESOURCES points nowhere): a warning, empty panels, success
    result = run_cli(tmp_path, patient, "--out", out, "--slices", "1")
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and (out / "slice_0001_3.png").is_file()


@pytest.mark.parametrize("args, message", [
    (["{q}", "--out", "{o}", "--slices", "9"], "slices"),
    (["{q}", "--out", "{o}", "--window", "wide"], "window"),
    (["{missing}", "--out", "{o}"], "missing"),
    (["{q}", "--out", "{o}", "--mse", "{missing}.pt"], "checkpoint"),
    (["{q}", "--out", "{o}", "--diff-range", "0"], "diff-range"),
    (["{q}", "--out", "{o}", "--roi", "1,2,3"], "--roi"),
    (["{q}", "--out", "{o}", "--roi", "1,2,0,4"], "--roi"),
])
def test_bad_input_is_one_line_and_exit_2(workspace, args, message):
    tmp_path, patient, _, _ = workspace
    fields = {"q": patient / "quarter_1mm", "o": tmp_path / "o", "missing": tmp_path / "missing"}
    result = run_cli(tmp_path, *[a.format(**fields) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ldct-viewer: error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
