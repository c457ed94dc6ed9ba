"""University: a province's higher-education system as a ``mesa.Agent``.

Each year it admits residents who reach the entry age and graduates its students (through the
vectorised study rules). Its research spending feeds the region's knowledge spillovers, its
partnerships with R&D-performing firms and the spin-offs founded in the region (``RegionalModel.
firm_dynamics``).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.inputs.parameters import Universities
from sim.model.mechanisms import education


class University(mesa.Agent):
    """Universities and colleges of one region, aggregated."""

    def __init__(self, model: mesa.Model, region_index: int, research_krw: float) -> None:
        super().__init__(model)
        self.region_index = region_index
        self.research_krw = research_krw  # university R&D spending, KRW per year
        self.entrants = 0

    def admit(
        self, candidates: np.ndarray, entry_draw: np.ndarray, programme_draw: np.ndarray, params: Universities, extra_entry_rate: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Entrants among this region's candidates (person indices, with their U(0,1) draws), with
        level and study years; ``extra_entry_rate`` comes from levers (e.g. new vocational colleges)."""
        entrants, level, years = education.enrol(
            candidates,
            entry_draw,
            programme_draw,
            entry_rate=min(params.higher_education_entry_rate + extra_entry_rate, 1.0),
            college_share=params.college_share_of_entrants,
            college_years=int(params.college_programme_length_years),
            university_years=int(params.programme_length_years),
        )
        self.entrants = len(entrants)
        return entrants, level, years
