"""``ldct-train evaluate``: the seed's table — RMSE/PSNR/SSIM per dose × views condition, for the
LDCT input and each checkpoint against NDCT — plus the noise-texture measure, on held-out volumes.

Metrics are computed on full slices in HU, without clipping, with ``data_range`` = 4096 HU (the
span -2048..2048 HU of the checkpoints' normalization) for PSNR and SSIM; per-slice values are
averaged over the slices of a condition, and the "mean" row averages the condition rows (as the
seed's "mean: 23.16"). Texture = ``ldct_viewer.analysis.nps.high_frequency_texture_distance``
(dB; 0 = the same high-frequency noise power as NDCT in NDCT's flat regions), pooled over the
condition's slices, with its signed counterpart ``high_frequency_power_ratio`` (below 0 = smoother
than NDCT: over-smoothing; above 0 = noise left in), which tells those two failures apart.
Denoising runs through ``ldct_viewer.inference.Engine`` (the viewer's code path).
When the dataset keeps the noise-free phantom (``--reference-scan``), RMSE against it is reported too:
it separates what a network gets right from the NDCT's own noise, which no method can predict.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import numpy as np

from ldct_viewer.analysis.metrics import DEFAULT_DATA_RANGE, psnr, rmse, ssim
from ldct_viewer.analysis.nps import flat_rois, high_frequency_power_ratio, high_frequency_texture_distance
from ldct_viewer.atomic import atomic_write_text
from ldct_viewer.errors import InputError
from ldct_viewer.inference import Engine
from ldct_viewer.model import load_checkpoint
from ldct_viewer.progress import ProgressBar
from trainer.outputs import check_new_files

METRICS = (("rmse", "RMSE (HU)"), ("psnr", "PSNR (dB)"), ("ssim", "SSIM"))
FIGURE_CROP = 256
FIGURE_WINDOW = (400.0, 40.0)  # abdomen W/L, HU
OUTPUT_FILES = ("table.md", "table.csv", "results.json", "conditions.png")


def condition_label(dataset, condition: str) -> str:
    """``d25_v360`` → ``25 % / 360 views``; anything else (e.g. ``real``) as it is."""
    try:
        dose, views = dataset.condition_info(condition)
    except Exception:  # a condition without dose/views metadata
        return condition
    if dose is None or views is None:
        return condition
    return f"{dose * 100:g} % / {views} views"


def _ordered_conditions(dataset) -> list[str]:
    def key(c):
        try:
            dose, views = dataset.condition_info(c)
            return (0, float(dose), int(views), c)
        except Exception:
            return (1, 0.0, 0, c)

    return sorted(dataset.conditions, key=key)


def _pick_slices(n: int, count: int) -> np.ndarray:
    """``count`` evenly spaced slice indices (all when 0 or more than ``n``)."""
    if not count or count >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, count).round().astype(int))


def _method_names(checkpoints) -> list[str]:
    names = [c.mode for c in checkpoints]
    return [n if names.count(n) == 1 else f"{n} ({c.path.parent.name}/{c.path.stem})"
            for n, c in zip(names, checkpoints)]


def evaluate(checkpoint_paths: list[str], data: str | Path, *, split: str = "test", out: str | Path | None = None,
             slices_per_volume: int = 0, device: str = "auto", data_range: float = DEFAULT_DATA_RANGE,
             quiet: bool = False, overwrite: bool = False) -> dict:
    """Score the LDCT input and every checkpoint per condition; write table.md/csv, conditions.png
    and results.json to ``out`` (when given; existing ones only replaced with ``overwrite``, checked
    before any work). Returns the results dict."""
    from trainer.data import VariableDoseDataset

    if out is not None:
        out = check_new_files(out, OUTPUT_FILES, overwrite=overwrite)
    data = Path(data)
    if not (data / "manifest.json").is_file():
        raise InputError(f"{data}: not a dataset folder (no manifest.json)")
    dataset = VariableDoseDataset(data)
    volumes = list(dataset.volumes(split))
    if not volumes:
        raise InputError(f"{data}: no volumes in split '{split}'")
    checkpoints = [load_checkpoint(p) for p in checkpoint_paths]
    # fp32 on every device, so that a table is the same figure wherever it was made: under the
    # viewer's CUDA default (fp16 autocast) the network's correction term is rounded to fp16 (the
    # input shortcut stays fp32), close to but not bit-identical with the CPU's result
    engines = [Engine(c, device=device, disk_cache=False, precision="fp32") for c in checkpoints]
    methods = ["LDCT", *_method_names(checkpoints)]
    conditions = _ordered_conditions(dataset)
    picks = {v: _pick_slices(dataset.ndct(v).shape[0], slices_per_volume) for v in volumes}
    has_truth = all(dataset.truth(v) is not None for v in volumes)
    total = sum(len(p) for p in picks.values()) * len(conditions)
    bar = ProgressBar(total, label="evaluate", enabled=not quiet)
    done = 0

    rows = []
    figure_rows = []
    for cond in conditions:
        per_method = {m: {k: [] for k in [*(k for k, _ in METRICS), "rmse_truth"]} for m in methods}
        stacks: dict[str, list[np.ndarray]] = {m: [] for m in methods}
        ndct_stack: list[np.ndarray] = []
        for v in volumes:
            zs = picks[v]
            ndct = np.array(dataset.ndct(v)[zs], dtype=np.float32)
            ldct = np.array(dataset.ldct(v, cond)[zs], dtype=np.float32)
            truth = np.array(dataset.truth(v)[zs], dtype=np.float32) if has_truth else None
            images = {"LDCT": ldct}
            for name, engine in zip(methods[1:], engines):
                images[name] = engine.denoise(ldct)
            for m, img in images.items():
                for i in range(len(zs)):
                    per_method[m]["rmse"].append(rmse(img[i], ndct[i]))
                    per_method[m]["psnr"].append(psnr(img[i], ndct[i], data_range))
                    per_method[m]["ssim"].append(ssim(img[i], ndct[i], data_range))
                    if truth is not None:
                        per_method[m]["rmse_truth"].append(rmse(img[i], truth[i]))
                stacks[m].append(img)
            ndct_stack.append(ndct)
            if v == volumes[0]:
                mid = len(zs) // 2
                figure_rows.append({"label": condition_label(dataset, cond),
                                    "images": {m: images[m][mid] for m in methods}, "ndct": ndct[mid]})
            done += len(zs)
            bar.update(done, info=cond)
        ref = np.concatenate(ndct_stack)
        rois = flat_rois(ref)
        row = {"condition": cond, "label": condition_label(dataset, cond), "slices": int(ref.shape[0])}
        for m in methods:
            for k, _ in METRICS:
                row[f"{m}|{k}"] = float(np.mean(per_method[m][k]))
            if has_truth:
                row[f"{m}|rmse_truth"] = float(np.mean(per_method[m]["rmse_truth"]))
            stack = np.concatenate(stacks[m])
            row[f"{m}|texture_db"] = high_frequency_texture_distance(stack, ref, rois=rois) if rois else math.nan
            row[f"{m}|power_ratio_db"] = high_frequency_power_ratio(stack, ref, rois=rois) if rois else math.nan
        rows.append(row)
    bar.close()

    mean_row = {"condition": "mean", "label": "mean", "slices": int(sum(r["slices"] for r in rows))}
    for key in rows[0]:
        if "|" in key:
            mean_row[key] = float(np.mean([r[key] for r in rows]))
    results = {
        "split": split, "volumes": volumes, "slices_per_volume": slices_per_volume or "all",
        "data_range_hu": data_range,
        "data_range_note": f"PSNR/SSIM with data_range {data_range:g} HU (the span of the checkpoints' normalization), "
                           "HU not clipped",
        "texture_note": "high-frequency texture distance: mean |10 log10(NPS_image / NPS_NDCT)| over 0.25-0.5 "
                        "cycles/pixel in NDCT's flat 32 px ROIs (dB, lower = closer to NDCT; n/a: NDCT has no flat ROI)",
        "power_ratio_note": "high-frequency noise power relative to NDCT: mean 10 log10(NPS_image / NPS_NDCT) over "
                            "the same band and ROIs (dB; below 0 = smoother than NDCT, i.e. over-smoothed; above 0 = "
                            "grainier, noise left in)",
        "methods": methods,
        "truth": has_truth,
        "checkpoints": [{"name": n, "path": str(c.path), "sha256": c.sha256, "mode": c.mode,
                         "device": e.device_description} for n, c, e in zip(methods[1:], checkpoints, engines)],
        "rows": rows + [mean_row],
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write_text(out / "table.md", markdown_table(results), overwrite=overwrite)
            atomic_write_text(out / "table.csv", csv_table(results), overwrite=overwrite)
            atomic_write_text(out / "results.json", json.dumps(results, indent=2), overwrite=overwrite)
            conditions_figure(figure_rows, methods, out / "conditions.png", overwrite=overwrite)
        except FileExistsError as err:  # created by someone else while this evaluation ran
            raise InputError(f"{err.filename}: appeared while evaluating; not overwriting it") from None
    return results


def markdown_table(results: dict) -> str:
    methods = results["methods"]
    head = ["Condition"] + [f"{m} {label}" for m in methods for _, label in METRICS]
    lines = [f"Split `{results['split']}`: {len(results['volumes'])} volume(s), "
             f"slices per volume: {results['slices_per_volume']}. {results['data_range_note']}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results["rows"]:
        cells = [f"**{r['label']}**" if r["condition"] == "mean" else r["label"]]
        for m in methods:
            cells += [f"{r[f'{m}|rmse']:.2f}", f"{r[f'{m}|psnr']:.2f}", f"{r[f'{m}|ssim']:.4f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if results.get("truth"):
        lines += _per_method_table(results, "RMSE (HU) against the noise-free phantom the NDCT was scanned from (no "
                                   "method can predict the NDCT's own noise, so this is the error a reader sees):",
                                   "RMSE vs truth (HU)", "rmse_truth")
    lines += _per_method_table(results, f"Noise texture ({results['texture_note']}):", "texture (dB)", "texture_db")
    if "power_ratio_note" in results:
        lines += _per_method_table(results, f"Which way the grain is off ({results['power_ratio_note']}):",
                                   "power vs NDCT (dB)", "power_ratio_db", signed=True)
    return "\n".join(lines) + "\n"


def _per_method_table(results: dict, caption: str, column: str, key: str, signed: bool = False) -> list[str]:
    """Markdown lines: one column per method with ``key``'s value (with its sign if ``signed``), one
    row per condition."""
    methods = results["methods"]
    lines = ["", caption, "", "| Condition | " + " | ".join(f"{m} {column}" for m in methods) + " |",
             "|" + "---|" * (len(methods) + 1)]
    for r in results["rows"]:
        cells = [f"**{r['label']}**" if r["condition"] == "mean" else r["label"]]
        cells += ["n/a" if math.isnan(r[f"{m}|{key}"]) else f"{r[f'{m}|{key}']:{'+' if signed else ''}.2f}"
                  for m in methods]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def csv_table(results: dict) -> str:
    methods = results["methods"]
    keys = ([k for k, _ in METRICS] + ["texture_db"] + (["power_ratio_db"] if "power_ratio_note" in results else [])
            + (["rmse_truth"] if results.get("truth") else []))
    return rows_csv(results, keys)


def rows_csv(results: dict, keys: list[str]) -> str:
    """One CSV line per condition row: condition, label, slices, then every method's ``keys``."""
    methods = results["methods"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["condition", "label", "slices"] + [f"{m} {k}" for m in methods for k in keys])
    for r in results["rows"]:
        writer.writerow([r["condition"], r["label"], r["slices"]] + [repr(r[f"{m}|{k}"]) for m in methods for k in keys])
    return buf.getvalue()


def conditions_figure(figure_rows: list[dict], methods: list[str], path: Path, *, overwrite: bool = True) -> Path:
    """One row per condition: each method's middle slice (centre crop) and NDCT, abdomen window."""
    from trainer.plots import plt, save_figure

    width, level = FIGURE_WINDOW
    cols = methods + ["NDCT"]
    fig, axes = plt.subplots(len(figure_rows), len(cols), figsize=(2.6 * len(cols), 2.6 * len(figure_rows)),
                             squeeze=False, layout="constrained")
    for r, row in enumerate(figure_rows):
        h, w = row["ndct"].shape
        ch, cw = min(h, FIGURE_CROP), min(w, FIGURE_CROP)
        y0, x0 = (h - ch) // 2, (w - cw) // 2
        for c, name in enumerate(cols):
            img = row["ndct"] if name == "NDCT" else row["images"][name]
            ax = axes[r, c]
            ax.imshow(img[y0 : y0 + ch, x0 : x0 + cw], cmap="gray", vmin=level - width / 2, vmax=level + width / 2,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=9)
            if c == 0:
                ax.set_ylabel(row["label"], fontsize=8)
    fig.suptitle(f"Centre {FIGURE_CROP} px crops, W {width:g} / L {level:g} HU", fontsize=10)
    return save_figure(fig, path, overwrite=overwrite)


def print_summary(results: dict, stream=sys.stdout) -> None:
    stream.write(markdown_table(results))
    stream.flush()

