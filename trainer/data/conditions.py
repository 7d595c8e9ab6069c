"""Names of acquisition conditions: ``d{dose %}_v{views}`` for simulated scans, ``real`` for paired data."""

from __future__ import annotations

import re

REAL = "real"
_PATTERN = re.compile(r"^d(?P<dose>\d+(?:\.\d+)?)_v(?P<views>\d+)$")


def condition_name(dose_percent: float, views: int) -> str:
    """``condition_name(25, 360) == "d25_v360"`` (dose in percent of the full dose)."""
    return f"d{dose_percent:g}_v{int(views)}"


def parse_condition(name: str) -> tuple[float | None, int | None]:
    """``(dose fraction, views)`` of a condition name; ``(None, None)`` for ``real`` (unknown dose).

    Raises ValueError for anything else.
    """
    if name == REAL:
        return None, None
    match = _PATTERN.match(name)
    if not match:
        raise ValueError(f"not a condition name: {name!r} (expected e.g. d25_v360 or real)")
    return float(match["dose"]) / 100.0, int(match["views"])
