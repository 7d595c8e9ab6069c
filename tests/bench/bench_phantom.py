"""Phantom generation speed: 512² x 32 slices (target well under 20 s on 2 CPU cores).

Run: ``.venv/bin/python tests/bench/bench_phantom.py``. Prints absolute times for a chest and an
abdominal volume and the ratio against a baseline measured in the same run: filling the same
volume with one 3D band-limited texture field (the cheapest meaningful operation per voxel).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ldct_viewer.ct.phantom import render_phantom  # noqa: E402
from ldct_viewer.ct.phantom_shapes import gaussian_random_field  # noqa: E402


def best_of(fn, repeats: int = 2) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    size, slices = 512, 32
    print(f"torch threads: {torch.get_num_threads()}, volume {slices} x {size}²")
    rng = np.random.default_rng(0)
    base = best_of(lambda: gaussian_random_field(rng, (slices, size, size), (1.0, 0.74, 0.74), 1.2))
    print(f"baseline one texture field: {base:.2f} s")
    for level, name in ((120.0, "chest"), (330.0, "abdomen")):
        t = best_of(lambda: render_phantom(size=size, slices=slices, seed=1, start_z_mm=level))
        print(f"phantom {name} (level {level:.0f} mm): {t:.2f} s  ({t / base:.1f}x one texture field, "
              f"{t / slices * 1000:.0f} ms/slice)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
