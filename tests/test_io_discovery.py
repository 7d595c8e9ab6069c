"""File discovery: only regular files are opened; what is skipped is listed with its reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
from dicom_factory import phantom_volume, write_ct_series

from ldct_viewer.io import load_series, scan


def _cli(*args, cache):
    env = {**os.environ, "LDCT_VIEWER_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "ldct_viewer", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=60)


def test_fifo_and_broken_links_are_skipped_not_opened(tmp_path):
    folder = tmp_path / "series"
    volume = phantom_volume(3)
    write_ct_series(folder, volume)
    os.mkfifo(folder / "zz.dcm")  # opening it for reading would block until a writer appears
    (folder / "loop1.dcm").symlink_to("loop2.dcm")
    (folder / "loop2.dcm").symlink_to("loop1.dcm")
    (folder / "dangling.dcm").symlink_to(tmp_path / "nowhere.dcm")

    result = _cli("info", folder, "--json", cache=tmp_path / "c")  # used to hang on the FIFO
    assert result.returncode == 0, result.stderr
    reasons = {os.path.basename(s["path"]): s["reason"] for s in __import__("json").loads(result.stdout)["skipped"]}
    assert reasons == {"zz.dcm": "not a regular file (a FIFO)", "loop1.dcm": "symbolic link loop",
                       "loop2.dcm": "symbolic link loop",
                       "dangling.dcm": f"dangling symbolic link (to {tmp_path / 'nowhere.dcm'})"}

    scanned = scan(folder)  # the symlink loop used to fail the whole folder
    assert len(scanned.series) == 1 and len(scanned.skipped) == 4
    assert np.array_equal(load_series(folder).volume(), volume)


def test_fifo_given_directly_is_skipped(tmp_path):
    os.mkfifo(tmp_path / "pipe.dcm")
    result = _cli("info", tmp_path / "pipe.dcm", cache=tmp_path / "c")
    assert result.returncode == 2
    assert "pipe.dcm: not a regular file (a FIFO)" in result.stdout
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_dicomdir_reference_to_a_missing_file_is_reported(tmp_path):
    from pydicom.fileset import FileSet

    paths = write_ct_series(tmp_path / "src", phantom_volume(3))
    fileset = FileSet()
    for path in paths:
        fileset.add(path)
    fileset.write(tmp_path / "media")
    shutil.rmtree(tmp_path / "src")
    images = sorted(p for p in (tmp_path / "media").rglob("IM*") if p.is_file())
    images[0].unlink()

    for given in (tmp_path / "media" / "DICOMDIR", tmp_path / "media"):
        result = scan(given)
        assert len(result.series) == 1 and len(result.series[0]) == 2
        assert [(s.path, s.reason) for s in result.skipped] == [
            (images[0], f"listed in DICOMDIR {tmp_path / 'media' / 'DICOMDIR'} but missing")]
    text = _cli("info", tmp_path / "media" / "DICOMDIR", cache=tmp_path / "c").stdout
    assert text.startswith("1 CT series, 1 file(s) skipped")
