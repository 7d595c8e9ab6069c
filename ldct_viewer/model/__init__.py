"""The denoising networks (RED-CNN, U-Net, Restormer), their registry, input normalization, and the
safe checkpoint format that carries architecture, weights and provenance."""

from ldct_viewer.model.checkpoint import (
    Checkpoint,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    weights_sha256,
)
from ldct_viewer.model.normalization import Normalization
from ldct_viewer.model.redcnn import REDCNN
from ldct_viewer.model.registry import ARCHITECTURES, build, get_architecture
from ldct_viewer.model.restormer import Restormer
from ldct_viewer.model.unet import UNet

__all__ = [
    "ARCHITECTURES",
    "REDCNN",
    "Checkpoint",
    "Normalization",
    "Restormer",
    "UNet",
    "build",
    "get_architecture",
    "load_checkpoint",
    "resolve_checkpoint",
    "save_checkpoint",
    "weights_sha256",
]
