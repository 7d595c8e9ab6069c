"""Two measurements behind REPORT.md's "why the texture target is not met", from the repository root:

    python resources/checkpoints/diagnose.py smoothing --data data/phantom-ds
    python resources/checkpoints/diagnose.py critic --state runs/wgan-v3/train_state.pt --data data/phantom-ds

``smoothing``: RMSE against NDCT of the LDCT test slices and of the same slices after a Gaussian
blur, over the whole slice and inside the body (NDCT above -900 HU). If blurring raises the error
at every condition, the error is carried by structure the blur destroys, not by removable grain,
and an MSE network has no reason to smooth.

``critic``: how well the WGAN-GP run's critic (its saved state) tells NDCT patches from the
generator's outputs on the fixed validation patches, against a fixed 1-Lipschitz critic that only
measures high-frequency energy, D(x) = -||x - blur(x)||_2 (normalized units, like the learnt one:
the blur's frequency response lies in [0, 1], so x - blur(x) has gain at most 1). W = mean D(NDCT)
- mean D(output); "pairs" = share of patches with D(NDCT) > D(output). A critic far below the fixed
one gives the generator no texture signal.
"""
import argparse
import sys

import numpy as np
import torch

from ldct_viewer.analysis.metrics import gaussian_filter
from ldct_viewer.model import REDCNN, Normalization
from trainer.critic import Critic
from trainer.data import VariableDoseDataset
from trainer.patches import PatchSet, build_grid, fixed_subset


def smoothing(data: str, sigmas=(0.5, 0.8, 1.2)) -> None:
    ds = VariableDoseDataset(data)
    print("| condition | LDCT slice / body | " + " | ".join(f"blur sigma {s} px slice / body" for s in sigmas) + " |")
    print("|" + "---|" * (len(sigmas) + 2))
    for cond in ds.conditions:
        errors = {s: [] for s in (0.0, *sigmas)}
        for v in ds.volumes("test"):
            ndct = np.array(ds.ndct(v), dtype=np.float32)
            ldct = np.array(ds.ldct(v, cond), dtype=np.float32)
            body = ndct > -900
            for s in errors:
                img = ldct if s == 0 else np.stack([gaussian_filter(z, s) for z in ldct])
                d = img - ndct
                errors[s].append((float(np.mean(d ** 2)), float(np.mean(d[body] ** 2))))
        cells = [f"{np.sqrt(np.mean([e[0] for e in errors[s]])):.1f} / {np.sqrt(np.mean([e[1] for e in errors[s]])):.1f}"
                 for s in errors]
        print(f"| {cond} | " + " | ".join(cells) + " |")


def critic(state_path: str, data: str) -> None:
    state = torch.load(state_path, map_location="cpu", weights_only=False)
    if "critic" not in state:
        sys.exit(f"{state_path}: no critic in this state (not a WGAN-GP run)")
    cfg = state["config"]
    g = REDCNN(width=cfg["model"]["width"], kernel_size=cfg["model"]["kernel_size"])
    g.load_state_dict(state["model"])
    c = Critic()
    c.load_state_dict(state["critic"])
    g.eval(), c.eval()
    norm = Normalization.from_dict(state["normalization"])
    size = cfg["dataset"]["patch_size"]
    grid = build_grid(VariableDoseDataset(data), "val", size, size)  # fit's validation patches
    patches = PatchSet(grid, fixed_subset(len(grid), cfg["sampling"]["val_patches"], cfg["run"]["seed"]), None, norm)
    rows = np.arange(len(patches))
    x, y = patches[rows]
    with torch.no_grad():
        fake = torch.cat([g(x[i:i + 32]) for i in range(0, len(x), 32)])
        learnt = {k: c(t).flatten(1).mean(1).numpy() for k, t in (("real", y), ("fake", fake), ("ldct", x))}
    def energy(t):
        a = t[:, 0].numpy()
        return -np.sqrt(((a - np.stack([gaussian_filter(p, 1.0) for p in a])) ** 2).reshape(len(a), -1).sum(1))
    fixed = {"real": energy(y), "fake": energy(fake), "ldct": energy(x)}
    cond = patches.conditions_of(rows)
    print(f"{len(rows)} validation patches; generator and critic from {state_path} "
          f"(iteration {state['counters']['iteration']})")
    print("| condition | learnt W (output) | learnt pairs | fixed W (output) | fixed pairs | fixed W (LDCT) |")
    print("|---|---|---|---|---|---|")
    for i, name in [(-1, "all")] + list(enumerate(grid.conditions)):
        s = np.ones(len(rows), bool) if i < 0 else cond == i
        w = lambda d, k="fake": float(np.mean(d["real"][s]) - np.mean(d[k][s]))  # noqa: E731
        pairs = lambda d: float(np.mean(d["real"][s] > d["fake"][s]))  # noqa: E731
        print(f"| {name} | {w(learnt):.2e} | {pairs(learnt):.2f} | {w(fixed):.2e} | {pairs(fixed):.2f} | "
              f"{w(fixed, 'ldct'):.2e} |")


if __name__ == "__main__":
    torch.set_num_threads(2)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["smoothing", "critic"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--state")
    a = ap.parse_args()
    smoothing(a.data) if a.what == "smoothing" else critic(a.state, a.data)
