"""HU profiles of every panel along the line drawn on them: where a softened edge shows.

Ctrl + left drag on any panel draws the line (the same on all four, movable by its ends or as a
whole); this window plots HU against the distance from the line's first point, in mm, for the
LDCT, every network and the NDCT of the slice shown. An over-smoothing network's curve rises
across an edge less steeply than the NDCT's. It follows the slice, new results and the line while
open; pyqtgraph's plot menu (right click → Export…) saves the curves as CSV or images.
"""

from __future__ import annotations

from ldct_viewer.analysis.profile import Profile, line_profile
from ldct_viewer.ui.plot_window import FollowingPlotDialog


class ProfileDialog(FollowingPlotDialog):
    """Non-modal window with the current line's HU profiles; ``refresh()`` re-reads the viewer."""

    def __init__(self, viewer) -> None:
        super().__init__(viewer, "Line profile", (640, 420), "distance along the line (mm)", "HU",
                         name="profile")
        self.profiles: dict[str, Profile] = {}

    def refresh(self) -> None:
        """Sample and draw the profiles of the viewer's current slice along its line."""
        if not self.isVisible():
            return
        viewer = self.viewer
        self.sync_curves()
        line = viewer.state.line
        self.profiles = {}
        if line is not None:
            spacing = viewer.pixel_spacing()
            for key, _, _ in self.curve_specs:
                image = viewer.planes.shown_hu(key)  # the slice, or the reformat the line is drawn on
                if image is not None:
                    self.profiles[key] = line_profile(image, line, spacing)
        for key, curve in self.curves.items():
            profile = self.profiles.get(key)
            if profile is None:
                curve.setData([], [])
            else:
                curve.setData(profile.distance_mm, profile.hu, connect="finite")
        if line is None:
            self.info.setText("No line: Ctrl + left drag on a panel draws one (across an edge, to see how sharp "
                              "each image keeps it).")
            return
        length = next(iter(self.profiles.values())).distance_mm[-1] if self.profiles else float("nan")
        missing = [label for key, label, _ in self.curve_specs if key not in self.profiles]
        self.info.setText(
            f"Slice {viewer.state.slice_of('ldct') + 1}: HU along the line ({length:.1f} mm) from its first point; "
            "a softened edge rises less steeply than NDCT's."
            + (f" No image: {', '.join(missing)}." if missing else ""))

