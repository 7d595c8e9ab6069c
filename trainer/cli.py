"""``ldct-train``: ``sources``, ``phantoms``, ``dataset``, ``fit``, ``average``, ``evaluate``, ``evaluate-real``, ``import``.

Each subcommand lives in ``trainer.commands.<name>`` with ``register(subparsers)``.
"""

from __future__ import annotations

import argparse

from ldct_viewer.cli import build_command_parser, run_command

ORDER = ("sources", "phantoms", "dataset", "fit", "average", "evaluate", "evaluate_real", "import_state_dict")


def build_parser() -> argparse.ArgumentParser:
    import trainer.commands

    return build_command_parser(
        "ldct-train",
        "Build RED-CNN checkpoints: phantom volumes, variable-dose datasets, MSE and "
        "WGAN-GP training, evaluation tables.",
        trainer.commands, ORDER, required=True,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command("ldct-train", build_parser().parse_args(argv))
