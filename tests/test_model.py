"""Whole-model tests: accounting identities, determinism, scale invariance and known-answer mechanisms.

Runs are short (a few years) and coarse (1:100 or coarser) so the default suite stays fast; the
full-scale run (every person an agent) is marked slow.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CAPITAL_CODES, PACK, REGION_CODES, packaged_population
from pandas.testing import assert_frame_equal

from sim.api import run, scenario_from_dict
from sim.inputs.pack import AGES, RegionPack
from sim.model.mechanisms import demography
from sim.model.metrics import regions_table
from sim.model.regional_model import RegionalModel

FLOWS = ("births", "deaths", "in_migrants", "out_migrants", "net_migration", "international_net_migration")
ADDITIVE = (
    "population",
    "births",
    "deaths",
    "in_migrants",
    "out_migrants",
    "net_migration",
    "international_net_migration",
    "women_20_39",
    "persons_65_plus",
    "employed",
    "unemployed",
    "firms",
    "startups",
    "firm_exits",
    "innovations",
    "rd_spending_krw",
    "grdp_krw",
)


def by_region(result) -> pd.DataFrame:
    return result.regions.set_index(["region", "year"]).sort_index()


# --- accounting identities ---------------------------------------------------------------------
def test_start_year_row_is_the_initial_state(any_run):
    regions = any_run.regions
    start = any_run.metadata["start_year"]
    assert regions["year"].min() == start
    assert sorted(regions["region"].unique()) == sorted(REGION_CODES)
    assert len(regions) == 17 * (any_run.metadata["end_year"] - start + 1)
    first, later = regions[regions["year"] == start], regions[regions["year"] > start]
    for name in (*FLOWS, "startups", "firm_exits"):
        assert first[name].isna().all(), name
        assert later[name].notna().all(), name
    for name in FLOWS:
        assert str(regions[name].dtype) == "Int64", name


def test_population_balance_holds_exactly_for_every_region_and_year(any_run):
    """population(t) = population(t-1) + births - deaths + net internal + net international."""
    table = by_region(any_run)
    previous = table.groupby(level="region")["population"].shift(1)
    later = table.index.get_level_values("year") > any_run.metadata["start_year"]
    t = table[later]
    expected = previous[later] + t["births"] - t["deaths"] + t["net_migration"] + t["international_net_migration"]
    mismatch = t["population"] - expected
    assert (mismatch == 0).all(), mismatch[mismatch != 0]
    # non-trivial: every component moved something somewhere
    for name in ("births", "deaths", "in_migrants"):
        assert (t[name].groupby(level="year").sum() > 0).all(), name
    assert (t["international_net_migration"] != 0).any()


def test_net_migration_is_in_minus_out(any_run):
    later = any_run.regions.dropna(subset=["net_migration"])
    assert (later["net_migration"] == later["in_migrants"] - later["out_migrants"]).all()


def test_internal_migration_sums_to_zero_nationally(any_run):
    later = any_run.regions.dropna(subset=["net_migration"])
    yearly = later.groupby("year")[["net_migration", "in_migrants", "out_migrants"]].sum()
    assert (yearly["net_migration"] == 0).all()
    assert (yearly["in_migrants"] == yearly["out_migrants"]).all()
    assert (yearly["in_migrants"] > 0).all()


def test_labour_force_never_exceeds_population(any_run):
    regions = any_run.regions
    assert (regions["employed"] + regions["unemployed"] <= regions["population"]).all()
    assert (regions["employed"] > 0).all() and (regions["unemployed"] >= 0).all()


def test_extinction_risk_index_is_women_20_39_over_65_plus(any_run):
    regions = any_run.regions
    assert (regions["persons_65_plus"] > 0).all()
    expected = regions["women_20_39"].to_numpy(float) / regions["persons_65_plus"].to_numpy(float)
    np.testing.assert_allclose(regions["extinction_risk_index"].to_numpy(float), expected, rtol=1e-12)


def test_national_table_is_the_sum_of_regions(any_run):
    regions, national = any_run.regions, any_run.national.set_index("year")
    summed = regions.groupby("year")[list(ADDITIVE)].sum(min_count=1)
    assert list(national.index) == list(summed.index)
    for name in ADDITIVE:
        if str(regions[name].dtype) == "Int64":
            assert national[name].equals(summed[name]), name
        else:
            np.testing.assert_allclose(national[name].to_numpy(float), summed[name].to_numpy(float), rtol=1e-9, err_msg=name)
    population = regions.pivot(index="year", columns="region", values="population")
    capital = population[list(CAPITAL_CODES)].sum(axis=1) / population.sum(axis=1)
    np.testing.assert_allclose(national["capital_region_share"].to_numpy(), capital.to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(
        national["extinction_risk_index"].to_numpy(),
        national["women_20_39"].to_numpy(float) / national["persons_65_plus"].to_numpy(float),
        rtol=1e-12,
    )
    at_risk = (regions["extinction_risk_index"] < 0.5).groupby(regions["year"]).sum()
    assert (national["regions_at_extinction_risk"].to_numpy() == at_risk.to_numpy()).all()
    lf = national["employed"] + national["unemployed"]
    np.testing.assert_allclose(national["unemployment_rate"].to_numpy(), (national["unemployed"] / lf).to_numpy(float), rtol=1e-12)


def test_counts_are_whole_agents(any_run):
    """Every count stands for whole agents: a multiple of the scale."""
    scale = any_run.metadata["scale"]
    for name in ("population", "births", "deaths", "in_migrants", "international_net_migration", "employed", "women_20_39"):
        values = any_run.regions[name].dropna().to_numpy(np.int64)
        assert (values % scale == 0).all(), name


def test_international_net_migration_follows_the_assumption_to_within_one_agent(baseline_run):
    """Net arrivals are stochastically rounded to whole agents: |simulated - assumed| < scale, each year."""
    scale = baseline_run.metadata["scale"]
    assumed = pd.read_csv(PACK / "international_migration.csv").set_index("year")["net_persons"]
    simulated = baseline_run.national.set_index("year")["international_net_migration"].dropna()
    assert len(simulated) == 3
    for year, persons in simulated.items():
        assert assumed[year] > 0  # arrivals: the count is exact up to rounding
        assert abs(int(persons) - assumed[year]) < scale, year


# --- determinism -----------------------------------------------------------------------------
SMALL = dict(seed=11, scale=400, until=2025)


def test_same_seed_gives_identical_results_in_process():
    first, second = run(BASELINE, **SMALL), run(BASELINE, **SMALL)
    assert_frame_equal(first.regions, second.regions)
    assert_frame_equal(first.national, second.national)
    assert first.metadata["scenario_hash"] == second.metadata["scenario_hash"]


def test_same_seed_gives_identical_results_in_a_fresh_process():
    """A spawned worker (fresh interpreter, no shared state) reproduces the in-process run."""
    here = run(BASELINE, **SMALL).regions
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        there = pool.apply(run, (str(BASELINE),), SMALL).regions
    assert_frame_equal(here, there)


def test_keyed_draws_use_the_published_splitmix64_and_leave_ids_unchanged():
    from sim.model.crn import CommonRandomNumbers, Purpose, splitmix64

    # SplitMix64 (Steele, Lea & Flood 2014) from state 0: first output 0xE220A8397B1DCDAF
    assert splitmix64(np.zeros(1, dtype=np.uint64))[0] == np.uint64(0xE220A8397B1DCDAF)
    uid = np.arange(1_000, dtype=np.uint64)
    draws = CommonRandomNumbers(5).uniforms(uid, 2030, Purpose.LEAVE)
    np.testing.assert_array_equal(uid, np.arange(1_000, dtype=np.uint64))
    assert draws.min() >= 0.0 and draws.max() < 1.0
    np.testing.assert_array_equal(draws, CommonRandomNumbers(5).uniforms(uid[::-1], 2030, Purpose.LEAVE)[::-1])


def test_another_seed_gives_different_numbers():
    first = run(BASELINE, **SMALL).regions
    other = run(BASELINE, **{**SMALL, "seed": SMALL["seed"] + 1}).regions
    later = first["year"] > 2023
    assert not first.equals(other)
    assert (first.loc[later, "births"] != other.loc[later, "births"]).any()
    assert (first.loc[later, "in_migrants"] != other.loc[later, "in_migrants"]).any()


# --- scale invariance ------------------------------------------------------------------------
# National totals at 1:50 and 1:200 must agree with 1:100 up to sampling noise. With one agent for
# s persons, n agent events (births, deaths) that are independent Bernoulli draws have a count
# variance of at most n (Poisson bound), i.e. a standard deviation of sqrt(n)·s = sqrt(N·s) persons
# for N persons. For the difference of two independent runs at s1 and s2:
#     sd(diff) ≈ sqrt(N·(s1 + s2))
# - births, deaths (summed over 2024–2026; N ≈ 0.65 M and 1.1 M): tolerance 4·sd(diff), i.e. 8–9 % of
#   births and 6–7 % of deaths at 1:200 vs 1:100 — a 1-in-15 000 false alarm per comparison; a
#   scale-dependent bias (e.g. a rate applied per agent instead of per person) is far larger.
# - population at 2026: its noise is the accumulated birth and death noise, sd ≈ sqrt((B+D)·s) ≈
#   sqrt(1.75 M · 300) ≈ 23 k persons (0.045 %) for the difference; the initial stochastic rounding
#   adds sqrt(3434 cells / 4)·s ≈ 6 k at most. Tolerance 0.3 % (≈ 6 sd).
# - employed at 2026: 28 M persons; starts at the EAPS level rounded to whole agents, then moves by
#   separations and hires of ~10⁵ agents per year and lumpy firm exits; across seeds at 1:400 its
#   sd is about 0.2 % (0.1 % at 1:200). Tolerance 1 %.
# - international net migration: arrivals are a stochastically rounded number of agents, so each
#   year's count is within one agent (s persons) of the assumption; the sum over Y years of two
#   runs differs by less than Y·(s1 + s2).
SCALE_UNTIL = 2026


@pytest.fixture(scope="module")
def national_at_scale():
    return {s: run(BASELINE, seed=5, scale=s, until=SCALE_UNTIL).national.set_index("year") for s in (50, 100, 200)}


@pytest.mark.parametrize("other", [50, 200])
def test_national_totals_do_not_depend_on_scale(national_at_scale, other):
    ref, alt = national_at_scale[100], national_at_scale[other]
    for name in ("births", "deaths"):
        n_ref, n_alt = float(ref[name].sum()), float(alt[name].sum())
        tolerance = 4 * np.sqrt(n_ref * (100 + other))
        assert abs(n_alt - n_ref) <= tolerance, (name, n_ref, n_alt, tolerance)
    assert alt.loc[SCALE_UNTIL, "population"] == pytest.approx(ref.loc[SCALE_UNTIL, "population"], rel=0.003)
    assert alt.loc[SCALE_UNTIL, "employed"] == pytest.approx(ref.loc[SCALE_UNTIL, "employed"], rel=0.01)
    years = SCALE_UNTIL - 2023
    intl_diff = abs(int(alt["international_net_migration"].sum()) - int(ref["international_net_migration"].sum()))
    assert intl_diff < years * (100 + other)


# --- known-answer mechanisms -----------------------------------------------------------------
def closed_scenario(**extra) -> dict:
    """No births (TFR 0 after 2023), no international migration."""
    return {
        "name": "closed",
        "start_year": 2023,
        "end_year": 2025,
        "scale": 400,
        "fertility": {"tfr_path": {2023: 0.0}},
        "international_migration": "none",
        **extra,
    }


def test_without_births_and_migration_a_region_loses_exactly_its_deaths():
    model = RegionalModel(scenario_from_dict(closed_scenario()), seed=3)
    model.move_probability[:] = 0
    while model.running:
        model.step()
    table = regions_table(model).set_index(["region", "year"]).sort_index()
    change = table.groupby(level="region")["population"].diff().dropna()
    later = table.loc[change.index]
    assert len(change) == 17 * 2
    assert (later["births"] == 0).all()
    assert (later["in_migrants"] == 0).all() and (later["out_migrants"] == 0).all()
    assert (later["international_net_migration"] == 0).all()
    assert later["deaths"].sum() > 0
    assert (change == -later["deaths"]).all()


def test_zero_mortality_means_no_deaths(monkeypatch):
    model = RegionalModel(scenario_from_dict({"name": "immortal", "end_year": 2025, "scale": 400}), seed=4)
    for year in (2024, 2025):
        model.pack.mortality_factor(year)  # cache the regional factors computed from the real life table
    monkeypatch.setattr(RegionPack, "qx", lambda self, year: np.zeros((2, AGES)))
    while model.running:
        model.step()
    table = regions_table(model)
    later = table[table["year"] > 2023]
    assert (later["deaths"] == 0).all()
    assert (later["births"] > 0).any()  # the rest of the year still happens


def test_without_events_the_pyramid_shifts_up_one_year(monkeypatch):
    model = RegionalModel(scenario_from_dict(closed_scenario(end_year=2024)), seed=5)
    model.move_probability[:] = 0
    monkeypatch.setattr(demography, "death_mask", lambda age, *args: np.zeros(len(age), bool))
    before = model.talent.pyramid(model.n_regions)
    model.step()
    after = model.talent.pyramid(model.n_regions)
    assert before.sum() == after.sum()
    assert (after[:, :, 0] == 0).all()
    np.testing.assert_array_equal(after[:, :, 1:100], before[:, :, 0:99])
    np.testing.assert_array_equal(after[:, :, 100], before[:, :, 99] + before[:, :, 100])
    assert before[:, :, 99].sum() > 0  # the open age group really accumulated someone


def test_cell_lookups_equal_numpy_indexing_in_the_smallest_code_type():
    from sim.model.cells import cell_codes, per_person

    rng = np.random.default_rng(9)
    table = rng.random((47, 2, 101))
    region, sex, age = (
        rng.integers(0, 47, 1_000).astype(np.int8),
        rng.integers(0, 2, 1_000).astype(np.int8),
        rng.integers(0, 101, 1_000).astype(np.uint8),
    )
    np.testing.assert_array_equal(per_person(table, region, sex, age), table[region, sex, age])
    assert cell_codes(table.shape, region, sex, age).dtype == np.int16  # 9,494 cells
    assert cell_codes((300, 2, 101), region, sex, age).dtype == np.int32
    with pytest.raises(ValueError, match="2 index arrays for a table with 3 axes"):
        per_person(table, region, age)


def test_counts_by_region_status_and_age_match_a_person_by_person_count():
    from sim.model.agents.talent import TalentPool

    rng = np.random.default_rng(4)
    n, n_regions = 5_000, 47  # as many regions as Japan's prefectures: the byte codes must not overflow
    people = TalentPool.new(
        rng.integers(0, 101, n), rng.integers(0, 2, n), rng.integers(0, n_regions, n), np.zeros(n), np.arange(n), rng.random(n)
    )
    people.employer[rng.random(n) < 0.5] = 3
    in_labour_force = rng.random(n) < 0.7
    status = people.status_by_region(n_regions, in_labour_force)
    pyramid = people.pyramid(n_regions)
    by_region = people.count_by_region(n_regions, in_labour_force)
    for person in range(0, n, 97):
        r, employed, active = people.region[person], people.employer[person] >= 0, in_labour_force[person]
        alike = (people.region == r) & ((people.employer >= 0) == employed) & (in_labour_force == active)
        assert status[r, int(employed) + 2 * int(active)] == np.sum(alike)
        assert pyramid[r, people.sex[person], people.age[person]] == np.sum(
            (people.region == r) & (people.sex == people.sex[person]) & (people.age == people.age[person])
        )
        assert by_region[r] == np.sum((people.region == r) & in_labour_force)
    assert status.sum() == pyramid.sum() == n


# --- start populations -----------------------------------------------------------------------
def rounding_tolerance(year: int, scale: int) -> pd.Series:
    """Per region: 5 sd of the stochastic rounding of every region×sex×age cell to whole agents,
    in persons (cell rounding error has variance f(1-f), f = fractional part of persons/scale)."""
    table = pd.read_csv(PACK / f"population_{year}.csv", dtype={"region": str})
    fraction = table["persons"] / scale - np.floor(table["persons"] / scale)
    variance = (fraction * (1 - fraction)).groupby(table["region"]).sum()
    return scale * (5 * np.sqrt(variance) + 1)


def test_backcast_from_2015_starts_at_the_packaged_2015_population(backcast_run):
    regions = backcast_run.regions
    assert regions["year"].min() == 2015 and regions["year"].max() == 2023
    start = regions[regions["year"] == 2015].set_index("region")["population"].astype(float)
    observed = packaged_population(2015)
    tolerance = rounding_tolerance(2015, backcast_run.metadata["scale"])
    difference = (start - observed).abs()
    assert (difference <= tolerance).all(), pd.DataFrame({"diff": difference, "tol": tolerance})
    # and the 2015 start is not accidentally the 2023 population
    assert (start - packaged_population(2023)).abs().sum() > tolerance.sum()


def test_baseline_starts_at_the_packaged_2023_population(baseline_run):
    start = baseline_run.regions.query("year == 2023").set_index("region")["population"].astype(float)
    tolerance = rounding_tolerance(2023, baseline_run.metadata["scale"])
    assert ((start - packaged_population(2023)).abs() <= tolerance).all()


@pytest.mark.slow
def test_full_scale_start_population_is_exact():
    """At 1:1 every person is an agent: the start row reproduces the packaged 2023 population exactly."""
    result = run(BASELINE, seed=0, scale=1, until=2024)
    start = result.regions.query("year == 2023").set_index("region")["population"]
    observed = packaged_population(2023)
    assert (start.sort_index() == observed.sort_index().reindex(start.sort_index().index)).all()
    assert int(start.sum()) == int(observed.sum())
    assert result.regions["year"].max() == 2024


# --- a diverging draw -----------------------------------------------------------------------------
DIVERGING_DRAW = {  # replicate 3 of experiments/policy_uncertainty_five.yaml (its draws.csv, full precision)
    "labour.local_multiplier_tradable": 1.3315618731140895,
    "migration.wage_weight": 0.8636234360599331,
    "migration.employment_weight": 7.9044168247102,
    "labour.matching_efficiency": 0.5008003909120424,
}


def test_a_diverging_draw_runs_without_negative_counts_and_keeps_the_population_balance():
    """Weak matching with a strong employment weight: unemployment and leaving feed each other until
    provinces empty and refill. The run used to end in NaN jobs and negative counts (2031); it now
    reaches 2035 with every count non-negative and population = last year + births − deaths + net
    migration in every province."""
    scenario = scenario_from_dict(
        {"name": "diverging", "country": "korea", "start_year": 2023, "end_year": 2035, "parameters": DIVERGING_DRAW}
    )
    result = run(scenario, seed=3, scale=1000, paired_baseline=False)
    national = result.national.set_index("year")
    assert national["unemployment_rate"].max() > 0.3  # the diverging regime, not an ordinary run
    assert national.index.max() == 2035
    counts = result.regions.drop(columns=["net_migration", "international_net_migration"]).select_dtypes("number")
    assert (counts.fillna(0) >= 0).all().all()
    table = by_region(result)
    previous = table.groupby(level="region")["population"].shift(1)
    later = table.index.get_level_values("year") > 2023
    t = table[later]
    expected = previous[later] + t["births"] - t["deaths"] + t["net_migration"] + t["international_net_migration"]
    assert (t["population"] == expected).all()
    assert (t["population"] == 0).any()  # provinces did empty: the bounds were exercised
