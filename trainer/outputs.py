"""Output folders of ``ldct-train``: checked before any work, and nothing a user had is overwritten.

* ``fit --out``: a new or empty folder, or (with ``--resume``) a run of ours; a non-empty folder
  that is not a resumable run is refused, so a user's best.pt, config.yaml or summary.json survive.
* ``evaluate --out``: the table files are never replaced unless ``--overwrite`` is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ldct_viewer.atomic import PROBE_PREFIX, require_writable_folder
from ldct_viewer.errors import InputError

RUN_MARKERS = ("train_state.pt", "last.pt", "log.csv")


def check_run_folder(out: str | Path, *, resume: bool) -> Path:
    """Refuse a ``fit --out`` that cannot be written, or that holds anything when not resuming."""
    out = require_writable_folder(out)  # under torchrun every rank checks: ignore the others' probes
    if resume or not out.is_dir() or not any(not _ours_and_empty(p) for p in out.iterdir()):
        return out
    if any(os.path.lexists(out / name) for name in RUN_MARKERS):
        raise InputError(f"{out}: already holds a training run; continue it with --resume or choose another --out")
    raise InputError(f"{out}: output folder exists, is not empty and holds no training run to resume; "
                     "choose a new or empty --out")


def _ours_and_empty(entry: Path) -> bool:
    """Another rank's writability probe, or the empty samples/ folder a run that failed early left."""
    if entry.name.startswith(PROBE_PREFIX):
        return True
    return entry.name == "samples" and entry.is_dir() and not entry.is_symlink() and not any(entry.iterdir())


def check_new_files(out: str | Path, names: Iterable[str], *, overwrite: bool) -> Path:
    """Refuse an ``out`` that cannot be written or, without ``overwrite``, already holds one of ``names``."""
    out = require_writable_folder(out)
    existing = [name for name in names if os.path.lexists(out / name)]
    if existing and not overwrite:
        raise InputError(f"{out}: already holds {', '.join(existing)}; choose another --out, "
                         "or pass --overwrite to replace them")
    return out
