"""A compact 2-D U-Net (Ronneberger et al., 2015) for CT denoising, predicting a residual.

``depth`` levels of two padded 3×3 convolutions with ReLU, max-pooling between them, doubling the
channels from ``width``; the decoder upsamples with stride-2 transposed convolutions and
concatenates the skip connections. A final 1×1 convolution gives the correction added to the input,
so the network starts near the identity when that layer is zeroed.

Sizes need not divide ``2**depth``: the input is padded at the bottom and right by replication and
the output cropped back. The receptive field is finite (``halo``, rounded up to ``align``), and tiles
whose origins are multiples of ``align`` see the same pooling grid as the whole image, so the
engine's tiling stays exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ARCHITECTURE = "U-Net"
MAX_WIDTH = 256
MAX_DEPTH = 5


def _int_in(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """U-Net on normalized ``[B, 1, H, W]`` images; output has the same shape (input + correction)."""

    def __init__(self, width: int = 32, depth: int = 3) -> None:
        super().__init__()
        params = self.check_params(width=width, depth=depth)
        self.width, self.depth = params["width"], params["depth"]
        w, d = self.width, self.depth
        self.down = nn.ModuleList(_block(1 if i == 0 else w * 2 ** (i - 1), w * 2 ** i) for i in range(d))
        self.bottom = _block(w * 2 ** (d - 1), w * 2 ** d)
        self.up = nn.ModuleList(nn.ConvTranspose2d(w * 2 ** (i + 1), w * 2 ** i, 2, stride=2)
                                for i in reversed(range(d)))
        self.merge = nn.ModuleList(_block(w * 2 ** (i + 1), w * 2 ** i) for i in reversed(range(d)))
        self.head = nn.Conv2d(w, 1, 1)

    @staticmethod
    def check_params(width=32, depth=3) -> dict:
        """The hyper-parameters as ints, or ValueError with a one-line reason (before any allocation)."""
        return {"width": _int_in("width", width, 1, MAX_WIDTH), "depth": _int_in("depth", depth, 1, MAX_DEPTH)}

    @staticmethod
    def infer_params(shapes: dict[str, tuple[int, ...]]) -> dict:
        """Hyper-parameters read off a state_dict's shapes (for imports)."""
        depth = sum(1 for k in shapes if k.startswith("down.") and k.endswith(".0.weight"))
        return {"width": int(shapes["down.0.0.weight"][0]), "depth": depth}

    def arch_params(self) -> dict:
        return {"width": self.width, "depth": self.depth}

    @property
    def align(self) -> int:
        """Tile origins must be multiples of this for tiled results to equal untiled ones."""
        return 2 ** self.depth

    @property
    def halo(self) -> int:
        """Pixels on each side that influence an output pixel (receptive-field radius, rounded up to ``align``).

        Per level ``l``: two 3×3 convolutions in and two out (2·2^l each), pooling and upsampling
        (2^l each); at the bottom two convolutions (2·2^depth)."""
        radius = sum(6 * 2 ** level for level in range(self.depth)) + 2 * 2 ** self.depth
        return -(-radius // self.align) * self.align

    def activation_bytes_per_pixel(self) -> int:
        """Float32 bytes of live feature maps per input pixel at the peak (a deliberate over-estimate):
        about six full-resolution maps of ``width`` channels, and as much again for the coarser levels."""
        return 4 * 12 * self.width

    def start_as_identity(self) -> None:
        """Zero the head: the untrained network returns its input."""
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % self.align, -width % self.align
        y = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
        skips = []
        for block in self.down:
            y = block(y)
            skips.append(y)
            y = F.max_pool2d(y, 2)
        y = self.bottom(y)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
            y = merge(torch.cat([up(y), skip], dim=1))
        y = self.head(y)[..., :height, :width]
        return x + y.to(x.dtype)
