"""The procedural phantom's anatomy as data: sizes, positions, body levels, HU and texture, read by
``phantom._Builder`` (which holds only the geometry recipes).

Why a table: the numbers are the anatomy; kept apart from the painting code they can be read,
compared with an atlas and tuned without touching geometry. Every phantom depends on every number,
so a change here changes all generated volumes (``tests/test_ct_phantom.py`` holds their digests).

Conventions:
- lengths in mm; x from the body midline to the patient's left (image right), y from the front of
  the body towards the table (posterior); a body level ``s`` is mm below the lung apex;
- ``profile: (centre, half_length)``: an organ's cross-section scale along z
  (``phantom_shapes.ellipsoid_profile``, round poles); ``blend: (lo, hi)``: a smoothstep from 0 at
  level lo to 1 at hi;
- a pair ``(base, k)`` is ``base + k * t`` for the blend t named beside it;
- HU with texture: ``(base, fine, coarse)`` = base + fine x the fine texture (+ coarse x the coarse
  one); fractions such as ``x_frac`` scale the body cavity's half-width (``a_cav``) or depths.
"""

from __future__ import annotations

import enum

#: Body levels (mm below the lung apex) the anatomy is defined for: lung apex to lower abdomen.
LEVEL_RANGE_MM = (0.0, 520.0)

#: Random texture fields (name, correlation mm, band-pass cycles/mm or None), drawn from the seed in
#: this order: fine tissue grain, coarse heterogeneity, fat septa, trabecular struts, and two smooth
#: fields whose joint level sets are the vessel and airway trees.
FIELDS = (
    ("tex_fine", 1.2, None),
    ("tex_coarse", 7.0, None),
    ("tex_septa", 0.0, (0.06, 0.14)),
    ("tex_trabecular", 0.0, (0.35, 0.75)),
    ("tube_a", 6.0, None),
    ("tube_b", 6.0, None),
)

#: Per-patient build, uniform ranges drawn in this order: width and depth scale, subcutaneous fat
#: scale, diaphragm dome shift (mm), kidney level shift (mm).
HABITUS = {"width": (0.9, 1.05), "depth": (0.92, 1.06), "fat": (0.5, 1.5), "dome": (-12.0, 12.0),
           "kidney_shift": (-15.0, 15.0)}

#: Body outline, wall and landmarks per level; t_abd = the ``abdomen`` blend (thorax 0 -> abdomen 1).
BODY = {
    "abdomen": (200.0, 330.0),
    "upper_chest": (40.0, 170.0),          # t_upper = 1 - this blend
    "pelvis": (420.0, 520.0),
    "inner_half_width": (136.0, 6.0, 8.0),  # + 6 t_abd + 8 pelvis blend, x habitus width
    "inner_front": (92.0, 6.0),            # x habitus depth
    "inner_back": (98.0, -4.0),
    "fat_side": (10.0, 22.0),              # x habitus fat
    "fat_front": (8.0, 20.0),
    "fat_back": (7.0, 8.0),
    "back_y": 128.0,                       # skin of the back, resting on the table
    "muscle_side": (7.0, 4.0),             # base + k (1 - t_abd)
    "muscle_front": (7.0, 14.0),           # base + k t_upper
    "muscle_back": (26.0, -14.0),
    "lumbar": (120.0, 420.0),              # vertebrae grow towards the lumbar spine
    "vertebra_half_width": (15.0, 9.0),    # base + k lumbar blend
    "vertebra_half_depth": (12.5, 4.5),
    "vertebra_from_back": (60.0, 16.0),    # vertebral body centre to the back's skin less fat
    "canal_behind_body": 9.0,
    "aorta_descent": (215.0, 300.0),       # beside the spine in the chest, in front of it below
    "aorta_x": (24.0, -12.0),
    "aorta_gap": (10.0, 3.0),              # in front of the vertebra: 10 mm, then + (b_vb + 3) blend
    "aorta_radius": (12.0, -1.5),
    "aorta_start": (66.0, 76.0),           # the arch: the descending aorta begins
    "aorta_hu": 192.0,
    "dome_right": 245.0,                   # diaphragm dome tops (levels), + habitus dome
    "dome_left": 258.0,
}

#: Curved patient table: carbon shells around a foam core.
PATIENT_TABLE = {"gap": 3.0, "curvature_mm2": 2500.0, "thickness": 28.0, "shell_hu": 250.0, "shell": 2.0,
                 "core_hu": -930.0, "core_coarse": 15.0}

#: Skin, subcutaneous fat, muscle wall, visceral fat (superellipse powers; septa sharpness).
WALL = {
    "skin_power": 2.3, "skin_hu": (35.0, 8.0), "skin": 2.0,
    "fat_hu": (-108.0, 4.0, 5.0), "fat_septa": (45.0, 120.0),          # + 45 exp(-120 septa^2)
    "muscle_power": 2.3, "muscle_hu": (52.0, 6.0), "muscle_septa": (35.0, 60.0),
    "cavity_power": 2.2, "visceral_hu": (-98.0, 4.0, 6.0), "visceral_septa": (35.0, 80.0),
    "oblique_planes": (0.33, 0.66), "oblique_from": 0.45, "oblique_ramp": 25.0, "oblique_half": 0.35,
    "oblique_hu": -50.0,
    "linea_alba_from": 0.2, "linea_alba_half_width": 3.0, "linea_alba_radius": 1.2, "linea_alba_hu": -80.0,
}

#: Diaphragm: two domes, a paraboloid in (x, y) rising towards the back.
DIAPHRAGM = {"dome_x_frac": 0.42, "reach_frac": 0.8, "centre_y": -5.0, "rise": 70.0, "back_rise": 28.0,
             "back_depth": 80.0, "back_max": 1.5, "min_gradient": 0.4}

#: Bowel loops: ``count`` tubes, each drawn from these uniform ranges (in this order).
BOWEL = {"count": 80, "centre": (300.0, 600.0), "half": (30.0, 80.0), "profile_power": 0.3,
         "x_frac": (-0.8, 0.8), "y_frac": (-0.9, 0.45), "wobble": (8.0, 25.0), "wobble_periods": (23.0, 19.0),
         "turn_period": 30.0, "length": (0.0, 35.0), "radius": (7.0, 15.0), "margin": 4.0, "wall_hu": (65.0, 6.0),
         "wall": 1.6, "contents": ["fluid", "fluid", "fluid", "air", "mixed", "mixed"]}
BOWEL_CAVITY_MARGIN = 3.0  # bowel and colon stay this far inside the body cavity

#: Bowel contents HU.
CONTENTS = {"fluid": (15.0, 8.0, 10.0), "air": -1000.0, "mixed_gas": 0.9, "mixed_fine": 0.5,
            "mixed_hu": (20.0, 8.0), "stool_gas": 0.3, "stool_fine": 0.4, "stool_gas_above": 8.0,
            "stool_gas_hu": (-950.0, 40.0), "stool_hu": (10.0, 60.0, 25.0)}

#: Colon (x_frac of the cavity half-width, y_frac of its back depth, radius, from level, to level);
#: ascending (right), descending (left); then the transverse colon.
COLON = [(-0.72, 0.05, 20.0, 330.0, 600.0), (0.74, 0.15, 15.0, 290.0, 600.0)]
COLON_WALL = {"wobble": 4.0, "periods": (17.0, 13.0), "grow": 25.0, "flatten": 0.9, "margin": 3.0,
              "wall_hu": 75.0, "wall": 2.0}
TRANSVERSE_COLON = {"profile": (345.0, 22.0), "y": 38.0, "half_width_frac": 0.75, "margin": 20.0, "half_depth": 30.0,
                    "centre_y": 40.0, "sag": 10.0, "sag_period": 11.0, "end_frac": 0.6, "right_drop": 15.0,
                    "radius": 19.0, "haustra": 0.12, "haustra_period": 7.0, "stool_y": 8.0}

#: Stomach (left upper quadrant), air-fluid level horizontal (supine patient).
STOMACH = {"profile": (290.0, 55.0), "x_frac": 0.38, "y_frac": -0.35, "extent": 60.0, "axes": (52.0, 38.0),
           "angle": 0.5, "below_diaphragm": 4.0, "wall_hu": (70.0, 6.0), "level": -10.0, "air_hu": -1000.0,
           "fluid_hu": (18.0, 5.0), "wall": 3.0}

#: Liver: right lobe + left lobe across the midline (smooth union), capped by the dome; vessels.
LIVER = {"right_full_above": 320.0, "right_profile": (320.0, 85.0), "left_full_above": 262.0,
         "left_profile": (262.0, 55.0), "right_x_frac": -0.42, "right_shift": (-12.0, 10.0), "right_y": 5.0,
         "from_level": 180.0, "right_axes_frac": (0.6, 0.9, 0.9), "right_power": 2.4,
         "left_x_frac": 0.05, "left_y": 38.0, "left_axes": (0.45, 30.0), "left_angle": -0.12, "union_mm": 8.0,
         "cavity_margin": 1.5, "below_diaphragm": 4.0, "hu": (102.0, 4.0, 4.0),
         "porta_x_frac": -0.2, "porta_level": 300.0, "porta_z_weight": 0.5, "vessel_radius": (0.1, 0.3, 45.0),
         "vessel_sharpness": 4.0, "vessel_hu": (155.0, 5.0), "vessel_inside": 0.99, "vessel_margin": 2.0}

#: Gallbladder at the liver's inferior surface: wall, then bile.
GALLBLADDER = {"profile": (330.0, 28.0), "x_frac": -0.25, "y": 40.0, "extent": (20, 24), "axes": (15.0, 20.0),
               "angle": 0.4, "wall_hu": 45.0, "wall": 1.5, "bile_hu": (12.0, 3.0)}

#: Spleen: a crescent (outer ellipse less an inner one) along the left posterolateral wall.
SPLEEN = {"profile": (292.0, 52.0), "x_frac": 0.66, "y_frac": 0.35, "extent": 60, "outer": (26.0, 55.0),
          "inner_shift": (-28.0, -8.0), "inner": (24.0, 45.0), "angle": -0.55, "cavity_margin": 1.5,
          "below_diaphragm": 4.0, "hu": (115.0, 4.0, 3.0)}

#: Abdominal vessels. IVC right of the spine; SMA and SMV (x, y from the vertebra's front, radius,
#: HU, from level; to ``to``); splenic vein behind the pancreas; portal vein at the liver hilum.
IVC = {"x": -24.0, "y": -10.0, "from_level": 215.0, "extent": (16, 14), "axes": (14.0, 10.0), "hu": (140.0, 5.0)}
MESENTERIC = {"vessels": ((12.0, -26.0, 3.8, 185.0, 300.0), (-2.0, -24.0, 5.0, 150.0, 305.0)), "to": 470,
              "y_shift": 13, "extent": 7}
PANCREAS = {"profile": (318.0, 22.0), "x_frac": 0.15, "y": -45.0, "half_width_frac": 0.45, "half_depth": 30.0,
            "head": (-20.0, -30.0), "tail": (0.5, -20.0), "radius": 11.0, "hu": (85.0, 8.0), "lobules": (90.0, 25.0),
            "vein_shift": (5.0, 10.0, -10, 8), "vein_radius": 4.0, "vein_hu": 165.0}
PORTAL_VEIN = {"profile": (298.0, 16.0), "x": -35.0, "y": -55.0, "extent": (25.0, 20.0), "from": (-22.0, -48.0),
               "to": (-36.0, -56.0), "radius": 7.0, "hu": 170.0}

#: Kidneys (right level, left level; + habitus shift): perirenal fat, cortex, 5 medullary pyramids,
#: sinus fat opening to the hilum, pelvis, renal vessel to the IVC (right) or aorta (left).
KIDNEY = {"levels": ((-1, 350.0), (1, 336.0)), "half": 58.0, "x": (62.0, 0.1), "y": 6.0, "extent": 45,
          "tilt": 0.7, "axes": (31.0, 22.0), "fat_shift": (2.0, 2.0), "fat_margin": (5.0, 4.0),
          "fat_hu": (-92.0, 8.0), "cortex_hu": (172.0, 5.0), "pyramids": 5, "pyramid_step": 0.62,
          "pyramid_ring": 0.55, "pyramid_axes": (0.26, 0.17), "medulla_hu": (128.0, 5.0),
          "sinus_reach": (0.45, 1.2), "sinus_from": 0.45, "sinus_axes": (0.5, 0.35), "sinus_hu": (-85.0, 10.0),
          "pelvis": 3.0, "pelvis_hu": 12.0, "vessel_from": 0.9, "vessel_span": 5, "vessel_x": (12.0, -24.0),
          "vessel_y": -12.0, "vessel_radius": 2.8, "vessel_hu": 175.0}

#: Psoas (grows from ``blend``) and quadratus lumborum beside the lumbar spine.
PSOAS = {"blend": (310.0, 480.0), "radius": (6.0, 20.0), "offset": 0.8, "margin": 3, "y": -3.0, "flatten": 0.9,
         "hu": (50.0, 6.0)}
QUADRATUS = {"blend": (320.0, 380.0), "x": 30.0, "y": 28.0, "extent": (22, 16), "centre": (28.0, 30.0),
             "axes": (20.0, 11.0), "angle": 0.35, "hu": (52.0, 6.0)}

#: Erector spinae either side of the spinous processes: (base, k t_abd) each.
PARASPINAL = {"x": (25.0, 6.0), "y": 18.0, "a": (21.0, 9.0), "b": (24.0, 4.0), "margin": 3, "power": 2.2,
              "hu": (55.0, 6.0), "septa": (40.0, 60.0)}

#: Thorax: present above ``below``; heart with epicardial fat, chambers (x, y offset from the heart
#: centre, axes x heart profile, angle, HU, and the levels they exist between); lungs, vessels, airways.
THORAX = {"below": 320.0}
HEART = {"profile": (183.0, 72.0), "dome_share": 0.5, "x": (18.0, 0.1), "y_frac": -0.28, "axes": (56.0, 43.0),
         "extent": 70, "angle": -0.6, "fat": 4.0, "fat_hu": (-92.0, 8.0), "hu": (105.0, 6.0)}
LUNG = {"apex": (110.0, 120.0), "side_frac": 0.5, "y": 8.0, "half_width_frac": 0.62, "depth_margin": 12.0,
        "power": 2.2, "cavity_margin": 2.0, "mediastinum": (12.0, 8.0, 6.0), "mediastinum_grow": (60.0, 120.0),
        "mediastinum_shrink": (200.0, 250.0), "mediastinum_x": 4.0, "mediastinum_front": -20.0,
        "heart_margin": 5.0, "spine_margin": (8.0, 12.0, 22.0), "aorta_margin": 4.0,
        "diaphragm_rim": 3.0, "diaphragm_reach": -6.0, "diaphragm_hu": (45.0, 5.0),
        "hu": (-855.0, 45.0, 18.0, 10.0), "gravity": 90.0, "gravity_range": (-1.0, 1.2),
        "hilum_x": (-32.0, 38.0), "hilum_y": -5.0, "hilum_level": 140.0, "hilum_z_weight": 0.3,
        "vessel_radius": (0.12, 0.9, 40.0), "vessel_sharpness": 4.0, "vessel_hu": (60.0, 20.0), "inside_margin": 2.0,
        "airway_offset": 2.2, "airway_radius": (0.5, 45.0), "airway_min": 0.06, "airway_wall_hu": -80.0,
        "airway_lumen": 0.65, "airway_hu": -990.0}
MEDIASTINAL_FAT = {"x": 4.0, "half_width": 50.0, "margin": 30, "front": -20.0, "narrower": 1.0, "hu": (-90.0, 10.0)}
HEART_CHAMBERS = (
    # name, x, y (from the heart centre), a, b (x the heart's profile), angle or None, HU,
    # texture (field, amplitude) or None, levels: None (wherever the heart is), (above, below) or (above, None)
    ("left ventricle", 16.0, 6.0, 26.0, 17.0, -0.6, 205.0, ("tex_fine", 8.0), None),
    ("right ventricle", -22.0, -14.0, 30.0, 13.0, -0.45, 170.0, ("tex_coarse", 10.0), None),
    ("left atrium", -6.0, 30.0, 22.0, 14.0, None, 200.0, None, (115.0, 215.0)),
    ("right atrium", -45.0, 6.0, 18.0, 20.0, None, 160.0, None, (140.0, None)),
)

#: Great vessels (centre y from the cavity front: ``yc + y_frac * b_cav_ant + y``).
ASCENDING_AORTA = {"profile": (100.0, 42.0), "x": -4.0, "y_frac": -0.45, "y": 10.0, "radius": 15.0, "taper": 3,
                   "hu": 195.0}
AORTIC_ARCH = {"profile": (66.0, 9.0), "x": 10.0, "half_width": 40.0, "margin": 20, "to": (24.0, -10.0),
               "radius": 13.0, "hu": 195.0}
PULMONARY = {"profile": (108.0, 14.0), "x": 26.0, "y_frac": -0.45, "y": 2.0, "radius": 13.0, "hu": 185.0, "branch_from": 0.5,
             "branch_y_frac": -0.3, "extent": (60.0, 30.0), "branch_ends": (-40.0, 45.0), "branch_end_y_frac": -0.15,
             "branch_radius": 8.0}
SVC = {"levels": (20.0, 145.0), "x": -30.0, "y_frac": -0.4, "y": 8.0, "radius": 10.0, "hu": 150.0}
ARCH_BRANCHES = {"vessels": ((-12.0, 0.0), (2.0, -4.0), (14.0, 2.0)), "above": 60.0, "step": 3.0, "y": 15.0,
                 "radius": 6.0, "hu": 190.0}
#: Airways and oesophagus: walls (soft tissue) then lumen (air), in front of the vertebral body.
TRACHEA = {"to": 118.0, "y": -22.0, "wall": 10.5, "lumen": 8.5, "wall_hu": 40.0, "air_hu": -1000.0}
BRONCHI = {"profile": (134.0, 16.0), "x": 8.0, "spread": 0.9, "spread_mm": 40.0, "y": 4.0, "wall": 8.5, "lumen": 6.5}
OESOPHAGUS = {"to": 265.0, "x": 6.0, "y": -6.0, "wall": 7.5, "lumen": 1.8, "wall_hu": 42.0, "air_hu": -900.0}
STERNUM = {"levels": (40.0, 225.0), "y": -4.0, "extent": (20.0, 14.0), "centre_y": 7.0, "axes": (15.0, 6.5),
           "cortex_hu": 650.0, "marrow_hu": 200.0}
DISC_VESSEL = {"margin": 2, "hu_fine": 5.0}

#: Bone (cortex thickness mm, HU; marrow trabecular pattern).
BONE = {"cortex": 1.4, "cortex_hu": 800.0, "cortex_fine": 80.0, "marrow_hu": 230.0, "marrow": (-60.0, 190.0, 4.0, 12.0)}

#: Spine: vertebral body height grows lumbar; discs the first share of each vertebra's height.
SPINE = {"height": (22.0, 10.0), "disc_share": (0.2, 0.06), "margin": 3, "power": 2.3, "flat_back": 0.8,
         "disc_hu": (95.0, 8.0), "nucleus": 1.0, "nucleus_hu": (70.0, 6.0), "cortex_hu": (1000.0, 80.0),
         "cortex": 1.5, "marrow_hu": (150.0, 130.0, 4.0, 12.0),
         "lamina_to": 0.8, "pedicle": (0.3, 0.7), "arch_centre": 18.0, "arch_extent": (45.0, 32.0),
         "transverse_grow": 8.0, "elements_hu": (800.0, 60.0), "elements_marrow": (260.0, 110.0, 4.0),
         "elements_cortex": 1.0,
         "canal": (10.0, 10.0, 8.5, 8.0), "csf_hu": (8.0, 4.0), "cord_blend": (300.0, 360.0), "cord": (4.5, 3.8),
         "cord_hu": 35.0}
#: Posterior elements as capsules (x0, dy0, x1, dy1, radius) from the canal centre; ``tp`` = the
#: transverse-process growth (SPINE["transverse_grow"] x t_abd), subtracted or added where marked.
LAMINAE = ((-8.5, 6.0, 0.0, 12.0, 2.2), (8.5, 6.0, 0.0, 12.0, 2.2))
SPINOUS = (0.0, 12.0, 0.0, 34.0, 2.2)  # its tip pulled in by tp
FACETS = ((-10.0, 4.0, -15.0, 9.0, 4.0), (10.0, 4.0, 15.0, 9.0, 4.0))
PEDICLES = ((-9.0, -7.0, -9.0, 5.0, 3.3), (9.0, -7.0, 9.0, 5.0, 3.3))
TRANSVERSE = ((-10.0, -1.0, -24.0, 1.0, 3.0), (10.0, -1.0, 24.0, 1.0, 3.0))  # tips pushed out by tp

#: Twelve rib pairs descending from the spine (head level + step x k) to the front.
RIBS = {"pairs": 12, "head": (18.0, 22.5), "end": (2.5, 0.08), "floating_from": 10, "floating_short": 0.6,
        "start": 0.35, "descent": (2.1, 95.0), "wall_share": (0.55, 0.5, 0.5), "back_out": 6.0, "neck_to": 0.9,
        "neck": (28.0, 20.0), "cartilage": 0.35, "extent": 14, "axes": (8.5, 4.5), "cartilage_hu": (120.0, 10.0),
        "cortex": 1.4, "cortex_hu": 900.0, "marrow_hu": 240.0}

#: Lesions: how many per organ (integers in [lo, hi)), diameter (mm), contrast (HU), the share
#: that are brighter than their organ, and the margin (mm) they keep from its edge.
LESIONS = (("liver", "LIVER", (2, 6)), ("spleen", "SPLEEN", (0, 2)), ("kidney", "KIDNEY_CORTEX", (0, 2)))
LESION = {"diameter": (3.0, 15.0), "contrast": (5.0, 20.0), "bright_share": 0.25, "min_voxels": 50, "margin": 3.0}


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
