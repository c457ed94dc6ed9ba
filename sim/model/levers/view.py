"""What a lever may read of the model: ``LeverView``, built by ``RegionalModel`` once per year.

Levers read the model's state through this view and write only their ``PolicyEffects``; they never
see ``RegionalModel`` itself (an import-linter contract in ``pyproject.toml``). The view lives with
the levers because it is their interface: the model depends on the levers, not the reverse.
The arrays and agent populations are the model's own objects, shared, not copies; levers must not
change them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.inputs.pack import INDUSTRIES, RegionPack
from sim.inputs.parameters import Parameters
from sim.model.agents import FirmPopulation, TalentPool, University
from sim.model.crn import CommonRandomNumbers
from sim.model.mechanisms.municipalities import Municipalities


@dataclass(frozen=True)
class LeverView:
    """The state a lever reads in one simulated year (at its start, before any mechanism runs)."""

    year: int
    """The simulated calendar year."""
    n_regions: int
    scale: int
    """Persons (and establishments) per agent."""
    params: Parameters
    """The run's resolved parameters (``params.section.name``)."""
    pack: RegionPack
    """The region tables (codes, capital region, decline-area shares, adjacency...)."""
    tradable: np.ndarray
    """[industries] bool: industries that sell outside their region (``firms.tradable_industries``)."""
    talent: TalentPool
    firms: FirmPopulation
    universities: tuple[University, ...]
    """One per region, in region order."""
    crn: CommonRandomNumbers
    """Keyed random draws; a lever's draws use its own ``Purpose`` and its label as salt."""
    move_probability: np.ndarray
    """[regions, ages] yearly probability of moving to another province before this year's pull factors."""
    young_firm_hazard: float
    """Yearly exit hazard of young firms implied by the five-year survival rate."""
    innovations_last_year: np.ndarray
    """[regions] innovations by the region's firms in the last recorded year (0 before the first)."""
    working_age_by_region: np.ndarray
    """[regions] persons aged 15–64 (agents, not scaled)."""
    municipal: Municipalities | None
    """The si-gun-gu layer at ``resolution: sigungu`` (the lever's municipal targets); None at province resolution."""

    def region_mask(self, codes: list[str] | None, region_type: str = "all") -> np.ndarray:
        """Boolean mask over regions: listed codes (all if None) intersected with a region type."""
        chosen = np.ones(self.n_regions, bool) if codes is None else np.isin(self.pack.codes, codes)
        kind = {
            "all": np.ones(self.n_regions, bool),
            "capital": self.pack.capital,
            "non_capital": ~self.pack.capital,
            "population_decline_areas": self.pack.decline_area_share > 0,
        }[region_type]
        return chosen & kind

    def firm_mask(self, regions: np.ndarray, industries: list[str]) -> np.ndarray:
        """Boolean mask over firms in ``regions`` (mask) and ``industries`` (KSIC sections; all if empty)."""
        in_industry = np.isin(np.array(INDUSTRIES), industries) if industries else np.ones(len(INDUSTRIES), bool)
        return regions[self.firms.region] & in_industry[self.firms.industry]
