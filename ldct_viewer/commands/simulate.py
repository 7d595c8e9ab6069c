"""``ldct-viewer simulate NDCT --dose PCT --views N --out DIR``: simulate a low-dose scan of a CT series."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

from ldct_viewer.errors import InputError
from ldct_viewer.io import check_output_folder, load_series, write_series
from ldct_viewer.progress import ProgressBar

# Literal copies of ldct_viewer.ct.METHODS / WINDOWS so that building the parser does not import
# torch (tests/test_cli_startup.py checks they stay equal).
METHODS = ("noise-insertion", "full")
WINDOWS = ("ram-lak", "shepp-logan", "cosine", "hann", "hamming")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a low-dose scan (dose %%, number of views) of a CT series and write it as DICOM",
        description="Project a normal-dose CT series, add quantum and electronic detector noise for the "
        "given fraction of the full dose, reconstruct with filtered back-projection from the given "
        "number of views, and write the result as a new DICOM series with the input's geometry. "
        "Noise defaults are calibrated so that 25%% dose of an adult abdomen shows ~22 HU of noise.",
    )
    parser.add_argument("ndct", metavar="NDCT", nargs="+", help="DICOM folder, file(s) or DICOMDIR")
    parser.add_argument("--dose", required=True, type=float, metavar="PCT",
                        help="dose in percent of the full dose, 1-100 (e.g. 25 for quarter dose)")
    parser.add_argument("--views", required=True, type=int, metavar="N",
                        help="views per rotation (e.g. 180, 360, 720); fewer views add streaks")
    parser.add_argument("--out", "-o", required=True, metavar="DIR",
                        help="new output folder (must not exist or be empty; not inside the input)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="noise seed (default 0)")
    parser.add_argument("--method", choices=METHODS, default="noise-insertion",
                        help="noise-insertion (default): add noise and streaks to the input; "
                        "full: reconstruct the simulated scan")
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N")
    parser.add_argument("--series", default=None, metavar="UID",
                        help="SeriesInstanceUID to use when NDCT holds several CT series; UID:ROWSxCOLUMNS "
                        "(as 'info' lists it) picks one part of a series split by matrix size")
    parser.add_argument("--geometry", choices=("fan", "parallel"), default="fan",
                        help="fan (default; 595/1085.6 mm, curved detector) or parallel beam")
    parser.add_argument("--window", choices=WINDOWS, default="hann",
                        help="FBP apodization window (default hann)")
    parser.add_argument("--input-dose", type=float, default=None, metavar="PCT",
                        help="dose of the input scan in percent; when given, only the extra noise is "
                        "inserted so the total matches --dose (default: treat the input as noise-free)")
    parser.set_defaults(func=run)


def _percent(value: float, option: str) -> float:
    if not 1.0 <= value <= 100.0:
        raise InputError(f"{option} {value:g}: must be a percentage between 1 and 100")
    return value


def run(args: argparse.Namespace) -> int:
    from ldct_viewer.ct import SimulationParams, resolve_device, simulate_low_dose
    from ldct_viewer.ct.simulate import check_memory, check_views

    dose = _percent(args.dose, "--dose")
    input_dose = None if args.input_dose is None else _percent(args.input_dose, "--input-dose")
    if input_dose is not None and input_dose < dose:
        raise InputError(f"--input-dose {input_dose:g} is below --dose {dose:g}: cannot remove noise")
    try:
        check_views(args.views)
    except InputError as err:
        raise InputError(f"--views {args.views}: {err}") from None
    device = resolve_device(args.device)
    out = Path(args.out)
    check_output_folder(out, args.ndct)
    logging.getLogger("pydicom").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = args.ndct[0] if len(args.ndct) == 1 else args.ndct
        series = load_series(source, args.series)
    row_mm, col_mm = series.pixel_spacing
    if abs(row_mm - col_mm) > 1e-3 * max(row_mm, col_mm):
        raise InputError(f"{series.folder}: pixels are not square ({row_mm} x {col_mm} mm); cannot simulate")
    thickness = series.slice_thickness
    params = replace(SimulationParams(), geometry=args.geometry, window=args.window,
                     slice_thickness_mm=thickness)
    z, rows, cols = series.shape
    check_memory(max(rows, cols), args.views, params, device.type)
    print(f"Simulating {dose:g}% dose, {args.views} views ({args.method}, {args.geometry} beam, "
          f"{thickness:g} mm slices) for {z} slices ({rows}x{cols}, {col_mm:g} mm) of series {series.uid} "
          f"on {device}", file=sys.stderr)
    volume = series.volume()
    start = time.monotonic()
    with ProgressBar(z, "Simulating") as bar:
        simulated = simulate_low_dose(
            volume, col_mm, dose=dose / 100.0, views=args.views, seed=args.seed, method=args.method,
            device=str(device), params=params,
            input_dose=None if input_dose is None else input_dose / 100.0, progress=bar.update,
        )
    description = f"Simulated LDCT {dose:g}% dose, {args.views} views (from {series.description})"
    paths = write_series(out, simulated, reference=series, description=description)
    print(f"Wrote {len(paths)} DICOM files to {out} ({description}) in {time.monotonic() - start:.1f} s")
    return 0
