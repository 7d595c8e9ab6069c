"""Assign volumes to train/val/test by patient, so no patient appears in two splits."""

from __future__ import annotations

import numpy as np


def assign_splits(
    groups: list[str], *, val_fraction: float, test_fraction: float, seed: int
) -> list[str]:
    """Split name for each volume, given each volume's group key (patient id).

    Groups are shuffled deterministically by ``seed``; at least one group goes to validation
    whenever there are two or more, test gets ``round(test_fraction * n)`` groups (possibly
    none), and training always keeps at least one.
    """
    if not (0.0 <= val_fraction < 1.0 and 0.0 <= test_fraction < 1.0 and val_fraction + test_fraction < 1.0):
        raise ValueError("val and test fractions must be in [0, 1) and sum to less than 1")
    unique = sorted(set(groups))
    n = len(unique)
    order = np.random.default_rng(np.random.SeedSequence([seed, 0x5B117])).permutation(n)
    n_val = max(1, int(round(val_fraction * n))) if n >= 2 and val_fraction > 0 else 0
    n_test = int(round(test_fraction * n)) if n >= 3 else 0
    while n_val + n_test > n - 1 and (n_val > 1 or n_test > 0):
        if n_test > 0:
            n_test -= 1
        else:
            n_val -= 1
    split_of = {}
    for rank, idx in enumerate(order):
        split_of[unique[idx]] = "val" if rank < n_val else "test" if rank < n_val + n_test else "train"
    return [split_of[g] for g in groups]
