"""The comparison panels (LDCT, one per network, NDCT) in a grid, kept in step with the ``ViewState``.

The grid's rows × columns follow the layout (one row, two rows, or ``auto``: the images as large as
the space allows, ``ldct_viewer.panel_layout``), recomputed when the panels or their space change.

The grid draws what it is handed (``display.PanelImage``) and turns mouse input on the panels into
``ViewState`` changes: window/level drags (coalesced), slice steps, zoom and pan, crosshair, ROI and
profile line. Which image each panel shows is decided by the caller; the ROI statistics and the HU
read-out are measured on each panel's HU image (``source_image``: its slice, or its reformat in a
coronal/sagittal plane), also while it shows a difference map.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from ldct_viewer.analysis.profile import Line
from ldct_viewer.analysis.roi import EllipseRoi, RoiStats, roi_stats
from ldct_viewer.display import PANEL_TITLES, PanelImage, difference_note, difference_title
from ldct_viewer.panel_layout import grid_shape, positions
from ldct_viewer.ui.panel import ImagePanel
from ldct_viewer.viewstate import ViewState
from ldct_viewer.windowing import DIVERGING_LUT

DRAG_INTERVAL_MS = 15  # W/L drags are applied at most ~60 times a second


class PanelGrid(QWidget):
    """``panels`` by key in panel order (``titles``) in ``grid``; zoom and pan linked to the LDCT panel."""

    lineDrawn = Signal()  # the user finished drawing a profile line

    def __init__(self, state: ViewState, source_image: Callable[[str], np.ndarray | None],
                 pixel_spacing: Callable[[], tuple[float, float]], titles: Mapping[str, str] = PANEL_TITLES) -> None:
        super().__init__()
        self.state = state
        self._source_image = source_image
        self._pixel_spacing = pixel_spacing
        self.titles = dict(titles)
        self.panels: dict[str, ImagePanel] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click on an image takes the keys (shortcuts)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self._shape: tuple[int, int] | None = None
        self._pending_drag: list[Any] = [0.0, 0.0, None]
        self._drag_timer = QTimer(self, singleShot=True, interval=DRAG_INTERVAL_MS)
        self._drag_timer.timeout.connect(self._apply_drag)
        for key, title in self.titles.items():
            self._add_panel(key, title)
        self._link_views(True)
        state.subscribe("window", self._on_window)
        state.subscribe("view", lambda panels, range: self.fit(panels) if range is None else None)
        state.subscribe("layout", lambda layout: self.apply_layout())
        state.subscribe("crosshair", lambda pos, panel: self.show_crosshair())
        state.subscribe("line", lambda line: [p.set_line(line) for p in self.panels.values()])
        state.subscribe("sync", self._on_sync)
        state.subscribe("roi", lambda roi: self.show_roi())
        self.apply_layout()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.panels)

    def _add_panel(self, key: str, title: str) -> ImagePanel:
        state = self.state
        panel = ImagePanel(key, title)
        panel.view.windowDragged.connect(lambda dx, dy, k=key: self._queue_drag(dx, dy, k))
        panel.view.sliceStepped.connect(lambda step, k=key: state.step_slice(step, k))
        panel.view.sigRangeChangedManually.connect(lambda *_, k=key: self._record_view(k))
        panel.view.sigResized.connect(lambda *_, k=key: self._panel_resized(k))
        panel.hovered.connect(lambda pos, k=key: state.set_crosshair(pos, k if pos else None))
        panel.view.roiDragged.connect(self._on_roi_drag)
        panel.roiEdited.connect(state.set_roi)
        panel.view.lineDragged.connect(self._on_line_drag)
        panel.lineEdited.connect(state.set_line)
        self.panels[key] = panel
        return panel

    def set_panels(self, titles: Mapping[str, str]) -> None:
        """Show the panels ``titles`` names, in its order: existing panels are kept (with their images),
        new ones made, gone ones deleted; then the grid is laid out again."""
        titles = dict(titles)
        for key in [k for k in self.panels if k not in titles]:
            panel = self.panels.pop(key)
            self.grid.removeWidget(panel)
            panel.hide()
            panel.setParent(None)
            panel.deleteLater()
        ordered = {}
        for key, title in titles.items():
            panel = self.panels.get(key) or self._add_panel(key, title)
            panel.set_title(title)
            ordered[key] = panel
        self.panels.clear()
        self.panels.update(ordered)  # the same dict object: the window's ``panels`` alias follows
        self.titles = titles
        self._link_views(self.state.sync["view"])
        self._shape = None
        self.apply_layout()
    # ------------------------------------------------------------------ drawing
    def show(self, key: str, shown: PanelImage) -> None:
        """Put ``shown`` on panel ``key``: an image at its window, a map at ±diff range, or the text."""
        panel = self.panels[key]
        panel.is_diff = shown.is_difference
        if shown.image is None:
            panel.set_placeholder(shown.placeholder)
            return
        image = shown.image
        if shown.bands:  # the bands cover the missing lines; keep NaN off pyqtgraph's fast path
            image = np.nan_to_num(image, nan=0.0 if shown.is_difference else -1024.0)
        if shown.is_difference:
            r = self.state.diff_range
            panel.set_image(image, (-r, r), DIVERGING_LUT)
        else:
            panel.set_image(image, self.state.window_of(key).levels)
        panel.set_bands(list(shown.bands), shown.band_axis, shown.placeholder)

    def update_subtitles(self, keys: Sequence[str] | None = None) -> None:
        """Under each title: the window (and slice when unsynced), or what a difference map subtracts."""
        mode = self.state.diff_mode
        for key in self.keys if keys is None else keys:
            panel = self.panels[key]
            if getattr(panel, "is_diff", False):
                note = difference_note(key, mode)
                text = difference_title(key, mode, self.titles) + (f" ({note})" if note else "")
                panel.subtitle.setText(f"{text}  ·  ±{self.state.diff_range:g} HU")
            else:
                w = self.state.window_of(key)
                text = f"W {w.width:g} / L {w.level:g}"
                if not self.state.sync["slice"]:
                    text += f"  ·  slice {self.state.slice_of(key) + 1}"
                panel.subtitle.setText(text)

    def show_roi(self, keys: Sequence[str] | None = None) -> None:
        """Draw the ROI on ``keys``' panels, labelled with the statistics of each one's HU image."""
        roi = self.state.roi
        for key in self.keys if keys is None else keys:
            if roi is None:
                self.panels[key].set_roi(None)
                continue
            stats = self.roi_stats_of(key)
            self.panels[key].set_roi(roi, stats.text() if stats is not None else "")

    def roi_stats_of(self, key: str) -> RoiStats | None:
        """The ROI statistics of ``key``'s image on its current slice (None without ROI or image)."""
        image = self._source_image(key)
        if self.state.roi is None or image is None:
            return None
        return roi_stats(image, self.state.roi, self._pixel_spacing())

    def hu_values(self, row: int, col: int) -> dict[str, float | None]:
        """HU of each panel's image at pixel (row, col) of its current slice (None where there is none)."""
        values: dict[str, float | None] = {}
        for key in self.keys:
            image = self._source_image(key)
            inside = image is not None and 0 <= row < image.shape[0] and 0 <= col < image.shape[1]
            values[key] = float(image[row, col]) if inside and np.isfinite(image[row, col]) else None
        return values

    def readout(self) -> str:
        """``"(col, row)  LDCT 41   …  HU"`` under the crosshair, for the status bar; "" without one."""
        pos = self.state.crosshair
        if pos is None:
            return ""
        row, col = int(pos[0]), int(pos[1])
        values = self.hu_values(row, col)
        shown = self.state.crosshair_panels()
        parts = [f"{self.titles[key]} {values[key]:.0f}" if values[key] is not None else f"{self.titles[key]} —"
                 for key in self.keys if key in shown]
        return f"({col}, {row})  " + "   ".join(parts) + "  HU"

    def show_orientation(self, letters: dict[str, str] | None, notes: dict[str, str]) -> None:
        """The same patient direction letters on every panel; each panel's geometry note (oblique, tilt)."""
        for key, panel in self.panels.items():
            panel.set_orientation(letters, notes.get(key, ""))

    def show_crosshair(self) -> None:
        shown = self.state.crosshair_panels()
        for key, panel in self.panels.items():
            panel.set_crosshair(self.state.crosshair if key in shown else None)

    def grid_shape(self) -> tuple[int, int]:
        """Rows × columns for the layout, the number of panels and the space there is now."""
        image = next((p.image_shape() for p in self.panels.values() if p.image_shape() is not None), None)
        aspect = image[1] / image[0] if image else 1.0
        width, height = max(self.width(), 1), max(self.height(), 1)
        return grid_shape(self.state.layout, len(self.panels), width, height, aspect)

    def apply_layout(self) -> None:
        """Place the panels row-major in the grid the layout asks for (only when it changed)."""
        rows, cols = shape = self.grid_shape()
        if shape == self._shape and all(self.grid.indexOf(p) >= 0 for p in self.panels.values()):
            return
        self._shape = shape
        for panel in self.panels.values():
            self.grid.removeWidget(panel)
        for panel, (row, col) in zip(self.panels.values(), positions(len(self.panels), cols)):
            self.grid.addWidget(panel, row, col)
        for r in range(max(rows, self.grid.rowCount())):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(max(cols, self.grid.columnCount())):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.state.layout == "auto" or self.state.layout == "2x2":
            QTimer.singleShot(0, self, self.apply_layout)  # the best grid depends on the space

    def fit(self, keys: Sequence[str] | None = None) -> None:
        """Fit the images to their panels (all the same size: a paired case shares one grid)."""
        shape = next((p.image_shape() for p in self.panels.values() if p.image_shape() is not None), None)
        for key in self.keys if keys is None else keys:
            if key in self.panels:
                self.panels[key].fit(shape)

    # ------------------------------------------------------------------ state and mouse events
    def _link_views(self, linked: bool) -> None:
        lead = self.panels["ldct"].view
        for key in self.keys[1:]:
            self.panels[key].view.setXLink(lead if linked else None)
            self.panels[key].view.setYLink(lead if linked else None)

    def _on_window(self, panels: tuple[str, ...]) -> None:
        for key in panels:
            panel = self.panels[key]
            if not getattr(panel, "is_diff", False):
                panel.set_levels(self.state.window_of(key).levels)
        self.update_subtitles(panels)

    def _on_sync(self, kind: str, enabled: bool) -> None:
        if kind == "view":
            self._link_views(enabled)
        elif kind == "slice":
            self.update_subtitles()
        elif kind == "crosshair":
            self.show_crosshair()

    def _panel_resized(self, key: str) -> None:
        """Keep the images fitted while the user has not zoomed (layout toggle, window resize)."""
        if self.state.view_range(key) is None:
            self.fit((key,))

    def _record_view(self, key: str) -> None:
        self.state.active_panel = key
        x0, x1, y0, y1 = self.panels[key].view_range()
        self.state.set_view_range((x0, x1, y0, y1), key)

    def _queue_drag(self, dx: float, dy: float, key: str) -> None:
        """Coalesce mouse moves: apply the summed drag at most every ``DRAG_INTERVAL_MS``."""
        pending = self._pending_drag
        pending[0] += dx
        pending[1] += dy
        pending[2] = key
        if not self._drag_timer.isActive():
            self._drag_timer.start()

    def _apply_drag(self) -> None:
        dx, dy, key = self._pending_drag
        self._pending_drag = [0.0, 0.0, None]
        if key is not None and (dx or dy):
            self.state.drag_window(dx, dy, key)

    def _on_roi_drag(self, start: tuple[float, float], now: tuple[float, float], finished: bool) -> None:
        """Shift + left drag draws the ROI live; a drag smaller than a pixel (a Shift-click) removes it."""
        roi = EllipseRoi.from_corners(start, now)
        if finished and (roi.width < 1 or roi.height < 1):
            roi = None
        self.state.set_roi(roi)

    def _on_line_drag(self, start: tuple[float, float], now: tuple[float, float], finished: bool) -> None:
        """Ctrl + left drag draws the profile line live; a drag shorter than a pixel (a Ctrl-click) removes it."""
        line = Line(start[0], start[1], now[0], now[1])
        if finished and line.length_px() < 1:
            line = None
        self.state.set_line(line)
        if finished and line is not None:
            self.lineDrawn.emit()
