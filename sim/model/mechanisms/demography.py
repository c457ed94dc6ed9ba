"""Demographic events of one simulated year: ageing, deaths, births, newborn sex, international migration.

Pure, vectorised functions over agent arrays (one element per talent agent). Codes: sex 0 = female,
1 = male; region = index 0..n_regions-1 in the order of the region pack; age in completed years with
``max_age`` standing for "max_age and over". Rates are per person per year. No function loops over
persons in Python, so they scale to tens of millions of agents.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.model.cells import per_person
from sim.model.crn import splitmix64

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
    uniforms: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Women who give birth this year.

    ``asfr[region, age]`` is births per woman per year (zero outside ages 15..49); it is used as the
    probability of one birth (multiple births are not distinguished), clipped to [0, 1]. Men never give birth.
    ``uniforms(persons)`` gives the U(0,1) draws of the persons at those indices: only women with a positive
    probability are drawn for (about one person in eight; the others cannot give birth whatever their draw).
    """
    probability = per_person(np.clip(np.asarray(asfr, dtype=float), 0.0, 1.0), region, age)
    at_risk = np.flatnonzero((sex == FEMALE) & (probability > 0))
    mothers = np.zeros(len(age), bool)
    mothers[at_risk] = uniforms(at_risk) < probability[at_risk]
    return mothers


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
    schedule = child_level * np.exp(-fall_rate * ages) + np.exp(-fall_rate * shifted - np.exp(-rise_rate * shifted)) + constant_level
    schedule /= schedule.sum()
    return np.vstack([(1.0 - male_share) * schedule, male_share * schedule])


def departure_mask(
    age: np.ndarray,
    sex: np.ndarray,
    region: np.ndarray,
    departures: np.ndarray,
    uniform: np.ndarray,
) -> np.ndarray:
    """Existing agents who emigrate: agent i in cell c (region × sex × age) leaves when its keyed
    uniform ``uniform[i] < departures[c] / agents in c`` (capped at 1), so the expected number leaving
    a cell is the requested count (``departures``, agents, float), and whether an agent leaves depends
    only on its own draw and its cell's counts.
    """
    cell = np.ravel_multi_index((region, sex, age), departures.shape)
    present = np.bincount(cell, minlength=departures.size)
    requested = departures.ravel().astype(float)
    probability = np.divide(requested, present, out=np.zeros_like(requested), where=present > 0)
    return uniform < np.minimum(probability, 1.0)[cell]


def systematic_counts(expected: np.ndarray, offset: float) -> np.ndarray:
    """Whole counts per cell by systematic rounding: floor(C_c + offset) − floor(C_{c−1} + offset), with
    C the cumulative expected counts in cell order and ``offset`` one keyed U(0,1) for the year.

    Each cell gets its expected count rounded down or up, the total is the expected total within one,
    and a small change in one cell's expectation moves at most a few arrivals between neighbouring
    cells (unlike a multinomial split, which redraws every cell).
    """
    cumulative = np.floor(np.concatenate(([0.0], np.cumsum(np.asarray(expected, dtype=float)))) + offset)
    return np.diff(cumulative).astype(np.int64)


# Bit widths of the packed (year, cell, ordinal) key of an arrival; year takes the bits left below the namespace.
_ORDINAL_BITS = 24
_CELL_BITS = 24
_MIN_YEAR_BITS = 8


def arrival_identities(counts_per_cell: np.ndarray, year: int, namespace: np.uint64) -> np.ndarray:
    """Persistent uids (uint64) of this year's arrivals, cell by cell in cell order, ordinals 0..count-1.

    The uid of arrival ``k`` of cell ``c`` in ``year`` is a fixed function of (year, c, k) alone, so it is the
    same in any run where that cell has at least k + 1 arrivals, whatever the other cells hold; it then keys
    that person's common random numbers for life. ``namespace`` is a single bit 2^b with
    56 <= b <= 61 (e.g. ``np.uint64(1 << 61)``): every uid lies in [2^b, 2^(b+1)), so the top two bits are
    clear and the uids never meet those of other namespaces or of initial agents (numbered from 0).

    The key packs (year mod 2^(b-48), c, k) into b bits and is scrambled by a four-round Feistel
    permutation of b-bit values with SplitMix64 round functions. Being a permutation, it never maps two
    keys to one uid: uids are distinct for cells < 2^24, ordinals < 2^24 and years within any 2^(b-48)
    consecutive years (8192 for b = 61), all checked except the year window.
    """
    counts = np.asarray(counts_per_cell, dtype=np.int64).ravel()
    namespace = np.uint64(namespace)
    bits = int(namespace).bit_length() - 1
    if int(namespace) != 1 << bits or not _CELL_BITS + _ORDINAL_BITS + _MIN_YEAR_BITS <= bits <= 61:
        raise ValueError(f"namespace must be 2**b with {_CELL_BITS + _ORDINAL_BITS + _MIN_YEAR_BITS} <= b <= 61, got {int(namespace)}")
    if counts.size > 1 << _CELL_BITS or (counts.size and (counts.min() < 0 or counts.max() > 1 << _ORDINAL_BITS)):
        raise ValueError(f"arrival_identities takes up to 2**{_CELL_BITS} cells of 0..2**{_ORDINAL_BITS} arrivals")
    total = int(counts.sum())
    cell = np.repeat(np.arange(counts.size, dtype=np.uint64), counts)
    ordinal = np.arange(total, dtype=np.uint64) - np.repeat((np.cumsum(counts) - counts).astype(np.uint64), counts)
    year_bits = bits - _CELL_BITS - _ORDINAL_BITS
    year_field = np.uint64(year % (1 << year_bits)) << np.uint64(_CELL_BITS + _ORDINAL_BITS)
    key = year_field | (cell << np.uint64(_ORDINAL_BITS)) | ordinal
    return _feistel_permutation(key, bits) | namespace


def _feistel_permutation(key: np.ndarray, bits: int) -> np.ndarray:
    """A fixed pseudo-random permutation of ``bits``-bit unsigned values (uint64 arrays).

    The value is split into a high and a low half; each round XORs one half with SplitMix64 of the other
    half (salted by the round number), masked to the half's width. Each round is invertible (apply it again),
    so the whole is a bijection: distinct keys give distinct outputs.
    """
    low_bits = bits // 2
    low_mask = np.uint64((1 << low_bits) - 1)
    high_mask = np.uint64((1 << (bits - low_bits)) - 1)
    low = key & low_mask
    high = key >> np.uint64(low_bits)
    for round_number in range(4):
        salt = np.uint64(0x5851F42D4C957F2D * (round_number + 1) % (1 << 64))
        if round_number % 2 == 0:
            high ^= splitmix64(low ^ salt) & high_mask
        else:
            low ^= splitmix64(high ^ salt) & low_mask
    return (high << np.uint64(low_bits)) | low
