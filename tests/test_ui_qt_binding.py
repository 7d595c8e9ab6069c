"""The Qt binding itself. The viewer makes thousands of Qt calls a minute (cine: ~300 a second); a
binding that drops a reference on each one kills the process once the count runs out — PySide6
6.12.0 on Python 3.11 did so with None, once per call of a method that returns nothing: the viewer
aborted after 195 s of cine on the demo case (measured), and test runs crashed at exit now and
then. pyproject.toml keeps such a binding out; this test says so if one comes back."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QLabel


def test_qt_calls_leave_the_reference_counts_of_none_and_the_bools_alone(qtbot):
    import PySide6

    label = QLabel("x")
    qtbot.addWidget(label)
    shared = (None, True, False)
    before = [sys.getrefcount(obj) for obj in shared]
    for i in range(2000):
        label.setText("a")               # returns nothing
        label.setVisible(bool(i % 2))    # returns nothing, takes a bool
        label.isVisible()                # returns a bool
    after = [sys.getrefcount(obj) for obj in shared]
    for obj, b, a in zip(shared, before, after):  # immortal from Python 3.12: unchanged there
        assert a - b > -100, (f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} dropped "
                              f"{b - a} references to {obj!r} in 6,000 calls")
