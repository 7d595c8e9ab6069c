"""Grid patches, seeded epoch plans, symmetries applied identically to input and target."""

import json

import numpy as np
import torch

from ldct_viewer.model import Normalization
from trainer.data import VariableDoseDataset
from trainer.patches import PatchSet, apply_symmetry, build_grid, epoch_plan, fixed_subset, grid_starts, make_loader
from trainer_fixtures import CONDITIONS, write_tiny_dataset


def test_grid_starts():
    assert grid_starts(64, 32, 16).tolist() == [0, 16, 32]
    assert grid_starts(70, 32, 16).tolist() == [0, 16, 32]  # a patch never leaves the image
    assert grid_starts(20, 32, 16).size == 0


def test_grid_covers_every_slice_condition_and_corner(tmp_path):
    ds = VariableDoseDataset(write_tiny_dataset(tmp_path / "ds", size=48, slices=2))
    grid = build_grid(ds, "train", 32, 16)
    assert grid.volume_ids == ["phantom00", "phantom01"]
    assert grid.conditions == CONDITIONS
    assert len(grid) == 2 * len(CONDITIONS) * 2 * 2 * 2  # volumes x conditions x slices x rows x cols
    assert len({tuple(r) for r in grid.index}) == len(grid)
    assert set(grid.index[:, 3]) == {0, 16}


def test_epoch_plan_is_seeded_per_epoch():
    a1, c1 = epoch_plan(100, epoch=1, seed=0, limit=40, multiple=16)
    a1b, c1b = epoch_plan(100, epoch=1, seed=0, limit=40, multiple=16)
    a2, _ = epoch_plan(100, epoch=2, seed=0, limit=40, multiple=16)
    assert a1.size == 32 and np.array_equal(a1, a1b) and np.array_equal(c1, c1b)
    assert not np.array_equal(a1, a2)
    assert len(set(a1.tolist())) == a1.size
    assert set(c1.tolist()) <= set(range(8))
    none, codes = epoch_plan(100, epoch=1, seed=0, augment=False)
    assert none.size == 100 and not codes.any()
    assert np.array_equal(fixed_subset(50, 10, 3), fixed_subset(50, 10, 3))
    assert fixed_subset(50, 0, 3).size == 50


def test_the_eight_symmetries_are_distinct():
    patch = np.arange(16.0).reshape(4, 4)
    images = {apply_symmetry(patch, k).tobytes() for k in range(8)}
    assert len(images) == 8


def test_patches_are_normalized_and_augmented_identically(tmp_path):
    root = write_tiny_dataset(tmp_path / "ds", size=48, slices=2)
    # make LDCT = NDCT + a ramp, so any mismatch between input and target symmetry shows
    manifest = json.loads((root / "manifest.json").read_text())
    ramp = np.linspace(0, 300, 48, dtype=np.float32)[None, :, None] + np.linspace(0, 30, 48, dtype=np.float32)
    for v in manifest["volumes"]:
        ndct = np.load(root / "ndct" / f"{v['id']}.npy")
        for cond in CONDITIONS:
            np.save(root / "ldct" / cond / f"{v['id']}.npy", ndct + ramp)
    ds = VariableDoseDataset(root)
    grid = build_grid(ds, "train", 32, 16)
    norm = Normalization()
    rows, codes = epoch_plan(len(grid), epoch=1, seed=0)
    patches = PatchSet(grid, rows, codes, norm)
    x, y = patches[list(range(len(patches)))]
    assert x.shape == (len(grid), 1, 32, 32) and x.dtype == torch.float32
    ldct, ndct = patches.fetch(list(range(len(patches))))
    assert torch.allclose(y[:, 0], norm.to_model(torch.from_numpy(ndct)))
    for i in range(len(patches)):
        v, c, z, r, col = grid.index[rows[i]]
        raw_ramp = ramp[0, r : r + 32, col : col + 32]
        assert np.allclose(ldct[i] - ndct[i], apply_symmetry(raw_ramp, codes[i]), atol=1e-3)
        raw_ndct = np.load(root / "ndct" / f"{grid.volume_ids[v]}.npy")[z, r : r + 32, col : col + 32]
        assert np.array_equal(ndct[i], apply_symmetry(raw_ndct, codes[i]))


def test_loader_shards_like_distributed_sampler(tmp_path):
    ds = VariableDoseDataset(write_tiny_dataset(tmp_path / "ds", size=48, slices=2))
    grid = build_grid(ds, "train", 32, 16)
    rows, codes = epoch_plan(len(grid), epoch=3, seed=1, multiple=8)
    patches = PatchSet(grid, rows, codes, Normalization())
    whole = torch.cat([x for x, _ in make_loader(patches, 8)])
    shards = [torch.cat([x for x, _ in make_loader(patches, 4, rank=r, world=2)]) for r in (0, 1)]
    assert torch.equal(shards[0], whole[0::2]) and torch.equal(shards[1], whole[1::2])
