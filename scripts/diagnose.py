"""The measurements behind history/HISTORY.md's "why the texture target is not met", from the repository root:

    python scripts/diagnose.py smoothing --data data/phantom-ds
    python scripts/diagnose.py critic --state runs/wgan-v3/train_state.pt --data data/phantom-ds
    python scripts/diagnose.py dead-units --data data/phantom-ds
    python scripts/diagnose.py critic-start --checkpoint resources/checkpoints/redcnn-mse.pt --data data/phantom-ds
    python scripts/diagnose.py texture --data data/phantom-ds --checkpoint A.pt [--checkpoint B.pt ...]
    python scripts/diagnose.py critic-warmup --data data/phantom-ds --checkpoint A.pt [--steps 2000] [--lr 1e-4] [--conditions ...]
    python scripts/diagnose.py grain-history --state runs/mse-c1/train_state.pt [--every 5]
    python scripts/diagnose.py critic-direction --state runs/wgan-c6/train_state.pt --data data/phantom-ds --conditions d50_v720,...

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

``dead-units``: a fresh 96-filter RED-CNN (seed 0) started with ``model.init`` default and
centered, then 30 AdamW steps (batch 8, l2 2e-5) at lr 3e-4 and 1e-4 on training patches: the share
of conv1's and conv2's units that do not fire on any of 64 other training patches, and the loss.

``critic-start``: the seed's critic trained from ``model.critic_init`` default and highpass (seed 0,
Adam lr 1e-4, betas 0.9/0.999, lambda 10, batch 8) to tell NDCT training patches from a fixed
generator's outputs (``--checkpoint``); every 25 steps W and pairs, as in ``critic``, on 160 fixed
validation patches (and W against the LDCT input). Whether a critic begins to see the grain.

``texture``: the trainer's validation (``trainer.validation.validate``) of each ``--checkpoint`` on the
fixed validation patches a run with ``sampling.val_patches`` = ``--val-patches`` (default 480, the
bundled runs') and seed 0 uses: per condition, the signed high-band power relative to NDCT (dB),
first of the LDCT input, then of each checkpoint, with the texture distance and RMSE. Re-measures a
run's per-epoch checkpoints (``epoch_NNN.pt``) with the current measure.

``critic-warmup``: whether more critic steps alone would give the generator a grain signal. The
seed's critic from ``critic_init: highpass`` (seed 0, Adam lr 1e-4, batch 8, lambda 10) trained for
``--steps`` steps against one fixed generator's outputs on 1,600 training patches, computed once
(so a critic step costs no generator pass); every few hundred steps W and, per condition, the share
of fit's validation patches with D(NDCT) > D(output). An unconditional critic sees all twelve
conditions at once: below 0.5 in a condition it rates that condition's outputs *more* NDCT-like
than NDCT itself.

``grain-history``: from a run's saved state (``train_state.pt``), per epoch (every ``--every``-th,
and the last) the validation RMSE and the signed grain per condition (dB vs NDCT, as ``texture``
prints it), the LDCT input's first: how fast the MSE network's grain approaches NDCT's, and which
conditions have crossed below it.

``critic-direction``: from a WGAN-GP run's saved state, on 32 fixed training patches of
``--conditions`` (fp32): the generator-weight gradient norms of the MSE term and of the adversarial
term -mean D(G(x)) before weighting, D(NDCT) - D(output) and its pairs share, and which frequencies
the critic asks the generator to add: the share of the spectral power of its ascent direction
(d D / d output) in the texture measure's 0.25-0.5 cycles/px band, beside the same share for
NDCT - output (what is missing, grain and all) and for white noise.
"""
import argparse
import sys

import numpy as np
import torch

from ldct_viewer.analysis.metrics import gaussian_filter
from ldct_viewer.analysis.nps import DEFAULT_BAND
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint
from trainer.critic import Critic, critic_loss, sample_mean
from trainer.data import VariableDoseDataset
from trainer.patches import PatchSet, build_grid, fixed_subset


@torch.no_grad()
def _denoised(g, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([g(x[i:i + 32]) for i in range(0, len(x), 32)])


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


def texture(checkpoints: list[str], data: str, val_patches: int = 480) -> None:
    from trainer import distributed
    from trainer.validation import validate

    ds = VariableDoseDataset(data)
    first = load_checkpoint(checkpoints[0])
    norm = first.normalization
    patch = first.metadata.get("config", {}).get("dataset", {}).get("patch_size", 64)
    grid = build_grid(ds, "val", patch, patch)
    patches = PatchSet(grid, fixed_subset(len(grid), val_patches, 0), None, norm)
    ctx = distributed.Context(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    for i, path in enumerate(checkpoints):
        val = validate(ctx, load_checkpoint(path).model, patches, 16, norm)
        if i == 0:
            names = list(val["input_texture_by_condition"])
            print("| | " + " | ".join(names) + " | distance (dB) | RMSE (HU) |")
            print("|" + "---|" * (len(names) + 3))
            print("| LDCT input | " + " | ".join(f"{val['input_texture_by_condition'][n]:+.2f}" for n in names) + " | | |")
        print(f"| {path} | " + " | ".join(f"{val['texture_by_condition'][n]:+.2f}" for n in names)
              + f" | {val['texture_db']:.2f} | {val['rmse_hu']:.2f} |", flush=True)


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
    fake = _denoised(g, x)
    with torch.no_grad():
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


def critic_start(checkpoint: str, data: str, steps: int = 100) -> None:
    ckpt = load_checkpoint(checkpoint)
    g, norm = ckpt.model.eval(), ckpt.normalization
    ds = VariableDoseDataset(data)
    train, val = build_grid(ds, "train", 64, 32), build_grid(ds, "val", 64, 64)

    def outputs(grid, n, seed):
        patches = PatchSet(grid, fixed_subset(len(grid), n, seed), None, norm)
        x, y = patches[np.arange(len(patches))]
        return x, y, _denoised(g, x)

    _, ty, tf = outputs(train, 8 * steps, 1)
    vx, vy, vf = outputs(val, 160, 0)

    def measure(c):
        with torch.no_grad():
            real, fake, ldct = (c(t).flatten(1).mean(1) for t in (vy, vf, vx))
        return float((real - fake).mean()), float((real > fake).float().mean()), float((real - ldct).mean())

    print(f"generator {checkpoint} ({ckpt.sha256[:12]}); {8 * steps} training, 160 validation patches")
    print("| critic_init | step | W (output) | pairs | W (LDCT) |")
    print("|---|---|---|---|---|")
    for init in ("default", "highpass"):
        torch.manual_seed(0)
        c = Critic()
        if init == "highpass":
            c.start_high_pass()
        opt = torch.optim.Adam(c.parameters(), lr=1e-4, betas=(0.9, 0.999))
        for i in range(steps + 1):
            if i % 25 == 0:
                w, pairs, w_ldct = measure(c)
                print(f"| {init} | {i} | {w:.2e} | {pairs:.2f} | {w_ldct:.2e} |")
            if i < steps:
                loss = critic_loss(c, ty[8 * i:8 * i + 8], tf[8 * i:8 * i + 8], 10.0)[0]
                opt.zero_grad()
                loss.backward()
                opt.step()


def critic_warmup(checkpoint: str, data: str, steps: int = 2000, train_patches: int = 1600,
                  val_patches: int = 480, conditions: list[str] | None = None, lr: float = 1e-4) -> None:
    """A high-pass critic trained for many steps against one fixed generator's outputs (cached once, so a
    critic step costs no generator pass): does it learn to tell the output from NDCT in every condition?
    ``conditions``: train it on those conditions' pairs only (``loss.adversarial_conditions``); ``lr``: its
    Adam learning rate (the seed's is the generator's, 1e-4). W is measured over the trained conditions'
    validation patches (normalized units)."""
    ckpt = load_checkpoint(checkpoint)
    g, norm = ckpt.model.eval(), ckpt.normalization
    ds = VariableDoseDataset(data)
    train, val = build_grid(ds, "train", 64, 32, conditions), build_grid(ds, "val", 64, 64)
    tp = PatchSet(train, fixed_subset(len(train), train_patches, 1), None, norm)
    _, ty = tp[np.arange(len(tp))]
    tf = _denoised(g, tp[np.arange(len(tp))][0])
    vp = PatchSet(val, fixed_subset(len(val), val_patches, 0), None, norm)  # fit's validation patches
    vx, vy = vp[np.arange(len(vp))]
    vf = _denoised(g, vx)
    cond = vp.conditions_of(np.arange(len(vp)))
    trained = np.isin(cond, [val.conditions.index(k) for k in train.conditions])
    print(f"generator {checkpoint} ({ckpt.sha256[:12]}); critic highpass, Adam lr {lr:g}, batch 8, lambda 10; "
          f"{train_patches} cached training pairs ({', '.join(train.conditions)}), {val_patches} validation patches; pairs = share D(NDCT) > D(output)")
    print("| step | W (trained conditions) | " + " | ".join(c[1:] for c in val.conditions) + " |")
    print("|---|---|" + "---|" * len(val.conditions))
    torch.manual_seed(0)
    c = Critic()
    c.start_high_pass()
    opt = torch.optim.Adam(c.parameters(), lr=lr, betas=(0.9, 0.999))
    rng = np.random.default_rng(0)
    order = rng.permutation(train_patches)
    for i in range(steps + 1):
        if i in (0, 100, 250, 500, 1000) or i % 1000 == 0:
            with torch.no_grad():
                real, fake = (c(t).flatten(1).mean(1).numpy() for t in (vy, vf))
            pairs = [float(np.mean(real[cond == k] > fake[cond == k])) for k in range(len(val.conditions))]
            print(f"| {i} | {np.mean((real - fake)[trained]):.2e} | " + " | ".join(f"{p:.2f}" for p in pairs) + " |", flush=True)
        if i < steps:
            j = i * 8 % train_patches
            if j + 8 > train_patches:
                order = rng.permutation(train_patches)
                j = 0
            rows = order[j:j + 8]
            loss = critic_loss(c, ty[rows], tf[rows], 10.0)[0]
            opt.zero_grad()
            loss.backward()
            opt.step()


def grain_history(state_path: str, every: int = 5) -> None:
    counters = torch.load(state_path, map_location="cpu", weights_only=False)["counters"]
    history = counters["history"]
    start = counters.get("init_val") or {}
    if start.get("texture_by_condition"):  # a run with --init: its start, as epoch 0
        history = [{"epoch": 0, "val_rmse_hu": start["rmse_hu"], "val_texture_by_condition": start["texture_by_condition"],
                    "val_input_texture_by_condition": start["input_texture_by_condition"]}, *history]
    measured = [h for h in history if h.get("val_texture_by_condition")]
    if not measured:
        sys.exit(f"{state_path}: no epoch with the per-condition grain (runs before session 6 lack it)")
    conditions = list(measured[-1]["val_texture_by_condition"])
    print("| epoch | val RMSE (HU) | " + " | ".join(c[1:] for c in conditions) + " |")
    print("|---|---|" + "---|" * len(conditions))
    first = measured[-1]["val_input_texture_by_condition"]
    print("| LDCT input | | " + " | ".join(f"{first.get(c, float('nan')):+.2f}" for c in conditions) + " |")
    for h in measured:
        if h["epoch"] % every == 0 or h is measured[0] or h is measured[-1]:
            grain = h["val_texture_by_condition"]
            print(f"| {h['epoch']} | {h['val_rmse_hu']:.1f} | "
                  + " | ".join(f"{grain.get(c, float('nan')):+.2f}" for c in conditions) + " |")


def critic_direction(state_path: str, data: str, conditions: list[str] | None) -> None:
    from trainer.steps import reconstruction_loss
    state = torch.load(state_path, map_location="cpu", weights_only=False)
    g, c = REDCNN(width=state["config"]["model"]["width"]), Critic()
    g.load_state_dict(state["model"])
    c.load_state_dict(state["critic"])
    norm = Normalization.from_dict(state["normalization"])
    grid = build_grid(VariableDoseDataset(data), "train", 64, 32)
    rows = fixed_subset(len(grid), 4000, 3)
    if conditions:
        rows = np.array([r for r in rows if grid.conditions[grid.index[r, 1]] in conditions])
    x, y = PatchSet(grid, rows[:32], None, norm)[np.arange(min(32, len(rows)))]
    print(f"{state_path}: iteration {state['counters']['iteration']}, {len(x)} training patches of "
          f"{', '.join(conditions) if conditions else 'every condition'}")
    for name, loss in (("MSE", lambda out: reconstruction_loss(out, y, None)),
                       ("adversarial", lambda out: -sample_mean(c(out), None))):
        g.zero_grad()
        loss(g(x)).backward()
        norm2 = sum(float((p.grad ** 2).sum()) for p in g.parameters())
        print(f"{name} term: generator-weight gradient norm {norm2 ** 0.5:.3e}")
    with torch.no_grad():
        out = g(x)
        d_real = c(y).flatten(1).mean(1)
    out.requires_grad_(True)
    d_fake = c(out).flatten(1).mean(1)
    (-d_fake.mean()).backward()  # out.grad = -dD/d(output): minus the critic's ascent direction
    d_fake = d_fake.detach()
    print(f"D(NDCT) - D(output) {float((d_real - d_fake).mean()):.2e}, pairs {float((d_real > d_fake).float().mean()):.2f}")

    def band_share(t):
        """Share of the power of t's 2D spectrum in the texture measure's band (cycles/px)."""
        power = torch.fft.fft2(t.detach().double()).abs() ** 2
        f = torch.fft.fftfreq(t.shape[-1], dtype=torch.float64)
        radius = (f[:, None] ** 2 + f[None, :] ** 2).sqrt()
        band = (radius >= DEFAULT_BAND[0]) & (radius <= DEFAULT_BAND[1])
        return float(power[..., band].sum() / power.sum())
    print(f"share of spectral power at {DEFAULT_BAND[0]}-{DEFAULT_BAND[1]} cycles/px: the critic's ascent direction {band_share(-out.grad):.3f}; "
          f"NDCT - output {band_share(y - out.detach()):.3f}; white noise {band_share(torch.randn(64, 1, 64, 64)):.3f}")


def dead_units(data: str, steps: int = 30) -> None:
    norm = Normalization()
    grid = build_grid(VariableDoseDataset(data), "train", 64, 32)
    patches = PatchSet(grid, fixed_subset(len(grid), 8 * steps + 64, 3), None, norm)
    x, y = patches[np.arange(len(patches))]
    probe, train_x, train_y = x[-64:], x[:-64], y[:-64]

    def dead(model):
        with torch.no_grad():
            a1 = torch.relu(model.conv1(probe))
            a2 = torch.relu(model.conv2(a1))
        return [float((a.amax(dim=(0, 2, 3)) == 0).float().mean()) for a in (a1, a2)]

    print("| init | lr | dead conv1 / conv2 at start | after 30 steps | output RMSE at start (HU) | loss after 30 steps |")
    print("|---|---|---|---|---|---|")
    for init in ("default", "centered"):
        for lr in (3e-4, 1e-4):
            torch.manual_seed(0)
            model = REDCNN()
            if init == "centered":
                model.center_biases(train_x[:64])
            with torch.no_grad():
                start_rmse = float(((model(probe) - y[-64:]) ** 2).mean().sqrt()) * norm.scale
            start = dead(model)
            opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=2e-5)
            for i in range(steps):
                loss = ((model(train_x[8 * i:8 * i + 8]) - train_y[8 * i:8 * i + 8]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            end = dead(model)
            print(f"| {init} | {lr:g} | {start[0]:.0%} / {start[1]:.0%} | {end[0]:.0%} / {end[1]:.0%} | "
                  f"{start_rmse:.0f} | {float(loss.detach()):.2e} |")
    with torch.no_grad():
        print(f"input RMSE of the probe patches: {float(((probe - y[-64:]) ** 2).mean().sqrt()) * norm.scale:.0f} HU")


if __name__ == "__main__":
    torch.set_num_threads(2)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["smoothing", "critic", "dead-units", "critic-start", "texture", "critic-warmup",
                                    "grain-history", "critic-direction"])
    ap.add_argument("--data")
    ap.add_argument("--state")
    ap.add_argument("--checkpoint", action="append", default=[])
    ap.add_argument("--val-patches", type=int, default=480)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-4, help="critic-warmup: the critic's Adam learning rate")
    ap.add_argument("--conditions", help="critic-warmup: comma-separated conditions to train the critic on; critic-direction: to probe")
    a = ap.parse_args()
    conditions = a.conditions.split(",") if a.conditions else None
    if a.what in ("critic-start", "texture", "critic-warmup") and not a.checkpoint:
        ap.error(f"{a.what} needs --checkpoint")
    if a.what in ("critic", "grain-history", "critic-direction") and not a.state:
        ap.error(f"{a.what} needs --state")
    if a.what != "grain-history" and not a.data:
        ap.error(f"{a.what} needs --data")
    {"smoothing": lambda: smoothing(a.data), "critic": lambda: critic(a.state, a.data),
     "dead-units": lambda: dead_units(a.data), "critic-start": lambda: critic_start(a.checkpoint[0], a.data),
     "texture": lambda: texture(a.checkpoint, a.data, a.val_patches),
     "critic-warmup": lambda: critic_warmup(a.checkpoint[0], a.data, a.steps, val_patches=a.val_patches,
                                                 conditions=conditions, lr=a.lr),
     "grain-history": lambda: grain_history(a.state, a.every),
     "critic-direction": lambda: critic_direction(a.state, a.data, conditions),
     }[a.what]()
