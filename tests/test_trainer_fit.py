"""``ldct-train fit``: outputs, exact resume, divergence stop, WGAN-GP from an MSE checkpoint, DDP."""

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ldct_viewer.errors import ConfigError, InputError
from ldct_viewer.model import load_checkpoint
from trainer.config import load_config
from trainer.fit import NAN_HOOK_ENV, TrainingDiverged, fit
from trainer.selection import closest_to_beating_input
from trainer.state import resume_config
from trainer.steps import generator_optimizer
from trainer_fixtures import write_tiny_dataset

TINY = ["model.width=4", "dataset.patch_size=32", "dataset.stride=16", "dataset.batch_size=4",
        "sampling.patches_per_epoch=16", "sampling.val_patches=0", "run.device=cpu", "training.sample_interval=1"]
STEPS_PER_EPOCH = 4  # 16 patches / batch 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("data") / "ds", size=48, slices=2)


def _config(*extra):
    return load_config(overrides=[*TINY, *extra])


def _rows(run: Path):
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def _cli(*args, env=None, timeout=300):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def test_mse_run_writes_checkpoints_log_and_figures(dataset, tmp_path):
    run = tmp_path / "run"
    proc = _cli("fit", "--mode", "mse", "--data", str(dataset), "--out", str(run),
                *sum((["--set", s] for s in TINY + ["training.num_epochs=2"]), []))
    assert proc.returncode == 0, proc.stderr
    for name in ("last.pt", "best.pt", "epoch_001.pt", "epoch_002.pt", "train_state.pt", "log.csv", "loss_mse.png",
                 "config.yaml", "summary.json", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (run / name).is_file(), name
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt.mode == "mse" and ckpt.model.width == 4
    meta = ckpt.metadata
    assert meta["config"]["training"]["num_epochs"] == 2
    assert meta["data"]["format"] == "ldct-variable-dose/1" and meta["data"]["volumes_per_split"]["train"] == 2
    assert meta["training"]["epochs_done"] == 2 and meta["training"]["iterations"] == 2 * STEPS_PER_EPOCH
    assert meta["evaluation"]["split"] == "val" and meta["evaluation"]["rmse_hu"] > 0
    rows = _rows(run)
    assert [r["kind"] for r in rows].count("iter") == 2 * STEPS_PER_EPOCH
    epochs = [r for r in rows if r["kind"] == "epoch"]
    assert [int(r["epoch"]) for r in epochs] == [1, 2] and all(float(r["val_mse"]) > 0 for r in epochs)
    assert "ETA" in proc.stderr
    # a second fresh run into the same folder is refused; nothing is overwritten
    before = (run / "last.pt").read_bytes()
    again = _cli("fit", "--mode", "mse", "--data", str(dataset), "--out", str(run),
                 *sum((["--set", s] for s in TINY), []))
    assert again.returncode == 2 and "already holds a training run" in again.stderr
    assert (run / "last.pt").read_bytes() == before


def test_resume_continues_exactly(dataset, tmp_path):
    torch.set_num_threads(1)
    straight, split = tmp_path / "straight", tmp_path / "split"
    fit(_config("training.num_epochs=2"), mode="mse", data=dataset, out=straight)
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=split)
    config = resume_config(split, "mse", None, ["training.num_epochs=2"])
    fit(config, mode="mse", data=dataset, out=split, resume=True)
    a = load_checkpoint(straight / "last.pt").model.state_dict()
    b = load_checkpoint(split / "last.pt").model.state_dict()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key
    losses = lambda run: [r["loss_mse"] for r in _rows(run) if r["kind"] == "iter"]  # noqa: E731
    assert losses(straight) == losses(split)
    # a resume may not change what the run is
    with pytest.raises(Exception, match="cannot change dataset.stride"):
        resume_config(split, "mse", None, ["dataset.stride=32"])
    with pytest.raises(Exception, match="started with --mode mse"):
        resume_config(split, "wgan-gp", None, [])


def test_resume_of_a_run_saved_before_l2_mode_existed_keeps_its_optimizer(dataset, tmp_path):
    run = tmp_path / "old"
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=run)
    state = torch.load(run / "train_state.pt", weights_only=True)
    del state["config"]["loss"]["l2_mode"]  # as written by the trainer before the keys existed
    del state["config"]["model"]["critic_init"]
    torch.save(state, run / "train_state.pt")
    config = resume_config(run, "mse", None, ["training.num_epochs=2"])
    assert config["loss"]["l2_mode"] == "coupled"  # what that run trained with, not today's default
    assert config["model"]["critic_init"] == "default"
    assert fit(config, mode="mse", data=dataset, out=run, resume=True)["epochs_done"] == 2


def test_nan_stops_keeps_last_good_checkpoint_and_resumes_mid_epoch_exactly(dataset, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    fit(_config("training.num_epochs=2"), mode="mse", data=dataset, out=straight)
    # state saved after every iteration; iteration 6 (epoch 2, step 2) gets a NaN input
    monkeypatch.setenv(NAN_HOOK_ENV, str(STEPS_PER_EPOCH + 2))
    with pytest.raises(TrainingDiverged) as err:
        fit(_config("training.num_epochs=2", "run.state_minutes=0"), mode="mse", data=dataset, out=crashed)
    message = str(err.value)
    assert "\n" not in message and "non-finite loss_mse" in message and "epoch 2, iteration 6" in message
    assert "last good checkpoint" in message
    good = load_checkpoint(crashed / "last.pt")
    assert good.metadata["training"]["epochs_done"] == 1
    assert all(torch.isfinite(p).all() for p in good.model.parameters())
    assert torch.load(crashed / "train_state.pt", weights_only=True)["counters"]["iteration"] == STEPS_PER_EPOCH + 1
    # resuming from the mid-epoch state reproduces the uninterrupted run
    monkeypatch.delenv(NAN_HOOK_ENV)
    fit(resume_config(crashed, "mse", None, []), mode="mse", data=dataset, out=crashed, resume=True)
    a = load_checkpoint(straight / "last.pt").model.state_dict()
    b = load_checkpoint(crashed / "last.pt").model.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)
    iters = [int(r["iteration"]) for r in _rows(crashed) if r["kind"] == "iter"]
    assert iters == list(range(1, 2 * STEPS_PER_EPOCH + 1))  # the log holds each iteration once


def test_nan_through_cli_is_one_line_exit_2(dataset, tmp_path):
    run = tmp_path / "run"
    proc = _cli("fit", "--mode", "mse", "--data", str(dataset), "--out", str(run),
                *sum((["--set", s] for s in TINY + ["training.num_epochs=2"]), []),
                env={NAN_HOOK_ENV: str(STEPS_PER_EPOCH + 1)})
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("ldct-train: error")]
    assert len(errors) == 1 and "non-finite" in errors[0] and "Traceback" not in proc.stderr
    assert load_checkpoint(run / "last.pt").metadata["training"]["epochs_done"] == 1


def test_wgan_gp_from_mse_checkpoint(dataset, tmp_path):
    mse_run, gan_run = tmp_path / "mse", tmp_path / "gan"
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=mse_run)
    init = load_checkpoint(mse_run / "best.pt")
    summary = fit(_config("training.num_epochs=2", "selection.wgan_warmup_epochs=1", "training.critic_iterations=2"),
                  mode="wgan-gp", data=dataset, out=gan_run, init=mse_run / "best.pt")
    assert summary["init"]["sha256"] == init.sha256
    for name in ("epoch_001.pt", "epoch_002.pt", "last.pt", "best.pt", "loss_generator.png", "loss_critic.png",
                 "loss_mse.png"):
        assert (gan_run / name).is_file(), name
    last = load_checkpoint(gan_run / "last.pt")
    assert last.mode == "wgan-gp" and last.sha256 != init.sha256
    assert "texture" in last.metadata["training"]["selection"]
    rows = [r for r in _rows(gan_run) if r["kind"] == "iter"]
    assert all(r["loss_critic"] and r["gradient_penalty"] for r in rows)
    generator_steps = [int(r["iteration"]) for r in rows if r["loss_generator"]]
    assert generator_steps == [i for i in range(1, 2 * STEPS_PER_EPOCH + 1) if i % 2 == 0]
    epoch0 = [r for r in _rows(gan_run) if r["kind"] == "epoch"][0]
    assert epoch0["epoch"] == "0"  # the --init model's validation, the bound of the selection rule
    assert summary["best_epoch"] in (1, 2)
    best = load_checkpoint(gan_run / "best.pt")
    assert best.sha256 == load_checkpoint(gan_run / f"epoch_{summary['best_epoch']:03d}.pt").sha256
    assert best.metadata["training"]["best_epoch"] == summary["best_epoch"]


def test_adversarial_term_restricted_to_chosen_conditions(dataset, tmp_path, monkeypatch):
    """``loss.adversarial_conditions``: the critic and the adversarial term see only those conditions'
    patches (the MSE term every patch); unknown names are refused by name, through the CLI with exit 2."""
    assert load_config()["loss"]["adversarial_conditions"] == "all"
    mse_run = tmp_path / "mse"
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=mse_run)
    import trainer.steps as steps_module
    seen = []
    real_loss = steps_module.critic_loss

    def spy(critic, real, fake, lambda_gp, weights=None):
        seen.append(None if weights is None else weights.tolist())
        return real_loss(critic, real, fake, lambda_gp, weights)

    monkeypatch.setattr(steps_module, "critic_loss", spy)
    gan_run = tmp_path / "gan"
    fit(_config("training.num_epochs=1", "selection.wgan_warmup_epochs=1", "training.critic_iterations=2",
                "loss.adversarial_conditions=d50_v360,d100_v720"),
        mode="wgan-gp", data=dataset, out=gan_run, init=mse_run / "best.pt")
    assert len(seen) == STEPS_PER_EPOCH and all(w is not None and len(w) == 4 for w in seen)
    # the batches' own conditions, in plan order: weight 1 exactly for d50_v360 and d100_v720 patches
    from trainer.data import VariableDoseDataset
    from trainer.patches import build_grid, epoch_plan
    grid = build_grid(VariableDoseDataset(dataset), "train", 32, 16)
    rows, _ = epoch_plan(len(grid), epoch=1, seed=0, limit=16, multiple=4)
    names = [grid.conditions[c] for c in grid.index[rows, 1]]
    assert sum(seen, []) == [float(n in ("d50_v360", "d100_v720")) for n in names]
    assert 0 < sum(sum(seen, [])) < 16  # the tiny plan mixes kept and excluded patches
    assert load_checkpoint(gan_run / "last.pt").metadata["config"]["loss"]["adversarial_conditions"] \
        == "d50_v360,d100_v720"
    with pytest.raises(ConfigError, match="unknown condition 'd50_v720'.*d10_v180, d50_v360, d100_v720"):
        fit(_config("loss.adversarial_conditions=d50_v720"), mode="wgan-gp", data=dataset, out=tmp_path / "bad")
    result = _cli("fit", "--mode", "wgan-gp", "--data", str(dataset), "--out", str(tmp_path / "bad2"),
                  "--set", "loss.adversarial_conditions=d10_v90", *sum([["--set", t] for t in TINY], []))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "loss.adversarial_conditions: unknown condition 'd10_v90'" in result.stderr


def test_wgan_run_stopped_by_ctrl_c_before_any_epoch_qualifies_still_leaves_best_pt(dataset, tmp_path):
    """A time-boxed run ends by SIGINT: its best.pt must exist even when no epoch has qualified yet."""
    import time

    mse_run, gan_run = tmp_path / "mse", tmp_path / "gan"
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=mse_run)
    args = [sys.executable, "-m", "trainer", "fit", "--mode", "wgan-gp", "--init", str(mse_run / "best.pt"),
            "--data", str(dataset), "--out", str(gan_run),
            *sum((["--set", s] for s in TINY + ["training.num_epochs=500", "training.critic_iterations=2",
                                                "selection.wgan_warmup_epochs=1000"]), [])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any(r["kind"] == "epoch" and r["epoch"] == "2" for r in (_rows(gan_run) if (gan_run / "log.csv").exists() else [])):
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended or stalled before epoch 2"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert "interrupted" in stderr and "Traceback" not in stderr
    best = load_checkpoint(gan_run / "best.pt")
    epoch = best.metadata["training"]["best_epoch"]
    assert epoch >= 2 and best.sha256 == load_checkpoint(gan_run / f"epoch_{epoch:03d}.pt").sha256
    assert "best = last" in best.metadata["training"]["selection"]


def test_wgan_selection_uses_texture_and_the_validation_loss_only_without_flat_tiles():
    from trainer.selection import wgan_selection_score

    assert wgan_selection_score({"texture_db": 1.5, "loss": 3e-5}) == 1.5
    assert wgan_selection_score({"texture_db": float("nan"), "loss": 3e-5}) == 3e-5


def test_wgan_fallback_is_the_epoch_closest_to_beating_the_input():
    def epoch(n, rmse, ours, inputs):
        return {"epoch": n, "val_rmse_hu": rmse, "val_rmse_by_condition": ours, "val_input_rmse_by_condition": inputs}
    inputs = {"a": 10.0, "b": 5.0}
    history = [epoch(1, 9.0, {"a": 8.0, "b": 5.5}, inputs),    # worst 1.10, but inside the warm-up
               epoch(2, 9.0, {"a": 9.0, "b": 6.0}, inputs),    # worst 1.20
               epoch(3, 9.0, {"a": 11.0, "b": 5.2}, inputs),   # worst 1.10 (a)
               epoch(4, 30.0, {"a": 9.0, "b": 5.1}, inputs)]   # worst 1.02, but over the RMSE bound
    assert closest_to_beating_input(history, warmup_epochs=2, max_rmse_hu=20.0) == (3, pytest.approx(1.1))
    assert closest_to_beating_input(history, warmup_epochs=5, max_rmse_hu=20.0) is None


def test_judge_epoch_counts_epochs_without_improvement_and_applies_the_wgan_bounds():
    from trainer.selection import judge_epoch
    from trainer.state import TrainState

    config = load_config(overrides=["selection.wgan_warmup_epochs=2", "selection.wgan_max_rmse_ratio=1.25"])
    state = TrainState()
    assert [judge_epoch(state, {"loss": v}, e, config, wgan=False) for e, v in enumerate([3.0, 2.0, 2.5, 2.2], 1)] \
        == [True, True, False, False]
    assert (state.best, state.best_epoch, state.bad_epochs) == (2.0, 2, 2)
    # WGAN-GP: texture decides, but only past the warm-up, within the RMSE bound, beating the input everywhere
    state = TrainState(init_val={"rmse_hu": 10.0})
    val = lambda texture, rmse, ours: {"texture_db": texture, "loss": 1.0, "rmse_hu": rmse,  # noqa: E731
                                       "rmse_by_condition": {"a": ours}, "input_rmse_by_condition": {"a": 20.0}}
    assert not judge_epoch(state, val(0.5, 10.0, 15.0), 1, config, wgan=True)   # warm-up
    assert not judge_epoch(state, val(0.5, 13.0, 15.0), 2, config, wgan=True)   # 13 > 1.25 x 10
    assert not judge_epoch(state, val(0.5, 10.0, 25.0), 3, config, wgan=True)   # worse than the input
    assert judge_epoch(state, val(0.9, 12.0, 15.0), 4, config, wgan=True)
    assert not judge_epoch(state, val(1.0, 10.0, 15.0), 5, config, wgan=True)  # grain further from NDCT
    assert (state.best, state.best_epoch, state.bad_epochs) == (0.9, 4, 0)


@pytest.mark.parametrize("mode", ["mse", "wgan-gp"])
def test_amp_on_cpu_trains_in_bfloat16_and_stays_close_to_fp32(dataset, tmp_path, mode):
    """run.amp autocasts the training steps to bf16 on the CPU too; losses track the fp32 run."""
    extra = ["training.num_epochs=1", "training.critic_iterations=2"]
    runs = {amp: fit(_config(*extra, f"run.amp={amp}"), mode=mode, data=dataset, out=tmp_path / amp)
            for amp in ("false", "true")}
    assert runs["true"]["amp"] is True and runs["false"]["amp"] is False
    key = "loss_mse" if mode == "mse" else "loss_critic"
    losses = {amp: np.array([float(r[key]) for r in _rows(tmp_path / amp) if r["kind"] == "iter" and r[key]])
              for amp in runs}
    assert np.isfinite(losses["true"]).all() and losses["true"].size == losses["false"].size > 0
    assert not np.array_equal(losses["true"], losses["false"])  # bf16 arithmetic did run
    np.testing.assert_allclose(losses["true"], losses["false"], rtol=0.05, atol=1e-4)
    weights = [load_checkpoint(tmp_path / amp / "last.pt").model.state_dict() for amp in ("false", "true")]
    assert all(w.dtype == torch.float32 for w in weights[1].values())  # master weights stay fp32


def test_critic_warmup_delays_the_first_generator_step(dataset, tmp_path):
    """loss.critic_warmup_iterations: critic-only iterations first (the --init network unchanged), then
    the seed's rhythm; negative values are refused by name."""
    mse_run, gan_run = tmp_path / "mse", tmp_path / "gan"
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=mse_run)
    fit(_config("training.num_epochs=2", "training.critic_iterations=2", "loss.critic_warmup_iterations=5",
                "selection.wgan_warmup_epochs=1"), mode="wgan-gp", data=dataset, out=gan_run, init=mse_run / "best.pt")
    rows = [r for r in _rows(gan_run) if r["kind"] == "iter"]
    assert len(rows) == 2 * STEPS_PER_EPOCH and all(r["loss_critic"] for r in rows)
    assert [int(r["iteration"]) for r in rows if r["loss_generator"]] == [6, 8]
    # epoch 1 was all warm-up: the generator is still the --init network
    assert load_checkpoint(gan_run / "epoch_001.pt").sha256 == load_checkpoint(mse_run / "best.pt").sha256
    assert load_checkpoint(gan_run / "epoch_002.pt").sha256 != load_checkpoint(mse_run / "best.pt").sha256
    with pytest.raises(ConfigError, match="loss.critic_warmup_iterations must not be negative"):
        _config("loss.critic_warmup_iterations=-1")


def test_amp_leaves_the_critic_in_fp32(dataset, tmp_path, monkeypatch):
    """Under run.amp the generator runs in bf16 but the critic in fp32, in its own step and in the
    generator's: bf16 stores a CT level of 0.25-0.5 (normalized) in 8 HU steps, coarser than the grain."""
    import trainer.fit as fit_module
    from trainer.critic import Critic
    seen = []

    class RecordingCritic(Critic):
        def forward(self, x):
            seen.append((x.dtype, torch.is_autocast_enabled("cpu")))
            out = super().forward(x)
            seen.append((out.dtype, None))
            return out

    monkeypatch.setattr(fit_module, "Critic", RecordingCritic)
    fit(_config("training.num_epochs=1", "training.critic_iterations=2", "run.amp=true"), mode="wgan-gp",
        data=dataset, out=tmp_path / "gan")
    calls = [d for d in seen if d[1] is not None]
    assert len(calls) >= STEPS_PER_EPOCH + STEPS_PER_EPOCH // 2  # critic steps + generator steps (+ validation)
    assert set(seen) <= {(torch.float32, False), (torch.float32, None)}, set(seen)
    q = torch.tensor([0.3, 0.3 + 4 / 4096]).bfloat16().float()
    assert q[0] == q[1]  # why: in bf16, +4 HU on a 0.3 level is no change at all


def test_init_with_other_width_is_refused(dataset, tmp_path):
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=tmp_path / "mse")
    with pytest.raises(Exception, match="model.width=4"):
        fit(_config("model.width=8"), mode="wgan-gp", data=dataset, out=tmp_path / "gan",
            init=tmp_path / "mse" / "best.pt")
    with pytest.raises(InputError, match="no manifest.json"):
        fit(_config(), mode="mse", data=tmp_path, out=tmp_path / "x")


def test_validation_reports_rmse_per_condition_against_the_input(dataset):
    from ldct_viewer.model import REDCNN, Normalization
    from trainer import distributed
    from trainer.data import VariableDoseDataset
    from trainer.validation import beats_input_everywhere, validate, worst_condition
    from trainer.patches import PatchSet, build_grid

    ds = VariableDoseDataset(dataset)
    grid = build_grid(ds, "val", 32, 32)
    patches = PatchSet(grid, torch.arange(len(grid)).numpy(), None, Normalization())
    ctx = distributed.Context(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    model = REDCNN(width=4)
    model.start_as_identity()
    val = validate(ctx, model, patches, 8, Normalization())
    assert set(val["rmse_by_condition"]) == set(ds.conditions)
    for cond, value in val["rmse_by_condition"].items():  # the identity network scores as its input
        assert value == pytest.approx(val["input_rmse_by_condition"][cond], rel=1e-5)
        assert value > 0
    assert not beats_input_everywhere(val)
    better = {**val, "rmse_by_condition": {c: 0.5 * v for c, v in val["rmse_by_condition"].items()}}
    assert beats_input_everywhere(better)
    worse = {**better, "rmse_by_condition": {**better["rmse_by_condition"], ds.conditions[0]: 1e9}}
    assert not beats_input_everywhere(worse) and worst_condition(worse)[0] == ds.conditions[0]
    # the overall RMSE is the pixel-weighted mean of the conditions' (equal patch counts here)
    per = [v ** 2 for v in val["rmse_by_condition"].values()]
    assert val["rmse_hu"] == pytest.approx(float(np.sqrt(np.mean(per))), rel=1e-5)


def test_validation_texture_is_evaluate_s_measure_per_condition_whatever_the_batch(tmp_path):
    """Regression: pooled over batches, structured fallback tiles once swamped the grain (LDCT input
    measured ~0.2 dB from NDCT when it is +3..+10 dB)."""
    from ldct_viewer.analysis.nps import flat_rois, high_frequency_power_ratio
    from ldct_viewer.model import REDCNN, Normalization
    from trainer import distributed
    from trainer.data import VariableDoseDataset
    from trainer.validation import validate
    from trainer.patches import PatchSet, build_grid

    ds = VariableDoseDataset(write_tiny_dataset(tmp_path / "ds", size=96, slices=2))
    grid = build_grid(ds, "val", 32, 16)
    norm = Normalization()
    patches = PatchSet(grid, np.arange(len(grid)), None, norm)
    ctx = distributed.Context(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    model = REDCNN(width=4)
    model.start_as_identity()
    by_batch = [validate(ctx, model, patches, b, norm) for b in (1, 8, len(grid))]
    conds = patches.conditions_of(np.arange(len(grid)))
    for i, name in enumerate(grid.conditions):
        ldct, ndct = patches.fetch(np.flatnonzero(conds == i))
        expected = high_frequency_power_ratio(ldct, ndct, rois=flat_rois(ndct, 32))
        assert expected > 3.0  # white noise of 20..120 HU on NDCT's 5 HU grain
        for val in by_batch:  # the identity network's output is its input
            assert val["texture_by_condition"][name] == pytest.approx(expected, abs=1e-3)
            assert val["input_texture_by_condition"][name] == pytest.approx(expected, abs=1e-3)
    for val in by_batch:
        assert val["texture_db"] == pytest.approx(np.mean([abs(v) for v in val["texture_by_condition"].values()]))
    # a smoothing network moves every condition's grain down
    blur = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="replicate", bias=False)
    torch.nn.init.constant_(blur.weight, 1 / 9)
    smooth = validate(ctx, blur, patches, 8, norm)
    for name in grid.conditions:
        assert smooth["texture_by_condition"][name] < by_batch[0]["texture_by_condition"][name] - 3.0


def test_condition_balance_weights_each_condition_by_its_input_error(dataset, tmp_path):
    from ldct_viewer.model import Normalization
    from trainer.data import VariableDoseDataset
    from trainer.steps import reconstruction_loss
    from trainer.patches import PatchSet, balancing_weights, build_grid, input_mse_by_condition

    ds = VariableDoseDataset(dataset)
    grid = build_grid(ds, "train", 32, 16)
    input_mse = input_mse_by_condition(grid, Normalization())
    assert (input_mse > 0).all()
    weights = balancing_weights(input_mse)
    # noisier conditions weigh less, and the identity's weighted loss is its plain MSE
    assert np.argmax(input_mse) == np.argmin(weights)
    assert float(np.mean(weights * input_mse)) == pytest.approx(float(np.mean(input_mse)), rel=1e-5)
    patches = PatchSet(grid, np.arange(8), None, Normalization(), weights)
    x, y, w = patches[np.arange(8)]
    assert w.shape == (8,) and torch.equal(w, torch.from_numpy(weights[patches.conditions_of(np.arange(8))]))
    per_patch = ((x - y) ** 2).flatten(1).mean(1)
    assert float(reconstruction_loss(x, y, w)) == pytest.approx(float((per_patch * w).mean()), rel=1e-6)
    assert float(reconstruction_loss(x, y, None)) == pytest.approx(float(((x - y) ** 2).mean()), rel=1e-6)
    # a balanced run trains, selects by the balanced loss and records the weights
    summary = fit(_config("training.num_epochs=1", "loss.condition_balance=true"), mode="mse", data=dataset,
                  out=tmp_path / "run")
    assert set(summary["condition_weights"]) == set(ds.conditions)
    assert summary["history"][0]["val_loss"] != summary["history"][0]["val_mse"]
    assert "condition-balanced" in summary["selection"]


def test_weight_decay_is_decoupled_from_adams_gradient_scaling():
    # a weight whose data gradient is zero shrinks by lr * l2 * w per step, not by a full Adam step
    T = {**load_config()["training"], "learning_rate": 1e-3, "l2_regularization": 1e-2}
    weight = torch.nn.Parameter(torch.full((4,), 0.02))
    opt = generator_optimizer([weight], T)
    for _ in range(10):
        weight.grad = torch.zeros_like(weight)
        opt.step()
    assert torch.allclose(weight.detach(), torch.full((4,), 0.02 * (1 - 1e-3 * 1e-2) ** 10))
    coupled = torch.nn.Parameter(torch.full((4,), 0.02))
    adam = generator_optimizer([coupled], T, "coupled")
    for _ in range(10):
        coupled.grad = torch.zeros_like(coupled)
        adam.step()
    assert float(coupled.detach()[0]) < 0.02 - 5e-3  # the coupled L2 (kept for old runs): ~lr per step
    with pytest.raises(ConfigError, match="loss.l2_mode: expected one of decoupled, coupled"):
        load_config(overrides=["loss.l2_mode=sgd"])


def test_model_init_choice_is_checked(dataset, tmp_path):
    assert load_config()["model"]["init"] == "centered"
    with pytest.raises(ConfigError, match="model.init: expected one of centered, default, identity"):
        fit(_config("model.init=zeros"), mode="mse", data=dataset, out=tmp_path / "bad")
    assert load_config()["model"]["critic_init"] == "highpass"
    with pytest.raises(ConfigError, match="model.critic_init: expected one of highpass, default"):
        fit(_config("model.critic_init=zeros"), mode="wgan-gp", data=dataset, out=tmp_path / "bad")


def test_config_is_checked_before_the_run_folder_or_any_model_exists(dataset, tmp_path):
    """fit checks the config it is handed (here edited after load_config) before anything else:
    a one-line error, no run folder."""
    config = _config()
    config["model"]["critic_init"] = "zeros"
    with pytest.raises(ConfigError) as err:
        fit(config, mode="mse", data=dataset, out=tmp_path / "run")
    assert "model.critic_init: expected one of highpass, default" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def test_centered_start_is_deterministic_and_starts_near_the_input(dataset, tmp_path):
    from ldct_viewer.model import load_checkpoint

    runs = {}
    for name, init in (("a", "centered"), ("b", "centered"), ("default", "default")):
        fit(_config("training.num_epochs=1", f"model.init={init}"), mode="mse", data=dataset, out=tmp_path / name)
        runs[name] = load_checkpoint(tmp_path / name / "last.pt").model.state_dict()
    assert all(torch.equal(runs["a"][k], runs["b"][k]) for k in runs["a"])
    assert not torch.equal(runs["a"]["conv1.bias"], runs["default"]["conv1.bias"])
    # first logged training loss: the centered network starts near its input, PyTorch's far from it
    first = {name: float(_rows(tmp_path / name)[0]["loss_mse"]) for name in ("a", "default")}
    assert first["a"] < first["default"]


@pytest.mark.parametrize("mode", ["mse", "wgan-gp"])
def test_torchrun_two_processes_gloo(dataset, tmp_path, mode):
    run = tmp_path / "ddp"
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "trainer",
            "fit", "--mode", mode, "--data", str(dataset), "--out", str(run),
            *sum((["--set", s] for s in TINY + ["training.num_epochs=1", "training.critic_iterations=2"]), [])]
    # own process group, so a hang cannot leave worker processes behind
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("torchrun did not finish in 180 s")
    assert proc.returncode == 0, stderr[-3000:]
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt.metadata["training"]["processes"] == 2
    assert ckpt.metadata["training"]["global_batch"] == 8
    iters = [r for r in _rows(run) if r["kind"] == "iter"]
    assert len(iters) == 16 // 8  # each step consumes a batch of 4 on each of the 2 processes


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (NCCL)")
def test_nccl_reduces_the_cpu_validation_totals_on_the_gpu():
    """Validation gathers its totals on the CPU; NCCL reduces CUDA tensors only, so a multi-GPU run
    would stop at its first validation unless the reduction moves them (one NCCL process suffices)."""
    import torch.distributed as dist

    from trainer import distributed

    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1,
                            device_id=torch.device("cuda:0"))
    try:
        ctx = distributed.Context(rank=0, world_size=2, local_rank=0, device=torch.device("cuda:0"))
        values = torch.arange(5, dtype=torch.float64)
        out = distributed.all_reduce_sum(ctx, values)
        assert out.device == values.device and torch.equal(out, values)
        assert torch.equal(values, torch.arange(5, dtype=torch.float64))  # the input is left as it was
    finally:
        dist.destroy_process_group()


def test_fresh_run_refuses_a_non_empty_folder_that_is_not_a_run(dataset, tmp_path):
    """A user's best.pt, config.yaml and summary.json (no train_state.pt/last.pt/log.csv) are not overwritten."""
    mine = tmp_path / "mine"
    mine.mkdir()
    files = {"best.pt": b"my weights", "config.yaml": b"my: config\n", "summary.json": b"{}"}
    for name, data in files.items():
        (mine / name).write_bytes(data)
    with pytest.raises(InputError, match="exists, is not empty and holds no training run to resume"):
        fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=mine)
    proc = _cli("fit", "--mode", "mse", "--data", str(dataset), "--out", str(mine),
                *sum((["--set", s] for s in TINY + ["training.num_epochs=1"]), []))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in mine.iterdir()} == files
    (tmp_path / "empty").mkdir()
    fit(_config("training.num_epochs=1"), mode="mse", data=dataset, out=tmp_path / "empty")  # an empty folder is fine
    assert (tmp_path / "empty" / "best.pt").is_file()


def test_training_restricted_to_chosen_conditions_and_volumes(dataset, tmp_path, monkeypatch):
    """``sampling.conditions`` / ``sampling.train_volumes``: only those conditions' patches are trained and
    validated on, only those training volumes trained on (the seed's default for both: all); an unknown
    name is refused by name before anything is written."""
    assert load_config()["sampling"]["conditions"] == "all" and load_config()["sampling"]["train_volumes"] == "all"
    from trainer.data import VariableDoseDataset
    from trainer.state import load_train_state
    train_ids = VariableDoseDataset(dataset).volumes("train")
    assert len(train_ids) == 2
    seen = []
    import trainer.fit as fit_module
    real_patch_set = fit_module.PatchSet

    class Spy(real_patch_set):
        def __getitem__(self, positions):
            rows = self.grid.index[self.rows[np.atleast_1d(positions)]]
            seen.extend((self.grid.volume_ids[v], self.grid.conditions[c]) for v, c in rows[:, :2])
            return super().__getitem__(positions)

    monkeypatch.setattr(fit_module, "PatchSet", Spy)
    run = tmp_path / "run"
    fit(_config("training.num_epochs=1", "sampling.conditions=d50_v360,d100_v720",
                f"sampling.train_volumes={train_ids[1]}"), mode="mse", data=dataset, out=run)
    monkeypatch.undo()
    assert seen and {c for _, c in seen} == {"d50_v360", "d100_v720"}
    assert train_ids[0] not in {v for v, _ in seen} and train_ids[1] in {v for v, _ in seen}
    history = load_train_state(run)["counters"]["history"]
    assert sorted(history[-1]["val_rmse_by_condition"]) == ["d100_v720", "d50_v360"]
    with pytest.raises(ConfigError, match="sampling.conditions: unknown condition 'd25_v720'"):
        fit(_config("sampling.conditions=d25_v720"), mode="mse", data=dataset, out=tmp_path / "bad")
    with pytest.raises(ConfigError, match="sampling.train_volumes: unknown training volume 'vol999'"):
        fit(_config("sampling.train_volumes=vol999"), mode="mse", data=dataset, out=tmp_path / "bad")
    assert not (tmp_path / "bad" / "log.csv").exists()
