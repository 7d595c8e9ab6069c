"""Background inference in the viewer: the slice the user scrolls to comes first, progress, Cancel, resume."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from dicom_factory import phantom_volume, write_ct_series
from ui_helpers import make_checkpoints, make_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


N_SLICES = 8
SIZE = 160
WIDTH = 32  # slow enough (~0.1-0.3 s a slice on 2 cores) to act while it runs


def test_focus_progress_cancel_and_resume(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda *a, **k: shown.append(a)))
    write_ct_series(tmp_path / "ldct", phantom_volume(N_SLICES, SIZE, seed=9), description="LDCT")
    ckpts = make_checkpoints(tmp_path, WIDTH)
    window = make_window(qtbot, tmp_path, ckpts, settings_name="s.ini", size=None)
    order: list[tuple[str, int]] = []
    window.inference.sliceReady.connect(lambda key, i: order.append((key, i)))
    etas: list[float] = []
    window.inference.progressChanged.connect(lambda done, total, eta: etas.append(eta))

    window.open_paths([tmp_path / "ldct"], "ldct")
    focus = window.state.slice_index
    assert focus == N_SLICES // 2
    qtbot.waitUntil(lambda: len(order) >= 1, timeout=60000)
    assert order[0][1] == focus  # the slice on screen first
    assert window.inference_status.progress.isVisible() and window.inference_status.cancel_button.isVisible()
    assert window.inference_status.progress.maximum() == 2 * N_SLICES
    assert window.inference_status.device_label.text().startswith("CPU")

    qtbot.keyClick(window, Qt.Key.Key_Home)  # the user jumps to slice 1: it is computed next
    assert window.inference._focus == 0
    qtbot.waitUntil(lambda: ("mse", 0) in order, timeout=60000)
    window.inference_status.cancel_button.click()  # Cancel while most slices are still to do
    assert not window.inference.is_running
    assert not window.inference_status.progress.isVisible() and not window.inference_status.cancel_button.isVisible()
    mse_order = [i for key, i in order if key == "mse"]
    assert mse_order.index(0) <= 2  # slice 0 was last in the original order (4, 3, 5, 2, 6, 1, 7, 0)
    qtbot.wait(300)
    done = {key: len(slot.finished) for key, slot in window.inference.slots.items()}
    missing = [i for i in range(N_SLICES) if window.inference.result("wgan-gp", i) is None]
    assert missing, "everything finished before Cancel could act"
    window.state.set_slice(missing[-1])
    assert window.panels["wgan-gp"].placeholder.text().startswith("not computed")
    qtbot.wait(300)
    assert {key: len(slot.finished) for key, slot in window.inference.slots.items()} == done  # really stopped

    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Models → Run inference
    qtbot.waitUntil(lambda: all(len(s.finished) == N_SLICES for s in window.inference.slots.values()),
                    timeout=120000)
    qtbot.waitUntil(lambda: not window.inference.is_running, timeout=10000)
    assert window.panels["wgan-gp"].has_image
    assert window.inference_status.progress.maximum() == 2 * N_SLICES
    assert shown == []
    assert any(np.isfinite(eta) and eta > 0 for eta in etas)
    window.shutdown()

    # the disk cache makes a second viewer instant: nothing is recomputed
    again = make_window(qtbot, tmp_path, ckpts, settings_name="s2.ini", size=None)
    again_etas: list[float] = []
    again.inference.progressChanged.connect(lambda done, total, eta: again_etas.append(eta))
    again.open_paths([tmp_path / "ldct"], "ldct")
    qtbot.waitUntil(lambda: all(len(s.finished) == N_SLICES for s in again.inference.slots.values()),
                    timeout=30000)
    engine = again.inference.slots["mse"].engine
    assert engine.stats.slices_computed == 0 and engine.stats.cache_hits == N_SLICES
    # only cache hits: no rate to extrapolate from, so no ETA (it once promised ~0 s for what was left)
    assert again_etas and all(np.isnan(eta) for eta in again_etas)
    np.testing.assert_array_equal(again.inference.result("mse", 3), window.inference.result("mse", 3))
    again.shutdown()
