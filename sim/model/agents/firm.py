"""Firms: establishments as a vectorised population of cohorts.

A firm agent is a cohort of ``establishments`` identical establishments (at most ``scale``; fewer
once some have closed, or for the last cohort of a year's entrants) sharing a region, an industry
(KSIC section), a size (workers per establishment, persons), productivity (value added per worker,
KRW/year), an R&D intensity (R&D over value added) and an age. Its yearly rules: innovate (R&D
with spillovers), grow through innovation (tradable industries) or with local demand
(non-tradable industries), and lose establishments to closure; entry is in ``sim.model.mechanisms.firms``.

Policy reaches a cohort in proportion to the establishments it funds (``treated`` establishments
within the agent), so an effect neither vanishes nor jumps because one agent stands for many
establishments. Every random decision about a firm is keyed by its persistent ``uid``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.inputs.parameters import Innovation
from sim.model.crn import poisson_from_uniform, rounded_count
from sim.model.mechanisms import innovation


@dataclass
class FirmPopulation:
    """Arrays of firm attributes; index f is one firm agent (a cohort of establishments)."""

    region: np.ndarray  # region index, int8
    industry: np.ndarray  # index into sim.inputs.pack.INDUSTRIES, int8
    establishments: np.ndarray  # establishments the agent stands for (≤ scale), int64
    size: np.ndarray  # desired employment per establishment (persons), float64
    productivity: np.ndarray  # value added per worker (KRW per year), float64
    rd_intensity: np.ndarray  # R&D spending / value added, float64
    age: np.ndarray  # years since entry, int16
    collaborating: np.ndarray  # share of the agent's establishments with a university partner this year
    innovations: np.ndarray  # innovations of the agent's establishments this year, int64
    rounding_offset: np.ndarray  # persistent U(0,1) draw turning fractional jobs into whole worker agents
    uid: np.ndarray  # identifier for life (keys the firm's draws; the same firm in paired runs), uint64

    @classmethod
    def new(cls, region, industry, establishments, size, productivity, rd_intensity, age, rounding_offset, uid) -> FirmPopulation:
        """Firms with the given attributes (``rounding_offset``: keyed U(0,1) per firm)."""
        n = len(region)
        return cls(
            region=np.asarray(region, np.int8),
            industry=np.asarray(industry, np.int8),
            establishments=np.asarray(establishments, np.int64),
            size=np.asarray(size, np.float64),
            productivity=np.asarray(productivity, np.float64),
            rd_intensity=np.asarray(rd_intensity, np.float64),
            age=np.asarray(age, np.int16),
            collaborating=np.zeros(n),
            innovations=np.zeros(n, np.int64),
            rounding_offset=np.asarray(rounding_offset, np.float64),
            uid=np.asarray(uid, np.uint64),
        )

    @classmethod
    def concat(cls, *populations: FirmPopulation) -> FirmPopulation:
        """One population holding the agents of several, in order."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in populations]) for f in fields(cls)})

    def __len__(self) -> int:
        return len(self.region)

    def workers(self) -> np.ndarray:
        """Desired employment of each agent (persons): size × establishments."""
        return np.maximum(self.size, 0.0) * self.establishments

    def jobs(self, scale: int) -> np.ndarray:
        """Whole jobs wanted per agent (worker agents of ``scale`` persons): floor(workers / scale + offset),
        equal to workers / scale in expectation."""
        return np.floor(self.workers() / scale + self.rounding_offset).astype(np.int64)

    def employees(self, employer: np.ndarray) -> np.ndarray:
        """Worker agents per firm agent, from ``employer`` indices (entries < 0 are not employed)."""
        return np.bincount(employer + 1, minlength=len(self) + 1)[1:]  # NOT_EMPLOYED (−1) lands in bin 0

    def rd_krw(self, employees: np.ndarray, scale: int) -> np.ndarray:
        """Own R&D spending of each agent (KRW per year): intensity × value added of its employees."""
        return self.rd_intensity * self.productivity * employees * scale

    def innovate(
        self,
        employees: np.ndarray,
        scale: int,
        n_regions: int,
        university_research_krw: np.ndarray,
        params: Innovation,
        reference_rd_krw: float,
        uniforms: tuple[np.ndarray, np.ndarray],
        subsidy_krw: np.ndarray | float = 0.0,
        treated: np.ndarray | float = 0.0,
        spillover_multiplier: np.ndarray | float = 1.0,
    ) -> np.ndarray:
        """Draw this year's innovations and raise innovators' productivity.

        ``university_research_krw`` is per region (KRW per year); ``params`` the ``innovation``
        section; ``subsidy_krw`` (KRW per agent) is publicly funded R&D spread over the agent's
        ``treated`` establishments; ``spillover_multiplier`` (per region) scales the spillover term;
        ``uniforms`` are the firms' keyed draws for innovating establishments and for innovations.
        Expected innovations per establishment follow the knowledge production function for treated
        and untreated establishments; the agent's innovations are a Poisson draw at their sum, its
        innovating establishments their expected number rounded by a keyed uniform, and its
        productivity rises by the gain times the innovating share.
        Returns each agent's log productivity change.
        """
        establishments = np.maximum(self.establishments, 1)
        own = self.rd_krw(employees, scale) / establishments  # KRW per establishment
        treated = np.minimum(np.asarray(treated, float), self.establishments)
        extra = np.divide(subsidy_krw, treated, out=np.zeros(len(self)), where=treated > 0)
        weights = np.where(self.size > 0, self.establishments, 0).astype(float)  # empty firms do not dilute spillovers
        spill = (
            innovation.regional_spillover(own * weights + subsidy_krw, self.region, n_regions, np.zeros(n_regions), weights)
            * spillover_multiplier
        )
        university = innovation.regional_spillover(np.zeros(len(self)), self.region, n_regions, university_research_krw, weights)

        def rate(rd: np.ndarray, firms: slice | np.ndarray = slice(None)) -> np.ndarray:
            return innovation.expected_innovations(
                rd,
                spill,
                university,
                self.collaborating[firms],
                rate_at_reference=params.knowledge_production_scale,
                reference_rd_krw=reference_rd_krw,
                rd_elasticity=params.rnd_elasticity,
                spillover_elasticity=params.spillover_elasticity,
                university_elasticity=params.university_research_elasticity,
                collaboration_uplift=params.university_collaboration_uplift,
                region=self.region[firms],
            )

        untreated_rate = rate(own)
        treated_rate = untreated_rate.copy()
        funded = np.flatnonzero((treated > 0) & (extra > 0))  # a few firms: their treated rate on their own
        treated_rate[funded] = rate(own[funded] + extra[funded], funded)
        mean_rate = (treated * treated_rate + (self.establishments - treated) * untreated_rate) / establishments
        innovating_probability = (
            treated * -np.expm1(-treated_rate) + (self.establishments - treated) * -np.expm1(-untreated_rate)
        ) / establishments
        innovating = np.minimum(rounded_count(uniforms[0], innovating_probability * self.establishments), self.establishments)
        self.innovations = poisson_from_uniform(uniforms[1], mean_rate * self.establishments)
        before = self.productivity
        self.productivity = innovation.productivity_after_innovation(
            before, innovating / establishments, params.productivity_gain_per_innovation
        )
        return np.log(self.productivity / before)

    def grow(self, log_productivity_change: np.ndarray, tradable: np.ndarray, employment_elasticity: float) -> None:
        """Tradable firms expand with their productivity gains (new products and markets)."""
        growth = np.exp(employment_elasticity * log_productivity_change)
        self.size = np.where(tradable[self.industry], self.size * growth, self.size)

    def closures(self, hazard: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Establishments of each agent closing this year: the expected number (establishments × hazard)
        rounded by the firm's keyed uniform, so a slightly lower hazard never closes more, and a cohort
        closes establishment by establishment rather than all at once."""
        return np.minimum(rounded_count(uniform, self.establishments * np.minimum(hazard, 1.0)), self.establishments)

    def keep_and_append(self, keep: np.ndarray, entrants: FirmPopulation) -> np.ndarray:
        """Drop closed agents, append entrants; returns old index -> new index (−1 if closed)."""
        new_index = np.where(keep, np.cumsum(keep) - 1, -1)
        for field in fields(self):
            current = getattr(self, field.name)
            setattr(self, field.name, np.concatenate((current[keep], getattr(entrants, field.name))))
        return new_index

    def scale_sizes(self, mask: np.ndarray, factor_by_region: np.ndarray) -> None:
        """Multiply desired sizes of firms in ``mask`` by their region's factor (local demand)."""
        self.size = np.where(mask, self.size * factor_by_region[self.region], self.size)

    def index_of(self, uid: np.ndarray) -> np.ndarray:
        """Current indices of firms by ``uid`` (−1 for firms that have closed)."""
        order = np.argsort(self.uid, kind="stable")
        sorted_uid = self.uid[order]
        position = np.minimum(np.searchsorted(sorted_uid, uid), max(len(self) - 1, 0))
        found = (len(self) > 0) & (sorted_uid[position] == uid) if len(self) else np.zeros(len(uid), bool)
        return np.where(found, order[position], -1)

    def count_by_region(self, n_regions: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Establishments by region (optionally only agents in ``mask``), as int64."""
        weights = self.establishments if mask is None else np.where(mask, self.establishments, 0)
        return np.bincount(self.region, weights=weights, minlength=n_regions).astype(np.int64)
