"""The demo case: generated once from the recipe into the cache, read back through the DICOM loader."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ldct_viewer.demo as demo
from ldct_viewer.ct import SimulationParams, generate_phantom, simulate_low_dose
from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series

SMALL = {"phantom": {"size": 64, "slices": 4}}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(demo.RECIPE_ENV, raising=False)
    return tmp_path / "cache"


def test_bundled_recipe_is_the_documented_demo():
    recipe = demo.load_recipe()
    assert recipe["phantom"]["size"] == 512
    assert 24 <= recipe["phantom"]["slices"] <= 32
    assert recipe["simulation"]["dose"] == 0.25
    assert recipe["reference"]["dose"] == 1.0 and recipe["reference"]["views"] > recipe["simulation"]["views"]
    assert recipe["version"]


def test_demo_case_is_generated_once_and_cached(cache, monkeypatch):
    ldct_dir, ndct_dir = demo.demo_case_dirs(SMALL)
    assert ldct_dir.parent == ndct_dir.parent
    assert ldct_dir.parent.parent == cache / "demo"
    assert len(list(ldct_dir.iterdir())) == 4 and len(list(ndct_dir.iterdir())) == 4
    stored = json.loads((ldct_dir.parent / "recipe.json").read_text())
    assert stored["recipe"]["phantom"]["size"] == 64 and stored["timings"]["total_s"] >= 0
    assert sorted(p.name for p in (cache / "demo").iterdir()) == [ldct_dir.parent.name]  # no temp dirs left

    def no_regeneration(*args, **kwargs):
        raise AssertionError("the cached demo case was regenerated")

    monkeypatch.setattr(demo, "_generate", no_regeneration)
    assert demo.demo_case_dirs(SMALL) == (ldct_dir, ndct_dir)


def test_open_demo_case_pairs_phantom_and_simulated_ldct():
    case = demo.open_demo_case(SMALL)
    assert case.n_slices == 4 and case.ldct.shape == (4, 64, 64)
    assert case.ndct is not None and case.n_matched == 4
    assert case.simulated["dose"] == 0.25 and case.simulated["demo"] is True
    recipe = demo.load_recipe(SMALL)
    phantom, spacing = generate_phantom(**recipe["phantom"])
    assert case.spacing == pytest.approx(tuple(spacing))
    ref = recipe["reference"]
    # the demo scans with its own slice thickness (photons per reading follow the slice)
    ndct = simulate_low_dose(phantom, spacing[2], dose=ref["dose"], views=ref["views"], seed=ref["seed"],
                             params=SimulationParams(slice_thickness_mm=float(spacing[0])))
    for i in range(4):
        np.testing.assert_allclose(case.ndct_slice(i), ndct[i], atol=0.51)  # stored as DICOM integers
    assert float(np.abs(ndct - phantom).max()) > 1.0  # the NDCT is a scan with its own noise, not the phantom
    noise = case.ldct.volume() - case.ndct.volume()
    # quarter dose adds noise (small here: 64² pixels of 6 mm average it away), not garbage
    assert 0.2 < float(noise.std()) < 100.0
    assert "Demo" in case.ldct.description and "Demo" in case.ndct.description


def test_recipe_without_reference_scan_uses_the_noise_free_phantom_as_ndct():
    case = demo.open_demo_case({**SMALL, "reference": None})
    phantom, _ = generate_phantom(**demo.load_recipe(SMALL)["phantom"])
    for i in range(4):
        np.testing.assert_allclose(case.ndct_slice(i), phantom[i], atol=0.51)
    assert "noise-free" in case.ndct.description


def test_changing_the_recipe_makes_a_new_case(cache):
    first, _ = demo.demo_case_dirs(SMALL)
    other, _ = demo.demo_case_dirs({"phantom": {"size": 64, "slices": 4, "seed": 99}})
    assert first != other
    assert load_series(first).uid != load_series(other).uid


def test_recipe_override_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps({"phantom": {"size": 48}}))
    monkeypatch.setenv(demo.RECIPE_ENV, str(path))
    recipe = demo.load_recipe()
    assert recipe["phantom"]["size"] == 48 and recipe["phantom"]["slices"] >= 24  # merged, not replaced
    path.write_text("{not json")
    with pytest.raises(InputError, match="recipe.json"):
        demo.load_recipe()
    monkeypatch.setenv(demo.RECIPE_ENV, str(tmp_path / "absent.json"))
    with pytest.raises(InputError, match="absent.json"):
        demo.load_recipe()


def test_first_start_reports_real_progress_stage_by_stage_and_a_cached_start_only_loads():
    reports = []
    case = demo.open_demo_case({"phantom": {"size": 64, "slices": 10}}, progress=reports.append)
    assert case.n_slices == 10
    fractions = [p.fraction for p in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0.0 < fractions[len(fractions) // 2] < 1.0
    stages = list(dict.fromkeys(p.stage for p in reports))
    assert [s.split(" (")[0] for s in stages] == ["generating the phantom", "simulating the NDCT scan",
                                                 "simulating the LDCT scan", "writing the DICOM series",
                                                 "loading the demo case", "demo case ready"]
    # each scan reports its batches of slices (8 a batch: 2 reports of 10 slices), between its stage's bounds
    scans = [p for p in reports if p.stage.startswith("simulating the LDCT")]
    assert len(scans) == 3 and scans[0].fraction < scans[1].fraction < scans[2].fraction
    assert reports[-1].eta_s == 0.0 and reports[-1].eta_text().startswith("done in")

    again = []
    demo.open_demo_case({"phantom": {"size": 64, "slices": 10}}, progress=again.append)
    assert [p.stage for p in again] == ["loading the demo case", "demo case ready"]
    assert again[-1].fraction == 1.0
