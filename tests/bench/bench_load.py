"""Benchmark: load a 300-slice 512x512 uncompressed CT series, ours vs SimpleITK's ImageSeriesReader.

Run: .venv/bin/python tests/bench/bench_load.py [--slices 300] [--size 512] [--repeats 5]
Both readers get the same folder, warm page cache (one untimed run each first), and are timed
alternately; the best and median of each are printed with the ratio ours / SimpleITK.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dicom_factory import write_ct_series  # noqa: E402

from ldct_viewer.io import load_series  # noqa: E402


def load_ours(folder: Path) -> np.ndarray:
    return load_series(folder).volume()


def load_simpleitk(folder: Path):
    """GetGDCMSeriesFileNames + Execute: the SimpleITK image (conversion to numpy not timed)."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    volume = rng.integers(-1024, 2000, size=(args.slices, args.size, args.size)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        folder = Path(tmp) / "series"
        t0 = time.perf_counter()
        write_ct_series(folder, volume, spacing=(1.0, 0.7, 0.7), shuffle=True)
        print(f"wrote {args.slices} slices of {args.size}x{args.size} in {time.perf_counter() - t0:.2f} s")

        import SimpleITK as sitk

        ours = load_ours(folder)  # also warms the page cache
        theirs = sitk.GetArrayFromImage(load_simpleitk(folder)).astype(np.float32)
        if not np.array_equal(ours, volume):
            print("ERROR: our volume differs from what was written")
            return 1
        if not np.array_equal(theirs, volume):
            print("note: SimpleITK's volume differs from what was written (slice order or values)")

        times = {"ldct_viewer.io": [], "SimpleITK": []}
        for _ in range(args.repeats):
            for name, load in (("ldct_viewer.io", load_ours), ("SimpleITK", load_simpleitk)):
                t0 = time.perf_counter()
                load(folder)
                times[name].append(time.perf_counter() - t0)

    for name, values in times.items():
        print(f"{name:15s} best {min(values):.3f} s   median {statistics.median(values):.3f} s"
              f"   ({len(values)} runs)")
    ratio = statistics.median(times["ldct_viewer.io"]) / statistics.median(times["SimpleITK"])
    print(f"ratio ours / SimpleITK (median): {ratio:.2f}  ({'meets' if ratio <= 1 else 'misses'} target <= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
