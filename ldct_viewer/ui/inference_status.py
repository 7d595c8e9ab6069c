"""The status bar's inference corner: device, slices done, ETA and Cancel, following the controller."""

from __future__ import annotations

import math
from typing import Callable

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from ldct_viewer.ui.inference_controller import InferenceController


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


class InferenceStatus:
    """Permanent widgets on ``status_bar``; progress and Cancel show only while inference runs."""

    def __init__(self, inference: InferenceController, status_bar: QStatusBar, cancel: Callable[[], None]) -> None:
        self.inference = inference
        self.device_label = QLabel("")
        self.device_label.setObjectName("hint")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setFormat("%v / %m slices")
        self.progress.hide()
        self.eta_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop background inference (Esc); finished slices are kept")
        self.cancel_button.clicked.connect(cancel)
        self.cancel_button.hide()
        for widget in (self.device_label, self.progress, self.eta_label, self.cancel_button):
            status_bar.addPermanentWidget(widget)
        inference.progressChanged.connect(self._on_progress)
        inference.runningChanged.connect(self._on_running)
        inference.engineReady.connect(lambda key: self.update_device())

    def update_device(self) -> None:
        self.device_label.setText(self.inference.device_description())

    def _on_progress(self, done: int, total: int, eta: float) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        if self.inference.is_running and total:
            self.eta_label.setText(f"ETA {format_eta(eta)}" if math.isfinite(eta) else "ETA …")
        else:
            self.eta_label.setText("")

    def _on_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if not running:
            self.eta_label.setText("")
        self.update_device()
