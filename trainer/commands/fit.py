"""``ldct-train fit``: train a denoiser checkpoint (RED-CNN, U-Net or Restormer; MSE or WGAN-GP)."""

from __future__ import annotations

import argparse

from ldct_viewer.model.registry import architecture_keys
from trainer.config import load_config
from trainer.fit import MODES, fit
from trainer.state import resume_config

EPILOG = """examples:
  ldct-train fit --mode mse --data data/phantom-ds --out runs/mse
  ldct-train fit --mode wgan-gp --init runs/mse/best.pt --data data/phantom-ds --out runs/wgan \\
      --set training.num_epochs=8
  ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --resume     # after Ctrl-C or a crash
  ldct-train fit --arch unet --mode mse --data data/phantom-ds --out runs/unet --set model.width=32
  ldct-train fit --arch restormer --mode mse --data data/phantom-ds --out runs/restormer \\
      --set model.width=32 --set model.blocks=4
  torchrun --nproc_per_node=4 -m trainer fit --mode mse --data data/phantom-ds --out runs/mse-4gpu
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fit", help="train RED-CNN (or --arch unet/restormer) with MSE or WGAN-GP on a variable-dose dataset",
        description="Train a denoiser (RED-CNN unless --arch says otherwise) on grid patches of a dataset made by 'ldct-train dataset'. Defaults are "
        "the seed's Config.yaml (trainer/default_config.yaml); override any key with --set.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="CONFIG", help="YAML file with the keys to change (default: the defaults)")
    p.add_argument("--mode", required=True, choices=MODES, help="loss: mse, or wgan-gp (critic + weighted MSE)")
    p.add_argument("--arch", choices=architecture_keys(), metavar="ARCH",
                   help=f"network: {', '.join(architecture_keys())} (default: the config's model.arch, redcnn); "
                        "the same as --set model.arch=ARCH")
    p.add_argument("--data", required=True, metavar="DATASET", help="dataset folder (manifest.json, ndct/, ldct/)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder: checkpoints, log, figures")
    p.add_argument("--init", metavar="CKPT", help="start from this checkpoint's weights (e.g. the MSE run's best.pt)")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR exactly where it stopped")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set training.learning_rate=5e-5 (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.arch:
        args.overrides = [f"model.arch={args.arch}", *args.overrides]
    if args.resume:
        config = resume_config(args.out, args.mode, args.config, args.overrides)
    else:
        config = load_config(args.config, args.overrides)
    fit(config, mode=args.mode, data=args.data, out=args.out, init=args.init, resume=args.resume)
    return 0
