"""The lever framework: what a policy lever is, what it may shift, and how its money is counted.

A lever is a small class registered under a scenario name. Each simulated year in which it is
active (``start <= year <= end``), the model calls ``Lever.apply``, which

- reads the model's state (firms, persons, regions) without changing it,
- writes its effects into the year's ``PolicyEffects`` (the only channel into the mechanisms),
- returns what it spent by region (KRW), never more than its yearly budget.

Levers draw random numbers only from ``model.policy_rng``, a stream separate from the model's
own, so a lever that spends nothing leaves a run identical to the baseline with the same seed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.errors import ScenarioError

if TYPE_CHECKING:
    from sim.model import RegionalModel
    from sim.scenario import LeverSpec


@dataclass
class PolicyEffects:
    """This year's lever effects, reset every year; read by the mechanisms that own each channel.

    Arrays over firms are indexed like ``model.firms`` at the start of the year; arrays over regions
    like ``model.regions``. Neutral values: 0 for additions, 1 for multipliers, False for links.
    """

    rd_subsidy_krw: np.ndarray  # [firms] publicly supported R&D per establishment this year, incl. co-funding (KRW)
    productivity_gain: np.ndarray  # [firms] one-off proportional productivity rise this year
    extra_jobs: np.ndarray  # [firms] added desired employment per establishment (worker agents, persistent)
    startup_multiplier: np.ndarray  # [regions] multiplier on the startup rate
    young_exit_multiplier: np.ndarray  # [regions] multiplier on young firms' exit hazard
    spillover_multiplier: np.ndarray  # [regions] multiplier on the knowledge-spillover term
    university_research_krw: np.ndarray  # [regions] added university research (KRW per year)
    partner_share_extra: np.ndarray  # [regions] added share of R&D firms collaborating with universities
    spinoff_multiplier: np.ndarray  # [regions] multiplier on university spin-offs
    entry_rate_extra: np.ndarray  # [regions] added higher-education entry rate (vocational colleges)
    youth_leave_multiplier: np.ndarray  # [regions] multiplier on the leaving probability at ages 15–34
    amenity: np.ndarray  # [regions] utility shift of the region as a destination (migration logit units)
    relationship_persons: np.ndarray  # [regions] persons with ties to the region (adds to migration ties)
    commuting_links: np.ndarray  # [regions, regions] extra pairs whose labour markets are joined
    supported_establishments: np.ndarray  # [firms] establishments the lever being applied supports directly (ledger)
    remote_work_share: float = 0.0  # share of employed movers who keep their job (remote work)

    @classmethod
    def neutral(cls, n_firms: int, n_regions: int) -> PolicyEffects:
        zeros, ones = np.zeros(n_regions), np.ones(n_regions)
        return cls(
            rd_subsidy_krw=np.zeros(n_firms),
            productivity_gain=np.zeros(n_firms),
            extra_jobs=np.zeros(n_firms),
            startup_multiplier=ones.copy(),
            young_exit_multiplier=ones.copy(),
            spillover_multiplier=ones.copy(),
            university_research_krw=zeros.copy(),
            partner_share_extra=zeros.copy(),
            spinoff_multiplier=ones.copy(),
            entry_rate_extra=zeros.copy(),
            youth_leave_multiplier=ones.copy(),
            amenity=zeros.copy(),
            relationship_persons=zeros.copy(),
            commuting_links=np.zeros((n_regions, n_regions), bool),
            supported_establishments=np.zeros(n_firms),
        )


class LeverParams(BaseModel):
    """Effect parameters of a lever; subclasses declare fields with cited defaults."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Lever:
    """One configured lever of a scenario. Subclasses set the class attributes and ``apply``."""

    name: ClassVar[str]
    country: ClassVar[str]  # "korea" or "japan": where the programme comes from
    case: ClassVar[str]  # seed file and section, e.g. "003, programme table: 지역주력산업 R&D"
    mechanism: ClassVar[str]  # what it shifts in the agents, in one sentence
    Params: ClassVar[type[LeverParams]] = LeverParams

    spec: LeverSpec
    params: LeverParams
    label: str = field(default="")

    def __post_init__(self) -> None:
        self.label = self.spec.label or self.name

    def active(self, year: int) -> bool:
        return self.spec.start <= year <= self.spec.end

    def apply(self, model: RegionalModel, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Write this year's effects; return spending by region (KRW, summing to at most ``budget_krw``)."""
        raise NotImplementedError

    # --- helpers shared by levers ----------------------------------------------------------
    def target_regions(self, model: RegionalModel) -> np.ndarray:
        """Boolean mask over regions: the lever's ``regions:`` and ``region_type:`` together."""
        return model.region_mask(self.spec.regions, self.spec.region_type)

    def target_firms(self, model: RegionalModel, industries: tuple[str, ...] = ()) -> np.ndarray:
        """Boolean mask over firms in target regions and in ``industries:`` (or the lever's own default set)."""
        wanted = self.spec.industries or list(industries)
        return model.firm_mask(self.target_regions(model), wanted)


REGISTRY: dict[str, type[Lever]] = {}
"""Scenario name -> lever class."""


def register(cls: type[Lever]) -> type[Lever]:
    """Class decorator adding a lever to the registry under ``cls.name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"lever name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def lever_class(name: str, where: str) -> type[Lever]:
    """The registered class called ``name``; a ScenarioError naming the closest valid name otherwise."""
    import sim.levers  # noqa: F401  (registers the catalogue)

    if name not in REGISTRY:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; see `regsim levers` for the {len(REGISTRY)} levers"
        raise ScenarioError(f"{where}: unknown lever {name!r}{hint}")
    return REGISTRY[name]


def build_lever(spec: LeverSpec, where: str) -> Lever:
    """A configured lever; its effect parameters are validated against the lever's ``Params``."""
    cls = lever_class(spec.lever, f"{where}.lever")
    try:
        params = cls.Params.model_validate(spec.params)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(key, list(cls.Params.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(cls.Params.model_fields) or 'none'}"
            raise ScenarioError(f"{where}.params.{key}: unknown parameter of lever {spec.lever!r}{hint}") from None
        raise ScenarioError(f"{where}.params.{key}: {error['msg']} (found {error.get('input')!r})") from None
    return cls(spec=spec, params=params)


def describe_params(cls: type[Lever]) -> dict[str, Any]:
    """Effect parameters of a lever class with their defaults and descriptions (for `regsim levers`)."""
    return {
        name: {"default": field.default, "description": field.description or ""}
        for name, field in cls.Params.model_fields.items()
    }


def allocate_grants(
    model: RegionalModel,
    eligible: np.ndarray,
    budget_krw: float,
    cap_per_establishment_krw: float,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Grants to eligible firms in a random order (``model.policy_rng``) until the budget runs out.

    Each firm agent stands for ``model.scale`` establishments, each receiving at most
    ``cap_per_establishment_krw``; ``weights`` (e.g. R&D) make heavier firms likelier to come first.
    Returns (grant per establishment [firms], spending by region [regions]), spending ≤ budget.
    """
    grant = np.zeros(len(model.firms))
    candidates = np.flatnonzero(eligible)
    if budget_krw <= 0 or len(candidates) == 0 or cap_per_establishment_krw <= 0:
        return grant, np.zeros(model.n_regions)
    if weights is None:
        order = model.policy_rng.permutation(candidates)
    else:
        keys = model.policy_rng.random(len(candidates)) ** (1.0 / np.maximum(weights[candidates], 1e-12))
        order = candidates[np.argsort(-keys)]  # weighted sampling without replacement (Efraimidis–Spirakis)
    cost_per_firm = cap_per_establishment_krw * model.scale
    funded = int(min(len(order), budget_krw // cost_per_firm))
    grant[order[:funded]] = cap_per_establishment_krw
    remainder = budget_krw - funded * cost_per_firm
    if funded < len(order) and remainder > 0:
        grant[order[funded]] = remainder / model.scale
    spending = np.bincount(model.firms.region, weights=grant * model.scale, minlength=model.n_regions)
    return grant, spending


def split_by_weight(budget_krw: float, weights: np.ndarray) -> np.ndarray:
    """A budget split over regions in proportion to ``weights`` (zero where weights are zero)."""
    total = weights.sum()
    return budget_krw * weights / total if total > 0 else np.zeros_like(weights, dtype=float)


@dataclass
class ProjectPortfolio:
    """Multi-year grant projects of one lever, followed by firm ``uid`` across years.

    Each year the running projects of surviving firms are paid first; what is left of the budget
    funds new projects (``allocate_grants``) that run for ``duration`` years. If running projects
    alone exceed the budget, every payment is cut in proportion, so spending never exceeds it.
    """

    duration: int
    uid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    grant: np.ndarray = field(default_factory=lambda: np.zeros(0))  # KRW per establishment per year
    last_year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def pay(
        self,
        model: RegionalModel,
        eligible: np.ndarray,
        budget_krw: float,
        cap_per_establishment_krw: float,
        weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Grant per establishment [firms] and spending by region [regions] for ``model.year``."""
        firms = model.firms
        running = (self.last_year >= model.year) & (firms.index_of(self.uid) >= 0)
        self.uid, self.grant, self.last_year = self.uid[running], self.grant[running], self.last_year[running]
        index = firms.index_of(self.uid)
        committed = self.grant.sum() * model.scale
        cut = min(1.0, budget_krw / committed) if committed > 0 else 1.0
        grant = np.zeros(len(firms))
        grant[index] = self.grant * cut
        still_eligible = eligible.copy()
        still_eligible[index] = False
        remaining = budget_krw - committed if cut >= 1.0 else 0.0  # a cut budget funds no new projects
        new_grant, _ = allocate_grants(model, still_eligible, remaining, cap_per_establishment_krw, weights)
        new = np.flatnonzero(new_grant > 0)
        self.uid = np.concatenate((self.uid, firms.uid[new]))
        self.grant = np.concatenate((self.grant, new_grant[new]))
        self.last_year = np.concatenate((self.last_year, np.full(len(new), model.year + self.duration - 1)))
        grant += new_grant
        spending = np.bincount(firms.region, weights=grant * model.scale, minlength=model.n_regions)
        return grant, spending


def population(model: RegionalModel) -> np.ndarray:
    """Residents by region (persons)."""
    return model.talent.count_by_region(model.n_regions).astype(float) * model.scale


def business_rd_krw(model: RegionalModel) -> np.ndarray:
    """Business R&D by region at the firms' current employment (KRW per year)."""
    firms = model.firms
    rd = firms.rd_krw(firms.employees(model.talent.employer))
    return np.bincount(firms.region, weights=rd, minlength=model.n_regions) * model.scale
