"""Map geometry (``sim/inputs/data/korea/*.geojson``, ``sim/tools/build/geometry.py``) and choropleths (``sim.analysis.maps``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.maps import (
    keyed_values,
    municipal_figures,
    municipal_geometry,
    municipal_map_figure,
    province_geometry,
)
from sim.errors import RegsimError
from sim.inputs.data import DATA_DIR

PACK = DATA_DIR / "korea"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"raw statistics not available at {SHARED}")
    return SHARED


def registered(shared: Path, year: int) -> pd.DataFrame:
    """Si-gun-gu rows of the registered population file of Dec ``year``, keyed by the Dec 2023 code."""
    table = pd.read_csv(shared / f"kr_sigungu_registered_population_dec_{year}.csv", dtype=str)
    table = table[table["level"] == "sigungu"]
    key = "sigungu_code" if "sigungu_code" in table.columns else "mois_admin_code"
    return table.assign(municipality=table[key], population=table["registered_population"].astype(float))


def test_every_municipality_of_the_2023_population_file_has_exactly_one_geometry(shared):
    codes = registered(shared, 2023)["municipality"]
    geometry = municipal_geometry()
    assert len(codes) == 229 and codes.is_unique
    assert geometry["municipality"].is_unique
    assert set(geometry["municipality"]) == set(codes)
    assert geometry.is_valid.all() and geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_non_autonomous_gu_are_dissolved_into_their_city():
    geometry = municipal_geometry().set_index("municipality")
    assert geometry.loc["4111000000", "name_ko"] == "경기도 수원시"  # Suwon: four gu on the source map
    suwon = geometry.loc["4111000000", "geometry"]
    assert suwon.geom_type == "Polygon"  # one city, not four touching gu
    assert (geometry["name_ko"].str.split().str.len() <= 2).all()  # "province unit", never "province city gu"
    assert len(geometry) == 229


def test_province_geometries_dissolve_to_17_in_2023_boundaries():
    provinces = province_geometry()
    codes = pd.read_csv(PACK / "regions.csv", dtype={"region": str})["region"]
    assert sorted(provinces["province"]) == sorted(codes) and len(provinces) == 17
    municipalities = municipal_geometry()
    gunwi = municipalities.set_index("municipality").loc["2772000000"]
    assert gunwi["province"] == "27"  # moved to Daegu on 2023-07-01
    daegu = provinces.set_index("province").loc["27", "geometry"]
    assert daegu.contains(gunwi["geometry"].representative_point())
    # Each municipality's area lies in its own province (areas in squared degrees, only ratios matter).
    joined = municipalities.assign(centre=municipalities.representative_point()).set_geometry("centre")
    inside = joined.sjoin(provinces, predicate="within", how="left")
    assert (inside["province_left"] == inside["province_right"]).all()


def test_rebuild_reproduces_the_packaged_geometry(shared, tmp_path):
    from sim.tools.build import geometry

    geometry.build(shared, tmp_path)
    geometry.build(shared, tmp_path)  # a second run replaces, not duplicates, the PROVENANCE section
    for name in ("municipalities", "provinces"):
        assert (tmp_path / f"{name}.geojson").read_bytes() == (PACK / f"{name}.geojson").read_bytes()
    assert (tmp_path / "PROVENANCE.md").read_text().count(geometry.SECTION) == 1


def test_unknown_or_duplicated_codes_are_one_line_errors():
    table = pd.DataFrame({"municipality": ["1111000000", "9999999999"], "value": [1.0, 2.0]})
    with pytest.raises(RegsimError, match="9999999999"):
        keyed_values(table, "value")
    with pytest.raises(RegsimError, match="more than one row"):
        keyed_values(pd.DataFrame({"municipality": ["1111000000"] * 2, "value": [1.0, 2.0]}), "value")
    with pytest.raises(RegsimError, match="expected a column 'value'"):
        keyed_values(pd.DataFrame({"municipality": ["1111000000"]}), "value")


def test_municipal_map_fills_each_unit_with_its_value():
    geometry = municipal_geometry()
    values = pd.DataFrame({"municipality": geometry["municipality"], "value": np.arange(len(geometry), dtype=float)})
    figure = municipal_map_figure(values, "value", "test", "unit")
    filled = figure.axes[0].collections[0]
    assert len(filled.get_paths()) >= len(geometry)  # one path or more (islands) per unit, none left grey
    assert figure.texts and "KOSTAT" in figure.texts[-1].get_text()  # KOGL Type 1 attribution


def registered_municipalities(shared: Path) -> pd.DataFrame:
    """The table of ``municipalities.parquet`` for Dec 2022 and Dec 2023 from the registered populations, with
    the extinction risk index of Dec 2023 (residents: women 20–39 / persons 65+; the 65–69 part of each
    municipality's 60–69 band is its province's share of 65–69 in 60–69, by sex, Dec 2023)."""
    ages = pd.read_csv(shared / "kr_sigungu_residents_age10_sex_dec2023.csv", dtype={"mois_admin_code": str, "province_code": str})
    ages = ages[(ages["level"] == "sigungu") & ages["sex"].isin(["Male", "Female"])]
    five = pd.read_csv(shared / "kr_province_population_age_sex_2011_2023.csv", dtype={"region_code": str})
    five = five[five["year"] == 2023].pivot_table(index=["region_code", "sex"], columns="age_group", values="population")
    share_65_69 = (five["65-69"] / (five["60-64"] + five["65-69"])).rename("share")
    band = ages.pivot_table(index=["mois_admin_code", "province_code", "sex"], columns="age_group_10yr", values="residents").reset_index()
    band = band.join(share_65_69, on=["province_code", "sex"])
    band["old"] = band["share"] * band["60-69"] + band[["70-79", "80-89", "90-99", "100+"]].sum(axis=1)
    band["women_20_39"] = np.where(band["sex"] == "Female", band["20-29"] + band["30-39"], 0.0)
    index = band.groupby("mois_admin_code")[["women_20_39", "old"]].sum()
    rows = []
    for year in (2022, 2023):
        table = registered(shared, year)
        rows.append(
            pd.DataFrame({"year": year, "municipality": table["municipality"].to_numpy(), "population": table["population"].to_numpy()})
        )
    table = pd.concat(rows, ignore_index=True)
    risk = (index["women_20_39"] / index["old"]).rename("extinction_risk_index")
    return table.join(risk, on="municipality").assign(extinction_risk_index=lambda t: t["extinction_risk_index"].where(t["year"] == 2023))


def test_municipal_maps_of_the_registered_populations_2022_2023(shared, tmp_path):
    table = registered_municipalities(shared)
    latest = table[table["year"] == 2023]
    assert latest["extinction_risk_index"].notna().all() and len(latest) == 229
    at_risk = int((latest["extinction_risk_index"] < 0.5).sum())
    assert 100 < at_risk < 160  # KEIS counted 113 of 228 at risk in March 2022 (seed 002); the index falls yearly
    written = {}
    for lang in ("en", "ko"):
        for name, figure in municipal_figures(table, lang):
            path = tmp_path / f"{name}_{lang}.png"
            figure.savefig(path, dpi=80)
            written[path.name] = path
    assert set(written) == {
        f"{name}_{lang}.png" for name in ("map_municipal_extinction_risk", "map_municipal_population_change") for lang in ("en", "ko")
    }
    assert all(path.read_bytes()[:8] == PNG for path in written.values())
