"""Exports follow the patient orientation and write coronal/sagittal reformats: in-process and via the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from dicom_factory import write_ct_series
from PIL import Image
from pydicom.uid import generate_uid

from ldct_viewer.export import export_comparisons, read_png_text
from ldct_viewer.inference import Engine
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint
from ldct_viewer.opening import open_case
from ldct_viewer.reformat import to_square
from ldct_viewer.windowing import window_to_uint8

SIZE, SLICES = 24, 6
SPACING = (1.4, 0.7, 0.7)  # slices twice as far apart as pixels: a reformat is two rows per slice
POSTERIOR_UP = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0)  # stored rows run posterior → anterior


def volume(offset: float = 0.0) -> np.ndarray:
    """Air with a bright stored row 2 (posterior, near the top of the file) and slice-dependent HU."""
    vol = np.full((SLICES, SIZE, SIZE), -1000.0, np.float32)
    vol[:, 8:16, 4:20] = np.arange(SLICES, dtype=np.float32)[:, None, None] * 20 + offset
    vol[:, 2, 4:20] = 600.0
    return vol


@pytest.fixture()
def pair(tmp_path):
    study, frame = generate_uid(), generate_uid()
    kw = dict(spacing=SPACING, orientation=POSTERIOR_UP, origin=(-10.0, 10.0, -121.0),
              study_uid=study, frame_of_reference_uid=frame)
    write_ct_series(tmp_path / "ndct", volume(), **kw)
    write_ct_series(tmp_path / "ldct", volume(5.0), **kw)
    return tmp_path


def find_tile(png: np.ndarray, tile: np.ndarray, left: int = 0) -> int:
    """Row of the PNG where ``tile`` (uint8 grey) sits with its left edge at column ``left``; -1 if absent."""
    h, w = tile.shape
    for y in range(png.shape[0] - h + 1):
        if np.array_equal(png[y:y + h, left:left + w, 0], tile):
            return y
    return -1


def run_cli(tmp_path, *args):
    env = dict(os.environ, LDCT_VIEWER_CACHE=str(tmp_path / "cache"),
               LDCT_VIEWER_RESOURCES=str(tmp_path / "no-resources"))
    return subprocess.run([sys.executable, "-m", "ldct_viewer", "export", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_axial_export_is_anterior_up_with_patient_z(pair):
    out = pair / "axial"
    result = run_cli(pair, pair / "ldct", "--ndct", pair / "ndct", "--out", out, "--slices", "1",
                     "--window", "400/40", "--mse", "none", "--wgan", "none", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    png = np.asarray(Image.open(out / "slice_0001.png").convert("RGB"))
    stored = volume(5.0)[0]
    assert find_tile(png, window_to_uint8(stored[::-1], 400, 40)) > 0  # rows flipped: anterior up
    assert find_tile(png, window_to_uint8(stored, 400, 40)) == -1
    text = read_png_text(out / "slice_0001.png")
    # IOP 1,0,0,0,-1,0 has normal −z: the first slice in position order is the most superior, z = −121
    assert float(text["position_mm"]) == pytest.approx(-121.0)
    assert text["position_axis"].startswith("z") and text["orientation"] == "axial, top A, left R"


def test_cli_coronal_and_sagittal_exports(pair):
    out = pair / "planes"
    for plane in ("coronal", "sagittal"):
        result = run_cli(pair, pair / "ldct", "--ndct", pair / "ndct", "--out", out, "--plane", plane,
                         "--slices", "12", "--window", "400/40", "--mse", "none", "--wgan", "none")
        assert result.returncode == 0, result.stderr
        assert f"1 {plane} section(s)" in result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["coronal_0012.png", "sagittal_0012.png"]
    text = read_png_text(out / "coronal_0012.png")
    assert text["plane"] == "coronal" and text["coronal"] == f"12/{SIZE}"
    assert text["orientation"] == "coronal, top S, left R" and text["position_axis"].startswith("y")
    png = np.asarray(Image.open(out / "coronal_0012.png").convert("RGB"))
    # display row 11 of every slice (anterior-up), superior slice on top, each slice two rows tall
    display = volume(5.0)[:, ::-1, :]
    expected = to_square(display[:, 11, :], (2.0, 1.0))  # slice 0 is the superior one: already on top
    assert expected.shape == (SLICES * 2, SIZE) and expected[0, 10] == 5.0 and expected[-1, 10] == 105.0
    y = find_tile(png, window_to_uint8(expected, 400, 40))
    assert y > 0
    sag = np.asarray(Image.open(out / "sagittal_0012.png").convert("RGB"))
    expected = to_square(display[:, :, 11], (2.0, 1.0))  # columns: anterior (display row 0) on the left
    assert find_tile(sag, window_to_uint8(expected, 400, 40)) > 0


def test_cli_bad_plane_and_range_are_one_line_errors(pair):
    result = run_cli(pair, pair / "ldct", "--out", pair / "x", "--plane", "oblique")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = run_cli(pair, pair / "ldct", "--out", pair / "x", "--plane", "coronal", "--slices", f"{SIZE + 1}",
                     "--mse", "none", "--wgan", "none")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_reformat_export_denoises_every_slice(pair, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(pair / "cache"))
    torch.manual_seed(0)
    save_checkpoint(pair / "m.pt", REDCNN(width=4), mode="mse", normalization=Normalization(),
                    config={"width": 4}, data={"source": "test"})
    engine = Engine(load_checkpoint(pair / "m.pt"), device="cpu", disk_cache=False)
    case = open_case(pair / "ldct", pair / "ndct")
    paths = export_comparisons(case, {"mse": engine}, pair / "e", [5], (400, 40), plane="sagittal")
    assert [p.name for p in paths] == ["sagittal_0006.png"]
    assert engine.stats.slices_computed == SLICES
    text = read_png_text(paths[0])
    assert "metrics" in text and text["orientation"] == "sagittal, top S, left A"
