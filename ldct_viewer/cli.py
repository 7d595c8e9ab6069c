"""``ldct-viewer`` command line: ``view`` (default), ``info``, ``denoise``, ``simulate``, ``export``.

Each subcommand lives in ``ldct_viewer.commands.<name>`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func``; command modules import heavy libraries (torch, Qt) only
when run, so ``--help`` and ``info`` start fast. User errors (``LdctError``) print one line and exit 2.
``trainer.cli`` builds ``ldct-train`` with the same two functions.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from ldct_viewer import __version__
from ldct_viewer.errors import LdctError

ORDER = ("view", "info", "denoise", "simulate", "export")


def command_names(package: ModuleType, order: tuple[str, ...]) -> list[str]:
    """Subcommand modules present in ``package``, in the documented ``order`` first."""
    found = {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}
    return [n for n in order if n in found] + sorted(found - set(order))


def build_command_parser(prog: str, description: str, package: ModuleType, order: tuple[str, ...],
                         *, required: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=required)
    for name in command_names(package, order):
        importlib.import_module(f"{package.__name__}.{name}").register(sub)
    return parser


def run_command(prog: str, args: argparse.Namespace) -> int:
    """Run the chosen subcommand; a user error becomes one line on stderr and exit code 2."""
    try:
        return int(args.func(args) or 0)
    except LdctError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    import ldct_viewer.commands

    return build_command_parser(
        "ldct-viewer",
        "Compare RED-CNN low-dose CT denoisers (MSE vs WGAN-GP) against the LDCT input "
        "and the normal-dose reference. Without a subcommand, opens the viewer.",
        ldct_viewer.commands, ORDER, required=False,
    )


def main(argv: list[str] | None = None) -> int:
    import ldct_viewer.commands

    argv = list(sys.argv[1:] if argv is None else argv)
    names = command_names(ldct_viewer.commands, ORDER)
    if not argv or (argv[0] not in names and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "view")
    return run_command("ldct-viewer", build_parser().parse_args(argv))
