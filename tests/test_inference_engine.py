"""Engine: agreement with the reference model, tiling, caching, order, cancellation, OOM recovery."""

import threading

import numpy as np
import pytest
import torch

from ldct_viewer.errors import InputError
from ldct_viewer.inference import Engine
from ldct_viewer.inference.fast_redcnn import FastREDCNN
from ldct_viewer.model import REDCNN, Normalization, load_checkpoint, save_checkpoint


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LDCT_VIEWER_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, REDCNN(width=8), mode="mse", normalization=Normalization(),
                    config={}, data={"source": "test"})
    return load_checkpoint(path)


def _slices(n=3, h=72, w=64, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    body = np.where((yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (h / 3) ** 2, 40.0, -1000.0)
    return (body + rng.normal(0, 30, (n, h, w))).astype(np.float32)


def _reference(ckpt, hu):
    with torch.no_grad():
        x = ckpt.normalization.to_model(torch.from_numpy(hu)[:, None])
        return ckpt.normalization.to_hu(ckpt.model(x))[:, 0].numpy()


def test_fast_model_matches_reference_redcnn():
    torch.manual_seed(3)
    model = REDCNN(width=8).eval()
    x = torch.rand(2, 1, 60, 52)
    with torch.no_grad():
        for channels_last in (True, False):
            assert torch.allclose(FastREDCNN(model, channels_last)(x.clone()), model(x), atol=1e-5)


def test_denoise_matches_model_and_keeps_shape(checkpoint):
    hu = _slices()
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    out = engine.denoise(hu)
    assert out.shape == hu.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(checkpoint, hu), atol=1e-2)
    single = engine.denoise(hu[1])
    assert single.shape == hu[1].shape
    np.testing.assert_array_equal(single, out[1])
    assert engine.device_description.startswith("CPU, ")


def test_tiled_equals_untiled(checkpoint):
    hu = _slices(n=2, h=150, w=131, seed=1)
    untiled = Engine(checkpoint, device="cpu", disk_cache=False).denoise(hu)
    tiled_engine = Engine(checkpoint, device="cpu", disk_cache=False, max_tile_pixels=60 * 60)
    tiled = tiled_engine.denoise(hu)
    scale = checkpoint.normalization.scale
    assert np.abs(tiled - untiled).max() / scale < 1e-4


def test_images_smaller_than_receptive_field(checkpoint):
    hu = _slices(n=1, h=30, w=17)
    out = Engine(checkpoint, device="cpu", disk_cache=False).denoise(hu)
    assert out.shape == hu.shape and np.isfinite(out).all()


def test_second_call_is_served_from_memory_cache(checkpoint):
    hu = _slices()
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    first = engine.denoise(hu)
    calls = engine.stats.forward_calls
    second = engine.denoise(hu)
    assert engine.stats.forward_calls == calls and engine.stats.cache_hits == len(hu)
    np.testing.assert_array_equal(first, second)
    modified = hu.copy()
    modified[0, 0, 0] += 1.0  # different content → different key → computed again
    engine.denoise(modified[:1])
    assert engine.stats.forward_calls == calls + 1


def test_disk_cache_serves_a_new_engine(checkpoint, tmp_path):
    hu = _slices()
    first = Engine(checkpoint, device="cpu").denoise(hu)
    files = list((tmp_path / "cache" / "results").rglob("*.npy"))
    assert len(files) == len(hu)
    assert not list((tmp_path / "cache" / "results").rglob("*.tmp"))
    fresh = Engine(checkpoint, device="cpu")
    np.testing.assert_array_equal(fresh.denoise(hu), first)
    assert fresh.stats.forward_calls == 0 and fresh.stats.cache_hits == len(hu)


def test_other_checkpoint_does_not_share_results(checkpoint, tmp_path):
    hu = _slices(n=1)
    Engine(checkpoint, device="cpu").denoise(hu)
    torch.manual_seed(9)
    save_checkpoint(tmp_path / "other.pt", REDCNN(width=8), mode="wgan-gp",
                    normalization=Normalization(), config={}, data={})
    other = Engine(load_checkpoint(tmp_path / "other.pt"), device="cpu")
    other.denoise(hu)
    assert other.stats.forward_calls == 1


def _expected_order(n, focus):
    return sorted(range(n), key=lambda i: (abs(i - focus), 0 if i >= focus else 1))


def test_run_yields_focus_first_then_outward(checkpoint):
    hu = _slices(n=10, h=48, w=48)
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    order = [i for i, _ in engine.run(lambda i: hu[i], 10, focus=5)]
    assert order == [5, 6, 4, 7, 3, 8, 2, 9, 1, 0] == _expected_order(10, 5)


def test_set_focus_from_another_thread_reorders_remaining_work(checkpoint):
    hu = _slices(n=10, h=48, w=48)
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    order, progress = [], []
    for i, _ in engine.run(lambda i: hu[i], 10, focus=5, progress=lambda d, n: progress.append((d, n))):
        order.append(i)
        if len(order) == 2:
            mover = threading.Thread(target=engine.set_focus, args=(1,))
            mover.start()
            mover.join()
    assert order[:2] == [5, 6]
    assert order[2:] == [1, 2, 0, 3, 4, 7, 8, 9]
    assert progress == [(d, 10) for d in range(1, 11)]



def test_cached_answers_from_the_cache_without_computing(checkpoint):
    hu = _slices(n=2)
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    assert engine.cached(hu[0]) is None and engine.stats.forward_calls == 0
    out = engine.denoise(hu[0])
    calls = engine.stats.forward_calls
    np.testing.assert_array_equal(engine.cached(hu[0]), out)
    assert engine.cached(hu[1]) is None and engine.stats.forward_calls == calls


def test_a_second_concurrent_run_does_not_take_over_the_focus(checkpoint):
    hu = _slices(n=10, h=48, w=48)
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    order = []
    for i, _ in engine.run(lambda i: hu[i], 10, focus=5):
        order.append(i)
        if len(order) == 2:  # e.g. an export denoising another slice meanwhile
            engine.denoise(hu[0] + 1.0)
            engine.set_focus(1)
    assert order[2:] == [1, 2, 0, 3, 4, 7, 8, 9]

def test_cancel_stops_at_slice_boundary(checkpoint):
    hu = _slices(n=8, h=48, w=48)
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    cancel = threading.Event()
    got = []
    for i, _ in engine.run(lambda i: hu[i], 8, focus=0, cancel=cancel):
        got.append(i)
        if len(got) == 3:
            cancel.set()
    assert got == [0, 1, 2] and engine.stats.slices_computed == 3

    cancel_first = threading.Event()
    cancel_first.set()
    assert list(engine.run(lambda i: hu[i], 8, cancel=cancel_first)) == []


class _OomAbove(torch.nn.Module):
    """Wraps the fast net and raises an out-of-memory error for inputs above a size."""

    def __init__(self, net, max_batch, max_pixels):
        super().__init__()
        self.net, self.max_batch, self.max_pixels = net, max_batch, max_pixels
        self.calls = []

    def forward(self, x):
        self.calls.append(tuple(x.shape))
        if x.shape[0] > self.max_batch or x.shape[-1] * x.shape[-2] > self.max_pixels:
            raise torch.OutOfMemoryError("simulated out of memory")
        return self.net(x)


def test_out_of_memory_halves_batch_then_tiles(checkpoint):
    hu = _slices(n=4, h=96, w=96)
    reference = Engine(checkpoint, device="cpu", disk_cache=False).denoise(hu)
    engine = Engine(checkpoint, device="cpu", batch_size=4, disk_cache=False)
    engine._net = _OomAbove(engine._net, max_batch=1, max_pixels=70 * 70)
    out = engine.denoise(hu)
    assert engine.stats.oom_recoveries >= 3
    assert any(shape[0] == 2 for shape in engine._net.calls)  # batch halved first
    assert any(shape[-1] * shape[-2] <= 70 * 70 for shape in engine._net.calls)  # then tiled
    assert np.abs(out - reference).max() / checkpoint.normalization.scale < 1e-4


def test_out_of_memory_at_smallest_tile_on_cpu_is_reported(checkpoint):
    engine = Engine(checkpoint, device="cpu", disk_cache=False)
    engine._net = _OomAbove(engine._net, max_batch=0, max_pixels=0)
    with pytest.raises(MemoryError):
        engine.denoise(_slices(n=1, h=64, w=64))


def test_missing_forced_device_is_a_user_error(checkpoint):
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            Engine(checkpoint, device="cuda")
    with pytest.raises(InputError, match="unknown device"):
        Engine(checkpoint, device="tpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_mixed_precision_within_2_hu_of_fp32(checkpoint, tmp_path):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "wide.pt", REDCNN(width=96), mode="mse", normalization=Normalization(),
                    config={}, data={})
    wide = load_checkpoint(tmp_path / "wide.pt")
    hu = _slices(n=4, h=256, w=256)
    fp32 = Engine(wide, device="cpu", disk_cache=False).denoise(hu)
    for precision in ("fp16", "bf16"):
        gpu = Engine(wide, device="cuda", disk_cache=False, precision=precision)
        out = gpu.denoise(hu)
        rmse = float(np.sqrt(np.mean((out - fp32) ** 2)))
        assert rmse <= 2.0, (precision, rmse)


def test_pipelined_run_overlaps_reading_and_keeps_results(checkpoint):
    # The GPU mode (read/hash the next batch while this one computes), exercised on the CPU.
    hu = _slices(n=7, h=48, w=48, seed=4)
    expected = Engine(checkpoint, device="cpu", disk_cache=False).denoise(hu)
    engine = Engine(checkpoint, device="cpu", batch_size=2, disk_cache=False)
    engine._pipeline = True
    got = dict(engine.run(lambda i: hu[i], 7, focus=3))
    assert sorted(got) == list(range(7)) and engine.stats.forward_calls == 4
    for i in range(7):
        np.testing.assert_array_equal(got[i], expected[i])

    fresh = Engine(checkpoint, device="cpu", batch_size=2, disk_cache=False)
    fresh._pipeline = True
    cancel = threading.Event()
    seen = []
    for i, _ in fresh.run(lambda i: hu[i], 7, focus=0, cancel=cancel):
        seen.append(i)
        cancel.set()
    assert seen == [0]
    assert fresh.stats.slices_computed <= 4  # at most the batch in flight finished after cancel
