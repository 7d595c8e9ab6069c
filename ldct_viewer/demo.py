"""The bundled demo case, made on first use from the project's own phantom and dose simulator.

Nothing binary is shipped: ``resources/demo_case.json`` holds the recipe, and the case is
generated once into the user cache (``cache_dir()/demo/<recipe hash>/``) as two ordinary DICOM
series, which callers then open through the normal loader — so the demo exercises exactly the
code path of real data. Changing the recipe (or its ``version``) changes the hash and the case
is regenerated.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

from ldct_viewer.atomic import atomic_folder
from ldct_viewer.errors import InputError
from ldct_viewer.paths import cache_dir, resources_dir
from ldct_viewer.progress import JobProgress, StagedProgress

RECIPE_FILE = "demo_case.json"
#: A JSON file whose keys are merged over the bundled recipe (tests use a 64² recipe).
RECIPE_ENV = "LDCT_VIEWER_DEMO_RECIPE"

log = logging.getLogger(__name__)

#: Each stage's share of a first start's time (8 slices of the 512² recipe on 2 CPU cores: phantom 16 s, NDCT
#: scan 105 s, LDCT scan 55 s), in order: the phantom, the
#: normal-dose scan (1152 views), the low-dose scan (720 views), writing both series, loading them.
GENERATION_STAGES: dict[str, float] = {"phantom": 8.0, "ndct": 55.0, "ldct": 29.0, "write": 5.0, "open": 3.0}


def _merge(base: dict, overrides: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"{path}: cannot read demo recipe ({err.strerror or err})") from err
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: demo recipe is not valid JSON (line {err.lineno}: {err.msg})") from err
    if not isinstance(data, dict):
        raise InputError(f"{path}: demo recipe must be a JSON object")
    return data


def load_recipe(overrides: dict | None = None) -> dict:
    """The bundled recipe, with ``$LDCT_VIEWER_DEMO_RECIPE`` and then ``overrides`` merged over it."""
    recipe = _read_json(resources_dir() / RECIPE_FILE)
    env = os.environ.get(RECIPE_ENV)
    if env:
        recipe = _merge(recipe, _read_json(Path(env)))
    if overrides:
        recipe = _merge(recipe, overrides)
    for section, keys in (("phantom", ("size", "slices", "seed")), ("simulation", ("dose", "views"))):
        missing = [k for k in keys if k not in recipe.get(section, {})]
        if missing:
            raise InputError(f"demo recipe: '{section}' lacks {', '.join(missing)}")
    return recipe


def recipe_hash(recipe: dict) -> str:
    """Short content hash of the recipe: the cache folder name."""
    from ldct_viewer.ct.simulate import CALIBRATION

    keyed = {**recipe, "calibration": CALIBRATION}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _generate(recipe: dict, target: Path, tracker: StagedProgress) -> None:
    """Build the case in a temporary sibling of ``target``, then rename it into place, reporting
    each stage (and each batch of simulated slices) to ``tracker``."""
    from ldct_viewer.ct import SimulationParams, generate_phantom, simulate_low_dose
    from ldct_viewer.io import load_series, write_series

    phantom_args = dict(recipe["phantom"])
    sim = recipe["simulation"]
    try:
        with atomic_folder(target) as work:
            t0 = time.perf_counter()
            tracker.start("phantom", "generating the phantom")
            volume, spacing = generate_phantom(**phantom_args)
            params = SimulationParams(slice_thickness_mm=float(spacing[0]))  # photons per reading follow the slice
            t1 = time.perf_counter()
            ref = recipe.get("reference")
            description = "Demo phantom NDCT (noise-free)"
            ndct_volume = volume
            t2 = time.perf_counter()
            if ref:  # a normal-dose scan of the phantom: full-dose grain, noise independent of the LDCT's
                tracker.start("ndct", f"simulating the NDCT scan ({float(ref['dose']):.0%} dose, "
                                      f"{int(ref['views'])} views)")
                ndct_volume = simulate_low_dose(volume, float(spacing[2]), dose=float(ref["dose"]),
                                                views=int(ref["views"]), seed=int(ref.get("seed", 0)),
                                                method=ref.get("method", "noise-insertion"), params=params,
                                                progress=lambda done: tracker.update(done, len(volume)))
                description = f"Demo NDCT (simulated {float(ref['dose']):.0%} dose, {int(ref['views'])} views)"
            write_series(work / "ndct", ndct_volume, reference=None, spacing=tuple(float(s) for s in spacing),
                         description=description, patient_id=recipe.get("patient_id"), derived=False)
            ndct = load_series(work / "ndct")
            tracker.start("ldct", f"simulating the LDCT scan ({float(sim['dose']):.0%} dose, "
                                  f"{int(sim['views'])} views)")
            low = simulate_low_dose(volume, float(spacing[2]), dose=float(sim["dose"]), views=int(sim["views"]),
                                    seed=int(sim.get("seed", 0)), method=sim.get("method", "noise-insertion"),
                                    params=params, progress=lambda done: tracker.update(done, len(volume)))
            t3 = time.perf_counter()
            tracker.start("write", "writing the DICOM series")
            write_series(work / "ldct", low, reference=ndct,
                         description=f"Demo LDCT (simulated {float(sim['dose']):.0%} dose, {int(sim['views'])} views)")
            timings = {"phantom_s": round(t1 - t0, 2), "simulation_s": round(t3 - t2, 2),  # NDCT + LDCT scans
                       "total_s": round(time.perf_counter() - t0, 2)}
            (work / "recipe.json").write_text(json.dumps({"recipe": recipe, "timings": timings}, indent=2))
    except OSError:
        if not (target / "recipe.json").is_file():  # not a concurrent builder finishing first
            raise
    log.info("demo case generated in %s", target)


def _stages(recipe: dict, cached: bool) -> dict[str, float]:
    """The stages a start runs: loading only when the case is cached; no NDCT scan without ``reference``."""
    if cached:
        return {"open": 1.0}
    return {name: w for name, w in GENERATION_STAGES.items() if name != "ndct" or recipe.get("reference")}


def _target(recipe: dict) -> Path:
    return cache_dir() / "demo" / recipe_hash(recipe)


def is_cached(overrides: dict | None = None) -> bool:
    """Whether the demo case is already generated (opening it then takes seconds, not minutes)."""
    return (_target(load_recipe(overrides)) / "recipe.json").is_file()


def demo_case_dirs(overrides: dict | None = None, *,
                   progress: Callable[[JobProgress], None] | None = None,
                   tracker: StagedProgress | None = None) -> tuple[Path, Path]:
    """``(ldct_dir, ndct_dir)`` of the demo case, generating it on first use.

    ``overrides`` are merged over the bundled recipe (e.g. ``{"phantom": {"size": 64, "slices": 4}}``).
    ``progress`` receives a ``JobProgress`` at each stage and each batch of simulated slices while
    generating (or pass a ``tracker`` that also covers later stages).
    """
    recipe = load_recipe(overrides)
    target = _target(recipe)
    if not (target / "recipe.json").is_file():
        _generate(recipe, target, tracker or StagedProgress(_stages(recipe, cached=False), progress))
    return target / "ldct", target / "ndct"


def open_demo_case(overrides: dict | None = None, *,
                   progress: Callable[[JobProgress], None] | None = None):
    """The demo ``Case`` (simulated LDCT and NDCT scans of one phantom, paired), loaded through the DICOM
    loader. A recipe without ``reference`` uses the noise-free phantom itself as NDCT. ``progress``
    receives a ``JobProgress`` as generating (first use only) and loading go on."""
    from ldct_viewer.opening import open_case

    recipe = load_recipe(overrides)
    tracker = StagedProgress(_stages(recipe, cached=(_target(recipe) / "recipe.json").is_file()), progress)
    ldct_dir, ndct_dir = demo_case_dirs(overrides, tracker=tracker)
    tracker.start("open", "loading the demo case")
    case = open_case(ldct_dir, ndct_dir)
    tracker.finish("demo case ready")
    sim = recipe["simulation"]
    case.simulated = {"dose": float(sim["dose"]), "views": int(sim["views"]),
                      "method": sim.get("method", "noise-insertion"), "demo": True}
    return case
