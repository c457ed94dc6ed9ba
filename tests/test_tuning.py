"""Policy tuning: the share projection, a known optimum, resume after a kill, bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REGSIM, ROOT, assert_one_line_error, regsim

from sim.analysis.plots import write_tuning_figures
from sim.experiments.tuning import TuningError, load_tuning, project_shares, tune

PLAN = ROOT / "scenarios" / "korea_2023_regional_plan_mss.yaml"
TOTAL = 100e9


def two_lever_scenario(tmp_path: Path) -> Path:
    """The same R&D lever twice: once for the non-capital provinces, once for the capital region."""
    path = tmp_path / "two_levers.yaml"
    path.write_text(
        f"extends: {ROOT / 'scenarios' / 'korea_baseline.yaml'}\nname: two_levers\nend_year: 2025\nscale: 1000\nlevers:\n"
        "- {lever: key_industry_rnd, label: non_capital_rnd, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: non_capital}\n"
        "- {lever: key_industry_rnd, label: capital_rnd, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: capital}\n",
        encoding="utf-8",
    )
    return path


def experiment(tmp_path: Path, body: str, name: str = "tune.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def spending_experiment(tmp_path: Path, trials: int) -> Path:
    """Known optimum: non-capital lever spending in 2025 is largest with the whole budget on lever 0."""
    scenario = two_lever_scenario(tmp_path)
    return experiment(
        tmp_path,
        f"""
name: known_optimum
scenario: {scenario.name}
seeds: 1
check_seeds: 2
trials: {trials}
budget:
  total_krw_per_year: {TOTAL}
  shares:
    levers[0]: {{low: 0.0, high: 1.0}}
    levers[1]: {{low: 0.0, high: 1.0}}
objectives:
  - {{name: non_capital_spending, measure: lever_spending_krw, year: 2025, regions: non_capital}}
""",
    )


# --- the budget split --------------------------------------------------------------------------
def test_projection_keeps_bounds_and_sums_to_one():
    rng = np.random.default_rng(1)
    low, high = np.array([0.0, 0.1, 0.2, 0.0]), np.array([0.5, 0.6, 1.0, 0.3])
    for raw in rng.uniform(0, 1, size=(200, 4)):
        shares = project_shares(raw, low, high)
        assert shares.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(shares >= low - 1e-15) and np.all(shares <= high + 1e-15)


def test_projection_known_answers():
    ones = np.ones(3)
    assert project_shares(np.array([0.5, 0.5, 0.5]), 0 * ones, ones) == pytest.approx([1 / 3] * 3)
    assert project_shares(np.array([0.9, 0.1]), np.zeros(2), np.array([0.6, 1.0])) == pytest.approx([0.6, 0.4])
    feasible = np.array([0.2, 0.3, 0.5])
    assert project_shares(feasible, 0 * ones, ones) == pytest.approx(feasible, abs=1e-12)


# --- a known optimum ---------------------------------------------------------------------------
def test_tuning_finds_the_known_optimum(tmp_path):
    summary = tune(spending_experiment(tmp_path, trials=24), out=tmp_path / "study")
    best = summary.best.iloc[0]
    # every KRW of lever 0 is spent in non-capital provinces, none of lever 1's: optimum share 1 for lever 0
    assert best["levers[0].budget_krw_per_year"] + best["levers[1].budget_krw_per_year"] == pytest.approx(TOTAL)
    assert best["non_capital_spending"] == pytest.approx(best["levers[0].budget_krw_per_year"], rel=1e-9)
    assert best["levers[0].budget_krw_per_year"] >= 0.95 * TOTAL
    trials = pd.read_csv(tmp_path / "study" / "trials.csv")
    assert len(trials) == 24 and trials["written_allocation"].sum() == 1  # trial 0: the scenario's 50/50 split
    assert trials.loc[trials["written_allocation"], "non_capital_spending"].item() == pytest.approx(TOTAL / 2, rel=1e-9)
    written = (tmp_path / "study" / "best_scenario.yaml").read_text(encoding="utf-8")
    assert "trial" in written.splitlines()[0] or written.startswith("# Tuned")
    check = pd.read_csv(tmp_path / "study" / "paired_check.csv")  # tuned minus written, fresh seeds 1 and 2
    assert check["seeds"].item() == 2 and check["trial"].item() == best["number"]
    assert check["difference_mean"].item() == pytest.approx(best["non_capital_spending"] - TOTAL / 2, rel=1e-9)
    written_before = (tmp_path / "study" / "paired_check.csv").stat().st_mtime_ns
    tune(tmp_path / "tune.yaml", out=tmp_path / "study")  # complete already: outputs again, the check is not rerun
    assert (tmp_path / "study" / "paired_check.csv").stat().st_mtime_ns == written_before
    done = regsim("run", tmp_path / "study" / "best_scenario.yaml", "--out", tmp_path / "best_run")
    assert done.returncode == 0, done.stderr
    spent = pd.read_parquet(tmp_path / "best_run" / "levers.parquet")
    assert spent["spending_krw"].sum() == pytest.approx(2 * TOTAL, rel=1e-9)  # two years, the whole total


def test_several_objectives_give_a_pareto_front(tmp_path):
    path = spending_experiment(tmp_path, trials=8)
    text = path.read_text(encoding="utf-8").replace(
        "  - {name: non_capital_spending",
        "  - {name: capital_spending, measure: lever_spending_krw, year: 2025, regions: capital}\n  - {name: non_capital_spending",
    )
    path.write_text(text, encoding="utf-8")
    summary = tune(path, out=tmp_path / "pareto")
    # spending is a zero-sum split: every completed trial is on the front (up to ties)
    front = summary.best
    assert len(front) >= 2
    assert np.allclose(front["capital_spending"] + front["non_capital_spending"], TOTAL, rtol=1e-9)
    write_tuning_figures(summary)
    assert (tmp_path / "pareto" / "pareto.png").stat().st_size > 0
    assert len(list((tmp_path / "pareto" / "pareto_scenarios").glob("trial_*.yaml"))) == len(front)


# --- resume ------------------------------------------------------------------------------------
def completed_trials(study: Path) -> list[tuple[int, float]]:
    if not study.exists():
        return []
    with sqlite3.connect(study) as connection:
        try:
            rows = connection.execute(
                "SELECT t.number, v.value FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id "
                "WHERE t.state = 'COMPLETE' ORDER BY t.number"
            ).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []
    return rows


def test_killed_tuning_continues_the_same_study(tmp_path):
    path = spending_experiment(tmp_path, trials=12)
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [str(REGSIM), "tune", str(path), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while len(completed_trials(out / "study.db")) < 3:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "three trials did not complete within 120 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = completed_trials(out / "study.db")
    assert 3 <= len(before) < 12
    done = regsim("tune", path, "--out", out)
    assert done.returncode == 0, done.stderr
    after = completed_trials(out / "study.db")
    assert len(after) == 12
    assert after[: len(before)] == before  # the trials done before the kill are kept as they were
    trials = pd.read_csv(out / "trials.csv")
    assert sorted(trials["number"]) == [number for number, _ in after]


def test_dask_workers_share_one_study(tmp_path):
    pytest.importorskip("dask.distributed")
    summary = tune(spending_experiment(tmp_path, trials=6), out=tmp_path / "dask", workers=2, executor="dask")
    trials = summary.trials
    assert sorted(trials["number"]) == list(range(len(trials))) and len(trials) >= 6
    budgets = trials["levers[0].budget_krw_per_year"].round(3)
    assert budgets.is_unique  # the workers' samplers are seeded apart: no trial proposed twice


# --- bad input ---------------------------------------------------------------------------------
BAD = {
    "bounds reversed": (
        "variables:\n  levers[0].start: {low: 2026, high: 2024, integer: true}\n",
        "variables.levers[0].start",
        "must be below high",
    ),
    "unknown variable": (
        "variables:\n  levers[0].budgt_krw_per_year: {low: 0, high: 1.0e10}\n",
        "budgt_krw_per_year",
        "budget_krw_per_year",
    ),
    "lever out of range": ("variables:\n  levers[9].start: {low: 2024, high: 2026, integer: true}\n", "levers[9]", "index out of range"),
    "infeasible budget": (
        "budget:\n  total_krw_per_year: 1.0e11\n  shares:\n    levers[0]: {low: 0.7}\n    levers[1]: {low: 0.6}\n",
        "budget",
        "infeasible budget",
    ),
    "share of a missing lever": (
        "budget:\n  total_krw_per_year: 1.0e11\n  shares:\n    levers[0]: {}\n    levers[7]: {}\n",
        "budget.shares.levers[7]",
        "has 2 levers",
    ),
    "objective after the horizon": (
        "variables:\n  levers[0].start: {low: 2024, high: 2025, integer: true}\n",
        "objectives[0].year",
        "outside the simulated years",
    ),
    "unknown measure": (
        "variables:\n  levers[0].start: {low: 2024, high: 2025, integer: true}\n",
        "objectives[0].measure",
        "did you mean 'employed'",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiments_give_one_line_errors(tmp_path, case):
    section, *fragments = BAD[case]
    scenario = two_lever_scenario(tmp_path)
    year = 2030 if case == "objective after the horizon" else 2025
    measure = "employd" if case == "unknown measure" else "employed"
    path = experiment(
        tmp_path,
        f"name: bad\nscenario: {scenario.name}\nseeds: 1\n{section}objectives:\n  - {{name: jobs, measure: {measure}, year: {year}}}\n",
    )
    with pytest.raises(TuningError):
        load_tuning(path)
    assert_one_line_error(regsim("tune", path, "--out", tmp_path / "o"), "tune.yaml", *fragments)


def test_a_folder_of_another_experiment_is_refused(tmp_path):
    path = spending_experiment(tmp_path, trials=1)
    tune(path, out=tmp_path / "study")
    other = experiment(tmp_path, path.read_text(encoding="utf-8").replace("trials: 1", "trials: 2"), name="other.yaml")
    assert_one_line_error(regsim("tune", other, "--out", tmp_path / "study"), "holds a study of another experiment")


def test_shipped_tuning_experiment_loads():
    loaded = load_tuning(ROOT / "experiments" / "tune_regional_plan.yaml")
    plan = loaded.scenario
    assert sum(lever.budget_krw_per_year for lever in plan.levers) == pytest.approx(loaded.spec.budget.total_krw_per_year)
    assert len(loaded.spec.budget.shares) == len(plan.levers)  # every lever of the plan, and the zero-budget option
