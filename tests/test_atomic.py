"""The one atomic writer: fresh private temp names, never through a planted symlink, never over a name."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from ldct_viewer.atomic import atomic_folder, atomic_write_bytes, atomic_write_text
from ldct_viewer.errors import InputError
from ldct_viewer.export import write_png

ROOT = Path(__file__).resolve().parents[1]


def test_png_export_does_not_follow_a_symlink_planted_at_a_temp_name(tmp_path):
    victim = tmp_path / "elsewhere" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(b"user data")
    out = tmp_path / "out"
    out.mkdir()
    # the name the old writer used for its temporary file, predictable from the process id
    (out / f".slice_0001.png.{os.getpid()}.tmp").symlink_to(victim)
    path = write_png(out / "slice_0001.png", np.zeros((4, 4, 3), np.uint8), {"a": "b"})
    assert victim.read_bytes() == b"user data"
    assert not path.is_symlink() and path.is_file()
    assert path.read_bytes().startswith(b"\x89PNG")


def test_no_overwrite_refuses_a_dangling_symlink_and_leaves_no_temp(tmp_path):
    target = tmp_path / "slice_0001.png"
    target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="exists already"):
        write_png(target, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"x", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slice_0001.png"]
    assert not (tmp_path / "nowhere").exists()


def test_replace_and_mode_follow_umask(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    atomic_write_text(path, "new\r\n")
    assert path.read_bytes() == b"new\r\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_failed_folder_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "series") as temp:
            (temp / "a").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_every_writer_uses_the_one_helper():
    """No second temp-then-rename writer: renames and temp names live in ldct_viewer/atomic.py only."""
    pattern = re.compile(r"os\.replace\(|os\.rename\(|\.rename\(|\.replace\(tmp|mkstemp\(|mkdtemp\(|\.tmp\b")
    offenders = []
    for folder in ("ldct_viewer", "trainer"):
        for file in sorted((ROOT / folder).rglob("*.py")):
            if file.name == "atomic.py":
                continue
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{file.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_new_folder_check_refuses_a_symlink_and_a_non_empty_folder(tmp_path):
    from ldct_viewer.atomic import require_new_folder

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="is a symbolic link"):
        require_new_folder(tmp_path / "link")
    (tmp_path / "real" / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="exists and is not empty"):
        require_new_folder(tmp_path / "real")
    assert require_new_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing
