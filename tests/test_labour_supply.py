"""Labour supply and demand that respond to each other (issue 12), with hand-computed answers:
participation at a given tightness, the wage response, the local multiplier applied to a funded job,
leaving that responds to the origin's labour market, and labour-demand shocks in scenarios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.api import load_scenario, scenario_from_dict
from sim.errors import ScenarioError
from sim.inputs.parameters import default_parameters
from sim.inputs.scenario import LabourDemandShock
from sim.model.agents.firm import FirmPopulation
from sim.model.agents.talent import TalentPool
from sim.model.mechanisms import firms as firm_rules
from sim.model.mechanisms import labour, migration
from sim.model.regional_model import RegionalModel


def test_participation_response_hand_computed():
    factor = labour.participation_response(np.array([0.01, 0.0, -0.02]), 2.0)
    assert factor == pytest.approx([math.exp(0.02), 1.0, math.exp(-0.04)])


def test_labour_force_at_a_given_tightness():
    """Ten persons aged 30 with draws 0.05, 0.15, …, 0.95 and a probability 0.5: five are in the labour
    force at the start; one per cent more openings with ε = 30 raises the probability to
    0.5·e^0.3 = 0.675, so the persons with draws 0.55 and 0.65 join."""
    n = 10
    people = TalentPool.new(np.full(n, 30), np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n, dtype=np.uint64), (np.arange(n) + 0.5) / n)
    profile = np.zeros(101)
    profile[30] = 0.5
    market = labour.LabourMarket(default_parameters().labour, profile, np.array([1.0]), np.ones(1))
    assert market.labour_force(people).sum() == 5
    market.participation_factor = labour.participation_response(np.array([0.01]), 30.0)
    assert market.participation_factor[0] * 0.5 == pytest.approx(0.5 * math.exp(0.3))
    assert np.flatnonzero(market.labour_force(people)).tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_wage_curve_hand_computed():
    growth = labour.wage_curve(np.array([0.015, 0.03, 0.06, 0.0]), np.full(4, 0.03), 0.1)
    assert growth == pytest.approx([0.1 * math.log(2), 0.0, -0.1 * math.log(2), -0.1 * math.log(labour.UNEMPLOYMENT_FLOOR / 0.03)])


def test_local_demand_hand_computed():
    demand = firm_rules.local_demand(np.array([100.0, 50.0]), np.array([1.02, 1.0]), np.array([10.0, -40.0]), 1.6, np.full(2, 1e4))
    assert demand == pytest.approx([100 * 1.02 + 16.0, 0.0])  # never below zero


def test_local_demand_never_exceeds_the_residents():
    """A province that emptied (5 residents left beside 400 local jobs) and refills 1000-fold: 400 × 1000 +
    1.6 × 50 = 400 080 local jobs for 5000 residents without the bound; with it, 5000. The other province
    (118 jobs for 1000 residents) is untouched, to the bit."""
    demand = firm_rules.local_demand(
        np.array([400.0, 100.0]), np.array([1000.0, 1.02]), np.array([50.0, 10.0]), 1.6, np.array([5000.0, 1000.0])
    )
    assert demand[0] == 5000.0
    assert demand[1] == 100.0 * 1.02 + 1.6 * 10.0


def _two_firm_market() -> tuple[FirmPopulation, np.ndarray]:
    """One region: a tradable firm (industry C) of 10 workers and a non-tradable one (G) of 20."""
    firms = FirmPopulation.new([0, 0], [2, 6], [1, 1], [10.0, 20.0], [1.0, 1.0], [0.0, 0.0], [5, 5], [0.0, 0.0], [0, 1])
    tradable = np.zeros(19, bool)
    tradable[2] = True
    return firms, tradable


def test_set_local_jobs_scales_only_non_tradable_firms():
    firms, tradable = _two_firm_market()
    firm_rules.set_local_jobs(firms, tradable, np.array([26.0]))
    assert firms.size == pytest.approx([10.0, 26.0])
    assert firm_rules.tradable_jobs(firms, tradable, 1) == pytest.approx([10.0])


@pytest.fixture(scope="module")
def model() -> RegionalModel:
    return RegionalModel(load_scenario("scenarios/korea_baseline.yaml", scale=1000, end_year=2025), seed=3)


def _non_tradable(model: RegionalModel) -> np.ndarray:
    f = model.firms
    return np.bincount(f.region, weights=f.workers() * ~model.tradable[f.industry], minlength=model.n_regions)


def test_the_local_multiplier_applies_to_a_funded_job(model):
    """A lever pays for 100 jobs in a tradable firm of region 0: local (non-tradable) jobs of region 0
    rise by the multiplier × 100 the same year (population and wages unchanged), elsewhere by nothing."""
    model._local_demand()  # settle this year's demand, then fund the jobs as ``apply_levers`` does
    before = _non_tradable(model)
    funded = np.flatnonzero((model.firms.region == 0) & model.tradable[model.firms.industry])[0]
    model.effects.extra_jobs[:] = 0.0
    model.effects.extra_jobs[funded] = 100.0
    f = model.firms
    f.size = f.size + np.divide(model.effects.extra_jobs, f.establishments, out=np.zeros(len(f)), where=f.establishments > 0)
    model._local_demand()
    change = _non_tradable(model) - before
    assert change[0] == pytest.approx(
        model.params.labour.local_multiplier_tradable
        * 100.0
        * np.exp(-model.params.labour.labour_demand_wage_elasticity * model.log_wage_tightness[0])
    )
    assert change[1:] == pytest.approx(np.zeros(model.n_regions - 1), abs=1e-6)


def test_a_wage_premium_lowers_local_jobs_by_the_demand_elasticity(model):
    model._local_demand()
    demand = model.local_demand_jobs.copy()
    model.log_wage_tightness = np.full(model.n_regions, 0.1)
    model._local_demand()
    eta = model.params.labour.labour_demand_wage_elasticity
    assert _non_tradable(model) == pytest.approx(demand * math.exp(-eta * 0.1), rel=1e-9)
    model.log_wage_tightness = np.zeros(model.n_regions)


def test_leave_factor_hand_computed():
    weights = default_parameters().migration.model_copy(
        update={"wage_weight": 1.0, "employment_weight": 2.0, "openings_weight": 3.0, "leave_labour_response": 1.5}
    )
    factor = migration.leave_factor(
        np.array([0.0, 0.01, 0.0, 0.0]), np.array([0.0, 0.0, -0.01, 0.0]), np.array([0.0, 0.0, 0.0, 0.01]), weights
    )
    assert factor == pytest.approx([1.0, math.exp(-0.015), math.exp(0.03), math.exp(-0.045)])


def test_shock_factor_one_year_and_permanent():
    one_year = LabourDemandShock(region="48", tradable_jobs_change=0.01, start=2024, end=2024)
    permanent = LabourDemandShock(region="48", tradable_jobs_change=0.01, start=2024)
    assert [one_year.factor(y) for y in (2023, 2024, 2025, 2026)] == pytest.approx([1.0, 1.01, 1 / 1.01, 1.0])
    assert [permanent.factor(y) for y in (2023, 2024, 2025, 2040)] == pytest.approx([1.0, 1.01, 1.0, 1.0])


def test_a_shock_raises_tradable_jobs_of_its_province_only():
    scenario = load_scenario("scenarios/labour_demand_shock_permanent.yaml", scale=1000, end_year=2024)
    shocked, base = RegionalModel(scenario, seed=1), RegionalModel(scenario.model_copy(update={"shocks": []}), seed=1)
    for m in (shocked, base):
        m.year = 2024
        m.apply_shocks()
    ratio = firm_rules.tradable_jobs(shocked.firms, shocked.tradable, 17) / firm_rules.tradable_jobs(base.firms, base.tradable, 17)
    codes = list(shocked.pack.codes)
    assert ratio[codes.index("48")] == pytest.approx(1.01)
    assert np.delete(ratio, codes.index("48")) == pytest.approx(np.ones(16))


@pytest.mark.parametrize(
    ("shock", "message"),
    [
        ({"region": "49", "tradable_jobs_change": 0.01, "start": 2024}, "shocks[0].region: unknown region code '49'"),
        ({"region": "48", "tradable_jobs_change": 0.01, "start": 2025, "end": 2024}, "shocks[0].end: must not be before start"),
        ({"region": "48", "tradable_jobs_change": -1.5, "start": 2024}, "shocks[0].tradable_jobs_change"),
        ({"region": "48", "tradable_jobs": 0.01, "start": 2024}, "shocks[0]"),
    ],
)
def test_bad_shocks_are_one_line_errors(shock, message):
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict({"name": "bad", "shocks": [shock]}, source="bad.yaml")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_shock_decomposition_adds_up_and_reads_each_margin():
    """Jobs +2 %: employed residents +1 % (commuting the other ~1 %), of which the labour force
    +0.5 %, with residents aged 15+ unchanged: unemployment and participation take ~0.25 each."""
    from sim.analysis.absorption import COMPONENTS, paired_components, shares

    ref = {"jobs": 1000.0, "employed": 900.0, "unemployed": 100.0, "persons_15_plus": 2000.0}
    mine = {"jobs": 1020.0, "employed": 909.0, "unemployed": 96.0, "persons_15_plus": 2000.0}
    row = {"scenario": "shock", "seed": 0, "year": 2024, **mine, **{f"{k}_ref": v for k, v in ref.items()}}
    parts = paired_components(pd.DataFrame([row, row | {"seed": 1}]))
    assert parts[list(COMPONENTS)].sum(axis=1).to_numpy() == pytest.approx(parts["jobs"].to_numpy(), rel=1e-12)
    assert parts["migration"].iloc[0] == pytest.approx(0.0)
    assert parts["participation"].iloc[0] == pytest.approx(math.log(1005 / 1000))
    table = shares(parts, draws=10)
    assert table.loc[0, "commuting"] == pytest.approx(math.log(1020 / 909 * 0.9) / math.log(1.02))


def test_shock_command_on_a_folder_without_a_batch_is_a_one_line_error(tmp_path):
    from conftest import assert_one_line_error, regsim

    assert_one_line_error(regsim("shock", tmp_path), "not a batch folder")
