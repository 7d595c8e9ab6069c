"""Where bundled resources and per-user caches live."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_PACKAGE = Path(__file__).resolve().parent
_REPOSITORY_RESOURCES = _PACKAGE.parent / "resources"  # a checkout or an editable install
_INSTALLED_RESOURCES = _PACKAGE / "resources"  # a wheel: copied in by ldct_viewer._packaging


def resources_dir() -> Path:
    """The folder with the bundled checkpoints and the demo recipe.

    ``LDCT_VIEWER_RESOURCES`` overrides it (e.g. a system-wide install); else the repository's
    ``resources/`` when the package runs from a checkout, else the copy a wheel ships inside the package.
    """
    override = os.environ.get("LDCT_VIEWER_RESOURCES")
    if override:
        return Path(override)
    return _REPOSITORY_RESOURCES if _REPOSITORY_RESOURCES.is_dir() else _INSTALLED_RESOURCES


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
