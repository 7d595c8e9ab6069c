"""Procedural phantom: determinism, geometry, plausible HU per tissue, z-continuity, lesions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from ldct_viewer.ct import generate_phantom
from ldct_viewer.ct.phantom import Tissue, render_phantom


@pytest.fixture(scope="module")
def abdomen():
    return render_phantom(size=384, slices=2, seed=3, start_z_mm=330.0)


@pytest.fixture(scope="module")
def chest():
    return render_phantom(size=256, slices=3, seed=3, start_z_mm=150.0)


def core_values(phantom, tissue, erosion=2):
    """HU of voxels well inside ``tissue`` (away from partial-volume edges)."""
    mask = phantom.labels == tissue
    mask = ndimage.binary_erosion(mask, structure=np.ones((1, 3, 3)), iterations=erosion)
    return phantom.volume[mask]


def test_same_seed_same_volume_other_seed_differs():
    a, sa = generate_phantom(size=96, slices=3, seed=5, start_z_mm=300.0)
    b, sb = generate_phantom(size=96, slices=3, seed=5, start_z_mm=300.0)
    c, _ = generate_phantom(size=96, slices=3, seed=6, start_z_mm=300.0)
    assert sa == sb
    np.testing.assert_array_equal(a, b)
    assert np.mean(np.abs(a - c)) > 20.0


def test_shape_dtype_spacing():
    vol, spacing = generate_phantom(size=64, slices=5, seed=1, slice_thickness_mm=2.0, fov_mm=320.0, start_z_mm=200.0)
    assert vol.shape == (5, 64, 64)
    assert vol.dtype == np.float32
    assert spacing == pytest.approx((2.0, 5.0, 5.0))
    assert np.isfinite(vol).all()
    assert vol.min() >= -1024.0 and vol.max() <= 3071.0


def test_default_level_comes_from_seed():
    a = render_phantom(size=32, slices=2, seed=11)
    b = render_phantom(size=32, slices=2, seed=12)
    assert a.levels_mm[0] != b.levels_mm[0]
    # Index 0 is the most caudal slice (largest level below the apex).
    assert a.levels_mm[0] > a.levels_mm[1]


def test_abdominal_tissues_have_plausible_hu(abdomen):
    vol = abdomen.volume
    assert np.all(np.abs(vol[:, :4, :4] + 1000.0) < 5.0)  # air in the corners
    checks = {
        Tissue.LIVER: (40.0, 120.0),
        Tissue.SPLEEN: (80.0, 140.0),
        Tissue.FAT: (-140.0, -60.0),
        Tissue.MUSCLE: (20.0, 80.0),
        Tissue.KIDNEY_CORTEX: (120.0, 220.0),
        Tissue.BONE_MARROW: (120.0, 450.0),
    }
    for tissue, (lo, hi) in checks.items():
        values = core_values(abdomen, tissue, erosion=1)
        assert values.size > 20, tissue.name
        assert lo <= np.median(values) <= hi, (tissue.name, float(np.median(values)))
    cortex = abdomen.volume[abdomen.labels == Tissue.BONE_CORTEX]
    assert np.percentile(cortex, 95) > 550.0  # thin shell: partial volume lowers most voxels
    liver = core_values(abdomen, Tissue.LIVER)
    # Textured, not flat: a few HU of texture, not noise of tens of HU.
    assert 2.0 < np.std(liver) < 25.0


def test_thoracic_level_has_lungs_heart_and_ribs(chest, abdomen):
    lung = core_values(chest, Tissue.LUNG)
    assert lung.size > 1000
    assert -920.0 <= np.median(lung) <= -780.0
    assert (chest.labels == Tissue.HEART).sum() > 200
    assert (chest.labels == Tissue.VESSEL).sum() > 200
    # Ribs: several separate bone islands around the chest wall.
    bone = np.isin(chest.labels[1], [Tissue.BONE_CORTEX, Tissue.BONE_MARROW])
    _, islands = ndimage.label(bone)
    assert islands >= 8
    assert (abdomen.labels == Tissue.LUNG).sum() == 0
    assert (abdomen.labels == Tissue.KIDNEY_CORTEX).sum() > 100
    assert (abdomen.labels == Tissue.BOWEL_CONTENT).sum() > 100


def test_anatomy_changes_smoothly_along_z():
    p = render_phantom(size=128, slices=4, seed=2, start_z_mm=300.0)
    body = p.volume > -500
    for k in range(3):
        a, b = p.volume[k][body[k]], p.volume[k + 1][body[k]]
        assert np.corrcoef(a, b)[0, 1] > 0.9
    far = render_phantom(size=128, slices=1, seed=2, start_z_mm=380.0).volume[0]
    assert np.corrcoef(p.volume[0].ravel(), far.ravel())[0, 1] < np.corrcoef(p.volume[0].ravel(), p.volume[1].ravel())[0, 1]


def test_lesions_have_stated_size_and_contrast():
    kwargs = dict(size=256, slices=12, seed=4, start_z_mm=300.0, slice_thickness_mm=1.5)
    with_lesions = render_phantom(**kwargs)
    without = render_phantom(**kwargs, lesions=False)
    liver = [les for les in with_lesions.lesions if les.organ == "liver"]
    assert liver, "expected liver lesions at an abdominal level"
    diff = with_lesions.volume - without.volume
    for les in with_lesions.lesions:
        assert 3.0 <= les.diameter_mm <= 15.0
        assert 5.0 <= abs(les.contrast_hu) <= 20.0
        z, r, c = (int(v) for v in les.centre_index)
        centre = diff[z, r, c]
        assert np.sign(centre) == np.sign(les.contrast_hu)
        if les.diameter_mm >= 6.0:  # larger than the blur: full contrast at the centre
            assert centre == pytest.approx(les.contrast_hu, rel=0.15)
    # Outside lesions the two renderings are identical.
    assert np.mean(diff == 0.0) > 0.99


def test_invalid_arguments():
    with pytest.raises(ValueError):
        generate_phantom(size=8)
    with pytest.raises(ValueError):
        generate_phantom(slices=0)
    with pytest.raises(ValueError):
        generate_phantom(size=32, slice_thickness_mm=0.0)


# sha256 of volume, labels, slice levels and lesions, computed with the anatomy as first written
# (code in _Builder), before it became the table in phantom_anatomy.py: the table must paint the
# same phantom, voxel for voxel. The texture fields come from torch's FFT, so the digests hold for
# the environment they were computed in (torch 2.13.0+cpu, NumPy 2.4.6, SciPy 1.17.1).
PHANTOM_DIGESTS = {
    "whole range, 5 mm": (dict(size=64, slices=100, seed=9, start_z_mm=5.0, slice_thickness_mm=5.0),
                          "b01a99351e0f20ef5de455edbf34b968d36a7234f4c92ce8fe96931fedddf71a"),
    "abdomen, lesions": (dict(size=128, slices=6, seed=3, start_z_mm=330.0),
                         "719889713759a126f6defc86866b878b7f44376490d7982c0950a53fd342895b"),
}


@pytest.mark.skipif(not (torch.__version__.startswith("2.13.0") and np.__version__ == "2.4.6"),
                    reason="digests computed with torch 2.13.0 / NumPy 2.4.6")
@pytest.mark.parametrize("name", list(PHANTOM_DIGESTS))
def test_phantom_is_voxel_identical_to_the_anatomy_as_first_written(name):
    import hashlib

    kwargs, expected = PHANTOM_DIGESTS[name]
    p = render_phantom(**kwargs)
    h = hashlib.sha256()
    for a in (p.volume, p.labels, p.levels_mm):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(p.lesions).encode())
    assert h.hexdigest() == expected
