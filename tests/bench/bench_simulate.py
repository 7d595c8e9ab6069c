"""Benchmark: forward projection + FBP of one 512² slice at 720 views, ours vs scikit-image, same CPU.

Run: ``.venv/bin/python tests/bench/bench_simulate.py``. Same parallel geometry on both sides (720 angles
over 180°, detector covering the image diagonal as skimage's ``circle=False``; and the inscribed circle,
``circle=True``, with N bins). Ours is timed after a warm-up call: the sparse interpolation matrices are
built once per geometry and cached (build time printed separately). Fan-beam and the whole
``simulate_low_dose`` are reported as well.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from skimage.data import shepp_logan_phantom
from skimage.transform import iradon, radon, resize

from ldct_viewer.ct import (
    FanBeamFBP,
    FanBeamGeometry,
    FanBeamProjector,
    ParallelBeamGeometry,
    ParallelFBP,
    ParallelProjector,
    SimulationParams,
    simulate_low_dose,
)

N, VIEWS, SPACING = 512, 720, 380.0 / 512
CPU = torch.device("cpu")


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ours(project, reconstruct, image: torch.Tensor) -> tuple[float, float]:
    start = time.perf_counter()
    project(image)  # builds the projector's matrix
    reconstruct(project(image))  # builds the FBP's matrix
    build = time.perf_counter() - start
    return build, best_of(lambda: reconstruct(project(image)))


def main() -> None:
    image = resize(shepp_logan_phantom(), (N, N)).astype(np.float64)
    theta = np.arange(VIEWS) * 180.0 / VIEWS
    tensor = torch.from_numpy(image.astype(np.float32))[None] * 0.02
    print(f"one {N}x{N} slice, {VIEWS} views, torch threads: {torch.get_num_threads()}")

    skimage_times = {}
    for circle in (False, True):
        if circle:
            geometry = ParallelBeamGeometry(tuple(np.deg2rad(theta)), N, SPACING, math.pi / VIEWS)
        else:
            geometry = ParallelBeamGeometry.for_image(N, SPACING, VIEWS)
        project, reconstruct = ParallelProjector(geometry, N, SPACING, CPU), ParallelFBP(geometry, N, SPACING, CPU)
        build, _ = ours(project, reconstruct, tensor)
        # Interleave the two so that load from other processes hits both alike; keep the best of each.
        sk_runs, our_runs = [], []
        for _ in range(3):
            sk_runs.append(best_of(lambda: iradon(radon(image, theta, circle=circle), theta, circle=circle), 1))
            our_runs.append(best_of(lambda: reconstruct(project(tensor)), 3))
        sk, t = min(sk_runs), min(our_runs)
        skimage_times[circle] = sk
        label = "circle=True " if circle else "circle=False"
        print(f"parallel {label} ({geometry.bins} bins): skimage radon+iradon {sk:.3f} s | ours {t:.3f} s "
              f"(one-off build {build:.1f} s) | ratio {sk / t:.1f}x")

    fan = FanBeamGeometry.for_image(N, SPACING, VIEWS)
    build, t = ours(FanBeamProjector(fan, N, SPACING, CPU), FanBeamFBP(fan, N, SPACING, CPU), tensor)
    sk = skimage_times[False]
    print(f"fan-beam ({fan.bins} bins, curved, 595/1085.6 mm): ours {t:.3f} s (build {build:.1f} s) | "
          f"ratio vs skimage parallel circle=False ({sk:.3f} s) {sk / t:.1f}x")

    hu = (image.astype(np.float32) * 1000.0 - 1000.0)[None]
    for geometry_name in ("parallel", "fan"):
        params = SimulationParams(geometry=geometry_name)
        simulate_low_dose(hu, SPACING, dose=0.25, views=VIEWS, device="cpu", params=params)  # warm-up
        for method in ("full", "noise-insertion"):
            t = best_of(lambda: simulate_low_dose(hu, SPACING, dose=0.25, views=VIEWS, method=method,
                                                  device="cpu", params=params), repeats=2)
            print(f"simulate_low_dose {geometry_name:8s} {method:15s}: {t:.3f} s per slice")


if __name__ == "__main__":
    main()
