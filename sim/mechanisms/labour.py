"""Labour market: participation, separations, vacancies and matching.

Matches per market follow the constant-returns matching function m = A · U^α · V^(1−α)
(Petrongolo & Pissarides 2001), capped by the number of seekers and of vacancies. Seekers are
hired independently with the market's job-finding probability; hires fill vacancy slots, every
vacancy with the same chance.

:func:`layoff_mask` and :func:`assign_to_slots` take pre-computed keyed uniforms (one per person or
per slot, from :class:`sim.crn.CommonRandomNumbers`), so each random outcome belongs to one identity
and a change elsewhere in the run does not reshuffle it.
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


def layoff_mask(employer: np.ndarray, excess: np.ndarray, employees: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Which workers are released because their firm shrank.

    Worker i (of firm ``employer[i]``) is released when ``uniform[i] < excess / employees`` of its firm
    (``excess`` and ``employees`` in workers, per firm), so each worker of a shrinking firm leaves with that
    probability and the expected count is exact. ``uniform[i]`` in [0, 1) is keyed by the worker's uid, so
    whether a worker leaves depends only on its own draw and its firm, not on other firms' workers.
    """
    share = np.divide(excess, employees, out=np.zeros(len(excess)), where=employees > 0)
    return uniform < share[employer]


def assign_to_slots(taker_position: np.ndarray, slot_position: np.ndarray) -> np.ndarray:
    """Index into ``slot_position`` of the vacancy slot each taker (hired person) fills; all distinct.

    Positions are keyed uniforms in [0, 1) read as points on a circle (a taker's from its uid, a slot's
    from its firm's uid and the slot's ordinal). Each taker parks in the first free slot clockwise from its
    position, takers served innermost first: the matching of parentheses with takers as "(" and slots as
    ")". Unlike ranking or inverting a CDF, adding or removing one slot or taker re-matches only the
    takers whose arcs (taker → its slot) enclose that point, not everyone, so a policy run and its
    baseline keep almost all the same person–job pairs.

    Ties: at equal positions takers come before slots (a slot at a taker's own position is the first
    clockwise), and lower indices before higher. Requires ``len(taker_position) <= len(slot_position)``,
    so every taker is matched. O(n log n) in the number of points, with no Python loop over them.
    """
    n_takers, n_slots = len(taker_position), len(slot_position)
    if n_takers > n_slots:
        raise ValueError(f"{n_takers} takers cannot fill {n_slots} slots")
    if n_takers == 0:
        return np.zeros(0, dtype=np.int64)
    n_points = n_takers + n_slots
    # Clockwise order of all points; point ids < n_takers are takers, the rest slots (stable sort: ties as documented).
    order = np.argsort(np.concatenate((taker_position, slot_position)), kind="stable")
    is_taker = order < n_takers
    balance = np.cumsum(np.where(is_taker, 1, -1))
    # Start just after the lowest balance: every level of the rotated walk is then >= its final level
    # n_takers - n_slots, so each taker's level comes back down before the end and no match wraps around.
    order = np.roll(order, -(int(np.argmin(balance)) + 1))
    is_taker = order < n_takers
    level = np.cumsum(np.where(is_taker, 1, -1))  # level after each point, >= n_takers - n_slots
    # A taker whose level is L matches the first later slot whose level is L - 1 (that slot is always one
    # step down from L). Slots sorted by (level, place in the walk) let searchsorted find it for all takers.
    place = np.arange(n_points, dtype=np.int64)
    slot_places = place[~is_taker]
    slot_keys = (level[slot_places] - (n_takers - n_slots)) * n_points + slot_places
    slot_keys.sort()
    taker_places = place[is_taker]
    wanted = (level[taker_places] - 1 - (n_takers - n_slots)) * n_points + taker_places
    matched_place = slot_keys[np.searchsorted(slot_keys, wanted)] % n_points
    assignment = np.empty(n_takers, dtype=np.int64)
    assignment[order[taker_places]] = order[matched_place] - n_takers
    return assignment
