"""Peak resident memory of denoising one 512² slice on the CPU with a full-width model (≤ 1.5 GB)."""

import json
import os
import subprocess
import sys
import textwrap

import torch

from ldct_viewer.model import REDCNN, Normalization, save_checkpoint

MEASURE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import load_checkpoint

    engine = Engine(load_checkpoint(sys.argv[1]), device="cpu", disk_cache=False)
    hu = np.random.default_rng(0).normal(0, 200, (512, 512)).astype(np.float32)
    out = engine.denoise(hu)
    assert out.shape == (512, 512)
    # VmHWM is this process's own peak RSS. ru_maxrss is not: after a (v)fork + exec from a big
    # parent (pytest late in the suite) Linux carries the parent's RSS over into the child's maximum.
    status = open("/proc/self/status").read()
    kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    print(json.dumps({"peak_bytes": kib * 1024}))
    """
)


def test_one_512_slice_stays_under_1_5_gb(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "w96.pt"
    save_checkpoint(path, REDCNN(width=96), mode="mse", normalization=Normalization(), config={}, data={})
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "LDCT_VIEWER_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    peak = json.loads(result.stdout.strip().splitlines()[-1])["peak_bytes"]
    assert peak <= 1.5e9, f"peak RSS {peak / 1e9:.2f} GB"
