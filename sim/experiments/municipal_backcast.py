"""Back-cast of the municipal layer: Dec 2022 → Dec 2023 by si-gun-gu against the registered populations.

Every forecast knows the provinces' observed change; they differ in how they place it in municipalities:

- ``no change``: the Dec-2022 population;
- ``provincial allocation``: each municipality keeps its Dec-2022 share of its province (what the provincial
  model says about municipalities);
- ``municipal, no constants``: the municipal mechanism of ``sim.model.mechanisms.municipalities`` with every
  destination constant 1 — births from local fertility, deaths from local ages, movers leaving at the
  provincial model's age-specific rates and choosing municipalities in proportion to residents of their age
  band — out of sample: nothing in it is fitted to municipal changes;
- ``municipal, fitted``: the same with the constants fitted to the 2023 residual net migration (in sample:
  it reproduces the change up to the 1 % floor on in-movers; shown as the check that the fit closes).

Expected values (no sampling): the sampling noise of a run is a matter of scale, reported in the README.
The births and deaths are the estimates of ``sim/tools/build/municipalities.py`` (no municipal counts exist),
so the back-cast tests the placement of migration, not vital statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.inputs.pack import AGES, LAST_OBSERVED_YEAR, RegionPack
from sim.inputs.parameters import Parameters, default_parameters
from sim.model.mechanisms.migration import move_probability_table, rogers_castro
from sim.model.mechanisms.municipalities import (
    by_band,
    destination_weights,
    expected_inflow,
    fit_destination_constants,
    migration_2023,
)

FORECASTS = ("no change", "provincial allocation", "municipal, no constants", "municipal, fitted")


def municipal_backcast(pack: RegionPack | None = None, parameters: Parameters | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(errors per forecast, forecasts per municipality) of the Dec-2023 registered population.

    Errors: mean absolute percentage error over the 229 municipalities (%), the same weighted by population
    (% of the national population moved to the wrong municipality), and the share of municipalities whose
    direction of change (growth or decline) the forecast gets right.
    """
    pack = pack or RegionPack.load("korea", LAST_OBSERVED_YEAR)
    p = parameters or default_parameters()
    mp = p.migration
    municipal = pack.municipalities
    table = municipal.table
    region = municipal.region
    before, after = table["population_2022"].to_numpy(float), table["population_2023"].to_numpy(float)
    by_age = municipal.start_population.sum(axis=1).astype(float)
    by_age *= ((before + after) / 2 / by_age.sum(axis=1))[:, None]  # mid-year residents
    province_by_age = np.zeros((pack.n_regions, AGES))
    np.add.at(province_by_age, region, by_age)
    schedule = rogers_castro(np.arange(AGES), mp.rogers_castro_shape())
    between = move_probability_table(pack.migration_outflow_rate(mp.calibration_period), province_by_age, schedule)
    alone = np.bincount(region, minlength=pack.n_regions) == 1
    within_rate = np.where(alone, 0.0, municipal.within_province_rate * p.municipalities.between_municipality_share)
    within = move_probability_table(within_rate, province_by_age, schedule)
    flows = migration_2023(municipal, by_age, between, within, pack.international_net_migration(LAST_OBSERVED_YEAR))
    residents = by_band(by_age).T
    natural = table["births_2023"].to_numpy(float) - table["deaths_2023"].to_numpy(float) + flows.international
    out = flows.between_out.sum(axis=0) + flows.within_out.sum(axis=0)

    def mechanism(constant: np.ndarray) -> np.ndarray:
        share = destination_weights(region, constant, residents)
        return before + natural + expected_inflow(region, share, flows.between_in, flows.within_out) - out

    province_before = np.bincount(region, weights=before)[region]
    province_after = np.bincount(region, weights=after)[region]
    forecasts = {
        "no change": before,
        "provincial allocation": before / province_before * province_after,
        "municipal, no constants": mechanism(np.ones(len(region))),
        "municipal, fitted": mechanism(fit_destination_constants(region, residents, flows.inflow, flows.between_in, flows.within_out)),
    }
    detail = table[["municipality", "region", "municipality_name", "population_2022", "population_2023"]].assign(
        **{name: np.round(values) for name, values in forecasts.items()}
    )
    rows = []
    for name, forecast in forecasts.items():
        error = forecast - after
        rows.append(
            {
                "forecast": name,
                "mape_pct": 100 * np.mean(np.abs(error) / after),
                "misplaced_pct_of_population": 100 * np.abs(error).sum() / after.sum(),
                "direction_right_pct": 100 * np.mean(np.sign(forecast - before) == np.sign(after - before)),
            }
        )
    return pd.DataFrame(rows), detail
