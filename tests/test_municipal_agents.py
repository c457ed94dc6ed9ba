"""Municipality agents (``resolution: sigungu``) and the municipal outcomes of tuning and sensitivity experiments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.api import run, scenario_from_dict
from sim.experiments.sensitivity import SensitivityError, load_design, outcome_runs, run_sensitivity
from sim.experiments.tuning import Scorer, TuningError, load_tuning
from sim.inputs.pack import RegionPack
from sim.model.agents import Municipality, Region
from sim.model.metrics import YOUTH_AGES, add_municipal_counts, municipalities_table, national_table, regions_table
from sim.model.regional_model import RegionalModel
from sim.results.outcomes import Outcome, outcome_level, region_sets
from sim.results.store import read_run

SIGUNGU = {"name": "sigungu_agents", "resolution": "sigungu", "scale": 400, "end_year": 2025}
COUNTS = ("population", "births", "deaths", "net_migration", "women_20_39", "persons_65_plus")


@pytest.fixture(scope="module")
def model():
    model = RegionalModel(scenario_from_dict(SIGUNGU), seed=2)
    while model.running:
        model.step()
    return model


def test_the_model_holds_one_municipality_agent_per_si_gun_gu_inside_its_province(model):
    pack = RegionPack.load("korea", 2023).municipalities
    agents = model.agents_by_type[Municipality]
    assert len(agents) == 229 and set(agents) == set(model.municipalities)
    codes = [municipality.code for municipality in model.municipalities]
    assert len(set(codes)) == 229 and all(len(code) == 10 and code.isdigit() for code in codes)
    assert codes == pack.codes and [m.municipality_name for m in model.municipalities] == pack.names
    provinces = pack.table["region"].tolist()  # the province column of municipalities.csv (Gangwon: MOIS 51…, KOSIS 42)
    assert [m.province.code for m in model.municipalities] == provinces
    assert all(isinstance(m.province, Region) and m.province is model.regions[m.province.index] for m in model.municipalities)
    assert {m.province.code for m in model.municipalities} == {region.code for region in model.regions}


def test_a_province_resolution_model_has_no_municipality_agents():
    model = RegionalModel(scenario_from_dict({"name": "provinces", "scale": 2000, "end_year": 2024}), seed=0)
    assert model.municipalities == [] and Municipality not in model.agent_types
    assert Municipality not in model.datacollector.agenttype_reporters


def test_agent_measures_are_the_person_arrays_counted_by_municipality(model):
    t, scale = model.talent, model.scale
    population = np.bincount(t.municipality, minlength=229) * scale
    women = (t.sex == 0) & (t.age >= YOUTH_AGES.start) & (t.age < YOUTH_AGES.stop)
    women_20_39 = np.bincount(t.municipality[women], minlength=229) * scale
    old = np.bincount(t.municipality[t.age >= 65], minlength=229) * scale
    for m in model.municipalities:
        assert m.measures["population"] == population[m.index]
        assert m.measures["women_20_39"] == women_20_39[m.index] and m.measures["persons_65_plus"] == old[m.index]
        assert m.measures["extinction_risk_index"] == pytest.approx(women_20_39[m.index] / old[m.index], rel=1e-12)


def test_agent_measures_equal_the_rows_of_municipalities_parquet(model):
    table = municipalities_table(model)
    last = table[table["year"] == model.year].set_index("municipality")
    assert len(last) == 229
    for m in model.municipalities:
        row = last.loc[m.code]
        assert (row["province"], row["municipality_name"]) == (m.province.code, m.municipality_name)
        assert all(row[name] == m.measures[name] for name in COUNTS)
        assert row["extinction_risk_index"] == m.measures["extinction_risk_index"]


def test_municipal_agents_sum_to_their_province_agent(model):
    for region in model.regions:
        members = model.agents_by_type[Municipality].select(lambda m, region=region: m.province is region)
        sums = {name: sum(m.measures[name] for m in members) for name in COUNTS}
        measures = region.measures
        for name in ("population", "births", "deaths", "women_20_39", "persons_65_plus"):
            assert sums[name] == measures[name], (region.code, name)
        assert sums["net_migration"] == measures["net_migration"] + measures["international_net_migration"]


def test_the_agents_at_risk_are_the_national_count(model):
    """The AgentSet view and the national column agree: municipalities with index < 0.5 (< 0.2) in the last year."""
    agents = model.agents_by_type[Municipality]
    at_risk = len(agents.select(lambda m: m.measures["extinction_risk_index"] < 0.5))
    high = len(agents.select(lambda m: m.measures["extinction_risk_index"] < 0.2))
    table = municipalities_table(model)
    last = table[table["year"] == model.year]
    assert (at_risk, high) == ((last["extinction_risk_index"] < 0.5).sum(), (last["extinction_risk_index"] < 0.2).sum())
    assert 0 < high < at_risk < 229


# --- municipal outcomes --------------------------------------------------------------------------
def small_table() -> pd.DataFrame:
    """Three municipalities in two provinces, two years; indices 0.1, 0.3 and 0.6 in 2030."""
    return pd.DataFrame(
        {
            "year": [2030, 2030, 2030, 2031, 2031, 2031],
            "municipality": ["1111000000", "1114000000", "2611000000"] * 2,
            "province": ["11", "11", "21"] * 2,
            "population": pd.array([1000, 2000, 4000, 900, 1900, 4100], dtype="Int64"),
            "extinction_risk_index": [0.1, 0.3, 0.6, 0.1, 0.1, 0.1],
        }
    )


SETS = {"all": frozenset({"11", "21"}), "capital": frozenset({"11"}), "non_capital": frozenset({"21"})}
SETS = SETS | {"municipalities": frozenset({"1111000000", "1114000000", "2611000000"})}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"measure": "municipalities_at_risk"}, 2.0),  # 0.1 and 0.3 are below 0.5
        ({"measure": "municipalities_at_risk", "threshold": 0.2}, 1.0),
        ({"measure": "municipalities_at_risk", "regions": "non_capital"}, 0.0),
        ({"measure": "municipalities_at_risk", "municipalities": ["1114000000", "2611000000"]}, 1.0),
        ({"measure": "municipalities_at_risk", "year": 2031}, 3.0),
        ({"measure": "population", "municipalities": ["1111000000", "2611000000"]}, 5000.0),
        ({"measure": "population", "municipalities": ["1111000000", "2611000000"], "regions": "capital"}, 1000.0),
    ],
)
def test_municipal_outcomes_count_and_sum_the_chosen_municipalities(fields, expected):
    outcome = Outcome(**{"year": 2030} | fields)
    assert outcome.table == "municipalities"
    assert outcome_level(small_table(), outcome, SETS) == expected


def test_a_paired_municipal_outcome_is_the_difference_over_its_municipalities():
    outcome = Outcome(measure="population_retained", year=2031, municipalities=["1111000000", "1114000000"])
    baseline = small_table().assign(population=pd.array([1000, 2000, 4000, 800, 1700, 4100], dtype="Int64"))
    assert outcome_level(small_table(), outcome, SETS) - outcome_level(baseline, outcome, SETS) == 300.0


def test_the_municipal_outcome_of_a_run_is_its_national_count(model):
    table, sets = municipalities_table(model), region_sets(model.spec)
    capital = [region.code for region in model.regions if region.capital_region]
    national = add_municipal_counts(national_table(regions_table(model), capital), table).set_index("year").loc[2025]
    for threshold, column in ((0.5, "municipalities_at_extinction_risk"), (0.2, "municipalities_at_high_extinction_risk")):
        outcome = Outcome(measure="municipalities_at_risk", year=2025, threshold=threshold)
        assert outcome_level(table, outcome, sets) == float(national[column])
    assert len(sets["municipalities"]) == 229


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"measure": "jobs_created", "municipalities": ["1111000000"]}, "is not kept by municipality"),
        ({"measure": "employed", "municipalities": ["1111000000"]}, "is not kept by municipality"),
        ({"measure": "population", "municipalities": []}, "the list of municipalities is empty"),
        ({"measure": "provinces_at_risk", "municipalities": ["1111000000"]}, "is not kept by municipality"),
        ({"measure": "municipalities_at_risk", "threshold": float("nan")}, "finite"),
    ],
)
def test_bad_municipal_outcomes_are_rejected(fields, fragment):
    with pytest.raises(ValidationError, match=fragment):
        Outcome(**{"year": 2030} | fields)


def test_municipal_outcomes_need_municipal_resolution_and_known_codes(model):
    province = region_sets(scenario_from_dict({"name": "provinces"}))
    assert province["municipalities"] == frozenset()
    field, why = Outcome(measure="municipalities_at_risk", year=2030).check_municipalities(province)
    assert field == "measure" and "needs resolution: sigungu" in why
    sigungu = region_sets(model.spec)
    assert Outcome(measure="municipalities_at_risk", year=2030, municipalities=["4794000000"]).check_municipalities(sigungu) is None
    field, why = Outcome(measure="population", year=2030, municipalities=["4794000001"]).check_municipalities(sigungu)
    assert field == "municipalities" and "unknown municipality code '4794000001'; did you mean '4794000000'?" in why
    assert Outcome(measure="population", year=2030).check_municipalities(province) is None


SENSITIVITY = """name: municipal_sensitivity
scenario: scenario.yaml
method: morris
samples: 2
seeds: 1
until: 2025
scale: 800
parameters:
  parameters.migration.wage_weight: {low: 0.5, high: 1.5}
outcomes:
  at_risk_2025: {measure: municipalities_at_risk, year: 2025}
  ulleung_2025: {measure: population, year: 2025, municipalities: ["4794000000"]}
"""


def write_sensitivity(folder, resolution: str):
    (folder / "scenario.yaml").write_text(f"name: s\nresolution: {resolution}\nend_year: 2030\n", encoding="utf-8")
    path = folder / "exp.yaml"
    path.write_text(SENSITIVITY, encoding="utf-8")
    return path


def test_a_sensitivity_experiment_reads_municipal_outcomes_from_its_runs(tmp_path):
    out = tmp_path / "out"
    result = run_sensitivity(write_sensitivity(tmp_path, "sigungu"), out=out, workers=1)
    assert not result.summary.failed and result.indices is not None
    values = outcome_runs(out, result.design)
    for index, key in enumerate(result.design.keys[:, 0]):
        rows = read_run(out, key, "municipalities").query("year == 2025")
        assert values["at_risk_2025"][index, 0] == (rows["extinction_risk_index"] < 0.5).sum() > 0
        assert values["ulleung_2025"][index, 0] == rows.loc[rows["municipality"] == "4794000000", "population"].item() > 0


def test_a_municipal_outcome_of_a_province_scenario_is_a_one_line_error(tmp_path):
    path = write_sensitivity(tmp_path, "province")
    with pytest.raises(SensitivityError) as caught:
        load_design(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: outcomes.at_risk_2025.measure: ") and "resolution: sigungu" in message and "\n" not in message


def decline_areas() -> list[str]:
    """The 89 population-decline areas (10-digit codes) of the packaged municipalities."""
    municipal = RegionPack.load("korea", 2023).municipalities
    return [code for code, decline in zip(municipal.codes, municipal.decline_area) if decline]


def tuning_experiment(folder, resolution: str):
    (folder / "scenario.yaml").write_text(
        f"name: decline\nresolution: {resolution}\nscale: 800\nend_year: 2026\nlevers:\n"
        "- {lever: local_industries_decline_areas, budget_krw_per_year: 2.0e12, start: 2024, end: 2026, region_type: population_decline_areas}\n",
        encoding="utf-8",
    )
    path = folder / "tune.yaml"
    path.write_text(
        "name: municipal_tuning\nscenario: scenario.yaml\nseeds: 1\ntrials: 1\n"
        "variables:\n  levers[0].start: {low: 2024, high: 2025, integer: true}\n"
        "objectives:\n"
        "  - {name: at_risk, measure: municipalities_at_risk, year: 2026, direction: minimize}\n"
        f"  - {{name: retained, measure: population_retained, year: 2026, municipalities: {decline_areas()}}}\n",
        encoding="utf-8",
    )
    return path


def test_a_tuning_objective_is_the_paired_difference_of_municipal_tables(tmp_path):
    loaded = load_tuning(tuning_experiment(tmp_path, "sigungu"))
    scored = Scorer(loaded).per_seed(loaded.scenario, [4]).set_index("seed").loc[4]
    policy = run(loaded.scenario, seed=4, paired_baseline=False).municipalities.query("year == 2026")
    baseline = run(loaded.scenario.without_levers(), seed=4, paired_baseline=False).municipalities.query("year == 2026")
    at_risk = (policy["extinction_risk_index"] < 0.5).sum() - (baseline["extinction_risk_index"] < 0.5).sum()
    chosen = decline_areas()
    assert len(chosen) == 89
    retained = (
        policy[policy["municipality"].isin(chosen)]["population"].sum()
        - baseline[baseline["municipality"].isin(chosen)]["population"].sum()
    )
    assert (scored["at_risk"], scored["retained"]) == (at_risk, retained)
    assert retained != 0  # the lever moves people: the check compares something


def test_a_municipal_objective_of_a_province_scenario_is_a_one_line_error(tmp_path):
    path = tuning_experiment(tmp_path, "province")
    with pytest.raises(TuningError) as caught:
        load_tuning(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: objectives[0].measure: ") and "resolution: sigungu" in message and "\n" not in message
