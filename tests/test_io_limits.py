"""Hostile headers: sizes and frame counts are checked against limits and the pixel data before decoding."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from dicom_factory import ct_dataset
from pydicom.uid import RLELossless, generate_uid

from ldct_viewer.io import scan


def _rle_file(path, **changes):
    ds = ct_dataset(np.zeros((8, 8)), position=(0.0, 0.0, 0.0), series_uid=generate_uid(), study_uid=generate_uid(),
                    frame_of_reference_uid=generate_uid())
    ds.compress(RLELossless)
    for key, value in changes.items():
        setattr(ds, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _info_with_memory(folder):
    """``ldct-viewer info`` in a child limited to 3 GiB of address space; (returncode, stderr, peak RSS MiB)."""
    # VmHWM (peak RSS of this process image), not ru_maxrss, which a child inherits from its parent
    code = ("import sys\nfrom ldct_viewer.cli import main\n"
            "try:\n    rc = main(['info', sys.argv[1]])\nfinally:\n"
            "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "    print('PEAK', int(hwm) // 1024, file=sys.stderr)\n"
            "sys.exit(rc)\n")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60,
                          preexec_fn=limit, env={**os.environ, "LDCT_VIEWER_CACHE": str(folder / ".cache")})
    peak = int(proc.stderr.split("PEAK", 1)[1].split()[0]) if "PEAK" in proc.stderr else -1
    return proc.returncode, proc.stdout + proc.stderr, peak


@pytest.mark.parametrize("changes, reason", [
    ({"Rows": 65535, "Columns": 65535}, "image size 65535x65535 exceeds the limit"),
    ({"Rows": 8000, "Columns": 8000}, "RLE data of"),
    ({"NumberOfFrames": 20_000_000}, "NumberOfFrames 20000000 is outside 1..65536"),
    ({"NumberOfFrames": 60_000}, "NumberOfFrames 60000 but the pixel data holds only 1 fragment(s)"),
])
def test_hostile_sizes_are_refused_before_decoding(tmp_path, changes, reason):
    bad = _rle_file(tmp_path / "in" / "bad.dcm", **changes)
    assert bad.stat().st_size < 2000
    rc, output, peak = _info_with_memory(tmp_path / "in")
    assert rc == 2, output
    assert f"bad.dcm: {reason}" in output
    assert "Traceback" not in output
    assert 0 < peak < 300  # MiB; the 65535² file used to take 8.4 GB before failing


def test_a_compressed_file_larger_than_memory_when_decoded_is_refused(tmp_path):
    """Frames within the limits, each in its own fragment, but more than the machine could decode at once."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless

    from ldct_viewer.memory import available_memory

    have = available_memory()
    frames = 65536
    if have is None or frames * 8192 * 8192 * 2 <= have:
        pytest.skip("this machine could decode it")
    ds = ct_dataset(np.zeros((8, 8)), position=(0.0, 0.0, 0.0), series_uid=generate_uid(), study_uid=generate_uid(),
                    frame_of_reference_uid=generate_uid(), transfer_syntax=JPEG2000Lossless)
    ds.Rows = ds.Columns = 8192
    ds.NumberOfFrames = frames
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(8)] * frames)
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "big.dcm", enforce_file_format=True)
    result = scan(tmp_path)
    assert not result.series
    assert result.skipped[0].reason.startswith(f"decoding {frames} frame(s) of 8192x8192 needs 8192.0 GiB")


def test_limits_leave_a_good_rle_file_alone(tmp_path):
    _rle_file(tmp_path / "ok.dcm")
    result = scan(tmp_path)
    assert len(result.series) == 1 and not result.skipped
    assert result.series[0].slice(0).shape == (8, 8)
