"""``ldct-viewer denoise INPUT --model M --out DIR``: denoise a CT series headless, write DICOM."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

import numpy as np

from ldct_viewer.errors import InputError
from ldct_viewer.io import Series, check_output_folder, load_series, write_series
from ldct_viewer.progress import ProgressBar

# A literal copy of ldct_viewer.inference.device.DEVICE_CHOICES so that building the parser does not
# import torch (tests/test_cli_startup.py checks they stay equal).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

DESCRIPTION_LIMIT = 64  # DICOM LO value length


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "denoise",
        help="denoise a CT series with one or more checkpoints and write each result as a new DICOM series",
        description="Denoise one CT series (a DICOM folder, files or a DICOMDIR) with a checkpoint of any "
        "registered architecture (RED-CNN, U-Net, Restormer) and write the result to a new folder as a "
        "DICOM series: same geometry, patient and study, new series/instance UIDs, ImageType "
        "DERIVED\\SECONDARY, HU kept exactly through RescaleSlope/Intercept. With several --model, each "
        "network's series goes to its own subfolder of --out (named by its key, e.g. u-net-mse). Results "
        "are cached per checkpoint, so a repeated run is instant.",
    )
    parser.add_argument("input", metavar="INPUT", nargs="+", help="DICOM folder, file(s) or DICOMDIR")
    parser.add_argument("--model", "-m", required=True, action="append", metavar="M",
                        help="mse, wgan-gp (bundled checkpoints) or the path of a checkpoint .pt; repeat to "
                        "denoise with several networks (one subfolder each)")
    parser.add_argument("--out", "-o", required=True, metavar="DIR",
                        help="new output folder (must not exist or be empty; not inside the input)")
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help=f"compute device: {', '.join(DEVICE_CHOICES)} (default auto: CUDA, else MPS, else CPU)")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="slices per forward pass (default: 1 on CPU, sized to free memory on a GPU)")
    parser.add_argument("--series", default=None, metavar="UID",
                        help="SeriesInstanceUID to use when INPUT holds several CT series; UID:ROWSxCOLUMNS "
                        "(as 'info' lists it) picks one part of a series split by matrix size")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the on-disk result cache")
    parser.set_defaults(func=run)


def series_description(mode: str, checkpoint_name: str, architecture: str = "RED-CNN") -> str:
    text = f"{architecture} {mode} ({checkpoint_name}) denoised"
    if len(text) > DESCRIPTION_LIMIT:
        text = f"{architecture} {mode} denoised"
    return text


def run(args: argparse.Namespace) -> int:
    from ldct_viewer.model import load_checkpoint
    from ldct_viewer.networks import networks_from_specs

    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size {args.batch_size}: must be at least 1")
    out = Path(args.out)
    check_output_folder(out, args.input)
    networks = networks_from_specs(args.model)
    checkpoints = [load_checkpoint(n.spec or n.key) for n in networks]  # every one checked before any work
    logging.getLogger("pydicom").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = args.input[0] if len(args.input) == 1 else args.input
        series: Series = load_series(source, args.series)
    for network, checkpoint in zip(networks, checkpoints):
        target = out if len(networks) == 1 else out / network.key
        _denoise_with(args, checkpoint, series, target)
    return 0


def _denoise_with(args, checkpoint, series: Series, out: Path) -> None:
    """Denoise ``series`` with ``checkpoint`` and write it to the new folder ``out``."""
    from ldct_viewer.inference import Engine

    engine = Engine(checkpoint, device=args.device, batch_size=args.batch_size, disk_cache=not args.no_cache)
    z, rows, cols = series.shape
    print(f"Denoising {z} slices ({rows}x{cols}) of series {series.uid} with {checkpoint.architecture} "
          f"{checkpoint.mode} ({checkpoint.name}, {checkpoint.sha256[:12]}) on {engine.device_description}",
          file=sys.stderr)
    # A GPU outruns per-file reads: read the volume in parallel first. On a CPU, read lazily.
    if engine.device.type == "cpu":
        get_slice = series.slice
    else:
        volume_in = series.volume()
        get_slice = volume_in.__getitem__
    denoised = np.empty((z, rows, cols), dtype=np.float32)
    with ProgressBar(z, "Denoising") as bar:
        for i, result in engine.run(get_slice, z, focus=0, progress=bar.update):
            denoised[i] = result

    description = series_description(checkpoint.mode, checkpoint.name, checkpoint.architecture)
    paths = write_series(out, denoised, reference=series, description=description)
    print(f"Wrote {len(paths)} DICOM files to {out} ({description})")
