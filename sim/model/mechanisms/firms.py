"""Firm demography: closures, entry of startups and spin-offs, and the reallocation of demand.

Firm agents are cohorts of establishments (``sim.model.agents.firm``). Every count comes from a uniform
keyed by the identity it concerns (the firm for its closures, the cell and year for entry), so a
perturbation without economic content (one more empty firm, a lever that changes nothing) leaves
every other firm's draws unchanged.

- Closures: a cohort loses its expected number of establishments, rounded by the firm's keyed
  uniform, at a hazard that depends on the firm's age (young firms at the rate implied by five-year
  survival) and falls with size as (size)^(−elasticity), normalised so that the mean hazard over
  the establishments of each class is its base rate (empty firms, which close for sure, do not
  enter the mean).
- Entry: new establishments per region and industry = birth rate × establishments × growth of the
  working-age population (Poisson by keyed inversion), one cohort per cell and year (R&D performers
  apart), so the number of firm agents stays near its start however long a cohort lives; never more
  than the region's working-age residents (``within_founders``).
- Spin-offs: from university research, in the region's R&D-performing industries.
- Closed establishments' workers lose their jobs; the demand they served goes to the survivors of
  their market.
- Local demand: non-tradable jobs follow the residents' labour force and the local multiplier of every
  change in tradable jobs, never more than the residents, and fall as local wages rise (the model scales
  them by the wage response).
"""

from __future__ import annotations

import numpy as np

from sim.model.agents.firm import FirmPopulation
from sim.model.agents.talent import NOT_EMPLOYED, TalentPool
from sim.model.crn import CommonRandomNumbers, Purpose, identities, lowest_in_groups, poisson_from_uniform, rounded_count

DERIVED_UID_BIT = np.uint64(1 << 62)
"""Entrants' identities are 62-bit hashes with bit 62 set (so they stay positive as int64); the start
population is numbered 0…N−1."""

STARTUP_TAG, SPINOFF_TAG = 0x5717, 0x5913
"""Separate identity (and draw) families for startup and spin-off cohorts of the same cell and year."""


def closure_hazard(
    firms: FirmPopulation, young_hazard: np.ndarray, mature_hazard: float, young_years: int, elasticity: float
) -> np.ndarray:
    """Yearly closure probability of each agent's establishments (the caller's draw caps it at 1).

    ``young_hazard`` is per agent (levers may lower it by region); an empty firm (size 0) closes for sure.
    """
    young = (firms.age < young_years).view(np.int8)
    active = (firms.size > 0) & (firms.establishments > 0)
    relative = np.power(np.maximum(firms.size, 1e-9), -elasticity)
    weights = np.where(active, firms.establishments, 0).astype(float)
    totals = np.bincount(young, weights=weights, minlength=2)
    means = np.divide(np.bincount(young, weights=weights * relative, minlength=2), totals, out=np.ones(2), where=totals > 0)
    relative /= means[young]
    return np.where(active, np.where(young == 1, young_hazard, mature_hazard) * relative, 1.0)


def entrant_cohorts(
    expected: np.ndarray,
    performer_share: np.ndarray,
    firms: FirmPopulation,
    young_size: np.ndarray,
    market_of: np.ndarray,
    rd_intensity_by_region: np.ndarray,
    crn: CommonRandomNumbers,
    year: int,
    tag: int,
) -> FirmPopulation:
    """This year's entrants: one cohort per (region, industry, R&D performer or not) that has entrants.

    ``expected`` [regions, industries] is the expected number of new establishments; the count is a
    Poisson draw by inversion of a uniform keyed by (tag, year, region, industry), and a share
    ``performer_share`` [regions, industries] of them (rounded by a keyed uniform) performs R&D at
    its region's intensity. Entrants take the mean productivity of the establishments of their cell
    (each incumbent establishment as likely to be imitated), and the size ``young_size`` of the
    young firms of their market (``market_of`` [regions, industries] → market index). Each cohort's
    identity is derived from (tag, year, region, industry, performer), never from a counter.
    """
    n_regions, n_industries = expected.shape
    cell = firms.region.astype(np.int64) * n_industries + firms.industry
    weights = np.where(firms.size > 0, firms.establishments, 0).astype(float)  # empty firms are not imitated
    establishments = np.bincount(cell, weights=weights, minlength=expected.size)
    productivity = np.divide(
        np.bincount(cell, weights=weights * firms.productivity, minlength=expected.size),
        establishments,
        out=np.zeros(expected.size),
        where=establishments > 0,
    )
    cells = np.flatnonzero((expected.ravel() > 0) & (establishments > 0)).astype(np.uint64)
    key = identities(tag, year, cells)
    count = poisson_from_uniform(crn.uniforms(key, year, Purpose.ENTRY), expected.ravel()[cells.astype(np.int64)])
    performers = np.minimum(
        rounded_count(crn.uniforms(key, year, Purpose.ENTRY_RD), count * performer_share.ravel()[cells.astype(np.int64)]), count
    )
    split = np.concatenate((performers, count - performers))
    flag = np.repeat(np.array([1, 0], dtype=np.uint64), len(cells))
    cell_of = np.tile(cells, 2).astype(np.int64)
    keep = split > 0
    split, flag, cell_of = split[keep], flag[keep], cell_of[keep]
    region, industry = np.divmod(cell_of, n_industries)
    uid = (identities(tag, year, cell_of.astype(np.uint64), flag) >> np.uint64(2)) | DERIVED_UID_BIT
    return FirmPopulation.new(
        region,
        industry,
        split,
        young_size[market_of[region, industry]],
        productivity[cell_of],
        np.where(flag == 1, rd_intensity_by_region[region], 0.0),
        np.zeros(len(uid)),
        crn.uniforms(uid, year, Purpose.ROUNDING),
        uid,
    )


def reallocate_closed_demand(firms: FirmPopulation, market: np.ndarray, workers_before: np.ndarray, survivors: int, n_markets: int) -> None:
    """Jobs of closed establishments not taken by entrants go to the surviving firms of the same
    market, in proportion to their size (competitors take over the market share), so churn alone
    changes neither the jobs of a market nor the shape of its size distribution.

    ``workers_before`` is each market's desired employment (persons) before closures; ``survivors``
    the number of agents before the entrants appended at the end.
    """
    workers = firms.workers()
    entrant = np.bincount(market[survivors:], weights=workers[survivors:], minlength=n_markets)
    surviving = np.bincount(market[:survivors], weights=workers[:survivors], minlength=n_markets)
    factor = np.divide(np.maximum(workers_before - entrant, 0.0), surviving, out=np.ones(n_markets), where=surviving > 0)
    firms.size[:survivors] *= factor[market[:survivors]]


def lose_jobs_at_closures(talent: TalentPool, firms: FirmPopulation, closed: np.ndarray, crn: CommonRandomNumbers, year: int) -> None:
    """Workers of closing establishments lose their jobs: a firm agent with a share s of its
    establishments closing loses s of its workers (rounded by the firm's keyed draw), those with the
    lowest keyed draws (``crn.lowest_in_groups``), so how many leave does not depend on who they are."""
    share = np.divide(closed, firms.establishments, out=np.zeros(len(firms)), where=firms.establishments > 0)
    employees = firms.employees(talent.employer)
    losses = np.minimum(rounded_count(crn.uniforms(firms.uid, year, Purpose.CLOSURE_JOB_LOSSES), share * employees), employees)
    losing = np.concatenate(([False], losses > 0))  # losing[0]: persons without a job (employer NOT_EMPLOYED = −1)
    at_risk = np.flatnonzero(losing[talent.employer + 1])
    employer = talent.employer[at_risk]
    loses = lowest_in_groups(crn.uniforms(talent.uid[at_risk], year, Purpose.CLOSURE_JOB_LOSS), employer, losses)
    talent.employer[at_risk[loses]] = NOT_EMPLOYED


def local_demand(
    demand: np.ndarray, resident_growth: np.ndarray, tradable_change: np.ndarray, multiplier: float, residents: np.ndarray
) -> np.ndarray:
    """Non-tradable jobs the region's spending supports at base wages (persons): last year's grown with
    ``resident_growth`` (the growth of the labour force the residents would have at the start's
    participation, so that ageing shifts local demand and local supply alike), plus the local multiplier
    times the year's change in tradable jobs (every change: growth, entry and exit, funded jobs, wage
    responses and shocks). Moretti (2010): each tradable job supports about 1.6 local jobs.

    Bounded by ``residents`` (persons living in the region): local jobs serve the residents' own spending,
    so there cannot be more of them than residents (0.1-0.6 per resident in the Korean provinces at the start). The bound
    acts only when a province all but empties and fills again, where the growth factor and the tradable
    change would otherwise multiply a demand left over from residents who are gone."""
    return np.clip(demand * resident_growth + multiplier * tradable_change, 0.0, residents)


def within_founders(expected: np.ndarray, founders: np.ndarray) -> np.ndarray:
    """Expected new establishments [regions, industries], scaled down in a region whose total exceeds
    ``founders`` [regions] (its working-age residents, persons): every new establishment needs at least one
    founder, so a year's entry cannot exceed them (at most 3 entrants per 100 working-age persons in a Korean province).
    The bound acts only where establishments stay in a province that has all but emptied and the growth
    of its working-age population multiplies their entry; elsewhere ``expected`` is returned unchanged."""
    total = expected.sum(axis=1)
    factor = np.divide(founders, total, out=np.ones(len(total)), where=total > founders)
    return expected * factor[:, None]


def set_local_jobs(firms: FirmPopulation, tradable: np.ndarray, target: np.ndarray) -> None:
    """Scale each region's non-tradable firms to ``target`` jobs (persons, by region), keeping their
    relative sizes (``tradable`` [industries] marks the tradable sections)."""
    non_tradable = ~tradable[firms.industry]
    current = np.bincount(firms.region, weights=firms.workers() * non_tradable, minlength=len(target))
    firms.scale_sizes(non_tradable, np.divide(target, current, out=np.ones(len(target)), where=current > 0))


def tradable_jobs(firms: FirmPopulation, tradable: np.ndarray, n_regions: int) -> np.ndarray:
    """Desired employment of tradable firms by region (persons)."""
    return np.bincount(firms.region, weights=firms.workers() * tradable[firms.industry], minlength=n_regions)
