"""Municipal resolution (``resolution: sigungu``): persons live in one of the 229 si-gun-gu of their province.

The provincial model stays in charge; this module only places its events inside the provinces:

- births: the province's age schedule times the municipality's fertility relative to its province (TFR
  2020), normalised so that the province's expected births are those of its own schedule;
- deaths: the provincial rates on each person's age, so municipal deaths follow the local age structure;
- moves between provinces: the provincial model decides who leaves and to which province; the mover
  then chooses a municipality of that province (nested province → municipality) with probability
  ∝ c_m × residents of m in the mover's 10-year age band (a size term by age: movers go where people of
  their age live);
- moves between municipalities of one province: a Rogers–Castro age schedule scaled to the province's
  moves inside it (2023 O-D diagonal × ``municipalities.between_municipality_share``); destination k ≠ own
  municipality with the same weights;
- international arrivals: a municipality of their province in proportion to its population.

The constants c_m are fitted at the start so that the expected 2023 moves reproduce each municipality's
2023 net migration, a residual of the registered Dec 2022 → Dec 2023 change (no municipal migration counts
exist; ``sim/tools/build/municipalities.py``). Firms, labour markets and levers stay provincial: residents
work anywhere in their province and its commuting links.

Arrays over municipalities follow the row order of ``municipalities.csv`` (province order, then code).
Counts are in agents until ``state`` scales them to persons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.inputs.pack import AGES, MunicipalPack
from sim.model.cells import persons_per_cell
from sim.model.crn import CommonRandomNumbers, Purpose
from sim.model.mechanisms.migration import (
    draw_destinations,
    draw_movers,
    move_probability_table,
)
from sim.model.metrics import EXTINCTION_RISK_THRESHOLD

FIT_ITERATIONS = 200


def fertility_schedule(asfr_province: np.ndarray, women: np.ndarray, region: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Births per woman [n_municipalities, 101]: the province's schedule × relative fertility × one factor
    per province so that Σ women × rates over its municipalities equals the province's own expected births.

    ``asfr_province`` [n_regions, 101]; ``women`` [n_municipalities, 101] (any unit); ``region`` province index
    of each municipality; ``relative`` the municipality's TFR ÷ its province's.
    """
    own = asfr_province[region] * women
    weighted = own * relative[:, None]
    n_regions = asfr_province.shape[0]
    expected = np.bincount(region, weights=own.sum(axis=1), minlength=n_regions)
    relative_births = np.bincount(region, weights=weighted.sum(axis=1), minlength=n_regions)
    factor = np.divide(expected, relative_births, out=np.ones(n_regions), where=relative_births > 0)
    return asfr_province[region] * (relative * factor[region])[:, None]


AGE_BAND_YEARS = 10
"""Width of the age bands in which movers weigh municipalities by their residents (the bands of the data)."""
N_BANDS = AGES // AGE_BAND_YEARS + 1
BAND_OF_AGE = np.minimum(np.arange(AGES) // AGE_BAND_YEARS, N_BANDS - 1)


def destination_weights(region: np.ndarray, constant: np.ndarray, residents_by_band: np.ndarray) -> np.ndarray:
    """s[g, m]: chance that a mover of age band g into m's province chooses m, ∝ constant_m × residents of m
    in band g (the size term of an aggregate alternative, so movers of an age go where people of that age
    live); sums to 1 over each province's municipalities."""
    weight = constant[None, :] * (residents_by_band.T + 1e-6)  # a band nobody lives in yet stays reachable
    totals = np.zeros((weight.shape[0], int(region.max()) + 1))
    np.add.at(totals.T, region, weight.T)
    return np.divide(weight, totals[:, region], out=np.zeros_like(weight), where=totals[:, region] > 0)


def expected_inflow(region: np.ndarray, share: np.ndarray, between_in: np.ndarray, within_out: np.ndarray) -> np.ndarray:
    """Expected movers into each municipality [n]: s_gm·A_gp + s_gm·Σ_{k≠m} O_gk / (1 − s_gk), with A the
    movers from other provinces by band [G, n_regions] and O the movers leaving k for another municipality
    of its province by band [G, n], who never choose their own."""
    n_regions = between_in.shape[1]
    single = np.bincount(region, minlength=n_regions)[region] == 1
    weight = np.divide(within_out, 1.0 - share, out=np.zeros_like(share), where=~single[None, :] & (share < 1.0))
    pooled = np.zeros((share.shape[0], n_regions))
    np.add.at(pooled.T, region, weight.T)
    return (share * (between_in[:, region] + pooled[:, region]) - share * weight).sum(axis=0)


def fit_destination_constants(
    region: np.ndarray, residents_by_band: np.ndarray, inflow: np.ndarray, between_in: np.ndarray, within_out: np.ndarray
) -> np.ndarray:
    """Constants c_m (one per municipality, relative within its province) such that the expected movers into
    every municipality equal ``inflow`` (persons): multiplicative fixed-point iteration."""
    constant = np.ones(len(region))
    members = np.bincount(region)
    for _ in range(FIT_ITERATIONS):
        share = destination_weights(region, constant, residents_by_band)
        constant *= inflow / np.maximum(expected_inflow(region, share, between_in, within_out), 1e-12)
        mean = (np.bincount(region, weights=constant) / members)[region]
        constant = np.divide(constant, mean, out=np.ones_like(constant), where=mean > 0)  # mean 1 in every province
        np.maximum(constant, 1e-12, out=constant)  # no movers at all (a test world): keep every choice defined
    return constant


def within_province_choice(region: np.ndarray, share: np.ndarray) -> np.ndarray:
    """P[g, m, k] = s_gk / (1 − s_gm) for k ≠ m in m's province, 0 elsewhere; a municipality alone in its
    province gets P[g, m, m] = 1 (its residents never move inside it: their move probability is 0)."""
    same = region[:, None] == region[None, :]
    np.fill_diagonal(same, False)
    weight = np.where(same[None], share[:, None, :], 0.0)
    rows = weight.sum(axis=2, keepdims=True)
    alone = np.flatnonzero(~same.any(axis=1))
    weight[:, alone, alone] = 1.0
    return weight / np.where(rows > 0, rows, 1.0)


def members_choice(region: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Q[g, p, m] = weight[g, m] / Σ weights of p's municipalities (0 outside p): a municipality for a mover
    into province p. Square [G, n, n] (rows past the last province choose municipality 0 and are never
    used), the shape ``migration.draw_destinations`` indexes."""
    weight = np.atleast_2d(weight)
    n = len(region)
    choice = np.zeros((weight.shape[0], n, n))
    choice[:, region, np.arange(n)] = weight
    choice[:, int(region.max()) + 1 :, 0] = 1.0
    return choice / choice.sum(axis=2, keepdims=True)


@dataclass(frozen=True)
class Flows2023:
    """Expected moves of 2023 by age band [G, n] (or [G, n_regions]) and the in-movers each municipality needs."""

    between_out: np.ndarray  # movers leaving the municipality for another province
    within_out: np.ndarray  # movers leaving it for another municipality of its province
    between_in: np.ndarray  # movers from other provinces into each province [G, n_regions]
    inflow: np.ndarray  # in-movers [n] that reproduce the residual net migration of 2023
    international: np.ndarray  # net arrivals from abroad [n]


def migration_2023(
    pack: MunicipalPack,
    by_age: np.ndarray,
    between_move_probability: np.ndarray,
    within_move_probability: np.ndarray,
    international_net: float,
) -> Flows2023:
    """The 2023 moves the municipal constants must reproduce, for residents ``by_age`` [n, 101] (persons).

    Out-movers follow the provincial probabilities ([n_regions, 101]) on local ages; international net arrivals
    (persons) are spread by population, as in the model. A municipality needs in-movers = its residual net
    migration − international + its out-movers (at least 1 % of its out-movers). Movers from other provinces
    into a province are what its municipalities need beyond the moves inside it, in the age bands in which the
    province's own movers leave.
    """
    region = pack.region
    n_regions = between_move_probability.shape[0]
    between_out = by_band(by_age * between_move_probability[region])
    within_out = by_band(by_age * within_move_probability[region])
    population = by_age.sum(axis=1)
    international = international_net * population / population.sum()
    movers_out = between_out.sum(axis=0) + within_out.sum(axis=0)
    inflow = np.maximum(pack.net_migration_2023 - international + movers_out, 0.01 * movers_out)
    arrivals = np.bincount(region, weights=inflow - within_out.sum(axis=0), minlength=n_regions)
    leaving = np.zeros((N_BANDS, n_regions))
    np.add.at(leaving.T, region, between_out.T)
    between_in = leaving / np.maximum(leaving.sum(axis=0), 1e-12) * np.maximum(arrivals, 0.0)
    return Flows2023(between_out, within_out, between_in, inflow, international)


class Municipalities:
    """The municipal layer of one run: destination constants, move schedules and yearly flows (the measures are
    the model's ``Municipality`` agents')."""

    def __init__(self, pack: MunicipalPack, n_regions: int, between_municipality_share: float, scale: int) -> None:
        self.pack = pack
        self.n = pack.n
        self.region = pack.region
        self.n_regions = n_regions
        self.scale = scale
        self.within_rate = np.where(
            np.bincount(pack.region, minlength=n_regions) > 1, pack.within_province_rate * between_municipality_share, 0.0
        )
        self.flows = self._empty_flows()
        self.start_extinction_risk_index: np.ndarray | None = None  # set by the model's first record
        self.agents = np.zeros((self.n, 2, AGES), np.int64)  # agents by municipality × sex × age at the last record (``state``)

    @property
    def local_industry_eligible(self) -> np.ndarray:
        """Seed 003's restriction of local-industry support: the 89 decline areas and the municipalities at
        extinction risk (index below 0.5) in the start year's record."""
        return self.pack.decline_area | (self.start_extinction_risk_index < EXTINCTION_RISK_THRESHOLD)

    def _empty_flows(self) -> dict[str, np.ndarray]:
        return {name: np.zeros(self.n, np.int64) for name in ("births", "deaths", "net_migration")}

    def fit(
        self,
        municipality: np.ndarray,
        age: np.ndarray,
        between_move_probability: np.ndarray,
        schedule: np.ndarray,
        international_net: float,
    ) -> None:
        """Within-province move probabilities and destination constants reproducing the 2023 net migration
        (``migration_2023``) for the start population (agents ``municipality``, ``age``)."""
        by_age = persons_per_cell((self.n, AGES), municipality, age).astype(float) * self.scale
        province_by_age = np.zeros((self.n_regions, AGES))
        np.add.at(province_by_age, self.region, by_age)
        self.within_move_probability = move_probability_table(self.within_rate, province_by_age, schedule)
        flows = migration_2023(self.pack, by_age, between_move_probability, self.within_move_probability, international_net)
        self.destination_constant = fit_destination_constants(
            self.region, by_band(by_age).T, flows.inflow, flows.between_in, flows.within_out
        )

    # --- the year ------------------------------------------------------------------------------
    def start_year(self) -> None:
        """Reset the year's municipal flows."""
        self.flows = self._empty_flows()

    def births(self, asfr_province: np.ndarray, municipality: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person index (``municipality``) and schedule [n, 101] to draw this year's mothers with, normalised
        on the women at the start of the year (the last record)."""
        women = self.agents[:, 0, :].astype(float)
        return municipality, fertility_schedule(asfr_province, women, self.region, self.pack.fertility_relative)

    def arrivals(self, region: np.ndarray, uid: np.ndarray, municipality: np.ndarray, crn: CommonRandomNumbers, year: int) -> np.ndarray:
        """Municipality of each international arrival: one of its province's, in proportion to residents."""
        residents = np.bincount(municipality, minlength=self.n).astype(float)
        choice = members_choice(self.region, np.maximum(residents, 1e-9))
        return draw_destinations(region, choice[0], crn.stream(uid, year, Purpose.ARRIVAL_MUNICIPALITY)).astype(np.int16)

    def count_demography(
        self, dies: np.ndarray, leaves: np.ndarray, municipality: np.ndarray, newborn: np.ndarray, arrived: np.ndarray
    ) -> None:
        """This year's births, deaths and international moves by municipality (agents)."""
        self.flows["births"] += np.bincount(newborn, minlength=self.n)
        self.flows["deaths"] += np.bincount(municipality[dies], minlength=self.n)
        self.flows["net_migration"] += np.bincount(arrived, minlength=self.n) - np.bincount(municipality[leaves], minlength=self.n)

    def move(
        self,
        municipality: np.ndarray,
        region: np.ndarray,
        age: np.ndarray,
        uid: np.ndarray,
        movers: np.ndarray,
        crn: CommonRandomNumbers,
        year: int,
    ) -> None:
        """Place this year's movers between provinces (``movers``: indices, ``region`` already their destination)
        in a municipality of their destination, then move residents between municipalities of their
        province; updates ``municipality`` in place and counts the moves."""
        share = destination_weights(
            self.region, self.destination_constant, by_band(self.agents.sum(axis=1)).T
        )  # residents at the start of the year
        origin = municipality[movers]
        band = BAND_OF_AGE[age[movers]]
        destination = draw_destinations(
            region[movers], members_choice(self.region, share), crn.stream(uid[movers], year, Purpose.MUNICIPAL_DESTINATION), band
        )
        municipality[movers] = destination
        stayers = np.ones(len(municipality), bool)
        stayers[movers] = False
        leave = draw_movers(municipality, age, self.within_move_probability[self.region], crn.stream(uid, year, Purpose.MUNICIPAL_LEAVE))
        within = np.flatnonzero(leave & stayers)
        from_municipality = municipality[within]
        to_municipality = draw_destinations(
            from_municipality,
            within_province_choice(self.region, share),
            crn.stream(uid[within], year, Purpose.MUNICIPAL_MOVE_DESTINATION),
            BAND_OF_AGE[age[within]],
        )
        municipality[within] = to_municipality
        self.flows["net_migration"] += (
            np.bincount(destination, minlength=self.n)
            - np.bincount(origin, minlength=self.n)
            + np.bincount(to_municipality, minlength=self.n)
            - np.bincount(from_municipality, minlength=self.n)
        )

    def state(self, municipality: np.ndarray, sex: np.ndarray, age: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Persons by municipality × sex × age and this year's flows by municipality (persons)."""
        self.agents = persons_per_cell((self.n, 2, AGES), municipality, sex, age)
        return self.agents * float(self.scale), {name: values * self.scale for name, values in self.flows.items()}


def by_band(by_age: np.ndarray) -> np.ndarray:
    """[n, 101] by single age → [G, n] by age band."""
    banded = np.zeros((N_BANDS, by_age.shape[0]))
    np.add.at(banded, BAND_OF_AGE, by_age.T)
    return banded
