"""Validity checks of the baseline against official statistics.

Three checks, each a function returning tables a researcher can inspect:

- ``projection_check``: a baseline run from 2023 against KOSTAT's 2022-based provincial projection
  (medium scenario): national change 2023→2052, capital-region share in 2052, each province's
  growth ratio (2040 and 2052 over 2023) and share aged 65+ in 2052.
- ``backcast_check``: a run from 2015 to 2023 against the observed registered populations of
  2023, next to two naive forecasts (no change; linear trend of 2011–2015).
- ``migration_backtest``: rolling-origin forecasts from Dec 2020 and Dec 2021 to Dec 2023 with migration
  fitted only on the flows up to the origin, against no change and linear trends of the last 1, 2 and 3
  years: provincial populations and net inter-provincial migration.

Both compare growth ratios rather than levels, because the projection counts residents at
1 July including foreigners, while the model starts from the registered population at
31 December.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import RegsimError
from sim.experiments.calibrate import fit_measures, naive_forecasts, observed_targets, simulate
from sim.inputs.data import read_table
from sim.inputs.scenario import Scenario
from sim.results.run import run, scenario_from_dict

OFFICIAL_PROJECTION = "official_projection_2022based"
TOLERANCES = {
    "national_change_pp": 3.0,
    "capital_share_2052_pp": 1.5,
    "growth_ratio_mae_pct": 4.0,
    "share_65_plus_2052_pp": 3.0,
}
"""Acceptance tolerances of the projection check (percentage points or percent)."""


@dataclass(frozen=True)
class ProjectionCheck:
    """Summary criteria and the per-province comparison."""

    criteria: pd.DataFrame  # criterion, model, official, error, tolerance, passed
    provinces: pd.DataFrame  # per province: growth ratios 2040/2052 and 65+ share 2052, model vs official


def official_projection() -> pd.DataFrame:
    """Provincial projection (persons at 1 July): region, year, population, persons_65_plus."""
    table = read_table(OFFICIAL_PROJECTION, required=("region", "year", "population", "persons_65_plus"))
    return table.assign(region=table["region"].astype(str).str.zfill(2))


def projection_check(regions: pd.DataFrame, capital_codes: list[str], start: int = 2023) -> ProjectionCheck:
    """Compare a baseline run's region table (years ``start``..2052) with the official projection."""
    official = official_projection()
    model_pop = regions.pivot(index="region", columns="year", values="population").astype(float)
    model_old = regions.pivot(index="region", columns="year", values="persons_65_plus").astype(float)
    official_pop = official.pivot(index="region", columns="year", values="population").reindex(model_pop.index)
    official_old = official.pivot(index="region", columns="year", values="persons_65_plus").reindex(model_pop.index)

    provinces = pd.DataFrame(index=model_pop.index)
    errors = []
    for year in (2040, 2052):
        provinces[f"growth_{year}_model"] = model_pop[year] / model_pop[start]
        provinces[f"growth_{year}_official"] = official_pop[year] / official_pop[start]
        errors.append((provinces[f"growth_{year}_model"] / provinces[f"growth_{year}_official"] - 1).abs())
    provinces["share_65_plus_2052_model"] = model_old[2052] / model_pop[2052]
    provinces["share_65_plus_2052_official"] = official_old[2052] / official_pop[2052]

    def change(table: pd.DataFrame) -> float:
        return 100 * (table[2052].sum() / table[start].sum() - 1)

    def capital_share(table: pd.DataFrame) -> float:
        return 100 * table.loc[capital_codes, 2052].sum() / table[2052].sum()

    share_gap = 100 * (provinces["share_65_plus_2052_model"] - provinces["share_65_plus_2052_official"]).abs()
    rows = [
        ("national_change_pp", change(model_pop), change(official_pop)),
        ("capital_share_2052_pp", capital_share(model_pop), capital_share(official_pop)),
        ("growth_ratio_mae_pct", 100 * pd.concat(errors).mean(), 0.0),
        ("share_65_plus_2052_pp", share_gap.max(), 0.0),
    ]
    criteria = pd.DataFrame(rows, columns=["criterion", "model", "official"])
    criteria["error"] = (criteria["model"] - criteria["official"]).abs()
    criteria["tolerance"] = criteria["criterion"].map(TOLERANCES)
    criteria["passed"] = criteria["error"] <= criteria["tolerance"]
    return ProjectionCheck(criteria=criteria, provinces=provinces.reset_index())


def backcast_check(regions: pd.DataFrame, start: int = 2015, target: int = 2023) -> pd.DataFrame:
    """Provincial error of a back-cast (``start`` → ``target``) and of two naive forecasts.

    Returns one row per forecast with the mean absolute percentage error (MAPE, %) and the error
    of the national total (%), against the observed registered populations of ``target``.
    """
    observed = read_table("population_annual", required=("region", "year", "population"))
    observed = observed.assign(region=observed["region"].astype(str).str.zfill(2))
    pivot = observed.pivot(index="region", columns="year", values="population").astype(float)
    model = regions.pivot(index="region", columns="year", values="population").astype(float)
    actual = pivot[target].reindex(model.index)
    history = pivot.loc[model.index, [year for year in pivot.columns if start - 4 <= year <= start]]
    slope = np.polyfit(history.columns.to_numpy(float), history.to_numpy().T, 1)[0]
    forecasts = {
        "model": model[target],
        "no change": pivot[start].reindex(model.index),
        "linear trend": pivot[start].reindex(model.index) + slope * (target - start),
    }
    rows = []
    for name, forecast in forecasts.items():
        rows.append(
            {
                "forecast": name,
                "provincial_mape_pct": 100 * ((forecast - actual).abs() / actual).mean(),
                "national_error_pct": 100 * (forecast.sum() / actual.sum() - 1),
            }
        )
    return pd.DataFrame(rows)


BACKTEST_ORIGINS = {2020: "2016-2020", 2021: "2017-2021"}
"""Origin (31 Dec) → the migration calibration window of the five years of flows up to it."""
BACKTEST_TARGET = 2023
TREND_SPANS = (1, 2, 3)
"""Years of history behind the naive linear trends (a trend over k years is the least-squares line
through the k + 1 year-end values ending at the origin)."""


def migration_backtest(
    baseline: Scenario, seeds: int = 3, origins: dict[int, str] = BACKTEST_ORIGINS, target: int = BACKTEST_TARGET
) -> pd.DataFrame:
    """Rolling-origin back-test of the migration model: from each origin to ``target``, the model with its
    migration constants and outflow rates fitted on the flows up to the origin (``origins``: origin →
    calibration window), next to no change and linear trends over the last 1, 2 and 3 years.

    One row per origin and forecast: ``population_mape_pct``, the mean over provinces of |error| of the
    population at 31 Dec ``target`` (% of the observed); ``net_migration_mae_pct``, the mean over provinces
    and forecast years of |error| of the year's net inter-provincial migration (% of the observed population
    at the previous year end). No change keeps the origin's population and its last year's net migration.
    The model runs with the observed fertility, mortality and international migration of the forecast years
    (the scenario's demographic inputs), so its population error is not a pure forecast; its net-migration
    error is. Mean over ``seeds`` seeds.
    """
    observed = observed_targets(baseline)
    fields = baseline.model_dump()
    rows = []
    for origin, window in origins.items():
        years = list(range(origin + 1, target + 1))
        backtest = {
            **fields,
            "name": f"{baseline.name} back-test from {origin}",
            "start_year": origin,
            "end_year": target,
            "levers": [],
            "parameters": {**fields["parameters"], "migration.calibration_period": window},
        }
        forecasts = {f"model (migration fitted {window})": simulate(backtest, list(range(seeds)))}
        forecasts["no change"] = naive_forecasts(observed, origin, [origin - 1, origin], years)["no change"]
        for span in TREND_SPANS:
            trend_years = list(range(origin - span, origin + 1))
            forecasts[f"linear trend, last {span} year{'s' if span > 1 else ''}"] = naive_forecasts(observed, origin, trend_years, years)[
                "linear trend"
            ]
        for name, paths in forecasts.items():
            rows.append(
                {
                    "origin": origin,
                    "forecast": name,
                    "population_mape_pct": fit_measures(paths, observed, [target], 0.0)["population_mape_pct"],
                    "net_migration_mae_pct": fit_measures(paths, observed, years, 0.0)["net_migration_mae_pct"],
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ValidityReport:
    """Projection criteria (mean over seeds), per-province comparison, back-cast and migration back-test errors."""

    criteria: pd.DataFrame
    provinces: pd.DataFrame
    backcast: pd.DataFrame
    migration_backtest: pd.DataFrame

    def write(self, out) -> None:
        """Write the report's four tables as CSV files into the folder ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.criteria.to_csv(out / "projection_criteria.csv", index=False)
        self.provinces.to_csv(out / "projection_provinces.csv", index=False)
        self.backcast.to_csv(out / "backcast_2015_2023.csv", index=False)
        self.migration_backtest.to_csv(out / "migration_backtest.csv", index=False)


def run_checks(baseline: Scenario, seeds: int = 3) -> ValidityReport:
    """Run ``baseline`` (from 2023), its back-cast (2015→2023, same parameters) and the migration back-test
    (``migration_backtest``) over ``seeds`` seeds."""
    if baseline.start_year != 2023:
        raise RegsimError(f"the validity check needs a scenario starting in 2023, found start_year {baseline.start_year}")
    fields = baseline.model_dump()
    baseline = scenario_from_dict({**fields, "end_year": 2052}, source=f"scenario {baseline.name!r}")
    backcast = scenario_from_dict({**fields, "start_year": 2015, "end_year": 2023}, source=f"back-cast of {baseline.name!r}")
    checks, backcasts = [], []
    for seed in range(seeds):
        result = run(baseline, seed=seed)
        checks.append(projection_check(result.regions, result.metadata["capital_region"]))
        backcasts.append(backcast_check(run(backcast, seed=seed).regions).assign(seed=seed))
    criteria = checks[0].criteria.copy()
    criteria["model"] = np.mean([check.criteria["model"].to_numpy() for check in checks], axis=0)
    criteria["error"] = np.mean([check.criteria["error"].to_numpy() for check in checks], axis=0)
    criteria["passed"] = criteria["error"] <= criteria["tolerance"]
    provinces = pd.concat([check.provinces for check in checks]).groupby("region", as_index=False).mean()
    backcast_table = (
        pd.concat(backcasts).groupby("forecast", as_index=False, sort=False)[["provincial_mape_pct", "national_error_pct"]].mean()
    )
    return ValidityReport(
        criteria=criteria, provinces=provinces, backcast=backcast_table, migration_backtest=migration_backtest(baseline, seeds)
    )
