"""Figures (matplotlib). Each function returns a Figure; callers decide where to save it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SUMMARY_FIGURE = "summary.png"
"""The figure ``regsim run`` draws beside a run's tables (``run_summary_figure``)."""


def run_summary_figure(result) -> Figure:
    """Four panels of one run: population, capital-region share, provinces at extinction risk, employment."""
    national = result.national
    regions = result.regions
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    meta = result.metadata
    figure.suptitle(f"{meta['scenario']} — seed {meta['seed']}, 1 agent = {meta['scale']} persons")

    axes[0, 0].plot(national["year"], national["population"] / 1e6, color="tab:blue")
    axes[0, 0].set(title="National population", ylabel="million persons")

    axes[0, 1].plot(national["year"], 100 * national["capital_region_share"], color="tab:red")
    axes[0, 1].set(title="Capital-region share of population", ylabel="% (Seoul, Incheon, Gyeonggi)")

    axes[1, 0].step(
        national["year"], national["regions_at_extinction_risk"], where="post", label=f"index < {EXTINCTION_RISK_THRESHOLD:g} (at risk)"
    )
    axes[1, 0].step(
        national["year"],
        national["regions_at_high_extinction_risk"],
        where="post",
        label=f"index < {HIGH_EXTINCTION_RISK_THRESHOLD:g} (high risk)",
    )
    axes[1, 0].set(title="Provinces by extinction risk index", ylabel="provinces")
    axes[1, 0].legend(loc="upper left")
    if "municipalities_at_extinction_risk" in national:  # resolution sigungu: the 229 si-gun-gu on a second axis
        municipal = axes[1, 0].twinx()
        municipal.step(
            national["year"],
            national["municipalities_at_extinction_risk"],
            where="post",
            color="tab:purple",
            ls="--",
            label=f"si-gun-gu < {EXTINCTION_RISK_THRESHOLD:g}",
        )
        municipal.step(
            national["year"],
            national["municipalities_at_high_extinction_risk"],
            where="post",
            color="tab:brown",
            ls="--",
            label=f"si-gun-gu < {HIGH_EXTINCTION_RISK_THRESHOLD:g}",
        )
        municipal.set(ylabel="si-gun-gu (of 229)", ylim=(0, 229))
        municipal.legend(loc="lower right")
        axes[1, 0].set_title("Provinces and si-gun-gu by extinction risk index")

    start = regions["year"].min()
    base = regions[regions["year"] == start].set_index("region")["employed"].astype(float)
    for code, rows in regions.groupby("region"):
        axes[1, 1].plot(rows["year"], 100 * rows["employed"].astype(float) / base[code], lw=0.8, alpha=0.7)
    axes[1, 1].plot(
        national["year"],
        100 * national["employed"].astype(float) / float(national["employed"].iloc[0]),
        color="black",
        lw=2,
        label="national",
    )
    axes[1, 1].set(title=f"Employment by province ({start} = 100)", ylabel="index")
    axes[1, 1].legend(loc="lower left")
    for axis in axes.flat:
        axis.set_xlabel("year (31 December)")
        axis.grid(alpha=0.3)
    return figure


# --- batch figures ---------------------------------------------------------------------------------
# Figures of a batch folder (see sim.analysis.compare): scenarios over time with 95 % bands over seeds, paired
# differences against the reference, provinces as small multiples and as a tile-grid map, and the
# response to swept parameters. Every function takes an opened Batch (or a folder) and ``lang``.

import importlib.util  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sim.analysis.compare import (  # noqa: E402
    ASSUMPTION,
    OUTCOMES,
    POLICY,
    Batch,
    area_label,
    group_label,
    ledger_by_area,
    open_batch,
    region_names,
    summarise,
)
from sim.errors import ArgumentError, RegsimError  # noqa: E402
from sim.experiments.calibrate import FORECASTS  # noqa: E402
from sim.model.metrics import EXTINCTION_RISK_THRESHOLD, HIGH_EXTINCTION_RISK_THRESHOLD  # noqa: E402
from sim.results.store import FOLDERS, read_output  # noqa: E402

LANGS = ("en", "ko")
FORMATS = ("png", "svg")

TILE_GRID: dict[str, tuple[int, int]] = {
    # region code: (column west→east, row north→south); an approximation of Korea's geography
    "28": (0, 0),
    "11": (1, 0),
    "42": (2, 0),
    "44": (0, 1),
    "41": (1, 1),
    "43": (2, 1),
    "47": (3, 1),
    "45": (0, 2),
    "36": (1, 2),
    "30": (2, 2),
    "27": (3, 2),
    "29": (0, 3),
    "46": (1, 3),
    "48": (2, 3),
    "31": (3, 3),
    "50": (0, 4),
    "26": (3, 4),
}
"""Tile-grid layout of the 17 provinces: Seoul, Incheon and Gyeonggi top left, Gangwon top right, Jeju bottom left."""
GRID_COLUMNS, GRID_ROWS = 4, 5

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "year": "year (31 December)",
        "population": "National population",
        "population_unit": "million persons",
        "capital_share": "Capital-region share of population",
        "capital_share_unit": "% (Seoul, Incheon, Gyeonggi)",
        "employed": "Employment",
        "employed_unit": "million persons employed",
        "provinces_at_risk": f"Provinces at extinction risk (index < {EXTINCTION_RISK_THRESHOLD:g})",
        "provinces_unit": "provinces",
        "municipalities_at_risk": f"Si-gun-gu at extinction risk (index < {EXTINCTION_RISK_THRESHOLD:g})",
        "municipalities_unit": "si-gun-gu (of 229)",
        "municipalities_at_risk_diff": "Si-gun-gu at extinction risk, difference",
        "timeseries": "Scenarios over time (mean over seeds, 95 % interval)",
        "differences": "Paired differences against {ref} (same seed; mean over seeds, 95 % interval)",
        "population_diff": "Population retained",
        "capital_population_diff": "Capital-region population, difference",
        "jobs_created": "Jobs created",
        "provinces_at_risk_diff": "Provinces at extinction risk, difference",
        "persons": "persons",
        "no_variants": "no scenario besides the reference",
        "population_index": "Population by province ({start} = 100; mean over seeds)",
        "population_index_unit": "index",
        "extinction_risk_index": "Extinction risk index by province (women 20–39 / persons 65+; mean over seeds)",
        "risk_unit": "index",
        "risk_threshold": f"at-risk threshold {EXTINCTION_RISK_THRESHOLD:g}",
        "tile_diff": "Change in extinction risk index against {ref}, {year} (mean over seeds)",
        "tile_level": "Extinction risk index, {year} (mean over seeds)",
        "tile_diff_unit": "Δ index (women 20–39 / persons 65+)",
        "tile_level_unit": "index (women 20–39 / persons 65+)",
        "sweep": "Response to swept parameters, {year}: {outcome} (mean over seeds)",
        "sweep_band": "95 % interval",
        "reference": "reference",
        "assumptions": "Assumption variants (no levers): paired differences against {ref} (same seed; mean over seeds, 95 % interval)",
        "no_policies": "no policy (scenario with levers) besides the reference",
        "ledger": "Additionality ledger of each policy, {year}: national, targeted regions and the rest\n(against its own lever-free baseline; mean over seeds, 95 % interval)",
        "ledger_measures": "gross jobs|displacement|leakage|net jobs",
        "national": "national",
        "tile_diff_assumptions": "Assumption variants: change in extinction risk index against {ref}, {year} (mean over seeds)",
    },
    "ko": {
        "year": "연도 (12월 31일)",
        "population": "전국 인구",
        "population_unit": "백만 명",
        "capital_share": "수도권 인구 비중",
        "capital_share_unit": "% (서울·인천·경기)",
        "employed": "취업자",
        "employed_unit": "백만 명",
        "provinces_at_risk": f"소멸위험 시도 수 (지수 < {EXTINCTION_RISK_THRESHOLD:g})",
        "provinces_unit": "시도 수",
        "municipalities_at_risk": f"소멸위험 시군구 수 (지수 < {EXTINCTION_RISK_THRESHOLD:g})",
        "municipalities_unit": "시군구 수 (229개 중)",
        "municipalities_at_risk_diff": "소멸위험 시군구 수 차이",
        "timeseries": "시나리오별 추이 (시드 평균, 95% 구간)",
        "differences": "{ref} 대비 대응 차이 (같은 시드; 시드 평균, 95% 구간)",
        "population_diff": "인구 유지 효과",
        "capital_population_diff": "수도권 인구 차이",
        "jobs_created": "일자리 창출",
        "provinces_at_risk_diff": "소멸위험 시도 수 차이",
        "persons": "명",
        "no_variants": "기준 외 시나리오 없음",
        "population_index": "시도별 인구 ({start} = 100; 시드 평균)",
        "population_index_unit": "지수",
        "extinction_risk_index": "시도별 지방소멸위험지수 (20–39세 여성 / 65세 이상; 시드 평균)",
        "risk_unit": "지수",
        "risk_threshold": f"소멸위험 기준 {EXTINCTION_RISK_THRESHOLD:g}",
        "tile_diff": "{ref} 대비 지방소멸위험지수 변화, {year}년 (시드 평균)",
        "tile_level": "지방소멸위험지수, {year}년 (시드 평균)",
        "tile_diff_unit": "지수 변화 (20–39세 여성 / 65세 이상)",
        "tile_level_unit": "지수 (20–39세 여성 / 65세 이상)",
        "sweep": "매개변수 스윕 반응, {year}년: {outcome} (시드 평균)",
        "sweep_band": "95% 구간",
        "reference": "기준",
        "assumptions": "가정 변형 (정책 수단 없음): {ref} 대비 대응 차이 (같은 시드; 시드 평균, 95% 구간)",
        "no_policies": "기준 외 정책 시나리오 없음",
        "ledger": "정책별 추가성 원장, {year}년: 전국, 대상 지역과 그 밖\n(정책 수단 없는 기준 대비; 시드 평균, 95% 구간)",
        "ledger_measures": "총 일자리|대체|누출|순 일자리",
        "national": "전국",
        "tile_diff_assumptions": "가정 변형: {ref} 대비 지방소멸위험지수 변화, {year}년 (시드 평균)",
    },
}


def korean_font() -> str:
    """Register the NanumGothic font bundled with koreanize-matplotlib and return its family name.

    The fonts are added directly: ``import koreanize_matplotlib`` 0.1.1 needs ``distutils``,
    which Python 3.12 no longer has.
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ArgumentError("lang", "ko needs the koreanize-matplotlib package (pip install koreanize-matplotlib)")
    fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in sorted(fonts.glob("*.ttf")):
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    return "NanumGothic"


@contextmanager
def _language(lang: str):
    if lang not in LANGS:
        raise ArgumentError("lang", f"expected one of {', '.join(LANGS)}, found {lang!r}")
    if lang == "ko":
        # DejaVu Sans (matplotlib's own) as fallback for glyphs NanumGothic lacks, e.g. the minus sign
        with matplotlib.rc_context({"font.family": [korean_font(), "DejaVu Sans"], "axes.unicode_minus": False}):
            yield
    else:
        yield


def _batch(batch):
    return batch if isinstance(batch, Batch) else open_batch(batch)


def _group_labels(table: pd.DataFrame, batch) -> pd.Series:
    """One label per scenario (and sweep point): "scenario" or "scenario / variant"."""
    labels = table["scenario"].astype(str)
    variant = table["variant"].fillna("").astype(str)
    return labels.where((variant == "") | (variant == labels), labels + " / " + variant)


def _line_styles(table: pd.DataFrame, batch) -> dict[str, str]:
    """Label -> line style: dashed for assumption variants (no levers), solid otherwise."""
    kinds = batch.kind_column(table)
    return {label: ("--" if kind == ASSUMPTION else "-") for label, kind in zip(table["label"], kinds)}


def _colours(labels: list[str], reference: str) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    others = [label for label in labels if label != reference]
    colours = {label: cycle[i % len(cycle)] for i, label in enumerate(others)}
    return {reference: "black", **colours} if reference in labels else colours


def _band(axis, frame: pd.DataFrame, column: str, label: str, colour: str, scale: float = 1.0, style: str = "-") -> None:
    years = frame["year"].to_numpy()
    axis.plot(years, frame[f"{column}_mean"] / scale, color=colour, lw=1.8, label=label, ls=style)
    low, high = frame[f"{column}_low"] / scale, frame[f"{column}_high"] / scale
    if low.notna().any():
        axis.fill_between(years, low, high, color=colour, alpha=0.18, lw=0)


def timeseries_figure(batch, lang: str = "en") -> Figure:
    """National population, capital-region share, employment and provinces at risk per scenario over time."""
    batch = _batch(batch)
    text = TEXT[lang]
    with _language(lang):
        table = batch.outcomes.assign(label=lambda t: _group_labels(t, batch))
        table["capital_share"] = 100 * table["capital_share"]
        panels = [
            ("population", text["population"], text["population_unit"], 1e6),
            ("capital_share", text["capital_share"], text["capital_share_unit"], 1.0),
            ("employed", text["employed"], text["employed_unit"], 1e6),
            _risk_panel(table, text, 1.0),
        ]
        summary = summarise(table, [column for column, *_ in panels], by=["label", "year"])
        labels = list(dict.fromkeys(summary["label"]))
        colours = _colours(labels, batch.reference)
        styles = _line_styles(table, batch)
        figure, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
        figure.suptitle(text["timeseries"])
        for axis, (column, title, unit, scale) in zip(axes.flat, panels):
            for label in labels:
                rows = summary[summary["label"] == label]
                _band(axis, rows, column, label, colours[label], scale, styles.get(label, "-"))
            axis.set(title=title, ylabel=unit, xlabel=text["year"])
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.grid(alpha=0.3)
        axes[0, 0].legend(loc="best", fontsize="small")
    return figure


def _risk_panel(outcomes: pd.DataFrame, text: dict[str, str], scale: float | None = None) -> tuple:
    """The panel of extinction-risk counts: si-gun-gu when the runs have them (resolution sigungu),
    otherwise provinces; (column, title, unit[, scale]) of the level, or of the difference without ``scale``."""
    level = "municipalities_at_risk" if outcomes["municipalities_at_risk"].notna().any() else "provinces_at_risk"
    unit = text["municipalities_unit" if level.startswith("municipalities") else "provinces_unit"]
    if scale is None:
        return (f"{level}_diff", text[f"{level}_diff"], unit)
    return (level, text[level], unit, scale)


def differences_figure(batch, lang: str = "en", kind: str = "policy") -> Figure:
    """Paired differences against the reference over time: population retained, capital-region
    population, jobs created and provinces at risk, with 95 % bands over seeds; the scenarios of
    one ``kind`` only (``policy``, the default, or ``assumption``: ``sim.analysis.compare.classify``), so that
    each kind has its own scales."""
    batch = _batch(batch)
    text = TEXT[lang]
    with _language(lang):
        table = batch.outcomes
        table = table[table["scenario"] != batch.reference]
        table = table[batch.kind_column(table) == kind].assign(label=lambda t: _group_labels(t, batch))
        panels = [
            ("population_diff", text["population_diff"], text["persons"]),
            ("capital_population_diff", text["capital_population_diff"], text["persons"]),
            ("jobs_created", text["jobs_created"], text["persons"]),
            _risk_panel(table, text),
        ]
        figure, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
        figure.suptitle(text["assumptions" if kind == ASSUMPTION else "differences"].format(ref=batch.reference))
        labels = list(dict.fromkeys(table["label"]))
        colours = _colours(labels, batch.reference)
        style = "--" if kind == ASSUMPTION else "-"
        summary = summarise(table, [column for column, *_ in panels], by=["label", "year"]) if labels else None
        for axis, (column, title, unit) in zip(axes.flat, panels):
            axis.axhline(0, color="black", lw=0.8)
            for label in labels:
                _band(axis, summary[summary["label"] == label], column, label, colours[label], style=style)
            if not labels:
                empty = text["no_policies"] if batch.kinds and kind != ASSUMPTION and len(batch.scenarios) > 1 else text["no_variants"]
                axis.text(0.5, 0.5, empty, transform=axis.transAxes, ha="center", va="center", color="grey")
            axis.set(title=title, ylabel=unit, xlabel=text["year"])
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.grid(alpha=0.3)
        if labels:
            axes[0, 0].legend(loc="best", fontsize="small")
    return figure


def ledger_figure(batch, year: int | None = None, lang: str = "en") -> Figure | None:
    """Each policy's additionality ledger in ``year`` (default: the last): gross jobs, displacement,
    leakage and net jobs as bars with 95 % intervals over seeds, nationally and in the targeted
    regions beside the rest (``sim.analysis.compare.ledger_by_area``); one panel per policy, each with its own
    scale. None without policies that carry a ledger."""
    batch = _batch(batch)
    text = TEXT[lang]
    ledger = ledger_by_area(batch, years=None)
    if ledger.empty:
        return None
    year = int(ledger["year"].max()) if year is None else int(year)
    ledger = ledger[ledger["year"] == year]
    if ledger.empty:
        raise RegsimError(f"year {year} is outside the runs")
    measures = ["gross_jobs", "displacement_jobs", "leakage_jobs", "net_jobs"]
    names = text["ledger_measures"].split("|")
    groups = ["scenario", "variant", *batch.sweep]
    panels = [rows for _, rows in ledger.groupby(groups, sort=False, dropna=False)]
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    area_colours = {"national": "dimgrey", "targeted": "tab:orange", "rest": "tab:blue"}
    with _language(lang):
        figure, grid = plt.subplots(nrows, ncols, figsize=(5.2 * ncols + 0.6, 4.2 * nrows), constrained_layout=True, squeeze=False)
        for spare in grid.flat[len(panels) :]:
            spare.axis("off")
        for axis, rows in zip(grid.flat, panels):
            rows = rows.set_index("area")
            areas = list(rows.index)
            width = 0.8 / len(areas)
            for i, area in enumerate(areas):
                row = rows.loc[area]
                means = np.array([row[f"{m}_mean"] for m in measures], dtype=float)
                low = np.array([row[f"{m}_low"] for m in measures], dtype=float)
                high = np.array([row[f"{m}_high"] for m in measures], dtype=float)
                errors = np.vstack([means - low, high - means]) if not np.isnan(low).all() else None
                label = (
                    text["national"] if area == "national" else area_label(area, row["targeted_regions"], ledger.attrs.get("regions", []))
                )
                axis.bar(
                    np.arange(len(measures)) + (i - (len(areas) - 1) / 2) * width,
                    means,
                    width,
                    yerr=errors,
                    capsize=3,
                    color=area_colours.get(area, "grey"),
                    label=label,
                    gid=f"ledger-{area}",
                )
            first = rows.iloc[0]
            axis.axhline(0, color="black", lw=0.8)
            axis.set_xticks(range(len(measures)), names)
            axis.set(title=group_label(first["scenario"], first["variant"]), ylabel=text["persons"])
            axis.grid(alpha=0.3, axis="y")
            axis.legend(fontsize="x-small", loc="best")
        figure.suptitle(text["ledger"].format(year=year))
    return figure


def _tile_axes(figure: Figure, grid_spec):
    """One axis per province at its tile position (and the free slots of the last row for a legend)."""
    axes = {}
    for code, (column, row) in TILE_GRID.items():
        axes[code] = figure.add_subplot(grid_spec[row, column])
    spare = figure.add_subplot(grid_spec[GRID_ROWS - 1, 1:3])
    spare.axis("off")
    return axes, spare


def province_figure(batch, measure: str = "population_index", lang: str = "en") -> Figure:
    """Small multiples, one panel per province at its tile-grid position: ``population_index``
    (start year = 100) or ``extinction_risk_index``, one line per scenario (mean over seeds)."""
    if measure not in ("population_index", "extinction_risk_index"):
        raise RegsimError(f"province measure: expected population_index or extinction_risk_index, found {measure!r}")
    batch = _batch(batch)
    text = TEXT[lang]
    names = region_names(lang)
    with _language(lang):
        table = batch.regions(["population", "extinction_risk_index"]).assign(label=lambda t: _group_labels(t, batch))
        start = int(table["year"].min())
        if measure == "population_index":
            base = table[table["year"] == start].set_index(["run_key", "region"])["population"]
            table["value"] = 100 * table["population"] / base.reindex(pd.MultiIndex.from_frame(table[["run_key", "region"]])).to_numpy()
            title, unit = text["population_index"].format(start=start), text["population_index_unit"]
        else:
            table["value"] = table["extinction_risk_index"]
            title, unit = text["extinction_risk_index"], text["risk_unit"]
        means = table.groupby(["label", "region", "year"], sort=False)["value"].mean().reset_index()
        labels = list(dict.fromkeys(means["label"]))
        colours = _colours(labels, batch.reference)
        styles = _line_styles(table.drop_duplicates("label"), batch)
        figure = plt.figure(figsize=(12, 12), constrained_layout=True)
        figure.suptitle(title)
        grid = figure.add_gridspec(GRID_ROWS, GRID_COLUMNS)
        axes, spare = _tile_axes(figure, grid)
        for code, axis in axes.items():
            rows = means[means["region"] == code]
            for label in labels:
                line = rows[rows["label"] == label]
                axis.plot(line["year"], line["value"], color=colours[label], lw=1.5, label=label, ls=styles.get(label, "-"))
            if measure == "extinction_risk_index":
                axis.axhline(EXTINCTION_RISK_THRESHOLD, color="grey", lw=0.8, ls="--", label=text["risk_threshold"])
            axis.set_title(names.get(code, code), fontsize="medium")
            axis.set_ylabel(unit, fontsize="small")
            axis.tick_params(labelsize="x-small")
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.grid(alpha=0.3)
        handles, legend_labels = next(iter(axes.values())).get_legend_handles_labels()
        spare.legend(handles, legend_labels, loc="center", fontsize="small")
    return figure


def tile_map_figure(
    batch, measure: str = "extinction_risk_index", year: int | None = None, lang: str = "en", kind: str | None = None
) -> Figure:
    """Tile-grid map of the 17 provinces coloured by the change in ``measure`` against the
    reference (same seed, mean over seeds) in ``year`` (default: the last), one map per scenario;
    with the reference alone, its level. ``kind`` (``policy`` or ``assumption``) keeps the scenarios
    of that kind only, so that the colour scale is theirs. Tiles carry the region's name and value;
    each tile rectangle has gid ``tile-<code>``."""
    batch = _batch(batch)
    text = TEXT[lang]
    names = region_names(lang)
    with _language(lang):
        table = batch.regions([measure])
        year = int(table["year"].max()) if year is None else int(year)
        table = table[table["year"] == year].assign(label=lambda t: _group_labels(t, batch))
        if table.empty:
            raise RegsimError(f"year {year} is outside the runs")
        variants = table[table["scenario"] != batch.reference]
        if kind is not None:
            variants = variants[batch.kind_column(variants) == kind]
        diff = not variants.empty
        if diff:
            values = variants.assign(value=variants[measure] - variants[f"{measure}_ref"])
        else:
            values = table.assign(value=table[measure])
        means = values.groupby(["label", "region"], sort=False)["value"].mean().reset_index()
        labels = list(dict.fromkeys(means["label"]))
        ncols = min(len(labels), 4)
        nrows = -(-len(labels) // ncols)
        figure, grid = plt.subplots(nrows, ncols, figsize=(4.2 * ncols + 1.2, 5.6 * nrows), constrained_layout=True, squeeze=False)
        axes = grid.reshape(1, -1)
        for spare in axes[0][len(labels) :]:
            spare.axis("off")
        if diff:
            bound = float(np.nanmax(np.abs(means["value"]))) or 1e-3
            digits = min(6, max(2, 1 - int(np.floor(np.log10(bound)))))
            norm = TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound)
            cmap, unit = plt.get_cmap("RdBu"), text["tile_diff_unit"]
            title = "tile_diff_assumptions" if kind == "assumption" else "tile_diff"
            figure.suptitle(text[title].format(ref=batch.reference, year=year))
        else:
            low, high = float(means["value"].min()), float(means["value"].max())
            norm = TwoSlopeNorm(vcenter=0.5, vmin=min(low, 0.49), vmax=max(high, 0.51))
            cmap, unit = plt.get_cmap("RdYlBu"), text["tile_level_unit"]
            digits = 2
            figure.suptitle(text["tile_level"].format(year=year))
        for axis, label in zip(axes[0], labels):
            values_by_region = means[means["label"] == label].set_index("region")["value"]
            for code, (column, row) in TILE_GRID.items():
                value = values_by_region.get(code, np.nan)
                colour = "lightgrey" if pd.isna(value) else cmap(norm(value))
                tile = Rectangle((column, -row), 0.95, 0.95, facecolor=colour, edgecolor="white", lw=1.5, gid=f"tile-{code}")
                axis.add_patch(tile)
                shade = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] if not isinstance(colour, str) else 0.8
                ink = "black" if shade > 0.5 else "white"
                number = "–" if pd.isna(value) else (f"{value:+.{digits}f}" if diff else f"{value:.2f}")
                axis.text(
                    column + 0.475, -row + 0.58, names.get(code, code), ha="center", va="center", fontsize=8, color=ink, gid=f"label-{code}"
                )
                axis.text(column + 0.475, -row + 0.3, number, ha="center", va="center", fontsize=8, color=ink)
            axis.set(xlim=(-0.1, GRID_COLUMNS), ylim=(-GRID_ROWS + 0.9, 1.05), aspect="equal")
            axis.set_title(label.replace(" / ", "\n"), fontsize="medium")
            axis.axis("off")
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        figure.colorbar(mappable, ax=grid.ravel().tolist(), shrink=0.6, label=unit)
    return figure


def sweep_figure(batch, outcome: str = "jobs_created", year: int | None = None, lang: str = "en") -> Figure | None:
    """Response of ``outcome`` (a column of ``Batch.outcomes``, default jobs created against the
    reference) in ``year`` (default: the last) to the swept parameters: a line with a 95 % band for
    one parameter, a heatmap of the mean for two (further parameters are averaged over). None
    without sweep columns that vary."""
    batch = _batch(batch)
    text = TEXT[lang]
    table = batch.outcomes
    table = table[table["scenario"] != batch.reference]
    swept = [name for name in batch.sweep if table[name].nunique(dropna=True) > 1]
    if not swept:
        return None
    year = int(table["year"].max()) if year is None else int(year)
    table = table[table["year"] == year]
    label_of = {diff: label for _, (diff, label, _) in OUTCOMES.items()} | {level: label for level, (_, label, _) in OUTCOMES.items()}
    unit_of = {diff: unit for _, (diff, _, unit) in OUTCOMES.items()} | {level: unit for level, (_, _, unit) in OUTCOMES.items()}
    name = text.get(outcome, label_of.get(outcome, outcome))
    unit = unit_of.get(outcome, "")
    scenarios = list(dict.fromkeys(table["scenario"]))
    with _language(lang):
        if len(swept) == 1:
            parameter = swept[0]
            summary = summarise(table, [outcome], by=["scenario", parameter]).sort_values(parameter)
            figure, axis = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
            colours = _colours(scenarios, batch.reference)
            for scenario in scenarios:
                rows = summary[summary["scenario"] == scenario]
                axis.plot(rows[parameter], rows[f"{outcome}_mean"], marker="o", color=colours[scenario], label=scenario)
                if rows[f"{outcome}_low"].notna().any():
                    axis.fill_between(
                        rows[parameter], rows[f"{outcome}_low"], rows[f"{outcome}_high"], color=colours[scenario], alpha=0.18, lw=0
                    )
            axis.axhline(0, color="black", lw=0.8)
            axis.set(xlabel=parameter, ylabel=f"{name} ({unit})" if unit else name)
            axis.grid(alpha=0.3)
            axis.legend(fontsize="small", title=text["sweep_band"])
        else:
            x, y = swept[:2]
            figure, axes = plt.subplots(1, len(scenarios), figsize=(6.5 * len(scenarios), 5.5), constrained_layout=True, squeeze=False)
            for axis, scenario in zip(axes[0], scenarios):
                grid = table[table["scenario"] == scenario].pivot_table(index=y, columns=x, values=outcome, aggfunc="mean").sort_index()
                image = axis.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
                axis.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
                axis.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
                for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
                    if not np.isnan(value):
                        axis.text(
                            j,
                            i,
                            f"{value:,.0f}" if abs(value) >= 10 else f"{value:.2g}",
                            ha="center",
                            va="center",
                            fontsize=8,
                            color="white",
                        )
                axis.set(xlabel=x, ylabel=y, title=scenario)
                figure.colorbar(image, ax=axis, label=f"{name} ({unit})" if unit else name)
        figure.suptitle(text["sweep"].format(year=year, outcome=name))
    return figure


def plot_dir(folder, out=None, lang: str = "en", formats=FORMATS) -> list[Path]:
    """Write every batch figure of ``folder`` to ``out`` (default ``folder/figures``) in each format;
    returns the files written."""
    formats = [fmt.strip().lower().lstrip(".") for fmt in formats if fmt.strip()]
    unknown = [fmt for fmt in formats if fmt not in ("png", "svg", "pdf")]
    if unknown or not formats:
        raise ArgumentError("formats", f"expected png, svg or pdf, found {','.join(unknown) or 'nothing'}")
    if lang not in LANGS:
        raise ArgumentError("lang", f"expected one of {', '.join(LANGS)}, found {lang!r}")
    batch = open_batch(folder)
    out = Path(out) if out is not None else batch.folder / "figures"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegsimError(f"cannot create output folder {out}: {exc.strerror}") from None
    written = []
    suffix = "" if lang == "en" else f"_{lang}"
    for name, figure in batch_figures(batch, lang):
        for fmt in formats:
            path = out / f"{name}{suffix}.{fmt}"
            figure.savefig(path, dpi=150)
            written.append(path)
        plt.close(figure)
    return written


def batch_figures(batch, lang: str = "en") -> Iterator[tuple[str, Figure]]:
    """Every figure of an opened Batch as (name, Figure), each made and to be saved in ``lang``'s
    fonts (save it before the next one is drawn); the caller closes each figure. Policies first:
    ``differences`` (policies only), ``ledger`` (each policy's ledger, targeted regions and the
    rest); then ``assumptions`` (assumption variants only, when there are any), the time series and
    provinces, the tile map (with both kinds: ``tile_map_extinction_risk`` of the policies and
    ``tile_map_extinction_risk_assumptions``), the sweep, and the province maps (``sim.analysis.maps.province_map_figures``)."""
    kinds = set(batch.kinds.values())
    makers = {
        "differences": lambda: differences_figure(batch, lang, POLICY),
        "ledger": lambda: ledger_figure(batch, lang=lang),
        "assumptions": lambda: differences_figure(batch, lang, ASSUMPTION) if ASSUMPTION in kinds else None,
        "timeseries": lambda: timeseries_figure(batch, lang),
        "provinces_population": lambda: province_figure(batch, "population_index", lang),
        "provinces_extinction_risk": lambda: province_figure(batch, "extinction_risk_index", lang),
        # with both kinds, each has its own map (its own colour scale)
        "tile_map_extinction_risk": lambda: tile_map_figure(batch, lang=lang, kind=POLICY if {POLICY, ASSUMPTION} <= kinds else None),
        "tile_map_extinction_risk_assumptions": lambda: (
            tile_map_figure(batch, lang=lang, kind=ASSUMPTION) if {POLICY, ASSUMPTION} <= kinds else None
        ),
        "sweep": lambda: sweep_figure(batch, lang=lang),
    }
    for name, make in makers.items():
        with _language(lang):
            figure = make()
            if figure is not None:
                yield name, figure
    from sim.analysis.maps import province_map_figures  # cycle: maps imports this module (and geopandas: maps only)

    yield from province_map_figures(batch, lang)


# --- tuning figures --------------------------------------------------------------------------------
def write_tuning_figures(summary) -> None:
    """history.png (every study) and pareto.png (several objectives) in the folder of a ``sim.experiments.tuning.TuningSummary``."""
    figures = {"history.png": tuning_history_figure(summary.trials, summary.objectives)}
    if len(summary.objectives) > 1:
        figures["pareto.png"] = tuning_pareto_figure(summary.trials, summary.best, summary.objectives)
    for name, figure in figures.items():
        figure.savefig(summary.out / name, dpi=120)
        plt.close(figure)


def tuning_history_figure(trials: pd.DataFrame, objectives) -> Figure:
    """Each objective by trial number, with the best so far and the written allocation (trial 0) marked."""
    figure, axes = plt.subplots(len(objectives), 1, figsize=(9, 3.2 * len(objectives)), squeeze=False, constrained_layout=True)
    ordered = trials.sort_values("number")
    for axis, objective in zip(axes[:, 0], objectives):
        values = ordered[objective.name].to_numpy(float)
        best = np.maximum.accumulate(values) if objective.direction == "maximize" else np.minimum.accumulate(values)
        axis.scatter(ordered["number"], values, s=14, color="tab:blue", alpha=0.6, label="trial")
        axis.step(ordered["number"], best, where="post", color="black", lw=1.5, label="best so far")
        written = ordered[ordered["written_allocation"]]
        if not written.empty:
            axis.scatter(
                written["number"], written[objective.name], marker="*", s=160, color="tab:red", zorder=3, label="scenario as written"
            )
        axis.set(title=f"{objective.name} ({objective.direction}): {objective.label()}", xlabel="trial", ylabel="paired difference")
        axis.axhline(0, color="grey", lw=0.8)
        axis.grid(alpha=0.3)
        axis.legend(loc="best", fontsize=8)
    return figure


def tuning_pareto_figure(trials: pd.DataFrame, front: pd.DataFrame, objectives) -> Figure:
    """The first two objectives of every trial, the Pareto front joined up, the written allocation starred."""
    first, second = objectives[0], objectives[1]
    figure, axis = plt.subplots(figsize=(7.5, 6), constrained_layout=True)
    axis.scatter(trials[first.name], trials[second.name], s=16, color="lightgrey", label="trial")
    ordered = front.sort_values(first.name)
    axis.plot(ordered[first.name], ordered[second.name], "o-", color="tab:blue", label="Pareto front")
    written = trials[trials["written_allocation"]]
    if not written.empty:
        axis.scatter(written[first.name], written[second.name], marker="*", s=200, color="tab:red", zorder=3, label="scenario as written")
    axis.set(
        xlabel=f"{first.name} ({first.direction})",
        ylabel=f"{second.name} ({second.direction})",
        title="Paired differences against the baseline, mean over the tuning seeds",
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="best")
    return figure


# --- sensitivity and calibration figures (drawn from the folder the experiment wrote) -------------
def write_sensitivity_figure(folder: Path) -> Path:
    """sensitivity.png in a ``regsim sensitivity`` folder, from its indices.csv and sensitivity.json."""
    info = read_output(folder, "sensitivity", "marker")
    labels = {name: outcome["label"] for name, outcome in info["outcomes"].items()}
    figure = sensitivity_figure(read_output(folder, "sensitivity", "indices"), info["method"], labels)
    path = FOLDERS["sensitivity"].path(folder, "figure")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def sensitivity_figure(indices: pd.DataFrame, method: str, labels: dict[str, str]) -> Figure:
    """Horizontal bars per outcome, most influential parameter on top: Morris mu* with its interval
    and sigma as a marker; Sobol S1 and ST with their intervals."""
    names = list(dict.fromkeys(indices["outcome"]))
    count = indices["parameter"].nunique()
    figure, axes = plt.subplots(len(names), 1, figsize=(8, 0.45 * count * len(names) + 1.2 * len(names)), squeeze=False)
    for axis, name in zip(axes[:, 0], names):
        rows = indices[indices["outcome"] == name].sort_values("rank", ascending=False)
        position = np.arange(len(rows))
        labels_y = [p.removeprefix("parameters.") for p in rows["parameter"]]
        if method == "morris":
            axis.barh(position, rows["mu_star"], xerr=rows["mu_star_conf"], color="#4c72b0", capsize=3, label="mu* (95 % interval)")
            axis.plot(rows["sigma"], position, "D", color="#dd8452", label="sigma")
            noise = rows["mu_star_noise"].iloc[0]
            axis.set_xlabel("elementary effect over the parameter's range (outcome units)")
        else:
            axis.barh(position + 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], color="#4c72b0", capsize=3, label="S1")
            axis.barh(position - 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], color="#dd8452", capsize=3, label="ST")
            noise = rows["noise_share"].iloc[0]
            axis.set_xlabel("share of output variance")
        if np.isfinite(noise):
            axis.axvline(noise, color="black", linestyle="--", linewidth=0.8, label="seed noise level")
        axis.set_yticks(position, labels_y)
        axis.set_title(f"{name}\n{labels[name]}", fontsize=9, loc="left")
        axis.axvline(0, color="grey", linewidth=0.6)
        axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def write_calibration_figure(folder: Path) -> Path:
    """calibration.png in a ``regsim calibrate`` folder, from its fit.csv and calibration.json."""
    years = read_output(folder, "calibration", "marker")["years"]
    provinces = read_output(folder, "calibration", "fit").astype({"region": str})
    figure = calibration_figure(provinces, years["start"], years["fit"], years["holdout"])
    path = FOLDERS["calibration"].path(folder, "figure")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def calibration_figure(provinces: pd.DataFrame, start_year: int, fit_years: list[int], holdout_years: list[int]) -> Figure:
    """Error of the population at the end of the holdout, and mean net migration of the fit window, by
    province (``provinces``: a calibration's fit.csv, ``sim.experiments.calibrate``)."""
    last, fit_end = holdout_years[1], fit_years[1]
    x = np.arange(len(provinces))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), constrained_layout=True)
    observed = provinces[f"population_{last}_observed"]
    restart = f"population_{last}_default_from_{fit_end}" in provinces
    for offset, (label, short) in zip((-0.3, -0.1, 0.1, 0.3), FORECASTS):
        column = f"population_{last}_{short}_from_{fit_end}" if restart else f"population_{last}_{short}"
        if column not in provinces:
            continue
        top.bar(x + offset, 100 * (provinces[column] / observed - 1), width=0.2, label=label)
    top.axhline(0, color="black", linewidth=0.8)
    top.set_ylabel(f"error of population {last} (%)")
    origin = fit_end if restart else start_year
    top.set_title(f"Out of sample: forecast {origin}→{last} from the observed {origin} population")
    top.set_xticks(x, provinces["region"])
    top.legend(ncols=4, fontsize=8)
    if "net_migration_mean_observed" in provinces:
        for offset, (column, label) in zip(
            (-0.25, 0, 0.25),
            (
                ("net_migration_mean_observed", "observed"),
                ("net_migration_mean_default", "default parameters"),
                ("net_migration_mean_calibrated", "calibrated"),
            ),
        ):
            bottom.bar(x + offset, provinces[column] / 1000, width=0.25, label=label)
        bottom.axhline(0, color="black", linewidth=0.8)
        bottom.set_ylabel("net internal migration (thousand/year)")
        bottom.set_title(f"In sample: mean net migration {fit_years[0]}-{fit_years[1]}, back-cast from {start_year}")
        bottom.set_xticks(x, provinces["region"])
        bottom.legend(ncols=3, fontsize=8)
    return figure
