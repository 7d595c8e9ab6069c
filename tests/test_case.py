"""Case: LDCT + NDCT series from real DICOM files, paired by position; automatic Mayo pairing."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import phantom_volume, write_ct_series
from pydicom.uid import generate_uid

from ldct_viewer.case import Case
from ldct_viewer.opening import open_case
from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series

SIZE = 24


@pytest.fixture()
def mayo_patient(tmp_path):
    """Mayo layout: NDCT at z = 0..5 mm, LDCT at z = 1..6 mm (slice at 6 mm has no partner)."""
    study, frame = generate_uid(), generate_uid()
    ndct = phantom_volume(6, SIZE, seed=1)
    ldct = phantom_volume(6, SIZE, seed=2)
    patient = tmp_path / "L001"
    write_ct_series(patient / "full_1mm", ndct, (1.0, 0.8, 0.8), study_uid=study, frame_of_reference_uid=frame,
                    z_positions=[0, 1, 2, 3, 4, 5], description="FD")
    write_ct_series(patient / "quarter_1mm", ldct, (1.0, 0.8, 0.8), study_uid=study, frame_of_reference_uid=frame,
                    z_positions=[1, 2, 3, 4, 5, 6], description="QD", shuffle=True)
    return patient, ldct, ndct


def test_open_case_pairs_ldct_and_ndct_by_position(mayo_patient):
    patient, ldct, ndct = mayo_patient
    case = open_case(patient / "quarter_1mm", patient / "full_1mm")
    assert case.n_slices == 6
    assert case.spacing == pytest.approx((1.0, 0.8, 0.8))
    for i in range(6):
        np.testing.assert_array_equal(case.ldct_slice(i), ldct[i])
        assert case.position_mm(i) - case.position_mm(0) == pytest.approx(i)
    for i in range(5):
        assert case.ndct_index(i) == i + 1
        np.testing.assert_array_equal(case.ndct_slice(i), ndct[i + 1])
    assert case.ndct_slice(5) is None  # z = 6 mm: no NDCT slice there
    assert case.n_matched == 5
    assert "5 paired" in case.describe()


def test_folder_with_mayo_layout_pairs_automatically(mayo_patient):
    patient, ldct, ndct = mayo_patient
    case = open_case(patient)
    assert case.ndct is not None and case.n_slices == 6
    assert case.ldct.description == "QD"
    np.testing.assert_array_equal(case.ndct_slice(0), ndct[1])


def test_ldct_alone_has_no_reference(mayo_patient):
    patient, ldct, _ = mayo_patient
    case = open_case(patient / "quarter_1mm")
    assert case.ndct is None and case.pairing is None
    assert case.ndct_slice(2) is None
    np.testing.assert_array_equal(case.ldct_slice(2), ldct[2])
    assert "no NDCT" in case.describe()


def test_without_pairing_equal_lengths_pair_by_index(mayo_patient):
    patient, _, ndct = mayo_patient
    case = Case(ldct=load_series(patient / "quarter_1mm"), ndct=load_series(patient / "full_1mm"))
    np.testing.assert_array_equal(case.ndct_slice(3), ndct[3])


def test_slice_index_out_of_range(mayo_patient):
    patient, _, _ = mayo_patient
    case = open_case(patient / "quarter_1mm")
    with pytest.raises(IndexError):
        case.ldct_slice(6)
    with pytest.raises(IndexError):
        case.position_mm(-1)


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        open_case(tmp_path / "nope")


def test_simulate_case_writes_a_derived_series_paired_with_the_ndct(tmp_path, monkeypatch):
    from ldct_viewer.case import simulate_case

    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    write_ct_series(tmp_path / "full", phantom_volume(2, 64, seed=4), (1.0, 0.7, 0.7))
    ndct = load_series(tmp_path / "full")
    case = simulate_case(ndct, 0.25, 90)
    assert case.ndct is ndct and case.n_matched == 2
    assert case.ldct.uid != ndct.uid and case.ldct.study_uid == ndct.study_uid
    assert "Simulated" in case.ldct.description
    assert case.simulated["dose"] == 0.25 and case.simulated["views"] == 90
    noise = case.ldct_slice(1) - case.ndct_slice(1)
    assert float(noise.std()) > 1.0
    assert simulate_case(ndct, 0.25, 90).ldct.uid == case.ldct.uid  # cached in the user cache
    assert simulate_case(ndct, 0.5, 90).ldct.uid != case.ldct.uid

    mine = tmp_path / "mine"
    assert simulate_case(ndct, 0.25, 90, mine).ldct.uid != case.ldct.uid
    with pytest.raises(InputError):
        simulate_case(ndct, 0.25, 90, mine)  # never writes into a non-empty user folder
    with pytest.raises(InputError):
        simulate_case(ndct, 0.0, 90)
