"""Tools → Reader study: the blinded A/B comparison of ``ldct_viewer.reader_study``, on screen.

The setup dialog asks which two of the compared networks to show, the number of trials, the
reader's name, the answers file and a seed; the study window then shows, per trial, the two networks' outputs of one slice as "A" and "B" (in
the plan's random order) beside the NDCT reference, all at the viewer's window/level, their
zoom and pan linked (middle/right drag, Ctrl+wheel; left drag changes window/level for all three).
The reader answers with the buttons or the keys A, B and N; each answer is in the CSV at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ldct_viewer.errors import InputError
from ldct_viewer.reader_study import Answer, StudyLog, Trial, plan_trials, summarize
from ldct_viewer.ui.panel import ImagePanel
from ldct_viewer.viewstate import ViewState

QUESTION = "Which image's noise texture looks more like the NDCT reference?"


class ReaderStudySetup(QDialog):
    """The two networks, number of trials, reader, answers file, seed."""

    def __init__(self, parent: QWidget | None, available: int, folder: str = "", seed: int = 0,
                 networks: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reader study")
        self.networks = dict(networks or {})  # key → label, of the networks the viewer compares
        self.first, self.second = QComboBox(), QComboBox()
        for combo, start in ((self.first, 0), (self.second, 1)):
            for key, label in self.networks.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(min(start, max(0, combo.count() - 1)))
        self.trials = QSpinBox()
        self.trials.setRange(1, 1000)
        self.trials.setValue(min(20, 2 * available))
        self.reader = QLineEdit()
        self.reader.setPlaceholderText("initials (recorded in the answers file)")
        self.path = QLineEdit(str(Path(folder) / "reader_study.csv") if folder else "")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(seed)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #e07070")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        if len(self.networks) > 2:  # with the pair alone there is nothing to choose
            form.addRow("Network 1", self.first)
            form.addRow("Network 2", self.second)
        form.addRow("Trials", self.trials)
        form.addRow("Reader", self.reader)
        form.addRow("Answers file (new)", path_row)
        form.addRow("Seed", self.seed)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{QUESTION}\nBlinded: each trial shows one slice's two outputs as A and B in random "
                                f"order beside the NDCT. {available} slice(s) have both outputs."))
        layout.addLayout(form)
        layout.addWidget(self.error)
        from ldct_viewer.ui.dialogs import _buttons

        layout.addWidget(_buttons(self, "Start"))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Answers file", self.path.text(), "CSV (*.csv)")
        if path:
            self.path.setText(path)

    def options(self) -> dict:
        options = {"path": self.path.text().strip(), "n_trials": self.trials.value(),
                   "reader": self.reader.text().strip(), "seed": self.seed.value()}
        if self.networks:
            options["pair"] = (self.first.currentData(), self.second.currentData())
        return options

    def accept(self) -> None:
        path = self.path.text().strip()
        if not path:
            self.error.setText("Choose a file for the answers.")
            return
        if Path(path).exists():
            self.error.setText("That file exists; choose a new one (answers are never written over).")
            return
        if self.networks and self.first.currentData() == self.second.currentData():
            self.error.setText("Choose two different networks.")
            return
        super().accept()


class ReaderStudyWindow(QDialog):
    """One trial at a time: A, B and the NDCT reference; answers go to ``log``."""

    def __init__(self, viewer, plan: list[Trial], log: StudyLog) -> None:
        super().__init__(viewer)
        self.viewer, self.plan, self.log = viewer, plan, log
        self.case = viewer.case  # the study's slices are this case's; another case ends the study
        self.setWindowTitle("Reader study")
        self.resize(1200, 560)
        self.current = 0
        self._user_zoomed = False  # until the reader zooms or pans, the images fill their panels
        self.shown_at = time.monotonic()
        self.state = ViewState(panels=("A", "B", "ndct"))  # this window's own W/L, starting at the viewer's
        self.state.set_window(viewer.state.window.width, viewer.state.window.level)
        self.state.subscribe("window", lambda **_: self._apply_window())
        self.header = QLabel("")
        self.header.setObjectName("panelTitle")
        self.header.setWordWrap(True)
        self.panels = {"A": ImagePanel("study_a", "A"), "B": ImagePanel("study_b", "B"),
                       "ndct": ImagePanel("study_ndct", "NDCT (reference)")}
        reference = self.panels["ndct"].view
        row = QHBoxLayout()
        for key, panel in self.panels.items():
            if panel.view is not reference:
                panel.view.setXLink(reference)
                panel.view.setYLink(reference)
            panel.view.windowDragged.connect(lambda dx, dy: self.state.drag_window(dx, dy))
            panel.view.sigRangeChangedManually.connect(self._zoomed_by_user)
            row.addWidget(panel, 1)
        self.buttons = {"A": QPushButton("A is closer  (A)"), "B": QPushButton("B is closer  (B)"),
                        "none": QPushButton("No difference  (N)")}
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for choice, button in self.buttons.items():
            button.clicked.connect(lambda _=False, c=choice: self.answer(c))
            buttons.addWidget(button)
            QShortcut(QKeySequence({"A": "A", "B": "B", "none": "N"}[choice]), self, lambda c=choice: self.answer(c))
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(row, 1)
        layout.addLayout(buttons)
        self._show_trial()

    @property
    def complete(self) -> bool:
        """Every trial answered (not ``finished``: that is QDialog's signal)."""
        return self.current >= len(self.plan)

    def _show_trial(self) -> None:
        trial = self.plan[self.current]
        viewer = self.viewer
        images = {"A": viewer.source_slice(trial.left, trial.index), "B": viewer.source_slice(trial.right, trial.index),
                  "ndct": viewer.source_slice("ndct", trial.index)}
        if viewer.case is not self.case or any(image is None for image in images.values()):
            self._end("stopped: the viewer's case or a network changed")
            return
        for key, image in images.items():
            self.panels[key].set_image(image, self.state.window.levels)
        if not self._user_zoomed:
            self.panels["ndct"].fit()
        self._show_header()
        self.shown_at = time.monotonic()

    def _zoomed_by_user(self, *_) -> None:
        self._user_zoomed = True

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._user_zoomed and not self.complete:
            QTimer.singleShot(0, self, self.panels["ndct"].fit)  # once the panels have their new size

    def _show_header(self) -> None:
        w = self.state.window
        self.header.setText(f"Trial {self.plan[self.current].number} / {len(self.plan)}  ·  "
                            f"W {w.width:g} / L {w.level:g}  ·  {QUESTION}")

    def _apply_window(self) -> None:
        for panel in self.panels.values():
            panel.set_levels(self.state.window.levels)
        if not self.complete:
            self._show_header()

    def answer(self, choice: str) -> None:
        """Record ``choice`` ("A", "B" or "none") for the trial shown, then show the next one."""
        if self.complete:
            return
        trial = self.plan[self.current]
        position = None
        if self.viewer.case is not None:
            position = self.viewer.case.position_mm(trial.index)
        self.log.add(Answer(trial=trial, choice=choice, response_s=time.monotonic() - self.shown_at,
                            position_mm=position))
        self.current += 1
        if not self.complete:
            self._show_trial()
            return
        self._end("done")

    def _end(self, how: str) -> None:
        """Finish the study (all trials answered, or it cannot go on): summary, no more answers."""
        self.current = len(self.plan)
        labels = {key: slot.label for key, slot in self.viewer.inference.slots.items()}
        summary = summarize(self.log.answers, labels).text() if self.log.answers else "No answer recorded."
        self.header.setText(f"Study {how}: {len(self.log.answers)} of {len(self.plan)} trials answered"
                            + (f", answers in {self.log.path}" if self.log.answers else "") + f".  {summary}")
        for panel in self.panels.values():
            panel.set_placeholder("study finished")
        for button in self.buttons.values():
            button.setEnabled(False)
        self.viewer.statusBar().showMessage(f"Reader study: {summary}", 20000)


def default_pair(viewer) -> tuple[str, str] | None:
    """The first two compared networks (the bundled pair by default); None with fewer than two."""
    keys = viewer.inference.keys
    return (keys[0], keys[1]) if len(keys) >= 2 else None


def study_slices(viewer, pair: tuple[str, str] | None = None) -> list[int]:
    """LDCT slices with an NDCT slice and both networks' outputs: what a reader study can show."""
    pair = pair or default_pair(viewer)
    if viewer.case is None or viewer.case.ndct is None or pair is None:
        return []
    return [i for i in range(viewer.case.n_slices) if viewer.case.ndct_index(i) is not None
            and all(viewer.inference.result(key, i) is not None for key in pair)]


def reader_study_dialog(viewer) -> None:
    """Tools → Reader study…: the setup dialog, then the study (an error dialog when nothing can be shown)."""
    available = len(study_slices(viewer))
    if not available:
        viewer.report_error("Reader study", "A reader study needs an NDCT and two networks' outputs: open an "
                                          "LDCT/NDCT pair and let the networks finish (Models → Run inference).")
        return
    import secrets

    networks = {key: slot.label for key, slot in viewer.inference.slots.items()}
    dialog = ReaderStudySetup(viewer, available, str(viewer.settings.value("last_dir/study", "") or ""),
                              seed=secrets.randbelow(10**6), networks=networks)
    if dialog.exec() != ReaderStudySetup.DialogCode.Accepted:
        return
    options = dialog.options()
    viewer.settings.setValue("last_dir/study", str(Path(options["path"]).parent))
    start_reader_study(viewer, **options)


def start_reader_study(viewer, path: str, n_trials: int, reader: str = "", seed: int = 0,
                       pair: tuple[str, str] | None = None):
    """Plan ``n_trials`` blinded trials of ``pair`` (two network keys; the first two compared by default)
    over ``study_slices()`` with ``seed`` and open the study window; answers go to the new CSV ``path``.
    Returns the window (None after an error dialog)."""

    pair = tuple(pair) if pair else default_pair(viewer)
    try:
        if pair is None:
            raise InputError("the reader study needs two networks (Models → Add network…)")
        plan = plan_trials(study_slices(viewer, pair), n_trials, seed, pair)
        log = StudyLog(path, reader, seed)  # creates the file: only once there is a plan
    except InputError as err:
        viewer.report_error("Reader study", str(err))
        return None
    viewer.study_window = ReaderStudyWindow(viewer, plan, log)
    viewer.study_window.show()
    return viewer.study_window
