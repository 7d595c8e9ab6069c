"""Errors a user can act on: each carries a one-line message that names the file and the reason.

The CLI prints ``str(err)`` and exits with code 2; the GUI shows it in a dialog.
Anything else escaping is a bug, and gets a traceback.
"""


class LdctError(Exception):
    """Base for every user-facing error."""


class InputError(LdctError):
    """A path, file or series the user gave cannot be used."""


class CheckpointError(LdctError):
    """A checkpoint file is missing, unsafe, truncated or does not match the model."""


class ConfigError(LdctError):
    """A training/evaluation configuration is invalid."""
