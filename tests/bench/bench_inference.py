"""Benchmark RED-CNN inference: naive eager loop vs ``Engine.denoise``, FLOP/s vs matmul, peak RSS.

Run: ``.venv/bin/python tests/bench/bench_inference.py [--device cpu|cuda] [--slices N]``.
Width-96 RED-CNN with seeded random weights, 512² slices. Everything is measured in this run:

(a) naive per-slice fp32 eager loop (``model(x)`` one slice at a time, no tricks);
(b) ``Engine.denoise`` on the same slices, caches off → throughput ratio (target ≥ 0.95 on CPU,
    ≥ 3 on CUDA); the CPU layout/conv variants the engine chose between are timed too;
(c) achieved FLOP/s (analytic: 2·k²·Cin·Cout·Hout·Wout per layer) as a fraction of a 4096³ fp32
    ``torch.mm`` (target ≥ 75 %);
(d) peak RSS of a fresh process denoising one slice on the CPU (target ≤ 1.5 GB);
(e) CUDA only: a 300-slice series through two models (target ≤ 5 s on an H100).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch

from ldct_viewer.inference import Engine
from ldct_viewer.inference.device import usable_cpu_count
from ldct_viewer.inference.fast_redcnn import FastREDCNN
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint


def redcnn_flops(model: REDCNN, height: int, width: int) -> int:
    """Multiply-adds ×2 of every conv/deconv for one ``height × width`` slice."""
    k, w = model.kernel_size, model.width
    flops, h, wd = 0, height, width
    channels = [(1, w)] + [(w, w)] * 4
    for cin, cout in channels:  # valid convolutions shrink by k-1
        h, wd = h - (k - 1), wd - (k - 1)
        flops += 2 * k * k * cin * cout * h * wd
    for cin, cout in [(w, w)] * 4 + [(w, 1)]:  # transposed convolutions grow by k-1
        h, wd = h + (k - 1), wd + (k - 1)
        flops += 2 * k * k * cin * cout * h * wd
    return flops


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops_per_s(device: torch.device, n: int = 4096, repeats: int = 3) -> float:
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def naive_loop(model: torch.nn.Module, volume: np.ndarray, norm: Normalization, device: torch.device) -> float:
    """(a): one slice at a time, fp32, eager, no layout or precision tricks. Returns seconds."""
    sync(device)
    t0 = time.perf_counter()
    with torch.no_grad():
        for hu in volume:
            x = norm.to_model(torch.from_numpy(hu).to(device)[None, None])
            norm.to_hu(model(x))[0, 0].cpu().numpy()
    sync(device)
    return time.perf_counter() - t0


def engine_run(engine: Engine, volume: np.ndarray) -> float:
    engine.cache.clear_memory()
    sync(engine.device)
    t0 = time.perf_counter()
    engine.denoise(volume)
    sync(engine.device)
    return time.perf_counter() - t0


def time_variant(net: torch.nn.Module, x: torch.Tensor, repeats: int = 2, warmup: bool = True) -> float:
    with torch.inference_mode():
        if warmup:
            net(x)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            net(x)
            best = min(best, time.perf_counter() - t0)
    return best


PEAK_RSS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import load_checkpoint
    engine = Engine(load_checkpoint(sys.argv[1]), device="cpu", disk_cache=False)
    engine.denoise(np.random.default_rng(0).normal(0, 200, (int(sys.argv[2]),) * 2).astype(np.float32))
    # VmHWM, not ru_maxrss: the latter inherits the (large) parent's RSS across fork + exec.
    status = open("/proc/self/status").read()
    kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    print(json.dumps({"peak": kib * 1024}))
    """
)


def peak_rss_one_slice(ckpt: Path, size: int) -> int:
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(ckpt), str(size)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak"]


def make_checkpoint(folder: Path, name: str, seed: int, width: int, mode: str) -> Path:
    torch.manual_seed(seed)
    path = folder / name
    save_checkpoint(path, REDCNN(width=width), mode=mode, normalization=Normalization(),
                    config={"bench": True, "seed": seed}, data={"source": "random weights"})
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--slices", type=int, default=None, help="slices per timing (default 3 CPU, 300 CUDA)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=2, help="alternating (a)/(b) rounds; the median counts")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available here", file=sys.stderr)
        return 2
    n = args.slices or (3 if device.type == "cpu" else 300)
    torch.set_num_threads(usable_cpu_count())

    tmp = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    os.environ["LDCT_VIEWER_CACHE"] = str(tmp / "cache")
    ckpt_path = make_checkpoint(tmp, "bench-mse.pt", 0, args.width, "mse")
    ckpt = load_checkpoint(ckpt_path)
    rng = np.random.default_rng(0)
    volume = rng.normal(0.0, 300.0, (n, args.size, args.size)).astype(np.float32)
    flops_per_slice = redcnn_flops(ckpt.model, args.size, args.size)

    print(f"device: {device}, threads: {torch.get_num_threads()}, torch {torch.__version__}")
    print(f"model: RED-CNN width {args.width}, {args.size}x{args.size} slices, {n} slices per timing, "
          f"{flops_per_slice / 1e12:.3f} TFLOP per slice")

    naive_model = REDCNN(width=args.width).to(device).eval()
    naive_model.load_state_dict(ckpt.model.state_dict())
    engine = Engine(ckpt, device=args.device, disk_cache=False)
    print(f"engine: {engine.device_description}")

    # warm-up (kernel selection, allocator) for both
    naive_loop(naive_model, volume[:1], ckpt.normalization, device)
    engine_run(engine, volume[:1])

    if device.type == "cpu":
        x = ckpt.normalization.to_model(torch.from_numpy(volume[0]))[None, None]
        cl = REDCNN(width=args.width).eval()
        cl.load_state_dict(ckpt.model.state_dict())
        cl = cl.to(memory_format=torch.channels_last)
        nets = {
            "eager ConvTranspose2d, NCHW (naive)": (naive_model, x),
            "eager ConvTranspose2d, channels_last": (cl, x.contiguous(memory_format=torch.channels_last)),
            "conv-only, NCHW": (FastREDCNN(ckpt.model, channels_last=False), x),
            "conv-only, channels_last (engine)": (FastREDCNN(ckpt.model, channels_last=True), x),
        }
        best = {name: float("inf") for name in nets}
        for round_ in range(2):  # round-robin, best of 2, so background load hits every variant alike
            for name, (net, inp) in nets.items():
                best[name] = min(best[name], time_variant(net, inp, repeats=1, warmup=round_ == 0))
        print("variants, one slice (round-robin, best of 2):")
        for name, seconds in best.items():
            print(f"  {name:40s} {seconds:7.3f} s  {flops_per_slice / seconds / 1e9:7.1f} GFLOP/s")

    naive_times, engine_times = [], []
    for _ in range(args.repeats):  # alternate so background load hits both alike
        naive_times.append(naive_loop(naive_model, volume, ckpt.normalization, device))
        engine_times.append(engine_run(engine, volume))
    naive_s, engine_s = statistics.median(naive_times), statistics.median(engine_times)
    ratio = naive_s / engine_s
    print(f"(a) naive eager loop : {naive_s:8.3f} s for {n} slices = {n / naive_s:7.2f} slices/s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in naive_times)})")
    print(f"(b) Engine.denoise   : {engine_s:8.3f} s for {n} slices = {n / engine_s:7.2f} slices/s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in engine_times)})")
    target = 0.95 if device.type == "cpu" else 3.0
    print(f"    throughput ratio engine/naive = {ratio:.2f}x (target >= {target})")

    mm = matmul_flops_per_s(device)
    achieved = flops_per_slice * n / engine_s
    print(f"(c) achieved {achieved / 1e9:.1f} GFLOP/s; 4096^3 fp32 torch.mm {mm / 1e9:.1f} GFLOP/s; "
          f"fraction {100 * achieved / mm:.0f}% (target >= 75%)")
    if device.type == "cuda":
        a16 = torch.randn(8192, 8192, device=device, dtype=torch.float16)
        torch.mm(a16, a16)
        sync(device)
        t0 = time.perf_counter()
        torch.mm(a16, a16)
        sync(device)
        mm16 = 2 * 8192**3 / (time.perf_counter() - t0)
        print(f"    (engine runs {engine.precision}; 8192^3 fp16 torch.mm {mm16 / 1e12:.1f} TFLOP/s, "
              f"fraction {100 * achieved / mm16:.0f}%)")

    peak = peak_rss_one_slice(ckpt_path, args.size)
    print(f"(d) peak RSS, one {args.size}^2 slice on CPU (fresh process): {peak / 1e9:.2f} GB (target <= 1.5 GB)")

    if device.type == "cuda":
        second = load_checkpoint(make_checkpoint(tmp, "bench-wgangp.pt", 1, args.width, "wgan-gp"))
        engines = [engine, Engine(second, device="cuda", disk_cache=False)]
        engine_run(engines[1], volume[:1])
        t0 = time.perf_counter()
        for e in engines:
            engine_run(e, volume)
        total = time.perf_counter() - t0
        print(f"(e) {n} slices x 2 models: {total:.2f} s (target <= 5 s on an H100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
