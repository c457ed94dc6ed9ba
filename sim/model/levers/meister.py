"""Meister-type vocational high schools (seed 002, policy implications).

Seed 002 (KISTEP 2023 brief on Japan's regional S&T policy) recommends that regional specialised
high schools teach what local industry needs, with industry partnerships and direct job links, and
cites Gyeongbuk Bio Meister High School: over 95 % of graduates employed three years in a row.

Mechanism: funded school places (at a cost per student place) keep their students and recent
graduates in the region — young people's leaving probability falls in proportion to the share of
the region's 15-34-year-olds who are Meister students or graduates — and Meister graduates start
work rather than entering higher education at 18 (선취업 후진학), lowering the entry rate slightly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.model.levers.base import (
    EAG_SECONDARY_USD_PPP,
    EDUCATION_AT_A_GLANCE_2025,
    KRW_PER_USD_PPP,
    Lever,
    LeverParams,
    PolicyEffects,
    lever_field,
    register,
    split_by_weight,
)
from sim.model.metrics import YOUTH_LEAVE_AGES

if TYPE_CHECKING:
    from sim.model.levers.view import LeverView


class MeisterParams(LeverParams):
    """Cost and length of a school place, and the changes in youth leaving and vocational entry it brings."""

    cost_per_student_place_krw: float = lever_field(
        round(EAG_SECONDARY_USD_PPP * KRW_PER_USD_PPP, -5),
        "KRW per student place and year (teaching, equipment, industry placements): Korea's spending per secondary "
        "student, 25,267 USD PPP in 2022, at purchasing-power parity (≈ 21 m KRW)",
        range=(1.5e7, 3e7),
        gt=0,
        evidence=f"{EDUCATION_AT_A_GLANCE_2025}: 25,267 USD PPP per secondary student; vocational places with equipment may cost more",
    )
    programme_years: int = lever_field(
        3, "years of study", kind="programme", ge=1, evidence="Korean high schools run three years (Elementary and Secondary Education Act)"
    )
    leave_reduction: float = lever_field(
        0.5,
        "a Meister student or graduate under 35 is this much less likely to leave the region",
        range=(0.2, 0.8),
        ge=0,
        le=1,
        assumption=True,
        evidence="seed 002: 95 %+ employment of graduates through local industry partnerships; the local share is not given",
    )
    entry_rate_change: float = lever_field(
        -0.3,
        "change in a Meister graduate's probability of entering higher education at entry age (hired on graduation, "
        "studying later while working: 선취업 후진학)",
        range=(-0.6, 0.0),
        ge=-1,
        le=1,
        assumption=True,
    )


@register
@dataclass
class MeisterSchools(Lever):
    """Meister-type vocational high schools tied to local industry."""

    name: ClassVar[str] = "meister_schools"
    country: ClassVar[str] = "korea"
    case: ClassVar[str] = (
        "002, section 4 (policy implications): Meister-type vocational high schools tied to local industry (Gyeongbuk Bio Meister, 95 %+ employment)"
    )
    mechanism: ClassVar[str] = (
        "students and graduates of funded places stay: lower youth leaving probability in target regions, slightly lower entry to higher education"
    )
    Params: ClassVar[type[LeverParams]] = MeisterParams

    graduate_cohorts: list[np.ndarray] = field(default_factory=list)  # graduates per region, one array per active year

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Places follow the target regions' persons of school age (15-17); graduates of the last
        (35 − 18) years count as young alumni."""
        p = self.params
        t = model.talent
        school_age = t.count_by_region(model.n_regions, (t.age >= 15) & (t.age < 18)).astype(float) * model.scale
        spending = split_by_weight(budget_krw, school_age * self.target_regions(model))
        places = spending / p.cost_per_student_place_krw
        graduates = places / p.programme_years
        self.graduate_cohorts = [*self.graduate_cohorts, graduates][-(YOUTH_LEAVE_AGES.stop - 18) :]
        young = (
            t.count_by_region(model.n_regions, (t.age >= YOUTH_LEAVE_AGES.start) & (t.age < YOUTH_LEAVE_AGES.stop)).astype(float)
            * model.scale
        )
        covered = np.divide(places + np.sum(self.graduate_cohorts, axis=0), young, out=np.zeros(model.n_regions), where=young > 0)
        effects.youth_leave_multiplier *= 1.0 - p.leave_reduction * np.minimum(covered, 1.0)
        entry_age = int(model.params.universities.entry_age)
        cohort = t.count_by_region(model.n_regions, t.age == entry_age).astype(float) * model.scale
        graduate_share = np.divide(graduates, cohort, out=np.zeros(model.n_regions), where=cohort > 0)
        effects.entry_rate_extra += p.entry_rate_change * np.minimum(graduate_share, 1.0)
        return spending
