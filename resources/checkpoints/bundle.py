"""Copy the selected run checkpoints into resources/checkpoints with the test evaluation embedded.

Run from the repository root after the commands in commands.sh; the weights are copied unchanged
(the script checks their SHA-256), only the metadata gains the test-split evaluation.
"""
import json
from ldct_viewer.model import load_checkpoint, save_checkpoint

results = json.load(open("runs/eval5/results.json"))
KEYS = ("rmse", "psnr", "ssim", "texture_db", "power_ratio_db", "rmse_truth")


def per_condition(method: str) -> dict:
    return {r["condition"]: {k: round(r[f"{method}|{k}"], 4) for k in KEYS} for r in results["rows"]}


for src, dst in (("runs/mse-c1-epoch18.pt", "resources/checkpoints/redcnn-mse.pt"),
                 ("runs/wgan-c1-epoch8.pt", "resources/checkpoints/redcnn-wgangp.pt")):
    c = load_checkpoint(src)
    name = next(x["name"] for x in results["checkpoints"] if x["sha256"] == c.sha256)
    evaluation = {"split": results["split"], "volumes": results["volumes"],
                  "slices_per_volume": results["slices_per_volume"],
                  "note": results["data_range_note"] + "; texture: " + results["texture_note"]
                          + "; rmse_truth: RMSE against the noise-free phantom",
                  "per_condition": per_condition(name), "ldct_per_condition": per_condition("LDCT"), "report": "resources/checkpoints/REPORT.md"}
    sha = save_checkpoint(dst, c.model, mode=c.mode, normalization=c.normalization, config=c.metadata["config"],
                          data=c.metadata["data"], evaluation=evaluation, training=c.metadata["training"])
    assert sha == c.sha256
    print(dst, sha[:12], name)
