"""Running one scenario (results layer): what commands and experiments call.

``run`` builds a model from a scenario, simulates it year by year and returns tables
(pandas DataFrames) with the run's provenance; ``RunResult.write`` stores them.
``load_scenario`` and ``scenario_from_dict`` read a scenario with its lever entries resolved
against the lever registry (``sim.inputs.scenario`` alone checks only the file's shape and data).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import RegsimError
from sim.inputs import scenario as scenario_files
from sim.inputs.scenario import Scenario
from sim.model.levers.base import check_levers
from sim.model.metrics import add_municipal_counts, add_paired_differences, municipalities_table, national_table, regions_table
from sim.model.regional_model import RegionalModel
from sim.provenance import git_commit, package_version
from sim.results.ledger import SPENDING_COLUMNS, SUPPORT_COLUMNS, additionality_ledger, empty_ledger, firm_jobs_frame, records_frame
from sim.results.store import write_tables

ProgressCallback = Callable[[int, int], None]
"""Called after each simulated year with (years done, years in total)."""


@dataclass
class RunResult:
    """Tables of one run and its provenance.

    ``ledger``: the additionality ledger against the paired baseline (``sim.results.ledger``; no rows when
    the run is not paired). ``support``: the firms each lever supported directly (year, lever, firm,
    region, establishments). ``firm_jobs``: each year's jobs by firm identity (``sim.results.ledger.
    firm_jobs_frame``), kept only with ``run(..., keep_firm_jobs=True)`` and never written.
    """

    regions: pd.DataFrame
    national: pd.DataFrame
    lever_spending: pd.DataFrame
    metadata: dict = field(default_factory=dict)
    ledger: pd.DataFrame = field(default_factory=empty_ledger)
    support: pd.DataFrame = field(default_factory=lambda: records_frame([], SUPPORT_COLUMNS))
    firm_jobs: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None  # one row per (year, si-gun-gu) at ``resolution: sigungu``

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tables by their name in ``sim.results.store.TABLES`` (regions, national, levers, ledger, and
        municipalities at ``resolution: sigungu``)."""
        tables = {"regions": self.regions, "national": self.national, "levers": self.lever_spending, "ledger": self.ledger}
        return tables if self.municipalities is None else tables | {"municipalities": self.municipalities}

    def write(self, out: Path) -> Path:
        """Write the run's tables (``sim.results.store.TABLES``) as Parquet and ``run.json``, each atomically;
        no figure (``sim.analysis.plots.run_summary_figure`` draws one)."""
        return write_tables(out, self.tables(), self.metadata)


def run(
    scenario: Scenario | str | Path,
    seed: int = 0,
    scale: int | None = None,
    until: int | None = None,
    progress: ProgressCallback | None = None,
    paired_baseline: bool = True,
    keep_firm_jobs: bool = False,
) -> RunResult:
    """Simulate ``scenario`` (a Scenario or a YAML path) with ``seed``; optional overrides of
    ``scale`` (persons per agent) and the last year ``until``.

    A scenario with levers is also run without them, with the same seed (common random numbers),
    and the paired differences (``jobs_created``, ``population_retained``) are added, and the
    additionality ledger (``RunResult.ledger``, ``sim.results.ledger``) is computed from both runs; with
    ``paired_baseline=False`` (a caller that runs its own baseline) the differences are zero and the
    ledger has no rows (``paired_ledger`` computes it from two results kept with ``keep_firm_jobs``).
    ``keep_firm_jobs``: keep every firm's yearly jobs on the result (memory grows with firms × years).
    """
    scenario = _resolve(scenario, scale=scale, end_year=until)
    started = time.perf_counter()
    years = scenario.end_year - scenario.start_year
    paired = bool(scenario.levers) and paired_baseline
    runs = 2 if paired else 1

    def report(offset: int) -> ProgressCallback | None:
        return None if progress is None else (lambda done, _: progress(offset + done, runs * years))

    model = _simulate(scenario, seed, report(0), record_firm_jobs=paired or keep_firm_jobs)
    baseline = None
    ledger = empty_ledger()
    codes = [region.code for region in model.regions]
    policy_regions = regions_table(model)
    support = model.support_table()
    if paired:
        base_model = _simulate(scenario.without_levers(), seed, report(years), record_firm_jobs=True)
        baseline = regions_table(base_model)
        supported = set(support["firm"])  # other firms are summed by region: a small table
        ledger = additionality_ledger(
            firm_jobs_frame(model.firm_jobs, codes, firms=supported),
            firm_jobs_frame(base_model.firm_jobs, codes, firms=supported),
            support,
            model.lever_spending,
            policy_regions,
            baseline,
            codes,
        )
        del base_model
    regions = add_paired_differences(policy_regions, baseline)
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
    spending = records_frame(model.lever_spending, SPENDING_COLUMNS)
    national = national_table(regions, capital)
    municipalities = None
    if model.municipal is not None:
        municipalities = municipalities_table(model)
        national = add_municipal_counts(national, municipalities)
    return RunResult(
        regions=regions,
        national=national,
        lever_spending=spending,
        metadata=metadata,
        ledger=ledger,
        support=support,
        firm_jobs=firm_jobs_frame(model.firm_jobs, codes) if keep_firm_jobs else None,
        municipalities=municipalities,
    )


def paired_ledger(policy: RunResult, baseline: RunResult) -> pd.DataFrame:
    """The additionality ledger of ``policy`` against ``baseline``: two runs with the same seed (the
    baseline the same scenario without levers), both made with ``run(..., keep_firm_jobs=True)``."""
    if policy.firm_jobs is None or baseline.firm_jobs is None:
        raise RegsimError("paired_ledger: run both with keep_firm_jobs=True")
    if policy.metadata.get("seed") != baseline.metadata.get("seed"):
        raise RegsimError(f"paired_ledger: seeds differ ({policy.metadata.get('seed')} and {baseline.metadata.get('seed')})")
    codes = list(dict.fromkeys(policy.regions["region"].astype(str)))
    return additionality_ledger(
        policy.firm_jobs,
        baseline.firm_jobs,
        policy.support,
        policy.lever_spending,
        policy.regions,
        baseline.regions,
        codes,
    )


def _simulate(scenario: Scenario, seed: int, progress: ProgressCallback | None, record_firm_jobs: bool = False) -> RegionalModel:
    model = RegionalModel(scenario, seed=seed, record_firm_jobs=record_firm_jobs)
    years = scenario.end_year - scenario.start_year
    while model.running:
        model.step()
        if progress is not None:
            progress(int(model.time), years)
    return model


def load_scenario(path: str | Path, **overrides) -> Scenario:
    """A scenario file read and validated (``sim.inputs.scenario.load_scenario``) with its levers resolved
    against the lever registry: how every command and experiment reads a scenario file."""
    return check_levers(scenario_files.load_scenario(path, **overrides), str(path))


def scenario_from_dict(raw: dict, source: str = "<scenario>") -> Scenario:
    """A merged mapping validated (``sim.inputs.scenario.scenario_from_dict``) with its levers resolved."""
    return check_levers(scenario_files.scenario_from_dict(raw, source=source), source)


def _resolve(scenario: Scenario | str | Path, **overrides) -> Scenario:
    if isinstance(scenario, Scenario):
        changes = {key: value for key, value in overrides.items() if value is not None}
        if not changes:
            return scenario
        return scenario_from_dict({**scenario.model_dump(), **changes}, source=f"scenario {scenario.name!r}")
    return load_scenario(scenario, **overrides)
