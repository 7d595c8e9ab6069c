"""A non-editable install (a wheel) finds the bundled checkpoints and the demo recipe.

Builds the wheel from a copy of the project (the repository gets no build/ folder), installs it
into a scratch folder and asks ``ldct_viewer.paths`` from a directory outside any checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, ldct_viewer, ldct_viewer.paths as p
from ldct_viewer.model.checkpoint import resolve_checkpoint
print(json.dumps({"package": ldct_viewer.__file__, "resources": str(p.resources_dir()),
                  "checkpoints": sorted(x.name for x in p.checkpoints_dir().glob("*.pt")),
                  "mse": str(resolve_checkpoint("mse")), "wgan-gp": str(resolve_checkpoint("wgan-gp")),
                  "recipe": json.loads((p.resources_dir() / "demo_case.json").read_text())}))
"""


def test_wheel_ships_checkpoints_and_demo_recipe(tmp_path):
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("ldct_viewer", "trainer"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    (source / "resources" / "checkpoints").mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "demo_case.json", source / "resources")
    for checkpoint in (ROOT / "resources" / "checkpoints").glob("*.pt"):
        shutil.copy2(checkpoint, source / "resources" / "checkpoints")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "whl")],
                   check=True, cwd=tmp_path, capture_output=True)
    wheel = next((tmp_path / "whl").glob("ldct_viewer-*.whl"))
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "LDCT_VIEWER_RESOURCES"}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=outside, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert Path(found["package"]).is_relative_to(site)  # the installed copy, not the checkout
    assert Path(found["resources"]) == site / "ldct_viewer" / "resources"
    assert found["checkpoints"] == sorted(p.name for p in (ROOT / "resources" / "checkpoints").glob("*.pt"))
    assert Path(found["mse"]).is_relative_to(site) and Path(found["wgan-gp"]).is_relative_to(site)
    assert found["recipe"] == json.loads((ROOT / "resources" / "demo_case.json").read_text())
