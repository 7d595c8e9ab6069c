"""``ldct-train dataset``: simulated variable-dose LDCT (or real pairs) from NDCT series, for training."""

from __future__ import annotations

import argparse

from ldct_viewer.errors import InputError
from trainer.data.build import DEFAULT_DOSES, DEFAULT_VIEWS, BuildOptions, build_dataset

EPILOG = """examples:
  ldct-train dataset --ndct data/phantoms --out data/phantom-ds
  ldct-train dataset --ndct data/phantoms --out data/phantom-ds --reference-scan 100:1152   # NDCT with full-dose grain
  ldct-train dataset --ndct data/phantoms --out data/small-ds --doses 25,100 --views 180,720 --test-fraction 0.2
  ldct-train dataset --ndct data/sources/train data/phantoms --out data/mixed-ds --randomize-scanner \
      --doses 5,10,15,25,35,50,70,100 --reference-scan 100:1152 --val-patients REAL-TOTALSEG-CTA-B
  ldct-train dataset --ndct /data/mayo --out data/mayo-ds --paired     # quarter/full dose pairs, no simulation
"""


def number_list(kind):
    """An argparse type: comma-separated numbers of ``kind``."""
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError("empty list")
        return values

    return parse


def _scan(text: str) -> tuple[float, int]:
    try:
        dose, views = text.split(":")
        return float(dose), int(views)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DOSE_PERCENT:VIEWS such as 100:1152, got {text!r}") from None


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dataset", help="simulate dose x views conditions from NDCT series (or use real pairs) into a dataset",
        description="Read NDCT series (phantoms from 'ldct-train phantoms' or your own scans), simulate a low-dose "
        "scan for every dose x views condition (names d{dose}_v{views}, e.g. d25_v360) and store float32 HU "
        "arrays plus manifest.json in OUT, split into train/val/test by patient. Folders with recognised "
        "LDCT/NDCT pairs (Mayo quarter/full dose, TCIA) are stored as they are, condition 'real'.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ndct", nargs="+", required=True, metavar="DIR", help="folders or files with NDCT series")
    p.add_argument("--out", required=True, metavar="DIR", help="new dataset folder (must not exist or be empty)")
    p.add_argument("--doses", type=number_list(float), default=DEFAULT_DOSES, metavar="PCT,...",
                   help="dose levels in percent of full dose (default 10,25,50,100)")
    p.add_argument("--views", type=number_list(int), default=DEFAULT_VIEWS, metavar="N,...",
                   help="projection views per rotation (default 180,360,720)")
    p.add_argument("--seed", type=int, default=0, help="seed for the noise and the split (default 0)")
    p.add_argument("--val-fraction", type=float, default=0.2, metavar="F",
                   help="fraction of patients for validation, at least one when there are two (default 0.2)")
    p.add_argument("--test-fraction", type=float, default=0.0, metavar="F",
                   help="fraction of patients held out for testing (default 0)")
    p.add_argument("--method", default="noise-insertion", choices=("noise-insertion", "full"),
                   help="noise-insertion: add only the simulated noise/streak difference to the NDCT; "
                   "full: reconstruct the simulated scan (default noise-insertion)")
    p.add_argument("--input-dose", default="auto", choices=("auto", "none", "full"),
                   help="noise already in the NDCT: none (phantoms), full (real full-dose scans: only the "
                   "extra noise is inserted), auto = none for PHANTOM-* patients, else full (default)")
    p.add_argument("--reference-scan", type=_scan, default=None, metavar="PCT:VIEWS",
                   help="noise-free inputs (phantoms) only: make the NDCT target a simulated scan at this dose and "
                   "view count (e.g. 100:1152), with normal-dose grain and noise independent of the LDCT "
                   "conditions, as a real normal-dose scan has; the noise-free image is kept as truth/ "
                   "(default: the noise-free image is the NDCT)")
    p.add_argument("--randomize-scanner", action="store_true",
                   help="draw a random scanner per volume (fan or parallel beam, FBP kernel, display pixel spacing "
                   "0.5-1.0 mm: scans are simulated at the source's spacing, then resampled) and per condition "
                   "(electronic noise, photon scale x0.5-2; slice thickness 1-5 mm for noise-free phantoms), "
                   "recorded in the manifest (default: the calibrated default scanner for every scan)")
    p.add_argument("--val-patients", type=lambda t: tuple(v for v in t.split(",") if v), default=(),
                   metavar="ID,...", help="patient IDs to put in the validation split (the others are split "
                   "by --val-fraction/--test-fraction)")
    pair = p.add_mutually_exclusive_group()
    pair.add_argument("--paired", action="store_true", help="require real LDCT/NDCT pairs (no simulation)")
    pair.add_argument("--simulate", action="store_true",
                      help="simulate even when the folders contain LDCT/NDCT pairs")
    p.add_argument("--device", default="auto", help="simulation device: auto, cpu, cuda, cuda:N (default auto)")
    p.set_defaults(func=run)


def run(args) -> int:
    if not (0 <= args.val_fraction < 1 and 0 <= args.test_fraction < 1
            and args.val_fraction + args.test_fraction < 1):
        raise InputError("--val-fraction and --test-fraction must be in [0, 1) and sum to less than 1")
    options = BuildOptions(doses=args.doses, views=args.views, seed=args.seed, val_fraction=args.val_fraction,
                           test_fraction=args.test_fraction, method=args.method, input_dose=args.input_dose,
                           device=args.device, reference_scan=args.reference_scan,
                           randomize_scanner=args.randomize_scanner, val_patients=args.val_patients)
    paired = True if args.paired else False if args.simulate else None
    out = build_dataset(args.ndct, args.out, options, paired=paired)
    from trainer.data import VariableDoseDataset

    ds = VariableDoseDataset(out)
    counts = ", ".join(f"{s} {len(ds.volumes(s))}" for s in ("train", "val", "test"))
    print(f"{out}: {len(ds.volumes())} volumes ({counts}), conditions {', '.join(ds.conditions)}")
    return 0
