"""Attenuation units and quantum + electronic detector noise on line integrals.

Monoenergetic model at the effective energy of a 120 kVp abdominal beam (~70 keV), where
μ_water ≈ 0.0192 /mm: ``μ = μ_water·(1 + HU/1000)``, clamped at 0 (air; DICOM padding values such
as −2000 or −3024 HU carry no attenuation). A detector reading is
``N = Poisson(I0·exp(−p)) + Normal(0, σ_e²)``, floored at ``MIN_COUNTS`` before the log
``p̂ = ln(I0 / N)`` (photon starvation then gives the bright/dark streaks it gives on scanners).
"""

from __future__ import annotations

import torch

MU_WATER_PER_MM = 0.0192
MIN_COUNTS = 1.0  # floor on a reading before taking the log (counts)


def hu_to_mu(hu: torch.Tensor, mu_water: float = MU_WATER_PER_MM) -> torch.Tensor:
    """Linear attenuation (1/mm) from HU, never negative."""
    return torch.clamp(mu_water * (1.0 + hu / 1000.0), min=0.0)


def mu_to_hu(mu: torch.Tensor, mu_water: float = MU_WATER_PER_MM) -> torch.Tensor:
    return (mu / mu_water - 1.0) * 1000.0


def noisy_line_integrals(line_integrals: torch.Tensor, incident: float, electronic_std: float,
                         generator: torch.Generator) -> torch.Tensor:
    """Simulate a measurement of ``line_integrals`` with ``incident`` photons per reading."""
    expected = incident * torch.exp(-line_integrals)
    counts = torch.poisson(expected, generator=generator)
    if electronic_std > 0:
        counts = counts + electronic_std * torch.randn(
            counts.shape, generator=generator, device=counts.device, dtype=counts.dtype
        )
    return torch.log(incident / torch.clamp(counts, min=MIN_COUNTS))


def extra_noise_line_integrals(line_integrals: torch.Tensor, incident_full: float, dose: float,
                               input_dose: float, electronic_std: float,
                               generator: torch.Generator) -> torch.Tensor:
    """Gaussian log-domain noise to take data already acquired at ``input_dose`` down to ``dose``.

    Variance of ``ln(I0/N)`` is ``(I0·e^{−p} + σ_e²) / (I0·e^{−p})²`` at incident ``I0``; we add the
    difference between ``I0 = incident_full·dose`` and ``I0 = incident_full·input_dose``
    (the standard projection-domain noise insertion, e.g. Yu et al., Med Phys 2012).
    """
    transmission = torch.exp(line_integrals)  # 1 / e^{−p}
    variance = transmission / incident_full * (1.0 / dose - 1.0 / input_dose)
    variance = variance + (electronic_std * transmission / incident_full) ** 2 * (
        1.0 / dose**2 - 1.0 / input_dose**2
    )
    noise = torch.randn(line_integrals.shape, generator=generator, device=line_integrals.device,
                        dtype=line_integrals.dtype)
    # Cap at the spread a reading floored at MIN_COUNTS could show (std 2 in ln units).
    return line_integrals + torch.sqrt(torch.clamp(variance, min=0.0, max=4.0)) * noise
