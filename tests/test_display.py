"""The panel images shared by the screen and the export: images, placeholders, difference maps."""

from __future__ import annotations

import numpy as np
import pytest

from ldct_viewer.display import PANELS, difference_note, difference_terms, difference_title, panel_image

MISSING = {key: f"{key} absent" for key in PANELS}


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return {key: rng.normal(0, 50, (8, 9)).astype(np.float32) for key in PANELS}


def test_no_difference_mode_shows_each_image_as_is(images):
    for key in PANELS:
        shown = panel_image(key, images, "none", MISSING)
        assert shown.image is images[key] and not shown.is_difference and shown.placeholder == ""


@pytest.mark.parametrize("mode, reference", [("minus_ldct", "ldct"), ("minus_ndct", "ndct")])
def test_outputs_show_output_minus_reference(images, mode, reference):
    for key in ("mse", "wgan-gp"):
        shown = panel_image(key, images, mode, MISSING)
        assert shown.is_difference
        np.testing.assert_array_equal(shown.image, images[key] - images[reference])
    assert not panel_image("ndct", images, mode, MISSING).is_difference


def test_ldct_panel_shows_ideal_removal_or_input_error(images):
    np.testing.assert_array_equal(panel_image("ldct", images, "minus_ldct", MISSING).image,
                                  images["ndct"] - images["ldct"])
    np.testing.assert_array_equal(panel_image("ldct", images, "minus_ndct", MISSING).image,
                                  images["ldct"] - images["ndct"])
    assert (difference_title("ldct", "minus_ldct"), difference_note("ldct", "minus_ldct")) == \
        ("NDCT \u2212 LDCT", "ideal removal")
    assert difference_note("mse", "minus_ndct") == "" and difference_terms("mse", "minus_ndct") == ("mse", "ndct")


def test_missing_images_give_placeholders(images):
    without = {**images, "ndct": None, "mse": None}
    assert panel_image("mse", without, "minus_ldct", MISSING).placeholder == "mse absent"
    lacking = panel_image("wgan-gp", without, "minus_ndct", MISSING)
    assert lacking.image is None and lacking.placeholder == "RED-CNN-WGAN-GP \u2212 NDCT needs an NDCT slice"
    ldct = panel_image("ldct", without, "minus_ndct", MISSING)  # nothing to compare it with: the LDCT itself
    assert ldct.image is images["ldct"] and not ldct.is_difference
    assert panel_image("ndct", without, "none", MISSING).placeholder == "ndct absent"


def test_unknown_mode_is_refused(images):
    with pytest.raises(ValueError):
        panel_image("mse", images, "ratio", MISSING)


def test_texts_titles_and_caption_say_what_is_open(tmp_path):
    from dicom_factory import phantom_volume, write_ct_series

    from ldct_viewer.display import missing_texts, panel_titles, slice_caption
    from ldct_viewer.io import load_series
    from ldct_viewer.opening import open_case

    assert "Open LDCT" in missing_texts(None, None, 0, {})["ldct"]
    assert set(missing_texts(None, None, 0, {}, busy="Preparing…").values()) == {"Preparing…"}
    assert slice_caption(None, None, 0, 1) == "no case open"
    write_ct_series(tmp_path / "ndct", phantom_volume(3, 16, seed=1), description="reference scan")
    ndct = load_series(tmp_path / "ndct")
    assert "Simulate" in missing_texts(None, ndct, 0, {})["ldct"]
    case = open_case(tmp_path / "ndct")  # an LDCT alone
    texts = missing_texts(case, None, 2, {"mse": "computing…", "wgan-gp": "failed"})
    assert (texts["mse"], texts["wgan-gp"]) == ("computing…", "failed") and "no NDCT open" in texts["ndct"]
    titles = panel_titles(case, None, {"mse": "a.pt", "wgan-gp": "b.pt"})
    assert titles["mse"].endswith("a.pt") and titles["ldct"] == "LDCT  ·  reference scan" and titles["ndct"] == "NDCT"
    assert slice_caption(case, None, 1, 3).startswith("slice 2 / 3  ·  z = ")
