"""The table under the panels: each image's figures against NDCT for the slice on screen (one row for
the LDCT and one per compared network)."""

from __future__ import annotations

import math
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from ldct_viewer.display import PANEL_TITLES
from ldct_viewer.ui.metrics_controller import MEASURED

METRIC_COLUMNS = (  # (key in slice_metrics(), header, header tooltip)
    ("rmse", "RMSE (HU)", "Root-mean-square difference from NDCT, whole slice"),
    ("psnr", "PSNR (dB)", "Peak signal-to-noise ratio vs NDCT, data range 4096 HU"),
    ("ssim", "SSIM", "Structural similarity to NDCT, data range 4096 HU"),
    ("grain_db", "Grain vs NDCT (dB)",
     "High-frequency noise power (0.25-0.5 cycles/px) relative to NDCT's, in NDCT's flat regions\n"
     "(at least 4 disjoint squares of 32, 24 or 16 px; the cell's tooltip says which):\n"
     "below 0 = smoother than NDCT (over-smoothed), above 0 = grainier (noise left in), 0 = NDCT's grain"),
)
ROW_HEIGHT = 20


def metric_text(name: str, values: dict[str, float] | None, pending: bool) -> str:
    """One cell: "…" while it is being computed, "—" where it cannot be."""
    if values is None:
        return "…" if pending else "—"
    v = values[name]
    if math.isnan(v):
        return "—"
    if name == "ssim":
        return f"{v:.4f}"
    if name == "grain_db":
        return f"{v:+.1f}"
    return "∞" if math.isinf(v) else f"{v:.1f}"


def grain_tooltip(figures: dict[str, float]) -> str:
    """Where the grain figure was measured, or why there is none."""
    from ldct_viewer.analysis.comparison import MIN_REGIONS

    count = int(figures.get("grain_regions", 0) or 0)
    size = int(figures.get("grain_region_px", 32) or 32)
    if math.isnan(figures["grain_db"]):
        return (f"NDCT has {count} flat region{'s' if count != 1 else ''} (not air) on this slice; "
                f"grain needs at least {MIN_REGIONS}")
    return f"Measured in {count} flat {size} px regions of NDCT"


class MetricsTable(QTableWidget):
    """One row per measured image (``rows``), one column per figure; ``caption`` labels it."""

    def __init__(self) -> None:
        super().__init__(len(MEASURED), len(METRIC_COLUMNS))
        self.rows: tuple[str, ...] = MEASURED
        for col, (_, label, tip) in enumerate(METRIC_COLUMNS):
            header = QTableWidgetItem(label)
            header.setToolTip(tip)
            self.setHorizontalHeaderItem(col, header)
        self.set_rows(MEASURED, PANEL_TITLES)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self._fit_height()
        self.caption = QLabel("Metrics vs NDCT for the current slice")
        self.caption.setObjectName("hint")

    def set_rows(self, keys, titles) -> None:
        """One row per image in ``keys``, headed by its title."""
        self.rows = tuple(keys)
        self.setRowCount(len(self.rows))
        self.setVerticalHeaderLabels([titles.get(key, key) for key in self.rows])
        self._fit_height()

    def _fit_height(self) -> None:
        self.setFixedHeight(ROW_HEIGHT * len(self.rows) + self.horizontalHeader().sizeHint().height() + 4)

    def show_slice(self, index: int, has_ndct: bool, values: Callable[[str], dict[str, float] | None],
                   pending: Callable[[str], bool]) -> None:
        """Fill the rows for slice ``index``: ``values(key)`` as computed, ``pending(key)`` whether to expect them."""
        for row, key in enumerate(self.rows):
            figures = values(key)
            for col, (name, _, _) in enumerate(METRIC_COLUMNS):
                item = QTableWidgetItem(metric_text(name, figures, has_ndct and pending(key)))
                if name == "grain_db" and figures is not None:
                    item.setToolTip(grain_tooltip(figures))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(row, col, item)
        self.caption.setText(f"Metrics vs NDCT, slice {index + 1}" if has_ndct else "Metrics need an NDCT slice")
