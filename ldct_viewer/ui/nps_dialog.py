"""Noise power spectra of every panel on the slice shown: where over-smoothing shows.

An over-smoothing denoiser cuts the high-frequency end of the NPS below NDCT's curve; one that
leaves noise in stays above it. The curves are measured in NDCT's flat regions of the slice
(``ldct_viewer.analysis.comparison.slice_spectra``); the shaded band is the one the metrics
table's *Grain vs NDCT* column averages. The window follows the viewer's slice and new results
while it is open. pyqtgraph's plot menu (right click → Export…) saves the curves as CSV or images.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ldct_viewer.analysis.comparison import slice_spectra
from ldct_viewer.analysis.nps import DEFAULT_BAND
from ldct_viewer.ui.plot_window import FollowingPlotDialog


class NpsDialog(FollowingPlotDialog):
    """Non-modal window with the current slice's NPS curves; ``refresh()`` re-reads the viewer."""

    def __init__(self, viewer) -> None:
        super().__init__(viewer, "Noise power spectrum", (640, 460), "spatial frequency (cycles/mm)", "NPS (HU² mm²)",
                         log_y=True, legend_offset=(-10, 10), name="nps")  # legend top right: the spectra fall there
        self.band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(208, 160, 64, 28),
                                        pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.plot.addItem(self.band)
        self.spectra: dict = {}

    def refresh(self) -> None:
        """Measure and draw the spectra of the viewer's current slice."""
        viewer = self.viewer
        self.sync_curves()
        i = viewer.state.slice_of("ldct")
        images = {key: viewer.source_slice(key, i) for key, _, _ in self.curve_specs}
        ndct = images["ndct"]
        case = viewer.case
        self.spectra = {}
        if ndct is not None and case is not None:
            _, dy, dx = case.spacing
            self.spectra = slice_spectra(images, ndct, (dy, dx), rois=viewer.metrics.grain_rois_of(i, ndct))
            pixel = float(np.sqrt(dy * dx))
            self.band.setRegion((DEFAULT_BAND[0] / pixel, DEFAULT_BAND[1] / pixel))
        for key, curve in self.curves.items():
            spectrum = self.spectra.get(key)
            if spectrum is None:
                curve.setData([], [])
                continue
            curve.setData(*visible(spectrum))
        self.band.setVisible(bool(self.spectra))
        if case is None:
            self.info.setText("No case open.")
        elif ndct is None:
            self.info.setText(f"Slice {i + 1}: the NPS is measured in NDCT's flat regions — open an NDCT series.")
        elif not self.spectra:
            regions = viewer.metrics.grain_rois_of(i, ndct)
            self.info.setText(f"Slice {i + 1}: {regions.describe()} — too few to measure the NPS in.")
        else:
            regions = viewer.metrics.grain_rois_of(i, ndct)
            missing = [label for key, label, _ in self.curve_specs if key not in self.spectra]
            self.info.setText(
                f"Slice {i + 1}: radial NPS over NDCT's {regions.describe()}. Shaded: the band the Grain "
                "column averages (0.25–0.5 cycles/pixel); below NDCT's curve there = smoother than NDCT."
                + (f" Not yet computed: {', '.join(missing)}." if missing else ""))


def visible(spectrum) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, power) without the bins a log axis cannot show usefully: the lowest bin, emptied by
    the ROIs' detrending (~1e-27 against ~10 HU² mm²), and any non-finite one."""
    power = spectrum.power
    keep = np.isfinite(power) & (power > 1e-9 * np.nanmax(power))
    return spectrum.frequency[keep], power[keep]
