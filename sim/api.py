"""The Python interface: what the CLI calls, for notebooks and scripts too.

``run`` builds a model from a scenario, simulates it year by year and returns tables
(pandas DataFrames) with the run's provenance; ``RunResult.write`` stores them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import RegsimError
from sim.metrics import add_paired_differences, national_table, regions_table
from sim.model import RegionalModel
from sim.provenance import git_commit, package_version
from sim.scenario import Scenario, load_scenario, scenario_from_dict

ProgressCallback = Callable[[int, int], None]
"""Called after each simulated year with (years done, years in total)."""


@dataclass
class RunResult:
    """Tables of one run and its provenance."""

    regions: pd.DataFrame
    national: pd.DataFrame
    lever_spending: pd.DataFrame
    metadata: dict = field(default_factory=dict)

    def write(self, out: Path, figure: bool = True) -> Path:
        """Write ``regions.parquet``, ``national.parquet``, ``levers.parquet``, ``run.json`` (and ``summary.png``)."""
        out = Path(out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegsimError(f"cannot create output folder {out}: {exc.strerror}") from None
        self.regions.to_parquet(out / "regions.parquet", index=False)
        self.national.to_parquet(out / "national.parquet", index=False)
        self.lever_spending.to_parquet(out / "levers.parquet", index=False)
        (out / "run.json").write_text(json.dumps(self.metadata, indent=2) + "\n", encoding="utf-8")
        if figure:
            from sim.plots import run_summary_figure

            run_summary_figure(self).savefig(out / "summary.png", dpi=120)
        return out


def run(
    scenario: Scenario | str | Path,
    seed: int = 0,
    scale: int | None = None,
    until: int | None = None,
    progress: ProgressCallback | None = None,
    paired_baseline: bool = True,
) -> RunResult:
    """Simulate ``scenario`` (a Scenario or a YAML path) with ``seed``; optional overrides of
    ``scale`` (persons per agent) and the last year ``until``.

    A scenario with levers is also run without them, with the same seed (common random numbers),
    and the paired differences (``jobs_created``, ``population_retained``) are added; with
    ``paired_baseline=False`` (batches that run their own reference) they are zero.
    """
    scenario = _resolve(scenario, scale=scale, end_year=until)
    started = time.perf_counter()
    years = scenario.end_year - scenario.start_year
    paired = bool(scenario.levers) and paired_baseline
    runs = 2 if paired else 1

    def report(offset: int) -> ProgressCallback | None:
        return None if progress is None else (lambda done, _: progress(offset + done, runs * years))

    model = _simulate(scenario, seed, report(0))
    baseline = None
    if paired:
        baseline = regions_table(_simulate(scenario.model_copy(update={"levers": []}), seed, report(years)))
    regions = add_paired_differences(regions_table(model), baseline)
    capital = [region.code for region in model.regions if region.capital_region]
    metadata = {
        "scenario": scenario.name,
        "scenario_hash": scenario.content_hash(),
        "seed": seed,
        "scale": scenario.scale,
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "package_version": package_version(),
        "git_commit": git_commit(),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "agents_at_start": int(regions.loc[regions["year"] == scenario.start_year, "population"].sum() / scenario.scale),
        "capital_region": capital,
        "paired_baseline": baseline is not None,
        "scenario_resolved": scenario.model_dump(mode="json"),
    }
    spending = pd.DataFrame(model.lever_spending, columns=["year", "lever", "region", "spending_krw"])
    return RunResult(regions=regions, national=national_table(regions, capital), lever_spending=spending, metadata=metadata)


def _simulate(scenario: Scenario, seed: int, progress: ProgressCallback | None) -> RegionalModel:
    model = RegionalModel(scenario, seed=seed)
    years = scenario.end_year - scenario.start_year
    while model.running:
        model.step()
        if progress is not None:
            progress(int(model.time), years)
    return model


def _resolve(scenario: Scenario | str | Path, **overrides) -> Scenario:
    if isinstance(scenario, Scenario):
        changes = {key: value for key, value in overrides.items() if value is not None}
        if not changes:
            return scenario
        return scenario_from_dict({**scenario.model_dump(), **changes}, source=f"scenario {scenario.name!r}")
    return load_scenario(scenario, **overrides)
