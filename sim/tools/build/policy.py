"""Policy targeting tables: how much of each province lies in the designated population-decline areas.

- ``population_decline_areas.csv``: region, decline_areas (count of si-gun-gu), decline_population
  (registered persons, 31 Dec 2023), population (province, same date), share (decline_population /
  population). From kr_population_decline_areas_89_2021.csv (the 89 areas designated by MOIS on
  2021-10-19, with 2024 MOIS codes) and kr_sigungu_registered_population_dec_2023.csv. Levers that
  target ``population_decline_areas`` act on provinces with a share above 0 and weight them by it,
  because the model's regions are provinces.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MOIS_TO_KOSIS = {"51": "42", "52": "45"}
"""Province codes that MOIS changed (Gangwon 2023-06, Jeonbuk 2024-01) back to the KOSIS codes."""


def build(shared: Path, out: Path) -> None:
    areas = pd.read_csv(shared / "kr_population_decline_areas_89_2021.csv", dtype=str)
    units = pd.read_csv(shared / "kr_sigungu_registered_population_dec_2023.csv", dtype={"mois_admin_code": str, "province_code": str})
    sigungu = units[units["level"] == "sigungu"].set_index("mois_admin_code")
    provinces = units[units["level"] == "sido"].assign(region=lambda t: t["province_code"].replace(MOIS_TO_KOSIS))
    # Jeonbuk's codes changed 45 -> 52 in January 2024, after the population date: look them up as 45.
    areas["code_dec_2023"] = areas["mois_admin_code_2024"].str.replace(r"^52", "45", regex=True)
    missing = sorted(set(areas["code_dec_2023"]) - set(sigungu.index))
    if missing:
        raise ValueError(f"decline areas without a 2023 population: {missing}")
    areas = areas.assign(
        region=areas["province_code_2024"].replace(MOIS_TO_KOSIS),
        persons=areas["code_dec_2023"].map(sigungu["registered_population"]),
    )
    table = (
        provinces.set_index("region")[["registered_population"]]
        .rename(columns={"registered_population": "population"})
        .join(areas.groupby("region").agg(decline_areas=("persons", "size"), decline_population=("persons", "sum")))
        .fillna({"decline_areas": 0, "decline_population": 0})
        .astype({"decline_areas": int, "decline_population": int})
        .reset_index()
        .sort_values("region")
    )
    table["share"] = (table["decline_population"] / table["population"]).round(6)
    table[["region", "decline_areas", "decline_population", "population", "share"]].to_csv(
        out / "population_decline_areas.csv", index=False
    )
