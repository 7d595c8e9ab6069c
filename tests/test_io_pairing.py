"""LDCT/NDCT pairing by slice position, and recognition of Mayo and TCIA folder layouts."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import phantom_volume, write_ct_series
from pydicom.uid import generate_uid

from ldct_viewer.errors import InputError
from ldct_viewer.io import find_pairs, load_series, pair_series


def _pair_of_series(tmp_path, low_z, full_z, full_size=32):
    study, frame = generate_uid(), generate_uid()
    write_ct_series(tmp_path / "low", phantom_volume(len(low_z), seed=1), z_positions=low_z, study_uid=study,
                    frame_of_reference_uid=frame, shuffle=True)
    write_ct_series(tmp_path / "full", phantom_volume(len(full_z), size=full_size, seed=2), z_positions=full_z,
                    study_uid=study, frame_of_reference_uid=frame)
    return load_series(tmp_path / "low"), load_series(tmp_path / "full")


def test_pairs_by_position_and_reports_unmatched(tmp_path):
    low, full = _pair_of_series(tmp_path, [z + 0.2 for z in range(10)], list(range(-1, 11)))
    pairing = pair_series(low, full)
    assert pairing.tolerance_mm == pytest.approx(0.5)
    assert np.array_equal(pairing.ldct_index, np.arange(10))
    assert np.array_equal(pairing.ndct_index, np.arange(1, 11))
    assert pairing.unmatched_ldct == [] and pairing.unmatched_ndct == [0, 11]
    assert pairing.max_offset_mm == pytest.approx(0.2)
    assert "unmatched: 0 LDCT, 2 NDCT" in pairing.summary()


def test_tolerance_is_half_a_slice_unless_given(tmp_path):
    low, full = _pair_of_series(tmp_path, [0.6, 1.6, 2.6, 3.6], [0, 2, 4, 6])
    default = pair_series(low, full)  # half of the finer (LDCT, 1 mm) spacing
    assert default.tolerance_mm == pytest.approx(0.5)
    assert list(zip(default.ldct_index, default.ndct_index)) == [(1, 1), (3, 2)]
    assert default.unmatched_ldct == [0, 2] and default.unmatched_ndct == [0, 3]
    wide = pair_series(low, full, tolerance_mm=0.7)
    assert list(zip(wide.ldct_index, wide.ndct_index)) == [(0, 0), (1, 1), (3, 2)]
    assert wide.unmatched_ldct == [2] and wide.unmatched_ndct == [3]


def test_each_slice_is_used_once(tmp_path):
    low, full = _pair_of_series(tmp_path, [0.0, 0.3, 1.0], [0.0, 1.0])
    pairing = pair_series(low, full)
    assert list(zip(pairing.ldct_index, pairing.ndct_index)) == [(0, 0), (2, 1)]
    assert pairing.unmatched_ldct == [1]


def test_mismatched_matrix_is_an_input_error(tmp_path):
    low, full = _pair_of_series(tmp_path, [0, 1], [0, 1], full_size=16)
    with pytest.raises(InputError, match="matrix sizes differ"):
        pair_series(low, full)


def _write_dose_pair(low_dir, full_dir, n, *, low_name, full_name, drop=()):
    study, frame = generate_uid(), generate_uid()
    zs = [float(z) for z in range(n)]
    keep = [z for z in range(n) if z not in drop]
    write_ct_series(low_dir, phantom_volume(n, seed=5)[keep], z_positions=[zs[z] for z in keep], study_uid=study,
                    frame_of_reference_uid=frame, name_pattern=low_name, file_ext=".IMA", description="quarter")
    write_ct_series(full_dir, phantom_volume(n, seed=6), z_positions=zs, study_uid=study,
                    frame_of_reference_uid=frame, name_pattern=full_name, file_ext=".IMA", description="full")


def test_find_pairs_recognises_the_mayo_layout(tmp_path):
    _write_dose_pair(tmp_path / "L067" / "quarter_1mm", tmp_path / "L067" / "full_1mm", 6,
                     low_name="L067_QD_1_1.CT.0001.{index:04d}", full_name="L067_FD_1_1.CT.0001.{index:04d}")
    _write_dose_pair(tmp_path / "L067" / "quarter_3mm", tmp_path / "L067" / "full_3mm", 4,
                     low_name="L067_QD_3_1.CT.0002.{index:04d}", full_name="L067_FD_3_1.CT.0002.{index:04d}",
                     drop=(2,))
    _write_dose_pair(tmp_path / "L096" / "quarter_1mm", tmp_path / "L096" / "full_1mm", 3,
                     low_name="IM{index:04d}", full_name="IM{index:04d}")
    pairs = find_pairs([tmp_path])
    assert len(pairs) == 3
    for low, full, pairing in pairs:
        assert low.description == "quarter" and full.description == "full"
        assert low.folder.parent == full.folder.parent
        assert low.folder.name.startswith("quarter_") and full.folder.name == low.folder.name.replace("quarter", "full")
        assert np.allclose(low.slice_locations[pairing.ldct_index], full.slice_locations[pairing.ndct_index])
    three = next(p for p in pairs if p[0].folder.name == "quarter_3mm")
    assert len(three[2]) == 3 and three[2].unmatched_ndct == [2] and three[2].unmatched_ldct == []


def test_find_pairs_from_mayo_file_names_in_one_folder(tmp_path):
    _write_dose_pair(tmp_path / "flat", tmp_path / "flat", 5, low_name="L109_QD_1_1.CT.{index:04d}",
                     full_name="L109_FD_1_1.CT.{index:04d}")
    (pairing_tuple,) = find_pairs(tmp_path)
    low, full, pairing = pairing_tuple
    assert low.paths[0].name.startswith("L109_QD") and full.paths[0].name.startswith("L109_FD")
    assert len(pairing) == 5


def test_find_pairs_recognises_tcia_folders(tmp_path):
    study = tmp_path / "LDCT-and-Projection-data" / "L123" / "08-23-2018-NA-CT-123"
    _write_dose_pair(study / "2.000000-Low Dose Images-4567", study / "1.000000-Full Dose Images-8910", 4,
                     low_name="1-{index:03d}", full_name="1-{index:03d}")
    (low, full, pairing), = find_pairs([tmp_path])
    assert "Low Dose" in low.folder.name and "Full Dose" in full.folder.name
    assert len(pairing) == 4


def test_unrecognised_layout_gives_no_pairs(tmp_path):
    write_ct_series(tmp_path / "a", phantom_volume(2))
    write_ct_series(tmp_path / "b", phantom_volume(2))
    assert find_pairs(tmp_path) == []
