"""Region: a province (or prefecture) as a ``mesa.Agent``.

A region holds the place attributes that people weigh when they choose where to live — wages,
the chance of a job, housing cost, amenities — and this year's outcome measures (set by the
model from the person and firm arrays, read by the DataCollector).
"""

from __future__ import annotations

import math

import mesa


class Region(mesa.Agent):
    """One province; indicators are kept relative to the start year (log changes)."""

    def __init__(self, model: mesa.Model, index: int, code: str, name: str, name_ko: str, capital: bool) -> None:
        super().__init__(model)
        self.index = index
        self.code = code
        self.region_name = name
        self.region_name_ko = name_ko
        self.capital_region = capital
        self.base_employment_rate: float | None = None
        self.base_population: float | None = None
        self.log_wage_change = 0.0
        self.log_employment_change = 0.0
        self.log_housing_change = 0.0
        self.log_population_change = 0.0
        self.amenity_change = 0.0
        self.measures: dict[str, float] = {}

    def update_attractiveness(self, log_wage_growth: float, unemployment_rate: float, population: float, housing_elasticity: float) -> None:
        """Update the place attributes of the migration choice from this year's outcomes.

        ``log_wage_growth`` is this year's growth of the region's wage level (log points): the
        productivity growth of its firms, weighted by their jobs, so that the index moves with
        pay for a given job rather than with the mix of firms. The first call fixes the base
        for the employment rate and population; changes are recorded against it, so the
        destination constants calibrated on observed flows stay valid at the start. The population
        change is the size of the destination; housing cost moves with it (``housing_elasticity`` =
        d ln cost / d ln population).
        """
        employment_rate = 1.0 - unemployment_rate
        if self.base_population is None:
            self.base_employment_rate, self.base_population = employment_rate, population
            return
        self.log_wage_change += log_wage_growth
        self.log_employment_change = _log_ratio(employment_rate, self.base_employment_rate)
        self.log_population_change = _log_ratio(population, self.base_population)
        self.log_housing_change = housing_elasticity * self.log_population_change

    def record(self, measures: dict[str, float]) -> None:
        """This year's outcome measures (persons, KRW); read by the model's DataCollector."""
        self.measures = measures


def _log_ratio(now: float, base: float) -> float:
    return math.log(now / base) if now > 0 and base > 0 else 0.0
