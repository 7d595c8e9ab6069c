"""Copy the selected run checkpoints into resources/checkpoints with the test evaluation embedded.

Run from the repository root after the commands in commands.sh; the weights are copied unchanged
(the script checks their SHA-256), only the metadata gains the test-split evaluation. The defaults
are the bundled pair's sources; for a new pair (e.g. the files of ``gpu_session.sh``, with its
``runs.tar.gz`` unpacked for the ``eval`` folder):

    python scripts/bundle.py --mse OUT/mse-best.pt --wgan OUT/wgan-best.pt --eval WORK/eval --tables

``--tables`` also copies the evaluation's table.md, table.csv and conditions.png over
evaluation.md, evaluation.csv and evaluation_conditions.png here. ``--real-eval`` (an
``ldct-train evaluate-real --out`` folder that scored both) embeds the real-anatomy figures too and,
with ``--tables``, copies its table to evaluation_real.md / evaluation_real.csv.
"""
import argparse
import json
import shutil
from pathlib import Path

from ldct_viewer.model import load_checkpoint, save_checkpoint

HERE = Path("resources/checkpoints")
KEYS = ("rmse", "psnr", "ssim", "texture_db", "power_ratio_db", "rmse_truth")
REAL_KEYS = ("rmse_w", "rmse_w_ratio", "grain_db", "edge_hu", "rmse", "psnr", "ssim")
REAL_TABLES = (("table.md", "evaluation_real.md"), ("table.csv", "evaluation_real.csv"))
TABLES = (("table.md", "evaluation.md"), ("table.csv", "evaluation.csv"),
          ("conditions.png", "evaluation_conditions.png"))


def per_condition(results: dict, method: str, keys=KEYS) -> dict:
    return {r["condition"]: {k: round(r[f"{method}|{k}"], 4) for k in keys if f"{method}|{k}" in r}
            for r in results["rows"]}


def _name(results: dict, sha: str, where: str, src: str) -> str:
    try:
        return next(x["name"] for x in results["checkpoints"] if x["sha256"] == sha)
    except StopIteration:
        raise SystemExit(f"{src}: not one of the checkpoints evaluated in {where}") from None


def bundle(mse: str, wgan: str, eval_dir: str, tables: bool, real_dir: str | None = None) -> None:
    results = json.loads((Path(eval_dir) / "results.json").read_text())
    real = json.loads((Path(real_dir) / "results.json").read_text()) if real_dir else None
    for src, dst in ((mse, HERE / "redcnn-mse.pt"), (wgan, HERE / "redcnn-wgangp.pt")):
        c = load_checkpoint(src)
        name = _name(results, c.sha256, eval_dir, src)
        evaluation = {"split": results["split"], "volumes": results["volumes"],
                      "slices_per_volume": results["slices_per_volume"],
                      "note": results["data_range_note"] + "; texture: " + results["texture_note"]
                              + "; rmse_truth: RMSE against the noise-free phantom",
                      "per_condition": per_condition(results, name),
                      "ldct_per_condition": per_condition(results, "LDCT"), "report": str(HERE / "MODEL_CARD.md")}
        if real is not None:
            real_name = _name(real, c.sha256, real_dir, src)
            evaluation["real_anatomy"] = {
                "series": [s["name"] for s in real["series"]], "scanner": real["scanner"], "notes": real["notes"],
                "per_condition": per_condition(real, real_name, REAL_KEYS),
                "ldct_per_condition": per_condition(real, "LDCT", REAL_KEYS)}
        sha = save_checkpoint(dst, c.model, mode=c.mode, normalization=c.normalization, config=c.metadata["config"],
                              data=c.metadata["data"], evaluation=evaluation, training=c.metadata["training"])
        assert sha == c.sha256
        print(dst, sha[:12], name)
    if tables:
        copies = [(Path(eval_dir) / src, dst) for src, dst in TABLES]
        copies += [(Path(real_dir) / src, dst) for src, dst in REAL_TABLES] if real_dir else []
        for src, dst in copies:
            shutil.copyfile(src, HERE / dst)
            print(HERE / dst)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mse", default="runs/mse-c3-best.pt")
    ap.add_argument("--wgan", default="runs/wgan-c3-best.pt")
    ap.add_argument("--eval", default="runs/eval8", help="an 'ldct-train evaluate --out' folder that evaluated both")
    ap.add_argument("--real-eval", default=None, help="an 'ldct-train evaluate-real --out' folder that scored both")
    ap.add_argument("--tables", action="store_true", help="also copy its tables and figure here")
    a = ap.parse_args()
    bundle(a.mse, a.wgan, a.eval, a.tables, a.real_eval)
