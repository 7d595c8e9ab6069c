"""The networks a comparison shows: an ordered list of checkpoints, each under a panel key and a label.

The viewer, ``export`` and the reader study compare any number of denoisers (``MAX_NETWORKS``), of
any registered architecture. Each is a :class:`Network`: a key (panel, settings, PNG metadata and
study CSV use it), a label (titles, tables, legends) and a checkpoint spec (a path, or None for a
bundled checkpoint). The bundled pair keeps its method keys ``mse`` and ``wgan-gp``; any other
checkpoint gets a key made from its label (``u-net-mse``, ``u-net-mse-2`` …). Qt-free.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ldct_viewer.errors import InputError
from ldct_viewer.methods import BUNDLED_FILES, METHOD_LABELS, METHODS

MAX_NETWORKS = 8
RESERVED_KEYS = ("ldct", "ndct")  # the other panels


@dataclass(frozen=True)
class Network:
    """One compared denoiser: ``key`` (unique), ``label`` (what readers see), ``spec`` (path; None = bundled)."""

    key: str
    label: str
    spec: str | None = None

    @property
    def path(self) -> Path:
        """Where the checkpoint is (the bundled file for a bundled key without a path)."""
        if self.spec:
            return Path(self.spec).expanduser()
        from ldct_viewer.paths import checkpoints_dir

        return checkpoints_dir() / BUNDLED_FILES[self.key]

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "spec": self.spec}


def bundled_pair() -> list[Network]:
    """RED-CNN-MSE and RED-CNN-WGAN-GP from the bundled checkpoints: the default comparison."""
    return [Network(key, METHOD_LABELS[key]) for key in METHODS]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "net"


def checkpoint_label(path: Path) -> str:
    """``"U-Net-MSE"`` from a checkpoint's metadata (architecture and mode); the file stem if unreadable."""
    try:
        from ldct_viewer.model import load_checkpoint

        return load_checkpoint(path).label
    except Exception:  # noqa: BLE001 - a bad file is reported when it is loaded for inference
        return path.stem


def network_for(spec: str, taken: Iterable[Network] = (), label: str | None = None) -> Network:
    """A :class:`Network` for checkpoint ``spec`` (a path, or ``mse``/``wgan-gp`` for a bundled one)
    whose key and label differ from those ``taken``."""
    taken = list(taken)
    keys = {n.key for n in taken} | set(RESERVED_KEYS)
    labels = {n.label for n in taken}
    if spec in BUNDLED_FILES and spec not in keys:
        return Network(spec, label or METHOD_LABELS[spec])
    path = Path(spec).expanduser() if spec not in BUNDLED_FILES else Network(spec, "").path
    label = label or checkpoint_label(path)
    if label in labels:
        label = f"{label} ({path.stem})"
    base = _slug(label)
    key, k = base, 2
    while key in keys:
        key, k = f"{base}-{k}", k + 1
    return Network(key, label, str(path))


def networks_from_specs(specs: Sequence[str]) -> list[Network]:
    """The networks for ``--model`` arguments, in order (1 to ``MAX_NETWORKS``)."""
    if not 1 <= len(specs) <= MAX_NETWORKS:
        raise InputError(f"{len(specs)} networks given: compare 1 to {MAX_NETWORKS}")
    networks: list[Network] = []
    for spec in specs:
        networks.append(network_for(str(spec), networks))
    return networks


def panel_titles(networks: Sequence[Network]) -> dict[str, str]:
    """Panel key → title, in panel order: LDCT, each network, NDCT."""
    return {"ldct": "LDCT", **{n.key: n.label for n in networks}, "ndct": "NDCT"}


def to_json(networks: Sequence[Network]) -> str:
    return json.dumps([n.to_dict() for n in networks])


def from_json(text: str) -> list[Network]:
    """Networks saved by :func:`to_json`; malformed entries are dropped (old or edited settings)."""
    try:
        data = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    out: list[Network] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("label"), str):
            continue
        spec = item.get("spec") if isinstance(item.get("spec"), str) and item.get("spec") else None
        if item["key"] in RESERVED_KEYS or any(n.key == item["key"] for n in out):
            continue
        if spec is None and item["key"] not in BUNDLED_FILES:
            continue
        out.append(Network(item["key"], item["label"], spec))
    return out[:MAX_NETWORKS]
