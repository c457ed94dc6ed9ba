"""Municipality: a si-gun-gu as a ``mesa.Agent`` (``resolution: sigungu``).

The model holds one per municipality of the data pack (the 229: 226 autonomous si/gun/gu, Sejong, Jeju-si and
Seogwipo-si), each inside the provincial Region agent it belongs to. A municipality holds its identity and this
year's measures; it has no rules of its own. Persons stay a vectorised population (``TalentPool.municipality``),
their municipal rules are array operations (``sim.model.mechanisms.municipalities``), and once a year the model sets
every municipality's measures from those arrays (``sim.model.metrics.municipal_measures``); the DataCollector reads
them into ``municipalities.parquet`` (``sim.model.metrics.municipalities_table``).
"""

from __future__ import annotations

import mesa

from sim.model.agents.region import Region


class Municipality(mesa.Agent):
    """One si-gun-gu: 10-digit MOIS code, name, its province's Region agent, and this year's measures."""

    def __init__(self, model: mesa.Model, index: int, code: str, name: str, province: Region) -> None:
        super().__init__(model)
        self.index = index  # row of municipalities.csv, the value of TalentPool.municipality for its residents
        self.code = code
        self.municipality_name = name
        self.province = province
        self.measures: dict[str, float] = {}

    def record(self, measures: dict[str, float]) -> None:
        """This year's measures (persons; ``sim.model.metrics.MUNICIPAL_MEASURES``); read by the model's DataCollector."""
        self.measures = measures
