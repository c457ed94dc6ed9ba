"""Behavioural parameters: defaults from ``sim/inputs/data/parameters.yaml``, overridden by scenarios.

Every default carries its unit and either a source or ``assumption: true`` in the YAML file; this
module only reads the values and applies a scenario's ``parameters:`` overrides
(``{"section.name": value}``).
"""

from __future__ import annotations

import copy
import difflib
import math
from functools import cache
from typing import Any

import yaml

from sim.errors import DataError, ScenarioError
from sim.inputs.data import DATA_DIR

PARAMETER_FILE = DATA_DIR / "parameters.yaml"

Parameters = dict[str, dict[str, Any]]


@cache
def _documented() -> dict[str, dict[str, dict[str, Any]]]:
    try:
        with PARAMETER_FILE.open(encoding="utf-8") as handle:
            catalogue = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"parameter file unreadable: {PARAMETER_FILE}: {exc}") from None
    for section, entries in catalogue.items():
        for name, entry in (entries or {}).items():
            if "range" in entry:
                _check_range(f"{section}.{name}", entry)
    return catalogue


def _check_range(key: str, entry: dict[str, Any]) -> None:
    """DataError unless ``entry['range']`` is [low, high] with low < high and every value of the
    entry (one number, or each value of a mapping by region) within it."""
    bounds = entry["range"]
    where = f"{PARAMETER_FILE}: {key}.range"
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
        raise DataError(f"{where}: expected [low, high] (two numbers), found {bounds!r}")
    low, high = bounds
    if not low < high:
        raise DataError(f"{where}: low ({low:g}) must be below high ({high:g})")
    value = entry["value"]
    values = value.values() if isinstance(value, dict) else [value]
    if not all(_is_number(v) for v in values):
        raise DataError(f"{where}: only numbers and mappings of numbers have a range, found value {value!r}")
    outside = [v for v in values if not low <= v <= high]
    if outside:
        raise DataError(f"{where}: value {outside[0]:g} is outside [{low:g}, {high:g}]")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def documented_parameters() -> dict[str, dict[str, dict[str, Any]]]:
    """The full parameter catalogue: section -> name -> {value, unit, range, source | assumption, note}."""
    return copy.deepcopy(_documented())


def default_parameters() -> Parameters:
    """Section -> name -> value, as documented."""
    return {section: {name: entry["value"] for name, entry in (entries or {}).items()} for section, entries in _documented().items()}


def parameter_keys() -> list[str]:
    """Every valid ``section.name`` key a scenario may override."""
    return [f"{section}.{name}" for section, names in default_parameters().items() for name in names]


def with_overrides(overrides: dict[str, Any], where: str = "parameters") -> Parameters:
    """Defaults with a scenario's ``{"section.name": value}`` overrides applied.

    An unknown key is a ScenarioError that names the closest valid key.
    """
    parameters = default_parameters()
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if section not in parameters or name not in parameters[section]:
            close = difflib.get_close_matches(key, parameter_keys(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ScenarioError(f"{where}.{key}: unknown parameter{hint}")
        parameters[section][name] = _checked(f"{where}.{key}", parameters[section][name], value)
    return parameters


def _checked(path: str, default: Any, value: Any) -> Any:
    """``value`` if it has the shape of ``default`` (number, text, list — numeric lists of the same
    length, as they are profiles — mapping with the same keys, recursively); a ScenarioError otherwise."""

    def fail(expected: str) -> ScenarioError:
        return ScenarioError(f"{path}: expected {expected}, found {type(value).__name__} {value!r}")

    if isinstance(default, bool) or isinstance(value, bool):
        if type(default) is not type(value):
            raise fail(type(default).__name__)
        return value
    if isinstance(default, (int, float)):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise fail("a finite number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise fail("text")
        return value
    if isinstance(default, list):
        numeric = all(isinstance(d, (int, float)) for d in default)
        if not isinstance(value, list) or (numeric and len(value) != len(default)):
            raise fail(f"a list of {len(default)} numbers" if numeric else "a list")
        return [_checked(f"{path}[{i}]", default[min(i, len(default) - 1)], v) for i, v in enumerate(value)]
    if isinstance(default, dict):
        if not isinstance(value, dict) or set(value) != set(default):
            raise fail(f"a mapping with keys {', '.join(map(str, default))}")
        return {k: _checked(f"{path}.{k}", default[k], value[k]) for k in default}
    return value


def parameter_range(key: str) -> tuple[float, float] | None:
    """The recorded ``range: [low, high]`` of the entry ``section.name`` (the value's unit), or None
    if the entry records none. An unknown key is a ScenarioError naming the closest valid key."""
    section, _, name = key.partition(".")
    entry = (_documented().get(section) or {}).get(name)
    if entry is None:
        close = difflib.get_close_matches(key, parameter_keys(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(f"{key}: unknown parameter{hint}")
    recorded = entry.get("range")
    return None if recorded is None else (float(recorded[0]), float(recorded[1]))


FRACTION_UNITS = ("share", "probability", "(fraction)", "(0-1)")
"""Words of a parameter's unit that make it a fraction of one (a value outside [0, 1] is invalid)."""


def parameter_validity(key: str) -> tuple[float, float] | None:
    """The values ``section.name`` can take at all, from its unit: [0, 1] for a share, probability
    or fraction; None if the unit implies no bound (the scenario's own checks still apply)."""
    section, _, name = key.partition(".")
    unit = str(((_documented().get(section) or {}).get(name) or {}).get("unit", ""))
    return (0.0, 1.0) if unit.startswith(FRACTION_UNITS[:2]) or any(word in unit for word in FRACTION_UNITS[2:]) else None
