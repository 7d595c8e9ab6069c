"""Patient orientation from real DICOM series: radiological display whatever the storage order."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import write_ct_series

from ldct_viewer.io import load_series
from ldct_viewer.orientation import Flip, Orientation, screen_flip

SIZE = 8


def marked_volume(n: int = 3) -> np.ndarray:
    """Air with one bright pixel at stored (row 1, column 6): top-right of the stored image."""
    vol = np.full((n, SIZE, SIZE), -1000.0, np.float32)
    vol[:, 1, 6] = 500.0
    return vol


def test_standard_axial_is_left_as_stored(tmp_path):
    write_ct_series(tmp_path, marked_volume(), orientation=(1, 0, 0, 0, 1, 0))
    o = Orientation.of_series(load_series(tmp_path))
    assert o.plane == "axial" and o.flip == Flip()
    assert o.edge_letters() == {"top": "A", "bottom": "P", "left": "R", "right": "L"}


def test_posterior_up_series_is_shown_anterior_up(tmp_path):
    """IOP 1,0,0,0,-1,0: stored rows run posterior → anterior; the display puts anterior up."""
    vol = marked_volume()
    write_ct_series(tmp_path, vol, orientation=(1, 0, 0, 0, -1, 0), origin=(-100.0, 100.0, -121.0),
                    z_positions=[0.0, 3.0, 6.0])
    series = load_series(tmp_path)
    o = Orientation.of_series(series)
    shown = o.display(series.slice(0))
    # stored rows run towards anterior, so stored row 1 lies next to the posterior edge: second from the bottom
    assert shown[SIZE - 2, 6] == 500.0 and shown[1, 6] == -1000.0
    assert o.edge_letters() == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert o.flip == Flip(False, True, False)
    # the normal of this IOP is −z, so the loader's "slice location" is +121; the label shows patient z
    assert series.slice_locations[0] == pytest.approx(121.0)
    axis, z = o.slice_coordinate(0)
    assert (axis, z) == ("z", pytest.approx(-121.0))
    assert [o.slice_coordinate(i)[1] for i in range(3)] == pytest.approx([-121.0, -124.0, -127.0])


def test_transposed_and_mirrored_storage(tmp_path):
    """Rows along the patient's y, columns along −x: transpose and flip back to R-left, A-up."""
    write_ct_series(tmp_path, marked_volume(), orientation=(0, 1, 0, -1, 0, 0))
    series = load_series(tmp_path)
    o = Orientation.of_series(series)
    assert o.flip.transpose
    shown = o.display(series.slice(0))
    # stored (row 1, col 6): col runs along +y (posterior) → display row 6; row runs along −x
    # (towards the right) → display column SIZE-1-1
    assert shown[6, SIZE - 2] == 500.0
    assert o.edge_letters()["left"] == "R" and o.edge_letters()["top"] == "A"
    i, j = o.flip.stored_index(6, SIZE - 2, o.display_shape)
    assert (i, j) == (1, 6)


def test_coronal_acquisition_and_letters(tmp_path):
    """A coronal stack (rows along −z): superior up, right on the left; its reformat letters for axial."""
    write_ct_series(tmp_path, marked_volume(), orientation=(1, 0, 0, 0, 0, -1))
    o = Orientation.of_series(load_series(tmp_path))
    assert o.plane == "coronal" and o.flip == Flip()
    assert o.edge_letters() == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    assert o.edge_letters("sagittal") == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    assert o.slice_coordinate(1)[0] == "y"


def test_oblique_and_tilted_series_are_flagged(tmp_path):
    angle = np.radians(20)
    iop = (np.cos(angle), np.sin(angle), 0, -np.sin(angle), np.cos(angle), 0)
    o = Orientation.from_geometry(iop, [(0, 0, 0), (0, 0, 1)], (0.7, 0.7), 1.0, (8, 8))
    assert o.plane == "axial" and o.flip == Flip()
    assert any("oblique" in n and "20°" in n for n in o.notes)
    tilted = Orientation.from_geometry((1, 0, 0, 0, 1, 0), [(0, 0, 0), (0, np.tan(np.radians(15)), 1)],
                                       (0.7, 0.7), 1.0, (8, 8))
    assert any("gantry tilt 15°" in n for n in tilted.notes)
    assert Orientation.from_geometry((1, 0, 0, 0, 1, 0), [(0, 0, 0), (0, 0, 1)], (0.7, 0.7), 1.0, (8, 8)).notes == []


def test_screen_flip_rejects_axes_of_another_plane():
    with pytest.raises(ValueError):
        screen_flip((2, -1), (0, 1), "axial")
