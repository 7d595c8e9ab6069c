"""``ldct-train average``: the weight average of several checkpoints of one run (e.g. its epochs)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Average the weights of two or more checkpoints of one architecture, normalization and training
mode (typically a run's epoch_NNN.pt files) into one checkpoint: stochastic weight averaging. A
WGAN-GP generator's grain swings from epoch to epoch; the average sits at the centre of that swing
instead of wherever the last epoch stopped. The sources are recorded in the new checkpoint's
metadata; evaluate it like any other (ldct-train evaluate, evaluate-real).
"""

EPILOG = """\
examples:
  ldct-train average runs/wgan/epoch_0{05..12}.pt --out runs/wgan/swa_05_12.pt
  ldct-train evaluate-real --checkpoint runs/wgan/swa_05_12.pt --real data/sources/eval --doses 25 --views 720
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("average", help="average the weights of several checkpoints (e.g. a run's epochs)",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", metavar="CKPT", help="checkpoint files (at least two)")
    p.add_argument("--out", required=True, metavar="CKPT", help="the checkpoint to write (.pt; never overwritten)")
    p.add_argument("--note", default="", help="free text recorded in the checkpoint (why these checkpoints)")
    p.set_defaults(func=run)


def run(args) -> int:
    from trainer.weight_average import average_checkpoints

    sha = average_checkpoints(args.checkpoints, args.out, note=args.note)
    print(f"wrote {args.out}: mean of {len(args.checkpoints)} checkpoints (weights sha256 {sha[:12]})")
    return 0
