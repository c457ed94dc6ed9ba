"""Demographic events of one simulated year: ageing, deaths, births, newborn sex, international migration.

Pure, vectorised functions over agent arrays (one element per talent agent). Codes: sex 0 = female,
1 = male; region = index 0..n_regions-1 in the order of the region pack; age in completed years with
``max_age`` standing for "max_age and over". Rates are per person per year. No function loops over
persons in Python, so they scale to tens of millions of agents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.cells import per_person

FEMALE = 0
MALE = 1  # sex codes used across regsim
MAX_AGE = 100


def age_one_year(age: np.ndarray, max_age: int = MAX_AGE) -> None:
    """Add one year to every age in place; ages stay capped at ``max_age`` (the open age group)."""
    np.add(age, 1, out=age)
    np.minimum(age, max_age, out=age)


def death_mask(
    age: np.ndarray,
    sex: np.ndarray,
    region: np.ndarray,
    qx: np.ndarray,
    region_factor: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Persons who die this year.

    ``qx[sex, age]`` is the national probability of dying within the year; ``region_factor[region]``
    multiplies the hazard (standardised mortality ratio), so a person's probability is
    ``1 - (1 - qx) ** factor``, clipped to [0, 1]. The probability table is built per
    region × sex × age cell first, so the per-person cost is one lookup and one uniform draw.
    """
    survival = np.clip(1.0 - np.asarray(qx, dtype=float), 0.0, 1.0)
    probability = 1.0 - survival[None, :, :] ** np.asarray(region_factor, dtype=float)[:, None, None]
    probability = np.clip(probability, 0.0, 1.0)
    return rng.random(age.shape[0]) < per_person(probability, region, sex, age)


def birth_mask(
    age: np.ndarray,
    sex: np.ndarray,
    region: np.ndarray,
    asfr: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Women who give birth this year.

    ``asfr[region, age]`` is births per woman per year (zero outside ages 15..49); it is used as the
    probability of one birth (multiple births are not distinguished), clipped to [0, 1]. Men never give birth.
    """
    probability = per_person(np.clip(np.asarray(asfr, dtype=float), 0.0, 1.0), region, age)
    return (sex == FEMALE) & (rng.random(age.shape[0]) < probability)


def national_tfr(asfr: np.ndarray, female_pop: np.ndarray) -> float:
    """National TFR (children per woman) of regional schedules ``asfr[region, age]``.

    National ASFR at age a = Σ_r asfr[r, a]·W[r, a] / Σ_r W[r, a] with W = women ``female_pop[region, age]``;
    ages without women contribute nothing. TFR = Σ_a national ASFR.
    """
    women = female_pop.sum(axis=0)
    births = (asfr * female_pop).sum(axis=0)
    return float(np.sum(np.divide(births, women, out=np.zeros_like(births, dtype=float), where=women > 0)))


def scale_asfr_to_tfr(asfr_base: np.ndarray, female_pop: np.ndarray, target_tfr: float) -> np.ndarray:
    """Regional schedules times one common factor so that the national TFR equals ``target_tfr``.

    Regional differences (the ratio of any two regions' rates) are kept. Raises ValueError if the base
    schedules imply no births at all, because then no factor can reach a positive target.
    """
    current = national_tfr(asfr_base, female_pop)
    if current <= 0:
        raise ValueError("base fertility schedules imply a national TFR of 0; cannot scale to a target")
    return asfr_base * (target_tfr / current)


def newborn_sex(n: int, rng: np.random.Generator, sex_ratio_at_birth: float) -> np.ndarray:
    """Sex codes (int8: 0 F, 1 M) of ``n`` newborns; ``sex_ratio_at_birth`` = males per 100 females."""
    male_probability = sex_ratio_at_birth / (100.0 + sex_ratio_at_birth)
    return (rng.random(n) < male_probability).astype(np.int8)


def stochastic_round(x: float, rng: np.random.Generator) -> int:
    """floor(x) or floor(x)+1, the latter with probability frac(x): integer with expectation exactly x."""
    whole = np.floor(x)
    return int(whole + (rng.random() < x - whole))


def labour_migration_age_profile(
    male_share: float,
    peak_location: float,
    rise_rate: float,
    fall_rate: float,
    child_level: float,
    constant_level: float,
    max_age: int = MAX_AGE,
) -> np.ndarray:
    """Age-sex distribution ``[sex, age]`` (sums to 1) of a Rogers–Castro migration schedule.

    m(x) = child_level·exp(-fall_rate·x) + exp(-fall_rate·(x-μ) - exp(-rise_rate·(x-μ))) + constant_level,
    μ = ``peak_location`` (years; the labour peak is at μ + ln(rise/fall)/rise), rates per year of age;
    the child component decays at the labour component's fall rate (Rogers & Castro's α1 ≈ α2 regularity).
    Both sexes share the shape; ``male_share`` of the mass is male.
    """
    ages = np.arange(max_age + 1, dtype=float)
    shifted = ages - peak_location
    schedule = (
        child_level * np.exp(-fall_rate * ages)
        + np.exp(-fall_rate * shifted - np.exp(-rise_rate * shifted))
        + constant_level
    )
    schedule /= schedule.sum()
    return np.vstack([(1.0 - male_share) * schedule, male_share * schedule])


@dataclass(frozen=True)
class InternationalMigration:
    """Agents moving across the national border in one year.

    Arrivals (net inflow) are new agents given by ``age``, ``sex``, ``region`` arrays. Departures
    (net outflow) are agent counts per cell ``departures[region, sex, age]``; :func:`departure_mask`
    turns them into the agents to remove. One of the two is always empty.
    """

    age: np.ndarray
    sex: np.ndarray
    region: np.ndarray
    departures: np.ndarray


def international_migrants(
    net_persons: float,
    scale: float,
    age_sex_share: np.ndarray,
    region_share: np.ndarray,
    rng: np.random.Generator,
) -> InternationalMigration:
    """Draw this year's net international migrants as agents.

    ``net_persons`` (persons/year, negative = net emigration) is divided by ``scale`` (persons per agent)
    and stochastically rounded, so the expected number of agents is exact. The agents are spread over
    cells region × sex × age by a multinomial draw with probabilities
    ``region_share[region] · age_sex_share[sex, age]`` (each share array sums to 1).
    """
    agents = stochastic_round(abs(net_persons) / scale, rng)
    cell_probability = (np.asarray(region_share, dtype=float)[:, None, None] * age_sex_share[None, :, :]).ravel()
    counts = rng.multinomial(agents, cell_probability / cell_probability.sum())
    cells_shape = (len(region_share), *age_sex_share.shape)
    empty = np.zeros(0, dtype=np.int64)
    if net_persons < 0:
        return InternationalMigration(empty, empty.astype(np.int8), empty, counts.reshape(cells_shape))
    region, sex, age = np.unravel_index(np.repeat(np.arange(counts.size), counts), cells_shape)
    return InternationalMigration(age, sex.astype(np.int8), region, np.zeros(cells_shape, dtype=np.int64))


def departure_mask(
    age: np.ndarray,
    sex: np.ndarray,
    region: np.ndarray,
    departures: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Existing agents who emigrate: each agent in cell c leaves with probability departures[c] / agents in c.

    The expected number leaving a cell equals the requested count (capped at the agents present);
    cells with requested departures but no agents lose nobody.
    """
    if not departures.any():
        return np.zeros(len(age), dtype=bool)
    cell = np.ravel_multi_index((region, sex, age), departures.shape)
    present = np.bincount(cell, minlength=departures.size)
    requested = departures.ravel().astype(float)
    probability = np.divide(requested, present, out=np.zeros_like(requested), where=present > 0)
    return rng.random(cell.shape[0]) < np.minimum(probability, 1.0)[cell]
