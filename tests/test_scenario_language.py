"""The scenario language: one-line errors naming file and field path, ``extends:``, ``regsim validate``.

Validation only (no simulation). The command-line cases run the real ``regsim`` executable; the
property test feeds randomly damaged scenarios to ``scenario_from_dict``.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASELINE, REGION_CODES, ROOT, assert_one_line_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import load_scenario, scenario_from_dict
from sim.errors import ScenarioError
from sim.inputs.scenario import Scenario

REGSIM = Path(sys.executable).parent / "regsim"


def regsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(REGSIM), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


LEVER = """\
name: policy
start_year: 2023
end_year: 2027
scale: 400
levers:
  - lever: key_industry_rnd
    budget_krw_per_year: 6.88e10
    start: 2024
    end: 2026
"""


def lever_file(tmp_path: Path, **replace: str) -> Path:
    """LEVER with lines ``key: value`` of the lever replaced (or, for new keys, added)."""
    text = LEVER
    for key, value in replace.items():
        pattern = re.compile(rf"^    {key}: .*$", re.M)
        line = f"    {key}: {value}"
        text = pattern.sub(line, text) if pattern.search(text) else text + line + "\n"
    return write(tmp_path / "policy.yaml", text)


def test_the_valid_lever_scenario_is_accepted(tmp_path):
    """Control for the error cases below: the undamaged file loads."""
    scenario = load_scenario(lever_file(tmp_path))
    assert [spec.lever for spec in scenario.levers] == ["key_industry_rnd"]
    assert scenario.levers[0].budget_krw(10.0) == 6.88e10


# --- one-line errors, through the real command ------------------------------------------------
@pytest.mark.parametrize(
    ("replace", "fragments"),
    [
        ({"lever": "key_industry_rd"}, ("levers[0].lever", "key_industry_rd", "'key_industry_rnd'")),
        ({"regions": "['11', '99']"}, ("levers[0].regions[1]", "'99'")),
        ({"budget_krw_per_year": "-5"}, ("levers[0].budget_krw_per_year", "-5")),
        ({"end": "2023"}, ("levers[0].end", "start", "2023")),
        ({"start": "soon"}, ("levers[0].start", "soon")),
        ({"budget_krw": "1e9"}, ("levers[0].budget_krw", "'budget_krw_per_year'")),
        ({"params": "{cap_per_firm: 1}"}, ("levers[0].params.cap_per_firm", "'cap_per_firm_krw'")),
        ({"params": "{cap_per_firm_krw: lots}"}, ("levers[0].params.cap_per_firm_krw", "lots")),
        ({"budget_jpy_per_year": "1e9"}, ("levers[0]", "budget_krw_per_year", "budget_jpy_per_year")),
        ({"industries": "[C, Q9]"}, ("levers[0].industries[1]", "Q9")),
        ({"region_type": "rural"}, ("levers[0].region_type", "rural")),
    ],
    ids=[
        "unknown-lever",
        "unknown-region",
        "negative-budget",
        "end-before-start",
        "wrong-type",
        "unknown-lever-key",
        "unknown-lever-parameter",
        "wrong-parameter-type",
        "both-budgets",
        "unknown-industry",
        "unknown-region-type",
    ],
)
def test_invalid_lever(tmp_path, replace, fragments):
    scenario = lever_file(tmp_path, **replace)
    line = assert_one_line_error(regsim("validate", scenario), "policy.yaml", *fragments)
    assert line.startswith(f"regsim: error: {scenario}: "), line


@pytest.mark.parametrize(
    ("replace", "fragments"),
    [
        ({"lever": "key_industry_rd"}, ("levers[0].lever", "'key_industry_rnd'")),
        ({"regions": "['99']"}, ("levers[0].regions[0]", "'99'")),
        ({"params": "{cap_per_firm: 1}"}, ("levers[0].params.cap_per_firm", "'cap_per_firm_krw'")),
    ],
    ids=["unknown-lever", "unknown-region", "unknown-lever-parameter"],
)
def test_run_rejects_an_invalid_lever_before_simulating(tmp_path, replace, fragments):
    scenario = lever_file(tmp_path, **replace)
    assert_one_line_error(regsim("run", scenario, "--out", tmp_path / "out"), "policy.yaml", *fragments)
    assert not (tmp_path / "out").exists()


def test_circular_extends(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\n")
    line = assert_one_line_error(regsim("validate", tmp_path / "a.yaml"), "extends", "circular", "a.yaml", "b.yaml")
    assert line.startswith(f"regsim: error: {tmp_path / 'b.yaml'}: extends: "), line


def test_missing_parent(tmp_path):
    scenario = write(tmp_path / "child.yaml", "extends: nowhere.yaml\nname: child\n")
    assert_one_line_error(regsim("validate", scenario), "child.yaml", "extends", "nowhere.yaml", "not found")


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    scenario = write(tmp_path / "broken.yaml", LEVER.replace("    start: 2024\n", "    start: [2024\n"))
    line = assert_one_line_error(regsim("validate", scenario), "broken.yaml", "YAML syntax error", "line", "column")
    assert re.search(r"line \d+, column \d+", line), line


def test_error_in_a_parent_names_the_child_and_the_field(tmp_path):
    write(tmp_path / "parent.yaml", LEVER.replace("key_industry_rnd", "key_industry_rd"))
    child = write(tmp_path / "child.yaml", "extends: parent.yaml\nname: child\n")
    assert_one_line_error(regsim("validate", child), "child.yaml", "levers[0].lever", "'key_industry_rnd'")


# --- inheritance -------------------------------------------------------------------------------
def test_extends_overrides_two_fields_and_keeps_the_rest(tmp_path):
    variant = write(
        tmp_path / "variant.yaml",
        f"extends: {BASELINE}\n"
        "end_year: 2030\n"
        "levers: [{lever: key_industry_rnd, budget_krw_per_year: 6.88e10, start: 2024, end: 2026, regions: ['47']}]\n",
    )
    parent, child = load_scenario(BASELINE), load_scenario(variant)
    assert child.end_year == 2030 and parent.end_year == 2052
    assert len(child.levers) == 1 and child.levers[0].regions == ["47"] and not parent.levers
    kept = set(Scenario.model_fields) - {"end_year", "levers"}
    assert child.model_dump(include=kept) == parent.model_dump(include=kept)
    assert child.content_hash() != parent.content_hash()


def test_extends_relative_path_and_nested_merge(tmp_path):
    (tmp_path / "base").mkdir()
    write(tmp_path / "base" / "parent.yaml", "name: parent\nscale: 400\nfertility:\n  tfr_path: {2030: 1.0, 2040: 1.2}\n")
    child = load_scenario(write(tmp_path / "child.yaml", "extends: base/parent.yaml\nname: child\n"))
    assert child.name == "child" and child.scale == 400
    assert child.fertility.tfr_path == {2030: 1.0, 2040: 1.2}


def test_hash_ignores_file_layout(tmp_path):
    """A variant that changes nothing resolves to the same scenario as its parent."""
    same = write(tmp_path / "same.yaml", f"extends: {BASELINE}\n")
    assert load_scenario(same).content_hash() == load_scenario(BASELINE).content_hash()


# --- regsim validate ---------------------------------------------------------------------------
def test_validate_a_mix_of_good_and_bad_files(tmp_path):
    good = lever_file(tmp_path)
    variant = write(tmp_path / "variant.yaml", f"extends: {BASELINE}\nend_year: 2030\n")
    bad_lever = write(tmp_path / "bad_lever.yaml", LEVER.replace("key_industry_rnd", "key_industry_rd"))
    bad_yaml = write(tmp_path / "bad_yaml.yaml", "name: [unclosed\n")
    done = regsim("validate", good, BASELINE, bad_lever, variant, bad_yaml, tmp_path / "missing.yaml")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    ok = done.stdout.strip().splitlines()
    assert len(ok) == 3, done.stdout
    hash_of = {path: load_scenario(path).content_hash() for path in (good, BASELINE, variant)}
    for line, (path, levers) in zip(ok, [(good, 1), (BASELINE, 0), (variant, 0)]):
        assert line.startswith(f"ok {path} ({levers} lever"), line
        assert hash_of[path][:12] in line, line
    failed = done.stderr.strip().splitlines()
    assert len(failed) == 3, done.stderr
    for line, name in zip(failed, ("bad_lever.yaml", "bad_yaml.yaml", "missing.yaml")):
        assert name in line, line


def test_validate_all_good_exits_0(tmp_path):
    done = regsim("validate", *sorted((ROOT / "scenarios").glob("*.yaml")), lever_file(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert all(line.startswith("ok ") for line in done.stdout.strip().splitlines())


def test_validate_needs_a_file():
    done = regsim("validate")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


# --- property: damaged scenarios are either valid or a ScenarioError with a field path ---------
SOURCE = "mutated.yaml"
VALID: dict = {
    "name": "policy",
    "description": "one R&D lever",
    "start_year": 2023,
    "end_year": 2027,
    "scale": 400,
    "fertility": {"tfr_path": "kostat_2022_medium"},
    "international_migration": "kostat_2022_medium",
    "parameters": {},
    "levers": [
        {
            "lever": "key_industry_rnd",
            "label": "rnd",
            "budget_krw_per_year": 6.88e10,
            "start": 2024,
            "end": 2026,
            "regions": ["47", "48"],
            "region_type": "non_capital",
            "industries": ["C"],
            "params": {"cap_per_firm_krw": 2e8, "project_years": 2},
        }
    ],
}
TOP_FIELDS = set(Scenario.model_fields)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
identifiers = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)


def containers(data: dict) -> list[tuple]:
    """Paths (tuples of keys/indices) of every mapping and list inside ``data``, the root included."""
    found, stack = [], [()]
    while stack:
        path = stack.pop()
        node = get(data, path)
        if isinstance(node, (dict, list)):
            found.append(path)
            keys = node.keys() if isinstance(node, dict) else range(len(node))
            stack.extend((*path, key) for key in keys)
    return found


def get(data, path: tuple):
    for key in path:
        data = data[key]
    return data


def leaves(data: dict) -> list[tuple]:
    """Paths of every scalar value."""
    return [
        (*path, key) for path in containers(data) for key in _keys(get(data, path)) if not isinstance(get(data, path)[key], (dict, list))
    ]


def _keys(node):
    return list(node.keys()) if isinstance(node, dict) else list(range(len(node)))


@st.composite
def mutations(draw, data: dict) -> str:
    """Apply one random mutation to ``data`` in place; return a description (for failure reports)."""
    kind = draw(st.sampled_from(["delete", "retype", "insert", "negate", "swap", "rename", "region"]))
    levers = data.get("levers")
    lever = levers[0] if isinstance(levers, list) and levers and isinstance(levers[0], dict) else None
    if kind == "delete":
        path = draw(st.sampled_from([(*p, k) for p in containers(data) for k in _keys(get(data, p))] or [None]))
        if path is None:
            return "nothing to delete"
        del get(data, path[:-1])[path[-1]]
        return f"delete {path}"
    if kind in ("retype", "negate"):
        candidates = leaves(data)
        if kind == "negate":
            candidates = [p for p in candidates if type(get(data, p)) in (int, float)]
        if not candidates:
            return f"{kind}: no candidate"
        path = draw(st.sampled_from(candidates))
        old = get(data, path)
        new = -old if kind == "negate" else draw(scalars.filter(lambda value: type(value) is not type(old)))
        get(data, path[:-1])[path[-1]] = new
        return f"{kind} {path}: {old!r} -> {new!r}"
    if kind == "insert":
        where = draw(st.sampled_from([p for p in containers(data) if isinstance(get(data, p), dict)]))
        target = get(data, where)
        key = draw(identifiers.filter(lambda name: name not in target and name not in TOP_FIELDS | {"lever", "start", "end"}))
        target[key] = draw(scalars)
        return f"insert {where}+{key!r}"
    if lever is None:
        return f"{kind}: no lever"
    if kind == "swap":
        lever["start"], lever["end"] = lever.get("end"), lever.get("start")
        return "swap start/end"
    if kind == "rename":
        lever["lever"] = draw(st.text(max_size=20))
        return f"rename lever to {lever['lever']!r}"
    regions = lever.get("regions")
    if not isinstance(regions, list):
        regions = lever["regions"] = []
    regions.insert(draw(st.integers(0, len(regions))), draw(st.text(max_size=6)))
    return f"regions {regions!r}"


FIELD_PATH = re.compile(r"^(?P<head>[A-Za-z_][\w]*|\[\d+\])(\[\d+\]|\.[^\s:]+)*$")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_scenarios_fail_only_with_scenario_errors(data):
    raw = copy.deepcopy(VALID)
    steps = [data.draw(mutations(raw)) for _ in range(data.draw(st.integers(1, 3)))]
    inserted = {step.split("+")[-1].strip("'") for step in steps if step.startswith("insert")}
    try:
        scenario = scenario_from_dict(raw, source=SOURCE)
    except ScenarioError as exc:
        message = str(exc)
        assert "\n" not in message, (steps, message)
        assert message.startswith(f"{SOURCE}: "), (steps, message)
        path, sep, _ = message.removeprefix(f"{SOURCE}: ").partition(": ")
        assert sep and FIELD_PATH.match(path), (steps, message)
        head = FIELD_PATH.match(path)["head"]
        assert head in TOP_FIELDS or head in inserted or head.startswith("["), (steps, message)
        return
    assert isinstance(scenario, Scenario), steps
    for spec in scenario.levers:  # what was accepted is usable
        assert spec.start <= spec.end
        assert all(code in REGION_CODES for code in spec.regions or [])
        assert spec.budget_krw(10.0) >= 0


def test_the_unmutated_property_seed_is_valid():
    assert scenario_from_dict(copy.deepcopy(VALID), source=SOURCE).levers[0].label == "rnd"
