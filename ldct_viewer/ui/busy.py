"""Long preparations (the demo's first start, a low-dose simulation, an export) on the pool thread, with
a progress bar and the time left in the status bar while the window stays live.

The job is a plain function that takes a ``progress`` callback receiving ``JobProgress``
(``ldct_viewer.progress``); it runs on a ``GeneratorWorker`` and the callback's reports cross to the
GUI thread as queued signals. While the job runs, ``message`` (with the percentage and time left)
is what the panels show when they have nothing else (``display.missing_texts``).
"""

from __future__ import annotations

from typing import Any, Callable

import dataclasses
import math
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from ldct_viewer.progress import JobProgress
from ldct_viewer.ui.messages import error_text
from ldct_viewer.ui.workers import GeneratorWorker, guarded

STEPS = 1000  # the bar's resolution


class BusyRunner(QObject):
    """Runs preparation jobs and shows how far the newest one is; ``changed`` callers repaint."""

    def __init__(self, status_bar: QStatusBar, changed: Callable[[], None],
                 report_error: Callable[[str, str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status_bar = status_bar
        self._changed = changed
        self._report_error = report_error
        self.workers: list[GeneratorWorker] = []
        self.message = ""  # what the panels show while a case is being prepared ("" when idle)
        self.title = ""
        self.last: JobProgress | None = None
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setObjectName("busyProgress")
        self.bar.setRange(0, STEPS)
        self.bar.setFixedWidth(260)
        self.bar.setFormat("%p %")
        self.eta = QLabel("")
        for widget in (self.label, self.bar, self.eta):
            widget.hide()
            status_bar.addWidget(widget)
        self._reported_at = 0.0
        self._tick = QTimer(self, interval=1000)  # the time left counts down between reports
        self._tick.timeout.connect(self._count_down)

    @property
    def running(self) -> bool:
        return bool(self.workers)

    def run(self, title: str, job: Callable[[Callable[[JobProgress], None]], Any],
            done: Callable[[Any], None]) -> GeneratorWorker:
        """Run ``job(progress)`` on the pool, showing ``title`` and its progress; then ``done(result)``
        on the GUI thread (an exception becomes an error dialog titled ``title``)."""
        worker: GeneratorWorker

        def work():
            yield job(worker.signals.progressed.emit)

        worker = GeneratorWorker(work)
        worker.signals.progressed.connect(guarded(self, lambda p: self._show(worker, p)))
        worker.signals.yielded.connect(guarded(self, done))
        worker.signals.errored.connect(guarded(self, lambda err: self._report_error(title.rstrip("…"),
                                                                                    error_text(err))))
        worker.signals.finished.connect(guarded(self, lambda: self._finished(worker)))
        self.workers.append(worker)
        self.title, self.last = title, None
        self.message = title
        self.label.setText(title)
        self.bar.setValue(0)
        self.eta.setText("starting…")
        for widget in (self.label, self.bar, self.eta):
            widget.show()
        self._changed()
        worker.start()
        return worker

    def _show(self, worker: GeneratorWorker, progress: JobProgress) -> None:
        if not self.workers or worker is not self.workers[-1]:
            return  # only the newest job's progress is shown
        self.last = progress
        self._reported_at = time.monotonic()
        self.bar.setValue(int(round(STEPS * min(max(progress.fraction, 0.0), 1.0))))
        self.label.setText(f"{self.title.rstrip('…')}: {progress.stage}")
        self._show_eta(progress)
        if not self._tick.isActive():
            self._tick.start()

    def _show_eta(self, progress: JobProgress) -> None:
        self.eta.setText(progress.eta_text())
        self.message = f"{self.title}\n{progress.stage}\n{100 * progress.fraction:.0f} % · {progress.eta_text()}"
        self._changed()

    def _count_down(self) -> None:
        """Between two reports (a batch of slices can take a minute), the time left keeps moving."""
        p = self.last
        if p is None or not math.isfinite(p.eta_s) or p.fraction >= 1.0:
            return
        since = time.monotonic() - self._reported_at
        self._show_eta(dataclasses.replace(p, elapsed_s=p.elapsed_s + since, eta_s=max(p.eta_s - since, 1.0)))

    def _finished(self, worker: GeneratorWorker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        if not self.workers:
            self._tick.stop()
            self.message, self.title, self.last = "", "", None
            for widget in (self.label, self.bar, self.eta):
                widget.hide()
        self._changed()

    def abort(self, timeout: float | None = None) -> None:
        """Stop every job at its next boundary; with ``timeout``, wait for them too."""
        for worker in list(self.workers):
            worker.abort()
            if timeout is not None:
                worker.wait(timeout)
