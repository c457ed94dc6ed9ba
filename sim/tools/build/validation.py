"""Validation targets: the official provincial projection and the observed annual populations.

- ``official_projection_2022based.csv``: region, year, population, persons_65_plus — KOSTAT 2022-based
  provincial projection, medium scenario, 2023–2052 (persons at 1 July, including foreigners), from
  kr_province_population_estimate_projection_2000_2052.csv (series = projection).
- ``population_annual.csv``: region, year, population — registered population at 31 December,
  2011–2023, from kr_province_population_annual_1992_2023.csv (for back-casts and naive forecasts).
- ``net_migration_annual.csv``: region, year, in_migrants, out_migrants, net_migration — inter-provincial
  moves per year 2011–2023 (persons), from kr_province_net_internal_migration_1970_2020.csv and its continuation
  …_2021_2023.csv (calibration targets of ``regsim calibrate``; observed nets of the migration back-test).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def build(shared: Path, out: Path) -> None:
    projection = pd.read_csv(shared / "kr_province_population_estimate_projection_2000_2052.csv", dtype={"region_code": str})
    projection = projection[(projection["region_code"] != "00") & (projection["year"] >= 2023)]
    projection = projection.rename(columns={"region_code": "region", "pop_total": "population", "pop_65plus": "persons_65_plus"})
    projection[["region", "year", "population", "persons_65_plus"]].to_csv(out / "official_projection_2022based.csv", index=False)

    annual = pd.read_csv(shared / "kr_province_population_annual_1992_2023.csv", dtype={"region_code": str})
    annual = annual[(annual["region_code"] != "00") & (annual["year"] >= 2011)]
    annual = annual.rename(columns={"region_code": "region"})
    annual[["region", "year", "population"]].to_csv(out / "population_annual.csv", index=False)

    net = pd.concat(
        [
            pd.read_csv(shared / f"kr_province_net_internal_migration_{years}.csv", dtype={"region_code": str})
            for years in ("1970_2020", "2021_2023")
        ]
    )
    net = net[net["year"] >= 2011].rename(
        columns={"region_code": "region", "in_migrants_interprovincial": "in_migrants", "out_migrants_interprovincial": "out_migrants"}
    )
    net[["region", "year", "in_migrants", "out_migrants", "net_migration"]].to_csv(out / "net_migration_annual.csv", index=False)
