"""Background denoising for the viewer: every compared network on one pool thread, the slice on screen first.

The controller owns the engines and knows which slices are finished; the pixels live only in each
engine's result cache (``Engine.cached``). The GUI asks it for results and listens to its signals. Loading a checkpoint and every ``Engine.run`` step happen on the worker thread;
the networks' generators are interleaved round-robin, so the on-screen slice appears for all of them
before any moves on (focus first across every network). A failure of one network (bad checkpoint,
unknown architecture, out of memory) is reported for that network only. The networks are an ordered
list (``ldct_viewer.networks``); ``set_networks`` keeps the engines and results of those that stay.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PySide6.QtCore import QObject, Signal

from ldct_viewer.methods import BUNDLED_FILES, METHOD_LABELS
from ldct_viewer.networks import Network, bundled_pair
from ldct_viewer.ui.workers import GeneratorWorker, guarded



@dataclass
class ModelSlot:
    """One model column of the viewer: which checkpoint, its engine once loaded, the slices it finished."""

    key: str
    spec: str | None = None  # a path, or None for the bundled checkpoint
    engine: Any = None
    checkpoint: Any = None
    finished: set[int] = field(default_factory=set)  # LDCT slice indices whose output the engine's cache holds
    problem: str | None = None  # why there is no output (shown as the panel placeholder)
    name: str | None = None  # the label readers see (the bundled pair's method label by default)

    @property
    def label(self) -> str:
        return self.name or METHOD_LABELS.get(self.key, self.key)

    @property
    def network(self) -> Network:
        return Network(self.key, self.label, self.spec)


def checkpoint_path(key: str, spec: str | None) -> Path:
    """Where the checkpoint for ``key`` is expected (the bundled one when ``spec`` is None)."""
    if spec:
        return Path(spec).expanduser()
    from ldct_viewer.paths import checkpoints_dir

    return checkpoints_dir() / BUNDLED_FILES[key]


def _inference_job(slots: dict[str, tuple[str | None, Any]], device: str, get_slice: Callable[[int], np.ndarray],
                   n: int, focus: int, cancel, needed: tuple[int, int] | None = None) -> Iterator[tuple]:
    """Worker body: load what is missing, then interleave the models' ``Engine.run`` generators.

    Yields ``("engine", key, engine, checkpoint)``, ``("slice", key, index, seconds, computed)``
    and ``("error", key, exception)`` events; ``computed`` = slices the network ran on while this one
    was produced (a batch's first slice carries the batch; cache hits and the batch's other slices 0).
    """
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import load_checkpoint

    engines = {}
    for key, (spec, engine) in slots.items():
        if cancel.is_set():
            return
        if engine is None:
            try:
                ckpt = load_checkpoint(str(checkpoint_path(key, spec)))
                engine = Engine(ckpt, device=device)
            except Exception as err:  # noqa: BLE001 - reported per model, the other one keeps going
                yield ("error", key, err)
                continue
            yield ("engine", key, engine, ckpt)
        engines[key] = engine

    running = {key: engine.run(get_slice, n, focus=focus, cancel=cancel, needed=needed)
               for key, engine in engines.items()}
    while running and not cancel.is_set():
        for key in list(running):
            t0, before = time.perf_counter(), engines[key].stats.slices_computed
            try:
                index, _ = next(running[key])
            except StopIteration:
                del running[key]
                continue
            except Exception as err:  # noqa: BLE001
                del running[key]
                yield ("error", key, err)
                continue
            yield ("slice", key, int(index), time.perf_counter() - t0, engines[key].stats.slices_computed - before)



class InferenceController(QObject):
    """Runs every compared network's engine over the open case in the background."""

    sliceReady = Signal(str, int)  # model key, LDCT slice index
    engineReady = Signal(str)  # model key: engine (and checkpoint metadata) available
    modelFailed = Signal(str, str)  # model key, one-line message for a dialog
    progressChanged = Signal(int, int, float)  # done, total, eta seconds (nan when unknown)
    runningChanged = Signal(bool)

    def __init__(self, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.slots = {n.key: ModelSlot(n.key, n.spec, name=n.label) for n in bundled_pair()}
        self._worker: GeneratorWorker | None = None
        self._old_workers: list[GeneratorWorker] = []
        self._get_slice: Callable[[int], np.ndarray] | None = None
        self._n = 0
        self._focus = 0
        self._needed: tuple[int, int] | None = None
        self._slice_keys: dict[int, str] = {}  # LDCT slice index -> its cache key (hashed once per run)
        self._durations: deque[tuple[float, int]] = deque(maxlen=8)  # (seconds, slices computed) of recent computing steps
        self._generation = 0  # results from a superseded run are dropped

    # ------------------------------------------------------------------ configuration
    @property
    def keys(self) -> tuple[str, ...]:
        """The networks' keys in panel order."""
        return tuple(self.slots)

    @property
    def networks(self) -> list[Network]:
        return [slot.network for slot in self.slots.values()]

    def set_networks(self, networks: list[Network]) -> None:
        """Compare ``networks`` (in this order): a network whose key and checkpoint stay keeps its engine
        and results; the others start afresh. The caller restarts inference."""
        old = self.slots
        self.cancel()
        self.slots = {}
        for n in networks:
            slot = old.get(n.key)
            if slot is None or slot.spec != n.spec:
                slot = ModelSlot(n.key, n.spec)
            slot.name = n.label
            self.slots[n.key] = slot

    def set_checkpoint(self, key: str, spec: str | None) -> None:
        """Use checkpoint ``spec`` (path; None = bundled) for model ``key``; drops its results."""
        slot = self.slots[key]
        slot.spec = str(spec) if spec else None
        slot.engine = slot.checkpoint = None
        slot.finished = set()
        slot.problem = None

    def set_device(self, device: str) -> None:
        if device != self.device:
            self.device = device
            for slot in self.slots.values():  # the results go with the engine's cache (the disk level stays)
                slot.engine = slot.checkpoint = None
                slot.finished = set()

    def forget_finished(self) -> None:
        """Another case: none of its slices is finished yet (cached ones come back at once)."""
        for slot in self.slots.values():
            slot.finished = set()

    def device_description(self) -> str:
        for slot in self.slots.values():
            if slot.engine is not None:
                return str(slot.engine.device_description)
        try:
            from ldct_viewer.inference.device import choose_device, describe_device

            return describe_device(choose_device(self.device))
        except Exception:  # noqa: BLE001 - an unavailable device is reported when inference starts
            return f"device: {self.device}"

    # ------------------------------------------------------------------ queries
    def result(self, key: str, index: int) -> np.ndarray | None:
        """Model ``key``'s output for LDCT slice ``index`` from its engine's cache, None until finished."""
        slot = self.slots.get(key)
        if slot is None:  # a network removed meanwhile
            return None
        if slot.engine is None or self._get_slice is None or int(index) not in slot.finished:
            return None
        key = self._slice_keys.get(int(index))
        if key is None:  # a reformat asks for every slice on each repaint: hash each slice once
            from ldct_viewer.inference.cache import slice_key

            key = self._slice_keys[int(index)] = slice_key(self._get_slice(int(index)))
        return slot.engine.cache.get(key)

    def placeholder(self, key: str) -> str:
        """What the panel says while there is no output for the current slice."""
        slot = self.slots[key]
        if slot.problem:
            return slot.problem
        if self.is_running:
            return "computing…"
        if self._get_slice is None:
            return "no LDCT series open"
        return "not computed — Models → Run inference"

    @property
    def is_running(self) -> bool:
        return self._worker is not None and not self._worker.is_done

    def progress(self) -> tuple[int, int]:
        active = [s for s in self.slots.values() if s.problem is None]
        return sum(len(s.finished) for s in active), self._n * len(active)

    # ------------------------------------------------------------------ running
    def start(self, get_slice: Callable[[int], np.ndarray] | None, n: int, focus: int = 0,
              *, keep_results: bool = True) -> None:
        """Denoise slices ``0..n-1`` of ``get_slice`` (focus first) with every usable model."""
        self.cancel()
        self._generation += 1
        self._get_slice, self._n, self._focus = get_slice, int(n), int(focus)
        self._slice_keys = {}
        self._durations.clear()
        if not keep_results:
            self.forget_finished()
        if get_slice is None or n <= 0:
            return
        jobs: dict[str, tuple[str | None, Any]] = {}
        for key, slot in self.slots.items():
            if not keep_results or slot.problem:
                slot.problem = None
            path = checkpoint_path(key, slot.spec)
            if slot.engine is None and not path.is_file():
                slot.problem = f"checkpoint {path.name} not found"
                if slot.spec:  # a checkpoint the user chose: tell them; a missing bundled one is expected
                    self.modelFailed.emit(key, f"{path}: checkpoint not found")
                continue
            if len(slot.finished) >= self._n:
                continue
            jobs[key] = (slot.spec, slot.engine)
        if not jobs:
            self._emit_progress()
            return
        cancel = threading.Event()
        worker = GeneratorWorker(_inference_job, jobs, self.device, get_slice, self._n, self._focus,
                                 cancel, self._needed, abort_event=cancel)
        generation = self._generation
        worker.signals.yielded.connect(guarded(self, lambda item: self._on_item(generation, item)))
        worker.signals.errored.connect(guarded(self, lambda err: self._on_error(generation, err)))
        worker.signals.finished.connect(guarded(self, lambda: self._on_finished(generation)))
        self._worker = worker
        worker.start()
        self.runningChanged.emit(True)
        self._emit_progress()

    def set_focus(self, index: int, needed: tuple[int, int] | None = None) -> None:
        """The user moved to slice ``index``: compute it next, then the slices ``needed`` by a reformat
        on screen (inclusive range), then the rest (safe while the worker runs)."""
        self._focus, self._needed = int(index), needed
        for slot in self.slots.values():
            if slot.engine is not None:
                slot.engine.set_focus(self._focus, needed)

    def cancel(self) -> None:
        """Stop at the next slice boundary; finished slices are kept."""
        if self._worker is not None:
            self._worker.abort()
            self._old_workers.append(self._worker)
            was_running = not self._worker.is_done
            self._worker = None
            if was_running:
                self.runningChanged.emit(False)
        self._old_workers = [w for w in self._old_workers if not w.is_done]

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel and wait for the pool thread (application exit, test teardown)."""
        self.cancel()
        for worker in self._old_workers:
            worker.wait(timeout)
        self._old_workers = []

    # ------------------------------------------------------------------ worker events (GUI thread)
    def _on_item(self, generation: int, item: tuple) -> None:
        if generation != self._generation:
            return
        kind, key = item[0], item[1]
        slot = self.slots.get(key)
        if slot is None:
            return
        if kind == "engine":
            slot.engine, slot.checkpoint = item[2], item[3]
            slot.engine.set_focus(self._focus, self._needed)
            self.engineReady.emit(key)
        elif kind == "slice":
            _, _, index, seconds, computed = item
            slot.finished.add(index)
            if computed:  # cache hits cost ~nothing and would make the ETA promise seconds for minutes of work
                self._durations.append((seconds, computed))
            self.sliceReady.emit(key, index)
            self._emit_progress()
        elif kind == "error":
            err = item[2]
            slot.problem = f"{slot.label} failed: {_one_line(err)}"
            self.modelFailed.emit(key, _describe_error(key, slot.spec, err, slot.label))
            self._emit_progress()

    def _on_error(self, generation: int, err: BaseException) -> None:
        if generation != self._generation:
            return
        for slot in self.slots.values():
            if len(slot.finished) < self._n and slot.problem is None:
                slot.problem = f"inference stopped: {_one_line(err)}"
        self.modelFailed.emit("", f"Inference stopped: {_one_line(err)}")

    def _on_finished(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._worker = None
        self.runningChanged.emit(False)
        self._emit_progress()

    def _emit_progress(self) -> None:
        done, total = self.progress()
        eta = float("nan")
        if self._durations and total:
            seconds, slices = (sum(column) for column in zip(*self._durations))
            eta = (total - done) * seconds / slices
        self.progressChanged.emit(done, total, eta)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _describe_error(key: str, spec: str | None, err: BaseException, label: str | None = None) -> str:
    from ldct_viewer.errors import LdctError

    label = label or METHOD_LABELS.get(key, key)
    if isinstance(err, LdctError):
        return _one_line(err)
    if isinstance(err, MemoryError) or "out of memory" in str(err).lower():
        return f"{label}: out of memory while denoising ({_one_line(err)}); try --device cpu"
    return f"{label} ({checkpoint_path(key, spec).name}): {type(err).__name__}: {_one_line(err)}"
