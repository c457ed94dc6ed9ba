"""Business support and job programmes for regional SMEs (seed 003, beyond the R&D grants).

Seed 003 (2023 1st Regional Economy Committee) lists, besides the R&D instruments of
``rd_grants``: business support services for SMEs of the regions' key industries (지역주력산업지원:
prototypes, patents, certification, marketing; 25.91 bn KRW, 2 years, ≤ 0.5 bn KRW per firm-year,
100 % funding); local industries of the basic local governments (시군구연고산업) restricted to the
132 depopulating ones; social-economy growth (사회적경제혁신성장, 21 + 21 bn KRW); industrial-complex
reform and investment projects (산업단지 제도혁신, 지역 투자사업: 550 projects, 65.2 trillion KRW of
investment); and region-led allocation of budgets (지역 자율 배분).

Mechanisms: support services raise the supported firms' productivity once (a stated return per
KRW) and lower young firms' exit hazard in proportion to the share of establishments supported;
job programmes add jobs to tradable establishments at a stated cost per job (non-tradable jobs
follow local demand in the model, so they are not a lever channel); region-led allocation
spreads its money by need and spends it on SME R&D and business support.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, override

import numpy as np

from sim.model.levers.base import (
    KRW_PER_USD_PPP,
    Grants,
    Lever,
    LeverParams,
    PolicyEffects,
    ProjectPortfolio,
    allocate_grants,
    lever_field,
    population,
    register,
    split_by_weight,
)
from sim.model.levers.rd_grants import RD_INDUSTRIES, SME_MAX_WORKERS

if TYPE_CHECKING:
    from sim.model.levers.view import LeverView

KEY_INDUSTRIES = RD_INDUSTRIES
"""Default industries of the key-industry programmes: manufacturing, ICT, professional services (C, J, M)."""

LOCAL_INDUSTRIES = ("A", "C")
"""시군구연고산업 are local specialities: farm and fishery products and their processing (A, C)."""

PLAN_KRW_PER_HIRE = 286.4e9 / 3623
"""Seed 003: the 2023 regional industry plan (286.4 bn KRW) targets 3,623 new hires in supported firms:
≈ 79 m KRW per targeted hire (a gross target of the whole plan, not a causal cost of any one lever)."""

RSA_USD_PER_JOB = 6300.0
"""UK Regional Selective Assistance: about 6,300 USD per job, effects in small firms only (Criscuolo, Martin,
Overman & Van Reenen 2019, AER 109(1):48-85, abstract of NBER w17842)."""

CRISCUOLO_2019 = (
    "Criscuolo, Martin, Overman & Van Reenen (2019, AER 109(1):48-85), abstract: UK RSA investment grants raised "
    "employment in small firms only (no effect above about 150 employees), mainly by lowering unemployment, "
    "at about 6,300 USD per job"
)
LEE_JO_2018 = (
    "Lee & Jo (2018, KDI J. Econ. Policy 40(4):47-63), abstract: Korean SME R&D grants raised R&D, IP and investment "
    "but not value added, sales or operating profit"
)

MINIMUM_WAGE_YEAR_KRW = 9620 * 209 * 12
"""2023 minimum wage (9,620 KRW per hour, 209 paid hours a month) for a year: ≈ 24.1 m KRW."""


# --- shared helpers (also used by korea_clusters and korea_cooperation) -------------------------


def sme_mask(model: LeverView) -> np.ndarray:
    """Firms whose establishments have fewer than 300 workers (SME definition)."""
    return model.firms.size < SME_MAX_WORKERS


def value_added(model: LeverView) -> np.ndarray:
    """Value added of each firm agent (KRW per year): productivity × desired workers."""
    return model.firms.productivity * model.firms.workers()


def by_region(model: LeverView, values: np.ndarray) -> np.ndarray:
    """Sum over firm agents by region of a per-firm quantity."""
    return np.bincount(model.firms.region, weights=values, minlength=model.n_regions)


def add_jobs(model: LeverView, effects: PolicyEffects, eligible: np.ndarray, jobs_by_region: np.ndarray) -> None:
    """Add ``jobs_by_region`` (persons) to the eligible firms of each region in proportion to their workers."""
    f = model.firms
    workers = np.where(eligible, f.workers(), 0.0)
    total = by_region(model, workers)[f.region]
    share = np.divide(workers, total, out=np.zeros(len(f)), where=total > 0)
    effects.fund_jobs(jobs_by_region[f.region] * share, f.establishments)


def support_effects(
    model: LeverView,
    effects: PolicyEffects,
    grants: Grants,
    productivity_return: float,
    max_productivity_gain: float,
    exit_hazard_reduction: float,
) -> None:
    """Effects of business-support grants.

    Productivity: a funded establishment's value added rises by ``productivity_return`` × its grant
    (at most ``max_productivity_gain`` of it), which raises its firm agent's mean productivity.
    Survival: the young-firm exit hazard of a region falls by ``exit_hazard_reduction`` × the share
    of its establishments supported, the region-wide channel that gives the same expected number of
    avoided closures.
    """
    f = model.firms
    va_per_establishment = np.divide(value_added(model), f.establishments, out=np.zeros(len(f)), where=f.establishments > 0)
    funded_va = va_per_establishment * grants.establishments
    gain = np.minimum(
        np.divide(productivity_return * grants.krw, funded_va, out=np.zeros(len(f)), where=funded_va > 0), max_productivity_gain
    )
    effects.productivity_gain += np.divide(gain * grants.establishments, f.establishments, out=np.zeros(len(f)), where=f.establishments > 0)
    effects.supported_establishments += grants.establishments
    supported = by_region(model, grants.establishments)
    establishments = model.firms.count_by_region(model.n_regions)
    coverage = np.divide(supported, establishments, out=np.zeros(model.n_regions), where=establishments > 0)
    effects.young_exit_multiplier *= 1.0 - exit_hazard_reduction * np.minimum(coverage, 1.0)


def relative_weights(values: np.ndarray) -> np.ndarray:
    """``values`` over their mean (weights for ``allocate_grants`` on a numerically safe scale)."""
    mean = values.mean() if len(values) else 0.0
    return values / mean if mean > 0 else np.ones_like(values)


def productivity_return_field() -> Any:
    """The field of a support lever's productivity return (KRW of value added per KRW of support), shared by support levers."""
    return lever_field(
        0.1,
        "KRW of yearly value added gained for good per KRW of support services (0.1: a ten-year payback)",
        range=(0.0, 0.5),
        ge=0,
        assumption=True,
        evidence=f"{LEE_JO_2018}; Criscuolo et al. 2019 find no TFP effect of RSA: both put the low end at 0. The plan's "
        "target (seed 003: 821.5 bn KRW sales for 286.4 bn KRW) is sales, an upper bound",
    )


def max_productivity_gain_field() -> Any:
    """The field of the largest one-year productivity rise of a supported establishment, shared by support levers."""
    return lever_field(
        0.5,
        "largest one-year productivity rise of one supported establishment (guards against tiny firms)",
        kind="setting",
        ge=0,
        assumption=True,
    )


def exit_hazard_reduction_field() -> Any:
    """The field of the fall of a supported establishment's exit hazard, shared by support levers."""
    return lever_field(
        0.3,
        "proportional fall of a supported establishment's exit hazard while supported",
        range=(0.0, 0.5),
        ge=0,
        le=1,
        assumption=True,
        evidence=None,
    )


class SupportParams(LeverParams):
    """Cap per firm, project length, productivity return and exit-hazard reduction of business support services."""

    cap_per_firm_krw: float = lever_field(
        5e8,
        "grant per firm per year (KRW); real average grants are smaller: lower it to spread support over more firms",
        kind="programme",
        range=(1e8, 5e8),
        gt=0,
        evidence="seed 003, 붙임 table: 지역주력산업지원 지원 한도 연 5억",
    )
    project_years: int = lever_field(
        2, "support period (years)", kind="programme", ge=1, evidence="seed 003, 붙임 table: 지역주력산업지원 2년"
    )
    productivity_return: float = productivity_return_field()
    max_productivity_gain: float = max_productivity_gain_field()
    exit_hazard_reduction: float = exit_hazard_reduction_field()


@register
@dataclass
class BusinessSupportServices(Lever):
    """Business support for key-industry SMEs: prototypes, patents, certification, marketing (지역주력산업지원)."""

    name: ClassVar[str] = "business_support_services"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "003, programme table: 지역주력산업지원 business support (prototypes, patents, certification, marketing; 25.91 bn KRW, 2 years, ≤0.5 bn/yr, 100 %)"
    )
    mechanism: ClassVar[str] = (
        "support services for key-industry SMEs → one-off productivity gain of supported firms, lower young-firm exit hazard"
    )
    Params: ClassVar[type[LeverParams]] = SupportParams

    portfolio: ProjectPortfolio | None = field(default=None)

    @override
    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        if self.portfolio is None:
            self.portfolio = ProjectPortfolio(duration=p.project_years)
        eligible = self.target_firms(model, KEY_INDUSTRIES) & sme_mask(model)
        grants = self.portfolio.pay(model, self.label, eligible, budget_krw, p.cap_per_firm_krw, relative_weights(value_added(model)))
        support_effects(model, effects, grants, p.productivity_return, p.max_productivity_gain, p.exit_hazard_reduction)
        return grants.spending


# --- jobs at a cost per job ---------------------------------------------------------------------
@dataclass
class _JobsLever(Lever):
    """Jobs in tradable establishments of target regions at ``cost_per_job_krw``, by region weight."""

    default_industries: ClassVar[tuple[str, ...]] = LOCAL_INDUSTRIES
    smes_only: ClassVar[bool] = True

    def region_weights(self, model: LeverView) -> np.ndarray:
        return population(model)

    def eligible_firms(self, model: LeverView) -> np.ndarray:
        """Tradable firms (non-tradable jobs follow local demand) of the target regions and industries."""
        eligible = self.target_firms(model, self.default_industries) & model.tradable[model.firms.industry]
        return eligible & sme_mask(model) if self.smes_only else eligible

    def jobs_spending(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> tuple[np.ndarray, np.ndarray]:
        """Regional budgets (target regions with eligible firms, by weight) and the eligible firms; adds the jobs."""
        eligible = self.eligible_firms(model)
        has_firms = by_region(model, np.where(eligible, model.firms.workers(), 0.0)) > 0
        spending = split_by_weight(budget_krw, self.region_weights(model) * has_firms)
        add_jobs(model, effects, eligible, spending * self.jobs_share() / self.params.cost_per_job_krw)
        return spending, eligible

    def jobs_share(self) -> float:
        return 1.0

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        spending, _ = self.jobs_spending(model, effects, budget_krw)
        return spending


class LocalIndustryParams(LeverParams):
    """Cost per job of local-industry support and whether it is restricted to non-capital regions."""

    cost_per_job_krw: float = lever_field(
        2 * PLAN_KRW_PER_HIRE,
        "KRW per additional lasting job in supported local SMEs (deadweight removed): the plan's ≈ 79 m KRW per targeted "
        "hire over the share of those hires that would not have happened without support (assumption 0.5)",
        range=(PLAN_KRW_PER_HIRE, 4 * PLAN_KRW_PER_HIRE),
        gt=0,
        assumption=True,
        evidence="seed 003: the 2023 plan targets 3,623 hires in supported firms for 286.4 bn KRW (a gross target of the "
        "whole plan, so ≥ 79 m KRW per additional job if met); the UK RSA's 6,300 USD per job (Criscuolo et al. 2019) "
        "is for investment grants and is far outside what the plan itself expects",
    )
    non_capital_only: bool = lever_field(
        True,
        "spend only in the non-capital provinces (a rule separate from the decline-area targeting)",
        kind="setting",
        evidence="seed 003: the 2023 regional industry plan is for the 14 non-capital provinces (비수도권 14개 시·도)",
    )


@register
@dataclass
class LocalIndustriesDeclineAreas(_JobsLever):
    """Support of local industries in depopulating areas (시군구연고산업)."""

    name: ClassVar[str] = "local_industries_decline_areas"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "003, 2023 regional industry plan: 시군구연고산업 support restricted to the 132 depopulating basic local governments"
    )
    mechanism: ClassVar[str] = "jobs in local tradable SMEs of depopulating areas at a cost per job (budget by population in decline areas)"
    Params: ClassVar[type[LeverParams]] = LocalIndustryParams

    def region_weights(self, model: LeverView) -> np.ndarray:
        """Population of the eligible basic local governments: only provinces with such areas receive money, and
        with ``non_capital_only`` only the non-capital ones (the plan is for the 14 non-capital provinces).

        Seed 003 restricts support to 132 basic local governments, "population-decline areas, local-extinction
        risk areas etc." without listing them. At ``resolution: sigungu`` the eligible ones are the 89 decline
        areas and the municipalities at extinction risk (index < 0.5) at the start (124 at 31 Dec 2023, every
        decline area among them), within the lever's targeting; at province resolution the provinces'
        population in the 89 decline areas."""
        if model.municipal is None:
            weights = model.pack.decline_area_share * population(model)
        else:
            weights = self.target_population(model, model.municipal.local_industry_eligible)
        return np.where(model.pack.capital, 0.0, weights) if self.params.non_capital_only else weights


class SocialEconomyParams(LeverParams):
    """Cost per job, the jobs share of the budget and the amenity bought per KRW per resident."""

    cost_per_job_krw: float = lever_field(
        2 * MINIMUM_WAGE_YEAR_KRW,
        "KRW per created job: two years of the 2023 minimum wage (≈ 48 m KRW; wage subsidies for social enterprises pay "
        "a share of it for up to three years plus start-up costs)",
        range=(2.5e7, 8e7),
        gt=0,
        assumption=True,
        evidence="2023 minimum wage 9,620 KRW per hour (Minimum Wage Commission); the number of years is the assumption",
    )
    jobs_share: float = lever_field(
        0.7,
        "share of the money creating jobs; the rest funds community services (amenity)",
        kind="setting",
        range=(0.5, 0.9),
        ge=0,
        le=1,
        assumption=True,
    )
    amenity_per_krw_per_resident: float = lever_field(
        1e-6,
        "destination utility per KRW per resident per year of community services (10,000 KRW per resident → +0.01, "
        "about 1 % higher odds of choosing the region)",
        range=(0.0, 5e-6),
        ge=0,
        assumption=True,
    )


@register
@dataclass
class SocialEconomyInnovation(_JobsLever):
    """Social-economy innovation: jobs in social-economy SMEs and community services (사회적경제혁신성장)."""

    name: ClassVar[str] = "social_economy_innovation"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, 2023 regional project plan: 사회적경제혁신성장 (21 bn KRW national + 21 bn local)"
    mechanism: ClassVar[str] = "jobs in tradable social-economy SMEs at a cost per job, and community services raising the region's amenity"
    Params: ClassVar[type[LeverParams]] = SocialEconomyParams

    @override
    def jobs_share(self) -> float:
        return self.params.jobs_share

    @override
    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        spending, _ = self.jobs_spending(model, effects, budget_krw)
        residents = population(model)
        per_resident = np.divide(spending * (1.0 - self.params.jobs_share), residents, out=np.zeros(model.n_regions), where=residents > 0)
        effects.amenity += self.params.amenity_per_krw_per_resident * per_resident
        return spending


class InvestmentParams(LeverParams):
    """Cost per job of attracted investment and the share of jobs in new establishments."""

    cost_per_job_krw: float = lever_field(
        RSA_USD_PER_JOB * KRW_PER_USD_PPP,
        "KRW per created job in small and medium manufacturing establishments: the UK RSA's 6,300 USD per job at "
        "purchasing-power parity (≈ 5.2 m KRW; 8.2 m at the market rate)",
        range=(5e6, PLAN_KRW_PER_HIRE),
        gt=0,
        evidence=f"{CRISCUOLO_2019}; the high end is seed 003's plan target of ≈ 79 m KRW per hire",
    )
    new_establishment_share: float = lever_field(
        0.3,
        "share of the attracted jobs in new establishments (the rest expand existing ones)",
        range=(0.0, 1.0),
        ge=0,
        le=1,
        assumption=True,
        evidence="Criscuolo et al. 2019 find positive effects on net entry of plants; the share is not given",
    )


@register
@dataclass
class IndustrialComplexInvestment(_JobsLever):
    """Investment attracted to industrial complexes: jobs in small and medium manufacturing establishments."""

    name: ClassVar[str] = "industrial_complex_investment"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, reports ⑤⑥: 산업단지 제도혁신 and 지역 투자사업(프로젝트) (550 projects, 65.2 trillion KRW)"
    mechanism: ClassVar[str] = (
        "attracted investment → jobs in small and medium manufacturing establishments at a cost per job (the UK RSA "
        "evaluation found no job effect in large firms), more new establishments"
    )
    Params: ClassVar[type[LeverParams]] = InvestmentParams
    default_industries: ClassVar[tuple[str, ...]] = ("C",)

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Jobs go to existing establishments (``extra_jobs``); the share in new plants also raises the
        region's startup rate by the establishments they make up (the model's entrants take market share
        from incumbents, so the jobs themselves are counted once, in ``extra_jobs``)."""
        spending, eligible = self.jobs_spending(model, effects, budget_krw)
        f = model.firms
        jobs = spending / self.params.cost_per_job_krw
        eligible_establishments = f.count_by_region(model.n_regions, eligible)
        mean_size = np.divide(
            by_region(model, np.where(eligible, f.workers(), 0.0)),
            eligible_establishments,
            out=np.zeros(model.n_regions),
            where=eligible_establishments > 0,
        )
        new_establishments = np.divide(
            jobs * self.params.new_establishment_share, mean_size, out=np.zeros(model.n_regions), where=mean_size > 0
        )
        expected_startups = model.params.firms.birth_rate * f.count_by_region(model.n_regions)
        effects.startup_multiplier *= 1.0 + np.divide(
            new_establishments, expected_startups, out=np.zeros(model.n_regions), where=expected_startups > 0
        )
        return spending


# --- region-led allocation ----------------------------------------------------------------------
def employment_rate(model: LeverView) -> tuple[np.ndarray, float]:
    """Employed persons over persons aged 15-64, by region and nationally."""
    t = model.talent
    employed = t.count_by_region(model.n_regions, t.employed).astype(float)
    working_age = model.working_age_by_region
    rate = np.divide(employed, working_age, out=np.zeros(model.n_regions), where=working_age > 0)
    return rate, employed.sum() / max(working_age.sum(), 1.0)


class RegionLedParams(LeverParams):
    """Split between R&D grants and business support, their caps per firm, return and exit-hazard reduction."""

    rd_share: float = lever_field(
        0.855,
        "share of each region's money for SME R&D grants, the rest business support",
        kind="programme",
        ge=0,
        le=1,
        evidence="seed 003, 2023 지역특화산업육성: R&D 120.7 + 32.3 bn KRW of 178.91 bn with support services 25.91 bn",
    )
    rd_cap_per_firm_krw: float = lever_field(
        2e8,
        "R&D grant cap per firm per year (KRW)",
        kind="programme",
        range=(1e8, 2e8),
        gt=0,
        evidence="seed 003, 붙임 table: 지역주력산업 R&D 지원 한도 연 2억",
    )
    support_cap_per_firm_krw: float = lever_field(
        5e8,
        "support grant per firm per year (KRW)",
        kind="programme",
        range=(1e8, 5e8),
        gt=0,
        evidence="seed 003, 붙임 table: 지역주력산업지원 지원 한도 연 5억",
    )
    productivity_return: float = productivity_return_field()
    max_productivity_gain: float = max_productivity_gain_field()
    exit_hazard_reduction: float = exit_hazard_reduction_field()


@register
@dataclass
class RegionLedAllocation(Lever):
    """Budgets allocated by the regions by need (지역 자율 배분): SME R&D grants and business support."""

    name: ClassVar[str] = "region_led_allocation"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, 2023 regional industry plan: 지역 자율 배분 (region-led allocation of budgets and selection of firms)"
    mechanism: ClassVar[str] = "money spread by regional need (decline areas, low employment) → SME R&D grants and business support there"
    Params: ClassVar[type[LeverParams]] = RegionLedParams

    def need_weights(self, model: LeverView) -> np.ndarray:
        """Allocation rule: population × need, need = share of the population in decline areas plus the
        relative shortfall of the 15-64 employment rate below the national rate (0 above it); target
        regions without need get nothing unless no target region has any, then population alone."""
        rate, national = employment_rate(model)
        need = model.pack.decline_area_share + np.maximum(national - rate, 0.0) / national
        weights = population(model) * need * self.target_regions(model)
        return weights if weights.sum() > 0 else population(model) * self.target_regions(model)

    @override
    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        f = model.firms
        smes = self.target_firms(model, KEY_INDUSTRIES) & sme_mask(model)
        regional = split_by_weight(budget_krw, self.need_weights(model) * (f.count_by_region(model.n_regions, smes) > 0))
        weights = relative_weights(value_added(model))
        spending = np.zeros(model.n_regions)
        for r in np.flatnonzero(regional > 0):
            in_region = np.where(smes & (f.region == r), f.establishments, 0)
            rd = allocate_grants(
                model, f"{self.label}/rd", in_region * (f.rd_intensity > 0), regional[r] * p.rd_share, p.rd_cap_per_firm_krw
            )
            effects.fund_rd(rd, 1.0)
            support = allocate_grants(
                model, f"{self.label}/support", in_region, regional[r] - rd.spending[r], p.support_cap_per_firm_krw, weights
            )
            support_effects(model, effects, support, p.productivity_return, p.max_productivity_gain, p.exit_hazard_reduction)
            spending += rd.spending + support.spending
        return spending
