"""Scenario files: schema, inheritance (``extends:``) and user-facing validation errors.

A scenario fully determines a run together with its seed. Files are YAML; a variant names the
file it ``extends:`` (a path relative to itself) and overrides only what differs. Mappings are
merged key by key; lists and scalars replace the parent's value.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from sim.errors import DataError, ScenarioError
from sim.parameters import with_overrides

START_YEARS = (2015, 2020, 2023)
"""Start years with a packaged population by single year of age (31 December)."""

LAST_YEAR = 2072
"""Last year of the official fertility, mortality and international-migration assumptions."""


class Fertility(BaseModel):
    """Fertility assumption for years after the last observed year (2023).

    ``tfr_path`` is ``kostat_2022_medium`` (the official medium assumption, national TFR 0.72 in 2023,
    0.65 in 2025, 1.08 from 2050) or a mapping year -> national TFR (children per woman), linearly
    interpolated and held constant beyond its last year. Regional differences are kept: every
    province's age schedule is scaled by the same factor.
    """

    model_config = ConfigDict(extra="forbid")
    tfr_path: Literal["kostat_2022_medium"] | dict[int, float] = "kostat_2022_medium"

    @field_validator("tfr_path")
    @classmethod
    def _positive(cls, path: Any) -> Any:
        if isinstance(path, dict):
            if not path:
                raise ValueError("a TFR path needs at least one year")
            for year, tfr in path.items():
                if not 0 <= tfr <= 10:
                    raise ValueError(f"TFR {tfr} for {year} is outside 0..10 children per woman")
        return path


REGION_TYPES = ("all", "capital", "non_capital", "population_decline_areas")
"""Region types a lever can target; ``population_decline_areas`` weights provinces by the share of
their population living in the 89 designated population-decline areas (2021)."""


class LeverSpec(BaseModel):
    """One lever switched on in a scenario: name, money, period, targeting, effect parameters."""

    model_config = ConfigDict(extra="forbid")

    lever: str = Field(description="registry name (see `regsim levers`)")
    label: str | None = Field(None, description="name in outputs, when one lever is used twice")
    budget_krw_per_year: float | None = Field(None, ge=0, allow_inf_nan=False, description="KRW per year")
    budget_jpy_per_year: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="JPY per year, converted at policy.krw_per_jpy"
    )
    start: int = Field(strict=True, description="first year the lever spends")
    end: int = Field(strict=True, description="last year the lever spends (inclusive)")
    regions: list[str] | None = Field(None, description="KOSIS region codes; default: all regions")
    region_type: Literal["all", "capital", "non_capital", "population_decline_areas"] = "all"
    industries: list[str] | None = Field(None, description="KSIC sections (A..S); default: the lever's own")
    params: dict[str, Any] = Field(default_factory=dict, description="effect parameters of the lever")

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: int, info: ValidationInfo) -> int:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"must not be before start ({start})")
        return end

    @model_validator(mode="after")
    def _one_budget(self) -> LeverSpec:
        if (self.budget_krw_per_year is None) == (self.budget_jpy_per_year is None):
            raise ValueError("give exactly one of budget_krw_per_year and budget_jpy_per_year")
        return self

    def budget_krw(self, krw_per_jpy: float) -> float:
        """Yearly budget in KRW."""
        if self.budget_krw_per_year is not None:
            return self.budget_krw_per_year
        return self.budget_jpy_per_year * krw_per_jpy


class Scenario(BaseModel):
    """One simulated world: region pack, period, scale, demographic assumptions, parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    country: Literal["korea"] = "korea"
    start_year: int = Field(2023, strict=True, description="first state is 31 December of this year")
    end_year: int = Field(2052, strict=True, description="last simulated year (inclusive)")
    scale: int = Field(100, ge=1, strict=True, description="persons (and establishments) per agent")
    fertility: Fertility = Fertility()
    international_migration: Literal["kostat_2022_medium", "none"] = "kostat_2022_medium"
    data_pack: str | None = Field(None, description="folder of region-pack tables replacing the packaged ones")
    parameters: dict[str, Any] = Field(default_factory=dict, description="section.name -> value")
    levers: list[LeverSpec] = Field(default_factory=list, description="policy levers switched on")

    @field_validator("start_year")
    @classmethod
    def _start_year_has_data(cls, year: int) -> int:
        if year not in START_YEARS:
            available = ", ".join(map(str, START_YEARS))
            raise ValueError(f"no population data for start year {year}; available: {available}")
        return year

    @field_validator("end_year")
    @classmethod
    def _end_after_start(cls, year: int, info: ValidationInfo) -> int:
        start = info.data.get("start_year")
        if start is not None and not start < year <= LAST_YEAR:
            raise ValueError(f"must be after start_year ({start}) and at most {LAST_YEAR}")
        return year

    def resolved_parameters(self) -> dict[str, dict[str, Any]]:
        """Documented defaults with this scenario's overrides applied."""
        return with_overrides(self.parameters)

    def content_hash(self) -> str:
        """SHA-256 of the resolved scenario (after inheritance), independent of file layout."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read, merge (``extends:``) and validate a scenario file.

    ``overrides`` replace top-level fields after inheritance (e.g. ``scale=50``). Any problem is a
    ScenarioError naming the file and the field path.
    """
    path = Path(path)
    raw = _merged_yaml(path, chain=())
    if isinstance(raw.get("data_pack"), str):
        raw["data_pack"] = str((path.parent / raw["data_pack"]).resolve())
    raw.update({key: value for key, value in overrides.items() if value is not None})
    return scenario_from_dict(raw, source=str(path))


def scenario_from_dict(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate an already-merged mapping; errors name ``source`` and the field path."""
    try:
        scenario = Scenario.model_validate(raw)
        scenario.resolved_parameters()
        _check_levers(scenario)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {_describe(_most_specific(exc.errors()))}") from None
    except (ScenarioError, DataError) as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return scenario


def _check_levers(scenario: Scenario) -> None:
    """Lever names, effect parameters, region codes and industries exist."""
    from sim.agents.firm import INDUSTRIES
    from sim.data import read_table
    from sim.levers.base import build_lever

    if not scenario.levers:
        return
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    codes = read_table("regions", scenario.country, required=("region",), folder=folder)["region"].astype(str).str.zfill(2).tolist()
    for i, spec in enumerate(scenario.levers):
        where = f"levers[{i}]"
        build_lever(spec, where)
        for j, code in enumerate(spec.regions or []):
            if code not in codes:
                close = difflib.get_close_matches(code, codes, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ScenarioError(f"{where}.regions[{j}]: unknown region code {code!r}{hint} (known: {', '.join(codes)})")
        for j, industry in enumerate(spec.industries or []):
            if industry not in INDUSTRIES:
                raise ScenarioError(f"{where}.industries[{j}]: unknown KSIC section {industry!r} (expected one of {''.join(INDUSTRIES)})")


def _merged_yaml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(f"{chain[-1]}: extends: circular inheritance ({cycle})")
    raw = _read_yaml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: expected a file path, found {parent!r}")
    parent_path = (path.parent / parent)
    if not parent_path.is_file():
        raise ScenarioError(f"{path}: extends: file not found: {parent_path}")
    return _deep_merge(_merged_yaml(parent_path, (*chain, resolved)), raw)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ScenarioError(f"{path}: YAML syntax error at {where}: {exc.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: unreadable YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields, found {type(data).__name__}")
    return data


def _deep_merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _most_specific(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The deepest of pydantic's errors (the first among equals): for a union such as ``tfr_path``
    (a name or a mapping), a bad entry of a mapping beats "should be 'kostat_2022_medium'"."""
    return max(errors, key=lambda error: len(error["loc"]))


def _is_tag(part: Any) -> bool:
    """Pydantic's location parts that are not fields: union branches (``dict[int,float]``,
    ``literal['…']``) and ``[key]`` (the key of a mapping entry rather than its value)."""
    return isinstance(part, str) and "[" in part


def _describe(error: dict[str, Any]) -> str:
    """One line: field path, what was expected, what was found (and the closest valid key)."""
    location = tuple(part for part in error["loc"] if not _is_tag(part))
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".") or "(top level)"
    found = error.get("input")
    if error["type"] == "extra_forbidden":
        valid = _fields_at(location[:-1])
        close = difflib.get_close_matches(str(location[-1]), valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
        return f"{path}: unknown key{hint}"
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    message = error["msg"].removeprefix("Value error, ")
    if not location:
        return message
    if error["type"] == "value_error" and isinstance(found, dict):  # a whole-object check: the message says it
        return f"{path}: {message}"
    return f"{path}: {message} (found {found!r})"


def _fields_at(location: tuple[Any, ...]) -> list[str]:
    model: Any = Scenario
    for part in location:
        if isinstance(part, int):  # a list item: the list's element type
            model = next(iter(getattr(model, "__args__", ())), None)
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))
