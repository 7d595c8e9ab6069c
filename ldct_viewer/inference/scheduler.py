"""Focus-first work order: the slice the user looks at, then its neighbours, outward.

With focus ``f`` the order is ``f, f+1, f-1, f+2, f-2, …`` over the slices not yet done. A
reformat on screen needs a range of slices at once: ``set_focus(f, needed=(a, b))`` puts slices
``a..b`` first (still outward from ``f``, the slice under the crosshair), then the rest.
``set_focus`` may be called from any thread; it re-orders whatever is still pending.
"""

from __future__ import annotations

import threading


class FocusScheduler:
    """Hands out pending slice indices nearest the current focus first."""

    def __init__(self, n: int, focus: int = 0) -> None:
        if n < 0:
            raise ValueError(f"slice count must be >= 0, got {n}")
        self.n = n
        self._pending = set(range(n))
        self._focus = self._clamp(focus)
        self._needed: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _clamp(self, i: int) -> int:
        return min(max(int(i), 0), max(self.n - 1, 0))

    @property
    def focus(self) -> int:
        return self._focus

    def set_focus(self, i: int, needed: tuple[int, int] | None = None) -> None:
        """Work outward from slice ``i``; slices ``needed[0]..needed[1]`` (inclusive) before all others."""
        with self._lock:
            self._focus = self._clamp(i)
            self._needed = None if needed is None else tuple(sorted(self._clamp(v) for v in needed))

    @property
    def remaining(self) -> int:
        return len(self._pending)

    @property
    def done(self) -> int:
        return self.n - len(self._pending)

    def rank(self, i: int) -> tuple[int, int, int]:
        """Sort key: needed slices first, then distance from the focus, the slice after the focus
        before the one before it."""
        d = i - self._focus
        needed = self._needed
        outside = 0 if needed is None or needed[0] <= i <= needed[1] else 1
        return (outside, abs(d), 0 if d >= 0 else 1)

    def next(self, count: int = 1) -> list[int]:
        """Take up to ``count`` pending indices in priority order (empty when all are taken)."""
        with self._lock:
            if not self._pending:
                return []
            if count == 1:
                picked = [min(self._pending, key=self.rank)]
            else:
                picked = sorted(self._pending, key=self.rank)[:count]
            self._pending.difference_update(picked)
            return picked

    def put_back(self, indices: list[int]) -> None:
        """Return taken-but-unfinished indices (e.g. after a failed batch) to the pending set."""
        with self._lock:
            self._pending.update(i for i in indices if 0 <= i < self.n)
