"""``ldct-train evaluate-real``: scores on real slices with low dose from a scanner training never saw."""

from __future__ import annotations

import argparse

from trainer.commands.dataset import number_list
from trainer.data.build import DEFAULT_DOSES, DEFAULT_VIEWS
from trainer.evaluate_real import evaluate_real, print_summary

EPILOG = """examples:
  ldct-train evaluate-real --checkpoint mse --checkpoint wgan-gp --real data/sources/eval --out runs/real-eval
  ldct-train evaluate-real --checkpoint runs/mse/best.pt --real /data/my-ndct-scans --slices 8
  ldct-train evaluate-real --checkpoint runs/wgan/epoch_005.pt --real data/sources/eval --doses 25 --views 720
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate-real", help="score checkpoints on real CT slices with simulated low dose (held-out anatomy)",
        description="Insert low-dose noise into real normal-dose slices by a method training never used (default: "
        "image-domain noise with a calibrated noise power spectrum; --noise projection: the training simulator on a "
        "flat-detector fan beam training never drew; --noise matched: the image method at each slice's own "
        "measured noise level) at the seed's 12 dose x views conditions, denoise with each "
        "checkpoint and tabulate per condition: windowed RMSE (-160..240 HU) and its ratio to the input's, the "
        "grain (signed high-frequency NPS ratio to NDCT), the edge overshoot inside the body outline, PSNR, SSIM.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", action="append", required=True, metavar="CKPT",
                   help="checkpoint path, or mse / wgan-gp for the bundled ones (repeatable)")
    p.add_argument("--real", nargs="+", required=True, metavar="DIR",
                   help="folders or files of real normal-dose CT (e.g. data/sources/eval); never training data")
    p.add_argument("--out", metavar="DIR", help="write table.md, table.csv, results.json here (never overwritten)")
    p.add_argument("--slices", type=int, default=4, metavar="N", help="evenly spaced slices per series (default 4)")
    p.add_argument("--noise", choices=("image", "projection", "matched"), default="image",
                   help="how the low dose is made: image (default): image-domain noise with a calibrated noise power "
                   "spectrum, a method training never used; projection: the training simulator's method on the "
                   "evaluation scanner; matched: the image method with the added SD sqrt(1/dose - 1) x each NDCT "
                   "slice's own measured noise SD, as a real reduced-dose scan of the same patient")
    p.add_argument("--doses", type=number_list(float), default=DEFAULT_DOSES, metavar="PCT,...",
                   help="dose levels in percent of the NDCT's (default the seed's 10,25,50,100)")
    p.add_argument("--views", type=number_list(int), default=DEFAULT_VIEWS, metavar="N,...",
                   help="projection views per rotation (default the seed's 180,360,720)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N (default auto)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.slices < 1:
        from ldct_viewer.errors import InputError

        raise InputError("--slices must be at least 1")
    print_summary(evaluate_real(args.checkpoint, args.real, out=args.out, slices_per_series=args.slices,
                                device=args.device, noise=args.noise, doses=args.doses, views=args.views))
    return 0
