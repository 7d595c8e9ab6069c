"""The comparison viewer driven like a user would (pytest-qt, offscreen), on DICOM series the tests write.

Checkpoints are tiny (width 4) so inference is instantaneous; settings live in a temp INI file and
the inference cache in a temp folder, so nothing of the user's is touched. Error dialogs are
intercepted (``QMessageBox.critical`` recorded instead of shown).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from dicom_factory import noisy_copy, phantom_volume, write_ct_series
from ui_helpers import make_checkpoints, make_window
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QMouseEvent, QWheelEvent

from ldct_viewer.model import load_checkpoint
from ldct_viewer.display import PANELS
from ldct_viewer.methods import METHODS
from ldct_viewer.ui.reader_study import reader_study_dialog, start_reader_study, study_slices
from ldct_viewer.windowing import DIVERGING_LUT, PRESETS, window_to_uint8

N_SLICES = 6
SIZE = 48


# ---------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def series_pair(env):
    """LDCT (noisy) and NDCT series of the same positions, written as DICOM; returns paths and HU."""
    ndct = phantom_volume(N_SLICES, SIZE, seed=3)
    ldct = noisy_copy(ndct, seed=7)
    write_ct_series(env / "pair" / "ldct", ldct, description="test LDCT")
    write_ct_series(env / "pair" / "ndct", ndct, description="test NDCT")
    return {"ldct": env / "pair" / "ldct", "ndct": env / "pair" / "ndct", "ldct_hu": ldct, "ndct_hu": ndct}


@pytest.fixture
def checkpoints(env):
    return make_checkpoints(env)


def wait_all_results(qtbot, window, n=N_SLICES, timeout=30000):
    qtbot.waitUntil(lambda: all(len(s.finished) == n for s in window.inference.slots.values())
                    and not window.inference.is_running, timeout=timeout)


@pytest.fixture
def viewer(qtbot, env, series_pair, checkpoints, dialogs):
    window = make_window(qtbot, env, checkpoints)
    assert window.open_paths([series_pair["ldct"]], "ldct")
    assert window.open_paths([series_pair["ndct"]], "ndct")
    wait_all_results(qtbot, window)
    yield window
    window.shutdown()


def expected_output(checkpoint_path: Path, hu: np.ndarray) -> np.ndarray:
    from ldct_viewer.inference import Engine

    engine = Engine(load_checkpoint(str(checkpoint_path)), device="cpu", disk_cache=False)
    return engine.denoise(hu)


def send_wheel(panel, steps: int = -1, ctrl: bool = False) -> None:
    """A wheel turn over the middle of ``panel`` (negative = towards the user = next slice)."""
    from PySide6.QtWidgets import QApplication

    viewport = panel.graphics.viewport()
    pos = QPointF(viewport.width() / 2, viewport.height() / 2)
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    event = QWheelEvent(pos, viewport.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def send_drag(qtbot, panel, button, dx: int, dy: int, steps: int = 6,
              modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``button`` in the middle of ``panel``, move by (dx, dy) in ``steps``, release."""
    from PySide6.QtWidgets import QApplication

    viewport = panel.graphics.viewport()
    start = QPointF(viewport.width() / 2, viewport.height() / 2)

    def send(kind, pos, btn, buttons):
        event = QMouseEvent(kind, pos, viewport.mapToGlobal(pos), btn, buttons, modifiers)
        QApplication.sendEvent(viewport, event)

    send(QEvent.Type.MouseButtonPress, start, button, button)
    for k in range(1, steps + 1):
        pos = QPointF(start.x() + dx * k / steps, start.y() + dy * k / steps)
        send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, button)
        qtbot.wait(20)
    end = QPointF(start.x() + dx, start.y() + dy)
    send(QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)
    qtbot.wait(40)


def levels(panel):
    return tuple(float(v) for v in panel.image.getLevels())


# ---------------------------------------------------------------------------------------- opening
def test_open_pair_shows_inputs_and_model_outputs(viewer, series_pair, checkpoints, dialogs):
    i = viewer.state.slice_index
    assert i == N_SLICES // 2
    np.testing.assert_array_equal(viewer.panels["ldct"].displayed, series_pair["ldct_hu"][i])
    np.testing.assert_array_equal(viewer.panels["ndct"].displayed, series_pair["ndct_hu"][i])
    for key in ("mse", "wgan-gp"):
        np.testing.assert_allclose(viewer.panels[key].displayed,
                                   expected_output(checkpoints[key], series_pair["ldct_hu"][i]), atol=1e-3)
    assert not np.allclose(viewer.panels["mse"].displayed, viewer.panels["wgan-gp"].displayed)
    assert "RED-CNN-MSE" in viewer.panels["mse"].title.text() and "mse.pt" in viewer.panels["mse"].title.text()
    assert "RED-CNN-WGAN-GP" in viewer.panels["wgan-gp"].title.text()
    assert viewer.slice_label.text().startswith(f"slice {i + 1} / {N_SLICES}")
    assert "mm" in viewer.slice_label.text()
    assert viewer.inference_status.device_label.text().startswith("CPU")
    assert dialogs == []


def test_placeholders_before_results_and_without_ndct(qtbot, env, series_pair, checkpoints, dialogs):
    window = make_window(qtbot, env, checkpoints)
    for key in PANELS:
        assert not window.panels[key].has_image  # nothing open: every panel says so
    assert "Open LDCT" in window.panels["ldct"].placeholder.text()
    window.open_paths([series_pair["ldct"]], "ldct")
    assert "no NDCT open" in window.panels["ndct"].placeholder.text()
    assert not window.panels["ndct"].placeholder.isHidden()
    if not window.panels["mse"].has_image:  # the slice may already be done on a fast machine
        assert window.panels["mse"].placeholder.text() == "computing…"
    wait_all_results(qtbot, window)
    assert window.panels["mse"].has_image and window.panels["wgan-gp"].has_image
    window.shutdown()


def test_missing_bundled_checkpoints_show_placeholder_and_app_keeps_working(qtbot, env, series_pair, dialogs,
                                                                            monkeypatch):
    resources = env / "resources"
    (resources / "checkpoints").mkdir(parents=True)
    monkeypatch.setenv("LDCT_VIEWER_RESOURCES", str(resources))
    window = make_window(qtbot, env, None)
    assert window.open_paths([series_pair["ldct"]], "ldct")
    assert window.panels["mse"].placeholder.text() == "checkpoint redcnn-mse.pt not found"
    assert window.panels["wgan-gp"].placeholder.text() == "checkpoint redcnn-wgangp.pt not found"
    assert not window.inference.is_running
    window.state.step_slice(+1)
    assert window.panels["ldct"].has_image
    assert dialogs == []  # expected before training: a placeholder, not an error
    window.shutdown()


def test_bad_input_opens_error_dialogs_not_crashes(qtbot, env, series_pair, checkpoints, dialogs):
    window = make_window(qtbot, env, checkpoints)
    assert not window.open_paths([env / "does-not-exist"], "ldct")
    assert len(dialogs) == 1 and "does-not-exist" in dialogs[0][1]

    junk = env / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a DICOM file")
    (junk / "image.dcm").write_bytes(b"\x00" * 300)
    assert not window.open_paths([junk], "ldct")
    assert len(dialogs) == 2 and "no CT series" in dialogs[1][1]

    bad = env / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint")
    window.open_paths([series_pair["ldct"]], "ldct")
    window.set_checkpoint("mse", str(bad))
    qtbot.waitUntil(lambda: len(dialogs) == 3, timeout=20000)
    assert "bad.pt" in dialogs[2][1]
    qtbot.waitUntil(lambda: len(window.inference.slots["wgan-gp"].finished) == N_SLICES, timeout=20000)
    assert "failed" in window.panels["mse"].placeholder.text()
    assert window.panels["wgan-gp"].has_image and window.panels["ldct"].has_image
    window.shutdown()


def test_series_picker_for_a_folder_with_two_series(qtbot, env, dialogs, monkeypatch, checkpoints):
    import ldct_viewer.ui.dialogs as ui_dialogs

    mixed = env / "mixed"
    write_ct_series(mixed / "a", phantom_volume(3, 32, seed=1), description="series A")
    write_ct_series(mixed / "b", phantom_volume(5, 32, seed=2), description="series B")
    offered = []

    def choose_b(parent, series, title):
        offered.extend(s.description for s in series)
        return next(s for s in series if s.description == "series B")

    monkeypatch.setattr(ui_dialogs, "pick_series", choose_b)
    window = make_window(qtbot, env, checkpoints)
    assert window.open_paths([mixed], "ldct")
    assert sorted(offered) == ["series A", "series B"]
    assert window.case.n_slices == 5 and window.state.n_slices == 5
    window.shutdown()


def test_drop_folder_on_ndct_panel_opens_ndct(qtbot, env, series_pair, checkpoints, dialogs):
    window = make_window(qtbot, env, checkpoints)
    window.open_paths([series_pair["ldct"]], "ldct")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(series_pair["ndct"]))])
    target = window.panels["ndct"]
    pos = QPointF(target.mapTo(window, QPoint(target.width() // 2, target.height() // 2)))
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.case.ndct is not None, timeout=5000)
    assert window.panels["ndct"].has_image
    window.shutdown()


# ---------------------------------------------------------------------------------------- navigation
def test_wheel_and_keys_move_all_panels(viewer, qtbot, series_pair):
    start = viewer.state.slice_index
    send_wheel(viewer.panels["mse"], -1)
    assert [viewer.state.slice_of(k) for k in PANELS] == [start + 1] * 4
    np.testing.assert_array_equal(viewer.panels["ldct"].displayed, series_pair["ldct_hu"][start + 1])
    np.testing.assert_array_equal(viewer.panels["ndct"].displayed, series_pair["ndct_hu"][start + 1])
    send_wheel(viewer.panels["ndct"], +1)
    assert viewer.state.slice_index == start

    qtbot.keyClick(viewer, Qt.Key.Key_Home)
    assert [viewer.state.slice_of(k) for k in PANELS] == [0] * 4
    np.testing.assert_array_equal(viewer.panels["ldct"].displayed, series_pair["ldct_hu"][0])
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    assert viewer.state.slice_index == 1
    qtbot.keyClick(viewer, Qt.Key.Key_Up)
    assert viewer.state.slice_index == 0
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert viewer.state.slice_index == N_SLICES - 1
    assert viewer.slider.value() == N_SLICES - 1
    qtbot.keyClick(viewer, Qt.Key.Key_PageUp)
    assert viewer.state.slice_index == 0  # clamped
    qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert viewer.state.slice_index == N_SLICES - 1
    viewer.slider.setValue(2)
    assert [viewer.state.slice_of(k) for k in PANELS] == [2] * 4
    assert viewer.slice_label.text().startswith("slice 3 /")


def test_unsynced_slices_move_one_panel(viewer):
    viewer.sync_actions["slice"].trigger()
    assert not viewer.state.sync["slice"]
    before = viewer.state.slice_index
    send_wheel(viewer.panels["ndct"], -1)
    assert viewer.state.slice_of("ndct") == before + 1
    assert viewer.state.slice_of("ldct") == before


def test_cine_plays_through_slices(viewer, qtbot):
    viewer.fps_spin.setValue(50)
    start = viewer.state.slice_index
    qtbot.keyClick(viewer, Qt.Key.Key_P)
    assert viewer.play_button.isChecked()
    qtbot.waitUntil(lambda: viewer.state.slice_index != start, timeout=3000)
    qtbot.keyClick(viewer, Qt.Key.Key_P)
    assert not viewer.play_button.isChecked() and not viewer.cine.timer.isActive()


# ---------------------------------------------------------------------------------------- window / level
def test_presets_and_numeric_fields_change_all_panels(viewer, qtbot):
    for key_number, name in ((Qt.Key.Key_3, "bone"), (Qt.Key.Key_2, "lung"), (Qt.Key.Key_4, "brain")):
        qtbot.keyClick(viewer, key_number)
        w, lv = PRESETS[name]
        for key in PANELS:
            assert levels(viewer.panels[key]) == (lv - w / 2, lv + w / 2), (name, key)
        assert viewer.preset_buttons[name].isChecked()
    viewer.preset_buttons["liver"].click()
    assert levels(viewer.panels["wgan-gp"]) == (90 - 75, 90 + 75)
    viewer.width_spin.setValue(600)
    viewer.level_spin.setValue(-100)
    for key in PANELS:
        assert levels(viewer.panels[key]) == (-400.0, 200.0)
    assert "W 600 / L -100" in viewer.panels["ndct"].subtitle.text()

    viewer.sync_actions["window"].trigger()  # unsynced: a preset applies to the panel last used
    send_drag(qtbot, viewer.panels["mse"], Qt.MouseButton.LeftButton, dx=30, dy=0)
    qtbot.waitUntil(lambda: viewer.state.window_of("mse").width > 600, timeout=2000)
    assert levels(viewer.panels["ldct"]) == (-400.0, 200.0)
    qtbot.keyClick(viewer, Qt.Key.Key_7)
    assert levels(viewer.panels["mse"]) == (20.0, 60.0)
    assert levels(viewer.panels["wgan-gp"]) == (-400.0, 200.0)


def test_left_drag_adjusts_window_level_in_all_panels(viewer, qtbot):
    viewer.apply_preset("abdomen")
    send_drag(qtbot, viewer.panels["wgan-gp"], Qt.MouseButton.LeftButton, dx=60, dy=0)
    qtbot.waitUntil(lambda: viewer.state.window.width > 400, timeout=2000)
    w = viewer.state.window
    assert w.level == 40
    for key in PANELS:
        assert levels(viewer.panels[key]) == w.levels
    send_drag(qtbot, viewer.panels["ldct"], Qt.MouseButton.LeftButton, dx=0, dy=-50)
    qtbot.waitUntil(lambda: viewer.state.window.level < 40, timeout=2000)
    for key in PANELS:
        assert levels(viewer.panels[key]) == viewer.state.window.levels
    assert viewer.width_spin.value() == round(viewer.state.window.width)


# ---------------------------------------------------------------------------------------- ROI
def test_shift_drag_draws_one_roi_on_every_panel_with_each_image_s_statistics(viewer, qtbot):
    from ldct_viewer.analysis.roi import EllipseRoi, roi_stats

    def shown(key):
        item = viewer.panels[key].roi_item
        if item is None or not item.isVisible():
            return None
        pos, size = item.pos(), item.size()
        return (pos.x(), pos.y(), size.x(), size.y())

    def labels_match(roi):
        for key in PANELS:
            image = viewer.source_slice(key, viewer.state.slice_of(key))
            expected = roi_stats(image, roi, viewer.case.ldct.pixel_spacing).text()
            if viewer.panels[key].roi_label.textItem.toPlainText() != expected:
                return False
        return True

    viewer.state.reset_view()
    send_drag(qtbot, viewer.panels["mse"], Qt.MouseButton.LeftButton, dx=40, dy=30,
              modifiers=Qt.KeyboardModifier.ShiftModifier)
    roi = viewer.state.roi
    assert roi is not None and roi.width > 3 and roi.height > 3
    assert viewer.state.window.width == 400  # a Shift drag is not a window/level drag
    # drawn from the middle of the image towards the lower right
    assert SIZE / 2 - 2 < roi.x0 < SIZE / 2 + 2 and SIZE / 2 - 2 < roi.y0 < SIZE / 2 + 2
    for key in PANELS:
        assert shown(key) == pytest.approx((roi.x0, roi.y0, roi.width, roi.height))
    assert labels_match(roi)
    sds = {key: viewer.panel_grid.roi_stats_of(key).sd for key in PANELS}
    assert sds["ldct"] > sds["ndct"]  # the LDCT's added noise (SD 30 HU) shows in its SD

    # moved on one panel: the state and every other panel follow
    viewer.panels["ndct"].roi_item.setPos((4.0, 6.0))
    moved = viewer.state.roi
    assert (moved.x0, moved.y0) == (4.0, 6.0) and (moved.width, moved.height) == (roi.width, roi.height)
    for key in PANELS:
        assert shown(key) == pytest.approx((4.0, 6.0, roi.width, roi.height))
    assert labels_match(moved)

    qtbot.keyClick(viewer, Qt.Key.Key_Down)  # another slice: other statistics in the same place
    assert labels_match(moved)
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)
    assert viewer.state.roi is None
    assert all(shown(key) is None and not viewer.panels[key].roi_label.isVisible() for key in PANELS)
    assert viewer.panel_grid.roi_stats_of("ldct") is None

    viewer.state.set_roi(EllipseRoi(2, 2, 10, 10))  # a new case drops the ROI
    viewer.set_case(viewer.case)
    assert viewer.state.roi is None and shown("ldct") is None


def test_ctrl_drag_draws_one_profile_line_and_the_profile_window_plots_every_image_along_it(viewer, qtbot):
    from ldct_viewer.analysis.profile import Line, line_profile

    def ends(key):
        item = viewer.panels[key].line_item
        if item is None or not item.isVisible():
            return None
        points = [item.mapToParent(h.pos()) for h in item.getHandles()]
        return tuple(c for p in points for c in (p.x(), p.y()))

    def plotted(line):
        dialog = viewer.profile_dialog
        for key in PANELS:
            expected = line_profile(viewer.source_slice(key, viewer.state.slice_of(key)), line,
                                    viewer.case.ldct.pixel_spacing)
            x, y = dialog.curves[key].xData, dialog.curves[key].yData
            if x is None or x.shape != expected.distance_mm.shape or not (
                    np.allclose(x, expected.distance_mm) and np.allclose(y, expected.hu, equal_nan=True)):
                return False
        return True

    viewer.state.reset_view()
    send_drag(qtbot, viewer.panels["wgan-gp"], Qt.MouseButton.LeftButton, dx=-50, dy=20,
              modifiers=Qt.KeyboardModifier.ControlModifier)
    line = viewer.state.line
    assert line is not None and line.x1 < line.x0 and line.y1 > line.y0  # drawn to the lower left
    assert viewer.state.window.width == 400 and viewer.state.roi is None  # neither a W/L drag nor a ROI
    for key in PANELS:
        assert ends(key) == pytest.approx((line.x0, line.y0, line.x1, line.y1))
    dialog = viewer.profile_dialog
    assert dialog is not None and dialog.isVisible()  # opened by releasing the drag
    qtbot.waitUntil(lambda: plotted(line), timeout=5000)
    assert "mm) from its first point" in dialog.info.text()

    # one end dragged on one panel: the state, the other panels and the plot follow
    item = viewer.panels["ldct"].line_item
    item.movePoint(item.getHandles()[1], (2.0, 3.0))
    moved = viewer.state.line
    assert (moved.x0, moved.y0, moved.x1, moved.y1) == pytest.approx((line.x0, line.y0, 2.0, 3.0))
    for key in PANELS:
        assert ends(key) == pytest.approx((line.x0, line.y0, 2.0, 3.0))
    qtbot.waitUntil(lambda: plotted(moved), timeout=5000)  # redrawn once per burst of changes
    qtbot.keyClick(viewer, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: plotted(moved), timeout=5000)

    viewer.state.set_roi(None)
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)
    assert viewer.state.line is None and all(ends(key) is None for key in PANELS)
    qtbot.waitUntil(lambda: dialog.info.text().startswith("No line"), timeout=5000)
    assert dialog.curves["ndct"].xData is None  # emptied
    dialog.close()
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow, timeout=5000)
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert dialog.isVisible()
    viewer.state.set_line(Line(1, 1, 9, 9))
    viewer.set_case(viewer.case)  # a new case drops the line
    assert viewer.state.line is None


# ---------------------------------------------------------------------------------------- reader study
def test_reader_study_shows_blinded_pairs_and_records_every_answer(viewer, qtbot, env, dialogs):
    from ldct_viewer.reader_study import plan_trials, read_answers

    assert study_slices(viewer) == list(range(N_SLICES))
    path = env / "study.csv"
    study = start_reader_study(viewer, str(path), n_trials=4, reader="QA", seed=11)
    qtbot.addWidget(study)
    plan = plan_trials(list(range(N_SLICES)), 4, seed=11)
    assert study.plan == plan
    for trial, choice in zip(plan, ("A", "B", "none", "A")):
        header = study.header.text()
        assert header.startswith(f"Trial {trial.number} / 4") and "NDCT reference" in header
        a, b, ref = (study.panels[k].displayed for k in ("A", "B", "ndct"))
        np.testing.assert_array_equal(a, viewer.source_slice(trial.left, trial.index))
        np.testing.assert_array_equal(b, viewer.source_slice(trial.right, trial.index))
        np.testing.assert_array_equal(ref, viewer.source_slice("ndct", trial.index))
        assert "MSE" not in header and "WGAN" not in header  # blinded
        if choice == "B":
            study.activateWindow()
            qtbot.waitUntil(study.isActiveWindow, timeout=5000)
            qtbot.keyClick(study, Qt.Key.Key_B)  # the keyboard works as the buttons do
        else:
            study.buttons[choice].click()
        assert len(read_answers(path)) == trial.number  # written at once
    rows = read_answers(path)
    assert [r["choice"] for r in rows] == ["A", "B", "none", "A"]
    expected = [plan[0].left, plan[1].right, "none", plan[3].left]
    assert [r["chosen"] for r in rows] == expected and all(r["reader"] == "QA" for r in rows)
    assert study.complete and "Study done: 4 of 4 trials answered" in study.header.text()
    assert not any(button.isEnabled() for button in study.buttons.values())
    study.buttons["A"].click()  # after the end: nothing more is recorded
    assert len(read_answers(path)) == 4

    assert start_reader_study(viewer, str(path), n_trials=2) is None  # never written over
    assert "already exists" in dialogs[-1][1]

    # another case opened mid-study: the study stops with the answers so far, and shows nothing else
    second = start_reader_study(viewer, str(env / "second.csv"), n_trials=3, seed=2)
    qtbot.addWidget(second)
    second.buttons["A"].click()
    viewer.set_case(viewer.case.__class__(ldct=viewer.case.ldct, ndct=viewer.case.ndct, pairing=viewer.case.pairing))
    second.buttons["B"].click()
    assert second.complete and "stopped" in second.header.text() and len(read_answers(env / "second.csv")) == 2
    assert second.panels["A"].displayed is None


def test_reader_study_needs_ndct_and_both_outputs(qtbot, env, series_pair, checkpoints, dialogs):
    window = make_window(qtbot, env, checkpoints)
    try:
        assert window.open_paths([series_pair["ldct"]], "ldct")
        reader_study_dialog(window)
        assert dialogs and "needs an NDCT" in dialogs[-1][1]
    finally:
        window.shutdown()


# ---------------------------------------------------------------------------------------- zoom / pan
def test_zoom_and_pan_are_linked_and_space_resets(viewer, qtbot):
    def ranges():
        return {k: viewer.panels[k].view.viewRange() for k in PANELS}

    full = ranges()["ldct"]
    send_wheel(viewer.panels["wgan-gp"], +3, ctrl=True)  # Ctrl+wheel zooms, no slice change
    qtbot.wait(50)
    zoomed = ranges()
    assert zoomed["wgan-gp"][0][1] - zoomed["wgan-gp"][0][0] < full[0][1] - full[0][0]
    for key in PANELS:
        np.testing.assert_allclose(zoomed[key], zoomed["wgan-gp"], atol=1e-6)

    send_drag(qtbot, viewer.panels["ldct"], Qt.MouseButton.MiddleButton, dx=40, dy=0)
    panned = ranges()
    assert panned["ldct"][0][0] < zoomed["ldct"][0][0]  # dragged right: the view moved left
    for key in PANELS:
        np.testing.assert_allclose(panned[key], panned["ldct"], atol=1e-6)

    send_drag(qtbot, viewer.panels["mse"], Qt.MouseButton.RightButton, dx=0, dy=-40)
    right = ranges()
    assert right["mse"] != panned["mse"]
    for key in PANELS:
        np.testing.assert_allclose(right[key], right["mse"], atol=1e-6)

    qtbot.keyClick(viewer, Qt.Key.Key_Space)
    qtbot.wait(50)
    reset = ranges()
    for key in PANELS:
        assert reset[key][0][0] <= 0.5 and reset[key][0][1] >= SIZE - 0.5

    viewer.state.set_sync("view", False)
    send_wheel(viewer.panels["mse"], +3, ctrl=True)
    qtbot.wait(50)
    after = ranges()
    assert after["mse"] != after["ldct"]


# ---------------------------------------------------------------------------------------- crosshair
def test_crosshair_reports_hu_of_all_four_images(viewer, qtbot, series_pair):
    i = viewer.state.slice_index
    row, col = 20, 30
    viewer.panels["wgan-gp"].hovered.emit((row + 0.4, col + 0.7))
    text = viewer.hu_label.text()
    values = viewer.panel_grid.hu_values(row, col)
    assert values["ldct"] == series_pair["ldct_hu"][i, row, col]
    assert values["ndct"] == series_pair["ndct_hu"][i, row, col]
    assert values["mse"] == pytest.approx(float(viewer.panels["mse"].displayed[row, col]))
    for key in ("LDCT", "RED-CNN-MSE", "RED-CNN-WGAN-GP", "NDCT"):
        assert key in text
    assert f"{series_pair['ndct_hu'][i, row, col]:.0f}" in text
    for key in PANELS:
        assert viewer.panels[key].vline.isVisible()
        assert viewer.panels[key].vline.value() == col + 0.5
    viewer.state.set_sync("crosshair", False)
    assert viewer.panels["wgan-gp"].vline.isVisible() and not viewer.panels["ldct"].vline.isVisible()
    viewer.panels["wgan-gp"].hovered.emit(None)
    assert viewer.hu_label.text() == "" and not viewer.panels["wgan-gp"].vline.isVisible()


def test_mouse_move_over_panel_updates_crosshair(viewer, qtbot):
    from PySide6.QtWidgets import QApplication

    viewport = viewer.panels["ldct"].graphics.viewport()
    pos = QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QMouseEvent(QEvent.Type.MouseMove, pos, viewport.mapToGlobal(pos), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: viewer.state.crosshair is not None, timeout=2000)
    row, col = viewer.state.crosshair
    assert abs(row - SIZE / 2) < 3 and abs(col - SIZE / 2) < 3
    assert "HU" in viewer.hu_label.text()


# ---------------------------------------------------------------------------------------- difference maps
def test_difference_maps_equal_the_array_differences(viewer, qtbot, series_pair):
    i = viewer.state.slice_index
    ldct, ndct = series_pair["ldct_hu"][i], series_pair["ndct_hu"][i]
    mse = viewer.inference.result("mse", i)
    wgan = viewer.inference.result("wgan-gp", i)

    viewer.diff_combo.setCurrentIndex(viewer.diff_combo.findData("minus_ldct"))
    assert viewer.state.diff_mode == "minus_ldct"
    np.testing.assert_array_equal(viewer.panels["mse"].displayed, mse - ldct)
    np.testing.assert_array_equal(viewer.panels["wgan-gp"].displayed, wgan - ldct)
    np.testing.assert_array_equal(viewer.panels["ldct"].displayed, ndct - ldct)  # ideal removal
    np.testing.assert_array_equal(viewer.panels["ndct"].displayed, ndct)  # reference stays an image
    r = viewer.state.diff_range
    assert levels(viewer.panels["mse"]) == (-r, r)
    np.testing.assert_array_equal(viewer.panels["mse"].image.lut, DIVERGING_LUT)
    assert viewer.colorbar.isVisible()

    qtbot.keyClick(viewer, Qt.Key.Key_D)  # cycle to output − NDCT
    assert viewer.state.diff_mode == "minus_ndct"
    np.testing.assert_array_equal(viewer.panels["mse"].displayed, mse - ndct)
    np.testing.assert_array_equal(viewer.panels["ldct"].displayed, ldct - ndct)
    assert "− NDCT" in viewer.panels["wgan-gp"].subtitle.text()

    viewer.diff_spin.setValue(75)
    assert levels(viewer.panels["wgan-gp"]) == (-75.0, 75.0)
    assert viewer.colorbar.range_hu == 75
    viewer.apply_preset("lung")  # W/L does not touch the difference maps
    assert levels(viewer.panels["wgan-gp"]) == (-75.0, 75.0)
    assert levels(viewer.panels["ndct"]) == (-1350.0, 150.0)

    qtbot.keyClick(viewer, Qt.Key.Key_D)
    assert viewer.state.diff_mode == "none" and not viewer.colorbar.isVisible()
    np.testing.assert_array_equal(viewer.panels["mse"].displayed, mse)
    assert viewer.panels["mse"].image.lut is None


# ---------------------------------------------------------------------------------------- metrics
def test_metrics_follow_the_slice(viewer, qtbot, series_pair):
    from ldct_viewer.analysis.comparison import grain_rois
    from ldct_viewer.analysis.metrics import psnr, rmse, ssim

    def check(i):
        qtbot.waitUntil(lambda: all(viewer.metrics.values(k, i) is not None for k in ("ldct", "mse", "wgan-gp")),
                        timeout=10000)
        ndct = series_pair["ndct_hu"][i]
        for row, key in enumerate(("ldct", "mse", "wgan-gp")):
            image = series_pair["ldct_hu"][i] if key == "ldct" else viewer.inference.result(key, i)
            m = viewer.metrics.values(key, i)
            assert m["rmse"] == pytest.approx(rmse(image, ndct))
            assert m["psnr"] == pytest.approx(psnr(image, ndct))
            assert m["ssim"] == pytest.approx(ssim(image, ndct))
            assert viewer.metrics_table.item(row, 0).text() == f"{m['rmse']:.1f}"
            assert viewer.metrics_table.item(row, 2).text() == f"{m['ssim']:.4f}"
            # 48 px phantom slices hold too few flat squares, even of 16 px: no grain figure, and why
            regions = grain_rois(ndct)
            assert not regions and np.isnan(m["grain_db"]) and m["grain_regions"] == regions.found
            assert viewer.metrics_table.item(row, 3).text() == "—"
            assert f"NDCT has {regions.found} flat region" in viewer.metrics_table.item(row, 3).toolTip()
            assert "at least 4" in viewer.metrics_table.item(row, 3).toolTip()

    check(viewer.state.slice_index)
    viewer.state.set_slice(1)
    check(1)
    assert viewer.metrics_table.caption.text().endswith("slice 2")
    assert viewer.metrics_table.horizontalHeaderItem(3).text() == "Grain vs NDCT (dB)"
    assert "over-smoothed" in viewer.metrics_table.horizontalHeaderItem(3).toolTip()


def test_grain_column_says_which_way_each_image_is_off_from_ndct(qtbot, env, checkpoints, dialogs):
    """Grain vs NDCT (dB), measured in NDCT's flat tiles only: the noisy input reads well above 0."""
    from ldct_viewer.analysis.comparison import grain_rois
    from ldct_viewer.analysis.nps import high_frequency_power_ratio

    rng = np.random.default_rng(11)
    ndct = np.full((2, 96, 96), 40.0, dtype=np.float32)
    ndct[:, 20:50, 20:50] = 300.0                       # structure in one corner; flat tissue elsewhere
    ndct += rng.normal(0, 10, ndct.shape).astype(np.float32)
    ndct = np.round(ndct)
    ldct = np.round(ndct + rng.normal(0, 40, ndct.shape)).astype(np.float32)
    write_ct_series(env / "grain" / "ldct", ldct, description="noisy")
    write_ct_series(env / "grain" / "ndct", ndct, description="reference")
    window = make_window(qtbot, env, checkpoints)
    try:
        assert window.open_paths([env / "grain" / "ldct"], "ldct")
        assert window.open_paths([env / "grain" / "ndct"], "ndct")
        wait_all_results(qtbot, window, n=2)
        i = window.state.slice_index
        qtbot.waitUntil(lambda: all(window.metrics.values(k, i) is not None for k in ("ldct", "mse", "wgan-gp")), timeout=10000)
        rois = grain_rois(ndct[i])
        n = rois.size  # none straddles the structure's edge (20..50 px)
        assert len(rois) >= 4 and not any(y < 50 and y + n > 20 and x < 50 and x + n > 20
                                          and not (y >= 20 and y + n <= 50 and x >= 20 and x + n <= 50)
                                          for _, y, x in rois)
        for row, key in enumerate(("ldct", "mse", "wgan-gp")):
            image = ldct[i] if key == "ldct" else window.inference.result(key, i)
            m = window.metrics.values(key, i)
            assert m["grain_db"] == pytest.approx(high_frequency_power_ratio(image, ndct[i], roi_size=n,
                                                                             rois=rois.corners))
            assert window.metrics_table.item(row, 3).text() == f"{m['grain_db']:+.1f}"
            assert window.metrics_table.item(row, 3).toolTip() == f"Measured in {len(rois)} flat {n} px regions of NDCT"
        assert window.metrics.values("ldct", i)["grain_db"] > 6.0   # 17x NDCT's noise power: ~+12 dB
    finally:
        window.shutdown()


def test_nps_window_follows_the_slice_and_shows_every_panel_s_spectrum(qtbot, env, checkpoints, dialogs,
                                                                        monkeypatch):
    import ldct_viewer.analysis.comparison as comparison
    from ldct_viewer.analysis.comparison import grain_rois, slice_spectra
    from ldct_viewer.analysis.nps import flat_rois

    searches: list[int] = []  # every flat-ROI search the viewer makes, by the NDCT slice searched

    def counting_flat_rois(reference, *args, **kwargs):
        searches.append(next(k for k in range(len(ndct)) if np.array_equal(reference, ndct[k])))
        return flat_rois(reference, *args, **kwargs)

    monkeypatch.setattr(comparison, "flat_rois", counting_flat_rois)

    rng = np.random.default_rng(12)
    ndct = np.full((3, 96, 96), 40.0, dtype=np.float32)
    ndct[:, 20:50, 20:50] = 300.0
    ndct = np.round(ndct + rng.normal(0, 10, ndct.shape)).astype(np.float32)
    ldct = np.round(ndct + rng.normal(0, 40, ndct.shape)).astype(np.float32)
    write_ct_series(env / "nps" / "ldct", ldct, description="noisy")
    write_ct_series(env / "nps" / "ndct", ndct, description="reference")
    regions = [grain_rois(ndct[k]) for k in range(len(ndct))]
    assert all(r.size == 32 for r in regions)  # one search per slice: 32 px squares fit
    searches.clear()
    window = make_window(qtbot, env, checkpoints)
    try:
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        qtbot.keyClick(window, Qt.Key.Key_N)  # before any case: the window opens and says so
        dialog = window.nps_dialog
        assert dialog.isVisible() and dialog.info.text() == "No case open."
        assert window.open_paths([env / "nps" / "ldct"], "ldct")
        qtbot.waitUntil(lambda: "open an NDCT" in dialog.info.text(), timeout=5000)
        assert window.open_paths([env / "nps" / "ndct"], "ndct")
        wait_all_results(qtbot, window, n=3)

        def shows(i):
            images = {k: window.source_slice(k, i) for k in ("ldct", "mse", "wgan-gp", "ndct")}
            expected = slice_spectra(images, ndct[i], window.case.spacing[1:], rois=regions[i])
            if set(dialog.spectra) != set(expected) or not dialog.info.text().startswith(f"Slice {i + 1}:"):
                return False
            for key, spectrum in expected.items():
                x, y = dialog.curves[key].xData, dialog.curves[key].yData  # as given (getData is log-scaled)
                keep = spectrum.power > 1e-9 * spectrum.power.max()  # the detrended lowest bin is left out
                if not (keep.sum() >= spectrum.power.size - 1 and np.allclose(x, spectrum.frequency[keep])
                        and np.allclose(y, spectrum.power[keep])):
                    return False
            return True

        qtbot.waitUntil(lambda: shows(window.state.slice_index), timeout=10000)
        y_ldct, y_ndct = dialog.curves["ldct"].yData, dialog.curves["ndct"].yData
        assert y_ldct[-1] > 5 * y_ndct[-1]  # the noisy input's high end sits far above NDCT's
        lo, hi = dialog.band.getRegion()
        spacing = float(np.sqrt(window.case.spacing[1] * window.case.spacing[2]))
        assert (lo, hi) == pytest.approx((0.25 / spacing, 0.5 / spacing))
        window.state.set_slice(0)
        qtbot.waitUntil(lambda: shows(0), timeout=10000)
        assert f"{len(regions[0])} flat 32 px regions of NDCT" in dialog.info.text()
        qtbot.waitUntil(lambda: window.metrics.values("wgan-gp", 0) is not None, timeout=10000)
        # the metrics job and the NPS window share one search per slice shown (slice 1, then 0)
        assert sorted(searches) == [0, 1]
    finally:
        window.shutdown()


# ---------------------------------------------------------------------------------------- layout, help
def test_layout_toggle(viewer, qtbot):
    def position(key):
        index = viewer.panel_grid.grid.indexOf(viewer.panels[key])
        return viewer.panel_grid.grid.getItemPosition(index)[:2]

    assert [position(k) for k in PANELS] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    qtbot.keyClick(viewer, Qt.Key.Key_L)
    assert viewer.state.layout == "2x2"
    assert [position(k) for k in PANELS] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    viewer.layout_button.click()
    assert viewer.state.layout == "1x4"


def test_help_about_and_checkpoint_info(viewer, qtbot, monkeypatch, dialogs, checkpoints):
    import ldct_viewer.ui.dialogs as ui_dialogs

    opened = []
    monkeypatch.setattr(ui_dialogs.ShortcutsDialog, "exec", lambda self: opened.append(self) or 0)
    monkeypatch.setattr(ui_dialogs.CheckpointInfoDialog, "exec", lambda self: opened.append(self) or 0)
    qtbot.keyClick(viewer, Qt.Key.Key_F1)
    assert isinstance(opened[-1], ui_dialogs.ShortcutsDialog)
    assert opened[-1].table.rowCount() >= 10
    viewer.show_about()
    assert dialogs[-1][0] == "about" and "PySide6" in dialogs[-1][1] and "CPU" in dialogs[-1][1]
    viewer.checkpoint_info("wgan-gp")
    card = opened[-1]
    text = card.browser.toPlainText()  # the model card, read as a person would
    assert "wgan-gp" in text and "unit-test phantom" in text and "rmse hu" in text and "12.5" in text
    assert load_checkpoint(str(checkpoints["wgan-gp"])).sha256 in text
    assert not card.raw.isVisibleTo(card) and '"rmse_hu": 12.5' in card.raw.toPlainText()  # folded away


# ---------------------------------------------------------------------------------------- export
def test_export_writes_pngs_of_the_expected_size_and_content(viewer, qtbot, env, series_pair):
    from ldct_viewer.export import compose_comparison

    out = env / "png"
    viewer.apply_preset("bone")
    engines = {key: viewer.inference.slots[key].engine for key in METHODS}
    computed = {key: engine.stats.slices_computed for key, engine in engines.items()}
    worker = viewer.exporter.export(str(out), [0, 2], diff_mode="none")
    qtbot.waitUntil(lambda: len(viewer.exporter.last_export) == 2, timeout=20000)
    qtbot.waitUntil(lambda: worker.is_done, timeout=5000)
    # one result store: the export reads the slices on screen from the engines' caches
    assert {key: engine.stats.slices_computed for key, engine in engines.items()} == computed
    for key, engine in engines.items():
        assert viewer.inference.result(key, 2) is engine.cached(series_pair["ldct_hu"][2])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["slice_0001.png", "slice_0003.png"]
    i = 2
    expected = compose_comparison(series_pair["ldct_hu"][i], viewer.inference.result("mse", i),
                                  viewer.inference.result("wgan-gp", i), series_pair["ndct_hu"][i],
                                  window=PRESETS["bone"], with_metrics=False)
    png = np.asarray(Image.open(out / "slice_0003.png").convert("RGB"))
    assert png.shape == expected.rgb.shape
    top, left, h, w = expected.tiles["ldct"]
    np.testing.assert_array_equal(png[top:top + h, left:left + w, 0],
                                  window_to_uint8(series_pair["ldct_hu"][i], *PRESETS["bone"]))
    top, left, h, w = expected.tiles["mse"]
    np.testing.assert_array_equal(png[top:top + h, left:left + w],
                                  expected.rgb[top:top + h, left:left + w])

    viewer.exporter.export(str(out), [2], diff_mode="minus_ndct")
    qtbot.waitUntil(lambda: len(viewer.exporter.last_export) == 1, timeout=20000)
    with_row = np.asarray(Image.open(viewer.exporter.last_export[0]).convert("RGB"))
    assert viewer.exporter.last_export[0].name == "slice_0003_2.png"  # the earlier file is kept
    assert with_row.shape[0] > png.shape[0] and with_row.shape[1] == png.shape[1]

    # with the ROI on screen: outlined, and its statistics recorded with the image
    import json

    from ldct_viewer.analysis.roi import EllipseRoi
    from ldct_viewer.export.png import read_png_text

    viewer.state.set_roi(EllipseRoi(10.0, 12.0, 20.0, 14.0))
    viewer.state.set_slice(i)
    viewer.exporter.export(str(out), [i], with_roi=True)
    qtbot.waitUntil(lambda: len(viewer.exporter.last_export) == 1
                    and viewer.exporter.last_export[0].name == "slice_0003_3.png", timeout=20000)
    recorded = json.loads(read_png_text(viewer.exporter.last_export[0])["roi"])
    assert recorded["ellipse_px"] == [10.0, 12.0, 20.0, 14.0]
    for key, panel in (("ldct", "ldct"), ("mse", "mse"), ("wgan-gp", "wgan-gp"), ("ndct", "ndct")):
        assert recorded["stats"][key]["sd"] == pytest.approx(viewer.panel_grid.roi_stats_of(panel).sd)
        assert recorded["stats"][key]["mean"] == pytest.approx(viewer.panel_grid.roi_stats_of(panel).mean)


def test_export_dialog_options(viewer, qtbot, env):
    from ldct_viewer.ui.dialogs import ExportDialog

    dialog = ExportDialog(viewer, current=3, n_slices=N_SLICES, folder=str(env / "x"))
    qtbot.addWidget(dialog)
    assert dialog.options() == {"out_dir": str(env / "x"), "slices": [3], "diff_mode": "none", "with_roi": False}
    assert not dialog.roi.isEnabled()  # no ROI drawn
    with_roi = ExportDialog(viewer, current=0, n_slices=N_SLICES, folder=str(env / "x"), has_roi=True)
    qtbot.addWidget(with_roi)
    assert with_roi.roi.isEnabled() and with_roi.options()["with_roi"]
    dialog.all_radio.setChecked(True)
    assert dialog.slices() == list(range(N_SLICES))
    dialog.range_radio.setChecked(True)
    dialog.first.setValue(5)
    dialog.last.setValue(2)
    dialog.diff.setCurrentIndex(dialog.diff.findData("minus_ldct"))
    assert dialog.options()["slices"] == [1, 2, 3, 4] and dialog.options()["diff_mode"] == "minus_ldct"
    dialog.folder.setText("")
    dialog.accept()
    assert dialog.result() != ExportDialog.DialogCode.Accepted and "folder" in dialog.error.text()


# ---------------------------------------------------------------------------------------- persistence
def test_settings_restore_layout_window_checkpoints_and_recent(qtbot, env, series_pair, checkpoints, dialogs):
    first = make_window(qtbot, env, checkpoints, "persist.ini")
    first.open_paths([series_pair["ldct"]], "ldct")
    first.state.set_layout("2x2")
    first.state.set_window(1234, -321)
    first.state.set_diff_mode("minus_ldct")
    first.resize(700, 500)
    first.shutdown()
    first.close()

    second = make_window(qtbot, env, None, "persist.ini", size=None)
    assert second.state.layout == "2x2"
    assert (second.state.window.width, second.state.window.level) == (1234, -321)
    assert second.state.diff_mode == "minus_ldct"
    assert second.inference.slots["mse"].spec == str(checkpoints["mse"])
    assert (second.size().width(), second.size().height()) == (700, 500)
    recent = [a.text() for a in second.recent_menu.actions()]
    assert recent and str(series_pair["ldct"]) in recent[0]
    assert second.settings.value("last_dir/ldct") == str(series_pair["ldct"])
    second.shutdown()



def test_settings_saved_under_the_old_wgan_key_are_migrated_once(qtbot, env, checkpoints, dialogs):
    from PySide6.QtCore import QSettings

    old = QSettings(str(env / "old.ini"), QSettings.Format.IniFormat)
    old.setValue("checkpoint/wgan", str(checkpoints["wgan-gp"]))  # as saved before the vocabulary was one
    old.sync()
    del old
    window = make_window(qtbot, env, None, "old.ini")
    assert window.inference.slots["wgan-gp"].spec == str(checkpoints["wgan-gp"])
    assert window.settings.value("checkpoint/wgan-gp") == str(checkpoints["wgan-gp"])
    assert not window.settings.contains("checkpoint/wgan")
    window.shutdown()
    window.close()
    again = QSettings(str(env / "old.ini"), QSettings.Format.IniFormat)
    assert not again.contains("checkpoint/wgan") and again.value("checkpoint/wgan-gp") == str(checkpoints["wgan-gp"])

# ---------------------------------------------------------------------------------------- simulation
def test_simulate_low_dose_from_an_ndct_opened_alone(qtbot, env, series_pair, checkpoints, dialogs):
    import ldct_viewer.ct

    if not hasattr(ldct_viewer.ct, "simulate_low_dose"):
        pytest.skip("ldct_viewer.ct.simulate_low_dose is not available yet")
    window = make_window(qtbot, env, checkpoints)
    assert window.open_paths([series_pair["ndct"]], "ndct")
    assert window.case is None and window.panels["ndct"].has_image
    assert "Simulate" in window.panels["ldct"].placeholder.text()
    assert window.simulate_action.isEnabled()
    window.simulate(window.ndct_only, 0.25, 180)
    assert window.busy.bar.isVisible() or window.case is not None  # the progress bar shows while it runs
    qtbot.waitUntil(lambda: window.case is not None, timeout=60000)
    assert window.case.simulated["dose"] == 0.25 and window.case.n_matched == N_SLICES
    assert window.panels["ldct"].has_image
    assert not np.array_equal(window.panels["ldct"].displayed, window.panels["ndct"].displayed)
    wait_all_results(qtbot, window)
    assert dialogs == []
    window.shutdown()


# ---------------------------------------------------------------------------------------- real CLI
def test_view_command_runs_the_app_and_saves_a_screenshot(env, series_pair, checkpoints):
    shot = env / "shot.png"
    cmd = [sys.executable, "-m", "ldct_viewer", "view", str(series_pair["ldct"]), "--ndct", str(series_pair["ndct"]),
           "--mse", str(checkpoints["mse"]), "--wgan", str(checkpoints["wgan-gp"]), "--device", "cpu",
           "--screenshot", str(shot)]
    envvars = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LDCT_VIEWER_CACHE": str(env / "cache"),
               "XDG_CONFIG_HOME": str(env / "config"), "HOME": str(env / "home")}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=envvars)
    assert result.returncode == 0, result.stderr[-2000:]
    image = Image.open(shot)
    assert image.size[0] >= 800 and image.size[1] >= 400
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10  # not a blank window


def test_no_arguments_opens_the_demo_case(env):
    """``ldct-viewer`` alone: the demo case (a small recipe here) is generated, opened and shown."""
    recipe = env / "small_demo.json"
    recipe.write_text('{"phantom": {"size": 64, "slices": 4}}')
    shot = env / "demo.png"
    envvars = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LDCT_VIEWER_CACHE": str(env / "cache"),
               "LDCT_VIEWER_DEMO_RECIPE": str(recipe), "XDG_CONFIG_HOME": str(env / "config"),
               "HOME": str(env / "home")}
    result = subprocess.run([sys.executable, "-m", "ldct_viewer", "--device", "cpu", "--screenshot", str(shot)],
                            capture_output=True, text=True, timeout=300, env=envvars)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "screenshot saved" in result.stdout
    assert list((env / "cache" / "demo").glob("*/ldct/*"))  # generated through the DICOM writer
    assert np.asarray(Image.open(shot).convert("L")).std() > 10


def test_unavailable_cuda_is_a_one_line_cli_error(env):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    envvars = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LDCT_VIEWER_CACHE": str(env / "cache")}
    result = subprocess.run([sys.executable, "-m", "ldct_viewer", "view", "--device", "cuda"],
                            capture_output=True, text=True, timeout=120, env=envvars)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "CUDA" in result.stderr


def test_panels_say_what_is_being_prepared_until_the_case_arrives(qtbot, env, dialogs):
    """While a case is prepared on the pool (the demo takes a minute on first use), every panel says so
    instead of "no LDCT open"; the hint returns when the job ends without a case."""
    import threading

    window = make_window(qtbot, env)
    release = threading.Event()
    window.busy.run("Preparing the test case…", lambda progress: release.wait(10) and None, lambda result: None)
    qtbot.waitUntil(lambda: all(p.placeholder.text() == "Preparing the test case…" for p in window.panels.values()))
    release.set()
    qtbot.waitUntil(lambda: window.panels["ldct"].placeholder.text().startswith("no LDCT open"))
    window.shutdown()
