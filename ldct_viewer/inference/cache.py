"""Denoised-slice cache keyed by (checkpoint weights hash, slice content hash).

Two levels: a bounded in-memory LRU (by bytes) for instant revisits, and ``.npy`` files under
``paths.cache_dir()/results/<checkpoint hash>/`` written atomically (temp file, then rename), so
relaunching the viewer on the same series shows denoised slices at once. The disk level is
pruned oldest-first when it grows past its byte bound.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ldct_viewer.atomic import atomic_write
from ldct_viewer.paths import cache_dir

DEFAULT_MEMORY_BYTES = 512 * 1024**2
DEFAULT_DISK_BYTES = 4 * 1024**3


def slice_key(hu: np.ndarray) -> str:
    """SHA-256 of the slice's float32 bytes and shape, followed by the shape (``…-512x512``), which
    :meth:`ResultCache.get` checks a cached result against."""
    arr = np.ascontiguousarray(hu, dtype=np.float32)
    digest = hashlib.sha256(f"{arr.shape}|float32|".encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest() + "-" + "x".join(str(n) for n in arr.shape)


def _shape_in_key(key: str) -> tuple[int, ...] | None:
    _, sep, shape = key.rpartition("-")
    try:
        return tuple(int(n) for n in shape.split("x")) if sep else None
    except ValueError:
        return None


class ResultCache:
    """Thread-safe two-level cache of denoised HU slices for one checkpoint."""

    def __init__(
        self,
        checkpoint_sha256: str,
        *,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        disk: bool = True,
        disk_bytes: int = DEFAULT_DISK_BYTES,
        root: Path | None = None,
    ) -> None:
        self.checkpoint_sha256 = checkpoint_sha256
        self.memory_bytes = int(memory_bytes)
        self.disk_bytes = int(disk_bytes)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_used = 0
        self._lock = threading.Lock()
        self._writes_since_prune = 0
        self.folder: Path | None = None
        if disk:
            base = root if root is not None else cache_dir() / "results"
            self.folder = base / checkpoint_sha256[:32]
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError:  # an unusable cache folder only costs the disk cache
                self.folder = None

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached result (read-only array) or ``None``."""
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                return hit
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):  # absent, or damaged: recompute (put replaces it)
            return None
        expected = _shape_in_key(key)
        if (arr.dtype != np.float32 or arr.ndim != 2 or (expected is not None and arr.shape != expected)
                or not np.isfinite(arr).all()):
            return None  # damaged or foreign: a miss, recomputed and replaced
        try:
            os.utime(path)  # recently used files survive pruning
        except OSError:
            pass
        self._remember(key, arr)
        return arr

    def put(self, key: str, result: np.ndarray) -> np.ndarray:
        """Store ``result`` (the cache takes it over and makes it read-only); return the stored array."""
        arr = np.ascontiguousarray(result, dtype=np.float32)
        arr.flags.writeable = False
        self._remember(key, arr)
        if self.folder is not None:
            self._write(key, arr)
        return arr

    def _remember(self, key: str, arr: np.ndarray) -> None:
        arr.flags.writeable = False
        if arr.nbytes > self.memory_bytes:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._memory_used -= old.nbytes
            self._memory[key] = arr
            self._memory_used += arr.nbytes
            while self._memory_used > self.memory_bytes:
                _, evicted = self._memory.popitem(last=False)
                self._memory_used -= evicted.nbytes

    def _write(self, key: str, arr: np.ndarray) -> None:
        assert self.folder is not None
        try:
            atomic_write(self._path(key), lambda f: np.save(f, arr, allow_pickle=False), fsync=False)
        except OSError:  # a read-only, vanished or full cache folder only costs the disk cache
            return
        self._writes_since_prune += 1
        if self._writes_since_prune >= 64:
            self._writes_since_prune = 0
            self.prune()

    def prune(self) -> None:
        """Delete the least recently used disk entries beyond ``disk_bytes`` (all checkpoints)."""
        if self.folder is None:
            return
        entries = []
        for path in self.folder.parent.glob("*/*.npy"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.disk_bytes:
                break
            try:
                path.unlink()
                total -= size
            except OSError:
                pass

    def clear_memory(self) -> None:
        with self._lock:
            self._memory.clear()
            self._memory_used = 0

    @property
    def memory_used(self) -> int:
        return self._memory_used
