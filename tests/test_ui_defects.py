"""The defects seen in issue 22's walkthrough, each driven as a user meets it (pytest-qt, offscreen):
keyboard focus after a toolbar field, whole-HU W/L drags, the difference range, the plot windows'
placement, the model card, progress with ETA, the export's confirmation and difference row, check
box visibility, the simulation's input dose, the first window size."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import phantom_volume, write_ct_series
from PIL import Image
from PySide6.QtCore import QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction
from ui_helpers import make_checkpoints, make_window

from ldct_viewer.windowing import PRESETS

N_SLICES = 4
SIZE = 48


@pytest.fixture
def pair(env):
    """An LDCT (NDCT + 30 HU noise) and its NDCT (10 HU noise) as DICOM series."""
    rng = np.random.default_rng(4)
    ndct = np.clip(np.round(phantom_volume(N_SLICES, SIZE, seed=3) + rng.normal(0, 10, (N_SLICES, SIZE, SIZE))),
                   -1024, 3000)
    ldct = np.clip(np.round(ndct + rng.normal(0.0, 30.0, ndct.shape)), -1024, 3000).astype(np.float32)
    write_ct_series(env / "pair" / "ldct", ldct, description="test LDCT")
    write_ct_series(env / "pair" / "ndct", ndct.astype(np.float32), description="test NDCT")
    return {"ldct": env / "pair" / "ldct", "ndct": env / "pair" / "ndct", "ldct_hu": ldct, "ndct_hu": ndct}


@pytest.fixture
def viewer(qtbot, env, pair, dialogs):
    window = make_window(qtbot, env, make_checkpoints(env))
    assert window.open_paths([pair["ldct"]], "ldct") and window.open_paths([pair["ndct"]], "ndct")
    qtbot.waitUntil(lambda: all(len(s.finished) == N_SLICES for s in window.inference.slots.values())
                    and not window.inference.is_running, timeout=30000)
    yield window
    window.shutdown()


def levels(panel):
    return tuple(float(v) for v in panel.image.getLevels())


# ---------------------------------------------------------------------------------------- 1. keyboard focus
def test_enter_and_esc_in_a_toolbar_field_give_the_keys_back_to_the_images(viewer, qtbot):
    qtbot.waitUntil(viewer.isActiveWindow, timeout=5000)
    assert viewer.focusWidget() is viewer.panel_grid  # the images have the keys from the start
    spin = viewer.width_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "700")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert viewer.state.window.width == 700
    assert viewer.panel_grid.hasFocus() and not spin.hasFocus()
    qtbot.keyClick(viewer.focusWidget(), Qt.Key.Key_2)  # a preset key, no longer typed into the field
    assert (viewer.state.window.width, viewer.state.window.level) == PRESETS["lung"]
    assert spin.value() == PRESETS["lung"][0]

    # Esc drops what was typed and does not cancel anything; the field shows the state again
    viewer.level_spin.setFocus()
    qtbot.waitUntil(viewer.level_spin.hasFocus, timeout=2000)
    viewer.level_spin.lineEdit().selectAll()
    qtbot.keyClicks(viewer.level_spin.lineEdit(), "123")
    qtbot.keyClick(viewer.level_spin.lineEdit(), Qt.Key.Key_Escape)
    assert viewer.state.window.level == PRESETS["lung"][1] and viewer.level_spin.value() == PRESETS["lung"][1]
    assert viewer.panel_grid.hasFocus()
    qtbot.keyClick(viewer.focusWidget(), Qt.Key.Key_D)
    assert viewer.state.diff_mode == "minus_ldct"


def test_a_click_on_an_image_takes_the_keys_from_a_field(viewer, qtbot):
    qtbot.waitUntil(viewer.isActiveWindow, timeout=5000)
    viewer.diff_spin.setFocus()
    qtbot.waitUntil(viewer.diff_spin.hasFocus, timeout=2000)
    viewport = viewer.panels["mse"].graphics.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport.rect().center())  # a real (spontaneous) click
    assert viewer.panel_grid.hasFocus()
    qtbot.keyClick(viewer.focusWidget(), Qt.Key.Key_3)
    assert (viewer.state.window.width, viewer.state.window.level) == PRESETS["bone"]
    qtbot.keyClick(viewer.focusWidget(), Qt.Key.Key_L)
    assert viewer.state.layout == "2x2"
    assert viewer.diff_combo.focusPolicy() == Qt.FocusPolicy.TabFocus  # choosing a map keeps no keys


# ---------------------------------------------------------------------------------------- 2. W/L in whole HU
def test_left_drag_window_level_stays_in_whole_hu(viewer, qtbot):
    from test_ui_viewer import send_drag

    viewer.state.set_window(651.558, -85.7789)  # as an old drag left it
    send_drag(qtbot, viewer.panels["ldct"], Qt.MouseButton.LeftButton, dx=37, dy=-23, steps=7)
    qtbot.waitUntil(lambda: viewer.state.window.width != 651.558, timeout=2000)
    w = viewer.state.window
    assert w.width == int(w.width) and w.level == int(w.level) and w.width > 651
    assert viewer.panels["ndct"].subtitle.text() == f"W {int(w.width)} / L {int(w.level)}"
    # slow drags on a narrow window still move it: the fractions carry over
    viewer.state.set_window(20, 40)
    for _ in range(10):
        viewer.state.drag_window(1, 0)  # 0.1 HU each
    assert viewer.state.window.width == 21


# ---------------------------------------------------------------------------------------- 3. difference range
def test_difference_range_follows_the_noise_until_the_user_sets_one(qtbot, env, dialogs):
    from ldct_viewer.analysis.noise import difference_range, noise_sd

    rng = np.random.default_rng(8)
    ndct = np.full((2, 96, 96), 40.0)
    ndct[:, 30:60, 20:70] = 180.0  # an organ in soft tissue
    ndct = np.round(ndct + rng.normal(0, 10, ndct.shape)).astype(np.float32)
    ldct = np.round(ndct + rng.normal(0, 30, ndct.shape)).astype(np.float32)  # quarter dose: 2x the noise SD
    write_ct_series(env / "noise" / "ldct", ldct, description="noisy")
    write_ct_series(env / "noise" / "ndct", ndct, description="reference")
    pair = {"ldct": env / "noise" / "ldct", "ndct": env / "noise" / "ndct"}
    viewer = make_window(qtbot, env, make_checkpoints(env))
    assert viewer.state.diff_range == 200  # nothing open: the old default
    assert viewer.open_paths([pair["ldct"]], "ldct") and viewer.open_paths([pair["ndct"]], "ndct")
    i = viewer.state.slice_of("ldct")
    assert noise_sd(ndct[i]) == pytest.approx(10, rel=0.2) and noise_sd(ldct[i]) == pytest.approx(31.6, rel=0.15)
    expected = difference_range(ndct[i], ldct[i])
    # 2 x LDCT's ~32 HU (more than 4 x NDCT's ~10), rounded up to 5 HU: the noise spans the colour map
    assert expected % 5 == 0 and 2 * noise_sd(ldct[i]) <= expected < 2 * noise_sd(ldct[i]) + 5
    assert viewer.state.diff_range == expected and viewer.diff_spin.value() == expected
    viewer.diff_spin.setValue(35)  # the user's choice
    assert viewer.state.diff_range == 35 and float(viewer.settings.value("diff_range/user")) == 35
    viewer.set_case(viewer.case)  # another case: the choice stays
    assert viewer.state.diff_range == 35
    viewer.shutdown()
    viewer.close()
    again = make_window(qtbot, env, None)
    try:
        assert again.open_paths([pair["ldct"]], "ldct")
        assert again.state.diff_range == 35 and again.diff_spin.value() == 35
        assert "your choice" in again.diff_spin.toolTip()
        auto = next(a for a in again.findChildren(QAction) if a.text().startswith("Automatic ± range"))
        auto.trigger()  # back to the noise-based range
        assert "from the case's noise" in again.diff_spin.toolTip() and not again.settings.contains("diff_range/user")
        assert again.open_paths([pair["ndct"]], "ndct")
        assert again.state.diff_range == expected
    finally:
        again.shutdown()


# ---------------------------------------------------------------------------------------- 4. plot windows
def test_profile_and_nps_windows_open_side_by_side_and_reopen_where_left(viewer, qtbot, env):
    from ldct_viewer.ui.plot_window import fitted_size, free_spot

    viewer.show_profile()
    viewer.show_nps()
    profile, nps = viewer.profile_dialog, viewer.nps_dialog
    qtbot.waitUntil(lambda: profile.isVisible() and nps.isVisible(), timeout=5000)
    a, b = profile.frameGeometry(), nps.frameGeometry()
    assert not a.intersects(b), (a, b)
    screen = viewer.screen().availableGeometry()
    assert screen.contains(a.topLeft()) and screen.contains(b.topLeft())
    nps.move(nps.x() - 17, nps.y() + 9)
    moved = nps.pos()
    nps.close()
    viewer.show_nps()
    assert nps.pos() == moved  # the same window object: where it was
    assert viewer.settings.contains("tool_window/nps")
    # a later run: the saved geometry wins over the free spot
    fresh = type(nps)(viewer)
    fresh.show()
    qtbot.waitUntil(fresh.isVisible, timeout=5000)
    assert fresh.pos() == moved
    fresh.close()
    # the placement rule itself: right column top-down, then the next column leftwards
    area = (0, 0, 1920, 1080)
    assert fitted_size((640, 460), area) == (640, 460) and fitted_size((640, 460), (0, 0, 800, 600)) == (640, 264)
    first = free_spot((640, 460), [], area)
    second = free_spot((640, 420), [(*first, 640, 492)], area)
    assert first == (1280, 0) and second == (1280, 500)
    assert free_spot((640, 460), [(1280, 0, 640, 492), (1280, 500, 640, 492)], area) == (632, 0)


# ---------------------------------------------------------------------------------------- 5. model card
def test_checkpoint_info_is_a_model_card_with_the_raw_metadata_folded(viewer, qtbot, monkeypatch):
    import ldct_viewer.ui.dialogs as ui_dialogs

    opened = []
    monkeypatch.setattr(ui_dialogs.CheckpointInfoDialog, "exec", lambda self: opened.append(self) or 0)
    viewer.checkpoint_info("mse")
    dialog = opened[-1]
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.browser.toPlainText()
    for heading in ("Architecture", "Mode and training", "Training data", "Evaluation", "Identity"):
        assert heading in text
    from ldct_viewer.model import load_checkpoint

    assert load_checkpoint(viewer.inference.slots["mse"].spec).sha256 in text
    assert not dialog.raw.isVisible() and dialog.raw_button.text() == "Show raw metadata"
    dialog.raw_button.click()
    assert dialog.raw.isVisible() and dialog.raw_button.text() == "Hide raw metadata"
    assert json.loads(dialog.raw.toPlainText())["mode"] == "mse"
    dialog.raw_button.click()
    assert not dialog.raw.isVisible()


# ---------------------------------------------------------------------------------------- 6. progress with ETA
def test_demo_first_start_shows_a_progress_bar_with_time_left_and_the_window_stays_live(qtbot, env, dialogs,
                                                                                         monkeypatch):
    recipe = env / "small.json"
    recipe.write_text(json.dumps({"phantom": {"size": 64, "slices": 10}}))
    monkeypatch.setenv("LDCT_VIEWER_DEMO_RECIPE", str(recipe))
    window = make_window(qtbot, env, make_checkpoints(env))
    try:
        bar = window.busy.bar
        values, etas, panel_texts, ticks = [], [], [], []
        bar.valueChanged.connect(values.append)
        window.busy.eta.setText("")
        timer = QTimer(window, interval=10)
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start()

        def seen():
            etas.append(window.busy.eta.text())
            panel_texts.append(window.panels["ldct"].placeholder.text())

        bar.valueChanged.connect(lambda _: seen())
        window.open_demo()
        assert bar.isVisible() and window.busy.label.text().startswith("Preparing the demo case")
        qtbot.waitUntil(lambda: window.case is not None, timeout=120000)
        qtbot.waitUntil(lambda: not window.busy.running, timeout=10000)
        timer.stop()
        assert values == sorted(values) and values[-1] == bar.maximum() and len(set(values)) >= 6
        assert any(0 < v < bar.maximum() for v in values)
        assert any(t.startswith("about ") and t.endswith(" left") for t in etas)  # a real time left
        assert any("%" in t and "simulating the LDCT scan" in t for t in panel_texts)
        assert len(ticks) > 5  # the event loop ran while the demo was being made
        assert not bar.isVisible() and window.busy.message == ""
        assert window.case.n_slices == 10 and dialogs == []
    finally:
        window.shutdown()


def test_simulate_low_dose_shows_progress_and_passes_the_input_dose(qtbot, env, pair, dialogs):
    window = make_window(qtbot, env, make_checkpoints(env))
    try:
        assert window.open_paths([pair["ndct"]], "ndct")
        values = []
        window.busy.bar.valueChanged.connect(values.append)
        worker = window.simulate(window.ndct_only, 0.25, 90, input_dose=1.0)
        qtbot.waitUntil(lambda: window.case is not None, timeout=60000)
        qtbot.waitUntil(lambda: worker.is_done, timeout=10000)
        assert window.case.simulated["input_dose"] == 1.0 and window.case.simulated["dose"] == 0.25
        assert values and values[-1] == window.busy.bar.maximum() and values == sorted(values)
        assert dialogs == []
    finally:
        window.shutdown()


# ---------------------------------------------------------------------------------------- 7, 8. export
def test_export_says_where_the_files_went_and_opens_the_folder(viewer, qtbot, env, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    out = env / "exported"
    viewer.exporter.export(str(out), [0, 1])
    qtbot.waitUntil(lambda: len(viewer.exporter.last_export) == 2, timeout=30000)
    notice = viewer.exporter.notice
    assert notice.isVisible() and notice.text() == f"Exported 2 PNGs to {out.resolve()}"
    assert viewer.exporter.open_button.isVisible() and viewer.exporter.open_button.text() == "Open folder"
    assert str(out / "slice_0001.png") in notice.toolTip()
    viewer.exporter.open_button.click()
    assert opened == [QUrl.fromLocalFile(str(out.resolve()))]


def test_export_dialog_states_the_difference_row_and_the_export_honours_it(viewer, qtbot, env, monkeypatch):
    from ldct_viewer.ui.dialogs import ExportDialog

    viewer.state.set_diff_mode("minus_ldct")
    chosen = {}

    def fake_exec(dialog):
        chosen["default"] = dialog.diff.currentData()
        chosen["text"] = dialog.diff.currentText()
        dialog.folder.setText(str(env / "rows"))
        dialog.diff.setCurrentIndex(dialog.diff.findData("none"))
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", fake_exec)
    viewer.exporter.dialog()
    assert chosen["default"] == "minus_ldct" and "Output − LDCT" in chosen["text"]
    qtbot.waitUntil(lambda: len(viewer.exporter.last_export) == 1, timeout=30000)
    without = Image.open(viewer.exporter.last_export[0])
    viewer.exporter.export(str(env / "rows"), [viewer.state.slice_of("ldct")], diff_mode="minus_ndct")
    qtbot.waitUntil(lambda: viewer.exporter.last_export and viewer.exporter.last_export[0] != Path(without.filename),
                    timeout=30000)
    with_row = Image.open(viewer.exporter.last_export[0])
    assert with_row.height > without.height and with_row.width == without.width
    from ldct_viewer.export.png import read_png_text

    assert read_png_text(Path(without.filename))["diff"] == "none"  # as chosen, although the view showed − LDCT
    assert read_png_text(viewer.exporter.last_export[0])["diff"] == f"minus_ndct +-{viewer.state.diff_range:g} HU"
    no_ndct = ExportDialog(viewer, 0, N_SLICES, "x", diff_mode="minus_ndct", has_ndct=False)
    qtbot.addWidget(no_ndct)
    assert no_ndct.options()["diff_mode"] == "none"
    assert not no_ndct.diff.model().item(no_ndct.diff.findData("minus_ndct")).isEnabled()


# ---------------------------------------------------------------------------------------- 9. indicators
def test_check_and_radio_indicators_stand_out_in_the_dark_theme(qtbot):
    from PySide6.QtWidgets import QCheckBox, QRadioButton, QVBoxLayout, QWidget

    from ldct_viewer.ui.theme import STYLE_SHEET, dark_palette

    host = QWidget()
    host.setPalette(dark_palette())
    host.setStyleSheet(STYLE_SHEET)
    layout = QVBoxLayout(host)
    boxes = [QCheckBox("off"), QCheckBox("on"), QRadioButton("off"), QRadioButton("on")]
    boxes[1].setChecked(True)
    boxes[3].setChecked(True)
    for b in boxes:
        layout.addWidget(b)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)

    def indicator_contrast(widget) -> float:
        image = widget.grab().toImage()
        h = image.height()
        # the indicator sits at the left, vertically centred: its outline against the background
        lum = [[image.pixelColor(x, y).lightness() for x in range(0, min(20, image.width()))]
               for y in range(max(h // 2 - 8, 0), min(h // 2 + 8, h))]
        values = np.array(lum, dtype=float)
        return float(values.max() - np.median(values[:, -3:]))

    for b in boxes:
        assert indicator_contrast(b) > 90, b.text()  # was ~10 levels (#2b2f33 on #101214)


# ---------------------------------------------------------------------------------------- 10. input dose
def test_simulate_dialog_has_the_cli_input_dose_with_its_rule(qtbot):
    from ldct_viewer.ui.dialogs import SimulateDialog

    dialog = SimulateDialog(None, dose=0.25, views=360)
    qtbot.addWidget(dialog)
    assert dialog.values() == (0.25, 360, None)  # default: the NDCT is noise-free, as on the command line
    assert not dialog.input_dose.isEnabled()
    dialog.input_known.setChecked(True)
    assert dialog.input_dose.isEnabled() and dialog.values() == (0.25, 360, 1.0)
    dialog.input_dose.setValue(10)
    dialog.accept()
    assert dialog.result() != SimulateDialog.DialogCode.Accepted
    assert "below the dose to simulate" in dialog.error.text()
    dialog.input_dose.setValue(50)
    dialog.accept()
    assert dialog.result() == SimulateDialog.DialogCode.Accepted and dialog.values()[2] == 0.5


# ---------------------------------------------------------------------------------------- 11. window size
def test_first_window_uses_most_of_the_screen_and_later_ones_restore_it(qtbot, env, dialogs):
    from ldct_viewer.ui.settings import FIRST_RUN_SHARE, first_window_rect

    assert first_window_rect((0, 0, 1920, 1080)) == (96, 54, 1728, 972)
    first = make_window(qtbot, env, None, "geometry.ini", size=None)
    area = first.screen().availableGeometry()
    assert first.width() == pytest.approx(area.width() * FIRST_RUN_SHARE, abs=2)
    assert first.height() == pytest.approx(area.height() * FIRST_RUN_SHARE, abs=2)
    first.resize(int(area.width() * 0.6), int(area.height() * 0.5))
    size = first.size()
    first.shutdown()
    first.close()
    settings = QSettings(str(env / "geometry.ini"), QSettings.Format.IniFormat)
    assert settings.contains("geometry")
    second = make_window(qtbot, env, None, "geometry.ini", size=None)
    try:
        assert second.size() == size
    finally:
        second.shutdown()
