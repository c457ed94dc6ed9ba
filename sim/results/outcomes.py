"""Scalar outcomes of a run, named in experiment files (tuning objectives, sensitivity outputs).

An outcome reads one year of a run's region table::

    {measure: population, year: 2035, regions: non_capital}  # a level: summed over the regions
    {measure: provinces_at_risk, year: 2040, threshold: 0.5}  # regions with extinction_risk_index < 0.5
    {measure: jobs_created, year: 2030}  # paired: employed minus the lever-free run's

- a level measure is an additive column of the regions table (``population``, ``employed``,
  ``women_20_39``, ``lever_spending_krw`` …) summed over ``regions``;
- ``provinces_at_risk`` counts the ``regions`` whose extinction risk index is below ``threshold``;
- ``jobs_created`` and ``population_retained`` are paired differences: the level measure
  (``employed``, ``population``) of the run minus that of the same scenario without levers and the
  same seed (common random numbers).

``regions`` is ``all``, ``capital`` (Seoul, Incheon, Gyeonggi), ``non_capital`` or a list of KOSIS codes,
read from the scenario's data pack (``region_sets``), where ``check_regions`` validates a list.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.inputs.data import read_table
from sim.model.metrics import (
    EXTINCTION_RISK_THRESHOLD,
    FLOW_MEASURES,
    RATIO_MEASURES,
    REGION_MEASURES,
)

if TYPE_CHECKING:
    from sim.inputs.scenario import Scenario

RegionSets = dict[str, frozenset[str]]
"""Region codes of ``all``, ``capital`` and ``non_capital`` in one data pack."""

LEVEL_MEASURES = [name for name in REGION_MEASURES if name not in RATIO_MEASURES]
PAIRED = {"jobs_created": "employed", "population_retained": "population"}
"""Paired outcome -> the level measure differenced against the lever-free run."""
RISK_COUNT = "provinces_at_risk"
MEASURES = [*LEVEL_MEASURES, RISK_COUNT, *PAIRED]


class Outcome(BaseModel):
    """One scalar outcome of a run: a measure in a year over a set of regions."""

    model_config = ConfigDict(extra="forbid")
    measure: str = Field(description="level measure, provinces_at_risk, jobs_created or population_retained")
    year: int = Field(strict=True, description="year of the regions table (31 December; flows: the calendar year)")
    regions: Literal["all", "capital", "non_capital"] | list[str] = Field("all", description="region set or KOSIS codes")
    threshold: float | None = Field(None, allow_inf_nan=False, description="provinces_at_risk: index threshold (default 0.5)")

    @field_validator("measure")
    @classmethod
    def _known(cls, measure: str) -> str:
        if measure in MEASURES:
            return measure
        if measure in RATIO_MEASURES:
            raise ValueError(f"{measure!r} is a ratio and cannot be summed over regions; use {RISK_COUNT}")
        close = difflib.get_close_matches(measure, MEASURES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; measures: {', '.join(MEASURES)}"
        raise ValueError(f"unknown measure {measure!r}{hint}")

    @field_validator("regions")
    @classmethod
    def _codes(cls, regions: str | list[str]) -> str | list[str]:
        if isinstance(regions, list) and not regions:
            raise ValueError("the list of regions is empty")
        return regions

    @model_validator(mode="after")
    def _threshold(self) -> Outcome:
        if self.threshold is not None and self.measure != RISK_COUNT:
            raise ValueError(f"threshold is only for measure {RISK_COUNT}")
        return self

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

    def first_year(self, start_year: int) -> int:
        """First year with a value in a run starting in ``start_year`` (flows have none at the start)."""
        return start_year + (1 if PAIRED.get(self.measure, self.measure) in FLOW_MEASURES else 0)

    def label(self) -> str:
        """What the outcome counts, where and when, in a few words."""
        where = self.regions if isinstance(self.regions, str) else "+".join(self.regions)
        where = {"all": "all regions", "capital": "capital region", "non_capital": "non-capital regions"}.get(where, where)
        if self.measure == RISK_COUNT:
            return f"provinces with extinction risk index < {self.risk_threshold:g} ({where}), {self.year}"
        if self.paired:
            return f"{self.measure} vs the lever-free run ({PAIRED[self.measure]} difference), {where}, {self.year}"
        return f"{self.measure}, {where}, {self.year}"


def outcome_level(regions: pd.DataFrame, outcome: Outcome, sets: RegionSets) -> float:
    """The outcome's level in one run's region table: the (underlying) measure summed over the
    outcome's regions (``sets``: the run's data pack), or the number of them at risk. A paired
    outcome is the difference of two levels."""
    codes = outcome.codes(sets)
    rows = regions[(regions["year"] == outcome.year) & regions["region"].isin(codes)]
    if outcome.measure == RISK_COUNT:
        return float((rows["extinction_risk_index"] < outcome.risk_threshold).sum())
    return float(rows[PAIRED.get(outcome.measure, outcome.measure)].astype(float).sum())


def region_sets(scenario: Scenario) -> RegionSets:
    """Region codes of ``all``, ``capital`` and ``non_capital`` in the scenario's data pack (``regions.csv``)."""
    folder = Path(scenario.data_pack) if scenario.data_pack else None
    table = read_table("regions", scenario.country, ("region", "capital_region"), folder)
    codes = table["region"].astype(str).str.zfill(2)
    every, capital = frozenset(codes), frozenset(codes[table["capital_region"].astype(int) == 1])
    return {"all": every, "capital": capital, "non_capital": every - capital}
