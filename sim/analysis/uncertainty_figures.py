"""Figures of the comparison under uncertainty (matplotlib): rank probabilities, PRIM's peeling
trajectory and box, EVPPI per parameter. Each function returns a Figure; callers save it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from sim.analysis.compare import UNCERTAIN_OUTCOMES, UncertainComparison
from sim.experiments.uncertainty import Discovery


def rank_probability_figure(result: UncertainComparison) -> Figure:
    """One panel per outcome: each scenario's probability of each rank (1 = best), stacked bars."""
    outcomes = list(dict.fromkeys(result.ranks["outcome"]))
    figure, axes = plt.subplots(1, len(outcomes), figsize=(4.6 * len(outcomes), 3.6), sharey=True, squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        rows = result.ranks[result.ranks["outcome"] == outcome].set_index("scenario").drop(columns="outcome")
        places = [c for c in rows.columns]
        colours = plt.cm.viridis(np.linspace(0.15, 0.9, len(places)))
        left = np.zeros(len(rows))
        for place, colour in zip(places, colours):
            share = rows[place].to_numpy(float)
            ax.barh(rows.index, share, left=left, color=colour, label=f"rank {place}")
            left += share
        ax.set_xlim(0, 1)
        ax.set_xlabel("probability over replicates")
        ax.set_title(UNCERTAIN_OUTCOMES[outcome][2], fontsize=9)
        ax.invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, fontsize=8, loc="lower center", ncol=len(labels), frameon=False)  # below the panels, off the bars
    figure.suptitle(f"Rank of each scenario under uncertainty, {result.year} ({result.replicates} replicates)", fontsize=10)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return figure


def discovery_figure(found: Discovery, title: str) -> Figure:
    """PRIM: the peeling trajectory (density against coverage, the chosen box marked) and the chosen
    box's ranges of the restricted parameters as fractions of the draws' ranges."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    trajectory = found.trajectory
    points = left.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res dim"], cmap="viridis", s=18)
    left.scatter([found.coverage], [found.density], s=120, facecolors="none", edgecolors="red", label=f"chosen box {found.chosen}")
    left.set_xlabel("coverage")
    left.set_ylabel("density")
    left.set_title("peeling trajectory", fontsize=9)
    left.legend(fontsize=8)
    figure.colorbar(points, ax=left, label="restricted parameters")
    box = found.box[found.box["restricted"]]
    if box.empty:
        right.text(0.5, 0.5, "no parameter restricted", ha="center", va="center")
        right.set_axis_off()
    else:
        for i, row in enumerate(box.itertuples()):
            span = row.draws_high - row.draws_low
            low, high = (row.low - row.draws_low) / span, (row.high - row.draws_low) / span
            right.plot([0, 1], [i, i], lw=6, color="lightgrey")
            right.plot([low, high], [i, i], lw=6, color="tab:red")
        labels = [f"{row.parameter}\n{row.low:.3g}–{row.high:.3g} (quasi-p {row.quasi_p:.2g})" for row in box.itertuples()]
        right.set_yticks(range(len(box)), labels, fontsize=7)
        right.set_xlim(0, 1)
        right.set_xlabel("position in the draws' range")
        right.set_title("chosen box: restricted parameters (grey: range drawn)", fontsize=9)
        right.invert_yaxis()
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def evppi_figure(result: UncertainComparison) -> Figure:
    """EVPPI of each parameter (horizontal bars), one panel per outcome, with the EVPI as a line."""
    outcomes = list(dict.fromkeys(result.evppi["outcome"]))
    figure, axes = plt.subplots(
        1, len(outcomes), figsize=(4.6 * len(outcomes), 0.35 * result.evppi["parameter"].nunique() + 1.8), squeeze=False
    )
    for ax, outcome in zip(axes[0], outcomes):
        rows = result.evppi[result.evppi["outcome"] == outcome].sort_values("evppi")
        ax.barh(rows["parameter"], rows["evppi"], color="tab:blue")
        ax.axvline(rows["evpi"].iloc[0], color="grey", ls="--", label="EVPI (all, with seed)")
        if rows["evpi"].iloc[0] == 0:
            ax.text(
                0.5,
                0.5,
                f"{rows['best_on_mean'].iloc[0]}\nis best in every replicate:\nno information changes the choice",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=8,
            )
            ax.set_xlim(0, 1)
        ax.set_xlabel("jobs" if outcome == "net_jobs" else "persons")
        ax.set_title(UNCERTAIN_OUTCOMES[outcome][2], fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    axes[0][-1].legend(fontsize=8)
    figure.suptitle(f"Expected value of partial perfect information, {result.year}", fontsize=10)
    figure.tight_layout()
    return figure
