"""A compact Restormer-style restoration network (Zamir et al., 2022): transposed attention blocks.

A 3×3 convolution embeds the image in ``width`` channels; ``blocks`` transformer blocks follow, each
a multi-Dconv head *transposed* attention (MDTA: queries, keys and values from 1×1 then depth-wise
3×3 convolutions; attention between channels, not pixels, so its cost grows linearly with the
image) and a gated depth-wise feed-forward network (GDFN), both behind a channel layer norm with a
residual; a 3×3 convolution gives the correction added to the input. Single scale (no
down/upsampling) keeps it small enough to train on a CPU in tests.

The channel attention sees the whole input, so the receptive field is global: a tiled result
differs slightly from an untiled one (``global_context``). ``halo`` is the local part (the
convolutions' reach); the engine tiles such networks only when memory leaves no choice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ARCHITECTURE = "Restormer"
MAX_WIDTH = 512
MAX_BLOCKS = 32
MAX_HEADS = 16
EXPANSION = 2  # GDFN hidden channels = EXPANSION × width


def _int_in(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


class ChannelNorm(nn.Module):
    """Layer norm over the channels of each pixel, with a learned scale and bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        return (x - mean) / torch.sqrt(var + 1e-5) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class TransposedAttention(nn.Module):
    """MDTA: per head, a ``C/heads × C/heads`` attention map between channels, over all pixels."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.qkv_dw = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels)
        self.project = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv_dw(self.qkv(x)).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, c // self.heads, h * w) for t in (q, k, v))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attention = (q @ k.transpose(-2, -1) * self.temperature).softmax(dim=-1)
        return self.project((attention @ v).reshape(b, c, h, w))


class GatedFeedForward(nn.Module):
    """GDFN: 1×1 up, depth-wise 3×3, GELU gate, 1×1 down."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = EXPANSION * channels
        self.inner = nn.Conv2d(channels, 2 * hidden, 1)
        self.inner_dw = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden)
        self.outer = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        gate, value = self.inner_dw(self.inner(x)).chunk(2, dim=1)
        return self.outer(F.gelu(gate) * value)


class TransformerBlock(nn.Module):
    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.norm1 = ChannelNorm(channels)
        self.attention = TransposedAttention(channels, heads)
        self.norm2 = ChannelNorm(channels)
        self.feed_forward = GatedFeedForward(channels)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.feed_forward(self.norm2(x))


class Restormer(nn.Module):
    """Restormer-style network on normalized ``[B, 1, H, W]`` images (input + correction)."""

    global_context = True  # channel attention pools over the whole image
    align = 1

    def __init__(self, width: int = 32, blocks: int = 4, heads: int = 2) -> None:
        super().__init__()
        params = self.check_params(width=width, blocks=blocks, heads=heads)
        self.width, self.blocks, self.heads = params["width"], params["blocks"], params["heads"]
        self.embed = nn.Conv2d(1, self.width, 3, padding=1)
        self.body = nn.Sequential(*(TransformerBlock(self.width, self.heads) for _ in range(self.blocks)))
        self.head = nn.Conv2d(self.width, 1, 3, padding=1)

    @staticmethod
    def check_params(width=32, blocks=4, heads=2) -> dict:
        """The hyper-parameters as ints, or ValueError with a one-line reason (before any allocation)."""
        params = {"width": _int_in("width", width, 1, MAX_WIDTH), "blocks": _int_in("blocks", blocks, 1, MAX_BLOCKS),
                  "heads": _int_in("heads", heads, 1, MAX_HEADS)}
        if params["width"] % params["heads"]:
            raise ValueError(f"width ({params['width']}) must be a multiple of heads ({params['heads']})")
        return params

    @staticmethod
    def infer_params(shapes: dict[str, tuple[int, ...]]) -> dict:
        """Hyper-parameters read off a state_dict's shapes (for imports)."""
        blocks = sum(1 for k in shapes if k.startswith("body.") and k.endswith(".attention.temperature"))
        return {"width": int(shapes["embed.weight"][0]), "blocks": blocks,
                "heads": int(shapes["body.0.attention.temperature"][0])}

    def arch_params(self) -> dict:
        return {"width": self.width, "blocks": self.blocks, "heads": self.heads}

    @property
    def halo(self) -> int:
        """The convolutions' reach: embedding, two depth-wise 3×3 per block, output (attention is global)."""
        return 2 + 2 * self.blocks

    def activation_bytes_per_pixel(self) -> int:
        """Float32 bytes of live maps per pixel at the peak: the block input, q/k/v before and after
        their depth-wise convolution, and the feed-forward's hidden maps (an over-estimate)."""
        return 4 * self.width * (2 + 6 + 4 * EXPANSION + 2)

    def start_as_identity(self) -> None:
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        y = self.embed(x)
        y = self.body(y)
        return x + self.head(y).to(x.dtype)
