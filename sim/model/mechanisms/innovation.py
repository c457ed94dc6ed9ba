"""Innovation: knowledge production from R&D with local spillovers and university links.

Expected innovations of a firm follow a knowledge production function
``λ = A · (R / R_ref)^β · S^δ · U^γ · (1 + c · L)`` (Griliches 1979; Jaffe 1989), where R is the
firm's R&D (KRW per year), S the region's business R&D and U its university research, each per
firm relative to the national mean (localised spillovers, Jaffe, Trajtenberg & Henderson 1993),
and L = 1 for firms collaborating with a university. Firms without R&D do not innovate. A firm
that innovates at least once in a year raises its productivity by a fixed proportion (a cohort of
establishments by that proportion times its innovating share), so
productivity growth is bounded however large a firm's R&D (no explosive feedback from
productivity to R&D to innovation).
"""

from __future__ import annotations

import numpy as np


def expected_innovations(
    rd_krw: np.ndarray,
    regional_spillover: np.ndarray,
    university_research: np.ndarray,
    collaborating: np.ndarray,
    rate_at_reference: float,
    reference_rd_krw: float,
    rd_elasticity: float,
    spillover_elasticity: float,
    university_elasticity: float,
    collaboration_uplift: float,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """Poisson mean of innovations per firm this year (innovations per firm-year).

    ``regional_spillover`` and ``university_research`` are per firm, or per region when ``region``
    (each firm's region index) is given, so their powers are taken once per region."""
    with np.errstate(divide="ignore"):
        spill = np.where(regional_spillover > 0, np.power(regional_spillover, spillover_elasticity), 0.0)
        university = np.where(university_research > 0, np.power(university_research, university_elasticity), 0.0)
    if region is not None:
        spill, university = spill[region], university[region]
    return (
        rate_at_reference
        * np.power(rd_krw / reference_rd_krw, rd_elasticity)
        * spill
        * university
        * (1.0 + collaboration_uplift * collaborating)
    )


def regional_spillover(
    rd_krw: np.ndarray, region: np.ndarray, n_regions: int, extra_krw: np.ndarray, establishments: np.ndarray
) -> np.ndarray:
    """Region's R&D (firm agents' ``rd_krw`` plus ``extra_krw`` such as university research) per
    establishment, over the national mean.

    Returns one value per region (1 = national average intensity); 0 for regions without firms.
    """
    firms = np.bincount(region, weights=establishments, minlength=n_regions)
    total = np.bincount(region, weights=rd_krw, minlength=n_regions) + extra_krw
    per_firm = np.divide(total, firms, out=np.zeros(n_regions), where=firms > 0)
    national = total.sum() / max(firms.sum(), 1)
    return per_firm / national if national > 0 else np.ones(n_regions)


def productivity_after_innovation(productivity: np.ndarray, innovating_share: np.ndarray, gain: float) -> np.ndarray:
    """Productivity (KRW of value added per worker per year) of a cohort of establishments, raised by
    ``gain`` for the share of them that innovated (an establishment gains at most once a year)."""
    return productivity * (1.0 + gain * innovating_share)
