"""Global sensitivity analysis (SALib): Morris screening and Sobol indices of chosen outcomes with
respect to behavioural parameters and lever effect sizes, run through the batch runner.

A sensitivity experiment file (YAML) names one scenario, the scenario fields that vary (any field
path a batch sweep accepts: ``parameters.<section>.<name>``, ``levers[i].params.<name>``,
``levers[i].budget_krw_per_year``) with uniform bounds, and the outcomes::

    name: sensitivity_core
    scenario: ../scenarios/korea_2023_regional_plan_mss.yaml
    method: morris                # morris | sobol
    samples: 8                    # Morris trajectories / Sobol base sample (a power of 2)
    seed: 0                       # seed of the sampler and of the bootstrap intervals
    seeds: 1                      # model seeds per design point (N -> 0..N-1, or a list)
    until: 2035
    parameters:
      parameters.migration.wage_weight: {low: 0.5, high: 1.5}
      levers[0].params.cofunding_rate: {low: 0.6, high: 1.0}
    outcomes:
      non_capital_population_2035: {measure: population, year: 2035, regions: non_capital}
      jobs_created_2030: {measure: jobs_created, year: 2030}
      provinces_at_risk_2035: {measure: provinces_at_risk, year: 2035}

Design: Morris (``SALib.sample.morris``, 4 levels) gives ``samples × (k + 1)`` points for k
parameters; Sobol (``SALib.sample.sobol``, Saltelli's scheme without second-order terms) gives
``samples × (k + 2)``. Every point is run with every model seed (common random numbers across
points). Outcomes:

- a level measure (an additive column of the regions table, e.g. ``population``, ``employed``,
  ``persons_65_plus``) summed over ``regions`` in ``year``;
- ``provinces_at_risk``: the number of ``regions`` whose extinction_risk_index is below
  ``threshold`` (default 0.5) in ``year``;
- a paired difference, ``jobs_created`` (employed) or ``population_retained`` (population): the
  scenario minus the same scenario without levers, with the same parameter values and seed.

A paired outcome adds one lever-free run per point and seed; points that differ only in lever
fields share it (same run key). Outcomes are averaged over seeds per point, then analysed with
``SALib.analyze.morris`` (mu*, sigma, bootstrap interval of mu*, in the outcome's unit per
full parameter range) or ``SALib.analyze.sobol`` (first-order S1 and total ST with intervals).
With two model seeds or more, the spread over seeds gives the seed-noise level of each outcome
(``mu_star_noise`` for Morris, ``noise_share`` of the variance for Sobol; see ``analyse``).

Output folder: the batch layout (``manifest.json``, ``runs/<key>/``, resumable), plus
``sensitivity.json`` (design, provenance, outcome summaries), ``indices.csv`` (one row per
outcome × parameter), ``design.csv`` (parameter values and seed-mean outcomes per point); ``regsim sensitivity`` adds
``sensitivity.png`` (one bar panel per outcome, ``sim.analysis.plots.write_sensitivity_figure``).
"""

from __future__ import annotations

import copy
import importlib.metadata
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.errors import RegsimError, ScenarioError
from sim.experiments.batch import BatchOrigin, BatchProgress, BatchSummary, RunSpec, run_key, run_specs, scenario_identity
from sim.experiments.executors import check_executor
from sim.experiments.experiment import Seeds, check_field_paths, default_bounds, new_results_folder, seed_list, set_path
from sim.inputs.config_files import Bounds, named_scenario, validated_file
from sim.provenance import git_commit, package_version
from sim.results import store
from sim.results.outcomes import Outcome, RegionSets, outcome_level, region_sets
from sim.results.run import load_scenario, scenario_from_dict

MORRIS_LEVELS = 4
"""Grid levels of the Morris design (SALib's default)."""
CONF_LEVEL = 0.95
RESAMPLES = 1000
"""Bootstrap resamples of the confidence intervals."""


class SensitivityError(RegsimError):
    """A sensitivity experiment file is invalid; the message names the file and the field path."""


# --- schema ------------------------------------------------------------------------------------
class SensitivityExperiment(BaseModel):
    """A sensitivity experiment file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    scenario: str = Field(description="scenario file relative to the experiment file")
    method: Literal["morris", "sobol"] = "morris"
    samples: int = Field(ge=2, strict=True, description="Morris trajectories or Sobol base sample N (a power of 2)")
    seed: int = Field(0, ge=0, strict=True, description="seed of the sampler and the bootstrap intervals")
    seeds: Seeds = Field(1, description="model seeds per point: N (0..N-1) or a list")
    until: int | None = Field(None, strict=True, description="last simulated year")
    scale: int | None = Field(None, ge=1, strict=True, description="persons per agent")
    parameters: dict[str, Bounds | None] = Field(
        min_length=1,
        description="scenario field path -> bounds (empty: the parameter's range in parameters.yaml)",
    )
    outcomes: dict[str, Outcome] = Field(min_length=1, description="outcome name -> definition")

    @field_validator("parameters")
    @classmethod
    def _paths(cls, parameters: dict[str, Bounds | None]) -> dict[str, Bounds]:
        """Field paths of the batch language; a parameter without bounds takes its documented range."""
        check_field_paths(parameters)
        bounds = {}
        for path, given in parameters.items():
            documented = default_bounds(path) if given is None else None
            if given is None and documented is None:
                raise ValueError(f"{path}: no range in sim/inputs/data/parameters.yaml; give {{low: ..., high: ...}}")
            bounds[path] = given if given is not None else Bounds(low=documented[0], high=documented[1])
        return bounds

    @model_validator(mode="after")
    def _power_of_two(self) -> SensitivityExperiment:
        n = self.samples
        if self.method == "sobol" and n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise ValueError(f"samples: Sobol needs a power of 2 (found {n}; try {lower} or {2 * lower})")
        return self


@dataclass
class Design:
    """A validated experiment and its runs: SALib design ``x`` [points, parameters], run keys
    [points, seeds] of the scenario and (with paired outcomes) of its lever-free twin."""

    spec: SensitivityExperiment
    path: Path
    content_hash: str
    scenario_name: str
    scenario_hash: str
    problem: dict[str, Any]
    x: np.ndarray
    seeds: list[int]
    keys: np.ndarray
    lever_free_keys: np.ndarray | None
    specs: list[RunSpec]
    regions: RegionSets


@dataclass
class SensitivityResult:
    """What ``run_sensitivity`` did: the batch summary and, if every run finished, the indices."""

    design: Design
    summary: BatchSummary
    indices: pd.DataFrame | None
    outcomes: pd.DataFrame | None


# --- loading and design ------------------------------------------------------------------------
def load_design(path: str | Path) -> Design:
    """Read and validate a sensitivity experiment and build its design and runs; problems are
    SensitivityErrors naming the file and the field."""
    path = Path(path)
    spec, content_hash = validated_file(path, SensitivityExperiment, "sensitivity experiment", SensitivityError)
    scenario_file = named_scenario(path, spec.scenario, SensitivityError)
    try:
        scenario = load_scenario(scenario_file, end_year=spec.until, scale=spec.scale)
    except ScenarioError as exc:
        raise SensitivityError(f"{path}: scenario: {exc}") from None
    base = scenario.model_dump()
    lever_free_base = scenario.without_levers().model_dump()
    regions = region_sets(scenario)
    for name, outcome in spec.outcomes.items():
        _check_outcome(path, name, outcome, scenario, regions)
    for field_path, bounds in spec.parameters.items():
        _check_parameter(path, field_path, bounds, base)

    names = list(spec.parameters)
    problem = {"num_vars": len(names), "names": names, "bounds": [[b.low, b.high] for b in spec.parameters.values()]}
    x = _sample(spec, problem)
    seeds = seed_list(spec.seeds)
    paired = any(outcome.paired for outcome in spec.outcomes.values())
    keys = np.empty((len(x), len(seeds)), dtype=object)
    lever_free = np.empty_like(keys) if paired else None
    specs: list[RunSpec] = []
    for i, row in enumerate(x):
        point = {name: float(value) for name, value in zip(names, row)}
        scenario_dict = copy.deepcopy(base)
        for field_path, value in point.items():
            set_path(scenario_dict, field_path, value)
        specs += _point_runs(keys[i], f"point {i}", scenario.name, point, scenario_dict, seeds, f"{path} point {i}")
        if lever_free is not None:
            free = {name: value for name, value in point.items() if not name.startswith("levers")}
            free_dict = copy.deepcopy(lever_free_base)
            for field_path, value in free.items():
                set_path(free_dict, field_path, value)
            specs += _point_runs(
                lever_free[i],
                f"point {i} lever-free",
                scenario.name,
                free,
                free_dict,
                seeds,
                f"{path} point {i} lever-free",
                reference=True,
            )
    return Design(
        spec=spec,
        path=path,
        content_hash=content_hash,
        scenario_name=scenario.name,
        scenario_hash=scenario.content_hash(),
        problem=problem,
        x=x,
        seeds=seeds,
        keys=keys,
        lever_free_keys=lever_free,
        specs=specs,
        regions=regions,
    )


def _check_outcome(path: Path, name: str, outcome: Outcome, scenario, regions: RegionSets) -> None:
    where = f"{path}: outcomes.{name}"
    unknown = outcome.check_regions(regions)
    if unknown:
        raise SensitivityError(f"{where}.regions: {unknown}")
    municipal = outcome.check_municipalities(regions)
    if municipal:
        raise SensitivityError(f"{where}.{municipal[0]}: {municipal[1]}")
    first = outcome.first_year(scenario.start_year)
    if not first <= outcome.year <= scenario.end_year:
        raise SensitivityError(f"{where}.year: expected a year in {first}-{scenario.end_year} for {outcome.measure}, found {outcome.year}")
    if outcome.paired and not scenario.levers:
        raise SensitivityError(
            f"{where}.measure: {outcome.measure} compares with the lever-free run, but scenario {scenario.name!r} has no levers"
        )


def _check_parameter(path: Path, field_path: str, bounds: Bounds, base: dict[str, Any]) -> None:
    """The scenario must validate with the field at low, high and a fractional value between them."""
    where = f"{path}: parameters.{field_path}"
    for value in (bounds.low, bounds.high, bounds.low + 0.37 * (bounds.high - bounds.low)):
        trial = copy.deepcopy(base)
        try:
            set_path(trial, field_path, value)
        except ValueError as exc:
            raise SensitivityError(f"{where}: {exc}") from None
        try:
            scenario_from_dict(trial, source="scenario")
        except ScenarioError as exc:
            detail = str(exc).removeprefix("scenario: ").removeprefix(f"{field_path}: ")
            raise SensitivityError(f"{where}: {detail} (at {value:g})") from None


def _sample(spec: SensitivityExperiment, problem: dict[str, Any]) -> np.ndarray:
    if spec.method == "morris":
        from SALib.sample import morris  # SALib: sample and analyze share module names; one per method

        return morris.sample(problem, spec.samples, num_levels=MORRIS_LEVELS, seed=spec.seed)
    from SALib.sample import sobol  # as above

    return sobol.sample(problem, spec.samples, calc_second_order=False, seed=spec.seed)


def _point_runs(
    keys: np.ndarray,
    variant: str,
    scenario: str,
    point: dict[str, float],
    scenario_dict: dict[str, Any],
    seeds: list[int],
    source: str,
    reference: bool = False,
) -> list[RunSpec]:
    """One RunSpec per seed of one design point; fills ``keys`` (one per seed)."""
    identity, invalid = scenario_identity(scenario_dict, source)
    runs = []
    for j, seed in enumerate(seeds):
        keys[j] = run_key(identity, seed)
        runs.append(
            RunSpec(
                key=keys[j],
                scenario=scenario,
                variant=variant,
                seed=seed,
                sweep=point,
                scenario_dict=scenario_dict,
                source=source,
                reference=reference,
                invalid=invalid,
                paired_baseline=False,  # lever-free points are in the design
            )
        )
    return runs


# --- running and analysis ----------------------------------------------------------------------
def run_sensitivity(
    experiment_path: str | Path,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: BatchProgress | None = None,
) -> SensitivityResult:
    """Run every point × seed of a sensitivity experiment with the batch runner (``--resume`` skips
    finished runs), then, if every run finished, analyse and write the result files."""
    started = time.perf_counter()
    check_executor(executor, workers, scheduler)
    design = load_design(experiment_path)
    folder = Path(out) if out is not None else new_results_folder(design.spec.name, kind="sensitivity")
    origin = BatchOrigin(design.spec.name, str(design.path), design.content_hash)
    summary = run_specs(
        design.specs, folder, origin, workers=workers, executor=executor, scheduler=scheduler, resume=resume, progress=progress
    )
    if summary.failed:
        return SensitivityResult(design=design, summary=summary, indices=None, outcomes=None)
    runs = outcome_runs(folder, design)
    indices = analyse(design, runs)
    outcomes = write_results(folder, design, runs, indices, wall_time_s=time.perf_counter() - started)
    return SensitivityResult(design=design, summary=summary, indices=indices, outcomes=outcomes)


def outcome_runs(folder: Path, design: Design) -> dict[str, np.ndarray]:
    """Every outcome of every run: outcome name -> array [design points, model seeds]."""
    cache: dict[tuple[str, str], pd.DataFrame] = {}

    def table(key: str, name: str) -> pd.DataFrame:
        if (key, name) not in cache:
            cache[key, name] = store.read_run(folder, key, name)
        return cache[key, name]

    values = {}
    for name, outcome in design.spec.outcomes.items():
        per_run = np.empty(design.keys.shape)
        for index in np.ndindex(design.keys.shape):
            level = outcome_level(table(design.keys[index], outcome.table), outcome, design.regions)
            if outcome.paired:
                level -= outcome_level(table(design.lever_free_keys[index], outcome.table), outcome, design.regions)
            per_run[index] = level
        values[name] = per_run
    return values


def seed_variance(per_run: np.ndarray) -> float | None:
    """Variance of a design point's seed-mean outcome due to the model seeds alone: the mean
    within-point variance over seeds divided by the number of seeds; None with one seed."""
    seeds = per_run.shape[1]
    if seeds < 2:
        return None
    return float(per_run.var(axis=1, ddof=1).mean() / seeds)


def analyse(design: Design, runs: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sensitivity indices of the seed-mean outcomes (``runs``: name -> [points, seeds]), one row
    per outcome × parameter, ranked within each outcome (1 = most influential by mu* for Morris, by
    ST for Sobol). Intervals are bootstrap ``CONF_LEVEL`` half-widths.

    With two seeds or more, the seed noise is estimated from the spread over seeds at each point:
    ``mu_star_noise`` is the mu* that seed noise alone would give, assuming independent noise at
    both ends of a step (common random numbers make it smaller), E|N(0, 2v)| / delta with v the
    variance of a point's seed mean; ``noise_share`` is v over the variance of the outcome over
    the design points (Sobol). Both are NaN with one seed.
    """
    spec, problem = design.spec, design.problem
    frames = []
    for name, per_run in runs.items():
        y = per_run.mean(axis=1)
        noise = seed_variance(per_run)
        noise = np.nan if noise is None else noise
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # a constant outcome has no variance to share out
            if spec.method == "morris":
                from SALib.analyze import morris  # as in _sample

                si = morris.analyze(
                    problem, design.x, y, num_resamples=RESAMPLES, conf_level=CONF_LEVEL, num_levels=MORRIS_LEVELS, seed=spec.seed
                )
                columns = {key: np.asarray(si[key], float) for key in ("mu_star", "mu_star_conf", "sigma", "mu")}
                delta = MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1))
                columns["mu_star_noise"] = np.full(problem["num_vars"], 2 * np.sqrt(noise / np.pi) / delta)
                order = columns["mu_star"]
            else:
                from SALib.analyze import sobol  # as in _sample

                si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONF_LEVEL, seed=spec.seed)
                columns = {key: np.asarray(si[key], float) for key in ("S1", "S1_conf", "ST", "ST_conf")}
                columns["noise_share"] = np.full(problem["num_vars"], noise / np.var(y, ddof=1))
                order = columns["ST"]
        frame = pd.DataFrame(
            {
                "outcome": name,
                "parameter": problem["names"],
                "low": [b[0] for b in problem["bounds"]],
                "high": [b[1] for b in problem["bounds"]],
                "rank": pd.Series(order).rank(ascending=False, method="min", na_option="bottom").astype(int).to_numpy(),
                **columns,
            }
        )
        frames.append(frame.sort_values(["rank", "parameter"], ignore_index=True))
    return pd.concat(frames, ignore_index=True)


# --- output ------------------------------------------------------------------------------------
def write_results(
    folder: Path,
    design: Design,
    runs: dict[str, np.ndarray],
    indices: pd.DataFrame,
    wall_time_s: float,
) -> pd.DataFrame:
    """Write ``sensitivity.json``, ``indices.csv`` and ``design.csv`` to ``folder`` (no figure:
    ``sim.analysis.plots.write_sensitivity_figure``); returns the seed-mean outcomes per design point."""
    spec = design.spec
    outcomes = pd.DataFrame({name: per_run.mean(axis=1) for name, per_run in runs.items()})
    files = store.FOLDERS["sensitivity"]
    store.write_csv(files.path(folder, "indices"), indices)
    points = pd.DataFrame(design.x, columns=design.problem["names"])
    points.insert(0, "point", range(len(points)))
    store.write_csv(files.path(folder, "design"), pd.concat([points, outcomes], axis=1))
    scenario_runs = set(design.keys.ravel())
    lever_free = set() if design.lever_free_keys is None else set(design.lever_free_keys.ravel())
    body = {
        "name": spec.name,
        "description": spec.description,
        "method": spec.method,
        "samples": spec.samples,
        "design": {
            "points": len(design.x),
            "runs": len(scenario_runs | lever_free),
            "scenario_runs": len(scenario_runs),
            "lever_free_runs": len(lever_free),
            **({"levels": MORRIS_LEVELS} if spec.method == "morris" else {"calc_second_order": False}),
        },
        "sampler_seed": spec.seed,
        "model_seeds": design.seeds,
        "confidence_level": CONF_LEVEL,
        "bootstrap_resamples": RESAMPLES,
        "scenario": {"file": str(design.path.parent / spec.scenario), "name": design.scenario_name, "hash": design.scenario_hash},
        "until": spec.until,
        "scale": spec.scale,
        "parameters": {name: {"low": b.low, "high": b.high} for name, b in spec.parameters.items()},
        "outcomes": {
            name: {
                **outcome.model_dump(exclude_none=True),
                "label": outcome.label(),
                "mean": float(outcomes[name].mean()),
                "std": float(outcomes[name].std(ddof=1)),
                "min": float(outcomes[name].min()),
                "max": float(outcomes[name].max()),
                "seed_sd": None if design.keys.shape[1] < 2 else float(np.sqrt(runs[name].var(axis=1, ddof=1).mean())),
            }
            for name, outcome in spec.outcomes.items()
        },
        "experiment_file": str(design.path),
        "experiment_hash": design.content_hash,
        "package_version": package_version(),
        "salib_version": importlib.metadata.version("SALib"),
        "git_commit": git_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(wall_time_s, 3),
        "files": files.files,
    }
    store.write_json(files.path(folder, "marker"), body)
    return outcomes
