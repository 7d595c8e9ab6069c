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


def _smooth_patches(n: int, seed: int, amplitude: float = 0.1) -> torch.Tensor:
    """Normalized-CT-like 32 px patches: a level of 0.4 with smooth structure, no grain
    (amplitude 0.02 = ~80 HU of soft-tissue variation at the checkpoints' 4096 HU span)."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, 8, 8, generator=g)
    return 0.4 + amplitude * nn.functional.interpolate(base, size=32, mode="bicubic", align_corners=False)


def test_high_pass_start_keeps_the_layers_and_ignores_the_image_level():
    torch.manual_seed(0)
    c = Critic().start_high_pass()
    assert [type(m) for m in c.model] == [type(m) for m in Critic().model]
    first = c.model[0]
    assert first.weight.sum(dim=(2, 3)).abs().max() < 1e-6
    assert all(float(m.bias.detach().abs().max()) == 0 for m in c.model if isinstance(m, nn.Conv2d))
    x = _smooth_patches(4, 0)
    with torch.no_grad():
        inner = lambda t: first(t)[..., 1:-1, 1:-1]  # noqa: E731 (away from the zero padding)
        assert torch.allclose(inner(x), inner(x + 0.3), atol=1e-5)


def test_high_pass_start_responds_to_grain_where_pytorchs_start_does_not():
    """Mean first-layer activation with and without grain of 0.003 (~12 HU): at LeakyReLU's kink
    it grows with the grain's amplitude; PyTorch's biases put the units in a linear regime, where
    zero-mean grain averages out."""
    clean = _smooth_patches(16, 1, amplitude=0.02)
    grain = 0.003 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))
    rise = {}
    for name in ("highpass", "default"):
        torch.manual_seed(0)
        c = Critic()
        if name == "highpass":
            c.start_high_pass()
        with torch.no_grad():
            act = lambda t: c.model[1](c.model[0](t))[..., 1:-1, 1:-1].mean()  # noqa: E731
            rise[name] = float(act(clean + grain) - act(clean))
    assert rise["highpass"] > 10 * abs(rise["default"])
    assert rise["highpass"] > 0.01 * 0.003  # a share of the grain's amplitude, not rounding


def test_weighted_critic_loss_ignores_the_pairs_it_excludes():
    """``loss.adversarial_conditions``: pairs with weight 0 change neither the loss nor its gradient;
    all-ones weights are the seed's objective."""
    torch.manual_seed(0)
    critic = Critic().start_high_pass()
    real, fake = _smooth_patches(4, 1), _smooth_patches(4, 2)
    keep = torch.tensor([1.0, 0.0, 1.0, 0.0])
    other = fake.clone()
    other[keep == 0] += 0.05 * torch.randn_like(other[keep == 0])

    def run(f, weights):
        critic.zero_grad()
        torch.manual_seed(5)  # the same interpolation draws
        loss, wasserstein, gp = critic_loss(critic, real, f, 10.0, weights)
        loss.backward()
        return loss.item(), wasserstein.item(), critic.model[0].weight.grad.clone()

    a, b = run(fake, keep), run(other, keep)
    assert abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-7 and torch.allclose(a[2], b[2], atol=1e-7)
    c = run(other, None)
    assert abs(c[0] - b[0]) > 1e-6  # unweighted, the changed pairs count
    expected_w = (critic(real[keep == 1]).mean() - critic(fake[keep == 1]).mean()).item()
    assert abs(a[1] - expected_w) < 1e-6
    seed_loss = run(fake, None)
    assert abs(run(fake, torch.ones(4))[0] - seed_loss[0]) < 1e-6
    none = run(fake, torch.zeros(4))  # a batch without any such pair: a zero step, not a NaN
    assert none[0] == 0.0 and not none[2].abs().max() > 0
