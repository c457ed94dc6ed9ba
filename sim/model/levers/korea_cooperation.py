"""Cooperation between regions: the super-regional partnerships (seed 003) and local-government
international technology cooperation (seed 001).

Seed 003: 지역협력혁신성장 (10.7 bn KRW national + 4.6 bn local in 2023; see the lever case) packages R&D, service
convergence and demonstration for the five region-chosen super-regional partnerships (초광역 협력권)
and their industries: eco-friendly smart shipbuilding (Busan, Ulsan, Gyeongnam), renewable-energy
smart grids (Gwangju, Jeonnam), bio diagnostics and medical devices (Chungbuk, Gangwon, Jeju),
electric and autonomous vehicles (Jeonbuk, Daegu, Gyeongbuk), digital healthcare (Daejeon, Sejong,
Chungnam). Mechanism: partners' labour markets are joined (commuting links) and the partnership's
money raises every partner's knowledge-spillover term over the partners' pooled business R&D.

Seed 001 (STEPI 1997): Korea–Japan local-government science and technology cooperation —
Gyeonggi–Kanagawa, Jeju–Saga, and the success case Incheon–Kitakyushu, where casting and die-mould
SMEs received know-how from Kitakyushu's retired engineers. Mechanism: engineer-years of transfer,
bought at an assumed cost, each raise the productivity of a few manufacturing SMEs once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, override

import numpy as np

from sim.model.levers.base import (
    Lever,
    LeverParams,
    PolicyEffects,
    allocate_grants,
    business_rd_krw,
    lever_field,
    population,
    register,
    split_by_weight,
)
from sim.model.levers.korea_business import sme_mask
from sim.model.levers.korea_clusters import raise_spillovers, spillover_gain_field

if TYPE_CHECKING:
    from sim.model.levers.view import LeverView

SUPER_REGIONAL_PARTNERSHIPS: dict[str, list[str]] = {
    "smart_shipbuilding": ["26", "31", "48"],  # 친환경 지능형(스마트) 조선해양: Busan, Ulsan, Gyeongnam
    "smart_grid": ["29", "46"],  # 신재생에너지 기반 지능형 전력시스템: Gwangju, Jeonnam
    "bio_medical_devices": ["43", "42", "50"],  # 생명공학(바이오) 진단치료 의료기기: Chungbuk, Gangwon, Jeju
    "electric_autonomous_vehicles": ["45", "27", "47"],  # 전기자율차: Jeonbuk, Daegu, Gyeongbuk
    "digital_healthcare": ["30", "36", "44"],  # 디지털 건강관리(헬스케어): Daejeon, Sejong, Chungnam
}
"""The five super-regional partnerships of seed 003 (partner regions as KOSIS codes)."""


class PartnershipParams(LeverParams):
    """Partner groups of regions, their spillover gain and whether their labour markets are joined."""

    partnerships: dict[str, list[str]] = lever_field(
        SUPER_REGIONAL_PARTNERSHIPS,
        "partnership name → partner region codes",
        kind="programme",
        evidence="seed 003: the five 초광역 협력권 (Busan-Ulsan-Gyeongnam shipbuilding, Gwangju-Jeonnam smart grids, "
        "Chungbuk-Gangwon-Jeju bio/medical devices, Jeonbuk-Daegu-Gyeongbuk electric vehicles, Daejeon-Sejong-Chungnam "
        "digital healthcare)",
    )
    spillover_gain: float = spillover_gain_field("the partners' pooled business R&D")
    join_labour_markets: bool = lever_field(
        True,
        "partners' labour markets are joined (commuting links) while the lever is active",
        kind="setting",
        assumption=True,
    )


@register
@dataclass
class SuperRegionalPartnerships(Lever):
    """Cooperation of partner regions beyond provincial borders (지역협력혁신성장)."""

    name: ClassVar[str] = "super_regional_partnerships"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "003, 2023 regional project plan: 지역협력혁신성장 (10.7 bn national + 4.6 bn local; the release prints 459억 local, which does not add up to its 423.2 bn total) for the five 초광역 협력권"
    )
    mechanism: ClassVar[str] = (
        "joins partner regions' labour markets and raises each partner's spillover term over the partners' pooled R&D"
    )
    Params: ClassVar[type[LeverParams]] = PartnershipParams

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Equal money per partnership with a target member, split among its target members by population."""
        targets = self.target_regions(model)
        index = model.pack.index_of
        groups = [
            members
            for codes in self.params.partnerships.values()
            if (members := np.array([index[c] for c in codes if c in index and targets[index[c]]], int)).size
        ]
        spending = np.zeros(model.n_regions)
        if not groups:
            return spending
        residents, knowledge = population(model), business_rd_krw(model)
        for members in groups:
            in_group = np.zeros(model.n_regions)
            in_group[members] = 1.0
            money = split_by_weight(budget_krw / len(groups), residents * in_group)
            pooled = np.where(in_group > 0, knowledge[members].sum(), 0.0)
            raise_spillovers(model, effects, np.where(in_group > 0, money.sum(), 0.0), pooled, self.params.spillover_gain)
            if self.params.join_labour_markets:
                effects.commuting_links |= np.outer(in_group > 0, in_group > 0) & ~np.eye(model.n_regions, dtype=bool)
            spending += money
        return spending


class TechCooperationParams(LeverParams):
    """Default regions, cost per engineer-year, establishments advised per engineer-year and their productivity gain."""

    default_regions: list[str] = lever_field(
        ["28"],
        "regions when the scenario gives no regions: Incheon",
        kind="setting",
        evidence="seed 001, section III: Incheon–Kitakyushu cooperation",
    )
    cost_per_engineer_year_krw: float = lever_field(
        1e8,
        "KRW per engineer-year of transfer (stipend, travel and coordination of one retired engineer)",
        range=(5e7, 2e8),
        gt=0,
        assumption=True,
    )
    establishments_per_engineer_year: float = lever_field(
        4.0,
        "SMEs one engineer advises in depth in a year",
        range=(2.0, 10.0),
        gt=0,
        assumption=True,
    )
    productivity_gain_per_establishment: float = lever_field(
        0.03,
        "one-off productivity rise of an advised establishment, as one innovation (innovation.productivity_gain_per_innovation)",
        range=(0.0, 0.1),
        ge=0,
        assumption=True,
    )
    smes_only: bool = lever_field(
        True,
        "only establishments under 300 workers",
        kind="setting",
        evidence="seed 001, section III: know-how transfer to local casting and die-mould SMEs",
    )


@register
@dataclass
class InternationalTechCooperation(Lever):
    """Retired foreign engineers advising manufacturing SMEs (Incheon–Kitakyushu cooperation)."""

    name: ClassVar[str] = "international_tech_cooperation"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "001, section III: Incheon–Kitakyushu casting/die-mould cooperation with retired engineers (also Gyeonggi–Kanagawa, Jeju–Saga)"
    )
    mechanism: ClassVar[str] = (
        "retired foreign engineers transfer know-how → one-off productivity gain of advised manufacturing SMEs, per engineer-year"
    )
    Params: ClassVar[type[LeverParams]] = TechCooperationParams

    @override
    def target_regions(self, model: LeverView) -> np.ndarray:
        return model.region_mask(self.spec.regions or self.params.default_regions, self.spec.region_type)

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Advised establishments in a keyed random order (grant lottery), the last one in part."""
        p = self.params
        f = model.firms
        eligible = self.target_firms(model, ("C",))
        if p.smes_only:
            eligible &= sme_mask(model)
        krw_per_establishment = p.cost_per_engineer_year_krw / p.establishments_per_engineer_year
        advised = allocate_grants(model, self.label, np.where(eligible, f.establishments, 0), budget_krw, krw_per_establishment)
        share = np.divide(advised.establishments, f.establishments, out=np.zeros(len(f)), where=f.establishments > 0)
        effects.productivity_gain += p.productivity_gain_per_establishment * share
        effects.supported_establishments += advised.establishments
        return advised.spending
