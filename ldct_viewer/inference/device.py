"""Choosing the compute device and preparing it (threads, cuDNN autotuning), without importing Qt."""

from __future__ import annotations

import os

import torch

from ldct_viewer.errors import InputError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def usable_cpu_count() -> int:
    """CPUs this process may run on (respects affinity masks and container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def choose_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA, else MPS, else CPU; a forced device that is absent is an ``InputError``."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {name}: CUDA is not available on this machine (use auto or cpu)")
        return torch.device(name)
    if name == "mps":
        if not mps_available():
            raise InputError("--device mps: Apple MPS is not available on this machine (use auto or cpu)")
        return torch.device("mps")
    raise InputError(f"--device {name}: unknown device (choose from {', '.join(DEVICE_CHOICES)})")


def prepare_device(device: torch.device) -> None:
    """Use every CPU core for CPU work; let cuDNN pick the fastest kernels for fixed shapes."""
    if device.type == "cpu":
        torch.set_num_threads(usable_cpu_count())
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def describe_device(device: torch.device, precision: str = "fp32") -> str:
    """Short human description, e.g. ``CPU, 8 threads`` or ``NVIDIA H100 (CUDA, fp16)``."""
    if device.type == "cpu":
        return f"CPU, {torch.get_num_threads()} threads"
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA, {precision})"
    if device.type == "mps":
        return f"Apple GPU (MPS, {precision})"
    return str(device)
