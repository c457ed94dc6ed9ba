"""``sim.analysis.compare`` and the batch figures of ``sim.analysis.plots`` on a small fake batch folder.

The folder is written here with the layout of ``regsim batch`` (manifest.json, runs/<key>/*.parquet
with run_key, scenario, variant, seed and sweep columns) from real runs of ``sim.results.run.run``: the
baseline (the reference) and the 2023 regional plan, three seeds each, 1:400, 2023 → 2026.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CAPITAL_CODES, REGION_CODES, ROOT
from scipy import stats
from typer.testing import CliRunner

from sim.analysis.compare import compare, ledger_by_area, open_batch, provenance, region_names, to_markdown
from sim.analysis.plots import TILE_GRID, plot_dir, sweep_figure, tile_map_figure
from sim.api import run
from sim.cli import app
from sim.errors import RegsimError

REGSIM = Path(sys.executable).parent / "regsim"
REFERENCE, VARIANT = "korea_baseline", "korea_2023_regional_plan"
SEEDS = (0, 1, 2)
LAST = 2026
PNG = b"\x89PNG\r\n\x1a\n"


def write_batch(folder: Path, results: dict, sweep: dict | None = None, failed: tuple = ()) -> Path:
    """A batch folder: ``results`` maps (scenario, variant, seed) to a RunResult; ``sweep`` maps
    (scenario, variant) to sweep-parameter values; ``failed`` lists (scenario, variant, seed) of
    runs recorded as failed (no tables)."""
    runs = []
    for (scenario, variant, seed), result in results.items():
        key = f"{scenario}-{variant or 'default'}-seed{seed}"
        extra = {"run_key": key, "scenario": scenario, "variant": variant, "seed": seed, **(sweep or {}).get((scenario, variant), {})}
        out = folder / "runs" / key
        out.mkdir(parents=True)
        result.national.assign(**extra).to_parquet(out / "national.parquet", index=False)
        result.regions.assign(**extra).to_parquet(out / "regions.parquet", index=False)
        result.lever_spending.assign(**extra).to_parquet(out / "levers.parquet", index=False)
        runs.append({"key": key, "scenario": scenario, "variant": variant, "seed": seed, "status": "finished"})
    for scenario, variant, seed in failed:
        runs.append({"key": f"{scenario}-{variant}-seed{seed}", "scenario": scenario, "variant": variant, "seed": seed, "status": "failed"})
    reference = next(iter(results))[0]
    manifest = {"experiment": "fake", "runs": runs, "reference": reference}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def results() -> dict:
    out = {}
    for scenario in (REFERENCE, VARIANT):
        for seed in SEEDS:
            path = ROOT / "scenarios" / f"{scenario}.yaml"
            out[(scenario, "", seed)] = run(path, seed=seed, scale=400, until=LAST, paired_baseline=False)
    return out


@pytest.fixture(scope="module")
def batch_dir(results, tmp_path_factory) -> Path:
    return write_batch(tmp_path_factory.mktemp("batch"), results, failed=[(VARIANT, "", 3)])


@pytest.fixture(scope="module")
def sweep_dir(results, tmp_path_factory) -> Path:
    """Reference plus four sweep points of the variant (2 × 2 over two parameters), same tables."""
    points = {(0.5, 1), (0.5, 2), (1.0, 1), (1.0, 2)}
    sweep_results, sweep = {}, {}
    for seed in SEEDS:
        sweep_results[(REFERENCE, "", seed)] = results[(REFERENCE, "", seed)]
    for budget, years in sorted(points):
        variant = f"budget={budget},years={years}"
        sweep[(VARIANT, variant)] = {"budget_scale": budget, "duration": years}
        for seed in SEEDS:
            sweep_results[(VARIANT, variant, seed)] = results[(VARIANT, "", seed)]
    return write_batch(tmp_path_factory.mktemp("sweep"), sweep_results, sweep=sweep)


@pytest.fixture(scope="module")
def summary(batch_dir) -> pd.DataFrame:
    return compare(batch_dir, years=None)


def national(results, scenario, seed) -> pd.DataFrame:
    return results[(scenario, "", seed)].national.set_index("year")


# --- compare -------------------------------------------------------------------------------------
def test_reference_against_itself_is_zero(summary):
    rows = summary[summary["scenario"] == REFERENCE]
    assert len(rows) == LAST - 2023 + 1
    for diff in ("population_diff", "capital_population_diff", "provinces_at_risk_diff", "jobs_created", "spending_krw_diff"):
        for stat in ("mean", "low", "high"):
            assert (rows[f"{diff}_{stat}"] == 0).all(), (diff, stat)
    assert rows["cost_per_job_krw"].isna().all()


def test_variant_differences_are_exact_paired_differences(summary, results):
    row = summary[(summary["scenario"] == VARIANT) & (summary["year"] == LAST)].iloc[0]
    assert row["seeds"] == len(SEEDS)  # the failed run is left out
    jobs = np.array(
        [float(national(results, VARIANT, s).loc[LAST, "employed"] - national(results, REFERENCE, s).loc[LAST, "employed"]) for s in SEEDS]
    )
    assert row["jobs_created_mean"] == pytest.approx(jobs.mean(), abs=1e-6)
    half = stats.t.ppf(0.975, len(SEEDS) - 1) * jobs.std(ddof=1) / np.sqrt(len(SEEDS))
    assert row["jobs_created_low"] == pytest.approx(jobs.mean() - half, abs=1e-6)
    assert row["jobs_created_high"] == pytest.approx(jobs.mean() + half, abs=1e-6)
    assert row["jobs_created_low"] <= row["jobs_created_mean"] <= row["jobs_created_high"]

    def regional(scenario, seed, column):
        regions = results[(scenario, "", seed)].regions
        return regions[regions["year"] == LAST].set_index("region")[column]

    capital = [
        float(
            regional(VARIANT, s, "population")[list(CAPITAL_CODES)].sum() - regional(REFERENCE, s, "population")[list(CAPITAL_CODES)].sum()
        )
        for s in SEEDS
    ]
    assert row["capital_population_diff_mean"] == pytest.approx(np.mean(capital), abs=1e-6)
    at_risk = [
        float((regional(VARIANT, s, "extinction_risk_index") < 0.5).sum() - (regional(REFERENCE, s, "extinction_risk_index") < 0.5).sum())
        for s in SEEDS
    ]
    assert row["provinces_at_risk_diff_mean"] == pytest.approx(np.mean(at_risk))
    population = [
        float(national(results, VARIANT, s).loc[LAST, "population"] - national(results, REFERENCE, s).loc[LAST, "population"])
        for s in SEEDS
    ]
    assert row["population_diff_mean"] == pytest.approx(np.mean(population), abs=1e-6)
    assert row["population_ref"] == pytest.approx(np.mean([float(national(results, REFERENCE, s).loc[LAST, "population"]) for s in SEEDS]))
    spent = [results[(VARIANT, "", s)].lever_spending["spending_krw"].sum() for s in SEEDS]  # 2024–2026, all levers
    assert row["spending_krw_diff_mean"] == pytest.approx(np.mean(spent), rel=1e-9)
    assert row["spending_krw_diff_mean"] > 0
    expected_cost = row["spending_krw_diff_mean"] / row["jobs_created_mean"] if row["jobs_created_mean"] > 0 else np.nan
    assert row["cost_per_job_krw"] == pytest.approx(expected_cost, nan_ok=True)


def test_cost_per_job_needs_money_spent_and_jobs_gained():
    from sim.model.metrics import cost_per_job_krw

    cost = cost_per_job_krw([2e9, 0.0, 2e9, 0.0], [1_000, 6_415, -425, 0])
    assert cost[0] == pytest.approx(2e6)  # 2 bn KRW for 1,000 jobs: 2 m KRW per job
    assert np.isnan(cost[1:]).all()  # a window change without levers gains jobs at no cost: no cost per job


def test_years_default_falls_back_and_explicit_years_are_checked(batch_dir):
    assert compare(batch_dir)["year"].unique().tolist() == [LAST]  # 2030 and 2035 are not reached
    assert sorted(compare(batch_dir, years=[2024, 2026])["year"].unique()) == [2024, 2026]
    with pytest.raises(RegsimError, match="2040"):
        compare(batch_dir, years=[2040])
    with pytest.raises(RegsimError, match="reference"):
        compare(batch_dir, reference="no_such_scenario")


def test_missing_and_empty_folders_are_errors(tmp_path):
    with pytest.raises(RegsimError, match="not found"):
        open_batch(tmp_path / "missing")
    with pytest.raises(RegsimError, match="manifest"):
        open_batch(tmp_path)


def test_sweep_columns_are_kept_per_point(sweep_dir):
    table = compare(sweep_dir, years=[LAST])
    assert open_batch(sweep_dir).sweep == ["budget_scale", "duration"]
    variants = table[table["scenario"] == VARIANT]
    assert len(variants) == 4
    assert set(zip(variants["budget_scale"], variants["duration"])) == {(0.5, 1), (0.5, 2), (1.0, 1), (1.0, 2)}
    assert variants["jobs_created_mean"].nunique() == 1  # the same tables at every point


def test_csv_output_parses(batch_dir, summary):
    done = CliRunner().invoke(app, ["compare", str(batch_dir), "--years", "all", "--csv"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(io.StringIO(done.stdout), keep_default_na=False, na_values=[""])
    assert list(table.columns) == list(summary.columns)
    assert len(table) == len(summary)
    np.testing.assert_allclose(table["jobs_created_mean"], summary["jobs_created_mean"])


def test_markdown_output_parses(batch_dir, summary):
    done = CliRunner().invoke(app, ["compare", str(batch_dir), "--years", "2025,2026", "--markdown"])
    assert done.exit_code == 0, done.output
    years = [2025, 2026]
    assert done.stdout == to_markdown(
        compare(batch_dir, years=years), ledger_by_area(batch_dir, years=years), provenance(open_batch(batch_dir))
    )
    tables, current = [], []
    for line in done.stdout.splitlines() + [""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    assert len(tables) == 3  # the policy's differences, the reference's levels, the provenance (no ledger in this folder)
    for table in tables:
        assert len({len(row) for row in table}) == 1  # every row has the header's cells
        assert set(table[1][0]) <= set(":-")  # separator
    effects, levels, origin = tables
    assert effects[0][:3] == ["scenario", "year", "seeds"]
    assert [row[0] for row in effects[2:]] == [VARIANT, VARIANT]
    assert [row[0] for row in levels[2:]] == ["2025", "2026"]
    assert ["reference", REFERENCE] in origin and ["policies (levers switched on)", VARIANT] in origin
    sections = [line for line in done.stdout.splitlines() if line.startswith("## ")]
    assert sections == ["## Findings", "## Assumption variants", "## Reference", "## Provenance"]


def test_rich_table_by_default(batch_dir):
    done = CliRunner().invoke(app, ["compare", str(batch_dir)])
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "Policies: paired differences against korea_baseline" in text and "Reference levels" in text
    assert text.index("Findings") < text.index("Policies: paired") < text.index("Assumption variants") < text.index("Provenance")


# --- figures -------------------------------------------------------------------------------------
FIGURES = {
    "timeseries",
    "differences",
    "provinces_population",
    "provinces_extinction_risk",
    "tile_map_extinction_risk",
    "map_extinction_risk",
    "map_extinction_risk_change",
    "map_population_change",
}


def test_plot_dir_writes_every_figure_as_png_and_svg(batch_dir, tmp_path):
    written = plot_dir(batch_dir, tmp_path / "figures")
    assert {path.name for path in written} == {f"{name}.{fmt}" for name in FIGURES for fmt in ("png", "svg")}
    for path in written:
        assert path.is_file() and path.stat().st_size > 1000, path
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG
        else:
            assert b"<svg" in path.read_bytes()[:2000]


def test_tile_map_has_17_labelled_tiles(batch_dir):
    figure = tile_map_figure(batch_dir)
    axis = figure.axes[0]
    tiles = {patch.get_gid() for patch in axis.patches if (patch.get_gid() or "").startswith("tile-")}
    assert tiles == {f"tile-{code}" for code in REGION_CODES}
    assert set(TILE_GRID) == set(REGION_CODES) and len(set(TILE_GRID.values())) == 17  # one cell each
    labels = {text.get_gid(): text.get_text() for text in axis.texts if (text.get_gid() or "").startswith("label-")}
    names = region_names("en")
    assert labels == {f"label-{code}": names[code] for code in REGION_CODES}
    assert VARIANT in axis.get_title()


def test_province_maps_colour_the_17_provinces_by_the_batch_values(batch_dir):
    from sim.analysis.maps import province_map_figures

    figures = dict(province_map_figures(batch_dir))
    assert set(figures) == {"map_extinction_risk", "map_extinction_risk_change", "map_population_change"}
    batch = open_batch(batch_dir)
    table = batch.regions(["extinction_risk_index"])
    last = table[(table["year"] == table["year"].max()) & (table["scenario"] == REFERENCE)]
    expected = last.groupby("region")["extinction_risk_index"].mean()
    filled = figures["map_extinction_risk"].axes[0].collections[0]
    values = filled.get_array()
    assert len(values) >= 17 and np.isfinite(values).all()  # every province coloured (islands add paths)
    assert set(np.round(values, 9)) == set(np.round(expected.to_numpy(), 9))
    change = figures["map_extinction_risk_change"]
    assert VARIANT in change.axes[0].get_title() and len(change.axes) == 2  # one map and its colour bar


def test_tile_map_has_one_map_per_sweep_point(sweep_dir):
    figure = tile_map_figure(sweep_dir)
    maps = [axis for axis in figure.axes if any((patch.get_gid() or "").startswith("tile-") for patch in axis.patches)]
    assert len(maps) == 4
    assert all(len([p for p in axis.patches if (p.get_gid() or "").startswith("tile-")]) == 17 for axis in maps)


def test_korean_labels_and_font(batch_dir, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = tile_map_figure(batch_dir, lang="ko")
        figure.savefig(tmp_path / "tile.png")
        written = plot_dir(batch_dir, tmp_path / "ko", lang="ko", formats=("png",))
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    names = region_names("ko")
    labels = {text.get_text() for text in figure.axes[0].texts if (text.get_gid() or "").startswith("label-")}
    assert labels == set(names.values()) and "서울특별시" in labels
    assert len(written) == len(FIGURES) and all(path.read_bytes()[:8] == PNG for path in written)


def test_sweep_figures(sweep_dir, tmp_path):
    written = plot_dir(sweep_dir, tmp_path, formats=("png", "svg"))
    assert {"sweep.png", "sweep.svg"} <= {path.name for path in written}
    heatmap = sweep_figure(sweep_dir)
    assert heatmap.axes[0].images  # two parameters: a heatmap
    batch = open_batch(sweep_dir)
    batch.sweep = ["budget_scale"]  # one parameter: a response curve
    curve = sweep_figure(batch)
    assert not curve.axes[0].images and curve.axes[0].lines


def test_no_sweep_figure_without_sweep(batch_dir):
    assert sweep_figure(batch_dir) is None


# --- command line ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["compare", "plot"])
def test_cli_missing_folder_is_a_one_line_error(command, tmp_path):
    done = subprocess.run([str(REGSIM), command, str(tmp_path / "missing")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "not found" in done.stderr


def test_cli_empty_folder_and_bad_options(tmp_path, batch_dir):
    runner = CliRunner()
    for args in (
        ["compare", str(tmp_path)],
        ["plot", str(tmp_path)],
        ["plot", str(batch_dir), "--lang", "fr"],
        ["plot", str(batch_dir), "--format", "gif"],
        ["compare", str(batch_dir), "--years", "x"],
    ):
        done = runner.invoke(app, args)
        assert isinstance(done.exception, RegsimError), args


def test_cli_plot_writes_figures(batch_dir, tmp_path):
    done = CliRunner().invoke(app, ["plot", str(batch_dir), "--out", str(tmp_path), "--format", "svg"])
    assert done.exit_code == 0, done.output
    assert {path.name for path in tmp_path.iterdir()} == {f"{name}.svg" for name in FIGURES}
