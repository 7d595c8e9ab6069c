"""Training figures (matplotlib, Agg backend, no display needed): loss curves from ``log.csv`` and
LDCT | output | NDCT sample comparisons. Each PNG is written to a temp name and renamed."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ldct_viewer.atomic import atomic_write  # noqa: E402
from trainer.logging import read_log  # noqa: E402


def save_figure(fig, path: Path, dpi: int = 110, *, overwrite: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight"), fsync=False,
                     overwrite=overwrite)
    finally:
        plt.close(fig)
    return path


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Running mean over ``window`` points, ignoring NaN gaps (generator rows are sparse)."""
    ok = np.isfinite(values)
    if window <= 1 or ok.sum() < window:
        return values
    v = np.where(ok, values, 0.0)
    kernel = np.ones(window)
    num = np.convolve(v, kernel, mode="same")
    den = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, num / den, np.nan)


def _curve(ax, x, y, label, **kw):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y)
    if ok.any():
        ax.plot(x[ok], y[ok], label=label, **kw)


def plot_losses(log_path: Path, out_dir: Path, mode: str) -> list[Path]:
    """``loss_mse.png`` (train + validation MSE); for WGAN-GP also ``loss_generator.png`` and
    ``loss_critic.png`` (raw per iteration, and a running mean)."""
    log = read_log(log_path)
    it, ep = log["iter"], log["epoch"]
    written = []
    window = max(1, len(it["iteration"]) // 50)

    fig, ax = plt.subplots(figsize=(7, 4))
    _curve(ax, it["iteration"], it["loss_mse"], "train (batch)", alpha=0.3, lw=0.6)
    _curve(ax, it["iteration"], _smooth(np.asarray(it["loss_mse"]), window), f"train (mean of {window})")
    _curve(ax, ep["iteration"], ep["val_mse"], "validation", marker="o")
    ax.set(xlabel="iteration", ylabel="MSE (normalized)", title=f"{mode}: MSE loss", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(save_figure(fig, Path(out_dir) / "loss_mse.png"))

    if mode == "wgan-gp":
        fig, ax = plt.subplots(figsize=(7, 4))
        _curve(ax, it["iteration"], it["loss_generator"], "generator", alpha=0.3, lw=0.6)
        _curve(ax, it["iteration"], _smooth(np.asarray(it["loss_generator"]), window), "generator (running mean)")
        _curve(ax, it["iteration"], _smooth(np.asarray(it["loss_adversarial"]), window), "-mean D(G(x)) (running mean)")
        ax.set(xlabel="iteration", ylabel="loss", title="Generator loss")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # none yet while the critic warms up
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no generator step yet (critic warm-up)", ha="center", transform=ax.transAxes)
        written.append(save_figure(fig, Path(out_dir) / "loss_generator.png"))

        fig, ax = plt.subplots(figsize=(7, 4))
        _curve(ax, it["iteration"], it["loss_critic"], "critic", alpha=0.3, lw=0.6)
        _curve(ax, it["iteration"], _smooth(np.asarray(it["loss_critic"]), window), "critic (running mean)")
        _curve(ax, it["iteration"], _smooth(np.asarray(it["wasserstein"]), window), "Wasserstein estimate (running mean)")
        _curve(ax, it["iteration"], _smooth(np.asarray(it["gradient_penalty"]), window), "gradient penalty (running mean)")
        # symlog: the first iterations' penalty (~10) and the later Wasserstein estimates (~1e-4)
        # on one axis; linear within +-1e-5
        ax.set(xlabel="iteration", ylabel="loss (symmetric log)", title="Critic (discriminator) loss")
        ax.set_yscale("symlog", linthresh=1e-5)
        ax.grid(alpha=0.3)
        ax.legend()
        written.append(save_figure(fig, Path(out_dir) / "loss_critic.png"))
    return written


def plot_samples(samples: list[dict], path: Path, *, window: tuple[float, float] = (400.0, 40.0),
                 title: str = "") -> Path:
    """Rows of LDCT | output | NDCT (HU, shown at ``window`` = (width, level)); each sample is a dict
    with ``ldct``, ``output``, ``ndct`` [H, W] arrays and a ``label``."""
    width, level = window
    lo, hi = level - width / 2, level + width / 2
    fig, axes = plt.subplots(len(samples), 3, figsize=(9, 3 * len(samples)), squeeze=False, layout="constrained")
    for r, s in enumerate(samples):
        for c, key in enumerate(("ldct", "output", "ndct")):
            ax = axes[r, c]
            ax.imshow(s[key], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title({"ldct": "LDCT (input)", "output": "output", "ndct": "NDCT (target)"}[key])
        axes[r, 0].set_ylabel(s.get("label", ""))
    if title:
        fig.suptitle(f"{title}  (W {width:g} / L {level:g} HU)")
    return save_figure(fig, path)
