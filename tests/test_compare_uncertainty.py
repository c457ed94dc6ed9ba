"""Comparison under uncertainty of a batch folder, scenario discovery and EVPPI, on a synthetic batch
whose answer is known: policy A beats policy B on young women retained exactly when 0.3 < x1 < 0.6
and x2 < 0.5 (x3 does nothing); A's net jobs rise with x1 alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REGSIM

from sim.analysis.compare import (
    UNCERTAINTY_FIGURES,
    compare_under_uncertainty,
    discover_batch,
    parse_condition,
    uncertainty_tables,
    write_discovery,
    write_uncertainty_figures,
)
from sim.errors import ArgumentError, RegsimError
from sim.experiments.batch import DRAWS_FILE
from sim.experiments.uncertainty import Marginal, draw_points
from sim.results import store
from sim.results.ledger import LEDGER_COLUMNS

YEAR = 2035
N = 200
NON_CAPITAL = "26"  # Busan


def ledger(net_jobs: float, women: float, persons: float, spending: float) -> pd.DataFrame:
    """The package's ledger of one run in YEAR: a national row and one non-capital region row."""
    rows = []
    for region in ("all", NON_CAPITAL):
        row = dict.fromkeys(LEDGER_COLUMNS, 0.0) | {"year": YEAR, "lever": "all", "region": region, "targeted": True}
        row |= {"net_jobs": net_jobs, "young_women_retained": women, "persons_retained": persons, "spending_krw": spending}
        rows.append(row)
    return pd.DataFrame(rows).astype({"year": "int64", "lever": str, "region": str, "targeted": bool})


def synthetic_batch(folder: Path, n: int = N) -> pd.DataFrame:
    draws = draw_points({"x1": Marginal(0, 1), "x2": Marginal(0, 1), "x3": Marginal(0, 1)}, n, seed=5).rename(columns={"draw": "replicate"})
    draws.insert(1, "seed", np.arange(n))
    folder.mkdir(parents=True)
    draws.to_csv(folder / DRAWS_FILE, index=False)
    noise = np.random.default_rng(1).uniform(-40, 40, n)
    inside = draws["x1"].between(0.3, 0.6) & (draws["x2"] < 0.5)
    values = {
        "base": (np.zeros(n), np.zeros(n), np.zeros(n), 0.0),
        "A": (1000 * draws["x1"] + noise, np.where(inside, 100.0, -100.0) + noise, 50 + noise, 2e9),
        "B": (500 + noise, noise * 0.0, 50 + noise, 1e9),
    }
    manifest = store.new_manifest("synthetic", "synthetic.yaml", "0" * 64)
    for scenario, (jobs, women, persons, spent) in values.items():
        for seed in range(n):
            info = {
                "key": f"{scenario}-{seed}",
                "scenario": scenario,
                "variant": "reference" if scenario == "base" else scenario,
                "seed": seed,
            }
            national = pd.DataFrame({"year": [YEAR], "population": [1.0]})
            regions = pd.DataFrame({"year": [YEAR], "region": [NON_CAPITAL], "population": [1.0]})
            levers = pd.DataFrame(
                {
                    "year": pd.Series(dtype="int64"),
                    "lever": pd.Series(dtype=str),
                    "region": pd.Series(dtype=str),
                    "spending_krw": pd.Series(dtype=float),
                }
            )
            run_ledger = None if scenario == "base" else ledger(jobs[seed], women[seed], persons[seed], spent)
            metadata = {"scenario": scenario, "seed": seed, "scenario_resolved": {"levers": [] if scenario == "base" else [{"lever": "x"}]}}
            store.write_run(folder, info, regions, national, levers, metadata, run_ledger)
            store.record(manifest, store.run_entry(info, "finished", 0.0))
    store.save_manifest(folder, manifest)
    return draws


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("uncertain") / "batch"
    synthetic_batch(folder)
    return folder


def test_probabilities_ranks_regret_and_costs_match_the_construction(batch):
    result = compare_under_uncertainty(batch)
    assert (result.year, result.reference, result.replicates) == (YEAR, "base", N)
    women = result.summary[result.summary["outcome"] == "young_women_retained_non_capital"].set_index("scenario")
    truth, sampling = 0.15, 3 * np.sqrt(0.15 * 0.85 / N)
    wins = result.wins.set_index(["outcome", "scenario", "other"])["p"]
    assert wins[("young_women_retained_non_capital", "A", "B")] == pytest.approx(truth, abs=sampling)
    assert women.loc["A", "p_beats_reference"] == wins[("young_women_retained_non_capital", "A", "B")]  # B and base are both 0
    assert women.loc["B", "p_beats_reference"] == 0  # a tie is not a win
    jobs = result.summary[result.summary["outcome"] == "net_jobs"].set_index("scenario")
    assert jobs.loc["A", "p_best"] == pytest.approx(0.5, abs=0.03)  # 1000·x1 > 500 iff x1 > 0.5 (same noise in A and B)
    assert jobs.loc["base", "regret_mean"] == pytest.approx(
        np.mean(np.maximum(1000 * draw_points({"x1": Marginal(0, 1)}, N, 5)["x1"], 500)), rel=0.05
    )
    cost = result.cost.set_index(["outcome", "scenario"])
    assert cost.loc[("net_jobs", "B"), "per_bn_krw"] == pytest.approx(500.0, abs=5)  # 500 jobs for 1 bn KRW
    assert cost.loc[("persons_retained_non_capital", "A"), "per_bn_krw"] == pytest.approx(25.0, abs=3)
    information = result.evppi.set_index(["outcome", "parameter"])["evppi"]
    assert information[("net_jobs", "x1")] > 3 * information[("net_jobs", "x3")]
    assert information[("young_women_retained_non_capital", "x1")] > information[("young_women_retained_non_capital", "x3")]
    titles = [title for title, _ in uncertainty_tables(result)]
    assert any("EVPPI" in t for t in titles) and any("beats the column" in t for t in titles)


def test_discovery_recovers_the_box_where_a_beats_b(batch, tmp_path):
    found = discover_batch(batch, "young_women_retained_non_capital", "A beats B")
    assert found.discovery.coverage >= 0.8 and found.discovery.density >= 0.8
    box = found.discovery.box.set_index("parameter")
    assert box.loc["x1", "low"] == pytest.approx(0.3, abs=0.06) and box.loc["x1", "high"] == pytest.approx(0.6, abs=0.06)
    assert box.loc["x2", "high"] == pytest.approx(0.5, abs=0.06) and not box.loc["x3", "restricted"]
    written = write_discovery(found, tmp_path / "d")
    assert all(path.is_file() for path in written)
    assert json.loads((tmp_path / "d" / "discovery.json").read_text())["coverage"] == pytest.approx(found.discovery.coverage)


def test_conditions_and_outcomes_are_checked():
    assert parse_condition("A > B", ["base", "A", "B"]) == ("A", ">", "B")
    assert parse_condition("A loses to base", ["base", "A", "B"]) == ("A", "<", "base")
    assert parse_condition("A > 0", ["base", "A"]) == ("A", ">", 0.0)
    with pytest.raises(ArgumentError, match=r"^condition: unknown scenario 'AA'; did you mean 'A'\?") as error:
        parse_condition("AA > B", ["base", "A", "B"])
    assert error.value.argument == "condition"  # domain words; the CLI names its option (--condition)
    with pytest.raises(RegsimError, match="expected 'SCENARIO > SCENARIO'"):
        parse_condition("A and B", ["A", "B"])


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The synthetic batch with 40 replicates: enough for PRIM to run, quick to read in a subprocess."""
    folder = tmp_path_factory.mktemp("uncertain") / "small"
    synthetic_batch(folder, n=40)
    return folder


def test_cli_discover_and_its_one_line_errors(small, tmp_path):
    batch = small
    out = tmp_path / "found"
    done = subprocess.run(
        [str(REGSIM), "discover", str(batch), "--outcome", "young_women_retained_non_capital", "--condition", "A > B", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "box.csv").is_file() and "coverage" in done.stdout
    bad = [
        (["--outcome", "young_women", "--condition", "A > B"], "--outcome: unknown outcome 'young_women'"),
        (["--outcome", "net_jobs", "--condition", "plan > B"], "--condition: unknown scenario 'plan'"),
    ]
    for args, message in bad:
        done = subprocess.run([str(REGSIM), "discover", str(batch), *args], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_folder_without_draws_is_a_one_line_error(tmp_path):
    folder = tmp_path / "plain"
    synthetic_batch(folder, n=4)
    (folder / DRAWS_FILE).unlink()
    with pytest.raises(RegsimError, match=r"no uncertainty draws \(draws.csv\); run an experiment with an uncertainties: block"):
        compare_under_uncertainty(folder)
    done = subprocess.run(
        [str(REGSIM), "discover", str(folder), "--outcome", "net_jobs", "--condition", "A > B"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2 and "no uncertainty draws" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_report_section_shows_the_comparison_discoveries_and_figures(small):
    from sim.analysis.report import Report, _render, _uncertainty_section
    from sim.api import discover

    write_discovery(discover(small, "net_jobs", "A > B"), small / "discover" / "net_jobs-A_B")
    report = Report("batch", small, "synthetic")
    _uncertainty_section(report, small)
    titles = [table.title for table in report.uncertainty_tables]
    assert any(title.startswith("Scenario discovery (PRIM): where 'A > B' holds on net jobs, national") for title in titles)
    assert any("EVPPI" in title for title in titles)
    assert [image.name for image in report.uncertainty_figures] == ["rank_probabilities", "evppi", "discovery"]
    html = _render(report)
    assert 'id="under-uncertainty"' in html and "Figure 3: Peeling trajectory" in html


def test_the_uncertainty_figures_go_into_the_folder_and_the_report_draws_them_once(small, tmp_path):
    from sim.analysis.report import _folder_images

    folder = tmp_path / "copy"
    shutil.copytree(small, folder)
    written = write_uncertainty_figures(compare_under_uncertainty(folder), folder)
    assert [path.name for path in written] == list(UNCERTAINTY_FIGURES) == ["rank_probabilities.png", "evppi.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 10_000 for path in written)
    assert not {image.name for image in _folder_images(folder)} & set(UNCERTAINTY_FIGURES)
