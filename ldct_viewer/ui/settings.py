"""The viewer's saved settings (QSettings): where they live, and bringing old ones up to date."""

from __future__ import annotations

from PySide6.QtCore import QSettings

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
