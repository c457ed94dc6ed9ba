"""Benchmarks: speed and memory of a run, measured in a fresh process (never in tests)."""

from __future__ import annotations

import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import yaml

from sim.errors import RegsimError
from sim.experiments.batch import run_batch
from sim.results.run import run, scenario_from_dict


def benchmark_baseline(scale: int, until: int = 2052, seed: int = 0, resolution: str = "province") -> dict:
    """Run the Korea baseline at 1:``scale`` in a fresh process; wall time, throughput, peak memory; at
    ``resolution`` ``sigungu`` also the person agents of the smallest municipality at the start."""
    if scale < 1:
        raise RegsimError(f"persons per agent must be at least 1, found {scale}")
    _scenario(scale, until, resolution)  # a bad resolution is a one-line error here, not in the worker
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure, (scale, until, seed, resolution))


def _measure(scale: int, until: int, seed: int, resolution: str) -> dict:
    scenario = _scenario(scale, until, resolution)
    started = time.perf_counter()
    result = run(scenario, seed=seed)
    wall = time.perf_counter() - started
    simulated = result.regions[result.regions["year"] > scenario.start_year]
    agent_steps = float((simulated["population"].sum() + simulated["firms"].sum()) / scale)
    return {
        "scale": f"1:{scale}",
        "years": scenario.end_year - scenario.start_year,
        "agents_at_start": result.metadata["agents_at_start"],
        "wall_time_s": round(wall, 2),
        "agent_steps_per_s": round(agent_steps / wall),
        "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
    } | ({} if result.municipalities is None else {"smallest_municipality_agents": _smallest_municipality_agents(result, scenario)})


def _scenario(scale: int, until: int, resolution: str):
    name = "korea_baseline" if resolution == "province" else f"korea_{resolution}_baseline"
    return scenario_from_dict({"name": name, "scale": scale, "end_year": until, "resolution": resolution}, source="--resolution")


def _smallest_municipality_agents(result, scenario) -> int:
    """Person agents of the least populated municipality at the start (population / scale)."""
    start = result.municipalities[result.municipalities["year"] == scenario.start_year]
    return int(start["population"].min() / scenario.scale)


BATCH_SCENARIOS = ("korea_baseline.yaml", "korea_2023_regional_plan_mss.yaml")


def benchmark_batch(workers: tuple[int, ...] = (1, 2), seeds: int = 10, until: int = 2035) -> list[dict]:
    """Throughput of ``regsim batch`` (local executor) with 1 and 2 workers on a small experiment
    (two scenarios × ``seeds`` seeds), and its overhead: batch wall time with one worker over the
    model's own time summed over runs (run.json ``wall_time_s``), minus one."""

    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        experiment = Path(folder) / "bench.yaml"
        experiment.write_text(
            yaml.safe_dump(
                {"name": "bench", "scenarios": [str(scenarios / name) for name in BATCH_SCENARIOS], "seeds": seeds, "until": until}
            )
        )
        for count in workers:
            out = Path(folder) / f"workers{count}"
            summary = run_batch(experiment, out=out, workers=count)
            model_time = sum(json.loads(path.read_text())["wall_time_s"] for path in out.glob("runs/*/run.json"))
            rows.append(
                {
                    "workers": count,
                    "runs": summary.finished,
                    "wall_time_s": round(summary.wall_time_s, 2),
                    "model_time_s": round(model_time, 2),
                }
            )
    one = next(row for row in rows if row["workers"] == 1)
    for row in rows:
        row["speedup_vs_1_worker"] = round(one["wall_time_s"] / row["wall_time_s"], 2)
        row["overhead_pct"] = round(100 * (row["wall_time_s"] * row["workers"] / row["model_time_s"] - 1), 1)
    return rows
