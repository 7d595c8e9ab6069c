"""Fixtures shared by the viewer's GUI tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A temporary folder whose cache/ is the viewer's cache (nothing of the user's is touched)."""
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def dialogs(monkeypatch):
    """Record error/info dialogs as (kind, "title: text") instead of blocking on them."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def record(kind):
        def fake(parent, title, text, *args, **kwargs):
            shown.append((kind, f"{title}: {text}"))
            return QMessageBox.StandardButton.Ok
        return staticmethod(fake)

    for kind in ("critical", "warning", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, record(kind))
    return shown
