"""Policy tuning with Optuna: search lever budgets, shares and settings for the best paired outcome.

A tuning experiment file names the scenario whose levers are tuned, the decision variables, an
optional total-budget split and the objectives::

    name: tune_regional_plan
    scenario: ../scenarios/korea_2023_regional_plan_mss.yaml
    seeds: 4                      # model seeds per trial (0..3), or a list
    check_seeds: [100, 101, ...]  # fresh seeds for the final check against the scenario as written
    until: 2035
    trials: 60
    budget:                       # split a fixed yearly total between levers
      total_krw_per_year: 286.4e9
      shares:                     # share of the total per lever, with bounds (fractions)
        levers[0]: {low: 0.0, high: 1.0}
        levers[5]: {low: 0.0, high: 1.0}
    variables:                    # any other scenario field: a range or choices
      levers[0].region_type: {choices: [non_capital, population_decline_areas]}
      levers[0].start: {low: 2024, high: 2027, integer: true}
    objectives:
      - {name: non_capital_population_2035, measure: population, year: 2035, regions: non_capital, direction: maximize}

Objectives are outcomes (``sim.results.outcomes``) with a name and a direction. Each trial is scored by
the paired difference of every objective against the same scenario without levers, with the same
seeds (common random numbers), averaged over the seeds (a paired measure such as ``jobs_created``
is scored the same way as its level, ``employed``). Robust tuning: with an ``uncertainties`` block
(as in batch experiments) each seed also draws one point of the uncertain parameters, used by the
trial and its baseline alike, and ``score: {statistic: quantile, quantile: 0.1}`` (or ``worst``,
default ``mean``) scores a trial by that statistic over its seeds and draws. Shares are drawn
within their bounds and projected onto the bounded simplex (they sum to one; the total is spent
exactly). One objective uses TPE; several use NSGA-II and give a Pareto front.

The study lives in ``DIR/study.db`` (SQLite): running the same command again continues it, and
several processes (``--workers``, or ``regsim tune`` started elsewhere on the same folder) share it.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.errors import RegsimError, ScenarioError
from sim.experiments.batch import Uncertainties, uncertain_parameters, uncertainty_draws, with_draw
from sim.experiments.executors import check_executor, open_executor
from sim.experiments.experiment import RESULTS_DIR, Seeds, get_path, parse_path, seed_list, set_path, t_interval
from sim.experiments.uncertainty import robust_score
from sim.inputs.config_files import named_scenario, validated_file
from sim.inputs.scenario import Scenario
from sim.provenance import git_commit, package_version
from sim.results import store
from sim.results.outcomes import Outcome, outcome_level, region_sets
from sim.results.run import load_scenario, run, scenario_from_dict

FILES = store.FOLDERS["tuning"]
"""What a tuning folder holds (``sim.results.store.FOLDERS``)."""
STUDY_FILE = FILES.files["study"]

TrialProgress = Callable[[int, int], None]
"""Called after each finished trial with (completed trials, trials wanted)."""


class TuningError(RegsimError):
    """A tuning experiment is invalid; the message names the file and the field path."""


# --- schema ------------------------------------------------------------------------------------
class Variable(BaseModel):
    """A decision variable: a range (``low``/``high``, optionally integer or log-scaled) or ``choices``."""

    model_config = ConfigDict(extra="forbid")
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    integer: bool = False
    log: bool = Field(False, description="sample on a log scale (low > 0)")
    choices: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _range_or_choices(self) -> Variable:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either choices or low/high, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (a range) or choices")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scaled range needs low > 0, found {self.low:g}")
        return self


class Share(BaseModel):
    """Bounds of one lever's share of the total budget (fractions of one)."""

    model_config = ConfigDict(extra="forbid")
    low: float = Field(0.0, ge=0, le=1)
    high: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Share:
        if not self.low <= self.high:
            raise ValueError(f"low ({self.low:g}) must not be above high ({self.high:g})")
        return self


class BudgetSplit(BaseModel):
    """A fixed yearly total split between levers; each lever's share is a decision variable."""

    model_config = ConfigDict(extra="forbid")
    total_krw_per_year: float = Field(gt=0, allow_inf_nan=False, description="KRW per year, spent exactly")
    shares: dict[str, Share] = Field(min_length=2, description="levers[i] -> share bounds")

    @field_validator("shares")
    @classmethod
    def _lever_keys(cls, shares: dict[str, Share]) -> dict[str, Share]:
        for key in shares:
            tokens = parse_path(key)
            if len(tokens) != 2 or tokens[0] != "levers" or not isinstance(tokens[1], int):
                raise ValueError(f"{key!r}: expected a lever, e.g. levers[0]")
        return shares

    @model_validator(mode="after")
    def _feasible(self) -> BudgetSplit:
        low = sum(share.low for share in self.shares.values())
        high = sum(share.high for share in self.shares.values())
        if low > 1 + 1e-12 or high < 1 - 1e-12:
            raise ValueError(f"infeasible budget: the shares must sum to 1, but their lows sum to {low:g} and their highs to {high:g}")
        return self

    def lever_indexes(self) -> list[int]:
        """Indexes of the levers whose budget shares are decided."""
        return [int(parse_path(key)[1]) for key in self.shares]


class Objective(Outcome):
    """An outcome to maximise or minimise, scored as the paired difference against the baseline."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column name in the outputs")
    direction: Literal["maximize", "minimize"] = "maximize"


class Score(BaseModel):
    """How a trial's per-replicate objective values become its score (``sim.experiments.uncertainty.robust_score``):
    their mean, a quantile, or the worst case."""

    model_config = ConfigDict(extra="forbid")
    statistic: Literal["mean", "quantile", "worst"] = "mean"
    quantile: float | None = Field(None, gt=0, lt=1, description="statistic quantile: the probability (e.g. 0.1)")

    @model_validator(mode="after")
    def _quantile(self) -> Score:
        if (self.quantile is None) == (self.statistic == "quantile"):
            raise ValueError("statistic quantile needs quantile: p (0 < p < 1); the others take none")
        return self


class TuningExperiment(BaseModel):
    """A tuning experiment file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    scenario: str = Field(description="scenario file relative to the experiment file; its levers are tuned")
    seeds: Seeds = Field(description="N (seeds 0..N-1) or a list: model seeds per trial")
    check_seeds: Seeds | None = Field(None, description="fresh seeds for the final check (N: the N seeds after the tuning seeds)")
    until: int | None = Field(None, strict=True, description="last simulated year (default: the scenario's)")
    scale: int | None = Field(None, ge=1, strict=True, description="persons per agent (default: the scenario's)")
    trials: int = Field(50, ge=1, strict=True, description="completed trials wanted in the study")
    sampler_seed: int = Field(0, ge=0, strict=True)
    budget: BudgetSplit | None = None
    variables: dict[str, Variable] = Field(default_factory=dict)
    objectives: list[Objective] = Field(min_length=1)
    uncertainties: Uncertainties | None = Field(None, description="parameters drawn once per seed (replicate), as in batch experiments")
    score: Score = Field(default_factory=Score, description="score of a trial over its replicates: mean, quantile or worst")

    @model_validator(mode="after")
    def _consistent(self) -> TuningExperiment:
        if self.budget is None and not self.variables:
            raise ValueError("nothing to tune: give budget.shares or variables")
        names = [objective.name for objective in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objective names must differ: {names}")
        if set(self.seed_list()) & set(self.check_seed_list()):
            raise ValueError("check_seeds must not overlap the tuning seeds (the check uses fresh seeds)")
        return self

    def seed_list(self) -> list[int]:
        """The seeds each trial is scored on."""
        return seed_list(self.seeds)

    def check_seed_list(self) -> list[int]:
        """The fresh seeds of the final check (none without ``check_seeds``)."""
        if self.check_seeds is None:
            return []
        if isinstance(self.check_seeds, list):
            return list(self.check_seeds)
        first = max(self.seed_list()) + 1
        return list(range(first, first + self.check_seeds))

    @property
    def directions(self) -> list[str]:
        """Each objective's direction (minimize or maximize), in order."""
        return [objective.direction for objective in self.objectives]


@dataclass
class LoadedTuning:
    """A validated tuning experiment with its resolved scenario and file hash."""

    spec: TuningExperiment
    path: Path
    content_hash: str
    scenario: Scenario
    uncertain: list[Any] = field(default_factory=list)
    """The resolved ``uncertainties`` (``sim.experiments.batch.ResolvedUncertainty``)."""


# --- loading -----------------------------------------------------------------------------------
def load_tuning(path: str | Path) -> LoadedTuning:
    """Read and validate a tuning experiment, resolving its scenario and checking every variable."""
    path = Path(path)
    spec, content_hash = validated_file(path, TuningExperiment, "tuning experiment", TuningError)
    scenario = load_scenario(named_scenario(path, spec.scenario, TuningError), end_year=spec.until, scale=spec.scale)
    loaded = LoadedTuning(spec, path, content_hash, scenario)
    _check_against_scenario(loaded)
    if spec.uncertainties is not None:
        loaded.uncertain = uncertain_parameters(spec.uncertainties, [scenario], [spec.scenario], path, set(spec.variables))
    return loaded


def _check_against_scenario(loaded: LoadedTuning) -> None:
    """Every share names an existing lever, every variable a valid field, every objective a simulated year."""
    spec, path, scenario = loaded.spec, loaded.path, loaded.scenario
    if spec.budget is not None:
        for key, index in zip(spec.budget.shares, spec.budget.lever_indexes()):
            if index >= len(scenario.levers):
                raise TuningError(
                    f"{path}: budget.shares.{key}: the scenario has {len(scenario.levers)} levers (levers[0]..levers[{len(scenario.levers) - 1}])"
                )
            if scenario.levers[index].budget_krw_per_year is None:
                raise TuningError(
                    f"{path}: budget.shares.{key}: the lever's budget is in JPY; give it in KRW (budget_krw_per_year) to split a KRW total"
                )
    shared = {f"levers[{i}].budget_krw_per_year" for i in (spec.budget.lever_indexes() if spec.budget else [])}
    for name, variable in spec.variables.items():
        if name in shared:
            raise TuningError(f"{path}: variables.{name}: this budget is set by budget.shares")
        probe = variable.choices[0] if variable.choices is not None else _from_unit(variable, 0.5)
        try:
            scenario_with(scenario, {name: probe}, source=f"{path}: variables")
        except ScenarioError as exc:
            raise TuningError(str(exc)) from None
        except ValueError as exc:
            raise TuningError(f"{path}: variables.{name}: {exc}") from None
    regions = region_sets(scenario)
    for i, objective in enumerate(spec.objectives):
        unknown = objective.check_regions(regions)
        if unknown:
            raise TuningError(f"{path}: objectives[{i}].regions: {unknown}")
        municipal = objective.check_municipalities(regions)
        if municipal:
            raise TuningError(f"{path}: objectives[{i}].{municipal[0]}: {municipal[1]}")
        first = objective.first_year(scenario.start_year)
        if not first <= objective.year <= scenario.end_year:
            raise TuningError(
                f"{path}: objectives[{i}].year: {objective.year} is outside the simulated years "
                f"{first}–{scenario.end_year} for {objective.measure} (set until:)"
            )
    if not scenario.levers:
        raise TuningError(f"{path}: scenario: {scenario.name!r} has no levers to tune")


# --- decisions -> scenario ---------------------------------------------------------------------
def project_shares(raw: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``raw`` onto {s : Σs = 1, low ≤ s ≤ high} (bisection on the shift λ).

    A point already on the simplex within its bounds is returned unchanged.
    """

    def total(shift: float) -> float:
        return float(np.clip(raw + shift, low, high).sum())

    lo, hi = -1.0 - float(raw.max()), 1.0 - float(raw.min())
    for _ in range(100):
        middle = 0.5 * (lo + hi)
        lo, hi = (middle, hi) if total(middle) < 1.0 else (lo, middle)
    return np.clip(raw + 0.5 * (lo + hi), low, high)


def scenario_with(scenario: Scenario, values: dict[str, Any], source: str) -> Scenario:
    """``scenario`` with fields set by path (``levers[0].start`` …), validated again."""
    raw = copy.deepcopy(scenario.model_dump(mode="json", exclude_none=True))
    for name, value in values.items():
        set_path(raw, name, value)
    return scenario_from_dict(raw, source=source)


def decisions(loaded: LoadedTuning, suggested: dict[str, Any]) -> dict[str, Any]:
    """Scenario field values of a trial: the projected budget split (KRW per year) and the variables."""
    spec = loaded.spec
    values: dict[str, Any] = {}
    if spec.budget is not None:
        keys = list(spec.budget.shares)
        bounds = [spec.budget.shares[key] for key in keys]
        raw = np.array([float(suggested[f"share:{key}"]) for key in keys])
        shares = project_shares(raw, np.array([b.low for b in bounds]), np.array([b.high for b in bounds]))
        for index, share in zip(spec.budget.lever_indexes(), shares):
            values[f"levers[{index}].budget_krw_per_year"] = float(share * spec.budget.total_krw_per_year)
    for name, variable in spec.variables.items():
        value = suggested[name]
        values[name] = variable.choices[value] if variable.choices is not None else value
    return values


def suggest(trial, loaded: LoadedTuning) -> dict[str, Any]:
    """Ask Optuna for one trial's raw decisions (share draws, ranges, choice indexes)."""
    spec = loaded.spec
    suggested: dict[str, Any] = {}
    if spec.budget is not None:
        for key, share in spec.budget.shares.items():
            suggested[f"share:{key}"] = trial.suggest_float(f"share:{key}", share.low, share.high)
    for name, variable in spec.variables.items():
        if variable.choices is not None:
            suggested[name] = trial.suggest_categorical(name, list(range(len(variable.choices))))
        elif variable.integer:
            suggested[name] = trial.suggest_int(name, int(variable.low), int(variable.high), log=variable.log)
        else:
            suggested[name] = trial.suggest_float(name, variable.low, variable.high, log=variable.log)
    return suggested


def written_allocation(loaded: LoadedTuning) -> dict[str, Any] | None:
    """The scenario's own decisions as raw trial parameters (enqueued as trial 0), or None if out of bounds."""
    spec, scenario = loaded.spec, loaded.scenario
    params: dict[str, Any] = {}
    if spec.budget is not None:
        budgets = {
            key: scenario.levers[i].budget_krw(scenario.resolved_parameters().policy.krw_per_jpy)
            for key, i in zip(spec.budget.shares, spec.budget.lever_indexes())
        }
        for key, share in spec.budget.shares.items():
            fraction = budgets[key] / spec.budget.total_krw_per_year
            if not share.low <= fraction <= share.high:
                return None
            params[f"share:{key}"] = fraction
        if abs(sum(params.values()) - 1.0) > 1e-9:
            return None
    raw = scenario.model_dump(mode="json")
    for name, variable in spec.variables.items():
        value = get_path(raw, name)
        if variable.choices is not None:
            if value not in variable.choices:
                return None
            params[name] = variable.choices.index(value)
        elif value is None or not variable.low <= value <= variable.high:
            return None
        else:
            params[name] = int(value) if variable.integer else float(value)
    return params


# --- scoring -----------------------------------------------------------------------------------
class Scorer:
    """Scores scenarios by their paired objectives over the tuning seeds; caches the baseline runs."""

    def __init__(self, loaded: LoadedTuning) -> None:
        self.loaded = loaded
        self.regions = region_sets(loaded.scenario)
        self._baselines: dict[int, dict[str, pd.DataFrame]] = {}
        self.points: dict[int, pd.Series] = {}
        """Seed -> its draw of the uncertain parameters: the tuning seeds' draws, and other ones for the check seeds."""
        if loaded.uncertain:
            spec = loaded.spec
            for offset, seeds in enumerate((spec.seed_list(), spec.check_seed_list())):
                if seeds:
                    table = uncertainty_draws(loaded, loaded.uncertain, seeds, offset)
                    self.points |= {int(row["seed"]): row for _, row in table.iterrows()}

    def drawn(self, scenario: Scenario, seed: int) -> Scenario:
        """``scenario`` with the draw of ``seed`` (unchanged without uncertainties)."""
        if not self.loaded.uncertain:
            return scenario
        raw = with_draw(scenario.model_dump(), self.loaded.uncertain, self.points[seed])
        return scenario_from_dict(raw, source=f"{scenario.name} with the draw of seed {seed}")

    def baseline(self, seed: int) -> dict[str, pd.DataFrame]:
        """The tables the objectives read, of the scenario without levers for ``seed`` and its draw (run once per process)."""
        if seed not in self._baselines:
            self._baselines[seed] = self._tables(
                run(self.drawn(self.loaded.scenario.without_levers(), seed), seed=seed, paired_baseline=False)
            )
        return self._baselines[seed]

    def _tables(self, result: Any) -> dict[str, pd.DataFrame]:
        """The tables of ``result`` (a ``sim.results.run.RunResult``) the objectives read (``Outcome.table``), by name."""
        return {objective.table: getattr(result, objective.table) for objective in self.loaded.spec.objectives}

    def per_seed(self, scenario: Scenario, seeds: list[int]) -> pd.DataFrame:
        """One row per seed (and its draw): the paired difference of every objective (persons or provinces)."""
        rows = []
        for seed in seeds:
            tables = self._tables(run(self.drawn(scenario, seed), seed=seed, paired_baseline=False))
            baseline = self.baseline(seed)
            rows.append(
                {"seed": seed}
                | {
                    objective.name: outcome_level(tables[objective.table], objective, self.regions)
                    - outcome_level(baseline[objective.table], objective, self.regions)
                    for objective in self.loaded.spec.objectives
                }
            )
        return pd.DataFrame(rows)


def objective_function(loaded: LoadedTuning, scorer: Scorer) -> Callable:
    """Optuna objective: decisions → scenario → paired objectives over the tuning seeds (each with
    its draw of the uncertain parameters), scored by their mean, a quantile or the worst case."""
    seeds = loaded.spec.seed_list()

    def objective(trial) -> tuple[float, ...] | float:
        values = decisions(loaded, suggest(trial, loaded))
        scenario = scenario_with(loaded.scenario, values, source=f"trial {trial.number}")
        table = scorer.per_seed(scenario, seeds)
        for name, value in values.items():
            trial.set_user_attr(name, value)
        score = loaded.spec.score
        scores = tuple(
            robust_score(table[objective.name].to_numpy(float), score.statistic, score.quantile, objective.direction == "maximize")
            for objective in loaded.spec.objectives
        )
        return scores if len(scores) > 1 else scores[0]

    return objective


# --- the study ---------------------------------------------------------------------------------
def open_study(folder: Path, loaded: LoadedTuning, worker: int = 0):
    """Create or load the study in ``folder/study.db``; a folder of another experiment is refused.

    Worker ``k`` of one ``regsim tune`` seeds its sampler with ``sampler_seed + k``, so processes
    sharing the study do not propose the same trials."""
    import optuna  # optuna: only when a study runs

    folder.mkdir(parents=True, exist_ok=True)
    manifest = FILES.path(folder, "marker")
    if manifest.exists():
        recorded = store.read_json(manifest)
        if recorded.get("experiment_hash") != loaded.content_hash:
            raise TuningError(
                f"{folder}: holds a study of another experiment ({recorded.get('experiment_file')}, "
                f"hash {str(recorded.get('experiment_hash'))[:12]}); choose another output folder"
            )
    else:
        store.write_json(manifest, _manifest(loaded))
    storage = study_storage(folder / STUDY_FILE)
    spec = loaded.spec
    if len(spec.objectives) == 1:
        sampler = optuna.samplers.TPESampler(seed=spec.sampler_seed + worker, multivariate=True)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=spec.sampler_seed + worker)
    study = optuna.create_study(study_name=spec.name, storage=storage, directions=spec.directions, sampler=sampler, load_if_exists=True)
    if not study.trials:
        allocation = written_allocation(loaded)
        if allocation is not None:  # trial 0 is the scenario as written: the allocation to beat
            study.enqueue_trial(allocation, user_attrs={"written_allocation": True})
    return study


def study_storage(database: Path, heartbeat: bool = True):
    """Optuna storage in the SQLite file ``database``, shared by processes: they wait up to 60 s for
    the file's lock. With ``heartbeat`` (studies run by ``Study.optimize``), a trial whose process
    died is failed after 90 s without a heartbeat."""
    import optuna  # optuna: only when a study runs

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeat options
    beats = {"heartbeat_interval": 30, "grace_period": 90} if heartbeat else {}
    return optuna.storages.RDBStorage(f"sqlite:///{database.resolve()}", engine_kwargs={"connect_args": {"timeout": 60}}, **beats)


def completed(study) -> list:
    """The study's completed trials."""
    import optuna  # optuna: only when a study runs

    return [trial for trial in study.get_trials(deepcopy=False) if trial.state == optuna.trial.TrialState.COMPLETE]


def optimise(folder: Path, experiment_path: Path, progress: TrialProgress | None = None, worker: int = 0) -> None:
    """Run trials in this process until the study has the wanted number of completed trials."""
    import optuna  # optuna: only when a study runs
    from optuna.study import MaxTrialsCallback  # optuna, as above

    loaded = load_tuning(experiment_path)
    study = open_study(folder, loaded, worker)
    wanted = loaded.spec.trials

    def report(study, _trial) -> None:
        if progress is not None:
            progress(len(completed(study)), wanted)

    if len(completed(study)) >= wanted:
        return
    study.optimize(
        objective_function(loaded, Scorer(loaded)),
        callbacks=[MaxTrialsCallback(wanted, states=(optuna.trial.TrialState.COMPLETE,)), report],
        catch=(RegsimError,),
        gc_after_trial=False,
    )


def _worker(folder: str, experiment: str, worker: int) -> None:
    optimise(Path(folder), Path(experiment), worker=worker)


def tune(
    experiment_path: str | Path,
    out: str | Path | None = None,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    progress: TrialProgress | None = None,
) -> TuningSummary:
    """Run (or continue) the study with ``workers`` optimising workers, then write the outputs.

    ``executor`` (``sim.experiments.executors``): ``local``, this process (reporting progress) and ``workers - 1``
    local processes; ``dask``, ``workers`` tasks on a Dask cluster (``scheduler``, or a local one).
    They share the study's SQLite file, so Dask workers on other machines need the output folder on
    a shared file system.
    """
    check_executor(executor, workers, scheduler)
    started = time.perf_counter()
    loaded = load_tuning(experiment_path)
    folder = Path(out) if out is not None else RESULTS_DIR / loaded.spec.name  # no time stamp: a rerun continues
    study = open_study(folder, loaded)
    before = len(completed(study))
    if before < loaded.spec.trials:
        jobs = [(str(folder.resolve()), str(Path(experiment_path).resolve()), k) for k in range(workers)]
        here = executor == "local"  # locally, this process is worker 0
        elsewhere = jobs[1:] if here else jobs
        with open_executor(executor, max(len(elsewhere), 1), scheduler) as pool:
            started_elsewhere = pool.submit(_worker, elsewhere)
            if here:
                optimise(folder, Path(experiment_path), progress)
            started_elsewhere.results()
    study = open_study(folder, loaded)
    summary = write_outputs(folder, loaded, study)
    summary.new_trials = len(completed(study)) - before
    summary.wall_time_s = round(time.perf_counter() - started, 3)
    return summary


# --- outputs -----------------------------------------------------------------------------------
@dataclass
class TuningSummary:
    """What a tuning run produced."""

    out: Path
    trials: pd.DataFrame
    best: pd.DataFrame
    top: pd.DataFrame
    objectives: list = field(default_factory=list)  # the experiment's objectives, in order
    check: pd.DataFrame | None = None
    new_trials: int = 0
    wall_time_s: float = 0.0


def trials_table(loaded: LoadedTuning, study) -> pd.DataFrame:
    """One row per completed trial: number, the decisions (scenario field values) and the objectives."""
    names = [objective.name for objective in loaded.spec.objectives]
    rows = []
    for trial in completed(study):
        values = trial.values
        rows.append(
            {"number": trial.number, "written_allocation": bool(trial.user_attrs.get("written_allocation", False))}
            | {key: value for key, value in trial.user_attrs.items() if key != "written_allocation"}
            | dict(zip(names, values))
        )
    return pd.DataFrame(rows)


def top_trials(loaded: LoadedTuning, trials: pd.DataFrame, count: int = 10) -> pd.DataFrame:
    """The ``count`` best trials on the first objective, and the written allocation (trial 0) if not among them."""
    first = loaded.spec.objectives[0]
    ranked = trials.sort_values(first.name, ascending=first.direction == "minimize", kind="stable")
    top = ranked.head(count)
    written = ranked[ranked["written_allocation"] & ~ranked["number"].isin(top["number"])]
    return pd.concat([top, written]).reset_index(drop=True)


def best_trials(loaded: LoadedTuning, study, trials: pd.DataFrame) -> pd.DataFrame:
    """The best trial (one objective) or the Pareto front (several), as rows of ``trials``."""
    best = study.best_trials if len(loaded.spec.objectives) > 1 else [study.best_trial]
    numbers = [trial.number for trial in best]
    return trials[trials["number"].isin(numbers)].reset_index(drop=True)


def write_outputs(folder: Path, loaded: LoadedTuning, study) -> TuningSummary:
    """trials.csv, best scenario file(s), the fresh-seed check, tune.json (the figures: ``sim.analysis.plots.write_tuning_figures``)."""
    trials = trials_table(loaded, study)
    if trials.empty:
        raise TuningError(f"{folder}: no trial completed; see the errors above")
    store.write_csv(FILES.path(folder, "trials"), trials)
    top = top_trials(loaded, trials)
    store.write_csv(FILES.path(folder, "top_trials"), top)
    best = best_trials(loaded, study, trials)
    decision_columns = [c for c in trials.columns if c not in ("number", "written_allocation", *_objective_names(loaded))]
    scenarios = FILES.path(folder, "pareto_scenarios")
    for _, row in best.iterrows():
        scenario = scenario_with(loaded.scenario, {c: _plain(row[c]) for c in decision_columns}, source=f"trial {row['number']}")
        target = FILES.path(folder, "best_scenario") if len(best) == 1 else scenarios / f"trial_{int(row['number'])}.yaml"
        write_scenario(target, scenario, loaded, row)
    check = None
    if loaded.spec.check_seeds is not None:
        leader = _first_objective_best(best, loaded)
        check = _recorded_check(FILES.path(folder, "check"), int(leader["number"]))
        if check is None:  # not yet checked, or a better trial since
            tuned = scenario_with(loaded.scenario, {c: _plain(leader[c]) for c in decision_columns}, source="best trial")
            check = fresh_seed_check(loaded, tuned).assign(trial=int(leader["number"]))
            store.write_csv(FILES.path(folder, "check"), check)
    manifest = _manifest(loaded) | {
        "completed_trials": len(trials),
        "best_trials": best["number"].tolist(),
        "updated": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
    }
    store.write_json(FILES.path(folder, "marker"), manifest)
    return TuningSummary(out=folder, trials=trials, best=best, top=top, objectives=list(loaded.spec.objectives), check=check)


def fresh_seed_check(loaded: LoadedTuning, tuned: Scenario) -> pd.DataFrame:
    """Tuned minus written allocation on fresh seeds: per-objective mean and 95 % t-interval.

    Both are paired with the baseline of the same seed, so the difference is also paired.
    """
    seeds = loaded.spec.check_seed_list()
    scorer = Scorer(loaded)
    written = scorer.per_seed(loaded.scenario, seeds).set_index("seed")
    best = scorer.per_seed(tuned, seeds).set_index("seed")
    rows = []
    for objective in loaded.spec.objectives:
        difference = (best[objective.name] - written[objective.name]).to_numpy(float)
        mean, low, high = t_interval(difference)
        rows.append(
            {
                "objective": objective.name,
                "direction": objective.direction,
                "seeds": len(seeds),
                "written_mean": float(written[objective.name].mean()),
                "tuned_mean": float(best[objective.name].mean()),
                "difference_mean": mean,
                "difference_low": low,
                "difference_high": high,
            }
        )
    return pd.DataFrame(rows)


def _recorded_check(path: Path, trial: int) -> pd.DataFrame | None:
    """The fresh-seed check already written for ``trial``, if any."""
    if not path.exists():
        return None
    check = pd.read_csv(path)
    return check if "trial" in check and (check["trial"] == trial).all() else None


def write_scenario(target: Path, scenario: Scenario, loaded: LoadedTuning, row: pd.Series) -> None:
    """A ready-to-run scenario file for one tuned allocation, with where it came from as a header."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scores = ", ".join(f"{o.name} = {row[o.name]:,.1f}" for o in loaded.spec.objectives)
    header = (
        f"# Tuned by `regsim tune {loaded.path}` (experiment sha256 {loaded.content_hash[:12]}),\n"
        f"# trial {int(row['number'])}: {scores} (paired difference against the baseline,\n"
        f"# mean over seeds {loaded.spec.seed_list()}).\n"
    )
    body = scenario.model_dump(mode="json", exclude_defaults=True)
    body["name"] = f"{loaded.spec.name}_trial_{int(row['number'])}"
    body["description"] = f"{scenario.description} Tuned allocation (trial {int(row['number'])} of {loaded.spec.name}).".strip()
    store.write_text(target, header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))


def _first_objective_best(best: pd.DataFrame, loaded: LoadedTuning) -> pd.Series:
    """The best trial on the first objective (among the Pareto front when there are several)."""
    first = loaded.spec.objectives[0]
    position = best[first.name].idxmax() if first.direction == "maximize" else best[first.name].idxmin()
    return best.loc[position]


def _objective_names(loaded: LoadedTuning) -> list[str]:
    return [objective.name for objective in loaded.spec.objectives]


def _manifest(loaded: LoadedTuning) -> dict[str, Any]:
    spec = loaded.spec
    return {
        "experiment": spec.name,
        "experiment_file": str(loaded.path),
        "experiment_hash": loaded.content_hash,
        "scenario": loaded.scenario.name,
        "scenario_hash": loaded.scenario.content_hash(),
        "seeds": spec.seed_list(),
        "check_seeds": spec.check_seed_list(),
        "trials_wanted": spec.trials,
        "sampler": "TPE" if len(spec.objectives) == 1 else "NSGA-II",
        "sampler_seed": spec.sampler_seed,
        "objectives": [objective.model_dump() for objective in spec.objectives],
        "score": spec.score.model_dump(exclude_none=True),
        "uncertainties": [item.info() for item in loaded.uncertain] or None,
        "budget": spec.budget.model_dump() if spec.budget else None,
        "variables": {name: variable.model_dump(exclude_none=True) for name, variable in spec.variables.items()},
        "study": STUDY_FILE,
        "package_version": package_version(),
        "git_commit": git_commit(),
    }


def _from_unit(variable: Variable, u: float) -> float | int:
    value = variable.low + u * (variable.high - variable.low)
    return round(value) if variable.integer else value


def _plain(value: Any) -> Any:
    """Python values for numpy scalars (for scenario mappings and YAML)."""
    return value.item() if isinstance(value, np.generic) else value
