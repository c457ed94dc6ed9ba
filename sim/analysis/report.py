"""One self-contained HTML report of a batch, tuning or sensitivity folder (``regsim report DIR``).

Written for readers who will not run the tool, the report opens with what was found and leaves
provenance to the end. A batch report: findings (a paragraph per policy, the additionality ledger
nationally and in the targeted regions beside the rest, the policies' paired differences and their
figures), the assumption variants (scenarios without levers) apart on their own scales, the
reference's levels, further figures, the scenarios as run, the levers used with their cited cases,
the assumptions (documented parameters without a statistical source, lever effect parameters
described as assumptions, the scenarios' parameter overrides) and the provenance (experiment and
scenario hashes, seeds, package version, commit). Tuning, calibration and sensitivity reports show
their results (best trials, fit, indices) in the same order.

Figures are embedded as base64 PNG/SVG data URIs and the style sheet is inline, so the file
opens anywhere without a network. Korean text is drawn with a subset of NanumGothic (bundled
with koreanize-matplotlib) embedded as a data URI, so it renders on machines without Korean fonts.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

import sim.model.levers  # noqa: F401  (registers the catalogue)
from sim.analysis.compare import (
    ASSUMPTION,
    ASSUMPTION_TITLE,
    LEDGER_TITLE,
    POLICY,
    POLICY_TITLE,
    REFERENCE_TITLE,
    UNCERTAINTY_FIGURES,
    assumption_note,
    compare,
    compare_under_uncertainty,
    effects_table,
    findings,
    has_draws,
    ledger_by_area,
    ledger_table,
    open_batch,
    reference_table,
    uncertainty_tables,
)
from sim.analysis.compare import manifest_provenance as _manifest_provenance
from sim.analysis.compare import run_infos as _run_infos
from sim.errors import RegsimError
from sim.inputs.parameters import documented_parameters
from sim.model.levers.base import REGISTRY, describe_params
from sim.model.metrics import EXTINCTION_RISK_THRESHOLD
from sim.provenance import git_commit, package_version
from sim.results.run import load_scenario
from sim.results.store import folder_kind, read_json, read_output

REPORT = "report.html"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MAX_ROWS = 100
"""Rows shown of a long table; the rest are counted in a note."""
TOP_TRIALS = 20
FIGURE_DPI = 110
NUMERIC = re.compile(r"^(–|\d{4}–\d{4}|[+\-−]?[\d,]+(\.\d+)?(e[+-]?\d+)?%?( \[.*\])?)$")
"""Table text right-aligned as a number: 1,234.5, +12 [−3, +20], 4.2e+09, 52.1%, 2023–2035, or a dash."""
DIGEST = re.compile(r"^[0-9a-f]{16,64}$")
"""Table text set as a hash (monospace, broken anywhere)."""
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


@dataclass
class Table:
    """A table ready for the template: column names, rows of text, and a note (e.g. rows left out)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    anchor: str = ""


@dataclass
class Image:
    """A figure as a data URI, with its caption (the figure's or the file's name), its name, and its
    number in the report (set when rendering)."""

    caption: str
    uri: str
    name: str = ""
    number: int = 0


@dataclass
class LeverUse:
    """One lever used by the runs: its registry description and where it is switched on."""

    name: str
    country: str
    case: str
    mechanism: str
    used_in: list[str]
    parameters: Table


@dataclass
class Report:
    """Everything the template shows, gathered from one output folder."""

    kind: str
    folder: Path
    title: str
    provenance: list[tuple[str, Any]] = field(default_factory=list)
    scenarios: Table | None = None
    paragraphs: list[tuple[str, str]] = field(default_factory=list)
    """What a batch report opens with: one paragraph per policy (label, text), from ``sim.analysis.compare.findings``."""
    findings: list[Table] = field(default_factory=list)
    """Then the policies' tables: the additionality ledger by area, the paired differences."""
    policy_figures: list[Image] = field(default_factory=list)
    assumption_note: str = ""
    assumption_tables: list[Table] = field(default_factory=list)
    """Assumption variants (no levers), apart from the policies."""
    assumption_figures: list[Image] = field(default_factory=list)
    uncertainty_tables: list[Table] = field(default_factory=list)
    """A batch with uncertainty draws: the comparison under uncertainty, scenario discoveries, EVPPI."""
    uncertainty_figures: list[Image] = field(default_factory=list)
    results: list[Table] = field(default_factory=list)
    figures: list[Image] = field(default_factory=list)
    scenario_files: list[tuple[str, str]] = field(default_factory=list)
    levers: list[LeverUse] = field(default_factory=list)
    assumptions: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    """Finished runs (or tuned scenario files): scenario, variant, hash, seed, resolved scenario."""


# --- entry point -------------------------------------------------------------------------------
def build_report(folder: Path | str, out: Path | str | None = None) -> Path:
    """Write the HTML report of ``folder`` to ``out`` (default ``folder/report.html``); returns its path."""
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind == "run":
        raise RegsimError(f"{folder}: a single run's folder; a report is made of a batch, tuning, calibration or sensitivity folder")
    makers = {"batch": _batch_report, "tuning": _tuning_report, "calibration": _calibration_report, "sensitivity": _sensitivity_report}
    report = makers[kind](folder)
    report.figures += _folder_images(folder)
    report.levers = _levers_used(report.runs)
    report.assumptions = _assumptions(report)
    html = _render(report)
    out = Path(out) if out is not None else folder / REPORT
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise RegsimError(f"cannot write report {out}: {exc.strerror}") from None
    return out


# --- kinds of folder ---------------------------------------------------------------------------
FIGURE_CAPTIONS = {
    "differences": "Policies: paired differences against the reference over time (same seed; mean over seeds, 95 % interval)",
    "ledger": "Each policy's additionality ledger in the last year: gross jobs, displacement, leakage and net jobs, "
    "nationally and in the targeted regions beside the rest (mean over seeds, 95 % interval)",
    "tile_map_extinction_risk": "Change in the extinction risk index by province in the last year",
    "assumptions": "Assumption variants (no levers): paired differences against the reference over time, on their own scales",
    "tile_map_extinction_risk_assumptions": "Assumption variants: change in the extinction risk index by province in the last year",
    "timeseries": "Every scenario over time (assumption variants dashed)",
    "provinces_population": "Population by province (assumption variants dashed)",
    "provinces_extinction_risk": "Extinction risk index by province (assumption variants dashed)",
    "sweep": "Response to the swept parameters",
    "map_extinction_risk": f"Map: the reference's extinction risk index by province in the last year (below {EXTINCTION_RISK_THRESHOLD:g}: at risk)",
    "map_extinction_risk_change": "Map: change in the extinction risk index against the reference by province in the last year",
    "map_population_change": "Map: population change by province over the run, per scenario",
}
"""Captions of the batch figures (``sim.analysis.plots.batch_figures``), by name."""
POLICY_FIGURES = ("differences", "ledger", "tile_map_extinction_risk")
ASSUMPTION_FIGURES = ("assumptions", "tile_map_extinction_risk_assumptions")
LEDGER_NOTE = (
    "Gross jobs: jobs in the firms the levers supported, minus the same firms' jobs in the run without levers (deadweight "
    "removed). Displacement: net minus gross jobs in the regions the package reached; leakage: net jobs elsewhere; "
    "gross + displacement + leakage = net jobs. The targeted regions are those where the package supported a firm or spent "
    "money by the last year (in any seed); the rest are the other regions. Persons (20–39) retained: population "
    "differences. Costs are cumulative spending over the mean gross or net jobs (ratio of means; – unless both are "
    "positive). A programme's own job target counts hires in supported firms: compare it with gross jobs."
)


def _batch_report(folder: Path) -> Report:
    """Findings first (a paragraph per policy, the ledger by area, the policies' paired differences
    and figures), then the assumption variants apart, the reference, the other figures, scenarios,
    levers and assumptions; provenance last (the template's order)."""
    import matplotlib.pyplot as plt  # matplotlib: only for the sections with figures

    from sim.analysis.plots import batch_figures  # matplotlib, as above

    manifest = read_output(folder, "batch", "marker")
    report = Report("batch", folder, f"Batch {manifest.get('experiment', folder.name)}")
    report.runs = _run_infos(folder, manifest)
    report.provenance = _manifest_provenance(manifest, report.runs)
    report.scenarios = _scenario_table(report.runs)
    batch = open_batch(folder)
    summary = compare(folder)
    reference = summary.attrs["reference"]
    sweep = bool(summary.attrs.get("sweep"))
    ledger = ledger_by_area(batch)
    report.paragraphs = findings(ledger)
    if not ledger.empty:
        table = _frame_table(LEDGER_TITLE, _labelled(ledger_table(ledger), sweep), "ledger")
        table.note = (LEDGER_NOTE + " " + table.note).strip()
        report.findings.append(table)
    policies = _labelled(effects_table(summary, POLICY), sweep)
    assumptions = _labelled(effects_table(summary, ASSUMPTION), sweep)
    if not policies.empty:
        report.findings.append(_frame_table(POLICY_TITLE.format(reference=reference), policies, "comparison"))
    if not assumptions.empty:
        report.assumption_note = assumption_note(summary)
        anchor = "assumption-comparison" if not policies.empty else "comparison"
        report.assumption_tables.append(_frame_table(ASSUMPTION_TITLE.format(reference=reference), assumptions, anchor))
    if policies.empty and assumptions.empty:
        report.notes.append(f"No scenario besides the reference {reference}.")
    report.results.append(_frame_table(REFERENCE_TITLE.format(reference=reference), reference_table(summary)))
    kinds = set(batch.kinds.values())
    for name, figure in batch_figures(batch):
        image = Image(FIGURE_CAPTIONS.get(name, name), _png_uri(figure), name)
        plt.close(figure)
        if name in POLICY_FIGURES and POLICY in kinds:
            report.policy_figures.append(image)
        elif name == "differences":
            continue  # no policy: its panels would be empty
        elif name in ASSUMPTION_FIGURES or (name == "tile_map_extinction_risk" and ASSUMPTION in kinds):
            report.assumption_figures.append(image)
        else:
            report.figures.append(image)
    _uncertainty_section(report, folder)
    return report


def _uncertainty_section(report: Report, folder: Path) -> None:
    """For a batch with uncertainty draws: the comparison under uncertainty (``sim.analysis.compare.
    uncertainty_tables``), the rank-probability and EVPPI figures, and every scenario discovery
    written by ``regsim discover`` under ``folder/discover/`` (its box table and figure)."""
    import matplotlib.pyplot as plt  # matplotlib: only for the sections with figures

    from sim.analysis.uncertainty_figures import evppi_figure, rank_probability_figure  # matplotlib, as above

    if not has_draws(folder):
        return
    result = compare_under_uncertainty(folder)
    for title, table in uncertainty_tables(result):
        report.uncertainty_tables.append(_frame_table(title, table))
    for name, make, caption in (
        (
            "rank_probabilities",
            rank_probability_figure,
            "Rank of each scenario under uncertainty: probability over replicates (one draw each)",
        ),
        ("evppi", evppi_figure, "Which assumption is worth measuring: EVPPI of the choice between the scenarios, per parameter"),
    ):
        figure = make(result)
        report.uncertainty_figures.append(Image(caption, _png_uri(figure), name))
        plt.close(figure)
    for found in sorted((folder / "discover").glob("*/discovery.json")):
        info = read_json(found)
        title = (
            f"Scenario discovery (PRIM): where {info['condition']!r} holds on {info['label']}, {info['year']} "
            f"({info['cases']} of {info['replicates']} replicates; chosen box: coverage {info['coverage']:.2f}, density {info['density']:.2f})"
        )
        report.uncertainty_tables.append(_frame_table(title, pd.read_csv(found.parent / "box.csv")))
        image = found.parent / "discovery.png"
        if image.is_file():
            uri = "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode("ascii")
            report.uncertainty_figures.append(Image(f"Peeling trajectory and chosen box: {info['condition']}", uri, "discovery"))


def _labelled(table: pd.DataFrame, swept: bool) -> pd.DataFrame:
    """A text table's ``variant`` column shown only where it says more than the scenario name."""
    if "variant" in table:
        table = table.assign(variant=[_variant_label(s, v, swept) for s, v in zip(table["scenario"], table["variant"])])
        if not table["variant"].any():
            table = table.drop(columns="variant")
    return table


def _sensitivity_report(folder: Path) -> Report:
    """Provenance of the analysis and of its batch, the indices table and the folder's figures
    (its runs are sample points, so the batch comparison and figures are left out)."""
    info = read_output(folder, "sensitivity", "marker")
    manifest = read_output(folder, "sensitivity", "manifest")
    report = Report("sensitivity", folder, f"Sensitivity analysis {info.get('name') or manifest.get('experiment') or folder.name}")
    report.runs = _run_infos(folder, manifest) if manifest else []
    report.provenance = _json_provenance(info)
    shown = {label.split(" (")[0] for label, _ in report.provenance}
    if manifest:  # what the batch adds: runs, seeds, scales, years
        report.provenance += [row for row in _manifest_provenance(manifest, report.runs) if row[0].split(" (")[0] not in shown]
    report.scenarios = _scenario_table(report.runs) if report.runs else None
    report.results.append(_frame_table("Sensitivity indices (indices.csv)", read_output(folder, "sensitivity", "indices"), "indices"))
    return report


def _tuning_report(folder: Path) -> Report:
    """Provenance of the study, its best trials, the paired check, the tuned scenario files."""
    info = read_output(folder, "tuning", "marker")
    report = Report("tuning", folder, f"Tuning {info.get('experiment') or folder.name}")
    report.provenance = _json_provenance(info)
    report.results.append(_trials_table(read_output(folder, "tuning", "trials"), _objectives(info)))
    check = read_output(folder, "tuning", "check")
    if check is not None:
        report.results.append(_frame_table("Paired check on fresh seeds: tuned against plan (paired_check.csv)", check))
    best, pareto = read_output(folder, "tuning", "best_scenario"), read_output(folder, "tuning", "pareto_scenarios")
    if best is None and pareto is None:
        raise RegsimError(f"{folder}: neither best_scenario.yaml nor pareto_scenarios/ in the tuning folder")
    files = [best] if best is not None else sorted(pareto.glob("*.yaml"))
    rows = []
    for path in files:
        name = str(path.relative_to(folder))
        report.scenario_files.append((name, path.read_text(encoding="utf-8")))
        scenario, digest = _scenario_file(path)
        report.runs.append({"scenario": scenario.get("name", name), "variant": name, "hash": digest, "resolved": scenario})
        rows.append([name, str(scenario.get("name", "")), digest, _lever_summary(scenario.get("levers") or [])])
    if rows:
        columns = ["file", "scenario", "scenario hash (SHA-256)", "levers (budget per year, years, targets)"]
        note = "The tuned scenario files (the best trial, or the Pareto front), resolved and hashed; their text is below."
        report.scenarios = Table("", columns, rows, note)
    return report


def _calibration_report(folder: Path) -> Report:
    """Provenance and fit of a calibration (calibration.json), the per-province fit (fit.csv) and the
    calibrated scenario fragment."""
    info = read_output(folder, "calibration", "marker")
    report = Report("calibration", folder, f"Calibration {Path(str(info.get('experiment', folder.name))).stem}")
    report.provenance = _json_provenance({key: value for key, value in info.items() if key not in ("errors", "parameters")})
    report.results.append(_frame_table("Errors of the forecasts, evaluation seeds (%)", pd.DataFrame(info.get("errors", []))))
    report.results.append(_frame_table("Free parameters: bounds, default and calibrated value", pd.DataFrame(info.get("parameters", []))))
    report.results.append(
        _frame_table("Observed and simulated populations by province (fit.csv)", read_output(folder, "calibration", "fit"))
    )
    calibrated = read_output(folder, "calibration", "scenario")
    if calibrated is not None:
        report.scenario_files.append((calibrated.name, calibrated.read_text(encoding="utf-8")))
        scenario, digest = _scenario_file(calibrated)
        report.runs.append(
            {"scenario": scenario.get("name", calibrated.name), "variant": calibrated.name, "hash": digest, "resolved": scenario}
        )
        columns = ["file", "scenario", "scenario hash (SHA-256)"]
        report.scenarios = Table(
            "",
            columns,
            [[calibrated.name, str(scenario.get("name", "")), digest]],
            "The calibrated scenario (it extends the base scenario), resolved and hashed; its text is below.",
        )
    return report


# --- provenance ----------------------------------------------------------------------------------
def _json_provenance(info: dict[str, Any]) -> list[tuple[str, Any]]:
    """Top-level fields of a JSON file: scalars as text, lists of records as small tables."""
    rows: list[tuple[str, Any]] = []
    for key, value in info.items():
        label = key.replace("_", " ")
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            rows.append((label, _frame_table("", pd.DataFrame(value))))
        elif isinstance(value, dict) and value and all(isinstance(item, dict) for item in value.values()):
            rows.append((label, _frame_table("", pd.DataFrame([{"name": k, **v} for k, v in value.items()]))))
        elif isinstance(value, dict) and value and not any(isinstance(item, (list, dict)) for item in value.values()):
            rows.append((label, _frame_table("", pd.DataFrame([value]))))
        elif isinstance(value, (list, dict)):
            rows.append((label, json.dumps(value, ensure_ascii=False)))
        else:
            rows.append((label, _cell(value)))
    return rows


def _scenario_table(runs: list[dict[str, Any]]) -> Table:
    """One row per scenario, variant and scenario hash: seeds, scale, years, sweep values, levers."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["scenario"], run["variant"], run["hash"]), []).append(run)
    rows = []
    for (scenario, variant, digest), members in groups.items():
        first = members[0]
        sweep = ", ".join(f"{k} = {_cell(v)}" for k, v in first["sweep"].items())
        rows.append(
            [
                scenario,
                _variant_label(scenario, variant, bool(sweep)),
                sweep,
                digest,
                ", ".join(map(str, sorted(run["seed"] for run in members))),
                str(first["scale"]),
                f"{first['start_year']}–{first['end_year']}",
                _lever_summary(first["resolved"].get("levers") or []),
            ]
        )
    columns = [
        "scenario",
        "variant",
        "sweep values",
        "scenario hash (SHA-256)",
        "seeds",
        "scale",
        "years",
        "levers (budget per year, years, targets)",
    ]
    keep = [i for i, column in enumerate(columns) if any(row[i] for row in rows)]  # no empty variant or sweep column
    note = "One row per scenario, variant and resolved scenario (its hash): the seeds run with it and its levers as run."
    return _limited(Table("", [columns[i] for i in keep], [[row[i] for i in keep] for row in rows], note))


def _variant_label(scenario: str, variant: str, swept: bool) -> str:
    """A variant's label where it says more than the scenario name, the reference mark or the
    sweep values shown next to it (a batch names a sweep point ``scenario[path=value]``)."""
    if variant in ("", scenario, "reference") or (swept and variant.startswith(f"{scenario}[")):
        return ""
    return variant


def _lever_summary(levers: list[dict[str, Any]]) -> str:
    """One line per lever spec: label, yearly budget, years, targeted regions and industries."""
    parts = []
    for spec in levers:
        if spec.get("budget_krw_per_year") is not None:
            budget = f"{spec['budget_krw_per_year'] / 1e9:,.1f} bn KRW"
        elif spec.get("budget_jpy_per_year") is not None:
            budget = f"{spec['budget_jpy_per_year'] / 1e9:,.1f} bn JPY"
        else:
            budget = "no budget"
        targets = spec.get("region_type") or "all"
        if spec.get("regions"):
            targets += " " + ",".join(map(str, spec["regions"]))
        if spec.get("municipalities"):
            targets += ", si-gun-gu " + ",".join(map(str, spec["municipalities"]))
        if spec.get("industries"):
            targets += ", industries " + ",".join(map(str, spec["industries"]))
        parts.append(f"{spec.get('label') or spec.get('lever')}: {budget}, {spec.get('start')}–{spec.get('end')}, {targets}")
    return "\n".join(parts) or "none"


def _scenario_file(path: Path) -> tuple[dict[str, Any], str]:
    """A tuned scenario file resolved (inheritance) with its content hash, or as written with the
    reason it does not load."""
    try:
        scenario = load_scenario(path)
    except RegsimError as exc:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return (raw if isinstance(raw, dict) else {}), f"not loadable: {exc}"
    return scenario.model_dump(mode="json"), scenario.content_hash()


# --- results -------------------------------------------------------------------------------------
def _objectives(info: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, direction) of each objective in ``tune.json``: a mapping name -> direction (or ->
    {direction: ...}), or a list of names or of records with ``name`` and ``direction``."""
    objectives = info.get("objectives") or []
    if isinstance(objectives, dict):
        return [(name, value.get("direction", "") if isinstance(value, dict) else str(value)) for name, value in objectives.items()]
    directions = info.get("directions") or []
    out = []
    for i, item in enumerate(objectives):
        if isinstance(item, dict):
            out.append((str(item.get("name") or item.get("outcome")), str(item.get("direction", ""))))
        else:
            out.append((str(item), str(directions[i]) if i < len(directions) else ""))
    return out


def _trials_table(trials: pd.DataFrame, objectives: list[tuple[str, str]]) -> Table:
    """The best completed trials: sorted by the first objective in its direction; with several
    objectives, the Pareto-optimal trials first (marked)."""
    total = len(trials)
    if "state" in trials:
        trials = trials[trials["state"].astype(str).str.upper() == "COMPLETE"]
    known = [(name, direction.lower()) for name, direction in objectives if name in trials]
    order = trials
    if known:
        name, direction = known[0]
        order = trials.sort_values(name, ascending=not direction.startswith("max"), kind="stable")
    if len(known) > 1:
        signs = [(-1.0 if direction.startswith("max") else 1.0) for _, direction in known]
        values = trials[[name for name, _ in known]].to_numpy(float) * signs
        pareto = [not any((other <= row).all() and (other < row).any() for other in values) for row in values]
        flags = pd.Series(pareto, index=trials.index)
        order = order.assign(pareto=flags.map({True: "yes", False: ""}))
        order = order.sort_values("pareto", ascending=False, kind="stable")
    shown = order.head(TOP_TRIALS)
    goal = ", ".join(f"{name} ({direction or 'direction not given'})" for name, direction in objectives)
    note = f"{len(shown)} of {total} trials (trials.csv); objectives: {goal or 'not given'}."
    return Table(f"Best trials (top {TOP_TRIALS})", list(shown.columns), _text_rows(shown), note, "trials")


def _frame_table(title: str, frame: pd.DataFrame, anchor: str = "") -> Table:
    return _limited(Table(title, [str(c) for c in frame.columns], _text_rows(frame), anchor=anchor))


def _limited(table: Table) -> Table:
    if len(table.rows) > MAX_ROWS:
        table.note = f"First {MAX_ROWS} of {len(table.rows)} rows. " + table.note
        table.rows = table.rows[:MAX_ROWS]
    return table


def _text_rows(frame: pd.DataFrame) -> list[list[str]]:
    return [[_cell(value) for value in row] for row in frame.itertuples(index=False)]


def _cell(value: Any) -> str:
    """A value as table text: floats with a sensible number of digits, missing values as a dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 120 else text[:117] + "…"
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return str(value)


def _values(values: list[Any], shown: int = 8) -> str:
    """Distinct values used, as text; a long list (a sensitivity design) is cut with its count."""
    text = ", ".join(_cell(v) for v in values[:shown])
    return text + f", … ({len(values)} values)" if len(values) > shown else text


# --- figures -------------------------------------------------------------------------------------
def _png_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _folder_images(folder: Path) -> list[Image]:
    """Every PNG and SVG in the folder's top level (e.g. a tuning history), captioned by file name,
    except the uncertainty figures, which the report draws in their own section."""
    types = {".png": "image/png", ".svg": "image/svg+xml"}
    images = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in types and path.name not in UNCERTAINTY_FIGURES:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            images.append(Image(path.name, f"data:{types[path.suffix.lower()]};base64,{data}"))
    return images


# --- levers and assumptions ----------------------------------------------------------------------
def _levers_used(runs: list[dict[str, Any]]) -> list[LeverUse]:
    """Every lever switched on in the runs' resolved scenarios, with its registry description and
    its effect parameters (default, values used, description)."""
    used: dict[str, dict[str, Any]] = {}
    for run in runs:
        for spec in run["resolved"].get("levers") or []:
            entry = used.setdefault(spec["lever"], {"scenarios": [], "params": {}})
            if run["scenario"] not in entry["scenarios"]:
                entry["scenarios"].append(run["scenario"])
            for key, value in (spec.get("params") or {}).items():
                values = entry["params"].setdefault(key, [])
                if value not in values:
                    values.append(value)
    levers = []
    for name, entry in used.items():
        cls = REGISTRY.get(name)
        if cls is None:
            levers.append(LeverUse(name, "", "not in the lever registry", "", entry["scenarios"], Table("", [], [])))
            continue
        rows = [
            [
                key,
                _cell(described["default"]),
                _values(entry["params"].get(key, [])) or "default",
                described["description"],
                "yes" if described["assumption"] else "",
                _range_cell(described["range"]),
                described["evidence"] or "–",
            ]
            for key, described in describe_params(cls).items()
        ]
        table = Table(
            "",
            ["parameter", "default", "used", "description", "assumption", "range", "evidence"],
            rows,
            "Range: the plausible low–high an uncertainty experiment may draw from; – for programme terms and settings.",
        )
        levers.append(LeverUse(name, cls.country, cls.case, cls.mechanism, entry["scenarios"], table))
    return levers


def _range_cell(low_high: tuple[float, float] | None) -> str:
    """``low–high`` of a lever parameter, or – when it has no range (a programme term or setting)."""
    return "–" if low_high is None else f"{_cell(low_high[0])}–{_cell(low_high[1])}"


def _assumptions(report: Report) -> list[Table]:
    """Named assumptions: documented parameters marked ``assumption: true``, the used levers' effect
    parameters described as assumptions, and the scenarios' parameter overrides."""
    documented = documented_parameters()
    overrides: dict[str, list[Any]] = {}
    distinct = {run["hash"]: run["resolved"] for run in report.runs}
    for scenario in distinct.values():
        for key, value in (scenario.get("parameters") or {}).items():
            values = overrides.setdefault(key, [])
            if value not in values:
                values.append(value)
    rows = []
    for section, entries in documented.items():
        for name, entry in (entries or {}).items():
            if entry.get("assumption"):
                key = f"{section}.{name}"
                used = _values(overrides.get(key, []))
                rows.append([key, _cell(entry.get("value")), used or "default", str(entry.get("unit", "")), str(entry.get("note", ""))])
    tables = [
        Table(
            "Model parameters without a statistical source (sim/inputs/data/parameters.yaml, assumption: true)",
            ["parameter", "default", "used", "unit", "note"],
            rows,
            anchor="model-assumptions",
        )
    ]
    lever_rows = [[lever.name, *row[:3], row[5], row[3]] for lever in report.levers for row in lever.parameters.rows if row[4] == "yes"]
    if lever_rows:
        tables.append(
            Table(
                "Lever parameters that are named assumptions (levers used)",
                ["lever", "parameter", "default", "used", "range", "description"],
                lever_rows,
            )
        )
    override_rows = []
    for key, values in overrides.items():
        section, _, name = key.partition(".")
        entry = (documented.get(section) or {}).get(name, {})
        basis = "assumption" if entry.get("assumption") else (str(entry.get("source", "")) or "unknown parameter")
        override_rows.append([key, _cell(entry.get("value")), _values(values), basis])
    tables.append(
        Table(
            "Parameter overrides in the scenarios (parameters:)",
            ["parameter", "default", "used", "basis of the default"],
            override_rows,
            "" if override_rows else "The scenarios override no parameter.",
        )
    )
    return tables


# --- rendering -----------------------------------------------------------------------------------
def _render(report: Report) -> str:
    for number, image in enumerate(
        [*report.policy_figures, *report.uncertainty_figures, *report.assumption_figures, *report.figures], start=1
    ):
        image.number = number
    environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]))
    environment.tests["numeric"] = lambda text: bool(NUMERIC.match(str(text)))
    environment.tests["digest"] = lambda text: bool(DIGEST.match(str(text)))
    context = {
        "report": report,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "generator": f"regsim {package_version()} (commit {git_commit()})",
        "is_table": lambda value: isinstance(value, Table),
    }
    html = environment.get_template("report.html").render(**context, font_face="")
    hangul = sorted(set(HANGUL.findall(html)))
    if not hangul:
        return html
    return environment.get_template("report.html").render(**context, font_face=_hangul_font_uri("".join(hangul)))


def _hangul_font_uri(characters: str) -> str:
    """NanumGothic reduced to ``characters``, as a TrueType data URI (empty if the font is missing)."""
    from fontTools import subset  # fontTools: only when the Hangul font is embedded

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return ""
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NanumGothic.ttf"
    if not path.is_file():
        return ""
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # tables it cannot subset are dropped, as wanted
    options = subset.Options()
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return "data:font/ttf;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
