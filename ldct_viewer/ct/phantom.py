"""Procedural, seeded 3D anatomical CT phantoms (thorax to abdomen) in HU.

Training data and the demo case need NDCT volumes that look like patient scans without
shipping patient data. Every structure is a function of the body level ``s`` (mm below the lung
apex): sizes and positions vary smoothly along z, organs appear and disappear with rounded poles,
the diaphragm is a dome, ribs descend obliquely so each slice cuts them at a different angle.
Tissues carry band-limited texture (fat septa, trabecular bone, organ heterogeneity, lung and
liver vessels); edges are partial-volume anti-aliased and the result is blurred by a small
system PSF, like a reconstructed image.

HU values follow a portal-venous contrast phase: liver ~+100, spleen ~+115, kidney cortex
~+170, aorta ~+190, portal/hepatic veins ~+160.

Axes: the volume is ``[Z, H, W]`` with index 0 the most caudal slice (ascending patient z, as
the DICOM loader sorts), rows anterior → posterior, columns patient right → left, matching a
series written with identity orientation.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ldct_viewer.ct.phantom_shapes import (
    FAR_MM,
    Grid,
    as_column,
    capsule_distance,
    coverage,
    ellipsoid_profile,
    gaussian_random_field,
    smoothstep,
    superellipse_distance,
)

#: Body levels (mm below the lung apex) the anatomy is defined for: lung apex to lower abdomen.
LEVEL_RANGE_MM = (0.0, 520.0)


class Tissue(enum.IntEnum):
    """Label of the tissue that dominates each voxel (ground truth for tests and ROIs)."""

    AIR = 0
    TABLE = 1
    SKIN = 2
    FAT = 3
    MUSCLE = 4
    BONE_CORTEX = 5
    BONE_MARROW = 6
    DISC = 7
    CSF = 8
    LUNG = 9
    AIRWAY = 10
    VESSEL = 11
    HEART = 12
    LIVER = 13
    SPLEEN = 14
    KIDNEY_CORTEX = 15
    KIDNEY_MEDULLA = 16
    STOMACH = 17
    BOWEL_WALL = 18
    BOWEL_CONTENT = 19
    GALLBLADDER = 20
    PANCREAS = 21
    LESION = 22
    SOFT_TISSUE = 23


@dataclass(frozen=True)
class Lesion:
    """A spherical low-contrast lesion: centre in voxel indices (z, row, col), size, contrast."""

    organ: str
    centre_index: tuple[float, float, float]
    diameter_mm: float
    contrast_hu: float


@dataclass
class Phantom:
    """A rendered phantom with its ground truth."""

    volume: np.ndarray  # float32 [Z, H, W] HU
    spacing: tuple[float, float, float]  # (dz, dy, dx) mm
    labels: np.ndarray  # uint8 [Z, H, W] Tissue
    levels_mm: np.ndarray  # float32 [Z] body level of each slice (mm below the lung apex)
    lesions: list[Lesion] = field(default_factory=list)


def generate_phantom(
    *,
    size: int = 512,
    slices: int = 32,
    seed: int = 0,
    slice_thickness_mm: float = 1.0,
    fov_mm: float = 380.0,
    start_z_mm: float | None = None,
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A phantom volume in HU and its spacing ``(dz, dy, dx)`` in mm.

    ``start_z_mm`` is the body level of the most cranial slice in mm below the lung apex
    (about 0–250 thorax, 250–520 abdomen); ``None`` picks one from the seed.
    """
    phantom = render_phantom(
        size=size,
        slices=slices,
        seed=seed,
        slice_thickness_mm=slice_thickness_mm,
        fov_mm=fov_mm,
        start_z_mm=start_z_mm,
    )
    return phantom.volume, phantom.spacing


def render_phantom(
    *,
    size: int = 512,
    slices: int = 32,
    seed: int = 0,
    slice_thickness_mm: float = 1.0,
    fov_mm: float = 380.0,
    start_z_mm: float | None = None,
    lesions: bool = True,
) -> Phantom:
    """Like :func:`generate_phantom`, also returning tissue labels, slice levels and lesions.

    ``lesions=False`` renders the identical phantom without its lesions (their ground truth).
    """
    if size < 16 or slices < 1:
        raise ValueError(f"phantom size must be >= 16 and slices >= 1, got {size} and {slices}")
    if slice_thickness_mm <= 0 or fov_mm <= 0:
        raise ValueError("slice thickness and field of view must be positive")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    extent = (slices - 1) * slice_thickness_mm
    if start_z_mm is None:
        top = max(LEVEL_RANGE_MM[1] - 20.0 - extent, 40.0)
        start_z_mm = float(rng.uniform(40.0, top))
    # Index 0 is the most caudal slice (largest level), the last one is start_z_mm.
    levels = (start_z_mm + extent - np.arange(slices) * slice_thickness_mm).astype(np.float32)
    builder = _Builder(size, fov_mm / size, slice_thickness_mm, levels, rng)
    builder.build(lesions=lesions)
    volume = ndimage.gaussian_filter(builder.hu, sigma=(0.0, 0.55, 0.55), mode="nearest")
    np.clip(volume, -1024.0, 3071.0, out=volume)
    return Phantom(
        volume=volume.astype(np.float32, copy=False),
        spacing=(float(slice_thickness_mm), float(fov_mm / size), float(fov_mm / size)),
        labels=builder.labels,
        levels_mm=levels,
        lesions=builder.lesions,
    )


@dataclass
class _Block:
    """A sub-volume (slices × rows × cols) a structure is evaluated on, with its coordinates."""

    zs: slice
    rows: slice
    cols: slice
    x: np.ndarray
    y: np.ndarray

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        """Per-slice column ``[Z,1,1]`` or full volume restricted to this block."""
        if arr.shape[1:] == (1, 1):
            return arr[self.zs]
        return arr[self.zs, self.rows, self.cols]


class _Builder:
    """Paints structures back to front (painter's algorithm with partial-volume coverage)."""

    def __init__(self, size: int, pixel_mm: float, dz: float, levels: np.ndarray, rng: np.random.Generator):
        self.grid = Grid(size, pixel_mm)
        self.px = pixel_mm
        self.s = levels
        self.z = len(levels)
        self.rng = rng
        self.hu = np.full((self.z, size, size), -1000.0, dtype=np.float32)
        self.labels = np.zeros((self.z, size, size), dtype=np.uint8)
        self.lesions: list[Lesion] = []
        shape = (self.z, size, size)
        spacing = (dz, pixel_mm, pixel_mm)
        self.tex_fine = gaussian_random_field(rng, shape, spacing, 1.2)
        self.tex_coarse = gaussian_random_field(rng, shape, spacing, 7.0)
        self.tex_septa = gaussian_random_field(rng, shape, spacing, 0.0, band=(0.06, 0.14))
        self.tex_trabecular = gaussian_random_field(rng, shape, spacing, 0.0, band=(0.35, 0.75))
        self.tube_a = gaussian_random_field(rng, shape, spacing, 6.0)
        self.tube_b = gaussian_random_field(rng, shape, spacing, 6.0)
        self.habitus = {
            "width": rng.uniform(0.9, 1.05),
            "depth": rng.uniform(0.92, 1.06),
            "fat": rng.uniform(0.5, 1.5),
            "dome": rng.uniform(-12.0, 12.0),
            "kidney_shift": rng.uniform(-15.0, 15.0),
        }

    # ------------------------------------------------------------------ painting helpers
    def col(self, values) -> np.ndarray:
        return as_column(values, self.z)

    def block(self, cx, cy, rx, ry, present=None) -> _Block | None:
        """Block covering centres ``cx, cy`` ± radii (per-slice arrays) on slices where present."""
        cx, cy, rx, ry = (np.broadcast_to(np.asarray(v, dtype=np.float32).reshape(-1), (self.z,)) for v in (cx, cy, rx, ry))
        mask = (rx > 0.05) & (ry > 0.05) if present is None else np.broadcast_to(present, (self.z,))
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return None
        zs = slice(int(idx[0]), int(idx[-1]) + 1)
        sel = slice(zs.start, zs.stop)
        rows = self.grid.index_range(float(np.min(cy[sel] - ry[sel])), float(np.max(cy[sel] + ry[sel])))
        cols = self.grid.index_range(float(np.min(cx[sel] - rx[sel])), float(np.max(cx[sel] + rx[sel])))
        if rows.stop <= rows.start or cols.stop <= cols.start:
            return None
        x, y = self.grid.coords(rows, cols)
        return _Block(zs, rows, cols, x, y)

    def full(self) -> _Block:
        x, y = self.grid.coords()
        return _Block(slice(0, self.z), slice(None), slice(None), x, y)

    def paint(self, blk: _Block, distance: np.ndarray, value, label: Tissue | None, *, mask=None) -> np.ndarray:
        """Blend ``value`` (scalar or block array) where ``distance`` < 0, anti-aliased."""
        alpha = coverage(distance, self.px)
        if mask is not None:
            alpha = alpha * mask
        view = self.hu[blk.zs, blk.rows, blk.cols]
        view += alpha * (value - view)
        if label is not None:
            lab = self.labels[blk.zs, blk.rows, blk.cols]
            lab[alpha >= 0.5] = label
        return alpha

    def ellipse(self, blk: _Block, cx, cy, a, b, **kw) -> np.ndarray:
        return superellipse_distance(
            blk.x, blk.y, blk(self.col(cx)), blk(self.col(cy)), blk(self.col(a)), blk(self.col(b)), **kw
        )

    def texture(self, blk: _Block, base: float, fine: float, coarse: float = 0.0) -> np.ndarray:
        value = base + fine * blk(self.tex_fine)
        if coarse:
            value = value + coarse * blk(self.tex_coarse)
        return value

    def bone(self, blk: _Block, distance: np.ndarray, *, cortex_mm: float = 1.4, cortex_hu: float = 800.0, marrow_hu: float = 230.0):
        """Cortical shell with trabecular interior (struts from a band-pass field)."""
        self.paint(blk, distance, cortex_hu + 80.0 * blk(self.tex_fine), Tissue.BONE_CORTEX)
        trab = blk(self.tex_trabecular)
        marrow = marrow_hu - 60.0 + 190.0 * np.exp(-4.0 * trab * trab) + 12.0 * blk(self.tex_fine)
        self.paint(blk, distance + cortex_mm, marrow, Tissue.BONE_MARROW)

    # ------------------------------------------------------------------ anatomy
    def build(self, lesions: bool = True) -> None:
        self.levels()
        self.table()
        self.body_wall()
        self.abdomen()
        self.thorax()
        self.disc_vessel(self.ao_x, self.ao_y, self.ao_r, 192.0)
        self.spine()
        self.ribs()
        if lesions:
            self.lesions_in(Tissue.LIVER, "liver", count=int(self.rng.integers(2, 6)))
            self.lesions_in(Tissue.SPLEEN, "spleen", count=int(self.rng.integers(0, 2)))
            self.lesions_in(Tissue.KIDNEY_CORTEX, "kidney", count=int(self.rng.integers(0, 2)))

    def levels(self) -> None:
        """Per-slice body dimensions (mm); ``t_abd`` blends thorax (0) into abdomen (1)."""
        s, h = self.s, self.habitus
        self.t_abd = smoothstep(200.0, 330.0, s)
        t_upper = 1.0 - smoothstep(40.0, 170.0, s)
        fat = h["fat"]
        self.a_in = h["width"] * (136.0 + 6.0 * self.t_abd + 8.0 * smoothstep(420.0, 520.0, s))
        self.b_in_ant = h["depth"] * (92.0 + 6.0 * self.t_abd)
        self.b_in_post = h["depth"] * (98.0 - 4.0 * self.t_abd)
        self.fat_lat = fat * (10.0 + 22.0 * self.t_abd)
        self.fat_ant = fat * (8.0 + 20.0 * self.t_abd)
        self.fat_post = fat * (7.0 + 8.0 * self.t_abd)
        self.y_back = np.full(self.z, 128.0, dtype=np.float32)
        self.yc = self.y_back - self.fat_post - self.b_in_post
        self.mus_lat = 7.0 + 4.0 * (1.0 - self.t_abd)
        self.mus_ant = 7.0 + 14.0 * t_upper
        self.mus_post = 26.0 - 14.0 * self.t_abd
        self.a_cav = self.a_in - self.mus_lat
        self.b_cav_ant = self.b_in_ant - self.mus_ant
        self.b_cav_post = self.b_in_post - self.mus_post
        # Spine: vertebral body centre, lumbar bodies larger and further from the back.
        self.a_vb = 15.0 + 9.0 * smoothstep(120.0, 420.0, s)
        self.b_vb = 12.5 + 4.5 * smoothstep(120.0, 420.0, s)
        self.y_vb = self.y_back - self.fat_post - (60.0 + 16.0 * self.t_abd)
        self.y_canal = self.y_vb + self.b_vb + 9.0
        # Aorta: descending beside the spine in the chest, anterior to it in the abdomen.
        t_ao = smoothstep(215.0, 300.0, s)
        self.ao_x = 24.0 - 12.0 * t_ao
        self.ao_y = self.y_vb - 10.0 - (self.b_vb + 3.0) * t_ao
        self.ao_r = (12.0 - 1.5 * t_ao) * smoothstep(66.0, 76.0, s)
        # Diaphragm domes (level of the dome top; right higher than left).
        self.dome_r = 245.0 + h["dome"]
        self.dome_l = 258.0 + h["dome"]

    def table(self) -> None:
        """Curved patient table (thin carbon shells around a foam core) below the body."""
        blk = self.full()
        top = blk(self.col(self.y_back)) + 3.0 - blk.x * blk.x / 2500.0
        d_outer = np.maximum(top - blk.y, blk.y - top - 28.0)
        self.paint(blk, d_outer, 250.0, Tissue.TABLE)
        self.paint(blk, d_outer + 2.0, -930.0 + 15.0 * blk(self.tex_coarse), Tissue.TABLE)

    def body_wall(self) -> None:
        """Skin, subcutaneous fat with septa, muscle wall, visceral/mediastinal fat."""
        blk = self.full()
        yc = self.yc
        a_out = self.a_in + self.fat_lat
        d_skin = self.ellipse(blk, 0.0, yc, a_out, self.b_in_post + self.fat_post, power=2.3, b_neg=blk(self.col(self.b_in_ant + self.fat_ant)))
        self.paint(blk, d_skin, 35.0 + 8.0 * blk(self.tex_fine), Tissue.SKIN)
        septa = blk(self.tex_septa)
        fat_value = -108.0 + 4.0 * blk(self.tex_fine) + 5.0 * blk(self.tex_coarse) + 45.0 * np.exp(-120.0 * septa * septa)
        self.paint(blk, d_skin + 2.0, fat_value, Tissue.FAT)
        d_in = self.ellipse(blk, 0.0, yc, self.a_in, self.b_in_post, power=2.3, b_neg=blk(self.col(self.b_in_ant)))
        muscle = 52.0 + 6.0 * blk(self.tex_fine) - 35.0 * np.exp(-60.0 * septa * septa) * blk(self.tex_coarse) ** 2
        self.paint(blk, d_in, muscle, Tissue.MUSCLE)
        d_cav = self.ellipse(blk, 0.0, yc, self.a_cav, self.b_cav_post, power=2.2, b_neg=blk(self.col(self.b_cav_ant)))
        self.d_cav = d_cav
        visceral = -98.0 + 4.0 * blk(self.tex_fine) + 6.0 * blk(self.tex_coarse) + 35.0 * np.exp(-80.0 * septa * septa)
        self.paint(blk, d_cav, visceral, Tissue.FAT)
        # Fat planes between the oblique muscle layers of the lateral abdominal wall.
        lateral = smoothstep(0.0, 1.0, (np.abs(blk.x) - 0.45 * blk(self.col(self.a_in))) / 25.0) * blk(self.col(self.t_abd))
        for frac in (0.33, 0.66):
            plane = np.abs(d_in + blk(self.col(self.mus_lat * frac))) - 0.35
            self.paint(blk, plane, -50.0, Tissue.FAT, mask=lateral * coverage(d_cav, self.px, 1.0).__rsub__(1.0))
        # Linea alba: thin fat gap between the two rectus muscles in the anterior midline.
        y_front = self.yc - self.b_in_ant
        blk2 = self.block(0.0, y_front + self.mus_ant / 2, 3.0, self.mus_ant, present=self.t_abd > 0.2)
        if blk2 is not None:
            d = capsule_distance(blk2.x, blk2.y, 0.0, blk2(self.col(y_front - 1)), 0.0, blk2(self.col(y_front + self.mus_ant + 1)), 1.2)
            self.paint(blk2, d, -80.0, Tissue.FAT, mask=blk2(self.col(self.t_abd)))

    def below_diaphragm(self, blk: _Block) -> np.ndarray:
        """Signed in-plane distance (mm) to the diaphragm: negative below it (abdomen side)."""
        s = blk(self.col(self.s))
        yc = blk(self.col(self.yc))
        ac = blk(self.col(self.a_cav))
        reach = 0.8 * ac
        out = None
        for xd, s0 in ((-0.42, self.dome_r), (0.42, self.dome_l)):
            dx = blk.x - xd * ac
            dy = blk.y - (yc - 5.0)
            r2 = (dx * dx + dy * dy) / (reach * reach)
            post = 28.0 * np.clip((blk.y - yc) / 80.0, 0.0, 1.5)
            s_dia = s0 + 70.0 * r2 + post
            grad = np.sqrt((140.0 * dx / reach**2) ** 2 + (140.0 * dy / reach**2 + 28.0 / 80.0) ** 2)
            d = (s_dia - s) / np.maximum(grad, 0.4)
            out = d if out is None else np.minimum(out, d)
        return out

    def abdomen(self) -> None:
        """Bowel, stomach, liver, gallbladder, spleen, pancreas, kidneys, abdominal vessels."""
        s, rng = self.s, self.rng
        yc, ac, bca, bcp = self.yc, self.a_cav, self.b_cav_ant, self.b_cav_post
        y_front = yc - bca
        # Bowel loops: tubes wandering through the lower abdomen.
        n_loops = 80
        for _ in range(n_loops):
            s0 = rng.uniform(300.0, 600.0)
            half = rng.uniform(30.0, 80.0)
            prof = ellipsoid_profile(s, s0, half) ** 0.3
            fx = rng.uniform(-0.8, 0.8)
            fy = rng.uniform(-0.9, 0.45)
            phase = rng.uniform(0, 2 * np.pi, size=3)
            wob = rng.uniform(8.0, 25.0)
            cx = fx * ac + wob * np.sin(s / 23.0 + phase[0])
            cy = yc + fy * bca + wob * np.cos(s / 19.0 + phase[1])
            ang = phase[2] + s / 30.0
            length = rng.uniform(0.0, 35.0)
            r = rng.uniform(7.0, 15.0) * (prof > 0)
            x1, y1 = cx + length * np.cos(ang), cy + length * np.sin(ang)
            blk = self.block((cx + x1) / 2, (cy + y1) / 2, length / 2 + r + 4, length / 2 + r + 4, present=prof > 0)
            if blk is None:
                continue
            d = capsule_distance(blk.x, blk.y, blk(self.col(cx)), blk(self.col(cy)), blk(self.col(x1)), blk(self.col(y1)), blk(self.col(r)))
            d = np.maximum(d, blk(self.d_cav) + 3.0)
            self.paint(blk, d, 65.0 + 6.0 * blk(self.tex_fine), Tissue.BOWEL_WALL)
            content = rng.choice(["fluid", "fluid", "fluid", "air", "mixed", "mixed"])
            self.paint(blk, d + 1.6, self.bowel_content(blk, content), Tissue.BOWEL_CONTENT)
        # Colon: ascending (right), descending (left), transverse (anterior).
        colon = [
            (-0.72, 0.05, 20.0, 330.0, 600.0),
            (0.74, 0.15, 15.0, 290.0, 600.0),
        ]
        for fx, fy, r, lo, hi in colon:
            present = (s > lo) & (s < hi)
            cx = fx * ac + 4.0 * np.sin(s / 17.0)
            cy = yc + fy * bcp + 4.0 * np.cos(s / 13.0)
            blk = self.block(cx, cy, r + 3, r + 3, present=present)
            if blk is None:
                continue
            rr = r * smoothstep(lo, lo + 25.0, s)
            d = self.ellipse(blk, cx, cy, rr, rr * 0.9)
            d = np.maximum(d, blk(self.d_cav) + 3.0)
            self.paint(blk, d, 75.0, Tissue.BOWEL_WALL)
            self.paint(blk, d + 2.0, self.bowel_content(blk, "stool", cy=cy), Tissue.BOWEL_CONTENT)
        prof_t = ellipsoid_profile(s, 345.0, 22.0)
        blk = self.block(0.0, y_front + 40, 0.75 * ac + 20, 30.0, present=prof_t > 0)
        if blk is not None:
            yt = y_front + 38.0 + 10.0 * np.sin(s / 11.0)
            d = capsule_distance(blk.x, blk.y, blk(self.col(-0.6 * ac)), blk(self.col(yt + 15)), blk(self.col(0.6 * ac)), blk(self.col(yt)), blk(self.col(19.0 * prof_t)) * (1.0 + 0.12 * np.sin(blk.x / 7.0)))
            d = np.maximum(d, blk(self.d_cav) + 3.0)
            self.paint(blk, d, 75.0, Tissue.BOWEL_WALL)
            self.paint(blk, d + 2.0, self.bowel_content(blk, "stool", cy=yt + 8), Tissue.BOWEL_CONTENT)

        # Stomach (left upper quadrant), air-fluid level horizontal because the patient is supine.
        prof = ellipsoid_profile(s, 290.0, 55.0)
        sx, sy = 0.38 * ac, yc - 0.35 * bca
        blk = self.block(sx, sy, 60.0, 60.0, present=prof > 0)
        if blk is not None:
            d = self.ellipse(blk, sx, sy, 52.0 * prof, 38.0 * prof, angle=0.5)
            d = np.maximum(d, self.below_diaphragm(blk) + 4.0)
            self.paint(blk, d, 70.0 + 6.0 * blk(self.tex_fine), Tissue.STOMACH)
            level = blk(self.col(sy - 10.0))
            contents = np.where(blk.y < level, -1000.0, 18.0 + 5.0 * blk(self.tex_fine)).astype(np.float32)
            self.paint(blk, d + 3.0, contents, Tissue.BOWEL_CONTENT)

        # Liver: right lobe plus left lobe crossing the midline anteriorly, capped by the dome.
        g_r = np.where(s < 320.0, 1.0, ellipsoid_profile(s, 320.0, 85.0)).astype(np.float32)
        g_l = np.where(s < 262.0, 1.0, ellipsoid_profile(s, 262.0, 55.0)).astype(np.float32)
        lx, ly = -0.42 * ac - 12.0 * (1 - g_r), yc + 5.0 + 10.0 * (1 - g_r)
        blk = self.block(0.0, yc, ac, np.maximum(bca, bcp), present=(g_r > 0) & (s > 180.0))
        if blk is not None:
            d_r = self.ellipse(blk, lx, ly, 0.6 * ac * g_r, 0.9 * bcp * g_r, power=2.4, b_neg=blk(self.col(0.9 * bca * g_r)))
            d_l = self.ellipse(blk, 0.05 * ac, y_front + 38.0, 0.45 * ac * g_l, 30.0 * g_l, angle=-0.12)
            k = 8.0
            h = np.clip(0.5 + 0.5 * (d_l - d_r) / k, 0.0, 1.0)
            d = d_l * (1 - h) + d_r * h - k * h * (1 - h)  # smooth union
            d = np.maximum(d, blk(self.d_cav) + 1.5)
            d = np.maximum(d, self.below_diaphragm(blk) + 4.0)
            liver = self.texture(blk, 102.0, 4.0, 4.0)
            alpha = self.paint(blk, d, liver, Tissue.LIVER)
            tube = np.sqrt(blk(self.tube_a) ** 2 + blk(self.tube_b) ** 2)
            porta = np.sqrt((blk.x + 0.2 * blk(self.col(ac))) ** 2 + (blk.y - blk(self.col(yc))) ** 2
                            + 0.5 * (blk(self.col(s)) - 300.0) ** 2)
            vessels = (tube - (0.1 + 0.3 * np.exp(-porta / 45.0))) * 4.0
            self.paint(blk, vessels, 155.0 + 5.0 * blk(self.tex_fine), Tissue.VESSEL, mask=(alpha > 0.99).astype(np.float32) * coverage(d + 2.0, self.px))
        # Gallbladder at the inferior surface of the liver.
        prof = ellipsoid_profile(s, 330.0, 28.0)
        gx, gy = -0.25 * ac, y_front + 40.0
        blk = self.block(gx, gy, 20, 24, present=prof > 0)
        if blk is not None:
            d = self.ellipse(blk, gx, gy, 15.0 * prof, 20.0 * prof, angle=0.4)
            self.paint(blk, d, 45.0, Tissue.GALLBLADDER)
            self.paint(blk, d + 1.5, 12.0 + 3.0 * blk(self.tex_fine), Tissue.GALLBLADDER)

        # Spleen: crescent along the left posterolateral wall.
        prof = ellipsoid_profile(s, 292.0, 52.0)
        px_, py_ = 0.66 * ac, yc + 0.35 * bcp
        blk = self.block(px_, py_, 60, 60, present=prof > 0)
        if blk is not None:
            d_o = self.ellipse(blk, px_, py_, 26.0 * prof, 55.0 * prof, angle=-0.55)
            d_i = self.ellipse(blk, px_ - 28.0, py_ - 8.0, 24.0 * prof, 45.0 * prof, angle=-0.55)
            d = np.maximum(np.maximum(d_o, -d_i), blk(self.d_cav) + 1.5)
            d = np.maximum(d, self.below_diaphragm(blk) + 4.0)
            self.paint(blk, d, self.texture(blk, 115.0, 4.0, 3.0), Tissue.SPLEEN)

        # Abdominal aorta, IVC, portal/splenic vein, SMA/SMV.
        ix, iy = -24.0 + 0 * s, self.y_vb - self.b_vb - 10.0
        blk = self.block(ix, iy, 16, 14, present=s > 215.0)
        if blk is not None:
            d = self.ellipse(blk, ix, iy, 14.0, 10.0)
            self.paint(blk, d, 140.0 + 5.0 * blk(self.tex_fine), Tissue.VESSEL)
        for x0, dxy, r, hu, lo in ((12.0, -26.0, 3.8, 185.0, 300.0), (-2.0, -24.0, 5.0, 150.0, 305.0)):
            blk = self.block(x0, self.y_vb - self.b_vb + dxy - 13, 7, 7, present=(s > lo) & (s < 470))
            if blk is not None:
                d = self.ellipse(blk, x0, self.y_vb - self.b_vb + dxy - 13, r, r)
                self.paint(blk, d, hu, Tissue.VESSEL)
        # Pancreas with splenic vein along its back, portal vein at the liver hilum.
        prof = ellipsoid_profile(s, 318.0, 22.0)
        blk = self.block(0.15 * ac, self.y_vb - 45.0, 0.45 * ac, 30.0, present=prof > 0)
        if blk is not None:
            x0, y0 = -20.0, self.y_vb - self.b_vb - 30.0
            x1, y1 = 0.5 * ac, self.y_vb - 20.0
            dp = capsule_distance(blk.x, blk.y, x0, blk(self.col(y0)), blk(self.col(x1)), blk(self.col(y1)), blk(self.col(11.0 * prof)))
            lob = blk(self.tex_septa)
            self.paint(blk, dp, 85.0 + 8.0 * blk(self.tex_fine) - 90.0 * np.exp(-25.0 * lob * lob), Tissue.PANCREAS)
            dv = capsule_distance(blk.x, blk.y, x0 + 5.0, blk(self.col(y0 + 10)), blk(self.col(x1 - 10)), blk(self.col(y1 + 8)), blk(self.col(4.0 * prof)))
            self.paint(blk, dv, 165.0, Tissue.VESSEL)
        prof = ellipsoid_profile(s, 298.0, 16.0)
        blk = self.block(-35.0, self.y_vb - 55.0, 25.0, 20.0, present=prof > 0)
        if blk is not None:
            d = capsule_distance(blk.x, blk.y, -22.0, blk(self.col(self.y_vb - 48.0)), -36.0, blk(self.col(self.y_vb - 56.0)), blk(self.col(7.0 * prof)))
            self.paint(blk, d, 170.0, Tissue.VESSEL)

        # Kidneys with perirenal fat, cortex, medullary pyramids, sinus fat, pelvis, renal vessels.
        for side, centre in ((-1, 350.0), (1, 336.0)):
            centre = centre + self.habitus["kidney_shift"]
            prof = ellipsoid_profile(s, centre, 58.0)
            kx, ky = side * (62.0 + 0.1 * self.a_vb), self.y_vb + 6.0
            blk = self.block(kx, ky, 45, 45, present=prof > 0)
            if blk is None:
                continue
            ang = -side * 0.7
            a, b = 31.0 * prof, 22.0 * prof
            d_fat = self.ellipse(blk, kx + side * 2.0, ky + 2.0, a + 5.0 * prof, b + 4.0 * prof, angle=ang)
            self.paint(blk, d_fat, -92.0 + 8.0 * blk(self.tex_fine), Tissue.FAT)
            d = self.ellipse(blk, kx, ky, a, b, angle=ang)
            self.paint(blk, d, self.texture(blk, 172.0, 5.0), Tissue.KIDNEY_CORTEX)
            # Medullary pyramids: slightly darker lobes on a ring, apices towards the sinus.
            for j in range(5):
                phi = ang + np.pi / 2 * side + (j - 2) * 0.62 + np.pi
                mx = kx + 0.55 * a * np.cos(phi)
                my = ky + 0.55 * b * np.sin(phi)
                dm = self.ellipse(blk, mx, my, 0.26 * a, 0.17 * a, angle=phi)
                self.paint(blk, dm, self.texture(blk, 128.0, 5.0), Tissue.KIDNEY_MEDULLA)
            # Sinus opens towards the hilum (anteromedial).
            hx = kx - side * 0.45 * a * math.cos(0.7) * 1.2
            hy = ky - 0.45 * a * math.sin(0.7) * 1.2
            hilum = prof > 0.45
            d_sinus = self.ellipse(blk, hx, hy, 0.5 * a * hilum, 0.35 * b * hilum, angle=ang)
            self.paint(blk, d_sinus, -85.0 + 10.0 * blk(self.tex_fine), Tissue.FAT)
            self.paint(blk, d_sinus + 3.0, 12.0, Tissue.BOWEL_CONTENT)
            vessel_on = (prof > 0.9) & (s > centre - 5) & (s < centre)
            target_x = 12.0 if side > 0 else -24.0
            dv = capsule_distance(blk.x, blk.y, blk(self.col(hx)), blk(self.col(hy)), target_x, blk(self.col(self.y_vb - self.b_vb - 12.0)), blk(self.col(2.8 * vessel_on)))
            self.paint(blk, dv, 175.0, Tissue.VESSEL)
        # Psoas and quadratus lumborum beside the lumbar spine.
        for side in (-1, 1):
            g = smoothstep(310.0, 480.0, s)
            r = 6.0 + 20.0 * g
            blk = self.block(side * (self.a_vb + r * 0.8), self.y_vb, r + 3, r + 3, present=s > 310.0)
            if blk is not None:
                d = self.ellipse(blk, side * (self.a_vb + r * 0.8), self.y_vb - 3.0, r, r * 0.9)
                self.paint(blk, d, 50.0 + 6.0 * blk(self.tex_fine), Tissue.MUSCLE)
            ql = smoothstep(320.0, 380.0, s)
            blk = self.block(side * (self.a_vb + 30.0), self.y_vb + 28.0, 22, 16, present=s > 320.0)
            if blk is not None:
                d = self.ellipse(blk, side * (self.a_vb + 28.0), self.y_vb + 30.0, 20.0 * ql, 11.0 * ql, angle=side * 0.35)
                self.paint(blk, d, 52.0 + 6.0 * blk(self.tex_fine), Tissue.MUSCLE)

    def bowel_content(self, blk: _Block, kind: str, cy=None) -> np.ndarray:
        fine, coarse = blk(self.tex_fine), blk(self.tex_coarse)
        if kind == "fluid":
            return (15.0 + 8.0 * fine + 10.0 * coarse).astype(np.float32)
        if kind == "air":
            return np.full(fine.shape, -1000.0, dtype=np.float32)
        if kind == "mixed":
            return np.where(coarse + 0.5 * fine > 0.9, -1000.0, 20.0 + 8.0 * fine).astype(np.float32)
        # Stool: mottled gas and solid, gas rising anteriorly.
        gas = (coarse + 0.4 * fine > 0.3) | (blk.y < blk(self.col(cy)) - 8.0)
        return np.where(gas, -950.0 + 40.0 * fine, 10.0 + 60.0 * blk(self.tex_septa) + 25.0 * fine).astype(np.float32)

    def thorax(self) -> None:
        """Lungs with vessels and airways, heart, mediastinal vessels, trachea, oesophagus."""
        s = self.s
        yc, ac, bca, bcp = self.yc, self.a_cav, self.b_cav_ant, self.b_cav_post
        thor = s < 320.0
        if not np.any(thor):
            # Still paint the paraspinal muscles below.
            self.paraspinal()
            return
        y_front = yc - bca
        self.paraspinal()
        # Heart (ellipsoid, long axis towards the left-anterior chest wall) with epicardial fat.
        prof_h = ellipsoid_profile(s, 183.0 + self.habitus["dome"] * 0.5, 72.0)
        hx, hy = 18.0 + 0.1 * ac, yc - 0.28 * bca
        ha, hb = 56.0 * prof_h, 43.0 * prof_h
        blk_h = self.block(hx, hy, 70, 70, present=prof_h > 0)
        blk = self.full()
        # Lungs: inside the cavity, lateral to the mediastinum and spine, above the diaphragm.
        g_apex = np.where(s < 110.0, ellipsoid_profile(s, 110.0, 120.0), 1.0).astype(np.float32)
        d_cav = self.d_cav
        w_med = 12.0 + 8.0 * smoothstep(60.0, 120.0, s) - 6.0 * smoothstep(200.0, 250.0, s)
        d_med = capsule_distance(blk.x, blk.y, blk(self.col(4.0 + 0 * s)), blk(self.col(y_front - 20.0)), blk(self.col(4.0 + 0 * s)), blk(self.col(self.y_vb)), blk(self.col(w_med)))
        d_heart = self.ellipse(blk, hx, hy, ha + 5.0, hb + 5.0, angle=-0.6)
        d_spine = self.ellipse(blk, 0.0, self.y_vb + 8.0, self.a_vb + 12.0, self.b_vb + 22.0)
        d_aorta = self.ellipse(blk, self.ao_x, self.ao_y, self.ao_r + 4.0, self.ao_r + 4.0)
        d_lung = None
        for side in (-1, 1):
            d_side = self.ellipse(blk, side * 0.5 * ac, yc + 8.0, 0.62 * ac * g_apex, (0.5 * (bca + bcp) + 12.0) * g_apex, power=2.2)
            d_lung = d_side if d_lung is None else np.minimum(d_lung, d_side)
        d_lung = np.maximum(d_lung, d_cav + 2.0)
        d_lung = np.maximum(d_lung, -d_med)
        d_lung = np.maximum(d_lung, -d_heart)
        d_lung = np.maximum(d_lung, -d_spine)
        d_lung = np.maximum(d_lung, -d_aorta)
        d_dia = -self.below_diaphragm(blk)
        d_lung = np.maximum(d_lung, d_dia)
        d_lung = np.where(blk(self.col(thor)), d_lung, FAR_MM).astype(np.float32)
        # Diaphragm muscle and pleura as a thin rim around the lung.
        self.paint(blk, d_lung - 3.0, 45.0 + 5.0 * blk(self.tex_fine), Tissue.MUSCLE, mask=(d_dia > -6.0).astype(np.float32))
        dep = np.clip((blk.y - blk(self.col(yc))) / 90.0, -1.0, 1.2)
        lung = -855.0 + 45.0 * dep + 18.0 * blk(self.tex_fine) + 10.0 * blk(self.tex_coarse)
        alpha = self.paint(blk, d_lung, lung, Tissue.LUNG)
        # Vessels: intersections of two random level sets are curves in 3D; thicker near the hilum.
        hil_x = np.where(blk.x < 0, -32.0, 38.0)
        dist_hilum = np.sqrt((blk.x - hil_x) ** 2 + (blk.y - blk(self.col(yc - 5.0))) ** 2 + (blk(self.col(s)) - 140.0) ** 2 * 0.3)
        thick = 0.12 + 0.9 * np.exp(-dist_hilum / 40.0)
        tube = np.sqrt(blk(self.tube_a) ** 2 + blk(self.tube_b) ** 2)
        inside = alpha * coverage(d_lung + 2.0, self.px)
        self.paint(blk, (tube - thick) * 4.0, 60.0 + 20.0 * blk(self.tex_fine), Tissue.VESSEL, mask=inside)
        # Airways near the hilum: walls then lumen, running beside the vessels.
        tube2 = np.sqrt(blk(self.tube_a) ** 2 + (blk(self.tube_b) - 2.2) ** 2)
        br = 0.5 * np.exp(-dist_hilum / 45.0)
        self.paint(blk, (tube2 - br) * 4.0, -80.0, Tissue.AIRWAY, mask=inside * (br > 0.06))
        self.paint(blk, (tube2 - br * 0.65) * 4.0, -990.0, Tissue.AIRWAY, mask=inside * (br > 0.06))

        # Mediastinal fat, then vessels and heart.
        blk_m = self.block(4.0, 0.5 * (y_front + self.y_vb), 50.0, 0.5 * (self.y_vb - y_front) + 30, present=thor)
        if blk_m is not None:
            dm = capsule_distance(blk_m.x, blk_m.y, 4.0, blk_m(self.col(y_front - 20.0)), 4.0, blk_m(self.col(self.y_vb)), blk_m(self.col(w_med - 1.0)))
            dm = np.maximum(dm, blk_m(self.d_cav))
            dm = np.maximum(dm, -self.below_diaphragm(blk_m))
            self.paint(blk_m, dm, -90.0 + 10.0 * blk_m(self.tex_fine), Tissue.FAT)
        if blk_h is not None:
            d = self.ellipse(blk_h, hx, hy, ha + 4.0, hb + 4.0, angle=-0.6)
            self.paint(blk_h, d, -92.0 + 8.0 * blk_h(self.tex_fine), Tissue.FAT)
            d = self.ellipse(blk_h, hx, hy, ha, hb, angle=-0.6)
            self.paint(blk_h, d, 105.0 + 6.0 * blk_h(self.tex_fine), Tissue.HEART)
            lv = self.ellipse(blk_h, hx + 16.0, hy + 6.0, 26.0 * prof_h, 17.0 * prof_h, angle=-0.6)
            self.paint(blk_h, lv, 205.0 + 8.0 * blk_h(self.tex_fine), Tissue.VESSEL)
            rv = self.ellipse(blk_h, hx - 22.0, hy - 14.0, 30.0 * prof_h, 13.0 * prof_h, angle=-0.45)
            self.paint(blk_h, rv, 170.0 + 10.0 * blk_h(self.tex_coarse), Tissue.VESSEL)
            atr = (s < 215.0) & (s > 115.0)
            la = self.ellipse(blk_h, hx - 6.0, hy + 30.0, 22.0 * prof_h * atr, 14.0 * prof_h * atr)
            self.paint(blk_h, la, 200.0, Tissue.VESSEL)
            ra = self.ellipse(blk_h, hx - 45.0, hy + 6.0, 18.0 * prof_h * (s > 140.0), 20.0 * prof_h * (s > 140.0))
            self.paint(blk_h, ra, 160.0, Tissue.VESSEL)
        # Great vessels: ascending aorta, arch, descending aorta, pulmonary trunk, SVC.
        asc = ellipsoid_profile(s, 100.0, 42.0)
        self.disc_vessel(-4.0, yc - 0.45 * bca + 10.0, 15.0 * (asc > 0) * np.minimum(asc * 3, 1), 195.0)
        arch = ellipsoid_profile(s, 66.0, 9.0)
        blk = self.block(10.0, 0.5 * (yc - 0.45 * bca + 10.0 + self.y_vb - 10.0), 40.0, 0.5 * (self.y_vb - yc + 0.45 * bca) + 20, present=arch > 0)
        if blk is not None:
            d = capsule_distance(blk.x, blk.y, -4.0, blk(self.col(yc - 0.45 * bca + 10.0)), 24.0, blk(self.col(self.y_vb - 10.0)), blk(self.col(13.0 * arch)))
            self.paint(blk, d, 195.0, Tissue.VESSEL)
        pt = ellipsoid_profile(s, 108.0, 14.0)
        self.disc_vessel(26.0 + 0 * s, yc - 0.45 * bca + 2.0, 13.0 * (pt > 0), 185.0)
        blk = self.block(0.0, yc - 0.3 * bca, 60.0, 30.0, present=pt > 0.5)
        if blk is not None:
            for x1 in (-40.0, 45.0):
                d = capsule_distance(blk.x, blk.y, 26.0, blk(self.col(yc - 0.45 * bca + 2.0)), x1, blk(self.col(yc - 0.15 * bca)), blk(self.col(8.0 * (pt > 0.5))))
                self.paint(blk, d, 185.0, Tissue.VESSEL)
        svc = (s > 20.0) & (s < 145.0)
        self.disc_vessel(-30.0 + 0 * s, yc - 0.4 * bca + 8.0, 10.0 * svc, 150.0)
        for k, (x0, dy) in enumerate(((-12.0, 0.0), (2.0, -4.0), (14.0, 2.0))):
            branch = s < 60.0 - 3.0 * k
            self.disc_vessel(x0 + 0 * s, yc - 0.45 * bca + 15.0 + dy, 6.0 * branch, 190.0)
        # Trachea and main bronchi (air lumen, soft-tissue wall), oesophagus.
        tra = s < 118.0
        ty = self.y_vb - self.b_vb - 22.0
        self.disc_vessel(0.0 + 0 * s, ty, 10.5 * tra, 40.0, Tissue.SOFT_TISSUE)
        self.disc_vessel(0.0 + 0 * s, ty, 8.5 * tra, -1000.0, Tissue.AIRWAY)
        for side in (-1, 1):
            br = ellipsoid_profile(s, 134.0, 16.0)
            bx = side * (8.0 + 0.9 * np.clip(s - 118.0, 0.0, 40.0))
            self.disc_vessel(bx, ty + 4.0, 8.5 * (br > 0), 40.0, Tissue.SOFT_TISSUE)
            self.disc_vessel(bx, ty + 4.0, 6.5 * (br > 0), -1000.0, Tissue.AIRWAY)
        oes = s < 265.0
        self.disc_vessel(6.0 + 0 * s, self.y_vb - self.b_vb - 6.0, 7.5 * oes, 42.0, Tissue.SOFT_TISSUE)
        self.disc_vessel(6.0 + 0 * s, self.y_vb - self.b_vb - 6.0, 1.8 * oes, -900.0, Tissue.AIRWAY)
        # Descending aorta transition towards the abdominal aorta (drawn in abdomen()).
        # Sternum.
        st = (s > 40.0) & (s < 225.0)
        blk = self.block(0.0, y_front - 4.0, 20.0, 14.0, present=st)
        if blk is not None:
            d = self.ellipse(blk, 0.0, yc - self.b_in_ant + 7.0, 15.0 * st, 6.5 * st)
            self.bone(blk, d, cortex_hu=650.0, marrow_hu=200.0)

    def disc_vessel(self, cx, cy, r, hu: float, label: Tissue = Tissue.VESSEL) -> None:
        """A round tube running along z (vessel, trachea...)."""
        r = np.asarray(r, dtype=np.float32) * np.ones(self.z, dtype=np.float32)
        blk = self.block(cx, cy, r + 2, r + 2)
        if blk is None:
            return
        d = self.ellipse(blk, cx, cy, r, r)
        self.paint(blk, d, hu + 5.0 * blk(self.tex_fine), label)

    def paraspinal(self) -> None:
        """Erector spinae muscle masses either side of the spinous processes."""
        for side in (-1, 1):
            cx = side * (25.0 + 6.0 * self.t_abd)
            cy = self.y_canal + 18.0
            a = 21.0 + 9.0 * self.t_abd
            b = 24.0 + 4.0 * self.t_abd
            blk = self.block(cx, cy, a + 3, b + 3)
            d = self.ellipse(blk, cx, cy, a, b, power=2.2)
            septa = blk(self.tex_septa)
            self.paint(blk, d, 55.0 + 6.0 * blk(self.tex_fine) - 40.0 * np.exp(-60.0 * septa * septa), Tissue.MUSCLE)

    def spine(self) -> None:
        """Vertebral bodies with discs, canal, laminae, spinous and transverse processes."""
        s = self.s
        height = 22.0 + 10.0 * smoothstep(120.0, 420.0, s)
        phase = np.cumsum(np.concatenate([[0.0], np.abs(np.diff(s)) / height[1:]])) + s[0] / height[0]
        phase = np.mod(phase, 1.0).astype(np.float32)
        disc_frac = 0.2 + 0.06 * smoothstep(120.0, 420.0, s)
        is_disc = phase < disc_frac
        blk = self.block(0.0, self.y_vb, self.a_vb + 3, self.b_vb + 3)
        d = self.ellipse(blk, 0.0, self.y_vb, self.a_vb, self.b_vb, power=2.3)
        # Flattened posterior wall facing the canal.
        d = np.maximum(d, blk.y - blk(self.col(self.y_vb + self.b_vb * 0.8)))
        disc = blk(self.col(is_disc.astype(np.float32)))
        self.paint(blk, d, 95.0 + 8.0 * blk(self.tex_fine), Tissue.DISC, mask=disc)
        self.paint(blk, d - 1.0, 70.0 + 6.0 * blk(self.tex_fine), Tissue.DISC, mask=disc)
        bone_blk = blk
        self.paint(bone_blk, d, 1000.0 + 80.0 * blk(self.tex_fine), Tissue.BONE_CORTEX, mask=1.0 - disc)
        trab = blk(self.tex_trabecular)
        marrow = 150.0 + 130.0 * np.exp(-4.0 * trab * trab) + 12.0 * blk(self.tex_fine)
        self.paint(bone_blk, d + 1.5, marrow, Tissue.BONE_MARROW, mask=1.0 - disc)
        # Posterior elements: present on the upper part of each vertebra (not at the disc).
        lamina = (phase < 0.8).astype(np.float32)
        pedicle = ((phase > 0.3) & (phase < 0.7)).astype(np.float32)
        cy = self.y_canal
        blk = self.block(0.0, cy + 18.0, 45.0, 32.0)
        x, y = blk.x, blk.y
        ycol = blk(self.col(cy))
        tp = blk(self.col(8.0 * self.t_abd))
        arch = np.minimum(
            capsule_distance(x, y, -8.5, ycol + 6.0, 0.0, ycol + 12.0, 2.2),
            capsule_distance(x, y, 8.5, ycol + 6.0, 0.0, ycol + 12.0, 2.2),
        )
        arch = np.minimum(arch, capsule_distance(x, y, 0.0, ycol + 12.0, 0.0, ycol + 34.0 - tp, 2.2))  # spinous
        arch = np.minimum(arch, capsule_distance(x, y, -10.0, ycol + 4.0, -15.0, ycol + 9.0, 4.0))  # facets
        arch = np.minimum(arch, capsule_distance(x, y, 10.0, ycol + 4.0, 15.0, ycol + 9.0, 4.0))
        ped = np.minimum(
            capsule_distance(x, y, -9.0, ycol - 7.0, -9.0, ycol + 5.0, 3.3),
            capsule_distance(x, y, 9.0, ycol - 7.0, 9.0, ycol + 5.0, 3.3),
        )
        ped = np.minimum(ped, capsule_distance(x, y, -10.0, ycol - 1.0, -24.0 - tp, ycol + 1.0, 3.0))  # transverse
        ped = np.minimum(ped, capsule_distance(x, y, 10.0, ycol - 1.0, 24.0 + tp, ycol + 1.0, 3.0))
        trab = 260.0 + 110.0 * np.exp(-4.0 * blk(self.tex_trabecular) ** 2)
        for d, on in ((arch, lamina), (ped, pedicle)):
            pmask = blk(self.col(on))
            self.paint(blk, d, 800.0 + 60.0 * blk(self.tex_fine), Tissue.BONE_CORTEX, mask=pmask)
            self.paint(blk, d + 1.0, trab, Tissue.BONE_MARROW, mask=pmask)
        # Canal: CSF with the cord (thoracic) / cauda equina (lumbar).
        blk = self.block(0.0, cy, 10.0, 10.0)
        d = self.ellipse(blk, 0.0, cy, 8.5, 8.0)
        self.paint(blk, d, 8.0 + 4.0 * blk(self.tex_fine), Tissue.CSF)
        cord = 1.0 - smoothstep(300.0, 360.0, s)
        d = self.ellipse(blk, 0.0, cy, 4.5 * cord, 3.8 * cord)
        self.paint(blk, d, 35.0, Tissue.SOFT_TISSUE)

    def ribs(self) -> None:
        """Twelve rib pairs; each descends ~90 mm from the spine to the front, so a slice cuts
        every rib at a different angle around the chest wall."""
        s, px = self.s, self.px
        for k in range(12):
            s_head = 18.0 + 22.5 * k
            theta_end = 2.5 - 0.08 * k - (0.6 if k >= 10 else 0.0)
            for zi in range(self.z):
                theta = 0.35 + (s[zi] - s_head) * 2.1 / 95.0
                if theta < 0.35 or theta > theta_end:
                    continue
                ra = self.a_in[zi] - 0.55 * self.mus_lat[zi]
                rb_post = self.b_in_post[zi] - 0.5 * self.mus_post[zi] + 6.0
                rb_ant = self.b_in_ant[zi] - 0.5 * self.mus_ant[zi]
                for side in (-1, 1):
                    rb = rb_post if math.cos(theta) > 0 else rb_ant
                    cx = side * ra * math.sin(theta)
                    cy = self.yc[zi] + rb * math.cos(theta)
                    if theta < 0.9:  # rib neck hugs the transverse process
                        cx = side * max(abs(cx), 28.0 + 20.0 * theta)
                    tang = math.atan2(-rb * math.sin(theta), side * ra * math.cos(theta))
                    cart = theta > theta_end - 0.35 and k < 10
                    rows = self.grid.index_range(cy - 14, cy + 14)
                    cols = self.grid.index_range(cx - 14, cx + 14)
                    x, y = self.grid.coords(rows, cols)
                    blk = _Block(slice(zi, zi + 1), rows, cols, x, y)
                    d = superellipse_distance(x, y, np.float32(cx), np.float32(cy), np.float32(8.5), np.float32(4.5), angle=np.float32(tang))
                    if cart:
                        self.paint(blk, d, 120.0 + 10.0 * blk(self.tex_fine), Tissue.SOFT_TISSUE)
                    else:
                        self.bone(blk, d, cortex_mm=1.4, cortex_hu=900.0, marrow_hu=240.0)
        del px

    def lesions_in(self, tissue: Tissue, organ: str, count: int) -> None:
        """Spherical lesions 3–15 mm, contrast ±5–20 HU, placed well inside ``tissue``."""
        rng = self.rng
        dz = float(self.s[0] - self.s[1]) if self.z > 1 else 1.0
        for _ in range(count):
            diameter = float(rng.uniform(3.0, 15.0))
            contrast = float(rng.uniform(5.0, 20.0)) * (1.0 if rng.random() < 0.25 else -1.0)
            zi = int(rng.integers(0, self.z))
            mask = self.labels[zi] == tissue
            if mask.sum() < 50:
                continue
            depth = ndimage.distance_transform_edt(mask) * self.px
            ok = np.flatnonzero(depth.ravel() > diameter / 2 + 3.0)
            if ok.size == 0:
                continue
            r0, c0 = np.unravel_index(int(rng.choice(ok)), mask.shape)
            radius = diameter / 2
            n_xy = int(math.ceil(radius / self.px)) + 2
            n_z = int(math.ceil(radius / dz)) + 1
            zs = slice(max(zi - n_z, 0), min(zi + n_z + 1, self.z))
            rows = slice(max(r0 - n_xy, 0), r0 + n_xy + 1)
            cols = slice(max(c0 - n_xy, 0), c0 + n_xy + 1)
            zz = (np.arange(zs.start, zs.stop, dtype=np.float32) - zi)[:, None, None] * dz
            yy = (np.arange(rows.start, min(rows.stop, self.hu.shape[1]), dtype=np.float32) - r0)[None, :, None] * self.px
            xx = (np.arange(cols.start, min(cols.stop, self.hu.shape[2]), dtype=np.float32) - c0)[None, None, :] * self.px
            d = np.sqrt(zz * zz + yy * yy + xx * xx) - radius
            alpha = coverage(d, self.px)
            organ_mask = self.labels[zs, rows, cols] == tissue
            self.hu[zs, rows, cols] += contrast * alpha * organ_mask
            lab = self.labels[zs, rows, cols]
            lab[(alpha >= 0.5) & organ_mask] = Tissue.LESION
            self.lesions.append(Lesion(organ, (float(zi), float(r0), float(c0)), diameter, contrast))
