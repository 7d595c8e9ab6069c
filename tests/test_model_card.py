"""The model card built from checkpoint metadata (no Qt): the bundled pair and a minimal checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ldct_viewer.model import load_checkpoint
from ldct_viewer.model_card import model_card, raw_metadata_text
from ldct_viewer.paths import checkpoints_dir


@pytest.fixture(scope="module")
def bundled():
    path = checkpoints_dir() / "redcnn-wgangp.pt"
    if not path.is_file():
        pytest.skip("bundled checkpoints not present")
    return load_checkpoint(str(path))


def test_bundled_checkpoint_card_answers_what_how_on_what_how_good_which_file(bundled):
    card = model_card(bundled, "RED-CNN-WGAN-GP")
    assert card.title == "RED-CNN-WGAN-GP — redcnn-wgangp.pt"
    assert [s.title for s in card.sections] == ["Architecture", "Mode and training", "Training data", "Evaluation",
                                                "Identity"]
    arch = dict(card.section("Architecture").lines)
    assert arch["network"].startswith("RED-CNN") and "width 96" in arch["network"]
    assert int(arch["parameters"].replace(",", "")) == sum(p.numel() for p in bundled.model.parameters())
    mode = dict(card.section("Mode and training").lines)
    assert mode["mode"] == "wgan-gp" and "0.05 × adversarial + 0.95 × MSE" in mode["objective"]
    data = dict(card.section("Training data").lines)
    assert data["low-dose conditions"].startswith("18: doses 5, 10, 17, 25, 50, 100 %")
    assert "procedural phantom" in data["train volumes"] and "Apache-2.0" in data["train volumes"]
    evaluation = card.section("Evaluation")
    assert len(evaluation.tables) == 2
    table = evaluation.tables[0]
    assert table.header == ("condition", "RMSE (HU)", "PSNR (dB)", "SSIM", "grain (dB)")
    assert table.rows[-1][0] == "mean" and table.rows[0][0] == "10 % · 180 views"
    mean = bundled.metadata["evaluation"]["per_condition"]["mean"]
    ldct = bundled.metadata["evaluation"]["ldct_per_condition"]["mean"]
    assert table.rows[-1][1] == f"{mean['rmse']:.1f}  ({ldct['rmse']:.1f})"
    assert dict(card.section("Identity").lines)["weights SHA-256"] == bundled.sha256
    text = card.text()
    assert len(text.splitlines()) < 80  # a card, not 40 kB of JSON
    assert bundled.sha256 in card.html() and "<table" in card.html()
    assert json.loads(raw_metadata_text(card.raw)) == json.loads(json.dumps(bundled.metadata, default=str))


def test_minimal_metadata_gives_a_short_card_without_guesses(tmp_path: Path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from ui_helpers import make_checkpoint

    checkpoint = load_checkpoint(str(make_checkpoint(tmp_path / "tiny.pt", "mse", 1)))
    card = model_card(checkpoint)
    assert card.title == "tiny.pt"
    assert dict(card.section("Mode and training").lines)["objective"].startswith("mean squared error")
    assert dict(card.section("Training data").lines) == {"dataset": "unit-test phantom"}
    evaluation = card.section("Evaluation")
    assert evaluation.tables == () and dict(evaluation.lines) == {"rmse hu": "12.5"}
    assert "width 4" in dict(card.section("Architecture").lines)["network"]
