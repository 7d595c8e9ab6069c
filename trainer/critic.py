"""The WGAN-GP critic, exactly as in the seed: five convolutions, two of them stride 3, LeakyReLU 0.2.

No normalization layers (batch norm would break the per-sample gradient penalty) and no sigmoid:
the output is an unbounded "realness" map, [B, 1, 5, 5] for 64 px patches, averaged by the losses.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Critic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, kernel_size=5, stride=3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 128, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 128, kernel_size=5, stride=3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 1, kernel_size=3, stride=1, padding=0),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    @torch.no_grad()
    def start_high_pass(self) -> "Critic":
        """Make every first-layer kernel sum to zero and every bias zero (same layers, another start).

        The grain that tells NDCT from a denoiser's output is ~0.001-0.003 in normalized units on
        images of ~0.25-0.6: PyTorch's start lets the image level and the biases place every unit
        far from LeakyReLU's kink, where it is linear in the grain, so the grain averages out and the
        critic has no gradient towards it (measured: a critic still below chance after 865 steps).
        Zero-sum kernels ignore the level (away from the zero-padded border) and zero biases keep
        the units at the kink, where their mean output is proportional to the grain's amplitude.
        """
        first = self.model[0]
        first.weight -= first.weight.mean(dim=(2, 3), keepdim=True)
        for layer in self.model:
            if isinstance(layer, nn.Conv2d):
                layer.bias.zero_()
        return self


def sample_mean(scores: Tensor, weights: Tensor | None) -> Tensor:
    """Mean of per-sample scores (or values), weighted by ``weights`` [B] when given (all-zero weights
    give 0: the batch holds no patch the term applies to, and the step still runs, as DDP needs)."""
    per_sample = scores.float().reshape(scores.shape[0], -1).mean(1)
    if weights is None:
        return per_sample.mean()
    weights = weights.to(per_sample.dtype)
    return (weights * per_sample).sum() / weights.sum().clamp_min(1e-12)


def critic_loss(critic: nn.Module, real: Tensor, fake: Tensor, lambda_gp: float,
                weights: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """WGAN-GP critic objective (Gulrajani et al. 2017): mean D(fake) - mean D(real) + lambda * GP,
    GP = E[(||grad_x D(x_hat)||_2 - 1)^2] on interpolates x_hat = a real + (1 - a) fake, a ~ U(0, 1)
    per sample. Returns (loss, Wasserstein estimate mean D(real) - mean D(fake), GP).

    ``weights`` [B] (0/1) restricts every mean to the pairs the adversarial term applies to
    (``loss.adversarial_conditions``); None = all pairs, the seed's objective.

    Real, fake and interpolates go through the critic in one forward pass, which also keeps
    DistributedDataParallel to its one-forward-one-backward rhythm.
    """
    fake = fake.detach()
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    interpolates = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    scores = critic(torch.cat([real, fake, interpolates]))
    d_real, d_fake, d_interp = scores.float().split(real.shape[0])
    (grad,) = torch.autograd.grad(d_interp.sum(), interpolates, create_graph=True)
    penalty = sample_mean((grad.float().flatten(1).norm(2, dim=1) - 1.0) ** 2, weights)
    wasserstein = sample_mean(d_real, weights) - sample_mean(d_fake, weights)
    return -wasserstein + lambda_gp * penalty, wasserstein.detach(), penalty.detach()
