"""The additionality ledger on tiny hand-made inputs: 2 regions, 4 firms, 2 levers, 2023–2025.

Firm jobs (persons, 31 December), policy run / baseline run:

    firm region   2023     2024     2025
    1    11      10/10    15/11    17/12     supported by L1 from 2024, by L2 in 2025
    2    11      20/20    18/20    16/21
    3    26      30/30    33/31     –/32     exits in the policy run; supported by L2 in 2025
    4    26      40/40    40/41    42/–      exits in the baseline run

Spending: L1 1 bn KRW in region 11 in 2024 and in 2025; L2 0.5 bn in 11 and 0.5 bn in 26 in 2025.
So region 11 is targeted from 2024, region 26 from 2025.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.results.ledger import (
    ALL,
    LEDGER_COLUMNS,
    OTHER_FIRMS,
    additionality_ledger,
    empty_ledger,
    firm_jobs_frame,
    ledger_summary,
    package_rows,
)

CODES = ["11", "26"]
REGION_OF = {1: "11", 2: "11", 3: "26", 4: "26"}
POLICY = {2023: {1: 10, 2: 20, 3: 30, 4: 40}, 2024: {1: 15, 2: 18, 3: 33, 4: 40}, 2025: {1: 17, 2: 16, 4: 42}}
BASELINE = {2023: {1: 10, 2: 20, 3: 30, 4: 40}, 2024: {1: 11, 2: 20, 3: 31, 4: 41}, 2025: {1: 12, 2: 21, 3: 32}}
SUPPORT = pd.DataFrame(
    [(2024, "L1", 1, "11", 100.0), (2025, "L1", 1, "11", 100.0), (2025, "L2", 1, "11", 100.0), (2025, "L2", 3, "26", 100.0)],
    columns=["year", "lever", "firm", "region", "establishments"],
)
SPENDING = pd.DataFrame(
    [(2024, "L1", "11", 1e9), (2025, "L1", "11", 1e9), (2025, "L2", "11", 0.5e9), (2025, "L2", "26", 0.5e9)],
    columns=["year", "lever", "region", "spending_krw"],
)


def jobs_table(jobs: dict[int, dict[int, int]]) -> pd.DataFrame:
    rows = [(year, firm, REGION_OF[firm], float(n)) for year, firms in jobs.items() for firm, n in firms.items()]
    return pd.DataFrame(rows, columns=["year", "firm", "region", "jobs"])


def regions_table(population: dict[str, int], young: dict[str, int], women: dict[str, int]) -> pd.DataFrame:
    rows = [
        {"year": year, "region": code, "population": population[code], "persons_20_39": young[code], "women_20_39": women[code]}
        for year in (2023, 2024, 2025)
        for code in CODES
    ]
    return pd.DataFrame(rows).astype({"population": "Int64", "persons_20_39": "Int64", "women_20_39": "Int64"})


POLICY_REGIONS = regions_table({"11": 1000, "26": 500}, {"11": 300, "26": 100}, {"11": 150, "26": 50})
BASELINE_REGIONS = regions_table({"11": 990, "26": 505}, {"11": 290, "26": 100}, {"11": 145, "26": 52})


@pytest.fixture(scope="module")
def ledger() -> pd.DataFrame:
    return additionality_ledger(jobs_table(POLICY), jobs_table(BASELINE), SUPPORT, SPENDING, POLICY_REGIONS, BASELINE_REGIONS, CODES)


def row(ledger: pd.DataFrame, year: int, lever: str, region: str) -> pd.Series:
    found = ledger[(ledger["year"] == year) & (ledger["lever"] == lever) & (ledger["region"] == region)]
    assert len(found) == 1
    return found.iloc[0]


def test_columns_and_rows(ledger):
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    assert len(ledger) == 3 * 3 * 3  # years × (all, L1, L2) × (all, 11, 26)
    assert ledger["lever"].drop_duplicates().tolist() == [ALL, "L1", "L2"]
    assert ledger["region"].drop_duplicates().tolist() == [ALL, "11", "26"]
    assert list(empty_ledger().columns) == list(LEDGER_COLUMNS)


def test_gross_removes_deadweight(ledger):
    # firm 1 has 17 jobs in 2025 with support, 12 without: 5 are additional, 12 are deadweight
    assert row(ledger, 2024, ALL, "11")["gross_jobs"] == 4
    assert row(ledger, 2025, "L1", "11")["gross_jobs"] == 5
    assert row(ledger, 2023, ALL, ALL)["gross_jobs"] == 0  # nothing supported yet


def test_firm_exits_count_zero_in_that_run(ledger):
    # firm 3 (supported by L2 in 2025) is gone in the policy run: 0 − 32; firm 4 (not supported)
    # is gone in the baseline: 42 − 0 in the region's net jobs
    assert row(ledger, 2025, "L2", "26")["gross_jobs"] == -32
    assert row(ledger, 2025, ALL, "26")["net_jobs"] == 10
    assert row(ledger, 2025, "L2", ALL)["gross_jobs"] == 5 - 32
    assert row(ledger, 2025, ALL, ALL)["gross_jobs"] == -27


def test_displacement_and_leakage(ledger):
    in_11 = row(ledger, 2024, ALL, "11")
    assert (in_11["targeted"], in_11["net_jobs"], in_11["displacement_jobs"], in_11["leakage_jobs"]) == (True, 2, -2, 0)
    in_26 = row(ledger, 2024, ALL, "26")  # not targeted in 2024: its net change is leakage
    assert (in_26["targeted"], in_26["net_jobs"], in_26["displacement_jobs"], in_26["leakage_jobs"]) == (False, 1, 0, 1)
    national = row(ledger, 2024, ALL, ALL)
    assert (national["gross_jobs"], national["displacement_jobs"], national["leakage_jobs"], national["net_jobs"]) == (4, -2, 1, 3)
    later = row(ledger, 2025, ALL, "26")  # targeted in 2025
    assert (later["targeted"], later["displacement_jobs"], later["leakage_jobs"]) == (True, 42, 0)
    assert row(ledger, 2025, ALL, ALL)[["gross_jobs", "displacement_jobs", "leakage_jobs", "net_jobs"]].tolist() == [-27, 37, 0, 10]


def test_identities_are_exact(ledger):
    package = ledger[ledger["lever"] == ALL]
    assert (package["net_jobs"] == package["gross_jobs"] + package["displacement_jobs"] + package["leakage_jobs"]).all()
    additive = [
        "supported_firms",
        "supported_establishments",
        "gross_jobs",
        "displacement_jobs",
        "leakage_jobs",
        "net_jobs",
        "persons_retained",
        "young_persons_retained",
        "young_women_retained",
        "spending_krw",
    ]
    for (_year, _lever), rows in ledger.groupby(["year", "lever"]):
        national = rows[rows["region"] == ALL][additive].iloc[0]
        regional = rows[rows["region"] != ALL][additive].sum(min_count=1)
        pd.testing.assert_series_equal(national, regional, check_names=False, check_exact=True)


def test_per_lever_rows_leave_inseparable_columns_empty(ledger):
    levers = ledger[ledger["lever"] != ALL]
    for column in (
        "displacement_jobs",
        "leakage_jobs",
        "net_jobs",
        "persons_retained",
        "young_persons_retained",
        "young_women_retained",
        "cost_per_net_job_krw",
        "cost_per_person_retained_krw",
    ):
        assert levers[column].isna().all(), column
    assert not levers["gross_jobs"].isna().any()


def test_support_counts(ledger):
    assert row(ledger, 2024, ALL, ALL)[["supported_firms", "supported_establishments"]].tolist() == [1, 100]
    # 2025: firm 1 supported by two levers counts once in the package
    assert row(ledger, 2025, ALL, ALL)[["supported_firms", "supported_establishments"]].tolist() == [2, 200]
    assert row(ledger, 2025, "L2", ALL)[["supported_firms", "supported_establishments"]].tolist() == [2, 200]
    assert row(ledger, 2025, "L1", "26")["supported_firms"] == 0


def test_spending_and_costs(ledger):
    assert row(ledger, 2024, ALL, ALL)["spending_krw"] == 1e9
    assert row(ledger, 2025, ALL, ALL)["spending_krw"] == 3e9  # cumulative
    assert row(ledger, 2025, "L1", ALL)["spending_krw"] == 2e9
    assert row(ledger, 2024, "L2", ALL)["spending_krw"] == 0
    national = row(ledger, 2024, ALL, ALL)
    assert national["cost_per_gross_job_krw"] == 1e9 / 4
    assert national["cost_per_net_job_krw"] == 1e9 / 3
    assert national["cost_per_person_retained_krw"] == 1e9 / 5  # the fake regions tables differ by 5 persons every year
    assert row(ledger, 2025, "L1", ALL)["cost_per_gross_job_krw"] == 2e9 / 5
    assert row(ledger, 2025, "L2", "11")["cost_per_gross_job_krw"] == 0.5e9 / 5
    later = row(ledger, 2025, ALL, ALL)
    assert np.isnan(later["cost_per_gross_job_krw"])  # gross jobs negative: no cost per job
    assert later["cost_per_net_job_krw"] == 3e9 / 10
    assert later["cost_per_person_retained_krw"] == 3e9 / 5
    assert np.isnan(row(ledger, 2023, ALL, ALL)["cost_per_net_job_krw"])  # nothing spent


def test_persons_retained(ledger):
    national = row(ledger, 2025, ALL, ALL)
    assert national[["persons_retained", "young_persons_retained", "young_women_retained"]].tolist() == [5, 10, 3]
    assert row(ledger, 2025, ALL, "26")[["persons_retained", "young_women_retained"]].tolist() == [-5, -2]


def test_without_support_or_spending_everything_is_leakage():
    ledger = additionality_ledger(jobs_table(POLICY), jobs_table(BASELINE), [], [], POLICY_REGIONS, BASELINE_REGIONS, CODES)
    assert ledger["lever"].unique().tolist() == [ALL]
    national = package_rows(ledger).loc[2025]
    assert (national["gross_jobs"], national["displacement_jobs"], national["leakage_jobs"], national["net_jobs"]) == (0, 0, 10, 10)
    assert not ledger["targeted"].any()


def test_firm_jobs_frame_from_records_and_compact_form():
    records = [
        SimpleNamespace(year=2024, uid=np.array([1, 2, 3], np.int64), region=np.array([0, 0, 1]), jobs=np.array([15.0, 18.0, 33.0])),
        SimpleNamespace(year=2025, uid=np.array([1, 2, 4], np.int64), region=np.array([0, 0, 1]), jobs=np.array([17.0, 16.0, 42.0])),
    ]
    full = firm_jobs_frame(records, CODES)
    assert list(full.columns) == ["year", "firm", "region", "jobs", "demand"]
    assert (full["demand"] == full["jobs"]).all()  # records without demand: filled jobs stand for it
    assert full["region"].tolist() == ["11", "11", "26", "11", "11", "26"]
    compact = firm_jobs_frame(records, CODES, firms=[1])
    assert compact[compact["firm"] == 1]["jobs"].tolist() == [15.0, 17.0]
    others = compact[compact["firm"] == OTHER_FIRMS]
    assert others[["year", "region", "jobs"]].values.tolist() == [
        [2024, "11", 18.0],
        [2024, "26", 33.0],
        [2025, "11", 16.0],
        [2025, "26", 42.0],
    ]
    # the compact form gives the same ledger as the full one
    support = SUPPORT[SUPPORT["firm"] == 1]
    args = (support, SPENDING, POLICY_REGIONS, BASELINE_REGIONS, CODES)
    base = firm_jobs_frame(records[:1], CODES)
    pd.testing.assert_frame_equal(
        additionality_ledger(full, base, *args), additionality_ledger(compact, firm_jobs_frame(records[:1], CODES, firms=[1]), *args)
    )


def test_summary_line(ledger):
    lines = ledger_summary(ledger, [2024, 2025])
    assert len(lines) == 2
    assert lines[0].startswith("2024 ledger: gross +4 jobs in supported firms, displacement −2, leakage +1, net +3 national")
    assert "1.0 bn KRW spent" in lines[0] and "per gross job 0.25 bn KRW" in lines[0]
    assert "per gross job –" in lines[1]
    assert ledger_summary(ledger) == lines[1:]
    assert ledger_summary(empty_ledger()) == []


def test_targeted_per_lever(ledger):
    assert row(ledger, 2024, "L1", "11")["targeted"] and not row(ledger, 2024, "L2", "11")["targeted"]
    assert not row(ledger, 2025, "L1", "26")["targeted"] and row(ledger, 2025, "L2", "26")["targeted"]


# --- the ledger of real paired runs (1:1000, 2023 → 2026) ---------------------------------------
from conftest import REGION_CODES, ROOT  # noqa: E402

from sim.api import paired_ledger, run  # noqa: E402

MSS = ROOT / "scenarios" / "korea_2023_regional_plan_mss.yaml"
SCALE, UNTIL = 1000, 2026


@pytest.fixture(scope="module")
def paired():
    return run(MSS, seed=2, scale=SCALE, until=UNTIL)


def test_paired_run_carries_the_ledger(paired):
    ledger = paired.ledger
    assert paired.metadata["paired_baseline"]
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    assert sorted(ledger["year"].unique()) == list(range(2023, UNTIL + 1))
    assert set(ledger["region"]) == {ALL, *REGION_CODES}
    assert {"key_industry_rnd", "regional_star_firms"} <= set(ledger["lever"])
    assert not paired.support.empty and set(paired.support["lever"]) <= set(ledger["lever"])
    package = ledger[ledger["lever"] == ALL]
    assert (package["net_jobs"] == package["gross_jobs"] + package["displacement_jobs"] + package["leakage_jobs"]).all()
    for _, rows in ledger.groupby(["year", "lever"]):
        national = rows[rows["region"] == ALL].iloc[0]
        regional = rows[rows["region"] != ALL]
        for column in ("gross_jobs", "displacement_jobs", "leakage_jobs", "net_jobs", "persons_retained", "spending_krw"):
            # summation order differs (national total vs sum of regions): equal up to float rounding
            assert national[column] == pytest.approx(regional[column].sum(min_count=1), rel=1e-12, abs=1e-6) or (
                np.isnan(national[column]) and regional[column].isna().all()
            )


def test_ledger_agrees_with_the_run_tables(paired):
    national = package_rows(paired.ledger)
    jobs = paired.national.set_index("year")
    # net national jobs (filled jobs at firms) equal the national employment difference
    assert (national["net_jobs"] == jobs["jobs_created"].astype(float)).all()
    assert (national["persons_retained"] == jobs["population_retained"].astype(float)).all()
    spent = paired.lever_spending.groupby("year")["spending_krw"].sum().reindex(national.index, fill_value=0.0).cumsum()
    assert np.allclose(national["spending_krw"], spent, rtol=1e-12)
    assert national.loc[2023, ["gross_jobs", "net_jobs", "spending_krw"]].tolist() == [0, 0, 0]
    assert (national.loc[2024:, "supported_firms"] > 0).all()


def test_unpaired_run_has_an_empty_ledger_and_writes_it(tmp_path):
    result = run(MSS, seed=2, scale=SCALE, until=2024, paired_baseline=False)
    assert result.ledger.empty and list(result.ledger.columns) == list(LEDGER_COLUMNS)
    result.write(tmp_path / "run")
    written = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    assert written.empty and list(written.columns) == list(LEDGER_COLUMNS)


def test_ledger_parquet_round_trip(paired, tmp_path):
    paired.write(tmp_path / "run")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run" / "ledger.parquet"), paired.ledger)


def test_ledger_of_two_kept_runs_equals_the_paired_run(paired):
    from sim.api import load_scenario

    spec = load_scenario(MSS, scale=SCALE, end_year=UNTIL)
    policy = run(spec, seed=2, paired_baseline=False, keep_firm_jobs=True)
    baseline = run(spec.model_copy(update={"levers": []}), seed=2, paired_baseline=False, keep_firm_jobs=True)
    pd.testing.assert_frame_equal(paired_ledger(policy, baseline), paired.ledger)


def test_zero_budget_package_has_a_zero_ledger():
    from sim.api import load_scenario

    spec = load_scenario(MSS, scale=SCALE, end_year=2025)
    spec = spec.model_copy(update={"levers": [lever.model_copy(update={"budget_krw_per_year": 0.0}) for lever in spec.levers]})
    ledger = run(spec, seed=1).ledger
    assert ledger["lever"].unique().tolist() == [ALL]
    for column in ("gross_jobs", "displacement_jobs", "leakage_jobs", "net_jobs", "persons_retained", "spending_krw"):
        assert (ledger[column] == 0).all(), column
