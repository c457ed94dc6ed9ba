"""Keyed labour-market draws: parking of takers on vacancy slots around a circle, and alignment of a
group's events to an exact count (layoffs, separations, hires)."""

import numpy as np
import pytest

from sim.model.crn import lowest_in_groups
from sim.model.mechanisms.labour import assign_to_slots


def parking_reference(taker_position: np.ndarray, slot_position: np.ndarray) -> np.ndarray:
    """Slow clockwise parking: while takers wait, every taker whose next remaining point clockwise is a free
    slot parks there (so each taker gets the first slot clockwise not taken by a taker nearer to it)."""
    n_takers = len(taker_position)
    points = list(np.argsort(np.concatenate((taker_position, slot_position)), kind="stable"))  # same tie order
    assignment = np.full(n_takers, -1)
    while any(p < n_takers for p in points):
        parked = set()
        for i, p in enumerate(points):
            following = points[(i + 1) % len(points)]
            if p < n_takers and following >= n_takers:
                assignment[p] = following - n_takers
                parked.update((p, following))
        points = [p for p in points if p not in parked]
    return assignment


def test_hand_computed_without_wrap():
    # takers 0.1, 0.2; slots 0.3, 0.5: the nearer taker 0.2 parks at 0.3, taker 0.1 passes it and takes 0.5.
    assert assign_to_slots(np.array([0.1, 0.2]), np.array([0.5, 0.3])).tolist() == [0, 1]


def test_hand_computed_with_wrap_around():
    # takers 0.8, 0.9; slots 0.3, 0.05, 0.85: 0.8 takes 0.85; 0.9 wraps past 1.0 to 0.05.
    assert assign_to_slots(np.array([0.8, 0.9]), np.array([0.3, 0.05, 0.85])).tolist() == [2, 1]
    # takers 0.95, 0.05; slots 0.2, 0.1, 0.6: 0.05 takes 0.1; 0.95 wraps, finds 0.1 taken, takes 0.2.
    assert assign_to_slots(np.array([0.95, 0.05]), np.array([0.2, 0.1, 0.6])).tolist() == [0, 1]
    # add taker 0.07: it takes 0.1, 0.05 goes on to 0.2, and 0.95 wraps all the way round to 0.6.
    assert assign_to_slots(np.array([0.95, 0.05, 0.07]), np.array([0.2, 0.1, 0.6])).tolist() == [2, 0, 1]


def test_ties_taker_before_slot_and_lower_index_first():
    # A slot at the taker's own position is its first slot clockwise.
    assert assign_to_slots(np.array([0.5]), np.array([0.2, 0.5])).tolist() == [1]
    # Two takers at one position: the higher index counts as nearer to the next slot.
    assert assign_to_slots(np.array([0.4, 0.4]), np.array([0.6, 0.7])).tolist() == [1, 0]


def test_equal_counts_every_slot_taken_once():
    rng = np.random.default_rng(1)
    takers, slots = rng.random(500), rng.random(500)
    assignment = assign_to_slots(takers, slots)
    assert sorted(assignment.tolist()) == list(range(500))


def test_empty_and_too_many_takers():
    assert assign_to_slots(np.zeros(0), np.array([0.3])).tolist() == []
    with pytest.raises(ValueError):
        assign_to_slots(np.array([0.1, 0.2]), np.array([0.3]))


@pytest.mark.parametrize("n_takers, n_slots", [(1, 1), (3, 7), (700, 1000), (1000, 1000)])
def test_matches_slow_parking_reference(n_takers, n_slots):
    rng = np.random.default_rng(n_takers + n_slots)
    takers, slots = rng.random(n_takers), rng.random(n_slots)
    assignment = assign_to_slots(takers, slots)
    assert len(set(assignment.tolist())) == n_takers
    np.testing.assert_array_equal(assignment, parking_reference(takers, slots))
    # Parking property: every slot a taker passes over (clockwise, before its own) is taken by someone.
    taken = np.zeros(n_slots, bool)
    taken[assignment] = True
    arc = (slots[assignment] - takers) % 1.0
    for i in rng.choice(n_takers, min(n_takers, 50), replace=False):
        passed = ((slots - takers[i]) % 1.0) < arc[i]
        assert taken[passed].all()


@pytest.mark.parametrize("n_takers", [5_000, 9_000])
def test_one_more_slot_or_taker_moves_few_takers(n_takers):
    rng = np.random.default_rng(n_takers)
    takers, slots = rng.random(n_takers), rng.random(10_000)
    base = assign_to_slots(takers, slots)
    with_slot = assign_to_slots(takers, np.append(slots, rng.random()))
    with_taker = assign_to_slots(np.append(takers, rng.random()), slots)[:n_takers]
    assert np.count_nonzero(with_slot != base) < 0.01 * n_takers
    assert np.count_nonzero(with_taker != base) < 0.01 * n_takers


def test_alignment_hand_computed():
    # group 0: 1 of 4 (the lowest draw, 0.10); group 1: none; group 2: 3 of 2 (everyone).
    group = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    uniform = np.array([0.10, 0.25, 0.24, 0.90, 0.00, 0.50, 0.99, 0.00])
    chosen = lowest_in_groups(uniform, group, np.array([1, 0, 3]))
    assert chosen.tolist() == [True, False, False, False, False, False, True, True]
    assert lowest_in_groups(uniform, group, np.array([2, 1, 1])).tolist() == [True, False, True, False, True, False, False, True]


def test_alignment_ties_empty_groups_and_no_members():
    assert lowest_in_groups(np.array([0.3, 0.3, 0.3]), np.array([5, 5, 5]), np.zeros(6, int) + 2).tolist() == [True, True, False]
    assert lowest_in_groups(np.zeros(0), np.zeros(0, np.int64), np.array([4])).tolist() == []


def test_alignment_counts_are_exact_and_larger_counts_choose_supersets():
    rng = np.random.default_rng(3)
    group = rng.integers(0, 40, 5_000)
    uniform = rng.random(5_000)
    small, large = rng.integers(0, 80, 40), None
    large = small + rng.integers(0, 10, 40)
    chosen = lowest_in_groups(uniform, group, small)
    np.testing.assert_array_equal(np.bincount(group[chosen], minlength=40), np.minimum(small, np.bincount(group, minlength=40)))
    assert not (chosen & ~lowest_in_groups(uniform, group, large)).any()


def test_alignment_one_more_member_changes_at_most_one_other_outcome():
    """A member joining a group (one more worker of a firm, one more seeker of a market) takes a place or
    not; at most one other member's outcome changes, and none in other groups."""
    rng = np.random.default_rng(4)
    group = rng.integers(0, 50, 10_000)
    uniform = rng.random(10_000)
    count = rng.integers(0, 100, 50)
    base = lowest_in_groups(uniform, group, count)
    for _ in range(20):
        joined = lowest_in_groups(np.append(uniform, rng.random()), np.append(group, rng.integers(0, 50)), count)
        assert (joined[:-1] != base).sum() <= 1
        assert joined[:-1].sum() + joined[-1] == base.sum()


def test_markets_are_separate_circles():
    """Assigning several markets at once equals assigning each market alone."""
    rng = np.random.default_rng(11)
    taker_market = rng.integers(0, 5, 3_000)
    slot_market = np.concatenate((taker_market, rng.integers(0, 5, 1_000)))  # each market has enough slots
    takers, slots = rng.random(len(taker_market)), rng.random(len(slot_market))
    together = assign_to_slots(takers, slots, taker_market, slot_market)
    for m in range(5):
        mine, theirs = np.flatnonzero(taker_market == m), np.flatnonzero(slot_market == m)
        alone = assign_to_slots(takers[mine], slots[theirs])
        np.testing.assert_array_equal(together[mine], theirs[alone])
    with pytest.raises(ValueError, match="market 2"):
        assign_to_slots(np.array([0.1, 0.2]), np.array([0.3, 0.4]), np.array([2, 2]), np.array([2, 0]))


def test_deep_nesting_innermost_first():
    """All takers before all slots: the walk climbs to 40,000 (the wide-key path of the grouping sort);
    the r-th highest taker takes the r-th slot clockwise."""
    rng = np.random.default_rng(12)
    takers, slots = rng.random(40_000) * 0.5, 0.5 + rng.random(50_000) * 0.5
    assignment = assign_to_slots(takers, slots)
    slot_rank = np.argsort(slots)
    expected = np.empty(len(takers), np.int64)
    expected[np.argsort(-takers)] = slot_rank[: len(takers)]
    np.testing.assert_array_equal(assignment, expected)


def test_empty_market_between_markets():
    # market 0: taker 0.9 wraps to slot 0.1 (index 0); market 1 empty; market 2: taker 0.2 takes slot 0.3
    # (index 2) before 0.5 (index 1).
    assignment = assign_to_slots(np.array([0.9, 0.2]), np.array([0.1, 0.5, 0.3]), np.array([0, 2]), np.array([0, 2, 2]))
    assert assignment.tolist() == [0, 2]
