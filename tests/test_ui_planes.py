"""Orientation and planes in the real viewer (pytest-qt, offscreen) on a posterior-up DICOM pair."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from dicom_factory import noisy_copy, phantom_volume, write_ct_series
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt
from ui_helpers import make_checkpoints, make_window

from ldct_viewer.inference import Engine
from ldct_viewer.model import load_checkpoint
from ldct_viewer.opening import open_case
from ldct_viewer.reformat import to_square

N, SIZE = 6, 40
SPACING = (2.1, 0.7, 0.7)  # three reformat rows per slice
POSTERIOR_UP = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0)


@pytest.fixture
def pair(env):
    ndct = phantom_volume(N, SIZE, seed=3)
    ndct[:, 3, 5:35] = 900.0  # a bright line near stored row 0: posterior, since rows run towards anterior
    ldct = noisy_copy(ndct, seed=7)
    study, frame = generate_uid(), generate_uid()
    kw = dict(spacing=SPACING, orientation=POSTERIOR_UP, origin=(-14.0, 14.0, -121.0), study_uid=study,
              frame_of_reference_uid=frame)
    write_ct_series(env / "ldct", ldct, description="posterior-up LDCT", **kw)
    write_ct_series(env / "ndct", ndct, description="posterior-up NDCT", **kw)
    return {"ldct": ldct, "ndct": ndct}


@pytest.fixture
def window(qtbot, env, pair):
    checkpoints = make_checkpoints(env)
    w = make_window(qtbot, env, checkpoints)
    w.checkpoint_files = checkpoints
    yield w
    w.shutdown()


def wait_results(qtbot, window, n=N):
    qtbot.waitUntil(lambda: all(len(s.finished) == n for s in window.inference.slots.values())
                    and not window.inference.is_running, timeout=30000)


def letters(panel) -> dict[str, str]:
    return {edge: label.text() for edge, label in panel.letters.items()}


def press(qtbot, window, key) -> None:
    qtbot.keyClick(window, key)
    qtbot.wait(10)


def test_posterior_up_series_is_shown_anterior_up_with_patient_z(qtbot, env, window, pair):
    assert window.open_paths([env / "ldct"], "ldct") and window.open_paths([env / "ndct"], "ndct")
    wait_results(qtbot, window)
    i = window.state.slice_of("ldct")
    ldct = window.panels["ldct"]
    np.testing.assert_array_equal(ldct.displayed, pair["ldct"][i][::-1])  # anterior (stored last row) up
    assert ldct.displayed[SIZE - 4, 10] == pytest.approx(pair["ldct"][i][3, 10])  # the posterior line: bottom
    np.testing.assert_array_equal(window.panels["ndct"].displayed, pair["ndct"][i][::-1])
    engine = Engine(load_checkpoint(str(window.checkpoint_files["mse"])), device="cpu", disk_cache=False)
    np.testing.assert_allclose(window.panels["mse"].displayed, engine.denoise(pair["ldct"][i])[::-1], atol=1e-4)
    for key, panel in window.panels.items():
        assert letters(panel) == {"top": "A", "bottom": "P", "left": "R", "right": "L"}, key
        assert panel.note.isHidden()
    # normal −z: slice 0 is the superior one at z = −121; the label shows the signed DICOM z
    assert f"z = {-121.0 - SPACING[0] * i:.1f} mm" in window.slice_label.text()
    assert "-1" in window.slice_label.text()
    # metrics compare the oriented images with the NDCT oriented the same way (30 HU of noise, not a flip)
    qtbot.waitUntil(lambda: window.metrics.values("ldct", i) is not None, timeout=20000)
    assert window.metrics.values("ldct", i)["rmse"] < 40


def test_keys_switch_planes_with_linked_reformats(qtbot, env, window, pair):
    assert window.open_paths([env / "ldct"], "ldct") and window.open_paths([env / "ndct"], "ndct")
    wait_results(qtbot, window)
    press(qtbot, window, Qt.Key.Key_C)
    assert window.state.plane == "coronal" and window.planes.actions["coronal"].isChecked()
    row = window.state.position
    assert row == SIZE // 2 and window.slider.maximum() == SIZE - 1
    display = pair["ldct"][:, ::-1, :]  # anterior-up display volume; slice 0 (superior) stays on top
    expected = to_square(display[:, row, :], (3.0, 1.0))
    shown = window.panels["ldct"].displayed
    assert shown.shape == (N * 3, SIZE)  # 2.1 mm slices, 0.7 mm pixels
    np.testing.assert_allclose(shown, expected, atol=1e-4)
    assert {p.displayed.shape for p in window.panels.values()} == {(N * 3, SIZE)}
    for panel in window.panels.values():
        assert letters(panel) == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
        assert panel.band_count == 0
    assert window.slice_label.text().startswith(f"coronal {row + 1} / {SIZE}") and "y = " in window.slice_label.text()
    press(qtbot, window, Qt.Key.Key_Down)  # the arrows move the coronal section, on every panel
    assert window.state.position == row + 1
    np.testing.assert_allclose(window.panels["ndct"].displayed, to_square(pair["ndct"][:, ::-1, :][:, row + 1, :],
                                                                          (3.0, 1.0)), atol=1e-4)
    window.state.set_window(80, 40)  # W/L stays shared
    assert all(window.state.window_of(k).width == 80 for k in window.panels)

    press(qtbot, window, Qt.Key.Key_S)
    assert window.state.plane == "sagittal"
    assert window.panels["ldct"].displayed.shape == (N * 3, SIZE)
    assert letters(window.panels["mse"]) == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    press(qtbot, window, Qt.Key.Key_A)
    assert window.state.plane == "axial" and letters(window.panels["ldct"])["top"] == "A"
    assert window.panels["ldct"].displayed.shape == (SIZE, SIZE)


def test_uncomputed_slices_are_a_labelled_band(qtbot, env, window, pair):
    case = open_case(env / "ldct", env / "ndct")
    window.set_case(case, start=False)
    window.inference.start(case.ldct_slice, 3, focus=0)  # the networks finish slices 0..2 only
    qtbot.waitUntil(lambda: not window.inference.is_running and
                    all(len(s.finished) == 3 for s in window.inference.slots.values()), timeout=30000)
    press(qtbot, window, Qt.Key.Key_C)
    panel = window.panels["mse"]
    assert panel.band_count == 1 and window.panels["ldct"].band_count == 0
    rect, label = panel._bands[0]
    top = rect.rect().top()
    assert 8 <= top <= 9 and rect.rect().bottom() == N * 3  # slices 3..5 (inferior, bottom rows) missing
    assert label.textItem.toPlainText() == window.inference.placeholder("mse")
    assert window.panel_grid.hu_values(N * 3 - 1, 10)["mse"] is None  # no HU inside the band
    assert window.panel_grid.hu_values(0, 10)["mse"] is not None
    window.state.set_diff_mode("minus_ldct")  # difference maps of a reformat keep the band
    assert panel.is_diff and panel.band_count == 1 and not np.isnan(panel.displayed).any()
    assert window.panels["ldct"].is_diff and window.panels["ldct"].band_count == 0


def test_reformat_crosshair_slice_is_computed_first(qtbot, env, window, pair):
    case = open_case(env / "ldct", env / "ndct")
    window.set_case(case, start=False)
    press(qtbot, window, Qt.Key.Key_C)
    window.state.set_crosshair((13.0, 20.0), "ldct")  # reformat row 13: slice 4
    order: dict[str, list[int]] = {}
    window.inference.sliceReady.connect(lambda key, i: order.setdefault(key, []).append(i))
    window.start_inference()
    wait_results(qtbot, window)
    assert {key: seq[0] for key, seq in order.items()} == {"mse": 4, "wgan-gp": 4}
    assert all(band == 0 for band in (p.band_count for p in window.panels.values()))


def test_oblique_series_says_so_on_every_panel(qtbot, env, window):
    angle = np.radians(12)
    iop = (np.cos(angle), np.sin(angle), 0.0, -np.sin(angle), np.cos(angle), 0.0)
    write_ct_series(env / "oblique", phantom_volume(3, SIZE, seed=1), orientation=iop)
    assert window.open_paths([env / "oblique"], "ldct")
    for panel in window.panels.values():
        assert not panel.note.isHidden() and "oblique axial: 12°" in panel.note.text()
    assert letters(window.panels["ldct"]) == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    window.state.set_roi(None)
    press(qtbot, window, Qt.Key.Key_C)
    assert window.state.plane == "coronal" and "oblique" in window.panels["mse"].note.text()
