"""Start the Qt application: theme, main window, the case from the command line (or the demo)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from ldct_viewer.atomic import atomic_write_bytes

SCREENSHOT_TIMEOUT_MS = 180_000


def get_app() -> QApplication:
    """The process's QApplication (created once, dark theme applied)."""
    from ldct_viewer.ui.theme import apply_dark_theme

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setOrganizationName("ldct-viewer")
        app.setApplicationName("ldct-viewer")
        apply_dark_theme(app)
    return app


def run_viewer(ldct: Sequence[str] | None = None, ndct: Sequence[str] | None = None, *,
               mse: str | None = None, wgan_gp: str | None = None, device: str = "auto",
               screenshot: str | None = None, settings=None, networks: list | None = None) -> int:
    """Open the viewer on ``ldct``/``ndct`` paths, or on the demo case when no LDCT is given.

    ``networks`` (``ldct_viewer.networks.Network``, from ``--model``) replace the compared networks.
    ``screenshot``: save the window to this PNG once every network has shown the slice on screen
    (or failed), then quit — used to make ``resources/screenshot.png`` under Xvfb.
    """
    app = get_app()
    from ldct_viewer.ui.main_window import MainWindow

    checkpoints = None
    if mse is not None or wgan_gp is not None:
        checkpoints = {"mse": mse, "wgan-gp": wgan_gp}
    window = MainWindow(settings=settings, device=device, checkpoints=checkpoints, networks=networks)
    if screenshot:  # a fixed, screen-filling size so README screenshots are comparable
        area = app.primaryScreen().availableGeometry()
        window.setGeometry(area.x(), area.y(), min(area.width(), 1920), min(area.height(), 1080))
    window.show()

    def open_initial() -> None:
        if ldct:
            if window.open_paths(list(ldct), "ldct") and ndct:
                window.open_paths(list(ndct), "ndct")
        elif ndct:
            window.open_paths(list(ndct), "ndct")
        else:
            window.open_demo()

    QTimer.singleShot(0, open_initial)
    if screenshot:
        _arm_screenshot(app, window, Path(screenshot))
    code = app.exec()
    window.shutdown()
    QThreadPool.globalInstance().waitForDone(60_000)  # no pool thread may outlive the QApplication
    return int(code)


def _arm_screenshot(app: QApplication, window, path: Path) -> None:
    """Grab the window once the on-screen slice is shown by every model that can run, then quit."""
    state = {"done": False}

    def ready() -> bool:
        if window.case is None:
            return False
        i = window.state.slice_of("ldct")
        for key, slot in window.inference.slots.items():
            if slot.problem is None and window.inference.result(key, i) is None:
                return False
        return window.metrics.values("ldct", i) is not None or window.case.ndct is None

    def grab() -> None:
        if state["done"]:
            return
        state["done"] = True
        image = window.panels["ldct"].image_shape()
        if image is not None:  # show the crosshair and HU read-out, as when the mouse rests on a panel
            window.state.set_crosshair((image[0] * 0.42, image[1] * 0.40), "ldct")
        app.processEvents()
        window.repaint()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        window.grab().save(buffer, "PNG")
        atomic_write_bytes(path, bytes(data))
        print(f"screenshot saved to {path}", flush=True)
        app.quit()

    def poll() -> None:
        if ready():
            QTimer.singleShot(800, grab)  # let metrics and repaints settle
        elif not state["done"]:
            QTimer.singleShot(250, poll)

    QTimer.singleShot(500, poll)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, grab)
