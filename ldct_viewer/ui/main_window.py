"""The comparison viewer's main window: LDCT | each compared network | NDCT, synchronized.

The window is glue: user input goes into the shared ``ViewState``; ``ViewState`` events repaint the
panels; the ``InferenceController`` fills the network panels from a pool thread; ``NetworkList``
changes which networks are compared. Everything that
can go wrong with a user's files or checkpoints ends in an error dialog, never a crash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ldct_viewer.display import DIFF_LABELS, panel_titles
from ldct_viewer.ui.actions import SHORTCUTS, build_menus, build_toolbar, fill_recent_menu, sync_controls
from ldct_viewer.ui.busy import BusyRunner
from ldct_viewer.ui.cine import Cine
from ldct_viewer.ui.colorbar import ColorBar
from ldct_viewer.ui.diff_range import DiffRangeDefault
from ldct_viewer.ui.export_controller import ExportController
from ldct_viewer.ui.inference_controller import InferenceController, checkpoint_path
from ldct_viewer.ui.inference_status import InferenceStatus
from ldct_viewer.ui.messages import error_text, show_error
from ldct_viewer.ui.metrics_controller import MetricsController
from ldct_viewer.ui.metrics_table import MetricsTable
from ldct_viewer.ui.network_list import NetworkList
from ldct_viewer.ui.panel_grid import PanelGrid
from ldct_viewer.ui.plane_controller import PlaneController
from ldct_viewer.ui.settings import (
    default_settings,
    migrate_settings,
    remember_opened,
    restore_window,
    save_window,
)
from ldct_viewer.ui.workers import GeneratorWorker
from ldct_viewer.viewstate import ViewState
from ldct_viewer.windowing import PRESETS


class MainWindow(QMainWindow):
    """Synchronized panels (LDCT, the networks, NDCT), toolbar, slice slider, metrics table, inference status."""

    caseChanged = Signal()

    def __init__(self, *, settings: QSettings | None = None, device: str = "auto",
                 checkpoints: dict[str, str | None] | None = None, networks: list | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ldct-viewer")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else default_settings()
        migrate_settings(self.settings)
        self.state = ViewState()
        self.case = None
        self.ndct_only = None  # an NDCT series opened without an LDCT (for "Simulate low dose")
        self.inference = InferenceController(device, self)
        self.network_list = NetworkList(self)
        self.errors: list[str] = []  # every message shown in an error dialog (for logs and tests)
        self.metrics = MetricsController(self.source_slice, self)
        self.nps_dialog = None  # ldct_viewer.ui.nps_dialog.NpsDialog, made when first opened
        self.profile_dialog = None  # ldct_viewer.ui.profile_dialog.ProfileDialog, made when first opened
        self.study_window = None  # ldct_viewer.ui.reader_study.ReaderStudyWindow of the last study started

        self.panel_grid = PanelGrid(self.state, lambda key: self.planes.shown_hu(key), self.pixel_spacing)
        self.panels = self.panel_grid.panels
        self.planes = PlaneController(self)  # orientation; axial slices or coronal/sagittal reformats
        self._build_central()
        build_toolbar(self)
        self.hu_label = QLabel("")
        self.statusBar().addWidget(self.hu_label, 1)
        self.busy = BusyRunner(self.statusBar(), self._refresh_all, self.report_error, self)
        self.exporter = ExportController(self)
        self.inference_status = InferenceStatus(self.inference, self.statusBar(), self.cancel_inference)
        build_menus(self)
        self.planes.build_controls()
        self.cine = Cine(self.state, self.play_button, self.cine_action, self)
        self._connect()
        self.diff_range = DiffRangeDefault(self)
        restore_window(self, checkpoints, device, networks)
        self.device_actions[self.inference.device].setChecked(True)
        fill_recent_menu(self)
        self._update_titles()
        self.inference_status.update_device()
        self._refresh_all()
        self.panel_grid.setFocus()  # the single-key shortcuts work from the start

    # ================================================================== construction
    def _build_central(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(4, 4, 4, 2)
        outer.setSpacing(4)

        row = QHBoxLayout()
        row.addWidget(self.panel_grid, 1)
        self.colorbar = ColorBar()
        self.colorbar.hide()
        row.addWidget(self.colorbar)
        outer.addLayout(row, 1)

        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setMinimum(0)
        self.slice_label = QLabel("no case open")
        self.slice_label.setMinimumWidth(260)
        slider_row.addWidget(QLabel("Slice"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.slice_label)
        outer.addLayout(slider_row)

        self.metrics_table = MetricsTable()
        metrics_row = QHBoxLayout()
        metrics_row.addWidget(self.metrics_table.caption)
        metrics_row.addWidget(self.metrics_table, 1)
        outer.addLayout(metrics_row)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        s = self.state
        s.subscribe("slice", self._on_slice)
        s.subscribe("window", lambda panels: sync_controls(self))
        s.subscribe("sync", lambda kind, enabled: (self._show_readout(), sync_controls(self)))
        s.subscribe("diff", self._on_diff)
        s.subscribe("layout", lambda layout: sync_controls(self))
        s.subscribe("crosshair", lambda pos, panel: self._show_readout())
        s.subscribe("cine", lambda fps: sync_controls(self))
        s.subscribe("n_slices", lambda n: self._update_slider())
        s.subscribe("line", lambda line: self.profile_dialog.schedule() if self.profile_dialog is not None else None)
        self.panel_grid.lineDrawn.connect(self.show_profile)
        self.slider.valueChanged.connect(lambda v: self.state.set_position(v))
        self.width_spin.valueChanged.connect(
            lambda v: self.state.set_window(v, self.state.window.level, self._window_target()))
        self.level_spin.valueChanged.connect(
            lambda v: self.state.set_window(self.state.window.width, v, self._window_target()))
        self.diff_combo.currentIndexChanged.connect(lambda i: self.state.set_diff_mode(self.diff_combo.itemData(i)))
        self.diff_spin.valueChanged.connect(lambda v: self.state.set_diff_range(v))
        self.fps_spin.valueChanged.connect(lambda v: self.state.set_cine_fps(v))
        self.metrics.changed.connect(self._show_metrics)
        self.metrics.failed.connect(lambda message: self.statusBar().showMessage(message, 5000))
        inf = self.inference
        inf.sliceReady.connect(self._on_result)
        inf.modelFailed.connect(self._on_model_failed)
        inf.runningChanged.connect(self._on_running)

    # ================================================================== opening data
    def set_case(self, case, *, start: bool = True) -> None:
        """Show ``case`` (a ``ldct_viewer.case.Case``) and start denoising it."""
        self.case = case
        self.ndct_only = None
        self.metrics.forget()
        self.remove_roi_and_line()  # another patient: the old ROI and line mean nothing there
        self.inference.forget_finished()
        self._show_new_series(case.n_slices, simulate=case.ndct is not None)
        self.setWindowTitle(f"ldct-viewer — {case.describe()}")
        self.caseChanged.emit()
        if start:
            self.start_inference()

    def _show_new_series(self, n_slices: int, *, simulate: bool) -> None:
        """Another series is on screen: its middle slice, fitted, titled; File → Simulate if an NDCT is open."""
        self.state.set_n_slices(n_slices)
        self.state.set_slice(n_slices // 2)
        self._update_titles()
        self._refresh_all()
        self.state.reset_view()
        self._update_slider()
        self.simulate_action.setEnabled(simulate)

    def open_paths(self, paths: Sequence[str | Path], kind: str = "ldct") -> bool:
        """Open LDCT (or NDCT) files/folders; pairs automatically; dialogs on errors. True on success."""
        paths = [Path(p) for p in paths]
        if not paths:
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            ok = self._open_ldct(paths) if kind == "ldct" else self._open_ndct(paths)
        except Exception as err:  # noqa: BLE001 - bad input must never crash the viewer
            QApplication.restoreOverrideCursor()
            self.report_error(f"Cannot open {kind.upper()}", error_text(err))
            return False
        QApplication.restoreOverrideCursor()
        if ok:
            remember_opened(self.settings, kind, paths)
            fill_recent_menu(self)
        return ok

    def _choose_series(self, candidates: list, role: str):
        """The viewer's chooser for ``ldct_viewer.opening``: a dialog (None when cancelled)."""
        from ldct_viewer.ui.dialogs import pick_series

        return pick_series(self, candidates, f"Choose the {role.upper()} series")

    def _open_ldct(self, paths: list[Path]) -> bool:
        from ldct_viewer.opening import open_ldct

        kept = self.case.ndct if self.case is not None else self.ndct_only
        case = open_ldct(paths, self._choose_series, kept_ndct=kept)
        if case is not None:
            self.set_case(case)
        return case is not None

    def _open_ndct(self, paths: list[Path]) -> bool:
        from ldct_viewer.opening import open_ndct, pair_case

        ndct = open_ndct(paths, self._choose_series)
        if ndct is None:
            return False
        if self.case is None:
            self.ndct_only = ndct
            self.metrics.forget()
            self._show_new_series(len(ndct), simulate=True)
            self.statusBar().showMessage("NDCT open without LDCT: File → Simulate low dose from NDCT… "
                                         "or File → Open LDCT", 10000)
            return True
        case = pair_case(self.case.ldct, ndct)
        # keep the model outputs: they depend on the LDCT only
        self.case = case
        self.metrics.forget()
        self.simulate_action.setEnabled(True)
        self._update_titles()
        self._refresh_all()
        self._schedule_metrics()
        self.setWindowTitle(f"ldct-viewer — {case.describe()}")
        self.caseChanged.emit()
        return True

    def open_demo(self) -> None:
        """File → Open demo case (generated into the cache on first use)."""
        from ldct_viewer.demo import open_demo_case

        self.busy.run("Preparing the demo case…", lambda progress: open_demo_case(progress=progress), self.set_case)

    def simulate_dialog(self) -> None:
        ndct = self.ndct_only if self.case is None else self.case.ndct
        if ndct is None:
            self.report_error("Simulate low dose", "Open an NDCT series first (File → Open NDCT).")
            return
        from ldct_viewer.ui.dialogs import SimulateDialog

        dialog = SimulateDialog(self)
        if dialog.exec() != SimulateDialog.DialogCode.Accepted:
            return
        dose, views, input_dose = dialog.values()
        self.simulate(ndct, dose, views, input_dose)

    def simulate(self, ndct, dose: float, views: int, input_dose: float | None = None) -> GeneratorWorker:
        """Simulate an LDCT from ``ndct`` on a pool thread, then open it paired with the NDCT."""
        from ldct_viewer.case import simulate_case

        device = self.inference.device
        return self.busy.run(f"Simulating {dose:.0%} dose, {views} views…",
                             lambda progress: simulate_case(ndct, dose, views, device=device, input_dose=input_dose,
                                                            progress=progress), self.set_case)

    def choose_and_open(self, kind: str, folder: bool) -> None:
        start = str(self.settings.value(f"last_dir/{kind}", "") or "")
        title = f"Open {kind.upper()} {'folder' if folder else 'files'}"
        if folder:
            path = QFileDialog.getExistingDirectory(self, title, start)
            paths = [path] if path else []
        else:
            paths, _ = QFileDialog.getOpenFileNames(self, title, start, "DICOM (*.dcm *.IMA *.ima *);;All files (*)")
        if paths:
            self.open_paths(paths, kind)

    # drag and drop: onto the NDCT panel opens an NDCT, anywhere else an LDCT
    def dragEnterEvent(self, event):  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        target = self.childAt(event.position().toPoint())
        kind = "ndct" if target is not None and self.panels["ndct"].isAncestorOf(target) else "ldct"
        event.acceptProposedAction()
        QTimer.singleShot(0, self, lambda: self.open_paths(paths, kind))

    # ================================================================== checkpoints and inference
    def set_checkpoint(self, key: str, spec: str | None, *, start: bool = True) -> None:
        self.network_list.set_checkpoint(key, spec, start=start)

    def choose_checkpoint(self, key: str) -> None:
        start = str(self.settings.value("last_dir/checkpoint", "") or "")
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {self.inference.slots[key].label} checkpoint", start,
                                              "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.settings.setValue("last_dir/checkpoint", str(Path(path).parent))
            self.set_checkpoint(key, path)

    def use_bundled_checkpoints(self) -> None:
        self.network_list.use_bundled()

    def set_device(self, device: str) -> None:
        """Run the networks on ``device`` ("auto", "cpu", "cuda"); an absent device is an error dialog."""
        try:
            from ldct_viewer.inference.device import choose_device

            choose_device(device)
        except Exception as err:  # noqa: BLE001
            self.device_actions[self.inference.device].setChecked(True)
            self.report_error("Device", error_text(err))
            return
        self.inference.set_device(device)
        self.device_actions[device].setChecked(True)
        self.settings.setValue("device", device)
        self.inference_status.update_device()
        if self.case is not None:
            self.start_inference()

    def start_inference(self) -> None:
        if self.case is None:
            return
        case = self.case
        focus, needed = self.planes.focus()  # the slice on screen, or a reformat's slices
        self.inference.set_focus(focus, needed)
        self.inference.start(case.ldct_slice, case.n_slices, focus)
        self._refresh_panels(self.inference.keys)
        self.inference_status.update_device()

    def cancel_inference(self) -> None:
        if self.inference.is_running:
            self.inference.cancel()
            self.statusBar().showMessage("Inference cancelled — Models → Run inference (Ctrl+R) resumes", 8000)
            self._refresh_panels(self.inference.keys)

    def checkpoint_info(self, key: str) -> None:
        from ldct_viewer.ui.dialogs import CheckpointInfoDialog

        slot = self.inference.slots[key]
        checkpoint = slot.checkpoint
        if checkpoint is None:
            try:
                from ldct_viewer.model import load_checkpoint

                checkpoint = load_checkpoint(str(checkpoint_path(key, slot.spec)))
            except Exception as err:  # noqa: BLE001
                self.report_error(f"{slot.label} checkpoint", error_text(err))
                return
        CheckpointInfoDialog(self, slot.label, checkpoint).exec()

    def _on_result(self, key: str, index: int) -> None:
        if key in self.panels and self.planes.result_arrived(key, index):
            self._refresh_panels((key,))
            self._schedule_metrics()
            self._show_readout()

    def _on_model_failed(self, key: str, message: str) -> None:
        self._refresh_panels((key,) if key in self.panels else self.inference.keys)
        self.report_error("Inference error", message)

    def _on_running(self, running: bool) -> None:
        if not running:
            self._refresh_panels(self.inference.keys)  # "computing…" becomes "not computed" after a cancel

    # ================================================================== display
    def _refresh_all(self) -> None:
        self._refresh_panels(self.state.panels)
        self._update_slice_label()
        sync_controls(self)

    def _ndct_slice(self, i: int) -> np.ndarray | None:
        if self.case is not None:
            return self.case.ndct_slice(i)
        if self.ndct_only is not None:
            return self.ndct_only.slice(i)
        return None

    def source_slice(self, key: str, i: int) -> np.ndarray | None:
        """The HU image of ``key`` ("ldct", a network's key, "ndct") at LDCT slice ``i``, None if absent,
        turned to the radiological display orientation (the stored arrays are never changed)."""
        if key == "ndct":
            return self.planes.display(key, self._ndct_slice(i))
        if self.case is None:
            return None
        if key == "ldct":
            return self.planes.display(key, self.case.ldct_slice(i))
        return self.planes.display(key, self.inference.result(key, i))

    def _refresh_panels(self, keys: Sequence[str]) -> None:
        outputs = {key: self.inference.placeholder(key) for key in self.inference.keys}
        for key, shown in self.planes.panel_images(keys, outputs, self.busy.message).items():
            self.panel_grid.show(key, shown)
        self.panel_grid.update_subtitles(keys)
        self.panel_grid.show_roi(keys)
        if self.profile_dialog is not None:
            self.profile_dialog.schedule()

    def show_profile(self) -> None:
        """Open (or raise) the line-profile window, which follows the line and the slice while open."""
        from ldct_viewer.ui.profile_dialog import ProfileDialog

        self.profile_dialog = self._show_tool_window(self.profile_dialog, ProfileDialog)

    def _show_tool_window(self, window, kind):
        """Show (making it the first time) and raise one of the plot windows; returns it."""
        if window is None:
            window = kind(self)
        window.show()
        window.raise_()
        return window

    def remove_roi_and_line(self) -> None:
        self.state.set_roi(None)
        self.state.set_line(None)

    def pixel_spacing(self) -> tuple[float, float]:
        """(row mm, col mm) of the images on screen, (1, 1) when unknown."""
        return self.planes.pixel_spacing()

    def _update_titles(self) -> None:
        names = {key: checkpoint_path(key, slot.spec).name for key, slot in self.inference.slots.items()}
        for key, title in panel_titles(self.case, self.ndct_only, names, self.panel_grid.titles).items():
            self.panels[key].set_title(title)

    def _update_slice_label(self) -> None:
        self.slice_label.setText(self.planes.caption())

    def _update_slider(self) -> None:
        n = self.state.n_positions
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(n - 1, 0))
        self.slider.setValue(self.state.position)
        self.slider.blockSignals(False)
        self._update_slice_label()

    # ================================================================== state events
    def _on_slice(self, panels: tuple[str, ...]) -> None:
        self._refresh_panels(panels)
        self._update_slider()
        self.planes.update_focus()
        self._schedule_metrics()
        self._show_readout()

    def _on_diff(self, mode: str, range: float) -> None:  # noqa: A002
        self._refresh_panels(self.state.panels)
        sync_controls(self)
        self._show_readout()

    def _show_readout(self) -> None:
        self.hu_label.setText(self.panel_grid.readout())

    def cycle_diff(self) -> None:
        modes = list(DIFF_LABELS)
        self.state.set_diff_mode(modes[(modes.index(self.state.diff_mode) + 1) % len(modes)])

    def _window_target(self) -> str | None:
        """Toolbar W/L goes to every panel, or only to the last one used when W/L sync is off."""
        return None if self.state.sync["window"] else self.state.active_panel

    def apply_preset(self, name: str) -> None:
        w, lv = PRESETS[name]
        self.state.set_window(w, lv, self._window_target())
        sync_controls(self)

    # ================================================================== metrics
    def show_nps(self) -> None:
        """Open (or raise) the noise-power-spectrum window, which follows the slice while open."""
        from ldct_viewer.ui.nps_dialog import NpsDialog

        self.nps_dialog = self._show_tool_window(self.nps_dialog, NpsDialog)

    def _schedule_metrics(self) -> None:
        """The slice, its results or the case changed: the metrics and the NPS window follow."""
        if self.nps_dialog is not None:
            self.nps_dialog.schedule()
        i = self.state.slice_of("ldct")
        ndct = self.source_slice("ndct", i) if self.case is not None else None  # oriented like the others
        self.metrics.schedule(i, ndct, rois_now=self.nps_dialog is not None and self.nps_dialog.isVisible())

    def _show_metrics(self, index: int) -> None:
        i = self.state.slice_of("ldct")
        if index != i:
            return
        has_ndct = self.case is not None and self.case.ndct_index(i) is not None
        self.metrics_table.show_slice(i, has_ndct, lambda key: self.metrics.values(key, i),
                                      lambda key: key == "ldct" or self.inference.slots[key].problem is None)

    # ================================================================== help, errors
    def show_shortcuts(self) -> None:
        from ldct_viewer.ui.dialogs import ShortcutsDialog

        ShortcutsDialog(self, SHORTCUTS).exec()

    def show_about(self) -> None:
        from ldct_viewer.ui.dialogs import about_text
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(self, "About ldct-viewer", about_text(self.inference.device_description()))

    def report_error(self, title: str, message: str) -> None:
        """Tell the user in a dialog; the window keeps working."""
        self.errors.append(message)
        self.statusBar().showMessage(message, 10000)
        show_error(self, title, message)

    # ================================================================== closing
    def _close_nps(self) -> None:
        """Delete the NPS window with the viewer, while Qt is still up."""
        if self.nps_dialog is not None:
            self.nps_dialog.close()
            self.nps_dialog.deleteLater()
            self.nps_dialog = None

    def closeEvent(self, event):  # noqa: N802
        for tool in (self.profile_dialog, self.nps_dialog):
            if tool is not None and tool.isVisible():
                tool.remember()
        self._close_nps()
        save_window(self)
        self.cine.timer.stop()
        self.inference.cancel()
        self.metrics.stop()
        self.busy.abort()
        super().closeEvent(event)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every background job and wait for it (tests, application exit)."""
        self._close_nps()
        self.inference.shutdown(timeout)
        self.metrics.stop(timeout)
        self.busy.abort(timeout)

