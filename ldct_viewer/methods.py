"""The two denoising methods compared, under the one key every layer uses.

The key is the checkpoint's training mode; the CLI (``--model wgan-gp``), the saved settings,
the viewer's panels, the export's PNG metadata and the reader study's CSV all use it as is.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = ("mse", "wgan-gp")
METHOD_LABELS: dict[str, str] = {"mse": "RED-CNN-MSE", "wgan-gp": "RED-CNN-WGAN-GP"}
BUNDLED_FILES: dict[str, str] = {"mse": "redcnn-mse.pt", "wgan-gp": "redcnn-wgangp.pt"}
