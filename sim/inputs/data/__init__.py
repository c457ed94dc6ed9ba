"""Packaged calibration data (CSV tables with provenance in ``<country>/PROVENANCE.md``).

The tables are derived from the public statistics in ``shared/data`` by ``python -m sim.tools.build``;
the model reads only the packaged copies, so a run never needs the raw files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from sim.errors import DataError

DATA_DIR = Path(__file__).parent

TEXT_COLUMNS = frozenset(
    {
        "region",
        "origin",
        "destination",
        "sex",
        "industry",
        "sector_code",
        "region_name",
        "region_name_ko",
        "adjacent",
        "municipality",
        "municipality_name",
    }
)
"""Columns holding codes or names; every other required column must be numeric and complete."""


def pack_dir(country: str = "korea") -> Path:
    """Folder of a country's region pack."""
    folder = DATA_DIR / country
    if not folder.is_dir():
        raise DataError(f"no region pack for country {country!r} (expected folder {folder})")
    return folder


def read_table(name: str, country: str = "korea", required: tuple[str, ...] = (), folder: Path | None = None) -> pd.DataFrame:
    """Read ``<folder>/<name>.csv`` (default folder: the packaged pack of ``country``).

    A missing file or missing column is a DataError naming the file.
    """
    return _read_csv((folder or pack_dir(country)) / f"{name}.csv", required).copy()


@cache
def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"data file missing: {path}")
    try:
        table = pd.read_csv(path, dtype={"region": str, "origin": str, "destination": str, "municipality": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"data file malformed: {path}: {str(exc).splitlines()[0]}") from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(f"data file malformed: {path}: missing column(s) {', '.join(missing)}")
    for column in required:
        if column in TEXT_COLUMNS:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(
                f"data file malformed: {path}: column {column!r} row {row + 2}: expected a number, found {table[column].iloc[row]!r}"
            )
        table[column] = values
    return table
