"""The labour-market mechanism: matching function, calibration of its efficiency, and one year of
separations, layoffs and keyed hiring on a hand-built economy."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.parameters import default_parameters
from sim.model.agents.firm import FirmPopulation
from sim.model.agents.talent import NOT_EMPLOYED, TalentPool
from sim.model.crn import CommonRandomNumbers, Purpose, rounded_count
from sim.model.mechanisms import labour


def test_matching_function_hand_computed():
    """m = A · U^α · V^(1−α), capped by U and V: A 0.2, U 100, V 400, α 0.5 → 0.2 · 10 · 20 = 40;
    A 0.5 → 100 = min(U, V); no seekers or no vacancies → 0."""
    hires = labour.matches(np.array([100.0, 100.0, 0.0, 50.0]), np.array([400.0, 400.0, 10.0, 0.0]), np.array([0.2, 0.5, 1.0, 1.0]), 0.5)
    assert hires == pytest.approx([40.0, 100.0, 0.0, 0.0])


def test_calibrated_efficiency_gives_the_finding_rate():
    """A = f · (U/V)^(1−α) makes m/U = f: f 0.3, U 200, V 100, α 0.4 → A = 0.3 · 2^0.6 ≈ 0.4547,
    m = A · 200^0.4 · 100^0.6 = 60 = 0.3 · U."""
    efficiency = labour.matching_efficiency_for(np.array([0.3]), np.array([200.0]), np.array([100.0]), 0.4)
    assert efficiency[0] == pytest.approx(0.3 * 2**0.6)
    assert labour.matches(np.array([200.0]), np.array([100.0]), efficiency, 0.4)[0] == pytest.approx(60.0)


def test_unemployment_rate_by_region():
    """Region 0: 3 in the labour force, 2 employed → 1/3; region 1: 1 employed outside it → 0."""
    people = TalentPool.new(np.full(5, 30), np.zeros(5), np.array([0, 0, 0, 0, 1]), np.zeros(5), np.arange(5), np.full(5, 0.5))
    people.employer[[0, 1, 4]] = 0
    in_labour_force = np.array([True, True, True, False, False])
    assert labour.unemployment_rate(people.status_by_region(2, in_labour_force)) == pytest.approx([1 / 3, 0.0])


def economy(workers: int, seekers: int) -> tuple[TalentPool, FirmPopulation]:
    """One region; two firms of 10 establishments × 2 workers at scale 1 (20 jobs each); ``workers``
    employed by firm 0, ``seekers`` unemployed; everyone aged 40 and in the labour force."""
    n = workers + seekers
    people = TalentPool.new(np.full(n, 40), np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n), np.zeros(n))
    people.employer[:workers] = 0
    firms = FirmPopulation.new([0, 0], [2, 2], [10, 10], [2.0, 2.0], [1e8, 1e8], [0.0, 0.0], [5, 5], [0.0, 0.0], [11, 12])
    return people, firms


def market(separation: float, efficiency: float) -> labour.LabourMarket:
    params = default_parameters().labour.model_copy(
        update={"job_separation_rate": separation, "matching_elasticity_unemployment": 0.5, "commuting_share_adjacent": 0.0}
    )
    return labour.LabourMarket(params, np.ones(101), np.ones(1), np.array([efficiency]))


def test_a_year_of_the_labour_market_hand_computed():
    """Firm 0 has 30 workers for 20 jobs: 10 are laid off; firm 1 has 20 vacancies. Seekers: 5 + 10 laid
    off = 15, vacancies 20: hires = min(A · √(15·20), 15, 20) = 15 with A = 1. Nobody separates
    (rate 0), everyone ends employed, no firm above its jobs."""
    people, firms = economy(workers=30, seekers=5)
    market(separation=0.0, efficiency=1.0).step(
        people, firms, np.ones(len(people), bool), np.ones((1, 1), bool), CommonRandomNumbers(1), 2025, scale=1
    )
    employees = firms.employees(people.employer)
    assert employees.tolist() == [20, 15]
    assert (people.employer != NOT_EMPLOYED).all()


def test_leaving_the_labour_force_ends_the_job_and_hires_are_keyed():
    """Workers outside the labour force lose their job; with a finding rate below one, who is hired and
    where is a function of the persons' and slots' keys: a fresh economy with the same keys gives the
    same employers."""
    people, firms = economy(workers=10, seekers=20)
    active = np.ones(len(people), bool)
    active[:2] = False
    crn = CommonRandomNumbers(4)
    market(separation=0.0, efficiency=0.3).step(people, firms, active, np.ones((1, 1), bool), crn, 2030, scale=1)
    assert (people.employer[:2] == NOT_EMPLOYED).all()
    hired_once = people.employer.copy()

    again, firms_again = economy(workers=10, seekers=20)
    market(separation=0.0, efficiency=0.3).step(again, firms_again, active, np.ones((1, 1), bool), crn, 2030, scale=1)
    np.testing.assert_array_equal(again.employer, hired_once)  # the same keys give the same hires


def test_flows_are_aligned_to_expected_counts_whoever_the_persons_are():
    """Firm 0 (20 jobs) has 20 workers and a separation rate of 0.15: exactly 3 leave, those with the
    lowest keyed draws. The market then hires its expected matches, A·√(U·V) = 0.3·√(23·23) = 6.9, rounded
    by the market's keyed draw, into the slots with the lowest keyed draws. With other persons (other
    identities) in the same places, every firm ends with the same number of workers."""
    crn = CommonRandomNumbers(5)

    def year(first_uid: int) -> tuple[TalentPool, FirmPopulation]:
        people, firms = economy(workers=20, seekers=20)
        people.uid[:] = np.arange(len(people), dtype=np.uint64) + np.uint64(first_uid)
        market(separation=0.15, efficiency=0.3).step(people, firms, np.ones(len(people), bool), np.ones((1, 1), bool), crn, 2031, scale=1)
        return people, firms

    people, firms = year(0)
    draws = crn.uniforms(people.uid[:20], 2031, Purpose.SEPARATION)
    leavers = np.argsort(draws)[:3]
    hires = int(rounded_count(crn.uniforms(np.zeros(1, np.uint64), 2031, Purpose.HIRES), 6.9)[0])
    assert (people.employer != NOT_EMPLOYED).sum() == 17 + hires
    assert (people.employer[np.setdiff1d(np.arange(20), leavers)] == 0).all()
    others, other_firms = year(10_000)
    np.testing.assert_array_equal(other_firms.employees(others.employer), firms.employees(people.employer))
