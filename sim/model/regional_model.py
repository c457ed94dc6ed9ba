"""RegionalModel: the world built from a scenario; one step is one calendar year.

The model owns the schedule. Each year, in order:

1. demography — deaths, births to mothers' region, ageing, international migration;
2. internal migration — who leaves, where to (logit over place attributes);
3. education — universities admit the entry cohort and graduate students;
4. firms — innovation, growth, closures and entry (``mechanisms.firms``);
5. labour market — separations, layoffs, matching within regions and to adjacent regions
   (``mechanisms.labour.LabourMarket``); wages respond to the year's unemployment (wage curve) and
   labour demand to wages. Before it, at the end of the firms' step, local (non-tradable) demand follows
   the residents and the local multiplier of every change in tradable jobs, and participation responds
   to the year's job openings; migrants weigh new openings, wages and the chance of a job;
6. regions update their place attributes and record the year's measures, as do the municipalities at
   ``resolution: sigungu`` (``Municipality`` agents, counted from the person arrays); the DataCollector reads them.

Persons and firms are arrays (``TalentPool``, ``FirmPopulation``): a person agent stands for
``scenario.scale`` persons, a firm agent for a cohort of up to ``scale`` establishments, and every
reported count is in persons and establishments. The start population is drawn from the model's
generator; every later random decision is keyed by (seed, year, purpose, identity) (``sim.model.crn``),
so a policy run and its baseline differ only through the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.inputs.pack import AGES, INDUSTRIES, LAST_OBSERVED_YEAR, RegionPack
from sim.inputs.parameters import Firms, Universities
from sim.inputs.scenario import Scenario
from sim.model.agents import FirmPopulation, Municipality, Region, TalentPool, University
from sim.model.agents.talent import NOT_EMPLOYED
from sim.model.crn import CommonRandomNumbers, Purpose
from sim.model.levers.base import PolicyEffects, build_lever
from sim.model.levers.view import LeverView
from sim.model.mechanisms import demography, education, labour, migration
from sim.model.mechanisms import firms as firm_rules
from sim.model.mechanisms.municipalities import Municipalities
from sim.model.metrics import MUNICIPAL_MEASURES, REGION_MEASURES, WORKING_AGES, YOUTH_LEAVE_AGES, municipal_measures, region_measures

NEWBORN_UID_BIT = np.uint64(1 << 62)
ARRIVAL_NAMESPACE = np.uint64(1 << 61)
"""Person identifiers: the start population is numbered 0…N−1; newborns get a hash of (mother,
year) with bit 62 set (the same child in paired runs); immigrants a permutation of (year, cell,
ordinal) with bit 61 set (``demography.arrival_identities``)."""


@dataclass(frozen=True)
class Arrivals:
    """This year's international arrivals (agents): age, sex, region index and identity."""

    age: np.ndarray
    sex: np.ndarray
    region: np.ndarray
    uid: np.ndarray

    @classmethod
    def none(cls) -> Arrivals:
        """No arrivals."""
        return cls(np.zeros(0, np.uint8), np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros(0, np.uint64))


class RegionalModel(mesa.Model):
    """Regions, universities, persons and firms of one country, from ``scenario.start_year``."""

    def __init__(self, scenario: Scenario, seed: int = 0, pack: RegionPack | None = None, record_firm_jobs: bool = False) -> None:
        super().__init__(rng=seed)
        self.spec = scenario  # the regsim Scenario (Mesa reserves `scenario` for its own class)
        self.seed = seed
        self.scale = scenario.scale
        self.params = scenario.resolved_parameters()
        self.pack = pack or RegionPack.load(scenario.country, scenario.start_year, scenario.data_pack)
        self.year = scenario.start_year
        self.regions = [
            Region(self, i, code, row.region_name, row.region_name_ko, bool(row.capital_region))
            for i, (code, row) in enumerate(zip(self.pack.codes, self.pack.regions.itertuples()))
        ]
        self.n_regions = len(self.regions)
        self.flows = _empty_flows(self.n_regions)
        self.crn = CommonRandomNumbers(seed)
        self.levers = [build_lever(spec, f"levers[{i}]") for i, spec in enumerate(scenario.levers)]
        self.lever_spending: list[dict] = []  # one record per (year, lever, region) with spending > 0
        self.support: list[pd.DataFrame] = []  # per (year, lever): the firms it supported directly (``support_table``)
        self.record_firm_jobs = record_firm_jobs  # keep each year's jobs by firm identity (the additionality ledger)
        self.firm_jobs: list[FirmJobs] = []
        self.municipal = (
            Municipalities(self.pack.municipalities, self.n_regions, self.params.municipalities.between_municipality_share, self.scale)
            if scenario.resolution == "sigungu"
            else None
        )  # persons placed in si-gun-gu (``resolution: sigungu``)
        self.municipalities = self._build_municipalities()
        self._build_talent()
        self._build_firms()
        self._build_universities()
        self._build_migration()
        self._calibrate_labour_market()
        start_rd = self.firms.rd_krw(self.firms.employees(self.talent.employer), self.scale)
        performer = start_rd > 0  # R_ref: mean R&D of a performing establishment at the start (KRW per year)
        self.reference_rd_krw = float(start_rd[performer].sum() / self.firms.establishments[performer].sum())
        self.effects = PolicyEffects.neutral(len(self.firms), self.n_regions)
        self.datacollector = mesa.DataCollector(
            model_reporters={"year": "year"},
            agenttype_reporters={Region: {name: _measure(name) for name in REGION_MEASURES}}
            | ({Municipality: {name: _measure(name) for name in MUNICIPAL_MEASURES}} if self.municipalities else {}),
        )
        self._record_year(initial=True)

    # --- construction ----------------------------------------------------------------------
    def _build_municipalities(self) -> list[Municipality]:
        """One Municipality agent per si-gun-gu, in the order of ``municipalities.csv`` (none at province resolution)."""
        if self.municipal is None:
            return []
        pack = self.municipal.pack
        return [
            Municipality(self, i, code, name, self.regions[region])
            for i, (code, name, region) in enumerate(zip(pack.codes, pack.names, pack.region))
        ]

    def _build_talent(self) -> None:
        """Persons from the start-year pyramid; education by the assumed attainment profile."""
        cells = self.pack.start_population if self.municipal is None else self.municipal.pack.start_population
        counts = _stochastic_round_array(cells / self.scale, self.rng).ravel()
        place, sex, age = (np.repeat(axis.ravel(), counts) for axis in np.indices(cells.shape, dtype=np.int16))
        region, municipality = (place, None) if self.municipal is None else (self.municipal.region[place], place)
        p = self.params.universities
        tertiary = np.interp(np.arange(AGES), p.attainment_profile_ages, p.attainment_profile_shares)[age]
        draw = self.rng.random(len(age), dtype=np.float32)
        college_cut = tertiary * p.college_share_of_entrants
        level = np.where(draw < college_cut, education.COLLEGE, np.where(draw < tertiary, education.UNIVERSITY, education.SECONDARY))
        uid = np.arange(len(age), dtype=np.uint64)
        participation = self.crn.uniforms(uid, self.spec.start_year, Purpose.PARTICIPATION)
        self.talent = TalentPool.new(age, sex, region, level, uid, participation, municipality)
        self._enrol_initial_students(p)

    def _enrol_initial_students(self, p: Universities) -> None:
        """Persons of study age with a tertiary level are still studying at the start."""
        t = self.talent
        years_in = t.age.astype(int) - int(p.entry_age)
        length = np.where(t.education == education.COLLEGE, p.college_programme_length_years, p.programme_length_years)
        studying = (t.education != education.SECONDARY) & (years_in >= 0) & (years_in < length)
        t.enrolled[studying] = t.education[studying]
        t.study_years_left[studying] = (length - years_in)[studying]
        t.education[studying] = education.SECONDARY

    def _build_firms(self) -> None:
        """Establishments by region × industry (2023 census) in cohorts of ``scale`` (the last of each
        cell holds the remainder, so establishments are exact), sized so jobs match EAPS employment."""
        p = self.params.firms
        establishments, workers = self.pack.establishments
        whole = np.rint(establishments).astype(np.int64).ravel()
        agents = -(-whole // self.scale)
        cell = np.repeat(np.arange(whole.size), agents)
        weight = np.full(len(cell), self.scale, np.int64)
        last = np.cumsum(agents)[agents > 0] - 1
        weight[last] = whole[agents > 0] - self.scale * (agents[agents > 0] - 1)
        region, industry = np.unravel_index(cell, establishments.shape)
        mean_size = np.divide(workers, establishments, out=np.zeros_like(workers), where=establishments > 0)
        relative = np.minimum(self.rng.pareto(p.size_distribution_pareto_exponent, len(region)) + 1.0, p.size_cap_workers)
        size = mean_size[region, industry] * relative / relative.mean()
        employed = self.pack.labour(self.spec.start_year)["employed"].to_numpy(float)
        jobs_wanted = employed * (1.0 + self.params.labour.initial_vacancy_rate)
        size *= (jobs_wanted / np.bincount(region, weights=size * weight, minlength=self.n_regions))[region]
        productivity = self._initial_productivity(region, industry, size * weight, employed)
        region, industry, weight, size, productivity, performs = self._split_performers(region, industry, weight, size, productivity)
        rd_intensity = self._initial_rd_intensity(region, weight, size, productivity, performs)
        age = _stationary_firm_ages(len(region), p, self.rng)
        uid = np.arange(len(region), dtype=np.uint64)
        offset = self.crn.uniforms(uid, self.spec.start_year, Purpose.ROUNDING)
        self.firms = FirmPopulation.new(region, industry, weight, size, productivity, rd_intensity, age, offset, uid)
        self.tradable = np.isin(np.array(INDUSTRIES), p.tradable_industries)

    def _initial_productivity(self, region, industry, firm_workers, employed) -> np.ndarray:
        """Value added per worker (KRW/year): industry factor × dispersion, scaled to regional GRDP."""
        p = self.params.firms
        _, workers = self.pack.establishments
        shares = self.pack.gva_share_by_industry  # [n_regions, n_industries]
        national_gva = (shares * self.pack.grdp_krw[:, None]).sum(axis=0)
        factor = (national_gva / national_gva.sum()) / (workers.sum(axis=0) / workers.sum())
        factor = np.clip(factor, *p.productivity_industry_factor_bounds)
        productivity = factor[industry] * self.rng.lognormal(0.0, p.productivity_dispersion, len(region))
        value_added = np.bincount(region, weights=productivity * firm_workers, minlength=self.n_regions)
        target = self.pack.grdp_krw * np.bincount(region, weights=firm_workers, minlength=self.n_regions) / employed
        return productivity * (target / value_added)[region]

    def _split_performers(self, region, industry, weight, size, productivity) -> tuple[np.ndarray, ...]:
        """Which establishments perform R&D: in each (region, R&D industry) cell, the documented
        performer share of its establishments, larger ones likelier (probability ∝ size, mean the
        share), chosen by exponential clocks over the cell's cohorts; the cohort at the boundary is
        split in two, so every cell has its expected number of performers (rounded) however coarse
        the scale. Returns the arrays with split cohorts appended and a performer flag."""
        fp = self.params.firms
        self.rd_industry = np.isin(np.array(INDUSTRIES), fp.rd_industries)
        candidates = np.flatnonzero(self.rd_industry[industry])
        mean_size = np.average(size[candidates], weights=weight[candidates])
        probability = np.minimum(fp.rnd_performing_share_in_rd_industries * size[candidates] / mean_size, 1.0)
        cell = region[candidates].astype(np.int64) * len(INDUSTRIES) + industry[candidates]
        target = np.rint(np.bincount(cell, weights=probability * weight[candidates])).astype(np.int64)
        clock = -np.log1p(-self.rng.random(len(candidates))) / probability
        order = np.lexsort((clock, cell))
        ordered_cell, ordered_weight = cell[order], weight[candidates][order]
        before = np.cumsum(ordered_weight) - ordered_weight
        before -= np.repeat(
            before[np.searchsorted(ordered_cell, np.unique(ordered_cell))], np.bincount(ordered_cell)[np.unique(ordered_cell)]
        )
        performing = np.zeros(len(region), np.int64)
        performing[candidates[order]] = np.clip(target[ordered_cell] - before, 0, ordered_weight)
        split = np.flatnonzero((performing > 0) & (performing < weight))
        rest = weight[split] - performing[split]
        weight = weight.copy()
        weight[split] = performing[split]
        performs = np.concatenate((performing > 0, np.zeros(len(split), bool)))
        arrays = [
            np.concatenate((values, extra))
            for values, extra in (
                (region, region[split]),
                (industry, industry[split]),
                (weight, rest),
                (size, size[split]),
                (productivity, productivity[split]),
            )
        ]
        return (*arrays, performs)

    def _initial_rd_intensity(self, region, establishments, size, productivity, performs) -> np.ndarray:
        """Business R&D by region spread over its R&D performers by value added: each region's
        performers share one R&D intensity, kept for performers among later entrants."""
        p = self.params
        value_added = productivity * size * establishments
        performer_va = np.bincount(region[performs], weights=value_added[performs], minlength=self.n_regions)
        business_rd = self.pack.rd_krw * p.innovation.business_share_of_rd
        self.rd_intensity_by_region = np.divide(business_rd, performer_va, out=np.zeros(self.n_regions), where=performer_va > 0)
        return np.where(performs, self.rd_intensity_by_region[region], 0.0)

    def _build_universities(self) -> None:
        share = self.params.innovation.university_share_of_rd
        self.universities = [University(self, i, self.pack.rd_krw[i] * share) for i in range(self.n_regions)]

    def _calibrate_labour_market(self) -> None:
        """Participation levels and matching efficiency reproducing EAPS in the start year.

        Participation: the assumed age profile times one factor per region so that the expected
        labour force equals EAPS. Employment: exactly EAPS employed (in agents) are placed in jobs.
        Matching: efficiency per region set so that the yearly job-finding rate keeps the observed
        unemployment rate (mean of the years available up to the start) in steady state, given the
        yearly rate at which jobs end: separations, closures of firms and moves to another region.
        """
        lp = self.params.labour
        t = self.talent
        data = self.pack.labour(self.spec.start_year)
        profile = lp.participation_age_profile.by_single_age(AGES)
        not_studying = ~t.studying
        people = np.bincount(t.region[not_studying].astype(np.int64) * AGES + t.age[not_studying], minlength=self.n_regions * AGES)
        expected = (people.reshape(self.n_regions, AGES) * profile).sum(axis=1)
        level = data["economically_active"].to_numpy(float) / self.scale / expected
        self.labour = labour.LabourMarket(lp, profile, level, np.ones(self.n_regions))
        active = self.in_labour_force = self.labour.labour_force(t)
        employed_target = _stochastic_round_array(data["employed"].to_numpy(float) / self.scale, self.rng)
        for r in range(self.n_regions):
            pool = np.flatnonzero(active & (t.region == r))
            chosen = self.rng.permutation(pool)[: employed_target[r]]
            firms = np.flatnonzero(self.firms.region == r)
            slots = np.repeat(firms, self.firms.jobs(self.scale)[firms])
            self.rng.shuffle(slots)
            t.employer[chosen[: len(slots)]] = slots[: len(chosen)]
        unemployment = self.pack.mean_unemployment_rate(self.spec.start_year)
        self.base_unemployment_rate = unemployment
        separation = lp.job_separation_rate + self._job_loss_rate_from_exits_and_moves()
        finding = separation * (1 - unemployment) / (unemployment + separation * (1 - unemployment))
        employed = t.count_by_region(self.n_regions, t.employed).astype(float)
        seekers = employed * unemployment / (1 - unemployment) + separation * employed
        vacancies = employed * lp.initial_vacancy_rate + separation * employed
        alpha = lp.matching_elasticity_unemployment
        self.labour.matching_efficiency = lp.matching_efficiency * labour.matching_efficiency_for(finding, seekers, vacancies, alpha)
        self.labour_status = t.status_by_region(self.n_regions, active)
        self.unemployment_rate = labour.unemployment_rate(self.labour_status)
        self.base_openings = self.openings_last = self._openings()

    def _job_loss_rate_from_exits_and_moves(self) -> np.ndarray:
        """Share of each region's jobs lost in a year through firm closures and workers' moves."""
        f, t = self.firms, self.talent
        hazard = self._closure_hazard(self.young_firm_hazard)
        jobs = np.bincount(f.region, weights=f.workers(), minlength=self.n_regions)
        closures = np.bincount(f.region, weights=f.workers() * np.minimum(hazard, 1.0), minlength=self.n_regions) / jobs
        employed = t.employed
        workers = t.count_by_region(self.n_regions, employed)
        moves = np.bincount(
            t.region[employed], weights=self.move_probability[t.region[employed], t.age[employed]], minlength=self.n_regions
        )
        return closures + moves / workers

    def _build_migration(self) -> None:
        mp = self.params.migration
        schedule = migration.rogers_castro(np.arange(AGES), mp.rogers_castro_shape())
        period = mp.calibration_period  # window of observed flows the rates and constants reproduce
        by_age = self.talent.pyramid(self.n_regions).sum(axis=1)
        self.move_probability = migration.move_probability_table(self.pack.migration_outflow_rate(period), by_age, schedule)
        with np.errstate(divide="ignore"):
            self.log_distance = np.log(np.where(self.pack.distance_km > 0, self.pack.distance_km, 1.0))
        self.log_ties = np.log1p(self.pack.ties_persons)
        self.mean_ties_into = self.pack.ties_persons.sum(axis=0) / (self.n_regions - 1)  # persons, per origin
        self.migration_age_group, constants = self.pack.migration_constants_by_age(period)
        self.destination_constants = constants + mp.destination_constant_shift.in_order(self.pack.codes, 0.0)  # calibration knob
        if self.municipal is not None:
            self.municipal.fit(
                self.talent.municipality,
                self.talent.age,
                self.move_probability,
                schedule,
                self.pack.international_net_migration(LAST_OBSERVED_YEAR),
            )

    # --- the year ----------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one calendar year (``self.year`` + 1) and record its measures."""
        self.year = self.spec.start_year + int(self.time)
        self.flows = _empty_flows(self.n_regions)
        if self.municipal is not None:
            self.municipal.start_year()
        self.apply_levers()
        self.apply_shocks()
        self.demography()
        self.internal_migration()
        self.education()
        self.firm_dynamics()
        self.labour_market()
        self._record_year()
        if self.year >= self.spec.end_year:
            self.running = False

    def apply_levers(self) -> None:
        """Active levers write this year's effects and spend; spending is recorded by region and lever."""
        self.effects = PolicyEffects.neutral(len(self.firms), self.n_regions)
        krw_per_jpy = self.params.policy.krw_per_jpy
        view = None  # built for the first active lever: it counts every person (none in a baseline)
        for lever in self.levers:
            budget = lever.spec.budget_krw(krw_per_jpy)
            if not lever.active(self.year) or budget <= 0:
                continue
            if view is None:
                view = self.lever_view()
            self.effects.supported_establishments[:] = 0.0
            spending = lever.apply(view, self.effects, budget)
            supported = np.flatnonzero(self.effects.supported_establishments > 0)
            if len(supported):
                self.support.append(
                    pd.DataFrame(
                        {
                            "year": self.year,
                            "lever": lever.label,
                            "firm": self.firms.uid[supported].astype(np.int64),
                            "region": np.asarray(self.pack.codes, dtype=object)[self.firms.region[supported]],
                            "establishments": self.effects.supported_establishments[supported],
                        }
                    )
                )
            self.flows["lever_spending_krw"] = self.flows["lever_spending_krw"] + spending
            self.lever_spending.extend(
                {"year": self.year, "lever": lever.label, "region": self.regions[r].code, "spending_krw": float(spending[r])}
                for r in np.flatnonzero(spending > 0)
            )
        f = self.firms
        f.size = f.size + np.divide(self.effects.extra_jobs, f.establishments, out=np.zeros(len(f)), where=f.establishments > 0)
        f.productivity = f.productivity * (1.0 + self.effects.productivity_gain)

    def apply_shocks(self) -> None:
        """Labour-demand shocks of the scenario shift the desired employment of a province's tradable firms."""
        f = self.firms
        for shock in self.spec.shocks:
            factor = np.where(np.asarray(self.pack.codes) == shock.region, shock.factor(self.year), 1.0)
            f.scale_sizes(self.tradable[f.industry], factor)

    def support_table(self) -> pd.DataFrame:
        """The firms levers supported directly: year, lever, firm (uid), region (code), establishments."""
        columns = ["year", "lever", "firm", "region", "establishments"]
        return pd.concat(self.support, ignore_index=True)[columns] if self.support else pd.DataFrame(columns=columns)

    def lever_view(self) -> LeverView:
        """What levers may read this year (``sim.model.levers.view``)."""
        return LeverView(
            year=self.year,
            n_regions=self.n_regions,
            scale=self.scale,
            params=self.params,
            pack=self.pack,
            tradable=self.tradable,
            talent=self.talent,
            firms=self.firms,
            universities=tuple(self.universities),
            crn=self.crn,
            move_probability=self.move_probability,
            young_firm_hazard=self.young_firm_hazard,
            innovations_last_year=np.array([float(region.measures.get("innovations", 0.0)) for region in self.regions]),
            working_age_by_region=self._working_age_by_region(),
            municipal=self.municipal,
        )

    def demography(self) -> None:
        """Deaths and births by region of residence, ageing, and international migration."""
        t, dp, year = self.talent, self.params.demography, self.year
        crn = self.crn
        dies = demography.death_mask(
            t.age, t.sex, t.region, self.pack.qx(year), self.pack.mortality_factor(year), crn.stream(t.uid, year, Purpose.DEATH)
        )
        place, asfr = t.region, self._fertility_schedule(year)
        if self.municipal is not None:
            place, asfr = self.municipal.births(asfr, t.municipality)
        mothers = demography.birth_mask(t.age, t.sex, place, asfr, lambda women: crn.uniforms(t.uid[women], year, Purpose.BIRTH)) & ~dies
        newborn_region = t.region[mothers]
        newborn_uid = (crn.hashes(t.uid[mothers], year, Purpose.NEWBORN_ID) >> np.uint64(2)) | NEWBORN_UID_BIT
        newborn_sex = demography.newborn_sex(len(newborn_region), crn.stream(newborn_uid, year, Purpose.NEWBORN_SEX), dp.sex_ratio_at_birth)
        demography.age_one_year(t.age)
        arrivals, leaves = self._international_migration(year, dies)
        self.flows["deaths"] = np.bincount(t.region[dies], minlength=self.n_regions)
        self.flows["births"] = np.bincount(newborn_region, minlength=self.n_regions)
        self.flows["international_net_migration"] = np.bincount(arrivals.region, minlength=self.n_regions) - np.bincount(
            t.region[leaves], minlength=self.n_regions
        )
        uid = np.concatenate((newborn_uid, arrivals.uid))
        municipality = None
        if self.municipal is not None:
            arrived = self.municipal.arrivals(arrivals.region, arrivals.uid, t.municipality, crn, year)
            self.municipal.count_demography(dies, leaves, t.municipality, t.municipality[mothers], arrived)
            municipality = np.concatenate((t.municipality[mothers], arrived))
        newcomers = TalentPool.new(
            np.concatenate((np.zeros(len(newborn_region), np.uint8), arrivals.age)),
            np.concatenate((newborn_sex, arrivals.sex)),
            np.concatenate((newborn_region, arrivals.region)),
            np.concatenate((np.zeros(len(newborn_region), np.int8), self._migrant_education(arrivals.age, arrivals.uid))),
            uid,
            crn.uniforms(uid, year, Purpose.PARTICIPATION),
            municipality,
        )
        t.keep_and_append(~(dies | leaves), newcomers)

    def _fertility_schedule(self, year: int) -> np.ndarray:
        """Observed provincial rates up to 2023; afterwards the 2023 schedules scaled to the TFR path.
        Both times the provinces' ``demography.fertility_multiplier`` (a calibration knob, 1 by default)."""
        multiplier = self.params.demography.fertility_multiplier.in_order(self.pack.codes, 1.0)[:, None]
        if year <= LAST_OBSERVED_YEAR:
            return self.pack.observed_asfr(year) * multiplier
        women = self.persons[:, 0, :].astype(float)  # at the start of the year: as recorded at the end of the last
        return demography.scale_asfr_to_tfr(self.pack.observed_asfr(LAST_OBSERVED_YEAR) * multiplier, women, self._target_tfr(year))

    def _target_tfr(self, year: int) -> float:
        path = self.spec.fertility.tfr_path
        if path == "kostat_2022_medium":
            path = self.pack.official_tfr_path
        years = sorted(path)
        return float(np.interp(year, years, [path[y] for y in years]))

    def _international_migration(self, year: int, dies: np.ndarray) -> tuple[Arrivals, np.ndarray]:
        """Arriving agents and a mask of departing agents (never someone who died this year).

        The year's net migrants (persons) are spread over cells region × sex × age by the regions'
        population shares and the migrants' age-sex profile. Net arrivals per cell are whole counts by
        systematic rounding with a yearly keyed offset (the total within one agent of the assumption),
        and the k-th arrival of a cell has an identity derived from (year, cell, k); net departures are
        drawn per person from uniforms keyed by uid.
        """
        t, dp = self.talent, self.params.demography
        use_official = self.spec.international_migration == "kostat_2022_medium"
        net = self.pack.international_net_migration(year) if use_official or year <= LAST_OBSERVED_YEAR else 0.0
        profile = demography.labour_migration_age_profile(
            dp.international_migrant_male_share,
            dp.international_migrant_peak_location,
            dp.international_migrant_rise_rate,
            dp.international_migrant_fall_rate,
            dp.international_migrant_child_level,
            dp.international_migrant_constant_level,
        )
        population = self.persons.sum(axis=(1, 2)).astype(float)  # residents as recorded at the end of the last year
        expected = abs(net) / self.scale * (population / population.sum())[:, None, None] * profile[None, :, :]
        if net < 0:
            leaves = demography.departure_mask(t.age, t.sex, t.region, expected, self.crn.uniforms(t.uid, year, Purpose.EMIGRATION)) & ~dies
            return Arrivals.none(), leaves
        offset = self.crn.uniforms(np.zeros(1, np.uint64), year, Purpose.INTERNATIONAL)[0]
        counts = demography.systematic_counts(expected.ravel(), offset)
        region, sex, age = np.unravel_index(np.repeat(np.arange(expected.size), counts), expected.shape)
        uid = demography.arrival_identities(counts, year, ARRIVAL_NAMESPACE)
        return Arrivals(age.astype(np.uint8), sex.astype(np.int8), region, uid), np.zeros(len(t), bool)

    def _migrant_education(self, age: np.ndarray, uid: np.ndarray) -> np.ndarray:
        p = self.params.universities
        tertiary = np.interp(age, p.attainment_profile_ages, p.attainment_profile_shares)
        draw = self.crn.uniforms(uid, self.year, Purpose.ARRIVAL_EDUCATION)
        return np.where(draw < tertiary, education.UNIVERSITY, education.SECONDARY).astype(np.int8)

    def internal_migration(self) -> None:
        """Movers leave their jobs and choose a destination by the place-attribute logit of their age group."""
        t, mp, e = self.talent, self.params.migration, self.effects
        wage = np.array([r.log_wage_change for r in self.regions])
        employment = np.array([r.log_employment_change for r in self.regions])
        openings_now = self._openings()
        openings, self.openings_last = openings_now - self.openings_last, openings_now  # this year's new openings
        leave = np.minimum(self.move_probability * migration.leave_factor(wage, employment, openings, mp)[:, None], 1.0)
        leave[:, YOUTH_LEAVE_AGES] = np.minimum(leave[:, YOUTH_LEAVE_AGES] * e.youth_leave_multiplier[:, None], 1.0)
        movers = np.flatnonzero(migration.draw_movers(t.region, t.age, leave, self.crn.stream(t.uid, self.year, Purpose.LEAVE)))
        relationship = mp.ties_elasticity * np.log1p(e.relationship_persons / self.mean_ties_into)
        utility = migration.destination_utility(
            self.destination_constants,
            self.log_distance,
            self.log_ties,
            mp,
            wage,
            employment,
            np.array([r.log_housing_change for r in self.regions]),
            np.array([r.amenity_change for r in self.regions]) + e.amenity + relationship,
            np.array([r.log_population_change for r in self.regions]),
            openings,
        )
        origin = t.region[movers]
        age_group = self.migration_age_group[np.minimum(t.age[movers], migration.MAX_AGE)]
        destination = migration.draw_destinations(
            origin, migration.choice_probabilities(utility), self.crn.stream(t.uid[movers], self.year, Purpose.DESTINATION), age_group
        )
        self.flows["out_migrants"] = np.bincount(origin, minlength=self.n_regions)
        self.flows["in_migrants"] = np.bincount(destination, minlength=self.n_regions)
        t.region[movers] = destination
        if self.municipal is not None:
            self.municipal.move(t.municipality, t.region, t.age, t.uid, movers, self.crn, self.year)
        keeps_job = self.crn.uniforms(t.uid[movers], self.year, Purpose.REMOTE_WORK) < e.remote_work_share
        t.employer[movers[~keeps_job]] = NOT_EMPLOYED

    def education(self) -> None:
        """Students advance a year and graduate; each region's universities admit the entry cohort."""
        t, p = self.talent, self.params.universities
        graduates = education.advance_studies(t.enrolled, t.study_years_left, t.education)
        self.flows["graduates"] = np.bincount(t.region[graduates], minlength=self.n_regions)
        candidates = np.flatnonzero((t.age == p.entry_age) & ~t.studying & (t.education == education.SECONDARY))
        order = np.argsort(t.region[candidates], kind="stable")
        bounds = np.searchsorted(t.region[candidates][order], np.arange(self.n_regions + 1))
        for university in self.universities:
            r = university.region_index
            pool = candidates[order[bounds[r] : bounds[r + 1]]]
            entrants, level, years = university.admit(
                pool,
                self.crn.uniforms(t.uid[pool], self.year, Purpose.ENROLMENT),
                self.crn.uniforms(t.uid[pool], self.year, Purpose.PROGRAMME),
                p,
                self.effects.entry_rate_extra[r],
            )
            t.enrolled[entrants] = level
            t.study_years_left[entrants] = years
            t.employer[entrants] = NOT_EMPLOYED

    def firm_dynamics(self) -> None:
        """Innovation and growth, closures, and entry of startups and university spin-offs."""
        f, fp, ip, up = self.firms, self.params.firms, self.params.innovation, self.params.universities
        crn, year = self.crn, self.year
        employees = f.employees(self.talent.employer)
        self._choose_university_partners(up)
        research = np.array([u.research_krw for u in self.universities]) + self.effects.university_research_krw
        subsidy = ip.rnd_subsidy_additionality * self.effects.rd_subsidy_krw
        self.flows["rd_spending_krw"] = np.bincount(f.region, weights=f.rd_krw(employees, self.scale) + subsidy, minlength=self.n_regions)
        log_change = f.innovate(
            employees,
            self.scale,
            self.n_regions,
            research,
            ip,
            self.reference_rd_krw,
            (crn.uniforms(f.uid, year, Purpose.INNOVATING), crn.uniforms(f.uid, year, Purpose.INNOVATION)),
            subsidy,
            self.effects.treated_establishments,
            self.effects.spillover_multiplier,
        )
        self.flows["innovations"] = np.bincount(f.region, weights=f.innovations, minlength=self.n_regions)
        jobs = np.bincount(f.region, weights=employees, minlength=self.n_regions)
        self.log_wage_growth = np.divide(
            np.bincount(f.region, weights=employees * log_change, minlength=self.n_regions),
            jobs,
            out=np.zeros(self.n_regions),
            where=jobs > 0,
        )
        f.grow(log_change, self.tradable, fp.employment_elasticity_to_productivity)
        n_markets = 2 * self.n_regions
        workers_before = np.bincount(self._market(f.region, f.industry), weights=f.workers(), minlength=n_markets)
        closed = f.closures(
            self._closure_hazard(self.young_firm_hazard * self.effects.young_exit_multiplier[f.region]),
            crn.uniforms(f.uid, year, Purpose.FIRM_EXIT),
        )
        self.flows["firm_exits"] = np.bincount(f.region, weights=closed, minlength=self.n_regions).astype(np.int64)
        entrants = self._entrants(up)  # the birth rate is per establishment active during the year
        firm_rules.lose_jobs_at_closures(self.talent, f, closed, crn, year)
        f.establishments -= closed
        self.flows["startups"] = entrants.count_by_region(self.n_regions)
        new_index = f.keep_and_append(f.establishments > 0, entrants)
        firm_rules.reallocate_closed_demand(f, self._market(f.region, f.industry), workers_before, len(f) - len(entrants), n_markets)
        employer = self.talent.employer  # in place: workers of closed firms get new_index −1 = NOT_EMPLOYED
        workers = np.flatnonzero(employer >= 0)
        employer[workers] = new_index[employer[workers]]
        f.age += 1
        residents = self.labour.expected_labour_force(self.talent, self.n_regions)  # persons stay as they are until the labour market
        self._local_demand(residents)
        self.labour.participation_factor = labour.participation_response(
            self._openings_change(residents), self.params.labour.participation_openings_elasticity
        )
        self.in_labour_force = self.labour.labour_force(self.talent)

    def _choose_university_partners(self, up: Universities) -> None:
        """Each R&D-performing firm's share of establishments with a university partner this year:
        the region's partner share (levers raise it), the same for every cohort of performers."""
        f = self.firms
        share = np.minimum(up.partner_share_of_rd_firms + self.effects.partner_share_extra, 1.0)
        f.collaborating = np.where(f.rd_intensity > 0, share[f.region], 0.0)

    @property
    def young_firm_hazard(self) -> float:
        """Yearly exit hazard of young firms implied by the five-year survival rate."""
        fp = self.params.firms
        return 1.0 - fp.five_year_survival ** (1.0 / fp.young_firm_years)

    def _closure_hazard(self, young_hazard: np.ndarray | float) -> np.ndarray:
        fp = self.params.firms
        return firm_rules.closure_hazard(
            self.firms,
            np.broadcast_to(young_hazard, len(self.firms)),
            fp.exit_rate,
            int(fp.young_firm_years),
            fp.exit_size_elasticity,
        )

    def _entrants(self, up: Universities) -> FirmPopulation:
        """Startups (birth rate × establishments, following working-age population) and university
        spin-offs (in proportion to research, in the R&D-performing industries of the university's
        region, all performing R&D); startups in R&D industries perform R&D with the documented
        performer share. See ``sim.model.mechanisms.firms.entrant_cohorts``."""
        f, fp = self.firms, self.params.firms
        working_age = self._working_age_by_region()
        growth = np.divide(working_age, self.working_age_last, out=np.ones(self.n_regions), where=self.working_age_last > 0)
        self.working_age_last = working_age
        shape = (self.n_regions, len(INDUSTRIES))
        active = (f.size > 0) & (f.establishments > 0)
        cell = f.region.astype(np.int64) * len(INDUSTRIES) + f.industry

        def establishments(mask: np.ndarray) -> np.ndarray:
            return np.bincount(cell[mask], weights=f.establishments[mask], minlength=np.prod(shape)).reshape(shape).astype(float)

        startups = fp.birth_rate * establishments(active) * (growth * self.effects.startup_multiplier)[:, None]
        startups = firm_rules.within_founders(startups, working_age * self.scale)
        performers = establishments(active & (f.rd_intensity > 0))
        research = np.array([u.research_krw for u in self.universities])
        spinoffs_by_region = research / 1e12 * up.spinoffs_per_trillion_krw_research * self.effects.spinoff_multiplier
        spinoffs = split_rows(spinoffs_by_region, performers)
        market = self._market(f.region, f.industry)
        young = active & (f.age < fp.young_firm_years)
        young_establishments = np.bincount(market[young], weights=f.establishments[young], minlength=2 * self.n_regions)
        young_size = np.divide(
            np.bincount(market[young], weights=f.workers()[young], minlength=2 * self.n_regions),
            young_establishments,
            out=np.zeros(2 * self.n_regions),
            where=young_establishments > 0,
        )
        market_of = np.arange(self.n_regions)[:, None] * 2 + self.tradable[None, :].astype(int)
        performer_share = np.where(self.rd_industry, fp.rnd_performing_share_in_rd_industries, 0.0)[None, :].repeat(self.n_regions, 0)
        common = (f, young_size, market_of, self.rd_intensity_by_region, self.crn, self.year)
        return FirmPopulation.concat(
            firm_rules.entrant_cohorts(startups, performer_share, *common, tag=firm_rules.STARTUP_TAG),
            firm_rules.entrant_cohorts(spinoffs, np.ones(shape), *common, tag=firm_rules.SPINOFF_TAG),
        )

    def _market(self, region: np.ndarray, industry: np.ndarray) -> np.ndarray:
        """Market index of firms: region × (non-tradable 0, tradable 1)."""
        return region.astype(np.int64) * 2 + self.tradable[industry]

    def _working_age_by_region(self) -> np.ndarray:
        t = self.talent
        return t.count_by_region(self.n_regions, (t.age >= WORKING_AGES.start) & (t.age < WORKING_AGES.stop)).astype(float)

    def _openings(self, residents: np.ndarray | None = None) -> np.ndarray:
        """Log labour-market tightness (ln θ) by region: jobs firms want per member of the labour force the residents would have at the
        start's participation (``LabourMarket.expected_labour_force``), so participation's response to θ
        does not move θ itself. ``residents``: that expected labour force (agents) of the current persons,
        when the caller has it already (it is a pass over every person)."""
        if residents is None:
            residents = self.labour.expected_labour_force(self.talent, self.n_regions)
        demand = np.bincount(self.firms.region, weights=self.firms.workers(), minlength=self.n_regions)
        supply = residents * self.scale
        return np.log(np.maximum(demand, 1.0) / np.maximum(supply, 1.0))

    def _openings_change(self, residents: np.ndarray | None = None) -> np.ndarray:
        """Δln θ: job openings (jobs wanted per member of the expected labour force) against the start (``_openings``)."""
        return self._openings(residents) - self.base_openings

    def _local_demand(self, residents: np.ndarray | None = None) -> None:
        """Non-tradable jobs: local demand (the residents' expected labour force and the multiplier of this
        year's change in tradable jobs, ``firms.local_demand``) times the wage response exp(−η · premium),
        the premium being the wage curve's (``labour.wage_curve``) of the last labour market. ``residents``:
        the current persons' expected labour force (agents), when the caller has it already."""
        lp = self.params.labour
        if residents is None:
            residents = self.labour.expected_labour_force(self.talent, self.n_regions)
        tradable = firm_rules.tradable_jobs(self.firms, self.tradable, self.n_regions)
        growth = np.divide(residents, self.residents_last, out=np.ones(self.n_regions), where=self.residents_last > 0)
        self.local_demand_jobs = firm_rules.local_demand(
            self.local_demand_jobs,
            growth,
            tradable - self.tradable_jobs_last,
            lp.local_multiplier_tradable,
            self.talent.count_by_region(self.n_regions) * float(self.scale),
        )
        wage_response = np.exp(-lp.labour_demand_wage_elasticity * self.log_wage_tightness)
        firm_rules.set_local_jobs(self.firms, self.tradable, self.local_demand_jobs * wage_response)
        self.tradable_jobs_last = tradable
        self.residents_last = residents

    def labour_market(self) -> None:
        """Separations, layoffs, matching (own region, then adjacent): ``labour.LabourMarket``; then wages
        respond to the year's unemployment (``labour.wage_curve``) and tradable firms' demand to the wages."""
        links = self.pack.adjacency | self.effects.commuting_links
        self.labour.step(self.talent, self.firms, self.in_labour_force, links, self.crn, self.year, self.scale)
        self.labour_status = self.talent.status_by_region(self.n_regions, self.in_labour_force)  # also the year's record
        self.unemployment_rate = labour.unemployment_rate(self.labour_status)
        premium = labour.wage_curve(self.unemployment_rate, self.base_unemployment_rate, self.params.labour.wage_curve_elasticity)
        growth = premium - self.log_wage_tightness
        self.log_wage_growth = self.log_wage_growth + growth
        self.log_wage_tightness = premium
        tradable = self.tradable[self.firms.industry]  # tradable firms pay it too (non-tradable ones: ``_local_demand``)
        self.firms.scale_sizes(tradable, np.exp(-self.params.labour.labour_demand_wage_elasticity * growth))

    def _record_year(self, initial: bool = False) -> None:
        """Update place attributes, compute the year's measures per region, collect them."""
        if initial:
            self.residents_last = self.labour.expected_labour_force(self.talent, self.n_regions)
            self.working_age_last = self._working_age_by_region()
            self.tradable_jobs_last = firm_rules.tradable_jobs(self.firms, self.tradable, self.n_regions)
            self.local_demand_jobs = (
                np.bincount(self.firms.region, weights=self.firms.workers(), minlength=self.n_regions) - self.tradable_jobs_last
            )
            self.log_wage_growth = np.zeros(self.n_regions)
            self.log_wage_tightness = np.zeros(self.n_regions)
        self.persons = self.talent.pyramid(self.n_regions)  # agents by region, sex and age at 31 December (also next year's fertility)
        measures = region_measures(self, initial)
        f = self.firms
        if self.record_firm_jobs:
            jobs = f.employees(self.talent.employer) * float(self.scale)
            self.firm_jobs.append(FirmJobs(self.year, f.uid.copy(), f.region.copy(), jobs, f.workers()))
        agents = measures["population"] / self.scale  # person agents per region (exact: whole numbers)
        for region in self.regions:
            i = region.index
            region.update_attractiveness(
                self.log_wage_growth[i],
                self.unemployment_rate[i],
                agents[i],
                housing_elasticity=self.params.migration.housing_cost_population_elasticity,
            )
            region.record({name: values[i] for name, values in measures.items()})
        if self.municipal is not None:
            self._record_municipalities(initial)
        self.datacollector.collect(self)

    def _record_municipalities(self, initial: bool) -> None:
        """Each Municipality agent's measures of the year, from the person arrays (``municipal_measures``)."""
        pyramid, flows = self.municipal.state(self.talent.municipality, self.talent.sex, self.talent.age)
        measures = municipal_measures(pyramid, None if initial else flows)
        if initial:
            self.municipal.start_extinction_risk_index = measures["extinction_risk_index"]
        for municipality in self.municipalities:
            municipality.record({name: values[municipality.index] for name, values in measures.items()})


@dataclass(frozen=True)
class FirmJobs:
    """Filled jobs and labour demand (persons) of every firm agent at 31 December of ``year``, by
    persistent identity."""

    year: int
    uid: np.ndarray
    region: np.ndarray  # region index
    jobs: np.ndarray  # persons employed by the firm agent (whole worker agents × scale)
    demand: np.ndarray  # persons the firm agent wants to employ (continuous)


def _measure(name: str):
    return lambda region: region.measures[name]


def _empty_flows(n_regions: int) -> dict[str, np.ndarray]:
    names = ("births", "deaths", "in_migrants", "out_migrants", "international_net_migration", "graduates", "startups", "firm_exits")
    amounts = ("rd_spending_krw", "innovations", "lever_spending_krw")
    return {name: np.zeros(n_regions, np.int64) for name in names} | {name: np.zeros(n_regions) for name in amounts}


def _stochastic_round_array(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer array with expectation exactly ``values`` (floor plus a Bernoulli on the fraction)."""
    whole = np.floor(values)
    return (whole + (rng.random(values.shape) < values - whole)).astype(np.int64)


def split_rows(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's total spread over its columns in proportion to ``weights`` (zero rows stay zero)."""
    row_sums = weights.sum(axis=1, keepdims=True)
    return np.divide(totals[:, None] * weights, row_sums, out=np.zeros_like(weights, dtype=float), where=row_sums > 0)


def _stationary_firm_ages(n: int, p: Firms, rng: np.random.Generator) -> np.ndarray:
    """Firm ages drawn from the stationary distribution implied by the exit hazards (years)."""
    young_years = int(p.young_firm_years)
    young_survival = p.five_year_survival ** (1.0 / young_years)
    ages = np.arange(200)
    survival = np.where(ages < young_years, young_survival**ages, p.five_year_survival * (1 - p.exit_rate) ** (ages - young_years))
    return rng.choice(ages, size=n, p=survival / survival.sum())
