"""The pure parts of `regsim viz` (sim.analysis.viz): scenarios from control values, chart data, summary;
and the CLI's one-line error for a missing file. The page itself: tests/browser/test_viz_page.py."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REGION_CODES, ROOT, assert_one_line_error

from sim.analysis.plots import TILE_GRID
from sim.analysis.viz import (
    LeverSetting,
    ledger_text,
    lever_settings,
    national_summary,
    province_lines,
    province_map_data,
    simulate_pair,
    summary_text,
    tile_map_data,
    variant_scenario,
)
from sim.api import load_scenario, scenario_from_dict
from sim.errors import ScenarioError

MSS = ROOT / "scenarios" / "korea_2023_regional_plan_mss.yaml"


@pytest.fixture(scope="module")
def mss():
    return load_scenario(MSS)


def test_lever_settings_are_the_scenarios_own(mss):
    settings = lever_settings(mss)
    assert len(settings) == len(mss.levers) == 6
    assert settings[0] == LeverSetting(budget_krw_per_year=101.6e9, region_type="non_capital", start=2024)
    assert settings[-1].region_type == "population_decline_areas"


def test_unchanged_settings_give_the_same_scenario(mss):
    assert variant_scenario(mss, lever_settings(mss)).content_hash() == mss.content_hash()


def test_variant_takes_the_controls_values(mss):
    settings = lever_settings(mss)
    settings[1] = LeverSetting(budget_krw_per_year=500e9, region_type="all", start=2026)
    variant = variant_scenario(mss, settings)
    lever = variant.levers[1]
    assert (lever.budget_krw_per_year, lever.region_type, lever.start, lever.end) == (500e9, "all", 2026, 2030)
    assert lever.lever == mss.levers[1].lever and variant.levers[0] == mss.levers[0]


def test_jpy_budget_becomes_krw(mss):
    raw = mss.model_dump()
    raw["levers"][0].update(budget_krw_per_year=None, budget_jpy_per_year=5e9)
    scenario = scenario_from_dict(raw)
    rate = scenario.resolved_parameters().policy.krw_per_jpy
    lever = variant_scenario(scenario, lever_settings(scenario)).levers[0]
    assert lever.budget_jpy_per_year is None
    assert lever.budget_krw_per_year == pytest.approx(5e9 * rate)


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [(LeverSetting(-1.0, "all", 2024), "budget_krw_per_year"), (LeverSetting(1e9, "all", 2031), "must not be before start")],
)
def test_invalid_control_values_name_lever_and_field(mss, setting, fragment):
    settings = lever_settings(mss)
    settings[0] = setting
    with pytest.raises(ScenarioError, match="levers") as raised:
        variant_scenario(mss, settings)
    assert fragment in str(raised.value)


def test_baseline_is_the_scenario_without_levers(mss):
    baseline = mss.without_levers()
    assert baseline.levers == [] and mss.levers
    assert baseline.model_dump(exclude={"levers"}) == mss.model_dump(exclude={"levers"})


def test_province_lines(baseline_run):
    regions = baseline_run.regions
    population = province_lines(regions, "population")
    assert population["region"] == list(REGION_CODES)
    assert all(ys[0] == 100 for ys in population["ys"])  # index, first year = 100
    assert population["xs"][0] == sorted(regions["year"].unique().tolist())
    youth = province_lines(regions, "youth_share")
    seoul = regions[(regions["region"] == "11")].sort_values("year")["youth_share"]
    assert youth["ys"][0] == pytest.approx(100 * seoul.to_numpy(), abs=1e-3)  # percent
    assert len(set(population["colour"])) == 17


def test_tile_map_data(baseline_run):
    regions = baseline_run.regions
    year = int(regions["year"].max())
    tiles = tile_map_data(regions, year)
    assert sorted(tiles["region"]) == sorted(TILE_GRID)
    seoul = tiles["region"].index("11")
    expected = float(regions[(regions["year"] == year) & (regions["region"] == "11")]["extinction_risk_index"].iloc[0])
    assert tiles["value"][seoul] == pytest.approx(expected)
    assert tiles["label"][seoul] == f"{expected:.2f}"
    assert (tiles["x"][seoul], tiles["y"][seoul]) == (TILE_GRID["11"][0] + 0.5, -TILE_GRID["11"][1] - 0.5)
    empty = tile_map_data(regions.iloc[0:0], year)
    assert all(math.isnan(value) for value in empty["value"]) and set(empty["label"]) == {"–"}

    shapes = province_map_data(regions, year)  # the geographic map shows the tiles' values
    assert dict(zip(shapes["region"], shapes["label"])) == dict(zip(tiles["region"], tiles["label"]))
    lon, lat = shapes["xs"][shapes["region"].index("11")][0][0], shapes["ys"][shapes["region"].index("11")][0][0]
    assert 126.7 < min(lon) < max(lon) < 127.3 and 37.4 < min(lat) < max(lat) < 37.8  # Seoul's exterior ring (degrees)
    jeju = [lat for polygon in shapes["ys"][shapes["region"].index("50")] for ring in polygon for lat in ring]
    assert max(jeju) < 34.1  # Jeju, with the Chuja islands, south of 34.1° N
    assert all(math.isnan(value) for value in province_map_data(regions.iloc[0:0], year)["value"])


def test_national_summary_is_variant_minus_baseline(baseline_run):
    national = baseline_run.national
    variant = national.assign(employed=national["employed"] + 1000)
    summary = national_summary(national, variant)
    year = int(national["year"].max())
    rows = summary.set_index(f"national, {year}")
    assert rows.loc["employed (persons)", "difference"] == 1000
    assert rows.loc["population (persons)", "difference"] == 0
    shown = summary_text(summary).set_index(f"national, {year}")
    assert shown.loc["employed (persons)", "difference"] == "+1,000"
    assert shown.loc["youth share, aged 20–39 (%)", "baseline"] == f"{100 * national['youth_share'].iloc[-1]:.2f}"


def test_variant_ledger_against_the_cached_baseline(mss):
    """The page's ledger (variant against the cached baseline) equals the paired run's own ledger."""
    import pandas as pd

    from sim.api import run

    short = mss.model_copy(update={"scale": 1000, "end_year": 2025})
    baseline, variant = simulate_pair(short, lever_settings(short), seed=3)
    pd.testing.assert_frame_equal(variant.ledger, run(short, seed=3).ledger)
    table = ledger_text(variant.ledger)
    assert table.columns[0] == "ledger, 2025" and table.iloc[0, 0] == "all levers (package)"
    assert table.iloc[1:, 0].tolist() == [spec.lever for spec in short.levers]  # every lever of the plan spends
    lever_rows = table.iloc[1:]
    assert set(lever_rows["net jobs (national)"]) == {"–"} and set(lever_rows["displacement"]) == {"–"}
    assert ledger_text(variant.ledger.iloc[0:0]).empty


def test_viz_missing_scenario_is_one_line_and_status_2(tmp_path):
    regsim = Path(sys.executable).parent / "regsim"
    done = subprocess.run(
        [str(regsim), "viz", str(tmp_path / "nowhere.yaml"), "--port", "1"], check=False, capture_output=True, text=True, timeout=120
    )
    assert_one_line_error(done, "nowhere.yaml", "not found")
