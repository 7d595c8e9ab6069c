"""``ldct-train phantoms``: seeded anatomical phantom volumes written as DICOM series."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ldct_viewer.ct.phantom import LEVEL_RANGE_MM
from ldct_viewer.errors import InputError

EPILOG = """examples:
  ldct-train phantoms --out data/phantoms --volumes 8 --slices 32
  ldct-train phantoms --out data/tiny --volumes 3 --slices 4 --size 128 --seed 7
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "phantoms", help="write procedural anatomical phantoms (thorax to abdomen) as DICOM series",
        description="Generate seeded 3D phantoms in HU (body wall, lungs, heart, liver, spleen, kidneys, "
        "bowel, vessels, spine and ribs, low-contrast lesions) and write each as a DICOM CT series "
        "OUT/phantom_XXX/ with patient ID PHANTOM-<seed>-<i>. Volumes get different seeds and body "
        "levels spread from the chest to the lower abdomen.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; existing volumes are never overwritten)")
    p.add_argument("--volumes", type=int, required=True, metavar="N", help="number of volumes")
    p.add_argument("--slices", type=int, required=True, metavar="Z", help="slices per volume")
    p.add_argument("--size", type=int, default=512, metavar="PX", help="matrix size (default 512)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--slice-thickness", type=float, default=1.0, metavar="MM", help="slice spacing in mm (default 1)")
    p.add_argument("--fov", type=float, default=380.0, metavar="MM", help="field of view in mm (default 380)")
    p.add_argument("--fov-range", type=_range, default=None, metavar="MIN,MAX",
                   help="draw each volume's field of view uniformly in MIN..MAX mm (pixel spacing = FOV / size); "
                   "overrides --fov")
    p.set_defaults(func=run)


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX in mm, got {text!r}") from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"need 0 < MIN <= MAX, got {text!r}")
    return lo, hi


def phantom_plan(volumes: int, slices: int, seed: int, slice_thickness_mm: float) -> list[tuple[int, float]]:
    """(phantom seed, start level in mm) per volume: levels spread evenly from chest to abdomen."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB0D1]))
    extent = (slices - 1) * slice_thickness_mm
    lo, hi = 40.0, max(LEVEL_RANGE_MM[1] - 20.0 - extent, 40.0)
    plan = []
    for i in range(volumes):
        frac = (i + rng.uniform(0.2, 0.8)) / volumes
        phantom_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0] & 0x7FFFFFFF)
        plan.append((phantom_seed, float(lo + (hi - lo) * frac)))
    return plan


def run(args) -> int:
    from ldct_viewer.ct import generate_phantom
    from ldct_viewer.io import write_series

    if args.volumes < 1 or args.slices < 1:
        raise InputError("--volumes and --slices must be at least 1")
    if not 16 <= args.size <= 2048:
        raise InputError(f"--size {args.size} is outside 16..2048")
    if args.slice_thickness <= 0 or args.fov <= 0:
        raise InputError("--slice-thickness and --fov must be positive")
    from ldct_viewer.atomic import require_writable_folder

    out = require_writable_folder(Path(args.out))
    targets = [out / f"phantom_{i:03d}" for i in range(args.volumes)]
    for t in targets:
        if t.exists() and (not t.is_dir() or any(t.iterdir())):
            raise InputError(f"{t}: already exists; choose another --out")
    plan = phantom_plan(args.volumes, args.slices, args.seed, args.slice_thickness)
    fovs = ([args.fov] * args.volumes if args.fov_range is None else
            np.random.default_rng([args.seed, 0xF0F]).uniform(*args.fov_range, size=args.volumes).tolist())
    t0 = time.perf_counter()
    for i, (target, (phantom_seed, level), fov) in enumerate(zip(targets, plan, fovs)):
        volume, spacing = generate_phantom(size=args.size, slices=args.slices, seed=phantom_seed,
                                           slice_thickness_mm=args.slice_thickness, fov_mm=float(fov),
                                           start_z_mm=level)
        end = level + (args.slices - 1) * args.slice_thickness
        description = f"Phantom seed {phantom_seed} level {level:.0f}-{end:.0f} mm"
        write_series(target, volume, reference=None, spacing=spacing, patient_id=f"PHANTOM-{args.seed}-{i}",
                     description=description, derived=False)
        print(f"phantoms: {i + 1}/{args.volumes} {target} ({description}) {time.perf_counter() - t0:.1f} s",
              file=sys.stderr, flush=True)
        print(target)
    return 0
