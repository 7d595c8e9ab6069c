"""The window's controls: menus, shortcuts and the toolbar, and showing the view state on them.

Built onto the ``MainWindow`` passed in (its widgets and actions become its attributes, its slots
are what they trigger); ``sync_controls`` makes them show the ``ViewState`` without feeding back.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolBar, QToolButton

from ldct_viewer.display import DIFF_LABELS, PANEL_TITLES, reference_of
from ldct_viewer.viewstate import NEXT_LAYOUT
from ldct_viewer.ui.focus import ReturnFocus
from ldct_viewer.ui.reader_study import reader_study_dialog
from ldct_viewer.ui.settings import DEVICES, recent_entries
from ldct_viewer.windowing import PRESETS

PAGE_STEP = 10
LAYOUT_BUTTON = {"auto": "▦ Auto", "2x2": "▦ 2 rows", "1x4": "▥ 1 row"}  # the layout a click switches to

#: (key sequences, description) for the help dialog; actions are built from the same table.
SHORTCUTS: list[tuple[str, str]] = [
    ("1 … 7", "window presets: " + ", ".join(f"{i + 1} {n}" for i, n in enumerate(PRESETS))),
    ("Wheel, ↑/↓, ←/→", "previous / next slice"),
    ("PgUp / PgDn", f"{PAGE_STEP} slices back / forward"),
    ("Home / End", "first / last slice"),
    ("A / C / S", "axial / coronal / sagittal plane on every panel (reformats: wheel and arrows move the section)"),
    ("Left drag", "window/level: horizontal = width, vertical = level"),
    ("Middle drag", "pan"),
    ("Right drag, Ctrl+wheel", "zoom"),
    ("Shift + left drag", "elliptical ROI on every panel: mean, SD, range, area (drag it or its handles)"),
    ("Ctrl + left drag", "profile line on every panel; F shows the HU along it (drag its ends or the line)"),
    ("Del", "remove the ROI and the line"),
    ("Space", "reset zoom and pan"),
    ("P", "cine play / pause"),
    ("L", "layout: auto (largest images) → two rows → one row"),
    ("D", "cycle difference map: none → output − LDCT → output − NDCT"),
    ("N", "noise power spectra of the slice (where over-smoothing shows)"),
    ("F", "line profile: HU along the line on the four images (where a softened edge shows)"),
    ("Ctrl+O / Ctrl+Shift+O", "open LDCT / open NDCT"),
    ("Ctrl+E", "export comparison PNG"),
    ("Esc", "cancel background inference"),
    ("Enter / Esc in a toolbar field", "apply / drop the typed value; the keys go back to the images"),
    ("F1, ?", "this help"),
]


def build_toolbar(window) -> None:
    """The window/level, difference-map, layout and cine controls above the panels."""
    bar = QToolBar("Window / level")
    bar.setObjectName("wlToolbar")
    bar.setMovable(False)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.preset_buttons: dict[str, QToolButton] = {}
    for i, (name, (w, lv)) in enumerate(PRESETS.items()):
        button = QToolButton()
        button.setText(f"{i + 1} {name.capitalize()}")
        button.setToolTip(f"{name}: W {w:g} / L {lv:g} (key {i + 1})")
        button.setCheckable(True)
        button.clicked.connect(lambda _=False, n=name: window.apply_preset(n))
        bar.addWidget(button)
        window.preset_buttons[name] = button
    bar.addSeparator()
    bar.addWidget(QLabel(" W "))
    window.width_spin = QSpinBox()
    window.width_spin.setRange(1, 8192)
    window.width_spin.setKeyboardTracking(False)
    bar.addWidget(window.width_spin)
    bar.addWidget(QLabel(" L "))
    window.level_spin = QSpinBox()
    window.level_spin.setRange(-2048, 4096)
    window.level_spin.setKeyboardTracking(False)
    bar.addWidget(window.level_spin)
    bar.addSeparator()
    window.diff_combo = QComboBox()
    for mode, label in DIFF_LABELS.items():
        window.diff_combo.addItem(label, mode)
    window.diff_combo.setToolTip("Difference maps for the model outputs (D cycles)")
    bar.addWidget(window.diff_combo)
    bar.addWidget(QLabel(" ± "))
    window.diff_spin = QSpinBox()
    window.diff_spin.setRange(1, 2000)
    window.diff_spin.setSuffix(" HU")
    window.diff_spin.setToolTip("Symmetric range of the difference colormap")
    window.diff_spin.setKeyboardTracking(False)
    bar.addWidget(window.diff_spin)
    bar.addSeparator()
    window.layout_button = QToolButton()
    window.layout_button.setToolTip("Layout: auto (images as large as possible) → two rows → one row (L)")
    window.layout_button.clicked.connect(window.state.toggle_layout)
    bar.addWidget(window.layout_button)
    window.play_button = QToolButton()
    window.play_button.setText("▶ Cine")
    window.play_button.setCheckable(True)
    window.play_button.setToolTip("Cine play / pause (P)")
    bar.addWidget(window.play_button)
    window.fps_spin = QSpinBox()
    window.fps_spin.setRange(1, 60)
    window.fps_spin.setSuffix(" fps")
    window.fps_spin.setKeyboardTracking(False)
    bar.addWidget(window.fps_spin)
    window.diff_combo.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click opens it without keeping the keys
    # Enter / Esc in a field give the keys back to the images (their single-key shortcuts)
    window.return_focus = ReturnFocus(window.panel_grid, lambda: sync_controls(window), window)
    for spin in (window.width_spin, window.level_spin, window.diff_spin, window.fps_spin):
        window.return_focus.watch(spin)


def _action(window, text: str, slot: Callable, shortcut: Any = None, *, checkable: bool = False,
            tip: str | None = None) -> QAction:
    """An action of ``window`` whose shortcuts work even when no menu shows it."""
    action = QAction(text, window)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even when no menu shows the action
    return action


def build_menus(window) -> None:
    """The menu bar, and the window shortcuts listed in ``SHORTCUTS``."""
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addAction(_action(window, "Open LDCT folder…", lambda: window.choose_and_open("ldct", True),
                                     QKeySequence.StandardKey.Open))
    file_menu.addAction(_action(window, "Open LDCT files…", lambda: window.choose_and_open("ldct", False)))
    file_menu.addAction(_action(window, "Open NDCT folder…", lambda: window.choose_and_open("ndct", True),
                                     "Ctrl+Shift+O"))
    file_menu.addAction(_action(window, "Open NDCT files…", lambda: window.choose_and_open("ndct", False)))
    window.recent_menu = file_menu.addMenu("Open recent")
    file_menu.addAction(_action(window, "Open demo case", window.open_demo))
    file_menu.addSeparator()
    window.simulate_action = _action(window, "Simulate low dose from NDCT…", window.simulate_dialog)
    file_menu.addAction(window.simulate_action)
    file_menu.addSeparator()
    window.export_action = _action(window, "Export comparison PNG…", window.exporter.dialog, "Ctrl+E")
    file_menu.addAction(window.export_action)
    file_menu.addSeparator()
    file_menu.addAction(_action(window, "Quit", window.close, QKeySequence.StandardKey.Quit))

    view_menu = menu.addMenu("&View")
    window.layout_action = _action(window, "Next layout (auto, two rows, one row)", window.state.toggle_layout, "L",
                                   checkable=True)
    view_menu.addAction(window.layout_action)
    view_menu.addAction(_action(window, "Reset zoom and pan", window.state.reset_view, "Space"))
    window.cine_action = _action(window, "Cine play", lambda: window.play_button.toggle(), "P", checkable=True)
    view_menu.addAction(window.cine_action)
    view_menu.addSeparator()
    window.sync_actions: dict[str, QAction] = {}
    for kind, text in (("slice", "Sync slices"), ("window", "Sync window/level"),
                       ("view", "Sync zoom and pan"), ("crosshair", "Sync crosshair")):
        action = _action(window, text, lambda checked, k=kind: window.state.set_sync(k, checked), checkable=True)
        action.setChecked(True)
        view_menu.addAction(action)
        window.sync_actions[kind] = action
    view_menu.addSeparator()
    diff_menu = view_menu.addMenu("Difference map")
    group = QActionGroup(window)
    window.diff_actions: dict[str, QAction] = {}
    for mode, label in DIFF_LABELS.items():
        action = _action(window, label, lambda _=False, m=mode: window.state.set_diff_mode(m), checkable=True)
        group.addAction(action)
        diff_menu.addAction(action)
        window.diff_actions[mode] = action
    diff_menu.addSeparator()
    diff_menu.addAction(_action(window, "Automatic ± range (from the image noise)", lambda: window.diff_range.forget(),
                                tip="Forget the range typed in the toolbar; each case gets one from its noise"))
    view_menu.addAction(_action(window, "Cycle difference map", window.cycle_diff, "D"))
    view_menu.addAction(_action(window, "Noise power spectrum…", window.show_nps, "N"))
    view_menu.addAction(_action(window, "Line profile…", window.show_profile, "F",
                                     tip="Ctrl + left drag on a panel draws the line"))
    view_menu.addAction(_action(window, "Remove ROI and line", window.remove_roi_and_line, ["Del", "Backspace"],
                                     tip="Shift + left drag on a panel draws an elliptical ROI"))
    preset_menu = view_menu.addMenu("Window preset")
    for i, name in enumerate(PRESETS):
        preset_menu.addAction(_action(window, name.capitalize(), lambda _=False, n=name: window.apply_preset(n),
                                           str(i + 1)))

    # slice navigation (window shortcuts, shown in the help dialog)
    _action(window, "Next slice", lambda: window.state.step_slice(+1), ["Down", "Right"])
    _action(window, "Previous slice", lambda: window.state.step_slice(-1), ["Up", "Left"])
    _action(window, "Forward 10 slices", lambda: window.state.step_slice(+PAGE_STEP), "PgDown")
    _action(window, "Back 10 slices", lambda: window.state.step_slice(-PAGE_STEP), "PgUp")
    _action(window, "First slice", lambda: window.state.set_position(0), "Home")
    _action(window, "Last slice", lambda: window.state.set_position(window.state.n_positions - 1), "End")

    model_menu = menu.addMenu("&Models")
    model_menu.addAction(_action(window, "Networks…", window.network_list.edit,
                                 tip="Which networks are compared, in which order: add, remove, reorder"))
    model_menu.addAction(_action(window, "Add network…", window.network_list.choose_and_add,
                                 tip="Add a checkpoint (any registered architecture) as another panel"))
    per_network = (("Remove network", window.network_list.remove), ("Move network left",
                   lambda k: window.network_list.move(k, -1)), ("Move network right",
                   lambda k: window.network_list.move(k, +1)), ("Choose checkpoint", window.choose_checkpoint),
                   ("Checkpoint info", window.checkpoint_info))
    for title, slot in per_network:
        submenu = model_menu.addMenu(title)
        submenu.aboutToShow.connect(lambda m=submenu, f=slot: _fill_network_menu(window, m, f))
    model_menu.addAction(_action(window, "Use bundled checkpoints", window.use_bundled_checkpoints,
                                 tip="Compare the bundled RED-CNN-MSE and RED-CNN-WGAN-GP again"))
    model_menu.addSeparator()
    model_menu.addAction(_action(window, "Run inference", lambda: window.start_inference(), "Ctrl+R"))
    model_menu.addAction(_action(window, "Cancel inference", window.cancel_inference, "Esc"))
    device_menu = model_menu.addMenu("Device")
    device_group = QActionGroup(window)
    window.device_actions: dict[str, QAction] = {}
    for device in DEVICES:
        action = _action(window, device, lambda _=False, d=device: window.set_device(d), checkable=True)
        device_group.addAction(action)
        device_menu.addAction(action)
        window.device_actions[device] = action

    tools_menu = menu.addMenu("&Tools")
    tools_menu.addAction(_action(window, "Reader study…", lambda: reader_study_dialog(window),
                                      tip="Blinded A/B: which output looks more like the NDCT?"))

    help_menu = menu.addMenu("&Help")
    help_menu.addAction(_action(window, "Keyboard and mouse…", window.show_shortcuts, ["F1", "?"]))
    help_menu.addAction(_action(window, "About ldct-viewer…", window.show_about))


def _fill_network_menu(window, menu, slot) -> None:
    """A submenu with one entry per compared network (rebuilt each time it opens: the list changes)."""
    menu.clear()
    for key, slot_ in window.inference.slots.items():
        menu.addAction(slot_.label).triggered.connect(lambda _=False, k=key: slot(k))


def sync_controls(window) -> None:
    """Make the toolbar and menus show the state (without feeding back into it)."""
    w = window.state.window
    for widget, value in ((window.width_spin, int(round(w.width))), (window.level_spin, int(round(w.level))),
                          (window.diff_spin, int(round(window.state.diff_range))),
                          (window.fps_spin, int(round(window.state.cine_fps)))):
        widget.blockSignals(True)
        widget.setValue(value)
        widget.blockSignals(False)
    for name, button in window.preset_buttons.items():
        button.setChecked(PRESETS[name] == (w.width, w.level))
    window.diff_combo.blockSignals(True)
    window.diff_combo.setCurrentIndex(window.diff_combo.findData(window.state.diff_mode))
    window.diff_combo.blockSignals(False)
    window.diff_actions[window.state.diff_mode].setChecked(True)
    window.layout_action.setChecked(window.state.layout == "2x2")
    window.layout_button.setText(LAYOUT_BUTTON[NEXT_LAYOUT[window.state.layout]])
    for kind, action in window.sync_actions.items():
        action.setChecked(window.state.sync[kind])
    diff = window.state.diff_mode != "none"
    window.colorbar.setVisible(diff)
    if diff:
        base = PANEL_TITLES[reference_of(window.state.diff_mode)]
        window.colorbar.set_range(window.state.diff_range, f"− {base}")


def fill_recent_menu(window) -> None:
    """File → Open recent: the recently opened series, newest first."""
    window.recent_menu.clear()
    recent = recent_entries(window.settings)
    for entry in recent:
        paths = entry["paths"]
        label = f"{entry['kind'].upper()}: {paths[0]}" + (f" (+{len(paths) - 1})" if len(paths) > 1 else "")
        action = window.recent_menu.addAction(label)
        action.triggered.connect(lambda _=False, e=entry: window.open_paths(e["paths"], e["kind"]))
    window.recent_menu.setEnabled(bool(recent))
