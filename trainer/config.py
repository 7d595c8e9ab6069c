"""Training configuration: plain nested dicts, defaults from ``default_config.yaml``.

A user's YAML file and ``--set section.key=value`` overrides are merged over the defaults; every
key must already exist in the defaults (a typo is rejected by name, not silently ignored) and keeps
the default's type. Every value is checked here, once, before any data is read or any model built
(``check``; the names in ``loss.adversarial_conditions`` against the dataset's with
``adversarial_conditions``), so a bad value costs a one-line error, never a half-started run.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ldct_viewer.errors import ConfigError
from ldct_viewer.model import registry

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")


def default_config() -> dict:
    with open(DEFAULT_CONFIG_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _coerce(value: Any, default: Any, where: str) -> Any:
    """``value`` converted to the type of ``default`` or a ConfigError naming ``where``."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "2e-5" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if isinstance(default, list):
        if not isinstance(value, (list, tuple)) or len(value) != len(default):
            raise ConfigError(f"{where}: expected a list of {len(default)} values, got {value!r}")
        return [_coerce(v, d, f"{where}[{i}]") for i, (v, d) in enumerate(zip(value, default))]
    raise ConfigError(f"{where}: unsupported value {value!r}")


def _merge(base: dict, update: dict, source: str, prefix: str = "") -> None:
    if not isinstance(update, dict):
        raise ConfigError(f"{source}: {prefix or 'top level'} must be a mapping, got {update!r}")
    for key, value in update.items():
        name = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(sorted(base))
            raise ConfigError(f"{source}: unknown config key '{name}' (known here: {known})")
        if isinstance(base[key], dict):
            _merge(base[key], value, source, f"{name}.")
        else:
            base[key] = _coerce(value, base[key], f"{source}: {name}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"training.learning_rate=5e-5"`` → (["training", "learning_rate"], 5e-05)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


INITS = ("centered", "default", "identity")
CRITIC_INITS = ("highpass", "default")
L2_MODES = ("decoupled", "coupled")


def check(config: dict, source: str = "config") -> None:
    """Raise a one-line ConfigError naming the first key whose value cannot train."""
    d, t, w, m, s = (config[k] for k in ("dataset", "training", "weights", "model", "sampling"))
    positive = {
        "dataset.batch_size": d["batch_size"], "dataset.patch_size": d["patch_size"], "dataset.stride": d["stride"],
        "training.critic_iterations": t["critic_iterations"], "training.learning_rate": t["learning_rate"],
        "training.num_epochs": t["num_epochs"], "training.sample_interval": t["sample_interval"],
        "model.width": m["width"], "model.kernel_size": m["kernel_size"],
    }
    for name, value in positive.items():
        if not value > 0:
            raise ConfigError(f"{source}: {name} must be positive, got {value}")
    for name, value in {"training.l2_regularization": t["l2_regularization"], "training.lambda_gp": t["lambda_gp"],
                        "weights.disc_weight": w["disc_weight"], "weights.mse_weight": w["mse_weight"],
                        "sampling.patches_per_epoch": s["patches_per_epoch"], "sampling.val_patches": s["val_patches"],
                        "sampling.num_workers": s["num_workers"], "training.patience": t["patience"],
                        "training.lr_decay_patience": t["lr_decay_patience"],
                        "loss.critic_warmup_iterations": config["loss"]["critic_warmup_iterations"]}.items():
        if value < 0:
            raise ConfigError(f"{source}: {name} must not be negative, got {value}")
    try:
        arch = registry.get_architecture(m["arch"])
    except registry.UnknownArchitecture as err:
        raise ConfigError(f"{source}: model.arch: {err}") from None
    try:
        params = registry.check_params(arch, arch_params(config))
    except ValueError as err:
        raise ConfigError(f"{source}: model.{err}") from None
    if not 0 < t["lr_decay_factor"] < 1:
        raise ConfigError(f"{source}: training.lr_decay_factor must be in (0, 1), got {t['lr_decay_factor']}")
    if not all(0 <= b < 1 for b in t["betas"]):
        raise ConfigError(f"{source}: training.betas must lie in [0, 1), got {t['betas']}")
    smallest = 32  # the critic's two stride-3 stages
    if arch.key == "redcnn":
        smallest = max(smallest, 5 * (params["kernel_size"] - 1) + 1)  # RED-CNN's shrink
    elif arch.key == "unet":
        smallest = max(smallest, 2 ** params["depth"])
    if d["patch_size"] < smallest:
        raise ConfigError(f"{source}: dataset.patch_size must be at least {smallest} px, got {d['patch_size']}")
    for name, value, choices in (("model.init", m["init"], INITS), ("model.critic_init", m["critic_init"], CRITIC_INITS),
                                 ("loss.l2_mode", config["loss"]["l2_mode"], L2_MODES)):
        if value not in choices:
            raise ConfigError(f"{source}: {name}: expected one of {', '.join(choices)}, got {value!r}")


def arch_params(config: dict) -> dict:
    """The ``model`` keys that are hyper-parameters of ``model.arch`` (the others are ignored)."""
    arch = registry.get_architecture(config["model"]["arch"])
    return {k: v for k, v in config["model"].items() if k in arch.defaults}


def named_subset(config: dict, section: str, key: str, known: list[str],
                 what: str = "condition") -> list[str] | None:
    """``section.key`` (a comma list of names, or "all") checked against ``known`` (the dataset's
    conditions, or its volume ids: ``what`` names them in the error): the names it selects, or None
    for "all"."""
    spec = str(config[section][key]).strip()
    if spec == "all":
        return None
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise ConfigError(f"{section}.{key}: {f'unknown {what} ' + repr(unknown[0]) if unknown else 'empty'}"
                          f" (this dataset has: {', '.join(known)}; or all)")
    return names


def adversarial_conditions(config: dict, conditions: list[str]) -> list[str] | None:
    """``loss.adversarial_conditions``: the names the critic and the adversarial term see, or None
    for "all" (the seed's: every patch)."""
    return named_subset(config, "loss", "adversarial_conditions", conditions)


def training_conditions(config: dict, conditions: list[str]) -> list[str] | None:
    """``sampling.conditions``: the conditions whose patches are trained and validated on, or None
    for "all" (the seed's)."""
    return named_subset(config, "sampling", "conditions", conditions)


def training_volumes(config: dict, train_volumes: list[str]) -> list[str] | None:
    """``sampling.train_volumes``: the training-split volume ids trained on, or None for "all"."""
    return named_subset(config, "sampling", "train_volumes", train_volumes, what="training volume")


# Keys added after runs were saved, with the value that reproduces how such older runs trained
# (not today's default): a run started before loss.l2_mode existed used Adam's coupled L2, one
# started before model.critic_init existed PyTorch's initialization for its critic.
BEHAVIOUR_OF_OLDER_RUNS = {("loss", "l2_mode"): "coupled", ("model", "critic_init"): "default"}


def complete_saved_config(saved: dict) -> dict:
    """A saved run's config with every key added since filled in: first the value that keeps the old
    run's behaviour (``BEHAVIOUR_OF_OLDER_RUNS``), else today's default; saved values win."""
    config = default_config()
    for (section, key), value in BEHAVIOUR_OF_OLDER_RUNS.items():
        if key not in saved.get(section, {}):
            config[section][key] = value
    _merge(config, saved, "saved run config")
    return config


def load_config(path: str | Path | None = None, overrides: Sequence[str] = (), *, base: dict | None = None) -> dict:
    """Defaults (or ``base``, e.g. a resumed run's config), then the YAML file at ``path`` (if any),
    then ``overrides``; validated."""
    config = copy.deepcopy(base) if base is not None else default_config()
    source = "defaults" if base is None else "saved run config"
    if path is not None:
        path = Path(path)
        source = str(path)
        try:
            with open(path, encoding="utf-8") as f:
                user = yaml.safe_load(f)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        if user is not None:
            _merge(config, user, source)
    for text in overrides:
        keys, value = parse_override(text)
        nested: Any = value
        for key in reversed(keys):
            nested = {key: nested}
        _merge(config, nested, f"--set {text}")
    check(config, source if not overrides else f"{source} + --set")
    return copy.deepcopy(config)


def dump_config(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False)


def changed_keys(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted names of the leaves that differ between two configs of the same shape."""
    out = []
    for key in new:
        name = f"{prefix}{key}"
        if isinstance(new[key], dict):
            out += changed_keys(old.get(key, {}), new[key], f"{name}.")
        elif old.get(key) != new[key]:
            out.append(name)
    return out
