"""The additionality ledger through the commands: ``regsim effects``, batches (``ledger.parquet``),
``regsim compare`` and the report. Small real runs: 1:1000, 2023 → 2025, two seeds."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT, assert_one_line_error, regsim

from sim.analysis.compare import LEDGER_TITLE, compare, ledger_by_area, ledger_table, to_markdown
from sim.analysis.report import build_report
from sim.experiments.batch import run_batch
from sim.experiments.effects import NATIONAL, REST, TARGETED, effects_table, paired_effects, targeted_regions
from sim.results.ledger import ALL, LEDGER_COLUMNS, SUMMARY_MEASURES
from sim.results.store import query

MSS = ROOT / "scenarios" / "korea_2023_regional_plan_mss.yaml"
SCALE, UNTIL = 1000, 2025


# --- regsim effects --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def effects():
    return paired_effects(MSS, seeds=[0, 1], years=[2024, 2025], scale=SCALE)


def test_effects_per_seed_by_area(effects):
    per_seed, summary = effects
    targeted = summary.attrs["targeted_regions"]
    assert targeted and "11" not in targeted  # the MSS plan reaches non-capital provinces (and decline areas), not Seoul
    assert set(per_seed["area"]) == {NATIONAL, TARGETED, REST}
    assert len(per_seed) == 2 * 2 * 3
    for (_seed, _year), rows in per_seed.groupby(["seed", "year"]):
        areas = rows.set_index("area")
        for measure in SUMMARY_MEASURES:  # the two areas add up to the nation (labour demand is continuous)
            assert areas.loc[TARGETED, measure] + areas.loc[REST, measure] == pytest.approx(areas.loc[NATIONAL, measure], rel=1e-12)
        assert (areas["net_jobs"] == areas["gross_jobs"] + areas["displacement_jobs"] + areas["leakage_jobs"]).all()
        assert areas.loc[REST, "gross_jobs"] == 0 and areas.loc[REST, "displacement_jobs"] == 0


def test_effects_summary_is_mean_interval_and_ratio_of_means(effects):
    per_seed, summary = effects
    row = summary[(summary["year"] == 2025) & (summary["area"] == NATIONAL)].iloc[0]
    values = per_seed[(per_seed["year"] == 2025) & (per_seed["area"] == NATIONAL)]
    assert row["net_jobs_mean"] == values["net_jobs"].mean()
    assert row["seeds"] == 2
    spending = values["spending_krw"].mean()
    assert spending > 0
    for cost, denominator in (("cost_per_gross_job_krw", "gross_jobs"), ("cost_per_net_job_krw", "net_jobs")):
        mean = values[denominator].mean()
        assert (row[cost] == spending / mean) if mean > 0 else np.isnan(row[cost])


def test_effects_table_shows_the_target_beside_gross(effects):
    _, summary = effects
    table = effects_table(summary, 2025, target_jobs=3623)
    labels = table["measure"].tolist()
    assert labels[0].startswith("gross jobs in supported firms")
    assert labels[1].startswith("programme target") and table.iloc[1, 1] == "3,623"
    # the MSS plan reaches exactly the 14 non-capital provinces (seed 003; the decline-area lever spends nothing in Incheon)
    assert table.columns.tolist()[1:] == ["national", "non-capital provinces (targeted)", "capital region (rest)"]
    assert "programme target" not in " ".join(effects_table(summary, 2025)["measure"])


def test_targeted_regions_of_a_national_package_is_empty():
    ledger = pd.DataFrame({"year": [2025] * 3, "lever": [ALL] * 3, "region": [ALL, "11", "26"], "targeted": [True, True, True]})
    assert targeted_regions([ledger]) == []
    assert targeted_regions([ledger.assign(targeted=[True, True, False])]) == ["11"]


def test_cli_effects_prints_the_ledger_with_the_target(tmp_path):
    done = regsim("effects", MSS, "--seeds", "2", "--years", "2025", "--scale", str(SCALE), "--target-jobs", "3623", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for fragment in (
        "Additionality ledger",
        "gross jobs in supported firms",
        "programme target",
        "3,623",
        "displacement",
        "leakage",
        "net jobs",
        "persons aged 20–39 retained",
        "cost per gross job",
        "targeted regions:",
    ):
        assert fragment in text, fragment
    assert (tmp_path / "effects_summary.csv").is_file() and (tmp_path / "effects_per_seed.csv").is_file()


@pytest.mark.parametrize("value", ["abc", "-5", "nan"])
def test_cli_effects_bad_target_jobs(value):
    assert_one_line_error(regsim("effects", MSS, "--seeds", "2", "--target-jobs", value), "--target-jobs")


def test_cli_effects_bad_scale():
    assert_one_line_error(regsim("effects", MSS, "--scale", "0"), "--scale")


def test_positive_number_option():
    from sim.cli import _positive_number
    from sim.errors import RegsimError

    assert _positive_number("--target-jobs", "3,623") == 3623 and _positive_number("--target-jobs", None) is None
    for text in ("0", "inf", "-1e3", ""):
        with pytest.raises(RegsimError, match="--target-jobs"):
            _positive_number("--target-jobs", text)


def test_cli_effects_without_levers():
    assert_one_line_error(regsim("effects", BASELINE, "--seeds", "2", "--years", "2024", "--scale", str(SCALE)), "has no levers")


def test_cli_run_prints_the_ledger_line(tmp_path):
    done = regsim("run", MSS, "--scale", str(SCALE), "--until", "2025", "--out", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    assert "2025 ledger: gross" in done.stdout and "ledger.parquet" in done.stdout
    assert not pd.read_parquet(tmp_path / "run" / "ledger.parquet").empty


# --- batches, compare and the report ---------------------------------------------------------------
@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ledger-batch")
    experiment = folder / "experiment.yaml"
    experiment.write_text(
        f"name: ledger_batch\nscale: {SCALE}\nuntil: {UNTIL}\nseeds: 2\nscenarios: [{BASELINE}, {MSS}]\n", encoding="utf-8"
    )
    summary = run_batch(experiment, out=folder / "out", workers=2)
    assert summary.failed == 0
    return folder / "out"


def test_batch_levered_runs_carry_their_ledger(batch):
    counts = query(batch, "SELECT scenario, seed, COUNT(*) AS n FROM ledger GROUP BY scenario, seed ORDER BY scenario, seed")
    assert counts["scenario"].tolist() == ["korea_2023_regional_plan_mss"] * 2 and (counts["n"] > 0).all()
    files = sorted(batch.glob("runs/*/ledger.parquet"))
    assert len(files) == 4  # the reference runs write an empty ledger
    for file in files:
        ledger = pd.read_parquet(file)
        assert set(LEDGER_COLUMNS) <= set(ledger.columns) and {"run_key", "scenario", "variant", "seed"} <= set(ledger.columns)
    # a levered run is paired with its own baseline, which is the reference run of the same seed
    national = query(batch, "SELECT scenario, seed, year, jobs_created FROM national WHERE scenario <> 'korea_baseline'")
    differences = compare(batch, years=[2025]).query("scenario != 'korea_baseline'")
    assert national[national["year"] == 2025]["jobs_created"].mean() == differences["jobs_created_mean"].iloc[0]


def test_national_ledger_is_the_mean_over_seeds(batch):
    by_area = ledger_by_area(batch, years=[2024, 2025])
    ledger = by_area[by_area["area"] == "national"]
    assert ledger["scenario"].tolist() == ["korea_2023_regional_plan_mss"] * 2 and ledger["seeds"].tolist() == [2, 2]
    rows = query(batch, f"SELECT * FROM ledger WHERE lever = '{ALL}' AND region = '{ALL}' AND year = 2025")
    last = ledger[ledger["year"] == 2025].iloc[0]
    for measure in ("gross_jobs", "displacement_jobs", "leakage_jobs", "net_jobs", "persons_retained", "spending_krw"):
        assert last[f"{measure}_mean"] == pytest.approx(rows[measure].mean(), abs=1e-6)
    # net national jobs of the ledger equal the jobs created against the reference (the same baseline)
    assert last["net_jobs_mean"] == compare(batch, years=[2025]).query("scenario != 'korea_baseline'")["jobs_created_mean"].iloc[0]
    text = ledger_table(by_area)
    assert ["gross jobs", "gross labour demand", "displacement", "leakage", "net jobs"] == text.columns[4:9].tolist()
    assert LEDGER_TITLE in to_markdown(compare(batch), by_area)


def test_cli_compare_shows_the_ledger_first(batch):
    done = regsim("compare", batch, "--years", "2025")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "Additionality ledger" in text and text.index("Additionality ledger") < text.index("Policies: paired differences")
    assert text.index("Findings") < text.index("korea_2023_regional_plan_mss. By 2025") < text.index("Additionality ledger")
    assert text.index("Additionality ledger") < text.index("Assumption variants") < text.index("Provenance")


def test_folders_without_ledger_files_still_compare(batch, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(batch, old)
    for file in old.glob("runs/*/ledger.parquet"):
        file.unlink()
    assert ledger_by_area(old).empty
    assert query(old, "SELECT COUNT(*) AS n FROM ledger")["n"].iloc[0] == 0
    done = regsim("compare", old)
    assert done.returncode == 0 and "Additionality ledger" not in done.stdout


def test_report_opens_with_the_ledger(batch, tmp_path):
    html = build_report(batch, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="findings"' in html and LEDGER_TITLE in html
    assert html.index('id="findings"') < html.index('id="comparison"') < html.index('id="provenance"')
    assert "korea_2023_regional_plan_mss.</strong> By 2025" in html  # the policy's paragraph
    assert "deadweight" in html
