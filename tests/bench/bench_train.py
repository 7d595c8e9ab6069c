"""Training throughput (patches/s) and the share of step time spent waiting for data.

Runs the real ``trainer.fit.fit`` loop (MSE and WGAN-GP) on a synthetic dataset in the pinned
layout, width 96 (the paper's), patch 64, batch 16, a few steps, and compares it with a baseline
measured in the same run: the bare optimizer step on one pre-loaded batch (no loader, no logging).
Each device is measured in fp32 and with bfloat16 autocast (run.amp): on CUDA, and on the CPU
(where oneDNN has bf16 kernels on AVX512-BF16/AMX CPUs; elsewhere it is emulated and slower). Usage:

    .venv/bin/python tests/bench/bench_train.py [--steps 6] [--width 96] [--batch 16] [--workers 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trainer_fixtures import write_tiny_dataset  # noqa: E402

from ldct_viewer.model import REDCNN  # noqa: E402
from trainer.config import load_config  # noqa: E402
from trainer.critic import Critic, critic_loss  # noqa: E402
from trainer.fit import fit  # noqa: E402


def bare_steps(mode: str, width: int, batch: int, patch: int, steps: int, device: str, amp: bool) -> float:
    """Seconds per optimizer iteration without any data loading: the compute baseline."""
    dev = torch.device(device)
    g = REDCNN(width=width).to(dev, memory_format=torch.channels_last)
    c = Critic().to(dev, memory_format=torch.channels_last)
    opt_g, opt_c = torch.optim.Adam(g.parameters(), 1e-4), torch.optim.Adam(c.parameters(), 1e-4)
    x, y = torch.rand(batch, 1, patch, patch, device=dev), torch.rand(batch, 1, patch, patch, device=dev)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp)

    def step(i):
        if mode == "mse":
            with autocast:
                loss = F.mse_loss(g(x).float(), y)
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
        else:
            with torch.no_grad(), autocast:
                fake = g(x)
            loss_c, _, _ = critic_loss(c, y, fake.float(), 10.0)  # the critic in fp32, as fit runs it
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
            if i % 5 == 4:
                with autocast:
                    fake = g(x)
                loss_g = 0.05 * -c(fake.float()).mean() + 0.95 * F.mse_loss(fake.float(), y)
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
        float(loss.item() if mode == "mse" else loss_c.item())

    step(0)  # warm-up
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    return (time.perf_counter() - t0) / steps


def fit_run(mode: str, data: Path, work: Path, width: int, batch: int, steps: int, workers: int, device: str,
            amp: bool) -> dict:
    overrides = [f"model.width={width}", f"dataset.batch_size={batch}", "dataset.patch_size=64", "dataset.stride=32",
                 f"sampling.patches_per_epoch={batch * steps}", "sampling.val_patches=16", "training.num_epochs=1",
                 "training.sample_interval=100", f"sampling.num_workers={workers}", f"run.device={device}",
                 f"run.amp={'true' if amp else 'false'}"]
    out = work / f"{mode}-{device}-{'amp' if amp else 'fp32'}"
    summary = fit(load_config(overrides=overrides), mode=mode, data=data, out=out)
    return summary["history"][-1]


def cpu_bf16() -> str:
    """The CPU's bf16 instructions, which decide whether CPU autocast can pay off."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    except OSError:
        return "CPU flags unknown"
    found = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return "bf16: " + (", ".join(found) if found else "none, emulated")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--width", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    try:
        load = " (load average %.1f)" % __import__("os").getloadavg()[0]
    except OSError:
        load = ""
    devices = [("cpu", False), ("cpu", True)] + ([("cuda", False), ("cuda", True)] if torch.cuda.is_available() else [])
    rates = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads ({cpu_bf16()}); "
          f"RED-CNN width {args.width}, patch 64, batch {args.batch}, {args.steps} steps per measurement{load}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_tiny_dataset(tmp / "ds", size=256, slices=4, splits=("train", "train", "val"))
        for device, amp in devices:
            for mode in ("mse", "wgan-gp"):
                bare = bare_steps(mode, args.width, args.batch, 64, args.steps, device, amp)
                bare_rate = args.batch / bare
                h = fit_run(mode, data, tmp, args.width, args.batch, args.steps, args.workers, device, amp)
                label = f"{device}{' +AMP(bf16)' if amp else ''} {mode}"
                rates[device, amp, mode] = h["patches_per_s"]
                vs_fp32 = (f", {h['patches_per_s'] / rates[device, False, mode]:.2f}x fp32's fit loop"
                           if amp else "")
                print(f"{label:22s} bare step {bare * 1000:8.1f} ms = {bare_rate:7.1f} patches/s | "
                      f"fit loop {h['patches_per_s']:7.1f} patches/s (ratio {h['patches_per_s'] / bare_rate:.2f} "
                      f"of bare{vs_fp32}), data wait {100 * h['data_wait_share']:.2f} % of step time")


if __name__ == "__main__":
    main()
