"""Policy effects over seeds: paired differences against the baseline with the same seed.

``run`` already pairs a policy run with its baseline (common random numbers); this module
repeats that over seeds and summarises the national effect in chosen years with a 95 % interval
(Student t over seeds), together with the money spent up to that year and the cost per job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.api import run
from sim.errors import RegsimError
from sim.metrics import cost_per_job_krw
from sim.scenario import Scenario


def paired_effects(
    scenario: Scenario | str | Path, seeds: Iterable[int], years: Iterable[int], scale: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed and summary tables of jobs created, population retained and spending by ``years``.

    Per seed and year: ``jobs_created`` and ``population_retained`` (persons, national, against
    the same seed's baseline), ``spending_krw`` (cumulative lever spending up to that year) and
    ``cost_per_job_krw`` (spending / jobs created). The summary gives the mean and a 95 % interval
    over seeds of each, and the cost per job as total spending over total jobs (ratio of means).
    """
    years = sorted(set(years))
    rows = []
    for seed in seeds:
        result = run(scenario, seed=seed, scale=scale, until=max(years))
        if not result.metadata["paired_baseline"]:
            raise RegsimError(f"scenario {result.metadata['scenario']!r} has no levers: nothing to compare with its baseline")
        national = result.national.set_index("year")
        spent = result.lever_spending.groupby("year")["spending_krw"].sum().reindex(national.index, fill_value=0.0).cumsum()
        for year in years:
            if year not in national.index:
                raise RegsimError(f"year {year} is outside the run ({national.index.min()}–{national.index.max()})")
            jobs = float(national.loc[year, "jobs_created"])
            rows.append(
                {
                    "seed": seed,
                    "year": year,
                    "jobs_created": jobs,
                    "population_retained": float(national.loc[year, "population_retained"]),
                    "spending_krw": float(spent.loc[year]),
                    "cost_per_job_krw": float(cost_per_job_krw(spent.loc[year], jobs)),
                }
            )
    per_seed = pd.DataFrame(rows)
    return per_seed, summarise(per_seed)


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t-interval over seeds per year; cost per job as a ratio of means."""
    rows = []
    for year, group in per_seed.groupby("year"):
        row = {"year": year, "seeds": len(group)}
        for column in ("jobs_created", "population_retained", "spending_krw"):
            mean, low, high = _t_interval(group[column].to_numpy(float))
            row |= {f"{column}_mean": mean, f"{column}_low": low, f"{column}_high": high}
        row["cost_per_job_krw"] = float(cost_per_job_krw(row["spending_krw_mean"], row["jobs_created_mean"]))
        rows.append(row)
    return pd.DataFrame(rows)


def _t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half
