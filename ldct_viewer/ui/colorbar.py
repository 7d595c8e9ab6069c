"""Vertical colour bar for the difference maps: the export's diverging LUT, labelled ±range HU."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ldct_viewer.windowing import colorbar_rgb

BAR_WIDTH = 16
LABEL_WIDTH = 64


class ColorBar(QWidget):
    """Shows which colour means how many HU of difference (red = positive, blue = negative)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.range_hu = 200.0
        self.caption = "Δ HU"
        self.setFixedWidth(BAR_WIDTH + LABEL_WIDTH + 8)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        rgb = colorbar_rgb(256, 1)  # [256, 1, 3], +range first
        self._strip = np.ascontiguousarray(rgb[:, 0, :])

    def set_range(self, range_hu: float, caption: str | None = None) -> None:
        self.range_hu = float(range_hu)
        if caption is not None:
            self.caption = caption
        self.update()

    def paintEvent(self, event):  # noqa: N802
        painter = QPainter(self)
        margin = 18
        height = max(self.height() - 2 * margin, 10)
        strip = np.ascontiguousarray(self._strip[:, None, :].repeat(BAR_WIDTH, axis=1))
        image = QImage(strip.data, BAR_WIDTH, strip.shape[0], BAR_WIDTH * 3, QImage.Format.Format_RGB888)
        bar = QRect(4, margin, BAR_WIDTH, height)
        painter.drawImage(bar, image)
        painter.setPen(QColor("#c8c8c8"))
        x = bar.right() + 6
        fm = painter.fontMetrics()
        r = self.range_hu
        for text, y in ((f"+{r:g}", bar.top()), ("0", bar.center().y()), (f"−{r:g}", bar.bottom())):
            painter.drawText(x, int(y + fm.ascent() / 2 - 1), text)
        painter.drawText(QRect(0, 0, self.width(), margin - 2), Qt.AlignmentFlag.AlignCenter, self.caption)
        painter.end()
