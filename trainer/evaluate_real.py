"""``ldct-train evaluate-real``: how the checkpoints do on real anatomy they never saw.

The phantom table (``trainer.evaluate``) cannot tell whether a network learned CT or learned our
phantoms. Here the NDCT is a real normal-dose slice with its own grain (the evaluation sources of
``ldct-train sources``, or any folder of real CT), and the LDCT is that slice with low-dose noise
made by a method the training data never used: ``noise="image"`` (default) inserts Gaussian noise coloured
to a parametric FBP noise power spectrum calibrated on a real Br38f abdomen, at a level from the slice's
water-equivalent diameter (:mod:`ldct_viewer.ct.image_noise`), plus the noise-free view aliasing of
:data:`ldct_viewer.ct.scanner_draw.EVALUATION_SCANNER`; ``noise="projection"`` runs the training
simulator's projection-domain insertion on that scanner, which training never drew (flat detector,
other source distance, fixed kernel); ``noise="matched"`` is the image method at the level each NDCT
slice's own noise implies (``level="measured"``): the model's level suits a 1-3 mm abdomen, but a
grainy NDCT (a thin-slice CTA) then holds more noise than its low-dose copy adds, and every denoiser
that removes it scores worse than the input against it. The seed's 12 dose × views conditions. Per condition, pooled
over every slice:

* windowed RMSE: RMSE after clipping both images to the abdomen range −160…240 HU (what a reader
  sees; bone and air errors do not dominate), and its ratio to the LDCT input's;
* RMSE, PSNR and SSIM in HU over the whole slice (data range 4096 HU, as ``evaluate``);
* grain: the signed high-frequency NPS ratio to NDCT (0.25–0.5 cycles/pixel, NDCT's flat ROIs;
  below 0 dB = smoother than NDCT: the over-smoothing the viewer exists to show), the mean over
  the series that have flat ROIs, each series counted once;
* edge overshoot: the mean of (image − NDCT) over the 4 px band just inside the body outline, the
  worst slice's value (a network that brightens the skin shows a positive figure; noise averages out).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from ldct_viewer.analysis.metrics import DEFAULT_DATA_RANGE, psnr, rmse, ssim
from ldct_viewer.analysis.nps import flat_rois, high_frequency_power_ratio
from ldct_viewer.errors import InputError
from ldct_viewer.progress import ProgressBar
from trainer.data.build import DEFAULT_DOSES, DEFAULT_VIEWS
from trainer.data.conditions import condition_name
from ldct_viewer.atomic import atomic_write_text
from trainer.evaluate import _method_names, _pick_slices, rows_csv

READER_WINDOW = (-160.0, 240.0)  # HU: the abdomen window W 400 / L 40
EDGE_BAND_PX = 4
BODY_THRESHOLD_HU = -500.0
SEED_OFFSET = 0xE7A1  # noise realizations disjoint from every training seed
NOISE_METHODS = {
    "image": "image-domain noise with a calibrated FBP noise power spectrum (ct.image_noise), never used in "
             "training; view aliasing of the evaluation scanner",
    "projection": "projection-domain noise insertion (the training simulator's method) on the evaluation scanner",
    "matched": "image-domain noise as 'image', at each NDCT slice's own measured noise level (added SD = "
               "sigma_NDCT * sqrt(1/dose - 1), sigma_NDCT its robust soft-tissue noise SD), as a real reduced-dose "
               "scan relates to the full-dose scan of the same patient; view aliasing of the evaluation scanner",
}


def body_mask(ndct: np.ndarray) -> np.ndarray:
    """The largest connected region above −500 HU with its holes filled (the patient, not the table)."""
    mask = ndct > BODY_THRESHOLD_HU
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
    return ndimage.binary_fill_holes(labels == (1 + int(np.argmax(sizes))))


def edge_band(ndct: np.ndarray, band_px: int = EDGE_BAND_PX) -> np.ndarray:
    """The ``band_px`` px just inside the body outline of an NDCT slice."""
    body = body_mask(ndct)
    return body & ~ndimage.binary_erosion(body, iterations=band_px)


def edge_overshoot(image: np.ndarray, ndct: np.ndarray, band: np.ndarray | None = None) -> float:
    """Mean (image − NDCT) in HU over the edge band (``edge_band(ndct)`` unless given; NaN: no body)."""
    band = edge_band(ndct) if band is None else band
    if band.sum() < 50:
        return math.nan
    return float(np.mean((image - ndct)[band]))


def windowed_rmse(image: np.ndarray, ndct: np.ndarray, window: tuple[float, float] = READER_WINDOW) -> float:
    lo, hi = window
    return rmse(np.clip(image, lo, hi), np.clip(ndct, lo, hi))


def load_real_slices(paths: list[str | Path], slices_per_series: int) -> list[dict]:
    """Every CT series under ``paths`` (localizers skipped), ``slices_per_series`` evenly spaced slices each."""
    from ldct_viewer.io import scan

    found = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        result = scan([path])
        for series in result.series:
            if series.modality != "CT" or series.is_localizer:
                continue
            dy, dx = series.pixel_spacing
            if abs(dy - dx) > 0.01 * max(dy, dx):
                continue  # the simulator needs square pixels
            picks = _pick_slices(series.shape[0], slices_per_series)
            volume = np.array(series.volume()[picks], dtype=np.float32)
            found.append({"name": series.folder.name, "uid": series.uid, "hu": volume, "pixel_mm": float(dx),
                          "thickness_mm": float(series.slice_thickness), "slices": picks.tolist(),
                          "description": series.description,
                          # what depends on the NDCT alone, measured once for every condition and method
                          "rois": flat_rois(volume), "bands": [edge_band(z) for z in volume]})
    if not found:
        raise InputError(f"{', '.join(map(str, paths))}: no CT series with square pixels found")
    return found


def evaluate_real(checkpoint_paths: list[str], paths: list[str | Path], *, out: str | Path | None = None,
                  slices_per_series: int = 4, device: str = "auto", quiet: bool = False,
                  doses: tuple[float, ...] = DEFAULT_DOSES, views: tuple[int, ...] = DEFAULT_VIEWS,
                  noise: str = "image") -> dict:
    """Score the LDCT input and each checkpoint on real slices with simulated low dose; write
    table.md, table.csv and results.json to ``out`` when given."""
    from dataclasses import asdict, replace

    from ldct_viewer.ct import simulate_low_dose
    from ldct_viewer.ct.image_noise import insert_image_noise
    from ldct_viewer.ct.scanner_draw import EVALUATION_SCANNER
    from ldct_viewer.inference import Engine
    from ldct_viewer.model import load_checkpoint

    if noise not in NOISE_METHODS:
        raise InputError(f"unknown noise method {noise!r}: use {' or '.join(NOISE_METHODS)}")
    if out is not None:
        out = Path(out)
        taken = [n for n in ("table.md", "table.csv", "results.json") if (out / n).exists()]
        if taken:
            raise InputError(f"{out}: already holds {', '.join(taken)}; choose a new --out")
    checkpoints = [load_checkpoint(p) for p in checkpoint_paths]
    engines = [Engine(c, device=device, disk_cache=False, precision="fp32") for c in checkpoints]
    methods = ["LDCT", *_method_names(checkpoints)]
    series = load_real_slices(paths, slices_per_series)
    conditions = [(condition_name(d, v), d / 100.0, int(v)) for d in doses for v in views]
    total = sum(len(s["hu"]) for s in series) * len(conditions)
    bar = ProgressBar(total, label="evaluate-real", enabled=not quiet)
    done = 0
    rows = []
    for c, (cond, dose, n_views) in enumerate(conditions):
        metrics = {m: {"rmse_w": [], "rmse": [], "psnr": [], "ssim": [], "edge": []} for m in methods}
        grains = {m: [] for m in methods}
        for k, s in enumerate(series):
            ndct = s["hu"]
            params = replace(EVALUATION_SCANNER, slice_thickness_mm=s["thickness_mm"])
            seed = int(np.random.SeedSequence([SEED_OFFSET, k, c]).generate_state(1)[0] & 0x7FFFFFFF)
            if noise in ("image", "matched"):
                ldct = insert_image_noise(ndct, s["pixel_mm"], dose=dose, views=n_views, seed=seed,
                                          thickness_mm=s["thickness_mm"], aliasing_params=params, device=device,
                                          level="measured" if noise == "matched" else "model")
            else:
                ldct = simulate_low_dose(ndct, s["pixel_mm"], dose=dose, views=n_views, seed=seed, params=params,
                                         input_dose=1.0, device=device)
            images = {"LDCT": ldct}
            for name, engine in zip(methods[1:], engines):
                images[name] = engine.denoise(ldct)
            rois = s["rois"]
            for m, img in images.items():
                for i in range(len(ndct)):
                    metrics[m]["rmse_w"].append(windowed_rmse(img[i], ndct[i]))
                    metrics[m]["rmse"].append(rmse(img[i], ndct[i]))
                    metrics[m]["psnr"].append(psnr(img[i], ndct[i], DEFAULT_DATA_RANGE))
                    metrics[m]["ssim"].append(ssim(img[i], ndct[i], DEFAULT_DATA_RANGE))
                    metrics[m]["edge"].append(edge_overshoot(img[i], ndct[i], s["bands"][i]))
                if rois:  # every series counts once, whatever its number of flat ROIs (heads have many)
                    grains[m].append(high_frequency_power_ratio(img, ndct, rois=rois))
            done += len(ndct)
            bar.update(done, info=cond)
        row = {"condition": cond, "label": f"{dose * 100:g} % / {n_views} views",
               "slices": len(metrics["LDCT"]["rmse"])}
        for m in methods:
            row[f"{m}|rmse_w"] = float(np.mean(metrics[m]["rmse_w"]))
            row[f"{m}|rmse_w_ratio"] = row[f"{m}|rmse_w"] / row["LDCT|rmse_w"]
            for key in ("rmse", "psnr", "ssim"):
                row[f"{m}|{key}"] = float(np.mean(metrics[m][key]))
            edges = [e for e in metrics[m]["edge"] if not math.isnan(e)]
            row[f"{m}|edge_hu"] = float(max(edges, key=abs)) if edges else math.nan
            row[f"{m}|grain_db"] = float(np.mean(grains[m])) if grains[m] else math.nan
        rows.append(row)
    bar.close()
    mean_row = {"condition": "mean", "label": "mean", "slices": rows[0]["slices"]}
    for key in rows[0]:
        if "|" in key:
            values = [r[key] for r in rows if not math.isnan(r[key])]
            mean_row[key] = float(np.mean(values)) if values else math.nan
    results = {
        "methods": methods,
        "series": [{k: s[k] for k in ("name", "uid", "description", "pixel_mm", "thickness_mm", "slices")}
                   for s in series],
        "noise": noise,
        "noise_method": NOISE_METHODS[noise],
        "scanner": asdict(EVALUATION_SCANNER),
        "notes": {
            "rmse_w": f"RMSE (HU) after clipping image and NDCT to {READER_WINDOW[0]:g}..{READER_WINDOW[1]:g} HU",
            "rmse_w_ratio": "windowed RMSE / the LDCT input's (below 1 = better than the input)",
            "grain_db": "mean 10 log10(NPS_image / NPS_NDCT) over 0.25-0.5 cycles/pixel in NDCT's flat 32 px ROIs "
                        "(dB; below 0 = smoother than NDCT, above 0 = grainier), mean over series, each counted once",
            "edge_hu": f"mean (image - NDCT) over the {EDGE_BAND_PX} px band inside the body outline, worst slice (HU)",
        },
        "checkpoints": [{"name": n, "path": str(c.path), "sha256": c.sha256, "mode": c.mode}
                        for n, c in zip(methods[1:], checkpoints)],
        "rows": rows + [mean_row],
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "table.md", markdown_table(results))
        atomic_write_text(out / "table.csv", csv_table(results))
        atomic_write_text(out / "results.json", json.dumps(results, indent=2))
    return results


COLUMNS = (("rmse_w", "windowed RMSE (HU)", ".1f"), ("rmse_w_ratio", "× LDCT", ".2f"),
           ("grain_db", "grain (dB)", "+.2f"), ("edge_hu", "edge (HU)", "+.1f"),
           ("psnr", "PSNR (dB)", ".2f"), ("ssim", "SSIM", ".4f"))


def markdown_table(results: dict) -> str:
    methods = results["methods"]
    names = ", ".join(f"{s['name']} ({len(s['slices'])})" for s in results["series"])
    scanner = (f"{results['scanner']['detector']} {results['scanner']['geometry']} beam, "
               f"{results['scanner']['window']} kernel")
    method = results.get("noise_method", NOISE_METHODS["projection"])
    lines = [f"Real slices (series (slices)): {names}. Low dose: {method} ({scanner}).", ""]
    for key, label, fmt in COLUMNS:
        lines += [f"{label}: {results['notes'].get(key, label)}" if key in results["notes"] else f"{label}:", "",
                  "| Condition | " + " | ".join(methods) + " |", "|" + "---|" * (len(methods) + 1)]
        for r in results["rows"]:
            cells = [f"**{r['label']}**" if r["condition"] == "mean" else r["label"]]
            cells += ["n/a" if math.isnan(r[f"{m}|{key}"]) else format(r[f"{m}|{key}"], fmt) for m in methods]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def csv_table(results: dict) -> str:
    return rows_csv(results, [k for k, _, _ in COLUMNS] + ["rmse"])


def print_summary(results: dict, stream=sys.stdout) -> None:
    stream.write(markdown_table(results))
    stream.flush()
