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

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from sim.levers._japan_common import (
    entry_cohort,
    entry_rate_gain,
    region_weights,
    shares_sum_to_one,
    startup_factor,
    tradable_job_shares,
    young_leavers,
    youth_retention,
)
from sim.levers.base import Lever, LeverParams, PolicyEffects, register, split_by_weight

MANUFACTURING = ("C",)


class KosenParams(LeverParams):
    krw_per_student_year: float = Field(
        1.5e7, gt=0,
        description="KRW per KOSEN student-year (≈1.6 m JPY at 9.31 KRW/JPY); assumption: the seed gives no budget, order "
        "of public spending per tertiary student; vary 8e6–2.5e7",
    )
    programme_years: int = Field(5, ge=1, description="KOSEN's five-year course (MEXT); not in the seed")
    employment_rate: float = Field(1.0, ge=0, le=1, description="share of graduates employed; seed 002: ~100 % of job seekers")
    manufacturing_share: float = Field(0.5, ge=0, le=1, description="share of employed graduates in manufacturing; seed 002: ~50 %")
    additional_job_share: float = Field(
        0.5, ge=0, le=1,
        description="share of graduates' manufacturing jobs that are additional (firms expand where technicians are) rather "
        "than filled instead of other hires; assumption, vary 0–1",
    )
    retained_per_student: float = Field(
        0.1, ge=0,
        description="young persons (15–34) kept from leaving the region per student-year; assumption (students study locally "
        "and are recruited by local firms); vary 0–0.3",
    )
    startups_per_thousand_students: float = Field(
        1.0, ge=0,
        description="student startups per 1,000 students per year; assumption: seed 002 names four recent KOSEN startups "
        "(TAKAO AI, IntegrAI, KiQ Robotics, NanShon proposal) among ~60,000 students, so the national rate is lower; vary 0.1–2",
    )


@register
@dataclass
class KosenColleges(Lever):
    name: ClassVar[str] = "kosen_colleges"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = "002, section 3: 고등전문학교 (KOSEN, 58 colleges, ~60,000 students, ~100 % employment, ~50 % into manufacturing, student startups)"
    mechanism: ClassVar[str] = "technical-college places raise vocational entry (entry_rate_extra), keep youth (youth_leave_multiplier), add manufacturing jobs (extra_jobs) and student startups"
    Params: ClassVar[type[LeverParams]] = KosenParams

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
    jobs_share: float = Field(0.9, ge=0, le=1, description="share of the budget subsidising the anchor plant, plus what training cannot use; assumption")
    talent_share: float = Field(0.1, ge=0, le=1, description="share of the budget for the KOSEN-based training consortium; assumption")
    krw_per_job: float = Field(
        2.6e9, gt=0,
        description="KRW of anchor subsidy per direct manufacturing job: Japan's subsidy of up to 476 bn JPY to JASM (TSMC "
        "Kumamoto, first fab) for about 1,700 jobs ≈ 280 m JPY ≈ 2.6 bn KRW per job at 9.31 KRW/JPY (METI 2022, not in "
        "the seeds); vary 5e8–3e9",
    )
    krw_per_trainee_year: float = Field(1e7, gt=0, description="KRW per trainee-year of the consortium's courses; assumption, vary 5e6–3e7")
    retained_per_trainee: float = Field(
        0.5, gt=0, le=1,
        description="young persons kept from leaving the region per trainee (hired locally by the anchor and its suppliers); "
        "assumption, vary 0.2–1",
    )

    @model_validator(mode="after")
    def _shares(self) -> ConsortiumParams:
        return shares_sum_to_one(self, "jobs_share", "talent_share")


@register
@dataclass
class KosenTalentConsortium(Lever):
    name: ClassVar[str] = "kosen_talent_consortium"
    country: ClassVar[str] = "japan"
    case: ClassVar[str] = "002, section 3: 규슈 반도체 인재육성 등 컨소시엄 (Kyushu semiconductor talent consortium around TSMC Kumamoto; 7 prefectures, 45 organisations, to 2026)"
    mechanism: ClassVar[str] = "an anchor plant adds manufacturing jobs (extra_jobs, industry C) and KOSEN-based training keeps the region's youth to fill them (youth_leave_multiplier)"
    Params: ClassVar[type[LeverParams]] = ConsortiumParams

    def apply(self, model, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        p, firms = self.params, model.firms
        manufacturers = self.target_firms(model, MANUFACTURING) & model.tradable[firms.industry]
        capacity = np.bincount(firms.region[manufacturers], weights=firms.workers()[manufacturers], minlength=model.n_regions)
        spend = split_by_weight(budget_krw, region_weights(self, model, capacity))
        factor, training = youth_retention(model, spend * p.talent_share, p.krw_per_trainee_year / p.retained_per_trainee)
        jobs = spend - training  # training money beyond the region's young leavers goes to the plant
        effects.fund_jobs(tradable_job_shares(model, manufacturers, jobs / p.krw_per_job), firms.establishments)
        effects.youth_leave_multiplier *= factor
        return spend
