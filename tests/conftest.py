"""Shared fixtures: short, coarse runs reused by several tests (session-scoped, run once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.api import RunResult, load_scenario, run
from sim.results.store import finished_keys

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "korea_baseline.yaml"
PACK = ROOT / "sim" / "inputs" / "data" / "korea"
CAPITAL_CODES = ("11", "28", "41")  # Seoul, Incheon, Gyeonggi
REGSIM = Path(sys.executable).parent / "regsim"
REGION_CODES = ("11", "26", "27", "28", "29", "30", "31", "36", "41", "42", "43", "44", "45", "46", "47", "48", "50")


@pytest.fixture(scope="session")
def baseline_run() -> RunResult:
    """Korea baseline, 2023 → 2026 at 1:100 (about one second)."""
    return run(BASELINE, seed=7, scale=100, until=2026)


@pytest.fixture(scope="session")
def backcast_run() -> RunResult:
    """Back-cast 2015 → 2023 at 1:200: observed fertility and (partly negative) international migration."""
    return run(load_scenario(BASELINE, start_year=2015, end_year=2023), seed=3, scale=200)


@pytest.fixture(scope="session", params=["baseline", "backcast"])
def any_run(request) -> RunResult:
    return request.getfixturevalue(f"{request.param}_run")


def packaged_population(year: int) -> pd.Series:
    """Packaged population at 31 December of ``year``, persons per region code."""
    table = pd.read_csv(PACK / f"population_{year}.csv", dtype={"region": str})
    return table.groupby("region")["persons"].sum()


def regsim(*args: str | Path, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the ``regsim`` command of this environment; output captured as text."""
    return subprocess.run([str(REGSIM), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def kill_batch_after_first_run(experiment: Path, out: Path, timeout: float = 120) -> set[str]:
    """Start ``regsim batch EXPERIMENT --workers 2 --out OUT``, kill it and its worker processes (SIGKILL) as
    soon as one run has finished, and return the keys finished by then (an interrupted batch)."""
    process = subprocess.Popen(
        [str(REGSIM), "batch", str(experiment), "--workers", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not finished_keys(out):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, f"no run finished within {timeout:g} s"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the batch and its worker processes
        process.wait()
    return finished_keys(out)


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, exactly one line on stderr, no traceback; the line contains every fragment."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
