"""``ldct-viewer`` command line: ``view`` (default), ``info``, ``denoise``, ``simulate``, ``export``.

Each subcommand lives in ``ldct_viewer.commands.<name>`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func``; command modules import heavy libraries (torch, Qt) only
when run, so ``--help`` and ``info`` start fast. User errors (``LdctError``) print one line and exit 2.
``trainer.cli`` builds ``ldct-train`` with the same two functions.
"""

from __future__ import annotations

import argparse
import importlib
import errno
import os
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


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a program ended by SIGPIPE, like `yes | head`


def run_command(prog: str, args: argparse.Namespace) -> int:
    """Run the chosen subcommand; a user error becomes one line on stderr and exit code 2.

    Standard output is flushed here, so that a write error surfaces while it can still be reported:
    a reader that went away (``| head``) ends the command quietly with 141, as a SIGPIPE would; a
    full or failing output (``> /dev/full``) is one line and exit code 2.
    """
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except LdctError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _discard_stdout()
        return SIGPIPE_EXIT
    except OSError as err:
        if err.errno not in WRITE_ERRNOS:
            raise
        if err.filename is not None:  # e.g. the disk filled up under an output file
            print(f"{prog}: error: {err.filename}: cannot write ({err.strerror})", file=sys.stderr)
            return 2
        _discard_stdout()
        print(f"{prog}: error: cannot write to standard output ({err.strerror or err})", file=sys.stderr)
        return 2


# Write failures that are the environment's, not a bug: one line. Files are written through
# ldct_viewer.atomic, whose errors name the file; an unnamed one is standard output's.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


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
