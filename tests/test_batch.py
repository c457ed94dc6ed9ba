"""Batch experiments: expansion, local and Dask executors, failures, kill and resume, store queries.

Runs are short (1:400, until 2026) so the whole file takes well under a minute and a half.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, PACK, ROOT, kill_batch_after_first_run
from pandas.testing import assert_frame_equal

from sim.api import load_scenario, run
from sim.experiments.batch import ExperimentError, expand, load_experiment, run_batch, sweep_points
from sim.results.store import KEY_COLUMNS, finished_keys, load_manifest, query

REGSIM = Path(sys.executable).parent / "regsim"
SCENARIOS = ROOT / "scenarios"
DECLINE = SCENARIOS / "decline_area_targeting.yaml"
RD_ONLY = SCENARIOS / "rd_grant_only.yaml"
SCALE, UNTIL = 400, 2026


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def experiment(tmp_path: Path, body: str, name: str = "exp.yaml") -> Path:
    return write(tmp_path / name, f"name: test\nscale: {SCALE}\nuntil: {UNTIL}\n{body}")


TWO_BY_TWO = f"scenarios: [{BASELINE}, {DECLINE}]\nseeds: 2\n"


def read_tables(folder: Path, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = folder / "runs" / key
    return pd.read_parquet(runs / "regions.parquet"), pd.read_parquet(runs / "national.parquet")


def assert_same_as_alone(folder: Path, specs) -> None:
    """Every stored run equals sim.results.run.run of its scenario alone with the same seed."""
    for spec in specs:
        regions, national = read_tables(folder, spec.key)
        added = [*KEY_COLUMNS, *spec.sweep]
        alone = run(load_scenario(SCENARIOS / f"{spec.scenario}.yaml"), seed=spec.seed, scale=SCALE, until=UNTIL)
        assert_frame_equal(regions.drop(columns=added), alone.regions, check_dtype=True)
        assert_frame_equal(national.drop(columns=added), alone.national, check_dtype=True)
        assert (regions["run_key"] == spec.key).all() and (national["seed"] == spec.seed).all()


# --- expansion ---------------------------------------------------------------------------------
def test_expansion_counts_and_stable_keys(tmp_path):
    body = (
        f"scenarios: [{BASELINE}, {DECLINE}, {RD_ONLY}]\nseeds: [0, 5, 9]\n"
        "sweep:\n  method: grid\n  apply_to: [rd_grant_only]\n  parameters:\n"
        "    levers[0].budget_krw_per_year: {values: [50.8e9, 101.6e9]}\n"
        "    levers[0].params.cofunding_rate: {values: [0.6, 0.8, 1.0]}\n"
    )
    path = experiment(tmp_path, body)
    runs = expand(path)
    assert len(runs) == (1 + 1 + 2 * 3) * 3  # (reference + unswept variant + 6 sweep points) × seeds
    assert len({r.key for r in runs}) == len(runs)
    assert [r.key for r in expand(path)] == [r.key for r in runs]  # stable across expansions
    assert [r.variant for r in runs[:3]] == ["reference"] * 3 and [r.seed for r in runs[:3]] == [0, 5, 9]
    swept = [r for r in runs if r.scenario == "rd_grant_only"]
    assert {tuple(r.sweep.values()) for r in swept} == {(b, c) for b in (50.8e9, 101.6e9) for c in (0.6, 0.8, 1.0)}
    # a key depends on the resolved scenario and the seed only, not on the file it came from
    again = experiment(tmp_path, f"scenarios: [{BASELINE}]\nseeds: [9, 0]\n", name="other.yaml")
    assert {r.key for r in expand(again)} == {r.key for r in runs if r.reference and r.seed in (0, 9)}
    # a sweep point equal to the scenario's own values has the scenario's key
    plain = {
        r.seed: r.key
        for r in expand(experiment(tmp_path, f"scenarios: [{BASELINE}, {RD_ONLY}]\nseeds: [0]\n", "p.yaml"))
        if not r.reference
    }
    same = next(
        r
        for r in swept
        if r.seed == 0 and r.sweep["levers[0].budget_krw_per_year"] == 101.6e9 and r.sweep["levers[0].params.cofunding_rate"] == 0.8
    )
    assert same.key == plain[0]


def test_sampled_sweeps_use_bounds_and_are_reproducible(tmp_path):
    body = (
        f"scenarios: [{BASELINE}, {RD_ONLY}]\nseeds: 1\n"
        "sweep:\n  method: latin_hypercube\n  samples: 8\n  parameters:\n"
        "    levers[0].params.cofunding_rate: {low: 0.5, high: 1.0}\n"
        "    parameters.migration.calibration_period: {values: ['2011-2020']}\n"
    )
    with pytest.raises(ExperimentError, match=r"exp.yaml: sweep.*needs low and high"):
        load_experiment(experiment(tmp_path, body))
    body = body.replace("    parameters.migration.calibration_period: {values: ['2011-2020']}\n", "")
    loaded = load_experiment(experiment(tmp_path, body))
    points = sweep_points(loaded.spec.sweep)
    values = sorted(point["levers[0].params.cofunding_rate"] for point in points)
    assert len(values) == 8 and all(0.5 <= v <= 1.0 for v in values)
    bins = {int((v - 0.5) / 0.5 * 8) for v in values}
    assert len(bins) == 8  # one point per stratum: a Latin hypercube
    assert points == sweep_points(loaded.spec.sweep)
    assert len(expand(loaded)) == 1 + 8


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("scenarios: [x.yaml]\nseed: 2\n", "seed: unknown key; did you mean 'seeds'?"),
        (f"scenarios: [{BASELINE}]\nseeds: 0\n", "seeds: the number of seeds must be at least 1"),
        (f"scenarios: [{BASELINE}]\nseeds: 2\noutputs: [populaton]\n", "did you mean 'population'?"),
        (
            f"scenarios: [{BASELINE}, {DECLINE}]\nseeds: 2\nsweep:\n  parameters:\n    levers[0].budget: {{valus: [1]}}\n",
            "sweep.parameters.levers[0].budget.valus: unknown key; did you mean 'values'?",
        ),
        (
            f"scenarios: [{BASELINE}, {DECLINE}]\nseeds: 2\nsweep:\n  parameters:\n    lever[0].budget_krw_per_year: {{values: [1]}}\n",
            "did you mean 'levers'?",
        ),
        (
            f"scenarios: [{BASELINE}, {DECLINE}]\nseeds: 2\nsweep:\n  parameters:\n    levers[3].budget_krw_per_year: {{values: [1]}}\n",
            "index out of range",
        ),
        (
            f"scenarios: [{BASELINE}, {RD_ONLY}]\nseeds: 2\nsweep:\n  parameters:\n    levers[0].params.cofundng_rate: {{values: [0.8]}}\n",
            "sweep.parameters.levers[0].params.cofundng_rate=0.8: rd_grant_only:"
            " levers[0].params.cofundng_rate: unknown parameter of lever 'key_industry_rnd'; did you mean 'cofunding_rate'?",
        ),
        (
            f"scenarios: [{BASELINE}, {RD_ONLY}]\nseeds: 2\nsweep:\n  parameters:\n    levers[0].params.cofunding_rate: {{values: [0.8, 1.5]}}\n",
            "sweep.parameters.levers[0].params.cofunding_rate=1.5: rd_grant_only: levers[0].params.cofunding_rate",
        ),
        ("scenarios: [missing.yaml]\nseeds: 2\n", "scenarios[0]: scenario file not found"),
    ],
    ids=[
        "unknown-key",
        "no-seeds",
        "unknown-output",
        "sweep-key",
        "sweep-field",
        "sweep-index",
        "sweep-lever-parameter",
        "sweep-value-out-of-bounds",
        "missing-scenario",
    ],
)
def test_experiment_errors_name_file_and_field(tmp_path, body, fragment):
    path = experiment(tmp_path, body)
    with pytest.raises(ExperimentError) as error:
        expand(path)
    message = str(error.value)
    assert message.startswith(str(path)) and fragment in message and "\n" not in message


# --- executors ---------------------------------------------------------------------------------
def test_local_batch_equals_runs_alone(tmp_path):
    path = experiment(tmp_path, TWO_BY_TWO)
    out = tmp_path / "out"
    seen = []
    summary = run_batch(path, out=out, workers=2, executor="local", progress=lambda *a: seen.append(a))
    specs = expand(path)
    assert (summary.total, summary.finished, summary.failed, summary.skipped) == (4, 4, 0, 0)
    assert seen[-1] == (4, 4, 0)
    assert finished_keys(out) == {spec.key for spec in specs}
    assert_same_as_alone(out, specs)
    manifest = load_manifest(out)
    assert manifest["experiment"] == "test" and len(manifest["experiment_hash"]) == 64
    assert manifest["package_version"] and manifest["git_commit"] and manifest["created"]
    assert [e["status"] for e in manifest["runs"]] == ["finished"] * 4
    assert {(e["variant"], e["seed"]) for e in manifest["runs"]} == {
        (v, s) for v in ("reference", "decline_area_targeting") for s in (0, 1)
    }
    # DuckDB over the Parquet files, with the views and with a glob as a user would write it
    table = query(out, "SELECT variant, seed, count(*) AS n FROM regions WHERE year = 2026 GROUP BY ALL ORDER BY ALL")
    assert table["n"].tolist() == [17] * 4
    import duckdb

    glob = str(out / "runs" / "*" / "national.parquet")
    direct = duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}', union_by_name=true)").fetchall()[0][0]
    assert direct == 4 * (UNTIL - 2023 + 1)
    spent = query(out, "SELECT sum(spending_krw) AS s FROM levers WHERE variant = 'decline_area_targeting'")["s"].iloc[0]
    assert spent > 0


def test_dask_batch_equals_runs_alone(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    path = experiment(tmp_path, TWO_BY_TWO)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        summary = run_batch(path, out=tmp_path / "out", executor="dask", scheduler=cluster.scheduler_address)
    assert (summary.finished, summary.failed) == (4, 0)
    assert_same_as_alone(tmp_path / "out", expand(path))


def test_failing_runs_are_recorded_and_the_rest_complete(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    table = pd.read_csv(pack / "population_2023.csv", dtype=str)
    table.loc[10, "persons"] = "many"
    table.to_csv(pack / "population_2023.csv", index=False)
    broken = write(tmp_path / "broken.yaml", f"extends: {BASELINE}\nname: broken_pack\ndata_pack: pack\n")
    body = (
        f"scenarios: [{BASELINE}, {RD_ONLY}, {broken}]\nseeds: 2\n"
        "outputs: [population, employed]\n"
        "sweep:\n  apply_to: [rd_grant_only]\n  parameters:\n"
        "    levers[0].params.cofunding_rate: {values: [0.8, 1.0]}\n"
    )
    out = tmp_path / "out"
    summary = run_batch(experiment(tmp_path, body), out=out, workers=2)
    assert (summary.total, summary.finished, summary.failed) == (8, 6, 2)
    reasons = [f["error"] for f in summary.failures]
    assert len(reasons) == 2 and all("many" in r for r in reasons)
    manifest = load_manifest(out)
    failed = [e for e in manifest["runs"] if e["status"] == "failed"]
    assert len(failed) == 2 and all(e["error"] for e in failed)
    for entry in failed:
        folder = out / "runs" / entry["key"]
        assert [p.name for p in folder.iterdir()] == ["error.json"]
        assert json.loads((folder / "error.json").read_text())["error"] == entry["error"]
    good = next(e for e in manifest["runs"] if e["status"] == "finished" and e["sweep"])
    regions, _ = read_tables(out, good["key"])
    assert list(regions.columns) == [
        *KEY_COLUMNS,
        "levers[0].params.cofunding_rate",
        "year",
        "region",
        "region_name",
        "population",
        "employed",
    ]
    assert (regions["levers[0].params.cofunding_rate"] == 0.8).all()
    # resume re-runs the failed runs only (they fail again) and skips the finished ones
    again = run_batch(experiment(tmp_path, body), out=out, workers=1, resume=True)
    assert (again.skipped, again.finished, again.failed) == (6, 0, 2)


def test_killed_batch_resumes_only_unfinished_runs(tmp_path):
    body = f"scenarios: [{BASELINE}, {DECLINE}]\nseeds: 8\n"
    path = experiment(tmp_path, body)
    total = len(expand(path))
    out = tmp_path / "killed"
    kill_batch_after_first_run(path, out, timeout=60)
    before = {key: (out / "runs" / key / "run.json").stat() for key in finished_keys(out)}
    assert 1 <= len(before) < total
    summary = run_batch(path, out=out, workers=2, resume=True)
    assert summary.skipped == len(before) and summary.finished == total - len(before) and summary.failed == 0
    for key, stat in before.items():  # finished runs were not recomputed
        now = (out / "runs" / key / "run.json").stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    runs = [p for p in (out / "runs").iterdir()]
    assert len(runs) == total and not [p for p in runs if p.name.startswith(".")]
    manifest = load_manifest(out)
    assert len(manifest["runs"]) == total and {e["status"] for e in manifest["runs"]} == {"finished"}

    whole = tmp_path / "whole"
    run_batch(path, out=whole, workers=2)
    assert finished_keys(whole) == finished_keys(out)
    for key in finished_keys(out):
        for name in ("regions", "national", "levers"):
            assert_frame_equal(
                pd.read_parquet(out / "runs" / key / f"{name}.parquet"), pd.read_parquet(whole / "runs" / key / f"{name}.parquet")
            )


def test_cli_batch_summary_and_errors(tmp_path):
    path = experiment(tmp_path, f"scenarios: [{BASELINE}]\nseeds: 1\n")
    done = subprocess.run(
        [str(REGSIM), "batch", str(path), "--workers", "1", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "finished" in done.stdout and "wall time" in done.stdout
    again = subprocess.run([str(REGSIM), "batch", str(path), "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and again.stderr.startswith("regsim: error: --out:") and "Traceback" not in again.stderr
    bad = write(tmp_path / "bad.yaml", "name: x\nscenarios: []\nseeds: 1\n")
    done = subprocess.run([str(REGSIM), "batch", str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "bad.yaml: scenarios:" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_shipped_experiments_expand():
    comparison = expand(ROOT / "experiments" / "korea_policy_comparison.yaml")
    others = [
        "korea_2023_regional_plan",
        "korea_2023_regional_plan_mss",
        "super_regional_partnerships",
        "incheon_kitakyushu_cooperation",
        "japan_style_package",
        "decline_area_targeting",
        "korea_baseline_2011_2020",
    ]
    assert len(comparison) == (1 + len(others)) * 20
    assert [r.scenario for r in comparison[::20]] == ["korea_baseline", *others]
    assert all(r.scenario_dict["end_year"] == 2035 for r in comparison)
    sweep = expand(ROOT / "experiments" / "rd_grant_sweep.yaml")
    assert len(sweep) == (1 + 9) * 5 and all(r.invalid is None for r in sweep)
