"""The command line starts fast: building the parser must not import torch, Qt or scipy."""

import subprocess
import sys

from ldct_viewer.commands import denoise, simulate


def test_parser_does_not_import_heavy_modules():
    code = (
        "import sys; import ldct_viewer.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('torch', 'PySide6', 'scipy', 'pyqtgraph') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_choice_literals_match_the_library():
    from ldct_viewer.ct import METHODS, WINDOWS
    from ldct_viewer.inference.device import DEVICE_CHOICES

    assert simulate.METHODS == METHODS
    assert simulate.WINDOWS == WINDOWS
    assert denoise.DEVICE_CHOICES == DEVICE_CHOICES
