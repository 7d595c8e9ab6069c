"""``ldct-train sources``: real CT from registry artifacts (tiny offline fixtures), randomized scanners,
the mixed real + phantom dataset and the real-anatomy evaluation."""

from __future__ import annotations

import gzip
import io
import json
import math
import plistlib
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ldct_viewer.ct.fbp import WINDOWS
from ldct_viewer.ct.scanner_draw import EVALUATION_SCANNER, ScannerRanges, draw_pixel_spacing, draw_scanner
from ldct_viewer.ct.simulate import SimulationParams
from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series, write_series
from ldct_viewer.model import REDCNN, Normalization, save_checkpoint
from trainer.data import BuildOptions, VariableDoseDataset, build_dataset
from trainer.data.sources import SOURCES, fetch_sources, read_invesalius, read_nifti, source_by_id

SILENT = open("/dev/null", "w")


def train_cli(*args):
    return subprocess.run([sys.executable, "-m", "trainer", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def nifti_bytes(data: np.ndarray, spacing=(1.5, 1.5, 1.5), flip_x: bool = True, slope: float = 1.0,
                inter: float = 0.0) -> bytes:
    """A NIfTI-1 file of ``data`` [i, j, k] (int16) with an sform: RAS axes, i flipped when ``flip_x``."""
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, *data.shape, 1, 1, 1, 1)
    struct.pack_into("<h", header, 70, 4)  # int16
    struct.pack_into("<h", header, 72, 16)
    struct.pack_into("<8f", header, 76, 1.0, *spacing, 1, 1, 1, 1)
    struct.pack_into("<f", header, 108, 352.0)
    struct.pack_into("<2f", header, 112, slope, inter)
    struct.pack_into("<h", header, 254, 1)  # sform_code
    sx = -spacing[0] if flip_x else spacing[0]
    for row, values in enumerate(((sx, 0, 0, 0), (0, spacing[1], 0, 0), (0, 0, spacing[2], 0))):
        struct.pack_into("<4f", header, 280 + 16 * row, *values)
    header[344:348] = b"n+1\0"
    return gzip.compress(bytes(header) + data.astype("<i2").tobytes(order="F"))


def test_nifti_is_reoriented_to_patient_axes_with_its_spacing_and_scaling():
    data = np.zeros((6, 5, 4), dtype=np.int16)  # i (x), j (y), k (z)
    data[0, 0, 0] = 100  # voxel (0,0,0): with x flipped (i runs R->L in LPS) it is the patient's right...
    data[5, 4, 3] = 200
    volume = read_nifti(nifti_bytes(data, spacing=(0.8, 0.9, 2.0), slope=2.0, inter=-1024.0))
    assert volume.hu.shape == (4, 5, 6) and volume.hu.dtype == np.float32
    assert volume.spacing == pytest.approx((2.0, 0.9, 0.8))
    # y in RAS runs posterior->anterior: rows (anterior first) are reversed; sform x = -i: columns keep i
    assert volume.hu[0, 4, 0] == pytest.approx(100 * 2.0 - 1024.0)
    assert volume.hu[3, 0, 5] == pytest.approx(200 * 2.0 - 1024.0)
    assert float(np.median(volume.hu)) == pytest.approx(-1024.0)


def test_nifti_refuses_truncated_and_non_volume_files():
    blob = gzip.decompress(nifti_bytes(np.zeros((4, 4, 4), dtype=np.int16)))
    with pytest.raises(InputError, match="shorter than its voxel data"):
        read_nifti(blob[:-10])
    with pytest.raises(InputError, match="not a NIfTI-1"):
        read_nifti(b"\0" * 400)


def inv3_bytes(matrix: np.ndarray, spacing=(0.9, 0.9, 1.5)) -> bytes:
    main = {"modality": "CT", "matrix": {"dtype": "int16", "filename": "matrix.dat", "shape": list(matrix.shape)},
            "spacing": list(spacing)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in (("main.plist", plistlib.dumps(main)), ("matrix.dat", matrix.astype("<i2").tobytes())):
            info = tarfile.TarInfo(f"tmpabc/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_invesalius_matrix_rows_become_anterior_first():
    matrix = np.zeros((3, 8, 8), dtype=np.int16)
    matrix[:, -1, :] = 500  # InVesalius' last row is the patient's front
    volume = read_invesalius(inv3_bytes(matrix))
    assert volume.hu.shape == (3, 8, 8) and volume.spacing == pytest.approx((1.5, 0.9, 0.9))
    assert np.all(volume.hu[:, 0, :] == 500) and np.all(volume.hu[:, 1:, :] == 0)


def fake_artifacts(tmp_path: Path) -> Path:
    """Archives laid out like the real ones, with tiny volumes: sdist (DICOM folder + NIfTI), .deb, wheel."""
    folder = tmp_path / "archives"
    folder.mkdir()
    dicom = tmp_path / "dicom"
    write_series(dicom, np.random.default_rng(0).normal(40, 10, (3, 32, 32)).astype(np.float32), reference=None,
                 description="tiny", spacing=(3.0, 0.98, 0.98), patient_id="X", derived=False)
    ts = source_by_id("totalseg-abdomen")
    with tarfile.open(folder / f"totalsegmentator-{ts.version}.tar.gz", "w:gz") as t:
        for f in sorted(dicom.iterdir()):
            t.add(f, arcname=f"totalsegmentator-{ts.version}/{ts.member}/CT.{f.stem}")
        cta = nifti_bytes(np.broadcast_to(10 * np.arange(8, dtype=np.int16), (24, 20, 8)))  # HU rise to the head
        info = tarfile.TarInfo(f"totalsegmentator-{ts.version}/{source_by_id('totalseg-cta').member}")
        info.size = len(cta)
        t.addfile(info, io.BytesIO(cta))
    head = source_by_id("invesalius-head")
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as t:
        data = inv3_bytes(np.full((2, 24, 24), 30, dtype=np.int16))
        info = tarfile.TarInfo(f"./{head.member}")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    body = inner.getvalue()
    ar = b"!<arch>\n" + b"data.tar.gz/".ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8) + \
        str(len(body)).encode().ljust(10) + b"`\n" + body
    (folder / f"invesalius-examples_{head.version}_all.deb").write_bytes(ar)
    return folder


def test_sources_convert_every_kind_with_licence_and_provenance(tmp_path):
    archives = fake_artifacts(tmp_path)
    out = fetch_sources(tmp_path / "sources", only=["totalseg-abdomen", "totalseg-cta", "invesalius-head"],
                        downloads=archives, log=SILENT)
    manifest = json.loads((out / "sources.json").read_text())
    by_folder = {e["folder"]: e for e in manifest["sources"]}
    assert set(by_folder) == {"train/totalseg-abdomen", "train/totalseg-cta-A", "train/totalseg-cta-B",
                              "eval/totalseg-cta-C", "train/totalseg-cta-D", "eval/invesalius-head"}
    for folder, entry in by_folder.items():
        assert entry["licence"] and len(entry["artifact_sha256"]) == 64
        assert json.loads((out / folder / "SOURCE.json").read_text())["role"] == folder.split("/")[0]
    assert by_folder["eval/invesalius-head"]["licence"] == "GPL-2"
    abdomen = load_series(out / "train/totalseg-abdomen")
    assert abdomen.shape == (3, 32, 32)
    head = load_series(out / "eval/invesalius-head")
    assert head.shape == (2, 24, 24) and float(head.volume().mean()) == pytest.approx(30.0, abs=0.5)
    slabs = [load_series(out / f) for f in ("train/totalseg-cta-A", "train/totalseg-cta-B", "eval/totalseg-cta-C",
                                            "train/totalseg-cta-D")]
    assert [s.shape[0] for s in slabs] == [2, 2, 2, 2]  # 8 slices in four slabs
    assert [s.patient_id for s in slabs] == [f"REAL-TOTALSEG-CTA-{c}" for c in "ABCD"]
    means = [float(s.volume().mean()) for s in slabs]
    assert means == sorted(means) and means[0] < means[3]  # slab A is the inferior one


def test_sources_damaged_archive_is_one_line_exit_2_and_nothing_written(tmp_path):
    archives = tmp_path / "archives"
    archives.mkdir()
    (archives / f"totalsegmentator-{source_by_id('totalseg-abdomen').version}.tar.gz").write_bytes(b"not a tar")
    result = train_cli("sources", "--out", tmp_path / "sources", "--downloads", archives, "--only", "totalseg-abdomen")
    assert result.returncode == 2, result.stderr
    assert "source totalseg-abdomen" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "sources").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_every_source_names_licence_role_and_exact_version():
    assert {s.role for s in SOURCES} <= {"train", "eval"}
    for s in SOURCES:
        assert s.licence and s.licence_note and s.version and all(r in ("train", "eval") for r in s.roles())
    assert source_by_id("invesalius-head").role == "eval"  # GPL-2: never trains shipped weights
    assert all(s.role == "eval" for s in SOURCES if s.package == "pydicom-data")
    with pytest.raises(InputError, match="unknown source"):
        source_by_id("nope")


def test_scanner_draws_stay_in_their_ranges_and_cover_them():
    ranges = ScannerRanges()
    rng = np.random.default_rng(5)
    draws = [draw_scanner(rng, ranges) for _ in range(400)]
    params = [p for p, _ in draws]
    assert {p.geometry for p in params} == set(ranges.geometries)
    assert {p.window for p in params} == set(WINDOWS)
    base = SimulationParams().fluence_per_mm2
    scales = np.array([p.fluence_per_mm2 / base for p in params])
    assert scales.min() >= 0.5 and scales.max() <= 2.0 and scales.min() < 0.6 and scales.max() > 1.7
    assert abs(float(np.median(np.log(scales)))) < 0.15  # log-uniform around 1
    noise = np.array([p.electronic_noise for p in params])
    thick = np.array([p.slice_thickness_mm for p in params])
    assert noise.min() >= 0 and noise.max() <= 10 and thick.min() >= 1 and thick.max() <= 5
    assert all(p.detector == "curved" and p.source_isocenter_mm == 595.0 for p in params)  # never the eval scanner
    pixels = np.array([draw_pixel_spacing(rng, ranges) for _ in range(400)])
    assert pixels.min() >= 0.5 and pixels.max() <= 1.0 and pixels.min() < 0.55 and pixels.max() > 0.95
    fixed, record = draw_scanner(rng, ranges, slice_thickness_mm=3.0)
    assert fixed.slice_thickness_mm == 3.0 and record["slice_thickness_mm"] == 3.0
    assert EVALUATION_SCANNER.detector == "flat" and EVALUATION_SCANNER.source_isocenter_mm != 595.0
    with pytest.raises(InputError):
        ScannerRanges(photon_scale=(0.0, 1.0)).validate()
    with pytest.raises(InputError):
        ScannerRanges(pixel_spacing_mm=(1.0, 0.5))


def test_mixed_dataset_randomizes_per_volume_scanner_and_refuses_eval_sources(tmp_path):
    archives = fake_artifacts(tmp_path)
    sources = fetch_sources(tmp_path / "sources", only=["totalseg-abdomen", "invesalius-head"], downloads=archives,
                            log=SILENT)
    phantoms = tmp_path / "phantoms"
    result = train_cli("phantoms", "--out", phantoms, "--volumes", 2, "--slices", 2, "--size", 64, "--seed", 4,
                       "--fov-range", "300,400")
    assert result.returncode == 0, result.stderr
    spacings = [load_series(phantoms / f"phantom_{i:03d}").pixel_spacing[0] for i in range(2)]
    assert all(300 / 64 <= s <= 400 / 64 for s in spacings) and spacings[0] != spacings[1]
    options = BuildOptions(doses=(25, 100), views=(180, 360), randomize_scanner=True, reference_scan=(100, 360),
                           val_patients=("PHANTOM-4-1",))
    ds = VariableDoseDataset(build_dataset([sources / "train", phantoms], tmp_path / "ds", options, log=SILENT))
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["simulation"]["randomize_scanner"] is True
    splits = {v["source"]["patient_id"]: v["split"] for v in manifest["volumes"]}
    assert splits["PHANTOM-4-1"] == "val" and splits["PHANTOM-4-0"] == "train"
    display = []
    for v in manifest["volumes"]:
        scanners = [c["scanner"] for c in v["conditions"].values()]
        assert len({(s["geometry"], s["window"]) for s in scanners}) == 1  # one scanner and kernel per patient
        # one display pixel spacing per patient, drawn in 0.5-1.0 mm; every array of the volume stored on it
        (pixel,) = {s["pixel_spacing_mm"] for s in scanners}
        assert 0.5 <= pixel <= 1.0 and v["spacing"][1:] == [pixel, pixel]
        display.append(pixel)
        shapes = {ds.ndct(v["id"]).shape} | {ds.ldct(v["id"], c).shape for c in v["conditions"]}
        source_rows = load_series(v["source"]["path"]).shape[1]
        rows = min(512, round(source_rows * v["source_pixel_mm"] / pixel))
        assert shapes == {tuple(v["shape"])} and v["shape"][1] == rows
        if v["source"]["patient_id"].startswith("PHANTOM"):
            assert v["reference_scan"]["scanner"]["window"] == scanners[0]["window"]
            assert ds.truth(v["id"]) is not None
        else:  # the real scan keeps its own grain, its thickness sets the inserted noise
            assert v["source"]["provenance"]["licence"] == "Apache-2.0"
            assert "reference_scan" not in v and ds.truth(v["id"]) is None
            assert all(s["slice_thickness_mm"] == pytest.approx(3.0) for s in scanners)
            assert {s["window"] for s in scanners} <= {"hann", "hamming", "cosine"}
    assert len(set(display)) == len(display)
    with pytest.raises(InputError, match="evaluation only"):
        build_dataset([sources / "eval"], tmp_path / "ds2", BuildOptions(doses=(25,), views=(180,)), log=SILENT)
    assert not (tmp_path / "ds2").exists()


@pytest.mark.parametrize("noise", ["image", "projection", "matched"])
def test_real_evaluation_reports_every_condition_and_measures_grain_and_edges(tmp_path, noise):
    from trainer.evaluate_real import NOISE_METHODS, edge_overshoot, evaluate_real

    rng = np.random.default_rng(1)
    n = 128
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    body = (xx / 60) ** 2 + (yy / 45) ** 2 < 1
    ndct = np.where(body, 40.0, -1000.0)[None].repeat(2, axis=0) + np.where(body, 1.0, 0.0) * rng.normal(0, 1, (2, n, n))
    # 128 px of 1.5 mm: a 180 x 135 mm body with a faint grain of its own
    write_series(tmp_path / "real", ndct.astype(np.float32), reference=None, description="real", spacing=(3.0, 1.5, 1.5),
                 patient_id="R", derived=False)
    ckpt = tmp_path / "m.pt"
    torch.manual_seed(0)
    save_checkpoint(ckpt, REDCNN(width=4), mode="mse", normalization=Normalization(), config={}, data={})
    results = evaluate_real([str(ckpt)], [tmp_path / "real"], out=tmp_path / "out", slices_per_series=2,
                            device="cpu", quiet=True, doses=(25, 100), views=(720,), noise=noise)
    assert results["noise"] == noise
    assert NOISE_METHODS[noise] in (tmp_path / "out" / "table.md").read_text()
    rows = {r["condition"]: r for r in results["rows"]}
    assert set(rows) == {"d25_v720", "d100_v720", "mean"}
    low, full = rows["d25_v720"], rows["d100_v720"]
    assert low["LDCT|rmse_w"] > 2 * full["LDCT|rmse_w"] and low["LDCT|rmse_w_ratio"] == 1.0
    assert low["LDCT|grain_db"] > 3.0  # the input is grainier than NDCT
    assert abs(low["LDCT|edge_hu"]) < 10.0  # noise alone has no rim
    assert not math.isnan(low["mse|grain_db"])
    assert "windowed RMSE" in (tmp_path / "out" / "table.md").read_text()
    with pytest.raises(InputError, match="already holds"):
        evaluate_real([str(ckpt)], [tmp_path / "real"], out=tmp_path / "out", device="cpu", quiet=True)
    bright = ndct[0] + np.where(body, 0.0, 0.0)
    from scipy import ndimage

    rim = body & ~ndimage.binary_erosion(body, iterations=4)
    assert edge_overshoot(ndct[0] + 45.0 * rim, ndct[0]) == pytest.approx(45.0, abs=1.0)
    assert edge_overshoot(bright, ndct[0]) == pytest.approx(0.0, abs=1e-6)


def test_real_evaluation_cli_scores_the_chosen_conditions(tmp_path):
    """``evaluate-real --doses/--views``: only those conditions (the quick screen of one checkpoint per
    epoch); a malformed list is refused with exit 2 and no traceback."""
    n = 96
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    body = (xx / 40) ** 2 + (yy / 30) ** 2 < 1
    ndct = np.where(body, 40.0, -1000.0)[None].astype(np.float32)
    write_series(tmp_path / "real", ndct, reference=None, description="real", spacing=(3.0, 1.5, 1.5),
                 patient_id="R", derived=False)
    ckpt = tmp_path / "m.pt"
    torch.manual_seed(0)
    save_checkpoint(ckpt, REDCNN(width=4), mode="mse", normalization=Normalization(), config={}, data={})
    base = [sys.executable, "-m", "trainer", "evaluate-real", "--checkpoint", str(ckpt), "--real",
            str(tmp_path / "real"), "--slices", "1", "--device", "cpu"]
    proc = subprocess.run([*base, "--doses", "25", "--views", "720", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["rows"]
    assert [r["condition"] for r in rows] == ["d25_v720", "mean"]
    bad = subprocess.run([*base, "--doses", "quarter"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--doses" in bad.stderr
