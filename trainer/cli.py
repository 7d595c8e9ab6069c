"""``ldct-train``: ``phantoms``, ``dataset``, ``fit``, ``evaluate``.

Each subcommand lives in ``trainer.commands.<name>`` with ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ldct_viewer import __version__
from ldct_viewer.errors import LdctError

ORDER = ("phantoms", "dataset", "fit", "evaluate")


def command_names() -> list[str]:
    """Subcommands present in ``trainer.commands``, in the documented order."""
    import trainer.commands as commands

    found = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ldct-train",
        description="Build RED-CNN checkpoints: phantom volumes, variable-dose datasets, MSE and "
        "WGAN-GP training, evaluation tables.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_names():
        module = importlib.import_module(f"trainer.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LdctError as err:
        print(f"ldct-train: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ldct-train: interrupted", file=sys.stderr)
        return 130
