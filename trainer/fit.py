"""``ldct-train fit``: train a denoiser (RED-CNN by default; ``--arch unet|restormer``) with MSE, or with WGAN-GP (the seed's critic), on grid patches.

``train`` reads top to bottom: run folder, data, models and optimizers, (resumed) state, then the
epoch loop — steps, validation, selection, checkpoints, figures. The config arrives checked
(``trainer.config``); validation, selection and the saved state live in ``trainer.validation``,
``trainer.selection`` and ``trainer.state``. Everything a run produces goes to its RUN_DIR:

- ``last.pt`` (end of the latest epoch), ``best.pt`` (``trainer.selection``), ``epoch_NNN.pt``
  (every epoch, so any epoch can be scored on held-out data later): ``ldct_viewer.model``
  checkpoints with the config, a description of the dataset, a training summary and the
  validation metrics embedded (``trainer.record``);
- ``train_state.pt``: optimizers, scheduler, RNG states, counters — what ``--resume`` needs; saved
  at every epoch end, every ``run.state_minutes`` within an epoch, and on Ctrl-C;
- ``log.csv`` (``trainer.logging``), ``loss_*.png``, ``samples/epoch_NNN.png``, ``config.yaml``,
  ``summary.json``.

*Exact resume.* Which patches an epoch uses, their order and their symmetries follow from
(seed, epoch) alone (``trainer.patches.epoch_plan``); the state records how many batches of the
current epoch are done, so a resumed run sees the same batches as an uninterrupted one.

*Test hook.* ``LDCT_TRAIN_INJECT_NAN_AT=N`` turns the input batch of global iteration N into NaN,
to exercise the divergence stop.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ldct_viewer.errors import ConfigError, InputError, LdctError
from ldct_viewer.model import Normalization, build, load_checkpoint
from ldct_viewer.model.registry import describe
from ldct_viewer.progress import ProgressBar
from trainer import distributed
from trainer.config import (adversarial_conditions, arch_params, check, dump_config, training_conditions,
                            training_volumes)
from trainer.critic import Critic
from trainer.interrupt import StopFlag, timed
from trainer.logging import TrainingLog
from trainer.patches import (PatchSet, balancing_weights, build_grid, epoch_plan, fixed_subset,
                             input_mse_by_condition, make_loader)
from trainer.plots import plot_losses, plot_samples
from ldct_viewer.atomic import atomic_write_text
from trainer.outputs import check_run_folder
from trainer.record import RunRecord, describe_dataset
from trainer.selection import judge_epoch, selection_rule
from trainer.state import TrainState, load_train_state, save_train_state, set_rng_state
from trainer.steps import critic_step, generator_optimizer, generator_step, mse_step
from trainer.validation import sample_images, validate, worst_condition

MODES = ("mse", "wgan-gp")
NAN_HOOK_ENV = "LDCT_TRAIN_INJECT_NAN_AT"
CALIBRATION_PATCHES = 64  # model.init=centered: training patches the biases are centered on


class TrainingDiverged(LdctError):
    """A loss or a weight became NaN/inf; the run stopped and kept its last good checkpoint."""


def fit(config: dict, *, mode: str, data: str | Path, out: str | Path, init: str | Path | None = None,
        resume: bool = False) -> dict:
    """Train one network (``model.arch``); returns the run summary (also written to RUN_DIR/summary.json)."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    check(config)
    ctx = distributed.setup(config["run"]["device"])
    try:
        return train(ctx, config, mode, Path(data), Path(out), init, resume)
    finally:
        distributed.teardown(ctx)


def train(ctx: distributed.Context, config: dict, mode: str, data: Path, out: Path, init, resume: bool) -> dict:
    from trainer.data import VariableDoseDataset

    D, T, W, M, S, R = (config[k] for k in ("dataset", "training", "weights", "model", "sampling", "run"))
    wgan, main, device = mode == "wgan-gp", ctx.is_main, ctx.device
    seed, batch = int(R["seed"]), int(D["batch_size"])
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
    trained = training_conditions(config, list(dataset.conditions))
    adversarial_names = adversarial_conditions(config, trained or list(dataset.conditions)) if wgan else None
    data_description = describe_dataset(data)
    train_grid = build_grid(dataset, "train", D["patch_size"], D["stride"], trained,
                            training_volumes(config, list(dataset.volumes("train"))))
    val_grid = build_grid(dataset, "val", D["patch_size"], D["patch_size"], trained)
    if len(train_grid) < global_batch:
        raise InputError(f"{data}: {len(train_grid)} training patches, fewer than one batch of {global_batch}")
    if not len(val_grid):
        raise InputError(f"{data}: no validation volumes (split 'val') to select checkpoints with")
    val_rows = fixed_subset(len(val_grid), S["val_patches"], seed)
    steps_per_epoch = len(epoch_plan(len(train_grid), epoch=1, seed=seed, limit=S["patches_per_epoch"],
                                     augment=False, multiple=global_batch)[0]) // global_batch

    # ---- models and optimizers (in this order: each draws from the seeded torch generator)
    torch.manual_seed(seed)
    norm = Normalization()
    model = build(M["arch"], arch_params(config))
    if M["init"] == "identity" or (M["init"] == "centered" and not hasattr(model, "center_biases")):
        model.start_as_identity()  # U-Net, Restormer: a residual network's natural start
    elif M["init"] == "centered" and init is None and not resume:
        # the same fixed training patches on every process: identical starts under torchrun too
        calibration = PatchSet(train_grid, fixed_subset(len(train_grid), CALIBRATION_PATCHES, seed), None, norm)
        model.center_biases(calibration[np.arange(len(calibration))][0])
    init_info = None
    if init is not None and not resume:
        ckpt = load_checkpoint(init)
        if describe(ckpt.model) != describe(model):
            have = describe(ckpt.model)
            settings = " ".join(f"model.{k}={v}" for k, v in have.items() if k != "name")
            raise ConfigError(f"{ckpt.path}: --init model is {have['name']} with {settings.replace('model.', '')}; "
                              f"set model.arch={ckpt.architecture} {settings}")
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
    opt_g = generator_optimizer(model.parameters(), T, config["loss"]["l2_mode"])
    opt_c = torch.optim.Adam(critic.parameters(), lr=T["learning_rate"], betas=tuple(T["betas"])) if wgan else None
    scheduler = (None if wgan else torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt_g, mode="min", factor=T["lr_decay_factor"], patience=T["lr_decay_patience"]))
    weights = (balancing_weights(input_mse_by_condition(train_grid, norm, seed=seed))
               if config["loss"]["condition_balance"] else None)
    # 0/1 per condition: does the adversarial term see its patches (None: every patch, the seed's)
    adversarial = (None if adversarial_names is None
                   else torch.tensor([float(c in adversarial_names) for c in train_grid.conditions]))

    # ---- state: fresh, or exactly where the saved state left off
    state = TrainState(init=init_info)
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
        state = TrainState.from_dict(saved["counters"])
        set_rng_state(saved["rng"])
        if ctx.rank:
            torch.manual_seed(seed + 1000 * state.iteration + ctx.rank)
    elif ctx.rank:
        torch.manual_seed(seed + ctx.rank)  # different interpolation draws per process
    g = distributed.wrap(ctx, model)
    c = distributed.wrap(ctx, critic) if wgan else None
    modules = {"model": model, "opt_g": opt_g, **({"critic": critic, "opt_c": opt_c} if wgan else {"scheduler": scheduler})}

    log = TrainingLog(out / "log.csv", truncate_to=state.log_bytes) if main else None
    if main:
        atomic_write_text(out / "config.yaml", dump_config(config))
    record = RunRecord(
        out=out, mode=mode, config=config, data=data_description, normalization=norm,
        started=time.perf_counter() - state.elapsed,
        device=(torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"),
        processes=ctx.world_size, global_batch=global_batch, steps_per_epoch=steps_per_epoch, amp=amp, seed=seed,
        condition_weights=None if weights is None else dict(zip(train_grid.conditions, map(float, weights))),
        selection=selection_rule(config, wgan, balanced=weights is not None))
    last_state_save = time.perf_counter()
    val_set = PatchSet(val_grid, val_rows, None, norm)

    # ---- WGAN-GP: measure the starting point once (the RMSE bound of the selection rule)
    if wgan and state.init_val is None:
        state.init_val = validate(ctx, model, val_set, batch, norm, weights)
        if main:
            log.write("epoch", epoch=0, iteration=0, time_s=0.0, val_mse=state.init_val["mse"],
                      val_rmse_hu=state.init_val["rmse_hu"], val_texture_db=state.init_val["texture_db"],
                      lr=T["learning_rate"])

    # ---- the epoch loop
    with StopFlag() as stop:
        for epoch in range(state.epoch + 1, T["num_epochs"] + 1):
            rows, codes = epoch_plan(len(train_grid), epoch=epoch, seed=seed, limit=S["patches_per_epoch"],
                                     augment=D["augment"], multiple=global_batch)
            skip = state.step * global_batch
            loader = make_loader(PatchSet(train_grid, rows[skip:], codes[skip:], norm, weights,
                                          with_conditions=adversarial is not None), batch,
                                 rank=ctx.rank, world=ctx.world_size, num_workers=S["num_workers"],
                                 pin_memory=device.type == "cuda")
            bar = ProgressBar(steps_per_epoch, label=f"{mode} epoch {epoch}/{T['num_epochs']}", done=state.step,
                              enabled=main)
            model.train()
            clock = {"wait": 0.0, "start": time.perf_counter(), "steps": 0}
            for batch_tensors in timed(loader, clock):
                clock["steps"] += 1
                x, y = (t.to(device, non_blocking=True) for t in batch_tensors[:2])
                w = batch_tensors[2].to(device) if weights is not None else None
                a = adversarial[batch_tensors[-1]].to(device) if adversarial is not None else None
                state.iteration += 1
                state.step += 1
                if state.iteration == nan_at:
                    x = x * float("nan")
                if not wgan:
                    losses = mse_step(g, opt_g, x, y, w, autocast)
                else:
                    losses = critic_step(g, c, opt_c, x, y, a, T["lambda_gp"], autocast)
                    if (state.iteration > config["loss"]["critic_warmup_iterations"]
                            and state.iteration % T["critic_iterations"] == 0):
                        losses.update(generator_step(g, critic, opt_g, x, y, w, a, W, autocast))
                # one reduction per step: mean losses over processes, and everyone's stop request
                names = list(losses)
                vec = torch.stack([v.float() for v in losses.values()]
                                  + [torch.tensor(float(stop.requested), device=device)])
                vec = (distributed.all_reduce_sum(ctx, vec) / ctx.world_size).tolist()
                values = dict(zip(names, vec[:-1]))
                bad = [n for n, v in values.items() if not math.isfinite(v)]
                if bad:
                    raise _diverged(out, state, f"non-finite {bad[0]} ({values[bad[0]]})")
                if main:
                    log.write("iter", epoch=epoch, iteration=state.iteration,
                              time_s=round(time.perf_counter() - record.started, 3), lr=opt_g.param_groups[0]["lr"],
                              **values)
                    shown = values.get("loss_mse", values.get("loss_critic"))
                    bar.update(state.step, info=f"loss {shown:.3g}" if shown is not None else "")
                interrupted = vec[-1] > 0
                if main and (interrupted or time.perf_counter() - last_state_save > 60 * R["state_minutes"]):
                    if not _params_finite(model):
                        raise _diverged(out, state, "non-finite weights")
                    _save_state(record, state, log, modules)
                    last_state_save = time.perf_counter()
                if interrupted:
                    if main:
                        bar.close()
                        record.settle_best(state, record.summary(state, state.history[-1] if state.history else None))
                        print(f"ldct-train: interrupted at epoch {epoch}, iteration {state.iteration}; state saved to "
                              f"{out / 'train_state.pt'}; continue with --resume", file=sys.stderr)
                    raise KeyboardInterrupt
            if main:
                bar.close()
            train_time = time.perf_counter() - clock["start"]
            speed = {"patches_per_s": clock["steps"] * global_batch / max(train_time, 1e-9),
                     "data_wait_share": clock["wait"] / max(train_time, 1e-9)}

            # ---- end of epoch: validate, schedule, select, save
            state.epoch, state.step = epoch, 0
            val = validate(ctx, model, val_set, batch, norm, weights)
            if not math.isfinite(val["mse"]) or not _params_finite(model):
                raise _diverged(out, state, f"non-finite validation loss ({val['mse']})")
            lr = opt_g.param_groups[0]["lr"]
            if not wgan:
                scheduler.step(val["loss"])
            improved = judge_epoch(state, val, epoch, config, wgan)
            worst, worst_ratio = worst_condition(val)
            state.history.append({"epoch": epoch, "iteration": state.iteration, "lr": lr,
                                  "val_mse": val["mse"], "val_loss": val["loss"], "val_rmse_hu": val["rmse_hu"],
                                  "val_texture_db": val["texture_db"], "best": bool(improved),
                                  "val_rmse_by_condition": val["rmse_by_condition"],
                                  "val_input_rmse_by_condition": val["input_rmse_by_condition"],
                                  "val_texture_by_condition": val["texture_by_condition"],
                                  "val_input_texture_by_condition": val["input_texture_by_condition"], **speed})
            stop_early = not wgan and T["patience"] and state.bad_epochs >= T["patience"]
            state.stopped_early = bool(stop_early)
            if main:
                log.write("epoch", epoch=epoch, iteration=state.iteration,
                          time_s=round(time.perf_counter() - record.started, 3), val_mse=val["mse"],
                          val_rmse_hu=val["rmse_hu"], val_texture_db=val["texture_db"], lr=lr, **speed)
                print(f"{mode} epoch {epoch}: val MSE {val['mse']:.4g}"
                      + (f", balanced {val['loss']:.4g}" if weights is not None else "")
                      + f", RMSE {val['rmse_hu']:.1f} HU, "
                      f"texture {val['texture_db']:.2f} dB, worst {worst} {worst_ratio:.2f} x input, lr {lr:.3g}, "
                      f"{speed['patches_per_s']:.1f} patches/s, "
                      f"data wait {100 * speed['data_wait_share']:.1f} %" + (" (best)" if improved else ""),
                      file=sys.stderr)
                record.save_model(out / "last.pt", model, state, val)
                if improved:
                    record.save_model(out / "best.pt", model, state, val)
                record.save_model(out / f"epoch_{epoch:03d}.pt", model, state, val)
                _save_state(record, state, log, modules)
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

    result = record.summary(state, state.history[-1] if state.history else None)
    if main:
        record.settle_best(state, result)
        log.close()
        atomic_write_text(out / "summary.json", json.dumps(result, indent=2, default=float))
    return result


def _save_state(record: RunRecord, state: TrainState, log: TrainingLog, modules: dict) -> None:
    state.elapsed = time.perf_counter() - record.started
    state.log_bytes = log.flush()
    save_train_state(record.out, state, mode=record.mode, config=record.config, data=record.data,
                     normalization=record.normalization.to_dict(), modules=modules)


def _params_finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def _diverged(out: Path, state: TrainState, what: str) -> TrainingDiverged:
    kept = (f"last good checkpoint {out / 'last.pt'} (epoch {state.epoch})" if (out / "last.pt").exists()
            else "no checkpoint had been written yet")
    return TrainingDiverged(f"{out}: {what} at epoch {state.epoch + 1}, iteration {state.iteration}; "
                            f"training stopped, {kept}")
