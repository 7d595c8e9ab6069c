"""Training configuration: the seed's defaults, overrides, rejection of unknown keys by name."""

import subprocess
import sys

import pytest

from ldct_viewer.errors import ConfigError
from trainer.config import changed_keys, default_config, load_config

SEED_CONFIG = {
    "dataset": {"augment": True, "batch_size": 64, "patch_size": 64, "stride": 32},
    "training": {"betas": [0.9, 0.999], "critic_iterations": 5, "l2_regularization": 2e-5, "lambda_gp": 10.0,
                 "learning_rate": 1e-4, "lr_decay_factor": 0.5, "lr_decay_patience": 4, "num_epochs": 16,
                 "patience": 6, "sample_interval": 5},
    "weights": {"disc_weight": 0.05, "mse_weight": 0.95},
}


def test_defaults_are_the_seed_config():
    config = load_config()
    for section, values in SEED_CONFIG.items():
        assert config[section] == values, section
    assert config["model"]["width"] == 96


def test_seed_yaml_with_bare_exponents_is_accepted(tmp_path):
    # the seed writes 2e-5 / 1e-4, which YAML 1.1 reads as strings
    path = tmp_path / "seed.yaml"
    path.write_text("training:\n  l2_regularization: 2e-5\n  learning_rate: 3e-4\n")
    config = load_config(path)
    assert config["training"]["l2_regularization"] == 2e-5
    assert config["training"]["learning_rate"] == 3e-4


def test_overrides_keep_types():
    config = load_config(overrides=["training.learning_rate=5e-5", "dataset.augment=false",
                                    "training.betas=[0.5, 0.9]", "run.device=cpu"])
    assert config["training"]["learning_rate"] == 5e-5
    assert config["dataset"]["augment"] is False
    assert config["training"]["betas"] == [0.5, 0.9]
    assert changed_keys(default_config(), config) == ["dataset.augment", "training.betas",
                                                      "training.learning_rate", "run.device"]


@pytest.mark.parametrize("override, message", [
    ("training.learnin_rate=1e-3", "unknown config key 'training.learnin_rate'"),
    ("optimizer.lr=1", "unknown config key 'optimizer'"),
    ("dataset.batch_size=abc", "dataset.batch_size: expected an integer"),
    ("dataset.batch_size=0", "dataset.batch_size must be positive"),
    ("dataset.patch_size=16", "dataset.patch_size must be at least 32"),
    ("training.lr_decay_factor=2", "lr_decay_factor must be in (0, 1)"),
    ("training.betas=[0.9]", "expected a list of 2 values"),
    ("dataset.augment=3", "expected true or false"),
    ("nonsense", "expected section.key=value"),
    ("model.width=20000", "model.width must be an integer from 1 to 1024, got 20000"),
    ("model.kernel_size=101", "model.kernel_size must be an integer from 1 to 15, got 101"),
])
def test_bad_values_are_rejected_by_name(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[override])
    assert message in str(err.value)


def test_unknown_key_in_file_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset:\n  batch_size: 8\n  patchsize: 32\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown config key 'dataset.patchsize'"):
        load_config(path)


@pytest.mark.parametrize("override, message", [
    ("training.lerning_rate=1", "unknown config key 'training.lerning_rate'"),
    ("model.width=20000", "model.width must be an integer from 1 to 1024"),
])
def test_cli_rejects_bad_override_with_exit_2(tmp_path, override, message):
    proc = subprocess.run([sys.executable, "-m", "trainer", "fit", "--mode", "mse", "--data", str(tmp_path),
                           "--out", str(tmp_path / "run"), "--set", override],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "run").exists()
