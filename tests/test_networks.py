"""The network list (keys, labels, saved form), the N-panel grid choice and ViewState.set_panels (no Qt)."""

from __future__ import annotations

import pytest
import torch

from ldct_viewer.errors import InputError
from ldct_viewer.model import Normalization, build, save_checkpoint
from ldct_viewer.networks import (MAX_NETWORKS, Network, bundled_pair, from_json, network_for, networks_from_specs,
                                  panel_titles, to_json)
from ldct_viewer.panel_layout import best_grid, grid_shape, image_scale
from ldct_viewer.viewstate import ViewState


def _ckpt(path, arch, params, mode="mse"):
    torch.manual_seed(0)
    save_checkpoint(path, build(arch, params), mode=mode, normalization=Normalization(), config={}, data={})
    return str(path)


def test_keys_and_labels_come_from_the_checkpoints_and_stay_unique(tmp_path):
    unet = _ckpt(tmp_path / "a.pt", "unet", {"width": 2, "depth": 1})
    other = _ckpt(tmp_path / "b.pt", "unet", {"width": 2, "depth": 1})
    wgan = _ckpt(tmp_path / "c.pt", "redcnn", {"width": 2}, mode="wgan-gp")
    nets = networks_from_specs(["mse", unet, other, wgan, "wgan-gp"])
    assert [n.key for n in nets] == ["mse", "u-net-mse", "u-net-mse-b", "red-cnn-wgan-gp", "wgan-gp"]
    assert [n.label for n in nets] == ["RED-CNN-MSE", "U-Net-MSE", "U-Net-MSE (b)", "RED-CNN-WGAN-GP", "RED-CNN-WGAN-GP"]
    assert nets[0].spec is None and nets[1].spec == unet
    assert list(panel_titles(nets)) == ["ldct", *(n.key for n in nets), "ndct"]
    assert from_json(to_json(nets)) == nets
    # an unreadable file keeps its stem as label (loading it later reports the problem)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert network_for(str(tmp_path / "junk.pt"), nets).label == "junk"
    with pytest.raises(InputError, match="compare 1 to"):
        networks_from_specs(["mse"] * (MAX_NETWORKS + 1))


def test_saved_lists_that_are_malformed_are_dropped():
    good = Network("u", "U", "/x/u.pt")
    text = to_json([good]).replace("]", ', {"key": "ldct", "label": "x", "spec": "y"}, {"key": "z", "label": "z"}, 5]')
    assert from_json(text) == [good]  # a reserved key, a non-bundled entry without a file, junk
    assert from_json("not json") == [] and from_json(to_json(bundled_pair())) == bundled_pair()


def test_grid_choice_shows_the_images_largest():
    assert best_grid(6, 1900, 900) == (2, 3)
    assert best_grid(4, 1900, 500) == (1, 4)
    assert best_grid(8, 1000, 1000) == (3, 3)
    for rows, cols in [(1, 6), (3, 2), (6, 1)]:
        assert image_scale(rows, cols, 1900, 900) < image_scale(2, 3, 1900, 900)
    assert grid_shape("1x4", 6, 1900, 900) == (1, 6)
    assert grid_shape("2x2", 4, 1900, 500) == (2, 2)  # two rows even where one row is larger
    assert grid_shape("auto", 4, 1900, 500) == (1, 4)


def test_view_state_keeps_panels_that_stay_and_starts_new_ones_from_the_active_one():
    state = ViewState(n_slices=10)
    state.set_window(800, 100)
    state.set_slice(4)
    events = []
    state.subscribe("panels", lambda panels: events.append(panels))
    state.set_panels(("ldct", "mse", "u-net-mse", "ndct"))
    assert events == [("ldct", "mse", "u-net-mse", "ndct")]
    assert state.slice_of("u-net-mse") == 4 and state.window_of("u-net-mse").width == 800
    state.set_slice(6)
    assert all(state.slice_of(p) == 6 for p in state.panels)
    state.set_panels(("ldct", "mse", "u-net-mse", "ndct"))
    assert len(events) == 1  # no change, no event
    with pytest.raises(ValueError):
        state.set_panels(("ldct", "ldct"))
    state.toggle_layout()
    assert state.layout == "2x2"
    state.toggle_layout()
    state.toggle_layout()
    assert state.layout == "auto"
