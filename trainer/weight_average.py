"""Weight averaging: one network whose weights are the mean of several checkpoints of one run.

A WGAN-GP generator's texture swings from checkpoint to checkpoint (measured: grain −6.6 … +5.1 dB
over six epochs 36 generator steps apart), so the texture of any single epoch is a matter of where
the oscillation stood. Averaging the weights along the trajectory (Izmailov et al. 2018, stochastic
weight averaging; Yazıcı et al. 2019 for GANs) gives the centre of the oscillation instead, without
choosing an epoch. Only checkpoints of one architecture, normalization and training mode average; the
result records every source by path and weights hash.
"""

from __future__ import annotations

from pathlib import Path

from ldct_viewer.errors import InputError
from ldct_viewer.model import load_checkpoint, save_checkpoint
from ldct_viewer.model.registry import describe

METHOD = "uniform mean of the weights (stochastic weight averaging, Izmailov et al. 2018)"


def average_checkpoints(paths: list[str | Path], out: str | Path, *, note: str = "") -> str:
    """Write the uniform weight average of ``paths`` to ``out`` (never over an existing file);
    return its weights' SHA-256."""
    out = Path(out)
    if len(paths) < 2:
        raise InputError("average: give at least two checkpoints")
    if out.exists():
        raise InputError(f"{out}: exists; choose a new file (averaging never writes over a checkpoint)")
    checkpoints = [load_checkpoint(p) for p in paths]
    first = checkpoints[0]
    seen = {}
    for c in checkpoints:
        if c.sha256 in seen:
            raise InputError(f"{c.path}: the same weights as {seen[c.sha256]}; list each checkpoint once")
        seen[c.sha256] = c.path
        if describe(c.model) != describe(first.model):
            raise InputError(f"{c.path}: {_described(c)}, but {first.path} is {_described(first)}; "
                             "only one architecture averages")
        if c.normalization != first.normalization:
            raise InputError(f"{c.path}: normalization {c.normalization.to_dict()} differs from {first.path}'s "
                             f"{first.normalization.to_dict()}")
        if c.mode != first.mode:
            raise InputError(f"{c.path}: trained as {c.mode}, {first.path} as {first.mode}; average one mode")
    states = [c.model.state_dict() for c in checkpoints]
    averaged = {k: (sum(s[k].double() for s in states) / len(states)).float() for k in states[0]}
    model = first.model
    model.load_state_dict(averaged)
    last = checkpoints[-1]
    sources = [{"path": str(c.path), "sha256": c.sha256,
                "epoch": c.metadata.get("training", {}).get("epochs_done")} for c in checkpoints]
    # the last source's run record, less what named one epoch as the network ("kept epoch 12")
    training = {k: v for k, v in last.metadata.get("training", {}).items()
                if k not in ("best_epoch", "selection", "stopped_early")}
    epochs = [s["epoch"] for s in sources]
    if None in epochs:
        which = None
    elif epochs == list(range(epochs[0], epochs[0] + len(epochs))):
        which = f"epochs {epochs[0]}–{epochs[-1]}"
    else:
        which = f"epochs {', '.join(map(str, epochs))}"
    training["selection"] = f"the mean of the weights of {which or f'{len(sources)} checkpoints'}: {METHOD}"
    # "epochs" is the averaged epochs as the model card shows them (None: the sources name no epoch)
    training["weight_average"] = {"method": METHOD, "sources": sources, "epochs": which,
                                  **({"note": note} if note else {})}
    return save_checkpoint(out, model, mode=first.mode, normalization=first.normalization,
                           config=last.metadata.get("config", {}), data=last.metadata.get("data", {}),
                           training=training)


def _described(c) -> str:
    params = describe(c.model)
    return f"{params['name']}(" + ", ".join(f"{k}={v}" for k, v in params.items() if k != "name") + ")"
