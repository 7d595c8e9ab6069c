"""A non-modal plot window that follows the viewer: one curve per image (LDCT, every network, NDCT)
in the panels' colours, a hint line under the plot, and at most one redraw per burst of slice steps,
results or edits (a plot redraw costs ~10-30 ms, a slice step less). Subclasses say what to plot."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from ldct_viewer.ui.theme import BACKGROUND, TEXT_DIM, panel_curves


class FollowingPlotDialog(QDialog):
    """The plot, its curves (``self.curves[panel key]``) and ``self.info``; ``refresh()`` re-reads the viewer."""

    def __init__(self, viewer: QWidget, title: str, size: tuple[int, int], x_label: str, y_label: str, *,
                 log_y: bool = False, legend_offset: tuple[int, int] = (10, 10)) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.setWindowTitle(title)
        self.setWindowFlag(Qt.WindowType.Tool, True)
        self.resize(*size)
        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setLogMode(x=False, y=log_y)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        for side in ("bottom", "left"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.addLegend(offset=legend_offset, labelTextColor=TEXT_DIM)
        self.curves: dict = {}
        self.curve_specs: tuple = ()
        self.sync_curves()
        self.info = QLabel("")
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.info)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.refresh)

    def sync_curves(self) -> None:
        """One curve per panel of the viewer, in its colours (again when the compared networks change)."""
        titles = getattr(self.viewer, "panel_grid", None)
        specs = panel_curves(titles.titles) if titles is not None else ()
        if specs == self.curve_specs:
            return
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curve_specs = specs
        self.curves = {key: self.plot.plot([], [], pen=pg.mkPen(colour, width=2), name=label)
                       for key, label, colour in specs}

    def schedule(self) -> None:
        """Refresh soon, once, however many slice steps, results or edits arrive meanwhile."""
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError
