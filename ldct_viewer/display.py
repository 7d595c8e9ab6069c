"""What each comparison panel shows — shared by the screen and the exported PNGs (no Qt).

Panels are keyed ``ldct``, the methods (``ldct_viewer.methods``) and ``ndct``; difference modes
are ``none``, ``minus_ldct`` (image − LDCT: what a network removed) and ``minus_ndct``
(image − NDCT: the error left). All images are float32 HU.
"""

from __future__ import annotations

from ldct_viewer.methods import METHOD_LABELS, METHODS

PANELS: tuple[str, ...] = ("ldct", *METHODS, "ndct")
PANEL_TITLES: dict[str, str] = {"ldct": "LDCT", **METHOD_LABELS, "ndct": "NDCT"}
DIFF_MODES: tuple[str, ...] = ("none", "minus_ldct", "minus_ndct")
DIFF_LABELS: dict[str, str] = {"none": "No difference map", "minus_ldct": "Output − LDCT (removed)",
                               "minus_ndct": "Output − NDCT (error)"}
