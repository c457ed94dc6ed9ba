"""Keyed international migration: systematic arrivals per cell, keyed departures and arrivals' identities."""

import numpy as np
import pytest

from sim.model.mechanisms import demography as dm

N_REGIONS = 3
CELLS = (N_REGIONS, 2, dm.MAX_AGE + 1)
ARRIVAL_NAMESPACE = np.uint64(1 << 61)


def people(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.integers(0, dm.MAX_AGE + 1, n), rng.integers(0, 2, n), rng.integers(0, N_REGIONS, n)


def test_departures_keyed_hand_computed():
    # Cell (0, 0, 30) holds 4 agents and must lose 1 (p = 0.25); cell (1, 1, 40) holds 2 and must lose 5
    # (capped: both leave); cell (2, 0, 50) holds 1 and loses nobody.
    age = np.array([30, 30, 30, 30, 40, 40, 50])
    sex = np.array([0, 0, 0, 0, 1, 1, 0])
    region = np.array([0, 0, 0, 0, 1, 1, 2])
    departures = np.zeros(CELLS, dtype=np.int64)
    departures[0, 0, 30], departures[1, 1, 40], departures[2, 1, 50] = 1, 5, 3  # (2,1,50) is empty
    uniform = np.array([0.24, 0.25, 0.0, 0.9, 0.99, 0.5, 0.0])
    released = dm.departure_mask(age, sex, region, departures, uniform)
    assert released.tolist() == [True, False, True, False, True, True, False]


def test_departures_keyed_expectation():
    rng = np.random.default_rng(3)
    age, sex, region = people(300_000, rng)
    departures = rng.integers(0, 300, CELLS)
    uniform = rng.random(len(age))
    leaving = dm.departure_mask(age, sex, region, departures, uniform)
    present = np.bincount(np.ravel_multi_index((region, sex, age), CELLS), minlength=departures.size)
    expected = np.minimum(departures.ravel(), present).sum()
    assert abs(leaving.sum() - expected) < 4 * np.sqrt(expected)


def test_departures_keyed_independent_of_other_cells():
    rng = np.random.default_rng(4)
    age, sex, region = people(50_000, rng)
    departures = rng.integers(0, 30, CELLS)
    uniform = rng.random(len(age))
    base = dm.departure_mask(age, sex, region, departures, uniform)
    other = rng.integers(0, 30, CELLS)
    other[1, 0, 35] = departures[1, 0, 35]
    keep = ~((region == 2) & (age > 60))  # other agents also disappear from the arrays
    changed = dm.departure_mask(age[keep], sex[keep], region[keep], other, uniform[keep])
    in_cell = (region == 1) & (sex == 0) & (age == 35)
    assert in_cell.sum() > 0
    np.testing.assert_array_equal(changed[in_cell[keep]], base[in_cell])


def test_arrival_identities_deterministic_namespaced_and_ordered_by_cell():
    counts = np.array([2, 0, 3, 1])
    uid = dm.arrival_identities(counts, 2030, ARRIVAL_NAMESPACE)
    assert uid.dtype == np.uint64 and len(uid) == 6
    np.testing.assert_array_equal(uid, dm.arrival_identities(counts, 2030, ARRIVAL_NAMESPACE))
    assert ((uid >> np.uint64(61)) == 1).all()  # bit 61 set, top two bits clear
    assert not np.isin(uid, dm.arrival_identities(counts, 2031, ARRIVAL_NAMESPACE)).any()
    # arrivals of cell 2 are the 3rd to 5th entries, and are those of a run with only cell 2
    np.testing.assert_array_equal(uid[2:5], dm.arrival_identities(np.array([0, 0, 3]), 2030, ARRIVAL_NAMESPACE))
    assert len(dm.arrival_identities(np.zeros(5, np.int64), 2030, ARRIVAL_NAMESPACE)) == 0


def test_arrival_identities_unique_on_a_big_case():
    rng = np.random.default_rng(5)
    uid = np.concatenate(
        [dm.arrival_identities(rng.poisson(rng.random(int(np.prod(CELLS))) * 400), year, ARRIVAL_NAMESPACE) for year in range(2020, 2040)]
    )
    assert len(uid) > 2_000_000
    ordered = np.sort(uid)
    assert (ordered[1:] != ordered[:-1]).all()  # all distinct


def test_arrival_identity_kept_when_another_cell_changes():
    rng = np.random.default_rng(6)
    counts = rng.integers(0, 10, 500)
    counts[123] = 7
    base = dm.arrival_identities(counts, 2040, ARRIVAL_NAMESPACE)
    changed_counts = counts.copy()
    changed_counts[:123] = rng.integers(0, 10, 123)
    changed_counts[124:] = 0
    changed_counts[123] = 9  # two more arrivals in cell 123 itself: its first 7 keep their uids
    changed = dm.arrival_identities(changed_counts, 2040, ARRIVAL_NAMESPACE)
    start, changed_start = counts[:123].sum(), changed_counts[:123].sum()
    np.testing.assert_array_equal(changed[changed_start : changed_start + 7], base[start : start + 7])


def test_arrival_identities_reject_bad_namespace():
    for namespace in (np.uint64(3 << 60), np.uint64(1 << 62), np.uint64(1 << 40)):
        with pytest.raises(ValueError):
            dm.arrival_identities(np.array([1]), 2030, namespace)
