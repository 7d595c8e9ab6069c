"""Phantom recipes of the chest: lungs, heart, mediastinum, great vessels (numbers in ``phantom_anatomy``)."""

from __future__ import annotations

import numpy as np

from ldct_viewer.ct import phantom_anatomy as A
from ldct_viewer.ct.phantom_anatomy import Tissue
from ldct_viewer.ct.phantom_shapes import FAR_MM, capsule_distance, coverage, ellipsoid_profile, smoothstep


class ThoraxRecipes:
    """Mixed into the phantom builder (a ``Canvas`` with the per-slice body levels of ``levels()``)."""

    def thorax(self) -> None:
        """Lungs with vessels and airways, heart, mediastinal vessels, trachea, oesophagus."""
        s = self.s
        yc, ac, bca, bcp = self.yc, self.a_cav, self.b_cav_ant, self.b_cav_post
        thor = s < A.THORAX["below"]
        if not np.any(thor):
            # Still paint the paraspinal muscles below.
            self.paraspinal()
            return
        y_front = yc - bca
        self.paraspinal()
        # Heart (ellipsoid, long axis towards the left-anterior chest wall) with epicardial fat.
        H, L = A.HEART, A.LUNG
        centre, half = H["profile"]
        prof_h = ellipsoid_profile(s, centre + self.habitus["dome"] * H["dome_share"], half)
        hx, hy = H["x"][0] + H["x"][1] * ac, yc + H["y_frac"] * bca
        ha, hb = H["axes"][0] * prof_h, H["axes"][1] * prof_h
        blk_h = self.block(hx, hy, H["extent"], H["extent"], present=prof_h > 0)
        blk = self.full()
        # Lungs: inside the cavity, lateral to the mediastinum and spine, above the diaphragm.
        apex = L["apex"]
        g_apex = np.where(s < apex[0], ellipsoid_profile(s, *apex), 1.0).astype(np.float32)
        d_cav = self.d_cav
        base, grow, shrink = L["mediastinum"]
        w_med = base + grow * smoothstep(*L["mediastinum_grow"], s) - shrink * smoothstep(*L["mediastinum_shrink"], s)
        mx = L["mediastinum_x"]
        d_med = capsule_distance(blk.x, blk.y, blk(self.col(mx)), blk(self.col(y_front + L["mediastinum_front"])), blk(self.col(mx)), blk(self.col(self.y_vb)), blk(self.col(w_med)))
        d_heart = self.ellipse(blk, hx, hy, ha + L["heart_margin"], hb + L["heart_margin"], angle=H["angle"])
        dy, da, db = L["spine_margin"]
        d_spine = self.ellipse(blk, 0.0, self.y_vb + dy, self.a_vb + da, self.b_vb + db)
        d_aorta = self.ellipse(blk, self.ao_x, self.ao_y, self.ao_r + L["aorta_margin"], self.ao_r + L["aorta_margin"])
        d_lung = None
        for side in (-1, 1):
            d_side = self.ellipse(blk, side * L["side_frac"] * ac, yc + L["y"], L["half_width_frac"] * ac * g_apex, (0.5 * (bca + bcp) + L["depth_margin"]) * g_apex, power=L["power"])
            d_lung = d_side if d_lung is None else np.minimum(d_lung, d_side)
        d_lung = np.maximum(d_lung, d_cav + L["cavity_margin"])
        for other in (d_med, d_heart, d_spine, d_aorta):
            d_lung = np.maximum(d_lung, -other)
        d_dia = -self.below_diaphragm(blk)
        d_lung = np.maximum(d_lung, d_dia)
        d_lung = np.where(blk(self.col(thor)), d_lung, FAR_MM).astype(np.float32)
        # Diaphragm muscle and pleura as a thin rim around the lung.
        self.paint(blk, d_lung - L["diaphragm_rim"], self.texture(blk, *L["diaphragm_hu"]), Tissue.MUSCLE, mask=(d_dia > L["diaphragm_reach"]).astype(np.float32))
        dep = np.clip((blk.y - blk(self.col(yc))) / L["gravity"], *L["gravity_range"])
        base, gravity, fine, coarse = L["hu"]
        lung = base + gravity * dep + fine * blk(self.tex_fine) + coarse * blk(self.tex_coarse)
        alpha = self.paint(blk, d_lung, lung, Tissue.LUNG)
        # Vessels: intersections of two random level sets are curves in 3D; thicker near the hilum.
        hil_x = np.where(blk.x < 0, *L["hilum_x"])
        dist_hilum = np.sqrt((blk.x - hil_x) ** 2 + (blk.y - blk(self.col(yc + L["hilum_y"]))) ** 2 + (blk(self.col(s)) - L["hilum_level"]) ** 2 * L["hilum_z_weight"])
        thin, thick, reach = L["vessel_radius"]
        thick = thin + thick * np.exp(-dist_hilum / reach)
        tube = np.sqrt(blk(self.tube_a) ** 2 + blk(self.tube_b) ** 2)
        inside = alpha * coverage(d_lung + L["inside_margin"], self.px)
        self.paint(blk, (tube - thick) * L["vessel_sharpness"], self.texture(blk, *L["vessel_hu"]), Tissue.VESSEL, mask=inside)
        # Airways near the hilum: walls then lumen, running beside the vessels.
        tube2 = np.sqrt(blk(self.tube_a) ** 2 + (blk(self.tube_b) - L["airway_offset"]) ** 2)
        br = L["airway_radius"][0] * np.exp(-dist_hilum / L["airway_radius"][1])
        airway = inside * (br > L["airway_min"])
        self.paint(blk, (tube2 - br) * L["vessel_sharpness"], L["airway_wall_hu"], Tissue.AIRWAY, mask=airway)
        self.paint(blk, (tube2 - br * L["airway_lumen"]) * L["vessel_sharpness"], L["airway_hu"], Tissue.AIRWAY, mask=airway)

        # Mediastinal fat, then vessels and heart.
        M = A.MEDIASTINAL_FAT
        blk_m = self.block(M["x"], 0.5 * (y_front + self.y_vb), M["half_width"], 0.5 * (self.y_vb - y_front) + M["margin"], present=thor)
        if blk_m is not None:
            dm = capsule_distance(blk_m.x, blk_m.y, M["x"], blk_m(self.col(y_front + M["front"])), M["x"], blk_m(self.col(self.y_vb)), blk_m(self.col(w_med - M["narrower"])))
            dm = np.maximum(dm, blk_m(d_cav))
            dm = np.maximum(dm, -self.below_diaphragm(blk_m))
            self.paint(blk_m, dm, self.texture(blk_m, *M["hu"]), Tissue.FAT)
        if blk_h is not None:
            d = self.ellipse(blk_h, hx, hy, ha + H["fat"], hb + H["fat"], angle=H["angle"])
            self.paint(blk_h, d, self.texture(blk_h, *H["fat_hu"]), Tissue.FAT)
            d = self.ellipse(blk_h, hx, hy, ha, hb, angle=H["angle"])
            self.paint(blk_h, d, self.texture(blk_h, *H["hu"]), Tissue.HEART)
            for _, x, y, a, b, angle, hu, texture, levels in A.HEART_CHAMBERS:
                if levels is not None:
                    on = (s > levels[0]) & (s < levels[1]) if levels[1] is not None else s > levels[0]
                    a, b = a * prof_h * on, b * prof_h * on
                else:
                    a, b = a * prof_h, b * prof_h
                d = self.ellipse(blk_h, hx + x, hy + y, a, b, **({} if angle is None else {"angle": angle}))
                value = hu if texture is None else hu + texture[1] * blk_h(getattr(self, texture[0]))
                self.paint(blk_h, d, value, Tissue.VESSEL)
        self.great_vessels(yc, bca)
        # Trachea and main bronchi (air lumen, soft-tissue wall), oesophagus.
        T, B, O = A.TRACHEA, A.BRONCHI, A.OESOPHAGUS
        tra = s < T["to"]
        ty = self.y_vb - self.b_vb + T["y"]
        self.disc_vessel(0.0, ty, T["wall"] * tra, T["wall_hu"], Tissue.SOFT_TISSUE)
        self.disc_vessel(0.0, ty, T["lumen"] * tra, T["air_hu"], Tissue.AIRWAY)
        for side in (-1, 1):
            br = ellipsoid_profile(s, *B["profile"])
            bx = side * (B["x"] + B["spread"] * np.clip(s - T["to"], 0.0, B["spread_mm"]))
            self.disc_vessel(bx, ty + B["y"], B["wall"] * (br > 0), T["wall_hu"], Tissue.SOFT_TISSUE)
            self.disc_vessel(bx, ty + B["y"], B["lumen"] * (br > 0), T["air_hu"], Tissue.AIRWAY)
        oes = s < O["to"]
        self.disc_vessel(O["x"], self.y_vb - self.b_vb + O["y"], O["wall"] * oes, O["wall_hu"], Tissue.SOFT_TISSUE)
        self.disc_vessel(O["x"], self.y_vb - self.b_vb + O["y"], O["lumen"] * oes, O["air_hu"], Tissue.AIRWAY)
        # Sternum.
        S = A.STERNUM
        st = (s > S["levels"][0]) & (s < S["levels"][1])
        blk = self.block(0.0, y_front + S["y"], *S["extent"], present=st)
        if blk is not None:
            d = self.ellipse(blk, 0.0, yc - self.b_in_ant + S["centre_y"], S["axes"][0] * st, S["axes"][1] * st)
            self.bone(blk, d, cortex_hu=S["cortex_hu"], marrow_hu=S["marrow_hu"])

    def great_vessels(self, yc, bca) -> None:
        """Ascending aorta, arch, pulmonary trunk and arteries, SVC, the arch's branches."""
        s = self.s
        V = A.ASCENDING_AORTA
        asc = ellipsoid_profile(s, *V["profile"])
        top = yc + V["y_frac"] * bca + V["y"]
        self.disc_vessel(V["x"], top, V["radius"] * (asc > 0) * np.minimum(asc * V["taper"], 1), V["hu"])
        R = A.AORTIC_ARCH
        arch = ellipsoid_profile(s, *R["profile"])
        end_x, end_y = R["to"]
        blk = self.block(R["x"], 0.5 * (top + self.y_vb + end_y), R["half_width"], 0.5 * (self.y_vb - yc - V["y_frac"] * bca) + R["margin"], present=arch > 0)
        if blk is not None:
            d = capsule_distance(blk.x, blk.y, V["x"], blk(self.col(top)), end_x, blk(self.col(self.y_vb + end_y)), blk(self.col(R["radius"] * arch)))
            self.paint(blk, d, R["hu"], Tissue.VESSEL)
        P = A.PULMONARY
        pt = ellipsoid_profile(s, *P["profile"])
        trunk = yc + P["y_frac"] * bca + P["y"]
        self.disc_vessel(P["x"], trunk, P["radius"] * (pt > 0), P["hu"])
        blk = self.block(0.0, yc + P["branch_y_frac"] * bca, *P["extent"], present=pt > P["branch_from"])
        if blk is not None:
            for x1 in P["branch_ends"]:
                d = capsule_distance(blk.x, blk.y, P["x"], blk(self.col(trunk)), x1, blk(self.col(yc + P["branch_end_y_frac"] * bca)), blk(self.col(P["branch_radius"] * (pt > P["branch_from"]))))
                self.paint(blk, d, P["hu"], Tissue.VESSEL)
        C = A.SVC
        svc = (s > C["levels"][0]) & (s < C["levels"][1])
        self.disc_vessel(C["x"], yc + C["y_frac"] * bca + C["y"], C["radius"] * svc, C["hu"])
        K = A.ARCH_BRANCHES
        for k, (x0, dy) in enumerate(K["vessels"]):
            branch = s < K["above"] - K["step"] * k
            self.disc_vessel(x0, yc + V["y_frac"] * bca + K["y"] + dy, K["radius"] * branch, K["hu"])
