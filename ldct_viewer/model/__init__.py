"""RED-CNN, its input normalization, and the safe checkpoint format that carries both."""

from ldct_viewer.model.checkpoint import (
    Checkpoint,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    weights_sha256,
)
from ldct_viewer.model.normalization import Normalization
from ldct_viewer.model.redcnn import REDCNN

__all__ = [
    "REDCNN",
    "Checkpoint",
    "Normalization",
    "load_checkpoint",
    "resolve_checkpoint",
    "save_checkpoint",
    "weights_sha256",
]
