"""Run a generator on the Qt thread pool and hand each item to the GUI thread (superqt ``thread_worker`` style).

A ``QRunnable`` cannot carry signals, so each worker owns a separate ``WorkerSignals`` QObject,
created on the GUI thread: signals emitted from the pool thread are queued to slots living on the
GUI thread, which is therefore the only thread that ever touches a widget.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


def guarded(owner: QObject, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a worker-signal callback so it is skipped once ``owner`` (a window) has been deleted.

    Worker signals may still be queued when the window closes; Qt only auto-disconnects bound
    methods of live QObjects, not lambdas, so callbacks check the owner first.
    """

    def call(*args: Any) -> Any:
        if shiboken6.isValid(owner):
            return func(*args)
        return None

    return call


class WorkerSignals(QObject):
    """What a ``GeneratorWorker`` reports; connect to these on the GUI thread."""

    started = Signal()
    yielded = Signal(object)
    errored = Signal(object)  # the exception instance
    progressed = Signal(object)  # a job's own progress reports (e.g. ``JobProgress``), emitted by the job
    finished = Signal()  # always last, after success, error or abort


class GeneratorWorker(QRunnable):
    """Iterates ``func(*args, **kwargs)`` in a pool thread, emitting ``yielded`` per item.

    ``abort()`` sets ``abort_event`` (pass it on to the generator, e.g. as ``Engine.run(cancel=...)``)
    and stops the iteration at the next item boundary.
    """

    def __init__(self, func: Callable[..., Iterator[Any]], *args: Any,
                 abort_event: threading.Event | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference; Qt must not delete it under Python
        self._func = func
        self._args = args
        self._kwargs = kwargs
        self.abort_event = abort_event if abort_event is not None else threading.Event()
        self.signals = WorkerSignals()
        self._done = threading.Event()

    def abort(self) -> None:
        self.abort_event.set()

    @property
    def aborted(self) -> bool:
        return self.abort_event.is_set()

    @property
    def is_done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``run`` has returned (tests and shutdown only; never on a hot GUI path)."""
        return self._done.wait(timeout)

    def start(self, pool: QThreadPool | None = None) -> "GeneratorWorker":
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def run(self) -> None:  # called on a pool thread
        try:
            self.signals.started.emit()
            for item in self._func(*self._args, **self._kwargs):
                if self.abort_event.is_set():
                    break
                self.signals.yielded.emit(item)
                if self.abort_event.is_set():
                    break
        except BaseException as err:  # noqa: BLE001 - everything must reach the GUI as a dialog
            self.signals.errored.emit(err)
        finally:
            try:
                self.signals.finished.emit()
            except RuntimeError:  # the signals object was deleted at shutdown
                pass
            self._done.set()  # last: whoever waits for it may tear Qt down next
