"""Every lever parameter carries its evidence: a citation or a named assumption, and effects a range."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import sim.model.levers  # noqa: F401  (registers the catalogue)
from sim.api import scenario_from_dict
from sim.cli import app
from sim.model.levers.base import (
    REGISTRY,
    LeverParams,
    PolicyEffects,
    lever_field,
    parameter_evidence,
)
from sim.model.regional_model import RegionalModel

PARAMETERS = [(name, key) for name, cls in sorted(REGISTRY.items()) for key in cls.Params.model_fields]


@pytest.mark.parametrize(("lever", "parameter"), PARAMETERS)
def test_every_parameter_cites_evidence_or_is_a_named_assumption(lever, parameter):
    evidence = parameter_evidence(REGISTRY[lever].Params)[parameter]
    assert evidence.evidence or evidence.assumption, f"{lever}.{parameter}: no evidence and not flagged as an assumption"
    assert evidence.kind in ("effect", "programme", "setting")
    assert evidence.description


@pytest.mark.parametrize(("lever", "parameter"), PARAMETERS)
def test_every_effect_parameter_has_a_range_around_its_default(lever, parameter):
    evidence = parameter_evidence(REGISTRY[lever].Params)[parameter]
    if evidence.kind != "effect":
        assert evidence.range is None or evidence.range[0] <= evidence.default <= evidence.range[1]
        return
    assert evidence.range is not None, f"{lever}.{parameter}: an effect parameter needs a range"
    low, high = evidence.range
    assert low <= evidence.default <= high and low < high


@pytest.mark.parametrize(("lever", "parameter"), PARAMETERS)
def test_range_ends_are_valid_parameter_values(lever, parameter):
    """An uncertainty experiment may set either end: both pass the lever's own validation."""
    cls = REGISTRY[lever].Params
    low_high = parameter_evidence(cls)[parameter].range
    if low_high is None:
        return
    for value in low_high:
        cls.model_validate({parameter: int(value) if isinstance(cls.model_fields[parameter].default, int) else value})


def test_most_effect_sizes_remain_named_assumptions_and_say_so():
    """A count, so a later change that cites evidence (or drops it) is seen: effects with a citation."""
    effects = [e for cls in REGISTRY.values() for e in parameter_evidence(cls.Params).values() if e.kind == "effect"]
    cited = [e for e in effects if e.evidence]
    assert len(effects) == 49 and len(cited) == 23


def test_a_parameter_without_evidence_or_range_is_refused_at_definition():
    with pytest.raises(ValueError, match="needs evidence or assumption"):
        lever_field(1.0, "a bare number", range=(0.0, 2.0))
    with pytest.raises(ValueError, match="needs a range"):
        lever_field(1.0, "an effect", assumption=True)
    with pytest.raises(ValueError, match="outside its range"):
        lever_field(3.0, "an effect", range=(0.0, 2.0), assumption=True)


def test_reader_shape_for_a_plain_field():
    class Plain(LeverParams):
        size: float = 1.0

    evidence = parameter_evidence(Plain)["size"]
    assert (evidence.default, evidence.range, evidence.evidence, evidence.assumption) == (1.0, None, None, False)


def test_levers_json_carries_evidence_and_range():
    result = CliRunner().invoke(app, ["levers", "--json"])
    assert result.exit_code == 0
    entries = {entry["name"]: entry for entry in json.loads(result.output)}
    assert set(entries) == set(REGISTRY)
    cost = entries["industrial_complex_investment"]["parameters"]["cost_per_job_krw"]
    assert cost["evidence"].startswith("Criscuolo, Martin, Overman & Van Reenen (2019")
    assert cost["range"][0] <= cost["default"] <= cost["range"][1]
    for entry in entries.values():
        for described in entry["parameters"].values():
            assert {"default", "range", "evidence", "assumption", "kind", "description"} <= set(described)


def test_levers_table_shows_ranges_and_assumptions():
    from sim.cli import _parameter_line
    from sim.model.levers.base import describe_params

    complex_cost = describe_params(REGISTRY["industrial_complex_investment"])["cost_per_job_krw"]
    decline_cost = describe_params(REGISTRY["local_industries_decline_areas"])["cost_per_job_krw"]
    assert _parameter_line("cost", complex_cost).startswith("cost=5.229e+06 [5e+06–7.90505e+07] — Criscuolo")
    assert _parameter_line("cost", decline_cost).startswith("cost=1.58101e+08 [7.90505e+07–3.16202e+08] — ASSUMPTION; seed 003")
    result = CliRunner().invoke(app, ["levers"])
    assert result.exit_code == 0 and "ASSUMPTION" in result.output and "Criscuolo" in result.output


# --- the misuses of issue 12, fixed -----------------------------------------------------------
def test_decline_area_cost_is_not_the_plan_target():
    """The plan's 286.4 bn KRW for 3,623 targeted hires is gross; the lever's causal cost per job is above it."""
    evidence = parameter_evidence(REGISTRY["local_industries_decline_areas"].Params)["cost_per_job_krw"]
    per_hire = 286.4e9 / 3623
    assert evidence.assumption and evidence.default == pytest.approx(2 * per_hire)
    assert evidence.range == pytest.approx((per_hire, 4 * per_hire))


def test_decline_area_lever_spends_nothing_in_the_capital_region():
    spec = {
        "lever": "local_industries_decline_areas",
        "budget_krw_per_year": 1e11,
        "start": 2024,
        "end": 2024,
        "region_type": "population_decline_areas",
    }
    model = RegionalModel(scenario_from_dict({"name": "decline", "end_year": 2024, "scale": 1000, "levers": [spec]}), seed=0)
    model.step()
    spending = {row["region"]: row["spending_krw"] for row in model.lever_spending}
    assert not {"11", "28", "41"} & set(spending)
    assert sum(spending.values()) == pytest.approx(1e11)
    assert model.pack.decline_area_share[model.pack.codes.index("28")] > 0  # Incheon has decline areas, yet gets nothing


def test_industrial_complex_jobs_go_to_small_and_medium_firms_only():
    spec = {"lever": "industrial_complex_investment", "budget_krw_per_year": 1e11, "start": 2024, "end": 2024, "regions": ["48"]}
    model = RegionalModel(scenario_from_dict({"name": "complex", "end_year": 2024, "scale": 1000, "levers": [spec]}), seed=0)
    effects = PolicyEffects.neutral(len(model.firms), model.n_regions)
    model.levers[0].apply(model.lever_view(), effects, 1e11)
    large = model.firms.size >= 300
    assert effects.extra_jobs.sum() > 0 and large.any()
    assert np.all(effects.extra_jobs[large] == 0)


def test_tertiary_and_secondary_costs_follow_education_at_a_glance_at_ppp():
    core = parameter_evidence(REGISTRY["regional_core_universities"].Params)["krw_per_student_year"]
    meister = parameter_evidence(REGISTRY["meister_schools"].Params)["cost_per_student_place_krw"]
    assert core.default == pytest.approx(14_695 * 830, rel=0.01)  # 14,695 USD PPP (2022) × 830 KRW per USD PPP
    assert meister.default == pytest.approx(25_267 * 830, rel=0.01)
    assert "Education at a Glance 2025" in core.evidence


def test_anchor_subsidy_is_paid_once():
    """TSMC Kumamoto's subsidy is one-off: after the first year the lever funds training only, so it
    adds plant jobs once and spends at most the training its region's young leavers can use."""
    spec = {"lever": "kosen_talent_consortium", "budget_krw_per_year": 1e12, "start": 2024, "end": 2026, "regions": ["47"]}
    model = RegionalModel(scenario_from_dict({"name": "anchor", "end_year": 2026, "scale": 1000, "levers": [spec]}), seed=0)
    jobs, spent, kept = [], [], []
    for _ in range(3):
        model.step()
        jobs.append(model.effects.extra_jobs.sum())
        spent.append(sum(row["spending_krw"] for row in model.lever_spending if row["year"] == model.year))
        kept.append(model.effects.youth_leave_multiplier.min())
    assert jobs[0] > 0 and jobs[1] == 0 and jobs[2] == 0
    assert spent[0] == pytest.approx(1e12) and 0 < spent[1] <= 1e12
    assert kept[1] < kept[0] < 1  # later years put the whole budget into training


def test_startup_cost_removes_deadweight():
    evidence = parameter_evidence(REGISTRY["startup_ecosystem"].Params)
    per_additional = evidence["krw_per_supported_startup"].default / evidence["additional_startup_share"].default
    assert per_additional > 1e8  # above the 100 m KRW maximum pre-startup grant once deadweight is removed


def test_report_lists_range_and_evidence_of_each_lever_used():
    from sim.analysis.report import _levers_used

    runs = [{"scenario": "plan", "resolved": {"levers": [{"lever": "key_industry_rnd", "params": {"cofunding_rate": 0.7}}]}}]
    (used,) = _levers_used(runs)
    rows = {row[0]: dict(zip(used.parameters.columns, row)) for row in used.parameters.rows}
    assert set(rows) == set(REGISTRY["key_industry_rnd"].Params.model_fields)
    cofunding = rows["cofunding_rate"]
    assert (cofunding["used"], cofunding["range"], cofunding["assumption"]) == ("0.7", "0.6–0.8", "")
    assert "지원금 비중 80 %" in cofunding["evidence"]


def test_report_assumption_table_carries_ranges():
    from sim.analysis.report import Report, _assumptions, _levers_used

    runs = [{"scenario": "plan", "hash": "h", "resolved": {"levers": [{"lever": "local_industries_decline_areas"}]}}]
    report = Report(kind="batch", folder=None, title="", runs=runs)
    report.levers = _levers_used(runs)
    (table,) = [t for t in _assumptions(report) if t.title.startswith("Lever parameters that are named assumptions")]
    rows = {row[1]: dict(zip(table.columns, row)) for row in table.rows}
    low, high = rows["cost_per_job_krw"]["range"].split("–")
    assert low.startswith("79,05") and high.startswith("316,20")  # 79–316 m KRW per additional job
    assert "non_capital_only" not in rows  # a sourced setting, not an assumption
