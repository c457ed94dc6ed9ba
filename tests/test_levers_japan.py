"""Japanese lever families of seed 002: direction and place of each mechanism, exact spending,
and a zero budget leaving the run unchanged."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.api import RunResult, run, scenario_from_dict
from sim.inputs.pack import INDUSTRIES
from sim.model.levers.base import PolicyEffects
from sim.model.levers.japan_clusters import SUPER_REGIONAL_PARTNERSHIPS
from sim.model.regional_model import RegionalModel

KRW_PER_JPY = 9.31  # parameters policy.krw_per_jpy
SEEDS = range(4)
UNTIL = 2027
SCALE = 400
PAIRED = ["lever_spending_krw", "jobs_created", "population_retained"]
GROUP_DAEGU_JEONBUK_GYEONGBUK = ["27", "45", "47"]  # seed 003 partnership; Daegu and Jeonbuk are not adjacent

JAPANESE_LEVERS = (
    "joint_research_coordinators",
    "knowledge_clusters",
    "regional_innovation_strategy",
    "innovation_ecosystem_producers",
    "startup_ecosystem",
    "coi_next_hubs",
    "regional_core_universities",
    "anchor_cluster",
    "relationship_population",
    "digital_garden_city",
    "mega_region_cooperation",
    "university_municipality_partnership",
    "kosen_colleges",
    "kosen_talent_consortium",
)


def scenario(levers: list[dict], end_year: int = UNTIL):
    return scenario_from_dict({"name": "japan-levers", "end_year": end_year, "scale": SCALE, "levers": levers})


def lever(name: str, budget_krw: float | None, regions: list[str] | None = None, start: int = 2024, end: int = UNTIL, **extra) -> dict:
    spec = {"lever": name, "start": start, "end": end, **extra}
    if budget_krw is not None:
        spec["budget_krw_per_year"] = budget_krw
    if regions is not None:
        spec["regions"] = regions
    return spec


@cache
def baseline(seed: int) -> pd.DataFrame:
    return run(scenario([]), seed=seed).regions


def mean_effect(spec: dict, column: str, regions: list[str]) -> float:
    """Lever run minus baseline (same seed), summed over ``regions`` and the simulated years
    (flows) or taken in the last year (paired columns), averaged over ``SEEDS``."""
    effects = []
    for seed in SEEDS:
        policy = run(scenario([spec]), seed=seed).regions
        place = policy["region"].isin(regions)
        if column in ("jobs_created", "population_retained"):
            effects.append(policy.loc[place & (policy["year"] == UNTIL), column].sum())
        else:
            simulated = place & (policy["year"] > 2023)
            effects.append(policy.loc[simulated, column].astype(float).sum() - baseline(seed).loc[simulated, column].astype(float).sum())
    return float(np.mean(effects))


# --- direction and place of each mechanism --------------------------------------------------
DIRECTIONS = [
    # (lever spec, outcome, regions where it must move, sign)
    (lever("joint_research_coordinators", 1e11, ["41"]), "innovations", ["41"], +1),
    (lever("knowledge_clusters", 1e13, ["44"]), "innovations", ["44"], +1),
    (lever("regional_innovation_strategy", 1e12, ["47"]), "grdp_krw", ["47"], +1),
    (lever("innovation_ecosystem_producers", 6e12, ["30"]), "startups", ["30"], +1),  # spin-offs in Daejeon
    (lever("startup_ecosystem", 1e12, ["47"]), "startups", ["47"], +1),
    (lever("coi_next_hubs", 1e12, ["44"]), "innovations", ["44"], +1),
    (lever("regional_core_universities", 5e11, ["47"]), "graduates", ["47"], +1),
    (lever("anchor_cluster", 3e12, ["44"]), "innovations", ["44"], +1),  # its jobs: see the one-year test
    (lever("relationship_population", 2e11, ["47"]), "in_migrants", ["47"], +1),
    (lever("digital_garden_city", 2e12, ["47"]), "population_retained", ["47"], +1),
    (
        lever("mega_region_cooperation", 1e13, params={"partners": [GROUP_DAEGU_JEONBUK_GYEONGBUK]}),
        "innovations",
        GROUP_DAEGU_JEONBUK_GYEONGBUK,
        +1,
    ),
    (lever("university_municipality_partnership", 3e11, ["47"]), "out_migrants", ["47"], -1),
    (lever("kosen_colleges", 5e11, ["47"]), "graduates", ["47"], +1),
    (lever("kosen_talent_consortium", 5e12, ["47"]), "jobs_created", ["47"], +1),
]


def test_every_japanese_lever_has_a_direction_test():
    assert sorted(spec["lever"] for spec, *_ in DIRECTIONS) == sorted(JAPANESE_LEVERS)


@pytest.mark.parametrize(("spec", "outcome", "regions", "sign"), DIRECTIONS, ids=[spec["lever"] for spec, *_ in DIRECTIONS])
def test_lever_moves_its_outcome_in_the_target_regions(spec, outcome, regions, sign):
    assert sign * mean_effect(spec, outcome, regions) > 0


# --- mechanisms on one year's effects (no simulation) ---------------------------------------
def first_year_effects(spec: dict) -> tuple[RegionalModel, PolicyEffects, np.ndarray]:
    model = RegionalModel(scenario([spec]), seed=0)
    model.year = spec["start"]
    effects = PolicyEffects.neutral(len(model.firms), model.n_regions)
    budget = spec["budget_krw_per_year"]
    spending = model.levers[0].apply(model.lever_view(), effects, budget)
    return model, effects, spending


def test_mega_region_joins_only_non_adjacent_partners_and_pays_for_the_links():
    model, effects, spending = first_year_effects(
        lever("mega_region_cooperation", 1e11, params={"partners": [GROUP_DAEGU_JEONBUK_GYEONGBUK]})
    )
    codes = np.array(model.pack.codes)
    linked = {tuple(sorted(codes[[i, j]])) for i, j in zip(*np.nonzero(effects.commuting_links))}
    assert linked == {("27", "45")}
    assert set(codes[spending > 0]) == set(GROUP_DAEGU_JEONBUK_GYEONGBUK)
    assert spending.sum() == pytest.approx(1e11, rel=1e-9)


def test_mega_region_without_money_for_the_link_spends_it_all_on_networking():
    model, effects, spending = first_year_effects(
        lever("mega_region_cooperation", 1e9, params={"partners": [GROUP_DAEGU_JEONBUK_GYEONGBUK], "krw_per_link": 5e9})
    )
    assert not effects.commuting_links.any()
    assert spending.sum() == pytest.approx(1e9, rel=1e-9)


def test_commercialisation_raises_productivity_of_target_rd_performers_only():
    model, effects, _ = first_year_effects(lever("regional_innovation_strategy", 1e11, ["47"]))
    firms = model.firms
    target_performers = (np.array(model.pack.codes)[firms.region] == "47") & (firms.rd_intensity > 0)
    assert (effects.productivity_gain[target_performers] > 0).all()
    assert (effects.productivity_gain[~target_performers] == 0).all()
    assert (effects.rd_subsidy_krw[~target_performers] == 0).all()


def test_digital_garden_city_spends_outside_the_capital_region_and_enables_remote_work():
    model, effects, spending = first_year_effects(lever("digital_garden_city", 1e11))
    assert spending[model.pack.capital].sum() == 0
    assert (effects.amenity[model.pack.capital] == 0).all()
    assert effects.remote_work_share > 0
    assert spending.sum() == pytest.approx(1e11, rel=1e-9)


def test_kosen_adds_manufacturing_jobs_and_vocational_entry_in_its_region():
    model, effects, _ = first_year_effects(lever("kosen_colleges", 1e11, ["48"]))
    firms, codes = model.firms, np.array(model.pack.codes)
    with_jobs = effects.extra_jobs > 0
    assert with_jobs.any()
    assert (codes[firms.region[with_jobs]] == "48").all()
    assert (np.array(INDUSTRIES)[firms.industry[with_jobs]] == "C").all()
    assert np.flatnonzero(effects.entry_rate_extra).tolist() == [model.pack.codes.index("48")]
    assert (effects.youth_leave_multiplier[codes == "48"] < 1).all()


def test_anchor_cluster_adds_its_paid_jobs_to_tradable_rd_firms_of_the_region():
    model, effects, spending = first_year_effects(lever("anchor_cluster", 1e11, ["26"]))
    firms, codes = model.firms, np.array(model.pack.codes)
    with_jobs = effects.extra_jobs > 0
    assert (codes[firms.region[with_jobs]] == "26").all()
    assert np.isin(np.array(INDUSTRIES)[firms.industry[with_jobs]], ["C", "M"]).all()
    assert (firms.rd_intensity[with_jobs] > 0).all() and model.tradable[firms.industry[with_jobs]].all()
    params = model.levers[0].params
    assert effects.extra_jobs.sum() == pytest.approx(1e11 * params.jobs_share / params.krw_per_job)  # persons
    assert spending.sum() == pytest.approx(1e11, rel=1e-9)


def test_shares_must_add_up_to_one():
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="must add up to 1"):
        scenario([lever("knowledge_clusters", 1e10, params={"networking_share": 0.9})])


# --- money: exact spending, only when and where targeted; zero budget changes nothing --------
TARGETS = {name: ["44", "47"] for name in JAPANESE_LEVERS} | {"mega_region_cooperation": None}
SPENDING_RUN_START, SPENDING_RUN_END, SPENDING_RUN_UNTIL = 2024, 2025, 2026


@pytest.fixture(scope="module")
def all_levers_run() -> tuple[RunResult, dict[str, float]]:
    specs = [lever(name, 2e10, TARGETS[name], SPENDING_RUN_START, SPENDING_RUN_END) for name in JAPANESE_LEVERS]
    kosen = JAPANESE_LEVERS.index("kosen_colleges")
    specs[kosen] = lever("kosen_colleges", None, TARGETS["kosen_colleges"], SPENDING_RUN_START, SPENDING_RUN_END, budget_jpy_per_year=2e9)
    budgets = {name: 2e10 for name in JAPANESE_LEVERS} | {"kosen_colleges": 2e9 * KRW_PER_JPY}
    return run(scenario(specs, end_year=SPENDING_RUN_UNTIL), seed=1), budgets


@pytest.mark.parametrize("name", JAPANESE_LEVERS)
def test_lever_spends_its_budget_each_active_year_in_its_target_regions(all_levers_run, name):
    result, budgets = all_levers_run
    spending = result.lever_spending[result.lever_spending["lever"] == name]
    by_year = spending.groupby("year")["spending_krw"].sum()
    assert by_year.index.tolist() == [SPENDING_RUN_START, SPENDING_RUN_END]
    np.testing.assert_allclose(by_year.to_numpy(), budgets[name], rtol=1e-6)
    allowed = TARGETS[name] or {code for group in SUPER_REGIONAL_PARTNERSHIPS for code in group}
    assert set(spending["region"]) <= set(allowed)


def test_zero_budget_levers_leave_the_run_unchanged():
    specs = [lever(name, 0.0, TARGETS[name], 2024, 2026) for name in JAPANESE_LEVERS]
    with_levers = run(scenario(specs, end_year=2026), seed=2).regions.drop(columns=PAIRED)
    without = run(scenario([], end_year=2026), seed=2).regions.drop(columns=PAIRED)
    pd.testing.assert_frame_equal(with_levers, without)
