"""Phantom recipes of the back and skeleton: paraspinal muscles, vertebrae, ribs (numbers in ``phantom_anatomy``)."""

from __future__ import annotations

import math

import numpy as np

from ldct_viewer.ct import phantom_anatomy as A
from ldct_viewer.ct.phantom_anatomy import Tissue
from ldct_viewer.ct.phantom_shapes import Block, capsule_distance, lerp, smoothstep, superellipse_distance


class SkeletonRecipes:
    """Mixed into the phantom builder (a ``Canvas`` with the per-slice body levels of ``levels()``)."""

    def paraspinal(self) -> None:
        """Erector spinae muscle masses either side of the spinous processes."""
        P = A.PARASPINAL
        for side in (-1, 1):
            cx = side * lerp(P["x"], self.t_abd)
            cy = self.y_canal + P["y"]
            a = lerp(P["a"], self.t_abd)
            b = lerp(P["b"], self.t_abd)
            blk = self.block(cx, cy, a + P["margin"], b + P["margin"])
            d = self.ellipse(blk, cx, cy, a, b, power=P["power"])
            amplitude, sharpness = P["septa"]
            septa = blk(self.tex_septa)
            self.paint(blk, d, self.texture(blk, *P["hu"]) - amplitude * np.exp(-sharpness * septa * septa), Tissue.MUSCLE)

    def spine(self) -> None:
        """Vertebral bodies with discs, canal, laminae, spinous and transverse processes."""
        s, S = self.s, A.SPINE
        lumbar = smoothstep(*A.BODY["lumbar"], s)
        height = lerp(S["height"], lumbar)
        phase = np.cumsum(np.concatenate([[0.0], np.abs(np.diff(s)) / height[1:]])) + s[0] / height[0]
        phase = np.mod(phase, 1.0).astype(np.float32)
        disc_frac = lerp(S["disc_share"], lumbar)
        is_disc = phase < disc_frac
        blk = self.block(0.0, self.y_vb, self.a_vb + S["margin"], self.b_vb + S["margin"])
        d = self.ellipse(blk, 0.0, self.y_vb, self.a_vb, self.b_vb, power=S["power"])
        # Flattened posterior wall facing the canal.
        d = np.maximum(d, blk.y - blk(self.col(self.y_vb + self.b_vb * S["flat_back"])))
        disc = blk(self.col(is_disc.astype(np.float32)))
        self.paint(blk, d, self.texture(blk, *S["disc_hu"]), Tissue.DISC, mask=disc)
        self.paint(blk, d - S["nucleus"], self.texture(blk, *S["nucleus_hu"]), Tissue.DISC, mask=disc)
        self.paint(blk, d, self.texture(blk, *S["cortex_hu"]), Tissue.BONE_CORTEX, mask=1.0 - disc)
        trab = blk(self.tex_trabecular)
        base, strut, sharp, fine = S["marrow_hu"]
        marrow = base + strut * np.exp(-sharp * trab * trab) + fine * blk(self.tex_fine)
        self.paint(blk, d + S["cortex"], marrow, Tissue.BONE_MARROW, mask=1.0 - disc)
        # Posterior elements: present on the upper part of each vertebra (not at the disc).
        lamina = (phase < S["lamina_to"]).astype(np.float32)
        pedicle = ((phase > S["pedicle"][0]) & (phase < S["pedicle"][1])).astype(np.float32)
        cy = self.y_canal
        blk = self.block(0.0, cy + S["arch_centre"], *S["arch_extent"])
        ycol = blk(self.col(cy))
        tp = blk(self.col(S["transverse_grow"] * self.t_abd))

        def capsules(rows, pull=None):
            out = None
            for i, (x0, dy0, x1, dy1, r) in enumerate(rows):
                y1 = ycol + dy1
                if pull == "y":  # the spinous tip, pulled in
                    y1 = y1 - tp
                elif pull == "x":  # transverse tips, pushed out
                    x1 = x1 - tp if x1 < 0 else x1 + tp
                d = capsule_distance(blk.x, blk.y, x0, ycol + dy0, x1, y1, r)
                out = d if out is None else np.minimum(out, d)
            return out

        arch = np.minimum(np.minimum(capsules(A.LAMINAE), capsules([A.SPINOUS], pull="y")), capsules(A.FACETS))
        ped = np.minimum(capsules(A.PEDICLES), capsules(A.TRANSVERSE, pull="x"))
        base, strut, sharp = S["elements_marrow"]
        trab = base + strut * np.exp(-sharp * blk(self.tex_trabecular) ** 2)
        for d, on in ((arch, lamina), (ped, pedicle)):
            pmask = blk(self.col(on))
            self.paint(blk, d, self.texture(blk, *S["elements_hu"]), Tissue.BONE_CORTEX, mask=pmask)
            self.paint(blk, d + S["elements_cortex"], trab, Tissue.BONE_MARROW, mask=pmask)
        # Canal: CSF with the cord (thoracic) / cauda equina (lumbar).
        ex, ey, ca, cb = S["canal"]
        blk = self.block(0.0, cy, ex, ey)
        d = self.ellipse(blk, 0.0, cy, ca, cb)
        self.paint(blk, d, self.texture(blk, *S["csf_hu"]), Tissue.CSF)
        cord = 1.0 - smoothstep(*S["cord_blend"], s)
        d = self.ellipse(blk, 0.0, cy, S["cord"][0] * cord, S["cord"][1] * cord)
        self.paint(blk, d, S["cord_hu"], Tissue.SOFT_TISSUE)

    def ribs(self) -> None:
        """Twelve rib pairs; each descends ~90 mm from the spine to the front, so a slice cuts
        every rib at a different angle around the chest wall."""
        s, R = self.s, A.RIBS
        rate, length = R["descent"]
        side_share, back_share, front_share = R["wall_share"]
        for k in range(R["pairs"]):
            s_head = R["head"][0] + R["head"][1] * k
            theta_end = R["end"][0] - R["end"][1] * k - (R["floating_short"] if k >= R["floating_from"] else 0.0)
            for zi in range(self.z):
                theta = R["start"] + (s[zi] - s_head) * rate / length
                if theta < R["start"] or theta > theta_end:
                    continue
                ra = self.a_in[zi] - side_share * self.mus_lat[zi]
                rb_post = self.b_in_post[zi] - back_share * self.mus_post[zi] + R["back_out"]
                rb_ant = self.b_in_ant[zi] - front_share * self.mus_ant[zi]
                for side in (-1, 1):
                    rb = rb_post if math.cos(theta) > 0 else rb_ant
                    cx = side * ra * math.sin(theta)
                    cy = self.yc[zi] + rb * math.cos(theta)
                    if theta < R["neck_to"]:  # rib neck hugs the transverse process
                        cx = side * max(abs(cx), R["neck"][0] + R["neck"][1] * theta)
                    tang = math.atan2(-rb * math.sin(theta), side * ra * math.cos(theta))
                    cart = theta > theta_end - R["cartilage"] and k < R["floating_from"]
                    e = R["extent"]
                    rows = self.grid.index_range(cy - e, cy + e)
                    cols = self.grid.index_range(cx - e, cx + e)
                    x, y = self.grid.coords(rows, cols)
                    blk = Block(slice(zi, zi + 1), rows, cols, x, y)
                    d = superellipse_distance(x, y, np.float32(cx), np.float32(cy), np.float32(R["axes"][0]), np.float32(R["axes"][1]), angle=np.float32(tang))
                    if cart:
                        self.paint(blk, d, self.texture(blk, *R["cartilage_hu"]), Tissue.SOFT_TISSUE)
                    else:
                        self.bone(blk, d, cortex_mm=R["cortex"], cortex_hu=R["cortex_hu"], marrow_hu=R["marrow_hu"])
