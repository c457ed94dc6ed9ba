"""How a regional labour-demand shock is absorbed: the Blanchard–Katz decomposition of a batch.

A shock scenario (``shocks:`` in the scenario file) is paired with the reference run of the same seed.
The paired change in the shocked province's jobs (by workplace, J) splits exactly, in logs, into

    Δln J = Δln(J / E)     commuting: jobs filled from other provinces
          + Δln(E / L)     the employment rate of the labour force, 1 − u
          + Δln(L / P)     participation of residents aged 15+
          + Δln P          residents aged 15+ (migration; births and deaths are the same in both runs)

with E employed residents, L = E + unemployed, P residents aged 15+. Each term's share is its mean over
seeds divided by the mean of Δln J (Blanchard & Katz 1992 decompose US states' employment the same
way, without commuting); the README sets them beside the published decompositions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.compare import open_batch

COMPONENTS = {
    "unemployment": "employment rate of the labour force (1 − u)",
    "participation": "participation of residents aged 15+",
    "migration": "residents aged 15+ (migration)",
    "commuting": "jobs filled by residents of other provinces",
}
"""The shares of the decomposition, in the order of the tables and the figure."""

COLUMNS = ("jobs", "employed", "unemployed", "persons_15_plus")


def paired_components(regions: pd.DataFrame) -> pd.DataFrame:
    """Per run and year, Δln J and its four components (columns of ``COMPONENTS``) from region rows
    with the measures of ``COLUMNS`` and their ``_ref`` values (the reference run of the same seed)."""

    def log_ratio(numerator: str, denominator: str | None = None) -> pd.Series:
        mine = regions[numerator] / (regions[denominator] if denominator else 1.0)
        ref = regions[f"{numerator}_ref"] / (regions[f"{denominator}_ref"] if denominator else 1.0)
        return np.log(mine / ref)

    frame = regions[["scenario", "seed", "year"]].copy()
    regions = regions.assign(
        labour_force=regions["employed"] + regions["unemployed"], labour_force_ref=regions["employed_ref"] + regions["unemployed_ref"]
    )
    frame["jobs"] = log_ratio("jobs")
    frame["commuting"] = log_ratio("jobs", "employed")
    frame["unemployment"] = log_ratio("employed", "labour_force")
    frame["participation"] = log_ratio("labour_force", "persons_15_plus")
    frame["migration"] = log_ratio("persons_15_plus")
    return frame


def shares(components: pd.DataFrame, draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per scenario and year: the mean Δln J (%) and each component's share of it (ratio of means over
    seeds) with a 95 % interval from resampling seeds (percentile bootstrap, ``draws`` resamples)."""
    rng = np.random.default_rng(seed)
    rows = []
    for (scenario, year), group in components.groupby(["scenario", "year"], sort=True):
        if not group["jobs"].any():  # the start year, before the shock
            continue
        n = len(group)
        pick = rng.integers(0, n, size=(draws, n))
        jobs = group["jobs"].to_numpy()
        row = {"scenario": scenario, "year": int(year), "seeds": n, "jobs_change_pct": 100 * jobs.mean()}
        for name in COMPONENTS:
            values = group[name].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                resampled = values[pick].mean(axis=1) / jobs[pick].mean(axis=1)
            row[name] = values.mean() / jobs.mean() if jobs.mean() != 0 else np.nan
            row[f"{name}_low"], row[f"{name}_high"] = np.nanpercentile(resampled, [2.5, 97.5])
        rows.append(row)
    return pd.DataFrame(rows)


def absorption(folder: str | Path, region: str) -> pd.DataFrame:
    """The decomposition of every shock scenario of a batch folder in ``region`` (KOSIS code), by year."""
    batch = open_batch(folder)
    regions = batch.regions(COLUMNS)
    regions = regions[(regions["region"] == region) & (regions["scenario"] != batch.reference)]
    return shares(paired_components(regions))


def shock_figure(table: pd.DataFrame, region_name: str = ""):
    """Each margin's part of the change in jobs (% against the baseline, stacked: share × Δln J) by year,
    one panel per shock scenario, with the change in jobs as a line. Parts rather than shares, so that a
    shock that has ended (jobs back near the baseline) shows small bars, not ratios of small numbers."""
    import matplotlib  # matplotlib: only for this figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after use("Agg")

    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5.5 * len(scenarios), 4.2), squeeze=False, sharey=True)
    colours = {"unemployment": "#d95f02", "participation": "#7570b3", "migration": "#1b9e77", "commuting": "#66a61e"}
    for ax, scenario in zip(axes[0], scenarios):
        rows = table[table["scenario"] == scenario].sort_values("year")
        years = rows["year"].to_numpy()
        bottom_pos, bottom_neg = np.zeros(len(rows)), np.zeros(len(rows))
        for name, colour in colours.items():
            values = (rows[name] * rows["jobs_change_pct"]).to_numpy()
            ax.bar(years, values, bottom=np.where(values >= 0, bottom_pos, bottom_neg), color=colour, label=COMPONENTS[name])
            bottom_pos += np.maximum(values, 0)
            bottom_neg += np.minimum(values, 0)
        ax.plot(years, rows["jobs_change_pct"], color="black", marker="o", ms=3, label="jobs (by workplace)")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{scenario}{' — ' + region_name if region_name else ''}", fontsize=10)
        ax.set_xlabel("year")
    axes[0][0].set_ylabel("change against the baseline (%, log points × 100)")
    axes[0][0].legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig
