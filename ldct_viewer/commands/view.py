"""``ldct-viewer view`` (the default command): the comparison viewer (LDCT | networks | NDCT)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Open the comparison viewer: LDCT | RED-CNN-MSE | RED-CNN-WGAN-GP | NDCT (or LDCT | the networks
given with --model | NDCT: any number, any registered architecture), synchronized slice,
window/level, zoom and crosshair, with the networks running in the background (slice on screen
first, for every network). Without LDCT, the bundled demo case opens (generated on first run). If LDCT is a folder
holding a recognised LDCT/NDCT pair (Mayo quarter_1mm/full_1mm, TCIA low/full dose), the NDCT is
paired automatically. Press F1 in the viewer for keys and mouse.
"""

EPILOG = """\
examples:
  ldct-viewer                                   # demo case, bundled checkpoints
  ldct-viewer view L067/quarter_1mm --ndct L067/full_1mm
  ldct-viewer view L067                         # Mayo layout: pairs quarter/full dose itself
  ldct-viewer view scan/ --mse runs/mse/best.pt --wgan-gp runs/wgan/best.pt --device cpu
  ldct-viewer view scan/ --model mse --model wgan-gp --model runs/unet/best.pt --model redcnn-public.pt
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "view", help="open the comparison viewer (default command)", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ldct", nargs="*", metavar="LDCT", help="low-dose series: folder(s), files or DICOMDIR")
    p.add_argument("--ndct", nargs="+", metavar="NDCT", help="normal-dose reference series (folder or files)")
    p.add_argument("--model", "-m", action="append", default=[], metavar="CKPT",
                   help="a network to compare: a checkpoint file, or mse / wgan-gp for a bundled one; repeat for "
                        "more (panel order); replaces the bundled pair and the saved list")
    p.add_argument("--mse", metavar="CKPT", help="RED-CNN-MSE checkpoint (default: bundled redcnn-mse.pt)")
    p.add_argument("--wgan-gp", "--wgan", metavar="CKPT",
                   help="RED-CNN-WGAN-GP checkpoint (default: bundled redcnn-wgangp.pt)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the networks run (default auto: CUDA if available)")
    p.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args) -> int:
    from ldct_viewer.inference.device import choose_device
    from ldct_viewer.ui.app import run_viewer

    choose_device(args.device)  # an absent CUDA is a one-line error (exit 2), not a GUI full of dialogs
    networks = None
    if args.model:
        from ldct_viewer.errors import InputError
        from ldct_viewer.networks import networks_from_specs

        if args.mse or args.wgan_gp:
            raise InputError("--model replaces the bundled pair: give it as --model mse --model wgan-gp")
        networks = networks_from_specs(args.model)
        missing = [n.spec for n in networks if n.spec and not n.path.is_file()]
        if missing:
            raise InputError(f"{missing[0]}: checkpoint not found")

    return run_viewer(args.ldct or None, args.ndct, mse=args.mse, wgan_gp=args.wgan_gp, device=args.device,
                      screenshot=args.screenshot, networks=networks)
