"""One training iteration: the reconstruction loss, the generator's optimizer, and the three steps
a run takes — MSE, WGAN-GP critic, WGAN-GP generator. Each step returns its losses (detached) by
``log.csv`` column name; ``trainer.fit`` decides which run when.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainer.critic import critic_loss, sample_mean


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """MSE, or with ``weights`` (one per patch) the mean of weight x per-patch MSE."""
    if weights is None:
        return F.mse_loss(output, target)
    return (((output - target) ** 2).flatten(1).mean(1) * weights).mean()


def generator_optimizer(params, training: dict, l2_mode: str = "decoupled") -> torch.optim.Optimizer:
    """Adam with the L2 term as *decoupled* weight decay (AdamW: w -= lr * l2 * w each step), or with
    ``l2_mode="coupled"`` Adam's own ``weight_decay`` (kept to reproduce older runs).

    Adam's coupled ``weight_decay`` adds l2 * w to the gradient, which Adam then rescales to a full
    learning-rate step. With the MSE in normalized units the data gradient of RED-CNN's deep layers
    falls to about l2 * w once the loss is small, so the decay wins: it erased conv3..deconv1 of a
    96-filter RED-CNN (weights ~1e-18, the session-2 bundled checkpoint) within a few hundred steps."""
    adam = {"decoupled": torch.optim.AdamW, "coupled": torch.optim.Adam}[l2_mode]
    return adam(params, lr=training["learning_rate"], betas=tuple(training["betas"]),
                weight_decay=training["l2_regularization"])


def mse_step(g, opt_g, x, y, w, autocast) -> dict:
    """The seed's MSE step (weighted per patch with ``loss.condition_balance``)."""
    with autocast():
        output = g(x)
    loss = reconstruction_loss(output.float(), y, w)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return {"loss_mse": loss.detach()}


def critic_step(g, c, opt_c, x, y, a, lambda_gp: float, autocast) -> dict:
    """WGAN-GP, every iteration. The critic always runs in fp32, also under run.amp: bf16 keeps 8
    significant bits, so a normalized CT level of 0.25-0.5 is stored in steps of 2^-9 = 8 HU, coarser
    than the 3-5 HU grain the critic must tell apart (history/HISTORY.md). Its price on the 2-core dev CPU:
    bf16 WGAN-GP steps at 1.36x fp32's rate instead of ~1.7x. ``a``: 0/1 per patch, does the
    adversarial term see it (None: every patch)."""
    with torch.no_grad(), autocast():
        fake = g(x)
    loss_c, wasserstein, gp = critic_loss(c, y, fake.float(), lambda_gp, a)
    opt_c.zero_grad(set_to_none=True)
    loss_c.backward()
    opt_c.step()
    return {"loss_critic": loss_c.detach(), "wasserstein": wasserstein, "gradient_penalty": gp}


def generator_step(g, critic, opt_g, x, y, w, a, weights: dict, autocast) -> dict:
    """WGAN-GP, every critic_iterations-th iteration, on the critic step's batch: disc_weight x the
    adversarial term (critic in fp32, frozen) + mse_weight x the reconstruction loss."""
    critic.requires_grad_(False)
    with autocast():
        fake = g(x)
    loss_adv = -sample_mean(critic(fake.float()), a)
    mse = reconstruction_loss(fake.float(), y, w)
    loss_g = weights["disc_weight"] * loss_adv + weights["mse_weight"] * mse
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    critic.requires_grad_(True)
    return {"loss_generator": loss_g.detach(), "loss_adversarial": loss_adv.detach(), "loss_mse": mse.detach()}
