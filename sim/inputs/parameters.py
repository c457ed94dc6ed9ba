"""Behavioural parameters: declared here by name and type, documented in ``sim/inputs/data/parameters.yaml``.

The YAML file holds each entry's value, unit, source or ``assumption: true``, note, and ``range`` or
``fixed`` (why it has none); this module holds one frozen pydantic model per section of that file with
one field per entry (its name and type; the unit is the YAML's, ``documented_parameters``), and builds a
run's ``Parameters`` from the YAML values and a scenario's ``parameters:`` overrides
(``{"section.name": value}``). A YAML entry without a field, or a field without an entry, is a DataError
when the file is read. Values given by region code are ``ByRegion`` mappings; the participation profile
by age band is a ``ByAgeBand``.
"""

from __future__ import annotations

import copy
import difflib
import math
from functools import cache
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError, field_validator

from sim.errors import DataError, ScenarioError
from sim.inputs.config_files import describe
from sim.inputs.data import DATA_DIR
from sim.inputs.pack import MIGRATION_CALIBRATION_PERIODS

PARAMETER_FILE = DATA_DIR / "parameters.yaml"


class NumberMapping(RootModel[dict[str, float]]):
    """Numbers by key (frozen); ``mapping[key]``, ``keys()``, ``items()``."""

    model_config = ConfigDict(frozen=True)

    def __getitem__(self, key: str) -> float:
        return self.root[key]

    def keys(self) -> list[str]:
        """The keys, in file order."""
        return list(self.root)

    def items(self) -> list[tuple[str, float]]:
        """(key, value) pairs, in file order."""
        return list(self.root.items())


class ByRegion(NumberMapping):
    """A parameter given per KOSIS region code ({"11": value, ...})."""

    def in_order(self, codes: list[str], neutral: float) -> np.ndarray:
        """The values in the order of ``codes`` (``neutral`` for a code the mapping lacks)."""
        return np.array([float(self.root.get(code, neutral)) for code in codes])


class ByAgeBand(NumberMapping):
    """A parameter given per age band of completed years ({"15-19": value, ...})."""

    def by_single_age(self, ages: int) -> np.ndarray:
        """The values by single year of age 0..``ages``−1 (0 outside every band)."""
        profile = np.zeros(ages)
        for band, value in self.root.items():
            low, high = (int(x) for x in band.split("-"))
            profile[low : high + 1] = value
        return profile


class Section(BaseModel):
    """One section of ``parameters.yaml``: a field per entry, values only."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Demography(Section):
    """``demography``: births, and the age, sex and regional allocation of international migrants."""

    sex_ratio_at_birth: float
    international_migrant_male_share: float
    international_migrant_peak_location: float
    international_migrant_rise_rate: float
    international_migrant_fall_rate: float
    international_migrant_child_level: float
    international_migrant_constant_level: float
    international_migrant_region_allocation: Literal["population_share"]
    fertility_multiplier: ByRegion


class Migration(Section):
    """``migration``: who leaves a province (Rogers-Castro schedule) and where to (destination logit weights)."""

    rogers_castro_a1: float
    rogers_castro_alpha1: float
    rogers_castro_a2: float
    rogers_castro_alpha2: float
    rogers_castro_mu2: float
    rogers_castro_lambda2: float
    rogers_castro_c: float
    distance_elasticity: float
    ties_elasticity: float
    wage_weight: float
    employment_weight: float
    openings_weight: float
    leave_labour_response: float
    housing_cost_weight: float
    amenity_weight: float
    housing_cost_population_elasticity: float
    destination_population_elasticity: float
    calibration_period: str
    destination_constant_shift: ByRegion

    @field_validator("calibration_period")
    @classmethod
    def _packaged_window(cls, period: str) -> str:
        if period not in MIGRATION_CALIBRATION_PERIODS:
            raise ValueError(f"unknown window; packaged windows: {', '.join(MIGRATION_CALIBRATION_PERIODS)}")
        return period

    def rogers_castro_shape(self) -> dict[str, float]:
        """The Rogers-Castro coefficients by their names in ``sim.model.mechanisms.migration.rogers_castro``."""
        return {name: getattr(self, f"rogers_castro_{name}") for name in ("a1", "alpha1", "a2", "alpha2", "mu2", "lambda2", "c")}


class Labour(Section):
    """``labour``: participation, matching, separations, the wage curve and local labour demand."""

    matching_efficiency: float
    matching_elasticity_unemployment: float
    job_separation_rate: float
    participation_age_profile: ByAgeBand
    commuting_share_adjacent: float
    participation_openings_elasticity: float
    wage_curve_elasticity: float
    labour_demand_wage_elasticity: float
    local_multiplier_tradable: float
    initial_vacancy_rate: float


class Firms(Section):
    """``firms``: entry, exit, size, productivity and R&D performance of establishments."""

    birth_rate: float
    exit_rate: float
    five_year_survival: float
    size_distribution_pareto_exponent: float
    productivity_dispersion: float
    size_cap_workers: float
    young_firm_years: int
    tradable_industries: tuple[str, ...]
    rd_industries: tuple[str, ...]
    rnd_performing_share_in_rd_industries: float
    employment_elasticity_to_productivity: float
    productivity_industry_factor_bounds: tuple[float, float]
    exit_size_elasticity: float


class Universities(Section):
    """``universities``: higher-education entry, programme lengths, attainment at the start, partnerships and spin-offs."""

    higher_education_entry_rate: float
    programme_length_years: int
    entry_age: int
    college_share_of_entrants: float
    college_programme_length_years: int
    attainment_profile_ages: tuple[float, ...]
    attainment_profile_shares: tuple[float, ...]
    partner_share_of_rd_firms: float
    spinoffs_per_trillion_krw_research: float


class Innovation(Section):
    """``innovation``: the knowledge production function and the split of R&D by performer."""

    knowledge_production_scale: float
    rnd_elasticity: float
    university_research_elasticity: float
    spillover_elasticity: float
    productivity_gain_per_innovation: float
    rnd_subsidy_additionality: float
    business_share_of_rd: float
    university_share_of_rd: float
    university_collaboration_uplift: float


class Policy(Section):
    """``policy``: conversions used by levers."""

    krw_per_jpy: float


class Municipalities(Section):
    """``municipalities``: the si-gun-gu layer (``resolution: sigungu``)."""

    between_municipality_share: float


class Parameters(Section):
    """A run's parameters: ``params.migration.wage_weight`` (units in ``sim/inputs/data/parameters.yaml``)."""

    demography: Demography
    migration: Migration
    labour: Labour
    firms: Firms
    universities: Universities
    innovation: Innovation
    policy: Policy
    municipalities: Municipalities

    def value(self, key: str) -> Any:
        """The value of the entry ``section.name`` (a valid key, ``parameter_keys``)."""
        section, _, name = key.partition(".")
        return getattr(getattr(self, section), name)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (safe_load keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        twice = sorted({str(key) for key in keys if keys.count(key) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"key {twice[0]!r} given twice", node.start_mark)
        return super().construct_mapping(node, deep=deep)


@cache
def _documented() -> dict[str, dict[str, dict[str, Any]]]:
    try:
        with PARAMETER_FILE.open(encoding="utf-8") as handle:
            catalogue = yaml.load(handle, Loader=_UniqueKeyLoader)  # a SafeLoader
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"parameter file unreadable: {PARAMETER_FILE}: {exc}") from None
    for section, entries in catalogue.items():
        for name, entry in (entries or {}).items():
            if ("range" in entry) == ("fixed" in entry):
                raise DataError(f"{PARAMETER_FILE}: {section}.{name}: expected either range or fixed (why it has no range)")
            if "range" in entry:
                _check_range(f"{section}.{name}", entry)
    return catalogue


def _check_range(key: str, entry: dict[str, Any]) -> None:
    """DataError unless ``entry['range']`` is [low, high] with low < high and every value of the
    entry (one number, or each value of a mapping by region) within it."""
    bounds = entry["range"]
    where = f"{PARAMETER_FILE}: {key}.range"
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
        raise DataError(f"{where}: expected [low, high] (two numbers), found {bounds!r}")
    low, high = bounds
    if not low < high:
        raise DataError(f"{where}: low ({low:g}) must be below high ({high:g})")
    value = entry["value"]
    values = value.values() if isinstance(value, dict) else [value]
    if not all(_is_number(v) for v in values):
        raise DataError(f"{where}: only numbers and mappings of numbers have a range, found value {value!r}")
    outside = [v for v in values if not low <= v <= high]
    if outside:
        raise DataError(f"{where}: value {outside[0]:g} is outside [{low:g}, {high:g}]")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def documented_parameters() -> dict[str, dict[str, dict[str, Any]]]:
    """The full parameter catalogue: section -> name -> {value, unit, range, source | assumption, note}."""
    return copy.deepcopy(_documented())


def _default_values() -> dict[str, dict[str, Any]]:
    """Section -> name -> value, as documented (plain YAML values, a fresh copy)."""
    return {
        section: {name: copy.deepcopy(entry["value"]) for name, entry in (entries or {}).items()}
        for section, entries in _documented().items()
    }


def default_parameters() -> Parameters:
    """The documented values, typed; a DataError naming the entry if the file and the fields disagree."""
    try:
        return Parameters.model_validate(_default_values())
    except ValidationError as exc:
        raise DataError(f"{PARAMETER_FILE}: {describe(exc.errors(), Parameters)}") from None


@cache
def parameter_keys() -> tuple[str, ...]:
    """Every valid ``section.name`` key a scenario may override: the fields of ``Parameters``."""
    return tuple(f"{section}.{name}" for section, info in Parameters.model_fields.items() for name in info.annotation.model_fields)


def with_overrides(overrides: dict[str, Any], where: str = "parameters") -> Parameters:
    """Defaults with a scenario's ``{"section.name": value}`` overrides applied.

    An unknown key is a ScenarioError that names the closest valid key; a value of the wrong shape or
    type one that names its field path.
    """
    defaults = default_parameters()  # the file read and checked against the fields
    if not overrides:
        return defaults
    values = _default_values()
    for key, value in overrides.items():
        if key not in parameter_keys():
            close = difflib.get_close_matches(key, parameter_keys(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ScenarioError(f"{where}.{key}: unknown parameter{hint}")
        section, _, name = key.partition(".")
        values[section][name] = _checked(f"{where}.{key}", values[section][name], value)
    try:
        return Parameters.model_validate(values)
    except ValidationError as exc:
        raise ScenarioError(f"{where}.{describe(exc.errors(), Parameters)}") from None


def _checked(path: str, default: Any, value: Any) -> Any:
    """``value`` if it has the shape of ``default`` (number, text, list — numeric lists of the same
    length, as they are profiles — mapping with the same keys, recursively); a ScenarioError otherwise."""

    def fail(expected: str) -> ScenarioError:
        return ScenarioError(f"{path}: expected {expected}, found {type(value).__name__} {value!r}")

    if isinstance(default, bool) or isinstance(value, bool):
        if type(default) is not type(value):
            raise fail(type(default).__name__)
        return value
    if isinstance(default, (int, float)):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise fail("a finite number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise fail("text")
        return value
    if isinstance(default, list):
        numeric = all(isinstance(d, (int, float)) for d in default)
        if not isinstance(value, list) or (numeric and len(value) != len(default)):
            raise fail(f"a list of {len(default)} numbers" if numeric else "a list")
        return [_checked(f"{path}[{i}]", default[min(i, len(default) - 1)], v) for i, v in enumerate(value)]
    if isinstance(default, dict):
        if not isinstance(value, dict) or set(value) != set(default):
            raise fail(f"a mapping with keys {', '.join(map(str, default))}")
        return {k: _checked(f"{path}.{k}", default[k], value[k]) for k in default}
    return value


def parameter_range(key: str) -> tuple[float, float] | None:
    """The recorded ``range: [low, high]`` of the entry ``section.name`` (the value's unit), or None
    if the entry records none. An unknown key is a ScenarioError naming the closest valid key."""
    section, _, name = key.partition(".")
    entry = (_documented().get(section) or {}).get(name)
    if entry is None:
        close = difflib.get_close_matches(key, parameter_keys(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(f"{key}: unknown parameter{hint}")
    recorded = entry.get("range")
    return None if recorded is None else (float(recorded[0]), float(recorded[1]))


FRACTION_UNITS = ("share", "probability", "(fraction)", "(0-1)")
"""Words of a parameter's unit that make it a fraction of one (a value outside [0, 1] is invalid)."""


def parameter_validity(key: str) -> tuple[float, float] | None:
    """The values ``section.name`` can take at all, from its unit: [0, 1] for a share, probability
    or fraction; None if the unit implies no bound (the scenario's own checks still apply)."""
    section, _, name = key.partition(".")
    unit = str(((_documented().get(section) or {}).get(name) or {}).get("unit", ""))
    return (0.0, 1.0) if unit.startswith(FRACTION_UNITS[:2]) or any(word in unit for word in FRACTION_UNITS[2:]) else None
