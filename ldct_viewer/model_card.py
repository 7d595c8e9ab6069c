"""A checkpoint's metadata as a model card a reader can take in at a glance (no Qt).

The checkpoint metadata (``ldct_viewer.model.checkpoint``) holds everything that was recorded when
the network was trained: architecture, normalization, mode, the trainer's configuration, the
training data's provenance, the training history and the evaluation tables — tens of kilobytes of
JSON. The card picks what a reader asks first (what network, trained how, on what, how good, which
file exactly) and lays it out as short sections and one evaluation table; the raw JSON stays
available behind a toggle in the dialog (``ldct_viewer.ui.dialogs.CheckpointInfoDialog``).
Metadata written by other trainers may lack any part: what is missing is left out, never guessed.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Evaluation columns shown, in order: (key in the metadata, header, format).
EVAL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rmse", "RMSE (HU)", "{:.1f}"),
    ("psnr", "PSNR (dB)", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
    ("power_ratio_db", "grain (dB)", "{:+.2f}"),
)
#: Real-anatomy columns (``evaluation.real_anatomy``).
REAL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rmse_w", "RMSE −160…240 (HU)", "{:.1f}"),
    ("rmse_w_ratio", "vs input", "{:.2f}"),
    ("grain_db", "grain (dB)", "{:+.2f}"),
    ("edge_hu", "edge (HU)", "{:+.1f}"),
)
_CONDITION = re.compile(r"^d(\d+(?:\.\d+)?)_v(\d+)$")


@dataclass(frozen=True)
class Table:
    """Rows of already formatted cells under ``header``; ``note`` says what the numbers are."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    """A titled list of (label, value) lines, optionally followed by tables."""

    title: str
    lines: tuple[tuple[str, str], ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass
class ModelCard:
    """The card of one checkpoint: a title, sections in reading order, and the raw metadata."""

    title: str
    sections: list[Section] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)

    def text(self) -> str:
        """Plain text (logs, tests, a terminal)."""
        out = [self.title, ""]
        for s in self.sections:
            out.append(s.title)
            out.extend(f"  {label}: {value}" for label, value in s.lines)
            for t in s.tables:
                out.append(f"  {t.title}")
                out.append("    " + " | ".join(t.header))
                out.extend("    " + " | ".join(row) for row in t.rows)
                if t.note:
                    out.append(f"    ({t.note})")
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        """Rich text for ``QTextBrowser`` (Qt's HTML subset: tables, headings, no CSS files)."""
        esc = html.escape
        parts = [f"<h2>{esc(self.title)}</h2>"]
        for s in self.sections:
            parts.append(f"<h3>{esc(s.title)}</h3>")
            if s.lines:
                rows = "".join(f"<tr><td style='color:#8a8f94; padding-right:12px'>{esc(label)}</td>"
                               f"<td>{esc(value)}</td></tr>" for label, value in s.lines)
                parts.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
            for t in s.tables:
                head = "".join(f"<th align='right' style='padding:2px 8px'>{esc(h)}</th>" for h in t.header)
                body = "".join("<tr>" + "".join(
                    f"<td align='{'left' if i == 0 else 'right'}' style='padding:2px 8px'>{esc(c)}</td>"
                    for i, c in enumerate(row)) + "</tr>" for row in t.rows)
                parts.append(f"<p><b>{esc(t.title)}</b></p>"
                             f"<table border='1' cellspacing='0' cellpadding='2' "
                             f"style='border-color:#2b2f33; border-style:solid'>"
                             f"<tr>{head}</tr>{body}</table>")
                if t.note:
                    parts.append(f"<p style='color:#8a8f94'>{esc(t.note)}</p>")
        return "\n".join(parts)


def raw_metadata_text(metadata: dict) -> str:
    """The metadata as indented JSON (what the card summarises)."""
    return json.dumps(metadata, indent=2, sort_keys=True, default=str)


def _fmt(value: Any, pattern: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(number) else pattern.format(number)


def _condition_label(name: str) -> str:
    """``d25_v720`` → ``25 % · 720 views``; other names as they are."""
    match = _CONDITION.match(name)
    if not match:
        return name
    return f"{float(match.group(1)):g} % · {match.group(2)} views"


def _condition_order(name: str) -> tuple:
    match = _CONDITION.match(name)
    if match:
        return (0, float(match.group(1)), int(match.group(2)))
    return (1 if name == "mean" else 2, 0.0, 0)


def _per_condition_table(title: str, model: dict, ldct: dict | None, columns, note: str) -> Table | None:
    """One row per condition: the model's figures, each followed by the LDCT input's in brackets."""
    if not isinstance(model, dict) or not model:
        return None
    present = [c for c in columns if any(isinstance(v, dict) and c[0] in v for v in model.values())]
    if not present:
        return None
    rows = []
    for name in sorted(model, key=_condition_order):
        figures = model[name] if isinstance(model[name], dict) else {}
        inputs = (ldct or {}).get(name) if isinstance(ldct, dict) else None
        cells = [_condition_label(name)]
        for key, _, pattern in present:
            cell = _fmt(figures.get(key), pattern)
            if isinstance(inputs, dict) and key in inputs and key != "rmse_w_ratio":
                cell += f"  ({_fmt(inputs[key], pattern)})"
            cells.append(cell)
        rows.append(tuple(cells))
    header = ("condition", *(h for _, h, _ in present))
    return Table(title, header, tuple(rows), note)


def _architecture(meta: dict, checkpoint: Any) -> Section:
    arch = meta.get("architecture") if isinstance(meta.get("architecture"), dict) else {}
    lines = []
    name = arch.get("name")
    if name:
        details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in arch.items() if k != "name")
        lines.append(("network", f"{name}" + (f" ({details})" if details else "")))
    model = getattr(checkpoint, "model", None)
    if model is not None and hasattr(model, "parameters"):
        try:
            count = sum(int(p.numel()) for p in model.parameters())
            lines.append(("parameters", f"{count:,}"))
        except (TypeError, RuntimeError):
            pass
    norm = meta.get("normalization")
    if not isinstance(norm, dict):
        to_dict = getattr(getattr(checkpoint, "normalization", None), "to_dict", None)
        norm = to_dict() if callable(to_dict) else None
    if isinstance(norm, dict) and "hu_min" in norm and "hu_max" in norm:
        lines.append(("input scaling", f"{norm.get('kind', 'linear')}: {float(norm['hu_min']):g} … "
                                       f"{float(norm['hu_max']):g} HU → 0 … 1"))
    return Section("Architecture", tuple(lines))


def _mode(meta: dict, checkpoint: Any) -> Section:
    mode = str(getattr(checkpoint, "mode", None) or meta.get("mode") or "?")
    lines = [("mode", mode)]
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    weights = config.get("weights") if isinstance(config.get("weights"), dict) else {}
    if mode == "mse":
        lines.append(("objective", "mean squared error to the NDCT patch"))
    elif mode.startswith("wgan"):
        objective = "adversarial (Wasserstein critic with gradient penalty) + MSE"
        if "mse_weight" in weights and "disc_weight" in weights:
            objective += f": {weights['disc_weight']:g} × adversarial + {weights['mse_weight']:g} × MSE"
        lines.append(("objective", objective))
        training = config.get("training") if isinstance(config.get("training"), dict) else {}
        if "lambda_gp" in training:
            lines.append(("critic", f"λ_GP {training['lambda_gp']:g}, {training.get('critic_iterations', '?')} "
                                    "critic steps per generator step"))
    train = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    init = train.get("init") if isinstance(train.get("init"), dict) else None
    if init and init.get("sha256"):
        lines.append(("started from", f"{init.get('mode', '?')} network {str(init['sha256'])[:12]}"))
    if "epochs_done" in train:
        text = f"{train['epochs_done']} of {train.get('epochs_planned', '?')} epochs"
        if "best_epoch" in train:
            text += f", kept epoch {train['best_epoch']}"
        if "iterations" in train:
            text += f", {train['iterations']} iterations"
        lines.append(("training", text))
    average = train.get("weight_average") if isinstance(train.get("weight_average"), dict) else None
    if average and isinstance(average.get("sources"), list):
        which = f" ({average['epochs']})" if average.get("epochs") else ""
        lines.append(("weights", f"mean of {len(average['sources'])} checkpoints{which}"))
    if "wall_time_s" in train:
        where = f" on {train['device']}" if train.get("device") else ""
        lines.append(("time", f"{float(train['wall_time_s']) / 60:.0f} min{where}"))
    if train.get("selection"):
        lines.append(("selection", str(train["selection"])))
    return Section("Mode and training", tuple(lines))


def _source_kind(volume: dict) -> str:
    source = volume.get("source") if isinstance(volume.get("source"), dict) else {}
    provenance = source.get("provenance") if isinstance(source.get("provenance"), dict) else {}
    if provenance.get("title"):
        licence = provenance.get("licence")
        return f"{provenance['title']}" + (f" ({licence})" if licence else "")
    description = str(source.get("description") or "")
    if description.lower().startswith("phantom"):
        return "procedural phantom (this repository)"
    return description or "unknown source"


def _data(meta: dict) -> Section:
    data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    lines: list[tuple[str, str]] = []
    for key in ("dataset", "format"):
        if data.get(key):
            lines.append((key, str(data[key])))
    conditions = data.get("conditions")
    if isinstance(conditions, list) and conditions:
        parsed = [_CONDITION.match(str(c)) for c in conditions]
        if all(parsed):
            doses = sorted({float(m.group(1)) for m in parsed})
            views = sorted({int(m.group(2)) for m in parsed})
            lines.append(("low-dose conditions", f"{len(conditions)}: doses {', '.join(f'{d:g}' for d in doses)} % "
                                                 f"× {', '.join(str(v) for v in views)} views"))
        else:
            lines.append(("low-dose conditions", ", ".join(str(c) for c in conditions)))
    volumes = data.get("volumes")
    if isinstance(volumes, list) and volumes:
        for split in ("train", "val", "test"):
            chosen = [v for v in volumes if isinstance(v, dict) and v.get("split") == split]
            if chosen:
                counts = Counter(_source_kind(v) for v in chosen)
                slices = sum(int(v.get("slices", 0) or 0) for v in chosen)
                text = "; ".join(f"{n} × {kind}" for kind, n in counts.most_common())
                lines.append((f"{split} volumes", f"{len(chosen)} ({slices} slices): {text}"))
    elif isinstance(data.get("volumes_per_split"), dict):
        lines.append(("volumes", ", ".join(f"{k} {v}" for k, v in data["volumes_per_split"].items())))
    if data.get("manifest_sha256"):
        lines.append(("manifest SHA-256", str(data["manifest_sha256"])[:16] + "…"))
    for key, value in data.items():  # anything short not covered above (other trainers' metadata)
        if key not in ("dataset", "format", "conditions", "volumes", "volumes_per_split", "manifest_sha256",
                       "path") and isinstance(value, (str, int, float)) and len(str(value)) < 120:
            lines.append((key.replace("_", " "), str(value)))
    return Section("Training data", tuple(lines))


def _evaluation(meta: dict) -> Section:
    ev = meta.get("evaluation") if isinstance(meta.get("evaluation"), dict) else {}
    lines: list[tuple[str, str]] = []
    tables: list[Table] = []
    if ev.get("volumes"):
        vols = ev["volumes"]
        text = ", ".join(str(v) for v in vols) if isinstance(vols, list) else str(vols)
        lines.append(("phantom test set", f"{ev.get('split', 'test')} split, volumes {text}"
                      + (f", {ev['slices_per_volume']} slices each" if ev.get("slices_per_volume") else "")))
    table = _per_condition_table("Simulated low dose on held-out phantoms — model (LDCT input)",
                                 ev.get("per_condition"), ev.get("ldct_per_condition"), EVAL_COLUMNS,
                                 "grain: high-frequency noise power vs NDCT (below 0 = smoother than NDCT)")
    if table is not None:
        tables.append(table)
    real = ev.get("real_anatomy") if isinstance(ev.get("real_anatomy"), dict) else {}
    if real.get("series"):
        lines.append(("real-anatomy series", ", ".join(str(s) for s in real["series"])))
    table = _per_condition_table("Simulated low dose on real anatomy — model (LDCT input)",
                                 real.get("per_condition"), real.get("ldct_per_condition"), REAL_COLUMNS,
                                 "RMSE in a soft-tissue window; vs input below 1 = better than the LDCT; "
                                 "edge: mean error along the body outline")
    if table is not None:
        tables.append(table)
    for key, value in ev.items():  # scalar figures of other trainers (e.g. {"rmse_hu": 12.5})
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "slices_per_volume":
            lines.append((key.replace("_", " "), f"{value:g}"))
    if ev.get("report"):
        lines.append(("full report", str(ev["report"])))
    return Section("Evaluation", tuple(lines), tuple(tables))


def _identity(meta: dict, checkpoint: Any) -> Section:
    lines = []
    sha = getattr(checkpoint, "sha256", None) or meta.get("sha256")
    if sha:
        lines.append(("weights SHA-256", str(sha)))
    path = getattr(checkpoint, "path", None)
    if path is not None:
        lines.append(("file", str(path)))
    if meta.get("created"):
        lines.append(("created", str(meta["created"])))
    if meta.get("package_version"):
        lines.append(("ldct-viewer version", str(meta["package_version"])))
    return Section("Identity", tuple(lines))


def model_card(checkpoint: Any, label: str | None = None) -> ModelCard:
    """The card of ``checkpoint`` (a ``Checkpoint``, or anything with ``metadata``/``mode``/``sha256``/
    ``path``); ``label`` (e.g. "RED-CNN-WGAN-GP") heads it."""
    meta = dict(getattr(checkpoint, "metadata", None) or {})
    name = getattr(checkpoint, "name", None) or getattr(getattr(checkpoint, "path", None), "name", None)
    title = " — ".join(str(p) for p in (label, name) if p) or "Checkpoint"
    sections = [_architecture(meta, checkpoint), _mode(meta, checkpoint), _data(meta), _evaluation(meta),
                _identity(meta, checkpoint)]
    return ModelCard(title, [s for s in sections if s.lines or s.tables], meta)
