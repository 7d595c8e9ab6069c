"""What a run records beside its weights: a description of its dataset and a training summary,
embedded in every checkpoint it writes (``ldct_viewer.model`` format) and in ``summary.json``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ldct_viewer.model import Normalization, load_checkpoint, save_checkpoint
from trainer import selection
from trainer.state import TrainState


def describe_dataset(root: Path) -> dict:
    """What a checkpoint records about its data: the manifest's hash, conditions and volumes."""
    manifest_path = Path(root) / "manifest.json"
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    volumes = [{k: v.get(k) for k in ("id", "source", "split", "slices", "spacing") if k in v}
               for v in manifest.get("volumes", [])]
    splits: dict[str, int] = {}
    for v in manifest.get("volumes", []):
        splits[v.get("split", "?")] = splits.get(v.get("split", "?"), 0) + 1
    return {"path": str(Path(root).resolve()), "format": manifest.get("format"),
            "manifest_sha256": hashlib.sha256(raw).hexdigest(), "conditions": manifest.get("conditions"),
            "volumes_per_split": splits, "volumes": volumes}


@dataclass
class RunRecord:
    """The facts of one run that do not change while it trains, and what it writes with them.
    ``started`` is the ``time.perf_counter()`` the run's wall time counts from (a resumed run's
    start moved back by the time it had already trained)."""

    out: Path
    mode: str
    config: dict
    data: dict  # describe_dataset
    normalization: Normalization
    started: float
    device: str
    processes: int
    global_batch: int
    steps_per_epoch: int
    amp: bool
    seed: int
    condition_weights: dict | None
    selection: str

    def summary(self, state: TrainState, metrics: dict | None = None) -> dict:
        return {"mode": self.mode, "epochs_done": state.epoch,
                "epochs_planned": self.config["training"]["num_epochs"], "iterations": state.iteration,
                "best_epoch": state.best_epoch, "selection": self.selection, "stopped_early": state.stopped_early,
                "history": state.history, "init": state.init, "init_validation": state.init_val,
                "wall_time_s": round(time.perf_counter() - self.started, 1), "device": self.device,
                "processes": self.processes, "global_batch": self.global_batch,
                "steps_per_epoch": self.steps_per_epoch, "patches_per_epoch": self.steps_per_epoch * self.global_batch,
                "amp": self.amp, "torch": torch.__version__, "seed": self.seed, "last_validation": metrics,
                "condition_weights": self.condition_weights}

    def save_model(self, path: Path, model: torch.nn.Module, state: TrainState, metrics: dict | None) -> None:
        save_checkpoint(path, model, mode=self.mode, normalization=self.normalization, config=self.config,
                        data=self.data, evaluation={"split": "val", **metrics} if metrics else None,
                        training=self.summary(state, metrics))

    def settle_best(self, state: TrainState, result: dict) -> None:
        """When no epoch has qualified as best, write best.pt anyway (``selection.fallback``), so that
        a run ended by Ctrl-C or a time limit, not only one that ran all its epochs, leaves one;
        ``result`` (the summary) gains the note and the epoch."""
        chosen = selection.fallback(state, self.out, self.config, self.mode == "wgan-gp")
        if chosen is None:
            return
        epoch, source, note = chosen
        result["selection"] += note
        state.best_epoch = result["best_epoch"] = epoch
        ckpt = load_checkpoint(source)
        save_checkpoint(self.out / "best.pt", ckpt.model, mode=self.mode, normalization=self.normalization,
                        config=self.config, data=self.data, evaluation=ckpt.metadata.get("evaluation"),
                        training=result)
