"""Output folders for the report tests (``test_report.py``, ``browser/test_report_page.py``).

The batch is real and small: ``regsim batch`` of the baseline and an R&D-grant scenario with a
parameter override, swept over two budgets, two seeds, 1:400, 2023 → 2026 (a few seconds). One
tuning folder is fabricated with the layout ``regsim tune`` writes (tune.json, trials.csv,
best_scenario.yaml, paired_check.csv, history.png), to control its text; another tuning folder and a
calibration folder are made by tiny real runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.experiments.batch import run_batch

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
OVERRIDE = "demography.international_migrant_male_share"
"""An ``assumption: true`` parameter the batch's policy scenario overrides (0.6)."""


def make_batch(folder: Path) -> Path:
    """A real batch folder: baseline (reference) and R&D grants with an assumption overridden,
    swept over two yearly budgets; seeds 0 and 1; 1:400 until 2026."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "rd_grants_male_share.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'rd_grant_only.yaml'}\nname: rd_grants_male_share\nparameters:\n  {OVERRIDE}: 0.6\n",
        encoding="utf-8",
    )
    experiment = folder / "experiment.yaml"
    experiment.write_text(
        f"name: report_test\ndescription: report fixture\nscale: 400\nuntil: 2026\nseeds: 2\n"
        f"scenarios: [{SCENARIOS / 'korea_baseline.yaml'}, {scenario}]\n"
        "sweep:\n  method: grid\n  parameters:\n    levers[0].budget_krw_per_year: {values: [50.8e9, 203.2e9]}\n",
        encoding="utf-8",
    )
    out = folder / "batch"
    summary = run_batch(experiment, out=out, workers=1)
    assert summary.failed == 0
    return out


def write_png(path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(4, 3))
    axis.plot([0, 1, 2], [3, 1, 2])
    figure.savefig(path)
    plt.close(figure)
    return path


def make_tuning(folder: Path, study: str = "tune_rd_grants") -> Path:
    """A tuning folder with the layout of ``regsim tune`` (single objective)."""
    folder.mkdir(parents=True)
    tune = {
        "study": study,
        "experiment": "rd_grant_tuning",
        "experiment_file": "experiments/rd_grant_tuning.yaml",
        "experiment_hash": "f" * 64,
        "seeds": [0, 1, 2],
        "objectives": [{"name": "jobs_created", "direction": "maximize"}],
        "decision_variables": [{"name": "levers[0].budget_krw_per_year", "low": 1e10, "high": 2e11}],
        "n_trials": 4,
        "package_version": "0.1.0",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
    }
    (folder / "tune.json").write_text(json.dumps(tune), encoding="utf-8")
    pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "levers[0].budget_krw_per_year": [2e10, 1.5e11, 8e10, 1.9e11],
            "jobs_created": [120.0, 910.5, 430.0, 15.0],
            "state": ["COMPLETE"] * 4,
        }
    ).to_csv(folder / "trials.csv", index=False)
    (folder / "best_scenario.yaml").write_text(
        f"extends: {SCENARIOS / 'rd_grant_only.yaml'}\nname: rd_grant_tuned\n"
        "levers:\n  - lever: key_industry_rnd\n    budget_krw_per_year: 1.5e11\n    start: 2024\n    end: 2030\n"
        "    region_type: non_capital\n",
        encoding="utf-8",
    )
    pd.DataFrame({"year": [2030], "jobs_created_tuned": ["+910 [+100, +1,700]"], "jobs_created_plan": ["+300 [−50, +650]"]}).to_csv(
        folder / "paired_check.csv", index=False
    )
    write_png(folder / "history.png")
    return folder


def make_real_tuning(folder: Path) -> Path:
    """A real ``regsim tune`` folder: the R&D-grant scenario's budget, 3 trials, one seed, 1:1000 to 2025."""
    from sim.analysis.plots import write_tuning_figures
    from sim.experiments.tuning import tune

    folder.mkdir(parents=True, exist_ok=True)
    experiment = folder / "tune.yaml"
    experiment.write_text(
        f"name: report_tuning\nscenario: {SCENARIOS / 'rd_grant_only.yaml'}\nseeds: 1\ncheck_seeds: 1\n"
        "until: 2025\nscale: 1000\ntrials: 3\n"
        "variables:\n  levers[0].budget_krw_per_year: {low: 1.0e10, high: 2.0e11}\n"
        "objectives:\n  - {name: non_capital_spending, measure: lever_spending_krw, year: 2025, regions: non_capital}\n",
        encoding="utf-8",
    )
    summary = tune(experiment, out=folder / "study")
    write_tuning_figures(summary)
    return summary.out


def make_calibration(folder: Path) -> Path:
    """A real ``regsim calibrate`` folder: the housing-cost weight, 2 trials, 1:1000, fit 2016-2017."""
    from sim.analysis.plots import write_calibration_figure
    from sim.experiments.calibrate import calibrate, load_calibration

    folder.mkdir(parents=True, exist_ok=True)
    experiment = folder / "calibrate.yaml"
    experiment.write_text(
        f"name: report_calibration\nscenario: {SCENARIOS / 'korea_baseline.yaml'}\nstart_year: 2015\n"
        "fit_years: [2016, 2017]\nholdout_years: [2018, 2019]\nscale: 1000\nseeds: [0]\nevaluation_seeds: [1]\ntrials: 2\n"
        "parameters:\n  parameters.migration.housing_cost_weight: {low: 0.0, high: 1.0}\n",
        encoding="utf-8",
    )
    out = calibrate(load_calibration(experiment), folder / "out").out
    write_calibration_figure(out)  # as regsim calibrate does
    return out


def make_mixed_batch(folder: Path) -> Path:
    """A real batch with both kinds of variant: the baseline (reference), a policy (R&D grants to the
    non-capital provinces, with levers) and an assumption variant (the baseline with migration
    calibrated on 2011-2020, no levers); seeds 0 and 1, 1:1000, until 2025."""
    folder.mkdir(parents=True, exist_ok=True)
    experiment = folder / "experiment.yaml"
    scenarios = ", ".join(str(SCENARIOS / name) for name in ("korea_baseline.yaml", "rd_grant_only.yaml", "korea_baseline_2011_2020.yaml"))
    experiment.write_text(
        f"name: mixed_test\ndescription: policy and assumption variant\nscale: 1000\nuntil: 2025\nseeds: 2\nscenarios: [{scenarios}]\n",
        encoding="utf-8",
    )
    out = folder / "batch"
    summary = run_batch(experiment, out=out, workers=2)
    assert summary.failed == 0
    return out
