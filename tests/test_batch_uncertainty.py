"""Batches with uncertainties: one draw per replicate shared by every scenario, keys, resume, executors, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, REGSIM, ROOT, kill_batch_after_first_run
from pandas.testing import assert_frame_equal

from sim.analysis.compare import UNCERTAINTY_FIGURES, compare_under_uncertainty
from sim.experiments.batch import (
    DRAWS_FILE,
    ExperimentError,
    expand,
    load_experiment,
    resolve_uncertainties,
    run_batch,
)
from sim.results.store import finished_keys

SCENARIOS = ROOT / "scenarios"
DECLINE = SCENARIOS / "decline_area_targeting.yaml"
OPTIONS = SCENARIOS / "korea_2023_regional_plan_mss_options.yaml"  # levers[5]: decline areas, levers[6]: Meister schools
SCALE, UNTIL = 400, 2025
UNCERTAIN = (
    "uncertainties:\n  parameters:\n"
    "    parameters.labour.local_multiplier_tradable: {}\n"  # the recorded range
    "    parameters.migration.wage_weight: {low: 0.5, high: 1.5}\n"
    "    levers[0].params.cost_per_job_krw: {low: 5.0e+7, high: 1.0e+8}\n"  # decline-area lever of decline_area_targeting
)


def experiment(tmp_path: Path, body: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"name: test\nscale: {SCALE}\nuntil: {UNTIL}\n{body}", encoding="utf-8")
    return path


def paired(tmp_path: Path, seeds: int = 3, extra: str = "") -> Path:
    return experiment(tmp_path, f"scenarios: [{BASELINE}, {DECLINE}, {OPTIONS}]\nseeds: {seeds}\n{UNCERTAIN}{extra}")


def test_every_scenario_of_a_replicate_gets_the_same_draw_and_the_key_includes_it(tmp_path):
    path = paired(tmp_path)
    runs = expand(path)
    assert len(runs) == 3 * 3 and len({r.key for r in runs}) == 9
    for seed in range(3):
        same = [r.scenario_dict for r in runs if r.seed == seed]
        assert len({json.dumps(s["parameters"], sort_keys=True) for s in same}) == 1
        costs = {
            lever["params"]["cost_per_job_krw"] for s in same for lever in s["levers"] if lever["lever"] == "local_industries_decline_areas"
        }
        assert len(costs) == 1 and 5e7 <= costs.pop() <= 1e8  # the lever's draw in both scenarios that use it
    multipliers = [r.scenario_dict["parameters"]["labour.local_multiplier_tradable"] for r in runs if r.reference]
    assert len(set(multipliers)) == 3 and all(0.5 <= m <= 1.6 for m in multipliers)  # parameters.yaml: range [0.5, 1.6]
    assert [r.key for r in expand(path)] == [r.key for r in runs]
    certain = experiment(tmp_path, f"scenarios: [{BASELINE}, {DECLINE}, {OPTIONS}]\nseeds: 3\n", name="certain.yaml")
    assert not {r.key for r in runs} & {r.key for r in expand(certain)}
    other_seed = paired(tmp_path, extra="  seed: 1\n")
    assert not {r.key for r in runs} & {r.key for r in expand(other_seed)}


def test_recorded_and_explicit_ranges_are_resolved_with_their_origin(tmp_path):
    resolved = {item.path: item for item in resolve_uncertainties(load_experiment(paired(tmp_path)))}
    multiplier = resolved["parameters.labour.local_multiplier_tradable"]
    assert (multiplier.marginal.low, multiplier.marginal.high, multiplier.range_from) == (0.5, 1.6, "recorded range")
    lever = resolved["levers[0].params.cost_per_job_krw"]
    assert (lever.lever, lever.name, lever.range_from) == ("local_industries_decline_areas", "cost_per_job_krw", "experiment file")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "parameters.labour.local_multiplier_tradeable: {}",
            "unknown parameter 'labour.local_multiplier_tradeable'; did you mean 'parameters.labour.local_multiplier_tradable'?",
        ),
        ("parameters.migration.wage_weight: {low: 1.5, high: 0.5}", "reversed range: low (1.5) is above high (0.5)"),
        ("parameters.migration.wage_weight: {low: 1.0, high: 1.0}", "degenerate range: low and high are both 1"),
        ("parameters.migration.amenity_weight: {}", "no range is recorded for it; give low and high"),
        ("parameters.demography.international_migrant_male_share: {low: 0.5, high: 1.2}", "outside the parameter's valid values [0, 1]"),
        (
            "levers[6].params.leave_reduction: {low: 0.5, high: 1.5}",
            "1.5 is not a valid value in scenario 'korea_2023_regional_plan_mss_options'",
        ),
        ("levers[6].params.leave_reductio: {low: 0.2, high: 0.8}", "did you mean 'leave_reduction'?"),
        ("levers[9].params.leave_reduction: {low: 0.2, high: 0.8}", "no scenario has a lever 9"),
        ("levers[0].budget_krw_per_year: {low: 1.0, high: 2.0}", "expected parameters.<section>.<name> or levers[i].params.<name>"),
        ("parameters.migration.wage_weight: {low: 0.5, high: 1.5, distribution: triangular, mode: 1.0}", "needs its source"),
    ],
)
def test_bad_uncertainties_are_one_line_errors_naming_file_and_field(tmp_path, entry, message):
    path = experiment(tmp_path, f"scenarios: [{BASELINE}, {OPTIONS}]\nseeds: 2\nuncertainties:\n  parameters:\n    {entry}\n")
    with pytest.raises(ExperimentError) as error:
        expand(path)
    text = str(error.value)
    assert text.startswith(f"{path}: uncertainties.parameters.") and message in text and "\n" not in text


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("parameters.migration.wage_wieght: {}", "parameters.migration.wage_wieght: unknown parameter 'migration.wage_wieght'"),
        ("parameters.migration.wage_weight: {low: 2, high: 1}", "parameters.migration.wage_weight: reversed range"),
        ("parameters.migration.wage_weight: {low: 1, high: 1}", "parameters.migration.wage_weight: degenerate range"),
        (
            "parameters.demography.international_migrant_male_share: {low: 0.5, high: 1.2}",
            "parameters.demography.international_migrant_male_share: range [0.5, 1.2] is outside the parameter's valid values [0, 1]",
        ),
    ],
)
def test_cli_rejects_a_bad_uncertainty_with_exit_2(tmp_path, entry, message):
    path = experiment(tmp_path, f"scenarios: [{BASELINE}]\nseeds: 2\nuncertainties:\n  parameters:\n    {entry}\n")
    done = subprocess.run(
        [str(REGSIM), "batch", str(path), "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert f"{path}: uncertainties.parameters.{message}" in done.stderr
    assert not (tmp_path / "o").exists()


def test_killed_batch_resumes_to_the_same_runs_and_draws_and_dask_agrees(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    path = paired(tmp_path, seeds=4)
    total = len(expand(path))
    out = tmp_path / "killed"
    done_before = kill_batch_after_first_run(path, out)
    assert 1 <= len(done_before) < total
    summary = run_batch(path, out=out, workers=2, resume=True)
    assert summary.skipped == len(done_before) and summary.finished == total - len(done_before) and summary.failed == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        run_batch(path, out=tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address)
    assert finished_keys(tmp_path / "dask") == finished_keys(out) == {r.key for r in expand(path)}
    assert_frame_equal(pd.read_csv(out / DRAWS_FILE), pd.read_csv(tmp_path / "dask" / DRAWS_FILE))
    for key in finished_keys(out):
        for name in ("national", "ledger"):
            assert_frame_equal(
                pd.read_parquet(out / "runs" / key / f"{name}.parquet"),
                pd.read_parquet(tmp_path / "dask" / "runs" / key / f"{name}.parquet"),
            )
    resumed, whole = compare_under_uncertainty(out), compare_under_uncertainty(tmp_path / "dask")
    assert resumed.replicates == 4
    assert_frame_equal(resumed.summary, whole.summary)
    assert_frame_equal(resumed.evppi, whole.evppi)
    draws = pd.read_csv(out / DRAWS_FILE)
    assert list(draws.columns) == [
        "replicate",
        "seed",
        "parameters.labour.local_multiplier_tradable",
        "parameters.migration.wage_weight",
        "levers[0].params.cost_per_job_krw",
    ]
    assert draws["seed"].tolist() == [0, 1, 2, 3]
    shown = subprocess.run(
        [str(REGSIM), "compare", str(out), "--years", str(UNTIL)], capture_output=True, text=True, timeout=300, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "Under uncertainty" in shown.stdout
    for name in UNCERTAINTY_FIGURES:  # the rank-probability and EVPPI figures, written into the batch folder
        assert (out / name).read_bytes().startswith(b"\x89PNG")
