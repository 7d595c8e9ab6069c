"""The ± range of the difference maps: the open case's own noise (``analysis.noise.difference_range``)
until the user sets one in the toolbar, which is then remembered (settings) and used from then on."""

from __future__ import annotations

from PySide6.QtCore import QObject

USER_KEY = "diff_range/user"


class DiffRangeDefault(QObject):
    """Sets the difference range when a case (or its NDCT) opens; records the user's own choice."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.caseChanged.connect(self.apply)
        window.diff_spin.valueChanged.connect(self.remember)  # programmatic updates block its signals
        self._explain()

    def user_range(self) -> float | None:
        try:
            value = float(self.window.settings.value(USER_KEY, 0) or 0)
        except (TypeError, ValueError):
            return None
        return value if value > 0 else None

    def remember(self, value: float) -> None:
        """The user typed or stepped a range: keep it for every case from now on."""
        self.window.settings.setValue(USER_KEY, float(value))
        self._explain()

    def _explain(self) -> None:
        chosen = self.user_range() is not None
        self.window.diff_spin.setToolTip(
            "Symmetric range of the difference colormap: "
            + ("your choice, kept for later cases (View → Difference map → Automatic ± range goes back)"
               if chosen else "from the case's noise (4 × the NDCT's SD, or 2 × the LDCT's if larger)"))

    def forget(self) -> None:
        """Back to the automatic range (the next case opened measures its own)."""
        self.window.settings.remove(USER_KEY)
        self.apply()

    def apply(self) -> None:
        from ldct_viewer.analysis.noise import difference_range

        w = self.window
        self._explain()
        chosen = self.user_range()
        if chosen is not None:
            w.state.set_diff_range(chosen)
            return
        if w.case is None:
            return
        i = w.state.slice_of("ldct")
        w.state.set_diff_range(difference_range(w.case.ndct_slice(i), w.case.ldct_slice(i)))
