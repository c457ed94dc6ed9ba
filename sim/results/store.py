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

This module is the one definition of every result folder (``FOLDERS``): a single run's folder, a
batch, and the sensitivity, tuning and calibration folders, with their file names, atomic writers
(``write_json``, ``write_csv``, ``write_text``, ``write_tables``) and readers (``read_output``,
``read_run_info``) whose error names a missing file. Figures are the presentation layer's
(``sim.analysis.plots``); the report shows any figure it finds in a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from sim.errors import RegsimError
from sim.model.metrics import empty_municipalities
from sim.provenance import git_commit, package_version
from sim.results.ledger import empty_ledger

MANIFEST = "manifest.json"
RUNS = "runs"
RUN_INFO = "run.json"
"""A run's metadata (resolved scenario, seed, provenance; in a batch also its key and sweep values)."""
RUN_ERROR = "error.json"
TABLES = {
    "regions": "regions.parquet",
    "national": "national.parquet",
    "levers": "levers.parquet",
    "ledger": "ledger.parquet",
    "municipalities": "municipalities.parquet",
}
"""The Parquet files of a run folder (``RunResult.write`` and batch runs), by table name: the one definition."""
OPTIONAL_TABLES = ("ledger", "municipalities")
"""Tables that run folders written before they existed lack (queries and comparisons do without them)."""
KEY_COLUMNS = ("run_key", "scenario", "variant", "seed")
"""Columns added to every table of a batch run (before the sweep columns)."""


# --- manifest ----------------------------------------------------------------------------------
def new_manifest(experiment: str, experiment_file: str, experiment_hash: str) -> dict[str, Any]:
    """The manifest of a new result folder: the experiment, its file and hash, the code version and commit."""
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
    manifest["updated"] = _now()
    write_json(Path(folder) / MANIFEST, manifest)


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
        info = read_run_info(folder, key)
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
    return {path.name for path in runs.iterdir() if not path.name.startswith(".") and (path / RUN_INFO).is_file()}


def failed_keys(folder: str | Path) -> set[str]:
    """Keys of the runs stored as failed (``error.json`` in place)."""
    runs = Path(folder) / RUNS
    if not runs.is_dir():
        return set()
    return {path.name for path in runs.iterdir() if not path.name.startswith(".") and (path / RUN_ERROR).is_file()}


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
        write_tables(temporary, {name: tag(frame, columns) for name, frame in tables.items()}, {**metadata, "batch": _batch_info(info)})

    return _atomic_folder(Path(folder), info["key"], fill)


def write_failure(folder: str | Path, info: dict[str, Any], message: str, wall_time_s: float | None = None) -> Path:
    """Store a failed run: ``folder/runs/<key>/error.json`` only (atomically)."""
    body = {"batch": _batch_info(info), "error": message, "wall_time_s": wall_time_s, "time": _now()}

    def fill(temporary: Path) -> None:
        write_json(temporary / RUN_ERROR, body)

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
    import duckdb  # DuckDB: only when runs are queried

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
    tables = {"ledger": empty_ledger, "municipalities": empty_municipalities}
    keys = pd.DataFrame({"run_key": [], "scenario": [], "variant": [], "seed": []}).astype(
        {"run_key": str, "scenario": str, "variant": str, "seed": "int64"}
    )
    return pd.concat([keys, tables[name]()], axis=1)


def _batch_info(info: dict[str, Any]) -> dict[str, Any]:
    return {name: info.get(name) for name in ("key", "scenario", "variant", "seed", "sweep", "reference")}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


# --- result folders: one definition of their files, atomic writers, readers ----------------------
@dataclass(frozen=True)
class FolderKind:
    """What a kind of result folder holds: the file that marks it (and holds its provenance), the
    files every such folder has, and those it may have, by role."""

    marker: str
    files: dict[str, str] = field(default_factory=dict)
    optional: dict[str, str] = field(default_factory=dict)

    def path(self, folder: Path, role: str) -> Path:
        """The file of ``role`` in ``folder``."""
        return Path(folder) / {**self.files, **self.optional, "marker": self.marker}[role]


FOLDERS: dict[str, FolderKind] = {
    "tuning": FolderKind(
        "tune.json",
        {"study": "study.db", "trials": "trials.csv", "top_trials": "top_trials.csv"},
        {"best_scenario": "best_scenario.yaml", "pareto_scenarios": "pareto_scenarios", "check": "paired_check.csv"},
    ),
    "calibration": FolderKind(
        "calibration.json",
        {"study": "study.db", "scenario": "calibrated.yaml", "fit": "fit.csv", "trials": "trials.csv"},
        {"figure": "calibration.png"},  # drawn by regsim calibrate (sim.analysis.plots.write_calibration_figure)
    ),
    "sensitivity": FolderKind(
        "sensitivity.json",
        {"manifest": MANIFEST, "indices": "indices.csv", "design": "design.csv"},
        {"figure": "sensitivity.png"},  # drawn by regsim sensitivity (sim.analysis.plots.write_sensitivity_figure)
    ),
    "batch": FolderKind(MANIFEST),
    "run": FolderKind(
        RUN_INFO,
        {name: file for name, file in TABLES.items() if name not in OPTIONAL_TABLES},
        {name: TABLES[name] for name in OPTIONAL_TABLES},
    ),
}
"""Kinds of result folder, in the order they are recognised (a sensitivity folder is also a batch)."""


def folder_kind(folder: str | Path) -> str:
    """The kind of result folder ``folder`` is (``FOLDERS``); a RegsimError for any other folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RegsimError(f"result folder not found: {folder}")
    for kind, files in FOLDERS.items():
        if (folder / files.marker).is_file():
            return kind
    markers = ", ".join(files.marker for files in FOLDERS.values())
    raise RegsimError(f"{folder}: not a result folder of regsim (expected one of {markers})")


def read_output(folder: str | Path, kind: str, role: str) -> Any:
    """The file of ``role`` in a ``kind`` folder: a JSON object as a dict, a CSV table as a
    DataFrame, any other file as its path. A missing expected file is a RegsimError naming it; a
    missing optional one gives None."""
    files = FOLDERS[kind]
    path = files.path(Path(folder), role)
    if not path.exists():
        if role in files.optional:
            return None
        raise RegsimError(f"{path}: missing from the {kind} folder {folder}")
    if path.suffix == ".json":
        return read_json(path)
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise RegsimError(f"{path}: unreadable table ({exc})") from None
    return path


def read_json(path: str | Path) -> dict[str, Any]:
    """A JSON object from ``path``; a RegsimError naming the file if it is missing or not an object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegsimError(f"{path}: missing") from None
    except (OSError, ValueError) as exc:
        raise RegsimError(f"{path}: unreadable ({exc})") from None
    if not isinstance(value, dict):
        raise RegsimError(f"{path}: expected a JSON object")
    return value


def read_run_info(folder: str | Path, key: str) -> dict[str, Any]:
    """``run.json`` of the stored run ``key`` of a batch folder."""
    return read_json(Path(folder) / RUNS / key / RUN_INFO)


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame], metadata: dict[str, Any]) -> Path:
    """A run's tables (``TABLES``: regions, national, levers, ledger) as Parquet and its metadata as
    ``run.json``, each file written atomically; returns the folder."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegsimError(f"cannot create output folder {folder}: {exc.strerror}") from None
    for name, table in tables.items():
        _atomic(folder / TABLES[name], lambda path, table=table: table.to_parquet(path, index=False), binary=True)
    write_json(folder / RUN_INFO, metadata)
    return folder


def write_json(path: str | Path, body: dict[str, Any]) -> None:
    """``body`` as indented JSON, atomically (numpy scalars as numbers, other objects as text)."""
    write_text(path, json.dumps(body, indent=2, default=_jsonable) + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """``frame`` as CSV without its index, atomically."""
    _atomic(Path(path), lambda stream: frame.to_csv(stream, index=False))


def write_text(path: str | Path, text: str) -> None:
    """``text`` as UTF-8, atomically."""
    _atomic(Path(path), lambda stream: stream.write(text))


def _atomic(path: Path, fill: Callable[[Any], Any], binary: bool = False) -> None:
    """Write ``path`` through a temporary file in the same folder, flushed, then ``os.replace``: a
    reader sees the old file or the new one, never a part. ``fill`` gets an open text stream, or
    with ``binary`` the temporary file's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if binary:
            os.close(handle)
            fill(temporary)
        else:
            stream: IO[str]
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                fill(stream)
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
