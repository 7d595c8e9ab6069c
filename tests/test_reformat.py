"""Coronal and sagittal sections: aspect, orientation, placeholder bands, slice mapping."""

from __future__ import annotations

import numpy as np
import pytest

from ldct_viewer.orientation import Orientation
from ldct_viewer.reformat import missing_bands, plane_view, section, to_square

H, W, Z = 6, 8, 4


def axial(iop=(1, 0, 0, 0, 1, 0), slice_mm=3.0, pixel_mm=1.0, normal_sign=1):
    positions = [(0.0, 0.0, normal_sign * 3.0 * k) for k in range(Z)]
    return Orientation.from_geometry(iop, positions, (pixel_mm, pixel_mm), slice_mm, (H, W))


def volume():
    """Value = 1000*slice + 10*row + col: every voxel says where it came from."""
    k, r, c = np.meshgrid(np.arange(Z), np.arange(H), np.arange(W), indexing="ij")
    return (1000 * k + 10 * r + c).astype(np.float32)


def test_coronal_aspect_and_superior_up():
    o = axial()  # slices run inferior → superior (+z)
    view = plane_view(o, Z, "coronal")
    assert view.fixed_axis == 1 and view.count == H
    assert view.output_shape == (Z * 3, W)  # 3 mm slices, 1 mm pixels: each slice three rows tall
    image = section(o.display(volume()), view, index=2)
    assert image.shape == (Z * 3, W)
    # top row shows the most superior slice (the last), left column the patient's right (column 0)
    assert image[0, 0] == pytest.approx(1000 * (Z - 1) + 20)
    assert image[-1, 0] == pytest.approx(20)
    assert image[-1, W - 1] == pytest.approx(20 + W - 1)
    assert view.slice_at(0, 0) == Z - 1 and view.slice_at(Z * 3 - 1, 0) == 0
    assert view.slice_axis == 0


def test_slices_stored_superior_first_need_no_flip():
    o = axial(iop=(1, 0, 0, 0, -1, 0), normal_sign=-1)  # normal −z, sorted by −z: superior slice first
    view = plane_view(o, Z, "coronal")
    image = section(o.display(volume()), view, 0)
    assert image[0, 0] == pytest.approx(0 + 10 * (H - 1))  # slice 0 on top; display row 0 = stored row H-1
    assert o.edge_letters("coronal") == {"top": "S", "bottom": "I", "left": "R", "right": "L"}


def test_sagittal_anterior_left_superior_up():
    o = axial()
    view = plane_view(o, Z, "sagittal")
    assert view.fixed_axis == 2 and view.count == W and view.output_shape == (Z * 3, H)
    image = section(o.display(volume()), view, index=5)
    assert image[0, 0] == pytest.approx(1000 * (Z - 1) + 5)  # superior, anterior (row 0)
    assert image[-1, H - 1] == pytest.approx(10 * (H - 1) + 5)
    assert o.edge_letters("sagittal") == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    k, r, c = view.volume_index(0, H - 1, 5)
    assert (k, r, c) == (Z - 1, H - 1, 5)


def test_missing_slices_become_bands():
    o = axial()
    view = plane_view(o, Z, "coronal")
    vol = volume()
    slices = [vol[0], None, vol[2], None]  # slices 1 and 3 not computed yet
    image = section(slices, view, 1, display=o.display)
    bands = missing_bands(image, view.slice_axis)
    # slice 3 (top, superior) and slice 1 are missing: rows 0..2 and rows 6..8 (a neighbour row may join)
    assert bands[0][0] == 0 and 3 <= bands[0][1] <= 4
    assert any(start <= 6 and stop >= 9 for start, stop in bands[1:])
    assert not np.isnan(image[10]).any()  # slice 0 (bottom) is there
    assert missing_bands(section(list(vol), view, 1, display=o.display), view.slice_axis) == []


def test_native_plane_is_the_slice_itself():
    o = axial()
    view = plane_view(o, Z, "axial")
    assert view.fixed_axis == 0 and view.slice_axis is None
    np.testing.assert_array_equal(section(o.display(volume()), view, 2), volume()[2])


def test_slices_between_maps_a_zoomed_range():
    view = plane_view(axial(), Z, "coronal")
    assert view.slices_between(0, 3) == (Z - 1, Z - 1)
    assert view.slices_between(0, Z * 3) == (0, Z - 1)


def test_to_square_interpolates_linearly():
    out = to_square(np.array([[0.0], [30.0]], np.float32), (3.0, 1.0))
    assert out.shape == (6, 1)
    assert np.all(np.diff(out[:, 0]) >= 0) and out[0, 0] == 0 and out[-1, 0] == 30


def test_unknown_plane():
    with pytest.raises(ValueError):
        plane_view(axial(), Z, "oblique")
