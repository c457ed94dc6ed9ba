"""Compare the scenarios of a batch folder: paired differences against the reference, over seeds.

A batch folder (written by ``regsim batch``) holds ``manifest.json`` and one folder per run,
``runs/<key>/{national,regions,levers}.parquet``, whose rows carry ``run_key``, ``scenario``,
``variant``, ``seed`` and one column per sweep parameter. Every run of a scenario (and sweep
point) is paired with the reference run that has the same seed (common random numbers); the
differences are averaged over seeds with a 95 % Student-t interval. The Parquet files are read
with DuckDB.

Outcomes per run and year (``OUTCOMES``): national population, capital-region population (and
share), provinces at extinction risk (index below 0.5), si-gun-gu at extinction risk and at high
risk (runs at ``resolution: sigungu``; missing otherwise), employment, and cumulative lever
spending since the start year. Their paired differences are ``<outcome>_diff``, except
employment's, which is ``jobs_created``; the cost per job is spending over jobs created.

The variants of a batch are of two kinds (``Batch.kinds``, one rule for compare, plots and the
report): **policies**, whose resolved scenario switches on levers (each such run carries its own
additionality ledger against its lever-free baseline), and **assumption variants**, without levers
(another calibration window, a parameter override), whose differences against the reference are
often far larger than any policy's. They are shown apart so that neither squashes the other's scale.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import ArgumentError, RegsimError
from sim.experiments import uncertainty
from sim.experiments.batch import DRAWS_FILE, UNCERTAINTY_FILE
from sim.experiments.effects import NATIONAL, TARGETED, ledger_areas, summarise_effects, targeted_regions
from sim.experiments.effects import area_label as effects_area_label
from sim.experiments.experiment import summarise
from sim.inputs.data import read_table
from sim.inputs.pack import capital_regions
from sim.model.metrics import (
    EXTINCTION_RISK_THRESHOLD,
    HIGH_EXTINCTION_RISK_THRESHOLD,
    MUNICIPAL_NATIONAL,
    NATIONAL_EXTRA,
    PAIRED_MEASURES,
    REGION_MEASURES,
    cost_per_job_krw,
)
from sim.results.ledger import ALL, SUMMARY_COSTS, SUMMARY_MEASURES
from sim.results.store import OPTIONAL_TABLES, RUN_INFO, RUNS, TABLES, empty_table, finished_keys, load_manifest, read_run_info

DEFAULT_YEARS = (2030, 2035)
RUN_COLUMNS = ("run_key", "scenario", "variant", "seed")
"""Identity columns every batch table carries."""
NOT_SWEEP = {
    *RUN_COLUMNS,
    "year",
    "region",
    "region_name",
    "lever",
    "spending_krw",
    *REGION_MEASURES,
    *PAIRED_MEASURES,
    *NATIONAL_EXTRA,
    *MUNICIPAL_NATIONAL,
    "experiment",
    "status",
    "scale",
    "scenario_hash",
    "replicate",
    "index",
    "__index_level_0__",
}
"""Columns that are never sweep parameters (outcomes and run metadata)."""

REFERENCE, POLICY, ASSUMPTION = "reference", "policy", "assumption"
"""Kinds of a batch's scenario (and sweep point): the reference, a policy (levers switched on), an
assumption variant (no levers)."""

OUTCOMES: dict[str, tuple[str, str, str]] = {
    # level column: (name of its paired difference, label, unit)
    "population": ("population_diff", "national population", "persons"),
    "capital_population": ("capital_population_diff", "capital-region population", "persons"),
    "capital_share": ("capital_share_diff", "capital-region share of population", "fraction"),
    "provinces_at_risk": ("provinces_at_risk_diff", f"provinces at extinction risk (index < {EXTINCTION_RISK_THRESHOLD})", "provinces"),
    "municipalities_at_risk": (
        "municipalities_at_risk_diff",
        f"si-gun-gu at extinction risk (index < {EXTINCTION_RISK_THRESHOLD})",
        "municipalities",
    ),
    "municipalities_at_high_risk": (
        "municipalities_at_high_risk_diff",
        f"si-gun-gu at high extinction risk (index < {HIGH_EXTINCTION_RISK_THRESHOLD})",
        "municipalities",
    ),
    "employed": ("jobs_created", "employment", "persons"),
    "spending_krw": ("spending_krw_diff", "cumulative lever spending", "KRW"),
}


def region_names(lang: str = "en") -> dict[str, str]:
    """Region code → name (``lang`` "en" or "ko", from the packaged regions.csv)."""
    column = {"en": "region_name", "ko": "region_name_ko"}[lang]
    table = read_table("regions", "korea", ("region", column))
    return dict(zip(table["region"], table[column]))


@dataclass
class Batch:
    """A batch folder opened for analysis: finished runs, the reference, sweep columns, DuckDB views."""

    folder: Path
    manifest: dict
    reference: str
    runs: list[dict]
    sweep: list[str] = field(default_factory=list)

    @cached_property
    def con(self):
        """A DuckDB connection with one view per table (national, regions, levers, ledger) over the runs' parquet files."""
        import duckdb  # DuckDB: only when a batch is queried

        con = duckdb.connect()
        for table in ("national", "regions", "levers", "ledger"):
            files = [self.folder / RUNS / run["key"] / TABLES[table] for run in self.runs]
            files = [str(file) for file in files if file.is_file()]
            if not files:
                if table == "levers":
                    con.execute("CREATE TABLE levers (run_key VARCHAR, year BIGINT, lever VARCHAR, region VARCHAR, spending_krw DOUBLE)")
                    continue
                if table in OPTIONAL_TABLES:  # run folders written before the table existed
                    con.register(f"_empty_{table}", empty_table(table))
                    con.execute(f"CREATE VIEW {table} AS SELECT * FROM _empty_{table}")
                    continue
                raise RegsimError(f"{self.folder}: no {table}.parquet in runs/*/")
            listing = ", ".join("'" + file.replace("'", "''") + "'" for file in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}], union_by_name = true)")
        return con

    @property
    def groups(self) -> list[str]:
        """Columns that identify a scenario and sweep point."""
        return ["scenario", "variant", *self.sweep]

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """The result of a DuckDB query over the batch's views."""
        return self.con.execute(query, params or []).df()

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per run and year: the OUTCOMES levels and their paired differences against the
        reference run with the same seed (runs without a finished reference seed are dropped)."""
        capital = ", ".join(f"'{code}'" for code in capital_regions())
        sweep = "".join(f", n.{_quote(name)}" for name in self.sweep)
        national_columns = set(self.sql("DESCRIBE national")["column_name"])
        municipal = {  # NULL in batches of province-resolution runs only
            level: f"CAST(n.{column} AS DOUBLE)" if column in national_columns else "CAST(NULL AS DOUBLE)"
            for level, column in (
                ("municipalities_at_risk", "municipalities_at_extinction_risk"),
                ("municipalities_at_high_risk", "municipalities_at_high_extinction_risk"),
            )
        }
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE outcomes AS
            WITH by_region AS (
                SELECT run_key, year,
                       SUM(population) FILTER (WHERE CAST(region AS VARCHAR) IN ({capital})) AS capital_population,
                       COUNT(*) FILTER (WHERE extinction_risk_index < {EXTINCTION_RISK_THRESHOLD}) AS provinces_at_risk
                FROM regions GROUP BY run_key, year
            )
            SELECT n.run_key, n.scenario, COALESCE(CAST(n.variant AS VARCHAR), '') AS variant, CAST(n.seed AS BIGINT) AS seed{sweep},
                   CAST(n.year AS BIGINT) AS year,
                   CAST(n.population AS DOUBLE) AS population,
                   CAST(r.capital_population AS DOUBLE) AS capital_population,
                   CAST(r.capital_population AS DOUBLE) / CAST(n.population AS DOUBLE) AS capital_share,
                   CAST(r.provinces_at_risk AS DOUBLE) AS provinces_at_risk,
                   {municipal["municipalities_at_risk"]} AS municipalities_at_risk,
                   {municipal["municipalities_at_high_risk"]} AS municipalities_at_high_risk,
                   CAST(n.employed AS DOUBLE) AS employed,
                   SUM(COALESCE(CAST(n.lever_spending_krw AS DOUBLE), 0)) OVER (PARTITION BY n.run_key ORDER BY n.year) AS spending_krw
            FROM national n JOIN by_region r ON r.run_key = n.run_key AND r.year = n.year
            WHERE n.run_key IN (SELECT UNNEST(?))
            """,
            [[run["key"] for run in self.runs]],
        )
        reference_variant = self._reference_variant()
        diffs = ",\n".join(f"v.{level} - r.{level} AS {diff}, r.{level} AS {level}_ref" for level, (diff, _, _) in OUTCOMES.items())
        table = self.sql(
            f"""
            SELECT v.*, {diffs}
            FROM outcomes v JOIN outcomes r
              ON r.scenario = ? AND r.variant = ? AND r.seed = v.seed AND r.year = v.year
            ORDER BY v.scenario, v.variant, v.seed, v.year
            """,
            [self.reference, reference_variant],
        )
        if table.empty:
            raise RegsimError(f"{self.folder}: no run shares a seed with the reference {self.reference!r}")
        return self._ordered(table)

    def regions(self, columns: Iterable[str] = ("population", "extinction_risk_index")) -> pd.DataFrame:
        """Region-year rows of the finished runs (identity, sweep and the given columns), with the
        reference run's values of the same seed as ``<column>_ref``."""
        columns = list(columns)
        sweep = "".join(f", v.{_quote(name)}" for name in self.sweep)
        levels = ", ".join(f"CAST(v.{c} AS DOUBLE) AS {c}, CAST(r.{c} AS DOUBLE) AS {c}_ref" for c in columns)
        table = self.sql(
            f"""
            WITH base AS (SELECT *, COALESCE(CAST(variant AS VARCHAR), '') AS variant_ FROM regions
                          WHERE run_key IN (SELECT UNNEST(?)))
            SELECT v.run_key, v.scenario, v.variant_ AS variant, CAST(v.seed AS BIGINT) AS seed{sweep},
                   CAST(v.year AS BIGINT) AS year, CAST(v.region AS VARCHAR) AS region, {levels}
            FROM base v JOIN base r
              ON r.scenario = ? AND r.variant_ = ? AND r.seed = v.seed AND r.year = v.year AND r.region = v.region
            ORDER BY v.scenario, v.variant_, v.seed, v.year, v.region
            """,
            [[run["key"] for run in self.runs], self.reference, self._reference_variant()],
        )
        return self._ordered(table)

    def _reference_variant(self) -> str:
        variants = [run.get("variant") or "" for run in self.runs if run["scenario"] == self.reference]
        return variants[0] if variants else ""

    def _ordered(self, table: pd.DataFrame) -> pd.DataFrame:
        """Scenarios in manifest order (reference first), then variants, seeds and years."""
        order = {name: i for i, name in enumerate(self.scenarios)}
        table["variant"] = table["variant"].fillna("")
        key = table["scenario"].map(order).fillna(len(order))
        variant_order = {name: i for i, name in enumerate(dict.fromkeys(run.get("variant") or "" for run in self.runs))}
        vkey = table["variant"].map(variant_order).fillna(len(variant_order))
        sort = [c for c in ("seed", "year", "region") if c in table]
        return (
            table.assign(_s=key, _v=vkey).sort_values(["_s", "_v", *sort], kind="stable").drop(columns=["_s", "_v"]).reset_index(drop=True)
        )

    @cached_property
    def kinds(self) -> dict[tuple[str, str], str]:
        """(scenario, variant) -> ``REFERENCE``, ``POLICY`` or ``ASSUMPTION`` (see ``classify``)."""
        return classify(self.folder, self.runs, self.reference)

    def kind(self, scenario: str, variant: str | None) -> str:
        """The kind of a variant of the batch (reference, policy or assumption)."""
        return self.kinds.get((scenario, variant or ""), ASSUMPTION if scenario != self.reference else REFERENCE)

    def kind_column(self, table: pd.DataFrame) -> pd.Series:
        """The kind of each row of a table with ``scenario`` and ``variant`` columns."""
        return pd.Series([self.kind(s, v) for s, v in zip(table["scenario"], table["variant"].fillna(""))], index=table.index, dtype=object)

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, reference first, then in manifest order."""
        names = list(dict.fromkeys(run["scenario"] for run in self.runs))
        return [self.reference] + [name for name in names if name != self.reference]


def run_has_levers(folder: Path, run: dict) -> bool:
    """Whether a finished run switched on levers: its resolved scenario in ``run.json`` lists levers;
    a run folder without the resolved scenario (written by hand or by an old version) has levers if
    its ``levers.parquet`` records spending."""
    run_dir = Path(folder) / RUNS / str(run["key"])
    if (run_dir / RUN_INFO).is_file():
        try:
            resolved = read_run_info(folder, str(run["key"])).get("scenario_resolved")
        except RegsimError:
            resolved = None
        if isinstance(resolved, dict):
            return bool(resolved.get("levers"))
    spending = run_dir / TABLES["levers"]
    if not spending.is_file():
        return False
    table = pd.read_parquet(spending)
    return "spending_krw" in table and bool((pd.to_numeric(table["spending_krw"], errors="coerce").fillna(0) != 0).any())


def classify(folder: Path | str, runs: list[dict], reference: str) -> dict[tuple[str, str], str]:
    """The one rule that sorts a batch's scenarios and sweep points, keyed (scenario, variant): the
    reference scenario is ``REFERENCE``; any other is a ``POLICY`` if its runs switch on levers
    (``run_has_levers``; one levered run suffices) and an ``ASSUMPTION`` variant otherwise."""
    kinds: dict[tuple[str, str], str] = {}
    for run in runs:
        key = (run["scenario"], run.get("variant") or "")
        if run["scenario"] == reference:
            kinds[key] = REFERENCE
        elif kinds.get(key) != POLICY:
            kinds[key] = POLICY if run_has_levers(Path(folder), run) else ASSUMPTION
    return kinds


def open_batch(folder: Path | str, reference: str | None = None) -> Batch:
    """Open a batch folder; a missing or empty folder, or one without finished runs, is a RegsimError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RegsimError(f"batch folder not found: {folder}")
    manifest = load_manifest(folder)
    runs = [
        run
        for run in manifest.get("runs", [])
        if run.get("status", "finished") == "finished" and (folder / RUNS / str(run.get("key")) / TABLES["national"]).is_file()
    ]
    if not runs:
        raise RegsimError(f"{folder}: no finished runs")
    scenarios = list(dict.fromkeys(run["scenario"] for run in runs))
    reference = reference or manifest.get("reference") or scenarios[0]
    if reference not in scenarios:
        raise RegsimError(f"{folder}: reference scenario {reference!r} has no finished runs (scenarios: {', '.join(scenarios)})")
    batch = Batch(folder=folder, manifest=manifest, reference=reference, runs=runs)
    batch.sweep = _sweep_columns(batch)
    return batch


# --- provenance ----------------------------------------------------------------------------------
def run_infos(folder: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Metadata of the finished runs (``run.json``): scenario, variant, hash, seed, scale, years,
    sweep values and the resolved scenario."""
    infos = []
    stored = finished_keys(folder)
    for entry in manifest.get("runs", []):
        if entry.get("status", "finished") != "finished" or str(entry.get("key")) not in stored:
            continue
        meta = read_run_info(folder, str(entry.get("key")))
        infos.append(
            {
                "scenario": meta.get("scenario", entry.get("scenario")),
                "variant": entry.get("variant") or "",
                "hash": meta.get("scenario_hash", ""),
                "seed": meta.get("seed", entry.get("seed")),
                "scale": meta.get("scale"),
                "start_year": meta.get("start_year"),
                "end_year": meta.get("end_year"),
                "sweep": entry.get("sweep") or {},
                "resolved": meta.get("scenario_resolved") or {},
            }
        )
    return infos


def manifest_provenance(manifest: dict[str, Any], runs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Experiment, version and commit from a batch manifest; seeds, scales and years from its runs."""
    entries = manifest.get("runs", [])
    failed = sum(entry.get("status") == "failed" for entry in entries)
    seeds = sorted({run["seed"] for run in runs if run["seed"] is not None})
    rows = [
        ("experiment", manifest.get("experiment")),
        ("experiment file", manifest.get("experiment_file")),
        ("experiment hash (SHA-256)", manifest.get("experiment_hash")),
        ("package version", manifest.get("package_version")),
        ("git commit", manifest.get("git_commit")),
        ("created", manifest.get("created")),
        ("updated", manifest.get("updated")),
        ("runs", f"{len(runs)} finished, {failed} failed"),
        ("seeds", ", ".join(map(str, seeds))),
        ("scales (persons per agent)", ", ".join(map(str, sorted({run["scale"] for run in runs if run["scale"]})))),
        ("years", ", ".join(sorted({f"{run['start_year']}–{run['end_year']}" for run in runs if run["start_year"]}))),
    ]
    description = experiment_description(manifest.get("experiment_file"))
    if description:
        rows.insert(1, ("description", description))
    return [(label, value) for label, value in rows if value not in (None, "")]


def experiment_description(path: str | None) -> str:
    """The ``description`` of an experiment file (empty if the file is gone or has none)."""
    if not path or not Path(path).is_file():
        return ""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    return str(raw.get("description", "")) if isinstance(raw, dict) else ""


def _sweep_columns(batch: Batch) -> list[str]:
    """Sweep parameters: declared in the manifest if it says so, else the extra columns of national.parquet."""
    declared = batch.manifest.get("sweep") or batch.manifest.get("parameters")
    names: list[str] = []
    if isinstance(declared, dict):
        names = list(declared)
    elif isinstance(declared, list):
        names = [item if isinstance(item, str) else item.get("name", "") for item in declared]
    columns = list(batch.sql("SELECT * FROM national LIMIT 0").columns)
    if names:
        return [name for name in names if name in columns]
    return [name for name in columns if name not in NOT_SWEEP]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compare(folder: Path | str, years: Iterable[int] | None = DEFAULT_YEARS, reference: str | None = None) -> pd.DataFrame:
    """Per scenario (and sweep point) and year: paired differences against the reference run with
    the same seed, mean and 95 % t-interval over seeds, with the scenario's and the reference's levels.

    Columns: ``scenario``, ``variant``, sweep parameters, ``kind`` (``reference``, ``policy`` or
    ``assumption``: ``classify``), ``year``, ``seeds``; per outcome level ``<level>_mean`` and
    ``<level>_ref`` (means over seeds); per difference ``<diff>_mean``,
    ``_low``, ``_high``; and ``cost_per_job_krw`` = mean extra spending / mean jobs created (NaN
    unless both are positive). ``years=None`` gives every year; the default years that the runs do
    not reach are left out (the last year is used if none is reached); other years outside the
    runs are an error.
    """
    batch = open_batch(folder, reference)
    table = batch.outcomes
    table = table[table["year"].isin(_wanted_years(table["year"].unique(), years))]
    levels = list(OUTCOMES)
    diffs = [diff for diff, _, _ in OUTCOMES.values()]
    summary = summarise(table, diffs, by=[*batch.groups, "year"])
    means = table.groupby([*batch.groups, "year"], sort=False, dropna=False)[[*levels, *(f"{c}_ref" for c in levels)]].mean()
    means = means.rename(columns={level: f"{level}_mean" for level in levels}).reset_index()
    summary = summary.merge(means, on=[*batch.groups, "year"], how="left")
    summary["cost_per_job_krw"] = cost_per_job_krw(summary["spending_krw_diff_mean"], summary["jobs_created_mean"])
    summary["kind"] = batch.kind_column(summary)
    front = [*batch.groups, "kind", "year", "seeds"]
    ordered = front + [c for level in levels for c in (f"{level}_mean", f"{level}_ref")]
    ordered += [f"{d}_{s}" for d in diffs for s in ("mean", "low", "high")] + ["cost_per_job_krw"]
    summary = summary[ordered]
    summary.attrs |= {"reference": batch.reference, "sweep": batch.sweep, "folder": str(batch.folder)}
    return summary


def _wanted_years(available: Iterable[int], years: Iterable[int] | None) -> list[int]:
    """``years`` checked against the years the runs reach (all of them for None); the default years
    fall back to those reached (or the last year); other years outside the runs are an error."""
    available = sorted(int(year) for year in available)
    if years is None:
        return available
    wanted = sorted({int(year) for year in years})
    missing = [year for year in wanted if year not in available]
    if missing and tuple(wanted) == tuple(sorted(DEFAULT_YEARS)):
        return [year for year in wanted if year in available] or available[-1:]
    if missing:
        raise RegsimError(f"year {missing[0]} is outside the runs ({available[0]}–{available[-1]})")
    return wanted


def ledger_by_area(folder: Path | str | Batch, years: Iterable[int] | None = DEFAULT_YEARS, reference: str | None = None) -> pd.DataFrame:
    """Per policy (and sweep point), year and area: its additionality ledger (the package, against
    each run's own lever-free baseline), mean and 95 % t-interval over seeds, as ``regsim effects``
    gives it for one scenario. Areas (``sim.experiments.effects``): ``national``, and, for a package that reaches
    only some regions, ``targeted`` (the regions it supported firms in or spent in by the last year,
    in any seed: ``targeted_regions``) and ``rest``, summed per run with ``ledger_areas``.

    Columns: the group columns, ``kind`` (``policy``, or ``reference`` for a reference with levers), ``year``, ``area``, ``seeds``,
    ``<measure>_mean/_low/_high`` for ``SUMMARY_MEASURES``, the ``SUMMARY_COSTS`` (ratios of means),
    and ``targeted_regions`` (comma-separated region codes; empty: national only). Runs without a
    ledger (no levers, or folders written before the ledger) give no rows. ``attrs``: reference,
    sweep, folder and ``regions`` (every region code of the ledgers). Years as in ``compare``.
    """
    batch = folder if isinstance(folder, Batch) else open_batch(folder, reference)
    measures = [f"{m}_{s}" for m in SUMMARY_MEASURES for s in ("mean", "low", "high")]
    columns = [*batch.groups, "kind", "year", "area", "seeds", *measures, *SUMMARY_COSTS, "targeted_regions"]
    attrs = {"reference": batch.reference, "sweep": batch.sweep, "folder": str(batch.folder), "regions": []}
    keys = [
        run["key"]
        for run in batch.runs
        if batch.kind(run["scenario"], run.get("variant")) != ASSUMPTION and (batch.folder / RUNS / run["key"] / TABLES["ledger"]).is_file()
    ]  # a reference with levers has a ledger too
    if not keys:
        empty = pd.DataFrame(columns=columns)
        empty.attrs |= attrs
        return empty
    sweep = "".join(f", {_quote(name)}" for name in batch.sweep)
    values = ", ".join(f"CAST({m} AS DOUBLE) AS {m}" for m in SUMMARY_MEASURES)
    table = batch.sql(
        f"""
        SELECT run_key, scenario, COALESCE(CAST(variant AS VARCHAR), '') AS variant, CAST(seed AS BIGINT) AS seed{sweep},
               CAST(year AS BIGINT) AS year, CAST(lever AS VARCHAR) AS lever, CAST(region AS VARCHAR) AS region,
               CAST(targeted AS BOOLEAN) AS targeted, {values}
        FROM ledger WHERE lever = '{ALL}' AND run_key IN (SELECT UNNEST(?))
        """,
        [keys],
    )
    if table.empty:
        empty = pd.DataFrame(columns=columns)
        empty.attrs |= attrs
        return empty
    table = batch._ordered(table)
    wanted = _wanted_years(table["year"].unique(), years)
    attrs["regions"] = sorted(set(table["region"]) - {ALL})
    parts = []
    for group, rows in table.groupby(batch.groups, sort=False, dropna=False):
        group = group if isinstance(group, tuple) else (group,)
        ledgers = {key: ledger for key, ledger in rows.groupby("run_key", sort=False)}
        targeted = targeted_regions(ledgers.values())
        per_seed = pd.concat(
            [ledger_areas(ledger, wanted, targeted).assign(seed=int(ledger["seed"].iloc[0])) for ledger in ledgers.values()],
            ignore_index=True,
        )
        summary = summarise_effects(per_seed)
        for name, value in zip(batch.groups, group):
            summary[name] = value
        summary["targeted_regions"] = ",".join(targeted)
        parts.append(summary)
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = batch.kind_column(out)
    out = out[columns].reset_index(drop=True)  # groups in batch order; per group years, then national, targeted, rest
    out.attrs |= attrs
    return out


def area_label(area: str, targeted: str | list[str], regions: list[str]) -> str:
    """An area's label with its number of regions: "national", "targeted regions (16)" / "rest (1)",
    or the non-capital provinces and the capital region when the package targets exactly those
    (``sim.experiments.effects.area_label``)."""
    codes = [code for code in (targeted.split(",") if isinstance(targeted, str) else targeted) if code]
    text = effects_area_label(area, codes, regions or None)
    if area == NATIONAL or not codes:
        return text
    count = len(codes) if area == TARGETED else len(set(regions) - set(codes))
    return f"{text} ({count})" if "(" not in text else text


LEDGER_TEXT = (
    # (header, measure, scale, digits)
    ("gross jobs", "gross_jobs", 1.0, 0),
    ("gross labour demand", "gross_labour_demand", 1.0, 0),
    ("displacement", "displacement_jobs", 1.0, 0),
    ("leakage", "leakage_jobs", 1.0, 0),
    ("net jobs (national)", "net_jobs", 1.0, 0),
    ("persons retained", "persons_retained", 1.0, 0),
    ("persons 20–39 retained", "young_persons_retained", 1.0, 0),
    ("spending to date (bn KRW)", "spending_krw", 1e9, 1),
)
"""Ledger measures as text: (header, ledger column, divisor, digits); signed except spending."""

LEDGER_COST_TEXT = (
    ("cost per gross job (m KRW)", "cost_per_gross_job_krw", 1e6, 1),
    ("cost per net job (m KRW)", "cost_per_net_job_krw", 1e6, 1),
)
"""Ledger costs as text (ratios of means over seeds in summaries), unsigned."""


def group_label(scenario: str, variant: str | None) -> str:
    """A scenario's (or sweep point's) name for text: the scenario, or the variant where it says more
    (a batch names a sweep point ``scenario[path=value]``)."""
    variant = variant or ""
    if variant in ("", scenario, "reference"):
        return scenario
    return variant if variant.startswith(scenario) else f"{scenario} / {variant}"


def ledger_table(summary: pd.DataFrame) -> pd.DataFrame:
    """``ledger_by_area``'s output as text: mean [95 % interval] per
    measure (persons unless stated), cost per gross and per net job in m KRW (ratio of means); with
    areas, an ``area`` column (national, the targeted regions, the rest) after the year."""
    sweep = summary.attrs.get("sweep", [])
    areas = "area" in summary
    out = pd.DataFrame({"scenario": summary["scenario"]})
    if (summary["variant"] != summary["scenario"]).any() and (summary["variant"] != "").any():
        out["variant"] = summary["variant"]
    for name in sweep:
        out[name] = summary[name]
    out["year"] = summary["year"]
    if areas:
        regions = summary.attrs.get("regions", [])
        out["area"] = [area_label(a, t, regions) for a, t in zip(summary["area"], summary["targeted_regions"])]
    out["seeds"] = summary["seeds"]
    for header, measure, scale, digits in LEDGER_TEXT:
        if areas and measure == "net_jobs":
            header = "net jobs"
        out[header] = [
            _interval(m, lo, hi, scale, digits)
            for m, lo, hi in summary[[f"{measure}_{s}" for s in ("mean", "low", "high")]].to_numpy(float)
        ]
    for header, cost, scale, digits in LEDGER_COST_TEXT:
        out[header] = [("–" if pd.isna(v) else f"{v / scale:,.{digits}f}") for v in summary[cost]]
    return out.reset_index(drop=True)


def findings(ledger: pd.DataFrame, year: int | None = None) -> list[tuple[str, str]]:
    """One paragraph per policy (and sweep point), from ``ledger_by_area``'s output in ``year``
    (default: the last): (policy label, text). Net national jobs with their interval, gross jobs in
    supported firms, displacement and leakage, net jobs and persons retained in the targeted regions
    beside the rest, persons 20–39 retained, spending and cost per net job; every measure whose
    interval includes zero is named as such."""
    if ledger is None or ledger.empty:
        return []
    year = int(ledger["year"].max()) if year is None else int(year)
    rows = ledger[ledger["year"] == year]
    regions = ledger.attrs.get("regions", [])
    groups = ["scenario", "variant", *ledger.attrs.get("sweep", [])]
    out = []
    for _, group in rows.groupby(groups, sort=False, dropna=False):
        by_area = group.set_index("area")
        national = by_area.loc["national"]
        label = group_label(national["scenario"], national["variant"])
        zero: list[str] = []

        def value(row: pd.Series, measure: str, name: str, zero: list[str] = zero) -> str:  # this group's ``zero`` (bound now)
            mean, low, high = (float(row[f"{measure}_{s}"]) for s in ("mean", "low", "high"))
            if pd.isna(mean):
                return "–"
            if pd.isna(low) or np.isclose(low, high, rtol=1e-9, atol=1e-9):  # one seed, or the same in every seed
                return f"{mean:+,.0f}".replace("-", "−").replace("+0", "0") if round(mean) == 0 else f"{mean:+,.0f}".replace("-", "−")
            if low <= 0 <= high:
                zero.append(name)
            return _interval(mean, low, high).replace("-", "−")

        seeds = int(national["seeds"])
        net = value(national, "net_jobs", "net national jobs")
        if zero:
            net += ": within seed noise, the interval includes zero"
        parts = [
            f"By {year} ({seeds} seeds, mean [95 % interval]), net national jobs {net}.",
            f"Gross jobs in supported firms {value(national, 'gross_jobs', 'gross jobs')} "
            f"(displacement {value(national, 'displacement_jobs', 'displacement')}, leakage {value(national, 'leakage_jobs', 'leakage')}).",
        ]
        if "targeted" in by_area.index:
            targeted, rest = by_area.loc["targeted"], by_area.loc["rest"]
            codes = national["targeted_regions"]
            inside = area_label("targeted", codes, regions)
            outside = area_label("rest", codes, regions)
            parts.append(
                f"In the {inside}: net jobs {value(targeted, 'net_jobs', 'net jobs in the targeted regions')}, persons retained "
                f"{value(targeted, 'persons_retained', 'persons retained in the targeted regions')}, persons 20–39 retained "
                f"{value(targeted, 'young_persons_retained', 'persons 20–39 retained in the targeted regions')}; "
                f"in the {outside}: net jobs {value(rest, 'net_jobs', 'net jobs in the rest')}, persons retained "
                f"{value(rest, 'persons_retained', 'persons retained in the rest')}."
            )
        else:
            parts.append(
                f"The package reaches every region: persons retained {value(national, 'persons_retained', 'persons retained')}, "
                f"persons 20–39 retained {value(national, 'young_persons_retained', 'persons 20–39 retained')}."
            )
        spending = float(national["spending_krw_mean"])
        cost = national["cost_per_net_job_krw"]
        cost_text = f"{cost / 1e6:,.1f} m KRW per net job" if not pd.isna(cost) else "no cost per net job (net jobs are not positive)"
        parts.append(f"Spending to date {spending / 1e9:,.1f} bn KRW; {cost_text}.")
        others = [name for name in zero if name != "net national jobs"]
        if others:
            parts.append("The intervals of " + ", ".join(others) + " include zero as well.")
        out.append((label, " ".join(parts)))
    return out


def assumption_note(summary: pd.DataFrame) -> str:
    """A sentence on the scale of the assumption variants against the policies (empty unless both
    are in ``compare``'s output): the largest mean capital-region population difference of each."""
    if "kind" not in summary:
        return ""
    last = summary[summary["year"] == summary["year"].max()]
    size = last["capital_population_diff_mean"].abs()
    policies, assumptions = size[last["kind"] == POLICY], size[last["kind"] == ASSUMPTION]
    if policies.empty or assumptions.empty:
        return ""
    year = int(last["year"].iloc[0])
    return (
        f"Assumption variants change no lever: they show how much the results depend on a modelling choice. In {year} the "
        f"largest capital-region population difference of an assumption variant is {assumptions.max():,.0f} persons, "
        f"against {policies.max():,.0f} for the policies; they are shown apart so that neither squashes the other's scale."
    )


# --- presentation ------------------------------------------------------------------------------
def _interval(mean: float, low: float, high: float, scale: float = 1.0, digits: int = 0) -> str:
    if pd.isna(mean):
        return "–"
    text = f"{mean / scale:+,.{digits}f}"
    if not pd.isna(low):
        text += f" [{low / scale:+,.{digits}f}, {high / scale:+,.{digits}f}]"
    return text


EFFECT_COLUMNS = (
    # (header, difference, scale, digits)
    ("population Δ (persons)", "population_diff", 1.0, 0),
    ("capital-region pop. Δ (persons)", "capital_population_diff", 1.0, 0),
    ("provinces at risk Δ", "provinces_at_risk_diff", 1.0, 2),
    ("si-gun-gu at risk Δ", "municipalities_at_risk_diff", 1.0, 2),
    ("si-gun-gu at high risk Δ", "municipalities_at_high_risk_diff", 1.0, 2),
    ("jobs created (persons)", "jobs_created", 1.0, 0),
    ("lever spending to date Δ (bn KRW)", "spending_krw_diff", 1e9, 1),
)


def effects_table(summary: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """The non-reference rows of ``compare``'s output as text: mean [95 % interval] per difference;
    ``kind`` (``policy`` or ``assumption``) keeps those rows only."""
    reference = summary.attrs.get("reference")
    sweep = summary.attrs.get("sweep", [])
    rows = summary[summary["scenario"] != reference]
    if kind is not None:
        rows = rows[rows["kind"] == kind]
    out = pd.DataFrame({"scenario": rows["scenario"]})
    if ((rows["variant"] != "") & (rows["variant"] != rows["scenario"])).any():
        out["variant"] = rows["variant"]
    for name in sweep:
        out[name] = rows[name]
    out["year"] = rows["year"]
    out["seeds"] = rows["seeds"]
    for header, diff, scale, digits in EFFECT_COLUMNS:
        if kind == ASSUMPTION and diff == "spending_krw_diff":
            continue  # no levers: no spending
        if diff.startswith("municipalities") and rows[f"{diff}_mean"].isna().all():
            continue  # no run at resolution sigungu
        out[header] = [
            _interval(m, lo, hi, scale, digits) for m, lo, hi in rows[[f"{diff}_mean", f"{diff}_low", f"{diff}_high"]].to_numpy(float)
        ]
    if kind != ASSUMPTION:
        out["cost per job (m KRW)"] = [("–" if pd.isna(v) else f"{v / 1e6:,.1f}") for v in rows["cost_per_job_krw"]]
    return out.reset_index(drop=True)


def reference_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Levels of the reference scenario (means over seeds) per year, as text."""
    reference = summary.attrs.get("reference")
    rows = summary[summary["scenario"] == reference]
    if rows.empty:  # reference rows dropped by a filter: the _ref columns of any scenario are the same
        rows = summary.drop_duplicates("year")
    levels = {
        "year": rows["year"].to_numpy(),
        "seeds": rows["seeds"].to_numpy(),
        "population (persons)": [f"{v:,.0f}" for v in rows["population_ref"]],
        "capital-region population (persons)": [f"{v:,.0f}" for v in rows["capital_population_ref"]],
        "capital-region share": [f"{v:.1%}" for v in rows["capital_share_ref"]],
        "provinces at risk": [f"{v:.2f}" for v in rows["provinces_at_risk_ref"]],
    }
    if rows["municipalities_at_risk_ref"].notna().any():  # the reference runs at resolution sigungu
        levels["si-gun-gu at risk"] = [f"{v:.1f}" for v in rows["municipalities_at_risk_ref"]]
        levels["si-gun-gu at high risk"] = [f"{v:.1f}" for v in rows["municipalities_at_high_risk_ref"]]
    levels["employed (persons)"] = [f"{v:,.0f}" for v in rows["employed_ref"]]
    levels["lever spending to date (bn KRW)"] = [f"{v / 1e9:,.1f}" for v in rows["spending_krw_ref"]]
    return pd.DataFrame(levels)


def provenance(batch: Batch) -> list[tuple[str, str]]:
    """What the comparison was computed from, for its end: the manifest's experiment, hashes,
    version and commit, the runs' seeds, scales and years, the reference and how the other
    scenarios were classified."""
    rows = manifest_provenance(batch.manifest, run_infos(batch.folder, batch.manifest))
    kinds = batch.kinds
    names = {kind: [group_label(s, v) for (s, v), k in kinds.items() if k == kind] for kind in (POLICY, ASSUMPTION)}
    rows += [
        ("folder", str(batch.folder)),
        ("reference", batch.reference),
        ("policies (levers switched on)", ", ".join(names[POLICY]) or "none"),
        ("assumption variants (no levers)", ", ".join(names[ASSUMPTION]) or "none"),
    ]
    return [(label, str(value)) for label, value in rows]


LEDGER_TITLE = (
    "Additionality ledger of each policy against its own lever-free baseline: national, targeted regions and the rest "
    "(mean [95 % interval] over seeds)"
)
POLICY_TITLE = "Policies: paired differences against {reference} (same seed; mean [95 % interval] over seeds)"
ASSUMPTION_TITLE = "Assumption variants (no levers): paired differences against {reference} (same seed; mean [95 % interval] over seeds)"
REFERENCE_TITLE = "Reference levels: {reference} (mean over seeds)"
SECTIONS = ("Findings", "Assumption variants", "Reference", "Provenance")
"""The sections of ``regsim compare``'s output, in order."""


def to_markdown(summary: pd.DataFrame, ledger: pd.DataFrame | None = None, provenance_rows: list[tuple[str, str]] | None = None) -> str:
    """Markdown: findings first (a paragraph per policy, if ``ledger`` from ``ledger_by_area`` has
    rows; the ledger table; the policies' paired
    differences against the reference), then the assumption variants apart, the reference's
    levels, and the provenance last (if given)."""
    reference = summary.attrs.get("reference")
    has_kind = "kind" in summary
    policies = effects_table(summary, POLICY if has_kind else None)
    assumptions = effects_table(summary, ASSUMPTION) if has_kind else policies.iloc[0:0]
    parts = ["## Findings", ""]
    if ledger is not None and not ledger.empty:
        if "area" in ledger:
            for label, text in findings(ledger):
                parts += [f"- **{label}.** {text}"]
            parts.append("")
        parts += [f"### {LEDGER_TITLE}", "", _markdown(ledger_table(ledger)), ""]
    parts += [f"### {POLICY_TITLE.format(reference=reference)}", ""]
    parts.append(_markdown(policies) if not policies.empty else "_no policy (no scenario with levers) besides the reference_")
    parts += ["", "## Assumption variants", ""]
    if assumptions.empty:
        parts.append("_no assumption variant (no scenario without levers) besides the reference_")
    else:
        note = assumption_note(summary)
        if note:
            parts += [note, ""]
        parts += [f"### {ASSUMPTION_TITLE.format(reference=reference)}", "", _markdown(assumptions)]
    parts += ["", "## Reference", "", f"### {REFERENCE_TITLE.format(reference=reference)}", "", _markdown(reference_table(summary)), ""]
    if provenance_rows:
        parts += ["## Provenance", "", _markdown(pd.DataFrame(provenance_rows, columns=["item", "value"])), ""]
    return "\n".join(parts)


def _markdown(frame: pd.DataFrame) -> str:
    try:
        return frame.to_markdown(index=False, disable_numparse=True)
    except ImportError:  # tabulate missing: a plain pipe table

        def cell(value) -> str:
            return str(value).replace("|", "\\|")

        lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "|".join("---" for _ in frame.columns) + "|"]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
        return "\n".join(lines)


# --- comparison under uncertainty ------------------------------------------------------------------
UNCERTAIN_OUTCOMES: dict[str, tuple[str, str, str]] = {
    # name: (ledger measure, area: national or non_capital, label)
    "net_jobs": ("net_jobs", "national", "net jobs, national"),
    "persons_retained_non_capital": ("persons_retained", "non_capital", "persons retained in the non-capital provinces"),
    "young_women_retained_non_capital": ("young_women_retained", "non_capital", "women aged 20–39 retained in the non-capital provinces"),
}
"""Outcomes of the comparison under uncertainty: each policy run's additionality ledger (the package,
against its own lever-free run with the same draw and seed; zero for a run without levers), in persons."""
COST_OUTCOMES = {"net_jobs": "net jobs per bn KRW", "persons_retained_non_capital": "persons retained (non-capital) per bn KRW"}
"""Outcomes whose ratio to the spending is the cost-effectiveness table."""


@dataclass
class UncertainComparison:
    """``compare_under_uncertainty``'s result for one year (tables in the outcomes' units)."""

    year: int
    reference: str
    replicates: int
    summary: pd.DataFrame
    """Per outcome and scenario: mean and central 95 % range over replicates, P(beats the reference)
    with its Wilson interval, P(best), expected rank, regret mean and 95th percentile."""
    wins: pd.DataFrame
    """Per outcome: P(row scenario strictly beats column scenario), long (outcome, scenario, other, p)."""
    ranks: pd.DataFrame
    """Per outcome and scenario: P(rank k) in columns ``1``..``k``."""
    cost: pd.DataFrame
    """Per cost outcome and policy: effect per bn KRW (ratio of means) and the central 95 % range."""
    evppi: pd.DataFrame
    """Per outcome and parameter: EVPPI of the choice between the scenarios (persons), with the EVPI
    and the decision that is best on the mean."""


def uncertainty_draws(folder: Path | str) -> pd.DataFrame:
    """The batch's ``draws.csv`` (a row per replicate: replicate, seed, one column per parameter,
    named ``section.name`` or ``<lever kind>.<name>`` where ``uncertainty.json`` says which);
    a RegsimError naming the folder if it has none."""
    path = Path(folder) / DRAWS_FILE
    if not path.is_file():
        raise RegsimError(f"{folder}: no uncertainty draws ({DRAWS_FILE}); run an experiment with an uncertainties: block")
    draws = pd.read_csv(path)
    described = Path(folder) / UNCERTAINTY_FILE
    if described.is_file():
        items = json.loads(described.read_text(encoding="utf-8")).get("parameters", [])
        draws = draws.rename(columns={item["path"]: f"{item['lever']}.{item['name']}" if item["lever"] else item["name"] for item in items})
    return draws


def uncertain_outcomes(batch: Batch, year: int | None = None) -> pd.DataFrame:
    """One row per finished run in ``year`` (default: the last): group label, seed, the
    ``UNCERTAIN_OUTCOMES`` and cumulative ``spending_krw`` from the package's ledger."""
    label = {(run["scenario"], run.get("variant") or ""): group_label(run["scenario"], run.get("variant")) for run in batch.runs}
    non_capital = ", ".join(f"'{code}'" for code in [ALL, *capital_regions()])
    sums = ",\n".join(
        f"SUM(CAST({measure} AS DOUBLE)) FILTER (WHERE {'region = ' + repr(ALL) if area == 'national' else 'region NOT IN (' + non_capital + ')'}) AS {name}"
        for name, (measure, area, _) in UNCERTAIN_OUTCOMES.items()
    )
    years = batch.sql("SELECT DISTINCT CAST(year AS BIGINT) AS year FROM national")["year"].tolist()
    year = max(years) if year is None else int(year)
    if year not in years:
        raise ArgumentError("year", f"{year} is outside the runs ({min(years)}–{max(years)})")
    ledger = batch.sql(
        f"""SELECT run_key, {sums}, SUM(CAST(spending_krw AS DOUBLE)) FILTER (WHERE region = '{ALL}') AS spending_krw
            FROM ledger WHERE lever = '{ALL}' AND CAST(year AS BIGINT) = ? GROUP BY run_key""",
        [year],
    )
    runs = pd.DataFrame(
        {
            "run_key": [run["key"] for run in batch.runs],
            "scenario": [label[(run["scenario"], run.get("variant") or "")] for run in batch.runs],
            "seed": [int(run["seed"]) for run in batch.runs],
        }
    )
    table = runs.merge(ledger, on="run_key", how="left").fillna({name: 0.0 for name in [*UNCERTAIN_OUTCOMES, "spending_krw"]})
    table.attrs["year"] = year
    return table


def wide_outcome(table: pd.DataFrame, column: str, scenarios: list[str]) -> pd.DataFrame:
    """``column`` with one row per seed (replicate) and one column per scenario, replicates where
    every scenario finished only."""
    wide = table.pivot_table(index="seed", columns="scenario", values=column, aggfunc="first")
    return wide.reindex(columns=scenarios).dropna()


def compare_under_uncertainty(folder: Path | str, year: int | None = None, reference: str | None = None) -> UncertainComparison:
    """Which scenario wins under the batch's uncertainty draws (``sim.experiments.uncertainty``): per outcome the
    summary, pairwise win probabilities, rank probabilities, cost per bn KRW and EVPPI per parameter."""
    draws = uncertainty_draws(folder)
    batch = open_batch(folder, reference)
    table = uncertain_outcomes(batch, year)
    scenarios = list(dict.fromkeys(table.sort_values("scenario", key=lambda s: s.map(_scenario_order(batch)))["scenario"]))
    reference_label = scenarios[0]
    parameters = [c for c in draws.columns if c not in ("replicate", "seed")]
    summaries, wins, ranks, costs, values = [], [], [], [], []
    replicates = 0
    for name, (_, _, label) in UNCERTAIN_OUTCOMES.items():
        wide = wide_outcome(table, name, scenarios)
        replicates = len(wide)
        if replicates < 2:
            raise RegsimError(f"{folder}: fewer than two replicates where every scenario finished")
        summaries.append(uncertainty.uncertainty_summary(wide, reference_label).assign(outcome=name, label=label))
        matrix = uncertainty.win_probabilities(wide)
        wins.append(matrix.stack().rename("p").rename_axis(["scenario", "other"]).reset_index().assign(outcome=name))
        ranks.append(uncertainty.rank_probabilities(wide).rename_axis("scenario").reset_index().assign(outcome=name))
        if name in COST_OUTCOMES:
            spending = wide_outcome(table, "spending_krw", scenarios).loc[wide.index]
            costs.append(uncertainty.cost_effectiveness(wide, spending).assign(outcome=name, label=COST_OUTCOMES[name]))
        theta = draws.set_index("seed").loc[wide.index, parameters]
        information = uncertainty.evppi(wide, theta)
        best = wide.mean().idxmax()
        values.append(
            pd.DataFrame(
                {
                    "outcome": name,
                    "parameter": information.index,
                    "evppi": information.to_numpy(),
                    "evpi": uncertainty.evpi(wide),
                    "best_on_mean": best,
                }
            )
        )
    front = ["outcome", "label", "scenario"]
    summary = pd.concat(summaries, ignore_index=True)
    summary = summary[front + [c for c in summary.columns if c not in front]]
    ranks_table = pd.concat(ranks, ignore_index=True)
    ranks_table = ranks_table[["outcome", "scenario", *[c for c in ranks_table.columns if c not in ("outcome", "scenario")]]]
    cost = pd.concat(costs, ignore_index=True) if costs else pd.DataFrame()
    evppi_table = pd.concat(values, ignore_index=True).sort_values(["outcome", "evppi"], ascending=[True, False], kind="stable")
    return UncertainComparison(
        year=int(table.attrs["year"]),
        reference=reference_label,
        replicates=replicates,
        summary=summary,
        wins=pd.concat(wins, ignore_index=True)[["outcome", "scenario", "other", "p"]],
        ranks=ranks_table,
        cost=cost,
        evppi=evppi_table.reset_index(drop=True),
    )


def _scenario_order(batch: Batch) -> dict[str, int]:
    labels = [group_label(run["scenario"], run.get("variant")) for run in batch.runs]
    ordered = sorted(dict.fromkeys(labels), key=lambda label: 0 if label == batch.reference else 1)
    return {label: i for i, label in enumerate(ordered)}


def uncertainty_tables(result: UncertainComparison) -> list[tuple[str, pd.DataFrame]]:
    """The comparison under uncertainty as text tables (title, table): per outcome the summary and the
    pairwise win probabilities; the cost per bn KRW; the EVPPI per parameter."""

    def pct(p: float) -> str:
        return f"{100 * p:.0f} %"

    tables = []
    for name, rows in result.summary.groupby("outcome", sort=False):
        label = rows["label"].iloc[0]
        text = pd.DataFrame(
            {
                "scenario": rows["scenario"],
                "mean [95 % range]": [_interval(m, lo, hi) for m, lo, hi in rows[["mean", "low", "high"]].to_numpy(float)],
                f"P(beats {result.reference}) [95 % CI]": [
                    f"{pct(p)} [{pct(lo)}, {pct(hi)}]"
                    for p, lo, hi in rows[["p_beats_reference", "p_beats_reference_low", "p_beats_reference_high"]].to_numpy(float)
                ],
                "P(best)": [pct(p) for p in rows["p_best"]],
                "expected rank": [f"{r:.2f}" for r in rows["expected_rank"]],
                "regret mean / 95th pct": [f"{m:,.0f} / {q:,.0f}" for m, q in rows[["regret_mean", "regret_p95"]].to_numpy(float)],
            }
        )
        tables.append((f"{label}, {result.year}: under uncertainty ({result.replicates} replicates, one draw each)", text))
        wins = result.wins[result.wins["outcome"] == name].pivot(index="scenario", columns="other", values="p")
        order = list(rows["scenario"])
        wins = wins.reindex(index=order, columns=order)
        matrix = pd.DataFrame(
            {"scenario": order} | {f"P(beats {other})": ["–" if a == other else pct(wins.loc[a, other]) for a in order] for other in order}
        )
        tables.append((f"{label}, {result.year}: probability that the row scenario beats the column scenario", matrix))
    if not result.cost.empty:
        cost = pd.DataFrame(
            {
                "measure": result.cost["label"],
                "scenario": result.cost["scenario"],
                "per bn KRW [95 % range]": [
                    f"{m:,.1f} [{lo:,.1f}, {hi:,.1f}]" for m, lo, hi in result.cost[["per_bn_krw", "low", "high"]].to_numpy(float)
                ],
                "spending to date (bn KRW, mean)": [f"{v:,.0f}" for v in result.cost["spending_bn_krw"]],
            }
        )
        tables.append((f"Cost-effectiveness by {result.year} (ratio of means; range of the per-replicate ratio)", cost))
    evppi = result.evppi.assign(
        outcome=result.evppi["outcome"].map(lambda o: UNCERTAIN_OUTCOMES[o][2]),
        evppi=[f"{v:,.0f}" for v in result.evppi["evppi"]],
        evpi=[f"{v:,.0f}" for v in result.evppi["evpi"]],
    ).rename(
        columns={
            "evppi": "EVPPI (jobs or persons)",
            "evpi": "EVPI, all parameters and seed",
            "best_on_mean": "best scenario on the mean",
        }
    )
    tables.append((f"Which assumption is worth measuring: EVPPI of the choice between the scenarios, {result.year}", evppi))
    return tables


CONDITION = re.compile(r"^\s*(?P<left>.+?)\s*(?P<op>>=|<=|>|<|\bbeats\b|\bloses to\b)\s*(?P<right>.+?)\s*$")
"""``A > B``, ``A beats B``, ``A < B``, ``A loses to B``, or a scenario against a number (``A > 0``)."""


@dataclass
class DiscoveryResult:
    """What ``discover_batch`` found: the PRIM result and what it was asked."""

    discovery: Any  # sim.experiments.uncertainty.Discovery
    outcome: str
    condition: str
    year: int
    replicates: int


def parse_condition(text: str, scenarios: list[str]) -> tuple[str, str, str | float]:
    """(left scenario, ``>`` or ``<`` (or ``>=``/``<=``), right scenario or number) of a condition;
    a RegsimError naming an unknown scenario and the closest valid one."""
    match = CONDITION.match(text)
    if match is None:
        raise ArgumentError("condition", f"expected 'SCENARIO > SCENARIO' (or beats, <, loses to, or a number), found {text!r}")
    op = {"beats": ">", "loses to": "<"}.get(match["op"], match["op"])

    def scenario(name: str) -> str:
        if name in scenarios:
            return name
        close = difflib.get_close_matches(name, scenarios, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; scenarios: {', '.join(scenarios)}"
        raise ArgumentError("condition", f"unknown scenario {name!r}{hint}")

    left = scenario(match["left"])
    try:
        right: str | float = float(match["right"])
    except ValueError:
        right = scenario(match["right"])
    return left, op, right


def discover_batch(folder: Path | str, outcome: str, condition: str, year: int | None = None, min_coverage: float = 0.8) -> DiscoveryResult:
    """PRIM over the batch's uncertainty draws for the replicates where ``condition`` holds on
    ``outcome`` (one of ``UNCERTAIN_OUTCOMES``) in ``year`` (default: the last)."""
    if outcome not in UNCERTAIN_OUTCOMES:
        close = difflib.get_close_matches(outcome, list(UNCERTAIN_OUTCOMES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; outcomes: {', '.join(UNCERTAIN_OUTCOMES)}"
        raise ArgumentError("outcome", f"unknown outcome {outcome!r}{hint}")
    draws = uncertainty_draws(folder)
    batch = open_batch(folder)
    table = uncertain_outcomes(batch, year)
    scenarios = list(_scenario_order(batch))
    left, op, right = parse_condition(condition, scenarios)
    wide = wide_outcome(table, outcome, [s for s in scenarios if s in (left, right)])
    a = wide[left].to_numpy(float)
    b = np.full(len(a), right) if isinstance(right, float) else wide[right].to_numpy(float)
    holds = {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
    parameters = [c for c in draws.columns if c not in ("replicate", "seed")]
    try:
        found = uncertainty.discover(draws.set_index("seed").loc[wide.index, parameters], holds, min_coverage=min_coverage)
    except ValueError as exc:
        raise ArgumentError("condition", f"{condition!r}: {exc}") from None
    return DiscoveryResult(found, outcome, condition, int(table.attrs["year"]), len(wide))


def write_discovery(result: DiscoveryResult, out: Path) -> list[Path]:
    """``peeling_trajectory.csv``, ``box.csv``, ``discovery.json`` and ``discovery.png`` in ``out``."""
    from sim.analysis.uncertainty_figures import discovery_figure  # matplotlib: only when figures are written

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegsimError(f"cannot create output folder {out}: {exc.strerror}") from None
    found = result.discovery
    found.trajectory.rename_axis("box").reset_index().to_csv(out / "peeling_trajectory.csv", index=False)
    found.box.to_csv(out / "box.csv", index=False)
    info = {
        "outcome": result.outcome,
        "label": UNCERTAIN_OUTCOMES[result.outcome][2],
        "condition": result.condition,
        "year": result.year,
        "replicates": result.replicates,
        "cases": found.cases,
        "share": found.share,
        "chosen_box": found.chosen,
        "coverage": found.coverage,
        "density": found.density,
    }
    (out / "discovery.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    figure = discovery_figure(found, f"{result.condition} ({UNCERTAIN_OUTCOMES[result.outcome][2]}, {result.year})")
    figure.savefig(out / "discovery.png", dpi=120)
    import matplotlib.pyplot as plt  # matplotlib: only when figures are written

    plt.close(figure)
    return [out / name for name in ("peeling_trajectory.csv", "box.csv", "discovery.json", "discovery.png")]


UNCERTAINTY_SECTION = "Under uncertainty"

UNCERTAINTY_FIGURES = ("rank_probabilities.png", "evppi.png")
"""Figures ``write_uncertainty_figures`` puts in a batch folder (the report draws them itself)."""


def write_uncertainty_figures(result: UncertainComparison, folder: Path) -> list[Path]:
    """The rank-probability and EVPPI figures of a comparison under uncertainty, as
    ``UNCERTAINTY_FIGURES`` in the batch folder; the paths written."""
    import matplotlib.pyplot as plt  # matplotlib: only when figures are written

    from sim.analysis.uncertainty_figures import evppi_figure, rank_probability_figure  # matplotlib, as above

    written = []
    for name, make in zip(UNCERTAINTY_FIGURES, (rank_probability_figure, evppi_figure)):
        figure = make(result)
        try:
            figure.savefig(folder / name, dpi=120)
        except OSError as exc:
            raise RegsimError(f"cannot write {folder / name}: {exc.strerror}") from None
        finally:
            plt.close(figure)
        written.append(folder / name)
    return written


def has_draws(folder: Path | str) -> bool:
    """Whether a batch folder holds uncertainty draws (an experiment with ``uncertainties``)."""
    return (Path(folder) / DRAWS_FILE).is_file()


def uncertainty_markdown(result: UncertainComparison) -> str:
    """The comparison under uncertainty as a Markdown section (``uncertainty_tables``)."""
    parts = [f"## {UNCERTAINTY_SECTION}", ""]
    for title, table in uncertainty_tables(result):
        parts += [f"### {title}", "", _markdown(table), ""]
    return "\n".join(parts)
