"""``ldct-train fit``: train a RED-CNN checkpoint (MSE or WGAN-GP)."""

from __future__ import annotations

import argparse

from trainer.config import load_config
from trainer.fit import MODES, fit
from trainer.state import resume_config

EPILOG = """examples:
  ldct-train fit --mode mse --data data/phantom-ds --out runs/mse
  ldct-train fit --mode wgan-gp --init runs/mse/best.pt --data data/phantom-ds --out runs/wgan \\
      --set training.num_epochs=8
  ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --resume     # after Ctrl-C or a crash
  torchrun --nproc_per_node=4 -m trainer fit --mode mse --data data/phantom-ds --out runs/mse-4gpu
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fit", help="train RED-CNN with MSE or WGAN-GP on a variable-dose dataset",
        description="Train RED-CNN on grid patches of a dataset made by 'ldct-train dataset'. Defaults are "
        "the seed's Config.yaml (trainer/default_config.yaml); override any key with --set.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="CONFIG", help="YAML file with the keys to change (default: the defaults)")
    p.add_argument("--mode", required=True, choices=MODES, help="loss: mse, or wgan-gp (critic + weighted MSE)")
    p.add_argument("--data", required=True, metavar="DATASET", help="dataset folder (manifest.json, ndct/, ldct/)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder: checkpoints, log, figures")
    p.add_argument("--init", metavar="CKPT", help="start from this checkpoint's weights (e.g. the MSE run's best.pt)")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR exactly where it stopped")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set training.learning_rate=5e-5 (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.resume:
        config = resume_config(args.out, args.mode, args.config, args.overrides)
    else:
        config = load_config(args.config, args.overrides)
    fit(config, mode=args.mode, data=args.data, out=args.out, init=args.init, resume=args.resume)
    return 0
