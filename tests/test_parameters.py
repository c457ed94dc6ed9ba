"""Parameters declared once: ``sim/inputs/data/parameters.yaml`` (value, unit, source, range) and the typed
sections of ``sim/inputs/parameters.py`` (name and type) describe the same entries; overrides keep their errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from sim.api import scenario_from_dict
from sim.errors import DataError, ScenarioError
from sim.inputs import parameters
from sim.inputs.parameters import ByAgeBand, ByRegion, Parameters, default_parameters, documented_parameters, parameter_keys, with_overrides


def test_every_yaml_entry_has_a_field_and_every_field_an_entry():
    documented = {f"{section}.{name}" for section, entries in documented_parameters().items() for name in entries}
    assert documented == set(parameter_keys())
    assert len(parameter_keys()) == len(set(parameter_keys())) == 71
    assert list(documented_parameters()) == list(Parameters.model_fields)  # sections in file order


def test_every_entry_has_a_range_or_says_why_not():
    for section, entries in documented_parameters().items():
        for name, entry in entries.items():
            assert ("range" in entry) != ("fixed" in entry), f"{section}.{name}"
            if "fixed" in entry:
                assert len(entry["fixed"]) > 20, f"{section}.{name}: the reason is a sentence"
            value = entry["value"]
            if isinstance(value, (int, float)) and "range" not in entry:  # a number without a range is a definition
                assert any(word in entry["fixed"] for word in ("definitional", "definition", "statutory", "conversion", "fitted")), name


def test_defaults_are_the_yaml_values_with_their_types():
    p = default_parameters()
    documented = documented_parameters()
    for key in parameter_keys():
        section, name = key.split(".")
        value, raw = p.value(key), documented[section][name]["value"]
        if isinstance(raw, dict):
            assert value.items() == list(raw.items()), key
        elif isinstance(raw, list):
            assert list(value) == raw, key
        else:
            assert value == raw, key
    assert isinstance(p.firms.young_firm_years, int) and isinstance(p.universities.entry_age, int)
    assert isinstance(p.migration.wage_weight, float) and isinstance(p.firms.tradable_industries, tuple)
    assert isinstance(p.demography.fertility_multiplier, ByRegion) and isinstance(p.labour.participation_age_profile, ByAgeBand)


def test_parameters_are_frozen():
    p = default_parameters()
    with pytest.raises(ValidationError):
        p.migration.wage_weight = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        p.migration = p.migration  # type: ignore[misc]


def test_overrides_are_typed_and_leave_the_defaults_alone():
    changed = with_overrides({"migration.wage_weight": 1, "firms.young_firm_years": 4, "demography.fertility_multiplier": _regions(1.05)})
    assert changed.migration.wage_weight == 1.0 and isinstance(changed.migration.wage_weight, float)
    assert changed.firms.young_firm_years == 4 and isinstance(changed.firms.young_firm_years, int)
    assert changed.demography.fertility_multiplier["11"] == 1.05
    assert default_parameters().migration.wage_weight == 0.5
    assert with_overrides({}) == default_parameters()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"migration.wage_weigth": 1.0}, "parameters.migration.wage_weigth: unknown parameter; did you mean 'migration.wage_weight'?"),
        ({"migration.wage_weight": "high"}, "parameters.migration.wage_weight: expected a finite number, found str 'high'"),
        (
            {"firms.young_firm_years": 4.5},
            "parameters.firms.young_firm_years: Input should be a valid integer, got a number with a fractional part (found 4.5)",
        ),
        (
            {"migration.calibration_period": "2010-2019"},
            "parameters.migration.calibration_period: unknown window; packaged windows: 2011-2020",
        ),
        (
            {"demography.international_migrant_region_allocation": "employment_share"},
            "parameters.demography.international_migrant_region_allocation: Input should be 'population_share'",
        ),
        (
            {"demography.fertility_multiplier": {"11": 1.0}},
            "parameters.demography.fertility_multiplier: expected a mapping with keys 11, 26",
        ),
    ],
)
def test_bad_overrides_name_the_field_path(overrides, message):
    with pytest.raises(ScenarioError) as raised:
        with_overrides(overrides)
    assert str(raised.value).startswith(message)


def test_a_scenario_error_names_the_file_too():
    with pytest.raises(ScenarioError, match=r"^plan\.yaml: parameters\.firms\.young_firm_years: .*integer"):
        scenario_from_dict({"name": "x", "parameters": {"firms.young_firm_years": 4.5}}, source="plan.yaml")


def test_by_region_in_order_and_by_age_band_hand_computed():
    shift = ByRegion({"26": 0.1, "11": -0.2})
    assert shift.in_order(["11", "26", "99"], 0.0).tolist() == [-0.2, 0.1, 0.0]
    profile = ByAgeBand({"15-19": 0.1, "20-24": 0.5}).by_single_age(30)
    assert profile[14] == 0.0 and profile[15:20].tolist() == [0.1] * 5 and profile[20:25].tolist() == [0.5] * 5 and profile[25] == 0.0


def test_rogers_castro_shape_names_the_fitted_coefficients():
    m = default_parameters().migration
    assert m.rogers_castro_shape() == {
        "a1": 0.1161,
        "alpha1": 0.0837,
        "a2": 0.3762,
        "alpha2": 0.0837,
        "mu2": 22.63,
        "lambda2": 0.4,
        "c": 0.052,
    }


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (
            lambda text: text.replace("  wage_weight:\n", "  wage_wieght:\n", 1),
            "migration.wage_wieght: unknown key; did you mean 'wage_weight'?",
        ),
        (
            lambda text: _without_entry(text, "amenity_weight"),
            "migration.amenity_weight: required field is missing",
        ),
        (
            lambda text: text.replace("    value: 19\n", "    value: nineteen\n", 1),
            "universities.entry_age: Input should be a valid integer",
        ),
        (
            lambda text: text.replace("    range: [0.5, 0.7]\n", "", 1),
            "labour.matching_elasticity_unemployment: expected either range or fixed",
        ),
        (
            lambda text: text.replace("    range: [0.1, 0.3]\n", "    range: [0.1, 0.3]\n    range: [0.1, 0.4]\n", 1),
            "key 'range' given twice",
        ),
    ],
    ids=["entry-without-field", "field-without-entry", "wrong-type", "neither-range-nor-fixed", "duplicate-key"],
)
def test_a_file_that_disagrees_with_the_fields_is_refused(tmp_path, monkeypatch, edit, fragment):
    broken = tmp_path / "parameters.yaml"
    broken.write_text(edit(parameters.PARAMETER_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.setattr(parameters, "PARAMETER_FILE", broken)
    parameters._documented.cache_clear()
    try:
        with pytest.raises(DataError) as raised:
            default_parameters()
        assert fragment in str(raised.value) and str(broken) in str(raised.value)
    finally:
        parameters._documented.cache_clear()


def test_new_ranges_hold_their_sourced_endpoints():
    """Spot checks of ranges added from sources (issue 13): the endpoints are the cited figures."""
    assert parameters.parameter_range("demography.sex_ratio_at_birth") == (104.7, 105.5)
    assert parameters.parameter_range("firms.birth_rate") == (0.136, 0.153)
    assert parameters.parameter_range("labour.matching_elasticity_unemployment") == (0.5, 0.7)
    assert parameters.parameter_range("universities.entry_age") is None


def _without_entry(text: str, name: str) -> str:
    """``text`` of parameters.yaml without the entry ``name`` (its key line and its indented lines)."""
    start = text.index(f"\n  {name}:\n") + 1
    end = text.index("\n  ", text.index("\n", start))
    while text[end + 3] == " ":  # the entry's own lines are indented by four
        end = text.index("\n  ", end + 1)
    return text[:start] + text[end + 1 :]


def _regions(value: float) -> dict[str, float]:
    return {code: value for code in default_parameters().demography.fertility_multiplier.keys()}


def test_region_codes_of_mappings_are_the_packs():
    from sim.inputs.pack import RegionPack

    codes = list(RegionPack.load("korea", 2023).codes)
    p = default_parameters()
    assert p.demography.fertility_multiplier.keys() == codes == p.migration.destination_constant_shift.keys()
    assert np.all(p.migration.destination_constant_shift.in_order(codes, math.nan) == 0.0)
