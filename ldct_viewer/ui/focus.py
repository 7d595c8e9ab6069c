"""Keys belong to the images: a toolbar field gives them back when its edit is done.

The window's single-key shortcuts (presets 1–7, D, L, P, N, F…) cannot fire while a spin box holds
the keyboard focus (typing "2" there edits the number). Enter commits the typed value and Esc drops
it; both hand the focus back to the image area, as does a click on an image (the panel grid takes
click focus: its panels' views take none).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

RETURN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ReturnFocus(QObject):
    """Event filter for toolbar spin boxes: Enter commits, Esc reverts (``revert()``), and both
    give the focus to ``target``."""

    def __init__(self, target: QWidget, revert: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target = target
        self.revert = revert
        self.spins: list[QAbstractSpinBox] = []

    def watch(self, spin: QAbstractSpinBox) -> None:
        self.spins.append(spin)
        spin.installEventFilter(self)
        spin.lineEdit().installEventFilter(self)

    def _spin_of(self, obj: QObject) -> QAbstractSpinBox | None:
        return next((s for s in self.spins if obj is s or obj is s.lineEdit()), None)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        key = event.key()
        if key != Qt.Key.Key_Escape and key not in RETURN_KEYS:
            return False
        spin = self._spin_of(obj)
        if spin is None:
            return False
        if kind == QEvent.Type.ShortcutOverride:  # Esc here means "leave the field", not "cancel inference"
            event.accept()
            return True
        if key == Qt.Key.Key_Escape:
            self.revert()
        else:
            spin.interpretText()  # commits (keyboard tracking is off, so this emits valueChanged)
        self.give_back()
        return True

    def give_back(self) -> None:
        self.target.setFocus(Qt.FocusReason.OtherFocusReason)
