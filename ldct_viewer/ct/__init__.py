"""CT physics: low-dose simulation (projector, noise, FBP) and procedural phantoms.

``simulate_low_dose`` turns an NDCT image/volume in HU into a simulated LDCT at a dose fraction and a
number of views; ``generate_phantom`` makes seeded anatomical NDCT volumes.
"""

from ldct_viewer.ct.fbp import WINDOWS, FanBeamFBP, ParallelFBP
from ldct_viewer.ct.geometry import FanBeamGeometry, ParallelBeamGeometry
from ldct_viewer.ct.noise import MU_WATER_PER_MM, hu_to_mu, mu_to_hu
from ldct_viewer.ct.phantom import generate_phantom
from ldct_viewer.ct.projector import FanBeamProjector, ParallelProjector
from ldct_viewer.ct.simulate import METHODS, Scanner, SimulationParams, resolve_device, simulate_low_dose

__all__ = [
    "METHODS",
    "MU_WATER_PER_MM",
    "WINDOWS",
    "FanBeamFBP",
    "FanBeamGeometry",
    "FanBeamProjector",
    "ParallelBeamGeometry",
    "ParallelFBP",
    "ParallelProjector",
    "Scanner",
    "SimulationParams",
    "generate_phantom",
    "hu_to_mu",
    "mu_to_hu",
    "resolve_device",
    "simulate_low_dose",
]
