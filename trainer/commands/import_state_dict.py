"""``ldct-train import``: a plain PyTorch state_dict trained elsewhere → this project's safe checkpoint."""

from __future__ import annotations

import argparse
import sys

from ldct_viewer.errors import InputError

DESCRIPTION = """\
Turn a plain PyTorch state_dict of a registered architecture (redcnn, unet, restormer) into an
ldct-viewer checkpoint. The file is loaded with torch.load(weights_only=True) and must be a flat
mapping of names to tensors (nothing else is accepted). State the input normalization the weights
were trained with: the HU window mapped onto 0…1 (--hu-min, --hu-max). Names are mapped by
--layout; hyper-parameters are read off the shapes; every name and shape must match. A sanity run
on a test slice refuses weights whose output is not finite or moves the image by more than 150 HU
on average (the usual sign of a wrong normalization).
"""

EPILOG = """\
examples:
  # RED-CNN from github.com/SSinyu/RED-CNN (saved as REDCNN_100000iter.ckpt; HU -1024..3072 -> 0..1)
  ldct-train import REDCNN_100000iter.ckpt --arch redcnn --layout public-redcnn \\
      --hu-min -1024 --hu-max 3072 --out redcnn-public.pt
  # a U-Net of this project's layout, trained on HU -1024..3072, checked on one of your slices
  ldct-train import my_unet_state.pt --arch unet --hu-min -1024 --hu-max 3072 --out unet.pt \\
      --test-slice scans/L067/quarter_1mm
"""


def register(subparsers) -> None:
    from ldct_viewer.model.foreign import LAYOUTS
    from ldct_viewer.model.registry import architecture_keys

    p = subparsers.add_parser("import", help="convert a foreign state_dict into a safe ldct-viewer checkpoint",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("state_dict", metavar="STATE_DICT", help="a file saved with torch.save(model.state_dict(), ...)")
    p.add_argument("--arch", required=True, choices=architecture_keys(), help="the architecture the weights are for")
    p.add_argument("--hu-min", type=float, required=True, metavar="HU", help="HU mapped to 0 by the training normalization")
    p.add_argument("--hu-max", type=float, required=True, metavar="HU", help="HU mapped to 1 by the training normalization")
    p.add_argument("--out", required=True, metavar="CKPT", help="the checkpoint to write (.pt)")
    p.add_argument("--layout", default="native", choices=tuple(LAYOUTS),
                   help="parameter names: " + "; ".join(f"{k}: {v[2]}" for k, v in LAYOUTS.items()))
    p.add_argument("--mode", default="mse", choices=("mse", "wgan-gp"), help="how the weights were trained (default mse)")
    p.add_argument("--set", dest="params", action="append", default=[], metavar="NAME=INT",
                   help="fix a hyper-parameter instead of reading it off the shapes (e.g. heads=4 for restormer)")
    p.add_argument("--test-slice", metavar="DICOM", help="series for the sanity run (its middle slice; "
                   "default: a procedural phantom slice)")
    p.add_argument("--force", action="store_true", help="import even if the sanity run looks wrong")
    p.add_argument("--note", default="", help="free text recorded in the checkpoint (where the weights come from)")
    p.set_defaults(func=run)


def _params(items: list[str]) -> dict:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            params[name.strip()] = int(value)
        except ValueError:
            raise InputError(f"--set {item!r}: expected NAME=INTEGER") from None
        if not sep or not name.strip():
            raise InputError(f"--set {item!r}: expected NAME=INTEGER")
    return params


def run(args) -> int:
    from pathlib import Path

    from ldct_viewer.model.foreign import import_state_dict

    out = Path(args.out)
    if out.exists():
        raise InputError(f"{out}: exists; choose a new file (imports never write over a checkpoint)")
    test, name = None, ""
    if args.test_slice:
        from ldct_viewer.io import load_series

        series = load_series(args.test_slice)
        test, name = series.slice(len(series) // 2), f"{args.test_slice}, slice {len(series) // 2 + 1}"
    report = import_state_dict(args.state_dict, out, arch=args.arch, hu_min=args.hu_min, hu_max=args.hu_max,
                               mode=args.mode, layout=args.layout, params=_params(args.params), test_slice=test,
                               test_slice_name=name, force=args.force, note=args.note)
    described = ", ".join(f"{k}={v}" for k, v in report.params.items())
    print(f"{report.architecture}({described}): names and shapes match ({report.renamed} renamed by layout "
          f"{args.layout}); sanity run on {report.test_slice}: mean |change| {report.mean_change_hu:.1f} HU, "
          f"output {report.output_range_hu[0]:.0f}…{report.output_range_hu[1]:.0f} HU", file=sys.stderr)
    print(f"wrote {out} (weights sha256 {report.sha256[:12]})")
    return 0
