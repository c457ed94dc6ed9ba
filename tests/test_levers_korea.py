"""Korean lever families beyond the R&D grants: spending, neutrality at zero budget, direction of effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.api import run, scenario_from_dict
from sim.model.levers.base import REGISTRY, PolicyEffects
from sim.model.levers.korea_cooperation import SUPER_REGIONAL_PARTNERSHIPS
from sim.model.regional_model import RegionalModel

KOREA_LEVERS = {
    # lever: targeting used in the spending test (and the regions it may spend in)
    "business_support_services": {"regions": ["46", "47"]},
    "local_industries_decline_areas": {"region_type": "population_decline_areas"},
    "innovation_clusters": {"region_type": "non_capital"},
    "super_regional_partnerships": {"regions": ["26", "31", "48", "29"]},
    "smart_specialisation_infrastructure": {"regions": ["44"]},
    "social_economy_innovation": {"regions": ["45"]},
    "industrial_complex_investment": {"regions": ["48"]},
    "region_led_allocation": {"region_type": "non_capital"},
    "international_tech_cooperation": {},
    "meister_schools": {"regions": ["47"]},
}
DECLINE_REGIONS = {"26", "27", "28", "41", "42", "43", "44", "45", "46", "47", "48"}  # provinces with decline areas
CAPITAL_REGIONS = {"11", "28", "41"}
PAIRED = ["lever_spending_krw", "jobs_created", "population_retained"]


def scenario(levers: list[dict], end_year: int = 2028, scale: int = 400):
    return scenario_from_dict({"name": "korea-levers", "end_year": end_year, "scale": scale, "levers": levers})


def lever(name: str, budget_krw: float, start: int = 2024, end: int = 2027, **spec) -> dict:
    return {"lever": name, "budget_krw_per_year": budget_krw, "start": start, "end": end, **spec}


def paired_difference(levers: list[dict], column: str, regions: list[str], until: int, seeds=range(4), **kw) -> float:
    """Mean over seeds of (policy − baseline) in ``column``, summed over ``regions`` in the last year."""
    differences = []
    for seed in seeds:
        sc = scenario(levers, end_year=until, **kw)
        policy = run(sc, seed=seed).regions
        base = run(sc.model_copy(update={"levers": []}), seed=seed).regions
        last = lambda table: table[(table["year"] == until) & table["region"].isin(regions)][column].astype(float).sum()  # noqa: E731
        differences.append(last(policy) - last(base))
    return float(np.mean(differences))


def test_all_korean_levers_registered():
    for name in KOREA_LEVERS:
        cls = REGISTRY[name]
        assert cls.country == "korea" and cls.case and cls.mechanism
        for field in cls.Params.model_fields.values():
            assert field.description, f"{name}: every parameter cites a source or states an assumption"


@pytest.mark.parametrize("name", KOREA_LEVERS)
def test_spends_its_budget_in_target_regions_and_years(name):
    budget = 3e11
    spec = lever(name, budget, start=2024, end=2025, **KOREA_LEVERS[name])
    model = RegionalModel(scenario([spec], end_year=2026, scale=1000), seed=1)
    while model.running:
        model.step()
    spending = pd.DataFrame(model.lever_spending)
    by_year = spending.groupby("year")["spending_krw"].sum()
    assert list(by_year.index) == [2024, 2025]
    np.testing.assert_allclose(by_year.to_numpy(), budget, rtol=1e-6)
    allowed = set(model.pack.codes[i] for i in np.flatnonzero(model.levers[0].target_regions(model.lever_view())))
    if name == "local_industries_decline_areas":
        allowed &= DECLINE_REGIONS - CAPITAL_REGIONS  # seed 003: the plan is for the 14 non-capital provinces
    if name == "super_regional_partnerships":
        allowed &= {"26", "31", "48", "29"}
    assert set(spending["region"]) <= allowed


@pytest.mark.parametrize("name", KOREA_LEVERS)
def test_zero_budget_is_identical_to_no_lever(name):
    with_lever = run(scenario([lever(name, 0.0, **KOREA_LEVERS[name])], end_year=2025, scale=1000), seed=2)
    without = run(scenario([], end_year=2025, scale=1000), seed=2)
    assert with_lever.lever_spending.empty
    pd.testing.assert_frame_equal(with_lever.regions.drop(columns=PAIRED), without.regions.drop(columns=PAIRED))


# --- direction of effects, one test per family ------------------------------------------------
def test_business_support_raises_value_added_where_funded():
    assert paired_difference([lever("business_support_services", 5e12, regions=["46"])], "grdp_krw", ["46"], 2028) > 0


@pytest.mark.parametrize(
    ("name", "spec", "regions"),
    [
        ("social_economy_innovation", {"regions": ["46"]}, ["46"]),
        ("industrial_complex_investment", {"regions": ["46"]}, ["46"]),
        ("local_industries_decline_areas", {"region_type": "population_decline_areas"}, sorted(DECLINE_REGIONS - CAPITAL_REGIONS)),
    ],
)
def test_job_programmes_create_jobs_where_funded(name, spec, regions):
    assert paired_difference([lever(name, 5e12, **spec)], "employed", regions, 2028) > 0


def test_region_led_allocation_follows_need():
    model = RegionalModel(scenario([lever("region_led_allocation", 1e11, region_type="non_capital")], scale=1000), seed=0)
    weights = model.levers[0].need_weights(model.lever_view())
    codes = model.pack.codes
    assert weights[codes.index("11")] == 0  # capital excluded by targeting
    assert weights[codes.index("46")] > weights[codes.index("30")]  # Jeonnam (37 % in decline areas) above Daejeon


def test_smart_infrastructure_raises_value_added_only_in_target_region():
    until = 2026
    sc = scenario([lever("smart_specialisation_infrastructure", 1e12, end=2025, regions=["44"])], end_year=until)
    result = run(sc, seed=0).regions
    base = run(sc.model_copy(update={"levers": []}), seed=0).regions
    gain = result.set_index(["year", "region"])["grdp_krw"] - base.set_index(["year", "region"])["grdp_krw"]
    assert gain.loc[(until, "44")] > 0


def test_innovation_clusters_raise_innovations_in_target_regions():
    spec = lever("innovation_clusters", 5e12, region_type="non_capital", params={"spillover_gain": 100.0})
    non_capital = ["26", "27", "29", "30", "31", "36", "42", "43", "44", "45", "46", "47", "48", "50"]
    assert paired_difference([spec], "innovations", non_capital, 2027, seeds=range(3)) > 0


def test_cluster_budget_moves_toward_innovations_per_won():
    spec = lever("innovation_clusters", 1e11, region_type="non_capital", params={"performance_weight": 1.0})
    model = RegionalModel(scenario([spec], end_year=2026, scale=1000), seed=0)
    model.step()
    cluster = model.levers[0]
    innovations = np.array([float(region.measures["innovations"]) for region in model.regions])
    per_won = np.divide(innovations, cluster.last_spending, out=np.zeros(model.n_regions), where=cluster.last_spending > 0)
    budgets = cluster.regional_budgets(model.lever_view(), 1e11)
    np.testing.assert_allclose(budgets, 1e11 * per_won / per_won.sum())


def test_partnerships_join_partner_labour_markets_and_raise_spillovers():
    model = RegionalModel(scenario([lever("super_regional_partnerships", 1e12)], scale=1000), seed=0)
    effects = PolicyEffects.neutral(len(model.firms), model.n_regions)
    model.levers[0].apply(model.lever_view(), effects, 1e12)
    index = model.pack.index_of
    for members in SUPER_REGIONAL_PARTNERSHIPS.values():
        for a in members:
            assert effects.spillover_multiplier[index[a]] > 1
            for b in members:
                assert effects.commuting_links[index[a], index[b]] == (a != b)
    assert effects.spillover_multiplier[index["11"]] == 1 and not effects.commuting_links[index["11"]].any()


def test_tech_cooperation_raises_value_added_in_incheon():
    sc = scenario([lever("international_tech_cooperation", 5e11, end=2025)], end_year=2026)
    result = run(sc, seed=0).regions
    base = run(sc.model_copy(update={"levers": []}), seed=0).regions
    gain = result.set_index(["year", "region"])["grdp_krw"] - base.set_index(["year", "region"])["grdp_krw"]
    assert gain.loc[(2026, "28")] > 0


@pytest.mark.slow
def test_meister_schools_retain_young_people():
    spec = lever("meister_schools", 5e12, end=2029, regions=["46"], params={"leave_reduction": 1.0})
    assert paired_difference([spec], "population", ["46"], 2030) > 0
