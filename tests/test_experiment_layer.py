"""One experiment layer: executors, the field-path language, documented parameter ranges, result
folders read through ``sim.results.store``, and the four experiment kinds on Dask from the command line."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT, assert_one_line_error, regsim

from sim.errors import DataError, RegsimError
from sim.experiments.executors import open_executor
from sim.experiments.experiment import check_field_paths, default_bounds, get_path, set_path, t_interval
from sim.inputs import parameters
from sim.results import store

UNTIL, SCALE = 2025, 1000


# --- executors -----------------------------------------------------------------------------------
def _square_or_fail(value: int) -> int:
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value * value


@pytest.mark.parametrize("kind, workers", [("inline", 1), ("local", 2)])
def test_executors_give_results_in_job_order_and_hand_back_errors(kind, workers):
    with open_executor(kind, workers) as executor:
        assert executor.submit(_square_or_fail, [(3,), (1,), (2,)]).results() == [9, 1, 4]
        outcomes = {i: (result, error) for i, result, error in executor.submit(_square_or_fail, [(2,), (-1,)]).as_completed()}
    assert outcomes[0] == (4, None)
    assert outcomes[1][0] is None and isinstance(outcomes[1][1], ValueError) and "negative: -1" in str(outcomes[1][1])


@pytest.mark.slow
def test_dask_executor_gives_the_same_results():
    pytest.importorskip("dask.distributed")
    with open_executor("dask", 2) as executor:
        assert executor.submit(_square_or_fail, [(3,), (1,), (2,)]).results() == [9, 1, 4]
        with pytest.raises(ValueError, match="negative"):
            executor.submit(_square_or_fail, [(-2,)]).results()


def test_executor_errors_are_in_domain_words():
    for kind, workers, scheduler, fragment in (
        ("ray", None, None, "executor: expected one of local, dask"),
        ("local", 0, None, "number of workers: must be at least 1"),
        ("local", 1, "tcp://h:1", "scheduler address needs the dask executor"),
    ):
        with pytest.raises(RegsimError, match=fragment) as raised, open_executor(kind, workers, scheduler):
            pass
        assert "--" not in str(raised.value)


# --- one field-path language ---------------------------------------------------------------------
def test_field_paths_set_and_get_every_kind_of_field():
    raw = {"parameters": {}, "levers": [{"lever": "x", "params": {}}]}
    set_path(raw, "parameters.migration.wage_weight", 1.5)
    set_path(raw, "levers[0].params.cofunding_rate", 0.8)
    set_path(raw, "levers[0].budget_krw_per_year", 5e10)
    assert raw["parameters"] == {"migration.wage_weight": 1.5}
    assert get_path(raw, "levers[0].params.cofunding_rate") == 0.8
    assert get_path(raw, "levers[0].budget_krw_per_year") == 5e10
    assert get_path(raw, "levers[3].start") is None


def test_a_parameter_without_its_prefix_names_the_field_path():
    with pytest.raises(ValueError, match=r"a parameter is written parameters\.migration\.wage_weight"):
        check_field_paths({"migration.wage_weight": None})


def test_t_interval_on_known_values():
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) · sd / √n
    assert math.isnan(t_interval([5.0])[1])


# --- parameter ranges ----------------------------------------------------------------------------
def test_documented_ranges_hold_their_values():
    catalogue = parameters.documented_parameters()
    with_range = 0
    for section, entries in catalogue.items():
        for name, entry in entries.items():
            bounds = parameters.parameter_range(f"{section}.{name}")
            if bounds is None:
                continue
            with_range += 1
            values = entry["value"].values() if isinstance(entry["value"], dict) else [entry["value"]]
            assert bounds[0] < bounds[1] and all(bounds[0] <= v <= bounds[1] for v in values), (section, name)
    assert with_range >= 30
    assert parameters.parameter_range("migration.housing_cost_weight") == (0.1, 0.5)  # its note: "Vary 0.1-0.5"
    assert default_bounds("parameters.migration.housing_cost_weight") == (0.1, 0.5)
    assert default_bounds("levers[0].params.cofunding_rate") is None


@pytest.mark.parametrize(
    "bounds, fragment",
    [
        ("[0.6, 0.5]", "low (0.6) must be below high (0.5)"),
        ("[0.3, 0.5]", "value 0.25 is outside [0.3, 0.5]"),
        ("[0.1]", "expected [low, high]"),
    ],
)
def test_a_broken_range_is_refused_when_the_file_is_read(tmp_path, monkeypatch, bounds, fragment):
    text = parameters.PARAMETER_FILE.read_text(encoding="utf-8").replace("    range: [0.1, 0.5]\n", f"    range: {bounds}\n", 1)
    broken = tmp_path / "parameters.yaml"
    broken.write_text(text, encoding="utf-8")
    monkeypatch.setattr(parameters, "PARAMETER_FILE", broken)
    parameters._documented.cache_clear()
    try:
        with pytest.raises(DataError, match="housing_cost_weight.range") as raised:
            parameters.default_parameters()
        assert fragment in str(raised.value)
    finally:
        parameters._documented.cache_clear()


def test_sensitivity_bounds_default_to_the_documented_range(tmp_path):
    from sim.experiments.sensitivity import load_design

    path = tmp_path / "sensitivity.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "ranges",
                "scenario": str(BASELINE),
                "samples": 2,
                "until": UNTIL,
                "scale": SCALE,
                "parameters": {
                    "parameters.migration.wage_weight": None,
                    "parameters.innovation.rnd_elasticity": {"low": 0.65, "high": 0.7},
                },
                "outcomes": {"population": {"measure": "population", "year": UNTIL}},
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    assert load_design(path).problem["bounds"] == [[0.0, 2.0], [0.65, 0.7]]


# --- result folders through sim.results.store ------------------------------------------------------------
def test_writers_leave_no_temporary_file_and_readers_name_a_missing_file(tmp_path):
    store.write_json(tmp_path / "tune.json", {"experiment": "x", "value": 1})
    store.write_csv(tmp_path / "top_trials.csv", pd.DataFrame({"number": [0]}))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["top_trials.csv", "tune.json"]
    assert store.folder_kind(tmp_path) == "tuning"
    assert store.read_output(tmp_path, "tuning", "marker") == {"experiment": "x", "value": 1}
    assert store.read_output(tmp_path, "tuning", "check") is None  # optional: the fresh-seed check
    with pytest.raises(RegsimError, match=r"trials\.csv: missing from the tuning folder"):
        store.read_output(tmp_path, "tuning", "trials")


def test_report_of_a_folder_missing_an_expected_file_names_it(tmp_path):
    from report_folders import make_tuning

    folder = make_tuning(tmp_path / "tuning")
    (folder / "trials.csv").unlink()
    done = regsim("report", folder)
    assert_one_line_error(done, "trials.csv", "missing")


def test_run_result_write_draws_no_figure(baseline_run, tmp_path):
    baseline_run.write(tmp_path / "run")
    written = [store.TABLES[name] for name in baseline_run.tables()]  # municipalities.parquet only at resolution sigungu
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == sorted([*written, store.RUN_INFO])
    assert store.folder_kind(tmp_path / "run") == "run"


# --- the four experiment kinds on Dask, from the command line -----------------------------------
def _scenario(folder: Path) -> Path:
    path = folder / "plan.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: plan\nend_year: {UNTIL}\nscale: {SCALE}\nlevers:\n"
        "- {lever: key_industry_rnd, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: non_capital}\n"
        "- {lever: business_support_services, budget_krw_per_year: 5.0e10, start: 2024, end: 2025, region_type: non_capital}\n",
        encoding="utf-8",
    )
    return path


def _experiments(folder: Path) -> dict[str, tuple[str, dict]]:
    """command -> (experiment file name, fields): the smallest honest experiment of each kind."""
    scenario = str(_scenario(folder))
    return {
        "batch": (
            "batch.yaml",
            {
                "name": "b",
                "scenarios": [str(BASELINE), scenario],
                "seeds": 1,
                "until": UNTIL,
                "scale": SCALE,
                "sweep": {"parameters": {"levers[0].budget_krw_per_year": {"values": [1.0e10, 5.0e10]}}},
            },
        ),
        "sensitivity": (
            "sensitivity.yaml",
            {
                "name": "s",
                "scenario": scenario,
                "samples": 2,
                "until": UNTIL,
                "parameters": {"parameters.migration.wage_weight": None},
                "outcomes": {"employed": {"measure": "employed", "year": UNTIL}},
            },
        ),
        "tune": (
            "tune.yaml",
            {
                "name": "t",
                "scenario": scenario,
                "seeds": 1,
                "trials": 2,
                "budget": {"total_krw_per_year": 1.0e11, "shares": {"levers[0]": {}, "levers[1]": {}}},
                "objectives": [{"name": "spending", "measure": "lever_spending_krw", "year": UNTIL, "regions": "non_capital"}],
            },
        ),
        "calibrate": (
            "calibrate.yaml",
            {
                "name": "c",
                "scenario": str(BASELINE),
                "start_year": 2015,
                "fit_years": [2016, 2017],
                "holdout_years": [2018, 2018],
                "scale": SCALE,
                "seeds": [0],
                "evaluation_seeds": [1],
                "trials": 2,
                "parameters": {"parameters.migration.housing_cost_weight": None},
            },
        ),
    }


BAD_FIELDS = {
    "batch": ("sweep", {"parameters": {"migration.wage_weight": {"values": [1.0]}}}, "parameters.migration.wage_weight"),
    "sensitivity": ("parameters", {"parameters.migration.wage_weigth": None}, "parameters"),
    "tune": ("variables", {"levers[0].start": {"low": 2030, "high": 2020}}, "variables.levers[0].start"),
    "calibrate": ("parameters", {"migration.housing_cost_weight": {"low": 0, "high": 1}}, "parameters.migration.housing_cost_weight"),
}


@pytest.mark.parametrize("command", list(BAD_FIELDS))
def test_bad_experiment_on_dask_is_one_line_naming_file_and_field(tmp_path, command):
    name, fields = _experiments(tmp_path)[command]
    field, value, fragment = BAD_FIELDS[command]
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**fields, field: value}), encoding="utf-8")
    done = regsim(command, path, "--executor", "dask", "--workers", "1", "--out", tmp_path / "out", timeout=120)
    assert_one_line_error(done, str(path), fragment)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["batch", "sensitivity", "tune", "calibrate"])
def test_every_experiment_kind_runs_on_dask(tmp_path, command):
    pytest.importorskip("dask.distributed")
    name, fields = _experiments(tmp_path)[command]
    path = tmp_path / name
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    out = tmp_path / "out"
    done = regsim(command, path, "--executor", "dask", "--workers", "2", "--out", out, timeout=900)
    assert done.returncode == 0, done.stderr
    kind = {"batch": "batch", "sensitivity": "sensitivity", "tune": "tuning", "calibrate": "calibration"}[command]
    assert store.folder_kind(out) == kind
    marker = store.read_output(out, kind, "marker")
    if kind == "batch":
        assert [run["status"] for run in marker["runs"]] == ["finished"] * 3  # reference + two sweep points
    for role in store.FOLDERS[kind].files:
        assert store.FOLDERS[kind].path(out, role).exists(), role


def test_packaged_experiments_use_the_field_path_language():
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        paths = [*(spec.get("parameters") or {}), *((spec.get("sweep") or {}).get("parameters") or {}), *(spec.get("variables") or {})]
        check_field_paths(dict.fromkeys(re.sub(r"\.[0-9+]+$", "", path) for path in paths))  # calibration: .<region codes>


def test_outcome_regions_come_from_the_scenario_data_pack(tmp_path):
    from sim.api import scenario_from_dict
    from sim.results.outcomes import Outcome, outcome_level, region_sets

    pack = tmp_path / "pack"
    pack.mkdir()
    table = pd.read_csv(ROOT / "sim" / "inputs" / "data" / "korea" / "regions.csv", dtype={"region": str})
    table.loc[table["region"] == "26", "capital_region"] = 1  # Busan counted with the capital region
    table.to_csv(pack / "regions.csv", index=False)
    packaged = region_sets(scenario_from_dict({"name": "packaged"}))
    moved = region_sets(scenario_from_dict({"name": "moved", "data_pack": str(pack)}))
    assert packaged["capital"] == {"11", "28", "41"} and moved["capital"] == {"11", "26", "28", "41"}
    regions = pd.DataFrame({"year": 2030, "region": ["11", "26", "27"], "population": [10.0, 20.0, 40.0]})
    capital = Outcome(measure="population", year=2030, regions="capital")
    assert outcome_level(regions, capital, packaged) == 10.0 and outcome_level(regions, capital, moved) == 30.0
    assert "unknown region code '99'" in Outcome(measure="population", year=2030, regions=["99"]).check_regions(packaged)
