"""Read a variable-dose dataset folder made by ``ldct-train dataset``.

Layout (format ``ldct-variable-dose/1``)::

    manifest.json                    volumes, splits, conditions, provenance
    ndct/<volume_id>.npy             float32 [Z, H, W] HU
    ldct/<condition>/<volume_id>.npy float32 [Z, H, W] HU, slice k pairs with NDCT slice k
    truth/<volume_id>.npy            optional: the noise-free phantom when NDCT is a simulated scan of it

Arrays are opened memory-mapped, so a training loop touching random patches of many volumes
never holds them all in memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ldct_viewer.errors import InputError
from trainer.data.conditions import parse_condition

FORMAT = "ldct-variable-dose/1"
SPLITS = ("train", "val", "test")


class VariableDoseDataset:
    """NDCT volumes and their LDCT versions under several conditions, split by volume."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = _read_manifest(self.root)
        self.conditions: list[str] = list(self.manifest["conditions"])
        self._volumes = {v["id"]: v for v in self.manifest["volumes"]}
        self._check_files()

    def __repr__(self) -> str:
        counts = {s: len(self.volumes(s)) for s in SPLITS}
        return f"VariableDoseDataset({str(self.root)!r}, conditions={self.conditions}, volumes={counts})"

    def volumes(self, split: str | None = None) -> list[str]:
        """Volume ids in ``split`` (train/val/test), or all of them for ``None``, in manifest order."""
        if split is not None and split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return [vid for vid, v in self._volumes.items() if split is None or v["split"] == split]

    def info(self, volume_id: str) -> dict:
        """The manifest entry of a volume (source, split, slices, spacing, per-condition seeds)."""
        try:
            return self._volumes[volume_id]
        except KeyError:
            raise KeyError(f"no volume {volume_id!r} in {self.root}") from None

    def ndct(self, volume_id: str) -> np.ndarray:
        """Normal-dose volume, float32 HU ``[Z, H, W]``, memory-mapped read-only."""
        self.info(volume_id)
        return np.load(self.root / "ndct" / f"{volume_id}.npy", mmap_mode="r")

    def truth(self, volume_id: str) -> np.ndarray | None:
        """The noise-free volume behind a simulated NDCT (``--reference-scan``), or None when there is none."""
        if not self.info(volume_id).get("truth"):
            return None
        return np.load(self.root / "truth" / f"{volume_id}.npy", mmap_mode="r")

    def ldct(self, volume_id: str, condition: str) -> np.ndarray:
        """Low-dose volume under ``condition``, float32 HU ``[Z, H, W]``, memory-mapped read-only."""
        self.info(volume_id)
        if condition not in self.conditions:
            raise KeyError(f"no condition {condition!r} in {self.root} (has {', '.join(self.conditions)})")
        return np.load(self.root / "ldct" / condition / f"{volume_id}.npy", mmap_mode="r")

    def spacing(self, volume_id: str) -> tuple[float, float, float]:
        """``(dz, dy, dx)`` in mm."""
        dz, dy, dx = self.info(volume_id)["spacing"]
        return float(dz), float(dy), float(dx)

    def condition_info(self, condition: str) -> tuple[float | None, int | None]:
        """``(dose fraction, views)``, e.g. ``(0.25, 360)``; ``(None, None)`` for real paired scans."""
        if condition not in self.conditions:
            raise KeyError(f"no condition {condition!r} in {self.root} (has {', '.join(self.conditions)})")
        return parse_condition(condition)

    def _check_files(self) -> None:
        for vid, entry in self._volumes.items():
            expected = [self.root / "ndct" / f"{vid}.npy"]
            expected += [self.root / "truth" / f"{vid}.npy"] if entry.get("truth") else []
            expected += [self.root / "ldct" / c / f"{vid}.npy" for c in self.conditions]
            shapes = set()
            for path in expected:
                if not path.is_file():
                    raise InputError(f"{path}: missing array listed in {self.root / 'manifest.json'}")
                shapes.add(_array_shape(path))
            if len(shapes) > 1:
                listed = ", ".join("x".join(map(str, s)) for s in sorted(shapes))
                raise InputError(f"{self.root}: the arrays of volume {vid!r} differ in shape ({listed})")


def _array_shape(path: Path) -> tuple[int, ...]:
    """The shape of a float32 [Z, H, W] ``.npy`` whose data is all there (header read, data mapped)."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise InputError(f"{path}: truncated or unreadable array ({reason}); rebuild the dataset") from None
    if array.dtype != np.float32 or array.ndim != 3:
        raise InputError(f"{path}: expected a float32 [Z, H, W] array, got {array.dtype} {array.shape}")
    return tuple(array.shape)


def _read_manifest(root: Path) -> dict:
    if not root.exists():
        raise InputError(f"{root}: dataset folder does not exist")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected a dataset made by ldct-train dataset)")
    path = root / "manifest.json"
    if not path.is_file():
        raise InputError(f"{root}: not a dataset folder (no manifest.json); make one with ldct-train dataset")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: unreadable manifest ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise InputError(f"{path}: unsupported dataset format {found!r} (expected {FORMAT!r})")
    conditions, volumes = manifest.get("conditions"), manifest.get("volumes")
    if not isinstance(conditions, list) or not conditions or not isinstance(volumes, list) or not volumes:
        raise InputError(f"{path}: manifest lists no conditions or no volumes")
    for c in conditions:
        try:
            parse_condition(c)
        except (ValueError, TypeError):
            raise InputError(f"{path}: invalid condition name {c!r}") from None
    seen = set()
    for v in volumes:
        if not isinstance(v, dict) or not {"id", "split", "spacing"} <= set(v):
            raise InputError(f"{path}: volume entry without id/split/spacing: {v!r}"[:200])
        if v["split"] not in SPLITS:
            raise InputError(f"{path}: volume {v['id']!r} has unknown split {v['split']!r}")
        if v["id"] in seen or not str(v["id"]) or "/" in str(v["id"]):
            raise InputError(f"{path}: duplicate or invalid volume id {v['id']!r}")
        seen.add(v["id"])
    return manifest
