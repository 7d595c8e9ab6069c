"""Pixel-exact comparison image: LDCT | each network's output | NDCT, composed in numpy.

Each image tile is the slice at its native resolution passed through the same window function
as the viewer (``window_to_uint8``), so an exported tile equals what the reader saw, without
any screen grab or rescaling. Labels live in bands above the tiles and never touch image pixels.
The optional second row shows difference maps through the diverging colormap, with a colour bar.
An optional elliptical ROI is outlined on every image tile (its one-pixel inner border, the only
pixels the export ever draws over) with each image's mean and SD under the panel's title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ldct_viewer.analysis.comparison import grain_rois, slice_metrics
from ldct_viewer.analysis.roi import EllipseRoi, RoiStats, roi_stats
from ldct_viewer.display import (
    DIFF_MODES,
    PANEL_TITLES,
    difference_note,
    difference_title,
    panel_image,
    reference_of,
)
from ldct_viewer.export.text import line_height, text_block
from ldct_viewer.windowing import (
    colorbar_rgb,
    diverging_rgb,
    format_window,
    parse_window,
    window_to_uint8,
)

DEFAULT_PLACEHOLDERS: dict[str, str] = {
    key: f"{title} not loaded" if key in ("ldct", "ndct") else f"{title}: no output" for key, title in PANEL_TITLES.items()}

GAP = 4  # px between columns and between the two rows
BACKGROUND = (18, 18, 18)
PLACEHOLDER_FILL = (52, 52, 52)
TITLE_COLOUR = (235, 235, 235)
CAPTION_COLOUR = (165, 165, 165)
METRIC_COLOUR = (140, 200, 255)
PLACEHOLDER_TEXT = (175, 175, 175)
ROI_COLOUR = (80, 220, 255)
CAPTION_LINES = 4  # title, caption (checkpoint / source), metrics, grain (+ 1 with a ROI)


def font_size_for(tile_width: int) -> int:
    """Label size that scales with the image: 18 px for a 512-px tile, never below 11 px."""
    return int(min(22, max(11, round(tile_width / 28))))


@dataclass
class Composition:
    """The composed RGB image plus where each tile sits, so callers (and tests) can find them."""

    rgb: np.ndarray  # uint8 [height, width, 3]
    tiles: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # key -> (top, left, h, w)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # panel -> slice_metrics()
    roi_stats: dict[str, RoiStats] = field(default_factory=dict)  # panel -> its statistics in the ROI
    header_height: int = 0  # the line with slice, position and window at the top
    band_height: int = 0  # the title/caption/metrics band above each row of tiles

    def tile(self, key: str) -> np.ndarray:
        """A view of tile ``key`` ("ldct", "mse", "wgan-gp", "ndct", "diff:<panel>", "colorbar")."""
        top, left, h, w = self.tiles[key]
        return self.rgb[top:top + h, left:left + w]


def format_metrics(m: Mapping[str, float]) -> tuple[str, str]:
    """The two metric lines under a panel's title: fidelity, then grain (empty when not measurable)."""
    grain = m.get("grain_db", math.nan)
    return (f"RMSE {m['rmse']:.1f} HU  PSNR {m['psnr']:.1f} dB  SSIM {m['ssim']:.3f}",
            "" if math.isnan(grain) else f"grain {grain:+.1f} dB vs NDCT")


def roi_outline(mask: np.ndarray) -> np.ndarray:
    """The ROI pixels with a 4-neighbour outside it: a closed one-pixel border drawn inside the ROI."""
    inner = np.zeros_like(mask)
    inner[1:-1, 1:-1] = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask & ~inner


def _placeholder(h: int, w: int, message: str, size: int) -> np.ndarray:
    return text_block(w, h, [(message, PLACEHOLDER_TEXT)], size=size, background=PLACEHOLDER_FILL, center=True)


def _colorbar_tile(h: int, w: int, diff_range: float, label: str, size: int) -> np.ndarray:
    """A tile-sized legend: the diverging bar with its HU ticks, on the background colour."""
    tile = np.empty((h, w, 3), np.uint8)
    tile[...] = BACKGROUND
    bar_len = min(h, max(3, int(h * 0.8)) | 1)  # odd, so the middle row is exactly 0 HU (white)
    bar_w = max(1, w // 10)
    top, left = (h - bar_len) // 2, max(1, w // 8)
    tile[top:top + bar_len, left:left + bar_w] = colorbar_rgb(bar_len, bar_w)
    x_text = left + bar_w + max(2, size // 2)
    ticks = [(top, f"+{diff_range:g} HU"), (top + bar_len // 2, "0 HU"), (top + bar_len - 1, f"\u2212{diff_range:g} HU")]
    step = line_height(size)
    for y, text in ticks:
        y0 = min(max(0, y - step // 2), max(0, h - step))
        block = text_block(max(1, w - x_text), step, [(text, TITLE_COLOUR)], size=size, background=BACKGROUND, pad=0)
        tile[y0:y0 + step, x_text:w] = block[: h - y0]
        tile[y, left + bar_w:min(w, left + bar_w + max(2, size // 3))] = TITLE_COLOUR  # tick mark
    if top >= step:
        tile[:step] = text_block(w, step, [(label, CAPTION_COLOUR)], size=size, background=BACKGROUND, pad=2)
    return tile


def compose_comparison(ldct: np.ndarray, mse: np.ndarray | None, wgan_gp: np.ndarray | None,
                       ndct: np.ndarray | None, **options) -> Composition:
    """The bundled pair's comparison (LDCT | RED-CNN-MSE | RED-CNN-WGAN-GP | NDCT): ``compose_panels``."""
    return compose_panels(ldct, {"mse": mse, "wgan-gp": wgan_gp}, ndct, **options)


def compose_panels(
    ldct: np.ndarray,
    outputs: Mapping[str, np.ndarray | None],
    ndct: np.ndarray | None,
    *,
    titles: Mapping[str, str] | None = None,
    window: tuple[float, float] | str = "abdomen",
    diff_mode: str = "none",
    diff_range: float = 50.0,
    slice_number: int | None = None,
    n_slices: int | None = None,
    position_mm: float | None = None,
    captions: Mapping[str, str] | None = None,
    placeholders: Mapping[str, str] | None = None,
    header: str | None = None,
    with_metrics: bool = True,
    roi: EllipseRoi | None = None,
    pixel_spacing: tuple[float, float] = (1.0, 1.0),
) -> Composition:
    """Compose the windowed panels — LDCT, each of ``outputs`` (network key → image, in panel order),
    NDCT — and optionally the difference row, at native resolution.

    All images are float32 HU [H, W] of the same shape; an output or ``ndct`` may be None, which
    draws a labelled placeholder tile (text from ``placeholders`` or a default). ``titles`` names
    the panels (key → title; the bundled pair's method labels and the key itself by default).
    ``diff_mode``: "none", "minus_ldct" (output − LDCT: what the network removed) or
    "minus_ndct" (output − NDCT: the remaining error), shown with a symmetric ±``diff_range`` HU scale.
    ``slice_number`` is the 1-based number shown to the user. ``captions`` adds a second title
    line per panel (e.g. the checkpoint file and hash). Metrics (vs NDCT) are computed when
    ``with_metrics`` and the NDCT is present. ``roi`` (image pixels) is outlined on every image
    tile with each image's mean and SD as a further caption line (``pixel_spacing``, row and
    column mm, gives the areas in ``Composition.roi_stats``).
    """
    if diff_mode not in DIFF_MODES:
        raise ValueError(f"diff_mode must be one of {DIFF_MODES}, got {diff_mode!r}")
    width, level = parse_window(window) if isinstance(window, str) else (float(window[0]), float(window[1]))
    ldct = np.asarray(ldct, dtype=np.float32)
    if ldct.ndim != 2:
        raise ValueError(f"expected a 2-D LDCT slice, got shape {ldct.shape}")
    if not outputs or any(key in ("ldct", "ndct") for key in outputs):
        raise ValueError(f"outputs must name at least one network other than ldct/ndct, got {list(outputs)}")
    images: dict[str, np.ndarray | None] = {"ldct": ldct, **outputs, "ndct": ndct}
    titles = {key: (titles or {}).get(key) or PANEL_TITLES.get(key, key) for key in images}
    panels = tuple(images)
    for key, image in images.items():
        if image is not None:
            images[key] = np.asarray(image, dtype=np.float32)
            if images[key].shape != ldct.shape:
                raise ValueError(f"{titles[key]} slice has shape {images[key].shape}, LDCT {ldct.shape}")
    captions = dict(captions or {})
    notes = {**{key: f"{title} not loaded" if key in ("ldct", "ndct") else f"{title}: no output"
                for key, title in titles.items()}, **(placeholders or {})}

    h, w = ldct.shape
    size = font_size_for(w)
    step = line_height(size)
    header_h = step + 2 * max(2, size // 3)
    band_h = (CAPTION_LINES + (roi is not None)) * step + max(2, size // 3)
    rows = 2 if diff_mode != "none" else 1
    total_w = len(panels) * w + (len(panels) - 1) * GAP
    total_h = header_h + rows * (band_h + h) + (rows - 1) * GAP
    canvas = np.empty((total_h, total_w, 3), np.uint8)
    canvas[...] = BACKGROUND
    comp = Composition(rgb=canvas, header_height=header_h, band_height=band_h)
    outline = None
    if roi is not None:
        mask = roi.mask(ldct.shape)
        outline = roi_outline(mask)
        for key, image in images.items():
            stats = roi_stats(image, roi, pixel_spacing, mask) if image is not None else None
            if stats is not None:
                comp.roi_stats[key] = stats

    reference = images["ndct"]
    if with_metrics and reference is not None:
        rois = grain_rois(reference)
        for key in panels[:-1]:
            if images[key] is not None:
                comp.metrics[key] = slice_metrics(images[key], reference, rois)

    # header: slice, position, window, difference scale
    parts = []
    if slice_number is not None:
        parts.append(f"Slice {slice_number}" + (f" / {n_slices}" if n_slices else ""))
    if position_mm is not None:
        parts.append(f"z = {position_mm:.1f} mm")
    parts.append(format_window(width, level))
    if diff_mode != "none":
        base = titles[reference_of(diff_mode)]
        parts.append(f"difference: image \u2212 {base}, \u00b1{diff_range:g} HU")
    if header:
        parts.append(header)
    canvas[:header_h] = text_block(total_w, header_h, [("   ".join(parts), TITLE_COLOUR)], size=size,
                                   background=BACKGROUND)

    # first row: windowed images
    top = header_h
    for col, key in enumerate(panels):
        left = col * (w + GAP)
        metric_lines = ("", "")
        if key in comp.metrics:
            metric_lines = format_metrics(comp.metrics[key])
        elif key == "ndct" and reference is not None:
            metric_lines = ("reference for metrics", "")
        lines = [(titles[key], TITLE_COLOUR), (captions.get(key, ""), CAPTION_COLOUR),
                 *((line, METRIC_COLOUR) for line in metric_lines)]
        if key in comp.roi_stats:
            stats = comp.roi_stats[key]
            lines.append((f"ROI mean {stats.mean:.1f}  SD {stats.sd:.1f} HU", ROI_COLOUR))
        canvas[top:top + band_h, left:left + w] = text_block(w, band_h, lines, size=size, background=BACKGROUND)
        y = top + band_h
        shown = panel_image(key, images, "none", notes, titles)
        if shown.image is None:
            canvas[y:y + h, left:left + w] = _placeholder(h, w, shown.placeholder, size)
        else:
            canvas[y:y + h, left:left + w] = window_to_uint8(shown.image, width, level)[..., None]
            if outline is not None:
                canvas[y:y + h, left:left + w][outline] = ROI_COLOUR
        comp.tiles[key] = (y, left, h, w)

    # second row: difference maps and the colour bar
    if diff_mode != "none":
        top = header_h + band_h + h + GAP
        for col, key in enumerate(panels[:-1]):  # the NDCT column holds the colour bar
            left = col * (w + GAP)
            lines = [(difference_title(key, diff_mode, titles), TITLE_COLOUR),
                     (difference_note(key, diff_mode), CAPTION_COLOUR)]
            canvas[top:top + band_h, left:left + w] = text_block(w, band_h, lines, size=size, background=BACKGROUND)
            y = top + band_h
            shown = panel_image(key, images, diff_mode, notes, titles)
            if shown.is_difference:
                canvas[y:y + h, left:left + w] = diverging_rgb(shown.image, diff_range)
            else:  # the first row already shows an LDCT that has no NDCT to be compared with
                canvas[y:y + h, left:left + w] = _placeholder(h, w, shown.placeholder or notes["ndct"], size)
            comp.tiles[f"diff:{key}"] = (y, left, h, w)
        left = (len(panels) - 1) * (w + GAP)
        lines = [("Colour scale", TITLE_COLOUR), (f"\u00b1{diff_range:g} HU", CAPTION_COLOUR)]
        canvas[top:top + band_h, left:left + w] = text_block(w, band_h, lines, size=size, background=BACKGROUND)
        y = top + band_h
        base = titles[reference_of(diff_mode)]
        canvas[y:y + h, left:left + w] = _colorbar_tile(h, w, diff_range, f"image \u2212 {base}", size)
        comp.tiles["colorbar"] = (y, left, h, w)
    return comp
