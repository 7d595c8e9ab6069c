"""Build hook: ship the data the app needs from the top-level ``resources/`` inside the wheel.

The repository keeps data in ``resources/`` (beside the package, where the trainer writes
checkpoints); a wheel has no such folder, so ``build_py`` copies ``RESOURCE_FILES`` into
``ldct_viewer/resources/``, where ``ldct_viewer.paths`` looks after the repository's folder.
Named in ``pyproject.toml`` (``[tool.setuptools.cmdclass]``); imports only setuptools.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py

#: Globs under ``resources/`` that the installed app reads: the bundled checkpoints and the demo recipe.
RESOURCE_FILES = ("demo_case.json", "checkpoints/*.pt")


class BuildPyWithResources(build_py):
    """``build_py`` that also copies ``RESOURCE_FILES`` to ``<build>/ldct_viewer/resources/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the repository's folder
            return
        source = Path(__file__).resolve().parent.parent / "resources"
        target = Path(self.build_lib) / "ldct_viewer" / "resources"
        for pattern in RESOURCE_FILES:
            for path in sorted(source.glob(pattern)):
                out = target / path.relative_to(source)
                self.mkpath(str(out.parent))
                self.copy_file(str(path), str(out))
