"""Firms: establishments as a vectorised population (one agent stands for ``scale`` establishments).

Each firm has a region, an industry (KSIC section), a desired size (workers per establishment,
in worker agents), productivity (value added per worker, KRW/year), an R&D intensity (R&D over
value added), an age and a flag for university collaboration. Its yearly rules: innovate (R&D
with spillovers), grow through innovation (tradable industries) or with local demand
(non-tradable industries), exit with an age-dependent hazard; startups enter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.crn import poisson_from_uniform
from sim.mechanisms import innovation

INDUSTRIES = tuple("ABCDEFGHIJKLMNOPQRS")
"""KSIC sections, in the order used for the ``industry`` index."""


@dataclass
class FirmPopulation:
    """Arrays of firm attributes; index f is one firm agent."""

    region: np.ndarray  # region index, int8
    industry: np.ndarray  # index into INDUSTRIES, int8
    size: np.ndarray  # desired employment per establishment (worker agents), float64
    productivity: np.ndarray  # value added per worker (KRW per year), float64
    rd_intensity: np.ndarray  # R&D spending / value added, float64
    age: np.ndarray  # years since entry, int16
    collaborating: np.ndarray  # has a university research partner this year, bool
    innovations: np.ndarray  # innovations this year, int32
    rounding_offset: np.ndarray  # persistent U(0,1) draw turning fractional size into whole jobs, float64
    uid: np.ndarray  # identifier kept for the firm's life, increasing in creation order, int64

    @classmethod
    def new(
        cls, region, industry, size, productivity, rd_intensity, age, rng: np.random.Generator, first_uid: int = 0
    ) -> FirmPopulation:
        """Firms with the given attributes; ``uid`` numbers them from ``first_uid``."""
        n = len(region)
        return cls(
            region=np.asarray(region, np.int8),
            industry=np.asarray(industry, np.int8),
            size=np.asarray(size, np.float64),
            productivity=np.asarray(productivity, np.float64),
            rd_intensity=np.asarray(rd_intensity, np.float64),
            age=np.asarray(age, np.int16),
            collaborating=np.zeros(n, bool),
            innovations=np.zeros(n, np.int32),
            rounding_offset=rng.random(n),
            uid=np.arange(first_uid, first_uid + n, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.region)

    def jobs(self) -> np.ndarray:
        """Whole jobs wanted per firm (worker agents): floor(size + offset), equal to size in expectation."""
        return np.floor(np.maximum(self.size, 0.0) + self.rounding_offset).astype(np.int64)

    def employees(self, employer: np.ndarray) -> np.ndarray:
        """Worker agents per firm, from ``employer`` indices (entries < 0 are not employed)."""
        return np.bincount(employer + 1, minlength=len(self) + 1)[1:]  # NOT_EMPLOYED (−1) lands in bin 0

    def rd_krw(self, employees: np.ndarray) -> np.ndarray:
        """R&D spending per establishment (KRW per year): intensity × value added."""
        return self.rd_intensity * self.productivity * employees

    def innovate(
        self,
        employees: np.ndarray,
        n_regions: int,
        university_research_krw: np.ndarray,
        params: dict,
        reference_rd_krw: float,
        rng: np.random.Generator,
        subsidy_krw: np.ndarray | float = 0.0,
        spillover_multiplier: np.ndarray | float = 1.0,
    ) -> np.ndarray:
        """Draw this year's innovations and raise innovators' productivity.

        ``university_research_krw`` is per region (KRW per year, per agent scale); ``params`` is the
        ``innovation`` parameter section; ``subsidy_krw`` (per establishment) is publicly funded
        R&D added to the firm's own; ``spillover_multiplier`` (per region) scales the spillover
        term (cluster policies). Returns each firm's log productivity change.
        """
        rd = self.rd_krw(employees) + subsidy_krw
        spill = innovation.regional_spillover(rd, self.region, n_regions, np.zeros(n_regions)) * spillover_multiplier
        university = innovation.regional_spillover(np.zeros(len(self)), self.region, n_regions, university_research_krw)
        mean = innovation.expected_innovations(
            rd,
            spill[self.region],
            university[self.region],
            self.collaborating,
            rate_at_reference=params["knowledge_production_scale"],
            reference_rd_krw=reference_rd_krw,
            rd_elasticity=params["rnd_elasticity"],
            spillover_elasticity=params["spillover_elasticity"],
            university_elasticity=params["university_research_elasticity"],
            collaboration_uplift=params["university_collaboration_uplift"],
        )
        self.innovations = poisson_from_uniform(rng.random(len(self)), mean).astype(np.int32)
        before = self.productivity
        self.productivity = innovation.productivity_after_innovation(
            before, self.innovations, params["productivity_gain_per_innovation"]
        )
        return np.log(self.productivity / before)

    def grow(self, log_productivity_change: np.ndarray, tradable: np.ndarray, employment_elasticity: float) -> None:
        """Tradable firms expand with their productivity gains (new products and markets)."""
        growth = np.exp(employment_elasticity * log_productivity_change)
        self.size = np.where(tradable[self.industry], self.size * growth, self.size)

    def exit_mask(
        self, young_hazard: np.ndarray | float, mature_hazard: float, young_years: int, size_elasticity: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Firms closing this year.

        Base hazard ``young_hazard`` before age ``young_years``, else ``mature_hazard``; within each
        age class it falls with size as (size / mean size)^(−size_elasticity), rescaled so the class's
        mean hazard stays the base (larger firms close less often, at the same overall rate).
        """
        young = self.age < young_years
        hazard = np.where(young, young_hazard, mature_hazard)
        relative = np.power(np.maximum(self.size, 1e-9), -size_elasticity)
        for group in (young, ~young):
            if group.any():
                relative[group] /= relative[group].mean()
        return rng.random(len(self)) < np.minimum(hazard * relative, 1.0)

    def keep_and_append(self, keep: np.ndarray, entrants: FirmPopulation) -> np.ndarray:
        """Drop closed firms, append entrants; returns old index -> new index (−1 if closed)."""
        new_index = np.where(keep, np.cumsum(keep) - 1, -1)
        for field in fields(self):
            current = getattr(self, field.name)
            setattr(self, field.name, np.concatenate((current[keep], getattr(entrants, field.name))))
        return new_index

    def scale_sizes(self, mask: np.ndarray, factor_by_region: np.ndarray) -> None:
        """Multiply desired sizes of firms in ``mask`` by their region's factor (local demand)."""
        self.size = np.where(mask, self.size * factor_by_region[self.region], self.size)

    def index_of(self, uid: np.ndarray) -> np.ndarray:
        """Current indices of firms by ``uid`` (−1 for firms that have exited); uids stay sorted."""
        position = np.searchsorted(self.uid, uid)
        found = (position < len(self)) & (self.uid[np.minimum(position, len(self) - 1)] == uid)
        return np.where(found, position, -1)

    def count_by_region(self, n_regions: int, mask: np.ndarray | None = None) -> np.ndarray:
        regions = self.region if mask is None else self.region[mask]
        return np.bincount(regions, minlength=n_regions)
