"""Firm rules (sim.model.mechanisms.firms, sim.model.agents.firm.FirmPopulation): closure hazards and counts, whole
jobs, entrant cohorts, reallocation of closed demand and innovation, on tiny hand-built populations
whose answers are computed by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.parameters import default_parameters
from sim.model.agents.firm import FirmPopulation
from sim.model.crn import CommonRandomNumbers, Purpose
from sim.model.mechanisms.firms import (
    DERIVED_UID_BIT,
    SPINOFF_TAG,
    STARTUP_TAG,
    closure_hazard,
    entrant_cohorts,
    lose_jobs_at_closures,
    reallocate_closed_demand,
    within_founders,
)


def firms(**columns) -> FirmPopulation:
    """A population from the given columns; unspecified ones get neutral defaults."""
    n = len(columns["size"])
    defaults = dict(
        region=np.zeros(n, int),
        industry=np.zeros(n, int),
        establishments=np.ones(n, int),
        productivity=np.full(n, 1e8),
        rd_intensity=np.zeros(n),
        age=np.zeros(n, int),
        rounding_offset=np.full(n, 0.5),
        uid=np.arange(n),
    )
    return FirmPopulation.new(**{**defaults, **columns})


# --- closure_hazard ---------------------------------------------------------------------------------

YOUNG_YEARS, ELASTICITY, YOUNG_HAZARD, MATURE_HAZARD = 3, 0.3, 0.2, 0.1


def hazard_population() -> FirmPopulation:
    """A, B young (age < 3), C, D mature (D's age 3 = young_years is already mature), E empty (size 0)."""
    return firms(
        size=[1.0, 10.0, 100.0, 1.0, 0.0],
        establishments=[3, 1, 1, 1, 5],
        age=[0, 2, 5, 3, 0],
    )


def hazards(population: FirmPopulation, elasticity: float = ELASTICITY) -> np.ndarray:
    return closure_hazard(population, np.full(len(population), YOUNG_HAZARD), MATURE_HAZARD, YOUNG_YEARS, elasticity)


def test_closure_hazard_hand_computed():
    """relative = size^−0.3: A 1, B 10^−0.3 = 0.501187, C 100^−0.3 = 0.251189, D 1.
    Young mean (establishment-weighted, A 3, B 1): (3·1 + 0.501187)/4 = 0.875297
      → A 0.2/0.875297 = 0.228494, B 0.2·0.501187/0.875297 = 0.114518.
    Mature mean (C 1, D 1): (0.251189 + 1)/2 = 0.625594
      → C 0.1·0.251189/0.625594 = 0.040152, D 0.1/0.625594 = 0.159848.
    E is empty: hazard 1."""
    h = hazards(hazard_population())
    assert h == pytest.approx([0.2284939, 0.1145182, 0.0401520, 0.1598480, 1.0], rel=1e-6)


def test_closure_hazard_class_means_equal_base_rates_and_fall_with_size():
    population = hazard_population()
    h = hazards(population)
    e = population.establishments.astype(float)
    young, mature = np.array([0, 1]), np.array([2, 3])
    # (3·0.228494 + 1·0.114518)/4 = 0.2 and (0.040152 + 0.159848)/2 = 0.1
    assert np.average(h[young], weights=e[young]) == pytest.approx(YOUNG_HAZARD, rel=1e-12)
    assert np.average(h[mature], weights=e[mature]) == pytest.approx(MATURE_HAZARD, rel=1e-12)
    assert h[1] < h[0] and h[2] < h[3]  # larger firm, lower hazard within its class
    # without size dependence every active firm has its class's base rate
    assert hazards(population, elasticity=0.0) == pytest.approx([0.2, 0.2, 0.1, 0.1, 1.0])


def test_empty_firm_gets_hazard_one_and_changes_no_other_hazard():
    with_empty = hazard_population()
    without = firms(size=[1.0, 10.0, 100.0, 1.0], establishments=[3, 1, 1, 1], age=[0, 2, 5, 3])
    h_with, h_without = hazards(with_empty), hazards(without)
    assert h_with[4] == 1.0
    np.testing.assert_array_equal(h_with[:4], h_without)  # the null perturbation: bit for bit
    # an agent with size > 0 but no establishments left also closes for sure and is left out of the means
    no_establishments = FirmPopulation.concat(without, firms(size=[0.01], establishments=[0], age=[1]))
    h = hazards(no_establishments)
    assert h[4] == 1.0
    np.testing.assert_array_equal(h[:4], h_without)


def test_closure_hazard_uses_each_agents_young_hazard():
    # a lever lowering young exits for agent A only: A 0.1·1/0.875297 = 0.114247; B unchanged 0.114518
    population = hazard_population()
    h = closure_hazard(population, np.array([0.1, 0.2, 0.2, 0.2, 0.2]), MATURE_HAZARD, YOUNG_YEARS, ELASTICITY)
    assert h[:2] == pytest.approx([0.1 / 0.875296808, 0.2 * 0.501187234 / 0.875296808], rel=1e-6)
    np.testing.assert_array_equal(h[2:], hazards(population)[2:])


# --- FirmPopulation.closures ------------------------------------------------------------------------


def test_closures_of_an_integer_expectation_for_any_uniform():
    # 100 establishments × hazard 0.1 = 10 expected → floor(10 + u) = 10 for every u in [0, 1)
    # (for u ≥ 1 − 2⁻⁵⁰ floating point gives 11: see test_crn.test_rounded_count_integer_expectation_for_the_largest_uniforms)
    u = np.concatenate((CommonRandomNumbers(1).uniforms(np.arange(10_000, dtype=np.uint64), 2024, Purpose.FIRM_EXIT), [0.0, 0.999999]))
    cohort = firms(size=np.full(len(u), 5.0), establishments=np.full(len(u), 100))
    assert np.all(cohort.closures(np.full(len(u), 0.1), u) == 10)


def test_closures_round_a_fractional_expectation_by_the_uniform():
    # 7 × 0.25 = 1.75: floor(1.75 + u) = 1 for u < 0.25, 2 for u ≥ 0.25
    cohort = firms(size=np.full(5, 5.0), establishments=np.full(5, 7))
    u = np.array([0.0, 0.2, 0.2499, 0.25, 0.9])
    assert cohort.closures(np.full(5, 0.25), u).tolist() == [1, 1, 1, 2, 2]
    # mean over an even grid of uniforms: 0.25·1 + 0.75·2 = 1.75
    grid = (np.arange(10_000) + 0.5) / 10_000
    big = firms(size=np.full(len(grid), 5.0), establishments=np.full(len(grid), 7))
    assert big.closures(np.full(len(grid), 0.25), grid).mean() == pytest.approx(1.75, abs=1e-4)


def test_closures_never_exceed_establishments_and_grow_with_hazard():
    rng = np.random.default_rng(3)
    n = 2000
    cohort = firms(size=rng.uniform(0, 20, n), establishments=rng.integers(0, 50, n))
    u = rng.random(n)
    previous = np.zeros(n, np.int64)
    for hazard in np.linspace(0.0, 1.5, 151):  # hazards above 1 (empty firms' 1, or larger) are capped
        closed = cohort.closures(np.full(n, hazard), u)
        assert np.all((closed >= 0) & (closed <= cohort.establishments))
        assert np.all(closed >= previous), hazard
        previous = closed
    np.testing.assert_array_equal(cohort.closures(np.ones(n), u), cohort.establishments)  # hazard 1: all close


# --- FirmPopulation.jobs ----------------------------------------------------------------------------


def test_jobs_hand_cases():
    # 12.5 persons × 4 establishments = 50 persons; at scale 20: 2.5 → floor(2.5 + 0.4) = 2, floor(2.5 + 0.6) = 3
    # 3 × 5 = 15 persons at scale 10: 1.5 → floor(1.5 + 0.49) = 1, floor(1.5 + 0.5) = 2
    # negative size counts as 0 persons: floor(0 + 0.9) = 0
    population = firms(size=[12.5, 12.5, 3.0, 3.0, -2.0], establishments=[4, 4, 5, 5, 3], rounding_offset=[0.4, 0.6, 0.49, 0.5, 0.9])
    assert population.workers() == pytest.approx([50.0, 50.0, 15.0, 15.0, 0.0])
    assert population.jobs(20)[:2].tolist() == [2, 3]
    assert population.jobs(10)[2:].tolist() == [1, 2, 0]


def test_jobs_mean_over_offsets_equals_workers_over_scale():
    grid = (np.arange(1000) + 0.5) / 1000
    for size, establishments, scale in ((12.5, 4, 20), (3.3, 7, 10), (0.4, 1, 100)):
        population = firms(size=np.full(1000, size), establishments=np.full(1000, establishments), rounding_offset=grid)
        assert population.jobs(scale).mean() == pytest.approx(size * establishments / scale, abs=1e-3)


# --- entrant_cohorts --------------------------------------------------------------------------------

N_REGIONS, N_INDUSTRIES = 2, 3
TRADABLE = np.array([0, 1, 0])
MARKET_OF = np.arange(N_REGIONS)[:, None] * 2 + TRADABLE[None, :]  # [[0, 1, 0], [2, 3, 2]]
YOUNG_SIZE = np.array([4.0, 7.0, 2.5, 9.0])  # persons per establishment of young firms, per market
RD_BY_REGION = np.array([0.03, 0.05])
EXPECTED = np.array([[2.0, 0.5, 3.0], [4.0, 1.0, 1.5]])
PERFORMER_SHARE = np.array([[0.5, 1.0, 0.0], [0.3, 0.0, 0.25]])
ENTRY_CELLS = {(0, 0), (0, 1), (1, 2)}  # cells with expected entrants and active incumbents


def incumbents() -> FirmPopulation:
    """Cell (0,0): 3 est. at 100 and 1 at 200 (+ an empty firm at 10 000, not imitated) → mean 125.
    Cell (0,1): 2 est. at 300 and 6 at 100 → (600 + 600)/8 = 150. Cell (1,2): 5 est. at 50 → 50.
    Cell (1,0): only an empty firm → no entrants though 4 are expected. Cells (0,2), (1,1): no incumbents."""
    return firms(
        region=[0, 0, 0, 0, 0, 1, 1],
        industry=[0, 0, 0, 1, 1, 0, 2],
        establishments=[3, 1, 2, 2, 6, 4, 5],
        size=[5.0, 2.0, 0.0, 10.0, 3.0, 0.0, 3.0],
        productivity=[100.0, 200.0, 10_000.0, 300.0, 100.0, 999.0, 50.0],
        rd_intensity=[0.0, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0],
        age=[1, 4, 2, 6, 0, 3, 1],
    )


def entrants(year: int, expected: np.ndarray = EXPECTED, tag: int = STARTUP_TAG, crn: CommonRandomNumbers | None = None):
    return entrant_cohorts(
        expected, PERFORMER_SHARE, incumbents(), YOUNG_SIZE, MARKET_OF, RD_BY_REGION, crn or CommonRandomNumbers(5), year, tag
    )


def by_cell(cohorts: FirmPopulation) -> np.ndarray:
    """Entrant establishments per [region, industry]."""
    return np.bincount(
        cohorts.region.astype(int) * N_INDUSTRIES + cohorts.industry, weights=cohorts.establishments, minlength=EXPECTED.size
    ).reshape(EXPECTED.shape)


def test_entrant_cohorts_attributes_by_hand():
    expected_productivity = {(0, 0): 125.0, (0, 1): 150.0, (1, 2): 50.0}
    expected_size = {(0, 0): 4.0, (0, 1): 7.0, (1, 2): 2.5}  # markets 0, 1, 2 (industry 1 is tradable)
    seen = set()
    for year in range(2000, 2200):
        cohorts = entrants(year)
        for f in range(len(cohorts)):
            cell = (int(cohorts.region[f]), int(cohorts.industry[f]))
            seen.add(cell)
            assert cell in ENTRY_CELLS
            assert cohorts.establishments[f] > 0
            assert cohorts.productivity[f] == pytest.approx(expected_productivity[cell])
            assert cohorts.size[f] == expected_size[cell]
            assert cohorts.rd_intensity[f] in (0.0, RD_BY_REGION[cell[0]])  # performers at the region's intensity
            assert cohorts.age[f] == 0 and cohorts.innovations[f] == 0 and cohorts.collaborating[f] == 0
            assert 0.0 <= cohorts.rounding_offset[f] < 1.0
        assert np.all(cohorts.uid & DERIVED_UID_BIT)
        assert len(np.unique(cohorts.uid)) == len(cohorts)
        # at most one performer and one non-performer cohort per cell
        assert len(cohorts) <= 2 * len(ENTRY_CELLS)
        # cell (0,1): performer share 1 → every entrant performs R&D; cell (1,2) share 0.25, (0,0) 0.5
        assert np.all(cohorts.rd_intensity[(cohorts.region == 0) & (cohorts.industry == 1)] == 0.03)
    assert seen == ENTRY_CELLS  # over 200 years every entry cell has had entrants


def test_entrant_counts_have_the_poisson_mean_and_the_performer_share():
    """2000 years as independent draws: mean establishments per cell within 4 standard errors
    (sqrt(mean/2000)) of the expectation; performers (rounded share of the count) within
    4·sqrt((share·mean + 1/4)/2000) of share × expectation."""
    years = 2000
    total, performers = np.zeros(EXPECTED.shape), np.zeros(EXPECTED.shape)
    for year in range(years):
        cohorts = entrants(year)
        total += by_cell(cohorts)
        performers += by_cell(_performing(cohorts))
    mean = total / years
    for r, i in ENTRY_CELLS:
        assert mean[r, i] == pytest.approx(EXPECTED[r, i], abs=4 * np.sqrt(EXPECTED[r, i] / years)), (r, i)
        share_mean = PERFORMER_SHARE[r, i] * EXPECTED[r, i]
        assert performers[r, i] / years == pytest.approx(share_mean, abs=4 * np.sqrt((share_mean + 0.25) / years)), (r, i)
    for r, i in np.ndindex(EXPECTED.shape):
        if (r, i) not in ENTRY_CELLS:
            assert total[r, i] == 0


def _performing(cohorts: FirmPopulation) -> FirmPopulation:
    keep = cohorts.rd_intensity > 0
    return FirmPopulation(**{name: value[keep] for name, value in vars(cohorts).items()})


def test_entrant_identities_do_not_depend_on_other_cells():
    """Raising the expectation of cell (1,2) leaves the cohorts of (0,0) and (0,1) unchanged: same identity,
    count, R&D and rounding offset (the cell's draws are keyed by (tag, year, cell))."""
    changed = EXPECTED.copy()
    changed[1, 2] = 6.0
    changed[1, 1] = 3.0  # a cell without incumbents: still no entrants
    compared = 0
    for year in range(2024, 2124):
        a, b = entrants(year), entrants(year, changed)
        in_a = a.region == 0
        in_b = b.region == 0
        for name in ("uid", "establishments", "industry", "rd_intensity", "rounding_offset", "productivity", "size"):
            np.testing.assert_array_equal(getattr(a, name)[in_a], getattr(b, name)[in_b])
        compared += int(in_a.sum())
        assert by_cell(b)[1, 1] == 0
    assert compared > 50


def test_entrant_identities_keyed_by_tag_year_cell_and_performer_not_by_count():
    """A cohort's identity depends on (tag, year, cell, performer) only: a larger count in its cell keeps it,
    it is marked as derived (never one of the start population's numbers 0…N−1), and startups and spin-offs
    of the same cell and year are different cohorts."""
    raised = EXPECTED * 3.0
    matched = 0
    for year in range(2024, 2124):
        a, b = entrants(year), entrants(year, raised)
        key_a = {(int(r), int(i), bool(d > 0)): u for r, i, d, u in zip(a.region, a.industry, a.rd_intensity, a.uid.tolist())}
        key_b = {(int(r), int(i), bool(d > 0)): u for r, i, d, u in zip(b.region, b.industry, b.rd_intensity, b.uid.tolist())}
        for cohort in key_a.keys() & key_b.keys():
            assert key_a[cohort] == key_b[cohort]
            matched += 1
        assert np.all(a.uid & DERIVED_UID_BIT) and np.all(a.uid >= np.uint64(2**32))
    assert matched > 100
    startups, spinoffs = entrants(2030), entrants(2030, tag=SPINOFF_TAG)
    assert not set(startups.uid.tolist()) & set(spinoffs.uid.tolist())
    uids_by_year = np.concatenate([entrants(year).uid for year in range(2000, 2300)])
    assert len(np.unique(uids_by_year)) == len(uids_by_year)  # no cohort identity repeats across years


def test_more_expected_entrants_never_fewer_at_fixed_keys():
    for bump in (1e-6, 0.01, 0.3, 2.0):
        raised = EXPECTED.copy()
        raised[0, 0] += bump
        for year in range(300):
            before, after = by_cell(entrants(year)), by_cell(entrants(year, raised))
            assert after[0, 0] >= before[0, 0], (bump, year)
            after[0, 0] = before[0, 0]
            np.testing.assert_array_equal(after, before)  # nothing else moves


def test_no_entrants_without_expectation():
    cohorts = entrants(2024, np.zeros(EXPECTED.shape))
    assert len(cohorts) == 0
    assert cohorts.uid.dtype == np.uint64


def test_entry_within_founders_hand_computed():
    """Region 0 expects 3 + 1 = 4 entrants for 5 working-age residents: unchanged, to the bit. Region 1
    expects 10 + 30 = 40 for 8: scaled by 8 / 40 = 0.2 to 2 + 6. Region 2 expects none."""
    expected = np.array([[3.0, 1.0], [10.0, 30.0], [0.0, 0.0]])
    bounded = within_founders(expected, np.array([5.0, 8.0, 0.0]))
    np.testing.assert_array_equal(bounded[0], expected[0])
    assert bounded[1] == pytest.approx([2.0, 6.0])
    np.testing.assert_array_equal(bounded[2], [0.0, 0.0])


# --- reallocate_closed_demand -----------------------------------------------------------------------


def test_reallocate_closed_demand_hand_computed():
    """Survivors: f0 (market 0, 10 × 2 = 20 persons), f1 (market 0, 5 × 2 = 10), f2 (market 1, 4 × 1 = 4),
    f3 (market 2, 3 × 2 = 6); entrant f4 (market 0, 3 × 2 = 6), f5 (market 2, 5 × 2 = 10).
    Market 0: 50 persons wanted before closures → factor (50 − 6)/(20 + 10) = 44/30 = 1.46667.
    Market 1: 4 before, no entrants → 4/4 = 1. Market 2: 8 before, entrants 10 > 8 → max(8 − 10, 0)/6 = 0.
    Market 3: nobody → factor 1 (nothing to scale)."""
    population = firms(size=[10.0, 5.0, 4.0, 3.0, 3.0, 5.0], establishments=[2, 2, 1, 2, 2, 2])
    market = np.array([0, 0, 1, 2, 0, 2])
    reallocate_closed_demand(population, market, np.array([50.0, 4.0, 8.0, 0.0]), survivors=4, n_markets=4)
    assert population.size == pytest.approx([10 * 44 / 30, 5 * 44 / 30, 4.0, 0.0, 3.0, 5.0])
    # market 0 again wants its 50 persons: survivors 44 + entrant 6
    assert population.workers()[market == 0].sum() == pytest.approx(50.0)


def test_reallocation_keeps_market_jobs_and_size_shape():
    rng = np.random.default_rng(8)
    n, survivors, n_markets = 300, 250, 6
    population = firms(size=rng.uniform(1, 30, n), establishments=rng.integers(1, 10, n))
    market = rng.integers(0, n_markets, n)
    surviving = np.bincount(market[:survivors], weights=population.workers()[:survivors], minlength=n_markets)
    entering = np.bincount(market[survivors:], weights=population.workers()[survivors:], minlength=n_markets)
    before = (surviving + entering) * 1.3  # closures took 30 % of the jobs
    ratio_before = population.size[:survivors] / population.size[0]
    reallocate_closed_demand(population, market, before, survivors, n_markets)
    after = np.bincount(market, weights=population.workers(), minlength=n_markets)
    assert after == pytest.approx(before)
    same_market = market[:survivors] == market[0]
    assert (population.size[:survivors] / population.size[0])[same_market] == pytest.approx(ratio_before[same_market])


# --- FirmPopulation.innovate ------------------------------------------------------------------------

INNOVATION = default_parameters().innovation
SCALE, REFERENCE_RD = 10, 1e8
EMPLOYEES = np.array([4, 1, 2, 0, 3])


def innovators() -> FirmPopulation:
    """Region 0: f0 (R&D 5 %), f1 (no R&D); region 1: f2 (R&D 3 %, collaborating), f3 empty, f4 (R&D 2 %)."""
    population = firms(
        region=[0, 0, 1, 1, 1],
        industry=[0, 1, 0, 1, 2],
        establishments=[4, 2, 3, 1, 2],
        size=[10.0, 5.0, 8.0, 0.0, 6.0],
        productivity=[1e8, 2e8, 1.5e8, 1e8, 1.2e8],
        rd_intensity=[0.05, 0.0, 0.03, 0.02, 0.02],
        age=[1, 5, 2, 3, 0],
    )
    population.collaborating = np.array([0.0, 0.0, 0.5, 0.0, 0.0])
    return population


def draws(year: int, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    crn, uid = CommonRandomNumbers(2), np.arange(n, dtype=np.uint64)
    return crn.uniforms(uid, year, Purpose.INNOVATING), crn.uniforms(uid, year, Purpose.INNOVATION)


def innovate(population: FirmPopulation, year: int, **lever) -> tuple[np.ndarray, np.ndarray]:
    change = population.innovate(
        EMPLOYEES[: len(population)], SCALE, 2, np.array([1e9, 2e9]), INNOVATION, REFERENCE_RD, draws(year, len(population)), **lever
    )
    return change, population.innovations


def test_innovate_hand_computed_single_establishment_pair():
    """One region, one firm of 2 establishments, 3 worker agents × 10 persons at 1e8 KRW, R&D 5 %:
    R&D 0.05 · 1e8 · 30 = 1.5e8, own 7.5e7 per establishment = the reference → (1)^0.7 = 1; one region:
    spillover and university ratios 1 → rate A = 1 per establishment.
    Innovating: 2 · (1 − e⁻¹) = 1.26424 → floor(1.26424 + 0.6) = 1 of 2 → productivity × (1 + 0.03/2), log 0.0148886.
    Innovations: Poisson(2) at 0.6: P(≤1) = 0.406, P(≤2) = 0.677 → 2.
    With 7.5e7 KRW on 1 treated establishment: its rate (1.5e8/7.5e7)^0.7 = 1.62450; innovating
    (1 − e^−1.6245) + (1 − e⁻¹) = 0.80299 + 0.63212 = 1.43511 → floor(2.03511) = 2 of 2 → × 1.03, log 0.0295588;
    innovations Poisson(2.62450) at 0.6: P(≤2) = 0.512, P(≤3) = 0.731 → 3."""

    def one() -> FirmPopulation:
        return firms(size=[10.0], establishments=[2], productivity=[1e8], rd_intensity=[0.05])

    uniforms = (np.array([0.6]), np.array([0.6]))
    args = (np.array([3]), 10, 1, np.array([5e9]), INNOVATION, 7.5e7, uniforms)
    plain = one()
    assert plain.innovate(*args) == pytest.approx([np.log(1.015)], rel=1e-12)
    assert plain.innovations.tolist() == [2]
    assert plain.productivity == pytest.approx([1.015e8])
    funded = one()
    assert funded.innovate(*args, subsidy_krw=np.array([7.5e7]), treated=np.array([1.0])) == pytest.approx([np.log(1.03)], rel=1e-12)
    assert funded.innovations.tolist() == [3]


def test_zero_subsidy_changes_nothing_whatever_is_treated():
    """A lever without effect (no money) changes nothing, whoever it marks as treated: bit-identical
    productivity changes and innovations over 500 years of keyed draws."""
    for year in range(500):
        reference_change, reference_innovations = innovate(innovators(), year)
        for treated in (0.0, 1.0, 100.0, np.array([4.0, 2.0, 3.0, 1.0, 2.0]), np.array([1.0, 0.0, 2.5, 1.0, 0.0])):
            change, innovations = innovate(innovators(), year, subsidy_krw=0.0, treated=treated)
            np.testing.assert_array_equal(change, reference_change)
            np.testing.assert_array_equal(innovations, reference_innovations)
        change, innovations = innovate(innovators(), year, subsidy_krw=np.zeros(5), treated=np.array([4.0, 2.0, 3.0, 1.0, 2.0]))
        np.testing.assert_array_equal(change, reference_change)


def test_subsidy_never_lowers_innovation_in_the_treated_region():
    """Money on treated establishments of f0 and f1 (region 0): at the same keyed draws, neither their
    innovations nor their productivity gains ever fall, and more money never gives less. (In other
    regions they may: spillovers are relative to the national mean — see the report.)"""
    treated = np.array([2.0, 1.0, 0.0, 0.0, 0.0])
    raised_somewhere = False
    for year in range(500):
        base_change, base_innovations = innovate(innovators(), year)
        previous_change, previous_innovations = base_change, base_innovations
        for money in (1e7, 1e8, 1e9):
            change, innovations = innovate(innovators(), year, subsidy_krw=np.array([money, money / 2, 0, 0, 0]), treated=treated)
            assert np.all(innovations[:2] >= previous_innovations[:2]), (year, money)
            assert np.all(change[:2] >= previous_change[:2] - 1e-15), (year, money)
            previous_change, previous_innovations = change, innovations
        raised_somewhere |= bool(np.any(previous_innovations[:2] > base_innovations[:2]))
    assert raised_somewhere  # the lever does something


def test_subsidy_never_lowers_any_innovation_in_a_single_region():
    """With one region the spillover ratio is 1 whatever the money, so every firm's innovations are
    monotone in the subsidy of the treated ones."""
    one_region = innovators()
    one_region.region[:] = 0
    treated = np.array([0.0, 2.0, 1.0, 0.0, 2.0])
    for year in range(500):
        base = one_region_copy(one_region)
        base.innovate(EMPLOYEES, SCALE, 1, np.array([3e9]), INNOVATION, REFERENCE_RD, draws(year))
        funded = one_region_copy(one_region)
        change = funded.innovate(
            EMPLOYEES,
            SCALE,
            1,
            np.array([3e9]),
            INNOVATION,
            REFERENCE_RD,
            draws(year),
            subsidy_krw=np.array([0, 5e8, 2e8, 0, 1e8]),
            treated=treated,
        )
        assert np.all(funded.innovations >= base.innovations), year
        assert np.all(funded.productivity >= base.productivity), year
        assert np.all(change >= 0)


def one_region_copy(population: FirmPopulation) -> FirmPopulation:
    return FirmPopulation(**{name: np.copy(value) for name, value in vars(population).items()})


def test_job_losses_at_closing_establishments():
    """Firm 0 closes 1 of its 4 establishments: a quarter of its 1,000 workers, exactly 250, leave (those
    with the lowest keyed draws); firm 1 closes none of 2 (nobody leaves), firm 2 all 5 (everybody
    leaves); the non-employed stay so."""
    from sim.model.agents.talent import NOT_EMPLOYED, TalentPool

    n = 4_000
    employer = np.tile(np.array([0, 1, 2, NOT_EMPLOYED]), n // 4)
    people = TalentPool.new(np.full(n, 40), np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n) * 7, np.full(n, 0.5))
    people.employer[:] = employer
    cohort = firms(establishments=np.array([4, 2, 5]), size=np.full(3, 2.0), region=np.zeros(3), industry=np.zeros(3))
    crn = CommonRandomNumbers(1)
    draws = crn.uniforms(people.uid, 2030, Purpose.CLOSURE_JOB_LOSS)
    lose_jobs_at_closures(people, cohort, np.array([1, 0, 5]), crn, 2030)
    threshold = np.sort(draws[employer == 0])[249]
    expected = np.where((employer == 2) | ((employer == 0) & (draws <= threshold)), NOT_EMPLOYED, employer)
    np.testing.assert_array_equal(people.employer, expected)
    assert (people.employer[employer == 0] == NOT_EMPLOYED).sum() == 250
