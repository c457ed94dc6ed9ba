"""Batch results on disk: one folder per run, a manifest, DuckDB queries, resume.

Layout of a batch folder ``DIR``::

    DIR/manifest.json              experiment, provenance, one entry per run (status, error, wall time)
    DIR/runs/<key>/regions.parquet region-year table of the run
    DIR/runs/<key>/national.parquet
    DIR/runs/<key>/levers.parquet  lever spending by year and region
    DIR/runs/<key>/ledger.parquet  additionality ledger against the run's own lever-free baseline (no rows without levers)
    DIR/runs/<key>/municipalities.parquet  si-gun-gu-year table (``resolution: sigungu`` runs only)
    DIR/runs/<key>/run.json        the run's metadata (resolved scenario, seed, provenance, sweep values)
    DIR/runs/<key>/error.json      instead of the above, when the run failed

Every table carries the columns ``run_key``, ``scenario``, ``variant``, ``seed`` and one column per
sweep parameter (named by its scenario field path, e.g. ``levers[0].budget_krw_per_year``), so the
files of a batch can be read together, e.g. in DuckDB::

    SELECT variant, seed, population FROM read_parquet('DIR/runs/*/national.parquet', union_by_name=true)

A run folder is written under ``DIR/runs/.<key>.tmp/`` and moved into place with ``os.replace``;
the manifest is rewritten through a temporary file and ``os.replace``. A batch killed at any
moment therefore leaves only complete run folders (and a manifest that ``reconcile`` completes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import RegsimError

MANIFEST = "manifest.json"
RUNS = "runs"
TABLES = {
    "regions": "regions.parquet", "national": "national.parquet", "levers": "levers.parquet", "ledger": "ledger.parquet",
    "municipalities": "municipalities.parquet",
}
"""The Parquet files of a run folder (``RunResult.write`` and batch runs), by table name: the one definition."""
OPTIONAL_TABLES = ("ledger", "municipalities")
"""Tables that run folders written before they existed lack (queries and comparisons do without them)."""
KEY_COLUMNS = ("run_key", "scenario", "variant", "seed")
"""Columns added to every table of a batch run (before the sweep columns)."""


# --- manifest ----------------------------------------------------------------------------------
def new_manifest(experiment: str, experiment_file: str, experiment_hash: str) -> dict[str, Any]:
    from sim.provenance import git_commit, package_version

    now = _now()
    return {
        "experiment": experiment,
        "experiment_file": experiment_file,
        "experiment_hash": experiment_hash,
        "package_version": package_version(),
        "git_commit": git_commit(),
        "created": now,
        "updated": now,
        "runs": [],
    }


def load_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a batch folder; RegsimError if it is missing or unreadable."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegsimError(f"{folder}: not a batch folder (no {MANIFEST})") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise RegsimError(f"{path}: unreadable manifest: {exc}") from None


def save_manifest(folder: str | Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (temporary file in the same folder, then ``os.replace``)."""
    folder = Path(folder)
    manifest["updated"] = _now()
    handle, temporary = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(manifest, stream, indent=2, default=_jsonable)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, folder / MANIFEST)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def record(manifest: dict[str, Any], entry: dict[str, Any]) -> None:
    """Add or replace the manifest entry of ``entry['key']``."""
    runs = manifest.setdefault("runs", [])
    for i, existing in enumerate(runs):
        if existing["key"] == entry["key"]:
            runs[i] = entry
            return
    runs.append(entry)


def run_entry(info: dict[str, Any], status: str, wall_time_s: float | None, error: str | None = None) -> dict[str, Any]:
    """A manifest entry: key, scenario name, variant label, seed, sweep values, status, error, wall time."""
    return {
        "key": info["key"],
        "scenario": info["scenario"],
        "variant": info["variant"],
        "seed": info["seed"],
        "sweep": dict(info.get("sweep") or {}),
        "status": status,
        "error": error,
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 3),
    }


def reconcile(folder: str | Path, manifest: dict[str, Any]) -> int:
    """Add manifest entries for finished run folders the manifest does not list (a batch killed
    between moving a folder into place and updating the manifest); remove stale temporary folders.
    Returns the number of entries added."""
    folder = Path(folder)
    runs = folder / RUNS
    if runs.is_dir():
        for stale in runs.glob(".*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in runs.glob(".*.old"):
            shutil.rmtree(stale, ignore_errors=True)
    listed = {entry["key"]: entry for entry in manifest.get("runs", [])}
    added = 0
    for key in sorted(finished_keys(folder)):
        if listed.get(key, {}).get("status") == "finished":
            continue
        info = json.loads((runs / key / "run.json").read_text(encoding="utf-8"))
        batch = info.get("batch", {})
        record(manifest, run_entry({**batch, "key": key}, "finished", info.get("wall_time_s")))
        added += 1
    return added


# --- run folders -------------------------------------------------------------------------------
def finished_keys(folder: str | Path) -> set[str]:
    """Keys of the runs stored complete under ``folder/runs`` (a ``run.json`` in place)."""
    runs = Path(folder) / RUNS
    if not runs.is_dir():
        return set()
    return {path.name for path in runs.iterdir() if not path.name.startswith(".") and (path / "run.json").is_file()}


def failed_keys(folder: str | Path) -> set[str]:
    """Keys of the runs stored as failed (``error.json`` in place)."""
    runs = Path(folder) / RUNS
    if not runs.is_dir():
        return set()
    return {path.name for path in runs.iterdir() if not path.name.startswith(".") and (path / "error.json").is_file()}


def key_columns(info: dict[str, Any]) -> dict[str, Any]:
    """The columns added to every table of a run: run_key, scenario, variant, seed, sweep values."""
    return {
        "run_key": info["key"],
        "scenario": info["scenario"],
        "variant": info["variant"],
        "seed": int(info["seed"]),
        **dict(info.get("sweep") or {}),
    }


def tag(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with ``columns`` (constants) in front."""
    front = pd.DataFrame({name: [value] * len(frame) for name, value in columns.items()}, index=frame.index)
    for name, value in columns.items():
        if isinstance(value, bool):
            front[name] = front[name].astype(bool)
        elif isinstance(value, int):
            front[name] = front[name].astype("int64")
        elif isinstance(value, float):
            front[name] = front[name].astype("float64")
        else:
            front[name] = front[name].astype(str)
    return pd.concat([front, frame.drop(columns=[c for c in columns if c in frame])], axis=1)


def write_run(
    folder: str | Path,
    info: dict[str, Any],
    regions: pd.DataFrame,
    national: pd.DataFrame,
    levers: pd.DataFrame,
    metadata: dict[str, Any],
    ledger: pd.DataFrame | None = None,
    municipalities: pd.DataFrame | None = None,
) -> Path:
    """Store one finished run under ``folder/runs/<key>/`` atomically; returns the run folder.

    ``info`` holds key, scenario, variant, seed and sweep (path -> value); its columns are added
    to every table and it is saved in ``run.json`` under ``batch``. ``ledger`` (``RunResult.ledger``)
    is written as ``ledger.parquet`` when given, ``municipalities`` (``resolution: sigungu``) as
    ``municipalities.parquet``.
    """
    columns = key_columns(info)
    tables = {"regions": regions, "national": national, "levers": levers}
    if ledger is not None:
        tables["ledger"] = ledger
    if municipalities is not None:
        tables["municipalities"] = municipalities

    def fill(temporary: Path) -> None:
        for name, frame in tables.items():
            tag(frame, columns).to_parquet(temporary / TABLES[name], index=False)
        body = {**metadata, "batch": _batch_info(info)}
        (temporary / "run.json").write_text(json.dumps(body, indent=2, default=_jsonable) + "\n", encoding="utf-8")

    return _atomic_folder(Path(folder), info["key"], fill)


def write_failure(folder: str | Path, info: dict[str, Any], message: str, wall_time_s: float | None = None) -> Path:
    """Store a failed run: ``folder/runs/<key>/error.json`` only (atomically)."""
    body = {"batch": _batch_info(info), "error": message, "wall_time_s": wall_time_s, "time": _now()}

    def fill(temporary: Path) -> None:
        (temporary / "error.json").write_text(json.dumps(body, indent=2, default=_jsonable) + "\n", encoding="utf-8")

    return _atomic_folder(Path(folder), info["key"], fill)


def _atomic_folder(folder: Path, key: str, fill) -> Path:
    runs = folder / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    temporary = runs / f".{key}.tmp"
    target = runs / key
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        fill(temporary)
        if target.exists():  # a failed run being re-run: move the old folder aside first
            old = runs / f".{key}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def read_run(folder: str | Path, key: str, table: str = "national") -> pd.DataFrame:
    """One table (``regions``, ``national``, ``levers`` or ``ledger``) of one stored run."""
    path = Path(folder) / RUNS / key / TABLES[table]
    if not path.is_file():
        raise RegsimError(f"{folder}: no finished run {key!r}")
    return pd.read_parquet(path)


# --- queries -----------------------------------------------------------------------------------
def query(folder: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` in DuckDB over the finished runs of a batch folder and return a DataFrame.

    Views: ``national``, ``regions``, ``levers``, ``ledger`` (all runs, union by column name; a run
    folder written before ``ledger.parquet`` existed adds no ledger rows) and ``runs`` (the manifest
    entries: key, scenario, variant, seed, status, error, wall_time_s).
    """
    import duckdb

    folder = Path(folder)
    keys = sorted(finished_keys(folder))
    if not keys:
        raise RegsimError(f"{folder}: no finished runs to query")
    connection = duckdb.connect()
    try:
        for view, filename in TABLES.items():
            files = [str(folder / RUNS / key / filename) for key in keys]
            if view in OPTIONAL_TABLES:
                files = [file for file in files if Path(file).is_file()]
                if not files:
                    connection.register(f"_empty_{view}", empty_table(view))
                    connection.execute(f"CREATE VIEW {view} AS SELECT * FROM _empty_{view}")
                    continue
            listing = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
            connection.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{listing}], union_by_name=true)")
        entries = load_manifest(folder).get("runs", []) if (folder / MANIFEST).is_file() else []
        runs = pd.DataFrame(
            [{k: e.get(k) for k in ("key", "scenario", "variant", "seed", "status", "error", "wall_time_s")} for e in entries],
            columns=["key", "scenario", "variant", "seed", "status", "error", "wall_time_s"],
        )
        connection.register("_manifest_runs", runs)
        connection.execute("CREATE VIEW runs AS SELECT * FROM _manifest_runs")
        try:
            return connection.execute(sql).df()
        except duckdb.Error as exc:
            raise RegsimError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        connection.close()


def empty_table(name: str) -> pd.DataFrame:
    """An optional table without rows: the key columns and the table's own columns."""
    from sim.ledger import empty_ledger
    from sim.metrics import empty_municipalities

    tables = {"ledger": empty_ledger, "municipalities": empty_municipalities}
    keys = pd.DataFrame({"run_key": [], "scenario": [], "variant": [], "seed": []}).astype(
        {"run_key": str, "scenario": str, "variant": str, "seed": "int64"}
    )
    return pd.concat([keys, tables[name]()], axis=1)


def _batch_info(info: dict[str, Any]) -> dict[str, Any]:
    return {name: info.get(name) for name in ("key", "scenario", "variant", "seed", "sweep", "reference")}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
