"""One image panel: a title, a pyqtgraph view with the mouse mapping radiologists expect, a placeholder.

``SliceViewBox`` replaces pyqtgraph's default mouse mapping (left-drag pan, wheel zoom) with the
one of DICOM viewers: left-drag window/level, Shift+left-drag an elliptical ROI, Ctrl+left-drag a
profile line, middle-drag pan, right-drag or Ctrl+wheel zoom, wheel slice. It only *reports* W/L
drags, ROI and line drags and slice steps as signals; the main window applies them to the shared
``ViewState``. Likewise a ROI or line the user moves on a panel is reported (``ImagePanel.roiEdited``,
``lineEdited``), and both are drawn where the state says.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ldct_viewer.analysis.profile import Line
from ldct_viewer.analysis.roi import EllipseRoi

PANEL_BACKGROUND = "#000000"
CROSSHAIR_PEN = pg.mkPen((255, 200, 0, 140), width=1)
ROI_PEN = pg.mkPen((80, 220, 255), width=1.5)
ROI_HOVER_PEN = pg.mkPen((160, 240, 255), width=2)
ROI_LABEL_FILL = pg.mkBrush(0, 0, 0, 170)
LINE_PEN = pg.mkPen((255, 120, 200), width=1.5)
LINE_HOVER_PEN = pg.mkPen((255, 170, 225), width=2)
BAND_BRUSH = pg.mkBrush(52, 52, 52)
BAND_TEXT = (200, 200, 200)
EDGES = {"top": Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter,
         "bottom": Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
         "left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
         "right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter}


class SliceViewBox(pg.ViewBox):
    """A ViewBox with the mouse mapping of CT viewers (see module docstring)."""

    windowDragged = Signal(float, float)  # screen-pixel dx, dy of a left drag
    roiDragged = Signal(object, object, bool)  # Shift+left drag: start (x, y), current (x, y), finished
    lineDragged = Signal(object, object, bool)  # Ctrl+left drag: the same
    sliceStepped = Signal(int)  # +1 = next slice

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        self.setMouseMode(pg.ViewBox.PanMode)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - Qt naming
        button = ev.button()
        modifiers = ev.modifiers()
        tool = (self.roiDragged if modifiers & Qt.KeyboardModifier.ShiftModifier
                else self.lineDragged if modifiers & Qt.KeyboardModifier.ControlModifier else None)
        if button == Qt.MouseButton.LeftButton and tool is not None:
            ev.accept()
            start, now = self.mapSceneToView(ev.buttonDownScenePos()), self.mapSceneToView(ev.scenePos())
            tool.emit((start.x(), start.y()), (now.x(), now.y()), bool(ev.isFinish()))
        elif button == Qt.MouseButton.LeftButton:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            if delta.x() or delta.y():
                self.windowDragged.emit(float(delta.x()), float(delta.y()))
        elif button in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            super().mouseDragEvent(ev, axis)  # pyqtgraph: middle pans, right zooms
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None):  # noqa: N802
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.sliceStepped.emit(-1 if delta > 0 else 1)  # wheel towards the user: next slice
        ev.accept()

    def mouseClickEvent(self, ev):  # noqa: N802 - no context menu: right button is zoom
        ev.accept()


class RoiEllipse(pg.EllipseROI):
    """pyqtgraph's ellipse without its rotation handle (the statistics use an axis-aligned ellipse):
    handles scale the width, the height, or both about the centre; dragging inside moves it."""

    def _addHandles(self):  # noqa: N802 - pyqtgraph's hook
        self.addScaleHandle([1.0, 0.5], [0.5, 0.5])
        self.addScaleHandle([0.5, 1.0], [0.5, 0.5])
        self.addScaleHandle([0.5 * 2.0 ** -0.5 + 0.5] * 2, [0.5, 0.5])


class ImagePanel(QWidget):
    """Title + image view + placeholder text for one source (LDCT, a model output, NDCT)."""

    hovered = Signal(object)  # (row, col) float image coordinates, or None when the mouse left
    roiEdited = Signal(object)  # EllipseRoi: the user moved or resized the ROI on this panel
    lineEdited = Signal(object)  # Line: the user moved the profile line (or an end of it) on this panel

    def __init__(self, key: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"panel_{key}")
        self.title = QLabel(title)
        self.title.setObjectName("panelTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("panelSubtitle")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.view = SliceViewBox()
        self.graphics = pg.GraphicsView(background=PANEL_BACKGROUND)
        self.graphics.setCentralItem(self.view)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.graphics.setMinimumSize(120, 120)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(False)
        self.view.addItem(self.image)
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=CROSSHAIR_PEN)
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=CROSSHAIR_PEN)
        for line in (self.vline, self.hline):
            line.setZValue(10)
            line.hide()
            self.view.addItem(line, ignoreBounds=True)

        self.placeholder = QLabel("")
        self.placeholder.setObjectName("panelPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        stack = QGridLayout()
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addWidget(self.graphics, 0, 0)
        stack.addWidget(self.placeholder, 0, 0)  # drawn over the view; the view keeps its geometry
        self.letters: dict[str, QLabel] = {}  # patient direction at each edge ("A" on top of an axial slice)
        for edge, align in EDGES.items():
            label = QLabel("")
            label.setObjectName(f"orientation_{edge}")
            label.setStyleSheet("color: #e6c84b; font-weight: bold; background: transparent; padding: 2px 4px;")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            stack.addWidget(label, 0, 0, alignment=align)
            self.letters[edge] = label
        self.note = QLabel("")  # "oblique", "gantry tilt": geometry the display does not resample
        self.note.setObjectName("orientationNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #ffb060; background: rgba(0, 0, 0, 150); padding: 2px;")
        self.note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note.hide()
        stack.addWidget(self.note, 0, 0, alignment=Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft)
        self._bands: list = []  # placeholder bands over a reformat's missing slices (rect, text) items
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addLayout(stack, 1)
        layout.addWidget(self.subtitle)

        self.roi_item: RoiEllipse | None = None  # made when a ROI is first placed
        self.roi_label = pg.TextItem("", color=(190, 240, 255), fill=ROI_LABEL_FILL, anchor=(0, 1))
        self.roi_label.setZValue(12)
        self.roi_label.hide()
        self.view.addItem(self.roi_label, ignoreBounds=True)
        self.line_item: pg.LineSegmentROI | None = None  # made when a line is first placed
        self._placing_roi = False  # True while this code moves the ROI or line: not a user edit

        self._shape: tuple[int, int] | None = None
        self._mouse_proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved)
        self.set_placeholder("no image")

    # ------------------------------------------------------------------ content
    @property
    def has_image(self) -> bool:
        return self.placeholder.isHidden() and self.image.image is not None

    @property
    def displayed(self) -> np.ndarray | None:
        """The array on screen (HU, or HU differences in diff mode), None while a placeholder shows."""
        return self.image.image if self.has_image else None

    def set_image(self, data: np.ndarray, levels: tuple[float, float], lut: np.ndarray | None = None) -> None:
        """Show float32 ``data`` [H, W] with explicit levels (auto levels stay off)."""
        data = np.ascontiguousarray(data, dtype=np.float32)
        self._shape = data.shape
        self.image.setImage(data, autoLevels=False, levels=levels, lut=lut, autoDownsample=False)
        if not self.placeholder.isHidden():
            self.placeholder.hide()
            self.image.show()

    def set_orientation(self, letters: dict[str, str] | None, note: str = "") -> None:
        """Patient direction letters at the panel edges (none: hidden) and a geometry note."""
        for edge, label in self.letters.items():
            label.setText((letters or {}).get(edge, ""))
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def set_bands(self, bands: list[tuple[int, int]], axis: int | None, text: str) -> None:
        """Grey bands labelled ``text`` over rows (``axis`` 0) or columns (1) ``[start, stop)`` of the image:
        a reformat's slices that have no image yet."""
        for rect, label in self._bands:
            self.view.removeItem(rect)
            self.view.removeItem(label)
        self._bands = []
        if not bands or self._shape is None:
            return
        h, w = self._shape
        for start, stop in bands:
            x, y, bw, bh = (0, start, w, stop - start) if axis == 0 else (start, 0, stop - start, h)
            rect = QGraphicsRectItem(x, y, bw, bh)
            rect.setBrush(BAND_BRUSH)
            rect.setPen(pg.mkPen(None))
            rect.setZValue(5)
            label = pg.TextItem(text, color=BAND_TEXT, anchor=(0.5, 0.5))
            label.setPos(x + bw / 2, y + bh / 2)
            label.setZValue(6)
            if axis == 1:
                label.setAngle(90)
            self.view.addItem(rect, ignoreBounds=True)
            self.view.addItem(label, ignoreBounds=True)
            self._bands.append((rect, label))

    @property
    def band_count(self) -> int:
        return len(self._bands)

    def set_levels(self, levels: tuple[float, float]) -> None:
        if self.image.image is not None:
            self.image.setLevels(levels)

    def set_placeholder(self, text: str) -> None:
        """Replace the image by a centred message ("computing…", "no NDCT open", an error)."""
        self.set_bands([], None, "")
        self.placeholder.setText(text)
        self.placeholder.show()
        self.image.hide()

    def set_title(self, title: str, subtitle: str | None = None) -> None:
        self.title.setText(title)
        if subtitle is not None:
            self.subtitle.setText(subtitle)

    def image_shape(self) -> tuple[int, int] | None:
        return self._shape

    def set_crosshair(self, pos: tuple[float, float] | None) -> None:
        """Draw the crosshair at image ``(row, col)`` (pixel centres), or hide it."""
        if pos is None:
            self.vline.hide()
            self.hline.hide()
            return
        row, col = pos
        self.vline.setPos(int(col) + 0.5)
        self.hline.setPos(int(row) + 0.5)
        self.vline.show()
        self.hline.show()

    def set_roi(self, roi: EllipseRoi | None, text: str = "") -> None:
        """Draw ``roi`` (image pixels) with ``text`` (its statistics here) beside it, or hide both."""
        if roi is None:
            if self.roi_item is not None:
                self.roi_item.hide()
            self.roi_label.hide()
            return
        self._placing_roi = True
        try:
            if self.roi_item is None:
                self.roi_item = RoiEllipse((roi.x0, roi.y0), (roi.width, roi.height), pen=ROI_PEN,
                                           hoverPen=ROI_HOVER_PEN, removable=False)
                self.roi_item.setZValue(11)
                self.roi_item.sigRegionChanged.connect(self._roi_moved)
                self.view.addItem(self.roi_item, ignoreBounds=True)
            elif self._roi_geometry() != (roi.x0, roi.y0, roi.width, roi.height):  # unchanged: no repaint
                self.roi_item.setPos((roi.x0, roi.y0), update=False, finish=False)
                self.roi_item.setSize((roi.width, roi.height), update=True, finish=False)
            if not self.roi_item.isVisible():
                self.roi_item.show()
        finally:
            self._placing_roi = False
        if self.roi_label.textItem.toPlainText() != text:
            self.roi_label.setText(text)
        if (self.roi_label.pos().x(), self.roi_label.pos().y()) != (roi.x0, roi.y0):
            self.roi_label.setPos(roi.x0, roi.y0)
        self.roi_label.setVisible(bool(text))

    def _roi_geometry(self) -> tuple[float, float, float, float]:
        pos, size = self.roi_item.pos(), self.roi_item.size()
        return (pos.x(), pos.y(), size.x(), size.y())

    def _roi_moved(self, item) -> None:
        if self._placing_roi:
            return
        x, y, w, h = self._roi_geometry()
        self.roiEdited.emit(EllipseRoi(x, y, abs(w), abs(h)))

    def set_line(self, line: Line | None) -> None:
        """Draw the profile ``line`` (image pixels), or hide it."""
        if line is None:
            if self.line_item is not None:
                self.line_item.hide()
            return
        self._placing_roi = True
        try:
            if self.line_item is None:
                self.line_item = pg.LineSegmentROI([(line.x0, line.y0), (line.x1, line.y1)], pen=LINE_PEN,
                                                   hoverPen=LINE_HOVER_PEN)
                self.line_item.setZValue(11)
                self.line_item.sigRegionChanged.connect(self._line_moved)
                self.view.addItem(self.line_item, ignoreBounds=True)
            else:
                self.line_item.setPos((0.0, 0.0), update=False, finish=False)
                start, end = self.line_item.getHandles()
                self.line_item.movePoint(start, (line.x0, line.y0), finish=False)
                self.line_item.movePoint(end, (line.x1, line.y1), finish=False)
            self.line_item.show()
        finally:
            self._placing_roi = False

    def _line_moved(self, item) -> None:
        if self._placing_roi:
            return
        start, end = (item.mapToParent(h.pos()) for h in item.getHandles())
        self.lineEdited.emit(Line(start.x(), start.y(), end.x(), end.y()))

    def fit(self, shape: tuple[int, int] | None = None) -> None:
        """Show the whole image (``shape`` when this panel has none yet, so linked panels agree)."""
        shape = shape or self._shape
        if shape is not None:
            h, w = shape
            self.view.setRange(xRange=(0, w), yRange=(0, h), padding=0.0)

    def view_range(self) -> tuple[float, float, float, float]:
        (x0, x1), (y0, y1) = self.view.viewRange()
        return (x0, x1, y0, y1)

    # ------------------------------------------------------------------ mouse
    def _mouse_moved(self, args) -> None:
        scene_pos: QPointF = args[0]
        if self._shape is None or not self.view.sceneBoundingRect().contains(scene_pos):
            self.hovered.emit(None)
            return
        point = self.view.mapSceneToView(scene_pos)
        row, col = point.y(), point.x()
        h, w = self._shape
        if 0 <= row < h and 0 <= col < w:
            self.hovered.emit((row, col))
        else:
            self.hovered.emit(None)

    def leaveEvent(self, event):  # noqa: N802
        self.hovered.emit(None)
        super().leaveEvent(event)
