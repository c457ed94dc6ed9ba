"""The additionality ledger: a policy's jobs read from gross to net, the way evaluators do.

A policy run and its baseline (the same scenario without levers, the same seed: common random
numbers) are compared firm by firm and region by region:

- **gross jobs**: jobs in the firms a lever supported (at or before the year), policy run minus the
  same firms in the baseline run. Comparing the same firms removes deadweight: the jobs those firms
  would have had anyway. A firm absent in one run (exited, or not yet born) counts 0 there.
- **displacement**: in *targeted* regions (where the package supported a firm or spent money up to
  the year), net regional jobs minus gross jobs: jobs the supported firms took from other firms of
  the region (negative) or the local multiplier (positive). Zero in the other regions.
- **leakage**: net jobs in regions *not* targeted (workers drawn from, or demand spilled to, other
  regions). Zero in targeted regions.
- **net jobs**: jobs at all firms of the region, policy minus baseline; national for region "all".

so that, exactly, ``net_jobs = gross_jobs + displacement_jobs + leakage_jobs`` in every row of the
package (lever ``"all"``), and each region "all" row is the sum of the region rows. The functions
here are pure: they take tables (pandas DataFrames, or FirmJobs-like records for ``firm_jobs_frame``)
and import no model.

Inputs (long tables; ``region`` is always the KOSIS two-digit code string):

- firm jobs, from ``firm_jobs_frame``: ``year`` (31 December; the start year's row is the initial
  state), ``firm`` (persistent identity ``uid``, the same firm in both runs), ``region``, ``jobs``
  (filled jobs, persons).
- support: ``year``, ``lever`` (label), ``firm``, ``region``, ``establishments`` (establishments of
  that firm agent the lever supported in that year).
- spending: ``year``, ``lever``, ``region``, ``spending_krw`` (KRW spent in the year).
- regions tables of both runs (``sim.model.metrics.regions_table``): ``year``, ``region``, ``population``,
  ``persons_20_39``, ``women_20_39`` (persons at 31 December).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.model.metrics import cost_per_job_krw

ALL = "all"
"""The ``lever`` of the whole package's rows and the ``region`` of the national rows."""

OTHER_FIRMS = -1
"""``firm`` of a row that stands for every firm of the region not kept individually (``firm_jobs_frame(..., firms=…)``)."""

FIRM_JOBS_COLUMNS = ("year", "firm", "region", "jobs", "demand")
SUPPORT_COLUMNS = ("year", "lever", "firm", "region", "establishments")
SPENDING_COLUMNS = ("year", "lever", "region", "spending_krw")

LEDGER_COLUMNS: dict[str, str] = {
    "year": "31 December of the year (stocks); spending and support up to and including the year",
    "lever": 'lever label, or "all" (the whole package)',
    "region": 'KOSIS two-digit region code, or "all" (national: the sum of the region rows)',
    "targeted": "the package (a lever's rows: the lever) supported a firm or spent money in the region up to the year (national: in any region)",
    "supported_firms": "firm agents (distinct identities) supported at or before the year: the firms gross_jobs counts",
    "supported_establishments": 'establishments supported in the year (a firm supported by several levers counted once in "all")',
    "gross_jobs": "jobs in supported firms, policy minus the same firms in the baseline (persons; deadweight removed)",
    "gross_labour_demand": "jobs the supported firms want (their labour demand), policy minus baseline (persons): the continuous quantity behind gross_jobs, which counts whole worker agents of `scale` persons",
    "displacement_jobs": "targeted regions: net_jobs - gross_jobs; 0 elsewhere (persons; NaN per lever)",
    "leakage_jobs": "regions not targeted: net_jobs; 0 in targeted regions (persons; NaN per lever)",
    "net_jobs": "jobs at all firms of the region, policy minus baseline (persons; NaN per lever)",
    "persons_retained": "population, policy minus baseline (persons; NaN per lever)",
    "young_persons_retained": "persons aged 20-39, policy minus baseline (persons; NaN per lever)",
    "young_women_retained": "women aged 20-39, policy minus baseline (persons; NaN per lever)",
    "spending_krw": "lever spending from the start up to and including the year (KRW)",
    "cost_per_gross_job_krw": "spending_krw / gross_jobs (KRW per person; NaN unless both are positive)",
    "cost_per_net_job_krw": "spending_krw / net_jobs (KRW per person; NaN unless both are positive; NaN per lever)",
    "cost_per_person_retained_krw": "spending_krw / persons_retained (KRW per person; NaN unless both are positive; NaN per lever)",
}
"""Columns of the ledger (``ledger.parquet``) with their definitions and units."""

SUMMARY_MEASURES: dict[str, str] = {
    "gross_jobs": "gross jobs in supported firms",
    "gross_labour_demand": "gross labour demand in supported firms",
    "displacement_jobs": "displacement in targeted regions",
    "leakage_jobs": "leakage to other regions",
    "net_jobs": "net jobs",
    "persons_retained": "persons retained",
    "young_persons_retained": "persons aged 20–39 retained",
    "young_women_retained": "women aged 20–39 retained",
    "spending_krw": "spending to date",
}
"""Ledger columns summarised over seeds (``regsim effects``, ``compare``, the report), with their labels."""

SUMMARY_COSTS: dict[str, tuple[str, str]] = {
    "cost_per_gross_job_krw": ("gross_jobs", "cost per gross job"),
    "cost_per_net_job_krw": ("net_jobs", "cost per net job"),
    "cost_per_person_retained_krw": ("persons_retained", "cost per person retained"),
}
"""Costs (KRW per person) over seeds as mean spending over the mean of their denominator, with labels."""

_ADDITIVE = (
    "supported_firms",
    "supported_establishments",
    "gross_jobs",
    "gross_labour_demand",
    "displacement_jobs",
    "leakage_jobs",
    "net_jobs",
    "persons_retained",
    "young_persons_retained",
    "young_women_retained",
    "spending_krw",
)
_PACKAGE_ONLY = ("displacement_jobs", "leakage_jobs", "net_jobs", "persons_retained", "young_persons_retained", "young_women_retained")
_POPULATION = {"persons_retained": "population", "young_persons_retained": "persons_20_39", "young_women_retained": "women_20_39"}


def empty_ledger() -> pd.DataFrame:
    """A ledger without rows (an unpaired run), with the columns and their types."""
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in LEDGER_COLUMNS})
    return frame.astype({"year": "int64", "lever": "str", "region": "str", "targeted": bool})


def firm_jobs_frame(records: Iterable[Any], region_codes: Sequence[str], firms: Iterable[int] | None = None) -> pd.DataFrame:
    """The long firm-jobs table (``year, firm, region, jobs, demand``) of a run's ``model.firm_jobs``.

    ``records``: objects with ``year``, ``uid`` (firm identities), ``region`` (indices into
    ``region_codes``), ``jobs`` (filled, persons) and ``demand`` (wanted, persons; ``jobs`` if absent)
    arrays, one per year. ``firms``: if given, only these
    identities keep their own rows; every other firm is summed into one row per (year, region) with
    ``firm`` = ``OTHER_FIRMS`` (−1), which keeps regional totals (net jobs) exact in a small table.
    """
    codes = np.asarray(region_codes, dtype=object)
    keep = None if firms is None else np.fromiter((int(f) for f in firms), dtype=np.int64)
    parts = []
    for record in records:
        uid = np.asarray(record.uid).astype(np.int64)
        region = np.asarray(record.region).astype(np.int64)
        jobs = np.asarray(record.jobs, dtype=float)
        demand = np.asarray(getattr(record, "demand", record.jobs), dtype=float)
        if keep is not None:
            own = np.isin(uid, keep)
            present = np.flatnonzero(np.bincount(region[~own], minlength=len(codes)) > 0)

            def others(values: np.ndarray, own: np.ndarray = own, present: np.ndarray = present, region: np.ndarray = region) -> np.ndarray:
                return np.bincount(region[~own], weights=values[~own], minlength=len(codes))[present]

            uid = np.concatenate((uid[own], np.full(len(present), OTHER_FIRMS, np.int64)))
            jobs, demand = np.concatenate((jobs[own], others(jobs))), np.concatenate((demand[own], others(demand)))
            region = np.concatenate((region[own], present))
        parts.append(
            pd.DataFrame(
                {
                    "year": np.full(len(uid), int(record.year), np.int64),
                    "firm": uid,
                    "region": codes[region],
                    "jobs": jobs,
                    "demand": demand,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "year": pd.Series(dtype="int64"),
                "firm": pd.Series(dtype="int64"),
                "region": pd.Series(dtype=object),
                "jobs": pd.Series(dtype="float64"),
                "demand": pd.Series(dtype="float64"),
            }
        )
    return pd.concat(parts, ignore_index=True)


def records_frame(records: Iterable[dict], columns: Sequence[str]) -> pd.DataFrame:
    """A list of dict records (``model.lever_spending``) as a table with ``columns``."""
    return pd.DataFrame(list(records), columns=list(columns))


def additionality_ledger(
    policy_jobs: pd.DataFrame,
    baseline_jobs: pd.DataFrame,
    support: pd.DataFrame,
    spending: pd.DataFrame,
    policy_regions: pd.DataFrame,
    baseline_regions: pd.DataFrame,
    region_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The ledger of a policy run against its baseline: one row per (year, lever, region).

    ``lever`` is each lever label (in order of first appearance in ``support`` and ``spending``) or
    ``"all"`` (the package: firms supported by any lever, all spending); ``region`` each code of
    ``region_codes`` (default: every code in the inputs, sorted) or ``"all"`` (national, the sum of
    the region rows). Years: those of ``policy_jobs`` and ``baseline_jobs``. Columns: ``LEDGER_COLUMNS``;
    persons unless ``_krw``.

    Identities (exact for whole-person jobs): in every ``"all"`` row ``net_jobs == gross_jobs +
    displacement_jobs + leakage_jobs``, and the region ``"all"`` rows are the sums of the region rows
    (costs recomputed from the sums). Per-lever rows carry ``supported_firms``,
    ``supported_establishments``, ``gross_jobs``, ``spending_krw`` and ``cost_per_gross_job_krw`` only:
    displacement, leakage, net jobs and retained persons are not separable between levers of one
    package (they arise in one labour market), so they are NaN there. A firm supported by two levers
    counts in both levers' gross jobs and once in the package's, so the levers' gross jobs may sum to
    more than the package's.

    A firm's gross jobs are counted in the region of its support record; from the first year any
    lever (for its lever's rows: that lever) supported it, whether or not it is still supported.
    """
    support = _frame(support, SUPPORT_COLUMNS)
    spending = _frame(spending, SPENDING_COLUMNS)
    policy_jobs, baseline_jobs = _frame(policy_jobs, FIRM_JOBS_COLUMNS), _frame(baseline_jobs, FIRM_JOBS_COLUMNS)
    years = sorted({int(y) for y in policy_jobs["year"]} | {int(y) for y in baseline_jobs["year"]})
    if region_codes is None:
        found = set(policy_jobs["region"]) | set(baseline_jobs["region"]) | set(support["region"]) | set(spending["region"])
        found |= set(policy_regions["region"]) | set(baseline_regions["region"])
        region_codes = sorted(str(code) for code in found)
    codes = [str(code) for code in region_codes]
    levers = list(dict.fromkeys([*map(str, support["lever"]), *map(str, spending["lever"])]))
    grid = pd.MultiIndex.from_product([years, codes], names=["year", "region"])

    # jobs of supported firms in both runs, by firm and year (absent = 0)
    diff = _firm_differences(policy_jobs, baseline_jobs, set(support["firm"].astype(np.int64)))
    blocks = []
    for lever in [ALL, *levers]:
        chosen = support if lever == ALL else support[support["lever"].astype(str) == lever]
        block = pd.DataFrame(index=grid)
        block["supported_firms"], block["gross_jobs"], block["gross_labour_demand"] = _gross(chosen, diff, grid)
        block["supported_establishments"] = _established(chosen, grid)
        paid = spending if lever == ALL else spending[spending["lever"].astype(str) == lever]
        block["spending_krw"] = _cumulative_spending(paid, grid)
        block["targeted"] = (block["supported_firms"] > 0) | (block["spending_krw"] > 0)
        if lever == ALL:
            block["net_jobs"] = _net(policy_jobs, grid) - _net(baseline_jobs, grid)
            block["displacement_jobs"] = np.where(block["targeted"], block["net_jobs"] - block["gross_jobs"], 0.0)
            block["leakage_jobs"] = np.where(block["targeted"], 0.0, block["net_jobs"])
            for column, measure in _POPULATION.items():
                block[column] = _level(policy_regions, measure, grid) - _level(baseline_regions, measure, grid)
        else:
            for column in _PACKAGE_ONLY:
                block[column] = np.nan
        block = block.reset_index()
        national = block.groupby("year", sort=True)[list(_ADDITIVE)].sum(min_count=1).reset_index()
        national["targeted"] = block.groupby("year", sort=True)["targeted"].any().to_numpy()
        national["region"] = ALL
        blocks.append(pd.concat([national, block], ignore_index=True).assign(lever=lever))
    ledger = pd.concat(blocks, ignore_index=True) if blocks else empty_ledger()
    ledger["cost_per_gross_job_krw"] = cost_per_job_krw(ledger["spending_krw"], ledger["gross_jobs"])
    ledger["cost_per_net_job_krw"] = cost_per_job_krw(ledger["spending_krw"], ledger["net_jobs"])
    ledger["cost_per_person_retained_krw"] = cost_per_job_krw(ledger["spending_krw"], ledger["persons_retained"])
    order = {name: i for i, name in enumerate([ALL, *levers])}
    region_order = {name: i for i, name in enumerate([ALL, *codes])}
    ledger = ledger.assign(_l=ledger["lever"].map(order), _r=ledger["region"].map(region_order))
    ledger = ledger.sort_values(["year", "_l", "_r"], kind="stable").drop(columns=["_l", "_r"]).reset_index(drop=True)
    ledger = ledger[list(LEDGER_COLUMNS)]
    return ledger.astype(
        {
            "year": "int64",
            "lever": "str",
            "region": "str",
            "targeted": bool,
            **{c: "float64" for c in LEDGER_COLUMNS if c not in ("year", "lever", "region", "targeted")},
        }
    )


def package_rows(ledger: pd.DataFrame, region: str = ALL) -> pd.DataFrame:
    """The package's (lever ``"all"``) rows of one region (default national), indexed by year."""
    rows = ledger[(ledger["lever"] == ALL) & (ledger["region"] == region)]
    return rows.set_index("year")


def ledger_summary(ledger: pd.DataFrame, years: Iterable[int] | None = None) -> list[str]:
    """One line per year (default: the last) of the package's national row, for a terminal.

    E.g. ``2030 ledger: gross +1,200 jobs in supported firms, displacement −900, leakage −100, net
    +200 national; persons retained +15 (aged 20–39 +10); 572.8 bn KRW; per gross job 0.48 bn KRW,
    per net job 2.86 bn KRW``. An empty ledger gives no lines.
    """
    national = package_rows(ledger)
    if national.empty:
        return []
    wanted = [int(national.index.max())] if years is None else [int(y) for y in years if int(y) in national.index]
    return [_summary_line(year, national.loc[year]) for year in wanted]


def _summary_line(year: int, row: pd.Series) -> str:
    def count(value: float) -> str:
        return "–" if pd.isna(value) else f"{value:+,.0f}".replace("-", "−")

    def bn(value: float) -> str:
        return "–" if pd.isna(value) else f"{value / 1e9:,.2f} bn KRW"

    return (
        f"{year} ledger: gross {count(row['gross_jobs'])} jobs in supported firms, displacement {count(row['displacement_jobs'])}, "
        f"leakage {count(row['leakage_jobs'])}, net {count(row['net_jobs'])} national; persons retained "
        f"{count(row['persons_retained'])} (aged 20–39 {count(row['young_persons_retained'])}); "
        f"{row['spending_krw'] / 1e9:,.1f} bn KRW spent; per gross job {bn(row['cost_per_gross_job_krw'])}, "
        f"per net job {bn(row['cost_per_net_job_krw'])}"
    )


# --- parts -------------------------------------------------------------------------------------
def _frame(table: pd.DataFrame | Iterable[dict] | None, columns: Sequence[str]) -> pd.DataFrame:
    if table is None:
        table = []
    if not isinstance(table, pd.DataFrame):
        table = records_frame(table, columns)
    if "jobs" in columns and "demand" not in table:
        table = table.assign(demand=table["jobs"])  # filled jobs stand for demand where it is not given
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"ledger input lacks columns {missing} (expected {list(columns)})")
    table = table[list(columns)].copy()
    table["region"] = table["region"].astype(str)
    if "firm" in table:
        table["firm"] = table["firm"].astype(np.int64)
    if "year" in table:
        table["year"] = table["year"].astype(np.int64)
    return table


def _firm_differences(policy: pd.DataFrame, baseline: pd.DataFrame, firms: set[int]) -> pd.DataFrame:
    """``year, firm, diff, demand_diff``: jobs and labour demand of ``firms`` in the policy run minus
    the baseline (absent = 0)."""
    keep = list(firms)
    p = policy[policy["firm"].isin(keep)].groupby(["year", "firm"])[["jobs", "demand"]].sum()
    b = baseline[baseline["firm"].isin(keep)].groupby(["year", "firm"])[["jobs", "demand"]].sum()
    both = p.sub(b, fill_value=0.0)
    return both.rename(columns={"jobs": "diff", "demand": "demand_diff"}).reset_index()


def _gross(support: pd.DataFrame, diff: pd.DataFrame, grid: pd.MultiIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(supported firms, gross jobs, gross labour demand) per (year, region) of ``grid``: firms
    supported at or before the year."""
    if support.empty:
        return np.zeros(len(grid)), np.zeros(len(grid)), np.zeros(len(grid))
    first = support.sort_values("year", kind="stable").groupby("firm", sort=False).agg(first=("year", "min"), region=("region", "first"))
    first = first.reset_index()
    years = np.asarray(grid.levels[0])
    # supported firms: each firm counts from its first year on
    cells = first.merge(pd.DataFrame({"year": years}), how="cross")
    cells = cells[cells["year"] >= cells["first"]]
    counts = cells.groupby(["year", "region"]).size().reindex(grid, fill_value=0).to_numpy(float)
    changes = cells.merge(diff, on=["year", "firm"], how="left")[["diff", "demand_diff"]].fillna(0.0)
    gross = changes.groupby([cells["year"].to_numpy(), cells["region"].to_numpy()]).sum()
    gross.index.names = ["year", "region"]
    gross = gross.reindex(grid, fill_value=0.0)
    return counts, gross["diff"].to_numpy(float), gross["demand_diff"].to_numpy(float)


def _established(support: pd.DataFrame, grid: pd.MultiIndex) -> np.ndarray:
    """Establishments supported in each (year, region): each firm once a year (its largest record)."""
    if support.empty:
        return np.zeros(len(grid))
    per_firm = support.groupby(["year", "firm", "region"])["establishments"].max().reset_index()
    return per_firm.groupby(["year", "region"])["establishments"].sum().reindex(grid, fill_value=0.0).to_numpy(float)


def _cumulative_spending(spending: pd.DataFrame, grid: pd.MultiIndex) -> np.ndarray:
    """Spending from the start up to and including each year of ``grid``, by region (KRW)."""
    if spending.empty:
        return np.zeros(len(grid))
    years = list(grid.levels[0])
    codes = list(dict.fromkeys(grid.get_level_values("region")))
    yearly = spending.groupby(["year", "region"])["spending_krw"].sum().unstack("region", fill_value=0.0)
    yearly = yearly.reindex(index=sorted(set(years) | set(yearly.index)), columns=codes, fill_value=0.0)
    cumulative = yearly.cumsum().reindex(index=years)
    return cumulative.to_numpy(float).ravel()  # row-major: year outer, region inner, as the grid


def _net(jobs: pd.DataFrame, grid: pd.MultiIndex) -> np.ndarray:
    return jobs.groupby(["year", "region"])["jobs"].sum().reindex(grid, fill_value=0.0).to_numpy(float)


def _level(regions: pd.DataFrame, measure: str, grid: pd.MultiIndex) -> np.ndarray:
    if regions is None or measure not in regions:
        return np.full(len(grid), np.nan)
    table = regions.assign(region=regions["region"].astype(str), year=regions["year"].astype(np.int64))
    return table.set_index(["year", "region"])[measure].astype("float64").reindex(grid).to_numpy(float)
