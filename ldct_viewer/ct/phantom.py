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

Modules: ``phantom_anatomy`` holds the anatomy as data (sizes, levels, HU, texture amplitudes,
random ranges, the tissue labels); ``phantom_shapes`` the geometry and painting primitives (signed
distances, textures, ``Canvas``); this one the recipes that combine them, structure by structure,
with the chest's in ``phantom_thorax`` and the back's and skeleton's in ``phantom_skeleton``.

Axes: the volume is ``[Z, H, W]`` with index 0 the most caudal slice (ascending patient z, as
the DICOM loader sorts), rows anterior → posterior, columns patient right → left, matching a
series written with identity orientation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ldct_viewer.ct import phantom_anatomy as A
from ldct_viewer.ct.phantom_anatomy import LEVEL_RANGE_MM, Tissue
from ldct_viewer.ct.phantom_shapes import (
    Block,
    Canvas,
    capsule_distance,
    coverage,
    ellipsoid_profile,
    gaussian_random_field,
    smoothstep,
    lerp,
)
from ldct_viewer.ct.phantom_skeleton import SkeletonRecipes
from ldct_viewer.ct.phantom_thorax import ThoraxRecipes


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


class _Builder(ThoraxRecipes, SkeletonRecipes, Canvas):
    """Paints the anatomy back to front on a ``Canvas`` with the numbers of ``phantom_anatomy``
    (imported as ``A``): the methods are geometry recipes only."""

    def __init__(self, size: int, pixel_mm: float, dz: float, levels: np.ndarray, rng: np.random.Generator):
        super().__init__(size, pixel_mm, len(levels))
        self.s = levels
        self.rng = rng
        self.lesions: list[Lesion] = []
        shape = (self.z, size, size)
        spacing = (dz, pixel_mm, pixel_mm)
        for name, correlation_mm, band in A.FIELDS:
            setattr(self, name, gaussian_random_field(rng, shape, spacing, correlation_mm, band=band))
        self.habitus = {name: rng.uniform(lo, hi) for name, (lo, hi) in A.HABITUS.items()}

    # ------------------------------------------------------------------ painting helpers
    def texture(self, blk: Block, base: float, fine: float, coarse: float = 0.0) -> np.ndarray:
        """HU ``(base, fine[, coarse])`` (the table's form): base + fine x fine grain (+ coarse x coarse)."""
        value = base + fine * blk(self.tex_fine)
        if coarse:
            value = value + coarse * blk(self.tex_coarse)
        return value

    def septa(self, blk: Block, amplitude: float, sharpness: float) -> np.ndarray:
        """``amplitude`` x exp(-sharpness x septa^2): thin sheets along the septa field's zero set."""
        septa = blk(self.tex_septa)
        return amplitude * np.exp(-sharpness * septa * septa)

    def bone(self, blk: Block, distance: np.ndarray, *, cortex_mm: float = A.BONE["cortex"],
             cortex_hu: float = A.BONE["cortex_hu"], marrow_hu: float = A.BONE["marrow_hu"]):
        """Cortical shell with trabecular interior (struts from a band-pass field)."""
        B = A.BONE
        self.paint(blk, distance, cortex_hu + B["cortex_fine"] * blk(self.tex_fine), Tissue.BONE_CORTEX)
        trab = blk(self.tex_trabecular)
        low, strut, sharp, fine = B["marrow"]
        marrow = marrow_hu + low + strut * np.exp(-sharp * trab * trab) + fine * blk(self.tex_fine)
        self.paint(blk, distance + cortex_mm, marrow, Tissue.BONE_MARROW)

    def disc_vessel(self, cx, cy, r, hu: float, label: Tissue = Tissue.VESSEL) -> None:
        """A round tube running along z (vessel, trachea...)."""
        r = np.asarray(r, dtype=np.float32) * np.ones(self.z, dtype=np.float32)
        m = A.DISC_VESSEL["margin"]
        blk = self.block(cx, cy, r + m, r + m)
        if blk is None:
            return
        d = self.ellipse(blk, cx, cy, r, r)
        self.paint(blk, d, hu + A.DISC_VESSEL["hu_fine"] * blk(self.tex_fine), label)

    # ------------------------------------------------------------------ anatomy
    def build(self, lesions: bool = True) -> None:
        self.levels()
        self.table()
        self.body_wall()
        self.abdomen()
        self.thorax()
        self.disc_vessel(self.ao_x, self.ao_y, self.ao_r, A.BODY["aorta_hu"])
        self.spine()
        self.ribs()
        if lesions:
            for organ, tissue, (lo, hi) in A.LESIONS:
                self.lesions_in(Tissue[tissue], organ, count=int(self.rng.integers(lo, hi)))

    def levels(self) -> None:
        """Per-slice body dimensions (mm); ``t_abd`` blends thorax (0) into abdomen (1)."""
        s, h, B = self.s, self.habitus, A.BODY
        self.t_abd = smoothstep(*B["abdomen"], s)
        t_upper = 1.0 - smoothstep(*B["upper_chest"], s)
        fat = h["fat"]
        base, k_abd, k_pelvis = B["inner_half_width"]
        self.a_in = h["width"] * (base + k_abd * self.t_abd + k_pelvis * smoothstep(*B["pelvis"], s))
        self.b_in_ant = h["depth"] * lerp(B["inner_front"], self.t_abd)
        self.b_in_post = h["depth"] * lerp(B["inner_back"], self.t_abd)
        self.fat_lat = fat * lerp(B["fat_side"], self.t_abd)
        self.fat_ant = fat * lerp(B["fat_front"], self.t_abd)
        self.fat_post = fat * lerp(B["fat_back"], self.t_abd)
        self.y_back = np.full(self.z, B["back_y"], dtype=np.float32)
        self.yc = self.y_back - self.fat_post - self.b_in_post
        self.mus_lat = lerp(B["muscle_side"], 1.0 - self.t_abd)
        self.mus_ant = lerp(B["muscle_front"], t_upper)
        self.mus_post = lerp(B["muscle_back"], self.t_abd)
        self.a_cav = self.a_in - self.mus_lat
        self.b_cav_ant = self.b_in_ant - self.mus_ant
        self.b_cav_post = self.b_in_post - self.mus_post
        # Spine: vertebral body centre, lumbar bodies larger and further from the back.
        self.a_vb = lerp(B["vertebra_half_width"], smoothstep(*B["lumbar"], s))
        self.b_vb = lerp(B["vertebra_half_depth"], smoothstep(*B["lumbar"], s))
        self.y_vb = self.y_back - self.fat_post - lerp(B["vertebra_from_back"], self.t_abd)
        self.y_canal = self.y_vb + self.b_vb + B["canal_behind_body"]
        # Aorta: descending beside the spine in the chest, anterior to it in the abdomen.
        t_ao = smoothstep(*B["aorta_descent"], s)
        self.ao_x = lerp(B["aorta_x"], t_ao)
        gap, extra = B["aorta_gap"]
        self.ao_y = self.y_vb - gap - (self.b_vb + extra) * t_ao
        self.ao_r = lerp(B["aorta_radius"], t_ao) * smoothstep(*B["aorta_start"], s)
        # Diaphragm domes (level of the dome top; right higher than left).
        self.dome_r = B["dome_right"] + h["dome"]
        self.dome_l = B["dome_left"] + h["dome"]

    def table(self) -> None:
        """Curved patient table (thin carbon shells around a foam core) below the body."""
        T = A.PATIENT_TABLE
        blk = self.full()
        top = blk(self.col(self.y_back)) + T["gap"] - blk.x * blk.x / T["curvature_mm2"]
        d_outer = np.maximum(top - blk.y, blk.y - top - T["thickness"])
        self.paint(blk, d_outer, T["shell_hu"], Tissue.TABLE)
        self.paint(blk, d_outer + T["shell"], T["core_hu"] + T["core_coarse"] * blk(self.tex_coarse), Tissue.TABLE)

    def body_wall(self) -> None:
        """Skin, subcutaneous fat with septa, muscle wall, visceral/mediastinal fat."""
        W = A.WALL
        blk = self.full()
        yc = self.yc
        a_out = self.a_in + self.fat_lat
        d_skin = self.ellipse(blk, 0.0, yc, a_out, self.b_in_post + self.fat_post, power=W["skin_power"], b_neg=blk(self.col(self.b_in_ant + self.fat_ant)))
        self.paint(blk, d_skin, self.texture(blk, *W["skin_hu"]), Tissue.SKIN)
        base, fine, coarse = W["fat_hu"]
        fat_value = base + fine * blk(self.tex_fine) + coarse * blk(self.tex_coarse) + self.septa(blk, *W["fat_septa"])
        self.paint(blk, d_skin + W["skin"], fat_value, Tissue.FAT)
        d_in = self.ellipse(blk, 0.0, yc, self.a_in, self.b_in_post, power=W["muscle_power"], b_neg=blk(self.col(self.b_in_ant)))
        amplitude, sharpness = W["muscle_septa"]
        septa = blk(self.tex_septa)
        muscle = self.texture(blk, *W["muscle_hu"]) - amplitude * np.exp(-sharpness * septa * septa) * blk(self.tex_coarse) ** 2
        self.paint(blk, d_in, muscle, Tissue.MUSCLE)
        d_cav = self.ellipse(blk, 0.0, yc, self.a_cav, self.b_cav_post, power=W["cavity_power"], b_neg=blk(self.col(self.b_cav_ant)))
        self.d_cav = d_cav
        base, fine, coarse = W["visceral_hu"]
        visceral = base + fine * blk(self.tex_fine) + coarse * blk(self.tex_coarse) + self.septa(blk, *W["visceral_septa"])
        self.paint(blk, d_cav, visceral, Tissue.FAT)
        # Fat planes between the oblique muscle layers of the lateral abdominal wall.
        lateral = smoothstep(0.0, 1.0, (np.abs(blk.x) - W["oblique_from"] * blk(self.col(self.a_in))) / W["oblique_ramp"]) * blk(self.col(self.t_abd))
        for frac in W["oblique_planes"]:
            plane = np.abs(d_in + blk(self.col(self.mus_lat * frac))) - W["oblique_half"]
            self.paint(blk, plane, W["oblique_hu"], Tissue.FAT, mask=lateral * coverage(d_cav, self.px, 1.0).__rsub__(1.0))
        # Linea alba: thin fat gap between the two rectus muscles in the anterior midline.
        y_front = self.yc - self.b_in_ant
        blk2 = self.block(0.0, y_front + self.mus_ant / 2, W["linea_alba_half_width"], self.mus_ant, present=self.t_abd > W["linea_alba_from"])
        if blk2 is not None:
            d = capsule_distance(blk2.x, blk2.y, 0.0, blk2(self.col(y_front - 1)), 0.0, blk2(self.col(y_front + self.mus_ant + 1)), W["linea_alba_radius"])
            self.paint(blk2, d, W["linea_alba_hu"], Tissue.FAT, mask=blk2(self.col(self.t_abd)))

    def below_diaphragm(self, blk: Block) -> np.ndarray:
        """Signed in-plane distance (mm) to the diaphragm: negative below it (abdomen side)."""
        D = A.DIAPHRAGM
        s = blk(self.col(self.s))
        yc = blk(self.col(self.yc))
        ac = blk(self.col(self.a_cav))
        reach = D["reach_frac"] * ac
        rise, back, depth = D["rise"], D["back_rise"], D["back_depth"]
        out = None
        for xd, s0 in ((-D["dome_x_frac"], self.dome_r), (D["dome_x_frac"], self.dome_l)):
            dx = blk.x - xd * ac
            dy = blk.y - (yc + D["centre_y"])
            r2 = (dx * dx + dy * dy) / (reach * reach)
            post = back * np.clip((blk.y - yc) / depth, 0.0, D["back_max"])
            s_dia = s0 + rise * r2 + post
            grad = np.sqrt((2 * rise * dx / reach**2) ** 2 + (2 * rise * dy / reach**2 + back / depth) ** 2)
            d = (s_dia - s) / np.maximum(grad, D["min_gradient"])
            out = d if out is None else np.minimum(out, d)
        return out

    def abdomen(self) -> None:
        """Bowel, stomach, liver, gallbladder, spleen, pancreas, kidneys, abdominal vessels."""
        s, rng = self.s, self.rng
        yc, ac, bca, bcp = self.yc, self.a_cav, self.b_cav_ant, self.b_cav_post
        y_front = yc - bca
        # Bowel loops: tubes wandering through the lower abdomen.
        B, margin = A.BOWEL, A.BOWEL_CAVITY_MARGIN
        period_x, period_y = B["wobble_periods"]
        for _ in range(B["count"]):
            s0 = rng.uniform(*B["centre"])
            half = rng.uniform(*B["half"])
            prof = ellipsoid_profile(s, s0, half) ** B["profile_power"]
            fx = rng.uniform(*B["x_frac"])
            fy = rng.uniform(*B["y_frac"])
            phase = rng.uniform(0, 2 * np.pi, size=3)
            wob = rng.uniform(*B["wobble"])
            cx = fx * ac + wob * np.sin(s / period_x + phase[0])
            cy = yc + fy * bca + wob * np.cos(s / period_y + phase[1])
            ang = phase[2] + s / B["turn_period"]
            length = rng.uniform(*B["length"])
            r = rng.uniform(*B["radius"]) * (prof > 0)
            x1, y1 = cx + length * np.cos(ang), cy + length * np.sin(ang)
            reach = length / 2 + r + B["margin"]
            blk = self.block((cx + x1) / 2, (cy + y1) / 2, reach, reach, present=prof > 0)
            if blk is None:
                continue
            d = capsule_distance(blk.x, blk.y, blk(self.col(cx)), blk(self.col(cy)), blk(self.col(x1)), blk(self.col(y1)), blk(self.col(r)))
            d = np.maximum(d, blk(self.d_cav) + margin)
            self.paint(blk, d, self.texture(blk, *B["wall_hu"]), Tissue.BOWEL_WALL)
            content = rng.choice(B["contents"])
            self.paint(blk, d + B["wall"], self.bowel_content(blk, content), Tissue.BOWEL_CONTENT)
        # Colon: ascending (right), descending (left), transverse (anterior).
        C = A.COLON_WALL
        for fx, fy, r, lo, hi in A.COLON:
            present = (s > lo) & (s < hi)
            cx = fx * ac + C["wobble"] * np.sin(s / C["periods"][0])
            cy = yc + fy * bcp + C["wobble"] * np.cos(s / C["periods"][1])
            blk = self.block(cx, cy, r + 3, r + 3, present=present)
            if blk is None:
                continue
            rr = r * smoothstep(lo, lo + C["grow"], s)
            d = self.ellipse(blk, cx, cy, rr, rr * C["flatten"])
            d = np.maximum(d, blk(self.d_cav) + C["margin"])
            self.paint(blk, d, C["wall_hu"], Tissue.BOWEL_WALL)
            self.paint(blk, d + C["wall"], self.bowel_content(blk, "stool", cy=cy), Tissue.BOWEL_CONTENT)
        T = A.TRANSVERSE_COLON
        prof_t = ellipsoid_profile(s, *T["profile"])
        blk = self.block(0.0, y_front + T["centre_y"], T["half_width_frac"] * ac + T["margin"], T["half_depth"], present=prof_t > 0)
        if blk is not None:
            yt = y_front + T["y"] + T["sag"] * np.sin(s / T["sag_period"])
            end = T["end_frac"]
            d = capsule_distance(blk.x, blk.y, blk(self.col(-end * ac)), blk(self.col(yt + T["right_drop"])), blk(self.col(end * ac)), blk(self.col(yt)), blk(self.col(T["radius"] * prof_t)) * (1.0 + T["haustra"] * np.sin(blk.x / T["haustra_period"])))
            d = np.maximum(d, blk(self.d_cav) + C["margin"])
            self.paint(blk, d, C["wall_hu"], Tissue.BOWEL_WALL)
            self.paint(blk, d + C["wall"], self.bowel_content(blk, "stool", cy=yt + T["stool_y"]), Tissue.BOWEL_CONTENT)

        # Stomach (left upper quadrant), air-fluid level horizontal because the patient is supine.
        S = A.STOMACH
        prof = ellipsoid_profile(s, *S["profile"])
        sx, sy = S["x_frac"] * ac, yc + S["y_frac"] * bca
        blk = self.block(sx, sy, S["extent"], S["extent"], present=prof > 0)
        if blk is not None:
            d = self.ellipse(blk, sx, sy, S["axes"][0] * prof, S["axes"][1] * prof, angle=S["angle"])
            d = np.maximum(d, self.below_diaphragm(blk) + S["below_diaphragm"])
            self.paint(blk, d, self.texture(blk, *S["wall_hu"]), Tissue.STOMACH)
            level = blk(self.col(sy + S["level"]))
            contents = np.where(blk.y < level, S["air_hu"], self.texture(blk, *S["fluid_hu"])).astype(np.float32)
            self.paint(blk, d + S["wall"], contents, Tissue.BOWEL_CONTENT)

        # Liver: right lobe plus left lobe crossing the midline anteriorly, capped by the dome.
        L = A.LIVER
        g_r = np.where(s < L["right_full_above"], 1.0, ellipsoid_profile(s, *L["right_profile"])).astype(np.float32)
        g_l = np.where(s < L["left_full_above"], 1.0, ellipsoid_profile(s, *L["left_profile"])).astype(np.float32)
        shift_x, shift_y = L["right_shift"]
        lx, ly = L["right_x_frac"] * ac + shift_x * (1 - g_r), yc + L["right_y"] + shift_y * (1 - g_r)
        blk = self.block(0.0, yc, ac, np.maximum(bca, bcp), present=(g_r > 0) & (s > L["from_level"]))
        if blk is not None:
            fa, fb_post, fb_ant = L["right_axes_frac"]
            d_r = self.ellipse(blk, lx, ly, fa * ac * g_r, fb_post * bcp * g_r, power=L["right_power"], b_neg=blk(self.col(fb_ant * bca * g_r)))
            la, lb = L["left_axes"]
            d_l = self.ellipse(blk, L["left_x_frac"] * ac, y_front + L["left_y"], la * ac * g_l, lb * g_l, angle=L["left_angle"])
            k = L["union_mm"]
            h = np.clip(0.5 + 0.5 * (d_l - d_r) / k, 0.0, 1.0)
            d = d_l * (1 - h) + d_r * h - k * h * (1 - h)  # smooth union
            d = np.maximum(d, blk(self.d_cav) + L["cavity_margin"])
            d = np.maximum(d, self.below_diaphragm(blk) + L["below_diaphragm"])
            alpha = self.paint(blk, d, self.texture(blk, *L["hu"]), Tissue.LIVER)
            tube = np.sqrt(blk(self.tube_a) ** 2 + blk(self.tube_b) ** 2)
            porta = np.sqrt((blk.x - L["porta_x_frac"] * blk(self.col(ac))) ** 2 + (blk.y - blk(self.col(yc))) ** 2
                            + L["porta_z_weight"] * (blk(self.col(s)) - L["porta_level"]) ** 2)
            thin, thick, reach = L["vessel_radius"]
            vessels = (tube - (thin + thick * np.exp(-porta / reach))) * L["vessel_sharpness"]
            self.paint(blk, vessels, self.texture(blk, *L["vessel_hu"]), Tissue.VESSEL, mask=(alpha > L["vessel_inside"]).astype(np.float32) * coverage(d + L["vessel_margin"], self.px))
        # Gallbladder at the inferior surface of the liver: wall, then bile.
        G = A.GALLBLADDER
        prof = ellipsoid_profile(s, *G["profile"])
        gx, gy = G["x_frac"] * ac, y_front + G["y"]
        blk = self.block(gx, gy, *G["extent"], present=prof > 0)
        if blk is not None:
            d = self.ellipse(blk, gx, gy, G["axes"][0] * prof, G["axes"][1] * prof, angle=G["angle"])
            self.paint(blk, d, G["wall_hu"], Tissue.GALLBLADDER)
            self.paint(blk, d + G["wall"], self.texture(blk, *G["bile_hu"]), Tissue.GALLBLADDER)

        # Spleen: crescent along the left posterolateral wall.
        P = A.SPLEEN
        prof = ellipsoid_profile(s, *P["profile"])
        px_, py_ = P["x_frac"] * ac, yc + P["y_frac"] * bcp
        blk = self.block(px_, py_, P["extent"], P["extent"], present=prof > 0)
        if blk is not None:
            d_o = self.ellipse(blk, px_, py_, P["outer"][0] * prof, P["outer"][1] * prof, angle=P["angle"])
            d_i = self.ellipse(blk, px_ + P["inner_shift"][0], py_ + P["inner_shift"][1], P["inner"][0] * prof, P["inner"][1] * prof, angle=P["angle"])
            d = np.maximum(np.maximum(d_o, -d_i), blk(self.d_cav) + P["cavity_margin"])
            d = np.maximum(d, self.below_diaphragm(blk) + P["below_diaphragm"])
            self.paint(blk, d, self.texture(blk, *P["hu"]), Tissue.SPLEEN)

        # Abdominal aorta (build), IVC, SMA/SMV, pancreas with the splenic vein, portal vein.
        V = A.IVC
        ix, iy = V["x"], self.y_vb - self.b_vb + V["y"]
        blk = self.block(ix, iy, *V["extent"], present=s > V["from_level"])
        if blk is not None:
            d = self.ellipse(blk, ix, iy, *V["axes"])
            self.paint(blk, d, self.texture(blk, *V["hu"]), Tissue.VESSEL)
        M = A.MESENTERIC
        for x0, dxy, r, hu, lo in M["vessels"]:
            blk = self.block(x0, self.y_vb - self.b_vb + dxy - M["y_shift"], M["extent"], M["extent"], present=(s > lo) & (s < M["to"]))
            if blk is not None:
                d = self.ellipse(blk, x0, self.y_vb - self.b_vb + dxy - M["y_shift"], r, r)
                self.paint(blk, d, hu, Tissue.VESSEL)
        P = A.PANCREAS
        prof = ellipsoid_profile(s, *P["profile"])
        blk = self.block(P["x_frac"] * ac, self.y_vb + P["y"], P["half_width_frac"] * ac, P["half_depth"], present=prof > 0)
        if blk is not None:
            x0, y0 = P["head"][0], self.y_vb - self.b_vb + P["head"][1]
            x1, y1 = P["tail"][0] * ac, self.y_vb + P["tail"][1]
            dp = capsule_distance(blk.x, blk.y, x0, blk(self.col(y0)), blk(self.col(x1)), blk(self.col(y1)), blk(self.col(P["radius"] * prof)))
            amplitude, sharpness = P["lobules"]
            lob = blk(self.tex_septa)
            self.paint(blk, dp, self.texture(blk, *P["hu"]) - amplitude * np.exp(-sharpness * lob * lob), Tissue.PANCREAS)
            vx0, vy0, vx1, vy1 = P["vein_shift"]
            dv = capsule_distance(blk.x, blk.y, x0 + vx0, blk(self.col(y0 + vy0)), blk(self.col(x1 + vx1)), blk(self.col(y1 + vy1)), blk(self.col(P["vein_radius"] * prof)))
            self.paint(blk, dv, P["vein_hu"], Tissue.VESSEL)
        P = A.PORTAL_VEIN
        prof = ellipsoid_profile(s, *P["profile"])
        blk = self.block(P["x"], self.y_vb + P["y"], *P["extent"], present=prof > 0)
        if blk is not None:
            (xa, ya), (xb, yb) = P["from"], P["to"]
            d = capsule_distance(blk.x, blk.y, xa, blk(self.col(self.y_vb + ya)), xb, blk(self.col(self.y_vb + yb)), blk(self.col(P["radius"] * prof)))
            self.paint(blk, d, P["hu"], Tissue.VESSEL)

        # Kidneys with perirenal fat, cortex, medullary pyramids, sinus fat, pelvis, renal vessels.
        K = A.KIDNEY
        for side, centre in K["levels"]:
            centre = centre + self.habitus["kidney_shift"]
            prof = ellipsoid_profile(s, centre, K["half"])
            kx, ky = side * (K["x"][0] + K["x"][1] * self.a_vb), self.y_vb + K["y"]
            blk = self.block(kx, ky, K["extent"], K["extent"], present=prof > 0)
            if blk is None:
                continue
            ang = -side * K["tilt"]
            a, b = K["axes"][0] * prof, K["axes"][1] * prof
            d_fat = self.ellipse(blk, kx + side * K["fat_shift"][0], ky + K["fat_shift"][1], a + K["fat_margin"][0] * prof, b + K["fat_margin"][1] * prof, angle=ang)
            self.paint(blk, d_fat, self.texture(blk, *K["fat_hu"]), Tissue.FAT)
            d = self.ellipse(blk, kx, ky, a, b, angle=ang)
            self.paint(blk, d, self.texture(blk, *K["cortex_hu"]), Tissue.KIDNEY_CORTEX)
            # Medullary pyramids: slightly darker lobes on a ring, apices towards the sinus.
            middle = K["pyramids"] // 2
            for j in range(K["pyramids"]):
                phi = ang + np.pi / 2 * side + (j - middle) * K["pyramid_step"] + np.pi
                mx = kx + K["pyramid_ring"] * a * np.cos(phi)
                my = ky + K["pyramid_ring"] * b * np.sin(phi)
                dm = self.ellipse(blk, mx, my, K["pyramid_axes"][0] * a, K["pyramid_axes"][1] * a, angle=phi)
                self.paint(blk, dm, self.texture(blk, *K["medulla_hu"]), Tissue.KIDNEY_MEDULLA)
            # Sinus opens towards the hilum (anteromedial).
            frac, stretch = K["sinus_reach"]
            hx = kx - side * frac * a * math.cos(K["tilt"]) * stretch
            hy = ky - frac * a * math.sin(K["tilt"]) * stretch
            hilum = prof > K["sinus_from"]
            d_sinus = self.ellipse(blk, hx, hy, K["sinus_axes"][0] * a * hilum, K["sinus_axes"][1] * b * hilum, angle=ang)
            self.paint(blk, d_sinus, self.texture(blk, *K["sinus_hu"]), Tissue.FAT)
            self.paint(blk, d_sinus + K["pelvis"], K["pelvis_hu"], Tissue.BOWEL_CONTENT)
            vessel_on = (prof > K["vessel_from"]) & (s > centre - K["vessel_span"]) & (s < centre)
            target_x = K["vessel_x"][0] if side > 0 else K["vessel_x"][1]
            dv = capsule_distance(blk.x, blk.y, blk(self.col(hx)), blk(self.col(hy)), target_x, blk(self.col(self.y_vb - self.b_vb + K["vessel_y"])), blk(self.col(K["vessel_radius"] * vessel_on)))
            self.paint(blk, dv, K["vessel_hu"], Tissue.VESSEL)
        # Psoas and quadratus lumborum beside the lumbar spine.
        P, Q = A.PSOAS, A.QUADRATUS
        for side in (-1, 1):
            g = smoothstep(*P["blend"], s)
            r = lerp(P["radius"], g)
            blk = self.block(side * (self.a_vb + r * P["offset"]), self.y_vb, r + P["margin"], r + P["margin"], present=s > P["blend"][0])
            if blk is not None:
                d = self.ellipse(blk, side * (self.a_vb + r * P["offset"]), self.y_vb + P["y"], r, r * P["flatten"])
                self.paint(blk, d, self.texture(blk, *P["hu"]), Tissue.MUSCLE)
            ql = smoothstep(*Q["blend"], s)
            blk = self.block(side * (self.a_vb + Q["x"]), self.y_vb + Q["y"], *Q["extent"], present=s > Q["blend"][0])
            if blk is not None:
                d = self.ellipse(blk, side * (self.a_vb + Q["centre"][0]), self.y_vb + Q["centre"][1], Q["axes"][0] * ql, Q["axes"][1] * ql, angle=side * Q["angle"])
                self.paint(blk, d, self.texture(blk, *Q["hu"]), Tissue.MUSCLE)

    def bowel_content(self, blk: Block, kind: str, cy=None) -> np.ndarray:
        C = A.CONTENTS
        fine, coarse = blk(self.tex_fine), blk(self.tex_coarse)
        if kind == "fluid":
            base, f, c = C["fluid"]
            return (base + f * fine + c * coarse).astype(np.float32)
        if kind == "air":
            return np.full(fine.shape, C["air"], dtype=np.float32)
        if kind == "mixed":
            base, f = C["mixed_hu"]
            return np.where(coarse + C["mixed_fine"] * fine > C["mixed_gas"], C["air"], base + f * fine).astype(np.float32)
        # Stool: mottled gas and solid, gas rising anteriorly.
        gas = (coarse + C["stool_fine"] * fine > C["stool_gas"]) | (blk.y < blk(self.col(cy)) - C["stool_gas_above"])
        gas_base, gas_fine = C["stool_gas_hu"]
        base, septa, f = C["stool_hu"]
        return np.where(gas, gas_base + gas_fine * fine, base + septa * blk(self.tex_septa) + f * fine).astype(np.float32)

    def lesions_in(self, tissue: Tissue, organ: str, count: int) -> None:
        """Spherical low-contrast lesions (``LESION``: size, contrast), placed well inside ``tissue``."""
        rng, L = self.rng, A.LESION
        dz = float(self.s[0] - self.s[1]) if self.z > 1 else 1.0
        for _ in range(count):
            diameter = float(rng.uniform(*L["diameter"]))
            contrast = float(rng.uniform(*L["contrast"])) * (1.0 if rng.random() < L["bright_share"] else -1.0)
            zi = int(rng.integers(0, self.z))
            mask = self.labels[zi] == tissue
            if mask.sum() < L["min_voxels"]:
                continue
            depth = ndimage.distance_transform_edt(mask) * self.px
            ok = np.flatnonzero(depth.ravel() > diameter / 2 + L["margin"])
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
