"""Training state: the counters a run carries from step to step, and ``train_state.pt``, what
``--resume`` needs to continue a run exactly where it stopped.

``TrainState`` is everything that changes while a run trains, apart from weights and optimizer
moments; it is saved as the ``counters`` dict of ``train_state.pt`` with the same keys as before it
was a dataclass, so runs saved earlier still resume.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ldct_viewer.errors import ConfigError, InputError
from ldct_viewer.model.checkpoint import atomic_torch_save
from trainer.config import changed_keys, complete_saved_config, load_config

STATE_FILE = "train_state.pt"
# what a resumed run may change: none of these alters which batches it sees or how it steps
RESUMABLE_CHANGES = {"training.num_epochs", "training.patience", "training.sample_interval",
                     "sampling.num_workers", "run.device", "run.amp", "run.state_minutes"}


@dataclass
class TrainState:
    """Where a run stands. ``step`` counts the batches done in the current epoch (0 between epochs);
    ``best`` is the selection score of ``best_epoch`` (inf until an epoch qualifies); ``init_val``
    is the ``--init`` model's validation (WGAN-GP: the RMSE bound of the selection rule)."""

    epoch: int = 0
    step: int = 0
    iteration: int = 0
    best: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list = field(default_factory=list)
    init_val: dict | None = None
    elapsed: float = 0.0
    log_bytes: int | None = None
    init: dict | None = None
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, counters: dict) -> TrainState:
        return cls(**counters)


def rng_state() -> dict:
    """Every random generator the training draws from (torch, Python, NumPy, CUDA)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_train_state(out: Path, state: TrainState, *, mode: str, config: dict, data: dict, normalization: dict,
                     modules: dict) -> None:
    """Write ``train_state.pt`` atomically: ``modules`` maps a name (model, opt_g, critic, opt_c,
    scheduler) to the object whose ``state_dict()`` is saved under it."""
    saved = {"mode": mode, "config": config, "data": data, "normalization": normalization,
             **{name: obj.state_dict() for name, obj in modules.items()},
             "counters": state.to_dict(), "rng": rng_state()}
    atomic_torch_save(saved, Path(out) / STATE_FILE)


def load_train_state(out: Path) -> dict:
    path = Path(out) / STATE_FILE
    if not path.is_file():
        raise InputError(f"{path}: no training state to resume from (start the run without --resume)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated / foreign file
        raise InputError(f"{path}: unreadable training state ({type(err).__name__})") from None


def resume_config(out: Path, mode: str, config_path: str | None, overrides: list[str]) -> dict:
    """The saved run's config with the user's changes — only those that cannot break exactness."""
    state = load_train_state(out)
    if state["mode"] != mode:
        raise ConfigError(f"{out}: the run was started with --mode {state['mode']}, not {mode}")
    saved = complete_saved_config(state["config"])
    config = load_config(config_path, overrides, base=saved)
    bad = [k for k in changed_keys(saved, config) if k not in RESUMABLE_CHANGES]
    if bad:
        raise ConfigError(f"{out}: cannot change {', '.join(bad)} when resuming "
                          f"(allowed: {', '.join(sorted(RESUMABLE_CHANGES))})")
    return config
