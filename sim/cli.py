"""The ``regsim`` command: a thin layer over the layers (``sim.results.run``, the experiments, the analysis).

User mistakes (bad scenario, missing data, bad option) print one line to stderr and exit with
status 2; no traceback.

Each command imports the layers it uses inside its body: every layer loads pandas and NumPy (0.3 s),
most also Mesa and SciPy (1 s), so that ``regsim --help``, a typo or a bad option answer in 0.1 s.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sim.errors import ArgumentError, RegsimError, ScenarioError
from sim.experiments.executors import EXECUTORS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Regional innovation policy and depopulation simulator.",
)
console = Console(width=None if sys.stdout.isatty() else 160)  # full tables in logs and pipes
errors = Console(stderr=True)

SUMMARY_YEARS = (2030, 2040, 2052)


# --- command-line values: the type, range and sense of every option is checked here, once -------
# Scalar options check themselves as Typer parses them (``callback=``), before any work starts; lists
# given as text and combinations of options are checked by the functions below, which each command
# calls first. Every problem is one line naming the option, exit status 2 (``main``).
def _option(param: typer.CallbackParam) -> str:
    return max(param.opts, key=len)


def _at_least(minimum: int):
    """A callback refusing values below ``minimum`` (None: not given, passes)."""

    def check(param: typer.CallbackParam, value: int | None) -> int | None:
        if value is not None and value < minimum:
            raise RegsimError(f"{_option(param)}: must be at least {minimum}, found {value}")
        return value

    return check


def _between(low: int, high: int, what: str):
    """A callback refusing values outside [low, high]; ``what`` names the kind of value."""

    def check(param: typer.CallbackParam, value: int | None) -> int | None:
        if value is not None and not low <= value <= high:
            raise RegsimError(f"{_option(param)}: expected {what} in {low}–{high}, found {value}")
        return value

    return check


def _one_of(*choices: str):
    """A callback refusing any value but ``choices``."""

    def check(param: typer.CallbackParam, value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise RegsimError(f"{_option(param)}: expected one of {', '.join(choices)}, found {value!r}")
        return value

    return check


def _years() -> tuple[int, int]:
    """The first and last year a run can reach (the scenario module is imported only when needed)."""
    from sim.inputs.scenario import LAST_YEAR, START_YEARS

    return START_YEARS[0], LAST_YEAR


def _year(param: typer.CallbackParam, value: int | None) -> int | None:
    """A callback refusing a last simulated year no run can reach."""
    first, last = _years()
    return _between(first + 1, last, "a year")(param, value)


_seed = _at_least(0)
_count = _at_least(1)
_port = _between(1, 65535, "a port")
_executor = _one_of(*EXECUTORS)
_language = _one_of("en", "ko")
FIGURE_FORMATS = ("png", "svg", "pdf")


def _year_list(option: str, text: str) -> list[int]:
    """Comma-separated years, each a simulated year."""
    try:
        years = [int(year) for year in text.split(",")]
    except ValueError:
        raise RegsimError(f"{option}: expected comma-separated years, found {text!r}") from None
    first, last = _years()
    outside = [year for year in years if not first <= year <= last]
    if outside:
        raise RegsimError(f"{option}: expected years in {first}–{last}, found {outside[0]}")
    return years


def _scale_list(option: str, text: str) -> list[int]:
    """Comma-separated persons-per-agent values, each at least 1."""
    try:
        values = [int(value) for value in text.split(",")]
    except ValueError:
        raise RegsimError(f"{option}: expected comma-separated integers, found {text!r}") from None
    if min(values) < 1:
        raise RegsimError(f"{option}: persons per agent must be at least 1, found {min(values)}")
    return values


def _formats(option: str, text: str) -> list[str]:
    """Comma-separated figure file formats."""
    formats = [part.strip().lower() for part in text.split(",")]
    unknown = [part for part in formats if part not in FIGURE_FORMATS]
    if unknown:
        raise RegsimError(f"{option}: expected formats among {', '.join(FIGURE_FORMATS)}, found {unknown[0]!r}")
    return formats


def _positive_number(option: str, text: str | None) -> float | None:
    """``text`` as a positive finite number (None if not given)."""
    if text is None:
        return None
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise RegsimError(f"{option}: expected a number, found {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise RegsimError(f"{option}: must be a positive number, found {text!r}")
    return value


def _executor_options(executor: str, scheduler: str | None) -> None:
    """--scheduler addresses a Dask cluster, so it needs --executor dask."""
    if scheduler is not None and executor != "dask":
        raise RegsimError("--scheduler: only with --executor dask")


def _resume_options(resume: bool, out: Path | None, kind: str, holds: str) -> None:
    """--resume continues the folder given with --out; without it, --out must not hold the ``holds``
    file of a ``kind`` folder already (``sim.results.store.FOLDERS``)."""
    if resume and out is None:
        raise RegsimError("--resume: give the folder to continue with --out")
    if not resume and out is not None and (out / holds).exists():
        raise RegsimError(f"--out: {out} already holds a {kind}; use --resume to continue it, or another folder")


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit status 2.

    Usage errors (unknown option, bad type) are Typer's own, also with status 2.
    """
    try:
        app()
    except ArgumentError as exc:  # a library function's argument: name the option that gave it
        option = "--" + exc.argument.replace("_", "-")
        errors.print(f"regsim: error: {option}: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except RegsimError as exc:
        errors.print(f"regsim: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    seed: Annotated[int, typer.Option(help="random seed; the run is fully determined by scenario and seed", callback=_seed)] = 0,
    scale: Annotated[int | None, typer.Option(help="persons per agent (default: the scenario's)", callback=_count)] = None,
    until: Annotated[int | None, typer.Option(help="last simulated year (default: the scenario's end_year)", callback=_year)] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: a new folder under results/)")] = None,
) -> None:
    """Run one scenario; print a summary table (and, with levers, the additionality ledger) and write regions/national/levers/ledger Parquet files, run.json and a figure."""
    from sim.analysis.plots import SUMMARY_FIGURE, run_summary_figure
    from sim.experiments.experiment import new_results_folder
    from sim.results.ledger import ledger_summary
    from sim.results.run import load_scenario
    from sim.results.run import run as run_scenario
    from sim.results.store import RUN_INFO, TABLES

    spec = load_scenario(scenario, scale=scale, end_year=until)
    with _progress("years") as advance:
        result = run_scenario(spec, seed=seed, progress=advance)
    folder = out or new_results_folder(f"{spec.name}-seed{seed}", kind="run")
    result.write(folder)
    run_summary_figure(result).savefig(folder / SUMMARY_FIGURE, dpi=120)
    console.print(_summary_table(result))
    for line in ledger_summary(result.ledger, _summary_years(result)[1:]):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    files = ", ".join(name for name in [*TABLES.values(), RUN_INFO, SUMMARY_FIGURE] if (folder / name).is_file())
    console.print(f"wrote {folder}/ ({files}) in {result.metadata['wall_time_s']:.1f} s")


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="baseline scenario starting in 2023")] = Path("scenarios/korea_baseline.yaml"),
    seeds: Annotated[int, typer.Option(help="number of seeds to average over", callback=_count)] = 3,
    scale: Annotated[int | None, typer.Option(help="persons per agent (default: the scenario's)", callback=_count)] = None,
    out: Annotated[Path | None, typer.Option(help="write the tables as CSV to this folder")] = None,
) -> None:
    """Validity: a baseline 2023→2052 against KOSTAT's 2022-based projection, its 2015→2023 back-cast, and a
    rolling-origin back-test of migration (Dec 2020 and Dec 2021 → Dec 2023) against naive forecasts.

    Exits with status 1 if a criterion is outside its tolerance.
    """
    from sim.experiments.validation import run_checks
    from sim.results.run import load_scenario

    report = run_checks(load_scenario(scenario, scale=scale), seeds=seeds)
    console.print(_frame_table("Baseline 2023→2052 vs official projection (mean over seeds)", report.criteria))
    console.print(_frame_table("Provinces", report.provinces, digits=3))
    console.print(_frame_table("Back-cast 2015→2023 vs observed 2023", report.backcast))
    console.print(_frame_table("Migration back-test: origins Dec 2020 and Dec 2021 → Dec 2023", report.migration_backtest))
    if out:
        report.write(out)
        console.print(f"wrote {out}/")
    if not report.criteria["passed"].all():
        raise typer.Exit(1)


@app.command()
def effects(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file with levers")],
    seeds: Annotated[
        int,
        typer.Option(
            help="number of seeds (0..N-1, at least 2 for an interval); each run is paired with its baseline", callback=_at_least(2)
        ),
    ] = 20,
    years: Annotated[str, typer.Option(help="comma-separated years to report")] = "2025,2030",
    scale: Annotated[int | None, typer.Option(help="persons per agent (default: the scenario's)", callback=_count)] = None,
    target_jobs: Annotated[
        str | None,
        typer.Option(
            "--target-jobs",
            help="the programme's own target, hires in supported firms (e.g. 3623 for the 2023 MSS plan): shown beside gross jobs",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write per-seed and summary tables as CSV to this folder")] = None,
) -> None:
    """The additionality ledger of a scenario's lever package over seeds: gross jobs in supported
    firms, displacement, leakage, net jobs, persons and young persons retained, spending and costs,
    as paired differences against the baseline with the same seed (mean and 95 % interval)."""
    from sim.experiments.effects import effects_table, paired_effects

    wanted = _year_list("--years", years)
    target = _positive_number("--target-jobs", target_jobs)
    per_seed, summary = paired_effects(scenario, range(seeds), wanted, scale=scale)
    for year in sorted(set(wanted)):
        title = f"Additionality ledger of {scenario}, {year} ({seeds} seeds; mean [95 % interval] against the paired baseline)"
        console.print(_text_table(title, effects_table(summary, year, target)))
    if summary.attrs.get("targeted_regions"):
        console.print(
            f"targeted regions: {', '.join(summary.attrs['targeted_regions'])} (supported firms or spending by the last year)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if out:
        out.mkdir(parents=True, exist_ok=True)
        per_seed.to_csv(out / "effects_per_seed.csv", index=False)
        summary.to_csv(out / "effects_summary.csv", index=False)
        console.print(f"wrote {out}/")


@app.command()
def bench(
    scales: Annotated[str, typer.Option(help="comma-separated persons-per-agent values")] = "100",
    until: Annotated[int, typer.Option(help="last simulated year", callback=_year)] = 2052,
    seed: Annotated[int, typer.Option(help="random seed", callback=_seed)] = 0,
    batch: Annotated[bool, typer.Option(help="also measure batch throughput with 1 and 2 workers and its overhead")] = False,
    resolution: Annotated[str, typer.Option(help="province, or sigungu (the 229 municipalities; its scenario's scale is 20)")] = "province",
) -> None:
    """Speed and memory of the Korea baseline, each scale in a fresh process (and batch throughput)."""
    from sim.experiments.bench import benchmark_baseline

    values = _scale_list("--scales", scales)
    rows = []
    for value in values:
        console.print(f"baseline at 1:{value} …")
        rows.append(benchmark_baseline(value, until=until, seed=seed, resolution=resolution))
    import pandas as pd

    console.print(_frame_table(f"Benchmark (Korea baseline, resolution {resolution})", pd.DataFrame(rows)))
    if batch:
        from sim.experiments.bench import benchmark_batch

        console.print("batch throughput (local executor) …")
        console.print(_frame_table("Batch: 2 scenarios × 10 seeds, 2023–2035, 1:100", pd.DataFrame(benchmark_batch())))


@app.command()
def levers(
    as_json: Annotated[
        bool, typer.Option("--json", help="print a JSON list (each parameter with default, range, evidence, assumption, kind, description)")
    ] = False,
) -> None:
    """The policy levers a scenario can switch on: origin (case), mechanism, and each effect
    parameter's default, plausible range and evidence (or that it is a named assumption)."""
    import sim.model.levers  # noqa: F401  (importing the package registers every lever family)
    from sim.model.levers.base import REGISTRY, describe_params

    entries = [
        {
            "name": name,
            "country": cls.country,
            "case": cls.case,
            "mechanism": cls.mechanism,
            "parameters": describe_params(cls),
        }
        for name, cls in sorted(REGISTRY.items())
    ]
    if as_json:
        print(json.dumps(entries, indent=2, ensure_ascii=False, default=str))
        return
    table = Table(title=f"Policy levers ({len(entries)})", show_lines=True)
    for column in ("name", "country", "case", "mechanism", "parameters: default [range] — evidence"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        params = "\n".join(_parameter_line(key, value) for key, value in entry["parameters"].items())
        table.add_row(entry["name"], entry["country"], entry["case"], entry["mechanism"], params or "-")
    console.print(table)


@app.command(name="backcast-municipalities")
def backcast_municipalities(
    out: Annotated[Path | None, typer.Option(help="write the forecasts per municipality as CSV to this file")] = None,
) -> None:
    """Back-cast Dec 2022 → Dec 2023 by si-gun-gu against the registered populations (``sim.experiments.municipal_backcast``)."""
    from sim.experiments.municipal_backcast import municipal_backcast

    summary, detail = municipal_backcast()
    console.print(_frame_table("Municipal back-cast Dec 2022 → Dec 2023 (229 si-gun-gu, expected values)", summary, digits=3))
    if out:
        detail.to_csv(out, index=False)
        console.print(f"wrote {out}")


def _parameter_line(name: str, described: dict) -> str:
    """``name=default [low–high] — evidence`` (or ``— ASSUMPTION``) for the levers table."""
    low_high = described["range"]
    span = f" [{low_high[0]:g}–{low_high[1]:g}]" if low_high else ""
    basis = (
        "ASSUMPTION" + (f"; {described['evidence']}" if described["evidence"] else "") if described["assumption"] else described["evidence"]
    )
    default = described["default"]
    return f"{name}={default:g}{span} — {basis}" if isinstance(default, float) else f"{name}={default!r}{span} — {basis}"


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario YAML files")],
) -> None:
    """Check scenario files without running them (inheritance, fields, levers, regions, parameters).

    Prints one line per file; exits with status 2 if any file is invalid.
    """
    from sim.results.run import load_scenario

    invalid = 0
    for file in files:
        try:
            spec = load_scenario(file)
        except RegsimError as exc:
            invalid += 1
            message = str(exc) if isinstance(exc, ScenarioError) else f"{file}: {exc}"
            errors.print(f"regsim: error: {message}", markup=False, highlight=False, soft_wrap=True)
            continue
        count = len(spec.levers)
        console.print(
            f"ok {file} ({count} lever{'' if count == 1 else 's'}, hash {spec.content_hash()[:12]})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if invalid:
        raise typer.Exit(2)


@contextmanager
def _progress(what: str):
    """A transient Rich progress bar on a terminal, yielding the callback ``advance(done, total,
    failed=0)``; None when not on a terminal (logs and pipes stay quiet). ``what``: years, runs or trials."""
    if not console.is_terminal:
        yield None
        return
    columns = [TextColumn(what), BarColumn(), MofNCompleteColumn()]
    if what == "runs":
        columns += [TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TextColumn("left")]
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(what, total=None, failed=0)
        yield lambda done, total, failed=0: progress.update(task, completed=done, total=total, failed=failed)


def _summary_years(result) -> list[int]:
    """The years of the run summary: the start, SUMMARY_YEARS within the run, the last."""
    years = result.national["year"]
    start, last = int(years.min()), int(years.max())
    return [start] + [year for year in SUMMARY_YEARS if start < year < last] + ([last] if last > start else [])


def _summary_table(result) -> Table:
    from sim.model.metrics import EXTINCTION_RISK_THRESHOLD, HIGH_EXTINCTION_RISK_THRESHOLD

    national = result.national.set_index("year")
    years = _summary_years(result)
    table = Table(title=f"{result.metadata['scenario']} (seed {result.metadata['seed']}, 1:{result.metadata['scale']})")
    table.add_column("measure")
    for year in years:
        table.add_column(str(year), justify="right")
    rows = [
        ("population (persons)", "population", "{:,.0f}"),
        ("capital-region share", "capital_region_share", "{:.1%}"),
        (f"provinces with risk index < {EXTINCTION_RISK_THRESHOLD}", "regions_at_extinction_risk", "{:d}"),
        (f"provinces with risk index < {HIGH_EXTINCTION_RISK_THRESHOLD}", "regions_at_high_extinction_risk", "{:d}"),
        (f"si-gun-gu with risk index < {EXTINCTION_RISK_THRESHOLD}", "municipalities_at_extinction_risk", "{:d}"),
        (f"si-gun-gu with risk index < {HIGH_EXTINCTION_RISK_THRESHOLD}", "municipalities_at_high_extinction_risk", "{:d}"),
        ("employed (persons)", "employed", "{:,.0f}"),
    ]
    rows = [row for row in rows if row[1] in national]  # si-gun-gu counts: resolution sigungu only
    for label, column, fmt in rows:
        table.add_row(label, *(fmt.format(national.loc[year, column]) for year in years))
    if result.metadata.get("scenario_resolved", {}).get("levers"):
        cumulative = national["lever_spending_krw"].fillna(0.0).cumsum()  # all levers, start year to the shown year
        table.add_section()
        table.add_row("lever spending to date (KRW, total)", *(f"{cumulative.loc[year]:,.0f}" for year in years))
        if "jobs_created" in national:
            table.add_row(
                "jobs created (persons, vs paired baseline)", *(_format_count(national.loc[year, "jobs_created"]) for year in years)
            )
    return table


def _format_count(value) -> str:
    import pandas as pd

    return "–" if pd.isna(value) else f"{int(value):+,d}"


def _frame_table(title: str, frame, digits: int = 2) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{value:.{digits}f}" if isinstance(value, float) else str(value) for value in row))
    return table


@app.command()
def batch(
    experiment: Annotated[Path, typer.Argument(help="experiment YAML file (scenarios, seeds, sweep)")],
    workers: Annotated[int | None, typer.Option(help="parallel runs (default: the CPU count)", callback=_count)] = None,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask", callback=_executor)] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local Dask cluster)")] = None,
    out: Annotated[Path | None, typer.Option(help="batch folder (default: a new folder under results/)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the batch in --out: skip finished runs, re-run failed ones")] = False,
) -> None:
    """Run an experiment: every scenario × sweep point × seed, stored run by run (Parquet + manifest).

    Exits with status 1 if any run failed (the other runs are stored).
    """
    from sim.experiments.batch import run_batch
    from sim.results import store

    _executor_options(executor, scheduler)
    _resume_options(resume, out, "batch", store.MANIFEST)
    with _progress("runs") as advance:
        summary = run_batch(
            experiment,
            out=out,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            resume=resume,
            progress=advance,
        )
    table = Table(title=f"Batch {experiment} → {summary.out}")
    table.add_column("runs")
    table.add_column("count", justify="right")
    table.add_row("finished", str(summary.finished))
    table.add_row("failed", str(summary.failed))
    table.add_row("skipped (finished before)", str(summary.skipped))
    table.add_row("total", str(summary.total))
    table.add_row("wall time (s)", f"{summary.wall_time_s:.1f}")
    console.print(table)
    if summary.failures:
        failures = Table(title=f"Failed runs ({summary.failed})", show_lines=True)
        for column in ("key", "variant", "seed", "reason"):
            failures.add_column(column, overflow="fold")
        for failure in summary.failures[:50]:
            failures.add_row(failure["key"], failure["variant"], str(failure["seed"]), failure["error"])
        if len(summary.failures) > 50:
            failures.add_row("…", f"{len(summary.failures) - 50} more in manifest.json", "", "")
        console.print(failures)
    console.print(f"wrote {summary.out}/ ({_listing(summary.out)})", markup=False, highlight=False)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def compare(
    folder: Annotated[Path, typer.Argument(help="batch folder (manifest.json and runs/*/)")],
    years: Annotated[str, typer.Option(help="comma-separated years, or 'all'")] = "2030,2035",
    reference: Annotated[str | None, typer.Option(help="reference scenario (default: the manifest's)")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="print the full table as CSV")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="print Markdown tables")] = False,
) -> None:
    """Compare a batch's scenarios with the reference, findings first: per policy (a scenario with
    levers) its additionality ledger against its own lever-free baseline, nationally and in the
    targeted regions beside the rest, and its paired differences against the reference (same seed);
    then the assumption variants (scenarios without levers) apart; provenance last. Mean and 95 %
    interval over seeds. A batch with uncertainty draws adds the comparison under uncertainty and
    writes its rank-probability and EVPPI figures into the folder. --csv: the paired differences as
    one long table with a kind column."""
    from sim.analysis.compare import (
        ASSUMPTION,
        ASSUMPTION_TITLE,
        DEFAULT_YEARS,
        LEDGER_TITLE,
        POLICY,
        POLICY_TITLE,
        REFERENCE_TITLE,
        assumption_note,
        effects_table,
        findings,
        ledger_by_area,
        ledger_table,
        open_batch,
        provenance,
        reference_table,
        to_markdown,
    )
    from sim.analysis.compare import compare as compare_batch

    if as_csv and as_markdown:
        raise RegsimError("--csv and --markdown: choose one")
    if years.strip().lower() == "all":
        wanted = None
    else:
        wanted = tuple(_year_list("--years", years))
        if tuple(sorted(set(wanted))) == tuple(sorted(DEFAULT_YEARS)):
            wanted = DEFAULT_YEARS  # the defaults fall back to the years the runs reach
    summary = compare_batch(folder, years=wanted, reference=reference)
    if as_csv:
        sys.stdout.write(summary.to_csv(index=False))
        return
    batch = open_batch(folder, reference)
    ledger = ledger_by_area(folder, years=wanted, reference=reference)
    origin = provenance(batch)
    uncertain = _uncertain_comparison(folder, reference, wanted)
    if uncertain is not None:
        from sim.analysis.compare import write_uncertainty_figures

        figures = write_uncertainty_figures(uncertain, folder)
    if as_markdown:
        text = to_markdown(summary, ledger, origin)
        if uncertain is not None:
            from sim.analysis.compare import uncertainty_markdown

            text = text.replace("## Assumption variants", uncertainty_markdown(uncertain) + "\n## Assumption variants", 1)
        sys.stdout.write(text)
        return
    ref = summary.attrs["reference"]
    console.rule("Findings")
    for label, text in findings(ledger):
        console.print(Text.assemble((f"{label}. ", "bold"), text), highlight=False, soft_wrap=True)
    if not ledger.empty:
        console.print(_text_table(LEDGER_TITLE, ledger_table(ledger)))
    policies = effects_table(summary, POLICY)
    if policies.empty:
        console.print(f"no policy (no scenario with levers) besides the reference {ref}")
    else:
        console.print(_text_table(POLICY_TITLE.format(reference=ref), policies))
    if uncertain is not None:
        from sim.analysis.compare import UNCERTAINTY_SECTION, uncertainty_tables

        console.rule(UNCERTAINTY_SECTION)
        for title, table in uncertainty_tables(uncertain):
            console.print(_text_table(title, table))
        console.print(f"wrote {', '.join(str(path) for path in figures)}", markup=False, highlight=False)
    console.rule("Assumption variants")
    assumptions = effects_table(summary, ASSUMPTION)
    if assumptions.empty:
        console.print(f"no assumption variant (no scenario without levers) besides the reference {ref}")
    else:
        note = assumption_note(summary)
        if note:
            console.print(note, highlight=False, soft_wrap=True)
        console.print(_text_table(ASSUMPTION_TITLE.format(reference=ref), assumptions))
    console.rule("Reference")
    console.print(_text_table(REFERENCE_TITLE.format(reference=ref), reference_table(summary)))
    console.rule("Provenance")
    import pandas as pd

    console.print(_text_table("", pd.DataFrame(origin, columns=["item", "value"])))


def _uncertain_comparison(folder: Path, reference: str | None, years):
    """The comparison under uncertainty of a batch with draws, in the last of the wanted years (None without draws)."""
    from sim.analysis.compare import compare_under_uncertainty, has_draws

    if not has_draws(folder):
        return None
    return compare_under_uncertainty(folder, year=None if years is None else max(years), reference=reference)


@app.command()
def discover(
    folder: Annotated[Path, typer.Argument(help="batch folder with uncertainty draws (draws.csv)")],
    outcome: Annotated[str, typer.Option(help="net_jobs, persons_retained_non_capital or young_women_retained_non_capital")],
    condition: Annotated[
        str, typer.Option(help="e.g. 'korea_2023_regional_plan_mss > japan_style_package' (or beats, <, loses to, a number)")
    ],
    year: Annotated[int | None, typer.Option(help="year of the outcome (default: the last)")] = None,
    min_coverage: Annotated[float, typer.Option(help="the chosen box is the densest with at least this coverage")] = 0.8,
    out: Annotated[Path | None, typer.Option(help="output folder (default: FOLDER/discover/<outcome>-<condition>)")] = None,
) -> None:
    """Scenario discovery (PRIM): the ranges of the uncertain parameters where the condition holds,
    with the peeling trajectory (coverage against density), the chosen box and a figure."""
    import numpy as np

    from sim.analysis.compare import discover_batch, write_discovery

    if not 0 < min_coverage <= 1:
        raise RegsimError(f"--min-coverage: expected a fraction in (0, 1], found {min_coverage}")
    result = discover_batch(folder, outcome, condition, year=year, min_coverage=min_coverage)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{outcome}-{condition}").strip("_")
    target = out or folder / "discover" / slug
    written = write_discovery(result, target)
    found = result.discovery
    console.print(
        f"{condition!r} on {outcome}, {result.year}: holds in {found.cases} of {result.replicates} replicates ({found.share:.0%}); "
        f"chosen box {found.chosen}: coverage {found.coverage:.2f}, density {found.density:.2f}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    box = found.box.drop(columns=["draws_low", "draws_high"]).assign(
        low=[f"{v:.4g}" for v in found.box["low"]],
        high=[f"{v:.4g}" for v in found.box["high"]],
        quasi_p=["–" if np.isnan(v) else f"{v:.2g}" for v in found.box["quasi_p"]],
    )
    console.print(_text_table("Box (parameter ranges; restricted: narrower than the draws, with its quasi-p value)", box))
    console.print(f"wrote {target}/ ({', '.join(path.name for path in written)})", markup=False, highlight=False)


@app.command()
def shock(
    folder: Annotated[Path, typer.Argument(help="batch folder of a labour-demand shock experiment")],
    region: Annotated[str, typer.Option(help="KOSIS code of the shocked province")] = "48",
    years: Annotated[str, typer.Option(help="comma-separated years to print")] = "2024,2030",
    figure: Annotated[Path | None, typer.Option(help="write the decomposition figure (PNG or SVG) here")] = None,
) -> None:
    """How a regional labour-demand shock is absorbed: the paired change in the province's jobs split
    into unemployment, participation, migration and commuting (shares, 95 % intervals over seeds)."""
    from sim.analysis.absorption import COMPONENTS, absorption, shock_figure

    table = absorption(folder, region)
    if table.empty:
        raise RegsimError(f"{folder}: no shock scenario runs with region {region!r}")
    try:
        wanted = [int(year) for year in years.split(",")]
    except ValueError:
        raise RegsimError(f"--years: expected comma-separated years, found {years!r}") from None
    rows = table[table["year"].isin(wanted)]
    shown = rows[["scenario", "year", "seeds"]].copy()
    shown["jobs_change_pct"] = [f"{value:+.2f}" for value in rows["jobs_change_pct"]]
    for name in COMPONENTS:
        shown[name] = [f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}]" for m, lo, hi in rows[[name, f"{name}_low", f"{name}_high"]].to_numpy()]
    console.print(_text_table(f"Absorption of the shock in region {region} (share of the change in jobs)", shown))
    if figure is not None:
        shock_figure(table).savefig(figure, dpi=120)
        console.print(f"wrote {figure}")


@app.command()
def plot(
    folder: Annotated[Path, typer.Argument(help="batch folder (manifest.json and runs/*/)")],
    out: Annotated[Path | None, typer.Option(help="output folder (default: FOLDER/figures)")] = None,
    lang: Annotated[str, typer.Option(help="language of labels and region names: en or ko", callback=_language)] = "en",
    fmt: Annotated[str, typer.Option("--format", help="comma-separated file formats (png, svg, pdf)")] = "png,svg",
) -> None:
    """Figures of a batch for a report: scenarios over time, paired differences, provinces, a tile map, sweeps."""
    from sim.analysis.plots import plot_dir

    written = plot_dir(folder, out=out, lang=lang, formats=_formats("--format", fmt))
    folders = sorted({str(path.parent) for path in written})
    console.print(f"wrote {len(written)} files to {', '.join(folders)}/: {', '.join(path.name for path in written)}", soft_wrap=True)


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="batch, tuning or sensitivity output folder")],
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default: FOLDER/report.html)")] = None,
) -> None:
    """One self-contained HTML file: provenance, comparison table, figures, levers and assumptions."""
    from sim.analysis.report import build_report

    console.print(str(build_report(folder, out)), markup=False, highlight=False, soft_wrap=True)


def _listing(folder: Path) -> str:
    """What a command wrote: the files and folders in ``folder`` (``sim.results.store.FOLDERS`` names them)."""
    return ", ".join(sorted(path.name + ("/" if path.is_dir() else "") for path in Path(folder).iterdir() if not path.name.startswith(".")))


def _text_table(title: str, frame) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(
            str(column), justify="left" if column in ("scenario", "variant", "area", "item", "value") else "right", overflow="fold"
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(str(value) for value in row))
    return table


@app.command()
def tune(
    experiment: Annotated[Path, typer.Argument(help="tuning experiment YAML file (decision variables, budget, objectives)")],
    out: Annotated[Path | None, typer.Option(help="study folder (default: results/<experiment name>); a study there continues")] = None,
    workers: Annotated[int, typer.Option(help="processes (or Dask tasks) sharing the study", callback=_count)] = 1,
    executor: Annotated[str, typer.Option(help="local (processes) or dask", callback=_executor)] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local Dask cluster)")] = None,
) -> None:
    """Tune lever budgets and settings with Optuna (TPE; NSGA-II for several objectives).

    Trials are scored by paired differences against the baseline over the same seeds; the study is
    kept in an SQLite file in the folder, so running the command again continues it.
    """
    from sim.analysis.plots import write_tuning_figures
    from sim.experiments.tuning import tune as run_tuning

    _executor_options(executor, scheduler)
    with _progress("trials") as advance:
        summary = run_tuning(experiment, out=out, workers=workers, executor=executor, scheduler=scheduler, progress=advance)
    write_tuning_figures(summary)
    title = f"Top trials in {summary.out} ({len(summary.trials)} completed, {summary.new_trials} new; trial 0 = the scenario as written)"
    console.print(_frame_table(title, summary.top, digits=1))
    if summary.check is not None:
        console.print(_frame_table("Tuned minus the scenario as written, on fresh seeds (mean and 95 % interval)", summary.check, digits=1))
    console.print(f"wrote {summary.out}/ ({_listing(summary.out)}) in {summary.wall_time_s:.1f} s", markup=False, highlight=False)


@app.command()
def calibrate(
    experiment: Annotated[Path, typer.Argument(help="calibration experiment YAML file (base scenario, years, parameters with bounds)")],
    out: Annotated[Path | None, typer.Option(help="output folder (default: a new folder under results/)")] = None,
    trials: Annotated[
        int | None, typer.Option(help="trials in total, the default parameters included (default: the experiment's)", callback=_count)
    ] = None,
    workers: Annotated[int | None, typer.Option(help="parallel simulations (default: 2, at most the CPU count)", callback=_count)] = None,
    executor: Annotated[str, typer.Option(help="local (processes; one worker: this process) or dask", callback=_executor)] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local Dask cluster)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the study in --out")] = False,
) -> None:
    """Fit behavioural parameters to observed provincial populations and net migration (a back-cast),
    and report the fit and the out-of-sample error against naive forecasts; writes calibrated.yaml
    (a scenario extending the base), calibration.json, fit.csv, trials.csv, calibration.png, study.db."""
    from sim.analysis.plots import write_calibration_figure
    from sim.experiments.calibrate import calibrate as run_calibration
    from sim.experiments.calibrate import load_calibration
    from sim.experiments.experiment import new_results_folder
    from sim.results import store

    _executor_options(executor, scheduler)
    _resume_options(resume, out, "calibration study", store.FOLDERS["calibration"].files["study"])
    loaded = load_calibration(experiment)
    spec = loaded.spec
    folder = out or new_results_folder(loaded.spec.name, kind="calibration")
    with _progress("trials") as advance:
        result = run_calibration(
            loaded,
            folder,
            trials=trials,
            resume=resume,
            workers=workers or min(2, os.cpu_count() or 1),
            progress=advance,
            executor=executor,
            scheduler=scheduler,
        )
    write_calibration_figure(result.out)
    fit, holdout = (f"{years[0]}–{years[1]}" for years in (spec.fit_years, spec.holdout_years))
    table = Table(title=f"Calibration {spec.name}: evaluation seeds {spec.evaluation_seeds}, 1:{spec.scale} (errors in %)")
    headers = (
        "forecast",
        f"loss {fit}",
        f"population MAPE {fit}",
        f"net migration rate MAE {fit}",
        f"population MAPE {holdout} from {spec.start_year}",
        f"population MAPE {holdout} from {spec.fit_years[1]}",
    )
    for header in headers:
        table.add_column(header, justify="left" if header == "forecast" else "right")
    for row in result.table.itertuples(index=False):
        table.add_row(row.forecast, *("–" if math.isnan(value) else f"{value:.3f}" for value in row[1:]))
    console.print(table)
    parameters = Table(title=f"Parameters ({result.trials} trials)")
    for header in ("parameter", "low", "high", "default", "calibrated"):
        parameters.add_column(header, justify="left" if header == "parameter" else "right")
    for parameter in loaded.free:
        parameters.add_row(
            parameter.label,
            f"{parameter.low:.4g}",
            f"{parameter.high:.4g}",
            f"{parameter.default:.4g}",
            f"{result.best[parameter.label]:.4g}",
        )
    console.print(parameters)
    console.print(f"wrote {result.out}/ ({_listing(result.out)}) in {result.wall_time_s:.1f} s", markup=False, highlight=False)


@app.command()
def sensitivity(
    experiment: Annotated[Path, typer.Argument(help="sensitivity experiment YAML file (scenario, parameters with bounds, outcomes)")],
    out: Annotated[Path | None, typer.Option(help="output folder (default: a new folder under results/)")] = None,
    workers: Annotated[int | None, typer.Option(help="parallel runs (default: the CPU count)", callback=_count)] = None,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask", callback=_executor)] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local Dask cluster)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the folder in --out: skip finished runs, re-run failed ones")] = False,
) -> None:
    """Sensitivity of outcomes to behavioural parameters and lever effect sizes: SALib Morris screening
    or Sobol indices over runs of the batch runner (parallel, resumable); writes indices.csv,
    sensitivity.json and sensitivity.png. Exits with status 1 if any run failed."""
    from sim.analysis.plots import write_sensitivity_figure
    from sim.experiments.sensitivity import run_sensitivity
    from sim.results import store

    _executor_options(executor, scheduler)
    _resume_options(resume, out, "batch", store.MANIFEST)
    with _progress("runs") as advance:
        result = run_sensitivity(
            experiment, out=out, workers=workers, executor=executor, scheduler=scheduler, resume=resume, progress=advance
        )
    summary = result.summary
    console.print(
        f"{summary.total} runs: {summary.finished} finished, {summary.skipped} finished before, "
        f"{summary.failed} failed, {summary.wall_time_s:.1f} s",
        markup=False,
        highlight=False,
    )
    if result.indices is None:
        for failure in summary.failures[:20]:
            errors.print(
                f"failed {failure['key']} ({failure['variant']}, seed {failure['seed']}): {failure['error']}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"no indices: fix the failures and continue with --resume --out {summary.out}", markup=False, highlight=False)
        raise typer.Exit(1)
    write_sensitivity_figure(summary.out)
    method = result.design.spec.method
    columns = ("mu_star", "mu_star_conf", "sigma") if method == "morris" else ("S1", "S1_conf", "ST", "ST_conf")
    for name, rows in result.indices.groupby("outcome", sort=False):
        noise_column = "mu_star_noise" if method == "morris" else "noise_share"
        noise = rows[noise_column].iloc[0]
        caption = "one model seed: seed noise not estimated" if math.isnan(noise) else f"seed noise level ({noise_column}): {noise:,.4g}"
        table = Table(title=f"{name} ({method}; {result.design.spec.outcomes[name].label()})", caption=caption)
        for column in ("rank", "parameter", "low", "high", *columns):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for row in rows.itertuples(index=False):
            table.add_row(
                str(row.rank), row.parameter, f"{row.low:.4g}", f"{row.high:.4g}", *(f"{getattr(row, column):,.4g}" for column in columns)
            )
        console.print(table)
    console.print(f"wrote {summary.out}/ ({_listing(summary.out)})", markup=False, highlight=False)


@app.command()
def viz(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file (its levers become the page's controls)")],
    port: Annotated[int, typer.Option(help="localhost port to serve on", callback=_port)] = 5006,
    host: Annotated[str, typer.Option(help="address to bind (127.0.0.1: this machine only)")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="initial seed (a control on the page)", callback=_seed)] = 0,
    scale: Annotated[int | None, typer.Option(help="persons per agent (default: the scenario's)", callback=_count)] = None,
    until: Annotated[int | None, typer.Option(help="last simulated year (default: the scenario's end_year)", callback=_year)] = None,
    show: Annotated[bool, typer.Option("--show/--no-show", help="open the page in the default browser")] = False,
) -> None:
    """Interactive page on localhost: lever and seed controls, baseline and variant side by side
    (population, youth share, employment by province; tile map of the extinction risk index).

    A scenario that fails to validate prints its error here and on the page; fix the file and reload.
    """
    if not scenario.is_file():
        raise RegsimError(f"{scenario}: scenario file not found")
    from sim.analysis.viz import serve  # Panel and Bokeh: imported only for this command
    from sim.results.run import load_scenario

    try:
        load_scenario(scenario, scale=scale, end_year=until)
    except RegsimError as exc:
        errors.print(f"regsim: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        errors.print("regsim viz: the page shows this error; fix the file and reload the page", markup=False, highlight=False)
    serve(scenario, port=port, host=host, seed=seed, scale=scale, until=until, show=show)


if __name__ == "__main__":  # python -m sim.cli, as the regsim command
    main()
