"""Labour market: participation, separations, vacancies and matching.

Matches per market follow the constant-returns matching function m = A · U^α · V^(1−α)
(Petrongolo & Pissarides 2001), capped by the number of seekers and of vacancies. Seekers are
hired independently with the market's job-finding probability; hires fill vacancy slots drawn
uniformly, so every vacancy has the same chance.
"""

from __future__ import annotations

import numpy as np


def participation_probability(profile: np.ndarray, region_level: np.ndarray) -> np.ndarray:
    """Probability [n_regions, 101] of being in the labour force, by region and age (clipped to 1)."""
    return np.clip(region_level[:, None] * profile[None, :], 0.0, 1.0)


def matches(seekers: np.ndarray, vacancies: np.ndarray, efficiency: np.ndarray, elasticity: float) -> np.ndarray:
    """Expected hires per market (persons), capped by seekers and vacancies."""
    seekers = np.asarray(seekers, dtype=float)
    vacancies = np.asarray(vacancies, dtype=float)
    raw = efficiency * np.power(seekers, elasticity) * np.power(vacancies, 1.0 - elasticity)
    return np.minimum(raw, np.minimum(seekers, vacancies))


def matching_efficiency_for(
    finding_rate: np.ndarray, seekers: np.ndarray, vacancies: np.ndarray, elasticity: float
) -> np.ndarray:
    """Efficiency A that gives job-finding probability ``finding_rate`` at the given U and V."""
    seekers = np.maximum(np.asarray(seekers, dtype=float), 1.0)
    vacancies = np.maximum(np.asarray(vacancies, dtype=float), 1.0)
    return finding_rate * np.power(seekers / vacancies, 1.0 - elasticity)


def vacancy_slots(vacancies: np.ndarray, firms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Firm index of every open slot among ``firms`` (one entry per vacancy), in random order."""
    slots = np.repeat(firms, vacancies[firms])
    rng.shuffle(slots)
    return slots


def layoff_mask(employer: np.ndarray, excess: np.ndarray, employees: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which workers (``employer`` = their firm index) are released because their firm shrank:
    each worker of a firm with ``excess`` surplus workers leaves with probability excess / employees
    (so the expected count is exact). Draws only for workers of shrinking firms."""
    share = np.divide(excess, employees, out=np.zeros(len(excess)), where=employees > 0)
    at_risk = np.flatnonzero(share[employer] > 0)
    released = np.zeros(len(employer), bool)
    released[at_risk] = rng.random(len(at_risk)) < share[employer[at_risk]]
    return released
