"""The lever framework, exercised with ``key_industry_rnd`` (sim/model/levers/rd_grants.py).

Framework guarantees, not the size of any effect: a lever that spends nothing changes nothing,
spending is exactly the budget in active years and never more, the paired differences are
differences against the same-seed baseline, and the commands list levers and write their spending.
Short, coarse runs (1:400, until 2026 or 2027).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CAPITAL_CODES, ROOT
from pandas.testing import assert_frame_equal

from sim.api import load_scenario, run, scenario_from_dict
from sim.inputs.scenario import Scenario
from sim.model.levers.base import PolicyEffects, allocate_grants, build_lever
from sim.model.regional_model import RegionalModel

REGSIM = Path(sys.executable).parent / "regsim"
SCALE = 400
UNTIL = 2026
SEED = 11
PAIRED = ["jobs_created", "population_retained"]
LEVER_COLUMNS = ["lever_spending_krw", *PAIRED]
BUDGET = 5e11  # KRW per year: about six firm agents' full grants at 1:400 (0.2 bn × 400 each)


def regsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(REGSIM), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def base_scenario(until: int = UNTIL) -> Scenario:
    return load_scenario(BASELINE, scale=SCALE, end_year=until)


def with_levers(*levers: dict, until: int = UNTIL) -> Scenario:
    raw = base_scenario(until).model_dump()
    raw["levers"] = [{"lever": "key_industry_rnd", "start": 2024, "end": 2025, **lever} for lever in levers]
    return scenario_from_dict(raw, source="test scenario")


def spending_by_year(result, lever: str | None = None) -> pd.Series:
    table = result.lever_spending
    if lever is not None:
        table = table[table["lever"] == lever]
    return table.groupby("year")["spending_krw"].sum()


@pytest.fixture(scope="module")
def baseline():
    return run(base_scenario(), seed=SEED)


@pytest.fixture(scope="module")
def policy():
    """One lever spending BUDGET in 2024 and 2025 (two-year projects run into 2025)."""
    return run(with_levers({"budget_krw_per_year": BUDGET}), seed=SEED)


def without_lever_columns(regions: pd.DataFrame) -> pd.DataFrame:
    return regions.drop(columns=LEVER_COLUMNS)


# --- a lever that spends nothing changes nothing ---------------------------------------------
@pytest.mark.parametrize(
    "lever",
    [
        {"budget_krw_per_year": 0},
        {"budget_jpy_per_year": 0},
        {"budget_krw_per_year": BUDGET, "start": UNTIL + 1, "end": UNTIL + 5},
        {"budget_krw_per_year": BUDGET, "regions": ["11"], "region_type": "non_capital"},  # targets nobody
    ],
    ids=["zero-krw-budget", "zero-jpy-budget", "starts-after-the-horizon", "empty-target"],
)
def test_a_lever_that_spends_nothing_leaves_the_run_unchanged(baseline, lever):
    result = run(with_levers(lever), seed=SEED)
    assert result.metadata["paired_baseline"] is True
    assert_frame_equal(without_lever_columns(result.regions), without_lever_columns(baseline.regions))
    assert result.lever_spending.empty
    assert (result.regions["lever_spending_krw"].fillna(0) == 0).all()
    for column in PAIRED:
        assert (result.regions[column] == 0).all(), column
    assert_frame_equal(result.national.drop(columns=LEVER_COLUMNS), baseline.national.drop(columns=LEVER_COLUMNS))


def test_baseline_has_no_lever_outputs(baseline):
    assert baseline.metadata["paired_baseline"] is False
    assert baseline.lever_spending.empty
    assert list(baseline.lever_spending.columns) == ["year", "lever", "region", "spending_krw"]
    for column in PAIRED:
        assert (baseline.regions[column] == 0).all(), column


# --- money ------------------------------------------------------------------------------------
def test_spending_equals_the_budget_in_active_years_and_is_zero_outside(policy):
    by_year = spending_by_year(policy)
    assert sorted(by_year.index) == [2024, 2025]
    assert by_year.to_numpy() == pytest.approx([BUDGET, BUDGET], rel=1e-9)
    national = policy.national.set_index("year")["lever_spending_krw"]
    assert pd.isna(national.loc[2023])  # the initial state has no flows
    assert national.loc[[2024, 2025]].to_numpy() == pytest.approx([BUDGET, BUDGET], rel=1e-9)
    assert national.loc[2026] == 0
    assert (policy.lever_spending["spending_krw"] > 0).all()
    assert set(policy.lever_spending["lever"]) == {"key_industry_rnd"}


def test_lever_spending_by_region_matches_the_regions_table(policy):
    recorded = policy.lever_spending.groupby(["year", "region"])["spending_krw"].sum()
    table = policy.regions.set_index(["year", "region"])["lever_spending_krw"]
    active = table[table.index.get_level_values("year") > 2023]
    assert active.sum() == pytest.approx(recorded.sum(), rel=1e-12)
    assert active.loc[recorded.index].to_numpy() == pytest.approx(recorded.to_numpy(), rel=1e-12)


def test_budget_in_jpy_is_converted():
    scenario = with_levers({"budget_jpy_per_year": 2e10})
    krw_per_jpy = scenario.resolved_parameters().policy.krw_per_jpy
    result = run(scenario, seed=SEED)
    assert spending_by_year(result).to_numpy() == pytest.approx([2e10 * krw_per_jpy] * 2, rel=1e-9)


def test_spending_stays_in_the_target_regions():
    result = run(with_levers({"budget_krw_per_year": 1e11, "regions": ["47", "48"]}), seed=SEED)
    assert not result.lever_spending.empty
    assert set(result.lever_spending["region"]) <= {"47", "48"}
    capital = run(with_levers({"budget_krw_per_year": 1e11, "region_type": "capital"}), seed=SEED)
    assert not capital.lever_spending.empty
    assert set(capital.lever_spending["region"]) <= set(CAPITAL_CODES)


def test_two_levers_and_a_tiny_budget_never_exceed_their_budgets():
    """Two levers with multi-year projects (2 and 3 years) over four years; one budget is far below a single grant."""
    tiny = 1e6  # KRW: a small fraction of one firm agent's grant
    scenario = with_levers(
        {"budget_krw_per_year": BUDGET, "label": "big", "start": 2024, "end": 2027},
        {"lever": "regional_leading_firm_rnd", "budget_krw_per_year": tiny, "label": "tiny", "start": 2025, "end": 2027},
        until=2027,
    )
    result = run(scenario, seed=SEED)
    for label, budget, years in (("big", BUDGET, [2024, 2025, 2026, 2027]), ("tiny", tiny, [2025, 2026, 2027])):
        by_year = spending_by_year(result, label)
        assert sorted(by_year.index) == years, label
        assert (by_year <= budget * (1 + 1e-12)).all(), (label, by_year)
        assert by_year.to_numpy() == pytest.approx([budget] * len(years), rel=1e-9), label
    national = result.national.set_index("year")["lever_spending_krw"]
    assert national.loc[2025] == pytest.approx(BUDGET + tiny, rel=1e-9)


@pytest.fixture(scope="module")
def small_model():
    model = RegionalModel(base_scenario(), seed=SEED)
    return model


def test_running_projects_are_cut_when_the_budget_falls_below_them(small_model):
    """Year 1 funds two-year projects; a year-2 budget below their cost cuts every payment in
    proportion (spending = the reduced budget, no new projects); year 3 starts new projects."""
    model = small_model
    spec = with_levers({"budget_krw_per_year": BUDGET}).levers[0]
    lever = build_lever(spec, "levers[0]")
    cap = lever.params.cap_per_firm_krw

    def year(y: int, budget: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        model.year = y
        effects = PolicyEffects.neutral(len(model.firms), model.n_regions)
        spending = lever.apply(model.lever_view(), effects, budget)
        grants = effects.rd_subsidy_krw * lever.params.cofunding_rate  # project R&D back to grants
        return grants, effects.treated_establishments, spending

    grant_1, funded_1, spending_1 = year(2024, BUDGET)
    assert spending_1.sum() == pytest.approx(BUDGET, rel=1e-12)
    assert funded_1.sum() == pytest.approx(BUDGET / cap, rel=1e-9)  # one establishment per project
    assert (grant_1 <= cap * np.ceil(funded_1) + 1e-6).all()
    firms_1 = np.flatnonzero(grant_1 > 0)
    assert len(firms_1) >= 2

    reduced = BUDGET / 10
    grant_2, _, spending_2 = year(2025, reduced)
    assert spending_2.sum() <= reduced * (1 + 1e-12)
    assert spending_2.sum() == pytest.approx(reduced, rel=1e-9)
    assert set(np.flatnonzero(grant_2 > 1e-3)) == set(firms_1)  # the same projects, nothing new
    assert grant_2[firms_1] == pytest.approx(grant_1[firms_1] / 10, rel=1e-9)

    grant_3, funded_3, spending_3 = year(2026, BUDGET)  # the two-year projects have ended
    assert spending_3.sum() == pytest.approx(BUDGET, rel=1e-12)
    assert funded_3.sum() == pytest.approx(BUDGET / cap, rel=1e-9)


@pytest.mark.parametrize("budget", [0.0, 1.0, 7.9e10, 8e10, 8e10 + 1, 1e12, 1e16])
def test_allocate_grants_respects_budget_and_cap(small_model, budget):
    """Single establishments get at most the cap each, until the budget or the eligible establishments run out."""
    model = small_model
    f = model.firms
    available = np.where(f.rd_intensity > 0, f.establishments, 0)
    cap = 2e8
    grants = allocate_grants(model, "test", available, budget, cap)
    assert (grants.krw >= 0).all() and (grants.krw <= cap * np.ceil(grants.establishments) + 1e-6).all()
    assert (grants.establishments <= available).all()
    assert not grants.krw[available == 0].any()
    assert grants.spending.sum() <= budget * (1 + 1e-12)
    capacity = available.sum() * cap
    assert grants.spending.sum() == pytest.approx(min(budget, capacity), rel=1e-9, abs=1e-6)
    assert grants.establishments.sum() == pytest.approx(min(budget, capacity) / cap, rel=1e-9, abs=1e-9)


def test_a_larger_budget_funds_a_superset_of_recipients(small_model):
    """Keyed lotteries: every establishment funded with 10 bn KRW is funded with 30 bn KRW too."""
    model = small_model
    f = model.firms
    available = np.where(f.rd_intensity > 0, f.establishments, 0)
    small = allocate_grants(model, "test", available, 1e10, 2e8)
    large = allocate_grants(model, "test", available, 3e10, 2e8)
    assert (large.establishments >= np.floor(small.establishments)).all()
    assert large.establishments.sum() == pytest.approx(3 * small.establishments.sum())


def test_a_grant_lottery_ignores_other_candidates(small_model):
    """Adding eligible firms elsewhere leaves the lottery among the others unchanged except for
    the few places they take (exponential clocks keyed by firm and slot)."""
    model = small_model
    f = model.firms
    performers = np.where(f.rd_intensity > 0, f.establishments, 0)
    some = np.where(f.region == 0, performers, 0)
    alone = allocate_grants(model, "test", some, 1e10, 2e8)
    with_others = allocate_grants(model, "test", np.where(f.region <= 1, performers, 0), 1e10, 2e8)
    kept = np.minimum(alone.establishments, with_others.establishments)[f.region == 0].sum()
    assert kept >= 0.3 * alone.establishments.sum()
    assert (with_others.establishments[f.region == 0] <= alone.establishments[f.region == 0] + 1e-9).all()


# --- paired differences -----------------------------------------------------------------------
def test_jobs_created_is_employed_minus_the_same_seed_baseline(policy, baseline):
    keys = ["year", "region"]
    merged = policy.regions.merge(baseline.regions, on=keys, suffixes=("", "_base"), validate="one_to_one")
    assert len(merged) == len(policy.regions) == 17 * (UNTIL - 2023 + 1)
    assert (merged["jobs_created"] == merged["employed"] - merged["employed_base"]).all()
    assert (merged["population_retained"] == merged["population"] - merged["population_base"]).all()
    assert str(policy.regions["jobs_created"].dtype) == "Int64"
    national = policy.national.set_index("year")
    national_base = baseline.national.set_index("year")
    assert (national["jobs_created"] == national["employed"] - national_base["employed"]).all()
    assert (national.loc[2023, PAIRED] == 0).all()  # the initial state is shared


def test_the_money_reaches_the_firms(policy, baseline):
    """In the first active year, business R&D rises by the co-funded projects (grants / co-funding
    rate) times their additionality (``PolicyEffects.rd_subsidy_krw`` is the lever's only channel)."""
    additionality = base_scenario().resolved_parameters().innovation.rnd_subsidy_additionality
    cofunding = build_lever(with_levers({"budget_krw_per_year": BUDGET}).levers[0], "levers[0]").params.cofunding_rate
    rise = policy.national.set_index("year")["rd_spending_krw"] - baseline.national.set_index("year")["rd_spending_krw"]
    assert rise.loc[2024] == pytest.approx(additionality * BUDGET / cofunding, rel=1e-6)


def test_a_policy_run_is_reproducible(policy):
    again = run(with_levers({"budget_krw_per_year": BUDGET}), seed=SEED)
    assert_frame_equal(again.regions, policy.regions)
    assert_frame_equal(again.lever_spending, policy.lever_spending)


# --- commands ---------------------------------------------------------------------------------
def test_regsim_levers_json():
    done = regsim("levers", "--json")
    assert done.returncode == 0, done.stderr
    levers = json.loads(done.stdout)
    assert isinstance(levers, list) and len(levers) >= 4
    names = [lever["name"] for lever in levers]
    assert len(set(names)) == len(names)
    assert "key_industry_rnd" in names
    for lever in levers:
        for key in ("name", "country", "case", "mechanism", "parameters"):
            assert key in lever, (lever.get("name"), key)
        assert lever["case"] and lever["mechanism"], lever["name"]
        assert lever["country"] in ("korea", "japan"), lever["name"]
        for name, param in lever["parameters"].items():
            assert set(param) >= {"default", "description"}, (lever["name"], name)
    rnd = next(lever for lever in levers if lever["name"] == "key_industry_rnd")
    assert rnd["parameters"]["cap_per_firm_krw"]["default"] == 2e8


def test_regsim_levers_table():
    done = regsim("levers")
    assert done.returncode == 0, done.stderr
    for fragment in ("key_industry_rnd", "korea", "cap_per_firm_krw=", "mechanism"):
        assert fragment in done.stdout, fragment


def test_regsim_run_with_a_lever_writes_levers_parquet(tmp_path):
    scenario = tmp_path / "policy.yaml"
    scenario.write_text(
        f"extends: {BASELINE}\nname: policy\nscale: {SCALE}\n"
        f"levers:\n  - {{lever: key_industry_rnd, budget_krw_per_year: {BUDGET:.0f}, start: 2024, end: 2025}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = regsim("run", scenario, "--until", UNTIL, "--seed", SEED, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "levers.parquet" in done.stdout
    assert "lever spending" in done.stdout and "jobs created" in done.stdout
    written = pd.read_parquet(out / "levers.parquet")
    assert list(written.columns) == ["year", "lever", "region", "spending_krw"]
    expected = run(load_scenario(scenario, end_year=UNTIL), seed=SEED)
    assert_frame_equal(written, expected.lever_spending, check_dtype=False)
    assert written.groupby("year")["spending_krw"].sum().to_numpy() == pytest.approx([BUDGET, BUDGET], rel=1e-9)
    meta = json.loads((out / "run.json").read_text())
    assert meta["paired_baseline"] is True
    regions = pd.read_parquet(out / "regions.parquet")
    assert set(PAIRED) <= set(regions.columns)


def test_lever_view_shows_this_years_model_state(small_model):
    """The view a lever reads is the model's own state in the current year: the same population
    objects, working ages 15-64 counted from the persons, last year's innovations by region, region
    masks from the pack."""
    model = small_model
    view = model.lever_view()
    assert view.year == model.year and view.firms is model.firms and view.talent is model.talent
    ages = model.talent.age
    assert view.working_age_by_region.sum() == ((ages >= 15) & (ages <= 64)).sum()
    recorded = [float(region.measures.get("innovations", 0.0)) for region in model.regions]
    np.testing.assert_array_equal(view.innovations_last_year, recorded)
    capital = view.region_mask(None, "capital")
    assert sorted(np.array(model.pack.codes)[capital]) == sorted(CAPITAL_CODES)
    assert not view.region_mask(["11"], "non_capital").any()  # Seoul is in the capital region
    manufacturing = view.firm_mask(np.ones(model.n_regions, bool), ["C"])
    assert manufacturing.sum() == (model.firms.industry == 2).sum() > 0  # C is the third KSIC section


def test_levers_do_not_import_the_model_class():
    """The levers' modules reach the model only through LeverView (also an import-linter contract)."""
    import sim.model.levers

    done = subprocess.run(
        [sys.executable, "-c", "import sys, sim.model.levers; print('sim.model.regional_model' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False" and sim.model.levers.REGISTRY
