"""Budget-to-effect conversions shared by the Japanese lever families (seed 002).

Each function turns KRW spent in a region into the size of one ``PolicyEffects`` channel through
an explicit unit cost (KRW per collaboration, per retained young person, per student, …), so
outcomes can be read per won. Where a channel saturates (every R&D firm already collaborates,
every young leaver already kept), the functions also return the spending actually used, never
more than was allocated: money that would buy nothing is not spent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model.levers.base import business_rd_krw, lever_field, population
from sim.model.mechanisms.education import SECONDARY
from sim.model.metrics import YOUTH_LEAVE_AGES

if TYPE_CHECKING:
    from sim.model.levers.base import Lever, LeverParams
    from sim.model.levers.view import LeverView

RD_INDUSTRIES = ("C", "J", "M")
"""KSIC sections that perform R&D in the model (parameters ``firms.rd_industries``)."""


def cost_per_retained_youth_field() -> Any:
    return lever_field(
        3e7,
        "KRW per young person (15–34) kept from leaving the region for a year: order of a year of local youth "
        "settlement support (housing, job guarantee, stipend)",
        range=(1e7, 1e8),
        gt=0,
        assumption=True,
    )


def cost_per_collaboration_field() -> Any:
    return lever_field(
        3e7,
        "KRW per firm–university collaboration-year (a share of a coordinator's salary plus a small joint project)",
        range=(1e7, 1e8),
        gt=0,
        assumption=True,
    )


def cost_per_amenity_field() -> Any:
    return lever_field(
        2e6,
        "KRW per resident per unit of amenity (migration-utility units; 0.05 ≈ 5 % higher odds of being chosen as "
        "destination): 100,000 KRW per resident-year buys +0.05",
        range=(5e5, 1e7),
        gt=0,
        assumption=True,
    )


def networking_leverage_field(default: float) -> Any:
    return lever_field(
        default,
        "KRW of business R&D the spillover term gains per KRW of networking support (above the 1:1 of a direct R&D grant)",
        range=(0.5, 5.0),
        ge=0,
        assumption=True,
        evidence="Nishimura & Okamuro (2011, Res. Policy 40(5):714-727), abstract: in Japan's Industrial Cluster Project "
        "indirect networking support had an extensive, strong impact on output, direct R&D support only a weak one; "
        "the ratio is not estimated",
    )


def budget_share_field(default: float, description: str) -> Any:
    """A share of a multi-channel lever's budget; the shares are validated to add up to one, so they
    are settings without a range (vary them together, as a split)."""
    return lever_field(default, description, kind="setting", ge=0, le=1, assumption=True)


def shares_sum_to_one(params: LeverParams, *names: str) -> LeverParams:
    """Validator body: the budget shares ``names`` of a multi-channel lever add up to one."""
    total = sum(getattr(params, name) for name in names)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"budget shares {', '.join(names)} must add up to 1 (found {total:g})")
    return params


def region_weights(lever: Lever, model: LeverView, base: np.ndarray) -> np.ndarray:
    """``base`` over the lever's target regions (0 elsewhere); with ``region_type:
    population_decline_areas`` also weighted by the share of residents living in decline areas."""
    weights = np.where(lever.target_regions(model), base, 0.0).astype(float)
    if lever.spec.region_type == "population_decline_areas":
        weights *= model.pack.decline_area_share
    return weights


def rd_establishments(model: LeverView, firm_mask: np.ndarray | None = None) -> np.ndarray:
    """R&D-performing establishments by region (optionally only among ``firm_mask``)."""
    performs = model.firms.rd_intensity > 0
    if firm_mask is not None:
        performs &= firm_mask
    return model.firms.count_by_region(model.n_regions, performs).astype(float)


def collaboration_share(model: LeverView, spend_krw: np.ndarray, krw_per_collaboration: float) -> tuple[np.ndarray, np.ndarray]:
    """Added share of R&D firms collaborating with a university, and spending used, by region.

    One funded collaboration (KRW ``krw_per_collaboration`` a year) links one more R&D-performing
    establishment to a university, up to all of the region's R&D performers.
    """
    performers = rd_establishments(model)
    base = model.params.universities.partner_share_of_rd_firms
    used = np.minimum(spend_krw, (1.0 - base) * performers * krw_per_collaboration)
    share = np.divide(used, krw_per_collaboration * performers, out=np.zeros(model.n_regions), where=performers > 0)
    return share, used


def spillover_factor(model: LeverView, spend_krw: np.ndarray, rd_equivalent_per_krw: float) -> np.ndarray:
    """Multiplier on the regional spillover term from networking money.

    The spillover term is proportional to the region's business R&D (``innovation.regional_spillover``);
    networking support worth ``rd_equivalent_per_krw`` KRW of business R&D per KRW spent raises it
    as that much more R&D would. Regions without business R&D get no spillover gain.
    """
    rd = business_rd_krw(model)
    gain = np.divide(rd_equivalent_per_krw * spend_krw, rd, out=np.zeros(model.n_regions), where=rd > 0)
    return 1.0 + gain


def young_leavers(model: LeverView) -> np.ndarray:
    """Expected leavers aged 15–34 by region this year at the baseline leaving probabilities (persons)."""
    young = model.talent.pyramid(model.n_regions).sum(axis=1)[:, YOUTH_LEAVE_AGES]
    return (young * model.move_probability[:, YOUTH_LEAVE_AGES]).sum(axis=1) * model.scale


def youth_retention(model: LeverView, spend_krw: np.ndarray, krw_per_retained_person: float) -> tuple[np.ndarray, np.ndarray]:
    """Multiplier on the leaving probability at ages 15–34, and spending used, by region.

    Each ``krw_per_retained_person`` keeps one young person from leaving this year, up to all of
    the region's expected young leavers.
    """
    leavers = young_leavers(model)
    used = np.minimum(spend_krw, leavers * krw_per_retained_person)
    kept = used / krw_per_retained_person
    factor = 1.0 - np.divide(kept, leavers, out=np.zeros(model.n_regions), where=leavers > 0)
    return factor, used


def amenity_gain(model: LeverView, spend_krw: np.ndarray, krw_per_resident_per_unit: float) -> np.ndarray:
    """Amenity (migration-utility units) bought by ``spend_krw``: KRW per resident per unit of amenity."""
    residents = population(model)
    return np.divide(spend_krw, residents * krw_per_resident_per_unit, out=np.zeros(model.n_regions), where=residents > 0)


def entry_cohort(model: LeverView) -> np.ndarray:
    """Persons reaching the higher-education entry age this year without tertiary study, by region."""
    t, p = model.talent, model.params.universities
    candidates = (t.age == p.entry_age - 1) & ~t.studying & (t.education == SECONDARY)  # before this year's ageing
    return t.count_by_region(model.n_regions, candidates).astype(float) * model.scale


def entry_rate_gain(model: LeverView, entrants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Added higher-education entry rate from ``entrants`` extra students a year, and the entrants
    that fit (the entry rate cannot exceed one), by region."""
    cohort = entry_cohort(model)
    room = (1.0 - model.params.universities.higher_education_entry_rate) * cohort
    fitted = np.minimum(entrants, room)
    return np.divide(fitted, cohort, out=np.zeros(model.n_regions), where=cohort > 0), fitted


def expected_startups(model: LeverView) -> np.ndarray:
    """Baseline startups a year by region (birth rate × establishments)."""
    establishments = model.firms.count_by_region(model.n_regions).astype(float)
    return model.params.firms.birth_rate * establishments


def startup_factor(model: LeverView, extra_startups: np.ndarray) -> np.ndarray:
    """Multiplier on the startup rate that adds ``extra_startups`` establishments a year, by region."""
    expected = expected_startups(model)
    return 1.0 + np.divide(extra_startups, expected, out=np.zeros(model.n_regions), where=expected > 0)


def tradable_job_shares(model: LeverView, eligible: np.ndarray, jobs: np.ndarray) -> np.ndarray:
    """``extra_jobs`` per firm agent (persons) placing ``jobs`` persons per region on ``eligible``
    firms in proportion to their workers."""
    firms = model.firms
    weight = np.where(eligible, firms.workers(), 0.0)
    by_region = np.bincount(firms.region, weights=weight, minlength=model.n_regions)
    per_unit = np.divide(jobs, by_region, out=np.zeros(model.n_regions), where=by_region > 0)
    return weight * per_unit[firms.region]
