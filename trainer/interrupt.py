"""Stopping a run cleanly: Ctrl-C (or a time limit's SIGINT) finishes the current step, saves the
training state and leaves a best.pt; a second Ctrl-C stops at once."""

from __future__ import annotations

import signal
import sys
import threading
import time


class StopFlag:
    """First SIGINT: ``requested`` becomes True (the loop stops after this step). Second: stop at once.
    Installed only in the main thread (signal handlers cannot be set elsewhere)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nldct-train: stopping after this step (Ctrl-C again to abort now)", file=sys.stderr)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def timed(batches, clock: dict):
    """Iterate ``batches``, adding the time spent waiting for each one to ``clock["wait"]``."""
    iterator = iter(batches)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        clock["wait"] += time.perf_counter() - t0
        yield item
