"""``regsim report``: one self-contained HTML file of a batch, tuning or sensitivity folder.

The folders come from ``report_folders``: a small real batch, and tuning and sensitivity folders
fabricated with the layout their commands write.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_line_error
from markupsafe import escape
from report_folders import OVERRIDE, make_batch, make_calibration, make_real_tuning, make_tuning, write_png

from sim.analysis.report import _trials_table, build_report
from sim.api import load_scenario
from sim.model.levers.base import REGISTRY

REGSIM = Path(sys.executable).parent / "regsim"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    return make_batch(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def batch_html(batch_dir) -> str:
    write_png(batch_dir / "extra_figure.png")
    return build_report(batch_dir).read_text(encoding="utf-8")


def images(html: str) -> list[bytes]:
    """The decoded data of every <img> (all must be data URIs)."""
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert all(source.startswith("data:image/") for source in sources), [s[:40] for s in sources]
    return [base64.b64decode(source.split(",", 1)[1]) for source in sources]


def test_batch_report_is_self_contained(batch_dir, batch_html):
    assert (batch_dir / "report.html").is_file()
    assert not EXTERNAL.search(batch_html)
    assert "<script" not in batch_html


def test_batch_report_has_provenance(batch_dir, batch_html):
    manifest = json.loads((batch_dir / "manifest.json").read_text())
    assert manifest["experiment_hash"] in batch_html and manifest["git_commit"] in batch_html
    assert "report fixture" in batch_html  # the experiment's description
    hashes = {json.loads(path.read_text())["scenario_hash"] for path in batch_dir.glob("runs/*/run.json")}
    assert len(hashes) == 3 and all(digest in batch_html for digest in hashes)
    assert re.search(r"<th>seeds</th><td>0, 1</td>", batch_html)
    assert "levers[0].budget_krw_per_year = 50,800,000,000" in batch_html  # sweep values per variant
    assert "key_industry_rnd: 203.2 bn KRW, 2024–2030, non_capital" in batch_html  # the budget as run


def test_batch_report_has_comparison_and_figures(batch_html):
    assert 'id="comparison">Policies: paired differences against korea_baseline' in batch_html
    assert "jobs created (persons)" in batch_html and "Reference levels: korea_baseline" in batch_html
    data = images(batch_html)
    assert len(data) == 11  # differences, ledger, tile map, timeseries, 2 × provinces, sweep, 3 maps, extra_figure.png
    assert all(item.startswith(PNG) for item in data)
    assert "extra_figure.png" in batch_html


def test_batch_report_has_levers_and_assumptions(batch_html):
    lever = REGISTRY["key_industry_rnd"]
    assert str(escape(lever.case)) in batch_html and str(escape(lever.mechanism)) in batch_html
    assert "demography.international_migrant_peak_location" in batch_html  # an assumption: true parameter
    row = re.search(rf"<tr><td>{re.escape(OVERRIDE)}</td>.*?</tr>", batch_html, re.DOTALL)
    assert row and ">0.6<" in row.group(0)  # the override is shown with the value used
    assert "Parameter overrides in the scenarios" in batch_html
    assert "src: url(data:font/ttf;base64," in batch_html  # the Hangul glyphs of the lever cases travel with the file


def test_tuning_report(tmp_path):
    folder = make_tuning(tmp_path / "tune", study="<b>tuned</b>")
    html = build_report(folder, out=tmp_path / "out" / "tuning.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    assert "&lt;b&gt;tuned&lt;/b&gt;" in html and "<b>tuned</b>" not in html  # user text is escaped
    trials = re.search(r'id="trials">.*?</table>', html, re.DOTALL).group(0)
    assert trials.index("910.5") < trials.index("430") < trials.index("120") < trials.index(">15<")  # best first
    assert "maximize" in html and "f" * 64 in html and "0123456789abcdef" in html
    assert "name: rd_grant_tuned" in html and "budget_krw_per_year: 1.5e11" in html  # the YAML as written
    assert load_scenario(folder / "best_scenario.yaml").content_hash() in html
    assert "+910 [+100, +1,700]" not in html and "+910" in html  # paired check, interval on its own line
    assert str(escape(REGISTRY["key_industry_rnd"].case)) in html
    assert len(images(html)) == 1 and "history.png" in html


def test_report_of_a_real_tuning_study(tmp_path):
    folder = make_real_tuning(tmp_path)
    html = build_report(folder).read_text(encoding="utf-8")
    manifest = json.loads((folder / "tune.json").read_text(encoding="utf-8"))
    assert not EXTERNAL.search(html)
    assert manifest["experiment_hash"] in html and manifest["git_commit"] in html
    assert "non_capital_spending" in html and "difference_mean" in html  # trials and the fresh-seed check
    assert load_scenario(folder / "best_scenario.yaml").content_hash() in html
    assert len(images(html)) == 1 and "history.png" in html


def test_report_of_a_calibration(tmp_path):
    folder = make_calibration(tmp_path)
    html = build_report(folder).read_text(encoding="utf-8")
    info = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    assert not EXTERNAL.search(html)
    assert info["experiment_hash"] in html and info["git_commit"] in html
    for row in info["errors"]:  # the default, calibrated and naive forecasts
        assert str(escape(row["forecast"])) in html
    assert "migration.housing_cost_weight" in html and "calibrated.yaml" in html
    assert load_scenario(folder / "calibrated.yaml").content_hash() in html
    assert "calibration.png" in html


def test_pareto_trials_come_first():
    trials = pd.DataFrame({"number": [0, 1, 2], "jobs": [10.0, 5.0, 4.0], "cost": [3.0, 1.0, 2.0], "state": ["COMPLETE"] * 3})
    table = _trials_table(trials, [("jobs", "maximize"), ("cost", "minimize")])
    assert [(row[0], row[-1]) for row in table.rows] == [("0", "yes"), ("1", "yes"), ("2", "")]


def test_sensitivity_report(batch_dir, tmp_path):
    folder = shutil.copytree(batch_dir, tmp_path / "sensitivity")
    info = {
        "name": "sensitivity_test",
        "method": "sobol",
        "parameters": {f"parameters.{OVERRIDE}": {"low": 0.5, "high": 0.6}},
        "outcomes": {"jobs_created_2026": {"measure": "jobs_created", "year": 2026}},
        "experiment_hash": "e" * 64,
        "package_version": "0.1.0",
        "git_commit": "a" * 40,
    }
    (folder / "sensitivity.json").write_text(json.dumps(info), encoding="utf-8")
    pd.DataFrame({"parameter": [OVERRIDE], "outcome": ["jobs_created"], "S1": [0.42], "ST": [0.57]}).to_csv(
        folder / "indices.csv", index=False
    )
    write_png(folder / "sensitivity.png")
    html = build_report(folder).read_text(encoding="utf-8")
    assert 'id="indices">Sensitivity indices' in html and "0.57" in html and "sobol" in html
    assert "Sensitivity analysis sensitivity_test" in html and "e" * 64 in html and "jobs_created_2026" in html
    assert "sensitivity.png" in html and "Paired differences" not in html
    assert html.count("<th>git commit</th>") == 1  # the batch's provenance adds only what the analysis lacks


def test_cli_report_prints_the_path(tmp_path):
    out = tmp_path / "r.html"
    done = subprocess.run([REGSIM, "report", make_tuning(tmp_path / "tune"), "--out", out], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and out.is_file()


def test_cli_report_of_another_folder_is_a_one_line_error(tmp_path):
    done = subprocess.run([REGSIM, "report", tmp_path], check=False, capture_output=True, text=True)
    assert_one_line_error(done, str(tmp_path), "manifest.json", "tune.json")
    done = subprocess.run([REGSIM, "report", tmp_path / "missing"], check=False, capture_output=True, text=True)
    assert_one_line_error(done, "not found", "missing")
