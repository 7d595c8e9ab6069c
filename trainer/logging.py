"""``log.csv``: one row per optimizer iteration and one per epoch, every loss by name.

Rows are appended and flushed as they happen, so a crash loses nothing already logged; the byte
length at each saved training state is recorded, and ``--resume`` cuts the file back to it, so the
log never holds iterations twice.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

COLUMNS = (
    "kind",            # iter | epoch
    "epoch",           # 1-based
    "iteration",       # global optimizer iteration, 1-based (critic iterations in WGAN-GP mode)
    "time_s",          # wall time since the run started (summed over resumes)
    "loss_mse",        # MSE(G(x), y) on normalized images (training batch, or validation for epoch rows)
    "loss_generator",  # WGAN-GP: disc_weight * -mean D(G(x)) + mse_weight * MSE
    "loss_adversarial",  # WGAN-GP: -mean D(G(x))
    "loss_critic",     # WGAN-GP: mean D(G(x)) - mean D(y) + lambda * GP
    "wasserstein",     # WGAN-GP: mean D(y) - mean D(G(x))
    "gradient_penalty",
    "val_mse",
    "val_rmse_hu",
    "val_texture_db",
    "lr",
    "patches_per_s",   # epoch rows: training patches per second over the epoch's steps (all processes)
    "data_wait_share",  # epoch rows: share of that time spent waiting for the next batch
)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class TrainingLog:
    def __init__(self, path: Path, *, truncate_to: int | None = None) -> None:
        self.path = Path(path)
        if truncate_to is not None and self.path.exists():
            with open(self.path, "r+b") as f:
                f.truncate(truncate_to)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = open(self.path, "a", newline="", encoding="utf-8")
        if new:
            self._file.write(",".join(COLUMNS) + "\n")
            self._file.flush()

    def write(self, kind: str, **values) -> None:
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise KeyError(f"unknown log columns {sorted(unknown)}")
        values["kind"] = kind
        self._file.write(",".join(_fmt(values.get(c)) for c in COLUMNS) + "\n")

    def flush(self) -> int:
        """Flush to disk; returns the file's length (what a resume cuts back to)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def read_log(path: Path) -> dict[str, dict[str, list[float]]]:
    """{"iter": {column: values}, "epoch": {...}}; empty cells become NaN."""
    out: dict[str, dict[str, list[float]]] = {"iter": {c: [] for c in COLUMNS[1:]},
                                              "epoch": {c: [] for c in COLUMNS[1:]}}
    text = Path(path).read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        table = out.get(row["kind"])
        if table is None:
            continue
        for c in COLUMNS[1:]:
            cell = row.get(c) or ""
            table[c].append(float(cell) if cell else math.nan)
    return out
