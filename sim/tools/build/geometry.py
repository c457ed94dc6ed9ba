"""Boundaries of the 229 municipalities (si-gun-gu) and 17 provinces, for choropleth maps.

Raw inputs (in ``shared/data``, described in its SOURCE.md):

- ``maps/kr_municipalities_2018_topo_simple.json`` — KOSTAT SGIS boundaries of 2018 (250 features,
  simplified TopoJSON, WGS84), property ``code`` = KOSTAT statistical code (5 digits). KOGL Type 1:
  free use with attribution to KOSTAT SGIS (``maps/LICENSE_KOGL1.md``).
- ``kr_sigungu_code_crosswalk_2010_2023.csv`` — KOSTAT code of 2015 → 10-digit MOIS code of Dec 2023
  (``sigungu_code``), its province (KOSIS 2-digit code at Dec 2023) and names.

Outputs: ``municipalities.geojson`` (municipality, province, name_ko, name_en, geometry) with the
non-autonomous gu of large cities dissolved into their city, and ``provinces.geojson`` (province,
geometry), the municipalities dissolved by their Dec 2023 province (so Gunwi-gun lies in Daegu, as
in the 2023 data). Coordinates are rounded to 1e-4 degrees (about 10 m, below the simplification of
the source). A section ``## Map geometry`` of ``PROVENANCE.md`` records it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from sim.errors import DataError
from sim.tools.build import write_provenance_section

MUNICIPAL_MAP = "maps/kr_municipalities_2018_topo_simple.json"
CROSSWALK = "kr_sigungu_code_crosswalk_2010_2023.csv"
MAP_CODE_COLUMN = "kostat_code_2015"  # the 2018 map's codes are those of 2015 (SOURCE.md: 218 equal)
GRID_DEGREES = 1e-4
SECTION = "## Map geometry"


def build(shared: Path, out: Path) -> None:
    """Write ``municipalities.geojson``, ``provinces.geojson`` and the PROVENANCE section into ``out``."""
    municipalities, report = municipal_geometry(shared)
    provinces = municipalities.dissolve(by="province", as_index=False)[["province", "geometry"]]
    for name, frame in (("municipalities", municipalities), ("provinces", provinces)):
        path = out / f"{name}.geojson"
        path.unlink(missing_ok=True)
        frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=4, engine="pyogrio")
    write_provenance_section(out / "PROVENANCE.md", SECTION, _provenance(report, len(municipalities), len(provinces)))


def municipal_geometry(shared: Path) -> tuple[gpd.GeoDataFrame, dict]:
    """The 2018 map's features keyed by the Dec 2023 MOIS code, non-autonomous gu dissolved into their city.

    A gu's KOSTAT code differs from its city's in the last digit only (e.g. 31011–31014 Suwon's gu,
    31010 Suwon-si), so a feature whose code is not in the crosswalk is assigned to the code ending in 0.
    Returns the frame and a report of what was dissolved or left unmatched.
    """
    for name in (MUNICIPAL_MAP, CROSSWALK):
        if not (shared / name).is_file():
            raise DataError(f"raw file missing: {shared / name}")
    features = gpd.read_file(shared / MUNICIPAL_MAP, engine="pyogrio").set_crs("EPSG:4326", allow_override=True)
    invalid = int((~features.is_valid).sum())  # self-touching rings of the simplification
    features["geometry"] = shapely.make_valid(features.geometry.to_numpy(), method="structure", keep_collapsed=False)
    crosswalk = pd.read_csv(shared / CROSSWALK, dtype=str)
    known = set(crosswalk[MAP_CODE_COLUMN])
    city_code = features["code"].where(features["code"].isin(known), features["code"].str[:4] + "0")
    dissolved = features.loc[city_code != features["code"]]
    unmatched = sorted(set(city_code) - known)
    if unmatched:
        raise DataError(f"{shared / MUNICIPAL_MAP}: codes {', '.join(unmatched)} match no {MAP_CODE_COLUMN} of {CROSSWALK}")
    keyed = features.assign(kostat_code=city_code).dissolve(by="kostat_code", as_index=False)
    table = crosswalk.set_index(MAP_CODE_COLUMN).loc[keyed["kostat_code"]]
    frame = gpd.GeoDataFrame(
        {
            "municipality": table["sigungu_code"].to_numpy(),
            "province": table["province_code"].to_numpy(),
            "name_ko": table["admin_name_ko"].to_numpy(),
            "name_en": table["name_en"].to_numpy(),
        },
        geometry=shapely.set_precision(keyed.geometry.to_numpy(), GRID_DEGREES),
        crs="EPSG:4326",
    )
    frame = frame.sort_values("municipality", ignore_index=True)
    without_map = sorted(set(crosswalk["sigungu_code"]) - set(frame["municipality"]))
    municipality_of = crosswalk.set_index(MAP_CODE_COLUMN)["sigungu_code"]
    report = {
        "features": len(features),
        "repaired": invalid,
        "dissolved_gu": {
            municipality_of[city]: gu for city, gu in dissolved.groupby(city_code[dissolved.index])["name"].apply(list).items()
        },
        "without_map": without_map,
        "names": crosswalk.set_index("sigungu_code")["admin_name_ko"].to_dict(),
    }
    return frame, report


def _provenance(report: dict, municipalities: int, provinces: int) -> str:
    names = report["names"]
    cities = ", ".join(f"{names[city]} ({len(gu)} gu)" for city, gu in report["dissolved_gu"].items())
    missing = ", ".join(f"{code} {names[code]}" for code in report["without_map"]) or "none (every unit has one)"
    return "\n".join(
        [
            SECTION,
            "",
            "Built by `sim/tools/build/geometry.py` from `shared/data/maps/kr_municipalities_2018_topo_simple.json` "
            "(KOSTAT SGIS boundaries of 2018, collected 2018-12-24 by `southkorea/southkorea-maps`; simplified TopoJSON, "
            "WGS84) and `shared/data/kr_sigungu_code_crosswalk_2010_2023.csv` (KOSTAT 2015 code → MOIS code of Dec 2023). "
            "Licence of the boundaries: KOGL Type 1 (공공누리 제1유형), free use with attribution: "
            "**source: Statistics Korea (KOSTAT), SGIS**.",
            "",
            f"- `municipalities.geojson` — municipality (10-digit MOIS code of Dec 2023, the key of "
            f"kr_sigungu_registered_population_dec_2023.csv), province (KOSIS 2-digit code at Dec 2023), name_ko, "
            f"name_en, geometry: {municipalities} units from {report['features']} map features. The non-autonomous gu "
            f"of large cities are dissolved into their city (KOSTAT code of the city = the gu's code with last digit "
            f"0): {cities}.",
            f"- `provinces.geojson` — province, geometry: the municipalities dissolved by their Dec 2023 province "
            f"({provinces} provinces; Gunwi-gun, moved on 2023-07-01, lies in Daegu).",
            f"- Dec 2023 municipalities without a map feature: {missing}.",
            f"- Caveats: boundaries of 2018, simplified for display (not for areas); {report['repaired']} invalid source "
            "polygons (self-touching rings of the simplification) repaired with shapely's make_valid (structure method, polygons only) before dissolving; "
            "coordinates rounded to 1e-4 degrees.",
            "",
        ]
    )
