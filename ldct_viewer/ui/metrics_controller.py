"""The figures against NDCT for the slice on screen, computed in the background and kept.

RMSE/PSNR/SSIM and grain of the LDCT and of each network's output (``analysis.comparison``) take
~55 ms a 512² slice (SSIM), so they run on the pool thread, one job at a time: a request made while
one runs is remembered and run next. Figures are kept per (image, slice) until the case, its NDCT
or a checkpoint changes; NDCT's flat ROIs are kept per slice and shared with the NPS window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ldct_viewer.methods import METHODS

if TYPE_CHECKING:
    from ldct_viewer.analysis.comparison import GrainRegions
from ldct_viewer.ui.messages import error_text
from ldct_viewer.ui.workers import GeneratorWorker, guarded

MEASURED: tuple[str, ...] = ("ldct", *METHODS)  # the images measured against the NDCT (the bundled pair's)


class MetricsController(QObject):
    """Owns the per-slice figures and grain ROIs and the job that computes them."""

    changed = Signal(int)  # slice index whose figures were added (or are being computed)
    settled = Signal(int)  # slice index the last job was for, with nothing left to compute
    failed = Signal(str)  # one line for the status bar

    def __init__(self, source_slice: Callable[[str, int], np.ndarray | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source_slice = source_slice
        self.measured: tuple[str, ...] = MEASURED  # the LDCT and every compared network (``set_measured``)
        self._values: dict[tuple[str, int], dict[str, float]] = {}
        self._grain_rois: dict[int, "GrainRegions"] = {}
        self._worker: GeneratorWorker | None = None
        self._next: tuple | None = None  # the request that came while a job ran
        self._generation = 0  # figures of a forgotten case are dropped when they arrive

    def set_measured(self, keys: tuple[str, ...]) -> None:
        """Measure these images from now on (the compared networks changed); gone ones' figures are dropped."""
        self.measured = tuple(keys)
        self._values = {k: v for k, v in self._values.items() if k[0] in self.measured}

    def values(self, key: str, index: int) -> dict[str, float] | None:
        """RMSE/PSNR/SSIM and grain of ``key`` vs NDCT at slice ``index`` if computed; grain is NaN
        when NDCT has no flat region on the slice."""
        return self._values.get((key, index))

    def forget(self, key: str | None = None) -> None:
        """Drop the figures of ``key`` (its checkpoint changed), or all of them (case or NDCT changed)."""
        if key is not None:
            self._values = {k: v for k, v in self._values.items() if k[0] != key}
            return
        self._values.clear()
        self._grain_rois.clear()
        self._next = None
        self._generation += 1

    def grain_rois_of(self, index: int, ndct: np.ndarray) -> "GrainRegions":
        """NDCT's flat regions on slice ``index`` (``ndct`` is that slice), searched once per slice
        (~0.1-0.5 s on 512²) and shared by the metrics job and the NPS window."""
        rois = self._grain_rois.get(index)
        if rois is None:
            from ldct_viewer.analysis.comparison import grain_rois

            rois = self._grain_rois[index] = grain_rois(ndct)
        return rois

    def schedule(self, index: int, ndct: np.ndarray | None, *, rois_now: bool = False) -> None:
        """Compute what is missing for slice ``index`` against ``ndct`` (its NDCT slice, if any);
        ``rois_now`` searches the grain ROIs on this thread (the NPS window needs them anyway)."""
        if self._worker is not None:
            self._next = (index, ndct, rois_now)
            return
        self._next = None
        self.changed.emit(index)
        if ndct is None:
            return
        todo = {}
        for key in self.measured:
            image = self._source_slice(key, index)
            if image is not None and (key, index) not in self._values:
                todo[key] = image
        if not todo:
            return
        known = self.grain_rois_of(index, ndct) if rois_now else self._grain_rois.get(index)

        def job():
            from ldct_viewer.analysis.comparison import grain_rois, slice_metrics

            rois = known
            if rois is None:
                rois = grain_rois(ndct)
                yield None, rois  # into the cache (GUI thread), for the NPS window
            for key, image in todo.items():
                yield key, slice_metrics(image, ndct, rois)

        generation = self._generation
        worker = GeneratorWorker(job)
        worker.signals.yielded.connect(guarded(self, lambda item: self._store(generation, index, *item)))
        worker.signals.errored.connect(guarded(self, lambda err: self.failed.emit(f"metrics: {error_text(err)}")))
        worker.signals.finished.connect(guarded(self, lambda: self._finished(index)))
        self._worker = worker
        worker.start()

    def _store(self, generation: int, index: int, key: str | None, values) -> None:
        if generation != self._generation:
            return
        if key is None:
            self._grain_rois.setdefault(index, values)
        else:
            self._values[(key, index)] = values
            self.changed.emit(index)

    def _finished(self, index: int) -> None:
        self._worker = None
        if self._next is not None:
            request, self._next = self._next, None
            QTimer.singleShot(0, self, lambda: self.schedule(request[0], request[1], rois_now=request[2]))
        else:
            self.settled.emit(index)

    def stop(self, timeout: float | None = None) -> None:
        """Abort the running job; with ``timeout``, wait for it too."""
        if self._worker is not None:
            self._worker.abort()
            if timeout is not None:
                self._worker.wait(timeout)
