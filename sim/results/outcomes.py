"""Scalar outcomes of a run, named in experiment files (tuning objectives, sensitivity outputs).

An outcome reads one year of a run's region table::

    {measure: population, year: 2035, regions: non_capital}  # a level: summed over the regions
    {measure: provinces_at_risk, year: 2040, threshold: 0.5}  # regions with extinction_risk_index < 0.5
    {measure: jobs_created, year: 2030}  # paired: employed minus the lever-free run's
    {measure: municipalities_at_risk, year: 2040, threshold: 0.2}  # si-gun-gu with index < 0.2 (resolution: sigungu)
    {measure: population, year: 2040, municipalities: ["4794000000"]}  # summed over these si-gun-gu

- a level measure is an additive column of the regions table (``population``, ``employed``,
  ``women_20_39``, ``lever_spending_krw`` …) summed over ``regions``;
- ``provinces_at_risk`` counts the ``regions`` whose extinction risk index is below ``threshold``;
- ``jobs_created`` and ``population_retained`` are paired differences: the level measure
  (``employed``, ``population``) of the run minus that of the same scenario without levers and the
  same seed (common random numbers);
- at ``resolution: sigungu`` an outcome may read ``municipalities.parquet`` instead: ``municipalities_at_risk``
  counts the si-gun-gu of ``regions`` whose extinction risk index is below ``threshold`` (the national
  ``municipalities_at_extinction_risk`` with 0.5, ``…_high_extinction_risk`` with 0.2), and ``municipalities``
  (10-digit MOIS codes) restricts the count, or a municipal level measure (``population``, ``births``, ``deaths``,
  ``net_migration``, ``women_20_39``, ``persons_65_plus``, or paired ``population_retained``), to those si-gun-gu.

``regions`` is ``all``, ``capital`` (Seoul, Incheon, Gyeonggi), ``non_capital`` or a list of KOSIS codes,
read from the scenario's data pack (``region_sets``, with its municipality codes at ``resolution: sigungu``), where
``check_regions`` and ``check_municipalities`` validate the lists.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sim.inputs.data import read_table
from sim.model.metrics import (
    EXTINCTION_RISK_THRESHOLD,
    FLOW_MEASURES,
    MUNICIPAL_MEASURES,
    RATIO_MEASURES,
    REGION_MEASURES,
)

if TYPE_CHECKING:
    from sim.inputs.scenario import Scenario

RegionSets = dict[str, frozenset[str]]
"""Region codes of ``all``, ``capital`` and ``non_capital`` in one data pack, and the codes of its ``municipalities``
(empty unless the scenario has ``resolution: sigungu``)."""

LEVEL_MEASURES = [name for name in REGION_MEASURES if name not in RATIO_MEASURES]
PAIRED = {"jobs_created": "employed", "population_retained": "population"}
"""Paired outcome -> the level measure differenced against the lever-free run."""
RISK_COUNT = "provinces_at_risk"
MUNICIPAL_RISK_COUNT = "municipalities_at_risk"
MUNICIPAL_LEVELS = [name for name in MUNICIPAL_MEASURES if name not in RATIO_MEASURES]
"""Level measures of ``municipalities.parquet`` (persons); with ``population_retained``, what a municipal outcome sums."""
MEASURES = [*LEVEL_MEASURES, RISK_COUNT, MUNICIPAL_RISK_COUNT, *PAIRED]


class Outcome(BaseModel):
    """One scalar outcome of a run: a measure in a year over a set of regions."""

    model_config = ConfigDict(extra="forbid")
    measure: str = Field(description="level measure, provinces_at_risk, municipalities_at_risk, jobs_created or population_retained")
    year: int = Field(strict=True, description="year of the regions table (31 December; flows: the calendar year)")
    regions: Literal["all", "capital", "non_capital"] | list[str] = Field("all", description="region set or KOSIS codes")
    threshold: float | None = Field(
        None, allow_inf_nan=False, description="provinces_at_risk, municipalities_at_risk: index threshold (default 0.5)"
    )
    municipalities: list[str] | None = Field(
        None, description="10-digit MOIS codes: the outcome over these si-gun-gu, from municipalities.parquet (resolution: sigungu)"
    )

    @field_validator("measure")
    @classmethod
    def _known(cls, measure: str) -> str:
        if measure in MEASURES:
            return measure
        if measure in RATIO_MEASURES:
            raise ValueError(f"{measure!r} is a ratio and cannot be summed over regions; use {RISK_COUNT} or {MUNICIPAL_RISK_COUNT}")
        close = difflib.get_close_matches(measure, MEASURES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; measures: {', '.join(MEASURES)}"
        raise ValueError(f"unknown measure {measure!r}{hint}")

    @field_validator("regions", "municipalities")
    @classmethod
    def _codes(cls, codes: str | list[str] | None, info: ValidationInfo) -> str | list[str] | None:
        if isinstance(codes, list) and not codes:
            raise ValueError(f"the list of {info.field_name} is empty")
        return codes

    @model_validator(mode="after")
    def _fields_agree(self) -> Outcome:
        if self.threshold is not None and self.measure not in (RISK_COUNT, MUNICIPAL_RISK_COUNT):
            raise ValueError(f"threshold is only for measures {RISK_COUNT} and {MUNICIPAL_RISK_COUNT}")
        municipal = [MUNICIPAL_RISK_COUNT, *MUNICIPAL_LEVELS, "population_retained"]
        if self.municipalities is not None and self.measure not in municipal:
            raise ValueError(f"measure {self.measure!r} is not kept by municipality; with municipalities: {', '.join(municipal)}")
        return self

    @property
    def municipal(self) -> bool:
        """Whether the outcome reads ``municipalities.parquet`` (else ``regions.parquet``)."""
        return self.measure == MUNICIPAL_RISK_COUNT or self.municipalities is not None

    @property
    def table(self) -> str:
        """The run table the outcome reads (``sim.results.store.TABLES``): ``municipalities`` or ``regions``."""
        return "municipalities" if self.municipal else "regions"

    @property
    def paired(self) -> bool:
        """Whether the measure is a paired difference with the baseline."""
        return self.measure in PAIRED

    @property
    def risk_threshold(self) -> float:
        """The extinction-risk threshold this outcome counts regions below."""
        return EXTINCTION_RISK_THRESHOLD if self.threshold is None else self.threshold

    def codes(self, sets: RegionSets) -> frozenset[str]:
        """The outcome's region codes among ``sets`` (one data pack's)."""
        return sets[self.regions] if isinstance(self.regions, str) else frozenset(self.regions)

    def check_regions(self, sets: RegionSets) -> str | None:
        """Why the outcome's listed codes do not fit the data pack of ``sets`` (None if they do)."""
        known = sorted(sets["all"])
        unknown = [code for code in self.codes(sets) if code not in sets["all"]]
        return f"unknown region code {unknown[0]!r}; codes: {', '.join(known)}" if unknown else None

    def check_municipalities(self, sets: RegionSets) -> tuple[str, str] | None:
        """(field, why) when the outcome reads municipalities the data pack of ``sets`` does not have, else None."""
        if not self.municipal:
            return None
        known = sets["municipalities"]
        if not known:
            field = "measure" if self.municipalities is None else "municipalities"
            return field, "the outcome reads municipalities.parquet: the scenario needs resolution: sigungu"
        unknown = [code for code in self.municipalities or () if code not in known]
        if not unknown:
            return None
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return "municipalities", f"unknown municipality code {unknown[0]!r}{hint} (expected a 10-digit MOIS code of municipalities.csv)"

    def first_year(self, start_year: int) -> int:
        """First year with a value in a run starting in ``start_year`` (flows have none at the start)."""
        return start_year + (1 if PAIRED.get(self.measure, self.measure) in FLOW_MEASURES else 0)

    def label(self) -> str:
        """What the outcome counts, where and when, in a few words."""
        where = self.regions if isinstance(self.regions, str) else "+".join(self.regions)
        where = {"all": "all regions", "capital": "capital region", "non_capital": "non-capital regions"}.get(where, where)
        if self.municipalities is not None:
            where = f"{len(self.municipalities)} listed municipalities in {where}"
        if self.measure in (RISK_COUNT, MUNICIPAL_RISK_COUNT):
            units = "municipalities" if self.measure == MUNICIPAL_RISK_COUNT else "provinces"
            return f"{units} with extinction risk index < {self.risk_threshold:g} ({where}), {self.year}"
        if self.paired:
            return f"{self.measure} vs the lever-free run ({PAIRED[self.measure]} difference), {where}, {self.year}"
        return f"{self.measure}, {where}, {self.year}"


def outcome_level(table: pd.DataFrame, outcome: Outcome, sets: RegionSets) -> float:
    """The outcome's level in one run's table ``outcome.table`` (regions, or municipalities): the (underlying)
    measure summed over the outcome's regions (``sets``: the run's data pack) and municipalities, or the number
    of them at risk. A paired outcome is the difference of two levels."""
    province = "province" if outcome.municipal else "region"
    rows = table[(table["year"] == outcome.year) & table[province].isin(outcome.codes(sets))]
    if outcome.municipalities is not None:
        rows = rows[rows["municipality"].isin(outcome.municipalities)]
    if outcome.measure in (RISK_COUNT, MUNICIPAL_RISK_COUNT):
        return float((rows["extinction_risk_index"] < outcome.risk_threshold).sum())
    return float(rows[PAIRED.get(outcome.measure, outcome.measure)].astype(float).sum())


def region_sets(scenario: Scenario) -> RegionSets:
    """Region codes of ``all``, ``capital`` and ``non_capital`` in the scenario's data pack (``regions.csv``), and
    at ``resolution: sigungu`` its ``municipalities`` (``municipalities.csv``)."""
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    table = read_table("regions", scenario.country, ("region", "capital_region"), folder)
    codes = table["region"].astype(str).str.zfill(2)
    every, capital = frozenset(codes), frozenset(codes[table["capital_region"].astype(int) == 1])
    municipalities = (
        frozenset(read_table("municipalities", scenario.country, ("municipality",), folder)["municipality"].astype(str))
        if scenario.resolution == "sigungu"
        else frozenset()
    )
    return {"all": every, "capital": capital, "non_capital": every - capital, "municipalities": municipalities}
