"""The architecture registry: U-Net and Restormer built, checkpointed, tiled; unknown names refused;
checkpoints without an architecture field read as RED-CNN; ``ldct-train fit --arch`` trains each."""

from __future__ import annotations

import json
import numpy as np
import pytest
import torch

from ldct_viewer.errors import CheckpointError
from ldct_viewer.inference import Engine
from ldct_viewer.inference.tiling import run_tiled
from ldct_viewer.model import REDCNN, Normalization, Restormer, UNet, build, load_checkpoint, save_checkpoint
from ldct_viewer.model.checkpoint import FORMAT, weights_sha256
from ldct_viewer.model.registry import UnknownArchitecture, get_architecture
from trainer_fixtures import write_tiny_dataset

TINY = {"unet": {"width": 4, "depth": 2}, "restormer": {"width": 4, "blocks": 1, "heads": 2}}


def test_names_match_loosely_and_unknown_ones_are_refused_by_name():
    assert get_architecture("RED-CNN") is get_architecture("redcnn") is get_architecture("red_cnn")
    assert get_architecture("U-Net").cls is UNet and get_architecture("Restormer").cls is Restormer
    with pytest.raises(UnknownArchitecture, match="'SwinIR'.*known: redcnn"):
        get_architecture("SwinIR")
    with pytest.raises(ValueError, match="multiple of heads"):
        build("restormer", {"width": 6, "heads": 4})
    with pytest.raises(ValueError, match="no hyper-parameter 'kernel_size'"):
        build("unet", {"kernel_size": 3})


@pytest.mark.parametrize("arch", ["unet", "restormer"])
def test_round_trip_records_the_architecture_and_rebuilds_it(tmp_path, arch):
    torch.manual_seed(0)
    model = build(arch, TINY[arch]).eval()
    save_checkpoint(tmp_path / "m.pt", model, mode="mse", normalization=Normalization(), config={}, data={})
    ckpt = load_checkpoint(tmp_path / "m.pt")
    assert ckpt.metadata["architecture"] == {"name": get_architecture(arch).name, **TINY[arch]}
    assert type(ckpt.model) is type(model) and ckpt.label == f"{get_architecture(arch).name}-MSE"
    x = torch.rand(1, 1, 37, 29)  # odd sizes: the U-Net pads to its pooling grid and crops back
    with torch.no_grad():
        assert torch.equal(ckpt.model(x), model(x)) and ckpt.model(x).shape == x.shape


def _write_raw(path, state, metadata):
    metadata["sha256"] = weights_sha256(state)
    torch.save({"format": FORMAT, "state_dict": state, "metadata_json": json.dumps(metadata)}, path)


def test_unknown_architecture_in_a_checkpoint_is_refused_naming_it(tmp_path):
    state = {k: v.clone() for k, v in UNet(4, 2).state_dict().items()}
    _write_raw(tmp_path / "x.pt", state, {"architecture": {"name": "SwinIR", "width": 4}, "mode": "mse",
                                          "normalization": Normalization().to_dict()})
    with pytest.raises(CheckpointError, match="refused: unknown architecture 'SwinIR'"):
        load_checkpoint(tmp_path / "x.pt")


def test_checkpoint_without_architecture_field_is_red_cnn_with_shapes_read_off(tmp_path):
    torch.manual_seed(1)
    net = REDCNN(width=6, kernel_size=3)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    _write_raw(tmp_path / "old.pt", state, {"mode": "mse", "normalization": Normalization().to_dict()})
    ckpt = load_checkpoint(tmp_path / "old.pt")
    assert isinstance(ckpt.model, REDCNN) and (ckpt.model.width, ckpt.model.kernel_size) == (6, 3)
    # U-Net weights without the field are not RED-CNN's: refused with the reason
    _write_raw(tmp_path / "unet.pt", {k: v.clone() for k, v in UNet(4, 2).state_dict().items()},
               {"mode": "mse", "normalization": Normalization().to_dict()})
    with pytest.raises(CheckpointError, match="not RED-CNN's"):
        load_checkpoint(tmp_path / "unet.pt")


def test_engine_tiles_a_unet_exactly_and_sizes_memory_by_architecture(tmp_path):
    torch.manual_seed(2)
    save_checkpoint(tmp_path / "u.pt", build("unet", TINY["unet"]), mode="mse", normalization=Normalization(),
                    config={}, data={})
    ckpt = load_checkpoint(tmp_path / "u.pt")
    hu = np.random.default_rng(0).normal(0, 100, (90, 70)).astype(np.float32)
    whole = Engine(ckpt, device="cpu", disk_cache=False).denoise(hu)
    tiled_engine = Engine(ckpt, device="cpu", disk_cache=False, max_tile_pixels=60 * 60)
    tiled = tiled_engine.denoise(hu)
    np.testing.assert_allclose(tiled, whole, atol=1e-3)
    assert tiled_engine.align == 4 and tiled_engine.halo % 4 == 0 and tiled_engine.halo >= 26
    assert tiled_engine._bytes_per_pixel() == ckpt.model.activation_bytes_per_pixel() > 0


def test_restormer_tiling_is_close_but_its_attention_is_global():
    torch.manual_seed(3)
    model = build("restormer", TINY["restormer"]).eval()
    x = torch.rand(1, 1, 64, 48)
    with torch.no_grad():
        whole, tiled = model(x), run_tiled(model, x, model.halo, 40 * 40)
    assert Restormer.global_context and float((whole - tiled).abs().max()) < 0.05


@pytest.mark.parametrize("arch", ["unet", "restormer"])
def test_fit_arch_trains_and_writes_a_loadable_checkpoint(tmp_path, arch, capsys):
    """``ldct-train fit --arch`` (in process: the CLI's own entry point), same modes and config keys."""
    from trainer.cli import main

    data = write_tiny_dataset(tmp_path / "ds", size=48, slices=2)
    sets = [f"model.{k}={v}" for k, v in TINY[arch].items()]
    tiny = ["dataset.patch_size=32", "dataset.stride=16", "dataset.batch_size=4", "sampling.patches_per_epoch=8",
            "sampling.val_patches=4", "run.device=cpu", "training.num_epochs=1", "training.sample_interval=100"]
    code = main(["fit", "--arch", arch, "--mode", "mse", "--data", str(data), "--out", str(tmp_path / "run"),
                 *(f"--set={s}" for s in sets + tiny)])
    assert code == 0, capsys.readouterr().err
    ckpt = load_checkpoint(tmp_path / "run" / "best.pt")
    assert ckpt.architecture == get_architecture(arch).name and ckpt.model.arch_params() == TINY[arch]
    assert ckpt.metadata["config"]["model"]["arch"] == arch and ckpt.metadata["evaluation"]
    capsys.readouterr()
    bad = main(["fit", "--arch", arch, "--mode", "mse", "--data", str(data), "--out", str(tmp_path / "bad"),
                "--set", "model.width=0"])
    err = capsys.readouterr().err
    assert bad == 2 and "model.width must be positive" in err and len(err.strip().splitlines()) == 1
