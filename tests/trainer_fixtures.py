"""A tiny variable-dose dataset written directly in the pinned layout, for the trainer tests.

Volumes are smooth blobs on a soft-tissue background (NDCT, with a little texture) and LDCT =
NDCT + white noise whose level grows as dose and views fall.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CONDITIONS = ["d10_v180", "d50_v360", "d100_v720"]
NOISE_HU = {"d10_v180": 120.0, "d50_v360": 50.0, "d100_v720": 20.0}


def ndct_volume(rng: np.random.Generator, slices: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    vol = np.full((slices, size, size), 40.0, dtype=np.float32)
    for _ in range(4):
        cy, cx = rng.uniform(0.2, 0.8, 2) * size
        r = rng.uniform(0.08, 0.2) * size
        vol += np.float32(rng.uniform(-200, 400)) * ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r)
    vol += rng.normal(0, 5, vol.shape).astype(np.float32)
    return vol


def write_tiny_dataset(root: Path, *, size: int = 48, slices: int = 2, seed: int = 0,
                       splits=("train", "train", "val", "test")) -> Path:
    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / "ndct").mkdir(parents=True)
    volumes = []
    for i, split in enumerate(splits):
        vid = f"phantom{i:02d}"
        ndct = ndct_volume(rng, slices, size)
        np.save(root / "ndct" / f"{vid}.npy", ndct)
        for cond in CONDITIONS:
            (root / "ldct" / cond).mkdir(parents=True, exist_ok=True)
            ldct = ndct + rng.normal(0, NOISE_HU[cond], ndct.shape).astype(np.float32)
            np.save(root / "ldct" / cond / f"{vid}.npy", ldct)
        volumes.append({"id": vid, "source": f"test-phantom seed {seed} #{i}", "split": split, "slices": slices,
                        "spacing": [1.0, 0.75, 0.75]})
    manifest = {"format": "ldct-variable-dose/1", "conditions": CONDITIONS, "normalization": None,
                "volumes": volumes}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return root
