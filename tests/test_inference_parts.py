"""Tile planning, the focus scheduler and the result cache on their own."""

import numpy as np
import pytest
import torch

from ldct_viewer.inference.cache import ResultCache, slice_key
from ldct_viewer.inference.scheduler import FocusScheduler
from ldct_viewer.inference.tiling import plan_tiles, run_tiled


@pytest.mark.parametrize("h,w,max_pixels", [(512, 512, None), (512, 512, 200_000), (1000, 700, 90_000),
                                             (64, 64, 2_500), (30, 900, 5_000)])
def test_tiles_cover_image_once_and_respect_budget(h, w, max_pixels):
    tiles = plan_tiles(h, w, 20, max_pixels)
    cover = np.zeros((h, w), int)
    for t in tiles:
        cover[t.y0:t.y1, t.x0:t.x1] += 1
        assert t.iy0 == max(0, t.y0 - 20) and t.iy1 == min(h, t.y1 + 20)
        assert t.ix0 == max(0, t.x0 - 20) and t.ix1 == min(w, t.x1 + 20)
        if max_pixels is not None:
            assert (t.iy1 - t.iy0) * (t.ix1 - t.ix0) <= max(max_pixels, 48 * 48)
    assert (cover == 1).all()
    assert (len(tiles) == 1) == (max_pixels is None or h * w <= max_pixels)


def test_run_tiled_is_exact_for_a_local_operator():
    # A 41x41 box sum has exactly the RED-CNN receptive field: the halo must make tiling exact.
    box = torch.nn.Conv2d(1, 1, 41, padding=20, bias=False).double()
    torch.nn.init.ones_(box.weight)
    x = torch.rand(1, 1, 130, 170, dtype=torch.float64)
    whole = box(x)
    tiled = run_tiled(box, x, halo=20, max_pixels=70 * 70)
    assert torch.allclose(tiled, whole, atol=1e-9)
    too_small_halo = run_tiled(box, x, halo=10, max_pixels=70 * 70)
    assert not torch.allclose(too_small_halo, whole)


def test_scheduler_order_and_refocus():
    s = FocusScheduler(10, focus=5)
    assert [s.next()[0] for _ in range(5)] == [5, 6, 4, 7, 3]
    s.set_focus(9)
    assert s.next(3) == [9, 8, 2]
    s.put_back([9])
    assert s.next()[0] == 9
    assert s.next() == [1] and s.next() == [0]
    assert s.next() == [] and s.remaining == 0 and s.done == 10


def test_scheduler_clamps_focus():
    s = FocusScheduler(4, focus=99)
    assert s.next(4) == [3, 2, 1, 0]
    assert FocusScheduler(0).next() == []


def test_slice_key_depends_on_content_and_shape():
    a = np.zeros((4, 6), np.float32)
    assert slice_key(a) == slice_key(a.copy())
    assert slice_key(a) != slice_key(a.reshape(6, 4))
    b = a.copy()
    b[2, 3] = 1e-3
    assert slice_key(a) != slice_key(b)
    assert slice_key(a.astype(np.float64)) == slice_key(a)


def test_memory_level_is_bounded_lru(tmp_path):
    cache = ResultCache("ab" * 32, memory_bytes=3 * 400, disk=False)
    arrays = {f"k{i}": np.full((10, 10), i, np.float32) for i in range(4)}  # 400 bytes each
    for k in ("k0", "k1", "k2"):
        cache.put(k, arrays[k].copy())
    assert cache.get("k0") is not None  # k0 becomes most recent
    cache.put("k3", arrays["k3"].copy())
    assert cache.get("k1") is None and cache.get("k0") is not None
    assert cache.memory_used <= 1200
    stored = cache.get("k3")
    assert not stored.flags.writeable


def test_disk_level_survives_and_prunes(tmp_path):
    root = tmp_path / "results"
    first = ResultCache("cd" * 32, disk=True, root=root)
    for i in range(3):
        first.put(f"key{i}", np.full((8, 8), i, np.float32))
    second = ResultCache("cd" * 32, disk=True, root=root)
    np.testing.assert_array_equal(second.get("key2"), np.full((8, 8), 2, np.float32))
    (second.folder / "broken.npy").write_bytes(b"not numpy")
    assert second.get("broken") is None
    second.disk_bytes = 2 * (8 * 8 * 4 + 128)
    (second.folder / "broken.npy").unlink()
    second.prune()
    assert len(list(root.rglob("*.npy"))) == 2


def test_scheduler_puts_the_slices_a_reformat_needs_first():
    """A coronal view zoomed onto slices 6..9 with the crosshair on 8: 8, then 9, 7, 6, then the rest outward from 8."""
    from ldct_viewer.inference.scheduler import FocusScheduler

    s = FocusScheduler(12, focus=0)
    s.set_focus(8, needed=(6, 9))
    order = [s.next()[0] for _ in range(12)]
    assert order[:4] == [8, 9, 7, 6]
    assert order[4:7] == [10, 11, 5]
    s2 = FocusScheduler(5, focus=2)
    s2.set_focus(2, needed=None)
    assert [s2.next()[0] for _ in range(5)] == [2, 3, 1, 4, 0]
