"""Demography tables: population by single age, fertility, mortality, TFR path, international migration.

Raw inputs (all in ``shared/data``, provenance in its SOURCE.md):

- ``kr_province_population_age_sex_2011_2023.csv`` — registered population by 5-year group, sex, 31 Dec.
- ``kr_province_population_annual_1992_2023.csv`` — registered population totals (national row "00").
- ``kr_province_births_by_mother_age_1991_2023.csv`` — live births by mother's age group.
- ``kr_province_deaths_tfr_eaps_2000_2023.csv`` — deaths and births by province and year.
- ``kr_life_table_kostat_qx_2010_2018.csv`` — KOSTAT single-age q(x), 2010 and 2018.
- ``kr_life_expectancy_1970_2023.csv`` — e0 both sexes 1970–2023, by sex for 2023.
- ``kr_national_projection_2022based_2022_2072.csv`` — KOSTAT 2022-based projection, medium scenario.

Every output table and its checks are described in the ``## Demography tables`` section that
:func:`build` writes into ``PROVENANCE.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq

from sim.inputs.parameters import default_parameters
from sim.model.mechanisms.demography import labour_migration_age_profile
from sim.tools.build import write_provenance_section

MAX_AGE = 100
SEXES = ("F", "M")
SEX_CODES = {"Female": "F", "Male": "M"}
FIVE_YEAR_GROUPS = [f"{lo}-{lo + 4}" for lo in range(0, MAX_AGE, 5)]
OPEN_GROUP = "100+"
MOTHER_AGE_GROUPS = [f"{lo}-{lo + 4}" for lo in range(15, 50, 5)]
FERTILE_AGES = range(15, 50)
POPULATION_YEARS = (2015, 2020, 2021, 2023)  # 2021: origin of the migration back-test
FERTILITY_YEARS = range(2012, 2024)
MORTALITY_YEARS = range(2010, 2073)
OBSERVED_MORTALITY_END = 2023
REGION_FACTOR_YEARS = range(2012, 2024)
MIGRATION_RESIDUAL_YEARS = range(2015, 2024)
TFR_PATH_YEARS = range(2023, 2073)
BASE_LIFE_TABLE_YEAR = 2018
OPEN_AGE_LIFE_EXPECTANCY = 2.0  # e100 in years, the convention SOURCE.md uses to recompute KOSTAT e0
SEJONG = "36"
SEJONG_FIRST_YEAR = 2012
SECTION_HEADING = "## Demography tables"


def build(shared: Path, out: Path) -> None:
    """Read the raw CSVs in ``shared`` and write the demography tables and provenance into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    single_age = single_year_population(_read(shared, "kr_province_population_age_sex_2011_2023.csv"))
    checks: dict[str, str] = {}

    for year in POPULATION_YEARS:
        table = single_age[single_age["year"] == year].drop(columns="year")
        table.to_csv(out / f"population_{year}.csv", index=False)
    checks["population"] = _population_checks(shared, single_age)

    fertility = fertility_table(shared, single_age)
    fertility.to_csv(out / "fertility.csv", index=False)
    checks["fertility"] = _fertility_checks(shared, fertility, single_age)

    tfr_path = tfr_path_table(shared)
    tfr_path.to_csv(out / "tfr_path.csv", index=False)
    checks["tfr_path"] = (
        f"{int(tfr_path['interpolated'].sum())} of {len(tfr_path)} years interpolated; "
        f"TFR 2023 {_at(tfr_path, 2023, 'tfr'):.2f}, 2025 {_at(tfr_path, 2025, 'tfr'):.2f}, "
        f"2040 {_at(tfr_path, 2040, 'tfr'):.3f}, 2072 {_at(tfr_path, 2072, 'tfr'):.2f}."
    )

    targets = e0_targets(shared)
    mortality = mortality_table(shared, targets)
    mortality.to_csv(out / "mortality.csv", index=False)
    checks["mortality"] = _mortality_checks(mortality, targets)

    region_factor = mortality_region_factor_table(shared, mortality, single_age)
    region_factor.to_csv(out / "mortality_region_factor.csv", index=False)
    checks["region_factor"] = _region_factor_checks(shared, mortality, single_age, region_factor)

    migration = international_migration_table(shared, single_age, fertility, tfr_path, mortality)
    migration.to_csv(out / "international_migration.csv", index=False)
    implied = implied_projection_migration(shared, single_age, fertility, tfr_path, mortality)
    checks["migration"] = _migration_checks(shared, migration, implied)

    write_provenance_section(out / "PROVENANCE.md", SECTION_HEADING, _provenance_text(checks))


def _read(shared: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(shared / name, dtype={"region_code": str})


def _at(table: pd.DataFrame, year: int, column: str) -> float:
    return float(table.loc[table["year"] == year, column].iloc[0])


# --- population by single year of age -------------------------------------------------------


def single_year_population(raw: pd.DataFrame) -> pd.DataFrame:
    """Split 5-year groups into single ages 0..100 (100 = 100+), integer and mass-preserving per group.

    The cumulative count is interpolated monotonically (PCHIP) at the group boundaries 0, 5, …, 100;
    the differences give smooth single-year counts, which are rounded per group by largest remainder so
    each group's integer sum equals the source exactly. The 100+ group goes to age 100 unchanged.
    """
    data = raw[raw["sex"].isin(SEX_CODES) & raw["population"].notna()].copy()
    data["sex"] = data["sex"].map(SEX_CODES)
    wide = data.pivot_table(index=["region_code", "year", "sex"], columns="age_group", values="population", aggfunc="sum")
    groups = wide[FIVE_YEAR_GROUPS].to_numpy(dtype=float)
    boundaries = np.arange(0, MAX_AGE + 1, 5)
    cumulative = np.concatenate([np.zeros((len(groups), 1)), np.cumsum(groups, axis=1)], axis=1)
    smooth_cumulative = PchipInterpolator(boundaries, cumulative, axis=1)(np.arange(MAX_AGE + 1))
    smooth = np.clip(np.diff(smooth_cumulative, axis=1), 0.0, None)
    single = np.concatenate([_largest_remainder(smooth.reshape(len(groups), -1, 5), groups), wide[[OPEN_GROUP]].to_numpy()], axis=1).astype(
        np.int64
    )
    ages = pd.Index(np.arange(MAX_AGE + 1), name="age")
    table = pd.DataFrame(single, index=wide.index, columns=ages).stack().rename("persons").reset_index()
    table = table.rename(columns={"region_code": "region"})[["year", "region", "sex", "age", "persons"]]
    return table.sort_values(["year", "region", "sex", "age"]).reset_index(drop=True)


def _largest_remainder(shares: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integer split of ``totals[n, g]`` in proportion to ``shares[n, g, k]``; returns ``[n, g*k]``."""
    weights = shares / np.where(shares.sum(axis=2, keepdims=True) > 0, shares.sum(axis=2, keepdims=True), 1)
    exact = weights * totals[:, :, None]
    floors = np.floor(exact)
    missing = np.rint(totals - floors.sum(axis=2)).astype(int)
    rank = np.argsort(np.argsort(-(exact - floors), axis=2, kind="stable"), axis=2)
    rounded = floors + (rank < missing[:, :, None])
    return rounded.reshape(len(totals), -1)


def _female_by_group(single_age: pd.DataFrame) -> pd.DataFrame:
    """Women by region, year and 5-year mother-age group (31 Dec)."""
    women = single_age[(single_age["sex"] == "F") & single_age["age"].isin(FERTILE_AGES)].copy()
    women["group"] = [MOTHER_AGE_GROUPS[(age - 15) // 5] for age in women["age"]]
    return women.groupby(["region", "year", "group"])["persons"].sum()


def _population_checks(shared: Path, single_age: pd.DataFrame) -> str:
    annual = _read(shared, "kr_province_population_annual_1992_2023.csv")
    annual = annual[annual["region_code"] != "00"].set_index(["region_code", "year"])["population"]
    totals = single_age.groupby(["region", "year"])["persons"].sum()
    differences = (totals - annual.reindex(totals.index)).abs()
    national = {year: int(totals.xs(year, level="year").sum()) for year in POPULATION_YEARS}
    return (
        "sum over sex and single ages equals the annual registered total for every region-year 2011–2023 "
        f"(max abs difference {int(differences.max())}); national "
        + ", ".join(f"{year} {persons:,}" for year, persons in national.items())
        + "; per region × sex × 5-year group the single-year integers sum exactly to the source (by construction)."
    )


# --- fertility ------------------------------------------------------------------------------


def births_by_group(shared: Path) -> pd.DataFrame:
    """Births by province, year and mother-age group 15-19..45-49 (<15, 50+ and unknown folded in)."""
    raw = _read(shared, "kr_province_births_by_mother_age_1991_2023.csv")
    raw = raw[raw["region_code"] != "00"]
    wide = raw.pivot_table(index=["region_code", "year"], columns="mother_age_group", values="births", aggfunc="sum")
    wide["15-19"] += wide["<15"]
    wide["45-49"] += wide["50+"]
    known = wide[MOTHER_AGE_GROUPS]
    with_unknown = known.mul((known.sum(axis=1) + wide["unknown"]) / known.sum(axis=1), axis=0)
    long = with_unknown.stack().rename("births").reset_index()
    long.columns = ["region", "year", "group", "births"]
    return long


def fertility_table(shared: Path, single_age: pd.DataFrame) -> pd.DataFrame:
    """Single-year ASFR (births per woman per year), provinces, 2012–2023.

    Group rate = births / mean(women in the group at 31 Dec t-1 and t); every single age in the group
    gets the group rate, so TFR = 5 × Σ group rates is preserved exactly. Sejong 2012 has no 31 Dec 2011
    population, so its denominator is the 31 Dec 2012 count alone.
    """
    women = _female_by_group(single_age)
    births = births_by_group(shared)
    births = births[births["year"].isin(FERTILITY_YEARS)].copy()
    end = women.reindex(pd.MultiIndex.from_frame(births[["region", "year", "group"]])).to_numpy()
    start_index = pd.MultiIndex.from_arrays([births["region"], births["year"] - 1, births["group"]])
    start = women.reindex(start_index).to_numpy()
    births["rate"] = births["births"].to_numpy() / np.nanmean(np.vstack([start, end]), axis=0)
    rows = [
        (region, year, age, rate)
        for region, year, group, rate in births[["region", "year", "group", "rate"]].itertuples(index=False)
        for age in range(int(group[:2]), int(group[:2]) + 5)
    ]
    table = pd.DataFrame(rows, columns=["region", "year", "mother_age", "asfr"]).round({"asfr": 9})
    return table.sort_values(["region", "year", "mother_age"]).reset_index(drop=True)


def _fertility_checks(shared: Path, fertility: pd.DataFrame, single_age: pd.DataFrame) -> str:
    tfr = fertility.groupby(["region", "year"])["asfr"].sum()
    derived = _read(shared, "kr_province_tfr_derived_2012_2023.csv")
    derived = derived[derived["region_code"] != "00"].set_index(["region_code", "year"])["tfr_derived"]
    difference = (tfr - derived.reindex(tfr.index)).abs()
    national = _national_tfr(shared, single_age)
    tfr_2023 = tfr.xs(2023, level="year")
    official = _read(shared, "kr_province_deaths_tfr_eaps_2000_2023.csv").set_index(["region_code", "year"])
    return (
        f"TFR (Σ single-year ASFR) equals kr_province_tfr_derived_2012_2023.csv for all {len(tfr)} province-years "
        f"within {difference.max():.4f}: the derived file is rounded to 3 decimals and leaves births of unknown "
        "mother age out (they are ≤0.2 % of births; largest gap Chungnam 2016). National TFR from the same "
        f"derivation: 2015 {national[2015]:.3f}, 2020 {national[2020]:.3f}, 2023 {national[2023]:.3f} "
        f"(official {official.loc[('00', 2015), 'tfr_official']}, {official.loc[('00', 2020), 'tfr_official']}, "
        f"{official.loc[('00', 2023), 'tfr_official']}). Province TFR 2023 ranges "
        f"{tfr_2023.min():.3f} (region {tfr_2023.idxmin()}) – {tfr_2023.max():.3f} (region {tfr_2023.idxmax()})."
    )


def _national_tfr(shared: Path, single_age: pd.DataFrame) -> dict[int, float]:
    """National TFR with the fertility-table derivation (births and women summed over provinces)."""
    women = _female_by_group(single_age)
    national_women = women.groupby(["year", "group"]).sum()
    births = births_by_group(shared).groupby(["year", "group"])["births"].sum()
    result = {}
    for year in FERTILITY_YEARS:
        mean_women = (national_women.xs(year - 1) + national_women.xs(year)) / 2
        result[year] = float(5 * (births.xs(year) / mean_women).sum())
    return result


# --- TFR path -------------------------------------------------------------------------------


def _projection(shared: Path, metric: str) -> pd.Series:
    raw = _read(shared, "kr_national_projection_2022based_2022_2072.csv")
    rows = raw[(raw["scenario"] == "medium") & (raw["metric"] == metric)]
    return rows.set_index("year")["value"].astype(float).sort_index()


def _interpolate(given: pd.Series, years: range) -> pd.DataFrame:
    """Values at ``years``: given ones as published, the rest linear between neighbouring given years."""
    values = np.interp(list(years), given.index.to_numpy(), given.to_numpy())
    return pd.DataFrame({"year": list(years), "value": values, "interpolated": [y not in given.index for y in years]})


def tfr_path_table(shared: Path) -> pd.DataFrame:
    """KOSTAT 2022-based medium TFR assumption, 2023–2072; missing years linearly interpolated and flagged."""
    path = _interpolate(_projection(shared, "tfr_assumption"), TFR_PATH_YEARS)
    return path.rename(columns={"value": "tfr"})[["year", "tfr", "interpolated"]]


# --- mortality ------------------------------------------------------------------------------


def life_expectancy(qx: np.ndarray) -> float:
    """e0 (years) from single-age q(x), ages 0..100: a(x)=0.5 below 100, open group L100 = e100 · l100."""
    survivors = np.concatenate([[1.0], np.cumprod(1 - qx[:-1])])
    person_years = survivors[:MAX_AGE] * (1 - 0.5 * qx[:MAX_AGE])
    return float(person_years.sum() + survivors[MAX_AGE] * OPEN_AGE_LIFE_EXPECTANCY)


def scale_hazard(qx: np.ndarray, multiplier: float) -> np.ndarray:
    """Proportional hazards: q' = 1 - (1-q)^multiplier below the open age; q(100) stays 1."""
    scaled = 1 - (1 - qx) ** multiplier
    scaled[MAX_AGE] = 1.0
    return scaled


def base_qx(shared: Path) -> dict[str, np.ndarray]:
    """KOSTAT 2018 q(x) by sex, ages 0..100."""
    raw = _read(shared, "kr_life_table_kostat_qx_2010_2018.csv")
    return {
        code: raw[(raw["year"] == BASE_LIFE_TABLE_YEAR) & (raw["sex"] == name)].sort_values("age")["qx"].to_numpy()
        for name, code in SEX_CODES.items()
    }


def e0_targets(shared: Path) -> pd.DataFrame:
    """e0 target by year (2010–2072) and sex, with the kind of each value.

    By-sex anchors: 2010 and 2018 from the KOSTAT q(x) tables, 2022 from the projection's base year,
    2023 from the 2023 life table release. Other years to 2023: the observed both-sex e0 ± half the
    female–male gap, the gap linearly interpolated between anchors (both-sex e0 ≈ mean of the sexes
    within 0.05 in every anchor year). 2024–2072: linear from the 2023 anchor to the 2072 projection.
    """
    qx_tables = _read(shared, "kr_life_table_kostat_qx_2010_2018.csv")
    anchors: dict[str, dict[int, float]] = {code: {} for code in SEXES}
    for (year, name), rows in qx_tables.groupby(["year", "sex"]):
        anchors[SEX_CODES[name]][int(year)] = life_expectancy(rows.sort_values("age")["qx"].to_numpy())
    for code, name in (("F", "female"), ("M", "male")):
        anchors[code][2022] = float(_projection(shared, f"e0_{name}").loc[2022])
    observed = _read(shared, "kr_life_expectancy_1970_2023.csv")
    observed = observed[(observed["region_code"] == "00") & (observed["measure"] == "e0")]
    for name, code in SEX_CODES.items():
        anchors[code][OBSERVED_MORTALITY_END] = float(
            observed[(observed["year"] == OBSERVED_MORTALITY_END) & (observed["sex"] == name)]["value"].iloc[0]
        )
    both_sexes = observed[observed["sex"] == "Total"].set_index("year")["value"]
    anchor_years = sorted(anchors["F"])
    gap = np.interp(list(MORTALITY_YEARS), anchor_years, [anchors["F"][y] - anchors["M"][y] for y in anchor_years])
    final = {"F": float(_projection(shared, "e0_female").loc[2072]), "M": float(_projection(shared, "e0_male").loc[2072])}
    rows = []
    for index, year in enumerate(MORTALITY_YEARS):
        for code, sign in (("F", 1), ("M", -1)):
            if year in anchors[code]:
                rows.append((year, code, anchors[code][year], "observed by sex"))
            elif year <= OBSERVED_MORTALITY_END:
                rows.append((year, code, both_sexes.loc[year] + sign * gap[index] / 2, "both-sex observed ± interpolated gap"))
            else:
                start = anchors[code][OBSERVED_MORTALITY_END]
                share = (year - OBSERVED_MORTALITY_END) / (2072 - OBSERVED_MORTALITY_END)
                kind = "projection" if year == 2072 else "interpolated to projection"
                rows.append((year, code, start + share * (final[code] - start), kind))
    return pd.DataFrame(rows, columns=["year", "sex", "e0_target", "target_kind"])


def mortality_table(shared: Path, targets: pd.DataFrame) -> pd.DataFrame:
    """Single-age q(x) by year and sex: the 2018 KOSTAT schedule, hazard-scaled to each year's e0 target."""
    base = base_qx(shared)
    frames = []
    for year, sex, target, kind in targets.itertuples(index=False):
        multiplier = brentq(lambda k, qx, e0: life_expectancy(scale_hazard(qx, k)) - e0, 0.01, 20.0, args=(base[sex], target), xtol=1e-12)
        frames.append(
            pd.DataFrame(
                {
                    "year": year,
                    "sex": sex,
                    "age": np.arange(MAX_AGE + 1),
                    "qx": scale_hazard(base[sex], multiplier).round(10),
                    "interpolated": kind not in ("observed by sex", "projection"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def qx_array(mortality: pd.DataFrame, year: int) -> np.ndarray:
    """q(x) of one year as an array [sex (0=F, 1=M), age 0..100]."""
    rows = mortality[mortality["year"] == year]
    return np.vstack([rows[rows["sex"] == sex].sort_values("age")["qx"].to_numpy() for sex in SEXES])


def _mortality_checks(mortality: pd.DataFrame, targets: pd.DataFrame) -> str:
    achieved = {
        (year, sex): life_expectancy(rows.sort_values("age")["qx"].to_numpy()) for (year, sex), rows in mortality.groupby(["year", "sex"])
    }
    error = max(abs(achieved[(y, s)] - t) for y, s, t, _ in targets.itertuples(index=False))
    show = [
        (2010, "M"),
        (2010, "F"),
        (2018, "M"),
        (2018, "F"),
        (2023, "M"),
        (2023, "F"),
        (2050, "M"),
        (2050, "F"),
        (2072, "M"),
        (2072, "F"),
    ]
    return (
        f"e0 recomputed from the table hits every target within {error:.1e} years: "
        + ", ".join(f"{year} {sex} {achieved[(year, sex)]:.2f}" for year, sex in show)
        + ". q(x) < 1 below age 100 in every year (max q99 "
        f"{mortality[mortality['age'] == MAX_AGE - 1]['qx'].max():.3f})."
    )


def _population_array(single_age: pd.DataFrame, year: int, regions: list[str]) -> np.ndarray:
    """Population at 31 Dec of ``year`` as [region, sex, age]."""
    rows = single_age[single_age["year"] == year]
    cube = rows.pivot_table(index=["region", "sex"], columns="age", values="persons", aggfunc="sum")
    cube = cube.reindex(pd.MultiIndex.from_product([regions, SEXES]))
    return cube.to_numpy(dtype=float, copy=True).reshape(len(regions), len(SEXES), MAX_AGE + 1)


def _expected_deaths(mortality: pd.DataFrame, single_age: pd.DataFrame, year: int, regions: list[str]) -> np.ndarray:
    """Σ national q(x, year) × population at 31 Dec year-1 (Sejong 2012: 31 Dec 2012), per region."""
    start = _population_array(single_age, year - 1, regions)
    if year == SEJONG_FIRST_YEAR:
        sejong = regions.index(SEJONG)
        start[sejong] = _population_array(single_age, year, regions)[sejong]
    return np.einsum("rsa,sa->r", start, qx_array(mortality, year))


def _deaths(shared: Path) -> pd.Series:
    raw = _read(shared, "kr_province_deaths_tfr_eaps_2000_2023.csv")
    return raw.set_index(["region_code", "year"])["deaths"]


def mortality_region_factor_table(shared: Path, mortality: pd.DataFrame, single_age: pd.DataFrame) -> pd.DataFrame:
    """Standardised mortality ratio per province and year: observed deaths / expected at national q(x)."""
    deaths = _deaths(shared)
    regions = sorted(single_age["region"].unique())
    rows = []
    for year in REGION_FACTOR_YEARS:
        expected = _expected_deaths(mortality, single_age, year, regions)
        rows += [(region, year, deaths.loc[(region, year)] / expected[i]) for i, region in enumerate(regions)]
    return pd.DataFrame(rows, columns=["region", "year", "factor"]).round({"factor": 6})


def _region_factor_checks(shared: Path, mortality: pd.DataFrame, single_age: pd.DataFrame, region_factor: pd.DataFrame) -> str:
    deaths = _deaths(shared)
    regions = sorted(single_age["region"].unique())
    national = {
        year: deaths.loc[("00", year)] / _expected_deaths(mortality, single_age, year, regions).sum() for year in REGION_FACTOR_YEARS
    }
    factor_2023 = region_factor[region_factor["year"] == 2023].set_index("region")["factor"]
    return (
        "national observed/expected deaths (all provinces pooled): "
        + ", ".join(f"{year} {ratio:.3f}" for year, ratio in national.items())
        + f". Factor range over all province-years {region_factor['factor'].min():.3f}–{region_factor['factor'].max():.3f}; "
        f"2023: lowest {factor_2023.idxmin()} {factor_2023.min():.3f}, highest {factor_2023.idxmax()} {factor_2023.max():.3f}."
    )


# --- international migration ----------------------------------------------------------------


def migration_residual(shared: Path) -> pd.Series:
    """National pop(t) − pop(t−1) − births(t) + deaths(t) in the registered data, persons, 2015–2023."""
    population = _read(shared, "kr_province_population_annual_1992_2023.csv")
    population = population[population["region_code"] == "00"].set_index("year")["population"]
    vital = _read(shared, "kr_province_deaths_tfr_eaps_2000_2023.csv")
    vital = vital[vital["region_code"] == "00"].set_index("year")
    years = list(MIGRATION_RESIDUAL_YEARS)
    residual = [population.loc[y] - population.loc[y - 1] - vital.loc[y, "births"] + vital.loc[y, "deaths"] for y in years]
    return pd.Series(residual, index=years, dtype=np.int64)


def international_migration_table(
    shared: Path, single_age: pd.DataFrame, fertility: pd.DataFrame, tfr_path: pd.DataFrame, mortality: pd.DataFrame
) -> pd.DataFrame:
    """Net international migration (persons/year): registered-data residual to 2023, then the
    path implied by KOSTAT's national projection (see ``implied_projection_migration``)."""
    residual = migration_residual(shared)
    implied = implied_projection_migration(shared, single_age, fertility, tfr_path, mortality)
    return pd.concat(
        [
            pd.DataFrame({"year": residual.index, "net_persons": residual.to_numpy(), "source": "registered residual"}),
            implied[["year", "net_persons"]].assign(source="implied by KOSTAT 2022-based national projection (medium)"),
        ],
        ignore_index=True,
    )


def implied_projection_migration(
    shared: Path, single_age: pd.DataFrame, fertility: pd.DataFrame, tfr_path: pd.DataFrame, mortality: pd.DataFrame
) -> pd.DataFrame:
    """Yearly net international migration implied by the official national projection, 2024–2072.

    KOSTAT publishes the national population for every year but net international migration only
    for 2022 and 2072. A deterministic national cohort-component projection from the registered
    31 Dec 2023 population with the same fertility (2023 age pattern scaled to the official TFR
    path) and mortality (mortality.csv) gives births and deaths; migration in calendar year t is
    the official population change centred on t (mean of the mid-year changes t−1→t and t→t+1)
    minus that natural change. Migrants enter with the model's assumed age–sex profile, so their
    later births and deaths are counted. Returns year, net_persons, births, deaths.
    """
    official = _projection(shared, "pop_total")
    dp = default_parameters().demography
    profile = labour_migration_age_profile(
        dp.international_migrant_male_share,
        dp.international_migrant_peak_location,
        dp.international_migrant_rise_rate,
        dp.international_migrant_fall_rate,
        dp.international_migrant_child_level,
        dp.international_migrant_constant_level,
    )
    population = np.zeros((2, 101))
    start = single_age[single_age["year"] == 2023].groupby(["sex", "age"])["persons"].sum()
    for (sex, age), persons in start.items():
        population["FM".index(sex), age] = persons
    women_by_region = single_age[(single_age["year"] == 2023) & (single_age["sex"] == "F")]
    rates = fertility[fertility["year"] == 2023].merge(women_by_region, left_on=["region", "mother_age"], right_on=["region", "age"])
    national_asfr = np.zeros(101)
    grouped = rates.assign(births=rates["asfr"] * rates["persons"]).groupby("mother_age")[["births", "persons"]].sum()
    national_asfr[grouped.index.to_numpy(int)] = (grouped["births"] / grouped["persons"]).to_numpy()
    tfr = tfr_path.set_index("year")["tfr"]
    male_share = dp.sex_ratio_at_birth / (100 + dp.sex_ratio_at_birth)
    rows = []
    for year in range(2024, 2073):
        qx = qx_array(mortality, year)
        births = float((national_asfr * tfr.loc[year] / national_asfr.sum() * population[0]).sum())
        deaths = float((qx * population).sum())
        ahead = official.get(year + 1, official[year] + (official[year] - official[year - 1]))
        change = (ahead - official[year - 1]) / 2
        migrants = change - (births - deaths)
        survivors = population * (1 - qx)
        population = np.zeros_like(population)
        population[:, 1:] = survivors[:, :-1]
        population[:, 100] += survivors[:, 100]
        population[:, 0] = births * np.array([1 - male_share, male_share])
        population += migrants * profile
        rows.append({"year": year, "net_persons": int(round(migrants)), "births": round(births), "deaths": round(deaths)})
    return pd.DataFrame(rows)


def _migration_checks(shared: Path, migration: pd.DataFrame, implied: pd.DataFrame) -> str:
    residual = migration_residual(shared)
    published = _projection(shared, "net_international_migration")
    births = _projection(shared, "births")
    implied = implied.set_index("year")
    return (
        "registered residual (persons): "
        + ", ".join(f"{year} {value:+,}" for year, value in residual.items())
        + ". Implied by the projection: "
        + ", ".join(f"{year} {implied.loc[year, 'net_persons']:+,}" for year in (2024, 2025, 2030, 2040, 2050, 2060, 2072))
        + f" (published: 2022 {published.loc[2022]:+,.0f}, 2072 {published.loc[2072]:+,.0f}). "
        + "Births of the national cohort-component run vs published: "
        + ", ".join(
            f"{year} {implied.loc[year, 'births']:,.0f} vs {births.loc[year]:,.0f}" for year in births.index if year in implied.index
        )
        + "."
    )


# --- provenance -----------------------------------------------------------------------------


def _provenance_text(checks: dict[str, str]) -> str:
    return f"""{SECTION_HEADING}

Built by `sim/tools/build/demography.py` from `shared/data` (see its SOURCE.md). Region = KOSIS 2-digit code.

### population_2015.csv, population_2020.csv, population_2021.csv, population_2023.csv
- Raw: kr_province_population_age_sex_2011_2023.csv (registered population, 31 Dec; Korean nationals, no foreigners).
- Derivation: each region × sex series of 5-year groups (0-4 … 95-99) is split into single ages by monotone (PCHIP)
  interpolation of the cumulative count at ages 0, 5, …, 100, then rounded per group by largest remainder; 100+ → age 100.
- Checks: {checks["population"]}
- Caveats: single-year detail is modelled, not observed (smooth within groups; no age heaping or cohort echoes inside a group).

### fertility.csv
- Raw: kr_province_births_by_mother_age_1991_2023.csv; women from the population file above.
- Derivation: births by mother-age group (<15 added to 15-19, 50+ to 45-49, unknown distributed in proportion to the known
  groups) ÷ mean number of women in the group at 31 Dec t-1 and t — the derivation of kr_province_tfr_derived_2012_2023.csv,
  except that the derived file drops births of unknown mother age.
  Each single age 15..49 carries its group's rate, so TFR = Σ asfr is exactly preserved. Sejong 2012: 31 Dec 2012 women only.
- Checks: {checks["fertility"]}
- Caveats: registered (not estimated) denominators, so TFR runs ~0.01 below the official series. Step-shaped within groups.

### tfr_path.csv
- Raw: kr_national_projection_2022based_2022_2072.csv, metric tfr_assumption, medium scenario.
- Derivation: published years as given; 2033–2035 and 2038–2048 (and 2051–2071, held constant at 1.08 by KOSTAT) linearly
  interpolated between the neighbouring published years; `interpolated` flags them.
- Checks: {checks["tfr_path"]}
- Caveats: the 2033–2048 shape between published points is our interpolation, not KOSTAT's.

### mortality.csv
- Raw: kr_life_table_kostat_qx_2010_2018.csv (base schedule: 2018, by sex, q(100)=1); kr_life_expectancy_1970_2023.csv;
  kr_national_projection_2022based_2022_2072.csv (e0_male/e0_female 2022 and 2072).
- Derivation: for each year 2010–2072 and sex the 2018 hazard −ln(1−q) is multiplied by one factor (q' = 1−(1−q)^k,
  always < 1 below 100) so that e0 (a(x)=0.5, L100 = 2·l100, i.e. e100 = 2 as in SOURCE.md) equals the target. Targets: by-sex anchors 2010 and 2018
  (e0 implied by the KOSTAT q(x) tables), 2022 (projection base year, observed: M 79.9 / F 85.6) and 2023 (life table
  release: M 80.6 / F 86.4). The by-sex series is not available for other years, so those years 2011–2021 use the observed
  both-sex e0 ± half the female–male gap, the gap linearly interpolated between anchors (both-sex ≈ mean of sexes within
  0.05 at every anchor). 2024–2071: linear between the 2023 anchor and the 2072 projection targets (M 89.5 / F 92.7).
  Column `interpolated` is true for every year whose target is not a published by-sex value.
- Checks: {checks["mortality"]}
- Caveats: the age pattern is 2018's for every year (no change in the shape of mortality, e.g. no shift of deaths to older
  ages as e0 rises); 2010 and 2018 rescaled 2018 q(x) differ slightly by age from the true 2010 table. COVID years 2020–2022
  enter only through e0.

### mortality_region_factor.csv
- Raw: kr_province_deaths_tfr_eaps_2000_2023.csv (deaths by province of residence); mortality.csv; single-year population.
- Derivation: factor = observed deaths(r, t) / Σ_sex,age q_national(t, sex, age) × population(r, sex, age, 31 Dec t-1).
  Sejong 2012 uses its 31 Dec 2012 population (Sejong did not exist on 31 Dec 2011).
- Checks: {checks["region_factor"]}
- Caveats: not normalised — the national pooled ratio differs from 1 because q(x) is a period life table applied to a
  registered (31 Dec, nationals-only) population at exact age x rather than person-years, and deaths include foreigners'
  deaths registered in Korea (small). In 2012 the Chungnam/Chungbuk start population still contains the area that became
  Sejong in July 2012 (their 2012 factor is slightly low). Mechanism: q_r = 1 − (1 − q_national)^factor.

### international_migration.csv
- Raw: kr_province_population_annual_1992_2023.csv (national registered total), kr_province_deaths_tfr_eaps_2000_2023.csv
  (national births, deaths), kr_national_projection_2022based_2022_2072.csv (pop_total by year; net_international_migration
  and births where published).
- Derivation: 2015–2023 = residual of the registered accounting identity pop(t) − pop(t−1) − births(t) + deaths(t)
  (source "registered residual"). 2024–2072 = net international migration implied by the official national projection:
  KOSTAT publishes the population for every year but migration only for 2022 and 2072, so a deterministic national
  cohort-component run from the registered 31 Dec 2023 population, with the official TFR path (2023 age pattern) and
  mortality.csv, gives births and deaths, and migration is the official population change centred on the calendar year
  minus that natural change. Migrants enter with the assumed age–sex profile (parameters.yaml, demography).
- Checks: {checks["migration"]}
- Caveats: the registered residual (nationals) and the projection's migration (mostly foreigners) measure different
  populations, so the series jumps in 2024. The implied path also absorbs any difference between KOSTAT's and this
  run's fertility age pattern and mortality, and the foreign population in the projection's base.
"""
