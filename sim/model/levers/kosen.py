"""KOSEN technical colleges and the KOSEN-based semiconductor talent consortium (seed 002, section 3).

Japan's 58 KOSEN (고등전문학교) train practical engineers, about 60,000 students; almost all
graduates seeking work find it (~100 %), about half of them in manufacturing, and students found
startups (TAKAO AI, IntegrAI, KiQ Robotics; DCON contest). Around TSMC's Kumamoto plant, the
Kyushu semiconductor talent consortium (7 prefectures, 45 organisations, plan to 2026) builds on
the Kyushu–Okinawa KOSEN.

Mechanisms: more young people enter (vocational) higher education in the region
(``entry_rate_extra``) and fewer leave (``youth_leave_multiplier``); graduates' manufacturing jobs
and the anchor plant add tradable jobs in manufacturing (``extra_jobs``); student startups raise
the startup rate (``startup_multiplier``). The model has one entry age (19) and a college/university
split of entrants, so KOSEN's entry at 15 into a five-year course is approximated by extra entrants
at 19 paid for five student-years each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, override

import numpy as np
from pydantic import model_validator

from sim.model.levers._japan_common import (
    budget_share_field,
    entry_cohort,
    entry_rate_gain,
    region_weights,
    shares_sum_to_one,
    startup_factor,
    tradable_job_shares,
    young_leavers,
    youth_retention,
)
from sim.model.levers.base import (
    Lever,
    LeverParams,
    PolicyEffects,
    lever_field,
    register,
    split_by_weight,
)

MANUFACTURING = ("C",)


class KosenParams(LeverParams):
    """Cost and length of a technical-college place, graduates' employment and retention, and the jobs they add."""

    krw_per_student_year: float = lever_field(
        1.5e7,
        "KRW per KOSEN student-year (≈ 1.6 m JPY at 9.31 KRW/JPY), of the order of public spending per tertiary "
        "student; seed 002 gives no budget",
        range=(8e6, 2.5e7),
        gt=0,
        assumption=True,
    )
    programme_years: int = lever_field(
        5,
        "KOSEN's five-year course",
        kind="programme",
        ge=1,
        evidence="School Education Act (学校教育法) art. 117; not in seed 002",
    )
    employment_rate: float = lever_field(
        1.0,
        "share of graduates employed",
        range=(0.9, 1.0),
        ge=0,
        le=1,
        evidence="seed 002, section 3: ~100 % of KOSEN job seekers employed",
    )
    manufacturing_share: float = lever_field(
        0.5,
        "share of employed graduates in manufacturing",
        range=(0.4, 0.6),
        ge=0,
        le=1,
        evidence="seed 002, section 3: about half of KOSEN graduates go into manufacturing",
    )
    additional_job_share: float = lever_field(
        0.5,
        "share of graduates' manufacturing jobs that are additional (firms expand where technicians are) rather than "
        "filled instead of other hires",
        range=(0.0, 1.0),
        ge=0,
        le=1,
        assumption=True,
    )
    retained_per_student: float = lever_field(
        0.1,
        "young persons (15–34) kept from leaving the region per student-year (students study locally and are recruited by local firms)",
        range=(0.0, 0.3),
        ge=0,
        assumption=True,
    )
    startups_per_thousand_students: float = lever_field(
        1.0,
        "student startups per 1,000 students per year",
        range=(0.05, 2.0),
        ge=0,
        assumption=True,
        evidence="seed 002 names four recent KOSEN startups (TAKAO AI, IntegrAI, KiQ Robotics, NanShon proposal) among "
        "~60,000 students: the named ones alone are about 0.07 per 1,000 (low end)",
    )


@register
@dataclass
class KosenColleges(Lever):
    """Technical colleges (KOSEN) training young people for local manufacturing (Japan)."""

    name: ClassVar[str] = "kosen_colleges"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 3: 고등전문학교 (KOSEN, 58 colleges, ~60,000 students, ~100 % employment, ~50 % into manufacturing, student startups)"
    )
    mechanism: ClassVar[str] = (
        "technical-college places raise vocational entry (entry_rate_extra), keep youth (youth_leave_multiplier), add manufacturing jobs (extra_jobs) and student startups"
    )
    Params: ClassVar[type[LeverParams]] = KosenParams

    @override
    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p = self.params
        spend = split_by_weight(budget_krw, region_weights(self, model, entry_cohort(model)))
        rate, entrants = entry_rate_gain(model, spend / p.krw_per_student_year / p.programme_years)
        students = entrants * p.programme_years
        graduates = entrants  # one cohort a year in steady state, credited when the places are paid
        jobs = graduates * p.employment_rate * p.manufacturing_share * p.additional_job_share
        manufacturers = self.target_firms(model, MANUFACTURING) & model.tradable[model.firms.industry]
        leavers = young_leavers(model)
        kept = np.minimum(students * p.retained_per_student, leavers)
        effects.entry_rate_extra += rate
        effects.youth_leave_multiplier *= 1.0 - np.divide(kept, leavers, out=np.zeros(model.n_regions), where=leavers > 0)
        effects.fund_jobs(tradable_job_shares(model, manufacturers, jobs), model.firms.establishments)
        effects.startup_multiplier *= startup_factor(model, students / 1000 * p.startups_per_thousand_students)
        return students * p.krw_per_student_year


class ConsortiumParams(LeverParams):
    """Budget split between anchor jobs and training, their unit costs and retention, and whether the anchor is paid once."""

    jobs_share: float = budget_share_field(
        0.9, "share of the first year's budget subsidising the anchor plant once, plus what training cannot use"
    )
    talent_share: float = budget_share_field(
        0.1, "share of the first year's budget for the KOSEN-based training consortium (later years: all of it)"
    )
    krw_per_job: float = lever_field(
        2.6e9,
        "KRW of one-off anchor subsidy per direct manufacturing job: up to 476 bn JPY to JASM (TSMC Kumamoto, first "
        "fab) for about 1,700 planned jobs ≈ 280 m JPY ≈ 2.6 bn KRW per job at 9.31 KRW/JPY",
        range=(5e8, 3e9),
        gt=0,
        evidence="Nikkei Asia, 17 Jun 2022: METI subsidy of up to 476 bn JPY for the first Kumamoto fab (the ~1,700 jobs "
        "are JASM's plan, not verified here); Kumamoto's governor counts 6,000+ jobs with ~70 related firms (CNA, Jan "
        "2026), ≈ 0.7 bn KRW per job (low end)",
    )
    krw_per_trainee_year: float = lever_field(
        1e7, "KRW per trainee-year of the consortium's courses", range=(5e6, 3e7), gt=0, assumption=True
    )
    retained_per_trainee: float = lever_field(
        0.5,
        "young persons kept from leaving the region per trainee (hired locally by the anchor and its suppliers)",
        range=(0.2, 1.0),
        gt=0,
        le=1,
        assumption=True,
    )
    anchor_once: bool = lever_field(
        True,
        "the anchor subsidy is paid once, in the lever's first active year; later years fund only training",
        kind="setting",
        evidence="Nikkei Asia, 17 Jun 2022: the JASM subsidy is a one-off capital subsidy for building the fab",
    )

    @model_validator(mode="after")
    def _shares(self) -> ConsortiumParams:
        return shares_sum_to_one(self, "jobs_share", "talent_share")


@register
@dataclass
class KosenTalentConsortium(Lever):
    """A talent consortium around an anchor plant, training on KOSEN lines (Japan: Kyushu semiconductors)."""

    name: ClassVar[str] = "kosen_talent_consortium"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = (
        "002, section 3: 규슈 반도체 인재육성 등 컨소시엄 (Kyushu semiconductor talent consortium around TSMC Kumamoto; 7 prefectures, 45 organisations, to 2026)"
    )
    mechanism: ClassVar[str] = (
        "an anchor plant adds manufacturing jobs (extra_jobs, industry C) and KOSEN-based training keeps the region's youth to fill them (youth_leave_multiplier)"
    )
    Params: ClassVar[type[LeverParams]] = ConsortiumParams

    anchor_paid: bool = field(default=False)

    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """First year: the one-off anchor subsidy and training; later years (with ``anchor_once``) the
        whole budget funds training, and what the region's young leavers cannot use is not spent."""
        p, firms = self.params, model.firms
        manufacturers = self.target_firms(model, MANUFACTURING) & model.tradable[firms.industry]
        capacity = np.bincount(firms.region[manufacturers], weights=firms.workers()[manufacturers], minlength=model.n_regions)
        spend = split_by_weight(budget_krw, region_weights(self, model, capacity))
        pays_anchor = not (p.anchor_once and self.anchor_paid)
        talent = spend * p.talent_share if pays_anchor else spend
        factor, training = youth_retention(model, talent, p.krw_per_trainee_year / p.retained_per_trainee)
        plant = spend - training if pays_anchor else np.zeros(model.n_regions)  # training money beyond the young leavers goes to the plant
        effects.fund_jobs(tradable_job_shares(model, manufacturers, plant / p.krw_per_job), firms.establishments)
        effects.youth_leave_multiplier *= factor
        self.anchor_paid = self.anchor_paid or bool(plant.sum() > 0)
        return training + plant
