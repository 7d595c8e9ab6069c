"""Importing a foreign state_dict: weights trained elsewhere, turned into this project's safe checkpoint.

A researcher brings a plain PyTorch ``state_dict`` of a registered architecture (e.g. RED-CNN
trained with the most common public implementation) and says how its input was normalized (the HU
window mapped onto 0…1). The file is read with ``torch.load(weights_only=True)`` and must be a flat
mapping of names to tensors: nothing else is accepted, so reading it can run no code. Names are
mapped by a *layout* (``LAYOUTS``), the hyper-parameters read off the shapes, and the result must
match the architecture's parameter names and shapes exactly. A sanity run then denoises a test
slice (a procedural phantom with noise, or a slice the user gives) and refuses weights whose output
is not finite or moves the image by more than ``MAX_MEAN_CHANGE_HU`` on average — the usual sign of a
wrong normalization or layout.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ldct_viewer.errors import CheckpointError
from ldct_viewer.model import registry
from ldct_viewer.model.normalization import Normalization

MAX_MEAN_CHANGE_HU = 150.0  # mean |output − input| inside the body beyond which the import is refused


def _strip_wrappers(name: str) -> str:
    """Drop the prefixes DataParallel/DDP (``module.``) and ``torch.compile`` (``_orig_mod.``) add."""
    while True:
        for prefix in ("module.", "_orig_mod."):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        else:
            return name


def _public_redcnn(name: str) -> str:
    """SSinyu/RED-CNN (``REDCNN_{iter}iter.ckpt``): ``conv1…conv5`` as ours, ``tconv1…tconv5`` → ``deconv1…5``."""
    return re.sub(r"^tconv(\d)\.", r"deconv\1.", name)


#: layout name → (architecture it applies to or None for any, key renaming, description)
LAYOUTS: dict[str, tuple[str | None, Callable[[str], str], str]] = {
    "native": (None, lambda name: name, "this project's parameter names (a state_dict of ldct_viewer.model's modules)"),
    "public-redcnn": ("RED-CNN", _public_redcnn,
                      "github.com/SSinyu/RED-CNN: conv1…conv5, tconv1…tconv5 (out_ch 96, 5×5), "
                      "trained on HU −1024…3072 → 0…1"),
}


@dataclass
class ImportReport:
    """What the import found and measured (printed by ``ldct-train import``)."""

    architecture: str
    params: dict
    renamed: int  # keys whose name the layout changed
    sha256: str
    test_slice: str
    mean_change_hu: float  # mean |output − input| inside the body on the test slice
    output_range_hu: tuple[float, float]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The flat name → tensor mapping in ``path``, loaded with ``weights_only=True``; anything else is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: state_dict file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path}: refused: holds objects other than tensors and plain data "
                              "(a pickled model? save model.state_dict() instead)") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: unreadable or truncated file ({first})") from None
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"{path}: not a state_dict (expected a mapping of parameter names to tensors)")
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        hint = " (a training checkpoint? extract its model state_dict first)" if any(
            isinstance(v, dict) for v in obj.values()) else ""
        raise CheckpointError(f"{path}: not a plain state_dict: {bad[0]!r} is not a tensor{hint}")
    return {k: v.detach().to(torch.float32) for k, v in obj.items()}


def convert(state: dict[str, torch.Tensor], arch: str, layout: str = "native",
            params: dict | None = None) -> tuple[torch.nn.Module, dict, int]:
    """Rename ``state`` by ``layout``, check it against ``arch`` and load it: ``(module, params, renamed)``.

    ``params`` fixes hyper-parameters; the rest are read off the shapes. Every parameter name and
    shape must match; the first difference is the error."""
    try:
        architecture = registry.get_architecture(arch)
    except registry.UnknownArchitecture as err:
        raise CheckpointError(str(err)) from None
    if layout not in LAYOUTS:
        raise CheckpointError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    applies_to, rename, _ = LAYOUTS[layout]
    if applies_to is not None and applies_to != architecture.name:
        raise CheckpointError(f"layout {layout} is for {applies_to}, not {architecture.name}")
    renamed_state, renamed = {}, 0
    for key, tensor in state.items():
        new = rename(_strip_wrappers(key))
        renamed += new != key
        if new in renamed_state:
            raise CheckpointError(f"two tensors map to {new!r} under layout {layout}")
        renamed_state[new] = tensor
    shapes = {k: tuple(v.shape) for k, v in renamed_state.items()}
    try:
        found = architecture.cls.infer_params(shapes)
    except (KeyError, IndexError) as err:
        sample = ", ".join(sorted(shapes)[:4])
        raise CheckpointError(f"the weights are not {architecture.name}'s under layout {layout}: no {err} "
                              f"(the file has {sample}, …)") from None
    try:
        chosen = registry.check_params(architecture, {**found, **(params or {})})
    except ValueError as err:
        raise CheckpointError(f"{architecture.name}: {err}") from None
    expected = registry.parameter_shapes(architecture.name, chosen)
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(unexpected[:3])}"] if unexpected else [])
        raise CheckpointError(f"the weights do not match {architecture.name} under layout {layout}: "
                              + "; ".join(parts))
    for key in sorted(expected):
        if shapes[key] != expected[key]:
            raise CheckpointError(f"{key} has shape {list(shapes[key])}, {architecture.name}"
                                  f"({', '.join(f'{k}={v}' for k, v in chosen.items())}) expects {list(expected[key])}")
    bad = [k for k, v in renamed_state.items() if not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f"refused: non-finite weights in {', '.join(sorted(bad)[:3])}")
    model = architecture.cls(**chosen)
    model.load_state_dict(renamed_state, strict=True)
    return model.eval(), chosen, renamed


def default_test_slice(size: int = 128) -> tuple[np.ndarray, str]:
    """A procedural abdomen phantom slice with 25 HU of Gaussian noise, and its description."""
    from ldct_viewer.ct.phantom import generate_phantom

    volume, _ = generate_phantom(size=size, slices=1, seed=0, start_z_mm=350.0)
    noisy = volume[0] + np.random.default_rng(0).normal(0.0, 25.0, volume[0].shape).astype(np.float32)
    return noisy.astype(np.float32), f"procedural phantom slice {size}² + 25 HU noise"


def sanity_run(model: torch.nn.Module, normalization: Normalization, hu: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Denoise ``hu`` once: (mean |output − input| over pixels above −500 HU, output (min, max)).

    Refuses a non-finite output, or a mean change above ``MAX_MEAN_CHANGE_HU``."""
    x = normalization.to_model(torch.from_numpy(np.ascontiguousarray(hu, dtype=np.float32))[None, None])
    with torch.inference_mode():
        y = normalization.to_hu(model(x))[0, 0].numpy()
    if not np.isfinite(y).all():
        raise CheckpointError("refused: the sanity run's output is not finite (NaN or infinity)")
    body = hu > -500
    change = float(np.abs(y - hu)[body].mean()) if body.any() else float(np.abs(y - hu).mean())
    if change > MAX_MEAN_CHANGE_HU:
        raise CheckpointError(
            f"refused: on the test slice the output differs from the input by {change:.0f} HU on average "
            f"(more than {MAX_MEAN_CHANGE_HU:g}): the stated normalization (--hu-min/--hu-max) or the layout "
            "is probably not the one the weights were trained with; --force imports anyway")
    return change, (float(y.min()), float(y.max()))


def import_state_dict(source: str | Path, out: str | Path, *, arch: str, hu_min: float, hu_max: float,
                      mode: str = "mse", layout: str = "native", params: dict | None = None,
                      test_slice: np.ndarray | None = None, test_slice_name: str = "", force: bool = False,
                      note: str = "") -> ImportReport:
    """Convert ``source`` (a plain state_dict) into a safe checkpoint at ``out``; returns what was found."""
    from ldct_viewer.model.checkpoint import load_checkpoint, save_checkpoint, weights_sha256

    source = Path(source)
    try:
        normalization = Normalization(float(hu_min), float(hu_max))
    except ValueError as err:
        raise CheckpointError(f"normalization: {err}") from None
    state = read_state_dict(source)
    source_sha = weights_sha256(state)
    model, chosen, renamed = convert(state, arch, layout, params)
    if test_slice is None:
        test_slice, test_slice_name = default_test_slice()
    try:
        change, out_range = sanity_run(model, normalization, test_slice)
    except CheckpointError:
        if not force:
            raise
        change, out_range = float("nan"), (float("nan"), float("nan"))
    imported = {"source_file": source.name, "source_weights_sha256": source_sha, "layout": layout,
                "normalization_stated": f"HU {hu_min:g}…{hu_max:g} → 0…1",
                "sanity": {"test_slice": test_slice_name, "mean_change_hu": round(change, 2),
                           "output_range_hu": [round(v, 1) for v in out_range], "forced": bool(force)}}
    if note:
        imported["note"] = note
    sha = save_checkpoint(out, model, mode=mode, normalization=normalization, config={"imported": True},
                          data={"source": f"imported from {source.name}"}, imported=imported)
    load_checkpoint(out)  # what was written loads through the one safe path
    return ImportReport(architecture=registry.architecture_of(model).name, params=chosen, renamed=renamed,
                        sha256=sha, test_slice=test_slice_name, mean_change_hu=change, output_range_hu=out_range)
