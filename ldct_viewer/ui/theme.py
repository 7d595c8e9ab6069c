"""A dark theme for reading rooms: near-black surroundings, low-luminance chrome, no bright whites.

Diagnostic reading is done in dim rooms with the eye adapted to the image; bright UI chrome next
to a CT slice lowers perceived contrast. Text is mid-grey, accents a desaturated amber.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ldct_viewer.display import PANEL_TITLES, PANELS

BACKGROUND = "#101214"
SURFACE = "#1a1d20"
BORDER = "#2b2f33"
TEXT = "#c8c8c8"
TEXT_DIM = "#8a8f94"
ACCENT = "#d0a040"
INDICATOR = "#9aa0a6"  # check box and radio outlines: must stand out against SURFACE (issue 22)
CURVE_COLOURS = {"ldct": "#a0a0a0", "mse": "#5fa8e8", "wgan-gp": "#e0a040", "ndct": "#7fd08a"}
#: colours for further networks, in order (distinct from the ones above, readable on the dark plots)
EXTRA_COLOURS = ("#d070d0", "#e06060", "#60d0d0", "#c0c060", "#9090f0", "#f0a0a0")
#: (panel key, legend, colour): one colour per image in every plot (NPS, line profile)
PANEL_CURVES = tuple((key, PANEL_TITLES[key], CURVE_COLOURS[key]) for key in PANELS)


def panel_curves(titles: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    """(key, legend, colour) for each panel of ``titles``: the fixed colours, then ``EXTRA_COLOURS`` in order."""
    extra = iter(EXTRA_COLOURS * (1 + len(titles) // len(EXTRA_COLOURS)))
    return tuple((key, title, CURVE_COLOURS.get(key) or next(extra)) for key, title in titles.items())

STYLE_SHEET = f"""
QWidget {{ background-color: {BACKGROUND}; color: {TEXT}; }}
QMenuBar, QMenu, QToolBar, QStatusBar {{ background-color: {SURFACE}; }}
QMenu::item:selected, QMenuBar::item:selected {{ background-color: {BORDER}; }}
QToolBar {{ border: none; spacing: 4px; }}
QToolButton {{ padding: 2px 6px; border: 1px solid transparent; border-radius: 3px; }}
QToolButton:hover {{ border-color: {BORDER}; }}
QToolButton:checked {{ background-color: {BORDER}; color: {ACCENT}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background-color: {SURFACE}; border: 1px solid {BORDER}; border-radius: 3px; padding: 1px 4px; }}
QPushButton {{ background-color: {SURFACE}; border: 1px solid {BORDER}; border-radius: 3px; padding: 3px 10px; }}
QPushButton:hover {{ border-color: {ACCENT}; }}
QProgressBar {{ background-color: {SURFACE}; border: 1px solid {BORDER}; border-radius: 3px; text-align: center; }}
QProgressBar::chunk {{ background-color: #7a6030; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; }}
QSlider::handle:horizontal {{ width: 10px; margin: -5px 0; background: {ACCENT}; border-radius: 3px; }}
QHeaderView::section {{ background-color: {SURFACE}; color: {TEXT_DIM}; border: none; padding: 2px 6px; }}
QTableWidget {{ gridline-color: {BORDER}; background-color: {BACKGROUND}; }}
QLabel#panelTitle {{ color: {TEXT}; font-weight: bold; padding: 2px; }}
QLabel#panelSubtitle {{ color: {TEXT_DIM}; font-size: 11px; }}
QLabel#panelPlaceholder {{ color: {TEXT_DIM}; background-color: #000000; font-size: 14px; padding: 12px; }}
QLabel#hint {{ color: {TEXT_DIM}; }}
QCheckBox, QRadioButton {{ spacing: 6px; }}
QCheckBox::indicator, QRadioButton::indicator {{
    width: 13px; height: 13px; border: 1px solid {INDICATOR}; background-color: {SURFACE}; }}
QCheckBox::indicator {{ border-radius: 2px; }}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:checked {{ background-color: {ACCENT}; border-color: {ACCENT}; }}
QCheckBox::indicator:indeterminate {{ background-color: {BORDER}; border-color: {ACCENT}; }}
QRadioButton::indicator:checked {{ border-color: {ACCENT}; background-color: qradialgradient(
    cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
    stop: 0 {ACCENT}, stop: 0.5 {ACCENT}, stop: 0.6 {SURFACE}, stop: 1 {SURFACE}); }}
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled {{ border-color: {BORDER}; background-color: {BACKGROUND}; }}
QCheckBox::indicator:checked:disabled {{ background-color: #5a4a28; }}
QTextBrowser {{ background-color: {BACKGROUND}; border: 1px solid {BORDER}; }}
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: SURFACE,
        QPalette.ColorRole.AlternateBase: BACKGROUND,
        QPalette.ColorRole.ToolTipBase: SURFACE,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: SURFACE,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: ACCENT,
        QPalette.ColorRole.Highlight: "#5a4a28",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: TEXT_DIM,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#555a5e"))
    return palette


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style + dark palette + style sheet (Fusion honours palettes on every platform)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
