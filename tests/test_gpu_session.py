"""scripts/gpu_session.sh end to end on the CPU, shrunk: the script a CUDA session runs as one
time-boxed command must get from nothing to an evaluated pair, and bundle.py must bundle that pair, its
WGAN-GP network the weight average of the run's epochs (slow: ~3 minutes). The MSE fit gets 30 s; the
WGAN-GP fit runs three epochs, with 90 s as a backstop: a step of the shrunk run takes up to ~4 s on the
2-core dev machine under load."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ldct_viewer.model import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = "model.width=8 dataset.batch_size=8 sampling.val_patches=32 sampling.num_workers=0 run.amp=false"


def _real_sources(folder: Path) -> Path:
    """One small real-like NDCT series (a water ellipse with a grain of its own), as DICOM."""
    import numpy as np

    from ldct_viewer.io import write_series

    n = 96
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    body = (xx / 40) ** 2 + (yy / 30) ** 2 < 1
    rng = np.random.default_rng(0)
    ndct = np.where(body, 40.0 + rng.normal(0, 10, (2, n, n)), -1000.0).astype(np.float32)
    write_series(folder / "real", ndct, reference=None, description="real", spacing=(3.0, 1.5, 1.5),
                 patient_id="REAL-1", derived=False)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("with_sources", [False, True], ids=["phantoms", "phantoms+real"])
def test_gpu_session_script_runs_end_to_end(tmp_path, with_sources):
    env = {**os.environ, "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work"), "PY": sys.executable,
           "MSE_MIN": "0.5", "WGAN_MIN": "1.5", "VOLUMES": "8", "SLICES": "1", "SIZE": "128",
           "MSE_SET": TINY + " sampling.patches_per_epoch=64",
           # three epochs (the time box only a backstop): the weight average of epochs 2 and 3
           "WGAN_SET": TINY + " sampling.patches_per_epoch=32 loss.critic_warmup_iterations=8 training.num_epochs=3"}
    if with_sources:
        env["SOURCES"] = str(_real_sources(tmp_path / "sources"))
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_session.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = tmp_path / "out"
    log = (out / "session.log").read_text()
    # the bundled pair's recipe: 720 views only, the MSE network on the phantom training volumes only
    assert "conditions d10_v720,d25_v720,d50_v720,d100_v720;" in log
    manifest = json.loads((tmp_path / "work" / "ds" / "manifest.json").read_text())
    phantoms = [v["id"] for v in manifest["volumes"] if v["split"] == "train" and v.get("truth")]
    assert f"MSE training volumes {','.join(phantoms)}" in log
    real = [v for v in manifest["volumes"] if not v.get("truth")]
    assert len(real) == (1 if with_sources else 0)
    if with_sources:
        assert manifest["simulation"]["randomize_scanner"] is True
    assert sorted(p.name for p in out.iterdir()) == ["mse-best.pt", "runs.tar.gz", "session.log", "wgan-best.pt",
                                                     "wgan-swa.pt"]
    mse, wgan = load_checkpoint(out / "mse-best.pt"), load_checkpoint(out / "wgan-best.pt")
    assert mse.mode == "mse" and wgan.mode == "wgan-gp" and wgan.model.width == 8
    swa = load_checkpoint(out / "wgan-swa.pt")
    assert [s["epoch"] for s in swa.metadata["training"]["weight_average"]["sources"]] == [2, 3]
    assert "wgan-gp weight average of 2 epochs" in log
    assert "| **mean** |" in log and "done:" in log

    # and bundling what it returns, as history/HISTORY.md says: the weights unchanged, the evaluation embedded
    import tarfile

    with tarfile.open(out / "runs.tar.gz") as archive:
        archive.extractall(out, filter="data")
    repo = tmp_path / "repo"
    (repo / "resources" / "checkpoints").mkdir(parents=True)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bundle.py"),
                           "--mse", str(out / "mse-best.pt"), "--wgan", str(out / "wgan-swa.pt"),
                           "--eval", str(out / "eval"), "--tables"], cwd=repo, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    here = repo / "resources" / "checkpoints"
    bundled = load_checkpoint(here / "redcnn-mse.pt"), load_checkpoint(here / "redcnn-wgangp.pt")
    assert [b.sha256 for b in bundled] == [mse.sha256, swa.sha256]
    assert all(b.metadata["evaluation"]["split"] == "test" and b.metadata["evaluation"]["per_condition"]
               for b in bundled)
    assert sorted(p.name for p in here.iterdir() if not p.suffix == ".pt") == [
        "evaluation.csv", "evaluation.md", "evaluation_conditions.png"]
