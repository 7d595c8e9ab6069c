"""Comparison images for reports: numpy composition at native resolution, PNG with provenance.

No Qt: the GUI's export dialog and ``ldct-viewer export`` both call ``export_comparisons``.
"""

from ldct_viewer.export.batch import export_comparisons, parse_slices, slice_file_name, unique_path
from ldct_viewer.export.compose import Composition, compose_comparison, compose_panels
from ldct_viewer.export.png import read_png_text, write_png

__all__ = [
    "Composition",
    "compose_comparison",
    "compose_panels",
    "export_comparisons",
    "parse_slices",
    "read_png_text",
    "slice_file_name",
    "unique_path",
    "write_png",
]
