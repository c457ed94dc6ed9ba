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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from sim.errors import DataError, ScenarioError
from sim.inputs.config_files import describe, read_mapping
from sim.inputs.data import pack_dir, read_table
from sim.inputs.pack import INDUSTRIES, LAST_OBSERVED_YEAR, MUNICIPAL_TABLES, has_municipal_tables
from sim.inputs.parameters import Parameters, with_overrides

START_YEARS = (2015, 2020, 2021, 2023)
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
"""Region types a lever can target; ``population_decline_areas`` are the 89 si-gun-gu designated in 2021:
at ``resolution: sigungu`` the municipalities themselves, at province resolution the provinces weighted by
the share of their population living in them."""


class LeverSpec(BaseModel):
    """One lever switched on in a scenario: name, money, period, targeting, effect parameters.

    A plain entry of the scenario file: its shape is checked here, its ``lever`` name and ``params``
    by the lever registry (``sim.model.levers.base.check_levers``), which the callers apply.
    """

    model_config = ConfigDict(extra="forbid")

    lever: str = Field(description="registry name (see `regsim levers`)")
    label: str | None = Field(None, description="name in outputs, when one lever is used twice")
    budget_krw_per_year: float | None = Field(None, ge=0, allow_inf_nan=False, description="KRW per year")
    budget_jpy_per_year: float | None = Field(None, ge=0, allow_inf_nan=False, description="JPY per year, converted at policy.krw_per_jpy")
    start: int = Field(strict=True, description="first year the lever spends")
    end: int = Field(strict=True, description="last year the lever spends (inclusive)")
    regions: list[str] | None = Field(None, description="KOSIS region codes; default: all regions")
    municipalities: list[str] | None = Field(
        None, description="10-digit MOIS si-gun-gu codes (resolution: sigungu); inside the lever's regions when both are given"
    )
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


class LabourDemandShock(BaseModel):
    """A shift of labour demand in one province: its tradable firms want ``tradable_jobs_change`` more
    workers (a fraction: 0.01 is +1 %) from the start of ``start``; with ``end`` the shift is undone after
    that year (a one-year shock has end = start), without it the shift is permanent."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(description="KOSIS region code of the shocked province")
    tradable_jobs_change: float = Field(gt=-1, allow_inf_nan=False, description="relative change of tradable firms' desired employment")
    start: int = Field(strict=True, description="first year of the shock")
    end: int | None = Field(None, strict=True, description="last year of the shock (inclusive); none: permanent")

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(f"must not be before start ({start})")
        return end

    def factor(self, year: int) -> float:
        """Factor on tradable firms' desired employment at the start of ``year`` (1 in years without a change)."""
        if year == self.start:
            return 1.0 + self.tradable_jobs_change
        if self.end is not None and year == self.end + 1:
            return 1.0 / (1.0 + self.tradable_jobs_change)
        return 1.0


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
    resolution: Literal["province", "sigungu"] = Field(
        "province",
        description="province: persons live in the 17 provinces; sigungu: also in one of the 229 si-gun-gu (municipalities.parquet)",
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="section.name -> value")
    levers: list[LeverSpec] = Field(default_factory=list, description="policy levers switched on")
    shocks: list[LabourDemandShock] = Field(default_factory=list, description="labour-demand shocks (experiments, not policy)")

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

    def resolved_parameters(self) -> Parameters:
        """Documented defaults with this scenario's overrides applied (typed: ``params.section.name``)."""
        return with_overrides(self.parameters)

    def without_levers(self) -> Scenario:
        """The same scenario with no lever switched on: the paired baseline of a policy run (run with
        the same seed, common random numbers), and the reference of tuning and of the page."""
        return self.model_copy(update={"levers": []})

    def content_hash(self) -> str:
        """SHA-256 of the resolved scenario (after inheritance), independent of file layout. The municipal
        fields at their defaults (``resolution: province``, no lever ``municipalities:``) are left out, so
        scenarios written before they existed keep their hash and their batch run keys."""
        dumped = self.model_dump(mode="json")
        if self.resolution == "province":
            del dumped["resolution"]
        for lever in dumped["levers"]:
            if lever["municipalities"] is None:
                del lever["municipalities"]
        canonical = json.dumps(dumped, sort_keys=True)
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
        _check_resolution(scenario)
        _check_levers(scenario)
        _check_shocks(scenario)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {describe(exc.errors(), Scenario)}") from None
    except (ScenarioError, DataError) as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return scenario


def _region_codes(scenario: Scenario) -> list[str]:
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    return read_table("regions", scenario.country, required=("region",), folder=folder)["region"].astype(str).str.zfill(2).tolist()


def _check_region(code: str, codes: list[str], where: str) -> None:
    if code not in codes:
        close = difflib.get_close_matches(code, codes, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(f"{where}: unknown region code {code!r}{hint} (known: {', '.join(codes)})")


def _check_shocks(scenario: Scenario) -> None:
    """Shocked provinces exist."""
    if scenario.shocks:
        codes = _region_codes(scenario)
        for i, shock in enumerate(scenario.shocks):
            _check_region(shock.region, codes, f"shocks[{i}].region")


def _check_resolution(scenario: Scenario) -> None:
    """``resolution: sigungu`` needs the municipal tables in the data pack and the start year they describe."""
    if scenario.resolution != "sigungu":
        return
    folder = Path(scenario.data_pack) if scenario.data_pack else pack_dir(scenario.country)
    if not has_municipal_tables(folder):
        raise ScenarioError(
            f"resolution: the data pack {folder} has no municipal tables ({', '.join(n + '.csv' for n in MUNICIPAL_TABLES)}); "
            "available: province"
        )
    if scenario.start_year != LAST_OBSERVED_YEAR:
        raise ScenarioError(
            f"resolution: sigungu starts from 31 Dec {LAST_OBSERVED_YEAR} (municipal populations), found start_year {scenario.start_year}"
        )


def _check_municipalities(scenario: Scenario, spec: LeverSpec, where: str, folder: Path | None) -> None:
    """A lever's ``municipalities:`` exist, need municipal resolution and lie in the lever's ``regions:``."""
    if spec.municipalities is None:
        return
    if scenario.resolution != "sigungu":
        raise ScenarioError(
            f"{where}.municipalities: municipality codes need resolution: sigungu (found resolution: {scenario.resolution})"
        )
    table = read_table("municipalities", scenario.country, required=("municipality", "region"), folder=folder)
    province_of = dict(zip(table["municipality"].astype(str), table["region"].astype(str).str.zfill(2)))
    for j, code in enumerate(spec.municipalities):
        if code not in province_of:
            close = difflib.get_close_matches(code, list(province_of), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ScenarioError(
                f"{where}.municipalities[{j}]: unknown municipality code {code!r}{hint} (expected a 10-digit MOIS code of municipalities.csv)"
            )
        if spec.regions is not None and province_of[code] not in spec.regions:
            raise ScenarioError(
                f"{where}.municipalities[{j}]: municipality {code!r} lies in region {province_of[code]}, outside the lever's regions ({', '.join(spec.regions)})"
            )


def _check_levers(scenario: Scenario) -> None:
    """Region codes and industries of the lever entries exist (lever names and effect parameters are
    the levers' to check: ``sim.model.levers.base.check_levers``)."""
    if not scenario.levers:
        return
    codes = _region_codes(scenario)
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    for i, spec in enumerate(scenario.levers):
        where = f"levers[{i}]"
        for j, code in enumerate(spec.regions or []):
            _check_region(code, codes, f"{where}.regions[{j}]")
        _check_municipalities(scenario, spec, where, folder)
        for j, industry in enumerate(spec.industries or []):
            if industry not in INDUSTRIES:
                raise ScenarioError(f"{where}.industries[{j}]: unknown KSIC section {industry!r} (expected one of {''.join(INDUSTRIES)})")


def _merged_yaml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(f"{chain[-1]}: extends: circular inheritance ({cycle})")
    raw = read_mapping(path, "scenario", ScenarioError)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: expected a file path, found {parent!r}")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ScenarioError(f"{path}: extends: file not found: {parent_path}")
    return _deep_merge(_merged_yaml(parent_path, (*chain, resolved)), raw)


def _deep_merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
