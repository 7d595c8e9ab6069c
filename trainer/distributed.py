"""One process or many (``torchrun``): device choice, process group, rank-0 duties, reductions.

Under ``torchrun`` the environment carries RANK / LOCAL_RANK / WORLD_SIZE; we then join a process
group (nccl on CUDA, gloo on CPU), pin one GPU per local rank, and only rank 0 writes files and
prints. Without those variables everything here is a no-op around a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ldct_viewer.errors import ConfigError


@dataclass(frozen=True)
class Context:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(preference: str, local_rank: int = 0) -> torch.device:
    """``auto`` → the local rank's GPU if CUDA is available, else the CPU."""
    if preference == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError:
        raise ConfigError(f"run.device: unknown device {preference!r} (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"run.device: {preference} requested but CUDA is not available")
        if device.index is None:
            device = torch.device(f"cuda:{local_rank}")
    return device


def setup(preference: str) -> Context:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(preference, local_rank)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Context(rank=rank, world_size=world, local_rank=local_rank, device=device)


def teardown(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.barrier()  # nobody leaves while another process still talks to it (gloo aborts on a closed peer)
        dist.destroy_process_group()


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(ctx: Context, values: torch.Tensor) -> torch.Tensor:
    """Sum of ``values`` over all processes (a copy on ``values``' device; the input itself in one
    process). The reduction itself runs on the process's device: NCCL reduces CUDA tensors only,
    and the validation totals are gathered on the CPU."""
    if not ctx.distributed:
        return values
    out = values.to(ctx.device, copy=True)
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out.to(values.device)


def wrap(ctx: Context, module: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel around ``module`` when running under torchrun, else the module."""
    if not ctx.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)
