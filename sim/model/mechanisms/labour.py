"""Labour market: participation, separations, layoffs, vacancies, matching and the wage curve.

``LabourMarket`` holds what is calibrated at the start (participation levels, matching efficiency)
and applies the yearly rules to the person and firm arrays; the functions below are its parts.

Supply and wages respond to local tightness:

- participation: each person's probability of being in the labour force is their region × age
  probability times (θ / θ₀)^ε, θ the year's job openings (jobs firms want per member of the expected
  labour force at the start's participation, θ₀ at the start; ``participation_response``), compared with their persistent keyed draw, so the
  persons who join when demand rises are the same in paired runs;
- wages: the region's wage moves with its productivity and carries a tightness premium −ω·ln(u / u₀),
  u the year's unemployment rate and u₀ the region's calibrated base (the wage curve, ``wage_curve``).
  Migrants weigh the wage; employers pay it and want fewer workers the higher the premium.

Matches per market follow the constant-returns matching function m = A · U^α · V^(1−α)
(Petrongolo & Pissarides 2001), capped by the number of seekers and of vacancies. Flows are aligned
to their expected counts (``crn.lowest_in_groups``): a market hires its expected matches, rounded
by the market's keyed draw, and the seekers with the lowest keyed draws are hired into the vacancy
slots with the lowest keyed draws; a firm loses its expected separations (the separation rate times
its workers) rounded by the firm's keyed draw, and its layoffs exactly, its workers with the lowest
keyed draws leaving. Every seeker and slot keeps the same chance, but how many are hired, and how
many workers each firm keeps, depend on counts of seekers, vacancies and workers, not on which
persons they are: a policy run whose persons have diverged from the baseline's keeps the baseline's
firm-level employment except where the policy changed those counts.

:func:`assign_to_slots` takes pre-computed keyed uniforms (one per person or per slot, from
:class:`sim.model.crn.CommonRandomNumbers`), so each random outcome belongs to one identity and a
change elsewhere in the run does not reshuffle it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.inputs.parameters import Labour
from sim.model.agents.firm import FirmPopulation
from sim.model.agents.talent import NOT_EMPLOYED, TalentPool
from sim.model.cells import per_person
from sim.model.crn import CommonRandomNumbers, Purpose, identities, lowest_in_groups, rounded_count


def participation_probability(profile: np.ndarray, region_level: np.ndarray) -> np.ndarray:
    """Probability [n_regions, 101] of being in the labour force, by region and age (clipped to 1)."""
    return np.clip(region_level[:, None] * profile[None, :], 0.0, 1.0)


def participation_response(openings_change: np.ndarray, elasticity: float) -> np.ndarray:
    """Factor on each region's participation probabilities: exp(ε·Δln θ) = (θ / θ₀)^ε, where θ is labour
    demand (jobs firms want) per member of the expected labour force and θ₀ its value at the start, and
    ε = ``elasticity``. One per cent more openings per worker raises participation by about ε %."""
    return np.exp(elasticity * np.asarray(openings_change, float))


UNEMPLOYMENT_FLOOR = 0.005
"""Lowest unemployment rate the wage curve reads (fraction): a small province at 1:100 can have a
year without unemployed agents, where ln u is undefined."""


def wage_curve(unemployment: np.ndarray, base_unemployment: np.ndarray, elasticity: float) -> np.ndarray:
    """Log wage premium of local tightness: −ω·ln(u / u₀) with ω = ``elasticity`` (both rates floored
    at ``UNEMPLOYMENT_FLOOR``). Zero at the base rate; a market with half its base unemployment pays
    ω·ln 2 more (about 7 % with ω = 0.1)."""
    u = np.maximum(np.asarray(unemployment, float), UNEMPLOYMENT_FLOOR)
    u0 = np.maximum(np.asarray(base_unemployment, float), UNEMPLOYMENT_FLOOR)
    return -elasticity * np.log(u / u0)


def matches(seekers: np.ndarray, vacancies: np.ndarray, efficiency: np.ndarray, elasticity: float) -> np.ndarray:
    """Expected hires per market (persons), capped by seekers and vacancies."""
    seekers = np.asarray(seekers, dtype=float)
    vacancies = np.asarray(vacancies, dtype=float)
    raw = efficiency * np.power(seekers, elasticity) * np.power(vacancies, 1.0 - elasticity)
    return np.minimum(raw, np.minimum(seekers, vacancies))


def matching_efficiency_for(finding_rate: np.ndarray, seekers: np.ndarray, vacancies: np.ndarray, elasticity: float) -> np.ndarray:
    """Efficiency A that gives job-finding probability ``finding_rate`` at the given U and V."""
    seekers = np.maximum(np.asarray(seekers, dtype=float), 1.0)
    vacancies = np.maximum(np.asarray(vacancies, dtype=float), 1.0)
    return finding_rate * np.power(seekers / vacancies, 1.0 - elasticity)


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
    takers_in = np.bincount(taker_market, minlength=n_markets)
    surplus = takers_in - np.bincount(slot_market, minlength=n_markets)  # takers minus slots: each market's final level
    if (surplus > 0).any():
        raise ValueError(f"more takers than slots in market {int(np.argmax(surplus > 0))}")
    if n_takers == 0:
        return np.zeros(0, dtype=np.int64)
    # Clockwise order of all points within each market; point ids < n_takers are takers, the rest slots.
    order = _sorted_ids(np.concatenate((taker_market + taker_position, slot_market + slot_position)))
    is_taker = order < n_takers
    sizes = 2 * takers_in - surplus
    present = np.flatnonzero(sizes)
    surplus, sizes = surplus[present], sizes[present]
    first = np.cumsum(sizes) - sizes  # each non-empty market's first place in ``order``
    # The walk steps +1 at a taker, −1 at a slot; ``walk`` is its level after each point (markets in turn).
    walk = np.cumsum(is_taker.view(np.int8) * np.int8(2) - np.int8(1), dtype=np.int64)
    # Read each market's walk from just after its first lowest level (``turn``): every level of that
    # rotated walk is then >= its final level, so each taker's level comes back down before the end
    # and no match wraps. Its level after a point is walk − lowest, plus ``surplus`` for the points it
    # reaches after passing the market's end (first … turn: "wrapped").
    lowest = np.minimum.reduceat(walk, first)
    at_lowest = np.flatnonzero(walk == np.repeat(lowest, sizes))
    turn = at_lowest[np.searchsorted(at_lowest, first)]
    # A taker stepping up to level L parks at the first later slot stepping down from L (both at depth
    # L: a taker's level after it, a slot's before it), and no point between them has depth L. Ordered
    # stably by (market, depth, wrapped), the points of one depth keep their rotated order and each
    # taker's slot comes right after it. Key 2·depth + wrapped, offset per market so that markets follow
    # each other; depths lie between ``surplus`` and the market's highest level + 1.
    width = 2 * (np.maximum.reduceat(walk, first) - lowest - surplus + 2)
    base = np.cumsum(width) - width - 2 * surplus - 2 * lowest
    wrapped = turn - first + 1
    key = walk
    key += ~is_taker
    key *= 2
    key += np.repeat(np.column_stack((base + 2 * surplus + 1, base)).ravel(), np.column_stack((wrapped, sizes - wrapped)).ravel())
    small = width.sum() <= 1 << 16
    grouped = np.argsort(key.astype(np.uint16) if small else key, kind="stable")  # numpy sorts 16-bit keys by radix
    parked = np.flatnonzero(is_taker[grouped])
    assignment = np.empty(n_takers, dtype=np.int64)
    assignment[order[grouped[parked]]] = order[grouped[parked + 1]] - n_takers
    return assignment


@dataclass
class LabourMarket:
    """The regions' labour markets: who is in the labour force, who loses a job, who is hired where.

    ``participation_profile`` [ages] and ``participation_level`` [regions] give each person's
    probability of being in the labour force (compared with their persistent draw), and
    ``participation_factor`` [regions] its response to tightness (``participation_response``);
    ``matching_efficiency`` [regions] is the A of the matching function, calibrated so the start
    year's unemployment rate is a steady state; ``params`` is the ``labour`` parameter section.
    """

    params: Labour
    participation_profile: np.ndarray
    participation_level: np.ndarray
    matching_efficiency: np.ndarray
    participation_factor: np.ndarray | float = 1.0

    def labour_force(self, talent: TalentPool) -> np.ndarray:
        """Persons in the labour force: not studying, and under their participation probability."""
        probability = participation_probability(self.participation_profile, self.participation_level * self.participation_factor)
        return ~talent.studying & (talent.participation_draw < per_person(probability, talent.region, talent.age))

    def expected_labour_force(self, talent: TalentPool, n_regions: int) -> np.ndarray:
        """Agents each region's residents would put in the labour force at the start's participation (the
        sum of their probabilities without the response to openings): the supply that openings are
        measured against, which participation's own response does not move."""
        probability = participation_probability(self.participation_profile, self.participation_level)
        weight = np.where(talent.studying, 0.0, per_person(probability, talent.region, talent.age))
        return np.bincount(talent.region, weights=weight, minlength=n_regions)

    def step(
        self,
        talent: TalentPool,
        firms: FirmPopulation,
        in_labour_force: np.ndarray,
        links: np.ndarray,
        crn: CommonRandomNumbers,
        year: int,
        scale: int,
    ) -> None:
        """Separations (leaving the labour force, then each firm's expected separations at the yearly
        hazard), layoffs where firms want fewer workers than they have, then matching: first within the
        region, then within the regions ``links`` [regions, regions] joins to it (commuting). Counts are
        keyed by the firm or market, who leaves or is hired by the person's own keyed draw."""
        t, f = talent, firms
        workers = np.flatnonzero(t.employed)
        t.employer[workers[~in_labour_force[workers]]] = NOT_EMPLOYED
        workers = workers[in_labour_force[workers]]
        employer = t.employer[workers]
        employees = f.employees(employer)
        separations = rounded_count(crn.uniforms(f.uid, year, Purpose.SEPARATIONS), employees * self.params.job_separation_rate)
        leaving = lowest_in_groups(crn.uniforms(t.uid[workers], year, Purpose.SEPARATION), employer, separations)
        t.employer[workers[leaving]] = NOT_EMPLOYED
        workers = workers[~leaving]
        employees -= np.minimum(separations, employees)  # exactly the separations chosen
        wanted = f.jobs(scale)
        excess = np.maximum(employees - wanted, 0)  # laid off exactly: workers of shrinking firms
        at_risk = workers[excess[t.employer[workers]] > 0]
        laid_off = at_risk[lowest_in_groups(crn.uniforms(t.uid[at_risk], year, Purpose.LAYOFF), t.employer[at_risk], excess)]
        vacancies = np.maximum(wanted - employees + excess, 0)
        t.employer[laid_off] = NOT_EMPLOYED
        seekers = np.flatnonzero(in_labour_force & (t.employer == NOT_EMPLOYED))
        self._match(t, f, seekers, vacancies, links, crn, year)

    def _match(
        self,
        t: TalentPool,
        f: FirmPopulation,
        seekers: np.ndarray,
        vacancies: np.ndarray,
        links: np.ndarray,
        crn: CommonRandomNumbers,
        year: int,
    ) -> None:
        """Hire seekers into vacancy slots, first in their region, then in linked regions.

        Hires per market are the matching function's, rounded by the market's keyed draw; the seekers
        with the lowest keyed draws are hired (``fill_vacancies`` chooses the slots they fill), so one
        more seeker changes at most one hire.
        """
        n_regions = len(self.matching_efficiency)
        alpha = self.params.matching_elasticity_unemployment
        rounds = (
            (0, self.matching_efficiency, Purpose.HIRING),
            (1, self.matching_efficiency * self.params.commuting_share_adjacent, Purpose.COMMUTE_HIRING),
        )
        for commuting_round, efficiency, purpose in rounds:
            home = t.region[seekers]
            n_seekers = np.bincount(home, minlength=n_regions)
            open_by_region = np.bincount(f.region, weights=vacancies, minlength=n_regions)
            if commuting_round:
                open_by_region = links.astype(float) @ open_by_region
            hires = matches(n_seekers, open_by_region, efficiency, alpha)
            count = rounded_count(crn.uniforms(np.arange(n_regions, dtype=np.uint64), year, Purpose.HIRES, salt=commuting_round), hires)
            hired = seekers[lowest_in_groups(crn.uniforms(t.uid[seekers], year, purpose), home, count)]
            position = crn.uniforms(t.uid[hired], year, Purpose.JOB_ASSIGNMENT, salt=commuting_round)
            if commuting_round:
                by_region = np.argsort(f.region, kind="stable")
                bounds = np.searchsorted(f.region[by_region], np.arange(n_regions + 1))
                for r in np.unique(t.region[hired]):  # linked markets overlap: one home region after another
                    mine = t.region[hired] == r
                    firms = np.concatenate([by_region[bounds[m] : bounds[m + 1]] for m in np.flatnonzero(links[r])])
                    firms = firms[vacancies[firms] > 0]
                    fill_vacancies(
                        t,
                        f,
                        hired[mine],
                        position[mine],
                        np.zeros(mine.sum(), np.int64),
                        firms,
                        np.zeros(len(firms), np.int64),
                        vacancies,
                        crn,
                        year,
                        salt=1,
                    )
            else:
                firms = np.flatnonzero(vacancies > 0)
                fill_vacancies(
                    t,
                    f,
                    hired,
                    position,
                    t.region[hired].astype(np.int64),
                    firms,
                    f.region[firms].astype(np.int64),
                    vacancies,
                    crn,
                    year,
                    salt=0,
                )
            seekers = seekers[t.employer[seekers] == NOT_EMPLOYED]


def unemployment_rate(status: np.ndarray) -> np.ndarray:
    """Each region's unemployment rate among its labour force (fraction), from the agents by region and
    labour status [regions, 4] (``TalentPool.status_by_region``, which the year's record reuses)."""
    status = status.astype(float)
    employed = status[:, 1] + status[:, 3]
    labour_force = status[:, 1:].sum(axis=1)  # the labour force, and those employed outside it
    return 1.0 - np.divide(employed, labour_force, out=np.ones(len(status)), where=labour_force > 0)


def fill_vacancies(
    t: TalentPool,
    f: FirmPopulation,
    takers: np.ndarray,
    position: np.ndarray,
    market: np.ndarray,
    firms: np.ndarray,
    firm_market: np.ndarray,
    vacancies: np.ndarray,
    crn: CommonRandomNumbers,
    year: int,
    salt: int,
) -> None:
    """Hire ``takers`` (persons, each in ``market``) into vacancy slots of ``firms`` (each in
    ``firm_market``); where a market has fewer slots than takers, the takers with the lowest
    positions are hired. The slots filled are those with the lowest keyed draws of their market
    (slot j of a firm keyed by the firm's identity and j), as many as it has hires, so which firms
    fill their vacancies does not depend on which persons were hired; each hire is then assigned one
    of them by keyed positions on a circle (``assign_to_slots``). Updates ``t.employer`` and
    ``vacancies`` in place."""
    slot_firm = np.repeat(firms, vacancies[firms])
    slot_market = np.repeat(firm_market, vacancies[firms])
    n_markets = int(max(market.max(initial=0), firm_market.max(initial=0))) + 1
    slots = np.bincount(slot_market, minlength=n_markets)
    hired = np.ones(len(takers), bool)
    if (np.bincount(market, minlength=n_markets) > slots).any():
        hired = lowest_in_groups(position, market, slots)
    ordinal = np.arange(len(slot_firm)) - np.repeat(np.cumsum(vacancies[firms]) - vacancies[firms], vacancies[firms])
    keys = identities(f.uid[slot_firm], ordinal.astype(np.uint64))
    to_fill = lowest_in_groups(
        crn.uniforms(keys, year, Purpose.VACANCY_FILL, salt=salt), slot_market, np.bincount(market[hired], minlength=n_markets)
    )
    slot_position = crn.uniforms(keys[to_fill], year, Purpose.JOB_SLOT, salt=salt)
    filled = slot_firm[to_fill][assign_to_slots(position[hired], slot_position, market[hired], slot_market[to_fill])]
    t.employer[takers[hired]] = filled
    np.subtract.at(vacancies, filled, 1)


def _sorted_ids(key: np.ndarray) -> np.ndarray:
    """Indices sorting ``key``, equal keys in index order (quicksort; a stable sort only when keys repeat)."""
    order = np.argsort(key)
    return np.argsort(key, kind="stable") if (np.diff(key[order]) == 0).any() else order
