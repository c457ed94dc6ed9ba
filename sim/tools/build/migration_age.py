"""Internal migration by age: net migration by province × age (cohort-component residual) and
age-group-specific destination constants of the destination logit.

Raw inputs (all in ``shared/data``, described in its SOURCE.md):

- ``kr_province_population_age_sex_2011_2023.csv`` — registered population by 5-year group and sex, 31 Dec
- ``kr_province_deaths_tfr_eaps_2000_2023.csv`` — deaths and births by province and year
- ``kr_province_population_annual_1992_2023.csv`` — national registered totals (international residual)
- ``kr_province_net_internal_migration_1970_2020.csv`` and ``…_2021_2023.csv`` — observed net internal migration (check only)

Packaged inputs (in ``out``, written by the demography and migration builders): ``mortality.csv``,
``mortality_region_factor.csv``, ``distances.csv``, ``migration_ties.csv``, ``migration_outflow_rates.csv``,
``migration_logit.csv``, ``migration_fit.json``; the Rogers–Castro move schedule comes from
``parameters.yaml`` (the same schedule the model uses).

Outputs: ``migration_net_by_age.csv``, ``migration_logit_by_age.csv``, ``migration_age_fit.json`` and the
section ``## Migration by age`` of ``PROVENANCE.md``. Run after ``demography`` and ``migration``:
``python -m sim.tools.build.migration_age``.

Other calibration windows of the migration builder (``AGE_WINDOWS``) get the same tables suffixed with the
window (``migration_net_by_age_2016_2020.csv``, ``migration_logit_by_age_2016_2020.csv``,
``migration_age_fit_2016_2020.json``), calibrated on that window's pooled fit, outflow rates and mean flows
(``migration_fit_2016_2020.json`` …), and the section ``## Migration calibration window 2016-2020``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import root

from sim.errors import DataError
from sim.inputs.pack import DECADE_PERIOD, migration_table_name
from sim.inputs.parameters import default_parameters
from sim.model.mechanisms.migration import (
    N_AGES,
    choice_probabilities,
    destination_utility,
    move_probability_table,
    rogers_castro,
)
from sim.tools.build import write_provenance_section
from sim.tools.build.demography import SEX_CODES, SEXES, single_year_population
from sim.tools.build.migration import od_table_name

SECTION = "## Migration by age"
OPEN_AGE = 85  # 5-year groups 0-4 … 80-84 and 85+ (older groups are dominated by deaths, not moves)
GROUP_STARTS = np.arange(0, OPEN_AGE + 1, 5)
FIVE_YEARS = 5
CALIBRATION_WINDOWS = ((2012, 2017), (2013, 2018), (2014, 2019), (2015, 2020))  # moves of 2013–2020
RECENT_WINDOWS = ((2018, 2023),)  # moves of 2019–2023, the latest registered populations
# Cohort-residual windows of each migration calibration window (sim.inputs.pack.MIGRATION_CALIBRATION_PERIODS).
# A five-year window's single residual window (e.g. 31 Dec 2015 → 31 Dec 2020) covers exactly its moves,
# each year weighted equally (overlapping windows would reach back before its first year).
AGE_WINDOWS = {DECADE_PERIOD: CALIBRATION_WINDOWS, "2016-2020": ((2015, 2020),), "2017-2021": ((2016, 2021),), "2019-2023": RECENT_WINDOWS}
WINDOW_SECTION = "## Migration calibration window"
MALE_SHARE_OF_BIRTHS = 105 / 205  # sex ratio at birth ≈ 105 boys per 100 girls (only splits birth-cohort deaths)
# Broad age groups with their own destination constants (age at 31 Dec of the year of the move, the
# model's convention), cut where the 2013–2020 residual nets change sign or size (PROVENANCE.md):
# 0–14 children, moving with their parents; 15–29 study and first jobs — the only ages at which Seoul
# gains and the rural provinces lose 2–3 % a year; 30–39 family formation, out of Seoul into Gyeonggi
# and Sejong; 40–64 mid-life and retirement moves, small gains of the rural provinces; 65+ late-life
# moves (rural gains fade, Incheon/Gyeonggi gain).
BROAD_GROUPS = ((0, 14), (15, 29), (30, 39), (40, 64), (65, 100))
SOLVER_TOLERANCE = 1e-9  # max |ln predicted − ln target inflow| of the age-specific constants


def build(shared: Path, out: Path) -> None:
    """Write the age-specific net migration, the age-specific constants, their fit and provenance into ``out``."""
    codes = pd.read_csv(out / "regions.csv", dtype={"region": str}).region.tolist()
    inputs = _read_inputs(shared, out, codes)
    calibration = net_migration_by_age(inputs, CALIBRATION_WINDOWS)
    recent = net_migration_by_age(inputs, RECENT_WINDOWS)
    net_table = pd.concat([_rate_table(codes, calibration), _rate_table(codes, recent)], ignore_index=True)
    net_table.to_csv(out / "migration_net_by_age.csv", index=False)

    fit = fit_age_constants(out, codes, inputs, calibration)
    logit_table = pd.DataFrame(
        [
            {"region": code, "age_min": low, "age_max": high, "destination_constant": fit.constants[g, j]}
            for g, (low, high) in enumerate(BROAD_GROUPS)
            for j, code in enumerate(codes)
        ]
    )
    logit_table.to_csv(out / "migration_logit_by_age.csv", index=False)
    report = fit.report | {"residual_check": _residual_check(codes, calibration, inputs)}
    (out / "migration_age_fit.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_provenance_section(out / "PROVENANCE.md", SECTION, _provenance_section(report, net_table))
    for period, windows in AGE_WINDOWS.items():
        if period != DECADE_PERIOD:
            build_window(period, windows, out, codes, inputs, report)


def build_window(
    period: str, windows: tuple[tuple[int, int], ...], out: Path, codes: list[str], inputs: Inputs, default_report: dict
) -> dict:
    """Age-specific nets and constants of another calibration window (suffixed files, own PROVENANCE section)."""
    calibration = net_migration_by_age(inputs, windows)
    net_table = _rate_table(codes, calibration)
    net_table.to_csv(out / f"{migration_table_name('migration_net_by_age', period)}.csv", index=False)
    fit = fit_age_constants(out, codes, inputs, calibration, period)
    logit_table = pd.DataFrame(
        [
            {"region": code, "age_min": low, "age_max": high, "destination_constant": fit.constants[g, j]}
            for g, (low, high) in enumerate(BROAD_GROUPS)
            for j, code in enumerate(codes)
        ]
    )
    logit_table.to_csv(out / f"{migration_table_name('migration_logit_by_age', period)}.csv", index=False)
    report = fit.report | {"migration_calibration_period": period, "residual_check": _residual_check(codes, calibration, inputs)}
    (out / f"{migration_table_name('migration_age_fit', period)}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    pooled = json.loads((out / f"{migration_table_name('migration_fit', period)}.json").read_text(encoding="utf-8"))
    default_pooled = json.loads((out / "migration_fit.json").read_text(encoding="utf-8"))
    section = _window_section(period, codes, report, default_report, pooled, default_pooled, out)
    _write_section(out / "PROVENANCE.md", f"{WINDOW_SECTION} {period}", section)
    return report


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """Raw and packaged statistics on one grid: years × regions × sexes (F, M) × ages or 5-year groups."""

    years: list[int]  # 2011 … 2023, population at 31 Dec
    population: np.ndarray  # [year, region, sex, 5-year group 0-4 … 85+], persons (NaN: Sejong 2011)
    single_age: np.ndarray  # [year, region, sex, age 0..100], persons (PCHIP split of the 5-year groups)
    births: np.ndarray  # [year, region], live births by residence of mother
    deaths: np.ndarray  # [year, region], deaths by residence
    international: np.ndarray  # [year], national registered residual pop(t) − pop(t−1) − births + deaths
    observed_net: pd.DataFrame  # year × region, net inter-provincial migration (persons), 1993–2020
    qx: dict[int, np.ndarray]  # year → [sex, age], national probability of dying within the year
    mortality_factor: pd.DataFrame  # year × region, hazard multiplier (q' = 1 − (1 − q)^factor)


def _read(shared: Path, name: str) -> pd.DataFrame:
    path = shared / name
    if not path.is_file():
        raise DataError(f"raw file missing: {path}")
    return pd.read_csv(path, dtype={"region_code": str})


def _read_inputs(shared: Path, out: Path, codes: list[str]) -> Inputs:
    raw = _read(shared, "kr_province_population_age_sex_2011_2023.csv")
    raw = raw[raw.region_code.isin(codes) & raw.sex.isin(SEX_CODES)]
    years = sorted(raw.year.unique())
    group_of = {label: min(int(label.rstrip("+").split("-")[0]), OPEN_AGE) // 5 for label in raw.age_group.unique()}
    grouped = raw.assign(group=raw.age_group.map(group_of), sex=raw.sex.map(SEX_CODES))
    grouped = grouped.groupby(["year", "region_code", "sex", "group"]).population.sum()
    grid = pd.MultiIndex.from_product([years, codes, SEXES, range(len(GROUP_STARTS))])
    population = grouped.reindex(grid).to_numpy(float).reshape(len(years), len(codes), len(SEXES), -1).copy()
    population[years.index(GUNWI_TRANSFER_YEAR)] = restate_gunwi(
        shared, population[years.index(GUNWI_TRANSFER_YEAR)], population[years.index(GUNWI_TRANSFER_YEAR - 1)], codes
    )

    single = single_year_population(raw).set_index(["year", "region", "sex", "age"]).persons
    single_grid = pd.MultiIndex.from_product([years, codes, SEXES, range(N_AGES)])
    single_age = single.reindex(single_grid).to_numpy(float).reshape(len(years), len(codes), len(SEXES), N_AGES)

    vital = _read(shared, "kr_province_deaths_tfr_eaps_2000_2023.csv").set_index(["year", "region_code"])
    vital_grid = pd.MultiIndex.from_product([years, codes])
    births = vital.births.reindex(vital_grid).to_numpy(float).reshape(len(years), len(codes))
    deaths = vital.deaths.reindex(vital_grid).to_numpy(float).reshape(len(years), len(codes))

    totals = _read(shared, "kr_province_population_annual_1992_2023.csv")
    national = totals[totals.region_code == "00"].set_index("year").population
    national_vital = vital.xs("00", level="region_code")
    international = np.array(
        [national[y] - national[y - 1] - national_vital.births[y] + national_vital.deaths[y] for y in years], dtype=float
    )

    net = pd.concat([_read(shared, f"kr_province_net_internal_migration_{years}.csv") for years in ("1970_2020", "2021_2023")])
    observed_net = net[net.region_code.isin(codes)].pivot(index="year", columns="region_code", values="net_migration")

    mortality = pd.read_csv(out / "mortality.csv")
    qx = {
        int(year): rows.pivot(index="sex", columns="age", values="qx").loc[list(SEXES)].to_numpy(float)
        for year, rows in mortality.groupby("year")
    }
    factor = pd.read_csv(out / "mortality_region_factor.csv", dtype={"region": str})
    mortality_factor = factor.pivot(index="year", columns="region", values="factor")[codes]
    return Inputs(years, population, single_age, births, deaths, international, observed_net[codes], qx, mortality_factor)


GUNWI = "2772000000"  # Gunwi-gun, moved from Gyeongbuk (47) to Daegu (27) on 2023-07-01 (SOURCE.md)
GUNWI_TRANSFER_YEAR = 2023
GUNWI_FROM, GUNWI_TO = "47", "27"


def restate_gunwi(shared: Path, population: np.ndarray, before: np.ndarray, codes: list[str]) -> np.ndarray:
    """The 31 Dec 2023 population [region, sex, 5-year group] on the boundaries of 2022: Gunwi-gun back from Daegu
    to Gyeongbuk, so that the cohort residual does not count the boundary change (23,000 mostly older persons) as
    migration into Daegu.

    Gunwi's Dec 2023 residents by sex and 10-year band (kr_sigungu_residents_age10_sex_dec2023.csv) are scaled to
    its registered total by sex (kr_sigungu_registered_population_dec_2023.csv) and each band is split into its two
    5-year groups in the proportions of Gyeongbuk's Dec 2022 groups (``before``).
    """
    residents = _read(shared, "kr_sigungu_residents_age10_sex_dec2023.csv").astype({"mois_admin_code": str})
    residents = residents[(residents.mois_admin_code == GUNWI) & residents.sex.isin(SEX_CODES)]
    registered = _read(shared, "kr_sigungu_registered_population_dec_2023.csv").astype({"mois_admin_code": str})
    registered = registered.set_index("mois_admin_code").loc[GUNWI]
    origin, destination = codes.index(GUNWI_FROM), codes.index(GUNWI_TO)
    gunwi = np.zeros(population.shape[1:])
    for sex_label, sex in SEX_CODES.items():
        rows = residents[residents.sex == sex_label]
        scale = registered["female" if sex == "F" else "male"] / rows.residents.sum()
        s = SEXES.index(sex)
        for band, persons in zip(rows.age_group_10yr, rows.residents * scale):
            low = int(band.rstrip("+").split("-")[0])
            groups = [g for g in (low // 5, low // 5 + 1) if g < len(GROUP_STARTS)] if low < OPEN_AGE else [len(GROUP_STARTS) - 1]
            weight = before[origin, s, groups] / before[origin, s, groups].sum()
            gunwi[s, groups] += persons * weight
    restated = population.copy()
    restated[destination] -= gunwi
    restated[origin] += gunwi
    return restated


# --- step 1: net migration by age, cohort-component residual --------------------------------------


@dataclass(frozen=True)
class NetByAge:
    """Pooled windows: net internal migration and person-years by region × 5-year age group at the move."""

    windows: tuple[tuple[int, int], ...]
    net: np.ndarray  # [region, group], persons over all windows
    person_years: np.ndarray  # [region, group], persons × years lived in the group over all windows
    net_by_window: np.ndarray  # [window, region], persons (all ages)

    @property
    def period(self) -> str:
        """The years the windows cover, as ``first-last``."""
        return f"{self.windows[0][0] + 1}-{self.windows[-1][1]}"

    @property
    def rate(self) -> np.ndarray:
        """Net internal migration per person per year, [region, group]."""
        return self.net / self.person_years


def net_migration_by_age(inputs: Inputs, windows: tuple[tuple[int, int], ...]) -> NetByAge:
    """Forward-survival residual over 5-year windows, pooled (see ``cohort_residual``)."""
    nets, person_years = [], []
    for start, end in windows:
        net, exposure = cohort_residual(inputs, start, end)
        nets.append(net)
        person_years.append(exposure)
    nets, person_years = np.stack(nets), np.stack(person_years)
    return NetByAge(windows, nets.sum(axis=0), person_years.sum(axis=0), nets.sum(axis=2))


def cohort_residual(inputs: Inputs, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Net internal migration by region × 5-year age group at the move over the years start+1 … end.

    For each cohort c (5-year group at 31 Dec ``start``, or the births of the window):
    net_c = P_end(c + 5 years) − P_start(c) + deaths_c − international_c, where
    deaths_c = expected deaths of a closed single-age projection with q'(x) = 1 − (1 − q_national(x))^factor_r,
    scaled per region to the observed deaths of the window; international_c = the national registered
    residual of each year allocated by start population (region × sex × group). A cohort's moves happen
    at ages spread evenly over its start and end groups (uniform ages within groups and times within the
    window give a triangular age density over the 10 years), so half of net_c is assigned to each; the
    births' net goes wholly to 0–4 and both 85+ cohorts' to 85+. Person-years = 5 × mean of the group's
    start and end populations. Returns (net persons [region, group], person-years [region, group]).
    """
    if end - start != FIVE_YEARS:
        raise ValueError("windows must span five years")
    years = inputs.years
    first, last = years.index(start), years.index(end)
    start_pop, end_pop = inputs.population[first], inputs.population[last]  # [region, sex, group]
    births = inputs.births[first + 1 : last + 1]  # [year, region]

    expected = _expected_cohort_deaths(inputs, start, births)  # [region, cohort], cohort n_groups = births
    observed = inputs.deaths[first + 1 : last + 1].sum(axis=0)
    deaths = expected * (observed / expected.sum(axis=1))[:, None]

    start_total = start_pop.sum(axis=1)  # [region, group]
    international = inputs.international[first + 1 : last + 1].sum() * start_total / start_total.sum()

    end_total = end_pop.sum(axis=1)
    survivors_end = np.concatenate([end_total[:, 1:-1], end_total[:, -1:]], axis=1)  # end group of cohorts 0..84
    cohort_start = np.concatenate([start_total[:, :-2], start_total[:, -2:-1] + start_total[:, -1:]], axis=1)
    cohort_deaths = np.concatenate([deaths[:, :-3], deaths[:, -3:-2] + deaths[:, -2:-1]], axis=1)
    cohort_international = np.concatenate([international[:, :-2], international[:, -2:-1] + international[:, -1:]], axis=1)
    # cohorts: start groups 0-4 … 75-79 (end 5-9 … 80-84) and the merged 80+ (end 85+)
    cohort_net = survivors_end - cohort_start + cohort_deaths - cohort_international
    birth_net = end_total[:, 0] - births.sum(axis=0) + deaths[:, -1]

    net = np.zeros_like(start_total)
    net[:, 0] += birth_net
    net[:, :-2] += cohort_net[:, :-1] / 2  # cohort starting in group g: half at g …
    net[:, 1:-1] += cohort_net[:, :-1] / 2  # … and half at g + 1
    net[:, -2] += cohort_net[:, -1] * start_total[:, -2] / cohort_start[:, -1] / 2  # 80-84 starters: half at 80-84
    net[:, -1] += cohort_net[:, -1] * (1 - start_total[:, -2] / cohort_start[:, -1] / 2)  # rest and 85+ starters
    person_years = FIVE_YEARS * (start_total + end_total) / 2
    return net, person_years


def _expected_cohort_deaths(inputs: Inputs, start: int, births: np.ndarray) -> np.ndarray:
    """Deaths of a closed single-age projection from 31 Dec ``start``, by region × cohort.

    Cohorts 0 … n_groups−1 are the 5-year groups at the start (85+ last); cohort n_groups is the births
    of the window (entering at age 0 at the end of their birth year). Persons aged x at 31 Dec y−1 die in
    year y with q'(x) = 1 − (1 − q_y(x))^factor(r, y).
    """
    population = inputs.single_age[inputs.years.index(start)].copy()  # [region, sex, age]
    n_regions, n_groups = population.shape[0], len(GROUP_STARTS)
    deaths = np.zeros((n_regions, n_groups + 1))
    sex_share = np.array([1 - MALE_SHARE_OF_BIRTHS, MALE_SHARE_OF_BIRTHS])
    ages = np.arange(N_AGES)
    for elapsed in range(FIVE_YEARS):
        year = start + 1 + elapsed
        factor = inputs.mortality_factor.loc[year].to_numpy(float)
        q = 1 - (1 - inputs.qx[year][None, :, :]) ** factor[:, None, None]
        dying = population * q
        start_age = ages - elapsed
        cohort = np.where(start_age < 0, n_groups, np.minimum(np.maximum(start_age, 0), OPEN_AGE) // 5)
        np.add.at(deaths.T, cohort, dying.sum(axis=1).T)
        survivors = population - dying
        population = np.concatenate(
            [np.zeros_like(survivors[:, :, :1]), survivors[:, :, :-2], survivors[:, :, -2:].sum(axis=2, keepdims=True)], axis=2
        )
        population[:, :, 0] = births[elapsed][:, None] * sex_share[None, :]
    return deaths


def _rate_table(codes: list[str], result: NetByAge) -> pd.DataFrame:
    labels = [f"{low}-{low + 4}" for low in GROUP_STARTS[:-1]] + [f"{OPEN_AGE}+"]
    region, group = np.meshgrid(codes, labels, indexing="ij")
    return pd.DataFrame(
        {
            "region": region.ravel(),
            "age_group": group.ravel(),
            "net_migration_rate": result.rate.ravel().round(6),
            "net_migration_persons_per_year": (result.net / (FIVE_YEARS * len(result.windows))).ravel().round(1),
            "period": result.period,
        }
    )


def _residual_check(codes: list[str], result: NetByAge, inputs: Inputs) -> dict:
    """Residual nets summed over ages vs observed O-D net internal migration of the same years."""
    observed = np.stack([inputs.observed_net.loc[start + 1 : end].sum().to_numpy(float) for start, end in result.windows])
    years = FIVE_YEARS * len(result.windows)
    residual, recorded = result.net_by_window.sum(axis=0) / years, observed.sum(axis=0) / years
    return {
        "period": result.period,
        "windows": [f"{start}->{end}" for start, end in result.windows],
        "units": "persons/year, mean over the pooled windows",
        "by_region": [
            {"region": code, "residual": round(float(r), 1), "observed": round(float(o), 1), "gap": round(float(r - o), 1)}
            for code, r, o in zip(codes, residual, recorded)
        ],
        "mean_absolute_gap": float(np.mean(np.abs(residual - recorded))),
        "mean_absolute_observed": float(np.mean(np.abs(recorded))),
        "correlation": float(np.corrcoef(residual, recorded)[0, 1]),
    }


# --- step 2: age-group-specific destination constants ----------------------------------------------


@dataclass(frozen=True)
class AgeFit:
    """Destination constants by broad age group and the figures of their fit."""

    constants: np.ndarray  # [broad group, region], α_jg (Seoul = 0 in every group)
    report: dict  # figures written to migration_age_fit.json


def fit_age_constants(out: Path, codes: list[str], inputs: Inputs, calibration: NetByAge, period: str = DECADE_PERIOD) -> AgeFit:
    """Destination constants α_jg per broad age group g that reproduce the age-specific nets.

    Movers by origin × age are those of the model: the Rogers–Castro schedule of ``parameters.yaml``
    scaled to each origin's 2011–2020 outflow rate (``move_probability_table``), applied to the mean
    registered population at 31 Dec 2012–2019 (the persons at risk of the 2013–2020 moves): O_ig.
    Target nets T_jg are the residual nets of step 1 summed over the broad group, reconciled by weighted
    least squares (weights O_jg) so that Σ_g T_jg equals the observed 2011–2020 net migration of the
    packaged logit and Σ_j T_jg = 0 (moves conserve persons in each age group). Then for each group the
    constants solve Σ_i O_ig P_g(j | i) = O_jg + T_jg with P_g the packaged logit (same b_d, b_n) with
    α_jg in place of α_j — 16 equations, 16 unknowns per group (Seoul fixed at 0), so the fit is exact.
    Another ``period`` reads that window's pooled fit, constants, outflow rates and mean flows instead (the
    population at risk is then the mean over the years before each move of its residual windows).
    """
    fit_json = json.loads((out / f"{migration_table_name('migration_fit', period)}.json").read_text(encoding="utf-8"))
    weights = default_parameters().migration.model_copy(
        update={
            "distance_elasticity": fit_json["b_d"],
            "ties_elasticity": fit_json["b_n"],
            "wage_weight": 0.0,
            "employment_weight": 0.0,
            "housing_cost_weight": 0.0,
            "amenity_weight": 0.0,
            "destination_population_elasticity": 0.0,
        }
    )
    pooled_constants = _by_region(out / f"{migration_table_name('migration_logit', period)}.csv", codes, "destination_constant")
    log_distance = np.log(np.where(np.eye(len(codes), dtype=bool), 1.0, _matrix(out / "distances.csv", codes, "distance_km")))
    log_ties = np.log1p(_matrix(out / "migration_ties.csv", codes, "ties_persons"))
    mean_flow = _matrix(out / f"{od_table_name(period)}.csv", codes, "mean_annual_flow")
    no_change = np.zeros(len(codes))

    def probabilities(constants: np.ndarray) -> np.ndarray:
        return choice_probabilities(destination_utility(constants, log_distance, log_ties, weights, *[no_change] * 4))

    movers = movers_by_age(out, codes, inputs, calibration.windows, period)  # [group, region]
    residual_net = _broad_groups(calibration.net) / (FIVE_YEARS * len(calibration.windows))
    observed_net = np.array([row["observed"] for row in fit_json["net_migration"]], dtype=float)
    target_net = reconcile(residual_net, observed_net, movers)
    target_inflow = movers + target_net
    if np.any(target_inflow <= 0):
        raise DataError("age-specific net outflow exceeds the modelled in-flow: no destination constants exist")

    constants = np.stack([solve_constants(movers[g], target_inflow[g], probabilities, pooled_constants) for g in range(len(BROAD_GROUPS))])
    age_probability = probabilities(constants)
    predicted_flow = np.einsum("gi,gij->ij", movers, age_probability)
    predicted_inflow = np.einsum("gi,gij->gj", movers, age_probability)
    pooled_probability = probabilities(pooled_constants)
    nets = {
        "residual": residual_net,
        "target": target_net,
        "fitted": predicted_inflow - movers,
        "pooled_logit": np.einsum("gi,ij->gj", movers, pooled_probability) - movers,
    }
    flows = {
        "observed": mean_flow,
        "age_specific": predicted_flow,
        "pooled_logit": movers.sum(axis=0)[:, None] * pooled_probability,
    }
    report = _fit_report(
        codes, movers, nets, flows, constants, constants - pooled_constants[None, :], observed_net, calibration.windows, period
    )
    return AgeFit(constants, report)


def movers_by_age(
    out: Path, codes: list[str], inputs: Inputs, windows: tuple[tuple[int, int], ...] = CALIBRATION_WINDOWS, period: str = DECADE_PERIOD
) -> np.ndarray:
    """Expected inter-provincial movers per year [broad group, origin] under the model's leaving rule."""
    schedule = rogers_castro(np.arange(N_AGES), default_parameters().migration.rogers_castro_shape())
    first, last = inputs.years.index(windows[0][0]), inputs.years.index(windows[-1][1] - 1)
    population = inputs.single_age[first : last + 1].sum(axis=2).mean(axis=0)  # [region, age]
    outflow_rate = _by_region(out / f"{migration_table_name('migration_outflow_rates', period)}.csv", codes, "outflow_rate")
    by_age = move_probability_table(outflow_rate, population, schedule) * population
    return np.stack([by_age[:, low : high + 1].sum(axis=1) for low, high in BROAD_GROUPS])


def _broad_groups(by_five_year_group: np.ndarray) -> np.ndarray:
    """[region, 5-year group] → [broad group, region] (the 85+ group falls in the last broad group)."""
    group_of = np.array([next(g for g, (low, high) in enumerate(BROAD_GROUPS) if low <= start <= high) for start in GROUP_STARTS])
    return np.stack([by_five_year_group[:, group_of == g].sum(axis=1) for g in range(len(BROAD_GROUPS))])


def reconcile(net: np.ndarray, region_totals: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Smallest weighted change T − N (Σ (T − N)² / w) with Σ_g T_gj = region_totals_j and Σ_j T_gj = 0.

    The solution is T = N + w ∘ (λ_j + μ_g); the multipliers solve the linear constraint system
    (rank-deficient by one, since both sets of constraints sum to Σ_j region_totals_j = 0: least squares).
    """
    n_groups, n_regions = net.shape
    if abs(region_totals.sum()) > 1e-6 * np.abs(region_totals).sum():
        raise ValueError("regional net totals must sum to zero")
    rows = []
    for j in range(n_regions):  # Σ_g w_gj (λ_j + μ_g) = region_totals_j − Σ_g N_gj
        row = np.zeros(n_regions + n_groups)
        row[j] = weight[:, j].sum()
        row[n_regions:] = weight[:, j]
        rows.append(row)
    for g in range(n_groups):  # Σ_j w_gj (λ_j + μ_g) = −Σ_j N_gj
        row = np.zeros(n_regions + n_groups)
        row[:n_regions] = weight[g]
        row[n_regions + g] = weight[g].sum()
        rows.append(row)
    rhs = np.concatenate([region_totals - net.sum(axis=0), -net.sum(axis=1)])
    multipliers = np.linalg.lstsq(np.array(rows), rhs, rcond=None)[0]
    return net + weight * (multipliers[None, :n_regions] + multipliers[n_regions:, None])


def solve_constants(
    movers: np.ndarray, target_inflow: np.ndarray, probabilities: Callable[[np.ndarray], np.ndarray], start: np.ndarray
) -> np.ndarray:
    """Constants α (α_0 = 0) with Σ_i movers_i P(j | i; α) = target_inflow_j for every j (scipy ``root``)."""

    def log_gap(free: np.ndarray) -> np.ndarray:
        inflow = movers @ probabilities(np.concatenate([[0.0], free]))
        return np.log(inflow[1:]) - np.log(target_inflow[1:])

    result = root(log_gap, start[1:] - start[0], method="hybr", options={"xtol": 1e-13})
    if np.abs(log_gap(result.x)).max() > SOLVER_TOLERANCE:
        raise RuntimeError(f"age-specific destination constants did not converge: {result.message}")
    return np.concatenate([[0.0], result.x])


def _by_region(path: Path, codes: list[str], column: str) -> np.ndarray:
    table = pd.read_csv(path, dtype={"region": str}).set_index("region")
    return table[column].reindex(codes).to_numpy(float)


def _matrix(path: Path, codes: list[str], column: str) -> np.ndarray:
    table = pd.read_csv(path, dtype={"origin": str, "destination": str})
    matrix = table.pivot(index="origin", columns="destination", values=column).reindex(index=codes, columns=codes)
    return np.nan_to_num(matrix.to_numpy(float))


def _flow_r2(observed: np.ndarray, predicted: np.ndarray) -> float:
    off_diagonal = ~np.eye(observed.shape[0], dtype=bool)
    obs, pred = observed[off_diagonal], predicted[off_diagonal]
    return float(1 - np.sum((obs - pred) ** 2) / np.sum((obs - obs.mean()) ** 2))


def _group_label(low: int, high: int) -> str:
    return f"{low}+" if high >= N_AGES - 1 else f"{low}-{high}"


def _fit_report(
    codes: list[str],
    movers: np.ndarray,
    nets: dict[str, np.ndarray],
    flows: dict[str, np.ndarray],
    constants: np.ndarray,
    shifts: np.ndarray,
    observed_net: np.ndarray,
    windows: tuple[tuple[int, int], ...] = CALIBRATION_WINDOWS,
    period: str = DECADE_PERIOD,
) -> dict:
    labels = [_group_label(low, high) for low, high in BROAD_GROUPS]
    target = nets["target"]
    key = period.replace("-", "_")  # observed regional totals of the pooled window

    def mae(net: np.ndarray) -> float:
        return float(np.mean(np.abs(net - target)))

    return {
        "model": "P_g(j | i, j != i) = exp(a_jg - b_d ln d_ij + b_n ln(1 + N_ij)) / sum over k != i; "
        "g = broad age group of the mover (age at 31 Dec of the year of the move)",
        "age_groups": labels,
        "calibration_period": f"{windows[0][0] + 1}-{windows[-1][1]}",
        "units": "persons/year",
        "movers_by_group": {label: round(float(m), 1) for label, m in zip(labels, movers.sum(axis=1))},
        "net_mae_by_group": {
            "fitted_vs_target": dict(zip(labels, np.abs(nets["fitted"] - target).mean(axis=1).tolist())),
            "pooled_logit_vs_target": dict(zip(labels, np.abs(nets["pooled_logit"] - target).mean(axis=1).tolist())),
        },
        "net_mae": {"fitted": mae(nets["fitted"]), "pooled_logit": mae(nets["pooled_logit"])},
        "reconciliation": {
            "note": f"residual nets (step 1) adjusted to the observed {period} regional totals (O-D nets) and to "
            "zero national sum per group, weighted least squares with weights = movers O_jg",
            "mean_absolute_adjustment": float(np.mean(np.abs(target - nets["residual"]))),
            "max_absolute_adjustment": float(np.max(np.abs(target - nets["residual"]))),
            "residual_national_sum_by_group": dict(zip(labels, nets["residual"].sum(axis=1).round(1).tolist())),
        },
        "regional_net_total": {
            f"max_abs_error_fitted_vs_observed_{key}": float(np.max(np.abs(nets["fitted"].sum(axis=0) - observed_net))),
            f"max_abs_error_pooled_logit_vs_observed_{key}": float(np.max(np.abs(nets["pooled_logit"].sum(axis=0) - observed_net))),
        },
        "flow_r2": {
            "age_specific": _flow_r2(flows["observed"], flows["age_specific"]),
            "pooled_logit": _flow_r2(flows["observed"], flows["pooled_logit"]),
        },
        "flow_r2_note": f"O-D flows = model movers (outflow rate x {windows[0][0]}-{windows[-1][1] - 1} population) "
        f"distributed by the logit, vs observed {period} mean flows",
        "shift_from_pooled_constants": {
            "note": "alpha_jg - alpha_j (both normalised to Seoul = 0)",
            "mean_absolute": float(np.mean(np.abs(shifts))),
            "max_absolute": float(np.max(np.abs(shifts))),
        },
        "by_region": [
            {
                "region": code,
                **{
                    f"net_{label}": {
                        "target": round(float(target[g, j]), 1),
                        "residual": round(float(nets["residual"][g, j]), 1),
                        "fitted": round(float(nets["fitted"][g, j]), 1),
                        "pooled_logit": round(float(nets["pooled_logit"][g, j]), 1),
                    }
                    for g, label in enumerate(labels)
                },
                "destination_constants": dict(zip(labels, constants[:, j].round(6).tolist())),
            }
            for j, code in enumerate(codes)
        ],
    }


# --- provenance -----------------------------------------------------------------------------------


def _provenance_section(report: dict, net_table: pd.DataFrame) -> str:
    check = report["residual_check"]
    gaps = sorted(check["by_region"], key=lambda row: -abs(row["gap"]))[:3]
    calibration = net_table[net_table.period == report["calibration_period"]].set_index(["region", "age_group"])
    rural = ("45", "46", "47")
    young = [calibration.loc[(code, group), "net_migration_rate"] for code in rural for group in ("20-24", "25-29")]
    middle = [
        calibration.loc[(code, group), "net_migration_rate"] for code in rural for group in ("40-44", "45-49", "50-54", "55-59", "60-64")
    ]
    pooled, fitted = report["net_mae_by_group"]["pooled_logit_vs_target"], report["net_mae_by_group"]["fitted_vs_target"]
    lines = [
        SECTION,
        "",
        "Built by `sim/tools/build/migration_age.py` (run after the demography and migration builders) from "
        "`shared/data/kr_province_population_age_sex_2011_2023.csv` (registered population by 5-year group and sex, "
        "31 Dec), `kr_province_deaths_tfr_eaps_2000_2023.csv` (deaths, births), `kr_province_population_annual_1992_2023.csv` "
        "(national totals) and the packaged `mortality.csv`, `mortality_region_factor.csv` and migration tables; "
        "checked against `kr_province_net_internal_migration_1970_2020.csv`.",
        "",
        "- `migration_net_by_age.csv` — region, age_group (5-year groups 0-4 … 80-84, 85+; age at the move), "
        "net_migration_rate (net inter-provincial migrants per person per year), net_migration_persons_per_year, "
        "period. Cohort-component residual: for each 5-year window (31 Dec t → 31 Dec t+5) and cohort, net = "
        "P(t+5, group+1) − P(t, group) + deaths − international; the births of the window form the youngest "
        "cohort. Deaths: closed single-age projection (PCHIP split of the groups, as `population_*.csv`) with "
        "q' = 1 − (1 − q_national)^factor_r,t (`mortality.csv`, `mortality_region_factor.csv`), scaled per "
        "province to the observed deaths of the window. International: national registered residual "
        "pop(t) − pop(t−1) − births + deaths of each year, allocated by start population (region × sex × group). "
        "A cohort's moves fall at ages spread over its start and end groups, so half of its net is given to each "
        "(the births' net wholly to 0-4). Rate = net ÷ person-years (5 × mean of the group's start and end "
        "population). Period 2013-2020 pools the windows 2012→2017 … 2015→2020 (moves of 2013–2020, years weighted "
        "1,2,3,4,4,3,2,1); period 2019-2023 is the window 2018→2023 (reported only; its international residual "
        "includes −133k in 2021 and −76k in 2022, registration clean-ups rather than emigration).",
        f"- Check (2013–2020, persons/year): residual nets summed over ages vs observed O-D net migration of the same "
        f"years — mean absolute gap {check['mean_absolute_gap']:,.0f} vs mean |net| {check['mean_absolute_observed']:,.0f} "
        f"(correlation {check['correlation']:.4f}); largest gaps "
        + ", ".join(f"{row['region']} {row['gap']:+,.0f}" for row in gaps)
        + ". Summed over provinces the residual nets of each age group should be 0; they are "
        + ", ".join(f"{label} {value:+,.0f}" for label, value in report["reconciliation"]["residual_national_sum_by_group"].items())
        + " (errors of the age split of deaths and of the international allocation; see reconciliation below).",
        f"- Pattern (2013–2020): Jeonbuk, Jeonnam and Gyeongbuk lose {-max(young):.1%}–{-min(young):.1%} a year of "
        f"their 20–29 year-olds and change by {min(middle):+.1%} to {max(middle):+.1%} a year at 40–64; Seoul gains at "
        "15–29 and loses at every other age. "
        "The pooled destination logit gives all ages the same destination shares and so moves the young the "
        "wrong way (Seoul loses, rural provinces gain at 15–29).",
        "- `migration_logit_by_age.csv` — region, age_min, age_max, destination_constant α_jg (Seoul = 0 in each "
        "group) of P_g(j | i, j≠i) ∝ exp(α_jg − b_d ln d_ij + b_n ln(1 + N_ij)), b_d and b_n as in "
        "`migration_fit.json`; g = broad age group of the mover by age at 31 Dec of the year of the move: "
        + ", ".join(report["age_groups"])
        + " (cut where the residual nets change sign or size). Movers O_ig by origin and group are the model's: the "
        "Rogers–Castro schedule of `parameters.yaml` scaled to each origin's outflow rate, applied to the mean "
        "population of 31 Dec 2012–2019. Targets: the 2013–2020 residual nets by group, reconciled by weighted "
        "least squares (weights O_jg) so that each province's total equals its observed 2011–2020 net (the "
        "pooled fit) and each group sums to zero nationally "
        f"(mean |adjustment| {report['reconciliation']['mean_absolute_adjustment']:,.0f}, max "
        f"{report['reconciliation']['max_absolute_adjustment']:,.0f} persons/year). For each group the 16 free "
        "constants solve Σ_i O_ig P_g(j|i) = O_jg + T_jg (scipy `root`): an exact calibration, not a statistical "
        "fit — there are as many constants as targets.",
        "- `migration_age_fit.json` — targets, residual, fitted and pooled-logit nets by region × group, "
        "reconciliation, flow R², constants.",
        "",
        "Fit (persons/year, mean absolute error of net migration by province, per group):",
        "",
        "| age group | movers | pooled logit | age-specific logit |",
        "|---|---|---|---|",
    ]
    for label in report["age_groups"]:
        lines.append(f"| {label} | {report['movers_by_group'][label]:,.0f} | {pooled[label]:,.0f} | {fitted[label]:.1g} |")
    lines += [
        "",
        f"O-D flow R² (model movers distributed by the logit vs observed 2011–2020 mean flows): age-specific "
        f"{report['flow_r2']['age_specific']:.4f}, pooled {report['flow_r2']['pooled_logit']:.4f}. Regional net totals "
        f"equal the observed 2011–2020 nets (max error {report['regional_net_total']['max_abs_error_fitted_vs_observed_2011_2020']:.1g}).",
        "",
        "Caveats:",
        "",
        "- The gross flows by age are not observed: they follow the assumed Rogers–Castro leaving schedule, so "
        "the constants carry the whole age pattern of the nets. Where the schedule gives few movers (65+), "
        "large nets need large constants (Seoul keeps almost no 65+ in-migrants).",
        "- Ages at the move are approximate (±2.5 years: half of each cohort's net on each of its two groups).",
        "- The residual uses registered nationals; the calibration period 2013–2020 includes the relocation of "
        "public bodies to Sejong and the innovation cities (Sejong's gains at every age).",
        "",
    ]
    return "\n".join(lines)


def _window_section(
    period: str, codes: list[str], report: dict, default_report: dict, pooled: dict, default_pooled: dict, out: Path
) -> str:
    """Short PROVENANCE subsection of a non-default calibration window (pooled and age-specific fits)."""
    names = pd.read_csv(out / "regions.csv", dtype={"region": str}).set_index("region").region_name
    suffix = period.replace("-", "_")
    years = f"{period.split('-')[0]}–{period.split('-')[1]}"
    first, last = (int(year) for year in period.split("-"))
    check, recon = report["residual_check"], report["reconciliation"]
    free = pooled["variants"]["free_refit_distance_and_ties"]
    old_on_new = pooled["default_constants_on_this_window"]
    net_new = {row["region"]: row["observed"] for row in pooled["net_migration"]}
    net_old = {row["region"]: row["observed"] for row in default_pooled["net_migration"]}
    young_new = {row["region"]: row["net_15-29"]["target"] for row in report["by_region"]}
    young_old = {row["region"]: row["net_15-29"]["target"] for row in default_report["by_region"]}
    shift = pooled["constant_shift_from_default"]["by_region"]
    capital = pooled["capital_region_net_migration_by_year"]
    lines = [
        f"{WINDOW_SECTION} {period}",
        "",
        f"Built by `sim/tools/build/migration.py` and `migration_age.py` with the sources and methods of the two "
        f'sections above, for `migration.calibration_period: "{period}"` (parameters.yaml): five years of observed '
        "flows (2019–2023 is the default, the latest five years, as KOSTAT's provincial projections base internal-"
        "migration assumptions on the most recent age-specific rates; 2016–2020 and 2017–2021 are the origins of the "
        "migration back-test, README). Distance, ties (2001–2010 stock) and b_d, b_n are those of the "
        f"{DECADE_PERIOD} fit in every window.",
        "",
        f"- `migration_od_{suffix}.csv` — mean inter-provincial flows {years} (persons/year; Sejong in every year); "
        f"{pooled['data']['movers_per_year'] / 1e6:.2f} million moves a year.",
        f"- `migration_outflow_rates_{suffix}.csv` — columns as `migration_outflow_rates.csv`; outflow_rate = mean "
        f"{years} (national mean of the regional rates {pooled['outflow_rate_national_mean']:.4f}).",
        f"- `migration_logit_{suffix}.csv`, `migration_fit_{suffix}.json` — α_j fitted by maximum likelihood to the "
        f"{years} mean flows with b_d = {pooled['b_d']:.3f} and b_n = {pooled['b_n']:.3f} held at the "
        f"{DECADE_PERIOD} estimates (the model has one pair of elasticities): destination inflows "
        f"reproduced (net-migration MAE {pooled['net_migration_mae']:.1g} persons/year), pseudo-R² "
        f"{pooled['mcfadden_pseudo_r2']:.3f}, flow R² {pooled['flow_r2']:.4f}. A free refit gives b_d "
        f"{free['b_d']:.3f}, b_n {free['b_n']:.3f} (log-likelihood higher by "
        f"{free['log_likelihood'] - pooled['log_likelihood']:,.0f} persons/year × nats, pseudo-R² "
        f"{free['mcfadden_pseudo_r2']:.5f} vs {pooled['mcfadden_pseudo_r2']:.5f}). The {DECADE_PERIOD} constants applied to the {years} "
        f"outflows miss net migration by {old_on_new['net_migration_mae']:,.0f} persons/year per province (MAE).",
        f"- `migration_net_by_age_{suffix}.csv` — cohort residual on the single window 31 Dec {first - 1} → 31 Dec "
        f"{last} (moves of {years}, each year weighted equally). Check vs observed O-D nets: mean absolute gap "
        f"{check['mean_absolute_gap']:,.0f} vs mean |net| {check['mean_absolute_observed']:,.0f} persons/year "
        f"(correlation {check['correlation']:.4f})."
        + (
            f" The {GUNWI_TRANSFER_YEAR} population is restated on the 2022 boundaries (Gunwi-gun back in Gyeongbuk, "
            "`restate_gunwi`), so the transfer of 2023-07-01 is not counted as migration."
            if last >= GUNWI_TRANSFER_YEAR
            else ""
        ),
        f"- `migration_logit_by_age_{suffix}.csv`, `migration_age_fit_{suffix}.json` — as `migration_logit_by_age.csv`: "
        f"movers = Rogers–Castro schedule × {years} outflow rates × mean population of 31 Dec {first - 1}–{last - 1}; "
        f"targets = the residual nets reconciled to the observed {years} regional nets (mean |adjustment| "
        f"{recon['mean_absolute_adjustment']:,.0f}, max {recon['max_absolute_adjustment']:,.0f} persons/year); exact "
        f"solution (net MAE {report['net_mae']['fitted']:.1g}).",
        "",
        f"Observed net migration, persons/year ({DECADE_PERIOD} vs {period}; 15–29: reconciled age-group "
        f"targets, periods {default_report['calibration_period']} vs {report['calibration_period']}), and the shift of "
        "the pooled constant α_j:",
        "",
        f"| region | net {DECADE_PERIOD} | net {period} | 15–29 {DECADE_PERIOD} | 15–29 {period} | Δα_j |",
        "|---|---|---|---|---|---|",
    ]
    for code in codes:
        lines.append(
            f"| {code} {names[code]} | {net_old[code]:+,.0f} | {net_new[code]:+,.0f} | {young_old[code]:+,.0f} | "
            f"{young_new[code]:+,.0f} | {shift[code]:+.3f} |"
        )
    lines += [
        "",
        "Caveats:",
        "",
        f"- {years} still contains the Sejong build-up (net {net_new['36']:+,.0f} a year) and the capital region's "
        "return to net inflow ("
        + ", ".join(f"{year} {net:+,}" for year, net in capital.items())
        + "): a shorter window is more recent, not more stationary.",
        "- Five years of flows give noisier constants than ten (single-year net-migration MAE of the pooled logit "
        + ", ".join(f"{year} {value:,.0f}" for year, value in pooled["net_migration_mae_by_year"].items())
        + " persons/year); the 2001–2010 ties are five years older relative to the window.",
        "",
    ]
    return "\n".join(lines)


def _write_section(path: Path, header: str, section: str) -> None:
    """Append the section titled ``header`` (an exact heading line), or replace an earlier version of it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Korea region pack — provenance\n"
    lines = text.split("\n")
    if header in lines:
        start = text.find(f"\n{header}\n") + 1 if not text.startswith(f"{header}\n") else 0
        following = text.find("\n## ", start + len(header))
        text = text[:start] + section + ("" if following == -1 else text[following:])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    from sim.inputs.data import DATA_DIR
    from sim.tools.build.__main__ import DEFAULT_SHARED

    build(DEFAULT_SHARED, DATA_DIR / "korea")
