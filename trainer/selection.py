"""Checkpoint selection: which epoch a run's ``best.pt`` is.

MSE mode: best = lowest validation loss (MSE, or the condition-balanced MSE training minimizes), as
in the seed. WGAN-GP: validation MSE is the wrong yardstick for a GAN — it is lowest before the
adversarial term has done anything. Best = the epoch whose outputs' high-frequency noise texture is
closest to NDCT's (``val_texture_db``; the validation loss when the validation patches hold no
NDCT-flat tile to measure texture in) among epochs from ``selection.wgan_warmup_epochs`` on whose
validation RMSE stays within ``selection.wgan_max_rmse_ratio`` x the ``--init`` model's and, with
``selection.wgan_beat_input``, is below the LDCT input's in every condition (so texture is not
bought with fidelity).

When no epoch qualifies (``fallback``) only because some condition stays above the input, best =
the epoch closest to qualifying (lowest worst-condition RMSE ratio to the input); otherwise best =
last. The fallback is also written when a run is interrupted, so every run with a finished epoch
leaves a best.pt; a later qualifying epoch replaces it.
"""

from __future__ import annotations

import math
from pathlib import Path

from trainer.state import TrainState
from trainer.validation import beats_input_everywhere, worst_condition


def selection_rule(config: dict, wgan: bool, balanced: bool) -> str:
    """The rule in words, as recorded in every checkpoint's training summary."""
    sel = config["selection"]
    if not wgan:
        return "lowest validation MSE" + (" (condition-balanced)" if balanced else "")
    return (f"lowest validation high-frequency texture distance to NDCT (dB; validation loss if no flat tile) "
            f"among epochs >= {sel['wgan_warmup_epochs']} with validation RMSE <= "
            f"{sel['wgan_max_rmse_ratio']} x the initial model's"
            + (" and below the LDCT input's in every condition; else the epoch with the lowest worst-condition "
               "RMSE ratio to the input" if sel["wgan_beat_input"] else "")
            + "; else the last epoch")


def wgan_selection_score(val: dict) -> float:
    """What WGAN-GP selection minimizes: the texture distance to NDCT, or the validation loss when
    the validation patches hold no NDCT-flat tile (small images). The tiles depend on NDCT alone, so
    a run uses one or the other in every epoch."""
    return val["texture_db"] if math.isfinite(val["texture_db"]) else val["loss"]


def judge_epoch(state: TrainState, val: dict, epoch: int, config: dict, wgan: bool) -> bool:
    """Record ``epoch``'s validation in ``state``'s best/best_epoch (and, MSE, the epochs without
    improvement that early stopping counts); True when it is the new best."""
    if wgan:
        sel = config["selection"]
        eligible = (epoch >= sel["wgan_warmup_epochs"]
                    and val["rmse_hu"] <= sel["wgan_max_rmse_ratio"] * state.init_val["rmse_hu"]
                    and (not sel["wgan_beat_input"] or beats_input_everywhere(val)))
        score = wgan_selection_score(val)
        improved = eligible and score < state.best
        if improved:
            state.best, state.best_epoch = score, epoch
        return improved
    improved = val["loss"] < state.best
    if improved:
        state.best, state.best_epoch, state.bad_epochs = val["loss"], epoch, 0
    else:
        state.bad_epochs += 1
    return improved


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


def fallback(state: TrainState, out: Path, config: dict, wgan: bool) -> tuple[int, Path, str] | None:
    """When no epoch has qualified, the checkpoint to write as best.pt anyway: (epoch, source file,
    what to append to the selection rule). None when an epoch qualified or none has finished."""
    if math.isfinite(state.best) or not (out / "last.pt").exists():
        return None
    sel = config["selection"]
    nearest = (closest_to_beating_input(state.history, sel["wgan_warmup_epochs"],
                                        sel["wgan_max_rmse_ratio"] * state.init_val["rmse_hu"])
               if wgan and sel["wgan_beat_input"] else None)
    if nearest is not None and (out / f"epoch_{nearest[0]:03d}.pt").is_file():
        epoch, ratio = nearest
        return epoch, out / f"epoch_{epoch:03d}.pt", (f" (no epoch beat the input in every condition: best = epoch "
                                                      f"{epoch}, worst condition {ratio:.3f} x the input's RMSE)")
    epoch = state.history[-1]["epoch"] if state.history else 0
    return epoch, out / "last.pt", " (no epoch qualified: best = last)"
