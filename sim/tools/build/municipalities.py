"""Municipal tables: the 229 si-gun-gu, their start population by single age, fertility and 2023 change.

Raw inputs (``shared/data``, provenance in its SOURCE.md):

- ``kr_sigungu_code_crosswalk_2010_2023.csv`` — the 229 units (226 autonomous si/gun/gu, Sejong,
  Jeju-si, Seogwipo-si), 10-digit MOIS code of Dec 2023, English name.
- ``kr_sigungu_registered_population_dec_2022.csv`` and ``…_dec_2023.csv`` — registered population.
- ``kr_sigungu_residents_age10_sex_dec2023.csv`` — residents by 10-year age band and sex, Dec 2023.
- ``kr_sigungu_tfr_asfr_2010_2015_2020.csv`` — TFR by si-gun-gu (2020 used); provincial TFR 2020 from
  ``kr_province_deaths_tfr_eaps_2000_2023.csv``.
- ``kr_population_decline_areas_89_2021.csv`` — the 89 designated population-decline areas.
- ``kr_province_migration_od_2021_2023.csv`` — the 2023 diagonal (moves inside each province).

It also reads the packaged provincial tables (``population_2023``, ``fertility``, ``mortality``,
``mortality_region_factor``) so that municipal cells sum to the provincial ones exactly.
No municipal births, deaths or migration counts exist in the collection: net migration 2023 is a
residual (see :func:`municipality_table`). Outputs and checks are described in the
``## Municipal tables`` section written into ``PROVENANCE.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.tools.build import write_provenance_section

MAX_AGE = 100
SEXES = ("F", "M")
SEX_CODES = {"Female": "F", "Male": "M"}
BANDS = [(low, low + 9) for low in range(0, 100, 10)] + [(100, 100)]
BAND_LABELS = [f"{low}-{high}" for low, high in BANDS[:-1]] + ["100+"]
RESIDUAL_YEAR = 2023
TFR_YEAR = 2020
SECTION_HEADING = "## Municipal tables"


def build(shared: Path, out: Path) -> None:
    """Write ``municipalities.csv``, ``municipal_population_2023.csv`` and ``municipal_moves.csv`` into ``out``."""
    units = unit_table(shared, out)
    pyramid = municipal_pyramid(shared, out, units)
    pyramid.to_csv(out / "municipal_population_2023.csv", index=False)
    table = municipality_table(shared, out, units, pyramid)
    table.to_csv(out / "municipalities.csv", index=False)
    moves = within_province_moves(shared, out)
    moves.to_csv(out / "municipal_moves.csv", index=False)
    write_provenance_section(out / "PROVENANCE.md", SECTION_HEADING, _provenance(table, pyramid, units, moves))


def unit_table(shared: Path, out: Path) -> pd.DataFrame:
    """The 229 units in province order, then code: municipality, region, names, populations, decline flag."""
    crosswalk = pd.read_csv(shared / "kr_sigungu_code_crosswalk_2010_2023.csv", dtype=str)
    dec23 = pd.read_csv(shared / "kr_sigungu_registered_population_dec_2023.csv", dtype={"mois_admin_code": str, "province_code": str})
    dec22 = pd.read_csv(shared / "kr_sigungu_registered_population_dec_2022.csv", dtype={"sigungu_code": str})
    dec23 = dec23[dec23["level"] == "sigungu"].set_index("mois_admin_code")
    dec22 = dec22[dec22["level"] == "sigungu"].set_index("sigungu_code")
    areas = pd.read_csv(shared / "kr_population_decline_areas_89_2021.csv", dtype=str)
    # Jeonbuk's MOIS codes changed 45 -> 52 in January 2024, after the Dec-2023 population date.
    decline = set(areas["mois_admin_code_2024"].str.replace(r"^52", "45", regex=True))
    units = pd.DataFrame(
        {
            "municipality": crosswalk["sigungu_code"],
            "region": crosswalk["sigungu_code"].map(dec23["province_code"]),
            "municipality_name": crosswalk["name_en"],
            "municipality_name_ko": crosswalk["sigungu_code"].map(dec23["admin_name_ko"]),
            "population_2022": crosswalk["sigungu_code"].map(dec22["registered_population"]),
            "population_2023": crosswalk["sigungu_code"].map(dec23["registered_population"]),
        }
    )
    if units.isna().any().any() or len(units) != 229:
        raise ValueError("crosswalk and registered population files disagree on the 229 units")
    missing = sorted(decline - set(units["municipality"]))
    if missing:
        raise ValueError(f"decline areas without a Dec-2023 unit: {missing}")
    units["decline_area"] = units["municipality"].isin(decline).astype(int)
    order = {code: i for i, code in enumerate(pd.read_csv(out / "regions.csv", dtype=str)["region"])}
    units["_order"] = units["region"].map(order)
    return units.sort_values(["_order", "municipality"]).drop(columns="_order").reset_index(drop=True)


def municipal_pyramid(shared: Path, out: Path, units: pd.DataFrame) -> pd.DataFrame:
    """Persons by municipality, sex and single age at 31 Dec 2023, summing exactly to the provincial pyramid.

    Each provincial cell (sex, single age) is shared among the province's municipalities in proportion to
    their residents of that sex in the cell's 10-year band (the province's single-year profile inside each
    band), then raked (iterative proportional fitting) to the municipalities' registered totals, and rounded
    by largest remainder within every provincial cell.
    """
    residents = pd.read_csv(shared / "kr_sigungu_residents_age10_sex_dec2023.csv", dtype={"mois_admin_code": str})
    residents = residents[(residents["level"] == "sigungu") & residents["sex"].isin(SEX_CODES)]
    band_of_age = np.array([next(b for b, (low, high) in enumerate(BANDS) if low <= age <= high) for age in range(MAX_AGE + 1)])
    n = len(units)
    index = {code: i for i, code in enumerate(units["municipality"])}
    by_band = np.zeros((n, 2, len(BANDS)))
    by_band[
        residents["mois_admin_code"].map(index).to_numpy(int),
        residents["sex"].map(SEX_CODES).map(SEXES.index).to_numpy(int),
        residents["age_group_10yr"].map(BAND_LABELS.index).to_numpy(int),
    ] = residents["residents"].to_numpy(float)
    province = pd.read_csv(out / "population_2023.csv", dtype={"region": str})
    regions = sorted(set(units["region"]))
    cube = np.zeros((len(regions), 2, MAX_AGE + 1))
    cube[
        province["region"].map(regions.index).to_numpy(int), province["sex"].map(SEXES.index).to_numpy(int), province["age"].to_numpy(int)
    ] = province["persons"]
    region_of = units["region"].map(regions.index).to_numpy(int)
    share = by_band[:, :, band_of_age]  # [n, 2, 101]
    totals = units["population_2023"].to_numpy(float)
    persons = np.zeros_like(share)
    for _ in range(50):
        denominator = np.zeros_like(cube)
        np.add.at(denominator, region_of, share)
        persons = share * np.divide(cube, denominator, out=np.zeros_like(cube), where=denominator > 0)[region_of]
        share = share * (totals / persons.sum(axis=(1, 2)))[:, None, None]
    whole = np.floor(persons).astype(np.int64)
    remainder = persons - whole
    for r in range(len(regions)):
        members = np.flatnonzero(region_of == r)
        missing = (cube[r] - whole[members].sum(axis=0)).round().astype(int)  # [2, 101]
        rank = np.argsort(-remainder[members], axis=0, kind="stable")
        for s in range(2):
            for age in np.flatnonzero(missing[s]):
                whole[members[rank[: missing[s, age], s, age]], s, age] += 1
    m, s, a = np.indices(whole.shape)
    return pd.DataFrame(
        {
            "municipality": units["municipality"].to_numpy()[m.ravel()],
            "sex": np.array(SEXES)[s.ravel()],
            "age": a.ravel(),
            "persons": whole.ravel(),
        }
    )


def municipality_table(shared: Path, out: Path, units: pd.DataFrame, pyramid: pd.DataFrame) -> pd.DataFrame:
    """Units with fertility relative to their province and the residual net migration of 2023.

    ``fertility_relative`` = TFR 2020 of the unit ÷ official TFR 2020 of its province at the time (Gunwi:
    Gyeongbuk). Births 2023 = Σ_age women × provincial ASFR 2023 × fertility_relative, normalised so the
    province's births equal those of its own schedule; deaths 2023 = Σ persons × (1 − (1 − q_x)^factor) with
    the provincial mortality factor of 2023. Women and persons are the Dec-2023 cells scaled to the mean of
    the Dec-2022 and Dec-2023 totals. ``net_migration_2023`` = population change − births + deaths: the
    residual, including international moves (no municipal migration counts exist).
    """
    tfr = pd.read_csv(shared / "kr_sigungu_tfr_asfr_2010_2015_2020.csv", dtype={"sigungu_code": str, "province_code_at_year": str})
    tfr = tfr[(tfr["year"] == TFR_YEAR) & (tfr["level"] == "sigungu")].set_index("sigungu_code")
    provincial = pd.read_csv(shared / "kr_province_deaths_tfr_eaps_2000_2023.csv", dtype={"region_code": str})
    provincial_tfr = provincial[provincial["year"] == TFR_YEAR].set_index("region_code")["tfr_official"]
    table = units.copy()
    table["tfr_2020"] = table["municipality"].map(tfr["tfr"])
    table["fertility_relative"] = (table["tfr_2020"] / table["municipality"].map(tfr["province_code_at_year"]).map(provincial_tfr)).round(4)
    n = len(table)
    cells = pyramid["persons"].to_numpy(float).reshape(n, 2, MAX_AGE + 1)
    mean_scale = (table["population_2022"] + table["population_2023"]).to_numpy(float) / 2 / cells.sum(axis=(1, 2))
    cells = cells * mean_scale[:, None, None]
    fertility = pd.read_csv(out / "fertility.csv", dtype={"region": str})
    fertility = fertility[fertility["year"] == RESIDUAL_YEAR]
    asfr = (
        fertility.pivot(index="region", columns="mother_age", values="asfr").reindex(columns=range(MAX_AGE + 1), fill_value=0.0).fillna(0.0)
    )
    own = asfr.loc[table["region"]].to_numpy() * cells[:, 0, :]
    relative = own * table["fertility_relative"].to_numpy()[:, None]
    norm = (
        pd.Series(own.sum(axis=1)).groupby(table["region"].to_numpy()).sum()
        / pd.Series(relative.sum(axis=1)).groupby(table["region"].to_numpy()).sum()
    )
    births = relative.sum(axis=1) * table["region"].map(norm).to_numpy()
    mortality = pd.read_csv(out / "mortality.csv")
    qx = np.zeros((2, MAX_AGE + 1))
    rows = mortality[mortality["year"] == RESIDUAL_YEAR]
    qx[rows["sex"].map(SEXES.index).to_numpy(int), rows["age"].to_numpy(int)] = rows["qx"]
    factors = pd.read_csv(out / "mortality_region_factor.csv", dtype={"region": str})
    factor = table["region"].map(factors[factors["year"] == RESIDUAL_YEAR].set_index("region")["factor"]).to_numpy()
    deaths = (cells * (1.0 - (1.0 - qx)[None] ** factor[:, None, None])).sum(axis=(1, 2))
    table["births_2023"] = births.round(1)
    table["deaths_2023"] = deaths.round(1)
    table["net_migration_2023"] = (table["population_2023"] - table["population_2022"] - births + deaths).round(1)
    return table


def within_province_moves(shared: Path, out: Path) -> pd.DataFrame:
    """Moves inside each province in 2023 (the O-D diagonal: between and within its municipalities) per
    resident at 31 Dec 2022."""
    od = pd.read_csv(shared / "kr_province_migration_od_2021_2023.csv", dtype={"origin_code": str, "dest_code": str})
    diagonal = od[(od["year"] == RESIDUAL_YEAR) & (od["within_province"] == 1)].set_index("origin_code")["flow"]
    annual = pd.read_csv(out / "population_annual.csv", dtype={"region": str})
    base = annual[annual["year"] == RESIDUAL_YEAR - 1].set_index("region")
    regions = pd.read_csv(out / "regions.csv", dtype=str)["region"]
    table = pd.DataFrame(
        {
            "region": regions,
            "within_province_movers": regions.map(diagonal).to_numpy(),
            "population_2022": regions.map(base["population"]).to_numpy(),
        }
    )
    table["within_province_rate"] = (table["within_province_movers"] / table["population_2022"]).round(6)
    return table


def _provenance(table: pd.DataFrame, pyramid: pd.DataFrame, units: pd.DataFrame, moves: pd.DataFrame) -> str:
    cells = pyramid.groupby("municipality")["persons"].sum().reindex(units["municipality"]).to_numpy()
    gap = np.abs(cells - units["population_2023"].to_numpy())
    spread = table["fertility_relative"].describe()
    return f"""{SECTION_HEADING}

Built by `sim/tools/build/municipalities.py`. Municipality = 10-digit MOIS code of Dec 2023 (the 229 units of
`kr_sigungu_code_crosswalk_2010_2023.csv`); region = KOSIS province code (Gangwon 42, Jeonbuk 45; Gunwi-gun in Daegu 27).
Rows are in province order (regions.csv), then code: this order is the municipality index of the model.

- `municipalities.csv` — municipality, region, municipality_name, municipality_name_ko, population_2022, population_2023
  (registered, 31 Dec), decline_area (1 for the 89 areas designated 2021-10-19), tfr_2020, fertility_relative (TFR 2020 ÷ the
  official TFR 2020 of the province it then belonged to; min {spread["min"]:.3f}, median {spread["50%"]:.3f}, max {spread["max"]:.3f}),
  births_2023 and deaths_2023 (estimated, see below), net_migration_2023 = population change − births + deaths.
  No municipal births, deaths or migration counts were found (SOURCE.md, Gaps): births are the provincial ASFR 2023 × the
  relative fertility × women by age, normalised so each province's births equal its own schedule's; deaths the provincial
  q_x 2023 with the province's mortality factor on the municipal age structure (cells scaled to the mean of the Dec-2022 and
  Dec-2023 totals). Net migration is therefore a RESIDUAL, including international moves and registration corrections.
  Sum of net_migration_2023: {table["net_migration_2023"].sum():,.0f} persons.
- `municipal_population_2023.csv` — municipality, sex, age, persons at 31 Dec 2023. Each provincial cell of
  `population_2023.csv` is shared among the province's municipalities by their residents of that sex in the cell's 10-year
  band (`kr_sigungu_residents_age10_sex_dec2023.csv`, residents ≈ 0.5 % below registered), i.e. the province's single-year
  profile inside every band; raked to the registered municipal totals (50 IPF passes), rounded by largest remainder inside each
  provincial cell. Checks: every provincial cell is reproduced exactly; municipal totals differ from the registered ones by
  at most {gap.max():.0f} persons (mean {gap.mean():.1f}).
- `municipal_moves.csv` — region, within_province_movers (2023 O-D diagonal, `kr_province_migration_od_2021_2023.csv`: moves
  between AND within the province's municipalities), population_2022 (`population_annual.csv`), within_province_rate
  (movers per resident). The model scales it by `municipalities.between_municipality_share` (parameters.yaml, an assumption:
  the share of within-province moves that cross a municipal boundary). National diagonal 2023:
  {moves["within_province_movers"].sum():,.0f} movers.
"""
