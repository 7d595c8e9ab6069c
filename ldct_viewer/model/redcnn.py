"""RED-CNN (Chen et al., 2017, Fig. 1): a residual encoder-decoder CNN for low-dose CT denoising.

Five 5×5 convolutions shrink the image by 4 px per layer (no padding, stride 1), five transposed
convolutions grow it back, so the output has the input's size and each output pixel sees a 41×41
neighbourhood. Three shortcuts carry the input, conv2's and conv4's activations to the decoder,
where they are added before a ReLU, as in the paper and its reference implementation.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

ARCHITECTURE = "RED-CNN"
# Sane bounds on the hyper-parameters (the paper's: width 96, kernel 5). A width of 2048 already
# means ~1 GB of weights and ~100 TFLOP per 512² slice; anything larger is a typo or a hostile file.
MAX_WIDTH = 1024
MAX_KERNEL_SIZE = 15


def check_arch_params(width, kernel_size) -> tuple[int, int]:
    """``(width, kernel_size)`` as ints, or ValueError with a one-line reason (before any allocation)."""
    values = []
    for name, value, top in (("width", width, MAX_WIDTH), ("kernel_size", kernel_size, MAX_KERNEL_SIZE)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ValueError(f"{name} must be an integer from 1 to {top}, got {value!r}")
        values.append(int(value))
    return values[0], values[1]


class REDCNN(nn.Module):
    """RED-CNN on normalized ``[B, 1, H, W]`` images; output has the same shape."""

    def __init__(self, width: int = 96, kernel_size: int = 5) -> None:
        super().__init__()
        check_arch_params(width, kernel_size)
        self.width = int(width)
        self.kernel_size = int(kernel_size)
        k, w = self.kernel_size, self.width
        self.conv1 = nn.Conv2d(1, w, k)
        self.conv2 = nn.Conv2d(w, w, k)
        self.conv3 = nn.Conv2d(w, w, k)
        self.conv4 = nn.Conv2d(w, w, k)
        self.conv5 = nn.Conv2d(w, w, k)
        self.deconv1 = nn.ConvTranspose2d(w, w, k)
        self.deconv2 = nn.ConvTranspose2d(w, w, k)
        self.deconv3 = nn.ConvTranspose2d(w, w, k)
        self.deconv4 = nn.ConvTranspose2d(w, w, k)
        self.deconv5 = nn.ConvTranspose2d(w, 1, k)

    align = 1  # no pooling: any tile origin gives the untiled result
    global_context = False

    @staticmethod
    def check_params(width=96, kernel_size=5) -> dict:
        """The registry's form of :func:`check_arch_params`."""
        width, kernel_size = check_arch_params(width, kernel_size)
        return {"width": width, "kernel_size": kernel_size}

    @staticmethod
    def infer_params(shapes: dict[str, tuple[int, ...]]) -> dict:
        """Hyper-parameters read off a state_dict's shapes (checkpoints without them, imports)."""
        return {"width": int(shapes["conv1.weight"][0]), "kernel_size": int(shapes["conv1.weight"][-1])}

    def activation_bytes_per_pixel(self) -> int:
        """Float32 bytes per pixel at the widest point: input, output and the two shortcuts, plus slack."""
        return 4 * 5 * self.width

    @property
    def halo(self) -> int:
        """Pixels on each side that influence an output pixel: (receptive field - 1) / 2."""
        return 5 * (self.kernel_size - 1)

    @staticmethod
    def parameter_shapes(width: int, kernel_size: int) -> dict[str, tuple[int, ...]]:
        """The state_dict's tensor shapes for these hyper-parameters, computed without allocating them."""
        with torch.device("meta"):
            net = REDCNN(width, kernel_size)
        return {name: tuple(t.shape) for name, t in net.state_dict().items()}

    def arch_params(self) -> dict:
        return {"width": self.width, "kernel_size": self.kernel_size}

    def start_as_identity(self) -> None:
        """Zero the last deconvolution so the untrained network returns its (non-negative) input.

        Training then starts from the LDCT itself instead of a random image and only learns the
        correction through the input shortcut, the zero-init residual scheme of Goyal et al. (2017)."""
        with torch.no_grad():
            self.deconv5.weight.zero_()
            self.deconv5.bias.zero_()

    @torch.no_grad()
    def center_biases(self, x: Tensor) -> None:
        """Data-dependent start: layer by layer, set each bias so that its channel's pre-activation
        averages 0 over the calibration batch ``x`` (normalized patches), and the last layer's so the
        correction it adds to the input averages 0.

        Why: normalized CT is all positive (air at 0.256), so with PyTorch's initialization every
        first-layer filter whose weights sum below 0 is negative on every input and its ReLU never
        fires: a third of conv1's units start dead, and from there a few steps kill most of conv2's.
        Centered, each unit fires on about half the inputs, and the untrained network returns its
        input plus a zero-mean correction instead of an image offset by hundreds of HU."""
        def center(layer: nn.Module, pre: Tensor) -> Tensor:
            shift = pre.mean(dim=(0, 2, 3))
            layer.bias -= shift
            return pre - shift.view(1, -1, 1, 1)

        self._run(x, center)

    def forward(self, x: Tensor) -> Tensor:
        return self._run(x, _unchanged)

    def _run(self, x: Tensor, pre: Callable[[nn.Module, Tensor], Tensor]) -> Tensor:
        """The network's wiring, once: ``pre(layer, value)`` sees each layer's pre-activation (with
        its shortcut added; the last layer's before the input is) and returns what goes on."""
        relu = torch.relu
        shortcut_input = x
        out = relu(pre(self.conv1, self.conv1(x)))
        out = relu(pre(self.conv2, self.conv2(out)))
        shortcut_conv2 = out
        out = relu(pre(self.conv3, self.conv3(out)))
        out = relu(pre(self.conv4, self.conv4(out)))
        shortcut_conv4 = out
        out = relu(pre(self.conv5, self.conv5(out)))

        out = relu(pre(self.deconv1, self.deconv1(out) + shortcut_conv4))
        out = relu(pre(self.deconv2, self.deconv2(out)))
        out = relu(pre(self.deconv3, self.deconv3(out) + shortcut_conv2))
        out = relu(pre(self.deconv4, self.deconv4(out)))
        return relu(pre(self.deconv5, self.deconv5(out)) + shortcut_input)


def _unchanged(layer: nn.Module, pre: Tensor) -> Tensor:
    return pre
