"""Export speed: windowing, composition, PNG writing, and one full exported slice (512²).

Run: ``.venv/bin/python tests/bench/bench_export.py [--no-inference]``. Prints absolute times and
ratios against baselines measured in the same run:
  * window_to_uint8 vs a straightforward numpy expression (clip/round/astype),
  * composition (labels, layout) vs windowing the four tiles alone,
  * a whole exported slice vs the two network passes it needs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def naive_window(hu: np.ndarray, width: float, level: float) -> np.ndarray:
    low = level - width / 2
    return np.clip(np.round((hu - low) / width * 255.0), 0, 255).astype(np.uint8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-inference", action="store_true", help="skip the full-slice export with RED-CNN")
    args = parser.parse_args()

    import torch

    from ldct_viewer.export import compose_comparison, export_comparisons, write_png
    from ldct_viewer.windowing import diverging_rgb, window_to_uint8

    print(f"torch threads: {torch.get_num_threads()}, CPU cores: {os.cpu_count()}")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:512, :512]
    ndct = np.where(np.hypot(yy - 256, xx - 256) < 200, 40.0, -1000.0).astype(np.float32)
    stack = np.stack([ndct + rng.normal(0, s, ndct.shape).astype(np.float32) for s in (40, 8, 15, 0)])

    t_ours = best_of(lambda: window_to_uint8(stack, 400, 40), 20)
    t_naive = best_of(lambda: naive_window(stack, 400, 40), 20)
    print(f"window 4x512²:            {t_ours * 1e3:7.2f} ms   naive numpy {t_naive * 1e3:7.2f} ms   "
          f"ratio {t_ours / t_naive:.2f}")
    t_div = best_of(lambda: diverging_rgb(stack[:3] - stack[3], 50.0), 10)
    print(f"diverging map 3x512²:     {t_div * 1e3:7.2f} ms")

    ldct, mse, wgan, ref = stack
    t_compose = best_of(lambda: compose_comparison(ldct, mse, wgan, ref, window=(400, 40), with_metrics=False))
    print(f"compose 1 row, no metrics:{t_compose * 1e3:7.2f} ms   windowing alone {t_ours * 1e3:.2f} ms   "
          f"ratio {t_compose / t_ours:.1f}")
    t_compose_diff = best_of(lambda: compose_comparison(ldct, mse, wgan, ref, window=(400, 40), diff_mode="minus_ndct",
                                                        with_metrics=False))
    print(f"compose 2 rows, no metrics:{t_compose_diff * 1e3:6.2f} ms")
    t_metrics = best_of(lambda: compose_comparison(ldct, mse, wgan, ref, window=(400, 40), diff_mode="minus_ndct"), 3)
    print(f"compose 2 rows + metrics: {t_metrics * 1e3:7.2f} ms   (RMSE/PSNR/SSIM for 3 images)")
    comp = compose_comparison(ldct, mse, wgan, ref, window=(400, 40), diff_mode="minus_ndct")
    with tempfile.TemporaryDirectory() as tmp:
        for level in (1, 6):
            paths = iter(Path(tmp) / f"c{level}_{k}.png" for k in range(100))
            t_png = best_of(lambda: write_png(next(paths), comp.rgb, {"window": "400/40"}, compress_level=level), 3)
            size = (Path(tmp) / f"c{level}_0.png").stat().st_size
            print(f"write_png {comp.rgb.shape[1]}x{comp.rgb.shape[0]} level {level}: {t_png * 1e3:7.2f} ms, "
                  f"{size / 1e6:.2f} MB")

    if args.no_inference:
        return 0
    from dicom_factory import write_ct_series  # noqa: E402  (tests/ on sys.path below)

    from ldct_viewer.case import open_case
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["LDCT_VIEWER_CACHE"] = str(tmp / "cache")
        vol = np.maximum(stack[[0, 3]], -1024).round()
        write_ct_series(tmp / "q", vol[:1], spacing=(1.0, 0.74, 0.74))
        write_ct_series(tmp / "f", vol[1:], spacing=(1.0, 0.74, 0.74))
        case = open_case(tmp / "q", tmp / "f")
        engines = {}
        for mode in ("mse", "wgan-gp"):
            torch.manual_seed(0)
            save_checkpoint(tmp / f"{mode}.pt", REDCNN(), mode=mode, normalization=Normalization(), config={},
                            data={})
            engines[mode] = Engine(load_checkpoint(tmp / f"{mode}.pt"), device="auto", disk_cache=False)
        print(f"device: {engines['mse'].device_description}")
        t0 = time.perf_counter()
        for engine in engines.values():
            engine.denoise(case.ldct_slice(0))
        t_inf = time.perf_counter() - t0
        # fresh engines (memory cache empty, no disk cache): the export pays for inference again
        engines = {m: Engine(load_checkpoint(tmp / f"{m}.pt"), device="auto", disk_cache=False) for m in engines}
        t0 = time.perf_counter()
        export_comparisons(case, engines, tmp / "out", [0], (400, 40), "ndct", 50.0)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        export_comparisons(case, engines, tmp / "out", [0], (400, 40), "ndct", 50.0)
        t_warm = time.perf_counter() - t0
        print(f"inference 2 nets x 512²:  {t_inf:7.2f} s")
        print(f"export 1 slice, cold:     {t_cold:7.2f} s   ratio to inference {t_cold / t_inf:.2f}")
        print(f"export 1 slice, cached:   {t_warm:7.2f} s   (composition + metrics + PNG)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/dicom_factory.py
    raise SystemExit(main())
