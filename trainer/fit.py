"""``ldct-train fit``: train RED-CNN with MSE, or with WGAN-GP (the seed's critic), on grid patches.

One function, ``fit``, read top to bottom: data, models, optimizers, (resumed) state, then the
epoch loop — steps, validation, checkpoints, figures. Everything a run produces goes to its
RUN_DIR:

- ``last.pt`` (end of the latest epoch), ``best.pt`` (see *Selection*), ``epoch_NNN.pt`` (WGAN-GP
  only, every epoch): ``ldct_viewer.model`` checkpoints with the config, a description of the
  dataset, a training summary and the validation metrics embedded;
- ``train_state.pt``: optimizers, scheduler, RNG states, counters — what ``--resume`` needs; saved
  at every epoch end, every ``run.state_minutes`` within an epoch, and on Ctrl-C;
- ``log.csv`` (``trainer.logging``), ``loss_*.png``, ``samples/epoch_NNN.png``, ``config.yaml``,
  ``summary.json``.

*Selection.* MSE mode: best = lowest validation MSE (as in the seed). WGAN-GP: validation MSE is
the wrong yardstick for a GAN — it is lowest before the adversarial term has done anything. Best =
the epoch whose outputs' high-frequency noise texture is closest to NDCT's (``val_texture_db``,
``ldct_viewer.analysis.nps``; the lowest validation loss when the validation patches hold no
NDCT-flat tile to measure texture in) among epochs after ``selection.wgan_warmup_epochs`` whose
validation RMSE stays within ``selection.wgan_max_rmse_ratio`` × the ``--init`` model's and, with
``selection.wgan_beat_input``, is below the LDCT input's in every condition (so texture is not
bought with fidelity). When no epoch qualifies only because some condition stays above the input,
best = the epoch closest to qualifying (lowest worst-condition RMSE ratio to the input,
``closest_to_beating_input``); when none qualifies otherwise, best = last. That fallback is also
written when a run is interrupted (Ctrl-C, a time limit), so every run with a finished epoch
leaves a best.pt; a later qualifying epoch replaces it.

*Exact resume.* Which patches an epoch uses, their order and their symmetries follow from
(seed, epoch) alone (``trainer.patches.epoch_plan``); the state records how many batches of the
current epoch are done, so a resumed run sees the same batches as an uninterrupted one.

*Test hook.* ``LDCT_TRAIN_INJECT_NAN_AT=N`` turns the input batch of global iteration N into NaN,
to exercise the divergence stop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ldct_viewer.analysis.nps import flat_rois, high_frequency_power
from ldct_viewer.errors import ConfigError, InputError, LdctError
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint
from ldct_viewer.atomic import atomic_write_text
from trainer.outputs import check_run_folder
from ldct_viewer.model.checkpoint import atomic_torch_save
from trainer import distributed
from trainer.config import changed_keys, complete_saved_config, dump_config, load_config
from trainer.critic import Critic, critic_loss, sample_mean
from trainer.logging import TrainingLog
from trainer.patches import (PatchSet, balancing_weights, build_grid, epoch_plan, fixed_subset,
                             input_mse_by_condition, make_loader)
from trainer.plots import plot_losses, plot_samples
from ldct_viewer.progress import ProgressBar

MODES = ("mse", "wgan-gp")
NAN_HOOK_ENV = "LDCT_TRAIN_INJECT_NAN_AT"
RESUMABLE_CHANGES = {"training.num_epochs", "training.patience", "training.sample_interval",
                     "sampling.num_workers", "run.device", "run.amp", "run.state_minutes"}
TEXTURE_ROI = 32
INITS = ("centered", "default", "identity")
CRITIC_INITS = ("highpass", "default")
CALIBRATION_PATCHES = 64  # model.init=centered: training patches the biases are centered on
SAMPLE_CROP = 256


class TrainingDiverged(LdctError):
    """A loss or a weight became NaN/inf; the run stopped and kept its last good checkpoint."""


# ----------------------------------------------------------------------------------------------
# small helpers


def describe_dataset(root: Path) -> dict:
    """What a checkpoint records about its data: the manifest's hash, conditions and volumes."""
    manifest_path = Path(root) / "manifest.json"
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    volumes = [{k: v.get(k) for k in ("id", "source", "split", "slices", "spacing") if k in v}
               for v in manifest.get("volumes", [])]
    splits: dict[str, int] = {}
    for v in manifest.get("volumes", []):
        splits[v.get("split", "?")] = splits.get(v.get("split", "?"), 0) + 1
    return {"path": str(Path(root).resolve()), "format": manifest.get("format"),
            "manifest_sha256": hashlib.sha256(raw).hexdigest(), "conditions": manifest.get("conditions"),
            "volumes_per_split": splits, "volumes": volumes}


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _params_finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def load_train_state(out: Path) -> dict:
    path = Path(out) / "train_state.pt"
    if not path.is_file():
        raise InputError(f"{path}: no training state to resume from (start the run without --resume)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated / foreign file
        raise InputError(f"{path}: unreadable training state ({type(err).__name__})") from None


def resume_config(out: Path, mode: str, config_path: str | None, overrides: list[str]) -> dict:
    """The saved run's config with the user's changes — only those that cannot break exactness."""
    state = load_train_state(out)
    if state["mode"] != mode:
        raise ConfigError(f"{out}: the run was started with --mode {state['mode']}, not {mode}")
    saved = complete_saved_config(state["config"])
    config = load_config(config_path, overrides, base=saved)
    bad = [k for k in changed_keys(saved, config) if k not in RESUMABLE_CHANGES]
    if bad:
        raise ConfigError(f"{out}: cannot change {', '.join(bad)} when resuming "
                          f"(allowed: {', '.join(sorted(RESUMABLE_CHANGES))})")
    return config


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """MSE, or with ``weights`` (one per patch) the mean of weight x per-patch MSE."""
    if weights is None:
        return F.mse_loss(output, target)
    return (((output - target) ** 2).flatten(1).mean(1) * weights).mean()


@torch.no_grad()
def validate(ctx, model, patches: PatchSet, batch_size: int, norm: Normalization,
             condition_weights: np.ndarray | None = None) -> dict:
    """Validation MSE (normalized), RMSE (HU) and the high-frequency texture distance to NDCT (dB)
    over this process's share of the fixed validation patches, reduced over all processes; also the
    RMSE per condition of the output and of the LDCT input itself (``rmse_by_condition``,
    ``input_rmse_by_condition``), which the WGAN-GP selection compares. ``loss`` is the MSE, or with
    ``condition_weights`` the condition-weighted MSE training minimizes.

    Texture is measured as ``ldct-train evaluate`` measures it: per condition, NPS power in the
    0.25-0.5 cycles/px band pooled over the NDCT-flat 32 px tiles of that condition's patches
    (strictly flat tiles only, see ``flat_rois``), ``texture_db`` = the mean over
    conditions of mean |10 log10(P_out / P_NDCT)|; ``texture_by_condition`` and
    ``input_texture_by_condition`` are the signed ratios (dB; > 0 grainier than NDCT, < 0 smoother)."""
    was_training = model.training
    model.eval()
    sse = pixels = 0.0
    n_cond = len(patches.grid.conditions)
    cond_sse, cond_input_sse, cond_pixels = np.zeros(n_cond), np.zeros(n_cond), np.zeros(n_cond)
    roi = min(TEXTURE_ROI, patches.grid.patch_size)
    n_bins = high_frequency_power(np.zeros((1, roi, roi)), [(0, 0, 0)], roi_size=roi).size
    # per condition: summed band power (x tiles) of output, NDCT, input; and the tile count
    power = np.zeros((3, n_cond, n_bins))
    tiles = np.zeros(n_cond)
    positions = np.arange(ctx.rank, len(patches), ctx.world_size)
    for start in range(0, positions.size, batch_size):
        chunk = positions[start : start + batch_size]
        x, y = patches[chunk]
        x, y = x.to(ctx.device), y.to(ctx.device)
        out = model(x).float()
        per_patch = ((out - y) ** 2).flatten(1).sum(1).double().cpu().numpy()
        per_patch_input = ((x - y) ** 2).flatten(1).sum(1).double().cpu().numpy()
        cond = patches.conditions_of(chunk)
        np.add.at(cond_sse, cond, per_patch)
        np.add.at(cond_input_sse, cond, per_patch_input)
        np.add.at(cond_pixels, cond, y[0].numel())
        sse += float(per_patch.sum())
        pixels += y.numel()
        images = [norm.to_hu(t).squeeze(1).cpu().numpy() for t in (out, y, x)]
        for c in np.unique(cond):
            mine = cond == c
            corners = flat_rois(images[1][mine], roi)
            if corners:
                for k, image in enumerate(images):
                    power[k, c] += high_frequency_power(image[mine], corners, roi_size=roi) * len(corners)
                tiles[c] += len(corners)
    totals = distributed.all_reduce_sum(ctx, torch.tensor(
        [*cond_sse, *cond_input_sse, *cond_pixels, sse, pixels, *tiles, *power.ravel()],
        dtype=torch.float64)).tolist()
    cond_sse, cond_input_sse, cond_pixels = (np.array(totals[k * n_cond : (k + 1) * n_cond]) for k in range(3))
    sse, pixels = totals[3 * n_cond : 3 * n_cond + 2]
    tiles = np.array(totals[3 * n_cond + 2 : 4 * n_cond + 2])
    power = np.array(totals[4 * n_cond + 2 :]).reshape(3, n_cond, n_bins)
    mse = sse / max(pixels, 1.0)
    model.train(was_training)
    names = patches.grid.conditions
    seen = [i for i in range(n_cond) if cond_pixels[i] > 0]
    measured = [i for i in range(n_cond) if tiles[i] > 0]
    tiny = 1e-12
    ratio_db = 10 * np.log10((power + tiny) / (power[1] + tiny))  # [out, ndct (0 dB), input] x cond x bin
    texture = float(np.mean([np.mean(np.abs(ratio_db[0, i])) for i in measured])) if measured else math.nan
    loss = mse if condition_weights is None else float(
        np.sum(np.asarray(condition_weights, dtype=np.float64) * cond_sse) / max(cond_pixels.sum(), 1.0))
    return {"mse": mse, "loss": loss, "rmse_hu": math.sqrt(mse) * norm.scale, "texture_db": texture,
            "patches": len(patches),
            "rmse_by_condition": {names[i]: math.sqrt(cond_sse[i] / cond_pixels[i]) * norm.scale for i in seen},
            "input_rmse_by_condition": {names[i]: math.sqrt(cond_input_sse[i] / cond_pixels[i]) * norm.scale
                                        for i in seen},
            "texture_by_condition": {names[i]: float(np.mean(ratio_db[0, i])) for i in measured},
            "input_texture_by_condition": {names[i]: float(np.mean(ratio_db[2, i])) for i in measured}}


def beats_input_everywhere(val: dict) -> bool:
    """True when the output's validation RMSE is below the LDCT input's in every condition."""
    ours, inputs = val["rmse_by_condition"], val["input_rmse_by_condition"]
    return bool(ours) and all(ours[c] < inputs[c] for c in ours)


def adversarial_mask(spec: str, conditions: list[str]) -> torch.Tensor | None:
    """``loss.adversarial_conditions`` as a 0/1 weight per condition index of the training grid, or
    None for "all" (the seed's: every patch). Unknown names are rejected by name."""
    spec = spec.strip()
    if spec == "all":
        return None
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in conditions]
    if not names or unknown:
        raise ConfigError(f"loss.adversarial_conditions: {'unknown condition ' + repr(unknown[0]) if unknown else 'empty'}"
                          f" (this dataset has: {', '.join(conditions)}; or all)")
    return torch.tensor([float(c in names) for c in conditions])


def generator_optimizer(params, training: dict, l2_mode: str = "decoupled") -> torch.optim.Optimizer:
    """Adam with the L2 term as *decoupled* weight decay (AdamW: w -= lr * l2 * w each step), or with
    ``l2_mode="coupled"`` Adam's own ``weight_decay`` (kept to reproduce older runs).

    Adam's coupled ``weight_decay`` adds l2 * w to the gradient, which Adam then rescales to a full
    learning-rate step. With the MSE in normalized units the data gradient of RED-CNN's deep layers
    falls to about l2 * w once the loss is small, so the decay wins: it erased conv3..deconv1 of a
    96-filter RED-CNN (weights ~1e-18, the session-2 bundled checkpoint) within a few hundred steps."""
    if l2_mode not in ("decoupled", "coupled"):
        raise ConfigError(f"loss.l2_mode: expected 'decoupled' or 'coupled', got {l2_mode!r}")
    adam = torch.optim.AdamW if l2_mode == "decoupled" else torch.optim.Adam
    return adam(params, lr=training["learning_rate"], betas=tuple(training["betas"]),
                weight_decay=training["l2_regularization"])


def wgan_selection_score(val: dict) -> float:
    """What WGAN-GP selection minimizes: the texture distance to NDCT, or the validation loss when
    the validation patches hold no NDCT-flat tile (small images). The tiles depend on NDCT alone, so
    a run uses one or the other in every epoch."""
    return val["texture_db"] if math.isfinite(val["texture_db"]) else val["loss"]


def closest_to_beating_input(history: list[dict], warmup_epochs: int, max_rmse_hu: float) -> tuple[int, float] | None:
    """Among epochs past the warm-up within the RMSE bound, the one whose worst condition is least
    above the LDCT input (epoch, that ratio); None when no epoch is in range."""
    candidates = [(worst_condition({"rmse_by_condition": h["val_rmse_by_condition"],
                                    "input_rmse_by_condition": h["val_input_rmse_by_condition"]})[1], h["epoch"])
                  for h in history
                  if h["epoch"] >= warmup_epochs and h["val_rmse_hu"] <= max_rmse_hu and h["val_rmse_by_condition"]]
    if not candidates:
        return None
    ratio, epoch = min(candidates)
    return epoch, ratio


def worst_condition(val: dict) -> tuple[str, float]:
    """The condition where output RMSE / input RMSE is highest, and that ratio."""
    ours, inputs = val["rmse_by_condition"], val["input_rmse_by_condition"]
    name = max(ours, key=lambda c: ours[c] / max(inputs[c], 1e-12))
    return name, ours[name] / max(inputs[name], 1e-12)


@torch.no_grad()
def sample_images(model, dataset, norm: Normalization, device) -> list[dict]:
    """LDCT | output | NDCT for the middle slice of the first validation volume at the lowest,
    a middle and the highest dose condition (centre crop of at most SAMPLE_CROP px)."""
    vid = dataset.volumes("val")[0]
    conditions = list(dataset.conditions)
    picks = sorted({0, len(conditions) // 2, len(conditions) - 1})
    ndct = dataset.ndct(vid)
    z = ndct.shape[0] // 2
    h, w = ndct.shape[1:]
    ch, cw = min(h, SAMPLE_CROP), min(w, SAMPLE_CROP)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = (z, slice(y0, y0 + ch), slice(x0, x0 + cw))
    was_training = model.training
    model.eval()
    samples = []
    for i in picks:
        cond = conditions[i]
        ldct = np.array(dataset.ldct(vid, cond)[crop], dtype=np.float32)
        x = norm.to_model(torch.from_numpy(ldct)).to(device)[None, None]
        out = norm.to_hu(model(x).float()).squeeze().cpu().numpy()
        samples.append({"ldct": ldct, "output": out, "ndct": np.asarray(ndct[crop], dtype=np.float32),
                        "label": f"{vid} z={z} {cond}"})
    model.train(was_training)
    return samples


class _StopFlag:
    """First Ctrl-C: finish the current step, save the state, stop. Second: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading_main():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nldct-train: stopping after this step (Ctrl-C again to abort now)", file=sys.stderr)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _timed(batches, clock: dict):
    """Iterate ``batches``, adding the time spent waiting for each one to ``clock["wait"]``."""
    iterator = iter(batches)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        clock["wait"] += time.perf_counter() - t0
        yield item


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# ----------------------------------------------------------------------------------------------
# the training run


def fit(config: dict, *, mode: str, data: str | Path, out: str | Path, init: str | Path | None = None,
        resume: bool = False) -> dict:
    """Train one RED-CNN; returns the run summary (also written to RUN_DIR/summary.json)."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    ctx = distributed.setup(config["run"]["device"])
    try:
        return _fit(ctx, config, mode, Path(data), Path(out), init, resume)
    finally:
        distributed.teardown(ctx)


def _fit(ctx, config, mode, data, out, init, resume) -> dict:
    from trainer.data import VariableDoseDataset

    D, T, W, M, S, R = (config[k] for k in ("dataset", "training", "weights", "model", "sampling", "run"))
    wgan = mode == "wgan-gp"
    main = ctx.is_main
    device = ctx.device
    seed = int(R["seed"])
    batch = int(D["batch_size"])
    global_batch = batch * ctx.world_size
    # bfloat16 autocast for the training steps (validation stays fp32): on CUDA, and on CPUs whose
    # oneDNN has bf16 kernels (AVX512-BF16 or AMX: 1.6x the patches/s of fp32 on the dev machine)
    amp = bool(R["amp"]) and device.type in ("cuda", "cpu")
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if amp else contextlib.nullcontext
    nan_at = int(os.environ.get(NAN_HOOK_ENV, "0") or 0)

    # ---- the run folder: a fresh run never writes over an earlier one
    check_run_folder(out, resume=resume)
    distributed.barrier(ctx)
    if main:
        (out / "samples").mkdir(parents=True, exist_ok=True)

    # ---- data
    if not (data / "manifest.json").is_file():
        raise InputError(f"{data}: not a dataset folder (no manifest.json); make one with ldct-train dataset")
    dataset = VariableDoseDataset(data)
    data_description = describe_dataset(data)
    train_grid = build_grid(dataset, "train", D["patch_size"], D["stride"])
    val_grid = build_grid(dataset, "val", D["patch_size"], D["patch_size"])
    if len(train_grid) < global_batch:
        raise InputError(f"{data}: {len(train_grid)} training patches, fewer than one batch of {global_batch}")
    if not len(val_grid):
        raise InputError(f"{data}: no validation volumes (split 'val') to select checkpoints with")
    val_rows = fixed_subset(len(val_grid), S["val_patches"], seed)
    steps_per_epoch = len(epoch_plan(len(train_grid), epoch=1, seed=seed, limit=S["patches_per_epoch"],
                                     augment=False, multiple=global_batch)[0]) // global_batch

    # ---- models and optimizers
    torch.manual_seed(seed)
    norm = Normalization()
    model = REDCNN(width=M["width"], kernel_size=M["kernel_size"])
    if M["init"] not in INITS:
        raise ConfigError(f"model.init: expected one of {', '.join(INITS)}, got {M['init']!r}")
    if M["critic_init"] not in CRITIC_INITS:
        raise ConfigError(f"model.critic_init: expected one of {', '.join(CRITIC_INITS)}, got {M['critic_init']!r}")
    if M["init"] == "identity":
        model.start_as_identity()
    elif M["init"] == "centered" and init is None and not resume:
        # the same fixed training patches on every process: identical starts under torchrun too
        calibration = PatchSet(train_grid, fixed_subset(len(train_grid), CALIBRATION_PATCHES, seed), None, norm)
        model.center_biases(calibration[np.arange(len(calibration))][0])
    init_info = None
    if init is not None and not resume:
        ckpt = load_checkpoint(init)
        if (ckpt.model.width, ckpt.model.kernel_size) != (M["width"], M["kernel_size"]):
            raise ConfigError(f"{ckpt.path}: --init model has width {ckpt.model.width}, kernel {ckpt.model.kernel_size}; "
                              f"set model.width={ckpt.model.width} model.kernel_size={ckpt.model.kernel_size}")
        model.load_state_dict(ckpt.model.state_dict())
        norm = ckpt.normalization
        init_info = {"path": str(ckpt.path.resolve()), "sha256": ckpt.sha256, "mode": ckpt.mode}
    # channels_last: oneDNN / cuDNN pick faster convolution kernels (~10-15 % per step on CPU)
    model.to(device, memory_format=torch.channels_last)
    critic = None
    if wgan:
        critic = Critic()
        if M["critic_init"] == "highpass" and not resume:
            critic.start_high_pass()
        critic.to(device, memory_format=torch.channels_last)
    betas = tuple(T["betas"])
    opt_g = generator_optimizer(model.parameters(), T, config["loss"]["l2_mode"])
    opt_c = torch.optim.Adam(critic.parameters(), lr=T["learning_rate"], betas=betas) if wgan else None
    scheduler = (None if wgan else torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt_g, mode="min", factor=T["lr_decay_factor"], patience=T["lr_decay_patience"]))
    weights = (balancing_weights(input_mse_by_condition(train_grid, norm, seed=seed))
               if config["loss"]["condition_balance"] else None)
    adversarial = adversarial_mask(config["loss"]["adversarial_conditions"], train_grid.conditions) if wgan else None

    # ---- counters: fresh, or exactly where the saved state left off
    st = {"epoch": 0, "step": 0, "iteration": 0, "best": math.inf, "best_epoch": 0, "bad_epochs": 0,
          "history": [], "init_val": None, "elapsed": 0.0, "log_bytes": None, "init": init_info,
          "stopped_early": False}
    if resume:
        saved = load_train_state(out)
        if saved["data"]["manifest_sha256"] != data_description["manifest_sha256"]:
            raise InputError(f"{data}: not the dataset this run started with ({saved['data']['path']})")
        model.load_state_dict(saved["model"])
        opt_g.load_state_dict(saved["opt_g"])
        if wgan:
            critic.load_state_dict(saved["critic"])
            opt_c.load_state_dict(saved["opt_c"])
        else:
            scheduler.load_state_dict(saved["scheduler"])
        norm = Normalization.from_dict(saved["normalization"])
        st = saved["counters"]
        _set_rng_state(saved["rng"])
        if ctx.rank:
            torch.manual_seed(seed + 1000 * st["iteration"] + ctx.rank)
    elif ctx.rank:
        torch.manual_seed(seed + ctx.rank)  # different interpolation draws per process
    g = distributed.wrap(ctx, model)
    c = distributed.wrap(ctx, critic) if wgan else None

    log = TrainingLog(out / "log.csv", truncate_to=st["log_bytes"]) if main else None
    if main:
        atomic_write_text(out / "config.yaml", dump_config(config))
    t_run = time.perf_counter() - st["elapsed"]
    last_state_save = time.perf_counter()
    val_set = PatchSet(val_grid, val_rows, None, norm)
    selection_rule = (
        f"lowest validation high-frequency texture distance to NDCT (dB; validation loss if no flat tile) "
        f"among epochs >= "
        f"{config['selection']['wgan_warmup_epochs']} with validation RMSE <= "
        f"{config['selection']['wgan_max_rmse_ratio']} x the initial model's"
        + (" and below the LDCT input's in every condition; else the epoch with the lowest worst-condition "
           "RMSE ratio to the input" if config["selection"]["wgan_beat_input"] else "")
        + "; else the last epoch"
        if wgan else "lowest validation MSE" + (" (condition-balanced)" if weights is not None else ""))

    def summary(epoch_metrics: dict | None = None) -> dict:
        return {"mode": mode, "epochs_done": st["epoch"], "epochs_planned": T["num_epochs"],
                "iterations": st["iteration"], "best_epoch": st["best_epoch"], "selection": selection_rule,
                "stopped_early": st["stopped_early"], "history": st["history"], "init": st["init"],
                "init_validation": st["init_val"], "wall_time_s": round(time.perf_counter() - t_run, 1),
                "device": (torch.cuda.get_device_name(device) if device.type == "cuda"
                           else f"CPU, {torch.get_num_threads()} threads"),
                "processes": ctx.world_size, "global_batch": global_batch, "steps_per_epoch": steps_per_epoch,
                "patches_per_epoch": steps_per_epoch * global_batch, "amp": amp,
                "torch": torch.__version__, "seed": seed, "last_validation": epoch_metrics,
                "condition_weights": (None if weights is None else
                                      dict(zip(train_grid.conditions, map(float, weights))))}

    def save_model(path: Path, metrics: dict | None) -> None:
        save_checkpoint(path, model, mode=mode, normalization=norm, config=config, data=data_description,
                        evaluation={"split": "val", **metrics} if metrics else None, training=summary(metrics))

    def save_state() -> None:
        st["elapsed"] = time.perf_counter() - t_run
        st["log_bytes"] = log.flush()
        state = {"mode": mode, "config": config, "data": data_description, "normalization": norm.to_dict(),
                 "model": model.state_dict(), "opt_g": opt_g.state_dict(), "counters": st, "rng": _rng_state()}
        if wgan:
            state.update(critic=critic.state_dict(), opt_c=opt_c.state_dict())
        else:
            state["scheduler"] = scheduler.state_dict()
        atomic_torch_save(state, out / "train_state.pt")

    def diverged(what: str) -> TrainingDiverged:
        kept = (f"last good checkpoint {out / 'last.pt'} (epoch {st['epoch']})" if (out / "last.pt").exists()
                else "no checkpoint had been written yet")
        return TrainingDiverged(f"{out}: {what} at epoch {st['epoch'] + 1}, iteration {st['iteration']}; "
                                f"training stopped, {kept}")

    # ---- WGAN-GP: measure the starting point once (the RMSE bound of the selection rule)
    if wgan and st["init_val"] is None:
        st["init_val"] = validate(ctx, model, val_set, batch, norm, weights)
        if main:
            log.write("epoch", epoch=0, iteration=0, time_s=0.0, val_mse=st["init_val"]["mse"],
                      val_rmse_hu=st["init_val"]["rmse_hu"], val_texture_db=st["init_val"]["texture_db"],
                      lr=T["learning_rate"])

    def settle_best(result: dict) -> None:
        """When no epoch has qualified as best (WGAN-GP), write best.pt anyway — the epoch closest to
        beating the input, else the last — so that a run ended by Ctrl-C or a time limit, not only
        one that ran all its epochs, leaves a best.pt; a later qualifying epoch replaces it."""
        if math.isfinite(st["best"]) or not (out / "last.pt").exists():
            return
        sel = config["selection"]
        nearest = (closest_to_beating_input(st["history"], sel["wgan_warmup_epochs"],
                                            sel["wgan_max_rmse_ratio"] * st["init_val"]["rmse_hu"])
                   if wgan and sel["wgan_beat_input"] else None)
        if nearest is not None and (out / f"epoch_{nearest[0]:03d}.pt").is_file():
            epoch, ratio = nearest
            source = out / f"epoch_{epoch:03d}.pt"
            result["selection"] += (f" (no epoch beat the input in every condition: best = epoch {epoch}, "
                                    f"worst condition {ratio:.3f} x the input's RMSE)")
        else:
            epoch, source = st["history"][-1]["epoch"] if st["history"] else 0, out / "last.pt"
            result["selection"] += " (no epoch qualified: best = last)"
        st["best_epoch"] = result["best_epoch"] = epoch
        chosen = load_checkpoint(source)
        save_checkpoint(out / "best.pt", chosen.model, mode=mode, normalization=norm, config=config,
                        data=data_description, evaluation=chosen.metadata.get("evaluation"), training=result)

    # ---- the epoch loop
    with _StopFlag() as stop:
        for epoch in range(st["epoch"] + 1, T["num_epochs"] + 1):
            rows, codes = epoch_plan(len(train_grid), epoch=epoch, seed=seed, limit=S["patches_per_epoch"],
                                     augment=D["augment"], multiple=global_batch)
            skip = st["step"] * global_batch
            loader = make_loader(PatchSet(train_grid, rows[skip:], codes[skip:], norm, weights,
                                          with_conditions=adversarial is not None), batch,
                                 rank=ctx.rank, world=ctx.world_size, num_workers=S["num_workers"],
                                 pin_memory=device.type == "cuda")
            bar = ProgressBar(steps_per_epoch, label=f"{mode} epoch {epoch}/{T['num_epochs']}", done=st["step"],
                              enabled=main)
            model.train()
            clock = {"wait": 0.0, "start": time.perf_counter(), "steps": 0}
            for batch_tensors in _timed(loader, clock):
                clock["steps"] += 1
                x, y = (t.to(device, non_blocking=True) for t in batch_tensors[:2])
                w = batch_tensors[2].to(device) if weights is not None else None
                # 0/1 per patch: does the adversarial term see it (None: every patch, the seed's)
                a = adversarial[batch_tensors[-1]].to(device) if adversarial is not None else None
                st["iteration"] += 1
                st["step"] += 1
                if st["iteration"] == nan_at:
                    x = x * float("nan")
                losses: dict[str, torch.Tensor] = {}
                if not wgan:
                    with autocast():
                        output = g(x)
                    loss = reconstruction_loss(output.float(), y, w)
                    opt_g.zero_grad(set_to_none=True)
                    loss.backward()
                    opt_g.step()
                    losses["loss_mse"] = loss.detach()
                else:
                    # critic step: every iteration. The critic always runs in fp32, also under run.amp: bf16
                    # keeps 8 significant bits, so a normalized CT level of 0.25-0.5 is stored in steps of
                    # 2^-9 = 8 HU, coarser than the 3-5 HU grain the critic must tell apart (REPORT.md). Its
                    # price on the 2-core dev CPU: bf16 WGAN-GP steps at 1.36x fp32's rate instead of ~1.7x
                    with torch.no_grad(), autocast():
                        fake = g(x)
                    loss_c, wasserstein, gp = critic_loss(c, y, fake.float(), T["lambda_gp"], a)
                    opt_c.zero_grad(set_to_none=True)
                    loss_c.backward()
                    opt_c.step()
                    losses.update(loss_critic=loss_c.detach(), wasserstein=wasserstein, gradient_penalty=gp)
                    # generator step: every critic_iterations-th iteration, on the same batch
                    if (st["iteration"] > config["loss"]["critic_warmup_iterations"]
                            and st["iteration"] % T["critic_iterations"] == 0):
                        critic.requires_grad_(False)
                        with autocast():
                            fake = g(x)
                        loss_adv = -sample_mean(critic(fake.float()), a)  # fp32, as in the critic step
                        mse = reconstruction_loss(fake.float(), y, w)
                        loss_g = W["disc_weight"] * loss_adv + W["mse_weight"] * mse
                        opt_g.zero_grad(set_to_none=True)
                        loss_g.backward()
                        opt_g.step()
                        critic.requires_grad_(True)
                        losses.update(loss_generator=loss_g.detach(), loss_adversarial=loss_adv.detach(),
                                      loss_mse=mse.detach())
                # one reduction per step: mean losses over processes, and everyone's stop request
                names = list(losses)
                vec = torch.stack([v.float() for v in losses.values()]
                                  + [torch.tensor(float(stop.requested), device=device)])
                vec = (distributed.all_reduce_sum(ctx, vec) / ctx.world_size).tolist()
                values = dict(zip(names, vec[:-1]))
                bad = [n for n, v in values.items() if not math.isfinite(v)]
                if bad:
                    raise diverged(f"non-finite {bad[0]} ({values[bad[0]]})")
                if main:
                    log.write("iter", epoch=epoch, iteration=st["iteration"],
                              time_s=round(time.perf_counter() - t_run, 3), lr=opt_g.param_groups[0]["lr"], **values)
                    shown = values.get("loss_mse", values.get("loss_critic"))
                    bar.update(st["step"], info=f"loss {shown:.3g}" if shown is not None else "")
                interrupted = vec[-1] > 0
                if main and (interrupted or time.perf_counter() - last_state_save > 60 * R["state_minutes"]):
                    if not _params_finite(model):
                        raise diverged("non-finite weights")
                    save_state()
                    last_state_save = time.perf_counter()
                if interrupted:
                    if main:
                        bar.close()
                        settle_best(summary(st["history"][-1] if st["history"] else None))
                        print(f"ldct-train: interrupted at epoch {epoch}, iteration {st['iteration']}; state saved to "
                              f"{out / 'train_state.pt'}; continue with --resume", file=sys.stderr)
                    raise KeyboardInterrupt
            if main:
                bar.close()
            train_time = time.perf_counter() - clock["start"]
            speed = {"patches_per_s": clock["steps"] * global_batch / max(train_time, 1e-9),
                     "data_wait_share": clock["wait"] / max(train_time, 1e-9)}

            # ---- end of epoch: validate, schedule, select, save
            st["epoch"], st["step"] = epoch, 0
            val = validate(ctx, model, val_set, batch, norm, weights)
            if not math.isfinite(val["mse"]) or not _params_finite(model):
                raise diverged(f"non-finite validation loss ({val['mse']})")
            lr = opt_g.param_groups[0]["lr"]
            if wgan:
                sel = config["selection"]
                eligible = (epoch >= sel["wgan_warmup_epochs"]
                            and val["rmse_hu"] <= sel["wgan_max_rmse_ratio"] * st["init_val"]["rmse_hu"]
                            and (not sel["wgan_beat_input"] or beats_input_everywhere(val)))
                score = wgan_selection_score(val)
                improved = eligible and score < st["best"]
                if improved:
                    st["best"], st["best_epoch"] = score, epoch
            else:
                scheduler.step(val["loss"])
                improved = val["loss"] < st["best"]
                if improved:
                    st["best"], st["best_epoch"], st["bad_epochs"] = val["loss"], epoch, 0
                else:
                    st["bad_epochs"] += 1
            worst, worst_ratio = worst_condition(val)
            st["history"].append({"epoch": epoch, "iteration": st["iteration"], "lr": lr,
                                  "val_mse": val["mse"], "val_loss": val["loss"], "val_rmse_hu": val["rmse_hu"],
                                  "val_texture_db": val["texture_db"], "best": bool(improved),
                                  "val_rmse_by_condition": val["rmse_by_condition"],
                                  "val_input_rmse_by_condition": val["input_rmse_by_condition"],
                                  "val_texture_by_condition": val["texture_by_condition"],
                                  "val_input_texture_by_condition": val["input_texture_by_condition"], **speed})
            stop_early = not wgan and T["patience"] and st["bad_epochs"] >= T["patience"]
            st["stopped_early"] = bool(stop_early)
            if main:
                log.write("epoch", epoch=epoch, iteration=st["iteration"], time_s=round(time.perf_counter() - t_run, 3),
                          val_mse=val["mse"], val_rmse_hu=val["rmse_hu"], val_texture_db=val["texture_db"], lr=lr,
                          **speed)
                print(f"{mode} epoch {epoch}: val MSE {val['mse']:.4g}"
                      + (f", balanced {val['loss']:.4g}" if weights is not None else "")
                      + f", RMSE {val['rmse_hu']:.1f} HU, "
                      f"texture {val['texture_db']:.2f} dB, worst {worst} {worst_ratio:.2f} x input, lr {lr:.3g}, "
                      f"{speed['patches_per_s']:.1f} patches/s, "
                      f"data wait {100 * speed['data_wait_share']:.1f} %" + (" (best)" if improved else ""),
                      file=sys.stderr)
                save_model(out / "last.pt", val)
                if improved:
                    save_model(out / "best.pt", val)
                if wgan:
                    save_model(out / f"epoch_{epoch:03d}.pt", val)
                save_state()
                last_state_save = time.perf_counter()
                plot_losses(out / "log.csv", out, mode)
                if epoch % T["sample_interval"] == 0 or epoch == T["num_epochs"] or stop_early:
                    plot_samples(sample_images(model, dataset, norm, device), out / "samples" / f"epoch_{epoch:03d}.png",
                                 title=f"{mode}, epoch {epoch}")
            distributed.barrier(ctx)
            if stop_early:
                if main:
                    print(f"{mode}: early stop after epoch {epoch} (no validation improvement in "
                          f"{T['patience']} epochs)", file=sys.stderr)
                break

    result = summary(st["history"][-1] if st["history"] else None)
    if main:
        settle_best(result)
        log.close()
        atomic_write_text(out / "summary.json", json.dumps(result, indent=2, default=float))
    return result
