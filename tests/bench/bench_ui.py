"""Viewer repaint speed with results cached (offscreen): slice change and W/L drag step, four 512² panels.

Targets (issue 6): a slice change repaints all four panels in <= 30 ms; a W/L drag step in <= 16 ms.
Each step is the state change plus ``processEvents()`` plus a synchronous ``window.repaint()``.
Baseline, measured in the same run: a ``repaint()`` with nothing changed (the floor any step pays).

    .venv/bin/python tests/bench/bench_ui.py [--size 512] [--slices 16] [--repeats 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for dicom_factory


def timed(step, repeats: int) -> list[float]:
    out = []
    for k in range(repeats):
        t0 = time.perf_counter()
        step(k)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summary(name: str, ms: list[float], baseline: float, target: float | None) -> None:
    med = statistics.median(ms)
    p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
    verdict = "" if target is None else ("  OK" if med <= target else "  SLOWER THAN TARGET")
    tgt = "" if target is None else f"  target <= {target:.0f} ms"
    print(f"{name:<34} median {med:6.2f} ms  p95 {p95:6.2f} ms  x{med / baseline:5.2f} baseline{tgt}{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--slices", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    os.environ["LDCT_VIEWER_CACHE"] = str(tmp / "cache")
    import numpy as np
    import torch
    from dicom_factory import phantom_volume, write_ct_series
    from PySide6.QtCore import QSettings

    from ldct_viewer.model import REDCNN, Normalization, save_checkpoint
    from ldct_viewer.ui.app import get_app
    from ldct_viewer.ui.main_window import MainWindow

    app = get_app()
    ndct = phantom_volume(args.slices, args.size, seed=1)
    rng = np.random.default_rng(2)
    ldct = np.clip(ndct + np.round(rng.normal(0, 30, ndct.shape)), -1024, 3000).astype(np.float32)
    write_ct_series(tmp / "ldct", ldct, description="bench LDCT")
    write_ct_series(tmp / "ndct", ndct, description="bench NDCT")
    ckpts = {}
    for key in ("mse", "wgan-gp"):
        torch.manual_seed(len(key))
        ckpts[key] = str(tmp / f"{key}.pt")
        save_checkpoint(ckpts[key], REDCNN(width=4), mode=key, normalization=Normalization(), config={}, data={})

    window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), device="cpu",
                        checkpoints=ckpts)
    window.resize(1920, 1040)
    window.show()
    if not window.open_paths([tmp / "ldct"], "ldct") or not window.open_paths([tmp / "ndct"], "ndct"):
        print("could not open the bench series:", window.errors)
        return 1
    deadline = time.time() + 300
    while not all(len(s.finished) == args.slices for s in window.inference.slots.values()):
        app.processEvents()
        time.sleep(0.005)
        if time.time() > deadline:
            print("inference did not finish")
            return 1
    for i in range(args.slices):  # warm the series' slice cache: "results cached" means everything
        window.case.ldct_slice(i)
        window.case.ndct_slice(i)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    panel = window.panels["ldct"].graphics
    print(f"ldct-viewer UI bench: 4 panels of {args.size}², {args.slices} slices, window {window.width()}×"
          f"{window.height()}, panel view {panel.width()}×{panel.height()} px, {args.repeats} repeats, "
          f"Qt platform {app.platformName()}")

    def settle() -> None:
        app.processEvents()
        window.repaint()

    def static(k: int) -> None:
        settle()

    def slice_change(k: int) -> None:
        window.state.set_slice((k * 5 + 1) % args.slices)
        settle()

    def wl_step(k: int) -> None:
        window.state.drag_window(4.0 if k % 2 == 0 else -4.0, 2.0 if k % 4 < 2 else -2.0, "ldct")
        settle()

    timed(static, 10)
    base = timed(static, args.repeats)
    baseline = statistics.median(base)
    summary("repaint, nothing changed (baseline)", base, baseline, None)
    summary("slice change, 4 panels", timed(slice_change, args.repeats), baseline, 30)
    summary("W/L drag step, 4 panels", timed(wl_step, args.repeats), baseline, 16)
    window.state.set_diff_mode("minus_ndct")
    summary("slice change, difference maps", timed(slice_change, args.repeats), baseline, 30)
    window.state.set_diff_mode("none")
    from ldct_viewer.analysis.profile import Line
    from ldct_viewer.analysis.roi import EllipseRoi

    n = args.size
    window.state.set_roi(EllipseRoi(0.3 * n, 0.35 * n, 0.2 * n, 0.15 * n))  # ~1,900 px of 512²
    window.state.set_line(Line(0.2 * n, 0.5 * n, 0.8 * n, 0.55 * n))
    window.show_profile()
    settle()
    summary("slice change, ROI + line profile", timed(slice_change, args.repeats), baseline, 30)
    window.remove_roi_and_line()
    window.profile_dialog.close()
    window.state.set_layout("2x2")
    settle()
    summary("slice change, 2×2 layout", timed(slice_change, args.repeats), baseline, 30)
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
