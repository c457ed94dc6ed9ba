"""Figures (matplotlib). Each function returns a Figure; callers decide where to save it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def run_summary_figure(result) -> Figure:
    """Four panels of one run: population, capital-region share, provinces at extinction risk, employment."""
    national = result.national
    regions = result.regions
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    meta = result.metadata
    figure.suptitle(f"{meta['scenario']} — seed {meta['seed']}, 1 agent = {meta['scale']} persons")

    axes[0, 0].plot(national["year"], national["population"] / 1e6, color="tab:blue")
    axes[0, 0].set(title="National population", ylabel="million persons")

    axes[0, 1].plot(national["year"], 100 * national["capital_region_share"], color="tab:red")
    axes[0, 1].set(title="Capital-region share of population", ylabel="% (Seoul, Incheon, Gyeonggi)")

    axes[1, 0].step(national["year"], national["regions_at_extinction_risk"], where="post", label="index < 0.5 (at risk)")
    axes[1, 0].step(national["year"], national["regions_at_high_extinction_risk"], where="post", label="index < 0.2 (high risk)")
    axes[1, 0].set(title="Provinces by extinction risk index", ylabel="provinces")
    axes[1, 0].legend(loc="upper left")

    start = regions["year"].min()
    base = regions[regions["year"] == start].set_index("region")["employed"].astype(float)
    for code, rows in regions.groupby("region"):
        axes[1, 1].plot(rows["year"], 100 * rows["employed"].astype(float) / base[code], lw=0.8, alpha=0.7)
    axes[1, 1].plot(national["year"], 100 * national["employed"].astype(float) / float(national["employed"].iloc[0]), color="black", lw=2, label="national")
    axes[1, 1].set(title=f"Employment by province ({start} = 100)", ylabel="index")
    axes[1, 1].legend(loc="lower left")
    for axis in axes.flat:
        axis.set_xlabel("year (31 December)")
        axis.grid(alpha=0.3)
    return figure
