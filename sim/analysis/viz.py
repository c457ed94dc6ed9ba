"""``regsim viz``: an interactive page on localhost (Panel + Bokeh) for one scenario.

Controls for each lever of the scenario (budget, targeting, start year) and the seed; the page
runs the baseline (the scenario without levers) and the variant (with the controls' levers) with
the same seed and shows them side by side: population, youth share and employment by province,
and the tile-grid and geographic maps of provinces coloured by extinction risk index in the last year; above them,
the variant's additionality ledger against the baseline (``sim.results.ledger``).

Panel and Bokeh ship their JavaScript and CSS inside their Python packages and the server serves
them itself, so the page works on a machine without internet (see the README for why not
Mesa's SolaraViz). Each browser session re-reads the scenario file, so a scenario fixed after an
error shows on reload.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import panel as pn
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    DataRange1d,
    HoverTool,
    LinearColorMapper,
)
from bokeh.palettes import RdYlBu11
from bokeh.plotting import figure

from sim.analysis.compare import LEDGER_COST_TEXT, LEDGER_TEXT
from sim.analysis.plots import GRID_COLUMNS, GRID_ROWS, TILE_GRID
from sim.errors import RegsimError
from sim.inputs.scenario import REGION_TYPES, LeverSpec, Scenario
from sim.model.metrics import EXTINCTION_RISK_THRESHOLD, HIGH_EXTINCTION_RISK_THRESHOLD
from sim.results.ledger import ALL
from sim.results.run import RunResult, load_scenario, paired_ledger, run, scenario_from_dict

KRW_PER_BN = 1e9

PROVINCE_CHARTS: dict[str, tuple[str, str]] = {
    # measure: (chart title, y-axis label)
    "population": ("Population by province (start year = 100)", "index"),
    "youth_share": ("Youth share by province (residents aged 20–39)", "% of residents"),
    "employed": ("Employment by province (start year = 100)", "index"),
}
"""Line charts of each side, one line per province."""

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
)
"""One colour per province, in the order of the region codes (17 provinces)."""


@dataclass(frozen=True)
class LeverSetting:
    """The controllable part of one lever: yearly budget, targeting and first year."""

    budget_krw_per_year: float
    """KRW per year (the page shows billions)"""
    region_type: str
    start: int
    """first year the lever spends"""


def lever_settings(scenario: Scenario) -> list[LeverSetting]:
    """The scenario's own lever settings (JPY budgets converted at ``policy.krw_per_jpy``)."""
    krw_per_jpy = scenario.resolved_parameters().policy.krw_per_jpy
    return [
        LeverSetting(budget_krw_per_year=spec.budget_krw(krw_per_jpy), region_type=spec.region_type, start=spec.start)
        for spec in scenario.levers
    ]


def variant_scenario(scenario: Scenario, settings: Sequence[LeverSetting]) -> Scenario:
    """``scenario`` with its levers set to ``settings`` (one per lever, same order), validated.

    Raises ScenarioError naming the lever and field when a setting is invalid (a negative budget,
    a start after the lever's end).
    """
    if len(settings) != len(scenario.levers):
        raise RegsimError(f"expected {len(scenario.levers)} lever settings, found {len(settings)}")
    levers = [
        {
            **spec.model_dump(),
            "budget_krw_per_year": setting.budget_krw_per_year,
            "budget_jpy_per_year": None,
            "region_type": setting.region_type,
            "start": setting.start,
        }
        for spec, setting in zip(scenario.levers, settings)
    ]
    return scenario_from_dict({**scenario.model_dump(), "levers": levers}, source=f"controls of {scenario.name!r}")


def lever_title(spec: LeverSpec) -> str:
    """A lever's name on the page (its label, else its registry name)."""
    return spec.label or spec.lever


def province_lines(regions: pd.DataFrame, measure: str) -> dict[str, list]:
    """Data of a multi-line chart of ``measure`` by province: ``xs`` (years), ``ys`` (% for
    ``youth_share``; counts as an index, the first year = 100), ``region``, ``name``, ``colour``."""
    data: dict[str, list] = {"xs": [], "ys": [], "region": [], "name": [], "colour": []}
    for i, (code, rows) in enumerate(regions.sort_values("year").groupby("region", sort=True)):
        values = rows[measure].astype(float)
        values = 100 * values if measure == "youth_share" else 100 * values / values.iloc[0]
        data["xs"].append(rows["year"].astype(int).tolist())
        data["ys"].append(values.round(4).tolist())
        data["region"].append(str(code))
        data["name"].append(str(rows["region_name"].iloc[0]))
        data["colour"].append(PALETTE[i % len(PALETTE)])
    return data


def tile_map_data(regions: pd.DataFrame, year: int) -> dict[str, list]:
    """Data of the tile-grid map in ``year``: tile position (``x`` west→east, ``y`` north→south
    as negative rows), ``region``, ``name``, extinction risk index ``value`` and its text ``label``."""
    rows = regions[regions["year"] == year].set_index("region")
    data: dict[str, list] = {"x": [], "y": [], "region": [], "name": [], "value": [], "label": []}
    for code, (column, row) in TILE_GRID.items():
        value = float(rows.loc[code, "extinction_risk_index"]) if code in rows.index else float("nan")
        data["x"].append(column + 0.5)
        data["y"].append(-row - 0.5)
        data["region"].append(code)
        data["name"].append(str(rows.loc[code, "region_name"]) if code in rows.index else code)
        data["value"].append(value)
        data["label"].append("–" if pd.isna(value) else f"{value:.2f}")
    return data


PAGE_MAP_TOLERANCE = 0.003
"""Simplification of the province boundaries on the page (degrees, about 300 m): a lighter page."""


@functools.cache
def _province_shapes() -> tuple[list[str], list, list]:
    """Province codes and Bokeh multi-polygon coordinates (xs, ys: polygons → rings → lon or lat) of
    ``sim.analysis.maps.province_geometry``, simplified for the page."""
    from shapely.geometry import MultiPolygon  # shapely and geopandas: only when the page draws the map

    from sim.analysis.maps import province_geometry  # as above

    frame = province_geometry()
    xs, ys = [], []
    for shape in frame.geometry.simplify(PAGE_MAP_TOLERANCE):
        polygons = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
        rings = [[polygon.exterior, *polygon.interiors] for polygon in polygons]
        xs.append([[list(ring.xy[0]) for ring in polygon] for polygon in rings])
        ys.append([[list(ring.xy[1]) for ring in polygon] for polygon in rings])
    return frame["province"].tolist(), xs, ys


def province_map_data(regions: pd.DataFrame, year: int) -> dict[str, list]:
    """Data of the geographic province map in ``year``: ``xs``, ``ys`` (Bokeh multi-polygons, lon/lat),
    ``region``, ``name``, extinction risk index ``value`` and its text ``label``."""
    codes, xs, ys = _province_shapes()
    rows = regions[regions["year"] == year].set_index("region")
    values = [float(rows.loc[code, "extinction_risk_index"]) if code in rows.index else float("nan") for code in codes]
    return {
        "xs": xs,
        "ys": ys,
        "region": codes,
        "name": [str(rows.loc[code, "region_name"]) if code in rows.index else code for code in codes],
        "value": values,
        "label": ["–" if pd.isna(value) else f"{value:.2f}" for value in values],
    }


def national_summary(baseline: pd.DataFrame, variant: pd.DataFrame) -> pd.DataFrame:
    """National measures in the last year: baseline, variant and their difference (same seed)."""
    year = int(variant["year"].max())
    rows = []
    for label, column, factor in (
        ("population (persons)", "population", 1.0),
        ("youth share, aged 20–39 (%)", "youth_share", 100.0),
        ("employed (persons)", "employed", 1.0),
        (f"provinces at extinction risk (index < {EXTINCTION_RISK_THRESHOLD:g})", "regions_at_extinction_risk", 1.0),
        (f"si-gun-gu at extinction risk (index < {EXTINCTION_RISK_THRESHOLD:g})", "municipalities_at_extinction_risk", 1.0),
        (f"si-gun-gu at high extinction risk (index < {HIGH_EXTINCTION_RISK_THRESHOLD:g})", "municipalities_at_high_extinction_risk", 1.0),
    ):
        if column not in variant:  # si-gun-gu counts: runs at resolution sigungu only
            continue
        base = float(baseline.set_index("year").loc[year, column]) * factor
        var = float(variant.set_index("year").loc[year, column]) * factor
        rows.append({"measure": label, "baseline": base, "variant": var, "difference": var - base})
    return pd.DataFrame(rows).rename(columns={"measure": f"national, {year}"})


def summary_text(summary: pd.DataFrame) -> pd.DataFrame:
    """``national_summary`` as display strings: whole persons and provinces, shares to 0.01 %."""
    shown = summary.copy()
    label = shown.columns[0]
    for column in ("baseline", "variant", "difference"):
        sign = "+" if column == "difference" else ""
        shown[column] = [
            f"{value:{sign},.2f}" if "%" in measure else f"{value:{sign},.0f}" for measure, value in zip(shown[label], shown[column])
        ]
    return shown


def ledger_text(ledger: pd.DataFrame) -> pd.DataFrame:
    """The variant's additionality ledger against the baseline in the last year, national: one row
    for the package (all levers) and one per lever (gross jobs, spending and cost per gross job only:
    displacement, leakage and net jobs are not separable per lever, shown as a dash)."""
    if ledger.empty:
        return pd.DataFrame({"lever": []})
    year = int(ledger["year"].max())
    rows = ledger[(ledger["year"] == year) & (ledger["region"] == ALL)]
    table = {f"ledger, {year}": ["all levers (package)" if lever == ALL else lever for lever in rows["lever"]]}
    for header, column, scale, digits in (*LEDGER_TEXT, *LEDGER_COST_TEXT):
        sign = "" if column == "spending_krw" or column.startswith("cost_") else "+"
        table[header] = ["–" if pd.isna(value) else f"{value / scale:{sign},.{digits}f}" for value in rows[column]]
    return pd.DataFrame(table)


@functools.lru_cache(maxsize=8)
def _baseline_run(scenario_json: str, seed: int) -> RunResult:
    """The baseline run, cached by resolved scenario and seed (lever changes do not rerun it); its
    firms' jobs are kept for the ledger."""
    return run(Scenario.model_validate_json(scenario_json), seed=seed, paired_baseline=False, keep_firm_jobs=True)


def simulate_pair(scenario: Scenario, settings: Sequence[LeverSetting], seed: int) -> tuple[RunResult, RunResult]:
    """Run baseline and variant (the controls' levers) with ``seed``: (baseline, variant); the
    variant carries its additionality ledger against the baseline (``variant.ledger``)."""
    variant = variant_scenario(scenario, settings)
    baseline = _baseline_run(scenario.without_levers().model_dump_json(), seed)
    result = run(variant, seed=seed, paired_baseline=False, keep_firm_jobs=True)
    result.ledger = paired_ledger(result, baseline)
    result.firm_jobs = None  # the variant's firm table is not needed any more
    return baseline, result


class VizPage:
    """The page of one browser session: controls, status, and baseline | variant charts."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.runs = 0
        self._running = False
        self._pending = False
        settings = lever_settings(scenario)
        self.seed = pn.widgets.IntInput(name="Seed", value=seed, start=0, css_classes=["control-seed"], width=260)
        self.budgets, self.targets, self.starts = [], [], []
        lever_cards = []
        for i, (spec, setting) in enumerate(zip(scenario.levers, settings)):
            budget = pn.widgets.FloatInput(
                name="Budget (bn KRW per year)",
                value=round(setting.budget_krw_per_year / KRW_PER_BN, 3),
                step=10.0,
                css_classes=[f"control-budget-{i}"],
                width=240,
            )
            target = pn.widgets.Select(
                name="Targeting", value=setting.region_type, options=list(REGION_TYPES), css_classes=[f"control-target-{i}"], width=240
            )
            start = pn.widgets.IntInput(
                name=f"Start year (ends {spec.end})", value=setting.start, step=1, css_classes=[f"control-start-{i}"], width=240
            )
            self.budgets.append(budget)
            self.targets.append(target)
            self.starts.append(start)
            lever_cards.append(pn.Card(budget, target, start, title=lever_title(spec), collapsed=i > 1, width=270))
        for widget in [self.seed, *self.budgets, *self.targets, *self.starts]:
            widget.param.watch(self._rerun, "value")
        self.status = pn.pane.Str("starting…", css_classes=["run-status"])
        self.spinner = pn.indicators.LoadingSpinner(value=True, size=20, name="")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["run-error"], width=270)
        self.summary = pn.pane.DataFrame(None, index=False, css_classes=["national-summary"], sizing_mode="stretch_width")
        self.ledger = pn.pane.DataFrame(None, index=False, css_classes=["ledger-table"], sizing_mode="stretch_width")
        self.charts = _SideBySide(scenario)
        years = f"{scenario.start_year}–{scenario.end_year}, 1 agent = {scenario.scale} persons"
        no_levers = [] if scenario.levers else [pn.pane.Markdown("This scenario has no levers: both sides are the baseline.")]
        self.sidebar = pn.Column(
            pn.pane.Markdown(f"### {scenario.name}\n{scenario.description}\n\n{years}", width=270),
            self.seed,
            *no_levers,
            *lever_cards,
            pn.Row(self.spinner, self.status),
            self.alert,
            width=290,
        )
        ledger_note = pn.pane.Markdown(
            "**Additionality ledger** of the variant against the baseline (same seed): gross jobs in the firms the levers "
            "supported (the same firms in both runs, so deadweight is removed), displacement in the regions the levers reached, "
            "leakage to other regions; gross + displacement + leakage = net national jobs.",
            sizing_mode="stretch_width",
        )
        self.main = pn.Column(self.summary, ledger_note, self.ledger, self.charts.layout, sizing_mode="stretch_width")

    def view(self):
        """The page: a Bootstrap template with the controls in its sidebar."""
        template = pn.template.BootstrapTemplate(title="regsim viz — baseline | variant, same seed", sidebar_width=310)
        template.sidebar.append(self.sidebar)
        template.main.append(self.main)
        self._document = pn.state.curdoc
        pn.state.onload(self._rerun)
        return template

    def settings(self) -> list[LeverSetting]:
        """The lever settings in the controls."""
        return [
            LeverSetting(budget_krw_per_year=float(b.value or 0.0) * KRW_PER_BN, region_type=t.value, start=int(s.value or 0))
            for b, t, s in zip(self.budgets, self.targets, self.starts)
        ]

    async def _rerun(self, *_event) -> None:
        """Run baseline and variant off the server's event loop; control changes during a run
        are coalesced into one more run."""
        if self._running:
            self._pending = True
            return
        self._running = True
        try:
            self._pending = True
            while self._pending:
                self._pending = False
                await self._run_once()
        finally:
            self._running = False

    async def _run_once(self) -> None:
        seed = int(self.seed.value or 0)
        self.spinner.value = True
        self.status.object = f"running… (seed {seed})"
        started = time.perf_counter()
        try:
            baseline, variant = await asyncio.to_thread(simulate_pair, self.scenario, self.settings(), seed)
        except RegsimError as exc:
            self.alert.object = f"**Not run:** {exc}"
            self.alert.visible = True
            self.status.object = "error: see below"
            self.spinner.value = False
            return
        self.runs += 1
        status = f"run {self.runs} done in {time.perf_counter() - started:.1f} s (seed {seed})"
        self._document.add_next_tick_callback(functools.partial(self._show, baseline, variant, status))

    def _show(self, baseline: RunResult, variant: RunResult, status: str) -> None:
        """Put new runs on the page (under the document lock, as Bokeh requires)."""
        self.alert.visible = False
        self.charts.update(baseline.regions, variant.regions)
        self.summary.object = summary_text(national_summary(baseline.national, variant.national))
        self.ledger.object = ledger_text(variant.ledger)
        self.status.object = status
        self.spinner.value = False


class _SideBySide:
    """Bokeh charts of both sides with shared axes: a tile map and three line charts each."""

    SIDES = ("baseline", "variant")

    def __init__(self, scenario: Scenario) -> None:
        years = DataRange1d()
        y_ranges = {measure: DataRange1d() for measure in PROVINCE_CHARTS}
        self.sources: dict[tuple[str, str], ColumnDataSource] = {}
        self.tile_maps = {}
        columns = []
        for side in self.SIDES:
            tiles = ColumnDataSource(tile_map_data(pd.DataFrame(columns=["year", "region"]), 0), name=f"{side}-tiles")
            self.sources[(side, "tiles")] = tiles
            self.tile_maps[side] = _tile_map(tiles, f"{side.capitalize()}: extinction risk index")
            shapes = ColumnDataSource(province_map_data(pd.DataFrame(columns=["year", "region"]), 0), name=f"{side}-map")
            self.sources[(side, "map")] = shapes
            figures = [self.tile_maps[side], _province_map(shapes, f"{side.capitalize()}: extinction risk index by province")]
            for measure, (title, unit) in PROVINCE_CHARTS.items():
                source = ColumnDataSource({"xs": [], "ys": [], "region": [], "name": [], "colour": []}, name=f"{side}-{measure}")
                self.sources[(side, measure)] = source
                figures.append(_line_chart(source, title, unit, years, y_ranges[measure]))
            heading = "Baseline (no levers)" if side == "baseline" else f"Variant: {scenario.name} with the controls' levers"
            columns.append(
                pn.Column(pn.pane.Markdown(f"#### {heading}"), *(pn.pane.Bokeh(f) for f in figures), css_classes=[f"side-{side}"])
            )
        self.layout = pn.Row(*columns, sizing_mode="stretch_width")

    def update(self, baseline: pd.DataFrame, variant: pd.DataFrame) -> None:
        """Show new runs of both sides (tile maps in the last year)."""
        year = int(variant["year"].max())
        for side, regions in zip(self.SIDES, (baseline, variant)):
            self.sources[(side, "tiles")].data = tile_map_data(regions, year)
            self.sources[(side, "map")].data = province_map_data(regions, year)
            self.tile_maps[side].title.text = f"{side.capitalize()}: extinction risk index, {year}"
            for measure in PROVINCE_CHARTS:
                self.sources[(side, measure)].data = province_lines(regions, measure)


def _tile_map(source, title: str):
    """The tile-grid map (sim.analysis.plots.TILE_GRID) coloured by extinction risk index, red below 0.5."""
    mapper = LinearColorMapper(palette=list(reversed(RdYlBu11)), low=0.0, high=2 * EXTINCTION_RISK_THRESHOLD, nan_color="lightgrey")
    plot = figure(title=title, width=470, height=470, x_range=(0, GRID_COLUMNS), y_range=(-GRID_ROWS, 0), toolbar_location=None, tools="")
    tiles = plot.rect(
        "x", "y", width=0.95, height=0.95, source=source, line_color="white", fill_color={"field": "value", "transform": mapper}
    )
    plot.text("x", "y", text="name", source=source, text_align="center", text_baseline="bottom", text_font_size="9pt")
    plot.text("x", "y", text="label", source=source, text_align="center", text_baseline="top", text_font_size="9pt", y_offset=2)
    plot.add_tools(HoverTool(renderers=[tiles], tooltips=[("province", "@name"), ("risk index", "@label")]))
    plot.add_layout(
        ColorBar(color_mapper=mapper, width=10, title=f"women 20–39 / persons 65+ (< {EXTINCTION_RISK_THRESHOLD:g}: at risk)"), "right"
    )
    plot.axis.visible = False
    plot.grid.visible = False
    return plot


def _province_map(source, title: str):
    """The provinces' boundaries (sim.analysis.maps; KOSTAT SGIS, KOGL Type 1) coloured by extinction risk index, red below 0.5."""
    mapper = LinearColorMapper(palette=list(reversed(RdYlBu11)), low=0.0, high=2 * EXTINCTION_RISK_THRESHOLD, nan_color="lightgrey")
    plot = figure(title=title, width=470, height=520, toolbar_location=None, tools="", match_aspect=True)
    shapes = plot.multi_polygons(
        "xs", "ys", source=source, line_color="white", line_width=0.8, fill_color={"field": "value", "transform": mapper}
    )
    plot.add_tools(HoverTool(renderers=[shapes], tooltips=[("province", "@name"), ("risk index", "@label")]))
    plot.add_layout(
        ColorBar(color_mapper=mapper, width=10, title=f"women 20–39 / persons 65+ (< {EXTINCTION_RISK_THRESHOLD:g}: at risk)"), "right"
    )
    plot.text(x=[124.6], y=[33.0], text=["Boundaries: KOSTAT SGIS (2018), KOGL Type 1"], text_font_size="7pt", text_color="dimgrey")
    plot.axis.visible = False
    plot.grid.visible = False
    return plot


def _line_chart(source, title: str, unit: str, x_range, y_range):
    """One line per province; hover names the province."""
    plot = figure(
        title=title, width=520, height=250, x_range=x_range, y_range=y_range, tools="pan,wheel_zoom,reset", toolbar_location="right"
    )
    lines = plot.multi_line("xs", "ys", line_color="colour", source=source, line_width=1.5)
    plot.add_tools(HoverTool(renderers=[lines], tooltips=[("province", "@name"), ("year", "$x{0}"), ("value", "$y{0.0}")]))
    plot.xaxis.axis_label = "year (31 December)"
    plot.yaxis.axis_label = unit
    return plot


def error_page(message: str):
    """The page when the scenario cannot be loaded: the message, and how to retry."""
    return pn.Column(
        pn.pane.Markdown("## regsim viz"),
        pn.pane.Alert(
            f"**The scenario could not be loaded.**\n\n{message}\n\nFix the file and reload this page.",
            alert_type="danger",
            css_classes=["run-error"],
        ),
    )


def page_factory(path: Path, seed: int, scale: int | None, until: int | None) -> Callable[[], object]:
    """A function building one session's page; the scenario file is re-read for every session."""

    def build():
        try:
            scenario = load_scenario(path, scale=scale, end_year=until)
        except RegsimError as exc:
            return error_page(str(exc))
        return VizPage(scenario, seed).view()

    return build


def serve(path: Path, port: int, host: str, seed: int, scale: int | None, until: int | None, show: bool) -> None:
    """Serve the page at http://host:port/ until interrupted (Panel prints the address; ``show``
    opens it in the default browser). The Bokeh server serves Bokeh's and Panel's JS and CSS from
    their packages: no CDN (tests/browser/test_viz_page.py blocks every other host)."""
    try:
        server = pn.serve(
            {"/": page_factory(path, seed, scale, until)},
            port=port,
            address=host,
            show=show,
            start=False,
            title="regsim viz",
            websocket_origin=[f"{host}:{port}", f"localhost:{port}"],
            threaded=False,
        )
    except OSError as exc:
        raise RegsimError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    server.start()
    server.io_loop.start()
