"""``ldct-train import``: a plain state_dict (public RED-CNN layout, or ours) → safe checkpoint, round trip."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from ldct_viewer.errors import CheckpointError
from ldct_viewer.inference import Engine
from ldct_viewer.model import REDCNN, Normalization, build, load_checkpoint
from ldct_viewer.model.foreign import convert, default_test_slice, import_state_dict
from trainer.cli import main


def public_redcnn_state(width=4, seed=0, wrapped=False):
    """A state_dict named as github.com/SSinyu/RED-CNN saves it: conv1…5, tconv1…5 (module. under DataParallel)."""
    torch.manual_seed(seed)
    ours = REDCNN(width=width)
    ours.start_as_identity()  # a near-identity network that lowers the image by 0.01 (41 HU at scale 4096)
    with torch.no_grad():
        ours.deconv5.weight.normal_(0.0, 1e-4)
        ours.deconv5.bias.fill_(-0.01)
    prefix = "module." if wrapped else ""
    return ours, {prefix + k.replace("deconv", "tconv"): v.clone() for k, v in ours.state_dict().items()}


@pytest.mark.parametrize("wrapped", [False, True])
def test_public_redcnn_state_dict_round_trips_through_the_cli(tmp_path, wrapped, capsys):
    ours, state = public_redcnn_state(wrapped=wrapped)
    torch.save(state, tmp_path / "REDCNN_100000iter.ckpt")
    code = main(["import", str(tmp_path / "REDCNN_100000iter.ckpt"), "--arch", "redcnn", "--layout", "public-redcnn",
                 "--hu-min", "-1024", "--hu-max", "3072", "--out", str(tmp_path / "imported.pt")])
    out = capsys.readouterr()
    assert code == 0, out.err
    renamed = 20 if wrapped else 10  # tconv* (and every module. prefix)
    assert f"RED-CNN(width=4, kernel_size=5): names and shapes match ({renamed} renamed" in out.err
    ckpt = load_checkpoint(tmp_path / "imported.pt")
    assert ckpt.normalization == Normalization(-1024.0, 3072.0) and ckpt.mode == "mse"
    imported = ckpt.metadata["imported"]
    assert imported["source_file"] == "REDCNN_100000iter.ckpt" and imported["layout"] == "public-redcnn"
    assert 30 < imported["sanity"]["mean_change_hu"] < 50  # the weights' 0.01 × 4096 HU shift
    for key, tensor in ours.state_dict().items():  # every weight arrived under our name, unchanged
        assert torch.equal(ckpt.model.state_dict()[key], tensor)
    hu = default_test_slice(64)[0]
    x = (torch.from_numpy(hu)[None, None] + 1024) / 4096
    with torch.no_grad():
        expected = (ours.eval()(x) * 4096 - 1024)[0, 0].numpy()
    np.testing.assert_allclose(Engine(ckpt, device="cpu", disk_cache=False).denoise(hu), expected, atol=1e-2)
    assert main(["import", str(tmp_path / "REDCNN_100000iter.ckpt"), "--arch", "redcnn", "--hu-min", "-1024",
                 "--hu-max", "3072", "--out", str(tmp_path / "imported.pt")]) == 2  # never writes over
    assert "exists" in capsys.readouterr().err


def test_native_unet_state_dict_imports_with_shapes_read_off(tmp_path):
    torch.manual_seed(1)
    net = build("unet", {"width": 4, "depth": 2})
    net.start_as_identity()
    torch.save(net.state_dict(), tmp_path / "unet_state.pt")
    report = import_state_dict(tmp_path / "unet_state.pt", tmp_path / "u.pt", arch="unet", hu_min=-1024, hu_max=3072)
    assert report.params == {"width": 4, "depth": 2} and report.mean_change_hu < 1.0
    assert load_checkpoint(tmp_path / "u.pt").architecture == "U-Net"


def test_mismatches_and_unsafe_files_are_refused(tmp_path):
    _, state = public_redcnn_state()
    with pytest.raises(CheckpointError, match="missing deconv1.*unexpected tconv1"):
        convert(state, "redcnn", "native")  # the public names without the layout
    with pytest.raises(CheckpointError, match="layout public-redcnn is for RED-CNN, not U-Net"):
        convert(state, "unet", "public-redcnn")
    bad = dict(state)
    bad["tconv5.weight"] = torch.zeros(4, 2, 5, 5)
    with pytest.raises(CheckpointError, match=r"deconv5.weight has shape \[4, 2, 5, 5\].*expects \[4, 1, 5, 5\]"):
        convert(bad, "redcnn", "public-redcnn")
    with pytest.raises(CheckpointError, match="unknown architecture 'swinir'"):
        convert(state, "swinir")
    torch.save({"model": state, "epoch": 3}, tmp_path / "training.ckpt")
    with pytest.raises(CheckpointError, match="not a plain state_dict.*extract its model state_dict"):
        import_state_dict(tmp_path / "training.ckpt", tmp_path / "o.pt", arch="redcnn", hu_min=-1024, hu_max=3072)

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    (tmp_path / "evil.ckpt").write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(CheckpointError, match="evil.ckpt: (refused|unreadable)"):
        import_state_dict(tmp_path / "evil.ckpt", tmp_path / "o.pt", arch="redcnn", hu_min=-1024, hu_max=3072)
    assert not (tmp_path / "o.pt").exists()


def test_sanity_run_refuses_a_wrong_normalization_unless_forced(tmp_path):
    _, state = public_redcnn_state()
    torch.save(state, tmp_path / "r.ckpt")
    # the weights shift the image by 0.01 of the normalized range: 41 HU at the right scale (4096 HU),
    # 655 HU when the user wrongly states a 65536-HU window
    with pytest.raises(CheckpointError, match="differs from the input by 6.. HU on average"):
        import_state_dict(tmp_path / "r.ckpt", tmp_path / "o.pt", arch="redcnn", layout="public-redcnn",
                          hu_min=-32768, hu_max=32768)
    assert not (tmp_path / "o.pt").exists()
    report = import_state_dict(tmp_path / "r.ckpt", tmp_path / "o.pt", arch="redcnn", layout="public-redcnn",
                               hu_min=-32768, hu_max=32768, force=True)
    assert load_checkpoint(tmp_path / "o.pt").metadata["imported"]["sanity"]["forced"] is True
    assert np.isnan(report.mean_change_hu)
