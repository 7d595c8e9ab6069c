"""Opening cases: one rule set, and the viewer and ``ldct-viewer export`` pair the same files the same way."""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from dicom_factory import phantom_volume, write_ct_series
from pydicom.uid import generate_uid
from PySide6.QtWidgets import QMessageBox
from ui_helpers import make_window

from ldct_viewer.errors import InputError
from ldct_viewer.io import load_series
from ldct_viewer.opening import open_case, open_ldct, refuse_to_guess

SIZE = 24


@pytest.fixture()
def files(tmp_path, monkeypatch):
    """A Mayo patient (NDCT z = 0..5, LDCT z = 1..6, one frame of reference), an NDCT of another
    frame at the same positions, and one with no slice where the LDCT has one."""
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LDCT_VIEWER_RESOURCES", str(tmp_path / "no-resources"))  # no inference needed
    study, frame = generate_uid(), generate_uid()
    patient = tmp_path / "L001"
    write_ct_series(patient / "full_1mm", phantom_volume(6, SIZE, seed=1), study_uid=study,
                    frame_of_reference_uid=frame, z_positions=[0, 1, 2, 3, 4, 5], description="FD")
    write_ct_series(patient / "quarter_1mm", phantom_volume(6, SIZE, seed=2), study_uid=study,
                    frame_of_reference_uid=frame, z_positions=[1, 2, 3, 4, 5, 6], description="QD")
    write_ct_series(tmp_path / "other_frame", phantom_volume(6, SIZE, seed=3), z_positions=[1, 2, 3, 4, 5, 6],
                    description="other scan")
    write_ct_series(tmp_path / "far", phantom_volume(3, SIZE, seed=4), study_uid=study, frame_of_reference_uid=frame,
                    z_positions=[50, 51, 52], description="far away")
    return tmp_path, patient


def cli_case(tmp_path, *args) -> tuple[int, str]:
    """(exit code, the case line or the error) of ``ldct-viewer export`` on ``args``."""
    proc = subprocess.run([sys.executable, "-m", "ldct_viewer", "export", *map(str, args), "--out",
                           str(tmp_path / "png"), "--slices", "1", "--mse", "none", "--wgan-gp", "none"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    lines = proc.stderr.strip().splitlines()
    line = next((ln for ln in lines if ln.startswith(("LDCT", "ldct-viewer: error"))), proc.stderr)
    return proc.returncode, line.split("; exporting")[0].removeprefix("ldct-viewer: error: ")


def gui_case(qtbot, tmp_path, monkeypatch, ldct, ndct=None) -> tuple[int, str]:
    """The same through the viewer (as ``ldct-viewer view LDCT --ndct NDCT`` opens them)."""
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text, *a: shown.append(text)))
    window = make_window(qtbot, tmp_path, None, "gui.ini")
    try:
        if window.open_paths([ldct], "ldct") and ndct is not None:
            window.open_paths([ndct], "ndct")
        if shown:
            return 2, shown[-1]
        return 0, window.case.describe()
    finally:
        window.shutdown()


@pytest.mark.parametrize("scenario", ["mayo folder", "named ndct", "other frame named", "no matching slice"])
def test_viewer_and_command_line_pair_the_same_way(files, qtbot, monkeypatch, scenario):
    tmp_path, patient = files
    ldct, ndct = {"mayo folder": (patient, None), "named ndct": (patient / "quarter_1mm", patient / "full_1mm"),
                  "other frame named": (patient / "quarter_1mm", tmp_path / "other_frame"),
                  "no matching slice": (patient / "quarter_1mm", tmp_path / "far")}[scenario]
    cli = cli_case(tmp_path, ldct, *(["--ndct", ndct] if ndct else []))
    gui = gui_case(qtbot, tmp_path, monkeypatch, ldct, ndct)
    assert cli == gui
    expected = {"mayo folder": "5 paired", "named ndct": "5 paired", "other frame named": "6 paired",
                "no matching slice": "no NDCT slice matches"}[scenario]
    assert expected in cli[1]
    assert cli[0] == (2 if scenario == "no matching slice" else 0)


def test_an_ndct_kept_from_before_pairs_only_within_its_frame_of_reference(files):
    tmp_path, patient = files
    same = load_series(patient / "full_1mm")
    other = load_series(tmp_path / "other_frame")
    assert open_ldct(patient / "quarter_1mm", refuse_to_guess, kept_ndct=same).n_matched == 5
    unpaired = open_ldct(patient / "quarter_1mm", refuse_to_guess, kept_ndct=other)
    assert unpaired.ndct is None and unpaired.ldct.description == "QD"


def test_viewer_drops_an_ndct_of_another_frame_when_a_new_ldct_opens(files, qtbot, monkeypatch):
    tmp_path, patient = files
    window = make_window(qtbot, tmp_path, None, "kept.ini")
    assert window.open_paths([tmp_path / "other_frame"], "ndct") and window.case is None
    assert window.open_paths([patient / "quarter_1mm"], "ldct")
    assert window.case.ndct is None
    window.open_paths([patient / "full_1mm"], "ndct")
    assert window.open_paths([patient / "quarter_1mm"], "ldct")  # the same frame: kept and paired
    assert window.case.ndct is not None and window.case.n_matched == 5
    window.shutdown()


def test_several_series_need_a_uid_on_the_command_line(files):
    tmp_path, patient = files
    with pytest.raises(InputError, match="choose one by UID"):
        open_case([patient / "quarter_1mm", tmp_path / "far"])
    far = load_series(tmp_path / "far")
    assert open_case([patient / "quarter_1mm", tmp_path / "far"], series_uid=far.uid).ldct.description == "far away"
