"""Policies and assumption variants kept apart in ``regsim compare``, ``regsim plot`` and the report.

A real small batch (``report_folders.make_mixed_batch``): the baseline (reference), a policy (R&D
grants, with levers: each run carries its ledger) and an assumption variant (the 2011-2020 migration
window, no levers); two seeds, 1:1000, 2023 → 2025.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_folders import make_mixed_batch
from typer.testing import CliRunner

from sim.analysis.compare import (
    ASSUMPTION,
    ASSUMPTION_TITLE,
    LEDGER_TITLE,
    POLICY,
    POLICY_TITLE,
    REFERENCE,
    compare,
    findings,
    ledger_by_area,
    open_batch,
    provenance,
    to_markdown,
)
from sim.analysis.plots import differences_figure, plot_dir
from sim.analysis.report import build_report
from sim.cli import app
from sim.experiments.effects import NATIONAL, REST, TARGETED
from sim.results.ledger import SUMMARY_MEASURES

BASE, POLICY_NAME, WINDOW = "korea_baseline", "rd_grant_only", "korea_baseline_2011_2020"


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    return make_mixed_batch(tmp_path_factory.mktemp("mixed"))


# --- classification --------------------------------------------------------------------------------
def test_variants_are_classified_by_their_levers(batch_dir):
    batch = open_batch(batch_dir)
    assert {scenario: kind for (scenario, _), kind in batch.kinds.items()} == {BASE: REFERENCE, POLICY_NAME: POLICY, WINDOW: ASSUMPTION}
    assert len(batch.kinds) == 3
    summary = compare(batch_dir, years=[2025])
    assert dict(zip(summary["scenario"], summary["kind"])) == {BASE: REFERENCE, POLICY_NAME: POLICY, WINDOW: ASSUMPTION}


def test_classification_without_run_json_reads_lever_spending(batch_dir, tmp_path):
    """Run folders without the resolved scenario (written by hand or an old version): levers if spending is recorded."""
    copy = tmp_path / "copy"
    shutil.copytree(batch_dir, copy)
    for path in copy.glob("runs/*/run.json"):
        path.unlink()
    kinds = {scenario: kind for (scenario, _), kind in open_batch(copy).kinds.items()}
    assert kinds == {BASE: REFERENCE, POLICY_NAME: POLICY, WINDOW: ASSUMPTION}


def test_a_lever_free_scenario_in_run_json_is_an_assumption_even_with_a_lever_table(batch_dir):
    for path in batch_dir.glob("runs/*/run.json"):
        meta = json.loads(path.read_text())
        expected = POLICY if meta["scenario"] == POLICY_NAME else None
        if expected:
            assert meta["scenario_resolved"]["levers"]
        elif meta["scenario"] == WINDOW:
            assert not meta["scenario_resolved"].get("levers")


# --- compare -------------------------------------------------------------------------------------
def test_ledger_by_area_has_targeted_regions_beside_the_rest(batch_dir):
    ledger = ledger_by_area(batch_dir, years=[2025])
    assert set(ledger["scenario"]) == {POLICY_NAME} and set(ledger["kind"]) == {POLICY}
    assert ledger["area"].tolist() == [NATIONAL, TARGETED, REST]
    targeted = ledger["targeted_regions"].iloc[0].split(",")
    assert targeted and not {"11", "28", "41"} & set(targeted)  # R&D grants go to the non-capital provinces
    rows = ledger.set_index("area")
    for measure in ("gross_jobs", "net_jobs", "persons_retained", "spending_krw"):
        assert rows.loc[TARGETED, f"{measure}_mean"] + rows.loc[REST, f"{measure}_mean"] == pytest.approx(
            rows.loc[NATIONAL, f"{measure}_mean"]
        )
    assert rows.loc[REST, "spending_krw_mean"] == 0 and rows.loc[TARGETED, "spending_krw_mean"] > 0
    national = compare(batch_dir, years=[2025]).query("scenario == @POLICY_NAME")
    assert rows.loc[NATIONAL, "net_jobs_mean"] == pytest.approx(national["jobs_created_mean"].iloc[0])  # the reference is its baseline


def test_markdown_opens_with_findings_and_ends_with_provenance(batch_dir):
    done = CliRunner().invoke(app, ["compare", str(batch_dir), "--years", "2025", "--markdown"])
    assert done.exit_code == 0, done.output
    text = done.stdout
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == ["## Findings", "## Assumption variants", "## Reference", "## Provenance"]
    order = [
        f"**{POLICY_NAME}.**",
        LEDGER_TITLE,
        POLICY_TITLE.format(reference=BASE),
        ASSUMPTION_TITLE.format(reference=BASE),
        "## Provenance",
    ]
    positions = [text.index(item) for item in order]
    assert positions == sorted(positions)
    findings_part, rest = text.split("\n## Assumption variants\n")
    assert WINDOW not in findings_part  # the assumption variant is not among the findings
    assumptions_part = rest.split("\n## Reference\n")[0]
    assert WINDOW in assumptions_part and POLICY_NAME not in assumptions_part
    assert f"| assumption variants (no levers) | {WINDOW}" in re.sub(r" +", " ", text)


def test_rich_output_order(batch_dir):
    done = CliRunner().invoke(app, ["compare", str(batch_dir), "--years", "2025"])
    assert done.exit_code == 0, done.output
    text = done.stdout
    marks = ["Findings", f"{POLICY_NAME}. By 2025", "Additionality ledger", "Policies: paired", "Assumption variants", WINDOW, "Provenance"]
    positions = [text.index(mark) for mark in marks]
    assert positions == sorted(positions)


def test_csv_is_one_long_table_with_the_kind(batch_dir):
    done = CliRunner().invoke(app, ["compare", str(batch_dir), "--years", "all", "--csv"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(io.StringIO(done.stdout))
    assert list(table.columns[:4]) == ["scenario", "variant", "kind", "year"]
    assert dict(zip(table["scenario"], table["kind"])) == {BASE: REFERENCE, POLICY_NAME: POLICY, WINDOW: ASSUMPTION}
    assert len(table) == 3 * 3  # three scenarios, 2023-2025


def _ledger_row(area: str, **values) -> dict:
    row = {"scenario": "plan", "variant": "", "kind": POLICY, "year": 2030, "area": area, "seeds": 20, "targeted_regions": "26,27"}
    for measure in SUMMARY_MEASURES:
        mean, low, high = values.get(measure, (0.0, 0.0, 0.0))
        row |= {f"{measure}_mean": mean, f"{measure}_low": low, f"{measure}_high": high}
    return row | {
        "cost_per_gross_job_krw": np.nan,
        "cost_per_net_job_krw": values.get("cost", np.nan),
        "cost_per_person_retained_krw": np.nan,
    }


def test_findings_say_when_an_interval_includes_zero():
    rows = [
        _ledger_row(NATIONAL, net_jobs=(725, -1542, 2992), gross_jobs=(1660, 950, 2370), spending_krw=(2e12, 2e12, 2e12)),
        _ledger_row(TARGETED, net_jobs=(600, -100, 1300), persons_retained=(35, -90, 160), spending_krw=(2e12, 2e12, 2e12)),
        _ledger_row(REST, net_jobs=(125, 10, 240)),
    ]
    ledger = pd.DataFrame(rows)
    ledger.attrs |= {"regions": ["11", "26", "27", "30", "31"], "sweep": []}
    [(label, text)] = findings(ledger)
    assert label == "plan"
    assert "net national jobs +725 [−1,542, +2,992]: within seed noise, the interval includes zero" in text
    assert "Gross jobs in supported firms +1,660 [+950, +2,370]" in text
    assert (
        "In the targeted regions (2): net jobs +600 [−100, +1,300]" in text
        and "in the other regions (3): net jobs +125 [+10, +240]" in text
    )
    assert (
        "net jobs in the targeted regions" in text and "persons retained in the targeted regions" in text
    )  # named: their intervals include zero
    assert "net jobs in the rest" not in text  # its interval excludes zero
    assert "2,000.0 bn KRW" in text and "no cost per net job" in text


def test_to_markdown_without_assumption_variants_says_so(batch_dir):
    summary = compare(batch_dir, years=[2025])
    summary = summary[summary["kind"] != ASSUMPTION]
    text = to_markdown(summary, ledger_by_area(batch_dir, years=[2025]), provenance(open_batch(batch_dir)))
    assert "_no assumption variant" in text


# --- figures -------------------------------------------------------------------------------------
def test_plots_put_policies_and_assumptions_in_separate_figures(batch_dir, tmp_path):
    written = {path.name for path in plot_dir(batch_dir, tmp_path, formats=("png",))}
    assert {
        "differences.png",
        "ledger.png",
        "assumptions.png",
        "tile_map_extinction_risk.png",
        "tile_map_extinction_risk_assumptions.png",
        "timeseries.png",
    } <= written
    policies, assumptions = differences_figure(batch_dir), differences_figure(batch_dir, kind=ASSUMPTION)
    labels = {line.get_label() for axis in policies.axes for line in axis.get_lines() if not line.get_label().startswith("_")}
    assert labels == {POLICY_NAME}
    labels = {line.get_label() for axis in assumptions.axes for line in axis.get_lines() if not line.get_label().startswith("_")}
    assert labels == {WINDOW}


def test_ledger_figure_has_bars_for_each_area(batch_dir):
    from sim.analysis.plots import ledger_figure

    figure = ledger_figure(batch_dir)
    axis = figure.axes[0]
    gids = {patch.get_gid() for patch in axis.patches}
    assert gids == {f"ledger-{area}" for area in (NATIONAL, TARGETED, REST)}
    assert len(axis.patches) == 3 * 4  # gross, displacement, leakage, net for each area
    assert POLICY_NAME in axis.get_title()


# --- report --------------------------------------------------------------------------------------
def test_report_sections_in_order(batch_dir, tmp_path):
    html = build_report(batch_dir, tmp_path / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<h2 id="([^"]+)"', html)
    assert sections == ["findings", "assumption-variants", "results", "figures", "scenarios", "levers", "assumptions", "provenance"]
    findings_part = html[html.index('id="findings"') : html.index('id="assumption-variants"')]
    assumptions_part = html[html.index('id="assumption-variants"') : html.index('id="results"')]
    assert f"<strong>{POLICY_NAME}.</strong> By 2025" in findings_part and "net national jobs" in findings_part
    assert 'data-name="ledger"' in findings_part and 'data-name="differences"' in findings_part
    assert WINDOW not in findings_part.split('data-name="differences"')[0]
    assert 'data-name="assumptions"' in assumptions_part and WINDOW in assumptions_part and 'id="assumption-comparison"' in assumptions_part
    assert 'data-name="tile_map_extinction_risk_assumptions"' in assumptions_part
    numbers = [int(n) for n in re.findall(r'<figure id="figure-(\d+)"', html)]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered in the order they appear
    toc = re.findall(r'<nav class="toc".*?</nav>', html, re.DOTALL)[0]
    assert re.findall(r'href="#([^"]+)"', toc)[0] == "findings" and re.findall(r'href="#([^"]+)"', toc)[-1] == "provenance"
