"""Cine play: the slice steps forward at the ``ViewState``'s frame rate, wrapping at the end."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolButton

from ldct_viewer.viewstate import ViewState


class Cine(QObject):
    """Plays while ``button`` (the toolbar's) is down; ``action`` (View → Cine play, key P) shows the same."""

    def __init__(self, state: ViewState, button: QToolButton, action: QAction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.button, self.action = state, button, action
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step)
        button.toggled.connect(self.set_playing)
        state.subscribe("cine", self._on_fps)

    def set_playing(self, playing: bool) -> None:
        self.action.setChecked(playing)
        if self.button.isChecked() != playing:
            self.button.setChecked(playing)  # comes back here through the button's toggled signal
            return
        if playing:
            self.timer.start(int(1000 / self.state.cine_fps))
            self.button.setText("⏸ Cine")
        else:
            self.timer.stop()
            self.button.setText("▶ Cine")

    def _on_fps(self, fps: float) -> None:
        if self.timer.isActive():
            self.timer.setInterval(int(1000 / fps))

    def _step(self) -> None:
        n = self.state.n_positions  # slices, or sections in a reformat plane
        self.state.set_position((self.state.position + 1) % n if n else 0)
