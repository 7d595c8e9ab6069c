"""Checkpoint files: a registered network's weights plus the metadata needed to use and trust them.

A checkpoint is a ``torch.save`` of a plain dict — ``format``, ``state_dict`` (float32 tensors) and
``metadata_json`` (a JSON string) — so it loads with ``torch.load(weights_only=True)``, which
refuses arbitrary pickled objects: opening a checkpoint can never run code. The content hash is a
SHA-256 over the weights (names, dtypes, shapes, bytes in sorted key order), independent of the
container's bytes, so it identifies the model for the inference cache. A checkpoint without a valid
recorded hash, or whose weights do not match it, is refused: the hash catches corruption and
accidental edits (anyone can recompute it, so it is no signature; safety comes from
``weights_only=True``). Non-finite weights and implausible architecture metadata are refused too,
before the network is built.

The metadata's ``architecture`` names the network (``ldct_viewer.model.registry``: RED-CNN, U-Net,
Restormer) and its hyper-parameters; an unknown name is refused by name. Checkpoints written before
other architectures existed say RED-CNN; one without the field is read as RED-CNN, its width and
kernel read off the weights' shapes.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ldct_viewer import __version__
from ldct_viewer.atomic import atomic_write
from ldct_viewer.errors import CheckpointError
from ldct_viewer.methods import BUNDLED_FILES, METHODS
from ldct_viewer.model import registry
from ldct_viewer.model.normalization import Normalization
from ldct_viewer.paths import checkpoints_dir

FORMAT = "ldct-viewer-checkpoint/1"
SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model in eval mode and what is known about it."""

    model: nn.Module
    metadata: dict
    normalization: Normalization
    mode: str
    sha256: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def architecture(self) -> str:
        """The registered architecture's name ("RED-CNN", "U-Net", "Restormer")."""
        return registry.architecture_of(self.model).name

    @property
    def label(self) -> str:
        """``"U-Net-MSE"``: architecture and training mode, how panels and tables name the network."""
        return f"{self.architecture}-{self.mode.upper()}"


def _unwrap(model: nn.Module) -> nn.Module:
    """The plain module behind DDP (``.module``) or ``torch.compile`` (``._orig_mod``) wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the tensors, in sorted key order."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().to("cpu").contiguous().reshape(-1)  # stride 1 even for size-1 dims
        digest.update(f"{key}|{tensor.dtype}|{tuple(state_dict[key].shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"checkpoint metadata value of type {type(value).__name__} is not JSON-serializable")


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    mode: str,
    normalization: Normalization,
    config: dict,
    data: dict,
    evaluation: dict | None = None,
    training: dict | None = None,
    imported: dict | None = None,
) -> str:
    """Write ``model`` and its provenance to ``path`` atomically; return the weights' SHA-256."""
    if mode not in ("mse", "wgan-gp"):
        raise ValueError(f"mode must be 'mse' or 'wgan-gp', got {mode!r}")
    net = _unwrap(model)
    architecture = registry.describe(net)  # TypeError for an unregistered module
    state = {k: v.detach().to("cpu", torch.float32).clone(memory_format=torch.contiguous_format)
             for k, v in net.state_dict().items()}
    sha = weights_sha256(state)
    metadata = {
        "architecture": architecture,
        "normalization": normalization.to_dict(),
        "mode": mode,
        "config": config,
        "data": data,
        "evaluation": evaluation or {},
        "training": training or {},
        "package_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sha256": sha,
    }
    if imported:
        metadata["imported"] = imported
    payload = {"format": FORMAT, "state_dict": state, "metadata_json": json.dumps(metadata, default=_json_default)}

    atomic_torch_save(payload, Path(path))
    return sha


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, fsync, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: torch.save(obj, f))


def resolve_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """``"mse"`` / ``"wgan-gp"`` → the bundled file; anything else is a path that must exist."""
    key = str(name_or_path)
    if key in BUNDLED_FILES:
        folder = checkpoints_dir()
        path = folder / BUNDLED_FILES[key]
        if not path.is_file():
            raise CheckpointError(
                f"bundled checkpoint {BUNDLED_FILES[key]} not found in {folder}; train it with ldct-train fit"
            )
        return path
    path = Path(key).expanduser()
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found (give mse, wgan-gp or the path of a .pt file)")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a checkpoint file")
    return path


def _read_payload(path: Path) -> dict:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{path}: refused to load: contains objects other than plain tensors and data "
            "(unsafe pickle or not an ldct-viewer checkpoint)"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: unreadable or truncated checkpoint ({first})") from None
    except Exception as err:  # torch raises assorted types for malformed containers
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an ldct-viewer checkpoint (expected format {FORMAT})")
    return payload


def _shape_mismatch(state: dict, expected: dict[str, tuple[int, ...]]) -> str | None:
    """The first difference between the state_dict and the expected tensor shapes, or None."""
    missing = sorted(set(expected) - set(state))
    if missing:
        return f"missing key(s) {', '.join(missing[:3])}"
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        return f"unexpected key(s) {', '.join(unexpected[:3])}"
    for name in sorted(expected):
        if tuple(state[name].shape) != expected[name]:
            return f"{name} has shape {list(state[name].shape)}, expected {list(expected[name])}"
    return None


def load_checkpoint(path_or_name: str | os.PathLike, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint safely (no code execution) and check that weights and metadata agree."""
    path = resolve_checkpoint(path_or_name)
    payload = _read_payload(path)
    try:
        metadata = json.loads(payload["metadata_json"])
        state = payload["state_dict"]
        arch = dict(metadata.get("architecture") or {})
        if metadata.get("mode") not in METHODS:  # the training mode: mse or wgan-gp
            raise CheckpointError(f"{path}: unknown training mode {metadata.get('mode')!r}")
        normalization = Normalization.from_dict(metadata["normalization"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: incomplete checkpoint metadata ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: state_dict is not a mapping of tensors")
    try:
        architecture = registry.get_architecture(arch.pop("name", registry.DEFAULT_ARCHITECTURE))
    except registry.UnknownArchitecture as err:
        raise CheckpointError(f"{path}: refused: {err}") from None
    try:
        if not arch:  # written before the field existed: the hyper-parameters are in the shapes
            arch = architecture.cls.infer_params({k: tuple(v.shape) for k, v in state.items()})
        params = registry.check_params(architecture, arch)
    except (KeyError, IndexError) as err:
        raise CheckpointError(f"{path}: no architecture metadata and the weights are not {architecture.name}'s "
                              f"(no {err})") from None
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: architecture metadata refused: {err}") from None
    described = ", ".join(f"{k}={v}" for k, v in params.items())
    mismatch = _shape_mismatch(state, registry.parameter_shapes(architecture.name, params))
    if mismatch:
        raise CheckpointError(f"{path}: weights do not fit {architecture.name}({described}): {mismatch}")
    sha = weights_sha256(state)
    recorded = metadata.get("sha256")
    if not isinstance(recorded, str) or not SHA256_RE.fullmatch(recorded):
        raise CheckpointError(f"{path}: refused: the metadata holds no valid weights hash (sha256); "
                              "re-save the checkpoint with ldct-train or save_checkpoint")
    if recorded != sha:
        raise CheckpointError(f"{path}: weights hash {sha[:12]}… does not match the recorded {recorded[:12]}… "
                              "(corrupted or edited)")
    bad = [name for name, t in state.items() if not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"{path}: refused: non-finite weights (NaN or infinity) in {', '.join(sorted(bad)[:3])}")
    model = architecture.cls(**params)
    model.load_state_dict(state, strict=True)
    model.to(map_location).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return Checkpoint(model=model, metadata=metadata, normalization=normalization,
                      mode=metadata["mode"], sha256=sha, path=path)
