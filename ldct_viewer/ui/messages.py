"""Every user-facing error in the GUI goes through here, as a modal ``QMessageBox``.

Keeping one entry point lets tests intercept dialogs (monkeypatch ``QMessageBox.critical``)
and lets the window keep a log of what it reported.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ldct_viewer.errors import LdctError


def error_text(err: BaseException) -> str:
    """One line for a dialog: user errors as they are, anything else with its type."""
    text = str(err).strip().splitlines()
    line = text[0] if text else ""
    if isinstance(err, LdctError):
        return line or type(err).__name__
    return f"{type(err).__name__}: {line}" if line else type(err).__name__


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.information(parent, title, message)
