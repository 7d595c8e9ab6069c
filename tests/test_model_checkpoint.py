"""Checkpoint round trip, stable hash, and refusal of unsafe, truncated or mismatched files."""

import json
import os
import pickle

import pytest
import torch

from ldct_viewer.errors import CheckpointError
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, resolve_checkpoint, save_checkpoint


def _save(path, width=8, seed=0, mode="mse"):
    torch.manual_seed(seed)
    model = REDCNN(width=width)
    sha = save_checkpoint(
        path, model, mode=mode, normalization=Normalization(-1000.0, 2000.0),
        config={"lr": 1e-4, "epochs": 2, "out": path.parent}, data={"source": "test"},
        evaluation={"rmse_hu": 12.5}, training={"epochs_run": 2},
    )
    return model, sha


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    model, sha = _save(tmp_path / "a.pt")
    ckpt = load_checkpoint(tmp_path / "a.pt")
    assert ckpt.sha256 == sha and len(sha) == 64
    assert ckpt.mode == "mse" and ckpt.path == tmp_path / "a.pt"
    assert ckpt.normalization == Normalization(-1000.0, 2000.0)
    md = ckpt.metadata
    assert md["architecture"] == {"name": "RED-CNN", "width": 8, "kernel_size": 5}
    assert md["config"]["lr"] == 1e-4 and md["config"]["out"] == str(tmp_path)
    assert md["data"] == {"source": "test"} and md["evaluation"]["rmse_hu"] == 12.5
    assert md["training"] == {"epochs_run": 2} and md["package_version"] and md["created"]
    assert not ckpt.model.training
    x = torch.rand(1, 1, 50, 50)
    with torch.no_grad():
        assert torch.equal(ckpt.model(x), model.eval()(x))
    assert not list(tmp_path.glob(".*tmp"))  # atomic save left no temp file


def test_hash_is_stable_and_tracks_weights(tmp_path):
    _, sha1 = _save(tmp_path / "a.pt", seed=3)
    _, sha2 = _save(tmp_path / "b.pt", seed=3, mode="wgan-gp")
    _, sha3 = _save(tmp_path / "c.pt", seed=4)
    assert sha1 == sha2 != sha3
    assert load_checkpoint(tmp_path / "b.pt").mode == "wgan-gp"


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("container", ["torch", "raw-pickle"])
def test_malicious_pickle_is_refused_without_running(tmp_path, container):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if container == "torch":
        torch.save({"format": "ldct-viewer-checkpoint/1", "state_dict": {}, "x": _Payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps(_Payload(marker), protocol=2))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert not marker.exists()
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_file_is_refused(tmp_path):
    _save(tmp_path / "a.pt")
    data = (tmp_path / "a.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt"):
        load_checkpoint(tmp_path / "cut.pt")


def test_wrong_shapes_and_missing_keys_are_refused(tmp_path):
    _save(tmp_path / "a.pt", width=8)
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    meta = json.loads(payload["metadata_json"])

    meta_wide = dict(meta, architecture={"name": "RED-CNN", "width": 16, "kernel_size": 5}, sha256=None)
    torch.save(dict(payload, metadata_json=json.dumps(meta_wide)), tmp_path / "shape.pt")
    with pytest.raises(CheckpointError, match="shape.pt.*do not fit"):
        load_checkpoint(tmp_path / "shape.pt")

    missing = {k: v for k, v in payload["state_dict"].items() if not k.startswith("deconv5")}
    torch.save(dict(payload, state_dict=missing), tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="missing.pt.*do not fit"):
        load_checkpoint(tmp_path / "missing.pt")

    tampered = dict(payload["state_dict"])
    tampered["conv1.bias"] = tampered["conv1.bias"] + 1
    torch.save(dict(payload, state_dict=tampered), tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*hash"):
        load_checkpoint(tmp_path / "tampered.pt")


def test_non_checkpoint_files_are_refused(tmp_path):
    (tmp_path / "notes.pt").write_text("hello")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "plain.pt")
    for name in ["notes.pt", "plain.pt"]:
        with pytest.raises(CheckpointError, match=name):
            load_checkpoint(tmp_path / name)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_bundled_names_resolve_or_explain(tmp_path, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_RESOURCES", str(tmp_path))
    with pytest.raises(CheckpointError, match="redcnn-mse.pt not found in .*ldct-train fit"):
        resolve_checkpoint("mse")
    (tmp_path / "checkpoints").mkdir()
    _save(tmp_path / "checkpoints" / "redcnn-wgangp.pt", mode="wgan-gp")
    assert resolve_checkpoint("wgan-gp") == tmp_path / "checkpoints" / "redcnn-wgangp.pt"
    assert load_checkpoint("wgan-gp").mode == "wgan-gp"
    assert os.fspath(resolve_checkpoint(tmp_path / "checkpoints" / "redcnn-wgangp.pt"))


def _rewrite(src, dst, **meta_changes):
    payload = torch.load(src, weights_only=True)
    meta = json.loads(payload["metadata_json"])
    for key, value in meta_changes.items():
        if value is _DROP:
            meta.pop(key, None)
        else:
            meta[key] = value
    torch.save(dict(payload, metadata_json=json.dumps(meta)), dst)
    return dst


_DROP = object()


def test_checkpoint_without_a_valid_hash_entry_is_refused(tmp_path):
    _save(tmp_path / "a.pt")
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    edited = dict(payload["state_dict"])
    edited["conv1.bias"] = edited["conv1.bias"] + 1  # edited weights, hash entry removed to hide it
    torch.save(dict(payload, state_dict=edited), tmp_path / "b.pt")
    for name, value in (("nohash.pt", _DROP), ("nullhash.pt", None), ("short.pt", "abc"), ("num.pt", 5)):
        _rewrite(tmp_path / "b.pt", tmp_path / name, sha256=value)
        with pytest.raises(CheckpointError, match=f"{name}: refused: .*no valid weights hash") as info:
            load_checkpoint(tmp_path / name)
        assert "\n" not in str(info.value)


def test_bundled_checkpoints_carry_their_hash():
    for name in ("mse", "wgan-gp"):
        ckpt = load_checkpoint(name)
        assert ckpt.metadata["sha256"] == ckpt.sha256


def test_non_finite_weights_are_refused(tmp_path):
    torch.manual_seed(0)
    model = REDCNN(width=4)
    with torch.no_grad():
        model.conv3.weight[0, 0, 0, 0] = float("nan")
    save_checkpoint(tmp_path / "nan.pt", model, mode="mse", normalization=Normalization(), config={}, data={})
    with pytest.raises(CheckpointError, match=r"nan.pt: refused: non-finite weights .*conv3.weight"):
        load_checkpoint(tmp_path / "nan.pt")


@pytest.mark.parametrize("arch, message", [
    ({"name": "RED-CNN", "width": 1000, "kernel_size": 5}, "do not fit"),
    ({"name": "RED-CNN", "width": 2000, "kernel_size": 5}, "width must be an integer from 1 to 1024"),
    ({"name": "RED-CNN", "width": 30000, "kernel_size": 5}, "width must be an integer from 1 to 1024"),
    ({"name": "RED-CNN", "width": 8, "kernel_size": 99}, "kernel_size must be an integer from 1 to 15"),
    ({"name": "RED-CNN", "width": "8", "kernel_size": 5}, "width must be an integer"),
])
def test_architecture_metadata_is_checked_before_anything_is_allocated(tmp_path, arch, message):
    """A small file claiming a huge width is refused without building that network (peak RSS)."""
    _save(tmp_path / "a.pt", width=8)
    bad = _rewrite(tmp_path / "a.pt", tmp_path / "bad.pt", architecture=arch)
    code = (
        "import sys, torch\n"
        "from ldct_viewer.errors import CheckpointError\n"
        "from ldct_viewer.model import load_checkpoint\n"
        "def status(key):  # kB; VmHWM is this process image's peak (ru_maxrss is inherited from the parent)\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith(key)][0].split()[1])\n"
        "before = status('VmRSS')\n"
        "try:\n"
        f"    load_checkpoint({str(bad)!r})\n"
        "except CheckpointError as err:\n"
        "    print(err)\n"
        "print((status('VmHWM') - before) // 1024)\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    error, grown_mb = result.stdout.strip().splitlines()
    assert "bad.pt" in error and message in error
    assert int(grown_mb) < 100
