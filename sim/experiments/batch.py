"""Batch experiments: expand an experiment file into runs and execute them (local processes or Dask).

An experiment file (YAML) names scenarios (paths relative to the file; the first is the
reference), seeds, optional ``until``/``scale`` overrides, an optional parameter ``sweep`` applied
to the non-reference scenarios, and the region columns to keep::

    name: rd_grant_sweep
    scenarios: [../scenarios/korea_baseline.yaml, ../scenarios/rd_grant_only.yaml]
    seeds: 5                      # 0..4, or a list [0, 3, 7]
    until: 2035
    sweep:
      method: grid                # grid | random | latin_hypercube
      parameters:
        levers[0].budget_krw_per_year: {values: [5.0e10, 1.0e11]}
        levers[0].params.cofunding_rate: {values: [0.5, 0.8]}

Runs = (reference + variants × sweep points) × seeds. Each run is keyed by a short hash of the
resolved scenario's content hash and the seed, so the same run has the same key in any batch.
Comparisons between scenarios pair every run with the reference run of the same seed. A run with
levers is also paired with its own lever-free baseline in the same process (``paired_baseline=True``,
one extra simulation per levered run), so that its folder carries the additionality ledger
(``ledger.parquet``, ``sim.results.ledger``) and ``jobs_created``/``population_retained`` against that
baseline. A run's tables are exactly those of ``sim.results.run.run(scenario, seed)`` plus the key columns
of ``sim.results.store``. ``RunSpec.paired_baseline=False`` (sensitivity designs, which run their own
lever-free points) skips the extra run.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from scipy.stats import qmc

from sim.errors import RegsimError, ScenarioError
from sim.experiments.executors import check_executor, open_executor, worker_count
from sim.experiments.experiment import Seeds, check_field_paths, new_results_folder, parse_path, seed_list, set_path
from sim.experiments.uncertainty import Marginal, draw_points
from sim.inputs.config_files import validated_file
from sim.inputs.parameters import parameter_keys, parameter_range, parameter_validity
from sim.model.levers.base import lever_class, parameter_evidence
from sim.model.metrics import PAIRED_MEASURES, REGION_MEASURES
from sim.results import store
from sim.results.run import load_scenario, run, scenario_from_dict

__all__ = ["parse_path", "set_path"]  # the field-path language, kept importable here (sim.experiments.experiment)

BatchProgress = Callable[[int, int, int], None]
"""Called after each run is stored with (runs done, runs to do, runs failed so far)."""


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class ExperimentError(RegsimError):
    """An experiment file is invalid; the message names the file and the field path."""


# --- schema ------------------------------------------------------------------------------------
class SweepParameter(BaseModel):
    """Values of one swept scenario field: ``values`` (grid) or ``low``/``high`` (random, LHS)."""

    model_config = ConfigDict(extra="forbid")
    values: list[Any] | None = Field(None, min_length=1, description="grid values")
    low: float | None = Field(None, allow_inf_nan=False, description="lower bound (random, latin_hypercube)")
    high: float | None = Field(None, allow_inf_nan=False, description="upper bound (random, latin_hypercube)")
    integer: bool = Field(False, description="round sampled values to integers")

    @field_validator("values")
    @classmethod
    def _numbers(cls, values: list[Any] | None) -> list[Any] | None:
        """YAML 1.1 reads ``101.6e9`` (no sign in the exponent) as a string: such values are numbers."""
        if values is None:
            return None
        return [float(value) if isinstance(value, str) and _NUMBER.fullmatch(value.strip()) else value for value in values]

    @model_validator(mode="after")
    def _bounds(self) -> SweepParameter:
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give values (grid) or low and high (random, latin_hypercube)")
        if self.values is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either values or low/high, not both")
        if self.low is not None and self.high is not None and not self.low <= self.high:
            raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
        return self


class Sweep(BaseModel):
    """A parameter sweep applied to the non-reference scenarios (or those named in ``apply_to``)."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["grid", "random", "latin_hypercube"] = "grid"
    samples: int | None = Field(None, ge=1, strict=True, description="number of points (random, latin_hypercube)")
    seed: int = Field(0, ge=0, strict=True, description="seed of the sampler (random, latin_hypercube)")
    parameters: dict[str, SweepParameter] = Field(min_length=1, description="scenario field path -> values")
    apply_to: list[str] | None = Field(None, description="scenario names or paths (default: every non-reference scenario)")

    @field_validator("parameters")
    @classmethod
    def _paths(cls, parameters: dict[str, SweepParameter]) -> dict[str, SweepParameter]:
        return check_field_paths(parameters)

    @model_validator(mode="after")
    def _method(self) -> Sweep:
        for path, parameter in self.parameters.items():
            if self.method == "grid" and parameter.values is None:
                raise ValueError(f"parameters.{path}: method grid needs values: [...]")
            if self.method != "grid" and parameter.values is not None:
                raise ValueError(f"parameters.{path}: method {self.method} needs low and high, not values")
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"method {self.method} needs samples (number of points)")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("samples is for random and latin_hypercube; a grid has one point per combination")
        return self


class Experiment(BaseModel):
    """An experiment file: scenarios (the first is the reference), seeds, overrides, sweep, outputs."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    scenarios: list[str] = Field(min_length=1, description="scenario files relative to the experiment file; the first is the reference")
    seeds: Seeds = Field(description="N (seeds 0..N-1) or a list of seeds")
    until: int | None = Field(None, strict=True, description="last simulated year of every run")
    scale: int | None = Field(None, ge=1, strict=True, description="persons per agent of every run")
    sweep: Sweep | None = None
    uncertainties: Uncertainties | None = None
    outputs: list[str] | None = Field(None, min_length=1, description="region columns to keep (default: all)")

    @field_validator("outputs")
    @classmethod
    def _outputs(cls, outputs: list[str] | None) -> list[str] | None:
        if outputs is None:
            return None
        valid = region_columns()
        for column in outputs:
            if column not in valid:
                close = difflib.get_close_matches(column, valid, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(valid)}"
                raise ValueError(f"unknown region column {column!r}{hint}")
        return outputs

    def seed_list(self) -> list[int]:
        return seed_list(self.seeds)


def region_columns() -> list[str]:
    """Region columns an experiment may keep (``year``, ``region``, ``region_name`` are always kept)."""
    return [*REGION_MEASURES, *PAIRED_MEASURES]


ALWAYS_KEPT = ("year", "region", "region_name")


@dataclass
class LoadedExperiment:
    """A validated experiment with where it came from."""

    spec: Experiment
    path: Path
    content_hash: str


@dataclass
class RunSpec:
    """One run of a batch: the scenario (as a mapping, validated in the worker), seed and labels."""

    key: str
    scenario: str
    variant: str
    seed: int
    sweep: dict[str, Any]
    scenario_dict: dict[str, Any]
    source: str
    reference: bool = False
    outputs: list[str] | None = None
    invalid: str | None = None  # why a design point does not validate (sensitivity: the run fails with it)
    paired_baseline: bool = True  # a levered run also runs its lever-free baseline (the ledger)

    def info(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scenario": self.scenario,
            "variant": self.variant,
            "seed": self.seed,
            "sweep": self.sweep,
            "reference": self.reference,
        }


@dataclass
class BatchOrigin:
    """What a batch folder's manifest records as its source: name, file and the file's sha256."""

    name: str
    file: str
    content_hash: str


@dataclass
class BatchSummary:
    """What a batch did: counts, wall time and the failures with their messages."""

    out: Path
    total: int
    finished: int
    failed: int
    skipped: int
    wall_time_s: float
    failures: list[dict[str, Any]] = field(default_factory=list)


# --- uncertainties -----------------------------------------------------------------------------
DRAWS_FILE = "draws.csv"
UNCERTAINTY_FILE = "uncertainty.json"


class UncertainParameter(BaseModel):
    """One uncertain parameter: its range (default: the range recorded for it) and distribution.

    A lever effect parameter ``levers[i].params.name`` names lever i of ``scenario`` (default: the
    first scenario with that many levers); its draw applies to every lever of that kind in every
    scenario. A distribution other than uniform needs its ``source``.
    """

    model_config = ConfigDict(extra="forbid")
    low: float | None = Field(None, allow_inf_nan=False, description="lower end (default: the recorded range)")
    high: float | None = Field(None, allow_inf_nan=False, description="upper end (default: the recorded range)")
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    mode: float | None = Field(None, allow_inf_nan=False, description="triangular: the most likely value")
    mean: float | None = Field(None, allow_inf_nan=False, description="normal (truncated to the range): the mean")
    sd: float | None = Field(None, gt=0, allow_inf_nan=False, description="normal: the standard deviation")
    source: str | None = Field(None, description="where the distribution comes from (required unless uniform)")
    scenario: str | None = Field(None, description="levers[i]: the scenario (name or file) whose lever i is meant")

    @model_validator(mode="after")
    def _shape(self) -> UncertainParameter:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither (the recorded range)")
        if self.low is not None and self.high is not None:
            check_range(self.low, self.high)
        needs = {"uniform": (), "triangular": ("mode",), "normal": ("mean", "sd")}[self.distribution]
        for name in ("mode", "mean", "sd"):
            if (getattr(self, name) is not None) != (name in needs):
                raise ValueError(f"{self.distribution} distribution: {'give' if name in needs else 'no'} {name}")
        if needs and not self.source:
            raise ValueError(f"a {self.distribution} distribution needs its source (a citation with table or page)")
        return self


class Uncertainties(BaseModel):
    """Uncertain parameters of a batch: each replicate (seed) draws one point, shared by every scenario."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["latin_hypercube", "sobol"] = "latin_hypercube"
    seed: int = Field(0, ge=0, strict=True, description="seed of the sampler")
    parameters: dict[str, UncertainParameter] = Field(min_length=1, description="parameters.section.name or levers[i].params.name")

    @field_validator("parameters", mode="before")
    @classmethod
    def _empty_entries(cls, parameters: Any) -> Any:
        """``path: {}`` and a bare ``path:`` both mean the recorded range."""
        return {key: {} if value is None else value for key, value in parameters.items()} if isinstance(parameters, dict) else parameters


def check_range(low: float, high: float) -> None:
    """ValueError unless low < high."""
    if low > high:
        raise ValueError(f"reversed range: low ({low:g}) is above high ({high:g})")
    if low == high:
        raise ValueError(f"degenerate range: low and high are both {low:g}")


@dataclass
class ResolvedUncertainty:
    """An uncertain parameter with its field path, the lever kind it applies to (None for a
    behavioural parameter), the parameter name, its marginal distribution and where the range came from."""

    path: str
    lever: str | None
    name: str
    marginal: Marginal
    range_from: str

    def info(self) -> dict[str, Any]:
        return {"path": self.path, "lever": self.lever, "name": self.name, "range_from": self.range_from, **asdict(self.marginal)}


def resolve_uncertainties(loaded: LoadedExperiment, scenarios: list[Any] | None = None) -> list[ResolvedUncertainty]:
    """The experiment's uncertain parameters checked against its scenarios: a known parameter, a
    range (given or recorded) that is neither reversed nor degenerate and that every scenario
    accepts at both ends; ExperimentErrors naming the file and the field path."""
    spec, path = loaded.spec, loaded.path
    if spec.uncertainties is None:
        return []
    if scenarios is None:
        scenarios = [load_scenario(path.parent / s, end_year=spec.until, scale=spec.scale) for s in spec.scenarios]
    swept = set(spec.sweep.parameters) if spec.sweep else set()
    return uncertain_parameters(spec.uncertainties, scenarios, spec.scenarios, path, swept)


def uncertain_parameters(
    block: Uncertainties,
    scenarios: list[Any],
    files: list[str],
    path: Path,
    swept: set[str] = frozenset(),
) -> list[ResolvedUncertainty]:
    """``resolve_uncertainties`` for any experiment file (``path``) with an ``uncertainties`` block
    over ``scenarios`` (loaded from ``files``); ``swept``: field paths that may not be uncertain too."""
    resolved = []
    for key, entry in block.parameters.items():
        where = f"{path}: uncertainties.parameters.{key}"
        if key in swept:
            raise ExperimentError(
                f"{where}: also varied by the experiment (sweep.parameters or variables); a parameter is either varied or uncertain"
            )
        try:
            lever, name, recorded, validity = _uncertain_target(key, entry, scenarios, files)
            low, high = (entry.low, entry.high) if entry.low is not None else (recorded or (None, None))
            if low is None:
                raise ValueError("no range is recorded for it; give low and high")
            check_range(low, high)
            if validity is not None and not validity[0] <= low < high <= validity[1]:
                raise ValueError(f"range [{low:g}, {high:g}] is outside the parameter's valid values [{validity[0]:g}, {validity[1]:g}]")
            for value in (entry.mode, entry.mean):
                if value is not None and not low <= value <= high:
                    raise ValueError(f"{value:g} is outside the range [{low:g}, {high:g}]")
        except ValueError as exc:
            raise ExperimentError(f"{where}: {exc}") from None
        item = ResolvedUncertainty(
            key,
            lever,
            name,
            Marginal(low, high, entry.distribution, entry.mode, entry.mean, entry.sd),
            "experiment file" if entry.low is not None else "recorded range",
        )
        for end in (low, high):
            for scenario in scenarios:
                _, invalid = scenario_identity(with_draw(scenario.model_dump(), [item], {key: end}), scenario.name)
                if invalid is not None:
                    raise ExperimentError(f"{where}: {end:g} is not a valid value in scenario {scenario.name!r}: {invalid}")
        twin = next((other for other in resolved if (other.lever, other.name) == (item.lever, item.name)), None)
        if twin is not None:
            raise ExperimentError(f"{where}: the same parameter as uncertainties.parameters.{twin.path} ({item.lever}.{item.name})")
        resolved.append(item)
    return resolved


def _uncertain_target(
    key: str, entry: UncertainParameter, scenarios: list[Any], files: list[str]
) -> tuple[str | None, str, tuple[float, float] | None, tuple[float, float] | None]:
    """(lever kind or None, parameter name, recorded range, valid values) of an uncertainty's field path."""
    tokens = parse_path(key)
    if tokens[0] == "parameters":
        name = str(tokens[1])
        if name not in parameter_keys():
            close = difflib.get_close_matches(name, parameter_keys(), n=1)
            raise ValueError(f"unknown parameter {name!r}" + (f"; did you mean 'parameters.{close[0]}'?" if close else ""))
        if entry.scenario is not None:
            raise ValueError("scenario: only for lever parameters (levers[i].params.name)")
        return None, name, parameter_range(name), parameter_validity(name)
    if len(tokens) != 4 or tokens[0] != "levers" or not isinstance(tokens[1], int) or tokens[2] != "params":
        raise ValueError("expected parameters.<section>.<name> or levers[i].params.<name>")
    index, name = int(tokens[1]), str(tokens[3])
    if entry.scenario is not None:
        chosen = [s for s, file in zip(scenarios, files) if entry.scenario in (s.name, file)]
        if not chosen:
            raise ValueError(f"scenario: unknown scenario {entry.scenario!r}; scenarios: {', '.join(s.name for s in scenarios)}")
        if index >= len(chosen[0].levers):
            raise ValueError(f"scenario {chosen[0].name!r} has {len(chosen[0].levers)} levers")
    else:
        chosen = [s for s in scenarios if index < len(s.levers)]
        if not chosen:
            raise ValueError(f"no scenario has a lever {index} (levers[0]..)")
    kind = chosen[0].levers[index].lever
    fields = lever_class(kind, key).Params.model_fields
    if name not in fields:
        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(fields) or 'none'}"
        raise ValueError(f"unknown parameter {name!r} of lever {kind!r}{hint}")
    return kind, name, lever_parameter_range(lever_class(kind, key).Params, name), None


def lever_parameter_range(params_cls: type[BaseModel], name: str) -> tuple[float, float] | None:
    """The range recorded with a lever parameter's evidence (``sim.model.levers.base.parameter_evidence``), or None."""
    evidence = parameter_evidence(params_cls).get(name)
    return None if evidence is None else evidence.range


def with_draw(raw: dict[str, Any], uncertain: list[ResolvedUncertainty], point: Any) -> dict[str, Any]:
    """A copy of the scenario mapping ``raw`` with the drawn values (``point[path]``): behavioural
    parameters as overrides, lever parameters in every lever of their kind."""
    drawn = copy.deepcopy(raw)
    for item in uncertain:
        value = float(point[item.path])
        if item.lever is None:
            set_path(drawn, f"parameters.{item.name}", value)
            continue
        for lever in drawn.get("levers") or []:
            if lever.get("lever") == item.lever:
                lever.setdefault("params", {})[item.name] = value
    return drawn


def uncertainty_draws(loaded: Any, uncertain: list[ResolvedUncertainty], seeds: list[int] | None = None, offset: int = 0):
    """One row per replicate: ``replicate``, ``seed`` and the drawn value of every uncertain
    parameter (None without uncertainties). ``loaded``: an experiment (batch or tuning) with an
    ``uncertainties`` block; ``seeds``: the replicates' seeds (default: the experiment's);
    ``offset``: added to the sampler's seed (another set of replicates, e.g. fresh check seeds)."""
    if not uncertain:
        return None
    spec = loaded.spec
    seeds = spec.seed_list() if seeds is None else seeds
    try:
        table = draw_points(
            {item.path: item.marginal for item in uncertain},
            len(seeds),
            spec.uncertainties.seed + offset,
            spec.uncertainties.method,
        )
    except ValueError as exc:
        raise ExperimentError(f"{loaded.path}: uncertainties.method: {exc} (the number of seeds)") from None
    table = table.rename(columns={"draw": "replicate"})
    table.insert(1, "seed", seeds)
    return table


def write_draws(folder: Path, loaded: LoadedExperiment, uncertain: list[ResolvedUncertainty]) -> None:
    """``draws.csv`` (a row per replicate) and ``uncertainty.json`` (method, seed, the parameters'
    ranges and distributions) in the batch folder."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegsimError(f"cannot create output folder {folder}: {exc.strerror}") from None
    uncertainty_draws(loaded, uncertain).to_csv(folder / DRAWS_FILE, index=False)
    spec = loaded.spec.uncertainties
    content = {"method": spec.method, "seed": spec.seed, "parameters": [item.info() for item in uncertain]}
    (folder / UNCERTAINTY_FILE).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


# --- loading -----------------------------------------------------------------------------------
def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read and validate an experiment file; problems are ExperimentErrors naming file and field."""
    path = Path(path)
    spec, content_hash = validated_file(path, Experiment, "experiment", ExperimentError)
    for i, scenario in enumerate(spec.scenarios):
        if not (path.parent / scenario).is_file():
            raise ExperimentError(f"{path}: scenarios[{i}]: scenario file not found: {path.parent / scenario}")
    return LoadedExperiment(spec=spec, path=path, content_hash=content_hash)


def sweep_points(sweep: Sweep | None) -> list[dict[str, Any]]:
    """The sweep's points, each a mapping path -> value (one empty point without a sweep).

    ``grid``: every combination of the values (first parameter varying slowest); ``random``:
    independent uniform draws; ``latin_hypercube``: scipy's Latin hypercube sampler. Both samplers
    are seeded with ``sweep.seed`` and scaled to [low, high] with ``scipy.stats.qmc.scale``.
    """
    if sweep is None:
        return [{}]
    names = list(sweep.parameters)
    if sweep.method == "grid":
        grids = [sweep.parameters[name].values for name in names]
        return [dict(zip(names, combination)) for combination in itertools.product(*grids)]

    lows = [sweep.parameters[name].low for name in names]
    highs = [sweep.parameters[name].high for name in names]
    rng = np.random.default_rng(sweep.seed)
    if sweep.method == "latin_hypercube":
        unit = qmc.LatinHypercube(d=len(names), rng=rng).random(sweep.samples)
    else:
        unit = rng.random((sweep.samples, len(names)))
    spans = [high - low for low, high in zip(lows, highs)]
    if all(span > 0 for span in spans):
        sample = qmc.scale(unit, lows, highs)
    else:  # qmc.scale needs low < high; a zero-width range is a constant
        sample = np.asarray(lows) + unit * np.asarray(spans)
    points = []
    for row in sample:
        point = {}
        for name, value in zip(names, row):
            point[name] = int(round(float(value))) if sweep.parameters[name].integer else float(value)
        points.append(point)
    return points


def expand(experiment: LoadedExperiment | str | Path) -> list[RunSpec]:
    """Every run of an experiment: (reference + variants × sweep points) × seeds, in that order.

    A sweep point or an uncertainty draw that makes a scenario invalid (a misspelt field, a value out
    of its bounds) is an ExperimentError here, before any run starts.
    """
    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    spec, path = loaded.spec, loaded.path
    base = path.parent
    scenarios = []
    for i, relative in enumerate(spec.scenarios):
        try:
            scenarios.append(load_scenario(base / relative, end_year=spec.until, scale=spec.scale))
        except ScenarioError as exc:
            raise ExperimentError(f"{path}: scenarios[{i}]: {exc}") from None
    targets = _sweep_targets(loaded, [s.name for s in scenarios])
    points = sweep_points(spec.sweep)
    seeds = spec.seed_list()
    uncertain = resolve_uncertainties(loaded, scenarios)
    draws = uncertainty_draws(loaded, uncertain)
    runs: list[RunSpec] = []
    for i, scenario in enumerate(scenarios):
        reference = i == 0
        swept = i in targets
        raw_scenario = scenario.model_dump()
        for point in points if swept else [{}]:
            raw = copy.deepcopy(raw_scenario)
            for sweep_path, value in point.items():
                try:
                    set_path(raw, sweep_path, value)
                except ValueError as exc:
                    raise ExperimentError(f"{path}: sweep.parameters.{sweep_path}: {exc} in scenario {scenario.name!r}") from None
            variant = "reference" if reference else scenario.name
            if point:
                variant += "[" + ", ".join(f"{name}={_short(value)}" for name, value in point.items()) + "]"
            source = scenario.name
            identity, invalid = scenario_identity(raw, source)
            if invalid is not None:  # a misspelt field or a value out of bounds: refused before anything runs
                where = ", ".join(f"sweep.parameters.{name}={_short(value)}" for name, value in point.items())
                raise ExperimentError(f"{path}: {where}: {invalid}")  # the message begins with the scenario's name
            for replicate, seed in enumerate(seeds):
                drawn, drawn_identity = raw, identity
                if uncertain:  # the replicate's point of the uncertain parameters, the same in every scenario
                    drawn = with_draw(raw, uncertain, draws.iloc[replicate])
                    drawn_identity, drawn_invalid = scenario_identity(drawn, source)
                    if drawn_invalid is not None:
                        raise ExperimentError(f"{path}: uncertainties: the draw of replicate {replicate} is invalid: {drawn_invalid}")
                runs.append(
                    RunSpec(
                        key=run_key(drawn_identity, seed),
                        scenario=scenario.name,
                        variant=variant,
                        seed=seed,
                        sweep=dict(point),
                        scenario_dict=drawn,
                        source=source,
                        reference=reference,
                        outputs=spec.outputs,
                    )
                )
    return runs


def run_key(scenario_hash: str, seed: int) -> str:
    """Short key of a run: the resolved scenario's content hash and the seed."""
    return hashlib.sha256(f"{scenario_hash}:{int(seed)}".encode()).hexdigest()[:16]


def scenario_identity(raw: dict[str, Any], source: str) -> tuple[str, str | None]:
    """The content hash of the scenario, or (when it does not validate) a hash of the mapping and the error."""
    try:
        return scenario_from_dict(raw, source=source).content_hash(), None
    except RegsimError as exc:
        canonical = json.dumps(raw, sort_keys=True, default=str)
        return "invalid:" + hashlib.sha256(canonical.encode()).hexdigest(), str(exc)


def _sweep_targets(loaded: LoadedExperiment, names: list[str]) -> set[int]:
    spec = loaded.spec
    if spec.sweep is None:
        return set()
    if spec.sweep.apply_to is None:
        if len(spec.scenarios) < 2:
            raise ExperimentError(f"{loaded.path}: sweep: needs a scenario besides the reference (the first of scenarios)")
        return set(range(1, len(spec.scenarios)))
    targets = set()
    for j, wanted in enumerate(spec.sweep.apply_to):
        matches = {i for i, (name, file) in enumerate(zip(names, spec.scenarios)) if wanted in (name, file)}
        if not matches:
            known = [*names, *spec.scenarios]
            close = difflib.get_close_matches(wanted, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; scenarios: {', '.join(names)}"
            raise ExperimentError(f"{loaded.path}: sweep.apply_to[{j}]: unknown scenario {wanted!r}{hint}")
        targets |= matches
    return targets


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# --- execution ---------------------------------------------------------------------------------
def execute(spec: RunSpec) -> tuple[str, Any, str | None, float]:
    """Run one RunSpec (in a worker): (key, RunResult or None, error message or None, wall time).

    Any exception becomes an error message so that the batch goes on.
    """
    started = time.perf_counter()
    try:
        scenario = scenario_from_dict(spec.scenario_dict, source=spec.source)
        result = run(scenario, seed=spec.seed, paired_baseline=spec.paired_baseline)
        if spec.outputs is not None:
            keep = [*ALWAYS_KEPT, *(c for c in spec.outputs if c not in ALWAYS_KEPT)]
            result.regions = result.regions[[c for c in keep if c in result.regions]]
        return spec.key, result, None, time.perf_counter() - started
    except RegsimError as exc:
        return spec.key, None, str(exc), time.perf_counter() - started
    except Exception as exc:  # noqa: BLE001 - a bug in one run must not stop the batch
        return spec.key, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started


def run_batch(
    experiment_path: str | Path,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: BatchProgress | None = None,
) -> BatchSummary:
    """Run every run of an experiment and store each one as it completes (see ``run_specs``)."""
    check_executor(executor, workers, scheduler)
    loaded = load_experiment(experiment_path)
    specs = expand(loaded)
    folder = Path(out) if out is not None else new_results_folder(loaded.spec.name)
    if loaded.spec.uncertainties is not None and (resume or not (folder / store.MANIFEST).is_file()):
        write_draws(folder, loaded, resolve_uncertainties(loaded))
    return run_specs(
        specs,
        folder,
        BatchOrigin(loaded.spec.name, str(loaded.path), loaded.content_hash),
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
    )


def run_specs(
    specs: list[RunSpec],
    folder: Path,
    origin: BatchOrigin,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: BatchProgress | None = None,
) -> BatchSummary:
    """Run ``specs`` (runs with the same key once) and store each one in ``folder`` as it completes
    (see ``sim.results.store``).

    ``executor``, ``workers``, ``scheduler``: where the runs go (``sim.experiments.executors``; ``workers``
    defaults to the CPU count, never more than the runs). ``resume``: skip the runs already
    finished in ``folder`` (failed ones are run again). A run that raises is recorded with its
    message and the batch goes on.
    """
    started = time.perf_counter()
    check_executor(executor, workers, scheduler)
    manifest = _open_folder(folder, origin, resume)

    unique: dict[str, RunSpec] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    done_already = store.finished_keys(folder) if resume else set()
    todo = [spec for key, spec in unique.items() if key not in done_already]
    skipped = len(unique) - len(todo)
    for spec in todo:  # a pending run is listed too, so an interrupted manifest shows what is left
        existing = next((e for e in manifest["runs"] if e["key"] == spec.key), None)
        if existing is None or existing.get("status") != "failed":
            store.record(manifest, store.run_entry(spec.info(), "pending", None))
    store.save_manifest(folder, manifest)

    finished = failed = 0
    failures: list[dict[str, Any]] = []

    def collect(key: str, result: Any, error: str | None, wall: float) -> None:
        nonlocal finished, failed
        spec = unique[key]
        if error is None:
            store.write_run(
                folder,
                spec.info(),
                result.regions,
                result.national,
                result.lever_spending,
                result.metadata,
                result.ledger,
                result.municipalities,
            )
            store.record(manifest, store.run_entry(spec.info(), "finished", wall))
            finished += 1
        else:
            store.write_failure(folder, spec.info(), error, wall)
            store.record(manifest, store.run_entry(spec.info(), "failed", wall, error))
            failures.append({"key": key, "variant": spec.variant, "seed": spec.seed, "error": error})
            failed += 1
        store.save_manifest(folder, manifest)
        if progress is not None:
            progress(finished + failed, len(todo), failed)

    if progress is not None:
        progress(0, len(todo), 0)
    invalid = [spec for spec in todo if spec.invalid is not None]
    for spec in invalid:  # known before running: no need to send them to a worker
        collect(spec.key, None, spec.invalid, 0.0)
    valid = [spec for spec in todo if spec.invalid is None]
    if valid:
        with open_executor(executor, worker_count(workers, len(valid)), scheduler) as pool:
            for i, outcome, error in pool.submit(execute, [(spec,) for spec in valid]).as_completed():
                if error is None:
                    collect(*outcome)
                else:  # the worker died or was lost: record it, go on
                    died = "worker process died" if isinstance(error, BrokenProcessPool) else type(error).__name__
                    collect(valid[i].key, None, f"{died}: {error}", 0.0)
    return BatchSummary(
        out=folder,
        total=len(unique),
        finished=finished,
        failed=failed,
        skipped=skipped,
        wall_time_s=round(time.perf_counter() - started, 3),
        failures=failures,
    )


def _open_folder(folder: Path, origin: BatchOrigin, resume: bool) -> dict[str, Any]:
    manifest_path = folder / store.MANIFEST
    if manifest_path.is_file():
        if not resume:
            raise RegsimError(f"{folder} already holds a batch: resume it, or choose another output folder")
        manifest = store.load_manifest(folder)
        store.reconcile(folder, manifest)
        manifest.update(experiment=origin.name, experiment_file=origin.file, experiment_hash=origin.content_hash)
        return manifest
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegsimError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if resume and any((folder / store.RUNS).glob("*")):
        manifest = store.new_manifest(origin.name, origin.file, origin.content_hash)
        store.reconcile(folder, manifest)
        return manifest
    return store.new_manifest(origin.name, origin.file, origin.content_hash)
