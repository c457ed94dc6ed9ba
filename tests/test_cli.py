"""The ``regsim`` command: a real run end to end, and one-line errors (exit status 2) for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, PACK, REGION_CODES, ROOT, assert_one_line_error
from pandas.testing import assert_frame_equal

from sim.api import run, scenario_from_dict
from sim.errors import ScenarioError

REGSIM = Path(sys.executable).parent / "regsim"

REGION_COLUMNS = (
    "year",
    "region",
    "region_name",
    "population",
    "births",
    "deaths",
    "in_migrants",
    "out_migrants",
    "net_migration",
    "women_20_39",
    "persons_65_plus",
    "extinction_risk_index",
    "employed",
    "unemployed",
    "firms",
    "startups",
    "firm_exits",
    "rd_spending_krw",
    "grdp_krw",
)
RUN_KEYS = ("scenario_hash", "seed", "scale", "package_version", "git_commit", "wall_time_s")


def regsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(REGSIM), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)


# --- a real run ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "baseline"
    done = regsim("run", "scenarios/korea_baseline.yaml", "--until", "2025", "--out", out)
    return done, out


def test_run_exits_0_and_prints_a_summary(cli_run):
    done, out = cli_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for label in ("korea_baseline", "population (persons)", "capital-region share", "employed (persons)", "2023"):
        assert label in done.stdout, label
    assert str(out) in done.stdout.replace("\n", "")


def test_run_writes_the_four_outputs(cli_run):
    _, out = cli_run
    for name in ("regions.parquet", "national.parquet", "run.json", "summary.png"):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regions_parquet_schema_and_initial_row(cli_run):
    _, out = cli_run
    regions = pd.read_parquet(out / "regions.parquet")
    missing = set(REGION_COLUMNS) - set(regions.columns)
    assert not missing, missing
    assert all(isinstance(code, str) for code in regions["region"])
    assert sorted(regions["region"].unique()) == sorted(REGION_CODES)
    assert sorted(regions["year"].unique()) == [2023, 2024, 2025]
    assert regions.groupby("year").size().eq(17).all()
    start = regions[regions["year"] == 2023]
    later = regions[regions["year"] > 2023]
    for name in ("births", "deaths", "in_migrants", "out_migrants", "net_migration", "startups", "firm_exits", "rd_spending_krw"):
        assert start[name].isna().all(), name
        assert later[name].notna().all(), name
    for name in ("population", "women_20_39", "persons_65_plus", "employed", "unemployed", "firms", "grdp_krw"):
        assert start[name].notna().all() and (start[name] > 0).all(), name


def test_national_parquet_and_run_json(cli_run):
    _, out = cli_run
    national = pd.read_parquet(out / "national.parquet")
    assert "capital_region_share" in national.columns
    assert list(national["year"]) == [2023, 2024, 2025]
    assert national["capital_region_share"].between(0, 1).all()
    meta = json.loads((out / "run.json").read_text())
    missing = set(RUN_KEYS) - set(meta)
    assert not missing, missing
    assert meta["seed"] == 0 and meta["scale"] == 100
    assert len(meta["scenario_hash"]) == 64 and int(meta["scenario_hash"], 16) >= 0
    assert meta["wall_time_s"] >= 0
    assert isinstance(meta["git_commit"], str) and meta["git_commit"]


def test_cli_output_equals_the_python_api(cli_run):
    """The command and ``sim.results.run.run`` with the same scenario and seed give the same tables."""
    _, out = cli_run
    expected = run(BASELINE, seed=0, until=2025)
    assert_frame_equal(pd.read_parquet(out / "regions.parquet"), expected.regions, check_dtype=False)
    assert_frame_equal(pd.read_parquet(out / "national.parquet"), expected.national, check_dtype=False)
    meta = json.loads((out / "run.json").read_text())
    assert meta["scenario_hash"] == expected.metadata["scenario_hash"]


# --- bad input: one line on stderr, exit status 2 ----------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_scenario_file(tmp_path):
    done = regsim("run", tmp_path / "nowhere.yaml", "--until", "2024", "--out", tmp_path / "out")
    assert_one_line_error(done, "nowhere.yaml", "not found")
    assert not (tmp_path / "out").exists()


def test_malformed_yaml_names_line_and_column(tmp_path):
    scenario = write(tmp_path / "broken.yaml", "name: broken\nscale: 100\nfertility: {tfr_path: [1, 2\n")
    line = assert_one_line_error(regsim("run", scenario, "--until", "2024"), "broken.yaml")
    assert "line 3" in line or "line 4" in line, line
    assert "column" in line


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ("name: x\nscale_: 100\n", ("scale_", "'scale'")),
        ("name: x\nscale: many\n", ("scale", "many")),
        ("name: x\nstart_year: 2019\n", ("start_year", "2019")),
        ("name: x\nparameters:\n  demography.sex_ratio_at_brith: 105\n", ("sex_ratio_at_brith", "'demography.sex_ratio_at_birth'")),
        ("name: x\nparameters:\n  firms.young_firm_years: 4.5\n", ("parameters.firms.young_firm_years", "integer", "4.5")),
    ],
    ids=["unknown-key", "wrong-type", "start-year-without-data", "unknown-parameter", "parameter-of-wrong-type"],
)
def test_invalid_scenario(tmp_path, body, fragments):
    scenario = write(tmp_path / "bad.yaml", body)
    assert_one_line_error(regsim("run", scenario, "--until", "2024", "--out", tmp_path / "out"), "bad.yaml", *fragments)


def test_scale_zero(tmp_path):
    assert_one_line_error(regsim("run", "scenarios/korea_baseline.yaml", "--scale", "0", "--out", tmp_path / "o"), "scale")


def test_until_not_after_start_year(tmp_path):
    line = assert_one_line_error(regsim("run", "scenarios/korea_baseline.yaml", "--until", "2023", "--out", tmp_path / "o"), "end_year")
    assert "2023" in line


# Validation gaps found while writing these tests (in-process: the CLI uses the same validation).
def test_boolean_scale_is_rejected():
    with pytest.raises(ScenarioError, match="scale"):
        scenario_from_dict({"name": "x", "scale": True})


def test_scalar_for_a_list_parameter_is_rejected():
    with pytest.raises(ScenarioError, match="attainment_profile_ages"):
        scenario_from_dict({"name": "x", "parameters": {"universities.attainment_profile_ages": 5}})


def _broken_pack(tmp_path: Path, edit) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    edit(pack / "population_2023.csv")
    return write(tmp_path / "scenario.yaml", "name: own-pack\ndata_pack: pack\nscale: 400\n")


def _delete(path: Path) -> None:
    path.unlink()


def _non_numeric_persons(path: Path) -> None:
    table = pd.read_csv(path, dtype=str)
    table.loc[10, "persons"] = "many"
    table.to_csv(path, index=False)


def _unknown_region(path: Path) -> None:
    table = pd.read_csv(path, dtype=str)
    table.loc[table["region"] == "50", "region"] = "99"
    table.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [(_delete, "missing"), (_non_numeric_persons, "many"), (_unknown_region, "99")],
    ids=["missing-file", "malformed-file", "unknown-region"],
)
def test_broken_data_pack_names_the_file(tmp_path, edit, fragment):
    scenario = _broken_pack(tmp_path, edit)
    done = regsim("run", scenario, "--until", "2024", "--out", tmp_path / "out")
    assert_one_line_error(done, "population_2023.csv", fragment)


def test_copied_data_pack_runs(tmp_path):
    """Control for the broken-pack tests: the unmodified copy is accepted."""
    scenario = _broken_pack(tmp_path, lambda path: None)
    done = regsim("run", scenario, "--until", "2024", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "regions.parquet").is_file()


# --- help --------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("check", "--help")], ids=" ".join)
def test_help(args):
    done = regsim(*args)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout


@pytest.fixture(scope="module")
def check_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("check")
    return regsim("check", "--seeds", "3", "--out", out), out  # the README's figures: the mean over seeds 0-2


@pytest.mark.slow
def test_check_runs_and_writes_its_tables(check_run):
    done, out = check_run
    assert done.returncode in (0, 1), done.stderr  # 1 = some acceptance criterion failed
    assert "Traceback" not in done.stderr
    assert "Back-cast" in done.stdout and "Migration back-test" in done.stdout
    for name in ("projection_criteria.csv", "projection_provinces.csv", "backcast_2015_2023.csv", "migration_backtest.csv"):
        assert (out / name).is_file(), name
    criteria = pd.read_csv(out / "projection_criteria.csv")
    assert (criteria["passed"] == (criteria["error"] <= criteria["tolerance"])).all()
    assert done.returncode == (0 if criteria["passed"].all() else 1)


@pytest.mark.slow
def test_baseline_meets_its_validity_criteria(check_run):
    """The acceptance criteria of ``regsim check`` (sim/experiments/validation.py TOLERANCES) all pass."""
    _, out = check_run
    criteria = pd.read_csv(out / "projection_criteria.csv")
    assert criteria["passed"].all(), criteria.to_string()
