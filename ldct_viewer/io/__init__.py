"""CT series input/output: discovery, grouping and sorting, exact HU, DICOM writing, LDCT/NDCT pairing.

No Qt here. Every pixel array leaving this package is float32 HU with its geometry alongside.
"""

from ldct_viewer.io.discovery import SkippedFile
from ldct_viewer.io.pairing import Pairing, find_pairs, pair_series
from ldct_viewer.io.scanning import ScanResult, load_series, scan
from ldct_viewer.io.series import Series
from ldct_viewer.io.writer import check_output_folder, write_series

__all__ = [
    "scan",
    "load_series",
    "write_series",
    "check_output_folder",
    "pair_series",
    "find_pairs",
    "Series",
    "ScanResult",
    "SkippedFile",
    "Pairing",
]
