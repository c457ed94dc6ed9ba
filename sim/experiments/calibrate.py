"""Calibration: fit behavioural parameters to observed provincial populations and net migration.

An experiment file names a base scenario, the years (start, fit window, holdout window), the free
parameters with bounds, and the seeds and scale of the simulations::

    name: calibrate_korea
    scenario: ../scenarios/korea_baseline.yaml
    start_year: 2015              # simulations start from the observed population of this year
    fit_years: [2016, 2020]       # first and last year of the fit window
    holdout_years: [2021, 2023]   # out-of-sample years, after the fit window
    scale: 100
    seeds: [0, 1]                 # common random numbers: every candidate runs with these seeds
    evaluation_seeds: [100, 101, 102, 103]   # other seeds for the reported comparison
    trials: 200
    parameters:
      parameters.migration.housing_cost_weight: {low: 0.0, high: 1.0}
      parameters.migration.destination_constant_shift.11+28+41: {low: -0.2, high: 0.2}   # one value for three regions
      parameters.demography.fertility_multiplier:          # one value for every region; bounds: its documented range

A key is a field path ``parameters.<section>.<name>`` (``sim.experiments.experiment``, the language of every
experiment file) naming a parameter of ``sim/inputs/data/parameters.yaml``; for a parameter given per region
code, ``parameters.<section>.<name>`` sets every region to one value and ``….11+28+41`` the listed
regions. Bounds left empty are the parameter's ``range`` in ``parameters.yaml``.

**Loss** (in %²): L = mean over fit years y and provinces r of (100·(P̄_ry − P_ry)/P_ry)²
+ w · mean over fit years with observed flows and provinces of (100·(N̄_ry − N_ry)/P_r,y−1)², where P is
the population at 31 December, N the inter-provincial net migration of the year, a bar the mean over
the seeds, and w = ``loss.net_migration_weight`` (default 1). The first term is the squared relative
error of the population path; the second that of the yearly net-migration rate.

**Optimiser**: Optuna's TPE sampler (multivariate, seeded) over the box of bounds, with the default
parameters as the first trial, so the best trial never fits worse than the defaults on the fit seeds.
TPE rather than a deterministic local method because the loss of an agent-based run is piecewise
constant in the parameters (a parameter change moves discrete agents), which defeats gradients and
simplex steps; common random numbers keep the steps small. Trials are asked in batches of ``workers``
(evaluated in parallel), so the search path, and the result, are reproducible for a given number of
workers, on any executor (``sim.experiments.executors``: in this process, local processes or Dask). The study lives in ``study.db`` (SQLite) in the output folder, so an interrupted calibration
resumes where it stopped.

**Report**: default and calibrated parameters are rerun with ``evaluation_seeds`` (not used in the
fit) from the start year to the last holdout year, and from the last fit year's observed population
to the last holdout year, next to two naive forecasts from the same origins: no change, and the linear
trend of the observed populations (the four years before the start; the fit window).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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

from sim.errors import RegsimError
from sim.experiments.executors import open_executor
from sim.experiments.experiment import SeedList
from sim.experiments.tuning import study_storage
from sim.inputs.config_files import Bounds, named_scenario, validated_file
from sim.inputs.data import read_table
from sim.inputs.parameters import NumberMapping, default_parameters, parameter_keys, parameter_range
from sim.inputs.scenario import START_YEARS, Scenario
from sim.provenance import git_commit, package_version
from sim.results import store
from sim.results.run import load_scenario, run, scenario_from_dict

FILES = store.FOLDERS["calibration"]
"""What a calibration folder holds (``sim.results.store.FOLDERS``)."""
STUDY_FILE = FILES.files["study"]
DIGITS = 4
"""Decimals of the calibrated values (written and evaluated as rounded)."""
FORECASTS = (("default parameters", "default"), ("calibrated", "calibrated"), ("no change", "no_change"), ("linear trend", "linear_trend"))
"""The compared forecasts: label in tables, short name in file columns."""
CalibrationProgress = Callable[[int, int], None]
"""Called after each trial with (trials done, trials in total)."""


class CalibrationError(RegsimError):
    """A calibration experiment is invalid; the message names the file and the field path."""


# --- schema ------------------------------------------------------------------------------------
class Loss(BaseModel):
    """Weights of the loss terms."""

    model_config = ConfigDict(extra="forbid")
    net_migration_weight: float = Field(1.0, ge=0, allow_inf_nan=False, description="weight w of the net-migration-rate term")


class CalibrationExperiment(BaseModel):
    """A calibration experiment file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    scenario: str = Field(description="base scenario file, relative to the experiment file")
    start_year: int = Field(2015, strict=True, description="simulations start from the observed population of this year")
    fit_years: list[int] = Field(min_length=2, max_length=2, description="[first, last] year of the fit window")
    holdout_years: list[int] = Field(min_length=2, max_length=2, description="[first, last] out-of-sample year")
    scale: int = Field(100, ge=1, strict=True, description="persons per agent")
    seeds: SeedList = Field(description="seeds of every candidate (common random numbers)")
    evaluation_seeds: SeedList = Field(description="seeds of the reported comparison")
    trials: int = Field(200, ge=1, strict=True, description="candidates evaluated (the defaults included)")
    sampler: Literal["tpe", "random"] = "tpe"
    sampler_seed: int = Field(0, ge=0, strict=True)
    loss: Loss = Loss()
    parameters: dict[str, Bounds | None] = Field(
        min_length=1,
        description="parameters.<section>.<name>[.<codes>] -> bounds (empty: the documented range)",
    )

    @field_validator("start_year")
    @classmethod
    def _start(cls, year: int) -> int:
        if year not in START_YEARS:
            raise ValueError(f"no population data for start year {year}; available: {', '.join(map(str, START_YEARS))}")
        return year

    @field_validator("fit_years", "holdout_years")
    @classmethod
    def _window(cls, years: list[int]) -> list[int]:
        if years[0] > years[1]:
            raise ValueError(f"first year {years[0]} is after last year {years[1]}")
        return years

    @field_validator("parameters")
    @classmethod
    def _known(cls, parameters: dict[str, Bounds | None]) -> dict[str, Bounds]:
        """Known numeric parameters; empty bounds become the parameter's documented range."""
        bounds = {}
        for label, given in parameters.items():
            key, _ = _parse_key(label)
            documented = parameter_range(key)
            if given is None and documented is None:
                raise ValueError(f"{label}: no range in sim/inputs/data/parameters.yaml; give {{low: ..., high: ...}}")
            bounds[label] = given if given is not None else Bounds(low=documented[0], high=documented[1])
        return bounds

    @model_validator(mode="after")
    def _years(self) -> CalibrationExperiment:
        if self.fit_years[0] <= self.start_year:
            raise ValueError(f"fit_years {_span(self.fit_years)} must start after start_year {self.start_year}")
        if self.holdout_years[0] <= self.fit_years[1]:
            raise ValueError(f"holdout_years {_span(self.holdout_years)} overlap fit_years {_span(self.fit_years)}")
        return self


def _span(years: list[int]) -> str:
    return f"{years[0]}-{years[1]}"


def _parse_key(path: str) -> tuple[str, tuple[str, ...] | None]:
    """``parameters.section.name`` → (``section.name``, None); ``parameters.section.name.11+28`` →
    (``section.name``, ("11", "28")).

    The old form without ``parameters.``, unknown parameters (with the closest key), non-numeric ones
    and unknown region codes are ValueErrors.
    """
    prefix, _, key = path.partition(".")
    if prefix != "parameters":
        raise ValueError(f"{path!r}: a parameter is written as a field path, parameters.{path}")
    section, _, rest = key.partition(".")
    name, _, codes = rest.partition(".")
    if f"{section}.{name}" not in parameter_keys():
        close = difflib.get_close_matches(key, parameter_keys(), n=1)
        hint = f"; did you mean 'parameters.{close[0]}'?" if close else ""
        raise ValueError(f"{path!r}: unknown parameter{hint}")
    default = default_parameters().value(f"{section}.{name}")
    if isinstance(default, NumberMapping):
        if not codes:
            return f"{section}.{name}", None
        chosen = tuple(codes.split("+"))
        unknown = [code for code in chosen if code not in default.keys()]
        if unknown:
            raise ValueError(f"{path!r}: unknown region code(s) {', '.join(unknown)} (known: {', '.join(default.keys())})")
        return f"{section}.{name}", chosen
    if codes:
        raise ValueError(f"{path!r}: {section}.{name} is one number, not given per region")
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise ValueError(f"{path!r}: not a numeric parameter")  # noqa: TRY004 (pydantic reports ValueErrors)
    return key, None


@dataclass(frozen=True)
class FreeParameter:
    """One searched value: experiment key, the parameter it sets, its regions (None = all or scalar), bounds, default."""

    label: str
    key: str
    codes: tuple[str, ...] | None
    low: float
    high: float
    default: float


@dataclass
class LoadedCalibration:
    """A validated calibration experiment with its base scenario and free parameters."""

    spec: CalibrationExperiment
    path: Path
    content_hash: str
    scenario_path: Path
    base: Scenario  # the base scenario from start_year to the last holdout year, at the experiment's scale
    free: list[FreeParameter]

    def fingerprint(self) -> str:
        """Hash of what defines the loss surface: base scenario, years, scale, fit seeds, loss, parameters."""
        spec = self.spec.model_dump(mode="json", include={"start_year", "fit_years", "scale", "seeds", "loss", "parameters"})
        canonical = json.dumps({"scenario": self.base.content_hash(), **spec}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_calibration(path: str | Path) -> LoadedCalibration:
    """Read and validate a calibration experiment; problems are CalibrationErrors naming file and field."""
    path = Path(path)
    spec, content_hash = validated_file(path, CalibrationExperiment, "calibration experiment", CalibrationError)
    scenario_path = named_scenario(path, spec.scenario, CalibrationError)
    base = load_scenario(scenario_path, start_year=spec.start_year, end_year=spec.holdout_years[1], scale=spec.scale)
    observed = observed_targets(base)
    last = int(observed.population.columns.max())
    if spec.holdout_years[1] > last:
        raise CalibrationError(f"{path}: holdout_years: observed populations end in {last}, found {_span(spec.holdout_years)}")
    resolved = base.resolved_parameters()
    free = []
    for label, bounds in spec.parameters.items():
        key, codes = _parse_key(label)
        value = resolved.value(key)
        defaults = {float(value[code]) for code in (codes or value.keys())} if isinstance(value, NumberMapping) else {float(value)}
        if len(defaults) > 1:
            raise CalibrationError(f"{path}: parameters.{label}: the scenario gives these regions different values; fit them separately")
        default = defaults.pop()
        if not bounds.low <= default <= bounds.high:
            raise CalibrationError(f"{path}: parameters.{label}: the scenario's value {default} is outside [{bounds.low}, {bounds.high}]")
        free.append(FreeParameter(label, key, codes, bounds.low, bounds.high, default))
    return LoadedCalibration(spec, path, content_hash, scenario_path, base, free)


# --- observed data, simulation, loss -------------------------------------------------------------
@dataclass(frozen=True)
class Observed:
    """Observed targets: region (KOSIS code) × year tables in persons."""

    population: pd.DataFrame  # registered population at 31 December
    net_migration: pd.DataFrame  # inter-provincial net migration of the year


def observed_targets(scenario: Scenario) -> Observed:
    """``population_annual`` and ``net_migration_annual`` of the scenario's data pack."""
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    population = read_table("population_annual", scenario.country, ("region", "year", "population"), folder)
    net = read_table("net_migration_annual", scenario.country, ("region", "year", "net_migration"), folder)

    def wide(table: pd.DataFrame, column: str) -> pd.DataFrame:
        table = table.assign(region=table["region"].astype(str).str.zfill(2))
        return table.pivot(index="region", columns="year", values=column).astype(float)

    return Observed(wide(population, "population"), wide(net, "net_migration"))


@dataclass(frozen=True)
class Paths:
    """Simulated region × year tables (persons), mean over seeds."""

    population: pd.DataFrame
    net_migration: pd.DataFrame


def simulate(scenario_fields: dict[str, Any], seeds: list[int]) -> Paths:
    """Run the scenario (given as fields) with each seed; mean population and net migration by region × year."""
    scenario = scenario_from_dict(scenario_fields, source=f"scenario {scenario_fields['name']!r}")
    populations, nets = [], []
    for seed in seeds:
        regions = run(scenario, seed=seed, paired_baseline=False).regions
        populations.append(regions.pivot(index="region", columns="year", values="population").astype(float))
        nets.append(regions.pivot(index="region", columns="year", values="net_migration").astype(float))
    return Paths(sum(populations) / len(seeds), sum(nets) / len(seeds))


def fit_measures(paths: Paths, observed: Observed, years: list[int], net_weight: float) -> dict[str, float]:
    """Loss and its parts over ``years`` (see the module docstring); MAPE and MAE in %.

    ``population_mape_pct``: mean |relative error| of populations; ``net_migration_mae_pct``: mean
    |error| of the net-migration rate (% of the previous year-end population), over the years with
    observed flows.
    """
    regions = paths.population.index
    obs = observed.population.loc[regions, years]
    population_error = 100 * (paths.population[years] - obs) / obs
    flow_years = [year for year in years if year in observed.net_migration.columns and year - 1 in observed.population.columns]
    measures = {
        "population_term": float((population_error**2).to_numpy().mean()),
        "population_mape_pct": float(population_error.abs().to_numpy().mean()),
    }
    if flow_years and paths.net_migration is not None:
        previous = observed.population.loc[regions, [year - 1 for year in flow_years]].to_numpy()
        rate_error = (
            100 * (paths.net_migration[flow_years].to_numpy() - observed.net_migration.loc[regions, flow_years].to_numpy()) / previous
        )
        measures["net_migration_term"] = float((rate_error**2).mean())
        measures["net_migration_mae_pct"] = float(np.abs(rate_error).mean())
    else:
        measures["net_migration_term"] = measures["net_migration_mae_pct"] = math.nan
    measures["loss"] = measures["population_term"] + net_weight * np.nan_to_num(measures["net_migration_term"])
    return measures


def naive_forecasts(observed: Observed, origin: int, trend_years: list[int], years: list[int]) -> dict[str, Paths]:
    """No change from ``origin``, and the linear trend of ``trend_years`` from the ``origin`` level,
    for populations and (where observed) net migration."""

    def forecasts(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | tuple[None, None]:
        usable = [year for year in trend_years if year in table.columns]
        if origin not in table.columns or len(usable) < 2:
            return None, None
        slope = pd.Series([_slope(usable, row) for row in table[usable].to_numpy()], index=table.index)
        level = table[origin]
        same = pd.DataFrame({year: level for year in years})
        trend = pd.DataFrame({year: level + slope * (year - origin) for year in years})
        return same, trend

    population = forecasts(observed.population)
    net = forecasts(observed.net_migration)
    return {
        "no change": Paths(population[0], net[0]),
        "linear trend": Paths(population[1], net[1]),
    }


def _slope(years: list[int], values: np.ndarray) -> float:
    """Least-squares slope of ``values`` over ``years``, skipping missing years (Sejong before 2012)."""
    known = ~np.isnan(values)
    return float(np.polyfit(np.array(years, float)[known], values[known], 1)[0]) if known.sum() >= 2 else math.nan


def scenario_fields(loaded: LoadedCalibration, values: dict[str, float], **changes: Any) -> dict[str, Any]:
    """Fields of the base scenario with the free parameters set to ``values`` (by label) and top-level ``changes``."""
    fields = loaded.base.model_dump()
    fields["parameters"] = {**fields["parameters"], **parameter_overrides(loaded, values)}
    return {**fields, **changes}


def parameter_overrides(loaded: LoadedCalibration, values: dict[str, float]) -> dict[str, Any]:
    """Scenario ``parameters:`` entries for the free values: numbers, or whole per-region mappings."""
    resolved = loaded.base.resolved_parameters()
    overrides: dict[str, Any] = {}
    for parameter in loaded.free:
        value = float(values[parameter.label])
        current = resolved.value(parameter.key)
        if isinstance(current, NumberMapping):
            mapping = overrides.setdefault(parameter.key, {code: float(v) for code, v in current.items()})
            for code in parameter.codes or mapping:
                mapping[code] = value
        else:
            overrides[parameter.key] = value
    return overrides


# --- the calibration ---------------------------------------------------------------------------
@dataclass
class CalibrationResult:
    """What ``calibrate`` found and wrote."""

    out: Path
    table: pd.DataFrame  # one row per forecast: loss, in-sample and out-of-sample errors
    best: dict[str, float]
    trials: int
    workers: int  # trials are asked in batches of this size, so the search path depends on it
    wall_time_s: float


def calibrate(
    loaded: LoadedCalibration,
    out: Path,
    trials: int | None = None,
    resume: bool = False,
    workers: int = 1,
    progress: CalibrationProgress | None = None,
    observed: Observed | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> CalibrationResult:
    """Run (or continue) the study in ``out``, evaluate default and calibrated parameters, write the outputs.

    ``workers`` simulations at a time on ``executor`` (``sim.experiments.executors``; one local worker runs in
    this process). ``observed`` replaces the data pack's targets (for synthetic known-answer tests).
    """
    import optuna  # optuna: only when a study runs

    started = time.perf_counter()
    spec = loaded.spec
    observed = observed or observed_targets(loaded.base)
    total = trials if trials is not None else spec.trials
    if total < 1:
        raise CalibrationError(f"the number of trials must be at least 1, found {total}")
    study = _open_study(loaded, Path(out), resume)
    fit_years = list(range(spec.fit_years[0], spec.fit_years[1] + 1))
    fit_fields = {"end_year": spec.fit_years[1]}
    distributions = {p.label: optuna.distributions.FloatDistribution(p.low, p.high) for p in loaded.free}
    done = _complete(study)
    kind = "inline" if executor == "local" and workers <= 1 else executor
    with open_executor(kind, workers, scheduler) as pool:
        while done < total:
            batch = [study.ask(distributions) for _ in range(min(workers, total - done))]
            jobs = [(scenario_fields(loaded, trial.params, **fit_fields), spec.seeds) for trial in batch]
            for trial, paths in zip(batch, pool.submit(simulate, jobs).results()):
                measures = fit_measures(paths, observed, fit_years, spec.loss.net_migration_weight)
                for name, value in measures.items():
                    trial.set_user_attr(name, value)
                study.tell(trial, measures["loss"])
            done = _complete(study)
            if progress is not None:
                progress(done, total)
        best = study.best_trial
        default = {p.label: p.default for p in loaded.free}
        calibrated = {label: round(value, DIGITS) for label, value in best.params.items()}  # as written in calibrated.yaml
        table, paths = _evaluate(loaded, observed, default, calibrated, pool)
    result = CalibrationResult(Path(out), table, calibrated, done, workers, round(time.perf_counter() - started, 1))
    _write(loaded, result, study, paths, observed)
    return result


def _complete(study) -> int:
    from optuna.trial import TrialState  # optuna, as above

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _open_study(loaded: LoadedCalibration, out: Path, resume: bool):
    """The Optuna study in ``out/study.db``: new (defaults enqueued as the first trial) or resumed."""
    import optuna  # optuna: only when a study runs

    database = out / STUDY_FILE
    if database.exists() and not resume:
        raise CalibrationError(f"{out} already holds a calibration study ({STUDY_FILE}): resume it, or choose another output folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CalibrationError(f"cannot create output folder {out}: {exc.strerror}") from None
    storage = study_storage(database, heartbeat=False)  # ask-and-tell: no heartbeat
    name = f"{loaded.spec.name}-{loaded.fingerprint()}"
    existing = optuna.study.get_all_study_names(storage)
    if existing and name not in existing:
        raise CalibrationError(
            f"{out}: the study there ({existing[0]}) was made from a different experiment (scenario, years, scale, seeds, loss or parameters changed); choose another output folder"
        )
    sampler: optuna.samplers.BaseSampler
    if loaded.spec.sampler == "tpe":
        sampler = optuna.samplers.TPESampler(seed=loaded.spec.sampler_seed, multivariate=True, constant_liar=True)
    else:
        sampler = optuna.samplers.RandomSampler(seed=loaded.spec.sampler_seed)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, direction="minimize", load_if_exists=True)
    if not study.trials:
        study.enqueue_trial({p.label: p.default for p in loaded.free})
    return study


def _evaluate(loaded: LoadedCalibration, observed: Observed, default: dict[str, float], best: dict[str, float], pool):
    """The comparison table (evaluation seeds) and the simulated paths it rests on."""
    spec = loaded.spec
    fit_years = list(range(spec.fit_years[0], spec.fit_years[1] + 1))
    holdout = list(range(spec.holdout_years[0], spec.holdout_years[1] + 1))
    restart = spec.fit_years[1] in START_YEARS
    jobs = {}
    for label, values in (("default parameters", default), ("calibrated", best)):
        jobs[(label, "start")] = (scenario_fields(loaded, values), spec.evaluation_seeds)
        if restart:
            jobs[(label, "restart")] = (scenario_fields(loaded, values, start_year=spec.fit_years[1]), spec.evaluation_seeds)
    paths = dict(zip(jobs, pool.submit(simulate, list(jobs.values())).results()))
    naive_start = naive_forecasts(observed, spec.start_year, list(range(spec.start_year - 4, spec.start_year + 1)), fit_years + holdout)
    naive_restart = naive_forecasts(observed, spec.fit_years[1], fit_years, holdout)
    for label in naive_start:
        paths[(label, "start")] = naive_start[label]
        paths[(label, "restart")] = naive_restart[label]
    weight = spec.loss.net_migration_weight
    rows = []
    for label, _ in FORECASTS:
        if paths[(label, "start")].population is None:  # a naive forecast without enough observed years
            rows.append({"forecast": label})
            continue
        fit = fit_measures(paths[(label, "start")], observed, fit_years, weight)
        continued = fit_measures(Paths(paths[(label, "start")].population, None), observed, holdout, weight)
        row = {
            "forecast": label,
            "loss": fit["loss"],
            "fit_population_mape_pct": fit["population_mape_pct"],
            "fit_net_migration_mae_pct": fit["net_migration_mae_pct"],
            "holdout_population_mape_pct": continued["population_mape_pct"],
            "holdout_from_fit_end_population_mape_pct": math.nan,
        }
        if (label, "restart") in paths and paths[(label, "restart")].population is not None:
            restarted = fit_measures(Paths(paths[(label, "restart")].population, None), observed, holdout, weight)
            row["holdout_from_fit_end_population_mape_pct"] = restarted["population_mape_pct"]
        rows.append(row)
    columns = [
        "forecast",
        "loss",
        "fit_population_mape_pct",
        "fit_net_migration_mae_pct",
        "holdout_population_mape_pct",
        "holdout_from_fit_end_population_mape_pct",
    ]
    return pd.DataFrame(rows, columns=columns).astype({column: float for column in columns[1:]}), paths


# --- outputs -----------------------------------------------------------------------------------
def _write(loaded: LoadedCalibration, result: CalibrationResult, study, paths: dict, observed: Observed) -> None:
    out, spec = result.out, loaded.spec
    best = study.best_trial
    default_trial = study.trials[0]
    overrides = parameter_overrides(loaded, result.best)
    table = result.table.set_index("forecast")
    calibrated, default = table.loc["calibrated"], table.loc["default parameters"]
    holdout, fit = _span(spec.holdout_years), _span(spec.fit_years)
    restarted = (
        ""
        if math.isnan(calibrated["holdout_from_fit_end_population_mape_pct"])
        else (
            f"; from {spec.fit_years[1]} {default['holdout_from_fit_end_population_mape_pct']:.2f} -> "
            f"{calibrated['holdout_from_fit_end_population_mape_pct']:.2f} % (no change {table.loc['no change', 'holdout_from_fit_end_population_mape_pct']:.2f} %, "
            f"linear trend {table.loc['linear trend', 'holdout_from_fit_end_population_mape_pct']:.2f} %)"
        )
    )
    summary = (
        f"loss {default['loss']:.3f} -> {calibrated['loss']:.3f} %^2, population MAPE {fit} "
        f"{default['fit_population_mape_pct']:.2f} -> {calibrated['fit_population_mape_pct']:.2f} % (evaluation seeds); out of sample, "
        f"population MAPE {holdout} continued from {spec.start_year} {default['holdout_population_mape_pct']:.2f} -> "
        f"{calibrated['holdout_population_mape_pct']:.2f} % (no change {table.loc['no change', 'holdout_population_mape_pct']:.2f} %){restarted}"
    )
    relative_base = Path(_relative(loaded.scenario_path, out))
    header = [
        f"Calibrated by `regsim calibrate {loaded.path}` ({spec.name}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {result.trials} trials.",
        f"Data: population_annual.csv (registered population at 31 Dec) {fit} and net_migration_annual.csv (inter-provincial net migration) {fit},",
        f"simulated from the observed population of {spec.start_year} at 1:{spec.scale}, mean over seeds {spec.seeds}.",
        f"Loss: mean squared % error of provincial populations + {spec.loss.net_migration_weight} x mean squared error of net migration rates (% of population).",
        f"Fit: {summary}.",
        "Details: calibration.json and fit.csv next to this file.",
    ]
    fragment = {
        "extends": str(relative_base),
        "name": f"{loaded.base.name}_calibrated",
        "description": f"{loaded.base.name} with behavioural parameters calibrated to {fit} ({spec.name}): {summary}.",
        "parameters": overrides,
    }
    text = "".join(f"# {line}\n" for line in header) + yaml.safe_dump(fragment, sort_keys=False, allow_unicode=True, width=100)
    store.write_text(FILES.path(out, "scenario"), text)

    provenance = {
        "experiment": str(loaded.path),
        "experiment_hash": loaded.content_hash,
        "study": {
            "file": STUDY_FILE,
            "name": study.study_name,
            "fingerprint": loaded.fingerprint(),
            "sampler": spec.sampler,
            "sampler_seed": spec.sampler_seed,
        },
        "package_version": package_version(),
        "git_commit": git_commit(),
        "base_scenario": {"file": str(loaded.scenario_path), "hash": loaded.base.content_hash()},
        "years": {"start": spec.start_year, "fit": spec.fit_years, "holdout": spec.holdout_years},
        "scale": spec.scale,
        "seeds": spec.seeds,
        "evaluation_seeds": spec.evaluation_seeds,
        "data": {
            "population": "population_annual.csv (registered population at 31 December, persons)",
            "net_migration": "net_migration_annual.csv (inter-provincial net migration per year, persons)",
        },
        "loss": {
            "definition": "mean over fit years and provinces of (100 (P_sim - P_obs) / P_obs)^2 + w * mean of (100 (N_sim - N_obs) / P_obs(previous year))^2, simulated values averaged over seeds (%^2)",
            "net_migration_weight": spec.loss.net_migration_weight,
            "default_on_fit_seeds": default_trial.value,
            "calibrated_on_fit_seeds": best.value,
            "best_trial": best.number,
        },
        "trials": result.trials,
        "workers": result.workers,
        "parameters": [
            {
                "name": p.label,
                "parameter": p.key,
                "regions": list(p.codes) if p.codes else "all",
                "low": p.low,
                "high": p.high,
                "default": p.default,
                "calibrated": result.best[p.label],
            }
            for p in loaded.free
        ],
        "errors": json.loads(result.table.to_json(orient="records")),
        "wall_time_s": result.wall_time_s,
    }
    store.write_json(FILES.path(out, "marker"), provenance)
    provinces = _province_table(loaded, paths, observed)
    store.write_csv(FILES.path(out, "fit"), provinces)
    store.write_csv(FILES.path(out, "trials"), study.trials_dataframe(attrs=("number", "value", "params", "user_attrs", "state")))


def _relative(target: Path, folder: Path) -> str:
    return os.path.relpath(target.resolve(), folder.resolve())


def _province_table(loaded: LoadedCalibration, paths: dict, observed: Observed) -> pd.DataFrame:
    """Per province: observed vs simulated populations at the end of each window and mean net migration."""
    spec = loaded.spec
    fit_end, last = spec.fit_years[1], spec.holdout_years[1]
    fit_years = list(range(spec.fit_years[0], fit_end + 1))
    flow_years = [year for year in fit_years if year in observed.net_migration.columns]
    regions = paths[("calibrated", "start")].population.index
    table = pd.DataFrame(index=regions)
    table[f"population_{fit_end}_observed"] = observed.population.loc[regions, fit_end]
    for label, short in (("default parameters", "default"), ("calibrated", "calibrated")):
        table[f"population_{fit_end}_{short}"] = paths[(label, "start")].population[fit_end]
    table[f"population_{last}_observed"] = observed.population.loc[regions, last]
    for label, short in FORECASTS:
        if paths[(label, "start")].population is None:
            continue
        table[f"population_{last}_{short}"] = paths[(label, "start")].population[last]
        if (label, "restart") in paths and paths[(label, "restart")].population is not None:
            table[f"population_{last}_{short}_from_{fit_end}"] = paths[(label, "restart")].population[last]
    if flow_years:
        table["net_migration_mean_observed"] = observed.net_migration.loc[regions, flow_years].mean(axis=1)
        for label, short in (("default parameters", "default"), ("calibrated", "calibrated")):
            table[f"net_migration_mean_{short}"] = paths[(label, "start")].net_migration[flow_years].mean(axis=1)
    return table.round(1).rename_axis("region").reset_index()
