"""Validation of a run's generator on the fixed validation patches: fidelity (MSE, RMSE per
condition, against the LDCT input's) and noise texture (``ldct_viewer.analysis.nps``, the measure
``ldct-train evaluate`` reports), reduced over all processes; and the sample images of the figures.

What the numbers are for is the selection's business (``trainer.selection``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ldct_viewer.analysis.nps import band_ratio_db, flat_rois, high_frequency_power
from ldct_viewer.model import Normalization
from trainer import distributed
from trainer.patches import PatchSet

TEXTURE_ROI = 32
SAMPLE_CROP = 256


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
    (strictly flat tiles only, see ``flat_rois``), the pooled powers compared by ``band_ratio_db``;
    ``texture_db`` = the mean over conditions of mean |10 log10(P_out / P_NDCT)|; ``texture_by_condition`` and
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
    ratio_db = band_ratio_db(power, power[1])  # [out, ndct (0 dB), input] x cond x bin
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
