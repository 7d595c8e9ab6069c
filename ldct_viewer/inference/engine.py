"""The inference engine shared by the viewer and ``ldct-viewer denoise``.

It turns HU slices into denoised HU slices with one checkpoint of any registered architecture
(the halo, tile alignment and memory estimate come from the network itself): focus-first order, cancellable at
slice boundaries, cached by (checkpoint hash, slice hash), batched and mixed-precision on CUDA,
tiled when a slice's activations would not fit the memory budget, and falling back from an
out-of-memory error to a smaller batch, then smaller tiles, then the CPU instead of crashing.
No Qt: the GUI runs :meth:`Engine.run` in a worker thread and calls :meth:`Engine.set_focus`.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ldct_viewer.inference.cache import DEFAULT_MEMORY_BYTES, ResultCache, slice_key
from ldct_viewer.inference.device import choose_device, describe_device, prepare_device
from ldct_viewer.inference.fast_redcnn import FastREDCNN
from ldct_viewer.inference.scheduler import FocusScheduler
from ldct_viewer.inference.tiling import run_tiled
from ldct_viewer.model.checkpoint import Checkpoint
from ldct_viewer.model.redcnn import REDCNN

CPU_ACTIVATION_BUDGET = 768 * 1024**2  # keeps one 512² slice at width 96 untiled, under 1.5 GB RSS
GPU_BUDGET_FRACTION = 0.6
MAX_GPU_BATCH = 32
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


@dataclass
class EngineStats:
    """Counters for callers and tests: how much work was done and how much the cache saved."""

    forward_calls: int = 0
    slices_computed: int = 0
    cache_hits: int = 0
    oom_recoveries: int = 0


def _is_oom(err: BaseException) -> bool:
    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(err)  # CPU and MPS allocators raise plain RuntimeErrors
    return isinstance(err, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)


class Engine:
    """Denoise HU slices with a loaded :class:`~ldct_viewer.model.Checkpoint`."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        device: str = "auto",
        batch_size: int | None = None,
        disk_cache: bool = True,
        *,
        precision: str = "auto",
        max_tile_pixels: int | None = None,
        memory_cache_bytes: int = DEFAULT_MEMORY_BYTES,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.checkpoint = checkpoint
        self.normalization = checkpoint.normalization
        self.halo = checkpoint.model.halo
        self.align = getattr(checkpoint.model, "align", 1)  # tile origins for exact tiling (U-Net's pooling grid)
        self.stats = EngineStats()
        self.cache = ResultCache(checkpoint.sha256, memory_bytes=memory_cache_bytes, disk=disk_cache)
        self._requested_precision = precision
        self._user_batch = batch_size
        self._user_tile_pixels = max_tile_pixels
        self._oom_batch_cap: int | None = None
        self._oom_tile_pixels: int | None = None
        self._scheduler: FocusScheduler | None = None
        self._compute_lock = threading.Lock()
        self._pipeline: bool | None = None  # None: overlap reading with compute on GPUs only
        self._use_device(choose_device(device))

    # -- device and model -------------------------------------------------------------------
    def _use_device(self, device: torch.device) -> None:
        prepare_device(device)
        self.device = device
        if device.type == "cuda":
            wanted = "fp16" if self._requested_precision == "auto" else self._requested_precision
        elif device.type == "cpu":
            wanted = "fp32"  # reduced precision pays off on CPUs only with AMX; keep results exact
        else:
            wanted = "fp32" if self._requested_precision == "auto" else self._requested_precision
        self.precision = wanted
        model = self.checkpoint.model
        if isinstance(model, REDCNN):
            self._net = FastREDCNN(model, channels_last=True).to(device).eval()
        else:  # other architectures run as they are
            self._net = model.to(device).eval()
        self._budget = self._measure_activation_budget()

    @property
    def _pipelined(self) -> bool:
        return self.device.type != "cpu" if self._pipeline is None else self._pipeline

    @property
    def device_description(self) -> str:
        return describe_device(self.device, self.precision)

    def _autocast(self, precision: str):
        if precision == "fp32" or self.device.type == "cpu":
            return contextlib.nullcontext()
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def _measure_activation_budget(self) -> int:
        """Bytes the activations may use, fixed when the device is chosen.

        Measured once: later, PyTorch's caching allocator holds freed blocks, which the driver
        no longer reports as free although they are ours to reuse.
        """
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            reusable = torch.cuda.memory_reserved(self.device) - torch.cuda.memory_allocated(self.device)
            return int((free + reusable) * GPU_BUDGET_FRACTION)
        return CPU_ACTIVATION_BUDGET

    def _activation_budget(self) -> int:
        return self._budget

    def _bytes_per_pixel(self) -> int:
        """Activation memory per pixel, as each architecture estimates its own peak."""
        return int(self.checkpoint.model.activation_bytes_per_pixel())

    def _batch_cap(self, shape: tuple[int, int]) -> int:
        if self._user_batch is not None:
            cap = self._user_batch
        elif self.device.type == "cpu":
            cap = 1  # one slice already uses every core; batching only delays the focus slice
        else:
            per_slice = self._bytes_per_pixel() * shape[0] * shape[1]
            cap = int(min(MAX_GPU_BATCH, max(1, self._activation_budget() // max(per_slice, 1))))
        if self._oom_batch_cap is not None:
            cap = min(cap, self._oom_batch_cap)
        return max(1, cap)

    def _tile_pixels(self, batch: int) -> int:
        if self._user_tile_pixels is not None:
            limit = self._user_tile_pixels
        else:
            limit = self._activation_budget() // (self._bytes_per_pixel() * batch)
        if self._oom_tile_pixels is not None:
            limit = min(limit, self._oom_tile_pixels)
        return max(1, int(limit))

    # -- computation -------------------------------------------------------------------------
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """``[B, H, W]`` HU → denoised ``[B, H, W]`` HU on the current device (may raise OOM)."""
        self.stats.forward_calls += 1
        x = torch.from_numpy(batch).to(self.device, non_blocking=True).unsqueeze(1)
        x = self.normalization.to_model(x)
        height, width = x.shape[-2:]
        min_side = 2 * self.halo + 1
        pad_h, pad_w = max(0, min_side - height), max(0, min_side - width)
        if pad_h or pad_w:  # smaller than the receptive field: replicate edges, crop afterwards
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        tile_pixels = self._tile_pixels(len(batch))
        with torch.inference_mode():
            with self._autocast(self.precision):
                y = run_tiled(self._net, x, self.halo, tile_pixels, self.align)
            if self.precision != "fp32" and not bool(torch.isfinite(y).all()):
                y = run_tiled(self._net, x, self.halo, tile_pixels, self.align)  # fp16 overflow: redo in fp32
            y = self.normalization.to_hu(y.float())[:, 0, :height, :width]
        return y.to("cpu").numpy()

    def _recover_from_oom(self, batch_len: int, shape: tuple[int, int]) -> None:
        self.stats.oom_recoveries += 1
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        min_tile = (2 * self.halo + 8) ** 2
        if batch_len > 1:
            self._oom_batch_cap = max(1, batch_len // 2)
            return
        current = min(self._tile_pixels(1), shape[0] * shape[1])
        if current > min_tile:
            self._oom_tile_pixels = max(min_tile, current // 2)
            return
        if self.device.type != "cpu":
            self._oom_batch_cap = None
            self._oom_tile_pixels = None
            self._use_device(torch.device("cpu"))
            return
        raise MemoryError(f"out of memory even for {min_tile}-pixel tiles on the CPU")

    def _compute(self, batch: np.ndarray) -> np.ndarray:
        """Forward with out-of-memory recovery: halve the batch, then the tiles, then use the CPU."""
        try:
            return self._forward(batch)
        except Exception as err:  # noqa: BLE001 - only out-of-memory errors are handled
            if not _is_oom(err):
                raise
        # Leaving the except block dropped the traceback and, with it, the failed batch's tensors.
        self._recover_from_oom(len(batch), batch.shape[-2:])
        if len(batch) > 1:
            half = len(batch) // 2
            return np.concatenate([self._compute(batch[:half]), self._compute(batch[half:])])
        return self._compute(batch)

    # -- public API --------------------------------------------------------------------------
    def set_focus(self, i: int, needed: tuple[int, int] | None = None) -> None:
        """Re-prioritise the running :meth:`run` around slice ``i``, slices ``needed`` (a range a
        reformat on screen shows) first (any thread)."""
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.set_focus(i, needed)

    def run(
        self,
        get_slice: Callable[[int], np.ndarray],
        n: int,
        *,
        focus: int = 0,
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
        needed: tuple[int, int] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, denoised HU)`` for slices ``0..n-1``, focus first, then outward.

        ``get_slice(i)`` returns float32 HU ``[H, W]``. The yielded arrays are read-only (they
        live in the cache). ``cancel`` is checked at every slice boundary; ``progress(done, n)``
        is called after each yielded slice; ``needed`` (an inclusive range) goes before the other
        slices (``FocusScheduler.set_focus``). On a GPU the next batch is read and hashed while the
        current one computes (so a new focus takes effect one batch later there).
        """
        scheduler = FocusScheduler(n, focus)
        scheduler.set_focus(focus, needed)
        if self._scheduler is None:  # a concurrent run (an export's denoise) leaves set_focus to the first
            self._scheduler = scheduler
        picker = _BatchPicker(self, scheduler, get_slice)
        executor = ThreadPoolExecutor(max_workers=1) if self._pipelined else None
        in_flight: tuple[Future, list[tuple[int, np.ndarray, str]]] | None = None
        done = 0

        def cancelled() -> bool:
            return cancel is not None and cancel.is_set()

        def compute(todo: list[tuple[int, np.ndarray, str]]) -> np.ndarray:
            with self._compute_lock:
                return self._compute(np.stack([item[1] for item in todo]))

        def store(todo, results) -> list[tuple[int, np.ndarray]]:
            self.stats.slices_computed += len(todo)
            return [(i, self.cache.put(key, res)) for (i, _, key), res in zip(todo, results)]

        try:
            while True:
                batch = None if cancelled() else picker.next_batch()
                finished: list[tuple[int, np.ndarray]] = []
                if in_flight is not None:
                    future, flying = in_flight
                    in_flight = None
                    finished = store(flying, future.result())
                if batch is not None:
                    hits, todo = batch
                    finished += hits
                    if todo and executor is not None:
                        in_flight = (executor.submit(compute, todo), todo)
                    elif todo:
                        finished += store(todo, compute(todo))
                finished.sort(key=lambda item: scheduler.rank(item[0]))
                for i, result in finished:
                    if cancelled():
                        return
                    done += 1
                    yield i, result
                    if progress is not None:
                        progress(done, n)
                if batch is None and in_flight is None:
                    return
        finally:
            if in_flight is not None:  # closed or cancelled mid-batch: let the GPU work finish
                try:
                    store(in_flight[1], in_flight[0].result())
                except Exception:  # noqa: BLE001 - the caller is gone; nothing to report to
                    pass
            if executor is not None:
                executor.shutdown(wait=True)
            if self._scheduler is scheduler:
                self._scheduler = None

    def cached(self, hu: np.ndarray) -> np.ndarray | None:
        """The denoised ``[H, W]`` slice if this engine has already computed it (read-only), else None.

        Never computes: the viewer shows and exports what the cache holds, one store for results.
        """
        return self.cache.get(slice_key(hu))

    def denoise(
        self, hu: np.ndarray, *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Denoise ``[H, W]`` or ``[N, H, W]`` float32 HU synchronously; same shape out."""
        arr = np.asarray(hu, dtype=np.float32)
        if arr.ndim == 2:
            return self.denoise(arr[None], progress=progress)[0]
        if arr.ndim != 3:
            raise ValueError(f"expected [H, W] or [N, H, W] HU, got shape {arr.shape}")
        out = np.empty_like(arr)
        for i, result in self.run(lambda i: arr[i], len(arr), progress=progress):
            out[i] = result
        return out


class _BatchPicker:
    """Takes the next slices in priority order, splitting cache hits from work to do."""

    def __init__(self, engine: Engine, scheduler: FocusScheduler, get_slice: Callable[[int], np.ndarray]):
        self.engine = engine
        self.scheduler = scheduler
        self.get_slice = get_slice
        self.held: dict[int, tuple[np.ndarray, str]] = {}  # read, but of another shape than its batch

    def load(self, i: int) -> tuple[np.ndarray, str]:
        if i in self.held:
            return self.held.pop(i)
        hu = np.ascontiguousarray(self.get_slice(i), dtype=np.float32)
        if hu.ndim != 2:
            raise ValueError(f"slice {i} has shape {hu.shape}, expected [H, W]")
        return hu, slice_key(hu)

    def next_batch(self):
        """``(hits, todo)`` for up to one batch of equal-shaped slices, or ``None`` when all are taken."""
        picked = self.scheduler.next()
        if not picked:
            return None
        hu, key = self.load(picked[0])
        batch = [(picked[0], hu, key)]
        cap = self.engine._batch_cap(hu.shape)
        while len(batch) < cap:
            more = self.scheduler.next()
            if not more:
                break
            hu_j, key_j = self.load(more[0])
            if hu_j.shape != hu.shape:  # batch only equal shapes; keep this one for later
                self.held[more[0]] = (hu_j, key_j)
                self.scheduler.put_back(more)
                break
            batch.append((more[0], hu_j, key_j))
        hits, todo = [], []
        for i, hu_i, key_i in batch:
            cached = self.engine.cache.get(key_i)
            if cached is not None:
                self.engine.stats.cache_hits += 1
                hits.append((i, cached))
            else:
                todo.append((i, hu_i, key_i))
        return hits, todo
