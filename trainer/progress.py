"""A one-line terminal progress bar with rate and ETA (stderr).

On a terminal the line is redrawn in place; into a file or pipe it prints a plain line at most
every ``interval_s`` seconds, so background runs leave a readable log.
"""

from __future__ import annotations

import sys
import time


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    def __init__(self, total: int, *, label: str = "", done: int = 0, stream=None, width: int = 24,
                 interval_s: float = 30.0, enabled: bool = True) -> None:
        self.total = max(1, int(total))
        self.label = label
        self.start_done = self.done = int(done)
        self.stream = stream or sys.stderr
        self.width = width
        self.interval_s = interval_s
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self._last_print = 0.0

    def line(self, info: str = "") -> str:
        elapsed = time.perf_counter() - self.t0
        steps = self.done - self.start_done
        rate = steps / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        eta_text = format_duration(eta) if eta == eta else "--:--"
        return (f"{self.label} [{bar}] {self.done}/{self.total} {rate:.2f} it/s "
                f"elapsed {format_duration(elapsed)} ETA {eta_text} {info}").rstrip()

    def update(self, done: int, info: str = "") -> None:
        self.done = int(done)
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if now - self._last_print >= 0.2 or self.done >= self.total:
                self.stream.write("\r" + self.line(info) + "\033[K")
                self.stream.flush()
                self._last_print = now
        elif now - self._last_print >= self.interval_s:
            self.stream.write(self.line(info) + "\n")
            self.stream.flush()
            self._last_print = now

    def close(self, info: str = "") -> None:
        if not self.enabled:
            return
        self.stream.write(("\r" if self.tty else "") + self.line(info) + ("\033[K\n" if self.tty else "\n"))
        self.stream.flush()
