"""``ldct-train evaluate``: the per-condition table, checked against direct computation."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from ldct_viewer.analysis.metrics import psnr, rmse, ssim
from ldct_viewer.errors import InputError
from ldct_viewer.model import REDCNN, Normalization, save_checkpoint
from trainer.evaluate import evaluate
from trainer_fixtures import CONDITIONS, write_tiny_dataset


def _checkpoint(path, mode, *, identity: bool, seed: int = 0):
    """A width-4 RED-CNN; with all weights zero it is the identity on [0, 1] inputs (out = relu(x))."""
    torch.manual_seed(seed)
    model = REDCNN(width=4)
    if identity:
        for p in model.parameters():
            torch.nn.init.zeros_(p)
    save_checkpoint(path, model, mode=mode, normalization=Normalization(), config={}, data={})
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    # 96 px: room for NDCT-flat 32 px tiles beside the blobs, where texture is measured
    ds = write_tiny_dataset(root / "ds", size=96, slices=2, splits=("train", "val", "test", "test"))
    return ds, _checkpoint(root / "identity.pt", "mse", identity=True), _checkpoint(root / "random.pt", "wgan-gp",
                                                                                       identity=False)


def test_table_rows_match_direct_metrics(setup, tmp_path):
    ds, identity, random_ckpt = setup
    results = evaluate([str(identity), str(random_ckpt)], ds, out=tmp_path / "out", quiet=True)
    assert results["methods"] == ["LDCT", "mse", "wgan-gp"]
    rows = results["rows"]
    assert [r["condition"] for r in rows] == CONDITIONS + ["mean"]  # ordered by dose, then views
    assert rows[0]["label"] == "10 % / 180 views"
    for row in rows[:-1]:
        cond = row["condition"]
        ndct = np.concatenate([np.load(ds / "ndct" / f"phantom0{i}.npy") for i in (2, 3)])
        ldct = np.concatenate([np.load(ds / "ldct" / cond / f"phantom0{i}.npy") for i in (2, 3)])
        assert row["slices"] == 4
        assert row["LDCT|rmse"] == pytest.approx(np.mean([rmse(a, b) for a, b in zip(ldct, ndct)]), rel=1e-9)
        assert row["LDCT|psnr"] == pytest.approx(np.mean([psnr(a, b, 4096.0) for a, b in zip(ldct, ndct)]), rel=1e-9)
        assert row["LDCT|ssim"] == pytest.approx(np.mean([ssim(a, b, 4096.0) for a, b in zip(ldct, ndct)]), rel=1e-9)
        # the zero-weight network passes its input through: its scores are the input's
        for key in ("rmse", "psnr", "ssim", "texture_db", "power_ratio_db"):
            assert row[f"mse|{key}"] == pytest.approx(row[f"LDCT|{key}"], rel=1e-4, abs=1e-4)
        assert row["wgan-gp|rmse"] != pytest.approx(row["LDCT|rmse"], rel=1e-3)
    mean = rows[-1]
    assert mean["LDCT|rmse"] == pytest.approx(np.mean([r["LDCT|rmse"] for r in rows[:-1]]))
    # noisier conditions are further from NDCT, in RMSE and in texture
    assert rows[0]["LDCT|rmse"] > rows[1]["LDCT|rmse"] > rows[2]["LDCT|rmse"]
    assert rows[0]["LDCT|texture_db"] > rows[2]["LDCT|texture_db"]
    # ... and it is noise left in, not smoothing: the LDCT grain is above NDCT's, by the distance
    assert rows[0]["LDCT|power_ratio_db"] > 0
    assert abs(rows[0]["LDCT|power_ratio_db"]) <= rows[0]["LDCT|texture_db"] + 1e-9

    out = tmp_path / "out"
    table = (out / "table.md").read_text()
    assert "data_range 4096 HU" in table and "| **mean** |" in table and "texture (dB)" in table
    with open(out / "table.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["condition"] for r in csv_rows] == CONDITIONS + ["mean"]
    assert float(csv_rows[0]["LDCT rmse"]) == pytest.approx(rows[0]["LDCT|rmse"])
    assert float(csv_rows[0]["LDCT power_ratio_db"]) == pytest.approx(rows[0]["LDCT|power_ratio_db"])
    assert "power vs NDCT (dB)" in table and f"{rows[0]['LDCT|power_ratio_db']:+.2f}" in table
    assert json.loads((out / "results.json").read_text())["data_range_hu"] == 4096.0
    assert (out / "conditions.png").stat().st_size > 1000


def test_cli_prints_table_and_rejects_missing_split(setup, tmp_path):
    ds, identity, _ = setup
    proc = subprocess.run([sys.executable, "-m", "trainer", "evaluate", "--checkpoint", str(identity), "--data", str(ds),
                           "--split", "val", "--slices", "1", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| 10 % / 180 views |" in proc.stdout
    assert (tmp_path / "o" / "table.md").is_file()
    missing = subprocess.run([sys.executable, "-m", "trainer", "evaluate", "--checkpoint", str(identity),
                              "--data", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "no manifest.json" in missing.stderr


def test_rmse_against_truth_when_the_dataset_keeps_it(setup, tmp_path):
    import shutil

    src, identity, _ = setup
    ds = tmp_path / "ds"
    shutil.copytree(src, ds)
    manifest = json.loads((ds / "manifest.json").read_text())
    rng = np.random.default_rng(5)
    (ds / "truth").mkdir()
    for vol in manifest["volumes"]:
        ndct = np.load(ds / "ndct" / f"{vol['id']}.npy")
        np.save(ds / "truth" / f"{vol['id']}.npy", (ndct + rng.normal(0, 3.0, ndct.shape)).astype(np.float32))
        vol["truth"] = True
    (ds / "manifest.json").write_text(json.dumps(manifest))
    results = evaluate([str(identity)], ds, out=tmp_path / "out", quiet=True)
    assert results["truth"] is True
    row = results["rows"][0]
    truth = np.concatenate([np.load(ds / "truth" / f"phantom0{i}.npy") for i in (2, 3)])
    ldct = np.concatenate([np.load(ds / "ldct" / row["condition"] / f"phantom0{i}.npy") for i in (2, 3)])
    assert row["LDCT|rmse_truth"] == pytest.approx(np.mean([rmse(a, b) for a, b in zip(ldct, truth)]), rel=1e-9)
    assert row["mse|rmse_truth"] == pytest.approx(row["LDCT|rmse_truth"], rel=1e-4)
    assert "RMSE vs truth" in (tmp_path / "out" / "table.md").read_text()
    assert "rmse_truth" in (tmp_path / "out" / "table.csv").read_text()
    plain = evaluate([str(identity)], src, quiet=True)
    assert plain["truth"] is False and "LDCT|rmse_truth" not in plain["rows"][0]


def test_texture_is_not_available_without_an_ndct_flat_region(tmp_path):
    """48 px slices hold 32 px tiles that all cross structure: no texture figure, rather than one
    from structured tiles (which reads ~0 dB for any image)."""
    ds = write_tiny_dataset(tmp_path / "ds", size=48, slices=2, splits=("train", "val", "test", "test"))
    identity = _checkpoint(tmp_path / "identity.pt", "mse", identity=True)
    results = evaluate([str(identity)], ds, out=tmp_path / "out", quiet=True)
    for row in results["rows"]:
        assert np.isnan(row["LDCT|texture_db"]) and np.isnan(row["mse|power_ratio_db"])
        assert row["LDCT|rmse"] > 0
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| 10 % / 180 views | n/a | n/a |" in table and "no flat ROI" in table


def test_existing_tables_are_never_overwritten_without_overwrite(setup, tmp_path):
    ds, identity, _ = setup
    out = tmp_path / "out"
    out.mkdir()
    (out / "table.md").write_text("my table\n")
    with pytest.raises(InputError, match=r"already holds table.md; choose another --out, or pass --overwrite"):
        evaluate([str(identity)], ds, out=out, quiet=True)
    proc = subprocess.run([sys.executable, "-m", "trainer", "evaluate", "--checkpoint", str(identity), "--data", str(ds),
                           "--out", str(out), "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--overwrite" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["table.md"]
    assert (out / "table.md").read_text() == "my table\n"
    evaluate([str(identity)], ds, out=out, quiet=True, overwrite=True)
    assert (out / "table.md").read_text() != "my table\n"
    assert sorted(p.name for p in out.iterdir()) == ["conditions.png", "results.json", "table.csv", "table.md"]
