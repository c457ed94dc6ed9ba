"""Known-answer tests of the analysis under uncertainty (sim.experiments.uncertainty): draws, comparison, PRIM, EVPPI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.uncertainty import (
    Marginal,
    cost_effectiveness,
    discover,
    draw_points,
    evpi,
    evppi,
    rank_probabilities,
    regret,
    uncertainty_summary,
    unit_sample,
    win_probabilities,
)


# --- draws -------------------------------------------------------------------------------------
def test_latin_hypercube_draws_fill_every_stratum_once_and_repeat_with_the_seed():
    marginals = {"a": Marginal(0.2, 0.8), "b": Marginal(-3.0, 5.0)}
    table = draw_points(marginals, 50, seed=7)
    assert list(table.columns) == ["draw", "a", "b"]
    assert table["draw"].tolist() == list(range(50))
    for name, marginal in marginals.items():
        unit = (table[name] - marginal.low) / (marginal.high - marginal.low)
        assert sorted(np.floor(unit * 50).astype(int)) == list(range(50))  # one point per stratum
    pd.testing.assert_frame_equal(table, draw_points(marginals, 50, seed=7))
    assert not np.allclose(table["a"], draw_points(marginals, 50, seed=8)["a"])


def test_sobol_draws_need_a_power_of_two_and_are_balanced():
    unit = unit_sample(3, 64, seed=1, method="sobol")
    assert unit.shape == (64, 3)
    assert np.all(np.abs(unit.mean(axis=0) - 0.5) < 0.02)
    with pytest.raises(ValueError, match="power of two"):
        unit_sample(3, 50, seed=1, method="sobol")


def test_triangular_and_truncated_normal_marginals_have_their_moments_and_stay_in_range():
    table = draw_points(
        {"t": Marginal(0.0, 3.0, "triangular", mode=0.0), "n": Marginal(0.0, 1.0, "normal", mean=0.5, sd=0.1)}, 4000, seed=2
    )
    assert table["t"].mean() == pytest.approx(1.0, abs=0.01)  # (low + mode + high) / 3
    assert table["n"].mean() == pytest.approx(0.5, abs=0.005)
    assert table["n"].std() == pytest.approx(0.1, rel=0.03)
    assert table["t"].between(0, 3).all() and table["n"].between(0, 1).all()


# --- comparison --------------------------------------------------------------------------------
def toy(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scenario A wins against B exactly when 0.3 < x1 < 0.6 and x2 < 0.5 (x3 does not matter); the
    seed noise never flips the sign. C is always worst."""
    draws = draw_points({"x1": Marginal(0, 1), "x2": Marginal(0, 1), "x3": Marginal(0, 1)}, n, seed=seed)
    noise = np.random.default_rng(seed).uniform(-0.5, 0.5, n)
    inside = (draws["x1"].between(0.3, 0.6) & (draws["x2"] < 0.5)).to_numpy()
    wide = pd.DataFrame({"B": np.zeros(n), "A": np.where(inside, 1.0, -1.0) + noise, "C": np.full(n, -2.0)})
    return draws, wide


def test_win_and_rank_probabilities_match_the_known_fraction_within_sampling_error():
    _, wide = toy()
    truth = 0.3 * 0.5
    sampling = 3 * np.sqrt(truth * (1 - truth) / len(wide))
    wins = win_probabilities(wide)
    assert wins.loc["A", "B"] == pytest.approx(truth, abs=sampling)
    assert wins.loc["B", "A"] == pytest.approx(1 - wins.loc["A", "B"])  # no ties
    assert wins.loc["C", "A"] == 0 and wins.loc["A", "C"] == 1
    assert np.diag(wins).sum() == 0
    ranks = rank_probabilities(wide)
    assert ranks.loc["A", 1] == pytest.approx(wins.loc["A", "B"])
    assert ranks.loc["C", 3] == 1
    np.testing.assert_allclose(ranks.sum(axis=1), 1.0)
    np.testing.assert_allclose(ranks.sum(axis=0), 1.0)


def test_minimising_reverses_the_ranking_and_ties_are_not_wins():
    wide = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 1.0, 4.0]})
    assert win_probabilities(wide).loc["a", "b"] == pytest.approx(1 / 3)
    assert win_probabilities(wide, maximize=False).loc["a", "b"] == pytest.approx(1 / 3)
    assert rank_probabilities(wide).loc["a", 1] == pytest.approx(2 / 3)  # the tie shares first place


def test_regret_is_the_distance_to_the_best_scenario_of_the_same_replicate():
    wide = pd.DataFrame({"a": [1.0, 5.0], "b": [3.0, 2.0], "c": [0.0, 5.0]})
    np.testing.assert_allclose(regret(wide).to_numpy(), [[2, 0, 3], [0, 3, 0]])
    np.testing.assert_allclose(regret(wide, maximize=False).to_numpy(), [[1, 3, 0], [3, 0, 3]])


def test_summary_gives_probabilities_with_wilson_intervals_and_regret():
    _, wide = toy()
    summary = uncertainty_summary(wide, reference="B").set_index("scenario")
    a = summary.loc["A"]
    assert a["p_beats_reference_low"] < a["p_beats_reference"] < a["p_beats_reference_high"]
    assert a["p_beats_reference_low"] < 0.15 < a["p_beats_reference_high"]
    assert summary.loc["C", "regret_mean"] == pytest.approx(2.0 + np.maximum(wide["A"], 0).mean())  # the best is B (0) or A
    assert summary.loc["B", "p_beats_reference"] == 0
    assert summary["p_best"].sum() == pytest.approx(1.0)
    assert summary.loc["C", "expected_rank"] == 3


def test_cost_effectiveness_is_the_ratio_of_means_per_bn_krw_with_a_range_over_replicates():
    effect = pd.DataFrame({"ref": [0.0, 0.0], "p": [100.0, 300.0]})
    spending = pd.DataFrame({"ref": [0.0, 0.0], "p": [1e9, 3e9]})
    table = cost_effectiveness(effect, spending)
    assert table["scenario"].tolist() == ["p"]  # no spending, no ratio
    assert table.loc[0, "per_bn_krw"] == pytest.approx(100.0)
    assert table.loc[0, "low"] == pytest.approx(100.0) and table.loc[0, "high"] == pytest.approx(100.0)


# --- scenario discovery ------------------------------------------------------------------------
def test_prim_recovers_the_known_box_with_coverage_and_density_of_at_least_08():
    draws, wide = toy()
    found = discover(draws[["x1", "x2", "x3"]], (wide["A"] > wide["B"]).to_numpy())
    assert found.coverage >= 0.8 and found.density >= 0.8
    box = found.box.set_index("parameter")
    assert box.loc["x1", "low"] == pytest.approx(0.3, abs=0.05) and box.loc["x1", "high"] == pytest.approx(0.6, abs=0.05)
    assert box.loc["x2", "high"] == pytest.approx(0.5, abs=0.05)
    assert box.loc["x1", "restricted"] and box.loc["x2", "restricted"] and not box.loc["x3", "restricted"]
    assert box.loc["x1", "quasi_p"] < 1e-6 and box.loc["x2", "quasi_p"] < 1e-6 and np.isnan(box.loc["x3", "quasi_p"])
    assert found.trajectory.loc[0, "coverage"] == 1.0  # the trajectory starts at the whole space
    assert found.share == pytest.approx(0.15, abs=0.06)


def test_prim_refuses_a_condition_that_never_holds():
    draws, _ = toy(50)
    with pytest.raises(ValueError, match="no replicate"):
        discover(draws[["x1"]], np.zeros(50, bool))


# --- value of information ----------------------------------------------------------------------
def test_evppi_matches_the_linear_gaussian_answer():
    """Decision 1 has net benefit 0, decision 2 has θ1 + θ2 with θ independent N(0, 1): EVPPI(θ1) =
    E[max(0, θ1)] = 1/√(2π); EVPI = E[max(0, θ1 + θ2)] = √2/√(2π); an irrelevant θ3 is worth nothing."""
    rng = np.random.default_rng(3)
    n = 4000
    draws = pd.DataFrame({"theta1": rng.normal(size=n), "theta2": rng.normal(size=n), "theta3": rng.normal(size=n)})
    net = pd.DataFrame({"do nothing": np.zeros(n), "act": draws["theta1"] + draws["theta2"]})
    values = evppi(net, draws)
    assert values["theta1"] == pytest.approx(1 / np.sqrt(2 * np.pi), abs=0.03)
    assert values["theta2"] == pytest.approx(1 / np.sqrt(2 * np.pi), abs=0.03)
    assert values["theta3"] < 0.03
    assert evpi(net) == pytest.approx(np.sqrt(2) / np.sqrt(2 * np.pi), abs=0.03)
    assert (values <= evpi(net) + 1e-9).all()


def test_evppi_is_zero_when_one_decision_dominates():
    rng = np.random.default_rng(4)
    draws = pd.DataFrame({"theta": rng.uniform(size=300)})
    net = pd.DataFrame({"a": 10 + draws["theta"], "b": draws["theta"]})
    assert evppi(net, draws)["theta"] == pytest.approx(0.0, abs=1e-9)


def test_conditional_mean_of_a_parameter_with_few_values_is_the_mean_at_each_value():
    from sim.experiments.uncertainty import conditional_mean

    x = np.array([2.0, 1.0, 2.0, 1.0, 3.0, 3.0])
    y = np.array([4.0, 1.0, 6.0, 3.0, 7.0, 9.0])
    np.testing.assert_allclose(conditional_mean(x, y), [5, 2, 5, 2, 8, 8])


def test_robust_scores_are_the_mean_a_quantile_or_the_worst_case():
    from sim.experiments.uncertainty import robust_score

    values = np.array([3.0, -1.0, 5.0, 1.0, 2.0])
    assert robust_score(values) == pytest.approx(2.0)
    assert robust_score(values, "worst") == -1.0 and robust_score(values, "worst", maximize=False) == 5.0
    assert robust_score(values, "quantile", 0.25) == pytest.approx(1.0)  # numpy's linear interpolation: sorted[1]
    with pytest.raises(ValueError, match="mean, quantile or worst"):
        robust_score(values, "median")
