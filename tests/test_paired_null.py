"""Null tests of the pairing: a perturbation without economic content changes nothing.

Every random decision is keyed by (seed, year, purpose, identity), so a firm that employs nobody,
or a lever that spends money but whose effects are zero, leaves every other agent's draws — and so
every output — exactly as in the baseline with the same seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.agents.firm import FirmPopulation
from sim.model.crn import CommonRandomNumbers, Purpose
from sim.model.metrics import REGION_MEASURES, regions_table
from sim.model.regional_model import RegionalModel
from sim.results.run import _resolve

SCALE = 400
UNTIL = 2029
SEED = 3


def scenario(levers: list[dict] | None = None, parameters: dict | None = None):
    raw = {"scale": SCALE, "end_year": UNTIL}
    base = _resolve("scenarios/korea_baseline.yaml", scale=SCALE, end_year=UNTIL)
    data = base.model_dump() | {"levers": levers or [], "parameters": base.parameters | (parameters or {})} | raw
    from sim.api import scenario_from_dict

    return scenario_from_dict(data, source="test")


def simulate(model: RegionalModel, perturb=None) -> pd.DataFrame:
    while model.running:
        model.step()
        if perturb is not None and model.year == 2024:
            perturb(model)
    return regions_table(model)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return simulate(RegionalModel(scenario(), seed=SEED))


def add_empty_firm(model: RegionalModel) -> None:
    """One establishment with no jobs and no R&D (a firm agent without economic content)."""
    f = model.firms
    empty = FirmPopulation.new([0], [f.industry[0]], [1], [0.0], [f.productivity[0]], [0.0], [0], [0.5], [np.uint64(2**62 + 12345)])
    model.firms = FirmPopulation.concat(f, empty)


def test_an_empty_firm_changes_nothing_but_its_own_count(baseline):
    perturbed = simulate(RegionalModel(scenario(), seed=SEED), add_empty_firm)
    columns = [c for c in REGION_MEASURES if c != "firm_exits"]
    pd.testing.assert_frame_equal(perturbed[columns], baseline[columns])
    exits = (perturbed["firm_exits"].astype(float) - baseline["firm_exits"].astype(float)).fillna(0)
    assert exits.sum() == 1  # it closes in the next year: empty firms close for sure
    assert exits[(perturbed["year"] == 2025) & (perturbed["region"] == "11")].sum() == 1


@pytest.mark.parametrize(
    ("lever", "parameters"),
    [
        ({"lever": "business_support_services", "params": {"productivity_return": 0.0, "exit_hazard_reduction": 0.0}}, {}),
        ({"lever": "key_industry_rnd"}, {"innovation.rnd_subsidy_additionality": 0.0}),
    ],
    ids=["support_without_effect", "rnd_without_additionality"],
)
def test_a_lever_without_effect_changes_nothing_but_spending(baseline, lever, parameters):
    """The lever runs its lotteries and pays its grants (spending is recorded), but shifts nothing."""
    spec = {"start": 2024, "end": UNTIL, "budget_krw_per_year": 5e10, "regions": ["46"]} | lever
    model = RegionalModel(scenario([spec], parameters), seed=SEED)
    policy = simulate(model)
    reference = simulate(RegionalModel(scenario(None, parameters), seed=SEED)) if parameters else baseline
    columns = [c for c in REGION_MEASURES if c != "lever_spending_krw"]
    pd.testing.assert_frame_equal(policy[columns], reference[columns])
    assert policy["lever_spending_krw"].sum() == pytest.approx(5e10 * (UNTIL - 2023), rel=1e-9)
    assert not model.support_table().empty, "the lever supported firms"


def test_keyed_draws_of_an_identity_do_not_depend_on_the_others():
    crn = CommonRandomNumbers(7)
    uid = np.arange(1000, dtype=np.uint64)
    alone = crn.uniforms(uid[::3], 2030, Purpose.FIRM_EXIT)
    together = crn.uniforms(uid, 2030, Purpose.FIRM_EXIT)
    np.testing.assert_array_equal(alone, together[::3])
    assert not np.array_equal(crn.uniforms(uid, 2030, Purpose.INNOVATION), together)
    assert not np.array_equal(crn.uniforms(uid, 2031, Purpose.FIRM_EXIT), together)
