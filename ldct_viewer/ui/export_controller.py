"""File → Export comparison PNG: the dialog, the export on the pool (``BusyRunner``), and the
confirmation that says where the files went, with a button that opens that folder."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton

from ldct_viewer.progress import StagedProgress
from ldct_viewer.ui.workers import GeneratorWorker

NOTICE_MS = 30_000  # how long the "Wrote … / Open folder" notice stays


class ExportController(QObject):
    """Exports the window's case as it is on screen (W/L, difference range, ROI)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.last_export: list[Path] = []
        self.last_folder: Path | None = None
        self.notice = QLabel("")
        self.notice.setObjectName("exportNotice")
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Show the exported PNGs in the file manager")
        self.open_button.clicked.connect(self.open_folder)
        for widget in (self.notice, self.open_button):
            widget.hide()
            window.statusBar().addWidget(widget)
        self._hide_timer = QTimer(self, singleShot=True, interval=NOTICE_MS)
        self._hide_timer.timeout.connect(self.hide_notice)

    def dialog(self) -> None:
        w = self.window
        if w.case is None:
            w.report_error("Export", "Open an LDCT series first.")
            return
        from ldct_viewer.ui.dialogs import ExportDialog

        dialog = ExportDialog(w, w.state.position, w.state.n_positions,
                              str(w.settings.value("last_dir/export", "") or ""), w.state.roi is not None,
                              diff_mode=w.state.diff_mode, has_ndct=w.case.ndct is not None)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        options = dialog.options()
        w.settings.setValue("last_dir/export", options["out_dir"])
        self.export(**options, plane=w.state.plane)

    def export(self, out_dir: str, slices: Sequence[int], diff_mode: str = "none",
               with_roi: bool = False, plane: str = "axial") -> GeneratorWorker | None:
        """Write comparison PNGs for ``slices`` on a pool thread (inference runs as needed).

        ``diff_mode`` is the difference row ("none": no row; "minus_ldct", "minus_ndct"); W/L and
        the difference range are the ones on screen; ``with_roi`` outlines the ROI on screen, with
        each image's statistics; ``plane`` "coronal" or "sagittal" exports those sections (``slices`` are
        then section indices).
        """
        from ldct_viewer.export import export_comparisons

        w = self.window
        if w.case is None:
            w.report_error("Export", "Open an LDCT series first.")
            return None
        engines = {key: slot.engine for key, slot in w.inference.slots.items()}  # caches hold what is on screen
        labels = {key: slot.label for key, slot in w.inference.slots.items()}
        case, window, diff_range = w.case, (w.state.window.width, w.state.window.level), w.state.diff_range
        roi = w.state.roi if with_roi else None
        indices = list(slices)
        self.hide_notice()

        def job(progress):
            tracker = StagedProgress({"export": 1.0}, progress)
            tracker.start("export", f"writing {len(indices)} PNG(s)")
            written = export_comparisons(case, engines, out_dir, indices, window, diff_mode, diff_range, roi=roi,
                                         progress=tracker.update, labels=labels, plane=plane)
            tracker.finish(f"wrote {len(written)} PNG(s)")
            return written

        return w.busy.run(f"Exporting {len(indices)} comparison PNG(s)…", job,
                          lambda written: self._done(written, Path(out_dir)))

    def _done(self, written: list[Path], folder: Path) -> None:
        self.last_export = list(written)
        self.last_folder = folder.resolve()
        names = f"{written[0].name}" if len(written) == 1 else f"{len(written)} PNGs"
        self.notice.setText(f"Exported {names} to {self.last_folder}")
        self.notice.setToolTip("\n".join(str(p) for p in written[:20]) + ("\n…" if len(written) > 20 else ""))
        self.notice.show()
        self.open_button.show()
        self._hide_timer.start()

    def open_folder(self) -> bool:
        """Show the last export's folder in the desktop's file manager."""
        if self.last_folder is None:
            return False
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_folder))))

    def hide_notice(self) -> None:
        self.notice.hide()
        self.open_button.hide()
