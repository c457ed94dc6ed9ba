"""Japanese university-centred levers of seed 002 (KISTEP 2023 brief on Japan's regional S&T policy).

Table 1 of the brief follows Japan's S&T (Innovation) Basic Plans: the 1st plan (1996–2000) built
industry–academia–government joint research with coordinators; the 5th (2016–2020) created
university "producer teams" in the regional innovation ecosystem programme; the 6th (2021–2025)
strengthens regional core universities. Section 3 (table 3) adds university–municipality
partnerships: Hirosaki (health big data), Iwamizawa (smart agriculture, remote maternal care),
Tsuruoka (Keio science park employing local high-school students).

Mechanisms: more R&D firms collaborating with universities (``partner_share_extra``), more
university research and spin-offs, a higher higher-education entry rate, fewer young people
leaving (``youth_leave_multiplier``) and a more attractive region (``amenity``). Every channel
is bought at an explicit unit cost (see ``sim.model.levers._japan_common``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, override

import numpy as np
from pydantic import model_validator

from sim.model.levers._japan_common import (
    RD_INDUSTRIES,
    amenity_gain,
    budget_share_field,
    collaboration_share,
    cost_per_amenity_field,
    cost_per_collaboration_field,
    cost_per_retained_youth_field,
    entry_rate_gain,
    rd_establishments,
    region_weights,
    shares_sum_to_one,
    youth_retention,
)
from sim.model.levers.base import (
    EAG_TERTIARY_USD_PPP,
    EDUCATION_AT_A_GLANCE_2025,
    KRW_PER_USD_PPP,
    Lever,
    LeverParams,
    PolicyEffects,
    lever_field,
    population,
    register,
    split_by_weight,
)


def university_research(model) -> np.ndarray:
    """University research by region (KRW per year)."""
    return np.array([u.research_krw for u in model.universities])


def mean_programme_years(model) -> float:
    """Mean study length of an entrant, given the model's college/university split (years)."""
    p = model.params.universities
    college = p.college_share_of_entrants
    return college * p.college_programme_length_years + (1 - college) * p.programme_length_years


class JointResearchParams(LeverParams):
    """Cost of one brokered firm–university collaboration."""

    krw_per_collaboration: float = cost_per_collaboration_field()


@register
@dataclass
class JointResearchCoordinators(Lever):
    """Coordinators brokering industry–academia–government joint research (Japan, S&T Basic Plans 1–2)."""

    name: ClassVar[str] = "joint_research_coordinators"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1: 1st–2nd S&T Basic Plans, 산학관 공동연구체계 and 코디네이트 활동 (industry–academia–government joint research with coordinators)"
    )
    mechanism: ClassVar[str] = (
        "coordinators broker firm–university joint research → more R&D firms collaborate with universities (partner_share_extra)"
    )
    Params: ClassVar[type[LeverParams]] = JointResearchParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        performers = rd_establishments(model, self.target_firms(model, RD_INDUSTRIES))
        spend = split_by_weight(budget_krw, region_weights(self, model, performers))
        share, used = collaboration_share(model, spend, self.params.krw_per_collaboration)
        effects.partner_share_extra += share
        return used


class EcosystemParams(LeverParams):
    """Budget split between producer teams and university research, and the cost of a spin-off."""

    producer_team_share: float = budget_share_field(0.4, "share of the budget paying university producer teams (spin-off support)")
    research_share: float = budget_share_field(0.6, "share of the budget added to university research")
    krw_per_spinoff: float = lever_field(
        5e8,
        "KRW of producer-team support per additional university spin-off (team salaries and gap funding for about "
        "two years); seed 002 gives no cost",
        range=(2e8, 2e9),
        gt=0,
        assumption=True,
    )

    @model_validator(mode="after")
    def _shares(self) -> EcosystemParams:
        return shares_sum_to_one(self, "producer_team_share", "research_share")


@register
@dataclass
class InnovationEcosystemProducers(Lever):
    """University producer teams that turn research into firms (Japan, regional innovation ecosystems, 2016–)."""

    name: ClassVar[str] = "innovation_ecosystem_producers"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1: 5th Basic Plan, 지역혁신 에코시스템 형성 프로그램 ('16~), 지역대학 사업 프로듀스팀 (university producer teams)"
    )
    mechanism: ClassVar[str] = (
        "producer teams turn university research into firms → more university spin-offs (spinoff_multiplier) and more university research"
    )
    Params: ClassVar[type[LeverParams]] = EcosystemParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        research = university_research(model)
        spend = split_by_weight(budget_krw, region_weights(self, model, research))
        rate = model.params.universities.spinoffs_per_trillion_krw_research
        baseline_spinoffs = research / 1e12 * rate
        extra = spend * p.producer_team_share / p.krw_per_spinoff
        effects.spinoff_multiplier *= 1.0 + np.divide(extra, baseline_spinoffs, out=np.zeros(model.n_regions), where=baseline_spinoffs > 0)
        effects.university_research_krw += spend * p.research_share
        return spend


class CoreUniversityParams(LeverParams):
    """Budget split between research, education and youth retention at regional core universities, and their unit costs."""

    research_share: float = budget_share_field(
        0.5, "share of the budget added to university research (plus what the other channels cannot use)"
    )
    education_share: float = budget_share_field(0.3, "share of the budget funding additional student places")
    retention_share: float = budget_share_field(0.2, "share of the budget for keeping young people in the region (local jobs, careers)")
    krw_per_student_year: float = lever_field(
        round(EAG_TERTIARY_USD_PPP * KRW_PER_USD_PPP, -5),
        "KRW per student-year of an added place: Korea's spending per tertiary student, 14,695 USD PPP in 2022, at "
        "purchasing-power parity (≈ 12.2 m KRW)",
        range=(1e7, 1.8e7),
        gt=0,
        evidence=f"{EDUCATION_AT_A_GLANCE_2025}: 14,695 USD PPP per tertiary student, 68 % of the OECD average (21,444); includes R&D spending",
    )
    krw_per_retained_youth: float = cost_per_retained_youth_field()

    @model_validator(mode="after")
    def _shares(self) -> CoreUniversityParams:
        return shares_sum_to_one(self, "research_share", "education_share", "retention_share")


@register
@dataclass
class RegionalCoreUniversities(Lever):
    """Regional core research universities: more research, more students, young people kept (Japan, 2021–)."""

    name: ClassVar[str] = "regional_core_universities"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, table 1: 6th Basic Plan, 지역 중심 특색있는 연구대학 종합 진흥 패키지 ('21~) and 지역의 핵심대학 혁신창출환경 강화 사업 ('22~)"
    )
    mechanism: ClassVar[str] = (
        "regional core universities do more research, admit more students (entry_rate_extra) and keep young people in the region (youth_leave_multiplier)"
    )
    Params: ClassVar[type[LeverParams]] = CoreUniversityParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        spend = split_by_weight(budget_krw, region_weights(self, model, university_research(model)))
        cost_per_entrant = p.krw_per_student_year * mean_programme_years(model)
        rate, entrants = entry_rate_gain(model, spend * p.education_share / cost_per_entrant)
        factor, retention = youth_retention(model, spend * p.retention_share, p.krw_per_retained_youth)
        research = spend - entrants * cost_per_entrant - retention  # money no student or leaver can use goes to research
        effects.university_research_krw += research
        effects.entry_rate_extra += rate
        effects.youth_leave_multiplier *= factor
        return spend


class PartnershipParams(LeverParams):
    """Budget split between local services, youth retention and collaboration, and their unit costs."""

    amenity_share: float = budget_share_field(
        0.4,
        "share of the budget for local services (health data, remote maternal care, smart agriculture), plus what the other channels cannot use",
    )
    retention_share: float = budget_share_field(
        0.3, "share of the budget for local youth (Tsuruoka: high-school students as research assistants, local jobs after study)"
    )
    collaboration_share: float = budget_share_field(0.3, "share of the budget for firm–university collaboration")
    krw_per_resident_per_amenity_unit: float = cost_per_amenity_field()
    krw_per_retained_youth: float = cost_per_retained_youth_field()
    krw_per_collaboration: float = cost_per_collaboration_field()

    @model_validator(mode="after")
    def _shares(self) -> PartnershipParams:
        return shares_sum_to_one(self, "amenity_share", "retention_share", "collaboration_share")


@register
@dataclass
class UniversityMunicipalityPartnership(Lever):
    """A university working with its municipality (Japan: Hirosaki, Iwamizawa...)."""

    name: ClassVar[str] = "university_municipality_partnership"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 3, table 3: 산학관 제휴 — Hirosaki (health big data), Iwamizawa (smart agri-city, remote maternal check-ups), Tsuruoka (science park, local high-school students)"
    )
    mechanism: ClassVar[str] = (
        "a university working with its municipality improves local services (amenity), keeps local youth (youth_leave_multiplier) and links firms to research (partner_share_extra)"
    )
    Params: ClassVar[type[LeverParams]] = PartnershipParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        spend = split_by_weight(budget_krw, region_weights(self, model, population(model)))
        factor, retention = youth_retention(model, spend * p.retention_share, p.krw_per_retained_youth)
        share, collaboration = collaboration_share(model, spend * p.collaboration_share, p.krw_per_collaboration)
        amenity = spend - retention - collaboration  # money no leaver or R&D firm can use goes to local services
        effects.amenity += amenity_gain(model, amenity, p.krw_per_resident_per_amenity_unit)
        effects.youth_leave_multiplier *= factor
        effects.partner_share_extra += share
        return spend
