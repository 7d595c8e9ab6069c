"""Training patches: a regular grid over every slice and dose condition, drawn in a seeded order.

The grid (corners every ``stride`` px, ``patch_size`` square) is fixed by the data. What changes
per epoch — which patches, in which order, which of the 8 square symmetries (90° rotations ×
flip) — is drawn from ``numpy.random.default_rng([seed, epoch])``, so an epoch is reproducible from
two integers: that is what makes ``--resume`` exact, and the same in a DataLoader worker as in the
main process. Input (LDCT) and target (NDCT) always get the same symmetry; arbitrary-angle rotations
are not used (the seed found them ineffective; they would also interpolate the noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ldct_viewer.errors import InputError
from ldct_viewer.model import Normalization

# Columns of a grid index row.
VOLUME, CONDITION, SLICE, ROW, COL = range(5)


def grid_starts(size: int, patch: int, stride: int) -> np.ndarray:
    """Corners 0, stride, 2·stride, … that keep a ``patch`` inside ``size`` px."""
    if size < patch:
        return np.zeros(0, dtype=np.int32)
    return np.arange(0, size - patch + 1, stride, dtype=np.int32)


@dataclass
class PatchGrid:
    """Every grid patch of one split: rows of (volume, condition, slice, row, col) indices."""

    dataset: object  # trainer.data.VariableDoseDataset
    volume_ids: list[str]
    conditions: list[str]
    index: np.ndarray  # int32 [N, 5]
    patch_size: int

    def __len__(self) -> int:
        return int(self.index.shape[0])


def build_grid(dataset, split: str, patch_size: int, stride: int, conditions: list[str] | None = None,
               volumes: list[str] | None = None) -> PatchGrid:
    """The grid of ``split`` (only ``conditions`` / ``volumes`` of it when given)."""
    conditions = list(conditions if conditions is not None else dataset.conditions)
    volume_ids = [v for v in dataset.volumes(split) if volumes is None or v in volumes]
    blocks = []
    for v, vid in enumerate(volume_ids):
        z, h, w = dataset.ndct(vid).shape
        ys, xs = grid_starts(h, patch_size, stride), grid_starts(w, patch_size, stride)
        if not len(ys) or not len(xs):
            raise InputError(f"volume {vid}: slices of {h}x{w} px are smaller than a {patch_size} px patch")
        c, k, y, x = np.meshgrid(np.arange(len(conditions)), np.arange(z), ys, xs, indexing="ij")
        block = np.stack([np.full(c.size, v), c.ravel(), k.ravel(), y.ravel(), x.ravel()], axis=1)
        blocks.append(block.astype(np.int32))
    index = np.concatenate(blocks) if blocks else np.zeros((0, 5), dtype=np.int32)
    return PatchGrid(dataset=dataset, volume_ids=volume_ids, conditions=conditions, index=index,
                     patch_size=patch_size)


def epoch_plan(n: int, *, epoch: int, seed: int, limit: int = 0, augment: bool = True,
               multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(grid rows, symmetry codes 0..7) for one epoch: a seeded permutation, cut to ``limit`` (0 = all)
    and down to a multiple of ``multiple`` (the global batch) so every step is a full batch."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    if limit:
        order = order[:limit]
    codes = rng.integers(0, 8, size=order.size) if augment else np.zeros(order.size, dtype=np.int64)
    keep = (order.size // multiple) * multiple
    return order[:keep], codes[:keep].astype(np.uint8)


def fixed_subset(n: int, limit: int, seed: int) -> np.ndarray:
    """A seeded, sorted subset of ``limit`` rows (all when 0 or more than ``n``): validation patches."""
    if not limit or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 0x7A1]).choice(n, size=limit, replace=False))


def apply_symmetry(patch: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 square symmetries: ``code % 4`` quarter turns, then a left-right flip if ``code >= 4``."""
    out = np.rot90(patch, k=int(code) % 4, axes=(-2, -1))
    if code >= 4:
        out = out[..., ::-1]
    return out


class PatchSet(torch.utils.data.Dataset):
    """Batches of (LDCT, NDCT) patches, normalized, as [B, 1, p, p] float32 tensors.

    Indexed by a *list* of positions (use it with ``batch_size=None`` and a batch sampler): one call
    assembles a whole batch, which keeps Python overhead per patch small.
    """

    def __init__(self, grid: PatchGrid, rows: np.ndarray, codes: np.ndarray | None,
                 normalization: Normalization, condition_weights: np.ndarray | None = None,
                 with_conditions: bool = False) -> None:
        self.grid = grid
        self.with_conditions = with_conditions  # when True, batches end with each patch's condition index
        self.rows = np.asarray(rows, dtype=np.int64)
        self.codes = None if codes is None else np.asarray(codes, dtype=np.uint8)
        self.normalization = normalization
        # per-condition loss weights: when given, batches are (ldct, ndct, weight per patch)
        self.condition_weights = (None if condition_weights is None
                                  else np.asarray(condition_weights, dtype=np.float32))
        self._volumes: dict[tuple[int, int], np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.rows.size)

    def _volume(self, v: int, c: int) -> np.ndarray:
        """NDCT (c = -1) or LDCT memmap, opened once per process."""
        key = (v, c)
        if key not in self._volumes:
            vid = self.grid.volume_ids[v]
            ds = self.grid.dataset
            self._volumes[key] = ds.ndct(vid) if c < 0 else ds.ldct(vid, self.grid.conditions[c])
        return self._volumes[key]

    def fetch(self, positions) -> tuple[np.ndarray, np.ndarray]:
        """HU patches (ldct, ndct), float32 [B, p, p], symmetry applied."""
        p = self.grid.patch_size
        positions = np.atleast_1d(np.asarray(positions, dtype=np.int64))
        ldct = np.empty((positions.size, p, p), dtype=np.float32)
        ndct = np.empty_like(ldct)
        for i, pos in enumerate(positions):
            v, c, z, y, x = (int(a) for a in self.grid.index[self.rows[pos]])
            lo = self._volume(v, c)[z, y : y + p, x : x + p]
            hi = self._volume(v, -1)[z, y : y + p, x : x + p]
            if self.codes is not None and self.codes[pos]:
                lo, hi = apply_symmetry(lo, self.codes[pos]), apply_symmetry(hi, self.codes[pos])
            ldct[i], ndct[i] = lo, hi
        return ldct, ndct

    def conditions_of(self, positions) -> np.ndarray:
        """Condition index of each patch at ``positions``."""
        return self.grid.index[self.rows[np.atleast_1d(np.asarray(positions, dtype=np.int64))], 1]

    def __getitem__(self, positions) -> tuple[torch.Tensor, ...]:
        ldct, ndct = self.fetch(positions)
        norm = self.normalization
        batch = (norm.to_model(torch.from_numpy(ldct)).unsqueeze(1),
                 norm.to_model(torch.from_numpy(ndct)).unsqueeze(1))
        conditions = self.conditions_of(positions)
        if self.condition_weights is not None:
            batch = (*batch, torch.from_numpy(self.condition_weights[conditions]))
        if self.with_conditions:
            batch = (*batch, torch.from_numpy(conditions.astype(np.int64)))
        return batch


def input_mse_by_condition(grid: PatchGrid, normalization: Normalization, *, per_condition: int = 256,
                           seed: int = 0) -> np.ndarray:
    """MSE of the LDCT input against NDCT (normalized units) per condition of ``grid``, from a fixed
    sample of up to ``per_condition`` grid patches each: how much error each condition starts with."""
    patches = PatchSet(grid, np.arange(len(grid)), None, normalization)
    cond = grid.index[:, 1]
    rng = np.random.default_rng(seed)
    out = np.zeros(len(grid.conditions))
    for c in range(len(grid.conditions)):
        rows = np.flatnonzero(cond == c)
        if rows.size:
            pick = rng.choice(rows, size=min(per_condition, rows.size), replace=False)
            ldct, ndct = patches.fetch(pick)
            out[c] = float(np.mean(((ldct - ndct) / normalization.scale) ** 2))
    return out


def balancing_weights(input_mse: np.ndarray) -> np.ndarray:
    """Loss weight per condition, ``mean(input_mse) / input_mse``: every condition then counts by the
    share of its input error left, and the weighted loss of the identity equals its plain MSE."""
    input_mse = np.asarray(input_mse, dtype=np.float64)
    present = input_mse > 0
    weights = np.ones_like(input_mse)
    if present.any():
        weights[present] = input_mse[present].mean() / input_mse[present]
    return weights.astype(np.float32)


def make_loader(patches: PatchSet, batch_size: int, *, rank: int = 0, world: int = 1,
                num_workers: int = 0, pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """Batches of ``patches`` in plan order; under torchrun each process takes every ``world``-th
    patch (``DistributedSampler`` without shuffling: the plan is already shuffled). Only full
    batches."""
    if world > 1:
        order = torch.utils.data.DistributedSampler(patches, num_replicas=world, rank=rank, shuffle=False,
                                                    drop_last=True)
    else:
        order = torch.utils.data.SequentialSampler(patches)
    batches = torch.utils.data.BatchSampler(order, batch_size, drop_last=True)
    return torch.utils.data.DataLoader(
        patches, sampler=batches, batch_size=None, num_workers=num_workers, pin_memory=pin_memory,
        prefetch_factor=4 if num_workers else None,
    )
