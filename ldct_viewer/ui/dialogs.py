"""The viewer's small dialogs: series picker, low-dose simulation, export, checkpoint info, help, about."""

from __future__ import annotations

import platform
from typing import Any, Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)


def _buttons(dialog: QDialog, ok_text: str | None = "OK") -> QDialogButtonBox:
    if ok_text is None:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(dialog.reject)
        box.accepted.connect(dialog.accept)
        return box
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


# ---------------------------------------------------------------------- series picker
class SeriesPickerDialog(QDialog):
    """A folder held several CT series: one row per series (description, size, spacing, UID)."""

    def __init__(self, parent: QWidget | None, series: Sequence[Any], title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.series = list(series)
        self.table = QTableWidget(len(self.series), 5)
        self.table.setHorizontalHeaderLabels(["Description", "Slices", "Size", "Spacing (mm)", "Series UID"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, s in enumerate(self.series):
            z, h, w = s.shape
            dy, dx = s.pixel_spacing
            cells = [s.description or "(no description)", str(z), f"{w}×{h}",
                     f"{dx:.2f} × {dy:.2f} × {float(s.slice_spacing):.2f}", s.uid]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectRow(0)
        self.table.doubleClicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(self.series)} CT series found; choose one:"))
        layout.addWidget(self.table)
        layout.addWidget(_buttons(self, "Open"))
        self.resize(820, 320)

    def chosen(self):
        rows = self.table.selectionModel().selectedRows()
        return self.series[rows[0].row()] if rows else None


def pick_series(parent: QWidget | None, series: Sequence[Any], title: str):
    """Ask which series to open; None when the user cancels."""
    dialog = SeriesPickerDialog(parent, series, title)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()


# ---------------------------------------------------------------------- simulation
class SimulateDialog(QDialog):
    """Dose, projection views and (as ``ldct-viewer simulate --input-dose``) the NDCT's own dose."""

    def __init__(self, parent: QWidget | None = None, dose: float = 0.25, views: int = 720,
                 input_dose: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Simulate low dose from NDCT")
        self.dose = QDoubleSpinBox()
        self.dose.setRange(1.0, 100.0)
        self.dose.setDecimals(0)
        self.dose.setSuffix(" % of full dose")
        self.dose.setValue(dose * 100)
        self.views = QSpinBox()
        self.views.setRange(16, 4096)
        self.views.setValue(views)
        self.views.setSuffix(" views")
        self.input_known = QCheckBox("The NDCT was itself scanned at")
        self.input_known.setToolTip("Checked: only the extra noise is inserted, so that the total noise matches "
                                    "the dose above (100 % for a real full-dose scan).\nUnchecked: the NDCT is "
                                    "treated as noise-free (phantoms), as the command line does by default.")
        self.input_dose = QDoubleSpinBox()
        self.input_dose.setRange(1.0, 100.0)
        self.input_dose.setDecimals(0)
        self.input_dose.setSuffix(" % of full dose")
        self.input_dose.setValue(100.0 if input_dose is None else input_dose * 100)
        self.input_known.setChecked(input_dose is not None)
        self.input_dose.setEnabled(input_dose is not None)
        self.input_known.toggled.connect(self.input_dose.setEnabled)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #e07070")
        input_row = QHBoxLayout()
        input_row.addWidget(self.input_known)
        input_row.addWidget(self.input_dose, 1)
        form = QFormLayout(self)
        form.addRow(QLabel("Adds the quantum noise (and view under-sampling) of a reduced-dose scan\n"
                           "to the open normal-dose series; the result opens as the LDCT."))
        form.addRow("Dose", self.dose)
        form.addRow("Projections", self.views)
        form.addRow("Input dose", input_row)
        form.addRow(self.error)
        form.addRow(_buttons(self, "Simulate"))

    def values(self) -> tuple[float, int, float | None]:
        """(dose fraction, views, the NDCT's dose fraction or None for noise-free)."""
        input_dose = self.input_dose.value() / 100.0 if self.input_known.isChecked() else None
        return self.dose.value() / 100.0, int(self.views.value()), input_dose

    def problem(self) -> str:
        """Why the values cannot be simulated ("" when they can): the CLI's rule, an input dose at
        least the target dose (noise can only be added)."""
        dose, _, input_dose = self.values()
        if input_dose is not None and input_dose < dose:
            return (f"The input dose ({input_dose:.0%}) is below the dose to simulate ({dose:.0%}): "
                    "noise cannot be removed.")
        return ""

    def accept(self) -> None:
        problem = self.problem()
        self.error.setText(problem)
        if not problem:
            super().accept()


# ---------------------------------------------------------------------- export
class ExportDialog(QDialog):
    """File → Export comparison PNG: which slices, which difference row (none by default unless the view
    shows one), the ROI or not, where."""

    def __init__(self, parent: QWidget | None, current: int, n_slices: int, folder: str = "",
                 has_roi: bool = False, diff_mode: str = "none", has_ndct: bool = True) -> None:
        from ldct_viewer.display import DIFF_LABELS

        super().__init__(parent)
        self.setWindowTitle("Export comparison PNG")
        self.current, self.n_slices = int(current), int(n_slices)
        self.current_radio = QRadioButton(f"Current slice ({self.current + 1})")
        self.all_radio = QRadioButton(f"All slices (1–{self.n_slices})")
        self.range_radio = QRadioButton("Range")
        self.current_radio.setChecked(True)
        group = QButtonGroup(self)
        for b in (self.current_radio, self.all_radio, self.range_radio):
            group.addButton(b)
        self.first = QSpinBox()
        self.last = QSpinBox()
        for spin in (self.first, self.last):
            spin.setRange(1, self.n_slices)
        self.first.setValue(self.current + 1)
        self.last.setValue(self.n_slices)
        self.diff = QComboBox()
        for mode, label in DIFF_LABELS.items():
            text = "No difference row" if mode == "none" else f"Difference row: {label}"
            self.diff.addItem(text, mode)
        if not has_ndct:  # output − NDCT needs an NDCT
            item = self.diff.model().item(self.diff.findData("minus_ndct"))
            item.setEnabled(False)
            item.setToolTip("Open an NDCT series first")
            if diff_mode == "minus_ndct":
                diff_mode = "none"
        self.diff.setCurrentIndex(max(self.diff.findData(diff_mode), 0))
        self.diff.setToolTip("Defaults to the difference map on screen; the row uses its ± range")
        self.roi = QCheckBox("Draw the ROI with each image's mean and SD" if has_roi
                             else "Draw the ROI (none drawn: Shift + left drag on a panel)")
        self.roi.setChecked(has_roi)
        self.roi.setEnabled(has_roi)
        self.folder = QLineEdit(folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #e07070")

        range_row = QHBoxLayout()
        range_row.addWidget(self.range_radio)
        range_row.addWidget(self.first)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.last)
        range_row.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current_radio)
        layout.addWidget(self.all_radio)
        layout.addLayout(range_row)
        layout.addWidget(self.diff)
        layout.addWidget(self.roi)
        layout.addWidget(QLabel("Output folder (new files only; existing files are never overwritten):"))
        layout.addLayout(folder_row)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Export"))

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if path:
            self.folder.setText(path)

    def slices(self) -> list[int]:
        """0-based LDCT slice indices to export."""
        if self.current_radio.isChecked():
            return [self.current]
        if self.all_radio.isChecked():
            return list(range(self.n_slices))
        a, b = sorted((self.first.value(), self.last.value()))
        return list(range(a - 1, b))

    def options(self) -> dict:
        return {"out_dir": self.folder.text().strip(), "slices": self.slices(),
                "diff_mode": str(self.diff.currentData()), "with_roi": self.roi.isChecked()}

    def accept(self) -> None:
        if not self.folder.text().strip():
            self.error.setText("Choose an output folder.")
            return
        super().accept()


# ---------------------------------------------------------------------- checkpoint info
class CheckpointInfoDialog(QDialog):
    """Models → checkpoint info: the model card (``ldct_viewer.model_card``), the raw metadata folded away."""

    def __init__(self, parent: QWidget | None, label: str, checkpoint: Any) -> None:
        from ldct_viewer.model_card import model_card, raw_metadata_text

        super().__init__(parent)
        self.card = model_card(checkpoint, label)
        self.setWindowTitle(f"{label} — model card")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(self.card.html())
        self.raw_button = QPushButton("Show raw metadata")
        self.raw_button.setCheckable(True)
        self.raw = QPlainTextEdit(raw_metadata_text(self.card.raw))
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.hide()
        self.raw_button.toggled.connect(self._show_raw)
        row = QHBoxLayout()
        row.addWidget(self.raw_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 3)
        layout.addLayout(row)
        layout.addWidget(self.raw, 2)
        layout.addWidget(_buttons(self, None))
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        self.resize(880, min(900, int(screen.height() * 0.85)) if screen is not None else 760)

    def _show_raw(self, shown: bool) -> None:
        self.raw.setVisible(shown)
        self.raw_button.setText("Hide raw metadata" if shown else "Show raw metadata")


# ---------------------------------------------------------------------- help and about
class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None, shortcuts: Sequence[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        table = QTableWidget(len(shortcuts), 2)
        table.setHorizontalHeaderLabels(["Key / mouse", "Action"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (keys, action) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(action))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(_buttons(self, None))
        self.table = table
        self.resize(760, 480)


def versions() -> dict[str, str]:
    """Versions of the pieces that matter for a bug report."""
    import numpy
    import pydicom
    import pyqtgraph
    import PySide6
    from PySide6 import QtCore

    from ldct_viewer import __version__

    found = {"ldct-viewer": __version__, "Python": platform.python_version(), "PySide6": PySide6.__version__,
             "Qt": QtCore.qVersion(), "pyqtgraph": pyqtgraph.__version__, "numpy": numpy.__version__,
             "pydicom": pydicom.__version__}
    try:
        import torch

        found["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        found["torch"] = "not installed"
    return found


def about_text(device: str) -> str:
    rows = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in versions().items())
    return (
        "<h3>ldct-viewer</h3>"
        "<p>Side-by-side comparison of RED-CNN low-dose CT denoisers trained with MSE and with WGAN-GP, "
        "against the LDCT input and the normal-dose reference. Research software, not for diagnosis.</p>"
        f"<p>Inference device: {device}</p><table>{rows}</table>"
    )
