"""resources/checkpoints/gpu_session.sh end to end on the CPU, shrunk: the script a CUDA session runs
as one time-boxed command must get from nothing to an evaluated pair (slow: ~1 minute)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ldct_viewer.model import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = "model.width=8 dataset.batch_size=8 sampling.val_patches=32 sampling.num_workers=0 run.amp=false"


@pytest.mark.slow
def test_gpu_session_script_runs_end_to_end(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work"), "PY": sys.executable,
           "MSE_MIN": "0.25", "WGAN_MIN": "0.25", "VOLUMES": "8", "SLICES": "1", "SIZE": "128",
           "MSE_SET": TINY + " sampling.patches_per_epoch=64", "WGAN_SET": TINY + " sampling.patches_per_epoch=32"}
    proc = subprocess.run(["bash", str(ROOT / "resources" / "checkpoints" / "gpu_session.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["mse-best.pt", "runs.tar.gz", "session.log", "wgan-best.pt"]
    mse, wgan = load_checkpoint(out / "mse-best.pt"), load_checkpoint(out / "wgan-best.pt")
    assert mse.mode == "mse" and wgan.mode == "wgan-gp" and wgan.model.width == 8
    log = (out / "session.log").read_text()
    assert "| **mean** |" in log and "done:" in log
