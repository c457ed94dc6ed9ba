"""The rolling-origin migration back-test of ``sim.experiments.validation`` (part of ``regsim check``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from sim.api import load_scenario
from sim.experiments.validation import TREND_SPANS, migration_backtest
from sim.inputs.data import read_table


@pytest.fixture(scope="module")
def backtest() -> pd.DataFrame:
    """One origin (Dec 2021), one seed, 1:1000: a few seconds."""
    baseline = load_scenario(ROOT / "scenarios" / "korea_baseline.yaml", scale=1000)
    return migration_backtest(baseline, seeds=1, origins={2021: "2017-2021"})


def observed_population() -> pd.DataFrame:
    table = read_table("population_annual").astype({"region": str})
    return table.assign(region=table["region"].str.zfill(2)).pivot(index="region", columns="year", values="population")


def test_backtest_has_the_model_and_every_naive_forecast(backtest):
    assert backtest["forecast"].tolist() == [
        "model (migration fitted 2017-2021)",
        "no change",
        *(f"linear trend, last {k} year{'s' if k > 1 else ''}" for k in TREND_SPANS),
    ]
    assert (backtest["origin"] == 2021).all()
    assert np.isfinite(backtest[["population_mape_pct", "net_migration_mae_pct"]].to_numpy()).all()
    model = backtest.iloc[0]
    assert 0 < model["population_mape_pct"] < 5 and 0 < model["net_migration_mae_pct"] < 5


def test_naive_population_forecasts_by_hand(backtest):
    population = observed_population().astype(float)
    by_name = backtest.set_index("forecast")
    no_change = 100 * ((population[2021] - population[2023]).abs() / population[2023]).mean()
    assert by_name.loc["no change", "population_mape_pct"] == pytest.approx(no_change, rel=1e-9)
    one_year = population[2021] + 2 * (population[2021] - population[2020])  # the change of 2021, twice more
    expected = 100 * ((one_year - population[2023]).abs() / population[2023]).mean()
    assert by_name.loc["linear trend, last 1 year", "population_mape_pct"] == pytest.approx(expected, rel=1e-9)


def test_no_change_keeps_the_last_net_migration(backtest):
    net = read_table("net_migration_annual").astype({"region": str})
    net = net.assign(region=net["region"].str.zfill(2)).pivot(index="region", columns="year", values="net_migration")
    population = observed_population()
    errors = [(net[2021] - net[year]).abs() / population[year - 1] for year in (2022, 2023)]
    expected = 100 * pd.concat(errors).mean()
    assert backtest.set_index("forecast").loc["no change", "net_migration_mae_pct"] == pytest.approx(expected, rel=1e-9)
