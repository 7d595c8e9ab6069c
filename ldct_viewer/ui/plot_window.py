"""A non-modal plot window that follows the viewer: one curve per image (LDCT, every network, NDCT)
in the panels' colours, a hint line under the plot, and at most one redraw per burst of slice steps,
results or edits (a plot redraw costs ~10-30 ms, a slice step less). Subclasses say what to plot.

Where it opens: where the user last left it (settings), else the first free spot of the screen,
from its top-right corner down and then leftwards, that no other plot window covers, so that the
NPS and line-profile windows open side by side instead of on top of each other."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from ldct_viewer.ui.theme import BACKGROUND, BORDER, TEXT_DIM, panel_curves


Rect = tuple[int, int, int, int]  # x, y, width, height
GAP = 8
LEFT_AXIS_WIDTH = 76
BOTTOM_AXIS_HEIGHT = 46
TITLE_BAR = 32  # room for the window manager's title bar, which a window's geometry leaves out


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def fitted_size(size: tuple[int, int], area: Rect) -> tuple[int, int]:
    """``size`` (w, h) shrunk so that two such windows, title bars included, stack in ``area``'s height."""
    w, h = size
    return min(w, area[2]), max(min(h, (area[3] - GAP) // 2 - TITLE_BAR), 160)


def free_spot(size: tuple[int, int], taken: list[Rect], area: Rect) -> tuple[int, int]:
    """Top-left (x, y) of the frame of a ``size`` (w, h) window inside ``area`` that overlaps none of
    ``taken`` (frames): the first free cell scanning from the top-right corner down, then column by
    column leftwards; a cascade from the top right when the screen is full."""
    w, h = size[0], size[1] + TITLE_BAR
    ax, ay, aw, ah = area
    x = ax + aw - w
    while x >= ax:
        y = ay
        while y + h <= ay + ah:
            blocking = [t for t in taken if _overlaps((x, y, w, h), t)]
            if not blocking:
                return x, y
            y = max(t[1] + t[3] for t in blocking) + GAP  # just below what is in the way
        x -= w + GAP
    k = len(taken)
    return max(ax + aw - w - 30 * k, ax), min(ay + 30 * k, ay + max(ah - h, 0))


def _rect(widget: QWidget) -> Rect:
    r: QRect = widget.frameGeometry()
    return (r.x(), r.y(), r.width(), max(r.height(), widget.height() + TITLE_BAR))


class FollowingPlotDialog(QDialog):
    """The plot, its curves (``self.curves[panel key]``) and ``self.info``; ``refresh()`` re-reads the viewer."""

    def __init__(self, viewer: QWidget, title: str, size: tuple[int, int], x_label: str, y_label: str, *,
                 log_y: bool = False, legend_offset: tuple[int, int] = (10, 10), name: str = "") -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.name = name or type(self).__name__  # the settings key of its geometry
        self._placed = False
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
        # room between the tick labels ("4·10¹" on a log axis) and the axis titles, so they never touch
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        left.setStyle(tickTextOffset=6, autoExpandTextSpace=True)
        left.setWidth(LEFT_AXIS_WIDTH)
        bottom.setStyle(tickTextOffset=6)
        bottom.setHeight(BOTTOM_AXIS_HEIGHT)
        self.plot.addLegend(offset=legend_offset, labelTextColor=TEXT_DIM, brush=pg.mkBrush(16, 18, 20, 120),
                            pen=pg.mkPen(BORDER))
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

    @property
    def settings_key(self) -> str:
        return f"tool_window/{self.name}"

    def place(self) -> None:
        """Where the user last left it, else a free spot beside the other plot windows (see module)."""
        settings = getattr(self.viewer, "settings", None)
        saved = settings.value(self.settings_key) if settings is not None else None
        if saved is not None and self.restoreGeometry(saved):
            return
        screen = (self.viewer.screen() if self.viewer is not None else None) or self.screen()
        if screen is None:
            return
        a = screen.availableGeometry()
        area = (a.x(), a.y(), a.width(), a.height())
        self.resize(*fitted_size((self.width(), self.height()), area))
        taken = [_rect(w) for w in self.viewer.findChildren(FollowingPlotDialog) if w is not self and w.isVisible()]
        x, y = free_spot((self.width(), self.height()), taken, area)
        # before its first show a window's frame is unknown and X11 window managers put the client
        # where asked: leave room for the title bar, or it lands above the screen's top edge
        self.move(x, y + (TITLE_BAR if self.frameGeometry() == self.geometry() else 0))

    def remember(self) -> None:
        """Keep the window's geometry for the next time it opens (also in a later run)."""
        settings = getattr(self.viewer, "settings", None)
        if settings is not None and self._placed:
            settings.setValue(self.settings_key, self.saveGeometry())

    def showEvent(self, event) -> None:  # noqa: N802
        if not self._placed:
            self.place()
            self._placed = True
        super().showEvent(event)
        self.refresh()

    def hideEvent(self, event) -> None:  # noqa: N802
        self.remember()
        super().hideEvent(event)

    def refresh(self) -> None:
        raise NotImplementedError
