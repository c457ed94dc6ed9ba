"""Robust tuning: each tuning seed draws one point of the uncertain parameters, for the trial and its
baseline alike, and a trial is scored by the mean, a quantile or the worst case over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, regsim

import sim.experiments.tuning
from sim.errors import RegsimError
from sim.experiments.tuning import Scorer, load_tuning, objective_function


def robust_experiment(tmp_path: Path, score: str, extra: str = "") -> Path:
    scenario = tmp_path / "two_levers.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'scenarios' / 'korea_baseline.yaml'}\nname: two_levers\nend_year: 2025\nscale: 1000\nlevers:\n"
        "- {lever: key_industry_rnd, label: a, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: non_capital}\n"
        "- {lever: key_industry_rnd, label: b, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: capital}\n",
        encoding="utf-8",
    )
    path = tmp_path / "tune.yaml"
    path.write_text(
        f"""
name: robust
scenario: two_levers.yaml
seeds: 8
check_seeds: 3
trials: 2
variables:
  levers[0].start: {{low: 2024, high: 2025, integer: true}}
uncertainties:
  parameters:
    levers[0].params.cofunding_rate: {{low: 0.5, high: 1.0}}
    parameters.migration.wage_weight: {{low: 0.5, high: 1.5}}
score: {score}
objectives:
  - {{name: spending, measure: lever_spending_krw, year: 2025, regions: non_capital}}
{extra}""",
        encoding="utf-8",
    )
    return path


class FakeRun:
    """Stands in for sim.results.run.run: non-capital spending in 2025 is lever a's drawn cofunding rate × 1e9
    (0 without levers); every scenario it was given is kept."""

    def __init__(self) -> None:
        self.scenarios = []

    def __call__(self, scenario, seed, paired_baseline=True):
        self.scenarios.append((seed, scenario))
        rate = scenario.levers[0].params.get("cofunding_rate", 0.8) if scenario.levers else 0.0
        regions = pd.DataFrame({"year": [2025, 2025], "region": ["26", "11"], "lever_spending_krw": [rate * 1e9, 0.0]})
        return type("Result", (), {"regions": regions})()


@pytest.mark.parametrize(
    ("score", "statistic"),
    [
        ("{statistic: mean}", np.mean),
        ("{statistic: worst}", np.min),
        ("{statistic: quantile, quantile: 0.25}", lambda v: np.quantile(v, 0.25)),
    ],
)
def test_a_trial_is_scored_over_the_draws_of_its_seeds(tmp_path, monkeypatch, score, statistic):
    fake = FakeRun()
    monkeypatch.setattr(sim.experiments.tuning, "run", fake)  # where the Scorer looks it up
    loaded = load_tuning(robust_experiment(tmp_path, score))
    scorer = Scorer(loaded)
    assert sorted(scorer.points) == list(range(11))  # 8 tuning seeds and 3 fresh check seeds, each with a draw
    rates = np.array([scorer.points[seed]["levers[0].params.cofunding_rate"] for seed in range(8)])
    assert len(set(rates)) == 8 and ((0.5 <= rates) & (rates <= 1.0)).all()
    value = objective_function(loaded, scorer)(optuna.trial.FixedTrial({"levers[0].start": 2024}))
    assert value == pytest.approx(statistic(rates * 1e9))
    for seed, scenario in fake.scenarios:  # trial and baseline runs carry the seed's draw of the behavioural parameter
        assert scenario.parameters["migration.wage_weight"] == scorer.points[seed]["parameters.migration.wage_weight"]
        assert all(lever.params["cofunding_rate"] == scorer.points[seed]["levers[0].params.cofunding_rate"] for lever in scenario.levers)
    assert {seed for seed, scenario in fake.scenarios if not scenario.levers} == set(range(8))


@pytest.mark.parametrize(
    ("score", "extra", "message"),
    [
        ("{statistic: quantile}", "", "score: statistic quantile needs quantile: p"),
        ("{statistic: worst, quantile: 0.1}", "", "the others take none"),
        ("{statistic: mean}", "", None),
    ],
)
def test_bad_scores_and_uncertainties_are_one_line_errors(tmp_path, score, extra, message):
    path = robust_experiment(tmp_path, score, extra)
    if message is None:  # the same path as a decision variable and an uncertainty
        text = path.read_text(encoding="utf-8").replace("levers[0].params.cofunding_rate: {low: 0.5", "levers[0].start: {low: 2024")
        path.write_text(text, encoding="utf-8")
        message = "uncertainties.parameters.levers[0].start"
    with pytest.raises(RegsimError) as error:
        load_tuning(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert_one_line_error(regsim("tune", path, "--out", tmp_path / "study"), message)
