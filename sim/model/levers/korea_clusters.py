"""Innovation clusters and smart-specialisation infrastructure (seed 003, 2023 regional project plan).

Seed 003: 지역혁신협력지구(클러스터) 육성 (92.9 bn KRW national + 43.3 bn local in 2023; one cluster per
non-capital province since 2018, 641.8 bn KRW in 2018-22) is reorganised with region-chosen stages
and competition between clusters: national money is paid out according to a performance review
(경쟁체제(성과평가) 도입으로 국비 예산 차등지급). 지능형(스마트) 특성화기반구축 (160.7 bn national + 68.9 bn
local) builds research equipment, testing, evaluation and certification for regional firms.

Mechanisms: cluster money is partly R&D grants to the cluster's SMEs and partly networking, which
raises the region's knowledge-spillover term in proportion to the money over the region's
business R&D; each year a share of the budget follows last year's innovations per won.
Infrastructure raises the productivity of firms in target regions and industries once, by a stated
return on the money over their value added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, override

import numpy as np

from sim.model.levers.base import (
    Lever,
    LeverParams,
    PolicyEffects,
    allocate_grants,
    business_rd_krw,
    lever_field,
    register,
    split_by_weight,
)
from sim.model.levers.korea_business import KEY_INDUSTRIES, by_region, sme_mask, value_added

if TYPE_CHECKING:
    from sim.model.levers.view import LeverView


def raise_spillovers(model: LeverView, effects: PolicyEffects, networking_krw: np.ndarray, knowledge_krw: np.ndarray, gain: float) -> None:
    """Spillover multiplier of each region × (1 + ``gain`` × networking money / its knowledge base (KRW))."""
    share = np.divide(networking_krw, knowledge_krw, out=np.zeros(model.n_regions), where=knowledge_krw > 0)
    effects.spillover_multiplier *= 1.0 + gain * share


NISHIMURA_OKAMURO_2011 = (
    "Nishimura & Okamuro (2011, Res. Policy 40(5):714-727), abstract: in METI's Industrial Cluster Project indirect "
    "networking and coordination support had an extensive, strong impact on firms' output, direct R&D support only a weak one"
)


def spillover_gain_field(where: str = "the region's business R&D") -> Any:
    """The field of a cluster lever's spillover gain per unit of networking money over ``where``."""
    return lever_field(
        1.0,
        f"proportional rise of the spillover term per unit of networking money over {where} (networking money of 1 % "
        "of business R&D raises it by 1 %, as that much more R&D would)",
        range=(0.0, 3.0),
        ge=0,
        assumption=True,
        evidence=f"{NISHIMURA_OKAMURO_2011}: networking can be worth more than its cost in R&D (high end); no estimate of the size",
    )


class ClusterParams(LeverParams):
    """R&D share, grant cap per firm, spillover gain and the weight of last year's performance in the budget split."""

    rd_share: float = lever_field(
        0.6,
        "share of a cluster's money for R&D grants to its SMEs; the rest is networking",
        kind="setting",
        range=(0.3, 0.9),
        ge=0,
        le=1,
        assumption=True,
        evidence="seed 003: clusters fund R&D, firm attraction, networks and mandatory training; the split is not given",
    )
    cap_per_firm_krw: float = lever_field(
        2e8,
        "R&D grant cap per firm per year (KRW), as the key-industry R&D",
        kind="programme",
        range=(1e8, 2e8),
        gt=0,
        evidence="seed 003, 붙임 table: 지역주력산업 R&D 지원 한도 연 2억 (the clusters' own cap is not given)",
    )
    spillover_gain: float = spillover_gain_field()
    performance_weight: float = lever_field(
        0.3,
        "share of the budget allocated by last year's innovations per won; the rest is split equally among target regions",
        kind="setting",
        range=(0.0, 0.68),
        ge=0,
        le=1,
        assumption=True,
        evidence="seed 003: performance review with differentiated national funding (국비 예산 차등지급); national money is "
        "68 % of the 2023 cluster total, an upper bound; the share is not given",
    )


@register
@dataclass
class InnovationClusters(Lever):
    """Regional innovation clusters (지역혁신협력지구): R&D grants and stronger spillovers, budget following performance."""

    name: ClassVar[str] = "innovation_clusters"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "003, report ④ and project plan: 지역혁신협력지구(클러스터) 육성 (92.9 bn national + 43.3 bn local), performance-based competition"
    )
    mechanism: ClassVar[str] = (
        "R&D grants to cluster SMEs and a higher knowledge-spillover term, budget shifting toward the most innovations per won"
    )
    Params: ClassVar[type[LeverParams]] = ClusterParams

    last_spending: np.ndarray | None = field(default=None)

    def regional_budgets(self, model: LeverView, budget_krw: float) -> np.ndarray:
        """Equal shares, except ``performance_weight`` of the budget split by innovations per won last year
        among the target regions funded last year (equally if none innovated)."""
        targets = self.target_regions(model).astype(float)
        equal = split_by_weight(budget_krw, targets)
        if self.last_spending is None or self.params.performance_weight == 0:
            return equal
        funded = (self.last_spending > 0) & (targets > 0)
        innovations = model.innovations_last_year
        per_won = np.divide(innovations, self.last_spending, out=np.zeros(model.n_regions), where=funded)
        performance = split_by_weight(budget_krw, per_won) if per_won.sum() > 0 else split_by_weight(budget_krw, funded.astype(float))
        if performance.sum() == 0:
            return equal
        w = self.params.performance_weight
        return w * performance + (1.0 - w) * equal

    @override
    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        f = model.firms
        regional = self.regional_budgets(model, budget_krw)
        eligible = self.target_firms(model, KEY_INDUSTRIES) & sme_mask(model) & (f.rd_intensity > 0)
        rd_spent = np.zeros(model.n_regions)
        for r in np.flatnonzero(regional > 0):
            grants = allocate_grants(
                model, self.label, np.where(eligible & (f.region == r), f.establishments, 0), regional[r] * p.rd_share, p.cap_per_firm_krw
            )
            effects.fund_rd(grants, 1.0)
            rd_spent += grants.spending
        raise_spillovers(model, effects, regional - rd_spent, business_rd_krw(model), p.spillover_gain)
        self.last_spending = regional
        return regional


class InfrastructureParams(LeverParams):
    """Productivity return of shared equipment and testing centres."""

    productivity_return: float = lever_field(
        0.1,
        "yearly value added gained for good per KRW of equipment and testing services (a ten-year payback)",
        range=(0.05, 0.3),
        ge=0,
        assumption=True,
        evidence="of the order of the marginal product of public capital implied by Bom & Ligthart (2014, J. Econ. Surveys "
        "28(5):889-916), abstract: output elasticity of public capital 0.083 short run, 0.122 long run, mean 0.106; "
        "regional core infrastructure about twice that",
    )


@register
@dataclass
class SmartSpecialisationInfrastructure(Lever):
    """Shared equipment and testing centres for the region's specialisation (지능형 특성화기반구축)."""

    name: ClassVar[str] = "smart_specialisation_infrastructure"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "003, 2023 regional project plan: 지능형(스마트) 특성화기반구축 (160.7 bn national + 68.9 bn local): equipment, testing, certification"
    )
    mechanism: ClassVar[str] = (
        "shared equipment and testing centres → one-off productivity gain of target firms, return × money / their value added"
    )
    Params: ClassVar[type[LeverParams]] = InfrastructureParams

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Money follows the eligible firms' value added, so every served firm gains the same proportion."""
        eligible = self.target_firms(model, KEY_INDUSTRIES)
        va = np.where(eligible, value_added(model), 0.0)  # KRW per firm agent
        total = va.sum()
        if total <= 0:
            return np.zeros(model.n_regions)
        effects.productivity_gain += np.where(eligible, self.params.productivity_return * budget_krw / total, 0.0)
        return by_region(model, va) / total * budget_krw
