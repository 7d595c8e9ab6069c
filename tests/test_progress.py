"""Progress of long jobs: the terminal bar and the staged tracker behind the viewer's progress bar."""

from __future__ import annotations

import io
import math

import pytest

from ldct_viewer.progress import JobProgress, ProgressBar, StagedProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stages_add_up_by_weight_and_the_time_left_is_extrapolated():
    clock, seen = Clock(), []
    tracker = StagedProgress({"phantom": 1, "scan": 3}, seen.append, clock=clock)
    tracker.start("phantom", "making the phantom")
    assert seen[-1].fraction == 0.0 and math.isnan(seen[-1].eta_s)
    assert seen[-1].eta_text() == "estimating the time left…"
    clock.now += 10
    tracker.start("scan", "scanning")  # the phantom (a quarter of the job) took 10 s
    assert seen[-1].fraction == pytest.approx(0.25) and seen[-1].eta_s == pytest.approx(30.0)
    clock.now += 15
    tracker.update(2, 4)  # half the scan
    p = seen[-1]
    assert p.fraction == pytest.approx(0.625) and p.elapsed_s == pytest.approx(25.0)
    assert p.eta_s == pytest.approx(25.0 * 0.375 / 0.625)
    assert p.text() == "scanning — 62 % · about 00:15 left"
    tracker.update(9, 4)  # clamped to the stage
    assert seen[-1].fraction == pytest.approx(1.0)
    tracker.finish("done")
    assert seen[-1] == JobProgress(1.0, "done", 25.0, 0.0)
    with pytest.raises(ValueError):
        tracker.start("unknown")
    with pytest.raises(ValueError):
        StagedProgress({"a": 0})


def test_terminal_bar_still_prints_deciles_to_a_file():
    out = io.StringIO()
    with ProgressBar(10, "Work", stream=out) as bar:
        for i in range(1, 11):
            bar.update(i)
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("Work [") and "10/10 100%" in lines[-1]
