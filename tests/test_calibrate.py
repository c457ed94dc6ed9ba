"""``regsim calibrate``: neutral calibration knobs, the loss, recovery of a known parameter, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BASELINE, REGION_CODES, ROOT, assert_one_line_error
from pandas.testing import assert_frame_equal

from sim.analysis.plots import write_calibration_figure
from sim.api import load_scenario, run
from sim.experiments.calibrate import (
    CalibrationError,
    Observed,
    Paths,
    calibrate,
    fit_measures,
    load_calibration,
    naive_forecasts,
    simulate,
)
from sim.inputs.parameters import parameter_range

REGSIM = Path(sys.executable).parent / "regsim"
SEJONG = "36"


def _backcast(**parameters) -> pd.DataFrame:
    scenario = load_scenario(BASELINE, start_year=2015, end_year=2017, scale=400)
    scenario = scenario.model_copy(update={"parameters": parameters})
    return run(scenario, seed=4, paired_baseline=False).regions


# --- the calibration knobs -------------------------------------------------------------------
def test_knobs_at_neutral_values_change_nothing():
    neutral = {
        "migration.destination_constant_shift": {code: 0.0 for code in REGION_CODES},
        "demography.fertility_multiplier": {code: 1.0 for code in REGION_CODES},
    }
    assert_frame_equal(_backcast(), _backcast(**neutral))


def test_knobs_act_on_their_region_and_mechanism():
    default = _backcast().set_index(["year", "region"])
    shift = {code: 0.0 for code in REGION_CODES} | {SEJONG: 0.5}
    shifted = _backcast(**{"migration.destination_constant_shift": shift}).set_index(["year", "region"])
    assert shifted.loc[(2017, SEJONG), "in_migrants"] > 1.3 * default.loc[(2017, SEJONG), "in_migrants"]
    fertile = _backcast(**{"demography.fertility_multiplier": {code: 1.3 for code in REGION_CODES}}).set_index(["year", "region"])
    ratio = fertile["births"].groupby("year").sum().loc[2016:] / default["births"].groupby("year").sum().loc[2016:]
    assert ratio.between(1.2, 1.4).all()


# --- loss and naive forecasts on known inputs -------------------------------------------------
def test_loss_on_known_inputs():
    years = [2016, 2017]
    observed = Observed(
        population=pd.DataFrame({2015: [100.0, 200.0], 2016: [100.0, 200.0], 2017: [100.0, 200.0]}, index=["a", "b"]),
        net_migration=pd.DataFrame({2016: [10.0, -10.0], 2017: [0.0, 0.0]}, index=["a", "b"]),
    )
    simulated = Paths(
        population=pd.DataFrame({2016: [101.0, 200.0], 2017: [100.0, 196.0]}, index=["a", "b"]),  # errors 1 %, 0, 0, -2 %
        net_migration=pd.DataFrame({2016: [12.0, -10.0], 2017: [0.0, 2.0]}, index=["a", "b"]),  # rate errors 2 %, 0, 0, 1 %
    )
    measures = fit_measures(simulated, observed, years, net_weight=0.5)
    assert measures["population_term"] == pytest.approx((1 + 4) / 4)
    assert measures["population_mape_pct"] == pytest.approx(3 / 4)
    assert measures["net_migration_term"] == pytest.approx((4 + 1) / 4)
    assert measures["net_migration_mae_pct"] == pytest.approx(3 / 4)
    assert measures["loss"] == pytest.approx(1.25 + 0.5 * 1.25)


def test_naive_forecasts_extend_level_and_trend():
    population = pd.DataFrame(
        {2011: [np.nan, 10.0], 2012: [4.0, 12.0], 2013: [6.0, 14.0], 2014: [8.0, 16.0], 2015: [10.0, 18.0]}, index=["a", "b"]
    )
    observed = Observed(population=population, net_migration=population * 0)
    naive = naive_forecasts(observed, 2015, [2011, 2012, 2013, 2014, 2015], [2016, 2018])
    assert naive["no change"].population[2018].tolist() == [10.0, 18.0]
    assert naive["linear trend"].population[2018].tolist() == pytest.approx([16.0, 24.0])  # a missing year is skipped


# --- recovery of a known parameter -----------------------------------------------------------
TRUE_MULTIPLIER = 1.25


def _experiment(tmp_path: Path, **changes) -> Path:
    spec = {
        "name": "synthetic",
        "scenario": str(BASELINE),
        "start_year": 2015,
        "fit_years": [2016, 2019],
        "holdout_years": [2020, 2020],
        "scale": 400,
        "seeds": [5],
        "evaluation_seeds": [5],
        "trials": 16,
        "parameters": {"parameters.demography.fertility_multiplier": {"low": 0.8, "high": 1.5}},
    } | changes
    path = tmp_path / "calibrate.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_recovers_a_known_fertility_multiplier_and_resumes(tmp_path):
    loaded = load_calibration(_experiment(tmp_path))
    truth = {"demography.fertility_multiplier": {code: TRUE_MULTIPLIER for code in REGION_CODES}}
    synthetic = simulate({**loaded.base.model_dump(), "end_year": 2020, "parameters": truth}, [5])
    observed = Observed(synthetic.population, synthetic.net_migration)
    out = tmp_path / "out"
    result = calibrate(loaded, out, observed=observed)
    assert result.best["parameters.demography.fertility_multiplier"] == pytest.approx(TRUE_MULTIPLIER, abs=0.05)
    table = result.table.set_index("forecast")
    assert table.loc["calibrated", "loss"] < 0.1 * table.loc["default parameters", "loss"]

    report = json.loads((out / "calibration.json").read_text())
    assert report["loss"]["calibrated_on_fit_seeds"] <= report["loss"]["default_on_fit_seeds"]
    assert {"experiment_hash", "git_commit", "package_version", "seeds", "errors"} <= set(report)
    assert {"fit.csv", "calibrated.yaml", "study.db"} <= {path.name for path in out.iterdir()}
    assert not (out / "calibration.png").exists()  # computing results draws no figure
    assert write_calibration_figure(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    calibrated = load_scenario(out / "calibrated.yaml")  # extends the base scenario by a relative path
    assert calibrated.start_year == 2023
    assert calibrated.parameters["demography.fertility_multiplier"][SEJONG] == result.best["parameters.demography.fertility_multiplier"]

    with pytest.raises(CalibrationError, match="resume it"):
        calibrate(loaded, out, observed=observed)
    resumed = calibrate(loaded, out, trials=18, resume=True, observed=observed)
    assert resumed.trials == 18


# --- bad input: one line, exit status 2 --------------------------------------------------------
@pytest.mark.parametrize(
    "changes, fragments",
    [
        (
            {"parameters": {"parameters.migration.housing_cost_weight": {"low": 1.0, "high": 0.0}}},
            ("parameters.parameters.migration.housing_cost_weight", "must be below high"),
        ),
        (
            {"parameters": {"parameters.migration.housing_cost_weigth": {"low": 0.0, "high": 1.0}}},
            ("unknown parameter", "did you mean 'parameters.migration.housing_cost_weight'"),
        ),
        (
            {"parameters": {"migration.housing_cost_weight": {"low": 0.0, "high": 1.0}}},  # the form before one field-path language
            ("parameters.migration.housing_cost_weight", "a parameter is written as a field path"),
        ),
        ({"parameters": {"parameters.migration.amenity_weight": None}}, ("amenity_weight", "no range in sim/inputs/data/parameters.yaml")),
        ({"holdout_years": [2019, 2021]}, ("holdout_years 2019-2021 overlap fit_years 2016-2019",)),
    ],
)
def test_bad_experiment_is_one_line_exit_2(tmp_path, changes, fragments):
    path = _experiment(tmp_path, **changes)
    done = subprocess.run(
        [str(REGSIM), "calibrate", str(path), "--out", str(tmp_path / "o")],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(done, str(path), *fragments)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"parameters": {"parameters.migration.destination_constant_shift.99": {"low": -0.1, "high": 0.1}}}, "unknown region code(s) 99"),
        ({"parameters": {"parameters.migration.wage_weight.11": {"low": 0.0, "high": 2.0}}}, "is one number, not given per region"),
        ({"parameters": {"parameters.migration.calibration_period": {"low": 0.0, "high": 2.0}}}, "not a numeric parameter"),
        ({"parameters": {"parameters.migration.wage_weight": {"low": 1.5, "high": 2.0}}}, "value 0.5 is outside [1.5, 2.0]"),
        ({"sampler": "cma"}, "sampler"),
        ({"fit_years": [2015, 2019]}, "must start after start_year 2015"),
        ({"holdout_years": [2021, 2030]}, "observed populations end in 2023"),
    ],
)
def test_bad_experiment_names_file_and_field(tmp_path, changes, fragment):
    path = _experiment(tmp_path, **changes)
    with pytest.raises(CalibrationError) as caught:
        load_calibration(path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_packaged_experiment_is_valid():
    loaded = load_calibration(ROOT / "experiments" / "calibrate_korea.yaml")
    assert loaded.spec.holdout_years == [2021, 2023]
    assert all(parameter.low <= parameter.default <= parameter.high for parameter in loaded.free)
    assert loaded.fingerprint() == load_calibration(ROOT / "experiments" / "calibrate_korea.yaml").fingerprint()


def test_bounds_default_to_the_documented_range(tmp_path):
    path = _experiment(
        tmp_path,
        parameters={
            "parameters.migration.housing_cost_weight": None,
            "parameters.migration.destination_constant_shift.36": None,
        },
    )
    free = {parameter.label: parameter for parameter in load_calibration(path).free}
    housing = free["parameters.migration.housing_cost_weight"]
    assert (housing.low, housing.high) == parameter_range("migration.housing_cost_weight") == (0.1, 0.5)
    sejong = free["parameters.migration.destination_constant_shift.36"]
    assert (sejong.low, sejong.high, sejong.codes) == (-0.2, 0.2, ("36",))  # a mapping's range bounds each region
