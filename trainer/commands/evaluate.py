"""``ldct-train evaluate``: RMSE/PSNR/SSIM and noise texture per dose × views condition."""

from __future__ import annotations

import argparse

from trainer.evaluate import evaluate, print_summary

EPILOG = """examples:
  ldct-train evaluate --checkpoint mse --checkpoint wgan-gp --data data/phantom-ds --out runs/eval
  ldct-train evaluate --checkpoint runs/mse/best.pt --data data/phantom-ds --split val --slices 4
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score checkpoints against NDCT per dose/views condition (table + figure)",
        description="Denoise the held-out volumes of a dataset with each checkpoint and tabulate RMSE (HU), "
        "PSNR and SSIM (data range 4096 HU, the span of the checkpoints' normalization) and the NPS-based "
        "high-frequency texture distance to NDCT, for the LDCT input and every checkpoint.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", action="append", required=True, metavar="CKPT",
                   help="checkpoint path, or mse / wgan-gp for the bundled ones (repeatable)")
    p.add_argument("--data", required=True, metavar="DATASET", help="dataset folder made by ldct-train dataset")
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="volumes to score (default test)")
    p.add_argument("--out", metavar="DIR", help="write table.md, table.csv, results.json, conditions.png here "
                   "(refused if any of them exists, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace those files in --out if they exist")
    p.add_argument("--slices", type=int, default=0, metavar="N",
                   help="score N evenly spaced slices per volume (default 0 = all)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N (default auto)")
    p.set_defaults(func=run)


def run(args) -> int:
    results = evaluate(args.checkpoint, args.data, split=args.split, out=args.out, slices_per_volume=args.slices,
                       device=args.device, overwrite=args.overwrite)
    print_summary(results)
    return 0
