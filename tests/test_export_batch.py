"""export_comparisons on a real Case with real inference Engines (tiny checkpoints)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from dicom_factory import phantom_volume, write_ct_series
from PIL import Image
from pydicom.uid import generate_uid

from ldct_viewer.opening import open_case
from ldct_viewer.errors import InputError
from ldct_viewer.export import compose_comparison, export_comparisons, parse_slices, read_png_text
from ldct_viewer.export.compose import PLACEHOLDER_FILL
from ldct_viewer.inference import Engine
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint
from ldct_viewer.windowing import window_to_uint8

SIZE, SLICES = 32, 4


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    study, frame = generate_uid(), generate_uid()
    ndct = phantom_volume(SLICES, SIZE, seed=1)
    ldct = np.maximum(ndct + np.random.default_rng(5).normal(0, 30, ndct.shape).round(), -1024).astype(np.float32)
    write_ct_series(tmp_path / "full", ndct, study_uid=study, frame_of_reference_uid=frame)
    write_ct_series(tmp_path / "quarter", ldct, study_uid=study, frame_of_reference_uid=frame)
    engines = {}
    for mode, seed in (("mse", 0), ("wgan-gp", 1)):
        torch.manual_seed(seed)
        path = tmp_path / f"{mode}.pt"
        save_checkpoint(path, REDCNN(width=4), mode=mode, normalization=Normalization(), config={"width": 4},
                        data={"source": "test"})
        engines[mode] = Engine(load_checkpoint(path), device="cpu", disk_cache=False)
    case = open_case(tmp_path / "quarter", tmp_path / "full")
    return case, engines, tmp_path


@pytest.mark.parametrize("text, expected", [("all", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), ("3", [2]), ("2:4", [1, 2, 3]),
                                            (" 9: ", [8, 9]), (":2", [0, 1]), ("1,5:6,5", [0, 4, 5])])
def test_parse_slices_is_one_based_and_inclusive(text, expected):
    assert parse_slices(text, 10) == expected


@pytest.mark.parametrize("text", ["0", "11", "4:2", "x", "1-3", "", "3:12"])
def test_parse_slices_rejects(text):
    with pytest.raises(InputError):
        parse_slices(text, 10)


def test_export_writes_exact_panels_and_provenance(env):
    case, engines, tmp_path = env
    out = tmp_path / "png" / "nested"
    seen = []
    paths = export_comparisons(case, engines, out, [1, 3], (400, 40), "minus_ndct", 40.0,
                               progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in paths] == ["slice_0002.png", "slice_0004.png"]
    assert seen == [(1, 2), (2, 2)]
    ldct = case.ldct_slice(1)
    expected = compose_comparison(ldct, engines["mse"].denoise(ldct), engines["wgan-gp"].denoise(ldct),
                                  case.ndct_slice(1), window=(400, 40), diff_mode="minus_ndct", diff_range=40.0)
    with Image.open(paths[0]) as image:
        rgb = np.asarray(image)
    assert rgb.shape == expected.rgb.shape == (expected.header_height + 2 * (expected.band_height + SIZE) + 4,
                                               4 * SIZE + 12, 3)
    top, left, h, w = expected.tiles["ldct"]
    np.testing.assert_array_equal(rgb[top:top + h, left:left + w, 0], window_to_uint8(ldct, 400, 40))
    for key in ("mse", "wgan-gp", "ndct", "diff:mse", "colorbar"):
        top, left, h, w = expected.tiles[key]
        np.testing.assert_array_equal(rgb[top:top + h, left:left + w], expected.tile(key))

    text = read_png_text(paths[0])
    assert text["slice"] == "2/4"
    assert text["window"] == "400/40"
    assert text["ldct.series_uid"] == case.ldct.uid
    assert text["ndct.series_uid"] == case.ndct.uid
    assert text["mse.checkpoint_sha256"] == engines["mse"].checkpoint.sha256
    assert text["wgan-gp.checkpoint_sha256"] == engines["wgan-gp"].checkpoint.sha256
    assert text["diff"] == "minus_ndct +-40 HU"
    metrics = json.loads(text["metrics"])
    assert set(metrics) == {"ldct", "mse", "wgan-gp"}
    assert metrics["mse"]["rmse"] == pytest.approx(expected.metrics["mse"]["rmse"], abs=1e-4)
    grain = expected.metrics["ldct"]["grain_db"]  # strict JSON: a slice without a flat region writes null
    assert metrics["ldct"]["grain_db"] == (None if np.isnan(grain) else pytest.approx(grain, abs=1e-4))
    assert "NaN" not in text["metrics"]


def test_never_overwrites_and_names_stay_unique(env):
    case, engines, tmp_path = env
    out = tmp_path / "png"
    out.mkdir()
    (out / "slice_0001.png").write_bytes(b"keep me")
    first = export_comparisons(case, {"mse": engines["mse"]}, out, [0], "abdomen")
    second = export_comparisons(case, {"mse": engines["mse"]}, out, [0], "abdomen")
    assert [p.name for p in first + second] == ["slice_0001_2.png", "slice_0001_3.png"]
    assert (out / "slice_0001.png").read_bytes() == b"keep me"


def test_missing_engine_gives_a_placeholder_panel(env):
    case, engines, tmp_path = env
    paths = export_comparisons(case, {"mse": None, "wgan-gp": engines["wgan-gp"]}, tmp_path / "p", [0], (400, 40))
    text = read_png_text(paths[0])
    assert "mse.checkpoint_sha256" not in text and "wgan-gp.checkpoint_sha256" in text
    layout = compose_comparison(case.ldct_slice(0), None, None, None, window=(400, 40), with_metrics=False)
    with Image.open(paths[0]) as image:
        rgb = np.asarray(image)
    assert rgb.shape == layout.rgb.shape
    top, left, h, w = layout.tiles["mse"]
    grey = (rgb[top:top + h, left:left + w] == np.array(PLACEHOLDER_FILL, np.uint8)).all(axis=2)
    assert grey.mean() > 0.5  # the MSE column is a placeholder
    top, left, h, w = layout.tiles["wgan-gp"]
    np.testing.assert_array_equal(rgb[top:top + h, left:left + w, 1],
                                  window_to_uint8(engines["wgan-gp"].denoise(case.ldct_slice(0)), 400, 40))


def test_cancel_stops_between_slices(env):
    case, engines, tmp_path = env
    cancel = threading.Event()

    def progress(done, total):
        if done == 1:
            cancel.set()

    paths = export_comparisons(case, engines, tmp_path / "c", None, "abdomen", progress=progress, cancel=cancel)
    assert len(paths) == 1


def test_bad_arguments_are_input_errors(env):
    case, engines, tmp_path = env
    with pytest.raises(InputError):
        export_comparisons(case, engines, tmp_path / "x", [4], "abdomen")
    with pytest.raises(InputError):
        export_comparisons(case, engines, tmp_path / "x", [0], "nonsense")
    with pytest.raises(InputError):
        export_comparisons(case, engines, tmp_path / "x", [0], "abdomen", "both")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        export_comparisons(case, engines, tmp_path / "file", [0], "abdomen")
