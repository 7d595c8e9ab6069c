"""The metrics controller: figures against NDCT computed in the background, one job at a time, kept per slice."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from dicom_factory import phantom_volume

from ldct_viewer.analysis.comparison import grain_rois, slice_metrics
from ldct_viewer.ui.metrics_controller import MEASURED, MetricsController


@pytest.fixture
def images():
    ndct = phantom_volume(3, 64, seed=1)
    rng = np.random.default_rng(2)
    sources = {"ndct": ndct, **{key: (ndct + rng.normal(0, 20 + 10 * k, ndct.shape)).astype(np.float32)
                                for k, key in enumerate(MEASURED)}}
    return sources


def test_a_request_made_while_a_job_runs_runs_next(qtbot, images):
    controller = MetricsController(lambda key, i: images[key][i])
    with qtbot.waitSignal(controller.settled, timeout=20000, check_params_cb=lambda i: i == 2):
        controller.schedule(0, images["ndct"][0])
        controller.schedule(2, images["ndct"][2])  # the first job is still running: remembered
    for i in (0, 2):
        rois = grain_rois(images["ndct"][i])
        for key in MEASURED:
            expected = slice_metrics(images[key][i], images["ndct"][i], rois)
            assert controller.values(key, i) == pytest.approx(expected, nan_ok=True)
    assert controller.values("ldct", 1) is None


def test_forgotten_figures_are_dropped_when_they_arrive(qtbot, images):
    controller = MetricsController(lambda key, i: images[key][i])
    with qtbot.waitSignal(controller.settled, timeout=20000):
        controller.schedule(1, images["ndct"][1])
        controller.forget()  # e.g. another NDCT opened while the job ran
    assert all(controller.values(key, 1) is None for key in MEASURED)
    with qtbot.waitSignal(controller.settled, timeout=20000):
        controller.schedule(1, images["ndct"][1])
    controller.forget("mse")  # its checkpoint changed: only its row goes
    assert controller.values("mse", 1) is None and controller.values("ldct", 1) is not None


def test_no_ndct_slice_computes_nothing(qtbot, images):
    controller = MetricsController(lambda key, i: images[key][i])
    changed = []
    controller.changed.connect(changed.append)
    controller.schedule(0, None)
    qtbot.wait(100)
    assert changed == [0] and controller.values("ldct", 0) is None
