"""A small terminal progress bar (stderr) with rate and ETA, so long CLI runs show they are alive.

On a terminal the bar redraws in place with ``\\r`` (at most ~10 times a second); when stderr is a
file or pipe it prints a plain line every 10 % so logs stay readable. Shared by the viewer's
commands and the trainer.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """``bar = ProgressBar(total, "Denoising"); bar.update(done)`` … ``bar.close()``."""

    def __init__(self, total: int, label: str = "", *, done: int = 0, stream: TextIO | None = None,
                 width: int = 30, enabled: bool = True) -> None:
        """``done`` > 0 starts part-way (a resumed run); the rate counts only what this bar saw."""
        self.total = max(0, int(total))
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.start = time.monotonic()
        self.done = self.start_done = int(done)
        self.info = ""
        self._last_draw = 0.0
        self._last_decile = -1
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._closed = False

    def text(self) -> str:
        elapsed = time.monotonic() - self.start
        fraction = self.done / self.total if self.total else 1.0
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        if self.done >= self.total:
            tail = f"{_clock(elapsed)} elapsed"
        elif rate > 0:
            tail = f"ETA {_clock((self.total - self.done) / rate)}"
        else:
            tail = "ETA --:--"
        speed = f"{rate:.2f}/s" if rate < 10 else f"{rate:.0f}/s"
        prefix = f"{self.label} " if self.label else ""
        info = f" {self.info}" if self.info else ""
        return f"{prefix}[{bar}] {self.done}/{self.total} {100 * fraction:3.0f}% {speed} {tail}{info}"

    def update(self, done: int, total: int | None = None, *, info: str | None = None) -> None:
        """Set the number of finished items (the signature fits ``Engine.run(progress=...)``);
        ``info`` is a short suffix such as the current loss."""
        if total is not None:
            self.total = int(total)
        if info is not None:
            self.info = info
        self.done = min(int(done), self.total) if self.total else int(done)
        if not self.enabled:
            return
        now = time.monotonic()
        finished = self.done >= self.total
        if self._interactive:
            if finished or now - self._last_draw >= 0.1:
                self._last_draw = now
                self.stream.write("\r" + self.text())
                self.stream.flush()
        else:
            decile = int(10 * self.done / self.total) if self.total else 10
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(self.text() + "\n")
                self.stream.flush()

    def close(self, info: str | None = None) -> None:
        """Finish the line on a terminal (call once, also after cancellation)."""
        if self._closed or not self.enabled:
            return
        self._closed = True
        if info is not None:
            self.info = info
        if self._interactive:
            self.stream.write("\r" + self.text() + "\n")
            self.stream.flush()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
