"""Make ``resources/phantom_preview.png``: phantom slices next to real CT slices, same windows.

Run: ``.venv/bin/python tests/bench/make_phantom_preview.py [--out PATH] [--seed S]``

Top row: phantom at three abdominal levels and a real contrast-enhanced abdominal CT from the
pydicom test corpus (``explicit_VR-UN.dcm``, from pydicom-data; its rows run posterior→anterior,
so it is flipped to the usual display), all in the abdomen window W400/L40. Bottom row: the
phantom at a chest level in the lung window W1500/L-600 and the mediastinal window, a phantom
slice zoomed on the liver, and pydicom's ``CT_small.dcm``. Pixel sizes differ (phantom FOV 380 mm);
each panel is shown at its own full extent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.pixels import apply_modality_lut  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ldct_viewer.ct.phantom import render_phantom  # noqa: E402

ABDOMEN = (400.0, 40.0)
LUNG = (1500.0, -600.0)
MEDIASTINUM = (350.0, 50.0)


def real_slice(name: str) -> tuple[np.ndarray, str] | None:
    """HU of a CT from pydicom's corpus in standard display orientation, or None if absent."""
    try:
        path = get_testdata_file(name, download=False)
    except TypeError:  # older pydicom without the download argument
        path = get_testdata_file(name)
    if path is None:
        return None
    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    orientation = [float(v) for v in ds.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0])]
    if orientation[4] < 0:  # rows run towards anterior: flip to anterior-up
        hu = hu[::-1]
    if orientation[0] < 0:
        hu = hu[:, ::-1]
    spacing = ds.get("PixelSpacing", ["?"])[0]
    return hu, f"real CT: {name} ({hu.shape[1]}², {float(spacing):.2f} mm px)"


def show(ax, image: np.ndarray, window: tuple[float, float], title: str) -> None:
    width, level = window
    ax.imshow(image, cmap="gray", vmin=level - width / 2, vmax=level + width / 2, interpolation="lanczos")
    ax.set_title(f"{title}\nW{width:g}/L{level:g}", fontsize=10)
    ax.axis("off")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "resources" / "phantom_preview.png"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    levels = (300.0, 345.0, 410.0, 160.0)
    slices = {}
    for level in levels:
        p = render_phantom(size=512, slices=1, seed=args.seed, start_z_mm=level)
        slices[level] = p.volume[0]
    print(f"rendered {len(levels)} phantom slices in {time.perf_counter() - t0:.1f} s")

    fig, axes = plt.subplots(2, 4, figsize=(20, 10.6), facecolor="black")
    for ax in axes.ravel():
        ax.set_facecolor("black")
    for ax, level in zip(axes[0, :3], levels[:3]):
        show(ax, slices[level], ABDOMEN, f"phantom seed {args.seed}, {level:.0f} mm below lung apex")
    real = real_slice("explicit_VR-UN.dcm")
    if real is not None:
        show(axes[0, 3], real[0], ABDOMEN, real[1])
    else:
        axes[0, 3].axis("off")
    chest = slices[levels[3]]
    show(axes[1, 0], chest, LUNG, f"phantom, chest {levels[3]:.0f} mm")
    show(axes[1, 1], chest, MEDIASTINUM, f"phantom, chest {levels[3]:.0f} mm")
    zoom = slices[levels[0]][150:350, 60:260]
    show(axes[1, 2], zoom, (150.0, 90.0), "phantom liver/kidney detail (liver window)")
    small = real_slice("CT_small.dcm")
    if small is not None:
        show(axes[1, 3], small[0], ABDOMEN, small[1])
    else:
        axes[1, 3].axis("off")
    for ax in axes.ravel():
        ax.title.set_color("white")
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=72, facecolor="black")
    tmp.replace(out)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
