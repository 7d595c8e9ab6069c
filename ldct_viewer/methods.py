"""The bundled pair of denoisers — the default comparison — under the one key every layer uses.

The key is the checkpoint's training mode; the CLI (``--model wgan-gp``), the saved settings,
the viewer's panels, the export's PNG metadata and the reader study's CSV all use it as is. Any
other compared network gets its own key (``ldct_viewer.networks``); these two name the bundled files.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = ("mse", "wgan-gp")
METHOD_LABELS: dict[str, str] = {"mse": "RED-CNN-MSE", "wgan-gp": "RED-CNN-WGAN-GP"}
BUNDLED_FILES: dict[str, str] = {"mse": "redcnn-mse.pt", "wgan-gp": "redcnn-wgangp.pt"}
