"""Sensitivity analysis (SALib) through the batch runner: inert and influential parameters on the
real pipeline, Sobol ranks on a known function, resume, and one-line errors.

Runs are tiny (1:400, 2023-2025); the file takes about half a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, assert_one_line_error

from sim.analysis.plots import write_sensitivity_figure
from sim.experiments.sensitivity import SensitivityError, analyse, load_design, run_sensitivity
from sim.results.store import finished_keys, load_manifest

REGSIM = Path(sys.executable).parent / "regsim"
SCALE, UNTIL = 400, 2025

SCENARIO = f"""extends: {BASELINE}
name: zero_budget_and_support
end_year: 2035
levers:
  - lever: local_industries_decline_areas   # no money: its parameters cannot matter
    budget_krw_per_year: 0
    start: 2024
    end: 2030
    region_type: population_decline_areas
  - lever: business_support_services
    budget_krw_per_year: 25.91e9
    start: 2024
    end: 2030
    region_type: non_capital
"""

EXPERIMENT = f"""name: test_sensitivity
scenario: scenario.yaml
method: morris
samples: 2
seeds: 1
until: {UNTIL}
scale: {SCALE}
parameters:
  levers[0].params.cost_per_job_krw: {{low: 4.0e+7, high: 1.2e+8}}
  parameters.labour.job_separation_rate: {{low: 0.10, high: 0.30}}
outcomes:
  employed_2025: {{measure: employed, year: {UNTIL}}}
  jobs_created_2025: {{measure: jobs_created, year: {UNTIL}, regions: non_capital}}
  provinces_at_risk_2025: {{measure: provinces_at_risk, year: {UNTIL}}}
"""


def write_experiment(folder: Path, body: str = EXPERIMENT) -> Path:
    (folder / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    path = folder / "exp.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The experiment run once, uninterrupted: (experiment file, output folder, result)."""
    folder = tmp_path_factory.mktemp("sensitivity")
    path = write_experiment(folder)
    result = run_sensitivity(path, out=folder / "out", workers=2)
    return path, folder / "out", result


def test_inert_parameter_has_zero_effect_and_influential_one_does_not(finished):
    _, _, result = finished
    assert result.summary.failed == 0
    indices = result.indices.set_index(["outcome", "parameter"])
    inert = "levers[0].params.cost_per_job_krw"
    for outcome in ("employed_2025", "jobs_created_2025", "provinces_at_risk_2025"):
        assert indices.loc[(outcome, inert), "mu_star"] == 0.0
        assert indices.loc[(outcome, inert), "sigma"] == 0.0
    assert indices.loc[("employed_2025", "parameters.labour.job_separation_rate"), "mu_star"] > 0
    assert indices.loc[("employed_2025", "parameters.labour.job_separation_rate"), "rank"] == 1
    # the zero-budget lever's parameter changes neither run: points that differ only in it share both runs
    design = result.design
    assert len(design.x) == 2 * (2 + 1)
    assert result.summary.total == len(set(design.keys.ravel()) | set(design.lever_free_keys.ravel())) < 2 * len(design.x)
    assert not any(spec.paired_baseline for spec in design.specs)  # its lever-free points are in the design: no extra runs


def test_output_files_describe_the_design(finished):
    path, out, result = finished
    body = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
    assert body["method"] == "morris" and body["sampler_seed"] == 0 and body["model_seeds"] == [0]
    assert body["parameters"]["parameters.labour.job_separation_rate"] == {"low": 0.1, "high": 0.3}
    assert body["experiment_hash"] == load_design(path).content_hash and body["git_commit"]
    assert set(body["outcomes"]) == {"employed_2025", "jobs_created_2025", "provinces_at_risk_2025"}
    indices = pd.read_csv(out / "indices.csv")
    assert len(indices) == 3 * 2
    assert {"outcome", "parameter", "low", "high", "rank", "mu_star", "mu_star_conf", "sigma", "mu_star_noise"} <= set(indices.columns)
    assert indices["mu_star_noise"].isna().all()  # one model seed: no estimate of the seed noise
    design = pd.read_csv(out / "design.csv")
    assert len(design) == len(result.design.x)
    assert not (out / "sensitivity.png").exists()  # computing results draws no figure
    assert write_sensitivity_figure(out) == out / "sensitivity.png" and (out / "sensitivity.png").stat().st_size > 10_000
    assert len(finished_keys(out)) == result.summary.total
    assert all(entry["status"] == "finished" for entry in load_manifest(out)["runs"])


def test_resume_recomputes_only_unfinished_runs(finished, tmp_path):
    path, _, complete = finished
    out = tmp_path / "out"

    class Interrupted(Exception):
        pass

    def stop_after_three(done: int, total: int, failed: int) -> None:
        if done >= 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_sensitivity(path, out=out, workers=1, progress=stop_after_three)
    before = {key: (out / "runs" / key / "run.json").stat().st_mtime_ns for key in finished_keys(out)}
    assert 3 <= len(before) < complete.summary.total
    assert not (out / "indices.csv").exists()

    resumed = run_sensitivity(path, out=out, workers=2, resume=True)
    assert resumed.summary.skipped == len(before)
    assert resumed.summary.finished == complete.summary.total - len(before)
    assert all((out / "runs" / key / "run.json").stat().st_mtime_ns == mtime for key, mtime in before.items())
    pd.testing.assert_frame_equal(resumed.indices, complete.indices)


def test_sobol_ranks_a_known_function(tmp_path):
    """y = 4 u1 + u2 (u: parameters scaled to [0, 1]; the third is inert): S1 = 16/17 and 1/17, ST of
    the third 0; two seeds at ±e around y give a seed variance of e² per point."""
    body = (
        EXPERIMENT.replace("method: morris", "method: sobol")
        .replace("samples: 2", "samples: 256")
        .replace("parameters:\n", "parameters:\n  parameters.migration.wage_weight: {low: 0, high: 2}\n")
    )
    design = load_design(write_experiment(tmp_path, body))
    bounds = np.array(design.problem["bounds"])
    u = (design.x - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    names = design.problem["names"]
    y = 4 * u[:, names.index("parameters.migration.wage_weight")] + u[:, names.index("parameters.labour.job_separation_rate")]
    e = 0.1
    indices = analyse(design, {"y": np.column_stack([y + e, y - e])}).set_index("parameter")
    assert indices.loc["parameters.migration.wage_weight", "S1"] == pytest.approx(16 / 17, abs=0.05)
    assert indices.loc["parameters.labour.job_separation_rate", "S1"] == pytest.approx(1 / 17, abs=0.03)
    assert abs(indices.loc["levers[0].params.cost_per_job_krw", "ST"]) < 0.01
    assert list(indices.sort_values("rank").index[:2]) == ["parameters.migration.wage_weight", "parameters.labour.job_separation_rate"]
    assert np.allclose(indices["noise_share"], e**2 / np.var(y, ddof=1))


def test_morris_noise_level_of_pure_noise(finished):
    """An outcome that is seed noise only has mu* near the noise level the seeds predict."""
    design = finished[2].design
    noise = np.random.default_rng(1).normal(0.0, 1.0, (len(design.x), 400))
    indices = analyse(design, {"noise": noise})
    assert indices["mu_star_noise"].iloc[0] == pytest.approx(2 / np.sqrt(np.pi) * np.sqrt(1 / 400) / (2 / 3), rel=0.05)
    assert (indices["mu_star"] < 3 * indices["mu_star_noise"]).all()


@pytest.mark.parametrize(
    ("edits", "fragments"),
    [
        (
            [("parameters.labour.job_separation_rate", "parameters.labour.job_separation_rat")],
            ["parameters.parameters.labour.job_separation_rat: unknown parameter", "did you mean 'labour.job_separation_rate'"],
        ),
        ([("cost_per_job_krw", "cost_per_jobs_krw")], ["parameters.levers[0].params.cost_per_jobs_krw", "did you mean 'cost_per_job_krw'"]),
        ([("levers[0]", "levers[5]")], ["parameters.levers[5].params.cost_per_job_krw", "index out of range"]),
        ([("levers[0]", "lever[0]")], ["parameters: 'lever[0].params.cost_per_job_krw': unknown scenario field", "did you mean 'levers'"]),
        ([("{low: 0.10, high: 0.30}", "{low: 0.30, high: 0.30}")], ["job_separation_rate", "low (0.3) must be below high (0.3)"]),
        ([("measure: employed,", "measure: employment,")], ["outcomes.employed_2025.measure", "did you mean 'employed'"]),
        ([("measure: employed,", "measure: extinction_risk_index,")], ["is a ratio", "use provinces_at_risk"]),
        ([(f"year: {UNTIL}}}", "year: 2040}")], ["outcomes.employed_2025.year", "2023-2025"]),
        (
            [("method: morris", "method: sobol"), ("samples: 2", "samples: 12")],
            ["samples: Sobol needs a power of 2 (found 12; try 8 or 16)"],
        ),
        ([("seeds: 1", "seeds: 1\nsweep: {}")], ["sweep: unknown key"]),
    ],
)
def test_bad_experiments_name_file_and_field(tmp_path, edits, fragments):
    body = EXPERIMENT
    for old, new in edits:
        body = body.replace(old, new, 1)
    path = write_experiment(tmp_path, body)
    with pytest.raises(SensitivityError) as caught:
        load_design(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_cli_errors_are_one_line(tmp_path):
    path = write_experiment(tmp_path, EXPERIMENT.replace("measure: employed,", "measure: employment,"))
    done = subprocess.run([REGSIM, "sensitivity", path, "--out", tmp_path / "out"], check=False, capture_output=True, text=True)
    assert_one_line_error(done, str(path), "outcomes.employed_2025.measure", "did you mean 'employed'")
    done = subprocess.run([REGSIM, "sensitivity", path, "--resume"], check=False, capture_output=True, text=True)
    assert_one_line_error(done, "--resume", "--out")
    assert not (tmp_path / "out").exists()


def test_shipped_experiment_loads():
    design = load_design(Path(__file__).resolve().parents[1] / "experiments" / "sensitivity_core.yaml")
    assert design.spec.method == "morris" and len(design.problem["names"]) == 9
    assert np.all((design.x >= np.array(design.problem["bounds"])[:, 0]) & (design.x <= np.array(design.problem["bounds"])[:, 1]))
