"""The architectures a checkpoint may name, and building their modules from recorded hyper-parameters.

A checkpoint records ``{"name": "U-Net", "width": 32, "depth": 3}``; :func:`build` turns that back
into the module after checking every value (a hostile or mistyped file is refused before anything
is allocated). Each architecture's class provides ``check_params`` (values → ints, or ValueError),
``infer_params`` (from a state_dict's shapes), ``arch_params``, ``halo``, ``align``,
``global_context`` and ``activation_bytes_per_pixel``, which tiling and memory estimates use.
Names are matched loosely (``redcnn``, ``RED-CNN``, ``red_cnn``), so the CLI can say ``--arch unet``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from ldct_viewer.model.redcnn import REDCNN
from ldct_viewer.model.restormer import Restormer
from ldct_viewer.model.unet import UNet


@dataclass(frozen=True)
class Architecture:
    """A registered network: its recorded name, short CLI key, class and default hyper-parameters."""

    name: str  # recorded in checkpoints, shown in titles
    key: str  # what --arch takes
    cls: type[nn.Module]
    defaults: dict


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("RED-CNN", "redcnn", REDCNN, {"width": 96, "kernel_size": 5}),
    Architecture("U-Net", "unet", UNet, {"width": 32, "depth": 3}),
    Architecture("Restormer", "restormer", Restormer, {"width": 32, "blocks": 4, "heads": 2}),
)
DEFAULT_ARCHITECTURE = "RED-CNN"  # what a checkpoint without an architecture name holds


class UnknownArchitecture(ValueError):
    """A name that no registered architecture answers to."""


def _simple(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def architecture_keys() -> tuple[str, ...]:
    return tuple(a.key for a in ARCHITECTURES)


def get_architecture(name: str) -> Architecture:
    """The architecture called ``name`` (its name or key, any case and punctuation)."""
    wanted = _simple(name)
    for arch in ARCHITECTURES:
        if wanted in (_simple(arch.name), arch.key):
            return arch
    known = ", ".join(f"{a.key} ({a.name})" for a in ARCHITECTURES)
    raise UnknownArchitecture(f"unknown architecture {name!r} (known: {known})")


def architecture_of(model: nn.Module) -> Architecture:
    for arch in ARCHITECTURES:
        if type(model) is arch.cls:
            return arch
    raise TypeError(f"{type(model).__name__} is not a registered architecture")


def check_params(arch: Architecture, params: dict) -> dict:
    """``params`` checked and completed with the defaults; ValueError names the first bad or unknown one."""
    unknown = sorted(set(params) - set(arch.defaults))
    if unknown:
        raise ValueError(f"{arch.name} has no hyper-parameter {unknown[0]!r} (it has {', '.join(arch.defaults)})")
    return arch.cls.check_params(**{**arch.defaults, **params})


def build(name: str, params: dict | None = None) -> nn.Module:
    """A freshly initialized module of architecture ``name`` with ``params`` (checked; defaults fill gaps)."""
    arch = get_architecture(name)
    return arch.cls(**check_params(arch, dict(params or {})))


def describe(model: nn.Module) -> dict:
    """What a checkpoint records about ``model``'s architecture: ``{"name": ..., **hyper-parameters}``."""
    return {"name": architecture_of(model).name, **model.arch_params()}


def parameter_shapes(name: str, params: dict) -> dict[str, tuple[int, ...]]:
    """The state_dict's tensor shapes for these hyper-parameters, computed without allocating them."""
    arch = get_architecture(name)
    with torch.device("meta"):
        net = arch.cls(**check_params(arch, params))
    return {key: tuple(t.shape) for key, t in net.state_dict().items()}
