"""Policy effects over seeds: the additionality ledger of a package, paired run by paired run.

``run`` pairs a policy run with its baseline (the same scenario without levers, the same seed:
common random numbers) and computes the additionality ledger (``sim.results.ledger``). This module repeats
that over seeds and summarises the package's ledger in chosen years, nationally and, when the
package reaches only some regions, for the targeted regions and the rest: gross jobs in supported
firms, displacement, leakage, net jobs, persons, young persons and young women retained, and
spending, each with its mean and 95 % Student-t interval over seeds (``sim.experiments.experiment.t_factor``),
and the costs per gross job, per net job and per person retained as ratios of means.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import RegsimError
from sim.experiments.experiment import summarise
from sim.inputs.pack import capital_regions
from sim.inputs.scenario import Scenario
from sim.model.metrics import cost_per_job_krw
from sim.results.ledger import ALL, SUMMARY_COSTS, SUMMARY_MEASURES
from sim.results.run import run

NATIONAL, TARGETED, REST = "national", "targeted", "rest"


def paired_effects(
    scenario: Scenario | str | Path, seeds: Iterable[int], years: Iterable[int], scale: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed and summary tables of the package's additionality ledger in ``years``.

    Per seed, year and area (``national``; with a package that reaches only some regions also
    ``targeted``, the regions it supported or spent in by the last year in any seed, and ``rest``):
    the ``SUMMARY_MEASURES`` columns (persons, against the same seed's baseline; spending cumulative, KRW).
    The summary (``summarise_effects``) gives mean and 95 % interval of each and the ``SUMMARY_COSTS``. The
    summary's ``attrs["targeted_regions"]`` lists the targeted region codes (empty: national only).
    """
    years = sorted(set(years))
    if not years:
        raise RegsimError("no year to report: give at least one")
    ledgers = []
    for seed in seeds:
        result = run(scenario, seed=seed, scale=scale, until=max(years))
        if not result.metadata["paired_baseline"]:
            raise RegsimError(f"scenario {result.metadata['scenario']!r} has no levers: nothing to compare with its baseline")
        available = sorted(result.ledger["year"].unique())
        for year in years:
            if year not in available:
                raise RegsimError(f"year {year} is outside the run ({available[0]}–{available[-1]})")
        ledgers.append((seed, result.ledger))
    targeted = targeted_regions([ledger for _, ledger in ledgers])
    per_seed = pd.concat([ledger_areas(ledger, years, targeted).assign(seed=seed) for seed, ledger in ledgers], ignore_index=True)
    per_seed = per_seed[["seed", "year", "area", *SUMMARY_MEASURES]]
    summary = summarise_effects(per_seed)
    regions = sorted(set(ledgers[0][1]["region"]) - {ALL}) if ledgers else []
    summary.attrs |= {"targeted_regions": targeted, "regions": regions}
    return per_seed, summary


def targeted_regions(ledgers: Iterable[pd.DataFrame]) -> list[str]:
    """Region codes the package reached (supported a firm or spent money) by the last year of any
    ledger; empty when that is every region (or none), so that only the national area is shown."""
    reached: set[str] = set()
    codes: set[str] = set()
    for ledger in ledgers:
        package = ledger[(ledger["lever"] == ALL) & (ledger["region"] != ALL)]
        last = package[package["year"] == package["year"].max()]
        codes |= set(last["region"])
        reached |= set(last.loc[last["targeted"], "region"])
    return [] if not reached or reached == codes else sorted(reached)


def ledger_areas(ledger: pd.DataFrame, years: Iterable[int], targeted: list[str]) -> pd.DataFrame:
    """The package's ledger in ``years`` by area: ``national`` (the region "all" row) and, if
    ``targeted`` is not empty, the sums over the ``targeted`` regions and over the ``rest``."""
    package = ledger[ledger["lever"] == ALL]
    rows = []
    for year in years:
        in_year = package[package["year"] == year]
        areas = {NATIONAL: in_year[in_year["region"] == ALL]}
        if targeted:
            regional = in_year[in_year["region"] != ALL]
            areas[TARGETED] = regional[regional["region"].isin(targeted)]
            areas[REST] = regional[~regional["region"].isin(targeted)]
        for area, part in areas.items():
            rows.append({"year": year, "area": area, **{m: float(part[m].sum(min_count=1)) for m in SUMMARY_MEASURES}})
    return pd.DataFrame(rows)


def summarise_effects(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t-interval over seeds per year and area (``<measure>_mean/_low/_high``), and the
    ``SUMMARY_COSTS`` as ratios of means (NaN unless spending and the denominator are positive)."""
    summary = summarise(per_seed, list(SUMMARY_MEASURES), by=["year", "area"])
    for cost, (denominator, _) in SUMMARY_COSTS.items():
        summary[cost] = cost_per_job_krw(summary["spending_krw_mean"], summary[f"{denominator}_mean"])
    return summary


def area_label(area: str, targeted: list[str], regions: list[str] | None = None) -> str:
    """A column header for an area: national, the targeted regions (named if they are all the
    non-capital provinces of ``regions``) and the rest."""
    if area == NATIONAL:
        return "national"
    capital = set(capital_regions())
    non_capital = bool(targeted) and regions is not None and set(targeted) == set(regions) - capital
    if area == TARGETED:
        return "non-capital provinces (targeted)" if non_capital else "targeted regions"
    return "capital region (rest)" if non_capital else "other regions"


def effects_table(summary: pd.DataFrame, year: int, target_jobs: float | None = None) -> pd.DataFrame:
    """One year of the summary as text: a row per measure, a column per area; mean [95 % interval].

    ``target_jobs``: a programme's own target (hires in supported firms, e.g. 3,623 for the 2023 MSS
    plan), shown in the row after gross jobs, national column, for comparison with gross jobs.
    """
    targeted = summary.attrs.get("targeted_regions", [])
    rows = summary[summary["year"] == year].set_index("area")
    areas = [area for area in (NATIONAL, TARGETED, REST) if area in rows.index]
    table: dict[str, list[str]] = {"measure": []}
    for area in areas:
        table[area_label(area, targeted, summary.attrs.get("regions"))] = []

    def add(label: str, cells: list[str]) -> None:
        table["measure"].append(label)
        for column, cell in zip(list(table)[1:], cells):
            table[column].append(cell)

    for measure, label in SUMMARY_MEASURES.items():
        if measure == "spending_krw":
            add(f"{label} (bn KRW)", [_interval(rows.loc[a], measure, 1e9, 1) for a in areas])
            continue
        add(f"{label} (persons)", [_interval(rows.loc[a], measure) for a in areas])
        if measure == "gross_jobs" and target_jobs is not None:
            add("programme target: hires in supported firms (persons)", [f"{target_jobs:,.0f}"] + ["" for _ in areas[1:]])
    for cost, (_, label) in SUMMARY_COSTS.items():
        add(f"{label} (m KRW, ratio of means)", ["–" if pd.isna(rows.loc[a, cost]) else f"{rows.loc[a, cost] / 1e6:,.1f}" for a in areas])
    return pd.DataFrame(table)


def _interval(row: pd.Series, measure: str, scale: float = 1.0, digits: int = 0) -> str:
    mean, low, high = (row[f"{measure}_{part}"] for part in ("mean", "low", "high"))
    if pd.isna(mean):
        return "–"
    text = f"{mean / scale:+,.{digits}f}" if scale == 1.0 else f"{mean / scale:,.{digits}f}"
    if not pd.isna(low) and not np.isclose(high, low, rtol=1e-9, atol=0.0):
        text += f" [{low / scale:+,.{digits}f}, {high / scale:+,.{digits}f}]"
    return text
