"""What the four comparison panels show, as plain Python (no Qt), so it can be tested headless.

The viewer keeps one ``ViewState``; widgets call its setters on user input and subscribe to its
change events to repaint. Each quantity exists per panel; a sync flag decides whether a change made
on one panel is applied to all of them (the default) or to that panel only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ldct_viewer.analysis.profile import Line
from ldct_viewer.analysis.roi import EllipseRoi
from ldct_viewer.display import DIFF_MODES, PANELS
from ldct_viewer.orientation import PLANES

SYNC_KINDS: tuple[str, ...] = ("slice", "window", "view", "crosshair")
# "1x4": every panel in one row; "2x2": two rows; "auto": the rows × columns that show the images
# largest in the space there is (``ldct_viewer.panel_layout``). L cycles auto → 2x2 → 1x4.
LAYOUTS: tuple[str, ...] = ("1x4", "2x2", "auto")
NEXT_LAYOUT: dict[str, str] = {"auto": "2x2", "2x2": "1x4", "1x4": "auto"}
EVENTS: tuple[str, ...] = ("slice", "window", "view", "sync", "diff", "layout", "crosshair", "cine", "n_slices",
                           "roi", "line", "panels", "plane")

MIN_WIDTH = 1.0
MAX_WIDTH = 8192.0
LEVEL_RANGE = (-2048.0, 4096.0)
DEFAULT_WINDOW = (400.0, 40.0)  # abdomen


@dataclass(frozen=True)
class Window:
    """A display window in HU: ``width`` wide, centred on ``level``."""

    width: float
    level: float

    @property
    def levels(self) -> tuple[float, float]:
        """The ``(low, high)`` HU pair handed to the image item."""
        return (self.level - self.width / 2.0, self.level + self.width / 2.0)


def clamp_window(width: float, level: float) -> Window:
    """Keep a window inside the range a CT display can use (and finite)."""
    if not (math.isfinite(width) and math.isfinite(level)):
        raise ValueError(f"window must be finite, got width={width} level={level}")
    width = min(max(float(width), MIN_WIDTH), MAX_WIDTH)
    level = min(max(float(level), LEVEL_RANGE[0]), LEVEL_RANGE[1])
    return Window(width, level)


class ViewState:
    """Slice, window/level, view range, crosshair, ROI, profile line, difference-map mode and layout.

    Listeners registered with :meth:`subscribe` are called as ``callback(**payload)`` only when a
    value actually changes; the payload names the panels affected so a widget repaints just those.
    """

    def __init__(self, n_slices: int = 1, panels: tuple[str, ...] = PANELS) -> None:
        self.panels = tuple(panels)
        self._n_slices = max(int(n_slices), 1)
        self._slices = {p: 0 for p in self.panels}
        self._windows = {p: Window(*DEFAULT_WINDOW) for p in self.panels}
        self._view_ranges: dict[str, tuple[float, float, float, float] | None] = {p: None for p in self.panels}
        self.sync = {k: True for k in SYNC_KINDS}
        self.diff_mode = "none"
        self.diff_range = 200.0
        self.layout = "auto"
        self.crosshair: tuple[float, float] | None = None  # (row, col) in pixels
        self.crosshair_panel: str | None = None
        self.roi: EllipseRoi | None = None  # one ellipse, the same on every panel (image pixels)
        self.line: Line | None = None  # one profile line, the same on every panel (image pixels)
        self.cine_fps = 10.0
        self.active_panel = self.panels[0]
        self.plane = "axial"  # the plane every panel shows; "coronal" / "sagittal" are reformats
        self._sections = {p: 0 for p in PLANES if p != "axial"}  # the section shown in each reformat plane
        self._section_counts = {p: 1 for p in self._sections}
        self._drag_rest = (0.0, 0.0)  # the sub-HU part of W/L drags not applied yet
        self._listeners: dict[str, list[Callable[..., Any]]] = {e: [] for e in EVENTS}

    # ------------------------------------------------------------------ events
    def subscribe(self, event: str, callback: Callable[..., Any]) -> Callable[[], None]:
        """Call ``callback(**payload)`` on every change of ``event``; returns an unsubscribe function."""
        if event not in self._listeners:
            raise ValueError(f"unknown ViewState event {event!r}; known: {', '.join(EVENTS)}")
        self._listeners[event].append(callback)
        return lambda: self._listeners[event].remove(callback) if callback in self._listeners[event] else None

    def _emit(self, event: str, **payload: Any) -> None:
        for callback in list(self._listeners[event]):
            callback(**payload)

    def _targets(self, kind: str, panel: str | None) -> tuple[str, ...]:
        """Panels a change of ``kind`` made on ``panel`` applies to."""
        if panel is None or self.sync[kind]:
            return self.panels
        if panel not in self.panels:
            raise ValueError(f"unknown panel {panel!r}; panels: {', '.join(self.panels)}")
        return (panel,)

    def set_panels(self, panels: tuple[str, ...]) -> None:
        """The compared networks changed: keep the state of panels that stay; new ones start from the
        active panel's slice, window and view (as synced panels would be)."""
        panels = tuple(panels)
        if panels == self.panels:
            return
        if not panels or len(set(panels)) != len(panels):
            raise ValueError(f"panels must be distinct and not empty, got {panels}")
        a = self.active_panel if self.active_panel in self.panels else self.panels[0]
        self._slices = {p: self._slices.get(p, self._slices[a]) for p in panels}
        self._windows = {p: self._windows.get(p, self._windows[a]) for p in panels}
        self._view_ranges = {p: self._view_ranges.get(p, self._view_ranges[a]) for p in panels}
        self.panels = panels
        if self.active_panel not in panels:
            self.active_panel = panels[0]
        if self.crosshair_panel not in panels:
            self.crosshair_panel = None
        self._emit("panels", panels=panels)

    # ------------------------------------------------------------------ slices
    @property
    def n_slices(self) -> int:
        return self._n_slices

    def set_n_slices(self, n: int) -> None:
        """A new case was opened: clamp every panel's slice into ``[0, n)``."""
        n = max(int(n), 1)
        changed = n != self._n_slices
        self._n_slices = n
        if changed:
            self._emit("n_slices", n=n)
        self._set_slices({p: min(i, n - 1) for p, i in self._slices.items()})

    @property
    def slice_index(self) -> int:
        """The slice of the active panel (the one the user last interacted with)."""
        return self._slices[self.active_panel]

    def slice_of(self, panel: str) -> int:
        return self._slices[panel]

    def set_slice(self, index: int, panel: str | None = None) -> None:
        """Go to slice ``index`` (clamped) on ``panel``, or on all panels when slices are synced."""
        index = min(max(int(index), 0), self._n_slices - 1)
        if panel is not None:
            self.active_panel = panel
        self._set_slices({p: index for p in self._targets("slice", panel)})

    def step_slice(self, delta: int, panel: str | None = None) -> None:
        """Move ``delta`` slices from the current one (wheel, arrow keys, PgUp/PgDn); in a reformat
        plane, ``delta`` sections (on every panel)."""
        if self.plane != "axial":
            self.set_position(self.position + int(delta))
            return
        start = self._slices[panel] if panel is not None else self.slice_index
        self.set_slice(start + int(delta), panel)

    # ------------------------------------------------------------------ planes
    def set_plane(self, plane: str) -> None:
        """Show ``plane`` ("axial", or a "coronal" / "sagittal" reformat) on every panel; zoom resets."""
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}; known: {', '.join(PLANES)}")
        if plane != self.plane:
            self.plane = plane
            self.set_crosshair(None)  # its pixel means another place in the new plane
            self._emit("plane", plane=plane)
            self.reset_view()

    def set_section_counts(self, counts: dict[str, int], *, centre: bool = False,
                           positions: dict[str, int] | None = None) -> None:
        """How many sections each reformat plane has (a new case); the sections are clamped, or
        moved to the middle (``centre``) or to ``positions``. Quiet: the caller repaints."""
        for plane, n in counts.items():
            n = self._section_counts[plane] = max(int(n), 1)
            wanted = n // 2 if centre else (positions or {}).get(plane, self._sections[plane])
            self._sections[plane] = min(max(int(wanted), 0), n - 1)

    def section_of(self, plane: str) -> int:
        """The section shown in ``plane`` (the active panel's slice for "axial")."""
        return self.slice_index if plane == "axial" else self._sections[plane]

    @property
    def position(self) -> int:
        """Where the slider is: the slice in the axial plane, the section in a reformat plane."""
        return self.section_of(self.plane)

    @property
    def n_positions(self) -> int:
        return self._n_slices if self.plane == "axial" else self._section_counts[self.plane]

    def set_position(self, index: int, plane: str | None = None) -> None:
        """Go to slice (axial) or section (reformats) ``index`` of ``plane`` (default: the one shown)."""
        plane = plane or self.plane
        if plane == "axial":
            self.set_slice(index)
            return
        index = min(max(int(index), 0), self._section_counts[plane] - 1)
        if index != self._sections[plane]:
            self._sections[plane] = index
            if plane == self.plane:
                self._emit("slice", panels=self.panels)

    def _set_slices(self, new: dict[str, int]) -> None:
        changed = tuple(p for p, i in new.items() if self._slices[p] != i)
        self._slices.update(new)
        if changed:
            self._emit("slice", panels=changed)

    # ------------------------------------------------------------------ window / level
    @property
    def window(self) -> Window:
        return self._windows[self.active_panel]

    def window_of(self, panel: str) -> Window:
        return self._windows[panel]

    def set_window(self, width: float, level: float, panel: str | None = None) -> None:
        """Set width/level (HU) on ``panel``, or on all panels when windows are synced."""
        if panel is not None:
            self.active_panel = panel
        window = clamp_window(width, level)
        changed = tuple(p for p in self._targets("window", panel) if self._windows[p] != window)
        for p in changed:
            self._windows[p] = window
        if changed:
            self._emit("window", panels=changed)

    def drag_window(self, dx: float, dy: float, panel: str | None = None) -> None:
        """Adjust W/L from a mouse drag of ``(dx, dy)`` screen pixels, as common DICOM viewers do.

        Right widens, left narrows; down raises the level (image darker), up lowers it. The step
        scales with the current width so a narrow brain window and a wide lung window both feel right.
        Width and level stay whole HU: the fraction a drag step leaves is carried to the next step, so
        slow drags on a narrow window still move it.
        """
        current = self._windows[panel] if panel is not None else self.window
        step = max(current.width, 20.0) / 200.0
        width = current.width + dx * step + self._drag_rest[0]
        level = current.level + dy * step + self._drag_rest[1]
        self._drag_rest = (width - round(width), level - round(level))
        self.set_window(round(width), round(level), panel)

    # ------------------------------------------------------------------ view range (zoom / pan)
    def view_range(self, panel: str) -> tuple[float, float, float, float] | None:
        """``(x0, x1, y0, y1)`` in image pixels, or ``None`` for "fit the image"."""
        return self._view_ranges[panel]

    def set_view_range(self, rng: tuple[float, float, float, float] | None, panel: str | None = None) -> None:
        """Record a zoom/pan (``None`` resets to fit); linked panels follow when view sync is on."""
        if rng is not None:
            rng = tuple(float(v) for v in rng)  # type: ignore[assignment]
            if len(rng) != 4 or not all(math.isfinite(v) for v in rng):
                raise ValueError(f"view range must be 4 finite numbers, got {rng}")
        changed = tuple(p for p in self._targets("view", panel) if self._view_ranges[p] != rng)
        for p in changed:
            self._view_ranges[p] = rng
        if changed:
            self._emit("view", panels=changed, range=rng)

    def reset_view(self) -> None:
        """Space: fit every panel to its image again."""
        for p in self.panels:
            self._view_ranges[p] = None
        self._emit("view", panels=self.panels, range=None)

    # ------------------------------------------------------------------ sync flags
    def set_sync(self, kind: str, enabled: bool) -> None:
        if kind not in self.sync:
            raise ValueError(f"unknown sync kind {kind!r}; known: {', '.join(SYNC_KINDS)}")
        enabled = bool(enabled)
        if self.sync[kind] == enabled:
            return
        self.sync[kind] = enabled
        if enabled:  # re-synchronize everything on the active panel's value
            a = self.active_panel
            if kind == "slice":
                self._set_slices({p: self._slices[a] for p in self.panels})
            elif kind == "window":
                w = self._windows[a]
                self.set_window(w.width, w.level)
        self._emit("sync", kind=kind, enabled=enabled)

    # ------------------------------------------------------------------ crosshair
    def set_crosshair(self, pos: tuple[float, float] | None, panel: str | None = None) -> None:
        """The cursor is at image pixel ``pos = (row, col)`` over ``panel`` (``None``: it left)."""
        pos = None if pos is None else (float(pos[0]), float(pos[1]))
        if pos == self.crosshair and panel == self.crosshair_panel:
            return
        self.crosshair = pos
        self.crosshair_panel = panel
        self._emit("crosshair", pos=pos, panel=panel)

    def crosshair_panels(self) -> tuple[str, ...]:
        """Panels that draw the crosshair: all when synced, else only the hovered one."""
        if self.crosshair is None:
            return ()
        if self.sync["crosshair"] or self.crosshair_panel is None:
            return self.panels
        return (self.crosshair_panel,)

    # ------------------------------------------------------------------ region of interest
    def set_roi(self, roi: EllipseRoi | None) -> None:
        """Place the ROI (drawn or moved on any panel; every panel shows it), or remove it (None)."""
        if roi is not None:
            values = (roi.x0, roi.y0, roi.width, roi.height)
            if not all(math.isfinite(v) for v in values) or roi.width < 0 or roi.height < 0:
                raise ValueError(f"ROI must be finite with a non-negative size, got {roi}")
        if roi != self.roi:
            self.roi = roi
            self._emit("roi", roi=roi)

    def set_line(self, line: Line | None) -> None:
        """Place the profile line (drawn or moved on any panel; every panel shows it), or remove it."""
        if line is not None and not all(math.isfinite(v) for v in (line.x0, line.y0, line.x1, line.y1)):
            raise ValueError(f"line must have finite ends, got {line}")
        if line != self.line:
            self.line = line
            self._emit("line", line=line)

    # ------------------------------------------------------------------ difference maps
    def set_diff_mode(self, mode: str) -> None:
        """``none``, ``minus_ldct`` (output − LDCT: what was removed) or ``minus_ndct`` (error)."""
        if mode not in DIFF_MODES:
            raise ValueError(f"unknown difference mode {mode!r}; known: {', '.join(DIFF_MODES)}")
        if mode != self.diff_mode:
            self.diff_mode = mode
            self._emit("diff", mode=mode, range=self.diff_range)

    def set_diff_range(self, hu: float) -> None:
        """Half-width of the symmetric difference colormap, in HU (colours span ``[-hu, +hu]``)."""
        hu = float(hu)
        if not math.isfinite(hu) or hu <= 0:
            raise ValueError(f"difference range must be a positive number of HU, got {hu}")
        hu = min(hu, 4096.0)
        if hu != self.diff_range:
            self.diff_range = hu
            self._emit("diff", mode=self.diff_mode, range=hu)

    # ------------------------------------------------------------------ layout and cine
    def set_layout(self, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        if layout != self.layout:
            self.layout = layout
            self._emit("layout", layout=layout)

    def toggle_layout(self) -> None:
        self.set_layout(NEXT_LAYOUT[self.layout])

    def set_cine_fps(self, fps: float) -> None:
        fps = min(max(float(fps), 1.0), 60.0)
        if fps != self.cine_fps:
            self.cine_fps = fps
            self._emit("cine", fps=fps)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The user preferences worth restoring next run (not the slice: cases differ)."""
        w = self.window
        return {
            "window": [w.width, w.level],
            "sync": dict(self.sync),
            "diff_mode": self.diff_mode,
            "diff_range": self.diff_range,
            "layout": self.layout,
            "cine_fps": self.cine_fps,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Apply a :meth:`to_dict` result; unknown or malformed entries are ignored (old settings)."""
        try:
            for kind, enabled in dict(data.get("sync", {})).items():
                if kind in self.sync:
                    self.set_sync(kind, bool(enabled))
            if "window" in data:
                width, level = (float(v) for v in data["window"])
                self.set_window(width, level)
            if data.get("diff_mode") in DIFF_MODES:
                self.set_diff_mode(data["diff_mode"])
            if "diff_range" in data:
                self.set_diff_range(float(data["diff_range"]))
            if data.get("layout") in LAYOUTS:
                self.set_layout(data["layout"])
            if "cine_fps" in data:
                self.set_cine_fps(float(data["cine_fps"]))
        except (TypeError, ValueError):
            pass
