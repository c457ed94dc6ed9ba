"""Municipal resolution (``resolution: sigungu``): accounting, agreement with provinces, fits and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import run, scenario_from_dict
from sim.errors import ScenarioError
from sim.inputs.pack import RegionPack
from sim.model.crn import CommonRandomNumbers
from sim.model.mechanisms.municipalities import (
    Municipalities,
    destination_weights,
    expected_inflow,
    fertility_schedule,
    fit_destination_constants,
)

ROOT = Path(__file__).resolve().parents[1]
SIGUNGU = {"name": "sigungu_test", "resolution": "sigungu", "scale": 200, "end_year": 2026}


@pytest.fixture(scope="module")
def result():
    return run(scenario_from_dict(SIGUNGU), seed=3)


def test_the_table_has_the_schema_of_the_issue(result):
    table = result.municipalities
    assert list(table.columns) == [
        "year",
        "municipality",
        "province",
        "municipality_name",
        "population",
        "births",
        "deaths",
        "net_migration",
        "women_20_39",
        "persons_65_plus",
        "extinction_risk_index",
    ]
    assert table.groupby("year").size().eq(229).all()
    assert table["municipality"].str.fullmatch(r"\d{10}").all()
    start = table[table["year"] == 2023]
    assert start[["births", "deaths", "net_migration"]].isna().all().all()
    assert start.loc[start["municipality"] == "1111000000", "province"].item() == "11"


def test_population_change_is_births_minus_deaths_plus_net_migration_in_every_municipality_and_year(result):
    table = result.municipalities.sort_values(["municipality", "year"])
    change = table.groupby("municipality")["population"].diff()
    later = table["year"] > 2023
    identity = table["births"] - table["deaths"] + table["net_migration"]
    assert (change[later] == identity[later]).all()


def test_municipal_sums_equal_provincial_totals_every_year(result):
    sums = result.municipalities.groupby(["year", "province"])[["population", "births", "deaths", "net_migration"]].sum()
    provinces = result.regions.set_index(["year", "region"]).loc[sums.index]
    assert (sums["population"] == provinces["population"]).all()
    later = sums.index.get_level_values("year") > 2023
    assert (sums.loc[later, "births"] == provinces.loc[later, "births"]).all()
    assert (sums.loc[later, "deaths"] == provinces.loc[later, "deaths"]).all()
    net = provinces["net_migration"] + provinces["international_net_migration"]
    assert (sums.loc[later, "net_migration"] == net[later]).all()


def test_national_rows_count_municipalities_at_risk(result):
    table = result.municipalities
    for year, rows in table.groupby("year"):
        national = result.national.set_index("year").loc[year]
        assert national["municipalities_at_extinction_risk"] == (rows["extinction_risk_index"] < 0.5).sum()
        assert national["municipalities_at_high_extinction_risk"] == (rows["extinction_risk_index"] < 0.2).sum()
    start = result.national.set_index("year").loc[2023]
    assert 110 <= start["municipalities_at_extinction_risk"] <= 135  # 124 in the packaged cells (README)


def test_a_municipality_without_births_deaths_or_moves_keeps_its_population_exactly():
    pack = RegionPack.load("korea", 2023)
    layer = Municipalities(pack.municipalities, pack.n_regions, 0.0, scale=1)  # no moves inside provinces
    rng = np.random.default_rng(0)
    municipality = rng.integers(0, layer.n, 5000).astype(np.int16)
    age = rng.integers(0, 101, 5000).astype(np.uint8)
    layer.fit(municipality, age, np.zeros((pack.n_regions, 101)), np.ones(101), 0.0)
    before = municipality.copy()
    nobody = np.zeros(0, np.int64)
    none = np.zeros(len(age), bool)
    layer.count_demography(none, none, municipality, np.zeros(0, np.int16), np.zeros(0, np.int16))
    layer.move(municipality, layer.region[municipality], age, np.arange(len(age), dtype=np.uint64), nobody, CommonRandomNumbers(1), 2024)
    assert np.array_equal(municipality, before)
    assert all(not values.any() for values in layer.flows.values())


def test_municipal_fertility_keeps_each_provinces_expected_births():
    region = np.array([0, 0, 1])
    asfr = np.zeros((2, 101))
    asfr[:, 30] = [0.1, 0.2]
    women = np.zeros((3, 101))
    women[:, 30] = [100.0, 300.0, 50.0]
    rates = fertility_schedule(asfr, women, region, np.array([2.0, 1.0, 1.7]))
    births = (rates * women).sum(axis=1)
    assert births[:2].sum() == pytest.approx(0.1 * 400)  # province 0: 40 births, as with its own schedule
    assert births[0] / 100 == pytest.approx(2 * births[1] / 300)  # the first municipality twice as fertile
    assert births[2] == pytest.approx(0.2 * 50)  # alone in its province: the provincial rate


def test_destination_constants_reproduce_the_target_inflows():
    region = np.array([0, 0, 0, 1, 1])
    residents = np.array([[100.0, 50], [300, 20], [50, 80], [200, 200], [100, 300]])  # [n, bands]
    inflow = np.array([20.0, 15, 10, 25, 15])  # per province: movers from other provinces + movers inside it
    between_in = np.array([[10.0, 20], [15, 5]])  # [bands, regions]
    within_out = np.array([[5.0, 3, 2, 6, 4], [4, 2, 4, 2, 3]])  # [bands, n]
    constant = fit_destination_constants(region, residents, inflow, between_in, within_out)
    share = destination_weights(region, constant, residents)
    assert expected_inflow(region, share, between_in, within_out) == pytest.approx(inflow, rel=1e-6)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {
                "levers": [
                    {
                        "lever": "local_industries_decline_areas",
                        "budget_krw_per_year": 1e9,
                        "start": 2024,
                        "end": 2025,
                        "municipalities": ["4794000001"],
                    }
                ]
            },
            "unknown municipality code '4794000001'; did you mean '4794000000'?",
        ),
        (
            {
                "levers": [
                    {
                        "lever": "local_industries_decline_areas",
                        "budget_krw_per_year": 1e9,
                        "start": 2024,
                        "end": 2025,
                        "regions": ["46"],
                        "municipalities": ["4794000000"],
                    }
                ]
            },
            "lies in region 47, outside the lever's regions (46)",
        ),
        ({"resolution": "dong"}, "resolution: Input should be 'province' or 'sigungu'"),
        ({"start_year": 2020, "end_year": 2025}, "resolution: sigungu starts from 31 Dec 2023"),
    ],
)
def test_bad_municipal_input_is_one_line(change, fragment):
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict({**SIGUNGU, **change}, source="s.yaml")
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_a_pack_without_municipal_tables_has_no_sigungu_resolution(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "sim" / "inputs" / "data" / "korea", pack, ignore=shutil.ignore_patterns("municipal*"))
    with pytest.raises(ScenarioError, match="has no municipal tables .* available: province"):
        scenario_from_dict({**SIGUNGU, "data_pack": str(pack)}, source="s.yaml")


def test_municipality_codes_need_municipal_resolution():
    lever = {
        "lever": "local_industries_decline_areas",
        "budget_krw_per_year": 1e9,
        "start": 2024,
        "end": 2025,
        "municipalities": ["4794000000"],
    }
    with pytest.raises(ScenarioError, match="need resolution: sigungu"):
        scenario_from_dict({"name": "p", "levers": [lever]}, source="s.yaml")


def test_a_municipal_lever_spends_only_in_the_province_of_its_municipality():
    lever = {
        "lever": "local_industries_decline_areas",
        "budget_krw_per_year": 1e9,
        "start": 2024,
        "end": 2024,
        "municipalities": ["4794000000"],
    }
    policy = run(scenario_from_dict({**SIGUNGU, "end_year": 2024, "levers": [lever]}), seed=1, paired_baseline=False)
    spending = policy.lever_spending.groupby("region")["spending_krw"].sum()
    assert list(spending.index) == ["47"] and spending.iloc[0] == pytest.approx(1e9)


def test_the_written_run_holds_municipalities_parquet(result, tmp_path):
    result.write(tmp_path)
    stored = pd.read_parquet(tmp_path / "municipalities.parquet")
    assert (
        len(stored) == len(result.municipalities) and stored["municipality"].dtype == object or str(stored["municipality"].dtype) == "str"
    )


def test_provinces_agree_with_the_provincial_model(result):
    provincial = run(scenario_from_dict({**SIGUNGU, "resolution": "province"}), seed=3)
    keys = ["year", "region"]
    both = result.regions.merge(provincial.regions, on=keys, suffixes=("_sigungu", "_province"))
    final = both[(both["year"] == 2026) & (both["population_province"] > 1_000_000)]  # small provinces: a few thousand agents
    ratio = final["population_sigungu"].astype(float) / final["population_province"].astype(float)
    assert ratio.between(0.98, 1.02).all()  # other start agents, hence other draws: three years of sampling noise at 1:200 (sd ≈ 0.7 %)
    totals = both.groupby("year")[["population_sigungu", "population_province"]].sum().loc[2026]
    assert totals["population_sigungu"] == pytest.approx(totals["population_province"], rel=2e-3)


def test_the_backcast_closes_with_fitted_constants_and_keeps_provincial_totals():
    from sim.experiments.municipal_backcast import municipal_backcast

    summary, detail = municipal_backcast()
    errors = summary.set_index("forecast")["mape_pct"]
    assert errors["municipal, fitted"] < 0.05 < errors["provincial allocation"] < errors["no change"]
    provinces = detail.groupby("region")[["population_2023", "provincial allocation", "municipal, no constants"]].sum()
    assert np.allclose(provinces["provincial allocation"], provinces["population_2023"], atol=20)
    assert np.allclose(provinces["municipal, no constants"], provinces["population_2023"], rtol=1e-3)


def test_same_seed_same_municipal_table_and_a_lever_without_money_changes_nothing():
    small = {**SIGUNGU, "scale": 400, "end_year": 2025}
    first = run(scenario_from_dict(small), seed=5).municipalities
    idle = {"lever": "local_industries_decline_areas", "budget_krw_per_year": 0.0, "start": 2024, "end": 2025}
    second = run(scenario_from_dict({**small, "levers": [idle]}), seed=5, paired_baseline=False).municipalities
    pd.testing.assert_frame_equal(first, second)


def test_packaged_municipal_cells_sum_to_the_provincial_cells_and_registered_totals():
    pack = RegionPack.load("korea", 2023)
    municipal = pack.municipalities
    provincial = np.zeros_like(pack.start_population)
    np.add.at(provincial, municipal.region, municipal.start_population)
    assert np.array_equal(provincial, pack.start_population)
    gap = municipal.start_population.sum(axis=(1, 2)) - municipal.table["population_2023"].to_numpy()
    assert np.abs(gap).max() <= 20
    assert len(municipal.codes) == 229 and municipal.decline_area.sum() == 89


SHARED = ROOT.parent / "shared" / "data"


def test_rebuild_reproduces_the_packaged_municipal_tables(tmp_path):
    from sim.tools.build import municipalities

    if not SHARED.is_dir():
        pytest.skip(f"raw statistics not available at {SHARED}")
    pack = ROOT / "sim" / "inputs" / "data" / "korea"
    for name in ("regions", "population_2023", "population_annual", "fertility", "mortality", "mortality_region_factor"):
        shutil.copy(pack / f"{name}.csv", tmp_path / f"{name}.csv")
    municipalities.build(SHARED, tmp_path)
    municipalities.build(SHARED, tmp_path)  # a second run replaces, not duplicates, the PROVENANCE section
    for name in ("municipalities", "municipal_population_2023", "municipal_moves"):
        assert (tmp_path / f"{name}.csv").read_text() == (pack / f"{name}.csv").read_text(), name
    assert (tmp_path / "PROVENANCE.md").read_text().count(municipalities.SECTION_HEADING) == 1
