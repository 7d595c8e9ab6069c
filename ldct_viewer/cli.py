"""``ldct-viewer`` command line: ``view`` (default), ``info``, ``denoise``, ``simulate``, ``export``.

Each subcommand lives in ``ldct_viewer.commands.<name>`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func``. User errors (``LdctError``) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ldct_viewer import __version__
from ldct_viewer.errors import LdctError

ORDER = ("view", "info", "denoise", "simulate", "export")


def command_names() -> list[str]:
    """Subcommands present in ``ldct_viewer.commands``, in the documented order."""
    import ldct_viewer.commands as commands

    found = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ldct-viewer",
        description="Compare RED-CNN low-dose CT denoisers (MSE vs WGAN-GP) against the LDCT input "
        "and the normal-dose reference. Without a subcommand, opens the viewer.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_names():
        module = importlib.import_module(f"ldct_viewer.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0] not in command_names() and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "view")
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LdctError as err:
        print(f"ldct-viewer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ldct-viewer: interrupted", file=sys.stderr)
        return 130
