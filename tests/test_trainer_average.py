"""``ldct-train average``: the weight mean of a run's checkpoints, through the real CLI."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from ldct_viewer.inference import Engine
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint
from ldct_viewer.model_card import model_card


def write_checkpoint(path, *, seed, width=4, mode="wgan-gp", epoch=1, normalization=Normalization()):
    torch.manual_seed(seed)
    net = REDCNN(width=width)
    save_checkpoint(path, net, mode=mode, normalization=normalization, config={"seed": seed}, data={"path": "ds"},
                    training={"epochs_done": epoch, "mode": mode})
    return load_checkpoint(path)


def ldct_train(*args):
    return subprocess.run([sys.executable, "-m", "trainer", "average", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_average_is_the_mean_of_the_weights_and_records_its_sources(tmp_path):
    sources = [write_checkpoint(tmp_path / f"epoch_{e:03d}.pt", seed=e, epoch=e) for e in (3, 4, 5)]
    proc = ldct_train(*(c.path for c in sources), "--out", tmp_path / "swa.pt", "--note", "epochs 3-5")
    assert proc.returncode == 0, proc.stderr
    assert "mean of 3 checkpoints" in proc.stdout
    avg = load_checkpoint(tmp_path / "swa.pt")
    assert avg.mode == "wgan-gp" and avg.normalization == Normalization()
    for key, tensor in avg.model.state_dict().items():
        expected = sum(c.model.state_dict()[key].double() for c in sources) / 3
        torch.testing.assert_close(tensor.double(), expected, rtol=0, atol=1e-7)
        assert not torch.equal(tensor, sources[0].model.state_dict()[key])  # not a copy of one source
    recorded = avg.metadata["training"]["weight_average"]
    assert [s["sha256"] for s in recorded["sources"]] == [c.sha256 for c in sources]
    assert [s["epoch"] for s in recorded["sources"]] == [3, 4, 5] and recorded["note"] == "epochs 3-5"
    assert avg.metadata["config"] == {"seed": 5}  # the last source's provenance
    assert "best_epoch" not in avg.metadata["training"]  # no single epoch is the network
    card = dict(model_card(avg).section("Mode and training").lines)
    assert card["weights"] == "mean of 3 checkpoints (epochs 3–5)"
    assert card["selection"].startswith("the mean of the weights of epochs 3–5: uniform mean")
    out = Engine(avg, device="cpu", disk_cache=False).denoise(np.zeros((32, 32), np.float32))
    assert out.shape == (32, 32) and np.isfinite(out).all()


@pytest.mark.parametrize("case, message", [
    ("width", r"RED-CNN\(width=8, kernel_size=5\), but .* is RED-CNN\(width=4, kernel_size=5\)"),
    ("mode", "trained as mse, .* as wgan-gp"),
    ("normalization", "normalization .* differs"),
    ("twice", "the same weights as"),
    ("one", "at least two checkpoints"),
    ("exists", "exists; choose a new file"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case, message):
    a = write_checkpoint(tmp_path / "a.pt", seed=1).path
    kwargs = {"width": {"width": 8}, "mode": {"mode": "mse"},
              "normalization": {"normalization": Normalization(-1024.0, 3072.0)}}.get(case, {})
    b = write_checkpoint(tmp_path / "b.pt", seed=2, **kwargs).path
    inputs = {"twice": [a, tmp_path / "copy.pt"], "one": [a]}.get(case, [a, b])
    if case == "twice":
        (tmp_path / "copy.pt").write_bytes(a.read_bytes())
    out = tmp_path / "avg.pt"
    if case == "exists":
        out.write_bytes(b"keep me")
    proc = ldct_train(*inputs, "--out", out)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert re.search(message, lines[0]), lines[0]
    assert out.read_bytes() == b"keep me" if case == "exists" else not out.exists()
