"""What each comparison panel shows — shared by the screen and the exported PNGs (no Qt).

Panels are keyed ``ldct``, one key per compared network (``ldct_viewer.networks``; the bundled pair's
are the methods ``mse``, ``wgan-gp``) and ``ndct``; ``titles`` (key → title, in panel order) names
them, ``PANEL_TITLES`` for the bundled pair by default. Difference modes
are ``none``, ``minus_ldct`` (image − LDCT: what a network removed) and ``minus_ndct``
(image − NDCT: the error left). All images are float32 HU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ldct_viewer.methods import METHOD_LABELS, METHODS  # the bundled pair: the default panels

PANELS: tuple[str, ...] = ("ldct", *METHODS, "ndct")
PANEL_TITLES: dict[str, str] = {"ldct": "LDCT", **METHOD_LABELS, "ndct": "NDCT"}
DIFF_MODES: tuple[str, ...] = ("none", "minus_ldct", "minus_ndct")
DIFF_LABELS: dict[str, str] = {"none": "No difference map", "minus_ldct": "Output − LDCT (removed)",
                               "minus_ndct": "Output − NDCT (error)"}


@dataclass(frozen=True)
class PanelImage:
    """What one panel shows: an HU image or HU difference map, or the text saying why there is none.

    A reformat with slices missing (a network still computing) carries ``bands``: runs of rows
    (``band_axis`` 0) or columns (1) drawn as placeholder bands labelled with ``placeholder``.
    """

    image: np.ndarray | None
    placeholder: str = ""
    is_difference: bool = False
    bands: tuple[tuple[int, int], ...] = ()
    band_axis: int | None = None


def reference_of(diff_mode: str) -> str:
    """The panel subtracted in ``diff_mode`` ("ldct" or "ndct")."""
    if diff_mode not in DIFF_MODES[1:]:
        raise ValueError(f"difference mode must be one of {DIFF_MODES[1:]}, got {diff_mode!r}")
    return diff_mode.removeprefix("minus_")


def difference_terms(key: str, diff_mode: str) -> tuple[str, str]:
    """(minuend, subtrahend) of panel ``key``'s difference map.

    An output's map is output − reference; the LDCT panel's is the ideal removal (NDCT − LDCT) in
    ``minus_ldct`` and the input error (LDCT − NDCT) in ``minus_ndct``.
    """
    reference = reference_of(diff_mode)
    if key == "ldct":
        return ("ndct", "ldct") if reference == "ldct" else ("ldct", "ndct")
    return key, reference


def difference_title(key: str, diff_mode: str, titles: Mapping[str, str] = PANEL_TITLES) -> str:
    """``"RED-CNN-MSE − LDCT"``: what panel ``key``'s difference map subtracts from what."""
    a, b = difference_terms(key, diff_mode)
    return f"{titles.get(a, a)} \u2212 {titles.get(b, b)}"


def difference_note(key: str, diff_mode: str) -> str:
    """What the LDCT panel's map means ("ideal removal", "input error"); "" for an output's."""
    return {("ndct", "ldct"): "ideal removal", ("ldct", "ndct"): "input error"}.get(difference_terms(key, diff_mode), "")


def difference_map(key: str, images: Mapping[str, np.ndarray | None], diff_mode: str) -> np.ndarray | None:
    """Panel ``key``'s difference map in HU (``difference_terms``), None when a term is missing."""
    a, b = difference_terms(key, diff_mode)
    if images.get(a) is None or images.get(b) is None:
        return None
    return images[a] - images[b]


def panel_image(key: str, images: Mapping[str, np.ndarray | None], diff_mode: str,
                missing: Mapping[str, str], titles: Mapping[str, str] = PANEL_TITLES) -> PanelImage:
    """What panel ``key`` shows given every panel's HU image on its slice (None where absent).

    ``missing`` holds each panel's text for its absent image. In a difference mode the NDCT panel
    stays an image, the LDCT panel without an NDCT shows the LDCT (nothing to compare it with), and
    an output without its reference says which slice is needed.
    """
    own = images.get(key)
    if own is None:
        return PanelImage(None, missing[key])
    if diff_mode == "none" or key == "ndct":
        return PanelImage(own)
    diff = difference_map(key, images, diff_mode)
    if diff is not None:
        return PanelImage(diff, is_difference=True)
    if key == "ldct":
        return PanelImage(own)
    absent = next(k for k in difference_terms(key, diff_mode) if images.get(k) is None)
    return PanelImage(None, f"{difference_title(key, diff_mode, titles)} needs an {titles.get(absent, absent)} slice")


def missing_texts(case, ndct_alone, i: int, outputs: Mapping[str, str], busy: str = "") -> dict[str, str]:
    """Each panel's text for when it has no image on LDCT slice ``i``.

    ``case`` is the open ``Case`` (or None), ``ndct_alone`` an NDCT series opened without an LDCT,
    ``outputs`` each network's reason for having no output, ``busy`` what is being prepared.
    """
    panels = ("ldct", *outputs, "ndct")
    if case is None and busy:
        return {key: busy for key in panels}
    if case is None:
        ldct = ("no LDCT open\nFile → Simulate low dose from NDCT…" if ndct_alone is not None
                else "no LDCT open\nFile → Open LDCT… (Ctrl+O) or drop a folder here")
        texts = {key: "no LDCT open" for key in panels} | {"ldct": ldct}
    else:
        texts = dict(outputs)
    no_ndct = case is None or case.ndct is None
    texts["ndct"] = ("no NDCT open\nFile → Open NDCT… (Ctrl+Shift+O)" if no_ndct
                     else f"no NDCT slice paired with LDCT slice {i + 1}")
    return texts


def panel_titles(case, ndct_alone, checkpoint_names: Mapping[str, str],
                 base: Mapping[str, str] = PANEL_TITLES) -> dict[str, str]:
    """Each panel's title: the image and where it comes from (series description, checkpoint file)."""
    titles = {**base, **{key: f"{base[key]}  ·  {name}" for key, name in checkpoint_names.items()}}
    if case is not None:
        desc = getattr(case.ldct, "description", "") or ""
        if case.simulated:
            desc = desc or f"simulated {case.simulated.get('dose', 0):.0%} dose"
        titles["ldct"] = f"LDCT  ·  {desc}" if desc else "LDCT"
    ndct = case.ndct if case is not None else ndct_alone
    if ndct is not None and getattr(ndct, "description", ""):
        titles["ndct"] = f"NDCT  ·  {ndct.description}"
    return titles


def slice_caption(case, ndct_alone, i: int, n_slices: int) -> str:
    """``"slice 3 / 40  ·  z = -121.0 mm"`` beside the slider (the DICOM patient coordinate along the
    slice normal's axis, with its sign); "no case open" when nothing is."""
    if case is None and ndct_alone is None:
        return "no case open"
    text = f"slice {i + 1} / {n_slices}"
    try:
        from ldct_viewer.orientation import Orientation

        axis, value = Orientation.of_series(case.ldct if case is not None else ndct_alone).slice_coordinate(i)
        text += f"  ·  {axis} = {value:.1f} mm"
    except (AttributeError, IndexError, TypeError, ValueError):
        pass
    return text
