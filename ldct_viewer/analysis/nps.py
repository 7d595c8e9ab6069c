"""Noise texture: noise power spectrum (NPS) in flat regions, and how far an image's
high-frequency power is from the normal-dose reference's.

Why: RMSE rewards smoothing. An MSE-trained denoiser removes noise *and* the fine grain a reader
expects from a normal-dose scan; an adversarially trained one keeps a grain that looks like NDCT.
The NPS in flat (structure-free) regions measures that grain, and its high-frequency part is where
over-smoothing shows.

Recipe (as in CT image-quality practice, e.g. AAPM TG-233, simplified to one image):
1. tile the image into ``roi_size`` squares; keep the tiles where the *reference* is flat (the
   reference smoothed with a Gaussian of ``flat_sigma`` px varies by at most ``flat_max_std`` HU)
   and is not air (mean above ``min_hu``);
2. in each kept tile subtract the local mean (Gaussian of ``detrend_sigma`` px), which removes
   residual low-frequency structure, then NPS = |FFT|^2 * dy * dx / (h * w), averaged over tiles;
3. average it over rings of equal radial frequency.

``high_frequency_texture_distance`` compares two images over the same tiles: the mean over the
radial bins in ``band`` (cycles/pixel, default 0.25..0.5, the upper half up to Nyquist) of
|10 log10(NPS_image / NPS_reference)|, in dB. 0 dB = the same high-frequency grain; an
over-smoothed image shows a large distance because its high-frequency power collapses.
``high_frequency_power_ratio`` is the same mean without the absolute value: it says which way an
image is off, negative = smoother than the reference (over-smoothed), positive = grainier
(noise left in). The distance alone cannot tell those apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ldct_viewer.analysis.metrics import gaussian_filter

DEFAULT_ROI = 32
DEFAULT_BAND = (0.25, 0.5)


@dataclass(frozen=True)
class Spectrum:
    """A radially averaged NPS: ``frequency`` in cycles/mm (bin centres), ``power`` in HU^2 mm^2."""

    frequency: np.ndarray
    power: np.ndarray
    rois: int


def _as_stack(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"expected a [H, W] image or a [Z, H, W] stack, got shape {a.shape}")
    return a


def flat_rois(
    reference: np.ndarray,
    roi_size: int = DEFAULT_ROI,
    *,
    flat_sigma: float = 2.0,
    flat_max_std: float = 8.0,
    min_hu: float = -900.0,
    stride: int | None = None,
) -> list[tuple[int, int, int]]:
    """(slice, row, col) corners of the ``roi_size`` tiles where ``reference`` has no structure
    (and is not air); [] when there are none.

    ``stride`` None (the default) tiles the image on a fixed ``roi_size`` grid. A smaller ``stride``
    searches tiles at every ``stride`` pixels and keeps, in raster order, each flat one that overlaps
    none kept before: on uniform tissue that is the grid, and between organs the tiles shift to fit.

    Flatness is judged on the smoothed reference so that its own noise does not disqualify a tile.
    There is deliberately no "least-structured tiles" fallback: a structured tile's edges carry far
    more power than any grain, so every image would read ~0 dB from NDCT there (pooled over training
    patches, such tiles once made the LDCT input itself read 0.2 dB from NDCT instead of +2..+14).
    Callers report "not measurable" instead.
    """
    ref = _as_stack(reference)
    z, h, w = ref.shape
    if h < roi_size or w < roi_size:
        raise ValueError(f"image {h}x{w} is smaller than one {roi_size}x{roi_size} ROI")
    smooth = gaussian_filter(ref, sigma=flat_sigma)
    if stride is not None and stride < roi_size:
        return _packed_flat_rois(ref, smooth, roi_size, int(stride), flat_max_std, min_hu)
    flat: list[tuple[int, int, int]] = []
    for k in range(z):
        for y in range(0, h - roi_size + 1, roi_size):
            for x in range(0, w - roi_size + 1, roi_size):
                if (ref[k, y : y + roi_size, x : x + roi_size].mean() > min_hu
                        and smooth[k, y : y + roi_size, x : x + roi_size].std() <= flat_max_std):
                    flat.append((k, y, x))
    return flat


def _box_sums(a: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Sums of ``a`` ([H, W]) over every ``size`` square whose corner lies on the ``stride`` grid."""
    integral = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    integral[1:, 1:] = a.cumsum(0).cumsum(1)
    ys = np.arange(0, a.shape[0] - size + 1, stride)
    xs = np.arange(0, a.shape[1] - size + 1, stride)
    y0, x0 = ys[:, None], xs[None, :]
    return integral[y0 + size, x0 + size] - integral[y0, x0 + size] - integral[y0 + size, x0] + integral[y0, x0]


def _packed_flat_rois(ref: np.ndarray, smooth: np.ndarray, roi: int, stride: int, flat_max_std: float,
                      min_hu: float) -> list[tuple[int, int, int]]:
    """Disjoint flat tiles from candidates every ``stride`` pixels, taken in raster order (see ``flat_rois``)."""
    n = roi * roi
    flat: list[tuple[int, int, int]] = []
    for k in range(ref.shape[0]):
        mean = _box_sums(ref[k], roi, stride) / n
        s_mean = _box_sums(smooth[k], roi, stride) / n
        s_var = np.maximum(_box_sums(smooth[k] ** 2, roi, stride) / n - s_mean ** 2, 0.0)
        ok = (mean > min_hu) & (np.sqrt(s_var) <= flat_max_std)
        rows, cols = np.nonzero(ok)  # raster order: on uniform tissue this packs as tightly as a grid
        taken = np.zeros(ref.shape[1:], dtype=bool)
        chosen = []
        for r, c in zip(rows, cols):
            y, x = int(r) * stride, int(c) * stride
            if not taken[y : y + roi, x : x + roi].any():
                taken[y : y + roi, x : x + roi] = True
                chosen.append((k, y, x))
        flat.extend(sorted(chosen))
    return flat


def _roi_power(tiles: np.ndarray, detrend_sigma: float) -> np.ndarray:
    """Mean 2-D power spectrum of the tiles' high-pass residuals, DC at the centre, per pixel^2."""
    residual = tiles - gaussian_filter(tiles, sigma=detrend_sigma)
    residual -= residual.mean(axis=(-2, -1), keepdims=True)
    n = tiles.shape[-1] * tiles.shape[-2]
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(residual), axes=(-2, -1))) ** 2 / n
    return spectrum.mean(axis=0)


def _radial_average(power2d: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Average over rings; returns (frequency in cycles/pixel, power), up to Nyquist."""
    h, w = power2d.shape
    fy = np.fft.fftshift(np.fft.fftfreq(h))
    fx = np.fft.fftshift(np.fft.fftfreq(w))
    radius = np.hypot(*np.meshgrid(fy, fx, indexing="ij"))
    edges = np.linspace(0.0, 0.5, bins + 1)
    which = np.digitize(radius.ravel(), edges) - 1
    keep = (which >= 0) & (which < bins)
    sums = np.bincount(which[keep], weights=power2d.ravel()[keep], minlength=bins)
    counts = np.bincount(which[keep], minlength=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        return centres, np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _tiles(image: np.ndarray, corners: list[tuple[int, int, int]], roi_size: int) -> np.ndarray:
    stack = _as_stack(image)
    return np.stack([stack[k, y : y + roi_size, x : x + roi_size] for k, y, x in corners])


def noise_power_spectrum(
    image: np.ndarray,
    pixel_spacing: tuple[float, float] = (1.0, 1.0),
    *,
    reference: np.ndarray | None = None,
    roi_size: int = DEFAULT_ROI,
    rois: list[tuple[int, int, int]] | None = None,
    detrend_sigma: float = 4.0,
    bins: int | None = None,
) -> Spectrum:
    """Radially averaged NPS of ``image`` ([H, W] or [Z, H, W] HU) over flat ROIs.

    The ROIs are ``rois`` if given, else the flat tiles of ``reference`` (default: the image itself).
    ``pixel_spacing`` is (row mm, col mm); frequencies come back in cycles/mm.
    """
    if rois is None:
        rois = flat_rois(image if reference is None else reference, roi_size)
    if not rois:
        raise ValueError("no ROI to measure the noise power spectrum in")
    dy, dx = (float(s) for s in pixel_spacing)
    power2d = _roi_power(_tiles(image, rois, roi_size), detrend_sigma) * dy * dx
    freq, power = _radial_average(power2d, bins or roi_size // 2)
    return Spectrum(frequency=freq / np.sqrt(dy * dx), power=power, rois=len(rois))


def high_frequency_power(
    image: np.ndarray,
    rois: list[tuple[int, int, int]],
    *,
    roi_size: int = DEFAULT_ROI,
    band: tuple[float, float] = DEFAULT_BAND,
    detrend_sigma: float = 4.0,
) -> np.ndarray:
    """Radial NPS bins (HU^2 per pixel^2) inside ``band`` (cycles/pixel), for the given ROIs."""
    power2d = _roi_power(_tiles(image, rois, roi_size), detrend_sigma)
    freq, power = _radial_average(power2d, roi_size // 2)
    return power[(freq >= band[0]) & (freq <= band[1])]


def _band_ratios_db(
    image: np.ndarray,
    reference: np.ndarray,
    roi_size: int,
    band: tuple[float, float],
    rois: list[tuple[int, int, int]] | None,
) -> np.ndarray:
    """10 log10(NPS_image / NPS_reference) per radial bin of ``band``, over the same flat tiles."""
    if np.shape(image) != np.shape(reference):
        raise ValueError(f"image shape {np.shape(image)} differs from reference shape {np.shape(reference)}")
    if rois is None:
        rois = flat_rois(reference, roi_size)
    if not rois:
        raise ValueError("the reference has no flat region to measure high-frequency noise power in")
    p_img = high_frequency_power(image, rois, roi_size=roi_size, band=band)
    p_ref = high_frequency_power(reference, rois, roi_size=roi_size, band=band)
    return band_ratio_db(p_img, p_ref)


def band_ratio_db(power: np.ndarray, reference_power: np.ndarray) -> np.ndarray:
    """10 log10(power / reference_power) per bin, in dB, with a floor that keeps an all-zero bin
    finite. Split out so that callers who pool ``high_frequency_power`` over many images (the
    trainer's validation) take the ratio exactly as the texture distance does."""
    tiny = 1e-12
    return 10.0 * np.log10((power + tiny) / (reference_power + tiny))


def high_frequency_texture_distance(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    roi_size: int = DEFAULT_ROI,
    band: tuple[float, float] = DEFAULT_BAND,
    rois: list[tuple[int, int, int]] | None = None,
) -> float:
    """Mean |10 log10(NPS_image / NPS_reference)| in dB over the high-frequency band, measured in
    the reference's flat ROIs. Lower = the image's fine grain is closer to the reference's."""
    return float(np.mean(np.abs(_band_ratios_db(image, reference, roi_size, band, rois))))


def high_frequency_power_ratio(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    roi_size: int = DEFAULT_ROI,
    band: tuple[float, float] = DEFAULT_BAND,
    rois: list[tuple[int, int, int]] | None = None,
) -> float:
    """Mean 10 log10(NPS_image / NPS_reference) in dB over the high-frequency band, signed: below 0
    the image is smoother than the reference in its flat ROIs (over-smoothing), above 0 grainier."""
    return float(np.mean(_band_ratios_db(image, reference, roi_size, band, rois)))
