"""A small terminal progress bar (stderr) with rate and ETA, so long CLI runs show they are alive.

On a terminal the bar redraws in place with ``\\r`` (at most ~10 times a second); when stderr is a
file or pipe it prints a plain line every 10 % so logs stay readable. Shared by the viewer's
commands and the trainer. ``StagedProgress`` turns the progress of a job's stages (phantom, scans,
writing) into one fraction and a time left, for the viewer's progress bar.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Callable, Mapping, TextIO


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


# ---------------------------------------------------------------------------------------- staged jobs
@dataclass(frozen=True)
class JobProgress:
    """Where a long job stands: ``fraction`` done (0-1), the ``stage`` running, time so far and left
    (``eta_s`` is NaN while it cannot be estimated yet)."""

    fraction: float
    stage: str
    elapsed_s: float
    eta_s: float

    def eta_text(self) -> str:
        if self.fraction >= 1.0:
            return f"done in {_clock(self.elapsed_s)}"
        if not math.isfinite(self.eta_s):
            return "estimating the time left…"
        return f"about {_clock(self.eta_s)} left"

    def text(self) -> str:
        """One line: "simulating 25% dose, 720 views — 42 % · about 01:05 left"."""
        return f"{self.stage} — {100 * self.fraction:.0f} % · {self.eta_text()}"


class StagedProgress:
    """Progress of a job made of stages of known relative cost, each reporting its own done/total.

    ``stages`` maps each stage name to its share of the whole job's time (any positive numbers;
    they are normalized). ``start(name, label)`` enters a stage, ``update(done, total)`` reports
    within it; every change goes to ``report(JobProgress)``. The time left is extrapolated from the
    time spent and the fraction done, once enough of the job is done to be meaningful.
    """

    MIN_FRACTION_FOR_ETA = 0.03

    def __init__(self, stages: Mapping[str, float], report: Callable[[JobProgress], None] | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not stages or any(w <= 0 for w in stages.values()):
            raise ValueError(f"stages need positive weights, got {dict(stages)}")
        total = float(sum(stages.values()))
        self.weights = {name: float(w) / total for name, w in stages.items()}
        self.report = report
        self.clock = clock
        self.start_time = clock()
        self.finished: set[str] = set()
        self.current: str | None = None
        self.label = ""
        self.within = 0.0
        self.last: JobProgress | None = None

    def fraction(self) -> float:
        done = sum(self.weights[name] for name in self.finished)
        if self.current is not None and self.current not in self.finished:
            done += self.weights[self.current] * self.within
        return min(max(done, 0.0), 1.0)

    def start(self, name: str, label: str | None = None) -> None:
        """Enter stage ``name`` (the previous one counts as finished); ``label`` is shown while it runs."""
        if name not in self.weights:
            raise ValueError(f"unknown stage {name!r}; known: {', '.join(self.weights)}")
        if self.current is not None:
            self.finished.add(self.current)
        self.current, self.label, self.within = name, label or name, 0.0
        self._emit()

    def update(self, done: float, total: float) -> None:
        """``done`` of ``total`` units of the current stage are finished."""
        self.within = min(max(float(done) / float(total), 0.0), 1.0) if total else 1.0
        self._emit()

    def finish(self, label: str = "done") -> None:
        if self.current is not None:
            self.finished.add(self.current)
        self.finished.update(self.weights)
        self.label = label
        self._emit()

    def _emit(self) -> None:
        fraction = self.fraction()
        elapsed = self.clock() - self.start_time
        eta = math.nan
        if fraction >= 1.0:
            eta = 0.0
        elif fraction >= self.MIN_FRACTION_FOR_ETA and elapsed > 0:
            eta = elapsed * (1.0 - fraction) / fraction
        self.last = JobProgress(fraction, self.label, elapsed, eta)
        if self.report is not None:
            self.report(self.last)
