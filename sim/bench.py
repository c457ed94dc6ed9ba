"""Benchmarks: speed and memory of a run, measured in a fresh process (never in tests)."""

from __future__ import annotations

import multiprocessing
import resource
import time

from sim.errors import RegsimError


def benchmark_baseline(scale: int, until: int = 2052, seed: int = 0) -> dict:
    """Run the Korea baseline at 1:``scale`` in a fresh process; wall time, throughput, peak memory."""
    if scale < 1:
        raise RegsimError(f"--scales: persons per agent must be at least 1, found {scale}")
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure, (scale, until, seed))


def _measure(scale: int, until: int, seed: int) -> dict:
    from sim.api import run
    from sim.scenario import scenario_from_dict

    scenario = scenario_from_dict({"name": "korea_baseline", "scale": scale, "end_year": until}, source="benchmark")
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
    }
