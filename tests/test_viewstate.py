"""ViewState: the viewer's display state, driven headless (no Qt)."""

from __future__ import annotations

import pytest

from ldct_viewer.display import PANELS
from ldct_viewer.viewstate import ViewState, Window


def recorder(state: ViewState, event: str) -> list[dict]:
    calls: list[dict] = []
    state.subscribe(event, lambda **kw: calls.append(kw))
    return calls


def test_slice_is_clamped_and_synced_across_panels():
    state = ViewState(n_slices=10)
    calls = recorder(state, "slice")
    state.set_slice(4, panel="mse")
    assert [state.slice_of(p) for p in PANELS] == [4, 4, 4, 4]
    assert calls == [{"panels": PANELS}]
    state.step_slice(+100)
    assert state.slice_index == 9
    state.step_slice(-100)
    assert state.slice_index == 0
    state.set_slice(0)  # no change, no event
    assert len(calls) == 3


def test_unsynced_slice_moves_only_that_panel_and_resync_aligns():
    state = ViewState(n_slices=10)
    state.set_sync("slice", False)
    state.set_slice(7, panel="ndct")
    assert [state.slice_of(p) for p in PANELS] == [0, 0, 0, 7]
    state.set_sync("slice", True)  # the active panel (ndct) wins
    assert [state.slice_of(p) for p in PANELS] == [7, 7, 7, 7]


def test_n_slices_change_clamps():
    state = ViewState(n_slices=10)
    state.set_slice(8)
    calls = recorder(state, "n_slices")
    state.set_n_slices(3)
    assert state.slice_index == 2 and calls == [{"n": 3}]


def test_window_sync_presets_drag_and_clamping():
    state = ViewState()
    calls = recorder(state, "window")
    state.set_window(1500, -600)
    assert all(state.window_of(p) == Window(1500, -600) for p in PANELS)
    assert state.window.levels == (-1350.0, 150.0)
    assert calls[-1]["panels"] == PANELS

    before = state.window
    state.drag_window(dx=20, dy=0)
    assert state.window.width > before.width and state.window.level == before.level
    state.drag_window(dx=0, dy=-10)
    assert state.window.level < before.level

    state.set_window(-50, 99999)
    assert state.window.width == 1.0 and state.window.level == 4096.0
    with pytest.raises(ValueError):
        state.set_window(float("nan"), 0)

    state.set_sync("window", False)
    state.set_window(80, 40, panel="wgan-gp")
    assert state.window_of("wgan-gp") == Window(80, 40)
    assert state.window_of("ldct") != Window(80, 40)


def test_view_range_and_reset():
    state = ViewState()
    calls = recorder(state, "view")
    state.set_view_range((10, 100, 20, 200), panel="ldct")
    assert all(state.view_range(p) == (10.0, 100.0, 20.0, 200.0) for p in PANELS)
    state.set_sync("view", False)
    state.set_view_range((0, 5, 0, 5), panel="mse")
    assert state.view_range("mse") == (0.0, 5.0, 0.0, 5.0)
    assert state.view_range("ldct") == (10.0, 100.0, 20.0, 200.0)
    state.reset_view()
    assert all(state.view_range(p) is None for p in PANELS)
    assert calls[-1] == {"panels": PANELS, "range": None}
    with pytest.raises(ValueError):
        state.set_view_range((0, 1, 2))


def test_crosshair_panels_follow_sync():
    state = ViewState()
    assert state.crosshair_panels() == ()
    state.set_crosshair((3.5, 7.0), panel="mse")
    assert state.crosshair_panels() == PANELS
    state.set_sync("crosshair", False)
    assert state.crosshair_panels() == ("mse",)
    state.set_crosshair(None)
    assert state.crosshair_panels() == ()


def test_diff_mode_range_layout_validation():
    state = ViewState()
    diffs = recorder(state, "diff")
    state.set_diff_mode("minus_ndct")
    state.set_diff_range(50)
    assert diffs == [{"mode": "minus_ndct", "range": 200.0}, {"mode": "minus_ndct", "range": 50.0}]
    with pytest.raises(ValueError):
        state.set_diff_mode("ratio")
    with pytest.raises(ValueError):
        state.set_diff_range(0)
    layouts = recorder(state, "layout")
    state.toggle_layout()
    state.toggle_layout()
    assert [c["layout"] for c in layouts] == ["2x2", "1x4"]
    with pytest.raises(ValueError):
        state.subscribe("nonsense", print)


def test_persistence_round_trip_ignores_garbage():
    state = ViewState()
    state.set_window(2000, 400)
    state.set_layout("2x2")
    state.set_diff_mode("minus_ldct")
    state.set_sync("crosshair", False)
    state.set_cine_fps(24)
    other = ViewState()
    other.restore(state.to_dict())
    assert other.to_dict() == state.to_dict()
    other.restore({"window": "garbage", "layout": "9x9"})
    assert other.to_dict() == state.to_dict()


def test_unsubscribe():
    state = ViewState(n_slices=5)
    calls: list = []
    off = state.subscribe("slice", lambda **kw: calls.append(kw))
    off()
    state.set_slice(3)
    assert calls == []
