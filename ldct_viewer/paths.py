"""Where bundled resources and per-user caches live."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The repository's ``resources/`` folder (checkpoints, demo recipe).

    ``LDCT_VIEWER_RESOURCES`` overrides it, e.g. for a system-wide install.
    """
    override = os.environ.get("LDCT_VIEWER_RESOURCES")
    return Path(override) if override else _PACKAGE_ROOT / "resources"


def checkpoints_dir() -> Path:
    return resources_dir() / "checkpoints"


def cache_dir() -> Path:
    """Per-user cache (inference results, the generated demo case).

    ``LDCT_VIEWER_CACHE`` overrides it (tests point it at a temp dir).
    """
    override = os.environ.get("LDCT_VIEWER_CACHE")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("ldct-viewer"))
    path.mkdir(parents=True, exist_ok=True)
    return path
