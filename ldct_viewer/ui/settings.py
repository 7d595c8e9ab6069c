"""The viewer's saved settings (QSettings): where they live, what is kept, and bringing old ones up to date."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings

from ldct_viewer.methods import METHODS
from ldct_viewer.networks import Network, bundled_pair, from_json, to_json

MAX_RECENT = 8
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")  # the Models → Device menu

#: Keys renamed since they were first saved: old → new. Read once, then the old key is removed.
RENAMED_KEYS: dict[str, str] = {
    "checkpoint/wgan": "checkpoint/wgan-gp",  # the WGAN-GP slot took its method key (issue 21)
}


def default_settings() -> QSettings:
    return QSettings("ldct-viewer", "ldct-viewer")


def migrate_settings(settings: QSettings) -> None:
    """Move values saved under ``RENAMED_KEYS``' old names to the new ones (a newer value wins)."""
    for old, new in RENAMED_KEYS.items():
        if settings.contains(old):
            if not settings.contains(new):
                settings.setValue(new, settings.value(old))
            settings.remove(old)


def restored_networks(s: QSettings, checkpoints: dict[str, str | None] | None,
                      networks: list[Network] | None) -> list[Network]:
    """The networks to compare: ``networks`` (``--model``) if given; else the saved list (or, from
    settings older than it, the saved pair); ``checkpoints`` (``--mse``/``--wgan-gp``) replace the
    pair's entries. A remembered checkpoint file that has gone is dropped (a bundled key falls back
    to its bundled file)."""
    if networks:
        return list(networks)
    saved = from_json(str(s.value("networks", "") or ""))
    if not saved:
        saved = [Network(n.key, n.label, str(s.value(f"checkpoint/{n.key}", "") or "") or None)
                 for n in bundled_pair()]
    kept = []
    for n in saved:
        if n.key in (checkpoints or {}):
            kept.append(Network(n.key, n.label, checkpoints[n.key] or None))
        elif n.spec is None or checkpoints or Path(n.spec).is_file():
            kept.append(n)
        elif n.key in METHODS:
            kept.append(Network(n.key, n.label, None))
    return kept or bundled_pair()


def restore_window(window, checkpoints: dict[str, str | None] | None, device: str,
                   networks: list[Network] | None = None) -> None:
    """Give ``window`` its saved geometry, view preferences, networks and device.

    ``networks``/``checkpoints``/``device`` from the command line win over the saved ones.
    """
    s = window.settings
    geometry = s.value("geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        place_first_window(window)
    try:
        window.state.restore(json.loads(str(s.value("view", "{}") or "{}")))
    except (TypeError, ValueError):
        pass
    window.network_list.apply(restored_networks(s, checkpoints, networks), start=False, save=False)
    if device == "auto":
        saved = str(s.value("device", "auto") or "auto")
        device = saved if saved in DEVICES else "auto"
    window.inference.set_device(device)


#: A first run's window covers this share of the screen's available area (four panels want room).
FIRST_RUN_SHARE = 0.9


def first_window_rect(area: tuple[int, int, int, int], share: float = FIRST_RUN_SHARE) -> tuple[int, int, int, int]:
    """(x, y, width, height) of a first run's window: ``share`` of the available ``area`` (x, y, w, h), centred."""
    x, y, w, h = area
    width, height = int(round(w * share)), int(round(h * share))
    return (x + (w - width) // 2, y + (h - height) // 2, width, height)


def place_first_window(window) -> None:
    """Size ``window`` for a first run: most of its screen (``first_window_rect``), 1680×900 without one."""
    screen = window.screen()
    area = screen.availableGeometry() if screen is not None else None
    if area is None or area.width() <= 0:
        window.resize(1680, 900)
        return
    x, y, w, h = first_window_rect((area.x(), area.y(), area.width(), area.height()))
    window.resize(w, h)
    window.move(x, y)


def save_window(window) -> None:
    """Remember ``window``'s geometry, view preferences and checkpoints for the next run."""
    s = window.settings
    s.setValue("geometry", window.saveGeometry())
    s.setValue("view", json.dumps(window.state.to_dict()))
    s.setValue("networks", to_json(window.inference.networks))
    for key in METHODS:
        if key in window.inference.slots:
            s.setValue(f"checkpoint/{key}", window.inference.slots[key].spec or "")
    s.sync()


def remember_opened(settings: QSettings, kind: str, paths: list[Path]) -> None:
    """``paths`` were opened as ``kind``: the folder to start the next file dialog in, and a recent entry."""
    first = paths[0]
    settings.setValue(f"last_dir/{kind}", str(first if first.is_dir() else first.parent))
    entry = {"kind": kind, "paths": [str(p) for p in paths]}
    recent = [r for r in recent_entries(settings) if r != entry]
    recent.insert(0, entry)
    settings.setValue("recent", json.dumps(recent[:MAX_RECENT]))


def recent_entries(settings: QSettings) -> list[dict]:
    """The recently opened ``{"kind": "ldct"|"ndct", "paths": [...]}``, newest first."""
    try:
        data = json.loads(str(settings.value("recent", "[]") or "[]"))
        return [r for r in data if isinstance(r, dict) and r.get("kind") in ("ldct", "ndct") and r.get("paths")]
    except (TypeError, ValueError):
        return []
