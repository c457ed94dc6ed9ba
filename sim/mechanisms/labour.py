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


def assign_to_slots(
    taker_position: np.ndarray,
    slot_position: np.ndarray,
    taker_market: np.ndarray | None = None,
    slot_market: np.ndarray | None = None,
) -> np.ndarray:
    """Index into ``slot_position`` of the vacancy slot each taker (hired person) fills; all distinct.

    Positions are keyed uniforms in [0, 1) read as points on a circle (a taker's from its uid, a slot's
    from its firm's uid and the slot's ordinal); each market (``taker_market``, ``slot_market``:
    small non-negative integers, all 0 by default) is a circle of its own. Each taker parks in the
    first free slot of its market clockwise from its position, takers served innermost first: the
    matching of parentheses with takers as "(" and slots as ")". Unlike ranking or inverting a CDF,
    adding or removing one slot or taker re-matches only the takers whose arcs (taker → its slot)
    enclose that point, not everyone, so a policy run and its baseline keep almost all the same
    person–job pairs.

    Ties: at equal positions takers come before slots (a slot at a taker's own position is the first
    clockwise), and lower indices before higher. Requires no more takers than slots in each market,
    so every taker is matched. O(n log n) in the number of points, with no Python loop over them.
    """
    n_takers, n_slots = len(taker_position), len(slot_position)
    taker_market = np.zeros(n_takers, np.int64) if taker_market is None else np.asarray(taker_market, np.int64)
    slot_market = np.zeros(n_slots, np.int64) if slot_market is None else np.asarray(slot_market, np.int64)
    n_markets = int(max(taker_market.max(initial=-1), slot_market.max(initial=-1))) + 1
    short = np.bincount(taker_market, minlength=n_markets) > np.bincount(slot_market, minlength=n_markets)
    if short.any():
        raise ValueError(f"more takers than slots in market {int(np.argmax(short))}")
    if n_takers == 0:
        return np.zeros(0, dtype=np.int64)
    n_points = n_takers + n_slots
    market = np.concatenate((taker_market, slot_market))
    # Clockwise order of all points within each market; point ids < n_takers are takers, the rest slots.
    key = market + np.concatenate((taker_position, slot_position))
    order = np.argsort(key)  # quicksort; equal positions (rare) need the stable order of the tie rule
    if (np.diff(key[order]) == 0).any():
        order = np.argsort(key, kind="stable")
    market = market[order]
    starts = np.searchsorted(market, np.arange(n_markets))
    sizes = np.diff(np.append(starts, n_points))
    step = np.where(order < n_takers, 1, -1)
    balance = np.cumsum(step)
    balance -= np.repeat(balance[starts] - step[starts], sizes)  # balance within the market
    # Start each market just after its lowest balance: every level of the rotated walk is then >= its
    # final level, so each taker's level comes back down before the market's end and no match wraps.
    present = starts[sizes > 0]
    lowest_balance = np.minimum.reduceat(balance, present)
    at_lowest = np.flatnonzero(balance == np.repeat(lowest_balance, sizes[sizes > 0]))
    first_lowest = at_lowest[np.searchsorted(at_lowest, present)]
    shift = np.zeros(n_markets, np.int64)
    shift[sizes > 0] = first_lowest + 1 - present
    rotated = starts[market] + (np.arange(n_points) - starts[market] + shift[market]) % np.maximum(sizes[market], 1)
    order = order[rotated]  # each market's walk begins after its lowest balance (markets stay in place)
    is_taker = order < n_takers
    step = np.where(is_taker, 1, -1)
    level = np.cumsum(step)
    level -= np.repeat(level[starts] - step[starts], sizes)  # level after each point, within the market
    # A taker whose level is L matches the first later slot of its market whose level is L - 1. Slots
    # sorted by (market, level, place in the walk) let searchsorted find it for all takers.
    floor = int(level.min()) - 1
    span = int(level.max()) - floor + 1
    place = np.arange(n_points, dtype=np.int64)
    slot_places = place[~is_taker]
    slot_keys = (market[slot_places] * span + level[slot_places] - floor) * n_points + slot_places
    slot_keys.sort()
    taker_places = place[is_taker]
    wanted = (market[taker_places] * span + level[taker_places] - 1 - floor) * n_points + taker_places
    matched_place = slot_keys[np.searchsorted(slot_keys, wanted)] % n_points
    assignment = np.empty(n_takers, dtype=np.int64)
    assignment[order[taker_places]] = order[matched_place] - n_takers
    return assignment
