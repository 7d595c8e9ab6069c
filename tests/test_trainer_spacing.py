"""resample_in_plane: a scan stored at another display pixel spacing keeps its anatomy's size in mm."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.data.spacing import resample_in_plane


def disc(n: int, pixel_mm: float, radius_mm: float) -> np.ndarray:
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2.0) * pixel_mm
    return np.where(xx**2 + yy**2 < radius_mm**2, 40.0, -1000.0).astype(np.float32)[None]


@pytest.mark.parametrize("to_mm", [0.5, 0.7, 1.0])
def test_anatomy_keeps_its_size_in_mm(to_mm):
    src = disc(200, 0.9, 60.0)
    out = resample_in_plane(src, 0.9, to_mm)
    assert out.dtype == np.float32 and out.shape[1] == round(200 * 0.9 / to_mm)
    area_mm2 = float((out[0] > -480).sum()) * to_mm**2
    assert area_mm2 == pytest.approx(np.pi * 60.0**2, rel=0.03)
    assert float(out[0][out[0] > -480].mean()) == pytest.approx(40.0, abs=15.0)


def test_identity_and_centred_crop():
    src = disc(64, 0.8, 20.0)
    np.testing.assert_array_equal(resample_in_plane(src, 0.8, 0.8), src)
    big = disc(400, 1.0, 100.0)
    out = resample_in_plane(big, 1.0, 0.5)  # 800 px at 0.5 mm: the central 512 px (256 mm) kept
    assert out.shape == (1, 512, 512)
    assert float((out[0] > -480).sum()) * 0.25 == pytest.approx(np.pi * 100.0**2, rel=0.03)  # disc fits whole
    np.testing.assert_allclose(out[0], out[0][::-1, ::-1], atol=1e-3)  # still centred
    with pytest.raises(ValueError):
        resample_in_plane(src, 0.0, 0.5)
