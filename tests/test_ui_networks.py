"""The viewer with four networks of three architectures (tiny RED-CNN ×2, U-Net, Restormer): panels,
grid, metrics, plots, ROI, reordering, removal, persistence, reader-study pair and export — and the
``export`` command writing six panels."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys

import numpy as np
import pytest
from dicom_factory import noisy_copy, phantom_volume, write_ct_series
from PIL import Image
from ui_helpers import make_four_networks, make_window

from ldct_viewer.analysis.roi import EllipseRoi
from ldct_viewer.export import read_png_text
from ldct_viewer.export.compose import GAP
from ldct_viewer.inference import Engine
from ldct_viewer.model import load_checkpoint
from ldct_viewer.networks import networks_from_specs
from ldct_viewer.panel_layout import best_grid

N_SLICES = 4
SIZE = 40


@pytest.fixture
def series_pair(env):
    ndct = phantom_volume(N_SLICES, SIZE, seed=5)
    ldct = noisy_copy(ndct, seed=1)
    write_ct_series(env / "pair" / "ldct", ldct, description="test LDCT")
    write_ct_series(env / "pair" / "ndct", ndct, description="test NDCT")
    return env / "pair"


@pytest.fixture
def dialogs(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    return shown


def wait_all(qtbot, window, timeout=60000):
    qtbot.waitUntil(lambda: all(len(s.finished) == N_SLICES for s in window.inference.slots.values())
                    and not window.inference.is_running, timeout=timeout)


def test_four_networks_of_three_architectures_side_by_side(qtbot, env, series_pair, dialogs):
    specs = make_four_networks(env)
    networks = networks_from_specs(specs)
    keys = [n.key for n in networks]
    assert [n.label for n in networks] == ["RED-CNN-MSE", "RED-CNN-WGAN-GP", "U-Net-MSE", "Restormer-MSE"]
    assert keys[2:] == ["u-net-mse", "restormer-mse"] and len(set(keys)) == 4
    window = make_window(qtbot, env, None, size=(1400, 700))
    from ldct_viewer.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.network_list.apply(networks)
    try:
        assert window.open_paths([series_pair / "ldct"], "ldct") and window.open_paths([series_pair / "ndct"], "ndct")
        wait_all(qtbot, window)
        assert list(window.panels) == ["ldct", *keys, "ndct"] and window.state.panels == tuple(window.panels)
        i = window.state.slice_of("ldct")
        hu = window.case.ldct_slice(i)
        for n in networks:  # each panel shows its own network's output, U-Net and Restormer included
            expected = Engine(load_checkpoint(n.spec), device="cpu", disk_cache=False).denoise(hu)
            np.testing.assert_allclose(window.panels[n.key].displayed, expected, atol=1e-3)
            assert window.panels[n.key].title.text().startswith(n.label)
        assert not np.allclose(window.panels[keys[2]].displayed, window.panels[keys[3]].displayed)

        # auto layout: the grid that shows the six images largest in the space of the panel grid
        grid = window.panel_grid
        rows, cols = best_grid(6, grid.width(), grid.height())
        cells = [grid.grid.getItemPosition(grid.grid.indexOf(p))[:2] for p in window.panels.values()]
        assert cells == [(k // cols, k % cols) for k in range(6)]
        window.state.set_layout("1x4")
        assert {grid.grid.getItemPosition(grid.grid.indexOf(p))[0] for p in window.panels.values()} == {0}

        # W/L linked on every panel; metrics for LDCT and all four networks
        window.state.set_window(700, 60)
        assert all(window.state.window_of(k).width == 700 for k in window.panels)
        qtbot.waitUntil(lambda: all(window.metrics.values(k, i) is not None for k in ("ldct", *keys)), timeout=30000)
        assert window.metrics_table.rowCount() == 5
        assert [window.metrics_table.verticalHeaderItem(r).text() for r in range(5)] == [
            "LDCT", "RED-CNN-MSE", "RED-CNN-WGAN-GP", "U-Net-MSE", "Restormer-MSE"]
        window._show_metrics(i)
        assert all(window.metrics_table.item(r, 0).text() not in ("…", "—") for r in range(5))

        # ROI statistics on every panel; NPS and profile windows draw one curve per image
        window.state.set_roi(EllipseRoi(10, 10, 16, 14))
        assert all(grid.roi_stats_of(k) is not None for k in window.panels)
        window.show_nps()
        assert list(window.nps_dialog.curves) == list(window.panels)
        assert set(window.nps_dialog.spectra) == set(window.panels) or not window.nps_dialog.spectra
        from ldct_viewer.analysis.profile import Line

        window.state.set_line(Line(2, 20, 37, 20))
        window.show_profile()
        window.profile_dialog.refresh()
        assert set(window.profile_dialog.profiles) == set(window.panels)

        # reorder and remove: panels, inference slots and table follow; engines of kept networks stay
        unet_engine = window.inference.slots[keys[2]].engine
        window.network_list.move(keys[3], -2)
        assert list(window.panels) == ["ldct", keys[0], keys[3], keys[1], keys[2], "ndct"]
        window.network_list.remove(keys[1])
        assert list(window.inference.keys) == [keys[0], keys[3], keys[2]]
        assert window.inference.slots[keys[2]].engine is unet_engine and keys[1] not in window.panels
        assert window.metrics_table.rowCount() == 4
        window.nps_dialog.refresh()
        assert list(window.nps_dialog.curves) == list(window.panels)
        wait_all(qtbot, window)

        # the reader study compares the two networks the reader picks
        from ldct_viewer.ui.reader_study import start_reader_study

        study = start_reader_study(window, str(env / "study.csv"), n_trials=3, seed=1, pair=(keys[2], keys[3]))
        qtbot.addWidget(study)
        assert {t.left for t in study.plan} | {t.right for t in study.plan} == {keys[2], keys[3]}
        trial = study.plan[0]
        np.testing.assert_array_equal(study.panels["A"].displayed, window.source_slice(trial.left, trial.index))
        study.buttons["A"].click()
        study.close()

        # export from the viewer: one tile per panel (5 now)
        worker = window.exporter.export(str(env / "png"), [i], diff_mode="none")
        qtbot.waitUntil(lambda: len(window.exporter.last_export) == 1, timeout=30000)
        worker.wait(10000)
        written = window.exporter.last_export[0]
        png = np.asarray(Image.open(written))
        assert png.shape[1] == 5 * SIZE + 4 * GAP
        assert "U-Net-MSE" in read_png_text(written)["Description"]
        window.close()  # saves the list

        again = make_window(qtbot, env, None)
        assert list(again.inference.keys) == [keys[0], keys[3], keys[2]]
        assert [s.label for s in again.inference.slots.values()] == ["RED-CNN-MSE", "Restormer-MSE", "U-Net-MSE"]
        again.shutdown()
        assert dialogs == []
    finally:
        window.shutdown()


def test_export_command_writes_six_panels_for_four_networks(env, series_pair):
    specs = make_four_networks(env)
    out = env / "six"
    run_env = dict(os.environ, LDCT_VIEWER_CACHE=str(env / "cache"), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "ldct_viewer", "export", str(series_pair / "ldct"), "--ndct",
                             str(series_pair / "ndct"), "--out", str(out), "--slices", "2", "--device", "cpu",
                             "--diff", "minus_ndct", *[a for s in specs for a in ("--model", s)]],
                            capture_output=True, text=True, env=run_env, timeout=300)
    assert result.returncode == 0, result.stderr
    png_path = out / "slice_0002.png"
    png = np.asarray(Image.open(png_path))
    assert png.shape[1] == 6 * SIZE + 5 * GAP  # LDCT, four networks, NDCT
    text = read_png_text(png_path)
    assert text["Description"] == ("LDCT | RED-CNN-MSE | RED-CNN-WGAN-GP | U-Net-MSE | Restormer-MSE | NDCT "
                                   "comparison")
    import json

    metrics = json.loads(text["metrics"])
    # checkpoint files get keys from their labels (mse / wgan-gp name the bundled files only)
    assert set(metrics) == {"ldct", "red-cnn-mse", "red-cnn-wgan-gp", "u-net-mse", "restormer-mse"}
    assert len(text["u-net-mse.checkpoint_sha256"]) == 64 and len(text["restormer-mse.checkpoint_sha256"]) == 64
    bad = subprocess.run([sys.executable, "-m", "ldct_viewer", "export", str(series_pair / "ldct"), "--out",
                          str(env / "bad"), "--model", specs[0], "--mse", specs[0]],
                         capture_output=True, text=True, env=run_env, timeout=300)
    assert bad.returncode == 2 and "--model replaces the bundled pair" in bad.stderr
