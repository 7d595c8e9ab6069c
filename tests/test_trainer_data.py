"""``ldct-train phantoms`` + ``ldct-train dataset`` end to end, the paired (Mayo) path, the reader, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series, write_series
from trainer.data import BuildOptions, VariableDoseDataset, assign_splits, build_dataset, parse_condition


def train_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "trainer", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ph") / "phantoms"
    result = train_cli("phantoms", "--out", out, "--volumes", 3, "--slices", 4, "--size", 64, "--seed", 3)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def dataset_dir(phantom_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "dataset"
    result = train_cli("dataset", "--ndct", phantom_dir, "--out", out, "--doses", "25,100", "--views", "180,720",
                       "--seed", 1)
    assert result.returncode == 0, result.stderr
    assert "d25_v180" in result.stderr  # progress on stderr
    return out


def test_phantoms_are_dicom_series_through_the_loader(phantom_dir):
    folders = sorted(p.name for p in phantom_dir.iterdir())
    assert folders == ["phantom_000", "phantom_001", "phantom_002"]
    levels, uids = [], set()
    for i, name in enumerate(folders):
        series = load_series(phantom_dir / name)
        assert series.shape == (4, 64, 64)
        assert series.patient_id == f"PHANTOM-3-{i}"
        assert series.pixel_spacing == pytest.approx((380 / 64, 380 / 64))
        assert series.slice_spacing == pytest.approx(1.0)
        assert "Phantom seed" in series.description
        vol = series.volume()
        assert vol.dtype == np.float32 and vol.min() < -900 and vol.max() > 300
        levels.append(float(series.description.split("level ")[1].split("-")[0]))
        uids.add(series.uid)
    assert len(uids) == 3
    assert levels == sorted(levels) and levels[0] < 250 < levels[-1]  # chest and abdomen both appear


def test_phantoms_refuses_to_overwrite(phantom_dir):
    result = train_cli("phantoms", "--out", phantom_dir, "--volumes", 1, "--slices", 1, "--size", 32)
    assert result.returncode == 2
    assert "already exists" in result.stderr and "Traceback" not in result.stderr


def test_dataset_manifest_layout_and_splits(dataset_dir, phantom_dir):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    assert manifest["format"] == "ldct-variable-dose/1"
    assert manifest["conditions"] == ["d25_v180", "d25_v720", "d100_v180", "d100_v720"]
    ds = VariableDoseDataset(dataset_dir)
    assert ds.volumes() == ["vol000", "vol001", "vol002"]
    assert len(ds.volumes("val")) >= 1 and len(ds.volumes("train")) >= 1
    assert sorted(ds.volumes("train") + ds.volumes("val") + ds.volumes("test")) == ds.volumes()
    sources = set()
    for vid in ds.volumes():
        entry = ds.info(vid)
        sources.add(entry["source"]["series_uid"])
        assert Path(entry["source"]["path"]).parent == phantom_dir.resolve()
        ndct = ds.ndct(vid)
        assert isinstance(ndct, np.memmap) and ndct.dtype == np.float32 and ndct.shape == (4, 64, 64)
        assert ds.spacing(vid) == pytest.approx((1.0, 380 / 64, 380 / 64))
        for cond in ds.conditions:
            ldct = ds.ldct(vid, cond)
            assert isinstance(ldct, np.memmap) and ldct.shape == ndct.shape and ldct.dtype == np.float32
    assert len(sources) == 3
    assert ds.condition_info("d25_v180") == (0.25, 180)
    assert not (dataset_dir.parent / ".dataset.partial").exists()
    assert [p.name for p in dataset_dir.parent.iterdir()] == ["dataset"]  # no temp leftovers


def test_ldct_is_noisier_than_ndct_and_more_at_lower_dose(dataset_dir):
    ds = VariableDoseDataset(dataset_dir)
    noise = {}
    for cond in ds.conditions:
        diffs = []
        for vid in ds.volumes():
            ndct = np.asarray(ds.ndct(vid))
            body = ndct > -500
            diffs.append((np.asarray(ds.ldct(vid, cond)) - ndct)[body])
        noise[cond] = float(np.std(np.concatenate(diffs)))
    assert noise["d100_v720"] > 0.1  # 6 mm pixels: little noise even at full dose
    assert noise["d25_v720"] > 1.5 * noise["d100_v720"], noise  # ~2x expected (1/sqrt(dose))
    assert noise["d25_v180"] > noise["d100_v180"], noise  # view-sparsity streaks add to both
    assert noise["d100_v180"] > noise["d100_v720"], noise


def test_dataset_is_deterministic_given_seed(phantom_dir, tmp_path):
    src = phantom_dir / "phantom_000"
    opts = BuildOptions(doses=(50,), views=(180,), seed=9)
    a = VariableDoseDataset(build_dataset([src], tmp_path / "a", opts, log=open("/dev/null", "w")))
    b = VariableDoseDataset(build_dataset([src], tmp_path / "b", opts, log=open("/dev/null", "w")))
    np.testing.assert_array_equal(a.ldct("vol000", "d50_v180"), b.ldct("vol000", "d50_v180"))
    assert a.volumes("train") == ["vol000"]  # a single volume trains


def write_mayo(root: Path, patient: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """quarter_1mm/full_1mm folders of one patient; LDCT shares the NDCT geometry (reverse-ordered writing)."""
    rng = np.random.default_rng(seed)
    ndct = np.round(rng.normal(40, 30, (3, 32, 32))).astype(np.float32)
    ldct = np.round(ndct + rng.normal(0, 60, ndct.shape)).astype(np.float32)
    write_series(root / patient / "full_1mm", ndct, reference=None, spacing=(1.0, 0.7, 0.7), patient_id=patient,
                 description="Full dose", derived=False)
    reference = load_series(root / patient / "full_1mm")
    write_series(root / patient / "quarter_1mm", ldct, reference=reference, description="Quarter dose",
                 derived=False)
    return ndct, ldct


def test_paired_mayo_layout_becomes_condition_real(tmp_path):
    data = tmp_path / "mayo"
    truth = {p: write_mayo(data, p, k) for k, p in enumerate(("L001", "L002"))}
    result = train_cli("dataset", "--ndct", data, "--out", tmp_path / "ds")  # pairs recognised automatically
    assert result.returncode == 0, result.stderr
    ds = VariableDoseDataset(tmp_path / "ds")
    assert ds.conditions == ["real"]
    assert ds.condition_info("real") == (None, None)
    assert len(ds.volumes("train")) == 1 and len(ds.volumes("val")) == 1  # split by patient
    for vid in ds.volumes():
        entry = ds.info(vid)
        patient = entry["source"]["ndct"]["patient_id"]
        ndct, ldct = truth[patient]
        np.testing.assert_array_equal(ds.ndct(vid), ndct)
        np.testing.assert_array_equal(ds.ldct(vid, "real"), ldct)
        assert entry["source"]["ldct"]["path"].endswith("quarter_1mm")


def test_paired_flag_without_pairs_is_an_error(phantom_dir, tmp_path):
    result = train_cli("dataset", "--ndct", phantom_dir, "--out", tmp_path / "ds", "--paired")
    assert result.returncode == 2
    assert "no LDCT/NDCT pairs" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ds").exists()


def test_reference_scan_gives_ndct_its_own_full_dose_noise_and_keeps_the_truth(phantom_dir, tmp_path):
    out = tmp_path / "ref-ds"
    result = train_cli("dataset", "--ndct", phantom_dir, "--out", out, "--doses", "25,100", "--views", "720",
                       "--seed", 1, "--reference-scan", "100:1152")
    assert result.returncode == 0, result.stderr
    ds = VariableDoseDataset(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["simulation"]["reference_scan"] == {"dose_percent": 100.0, "views": 1152}
    for vid in ds.volumes():
        truth = np.asarray(ds.truth(vid))
        np.testing.assert_array_equal(truth, load_series(ds.info(vid)["source"]["path"]).volume())
        ndct, full = np.asarray(ds.ndct(vid)), np.asarray(ds.ldct(vid, "d100_v720"))
        body = truth > -500
        ndct_noise = float(np.std((ndct - truth)[body]))
        assert ndct_noise > 0.1  # the NDCT carries full-dose noise...
        # ...independent of the LDCT's: a full-dose LDCT differs from it by about sqrt(2) x that noise
        assert 1.2 * ndct_noise < float(np.std((full - ndct)[body])) < 1.7 * ndct_noise
        assert ds.info(vid)["reference_scan"]["views"] == 1152
    plain = VariableDoseDataset(build_dataset([phantom_dir / "phantom_000"], tmp_path / "plain",
                                              BuildOptions(doses=(50,), views=(180,)), log=open("/dev/null", "w")))
    assert plain.truth("vol000") is None


def test_reference_scan_leaves_real_scans_their_own_grain(phantom_dir, tmp_path):
    """Mixed inputs: phantoms get a simulated normal-dose NDCT, a real scan stays its own NDCT."""
    volume = np.full((2, 64, 64), -1000.0, dtype=np.float32)
    volume[:, 8:56, 8:56] = 40.0 + np.random.default_rng(0).normal(0, 10, (2, 48, 48)).astype(np.float32)
    write_series(tmp_path / "scan", volume, reference=None, description="real scan", spacing=(1.0, 1.0, 1.0),
                 patient_id="PATIENT-1", derived=False)
    result = train_cli("dataset", "--ndct", tmp_path / "scan", phantom_dir / "phantom_000", "--out", tmp_path / "ds",
                       "--reference-scan", "100:360", "--doses", "50", "--views", "180")
    assert result.returncode == 0, result.stderr
    ds = VariableDoseDataset(tmp_path / "ds")
    by_patient = {ds.info(v)["source"]["patient_id"]: v for v in ds.volumes()}
    real = by_patient["PATIENT-1"]
    assert ds.truth(real) is None and "reference_scan" not in ds.info(real)
    assert np.array_equal(np.asarray(ds.ndct(real)), load_series(tmp_path / "scan").volume())
    phantom = next(v for p, v in by_patient.items() if p != "PATIENT-1")
    assert ds.truth(phantom) is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ndct", "{phantoms}", "--reference-scan", "100"], "DOSE_PERCENT:VIEWS"),
        (["--ndct", "{missing}"], "no such file"),
        (["--ndct", "{empty}"], "no CT series"),
        (["--ndct", "{phantoms}", "--doses", "0,50"], "outside (0, 100]"),
        (["--ndct", "{phantoms}", "--views", "4"], "too few"),
        (["--ndct", "{phantoms}", "--val-fraction", "1.5"], "--val-fraction"),
    ],
)
def test_dataset_bad_inputs_exit_2_without_traceback(args, message, phantom_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not DICOM")
    names = {"missing": tmp_path / "nope", "empty": empty, "phantoms": phantom_dir}
    args = [a.format(**names) for a in args]
    result = train_cli("dataset", *args, "--out", tmp_path / "ds")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ds").exists()


def test_dataset_never_overwrites(dataset_dir, phantom_dir):
    before = (dataset_dir / "manifest.json").read_bytes()
    result = train_cli("dataset", "--ndct", phantom_dir, "--out", dataset_dir)
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (dataset_dir / "manifest.json").read_bytes() == before


def test_reader_errors(tmp_path, dataset_dir):
    with pytest.raises(InputError, match="does not exist"):
        VariableDoseDataset(tmp_path / "nope")
    with pytest.raises(InputError, match="no manifest.json"):
        VariableDoseDataset(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable manifest"):
        VariableDoseDataset(bad)
    (bad / "manifest.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(InputError, match="unsupported dataset format"):
        VariableDoseDataset(bad)
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    (bad / "manifest.json").write_text(json.dumps(manifest))  # arrays missing
    with pytest.raises(InputError, match="missing array"):
        VariableDoseDataset(bad)
    ds = VariableDoseDataset(dataset_dir)
    with pytest.raises(KeyError):
        ds.ldct("vol000", "d33_v99")
    with pytest.raises(ValueError):
        ds.volumes("validation")


def test_splits_by_group_deterministic():
    groups = ["A", "A", "B", "C", "D", "D", "E"]
    s1 = assign_splits(groups, val_fraction=0.2, test_fraction=0.2, seed=0)
    assert s1 == assign_splits(groups, val_fraction=0.2, test_fraction=0.2, seed=0)
    by_group = {}
    for g, s in zip(groups, s1):
        by_group.setdefault(g, set()).add(s)
    assert all(len(v) == 1 for v in by_group.values())  # a patient never spans splits
    assert {"train", "val", "test"} <= set(s1)
    assert assign_splits(["x", "y"], val_fraction=0.01, test_fraction=0.0, seed=1).count("val") == 1
    assert assign_splits(["x"], val_fraction=0.5, test_fraction=0.0, seed=1) == ["train"]


def test_parse_condition():
    assert parse_condition("d10_v180") == (0.10, 180)
    assert parse_condition("d12.5_v90") == (0.125, 90)
    assert parse_condition("real") == (None, None)
    with pytest.raises(ValueError):
        parse_condition("dose25")


@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_truncated_array_is_one_line_before_any_work(dataset_dir, tmp_path, command):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(dataset_dir, ds)
    victim = sorted((ds / "ldct").rglob("*.npy"))[-1]
    victim.write_bytes(victim.read_bytes()[:-1000])
    with pytest.raises(InputError, match=f"{victim.name}: truncated or unreadable array"):
        VariableDoseDataset(ds)
    if command == "fit":
        args = ("fit", "--mode", "mse", "--data", ds, "--out", tmp_path / "run", "--set", "model.width=4")
    else:
        args = ("evaluate", "--checkpoint", "mse", "--data", ds, "--device", "cpu")
    result = train_cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "truncated or unreadable array" in lines[0], lines


@pytest.mark.parametrize("command", ["phantoms", "dataset"])
def test_out_under_a_file_is_one_line_before_any_work(phantom_dir, tmp_path, command):
    (tmp_path / "a_file").write_text("x")
    out = tmp_path / "a_file" / "out"
    if command == "phantoms":
        args = ("phantoms", "--out", out, "--volumes", "1", "--slices", "2", "--size", "64")
    else:
        args = ("dataset", "--ndct", phantom_dir, "--out", out)
    result = train_cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"ldct-train: error: {out}: cannot be created: "
                                                  f"{tmp_path / 'a_file'} is not a folder"]
