"""Which plane the panels show and how: orientation, axial slices or linked coronal/sagittal reformats.

The window hands every panel image through here: stored slices are turned to the radiological
convention (``planes.PlaneGeometry``), the edge letters and geometry notes are drawn, and in a
reformat plane each panel shows the section of its own volume (LDCT, every network output, NDCT)
with placeholder bands where a network has not computed a slice yet. The crosshair, W/L and zoom
stay shared by all panels as in the axial plane; moving the mouse sets a 3-D cursor, which picks
the section (or slice) shown when the plane changes, and the slices under the crosshair and in
the zoomed reformat are the inference's next work.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from ldct_viewer.display import PanelImage, missing_texts, panel_image, slice_caption
from ldct_viewer.orientation import PLANES
from ldct_viewer.planes import PlaneGeometry, plane_images
from ldct_viewer.reformat import missing_bands

PLANE_KEYS = {"axial": "A", "coronal": "C", "sagittal": "S"}
RESULT_REFRESH_MS = 150  # results arriving for a reformat repaint it at most this often


class PlaneController(QObject):
    """Orientation and planes for ``window`` (a ``MainWindow``): what each panel shows, letters, focus."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self._geometry: PlaneGeometry | None = None
        self._geometry_of: tuple | None = None  # (base series, ndct series) the geometry was made for
        self.cursor: tuple[int, int, int] | None = None  # display-volume (slice, row, col) last pointed at
        self._shown: dict[str, np.ndarray | None] = {}  # reformat HU per panel, as last drawn
        self._refresh_timer = QTimer(self, singleShot=True, interval=RESULT_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._results_arrived)
        self.state.subscribe("plane", self._on_plane)
        self.state.subscribe("crosshair", self._on_crosshair)
        self.state.subscribe("view", lambda panels, range: self.update_focus())

    # ------------------------------------------------------------------ geometry
    def geometry(self) -> PlaneGeometry | None:
        """The open series' geometry (rebuilt when another series is opened)."""
        w = self.window
        base = w.case.ldct if w.case is not None else w.ndct_only
        ndct = w.case.ndct if w.case is not None else None
        if base is None:
            self._geometry, self._geometry_of = None, None
            return None
        if self._geometry_of is None or self._geometry_of[0] is not base or self._geometry_of[1] is not ndct:
            new_series = self._geometry_of is None or self._geometry_of[0] is not base
            self._geometry = PlaneGeometry.of(base, ndct)
            self._geometry_of = (base, ndct)
            if new_series:
                counts = {p: self._geometry.count(p) for p in PLANES if p != "axial"}
                self.state.set_section_counts(counts, centre=True)
                self.cursor = None
            self._show_orientation()
        return self._geometry

    def display(self, key: str, image: np.ndarray | None) -> np.ndarray | None:
        """A stored slice of panel ``key`` turned to the display orientation (a view; None stays None)."""
        g = self.geometry()
        if image is None or g is None:
            return image
        if key == "ndct" and g.ndct_orientation is not None:  # the NDCT of a case: its own orientation
            return g.ndct_orientation.display(image)
        return g.orientation.display(image)  # the LDCT, every output, or an NDCT opened alone

    def pixel_spacing(self) -> tuple[float, float]:
        """(row mm, col mm) of the images on screen, (1, 1) when unknown."""
        g = self.geometry()
        return g.pixel_mm(self.state.plane) if g is not None else (1.0, 1.0)

    @property
    def reformat(self) -> bool:
        """True when the panels show coronal or sagittal sections rather than acquired slices."""
        g = self.geometry()
        return g is not None and g.view(self.state.plane).fixed_axis != 0

    # ------------------------------------------------------------------ panel images
    def panel_images(self, keys: Sequence[str], outputs: Mapping[str, str], busy: str = "") -> dict[str, PanelImage]:
        """What each panel of ``keys`` shows in the current plane (``outputs``: each network's
        placeholder text, ``busy``: what is being prepared)."""
        w = self.window
        if not self.reformat:
            self._shown = {}
            sources: dict[int, tuple] = {}  # the panels show one slice unless slice sync is off
            shown = {}
            for key in keys:
                i = self.state.slice_of(key)
                if i not in sources:
                    sources[i] = ({k: w.source_slice(k, i) for k in self.state.panels},
                                  missing_texts(w.case, w.ndct_only, i, outputs, busy))
                images, missing = sources[i]
                shown[key] = panel_image(key, images, self.state.diff_mode, missing, w.panel_grid.titles)
            return shown
        images = self._sections()
        missing = missing_texts(w.case, w.ndct_only, 0, outputs, busy)
        if w.case is not None and w.case.ndct is not None:
            missing["ndct"] = "no paired NDCT slice"
        axis = self._geometry.view(self.state.plane).slice_axis
        shown = {}
        for key in keys:
            own = images.get(key)
            if own is not None and np.isnan(own).all():  # nothing computed yet: the panel's own text
                images_key = {**images, key: None}
                shown[key] = panel_image(key, images_key, self.state.diff_mode, missing, w.panel_grid.titles)
                continue
            image = panel_image(key, images, self.state.diff_mode, missing, w.panel_grid.titles)
            if image.image is not None:
                bands = tuple(missing_bands(image.image, axis))
                text = missing[key] if key in w.inference.slots else missing["ndct"]
                image = PanelImage(image.image, text if bands else "", image.is_difference, bands, axis)
            shown[key] = image
        return shown

    def _sections(self) -> dict[str, np.ndarray | None]:
        """Every panel's HU section of the current reformat (NaN lines where a slice is missing)."""
        w, g = self.window, self._geometry
        plane = self.state.plane
        index = self.state.position
        ldct_display = g.orientation.display
        sources = {}
        if w.case is not None:
            case = w.case
            sources["ldct"] = (case.ldct.volume(), ldct_display)
            for key in w.inference.keys:
                results = [w.inference.result(key, i) for i in range(case.n_slices)]
                sources[key] = (results, ldct_display) if any(r is not None for r in results) else None
            if case.ndct is not None and g.ndct_fits():
                ndct_volume = case.ndct.volume()
                sources["ndct"] = ([None if case.ndct_index(i) is None else ndct_volume[case.ndct_index(i)]
                                    for i in range(case.n_slices)], g.ndct_orientation.display)
        elif w.ndct_only is not None:
            sources["ndct"] = (w.ndct_only.volume(), ldct_display)
        self._shown = plane_images(g, plane, index, sources)
        return dict(self._shown)

    def shown_hu(self, key: str) -> np.ndarray | None:
        """The HU image behind panel ``key`` (its slice, or its section in a reformat plane)."""
        if not self.reformat:
            return self.window.source_slice(key, self.state.slice_of(key))
        if not self._shown:
            self._sections()
        return self._shown.get(key)

    def caption(self) -> str:
        """The slider's label: slice or section number and its DICOM patient coordinate."""
        w = self.window
        g = self.geometry()
        if g is None or not self.reformat:
            return slice_caption(w.case, w.ndct_only, self.state.slice_index, self.state.n_slices)
        return g.caption(self.state.plane, self.state.position)

    def result_arrived(self, key: str, index: int) -> bool:
        """A network finished slice ``index``: True if panel ``key`` must repaint now (its axial slice);
        a reformat on screen is repainted shortly, once for a burst of results."""
        if self.reformat:
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()
            return False
        return self.state.slice_of(key) == index

    def _results_arrived(self) -> None:
        """A burst of results while a reformat is on screen: repaint the outputs and the figures."""
        self.window._refresh_panels(self.window.inference.keys)
        self.window._schedule_metrics()
        self.window._show_readout()

    # ------------------------------------------------------------------ orientation overlay
    def _show_orientation(self) -> None:
        g = self._geometry
        grid = self.window.panel_grid
        if g is None:
            grid.show_orientation(None, {})
            return
        notes = {key: "; ".join(g.notes()) for key in self.state.panels}
        if g.ndct_orientation is not None:
            notes["ndct"] = "; ".join(g.notes(ndct=True))
        grid.show_orientation(g.letters(self.state.plane), notes)

    # ------------------------------------------------------------------ planes and the cursor
    def _on_plane(self, plane: str) -> None:
        self.window.remove_roi_and_line()  # drawn in the pixels of the plane left behind
        g = self.geometry()
        if g is not None:
            cursor = self.cursor or (self.state.slice_of("ldct"),) + tuple(n // 2 for n in g.orientation.display_shape)
            view = g.view(plane)
            if view.fixed_axis == 0:
                self.state.set_slice(cursor[0])
            else:
                self.state.set_section_counts({plane: view.count}, positions={plane: cursor[view.fixed_axis]})
            self._show_orientation()
        self._shown = {}
        w = self.window
        w._refresh_all()
        w._update_slider()
        self.sync_actions()
        self.update_focus()

    def _on_crosshair(self, pos, panel) -> None:
        g = self.geometry()
        if pos is None or g is None:
            return
        view = g.view(self.state.plane)
        row, col = pos
        if view.fixed_axis == 0:
            slice_ = self.state.slice_of(panel) if panel in self.state.panels else self.state.slice_index
            self.cursor = (slice_, int(row), int(col))
        else:
            self.cursor = view.volume_index(row, col, self.state.position)
            self.update_focus()

    def focus(self) -> tuple[int, tuple[int, int] | None]:
        """What the inference computes next: the axial slice on screen; in a reformat the slice under
        the crosshair (else the cursor's) and the range of slices the (zoomed) reformat shows."""
        if not self.reformat:
            return self.state.slice_of("ldct"), None
        view = self._geometry.view(self.state.plane)
        focus = self.state.slice_of("ldct") if self.cursor is None else self.cursor[0]
        if self.state.crosshair is not None:
            focus = view.slice_at(*self.state.crosshair)
        x0, x1, y0, y1 = self.window.panels["ldct"].view_range()
        needed = view.slices_between(y0, y1) if view.slice_axis == 0 else view.slices_between(x0, x1)
        return focus, needed

    def update_focus(self) -> None:
        self.window.inference.set_focus(*self.focus())

    # ------------------------------------------------------------------ controls
    def build_controls(self) -> None:
        """View → Plane menu, a plane toolbar and the A / C / S keys."""
        w = self.window
        bar = QToolBar("Plane")
        bar.setObjectName("planeToolbar")
        bar.setMovable(False)
        w.addToolBar(bar)
        group = QActionGroup(w)
        self.actions: dict[str, QAction] = {}
        menu = next((a.menu() for a in w.menuBar().actions() if a.text() == "&View"), None)
        plane_menu = menu.addMenu("Plane") if menu is not None else None
        for plane, key in PLANE_KEYS.items():
            action = QAction(plane.capitalize(), w)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"{plane.capitalize()} plane on every panel ({key})")
            action.triggered.connect(lambda _=False, p=plane: self.state.set_plane(p))
            group.addAction(action)
            w.addAction(action)
            bar.addAction(action)
            if plane_menu is not None:
                plane_menu.addAction(action)
            self.actions[plane] = action
        self.sync_actions()

    def sync_actions(self) -> None:
        actions = getattr(self, "actions", {})
        if self.state.plane in actions:
            actions[self.state.plane].setChecked(True)
