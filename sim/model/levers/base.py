"""The lever framework: what a policy lever is, what it may shift, and how its money is counted.

A lever is a small class registered under a scenario name. Each simulated year in which it is
active (``start <= year <= end``), the model calls ``Lever.apply``, which

- reads the model's state (firms, persons, regions) through its ``LeverView`` (``sim/model/levers/view.py``;
  the parameter is called ``model``) without changing it,
- writes its effects into the year's ``PolicyEffects`` (the only channel into the mechanisms),
- returns what it spent by region (KRW), never more than its yearly budget.

A lever's random choices (grant lotteries) are keyed uniforms of (seed, year, the lever's label,
the establishment slot they concern), so a larger budget funds a superset of a smaller one's
recipients and a lever whose effects are zero leaves the run identical to the baseline.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError
from sim.model.crn import Purpose, identities, label_salt, smallest_keys

if TYPE_CHECKING:
    from sim.inputs.scenario import LeverSpec, Scenario
    from sim.model.levers.view import LeverView


@dataclass
class PolicyEffects:
    """This year's lever effects, reset every year; read by the mechanisms that own each channel.

    Arrays over firms are indexed like ``model.firms`` at the start of the year; arrays over regions
    in region order (``pack.codes``). Neutral values: 0 for additions, 1 for multipliers, False for links.
    """

    rd_subsidy_krw: np.ndarray  # [firms] publicly supported R&D of the firm agent this year, incl. co-funding (KRW)
    treated_establishments: np.ndarray  # [firms] establishments of the agent doing that supported R&D
    productivity_gain: np.ndarray  # [firms] one-off proportional productivity rise of the agent this year
    extra_jobs: np.ndarray  # [firms] added desired employment of the agent (persons, persistent)
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
        """Effects that change nothing: every addition 0, every multiplier 1, no link."""
        zeros, ones = np.zeros(n_regions), np.ones(n_regions)
        return cls(
            rd_subsidy_krw=np.zeros(n_firms),
            treated_establishments=np.zeros(n_firms),
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

    def fund_jobs(self, jobs: np.ndarray, establishments: np.ndarray) -> None:
        """Jobs paid for in firm agents (persons [firms]); the agents' ``establishments`` count as supported."""
        self.extra_jobs += jobs
        self.supported_establishments += np.where(jobs > 0, establishments, 0)

    def fund_rd(self, grants: Grants, cofunding_rate: float) -> None:
        """R&D projects: the grant pays ``cofunding_rate`` of each project's cost, the firm the rest."""
        self.rd_subsidy_krw += grants.krw / cofunding_rate
        self.treated_establishments += grants.establishments
        self.supported_establishments += grants.establishments


class LeverParams(BaseModel):
    """Effect parameters of a lever; subclasses declare every field with ``lever_field`` (its evidence)."""

    model_config = ConfigDict(extra="forbid")


KRW_PER_USD_PPP = 830.0
"""Assumption: KRW per USD at purchasing-power parity (GDP), 2022, of the order of the OECD/World Bank PPP
(not verified here; the Bank of Korea reported 755 for 1999 and the OECD 778 for 2002; plausible 780-900).
Converts costs measured in USD PPP (OECD Education at a Glance) or compared across countries (UK RSA)."""

EDUCATION_AT_A_GLANCE_2025 = (
    "OECD Education at a Glance 2025, indicator C1 (2022 data, as reported by Korea's Ministry of Education, 9 Sep 2025)"
)
EAG_TERTIARY_USD_PPP = 14_695
"""Korea's spending per tertiary student in 2022, USD PPP (68 % of the OECD average, 21,444; includes R&D)."""
EAG_SECONDARY_USD_PPP = 25_267
"""Korea's spending per secondary student in 2022, USD PPP."""

ParameterKind = Literal["effect", "programme", "setting"]
"""``effect``: a behavioural size or unit cost (needs a range); ``programme``: a term of the programme
(budget cap, co-funding rate, years, partner list) cited from a seed document or statute; ``setting``:
how the lever is aimed or split (targeting switch, budget shares that must add up to one)."""


def lever_field(
    default: Any,
    description: str,
    *,
    kind: ParameterKind = "effect",
    range: tuple[float, float] | None = None,
    evidence: str | None = None,
    assumption: bool = False,
    **constraints: Any,
) -> Any:
    """A lever parameter (pydantic Field) carrying its evidence in ``json_schema_extra``:
    ``{"kind", "range": [low, high] or None, "evidence": citation or None, "assumption": bool}``.

    Every parameter cites evidence (paper with table/page, seed document, statute) or is a named
    assumption; an effect parameter also gets the plausible ``range`` (same unit as the default),
    which uncertainty experiments draw from. Raises ValueError at import for a parameter without
    either, an effect without a range, or a default outside its range.
    """
    if not evidence and not assumption:
        raise ValueError(f"lever parameter ({description[:40]}…) needs evidence or assumption=True")
    if kind == "effect" and range is None:
        raise ValueError(f"effect parameter ({description[:40]}…) needs a range")
    if range is not None and not range[0] <= default <= range[1]:
        raise ValueError(f"default {default!r} outside its range {list(range)} ({description[:40]}…)")
    extra = {
        "kind": kind,
        "range": None if range is None else [float(range[0]), float(range[1])],
        "evidence": evidence,
        "assumption": assumption,
    }
    return Field(default, description=description, json_schema_extra=extra, **constraints)


@dataclass(frozen=True)
class ParameterEvidence:
    """What backs one lever parameter: its default, plausible range, citation and assumption flag."""

    default: Any
    range: tuple[float, float] | None  # (low, high) in the default's unit; None for fixed terms and settings
    evidence: str | None  # paper with table/page, seed document or statute; None for a pure assumption
    assumption: bool  # True: a named assumption (the range says how far it may be off)
    kind: ParameterKind
    description: str


def parameter_evidence(params_cls: type[LeverParams]) -> dict[str, ParameterEvidence]:
    """Evidence of every field of a lever's ``Params`` class, by field name (stable interface: the
    uncertainty experiments read ``.range`` from it). A field not built with ``lever_field`` reads as
    evidence None, assumption False, range None, so tests can catch it."""
    out = {}
    for name, info in params_cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        low_high = extra.get("range")
        out[name] = ParameterEvidence(
            default=info.default,
            range=None if low_high is None else (float(low_high[0]), float(low_high[1])),
            evidence=extra.get("evidence"),
            assumption=bool(extra.get("assumption", False)),
            kind=extra.get("kind", "effect"),
            description=info.description or "",
        )
    return out


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
        """Whether the lever spends in ``year`` (``start <= year <= end``)."""
        return self.spec.start <= year <= self.spec.end

    def apply(self, model: LeverView, effects: PolicyEffects, budget_krw: float) -> np.ndarray:
        """Write this year's effects; return spending by region (KRW, summing to at most ``budget_krw``)."""
        raise NotImplementedError

    # --- helpers shared by levers ----------------------------------------------------------
    def target_regions(self, model: LeverView) -> np.ndarray:
        """Boolean mask over regions: the lever's ``regions:`` and ``region_type:`` together; at
        ``resolution: sigungu`` the provinces holding any of the lever's target municipalities."""
        municipal = self.target_municipalities(model)
        if municipal is None:
            return model.region_mask(self.spec.regions, self.spec.region_type)
        return np.bincount(model.municipal.region[municipal], minlength=model.n_regions) > 0

    def target_municipalities(self, model: LeverView) -> np.ndarray | None:
        """Boolean mask over si-gun-gu (``resolution: sigungu``; None otherwise): the lever's ``municipalities:``
        (all if none) in its ``regions:``, of its ``region_type:`` — ``population_decline_areas`` are the 89
        designated municipalities themselves, ``capital``/``non_capital`` go by province."""
        if model.municipal is None:
            return None
        municipal = model.municipal.pack
        spec = self.spec
        chosen = np.isin(municipal.codes, spec.municipalities) if spec.municipalities is not None else np.ones(municipal.n, bool)
        province_type = "all" if spec.region_type == "population_decline_areas" else spec.region_type
        chosen &= model.region_mask(spec.regions, province_type)[municipal.region]
        return chosen & municipal.decline_area if spec.region_type == "population_decline_areas" else chosen

    def target_population(self, model: LeverView, eligible: np.ndarray | None = None) -> np.ndarray:
        """Residents of each region living in the lever's targets (persons): at ``resolution: sigungu`` in its
        target municipalities (and ``eligible`` ones, a mask over municipalities); otherwise the whole
        population of target regions."""
        municipal = self.target_municipalities(model)
        if municipal is None:
            return population(model) * self.target_regions(model)
        if eligible is not None:
            municipal = municipal & eligible
        t = model.talent
        residents = np.bincount(t.municipality, minlength=len(municipal)) * float(model.scale)
        return np.bincount(model.municipal.region, weights=residents * municipal, minlength=model.n_regions)

    def target_firms(self, model: LeverView, industries: tuple[str, ...] = ()) -> np.ndarray:
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
    import sim.model.levers  # noqa: F401  (registers the catalogue; cycle: the package imports this module)

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


def check_levers(scenario: Scenario, source: str) -> Scenario:
    """``scenario`` itself once every lever entry names a registered lever and valid effect parameters;
    otherwise a ScenarioError naming ``source`` and the field path (``levers[2].params.x: ...``)."""
    try:
        for i, spec in enumerate(scenario.levers):
            build_lever(spec, f"levers[{i}]")
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return scenario


def describe_params(cls: type[Lever]) -> dict[str, dict[str, Any]]:
    """A lever class's parameters as plain dicts (default, range, evidence, assumption, kind,
    description) for `regsim levers --json` and the report."""
    return {name: asdict(evidence) for name, evidence in parameter_evidence(cls.Params).items()}


@dataclass(frozen=True)
class Grants:
    """Grants of one lever in one year: KRW and funded establishments per firm agent, KRW by region."""

    krw: np.ndarray  # [firms] grants to the agent's establishments (KRW per year)
    establishments: np.ndarray  # [firms] establishments funded (the last one funded may be in part)
    spending: np.ndarray  # [regions] KRW


def allocate_grants(
    model: LeverView,
    label: str,
    available: np.ndarray,
    budget_krw: float,
    cap_per_establishment_krw: float,
    weights: np.ndarray | None = None,
    first_slot: np.ndarray | None = None,
) -> Grants:
    """Grants of at most ``cap_per_establishment_krw`` to single establishments, in a keyed random
    order, until the budget runs out (the last one funded gets the remainder).

    ``available`` [firms] counts each agent's establishments that may be funded (0 = not eligible);
    establishment slot j of a firm is keyed by (seed, year, lever ``label``, firm uid, j), with slots
    numbered from ``first_slot`` (slots below it already hold a project). ``weights`` [firms] (e.g.
    value added) make establishments of heavier firms likelier to come first (exponential clocks).
    The number of funded establishments is the number of projects the budget buys, whatever the scale.
    """
    firms = model.firms
    krw, funded = np.zeros(len(firms)), np.zeros(len(firms))
    available = np.asarray(available, np.int64)
    if budget_krw <= 0 or cap_per_establishment_krw <= 0 or available.sum() == 0:
        return Grants(krw, funded, np.zeros(model.n_regions))
    projects = int(np.ceil(budget_krw / cap_per_establishment_krw - 1e-9))
    agents = np.flatnonzero(available > 0)
    slot_agent = np.repeat(agents, available[agents])
    starts = np.cumsum(available[agents]) - available[agents]
    ordinal = np.arange(len(slot_agent)) - np.repeat(starts, available[agents])
    if first_slot is not None:
        ordinal = ordinal + np.asarray(first_slot, np.int64)[slot_agent]
    keys = identities(firms.uid[slot_agent], ordinal.astype(np.uint64))
    uniform = model.crn.uniforms(keys, model.year, Purpose.GRANT, salt=label_salt(label))
    weight = np.ones(len(slot_agent)) if weights is None else np.maximum(np.asarray(weights, float)[slot_agent], 1e-12)
    order = slot_agent[smallest_keys(uniform, weight, projects)]
    amount = np.full(len(order), cap_per_establishment_krw)
    if len(order) == projects:
        amount[-1] = budget_krw - cap_per_establishment_krw * (projects - 1)
    np.add.at(krw, order, amount)
    np.add.at(funded, order, amount / cap_per_establishment_krw)
    return Grants(krw, funded, np.bincount(firms.region, weights=krw, minlength=model.n_regions))


def split_by_weight(budget_krw: float, weights: np.ndarray) -> np.ndarray:
    """A budget split over regions in proportion to ``weights`` (zero where weights are zero)."""
    total = weights.sum()
    return budget_krw * weights / total if total > 0 else np.zeros_like(weights, dtype=float)


@dataclass
class ProjectPortfolio:
    """Multi-year grant projects of one lever, followed by firm ``uid`` across years.

    Each year the running projects of surviving firms are paid first (at most one per surviving
    establishment); what is left of the budget funds new projects (``allocate_grants``) that run for
    ``duration`` years. If running projects alone exceed the budget, every payment is cut in
    proportion, so spending never exceeds it.
    """

    duration: int
    uid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    establishments: np.ndarray = field(default_factory=lambda: np.zeros(0))  # funded establishments (last one in part)
    krw: np.ndarray = field(default_factory=lambda: np.zeros(0))  # KRW per year for the project(s)
    last_year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def pay(
        self,
        model: LeverView,
        label: str,
        eligible: np.ndarray,
        budget_krw: float,
        cap_per_establishment_krw: float,
        weights: np.ndarray | None = None,
    ) -> Grants:
        """This year's grants of the lever (running projects and new ones)."""
        firms = model.firms
        index = firms.index_of(self.uid)
        running = (self.last_year >= model.year) & (index >= 0)
        index = index[running]
        keep = np.minimum(self.establishments[running], firms.establishments[index])  # closed establishments end their project
        self.krw = self.krw[running] * np.divide(
            keep, self.establishments[running], out=np.zeros(len(keep)), where=self.establishments[running] > 0
        )
        self.uid, self.establishments, self.last_year = self.uid[running], keep, self.last_year[running]
        committed = self.krw.sum()
        cut = min(1.0, budget_krw / committed) if committed > 0 else 1.0
        krw, funded = np.zeros(len(firms)), np.zeros(len(firms))
        np.add.at(krw, index, self.krw * cut)
        np.add.at(funded, index, self.establishments)
        taken = np.ceil(funded - 1e-9).astype(np.int64)
        available = np.where(eligible, np.maximum(firms.establishments - taken, 0), 0)
        remaining = budget_krw - committed if cut >= 1.0 else 0.0  # a cut budget funds no new projects
        new = allocate_grants(model, label, available, remaining, cap_per_establishment_krw, weights, first_slot=taken)
        started = np.flatnonzero(new.krw > 0)
        self.uid = np.concatenate((self.uid, firms.uid[started]))
        self.establishments = np.concatenate((self.establishments, new.establishments[started]))
        self.krw = np.concatenate((self.krw, new.krw[started]))
        self.last_year = np.concatenate((self.last_year, np.full(len(started), model.year + self.duration - 1)))
        krw += new.krw
        funded += new.establishments
        return Grants(krw, funded, np.bincount(firms.region, weights=krw, minlength=model.n_regions))


def population(model: LeverView) -> np.ndarray:
    """Residents by region (persons)."""
    return model.talent.count_by_region(model.n_regions).astype(float) * model.scale


def business_rd_krw(model: LeverView) -> np.ndarray:
    """Business R&D by region at the firms' current employment (KRW per year)."""
    firms = model.firms
    rd = firms.rd_krw(firms.employees(model.talent.employer), model.scale)
    return np.bincount(firms.region, weights=rd, minlength=model.n_regions)
