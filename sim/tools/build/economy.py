"""Economy tables of the Korean region pack: labour force, establishments, GRDP, sector structure, R&D.

Raw inputs (all in ``shared/data``, described in its SOURCE.md):

- ``kr_province_deaths_tfr_eaps_2000_2023.csv`` — Economically Active Population Survey (EAPS), thousands
  → ``labour.csv``
- ``kr_province_population_age_sex_2011_2023.csv`` — registered population 15+, used to split Chungnam/Sejong
  EAPS before 2017
- ``kr_province_business_census_industry_2023.csv`` — Census on Establishments 2023 → ``establishments_2023.csv``
- ``kr_province_grdp_per_capita_1985_2021.csv`` and ``kr_province_grdp_industry_structure_2023.csv``
  (+ ``kr_province_population_estimate_projection_2000_2052.csv`` for 2023 per-capita figures) → ``grdp.csv``,
  ``grdp_sector_shares_2023.csv``
- ``kr_province_rnd_2019_2023.csv`` — R&D survey (MSIT) → ``rnd_2022.csv``

Every output row carries the 2-digit KOSIS province code as ``region``; the national row ``00`` is dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.errors import DataError

LABOUR_YEARS = range(2015, 2024)
GRDP_YEARS_OBSERVED = (2015, 2020, 2021)
GRDP_YEAR_LATEST = 2023
SEJONG, CHUNGNAM = "36", "44"
CAPITAL_REGION = ("11", "28", "41")
THOUSAND, BILLION, TRILLION = 1_000, 1_000_000_000, 1_000_000_000_000
TEN_THOUSAND_KRW = 10_000


def build(shared: Path, out: Path) -> None:
    """Write the five economy tables of the Korean region pack into ``out``."""
    regions = _province_codes(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "labour": labour(shared, regions),
        "establishments_2023": establishments(shared, regions),
        "grdp": grdp(shared, regions),
        "grdp_sector_shares_2023": grdp_sector_shares(shared, regions),
        "rnd_2022": rnd(shared, regions),
    }
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)


def labour(shared: Path, regions: list[str]) -> pd.DataFrame:
    """EAPS annual averages 2015–2023 in persons; Sejong 2015/2016 split out of Chungnam by 15+ population."""
    eaps = _read(shared / "kr_province_deaths_tfr_eaps_2000_2023.csv")
    eaps = eaps[eaps.region.isin(regions) & eaps.year.isin(LABOUR_YEARS)]
    eaps = eaps.rename(
        columns={
            "economically_active_thousand": "economically_active",
            "employed_thousand": "employed",
            "pop_15plus_thousand": "pop_15plus",
        }
    )
    counts = ["economically_active", "employed", "pop_15plus"]
    eaps = eaps[["region", "year", *counts]].copy()
    eaps[counts] = eaps[counts] * THOUSAND
    eaps["note"] = ""
    eaps = _split_sejong_from_chungnam(eaps, counts, _registered_15plus(shared))

    eaps["unemployed"] = eaps.economically_active - eaps.employed
    eaps["unemployment_rate"] = (eaps.unemployed / eaps.economically_active).round(4)
    table = eaps[["region", "year", "economically_active", "employed", "unemployed", "pop_15plus", "unemployment_rate", "note"]]
    _require_complete(table, regions, LABOUR_YEARS, "labour")
    return table.sort_values(["region", "year"]).reset_index(drop=True)


def _registered_15plus(shared: Path) -> pd.DataFrame:
    ages = _read(shared / "kr_province_population_age_sex_2011_2023.csv")
    adults = ages[(ages.sex == "Total") & ~ages.age_group.isin(["0-4", "5-9", "10-14"])]
    return adults.groupby(["region", "year"], as_index=False).population.sum()


def _split_sejong_from_chungnam(eaps: pd.DataFrame, counts: list[str], adults: pd.DataFrame) -> pd.DataFrame:
    """Before 2017 the EAPS Chungnam figure includes Sejong: share it out by registered population 15+."""
    eaps = eaps[~((eaps.region == SEJONG) & eaps[counts].isna().any(axis=1))]
    combined_years = sorted(set(LABOUR_YEARS) - set(eaps[eaps.region == SEJONG].year))
    adults = adults.set_index(["region", "year"]).population
    sejong_rows = []
    for year in combined_years:
        sejong_weight = adults[SEJONG, year] / (adults[SEJONG, year] + adults[CHUNGNAM, year])
        chungnam = (eaps.region == CHUNGNAM) & (eaps.year == year)
        combined = eaps.loc[chungnam, counts].iloc[0]
        sejong = (combined * sejong_weight).round()
        eaps.loc[chungnam, counts] = (combined - sejong).to_numpy()
        note = f"EAPS Chungnam incl. Sejong split by registered pop 15+ (Sejong weight {sejong_weight:.4f})"
        eaps.loc[chungnam, "note"] = note
        sejong_rows.append({"region": SEJONG, "year": year, **sejong.to_dict(), "note": note})
    eaps = pd.concat([eaps, pd.DataFrame(sejong_rows)], ignore_index=True)
    eaps[counts] = eaps[counts].astype("int64")
    return eaps


def establishments(shared: Path, regions: list[str]) -> pd.DataFrame:
    """Census on Establishments 2023: establishments and workers by province and KSIC section A–S."""
    census = _read(shared / "kr_province_business_census_industry_2023.csv")
    sections = census[(census.level == "section") & census.region.isin(regions)]
    table = sections.rename(columns={"ksic_code": "industry"})[["region", "industry", "establishments", "workers"]]
    return table.sort_values(["region", "industry"]).reset_index(drop=True)


def grdp(shared: Path, regions: list[str]) -> pd.DataFrame:
    """Nominal GRDP totals (KRW) for 2015, 2020, 2021 (derived) and 2023 (provisional, partly estimated)."""
    per_capita = _read(shared / "kr_province_grdp_per_capita_1985_2021.csv")
    observed = per_capita[per_capita.region.isin(regions) & per_capita.year.isin(GRDP_YEARS_OBSERVED)].copy()
    if observed.grdp_total_derived_billion_krw.isna().any():
        raise DataError("grdp: grdp_total_derived_billion_krw missing for some province-year")
    observed["grdp_krw"] = observed.grdp_total_derived_billion_krw * BILLION
    observed["source_note"] = "GRDP per capita x registered year-end population (KOSIS DT_1C86)"
    observed = observed[["region", "year", "grdp_krw", "source_note"]]
    grdp_2021 = observed[observed.year == 2021].set_index("region").grdp_krw
    latest = _grdp_2023(shared, regions, grdp_2021)
    table = pd.concat([observed, latest], ignore_index=True)
    table["grdp_krw"] = table.grdp_krw.round().astype("int64")
    return table.sort_values(["region", "year"]).reset_index(drop=True)


def _grdp_2023(shared: Path, regions: list[str], grdp_2021: pd.Series) -> pd.DataFrame:
    """2023 totals in order of evidence: published total; capital-region remainder (Incheon); published
    per-capita x KOSTAT 2023 population; else the 2021 total scaled so the 17 sum to the national headline."""
    structure = _read(shared / "kr_province_grdp_industry_structure_2023.csv")
    headline = structure[structure.sector_code == "TOTAL"]
    totals = headline[headline.metric == "grdp_nominal"].set_index("region").value * TRILLION
    per_capita = headline[headline.metric == "grdp_per_capita_nominal"].set_index("region").value * TEN_THOUSAND_KRW
    population = _read(shared / "kr_province_population_estimate_projection_2000_2052.csv")
    population = population[population.year == GRDP_YEAR_LATEST].set_index("region").pop_total

    rows: dict[str, tuple[float, str]] = {}
    for region in regions:
        if region in totals:
            rows[region] = (totals[region], "published provisional total (KOSTAT 2023 regional income, 2024-12-20)")
    missing_capital = [region for region in CAPITAL_REGION if region not in rows]
    if len(missing_capital) == 1:
        remainder = totals["CAP"] - sum(rows[region][0] for region in CAPITAL_REGION if region in rows)
        rows[missing_capital[0]] = (remainder, "capital-region published total minus Seoul and Gyeonggi (flagged)")
    for region in regions:
        if region not in rows and region in per_capita:
            rows[region] = (
                per_capita[region] * population[region],
                "published per-capita GRDP x KOSTAT 2023 projected mid-year population (flagged)",
            )
    scaled = [region for region in regions if region not in rows]
    residual = totals["00"] - sum(value for value, _ in rows.values())
    factor = residual / grdp_2021[scaled].sum()
    for region in scaled:
        rows[region] = (grdp_2021[region] * factor, f"2021 total x {factor:.4f} so the 17 sum to the 2023 national headline (flagged)")
    return pd.DataFrame(
        [{"region": region, "year": GRDP_YEAR_LATEST, "grdp_krw": value, "source_note": note} for region, (value, note) in rows.items()]
    )


def grdp_sector_shares(shared: Path, regions: list[str]) -> pd.DataFrame:
    """2023 nominal GVA share (fraction) of the 25 KOSIS GRDP activity groups, as published (sum 1 ± 0.0003)."""
    structure = _read(shared / "kr_province_grdp_industry_structure_2023.csv")
    shares = structure[(structure.metric == "share_of_gva_pct") & structure.region.isin(regions)].copy()
    shares["share"] = (shares.value / 100).round(6)
    table = shares[["region", "sector_code", "share"]]
    return table.sort_values(["region", "sector_code"]).reset_index(drop=True)


def rnd(shared: Path, regions: list[str]) -> pd.DataFrame:
    """Total R&D expenditure 2022 by province (KRW) and researchers (head count) where published.

    Start from the published 17-province shares × national total, then honour the published exact amounts:
    Busan, Daejeon and Gyeongnam are set to their amounts, and the other capital-region and non-capital
    provinces are scaled so that their groups add up to the published capital / non-capital totals.
    The 17 rows therefore sum to the national total.
    """
    survey = _read(shared / "kr_province_rnd_2019_2023.csv")
    year_2022 = survey[survey.year == 2022]
    shares = year_2022[year_2022.metric == "rnd_total_share_pct"].set_index("region").value / 100
    amounts = year_2022[year_2022.metric == "rnd_total_bn_krw"].set_index("region").value * BILLION
    exact = [region for region in regions if region in amounts]

    rd_krw = shares[regions] * amounts["00"]
    rd_krw[exact] = amounts[exact]
    for group, members in (("CAP", list(CAPITAL_REGION)), ("NONCAP", [region for region in regions if region not in CAPITAL_REGION])):
        free = [region for region in members if region not in exact]
        target = amounts[group] - rd_krw[[region for region in members if region in exact]].sum()
        rd_krw[free] *= target / rd_krw[free].sum()

    researchers = survey[survey.metric == "researchers"].pivot(index="region", columns="year", values="value")
    table = pd.DataFrame({"region": regions, "rd_krw": rd_krw[regions].round().astype("int64").to_numpy()})
    table["rd_source"] = ["published amount" if region in exact else "published share, scaled to group total" for region in regions]
    table["researchers"] = table.region.map(researchers[2022]).astype("Int64")
    table["researchers_2023"] = table.region.map(researchers[2023]).astype("Int64")
    return table


def _province_codes(out: Path) -> list[str]:
    regions = pd.read_csv(out / "regions.csv", dtype={"region": str})
    return sorted(regions.region)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"raw data file missing: {path}")
    return pd.read_csv(path, dtype={"region_code": str}).rename(columns={"region_code": "region"})


def _require_complete(table: pd.DataFrame, regions: list[str], years: range, name: str) -> None:
    expected = {(region, year) for region in regions for year in years}
    missing = expected - set(zip(table.region, table.year))
    if missing:
        raise DataError(f"{name}: missing province-years {sorted(missing)[:5]}")
