"""``ldct-viewer export``: the GUI's comparison PNGs, headless (inference runs as needed)."""

from __future__ import annotations

import argparse
import sys
import time

from ldct_viewer.display import DIFF_MODES
from ldct_viewer.errors import CheckpointError, InputError
from ldct_viewer.orientation import PLANES

DESCRIPTION = """\
Write one comparison PNG per slice: LDCT | each network | NDCT (the bundled RED-CNN-MSE and
RED-CNN-WGAN-GP, or the checkpoints given with --model, any number and architecture), windowed at
native resolution, labelled with window/level, slice number and position and metrics against the
NDCT; optionally a second row of difference maps. PNG text chunks record the checkpoint hashes,
series UIDs, window and slice. Slice numbers are 1-based (slice 1 is the first slice of the
LDCT series in position order). Files are named slice_NNNN.png; an existing file is never
replaced: the new file gets _2, _3, ... appended. If LDCT is a folder holding a recognised
LDCT/NDCT pair (Mayo quarter_1mm/full_1mm, TCIA low/full dose), the NDCT is found automatically.
Images are in the radiological convention whatever the storage order (axial: anterior up, patient
right on the left); the header gives the DICOM patient coordinate (z = ... mm for axial slices).
--plane coronal|sagittal writes reformats (superior up, square pixels from slice and pixel spacing)
instead, one PNG per section (--slices then counts coronal/sagittal sections, files coronal_NNNN.png).
"""

EPILOG = """\
examples:
  ldct-viewer export L067/quarter_1mm --ndct L067/full_1mm --out png/ --slices 40:60
  ldct-viewer export L067 --out png/ --window lung --diff minus_ndct --diff-range 100
  ldct-viewer export --demo --out png/ --slices 14
  ldct-viewer export --demo --out png/ --slices 15 --roi 90,200,70,55   # liver ROI with mean and SD
  ldct-viewer export --demo --out png/ --slices 14 --model mse --model wgan-gp \
      --model runs/unet/best.pt --model redcnn-public.pt                  # 4 networks: 6 panels
  ldct-viewer export --demo --out png/ --plane coronal --slices 256     # the middle coronal reformat
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write comparison PNGs (LDCT | networks | NDCT) without the GUI",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ldct", nargs="?", metavar="LDCT", help="low-dose series: folder, files or DICOMDIR")
    p.add_argument("--ndct", metavar="NDCT", help="normal-dose reference series (paired by slice position)")
    p.add_argument("--demo", action="store_true", help="use the bundled demo case instead of LDCT/NDCT")
    p.add_argument("--series-uid", metavar="UID", help="LDCT series to use when LDCT holds several "
                   "(UID:ROWSxCOLUMNS, as 'info' lists it, for one part of a series split by matrix size)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("--slices", default="all", metavar="all|N|A:B",
                   help="1-based slice numbers: all (default), one number, or an inclusive range A:B")
    p.add_argument("--plane", default="axial", choices=PLANES,
                   help="axial slices (default) or coronal / sagittal reformats, as the viewer shows them")
    p.add_argument("--window", default="abdomen", metavar="PRESET|W/L",
                   help="window preset (abdomen, lung, bone, brain, liver, mediastinum, stroke) "
                        "or width/level in HU, e.g. 400/40 (default abdomen)")
    p.add_argument("--diff", default="none", choices=DIFF_MODES,
                   help="add a row of difference maps: output - LDCT or output - NDCT (default none)")
    p.add_argument("--diff-range", type=float, default=50.0, metavar="HU",
                   help="difference colour scale is +-HU (default 50)")
    p.add_argument("--roi", metavar="X,Y,W,H",
                   help="outline the ellipse inscribed in this rectangle (image pixels: column, row of its "
                        "top-left corner, width, height) on every image, with each image's mean and SD")
    p.add_argument("--model", "-m", action="append", default=[], metavar="CKPT",
                   help="a network to compare: a checkpoint file, or mse / wgan-gp for a bundled one; repeat for "
                        "more (in panel order); replaces the bundled pair")
    p.add_argument("--mse", default=None, metavar="CKPT",
                   help="RED-CNN-MSE checkpoint file (default: the bundled one; 'none' leaves the panel empty)")
    p.add_argument("--wgan-gp", "--wgan", default=None, metavar="CKPT",
                   help="RED-CNN-WGAN-GP checkpoint file (default: the bundled one; 'none' leaves the panel empty)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the networks run (default auto: CUDA if available)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the inference cache")
    p.set_defaults(func=run)


def _engine(spec: str, bundled: str, device: str, disk_cache: bool):
    """An inference Engine for ``spec``; None for 'none' or when the bundled checkpoint is not installed."""
    if spec.lower() == "none":
        return None
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import load_checkpoint, resolve_checkpoint

    if spec == bundled:
        try:
            path = resolve_checkpoint(bundled)
        except CheckpointError as err:
            print(f"ldct-viewer: warning: {err}; the {bundled} panel stays empty", file=sys.stderr)
            return None
    else:
        path = spec
    return Engine(load_checkpoint(path), device=device, disk_cache=disk_cache)


def _engines(args) -> tuple[dict, dict]:
    """Network key → Engine (or None) and key → label: the ``--model`` list, else the bundled pair."""
    cache = not args.no_cache
    if not args.model:
        return ({"mse": _engine(args.mse or "mse", "mse", args.device, cache),
                 "wgan-gp": _engine(args.wgan_gp or "wgan-gp", "wgan-gp", args.device, cache)}, {})
    if args.mse or args.wgan_gp:
        raise InputError("--model replaces the bundled pair: give it as --model mse --model wgan-gp "
                         "instead of --mse/--wgan-gp")
    from ldct_viewer.networks import networks_from_specs

    networks = networks_from_specs(args.model)
    engines = {n.key: _engine(n.spec or n.key, n.key, args.device, cache) for n in networks}
    return engines, {n.key: n.label for n in networks}


class ProgressLine:
    """Progress bar with ETA on a terminal; one line per 10 % when stderr is not a terminal."""

    def __init__(self, stream, label: str = "export") -> None:
        self.stream, self.label = stream, label
        self.start = time.perf_counter()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (total - done) if done else 0.0
        filled = int(24 * done / max(total, 1))
        line = (f"{self.label} [{'#' * filled}{'.' * (24 - filled)}] {done}/{total}  "
                f"{elapsed:6.1f} s, ETA {eta:6.1f} s")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        else:
            decile = 10 * done // max(total, 1)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()


def parse_roi(text: str):
    """``X,Y,W,H`` (image pixels) → an ``EllipseRoi``; a one-line InputError otherwise."""
    from ldct_viewer.analysis.roi import EllipseRoi

    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--roi {text!r}: expected X,Y,W,H in image pixels, e.g. 120,200,60,45") from None
    if not (w > 0 and h > 0) or not all(abs(v) < 1e6 for v in (x, y, w, h)):
        raise InputError(f"--roi {text!r}: width and height must be greater than 0 pixels")
    return EllipseRoi(x, y, w, h)


def run(args: argparse.Namespace) -> int:
    from ldct_viewer.opening import open_case
    from ldct_viewer.export import export_comparisons, parse_slices
    from ldct_viewer.windowing import parse_window

    from ldct_viewer.atomic import require_writable_folder

    window = parse_window(args.window)  # fail on bad options before any slow work
    require_writable_folder(args.out)
    roi = parse_roi(args.roi) if args.roi else None
    if not args.diff_range > 0:
        raise InputError(f"--diff-range {args.diff_range:g}: must be greater than 0 HU")
    if args.demo:
        if args.ldct or args.ndct:
            raise InputError("--demo replaces LDCT and --ndct; give one or the other")
        from ldct_viewer.demo import open_demo_case

        stages: list[str] = []

        def report(p) -> None:  # one line per stage, not per batch of slices
            if not stages or stages[-1] != p.stage:
                stages.append(p.stage)
                print(f"demo case: {p.stage}", file=sys.stderr)

        case = open_demo_case(progress=report)
    elif args.ldct is None:
        raise InputError("no LDCT series given (or use --demo)")
    else:
        case = open_case(args.ldct, args.ndct, series_uid=args.series_uid)
    from ldct_viewer.planes import PlaneGeometry

    indices = parse_slices(args.slices, PlaneGeometry.of(case.ldct).count(args.plane))
    if args.diff == "minus_ndct" and case.ndct is None:
        print("ldct-viewer: warning: --diff minus_ndct without an NDCT series: the difference tiles stay empty",
              file=sys.stderr)

    engines, labels = _engines(args)
    devices = {e.device_description for e in engines.values() if e is not None}
    what = "slice(s)" if args.plane == "axial" else f"{args.plane} section(s)"
    print(f"{case.describe()}; exporting {len(indices)} {what}"
          + (f" on {', '.join(sorted(devices))}" if devices else ""), file=sys.stderr)
    paths = export_comparisons(case, engines, args.out, indices, window, args.diff, args.diff_range,
                               progress=ProgressLine(sys.stderr), roi=roi, labels=labels, plane=args.plane)
    for path in paths:
        print(path)
    return 0
