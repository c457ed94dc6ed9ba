"""Outcome definitions: every output column is defined here, once.

Region measures are computed from the person and firm arrays at the end of each year (31
December) and scaled to real counts (persons, establishments, KRW). Flow measures (births,
migrants, startups, …) cover the calendar year and are missing (<NA>) in the start year's row,
which is the initial state. National measures are derived from the regional table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model.agents import Municipality, Region
from sim.model.agents.talent import FEMALE

if TYPE_CHECKING:
    from sim.model.regional_model import RegionalModel

EXTINCTION_RISK_THRESHOLD = 0.5
"""A region is at extinction risk when women 20–39 ÷ persons 65+ is below this (Masuda 2014; KEIS)."""
HIGH_EXTINCTION_RISK_THRESHOLD = 0.2
"""Below this the risk is high (KEIS)."""
YOUTH_AGES = slice(20, 40)
"""Ages 20–39 (years, a slice of the age axis): young persons, and the women of the risk index."""
OLD_AGES = slice(65, None)
"""Ages 65 and over: the denominator of the risk index."""
WORKING_AGES = slice(15, 65)
"""Ages 15–64: the working-age population (15 and over: the population of working age of the labour-force survey)."""
YOUTH_LEAVE_AGES = slice(15, 35)
"""Ages 15–34: the young persons whose leaving probability levers scale (``PolicyEffects.youth_leave_multiplier``)."""

REGION_MEASURES: dict[str, str] = {
    "population": "residents at 31 December (persons)",
    "births": "live births to mothers resident in the region during the year (persons)",
    "deaths": "deaths of residents during the year (persons)",
    "in_migrants": "persons moving in from other regions during the year",
    "out_migrants": "persons moving out to other regions during the year",
    "net_migration": "in_migrants - out_migrants (persons)",
    "international_net_migration": "net arrivals from abroad during the year (persons)",
    "women_20_39": "women aged 20-39 at 31 December (persons)",
    "persons_20_39": "persons aged 20-39 at 31 December (young persons, for retention)",
    "persons_65_plus": "persons aged 65 and over at 31 December",
    "extinction_risk_index": f"women_20_39 / persons_65_plus (below {EXTINCTION_RISK_THRESHOLD}: at risk; below {HIGH_EXTINCTION_RISK_THRESHOLD}: high risk)",
    "youth_share": "share of residents aged 20-39 (fraction)",
    "graduates": "residents completing a college or university programme during the year (persons)",
    "employed": "employed residents at 31 December (persons)",
    "unemployed": "residents in the labour force without a job at 31 December (persons)",
    "jobs": "filled jobs at the region's establishments at 31 December (persons, by workplace: employed residents plus in-commuters minus out-commuters)",
    "persons_15_plus": "residents aged 15 and over at 31 December (persons; the population of working age in the labour-force survey)",
    "firms": "establishments at 31 December",
    "startups": "new establishments during the year (startups and university spin-offs)",
    "firm_exits": "establishments closed during the year",
    "innovations": "innovations by the region's firms during the year",
    "rd_spending_krw": "business R&D spending during the year, own and publicly funded (KRW)",
    "lever_spending_krw": "spending of all active policy levers in the region during the year (KRW)",
    "grdp_krw": "gross regional domestic product: value added of the region's firms (KRW per year)",
}
"""Region-year columns of ``regions.parquet`` with their definitions and units."""

FLOW_MEASURES = (
    "births",
    "deaths",
    "in_migrants",
    "out_migrants",
    "net_migration",
    "international_net_migration",
    "graduates",
    "startups",
    "firm_exits",
    "innovations",
    "rd_spending_krw",
    "lever_spending_krw",
)
"""Measures that describe the year's events; missing in the initial row."""

REAL_UNIT_FLOWS = ("startups", "firm_exits", "innovations", "rd_spending_krw", "lever_spending_krw")
"""Flows the model counts in real establishments, innovations and KRW (the rest in person agents)."""

RATIO_MEASURES = ("extinction_risk_index", "youth_share")
"""Measures that are not additive across regions (recomputed nationally from their parts)."""

PAIRED_MEASURES: dict[str, str] = {
    "jobs_created": "employed minus employed in the baseline run (same scenario without levers, same seed; persons)",
    "population_retained": "population minus population in the baseline run (same seed; persons)",
}
"""Region-year columns that compare a policy run with its paired baseline (common random numbers)."""

NATIONAL_EXTRA: dict[str, str] = {
    "capital_region_share": "share of the national population living in the capital region (Seoul, Incheon, Gyeonggi)",
    "regions_at_extinction_risk": f"regions with extinction_risk_index below {EXTINCTION_RISK_THRESHOLD}",
    "regions_at_high_extinction_risk": f"regions with extinction_risk_index below {HIGH_EXTINCTION_RISK_THRESHOLD}",
    "unemployment_rate": "unemployed / (employed + unemployed)",
}
"""Columns of ``national.parquet`` beyond the summed region measures."""


MUNICIPAL_MEASURES: dict[str, str] = {
    "population": "registered residents of the si-gun-gu at 31 December (persons)",
    "births": "live births to mothers resident in the municipality during the year (persons)",
    "deaths": "deaths of residents during the year (persons)",
    "net_migration": "moves in minus moves out during the year, from other municipalities (of any province) and from abroad (persons)",
    "women_20_39": "women aged 20-39 at 31 December (persons)",
    "persons_65_plus": "persons aged 65 and over at 31 December",
    "extinction_risk_index": f"women_20_39 / persons_65_plus (below {EXTINCTION_RISK_THRESHOLD}: at risk; below {HIGH_EXTINCTION_RISK_THRESHOLD}: high risk)",
}
"""Measure columns of ``municipalities.parquet`` (``resolution: sigungu``); keyed by year, municipality (10-digit
MOIS code, text), province (KOSIS 2-digit code) and municipality_name. Population change = births − deaths +
net_migration exactly in every row after the start year."""

MUNICIPAL_KEYS = ("year", "municipality", "province", "municipality_name")

MUNICIPAL_NATIONAL: dict[str, str] = {
    "municipalities_at_extinction_risk": f"si-gun-gu with extinction_risk_index below {EXTINCTION_RISK_THRESHOLD}",
    "municipalities_at_high_extinction_risk": f"si-gun-gu with extinction_risk_index below {HIGH_EXTINCTION_RISK_THRESHOLD}",
}
"""Columns ``national.parquet`` gains at municipal resolution."""


def cost_per_job_krw(spending_krw: np.ndarray | float, jobs_created: np.ndarray | float) -> np.ndarray:
    """Lever spending per job (or per person retained) gained (KRW per person); NaN unless both are positive.

    With no money spent (a reference run, a different baseline) or no jobs gained there is no cost per
    job. The one rule for every cost per unit of outcome: net jobs in ``effects`` and ``compare``, and
    gross jobs, net jobs and persons retained in the additionality ledger (``sim.results.ledger``).
    """
    spending, jobs = np.asarray(spending_krw, dtype=float), np.asarray(jobs_created, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((spending > 0) & (jobs > 0), spending / jobs, np.nan)


def region_measures(model: RegionalModel, initial: bool) -> dict[str, np.ndarray]:
    """All region measures of the model's current state (arrays over regions, real units): persons from
    the agents by region, sex and age (``model.persons``) and by region and labour status
    (``model.labour_status``) that the model counted at the end of the year."""
    t, f, n, scale = model.talent, model.firms, model.n_regions, model.scale
    pyramid = model.persons.astype(float) * scale  # [region, sex, age]
    population = pyramid.sum(axis=(1, 2))
    women_20_39 = pyramid[:, FEMALE, YOUTH_AGES].sum(axis=1)
    persons_20_39 = pyramid[:, :, YOUTH_AGES].sum(axis=(1, 2))
    persons_65_plus = pyramid[:, :, OLD_AGES].sum(axis=(1, 2))
    by_status = model.labour_status.astype(float) * scale  # columns: see TalentPool.status_by_region
    employees = f.employees(t.employer)
    measures = {
        "population": population,
        "women_20_39": women_20_39,
        "persons_20_39": persons_20_39,
        "persons_65_plus": persons_65_plus,
        "extinction_risk_index": _ratio(women_20_39, persons_65_plus),
        "youth_share": _ratio(persons_20_39, population),
        "employed": by_status[:, 1] + by_status[:, 3],
        "unemployed": by_status[:, 2],
        "jobs": np.bincount(f.region, weights=employees, minlength=n).astype(float) * scale,
        "persons_15_plus": pyramid[:, :, WORKING_AGES.start :].sum(axis=(1, 2)),
        "firms": f.count_by_region(n).astype(float),
        "grdp_krw": np.bincount(f.region, weights=f.productivity * employees, minlength=n) * scale,
    }
    flows = {name: values.astype(float) * (1 if name in REAL_UNIT_FLOWS else scale) for name, values in model.flows.items()}
    flows["net_migration"] = flows["in_migrants"] - flows["out_migrants"]
    for name in FLOW_MEASURES:
        measures[name] = np.full(n, np.nan) if initial else flows[name]
    return {name: measures[name] for name in REGION_MEASURES}


def regions_table(model: RegionalModel) -> pd.DataFrame:
    """One row per (year, region) from the model's DataCollector, in real units."""
    raw = model.datacollector.get_agenttype_vars_dataframe(Region).reset_index()
    years = model.datacollector.get_model_vars_dataframe()["year"]
    lookup = {region.unique_id: region for region in model.regions}
    table = pd.DataFrame(
        {
            "year": raw["Step"].map(years).astype("int64"),
            "region": raw["AgentID"].map(lambda i: lookup[i].code),
            "region_name": raw["AgentID"].map(lambda i: lookup[i].region_name),
        }
    )
    for name in REGION_MEASURES:
        table[name] = raw[name].to_numpy()
    return _typed(table.sort_values(["year", "region"], ignore_index=True))


def add_paired_differences(regions: pd.DataFrame, baseline: pd.DataFrame | None) -> pd.DataFrame:
    """The PAIRED_MEASURES columns: differences against the baseline run's table (zero without one)."""
    keys = ["year", "region"]
    if baseline is None:
        return regions.assign(**{name: pd.array([0] * len(regions), dtype="Int64") for name in PAIRED_MEASURES})
    base = regions[keys].merge(baseline[[*keys, "employed", "population"]], on=keys, how="left")
    return regions.assign(
        jobs_created=(regions["employed"] - base["employed"]).astype("Int64"),
        population_retained=(regions["population"] - base["population"]).astype("Int64"),
    )


def national_table(regions: pd.DataFrame, capital_codes: list[str]) -> pd.DataFrame:
    """One row per year: region measures summed, ratios recomputed, and the NATIONAL_EXTRA columns."""
    additive = [name for name in (*REGION_MEASURES, *PAIRED_MEASURES) if name not in RATIO_MEASURES and name in regions]
    grouped = regions.groupby("year")
    national = grouped[additive].sum(min_count=1).reset_index()
    youth = (regions["youth_share"] * regions["population"]).groupby(regions["year"]).sum().to_numpy()
    national["extinction_risk_index"] = _ratio(national["women_20_39"].to_numpy(float), national["persons_65_plus"].to_numpy(float))
    national["youth_share"] = youth / national["population"].to_numpy(float)
    capital = regions[regions["region"].isin(capital_codes)].groupby("year")["population"].sum().to_numpy()
    national["capital_region_share"] = capital / national["population"].to_numpy(float)
    index = regions["extinction_risk_index"]
    national["regions_at_extinction_risk"] = (index < EXTINCTION_RISK_THRESHOLD).groupby(regions["year"]).sum().to_numpy()
    national["regions_at_high_extinction_risk"] = (index < HIGH_EXTINCTION_RISK_THRESHOLD).groupby(regions["year"]).sum().to_numpy()
    labour_force = (national["employed"] + national["unemployed"]).to_numpy(float)
    national["unemployment_rate"] = national["unemployed"].to_numpy(float) / labour_force
    return _typed(national)


def _is_count(name: str) -> bool:
    return name not in RATIO_MEASURES and not name.endswith(("_krw", "_share", "_rate"))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full(len(numerator), np.nan), where=denominator > 0)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as nullable integers (missing flows stay <NA>), KRW and ratios as floats."""
    counts = [name for name in (*REGION_MEASURES, *PAIRED_MEASURES, *NATIONAL_EXTRA) if name in table and _is_count(name)]
    for name in counts:
        table[name] = table[name].round().astype("Int64")
    return table


def municipal_measures(pyramid: np.ndarray, flows: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """The MUNICIPAL_MEASURES of one year (arrays over municipalities, persons): ``pyramid`` persons [municipality,
    sex, age], ``flows`` births, deaths and net_migration by municipality (None in the start year: NaN)."""
    women_20_39 = pyramid[:, FEMALE, YOUTH_AGES].sum(axis=1)
    persons_65_plus = pyramid[:, :, OLD_AGES].sum(axis=(1, 2))
    missing = np.full(len(pyramid), np.nan)
    measures = {
        "population": pyramid.sum(axis=(1, 2)),
        "women_20_39": women_20_39,
        "persons_65_plus": persons_65_plus,
        "extinction_risk_index": _ratio(women_20_39, persons_65_plus),
    } | {name: missing if flows is None else flows[name].astype(float) for name in ("births", "deaths", "net_migration")}
    return {name: measures[name] for name in MUNICIPAL_MEASURES}


def municipalities_table(model: RegionalModel) -> pd.DataFrame:
    """``municipalities.parquet``: one row per (year, municipality) from the model's DataCollector, which reads
    the Municipality agents' measures; counts as nullable integers (flows <NA> in the start year)."""
    raw = model.datacollector.get_agenttype_vars_dataframe(Municipality).reset_index()
    years = model.datacollector.get_model_vars_dataframe()["year"]
    agent = raw["AgentID"].map({municipality.unique_id: municipality for municipality in model.municipalities})
    table = pd.DataFrame(
        {
            "year": raw["Step"].map(years).astype("int64").to_numpy(),
            "index": agent.map(lambda m: m.index).to_numpy(),
            "municipality": agent.map(lambda m: m.code).tolist(),
            "province": agent.map(lambda m: m.province.code).tolist(),
            "municipality_name": agent.map(lambda m: m.municipality_name).tolist(),
        }
    )
    for name in MUNICIPAL_MEASURES:
        values = raw[name].to_numpy(float)
        table[name] = values if name == "extinction_risk_index" else pd.array(values.round(), dtype="Int64")
    return table.sort_values(["year", "index"], ignore_index=True).drop(columns="index")


def empty_municipalities() -> pd.DataFrame:
    """A ``municipalities.parquet`` table without rows (batches of province-resolution runs)."""
    text = {name: pd.Series(dtype=str) for name in MUNICIPAL_KEYS[1:]}
    counts = {name: pd.Series(dtype="Int64") for name in MUNICIPAL_MEASURES if name != "extinction_risk_index"}
    return pd.DataFrame({"year": pd.Series(dtype="int64"), **text, **counts, "extinction_risk_index": pd.Series(dtype=float)})


def add_municipal_counts(national: pd.DataFrame, municipalities: pd.DataFrame) -> pd.DataFrame:
    """``national`` with the MUNICIPAL_NATIONAL columns: municipalities under each risk threshold per year."""
    index = municipalities["extinction_risk_index"]
    counts = pd.DataFrame(
        {
            "municipalities_at_extinction_risk": (index < EXTINCTION_RISK_THRESHOLD).groupby(municipalities["year"]).sum(),
            "municipalities_at_high_extinction_risk": (index < HIGH_EXTINCTION_RISK_THRESHOLD).groupby(municipalities["year"]).sum(),
        }
    ).astype("Int64")
    return national.merge(counts, left_on="year", right_index=True, how="left")
