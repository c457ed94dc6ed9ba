"""Japanese cluster and ecosystem levers of seed 002 (KISTEP 2023 brief on Japan's regional S&T policy).

Table 1 of the brief: industrial and knowledge clusters (2nd–3rd Basic Plans, 2001–2013), the
regional innovation strategy support programme carrying research to commercialisation (4th plan,
2011–2018), startup ecosystem support (5th plan, 2019–) and the COI-NEXT co-creation hubs
(2020–). Section 3 describes anchor clusters: Kobe Biomedical Innovation Cluster (362
institutions, about 12,400 employees) and Kawasaki's King Skyfront (550+ R&D institutions in the
city). Section 4 argues for mega-region cooperation beyond single local governments (Kobe works at
Kansai scale with Kyoto and Osaka universities); seed 003 names Korea's five super-regional
partnerships.

Mechanisms: stronger local knowledge spillovers (``spillover_multiplier``, bought as networking
worth more than its cost in R&D, after Nishimura & Okamuro 2011), university research,
collaboration, productivity gains of commercialising R&D performers, more startups and fewer young
firm exits, jobs in tradable R&D firms (``extra_jobs``) and joined labour markets
(``commuting_links``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, override

import numpy as np
from pydantic import model_validator

from sim.model.levers._japan_common import (
    RD_INDUSTRIES,
    budget_share_field,
    collaboration_share,
    cost_per_collaboration_field,
    expected_startups,
    networking_leverage_field,
    rd_establishments,
    region_weights,
    shares_sum_to_one,
    spillover_factor,
    startup_factor,
    tradable_job_shares,
)
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
from sim.model.levers.japan_universities import university_research

SUPER_REGIONAL_PARTNERSHIPS = [["26", "31", "48"], ["29", "46"], ["42", "43", "50"], ["27", "45", "47"], ["30", "36", "44"]]
"""Seed 003: the five super-regional partnerships (초광역 협력권) — Busan·Ulsan·Gyeongnam (shipbuilding),
Gwangju·Jeonnam (power systems), Chungbuk·Gangwon·Jeju (bio-health), Jeonbuk·Daegu·Gyeongbuk (electric
autonomous vehicles), Daejeon·Sejong·Chungnam (digital health care)."""


class ClusterParams(LeverParams):
    """Budget split between cluster networking and university research, and the R&D equivalent of networking."""

    networking_share: float = budget_share_field(0.5, "share of the budget for networking and coordination (spillovers)")
    research_share: float = budget_share_field(0.5, "share of the budget added to university research in the cluster")
    rd_equivalent_per_krw: float = networking_leverage_field(2.0)

    @model_validator(mode="after")
    def _shares(self) -> ClusterParams:
        return shares_sum_to_one(self, "networking_share", "research_share")


@register
@dataclass
class KnowledgeClusters(Lever):
    """Industrial and knowledge clusters (Japan, 2001–2009)."""

    name: ClassVar[str] = "knowledge_clusters"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1: 2nd–3rd Basic Plans, 산업 클러스터 계획 ('01–'09), 지적 클러스터 창성 사업 ('02–'09), 지역혁신클러스터 프로그램 ('10–'13)"
    )
    mechanism: ClassVar[str] = (
        "cluster networking strengthens local knowledge spillovers (spillover_multiplier) and funds university research"
    )
    Params: ClassVar[type[LeverParams]] = ClusterParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        spend = split_by_weight(budget_krw, region_weights(self, model, business_rd_krw(model)))
        effects.spillover_multiplier *= spillover_factor(model, spend * p.networking_share, p.rd_equivalent_per_krw)
        effects.university_research_krw += spend * p.research_share
        return spend


class StrategyParams(LeverParams):
    """Budget split between commercialisation support and R&D grants, their return and cap per firm."""

    commercialisation_share: float = budget_share_field(
        0.5, "share of the budget for commercialisation support (prototypes, demonstration, market entry)"
    )
    rd_grant_share: float = budget_share_field(0.5, "share of the budget for R&D grants to the region's R&D performers")
    value_added_return: float = lever_field(
        0.2,
        "KRW of added yearly value added per KRW of commercialisation support (permanent productivity gain)",
        range=(0.0, 0.5),
        ge=0,
        assumption=True,
        evidence="low end of private rates of return to R&D surveyed by Hall, Mairesse & Mohnen (2010, Handbook of the "
        "Economics of Innovation vol. 2; not verified here); Lee & Jo (2018, KDI J. Econ. Policy 40(4):47-63) find no "
        "value-added gain from Korean SME R&D grants (low end 0)",
    )
    cap_per_firm_krw: float = lever_field(
        2e8,
        "R&D grant cap per establishment per year (KRW), as seed 003's key-industry R&D",
        kind="programme",
        range=(1e8, 2e8),
        gt=0,
        evidence="seed 003, 붙임 table: 지역주력산업 R&D 지원 한도 연 2억 (Japan's programme terms are not in seed 002)",
    )

    @model_validator(mode="after")
    def _shares(self) -> StrategyParams:
        return shares_sum_to_one(self, "commercialisation_share", "rd_grant_share")


@register
@dataclass
class RegionalInnovationStrategy(Lever):
    """Regional innovation strategy support, from research to commercialisation (Japan, 2011–2018)."""

    name: ClassVar[str] = "regional_innovation_strategy"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1: 4th Basic Plan, 지역혁신 전략 지원 프로그램 ('11–'18): continuous support from research to commercialisation"
    )
    mechanism: ClassVar[str] = (
        "commercialisation support raises the productivity of the region's R&D performers (productivity_gain) and R&D grants add to their R&D"
    )
    Params: ClassVar[type[LeverParams]] = StrategyParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p, firms = self.params, model.firms
        performers = self.target_firms(model, RD_INDUSTRIES) & (firms.rd_intensity > 0)
        value_added = np.bincount(
            firms.region[performers], weights=(firms.productivity * firms.workers())[performers], minlength=model.n_regions
        )
        commercialisation = split_by_weight(budget_krw * p.commercialisation_share, region_weights(self, model, value_added))
        gain = np.divide(p.value_added_return * commercialisation, value_added, out=np.zeros(model.n_regions), where=value_added > 0)
        effects.productivity_gain += np.where(performers, gain[firms.region], 0.0)
        available = np.where(performers & (commercialisation[firms.region] > 0), firms.establishments, 0)
        grants = allocate_grants(model, self.label, available, budget_krw * p.rd_grant_share, p.cap_per_firm_krw)
        effects.fund_rd(grants, 1.0)
        return commercialisation + grants.spending


class StartupParams(LeverParams):
    """Budget split between founding and follow-on support, and the cost of a supported or saved firm."""

    startup_share: float = budget_share_field(
        0.6, "share of the budget for founding support (incubation, seed grants), plus what survival support cannot use"
    )
    survival_share: float = budget_share_field(0.4, "share of the budget for young firms' survival (acceleration, follow-on finance)")
    krw_per_supported_startup: float = lever_field(
        5e7,
        "KRW of founding support per supported founder (grant plus incubation)",
        range=(3e7, 1e8),
        gt=0,
        assumption=True,
        evidence="Korea's pre-startup package (예비창업패키지) grants at most 100 m KRW per founder (MSS call, e.g. etoday "
        "2021: about 1,500-1,700 founders a year); the average grant is lower and not verified here",
    )
    additional_startup_share: float = lever_field(
        0.3,
        "share of supported founders who would not have started a firm without the support (the rest is deadweight)",
        range=(0.1, 0.6),
        gt=0,
        le=1,
        assumption=True,
    )
    krw_per_saved_young_firm: float = lever_field(
        2e8,
        "KRW per young firm (under firms.young_firm_years) kept from closing in a year",
        range=(1e8, 1e9),
        gt=0,
        assumption=True,
    )

    @model_validator(mode="after")
    def _shares(self) -> StartupParams:
        return shares_sum_to_one(self, "startup_share", "survival_share")


@register
@dataclass
class StartupEcosystem(Lever):
    """Startup ecosystem support: more founders, fewer early exits (Japan, 2019–)."""

    name: ClassVar[str] = "startup_ecosystem"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = "002, table 1: 5th Basic Plan, 스타트업 에코시스템 형성 지원 사업 ('19~)"
    mechanism: ClassVar[str] = (
        "founding support raises the startup rate (startup_multiplier) and follow-on support lowers young firms' exit hazard (young_exit_multiplier)"
    )
    Params: ClassVar[type[LeverParams]] = StartupParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p, firms = self.params, model.firms
        spend = split_by_weight(budget_krw, region_weights(self, model, expected_startups(model)))
        young = firms.age < model.params.firms.young_firm_years
        young_exits = firms.count_by_region(model.n_regions, young) * model.young_firm_hazard
        survival = np.minimum(spend * p.survival_share, young_exits * p.krw_per_saved_young_firm)
        founding = spend - survival  # money beyond all young firms' closures goes to founding support
        saved = survival / p.krw_per_saved_young_firm
        effects.startup_multiplier *= startup_factor(model, founding / p.krw_per_supported_startup * p.additional_startup_share)
        effects.young_exit_multiplier *= 1.0 - np.divide(saved, young_exits, out=np.zeros(model.n_regions), where=young_exits > 0)
        return founding + survival


class HubParams(LeverParams):
    """Budget split between university research, collaboration and networking at a co-creation hub, and their unit costs."""

    research_share: float = budget_share_field(
        0.5, "share of the budget for the hub's university research, plus what collaboration and networking cannot use"
    )
    collaboration_share: float = budget_share_field(0.25, "share of the budget for firm–university co-creation projects")
    networking_share: float = budget_share_field(
        0.25, "share of the budget for the hub's networking (industry, local government, citizens)"
    )
    krw_per_collaboration: float = cost_per_collaboration_field()
    rd_equivalent_per_krw: float = networking_leverage_field(2.0)

    @model_validator(mode="after")
    def _shares(self) -> HubParams:
        return shares_sum_to_one(self, "research_share", "collaboration_share", "networking_share")


@register
@dataclass
class CoiNextHubs(Lever):
    """University-led co-creation hubs (COI-NEXT, JST, 2020–)."""

    name: ClassVar[str] = "coi_next_hubs"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1 and section 3: 공동창조의 장 형성 지원 프로그램 (COI-NEXT, JST, '20~); Kawasaki adopted as a local government"
    )
    mechanism: ClassVar[str] = (
        "a university-led co-creation hub adds university research, firm–university collaboration (partner_share_extra) and spillovers in its region"
    )
    Params: ClassVar[type[LeverParams]] = HubParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        spend = split_by_weight(budget_krw, region_weights(self, model, university_research(model)))
        networking = np.where(business_rd_krw(model) > 0, spend * p.networking_share, 0.0)
        share, collaboration = collaboration_share(model, spend * p.collaboration_share, p.krw_per_collaboration)
        research = spend - networking - collaboration  # without R&D firms to link or network, the hub funds research
        effects.university_research_krw += research
        effects.partner_share_extra += share
        effects.spillover_multiplier *= spillover_factor(model, networking, p.rd_equivalent_per_krw)
        return spend


ANCHOR_INDUSTRIES = ("C", "M")
"""Biomedical anchor (Kobe): pharmaceuticals and medical devices (C), research institutes and R&D services (M)."""


class AnchorParams(LeverParams):
    """Budget split between anchor jobs, networking and public research, and their unit costs."""

    jobs_share: float = budget_share_field(0.6, "share of the budget for the anchor investment (facilities, land, location subsidies)")
    networking_share: float = budget_share_field(
        0.2, "share of the budget for cluster coordination (one-stop desk linking industry, academia, hospitals)"
    )
    research_share: float = budget_share_field(
        0.2, "share of the budget for public research institutes in the cluster (modelled as university research)"
    )
    krw_per_job: float = lever_field(
        3e8,
        "KRW of anchor investment per lasting job created in tradable R&D firms (one-off cost of the job)",
        range=(1e8, 2.6e9),
        gt=0,
        assumption=True,
        evidence="seed 002 gives the Kobe cluster's size (362 institutions, ~12,400 employees) but not its public cost; the "
        "high end is Japan's subsidy per direct job at TSMC Kumamoto (see kosen_talent_consortium)",
    )
    rd_equivalent_per_krw: float = networking_leverage_field(2.0)

    @model_validator(mode="after")
    def _shares(self) -> AnchorParams:
        return shares_sum_to_one(self, "jobs_share", "networking_share", "research_share")


@register
@dataclass
class AnchorCluster(Lever):
    """A large anchor investment building a cluster around it (Japan: Kobe Biomedical Innovation Cluster)."""

    name: ClassVar[str] = "anchor_cluster"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 3: 고베의료산업도시 (Kobe Biomedical Innovation Cluster, 362 institutions, ~12,400 employees) and 가와사키 킹스카이프런트 (Kawasaki King Skyfront)"
    )
    mechanism: ClassVar[str] = (
        "a large anchor investment adds jobs in tradable R&D firms (extra_jobs), cluster spillovers and public research in the target region"
    )
    Params: ClassVar[type[LeverParams]] = AnchorParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p, firms = self.params, model.firms
        anchors = self.target_firms(model, ANCHOR_INDUSTRIES) & model.tradable[firms.industry] & (firms.rd_intensity > 0)
        spend = split_by_weight(budget_krw, region_weights(self, model, rd_establishments(model, anchors)))
        effects.fund_jobs(tradable_job_shares(model, anchors, spend * p.jobs_share / p.krw_per_job), firms.establishments)
        effects.spillover_multiplier *= spillover_factor(model, spend * p.networking_share, p.rd_equivalent_per_krw)
        effects.university_research_krw += spend * p.research_share
        return spend


class MegaRegionParams(LeverParams):
    """Partner groups of regions, the cost of a labour-market link and the R&D equivalent of cooperation."""

    partners: list[list[str]] = lever_field(
        [list(group) for group in SUPER_REGIONAL_PARTNERSHIPS],
        "partner groups (lists of region codes)",
        kind="programme",
        evidence="seed 003: the five super-regional partnerships (초광역 협력권)",
    )
    krw_per_link: float = lever_field(
        5e9,
        "KRW per year joining the labour markets of two non-adjacent partner regions (express commuter transport, joint job matching)",
        range=(1e9, 5e10),
        gt=0,
        assumption=True,
    )
    rd_equivalent_per_krw: float = networking_leverage_field(2.0)


@register
@dataclass
class MegaRegionCooperation(Lever):
    """Cooperation across regions: joined labour markets and shared knowledge (Japan: Kansai)."""

    name: ClassVar[str] = "mega_region_cooperation"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 4: 범지역적 협조, 메가시티 및 초광역 협력 (Kobe cluster run at Kansai scale); partner groups from 003's 5개 초광역 협력권"
    )
    mechanism: ClassVar[str] = "partner regions join their labour markets (commuting_links) and share knowledge (spillover_multiplier)"
    Params: ClassVar[type[LeverParams]] = MegaRegionParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        target = self.target_regions(model)
        groups = [np.flatnonzero(np.isin(model.pack.codes, codes) & target) for codes in p.partners]
        rd = business_rd_krw(model)
        groups = [members for members in groups if len(members) >= 2 and rd[members].sum() > 0]  # something to network
        residents = region_weights(self, model, population(model))
        group_budget = split_by_weight(budget_krw, np.array([residents[members].sum() for members in groups]))
        links, networking = np.zeros(model.n_regions), np.zeros(model.n_regions)
        for members, money in zip(groups, group_budget):
            pairs = [(i, j) for k, i in enumerate(members) for j in members[k + 1 :] if not model.pack.adjacency[i, j]]
            if money >= len(pairs) * p.krw_per_link:
                for i, j in pairs:
                    effects.commuting_links[i, j] = effects.commuting_links[j, i] = True
                    links[[i, j]] += p.krw_per_link / 2
                money -= len(pairs) * p.krw_per_link
            networking[members] += split_by_weight(money, rd[members])
        effects.spillover_multiplier *= spillover_factor(model, networking, p.rd_equivalent_per_krw)
        return links + networking
