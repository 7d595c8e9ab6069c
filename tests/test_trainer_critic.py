"""The seed's critic and the WGAN-GP critic objective."""

import torch
from torch import nn

from trainer.critic import Critic, critic_loss


def test_critic_is_the_seed_architecture():
    layers = list(Critic().model)
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0])
             for m in layers if isinstance(m, nn.Conv2d)]
    assert convs == [(1, 64, 3, 1, 1), (64, 128, 5, 3, 1), (128, 128, 3, 1, 1), (128, 128, 5, 3, 1), (128, 1, 3, 1, 0)]
    relus = [m.negative_slope for m in layers if isinstance(m, nn.LeakyReLU)]
    assert relus == [0.2] * 4
    assert [type(m) for m in layers] == [nn.Conv2d, nn.LeakyReLU] * 4 + [nn.Conv2d]
    assert Critic()(torch.zeros(2, 1, 64, 64)).shape == (2, 1, 5, 5)
    assert Critic()(torch.zeros(2, 1, 32, 32)).shape == (2, 1, 1, 1)


class LinearCritic(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere, so the penalty is (||w|| - 1)^2."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).sum(dim=(1, 2, 3)).view(-1, 1, 1, 1)


def test_gradient_penalty_and_wasserstein_estimate():
    torch.manual_seed(0)
    w = torch.randn(1, 1, 8, 8)
    real, fake = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    for norm in (1.0, 3.0):
        critic = LinearCritic(w / w.norm() * norm)
        loss, wasserstein, gp = critic_loss(critic, real, fake, lambda_gp=10.0)
        expected_w = (critic(real).mean() - critic(fake).mean()).item()
        assert abs(wasserstein.item() - expected_w) < 1e-5
        assert abs(gp.item() - (norm - 1.0) ** 2) < 1e-4
        assert abs(loss.item() - (-expected_w + 10.0 * (norm - 1.0) ** 2)) < 1e-3
        loss.backward()  # the penalty is differentiable w.r.t. the critic's weights
        assert critic.w.grad is not None and torch.isfinite(critic.w.grad).all()
