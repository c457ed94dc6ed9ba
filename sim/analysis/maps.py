"""Choropleth maps of provinces and municipalities (geopandas on the packaged boundaries).

Geometry: ``sim/inputs/data/korea/municipalities.geojson`` (229 si-gun-gu keyed by the 10-digit MOIS code of
Dec 2023, non-autonomous gu dissolved into their city) and ``provinces.geojson`` (the 17 provinces,
KOSIS codes), built by ``sim/tools/build/geometry.py`` from KOSTAT SGIS boundaries (KOGL Type 1:
attribution "source: KOSTAT SGIS", printed on every map).

- ``province_map_figures(batch, lang)``: the maps of a batch folder — extinction risk index of the
  reference, its change against the reference per scenario (same seed, mean over seeds), and the
  population change over the run per scenario.
- ``municipal_map_figure(table, value, ...)``: any table with a ``municipality`` column (10-digit MOIS
  code as a string) and a value column.
- ``municipal_figures(municipalities, lang)``: population change and the extinction risk index of a
  table with the columns of ``municipalities.parquet`` (year, municipality, population,
  extinction_risk_index, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from sim.analysis.plots import _batch, _group_labels, _language
from sim.errors import RegsimError
from sim.inputs.data import pack_dir
from sim.model.metrics import EXTINCTION_RISK_THRESHOLD

ATTRIBUTION = {"en": "Boundaries: KOSTAT SGIS (2018), KOGL Type 1", "ko": "경계: 통계청 SGIS (2018), 공공누리 제1유형"}
MAP_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "risk_level": "Extinction risk index, {year} (women 20–39 / persons 65+; mean over seeds)",
        "risk_change": "Change in the extinction risk index against {ref}, {year} (mean over seeds)",
        "population_change": "Population change {start}→{year} (mean over seeds)",
        "risk_unit": "index (women 20–39 / persons 65+)",
        "risk_change_unit": "Δ index",
        "population_change_unit": "% change",
        "municipal_risk": "Extinction risk index by municipality, {year} (women 20–39 / persons 65+)",
        "municipal_population_change": "Population change by municipality, {start}→{year}",
        "no_data": "no data",
    },
    "ko": {
        "risk_level": "지방소멸위험지수, {year}년 (20–39세 여성 / 65세 이상; 시드 평균)",
        "risk_change": "{ref} 대비 지방소멸위험지수 변화, {year}년 (시드 평균)",
        "population_change": "인구 변화 {start}→{year}년 (시드 평균)",
        "risk_unit": "지수 (20–39세 여성 / 65세 이상)",
        "risk_change_unit": "지수 변화",
        "population_change_unit": "변화율 (%)",
        "municipal_risk": "시군구별 지방소멸위험지수, {year}년 (20–39세 여성 / 65세 이상)",
        "municipal_population_change": "시군구별 인구 변화, {start}→{year}년",
        "no_data": "자료 없음",
    },
}


# --- geometry ------------------------------------------------------------------------------------


@cache
def municipal_geometry(country: str = "korea") -> gpd.GeoDataFrame:
    """The 229 municipalities: municipality (10-digit MOIS code), province, name_ko, name_en, geometry (WGS84)."""
    return _read_geometry(country, "municipalities", "municipality")


@cache
def province_geometry(country: str = "korea") -> gpd.GeoDataFrame:
    """The provinces: province (KOSIS 2-digit code), geometry (WGS84)."""
    return _read_geometry(country, "provinces", "province")


def _read_geometry(country: str, name: str, key: str) -> gpd.GeoDataFrame:
    path = pack_dir(country) / f"{name}.geojson"
    if not path.is_file():
        raise RegsimError(f"{path}: no map geometry in the {country} data pack (make data builds it)")
    frame = gpd.read_file(path, engine="pyogrio")
    return frame.assign(**{key: frame[key].astype(str)})


def keyed_values(table: pd.DataFrame, value: str, country: str = "korea") -> pd.Series:
    """``table[value]`` indexed by the ``municipality`` codes (strings); an unknown code or a duplicate is a
    RegsimError."""
    for column in ("municipality", value):
        if column not in table.columns:
            raise RegsimError(f"map table: expected a column {column!r}, found {', '.join(map(str, table.columns))}")
    codes = table["municipality"].astype(str)
    unknown = sorted(set(codes) - set(municipal_geometry(country)["municipality"]))
    if unknown:
        raise RegsimError(
            f"map table: municipality codes without a boundary: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    duplicated = codes[codes.duplicated()].unique()
    if len(duplicated):
        raise RegsimError(f"map table: municipality {duplicated[0]} has more than one row")
    return pd.Series(table[value].to_numpy(float), index=codes.to_numpy())


# --- drawing -------------------------------------------------------------------------------------


def choropleth(
    axis,
    geometry: gpd.GeoDataFrame,
    key: str,
    values: pd.Series,
    cmap: str,
    norm: Normalize,
    lang: str = "en",
    outline: gpd.GeoDataFrame | None = None,
) -> None:
    """Fill each unit of ``geometry`` by its value (grey where missing); ``outline`` (e.g. provinces) drawn on top."""
    frame = geometry.assign(value=geometry[key].map(values))
    frame.plot(
        ax=axis,
        column="value",
        cmap=cmap,
        norm=norm,
        edgecolor="white",
        linewidth=0.2,
        missing_kwds={"color": "lightgrey", "label": MAP_TEXT[lang]["no_data"]},
    )
    if outline is not None:
        outline.boundary.plot(ax=axis, color="dimgrey", linewidth=0.5)
    axis.set_axis_off()
    axis.set_aspect(1 / np.cos(np.radians(36.0)))  # equal distances at Korea's mean latitude (lon/lat degrees)


def _norm(values: np.ndarray, center: float | None) -> Normalize:
    """Diverging around ``center``: symmetric around 0 (changes), otherwise each side to its extreme (a level
    such as the risk index around its 0.5 threshold); a plain range when ``center`` is None."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if center is None:
        return Normalize(low, high)
    if center == 0.0:
        bound = max(abs(low), abs(high)) or 1e-3
        return TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound)
    margin = 0.02 * abs(center) or 1e-3
    return TwoSlopeNorm(vcenter=center, vmin=min(low, center - margin), vmax=max(high, center + margin))


def map_panels(
    panels: dict[str, pd.Series], key: str, title: str, unit: str, center: float | None, cmap: str, lang: str = "en", country: str = "korea"
) -> Figure:
    """One choropleth per panel (label → values by code) on a shared colour scale; ``key`` "province" or "municipality"."""
    with _language(lang):
        geometry = municipal_geometry(country) if key == "municipality" else province_geometry(country)
        outline = province_geometry(country) if key == "municipality" else None
        norm = _norm(np.concatenate([series.to_numpy(float) for series in panels.values()]), center)
        ncols = min(len(panels), 3)
        nrows = -(-len(panels) // ncols)
        figure, grid = plt.subplots(nrows, ncols, figsize=(4.6 * ncols + 1.0, 5.6 * nrows), constrained_layout=True, squeeze=False)
        for axis, (label, values) in zip(grid.flat, panels.items()):
            choropleth(axis, geometry, key, values, cmap, norm, lang, outline)
            axis.set_title(label.replace(" / ", "\n"), fontsize="medium")
        for spare in list(grid.flat)[len(panels) :]:
            spare.axis("off")
        figure.suptitle(title)
        figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=grid.ravel().tolist(), shrink=0.6, label=unit)
        figure.text(0.01, 0.005, ATTRIBUTION[lang], fontsize=7, color="dimgrey")
    return figure


# --- batch (province) maps -----------------------------------------------------------------------


def province_map_figures(batch, lang: str = "en") -> Iterator[tuple[str, Figure]]:
    """Province maps of a batch in its last year: ``map_extinction_risk`` (the reference's level),
    ``map_extinction_risk_change`` (each other scenario against the reference, same seed; only when
    there are others) and ``map_population_change`` (each scenario's change since the first year, %)."""
    batch = _batch(batch)
    text = MAP_TEXT[lang]
    table = batch.regions(["population", "extinction_risk_index"]).assign(label=lambda t: _group_labels(t, batch))
    start, year = int(table["year"].min()), int(table["year"].max())
    last = table[table["year"] == year]
    reference = last[last["scenario"] == batch.reference]
    level = {batch.reference: reference.groupby("region")["extinction_risk_index"].mean()}
    yield (
        "map_extinction_risk",
        map_panels(level, "province", text["risk_level"].format(year=year), text["risk_unit"], EXTINCTION_RISK_THRESHOLD, "RdYlBu", lang),
    )
    variants = last[last["scenario"] != batch.reference]
    if not variants.empty:
        change = variants.assign(value=variants["extinction_risk_index"] - variants["extinction_risk_index_ref"])
        panels = {label: rows.groupby("region")["value"].mean() for label, rows in change.groupby("label", sort=False)}
        yield (
            "map_extinction_risk_change",
            map_panels(
                panels, "province", text["risk_change"].format(ref=batch.reference, year=year), text["risk_change_unit"], 0.0, "RdBu", lang
            ),
        )
    first = table[table["year"] == start].set_index(["run_key", "region"])["population"]
    growth = last.assign(
        value=100 * (last["population"].to_numpy() / first.reindex(pd.MultiIndex.from_frame(last[["run_key", "region"]])).to_numpy() - 1)
    )
    panels = {label: rows.groupby("region")["value"].mean() for label, rows in growth.groupby("label", sort=False)}
    yield (
        "map_population_change",
        map_panels(
            panels, "province", text["population_change"].format(start=start, year=year), text["population_change_unit"], 0.0, "RdBu", lang
        ),
    )


# --- municipal maps ------------------------------------------------------------------------------


def municipal_map_figure(
    table: pd.DataFrame,
    value: str,
    title: str,
    unit: str,
    center: float | None = None,
    cmap: str = "viridis",
    lang: str = "en",
    country: str = "korea",
) -> Figure:
    """Map of a table with a ``municipality`` column (10-digit MOIS code) and the column ``value``."""
    return map_panels({"": keyed_values(table, value, country=country)}, "municipality", title, unit, center, cmap, lang, country)


def municipal_figures(municipalities: pd.DataFrame, lang: str = "en") -> Iterator[tuple[str, Figure]]:
    """From a table with the columns of ``municipalities.parquet`` (one row per year × municipality; several
    runs are averaged): ``map_municipal_extinction_risk`` in the last year and
    ``map_municipal_population_change`` from the first to the last year (%)."""
    text = MAP_TEXT[lang]
    table = municipalities.assign(municipality=municipalities["municipality"].astype(str))
    means = table.groupby(["year", "municipality"], as_index=False)[["population", "extinction_risk_index"]].mean()
    start, year = int(means["year"].min()), int(means["year"].max())
    last = means[means["year"] == year].set_index("municipality")
    first = means[means["year"] == start].set_index("municipality")
    change = (100 * (last["population"] / first["population"].reindex(last.index) - 1)).rename("change").reset_index()
    yield (
        "map_municipal_extinction_risk",
        municipal_map_figure(
            last.reset_index(),
            "extinction_risk_index",
            text["municipal_risk"].format(year=year),
            text["risk_unit"],
            EXTINCTION_RISK_THRESHOLD,
            "RdYlBu",
            lang,
        ),
    )
    yield (
        "map_municipal_population_change",
        municipal_map_figure(
            change,
            "change",
            text["municipal_population_change"].format(start=start, year=year),
            text["population_change_unit"],
            0.0,
            "RdBu",
            lang,
        ),
    )
