"""Japanese population levers of seed 002 (KISTEP 2023 brief on Japan's regional S&T policy).

Section 4 of the brief recommends widening the "relationship population" (관계인구, 関係人口:
people outside a region with lasting ties who help solve its problems) to bring people and
money in; table 1 lists the Digital Garden City Nation strategy (디지털 전원도시 국가 구상, '22~),
whose remote work loosens the tie between job and place of residence.

Mechanisms: relationship persons add to the migration ties of the target regions
(``relationship_persons``, each weighted as a fraction of a past mover, whose ties the migration
logit measures); remote work lets employed
movers keep their jobs (``remote_work_share``, national) and better digital services raise the
amenity of non-capital target regions (``amenity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, override

import numpy as np
from pydantic import model_validator

from sim.model.levers._japan_common import (
    amenity_gain,
    budget_share_field,
    cost_per_amenity_field,
    region_weights,
    shares_sum_to_one,
)
from sim.model.levers.base import (
    Lever,
    LeverParams,
    PolicyEffects,
    lever_field,
    population,
    register,
    split_by_weight,
)


class RelationshipParams(LeverParams):
    """Cost of one person's lasting tie to a region and the weight of ties in movers' choices."""

    krw_per_tie_person_year: float = lever_field(
        1e6,
        "KRW per person with lasting ties to the region per year (visits, hometown-ties programmes, stays and side "
        "jobs); seed 002 defines the concept but gives no cost",
        range=(2e5, 5e6),
        gt=0,
        assumption=True,
    )
    tie_weight: float = lever_field(
        0.05,
        "weight of a relationship person in the migration ties, relative to a person who moved between the regions "
        "in the previous ten years (the observed ties): visits and donations are much weaker ties than family and "
        "friends who moved",
        range=(0.01, 0.3),
        ge=0,
        le=1,
        assumption=True,
    )


@register
@dataclass
class RelationshipPopulation(Lever):
    """Relationship population: persons with lasting ties who make a region a likelier destination (Japan)."""

    name: ClassVar[str] = "relationship_population"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 4: 관계인구 (関係人口, relationship population) to improve perceptions and bring people and money in"
    )
    mechanism: ClassVar[str] = "persons with lasting ties to the region (relationship_persons) make it a likelier destination for movers"
    Params: ClassVar[type[LeverParams]] = RelationshipParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        spend = split_by_weight(budget_krw, region_weights(self, model, population(model)))
        p = self.params
        effects.relationship_persons += spend / p.krw_per_tie_person_year * p.tie_weight
        return spend


class GardenCityParams(LeverParams):
    """Budget split between remote work and digital services, their unit costs, and whether the capital region is excluded."""

    remote_work_share: float = budget_share_field(0.5, "share of the budget for remote-work places (satellite offices, telework support)")
    amenity_share: float = budget_share_field(
        0.5, "share of the budget for digital services in target regions (tele-medicine, online education)"
    )
    krw_per_remote_worker: float = lever_field(
        5e6,
        "KRW per remote-work-enabled worker per year, of the order of Japan's relocation grant for teleworkers "
        "leaving Tokyo (移住支援金, up to 1 m JPY per household, paid once; not verified here)",
        range=(1e6, 2e7),
        gt=0,
        assumption=True,
    )
    krw_per_resident_per_amenity_unit: float = cost_per_amenity_field()
    exclude_capital: bool = lever_field(
        True,
        "spend only outside the capital region",
        kind="setting",
        evidence="seed 002, table 1: the Digital Garden City Nation strategy is for the regions (지방)",
    )

    @model_validator(mode="after")
    def _shares(self) -> GardenCityParams:
        return shares_sum_to_one(self, "remote_work_share", "amenity_share")


@register
@dataclass
class DigitalGardenCity(Lever):
    """Digital Garden City Nation: remote work and digital services outside the capital (Japan, 2022–)."""

    name: ClassVar[str] = "digital_garden_city"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = "002, table 1: 6th Basic Plan, 디지털 전원도시 국가 구상 종합 전략 (Digital Garden City Nation, '22~)"
    mechanism: ClassVar[str] = (
        "remote work lets employed movers keep their jobs (remote_work_share) and digital services raise the amenity of non-capital regions"
    )
    Params: ClassVar[type[LeverParams]] = GardenCityParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        weights = region_weights(self, model, population(model))
        if p.exclude_capital:
            weights[model.pack.capital] = 0.0
        spend = split_by_weight(budget_krw, weights)
        employed = float(model.talent.employed.sum()) * model.scale
        remote = np.minimum(spend * p.remote_work_share, split_by_weight(employed * p.krw_per_remote_worker, weights))
        amenity = spend * p.amenity_share
        if employed > 0:
            effects.remote_work_share = max(effects.remote_work_share, remote.sum() / p.krw_per_remote_worker / employed)
        effects.amenity += amenity_gain(model, amenity, p.krw_per_resident_per_amenity_unit)
        return remote + amenity
