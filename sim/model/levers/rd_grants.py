"""R&D grants to firms: the 2023 regional-industry R&D instruments of seed 003.

Seed 003 (2023 1st Regional Economy Committee, 붙임 programme table) lists the instruments with
their 2023 budgets, project length, cap per firm per year and government co-funding rate:

| instrument | budget 2023 | years | cap per firm-year | co-funding |
| --- | --- | --- | --- | --- |
| 지역주력산업 자유공모형 R&D (key-industry R&D, free call) | 68.8 bn KRW | 2 | 0.2 bn | 80 % |
| 지역주력산업 지정공모형 R&D (designated items) | 10.8 bn | 2 | 0.4 bn | 80 % |
| 지역혁신선도기업 R&D (regional innovation leading firms) | 8.3 bn | 3 | 0.3 bn | 80 % |
| 지역스타기업 (regional star firms, new projects) | 23.4 bn | 2 | 0.2 bn | 80 % |

Mechanism: a grant pays ``cofunding_rate`` of a project whose rest the firm co-funds, so the
project's R&D (grant / cofunding_rate) is added to the funded establishment's R&D (``PolicyEffects.
rd_subsidy_krw``) for the project's years; how much of it is additional R&D is
``innovation.rnd_subsidy_additionality`` (Dimos & Pugh 2016: about one for one, no crowding out).
More R&D raises expected innovations (knowledge production), hence productivity and, for tradable
firms, jobs. Spending counts the grant only.

Evaluations of Korea's SME R&D grants bear on the model's innovation parameters rather than on
these programme terms: Lee & Jo (2018, KDI J. Econ. Policy 40(4):47-63, abstract) find more R&D,
IP registrations and investment but no gain in value added, sales or profit; Oh & Hwang (2024,
J. Knowl. Econ. 15(1):518-546, abstract) find employment gains in manufacturing SMEs, not in
service SMEs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from sim.model.levers.base import (
    Lever,
    LeverParams,
    PolicyEffects,
    ProjectPortfolio,
    lever_field,
    register,
)

SME_MAX_WORKERS = 300
"""Manufacturing SMEs have fewer than 300 regular workers (Framework Act on SMEs, Enforcement Decree, Annex 1)."""

RD_INDUSTRIES = ("C", "J", "M")


SEED_003_TABLE = "seed 003, 붙임 table '23년도 지역특화산업육성 내역사업'"
"""Where the R&D instruments' terms come from; the table notes that years and government share are maxima."""


class GrantParams(LeverParams):
    """Grant cap per firm, project length, co-funding rate and eligibility of a regional R&D grant programme."""

    cap_per_firm_krw: float = lever_field(
        2e8,
        "grant cap per firm per year (KRW); actual grants may be smaller",
        kind="programme",
        range=(1e8, 2e8),
        ge=0,
        evidence=f"{SEED_003_TABLE}: 지원 한도 연 2억 (free call)",
    )
    project_years: int = lever_field(
        2,
        "project length (years); the table gives the maximum",
        kind="programme",
        ge=1,
        evidence=f"{SEED_003_TABLE}: 지원 기간 2년 (maximum)",
    )
    cofunding_rate: float = lever_field(
        0.8,
        "government share of project cost; the table gives the maximum, lower shares mean more co-funding by the firm",
        kind="programme",
        range=(0.6, 0.8),
        gt=0,
        le=1,
        evidence=f"{SEED_003_TABLE}: 지원금 비중 80 % (maximum; the low end is an assumption)",
    )
    smes_only: bool = lever_field(
        True,
        "only establishments under 300 workers (SME definition)",
        kind="setting",
        evidence="seed 003: 지역주력산업 R&D 신청대상 중소기업; Framework Act on SMEs, Enforcement Decree, Annex 1 (manufacturing < 300 workers)",
    )


@dataclass
class _GrantLever(Lever):
    """Grants to R&D-performing SMEs in target regions and industries, as multi-year projects."""

    portfolio: ProjectPortfolio | None = field(default=None)
    prefer: ClassVar[str] = "random"  # "random" or "productivity" (star firms: the most productive first)

    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        if self.portfolio is None:
            self.portfolio = ProjectPortfolio(duration=p.project_years)
        firms = model.firms
        eligible = self.target_firms(model, RD_INDUSTRIES) & (firms.rd_intensity > 0)
        if p.smes_only:
            eligible &= firms.size < SME_MAX_WORKERS  # workers per establishment
        weights = firms.productivity if self.prefer == "productivity" else None
        grants = self.portfolio.pay(model, self.label, eligible, budget_krw, p.cap_per_firm_krw, weights)
        effects.fund_rd(grants, p.cofunding_rate)
        return grants.spending


@register
@dataclass
class KeyIndustryRnD(_GrantLever):
    """Key-industry R&D grants for SMEs, free call (지역주력산업 육성 R&D)."""

    name: ClassVar[str] = "key_industry_rnd"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, programme table: 지역주력산업 육성 R&D, free call (68.8 bn KRW, 2 years, ≤0.2 bn/yr, 80 %)"
    mechanism: ClassVar[str] = "public R&D for SMEs of the region's key industries → R&D, innovations, productivity"
    Params: ClassVar[type[LeverParams]] = GrantParams


class DesignatedItemParams(GrantParams):
    """Grant terms of larger projects on items designated by the region."""

    cap_per_firm_krw: float = lever_field(
        4e8,
        "grant cap per firm per year (KRW); actual grants may be smaller",
        kind="programme",
        range=(2e8, 4e8),
        ge=0,
        evidence=f"{SEED_003_TABLE}: 품목지정 지원 한도 연 4억",
    )


@register
@dataclass
class DesignatedItemRnD(_GrantLever):
    """R&D grants for items designated by the region (지역주력산업 지정공모형 R&D)."""

    name: ClassVar[str] = "designated_item_rnd"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, programme table: 지역주력산업 지정공모형 R&D (10.8 bn KRW, 2 years, ≤0.4 bn/yr, 80 %)"
    mechanism: ClassVar[str] = "larger R&D projects on items designated by the region → R&D, innovations, productivity"
    Params: ClassVar[type[LeverParams]] = DesignatedItemParams


class LeadingFirmParams(GrantParams):
    """Grant terms of three-year projects for the region's most productive SMEs."""

    cap_per_firm_krw: float = lever_field(
        3e8,
        "grant cap per firm per year (KRW); actual grants may be smaller",
        kind="programme",
        range=(1.5e8, 3e8),
        ge=0,
        evidence=f"{SEED_003_TABLE}: 지역혁신 선도기업 지원 한도 연 3억",
    )
    project_years: int = lever_field(
        3,
        "project length (years); the table gives the maximum",
        kind="programme",
        ge=1,
        evidence=f"{SEED_003_TABLE}: 지원 기간 3년 (maximum)",
    )


@register
@dataclass
class RegionalLeadingFirmRnD(_GrantLever):
    """Three-year R&D grants for regional leading SMEs (지역혁신선도기업 R&D)."""

    name: ClassVar[str] = "regional_leading_firm_rnd"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, programme table: 지역혁신선도기업 R&D (8.3 bn KRW, 3 years, ≤0.3 bn/yr, 80 %)"
    mechanism: ClassVar[str] = "three-year R&D for the region's most productive SMEs → R&D, innovations, productivity"
    Params: ClassVar[type[LeverParams]] = LeadingFirmParams
    prefer: ClassVar[str] = "productivity"


@register
@dataclass
class RegionalStarFirms(_GrantLever):
    """R&D and growth support for promising SMEs (지역스타기업 육성)."""

    name: ClassVar[str] = "regional_star_firms"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = "003, programme table: 지역스타기업 육성 (23.4 bn KRW new, 2 years, ≤0.2 bn/yr, 80 %)"
    mechanism: ClassVar[str] = "R&D and growth support for promising (most productive) SMEs → R&D, innovations, jobs"
    Params: ClassVar[type[LeverParams]] = GrantParams
    prefer: ClassVar[str] = "productivity"
