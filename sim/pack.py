"""Region pack: the packaged statistics of one country as arrays indexed by region, sex and age.

Indexing conventions used throughout the model: region index = row of ``regions.csv``; sex 0 =
female, 1 = male; age 0..100 (100 = 100+). Every value is in persons, KRW or per-year rates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sim.data import pack_dir, read_table
from sim.errors import DataError
from sim.agents.firm import INDUSTRIES

LAST_OBSERVED_YEAR = 2023
SEXES = ("F", "M")
AGES = 101


@dataclass(frozen=True)
class RegionPack:
    """All inputs of one country for one start year."""

    country: str
    start_year: int
    regions: pd.DataFrame

    @classmethod
    def load(cls, country: str, start_year: int) -> RegionPack:
        regions = read_table("regions", country, required=("region", "region_name", "capital_region", "adjacent"))
        pack = cls(country=country, start_year=start_year, regions=regions)
        pack.start_population  # fail early on a missing or malformed population table
        return pack

    # --- regions -------------------------------------------------------------------------
    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @cached_property
    def codes(self) -> list[str]:
        return self.regions["region"].astype(str).str.zfill(2).tolist()

    @cached_property
    def index_of(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.codes)}

    @cached_property
    def capital(self) -> np.ndarray:
        return self.regions["capital_region"].to_numpy(bool)

    @cached_property
    def adjacency(self) -> np.ndarray:
        """Boolean [n, n]: provinces sharing a land border (commuting allowed)."""
        matrix = np.zeros((self.n_regions, self.n_regions), bool)
        for i, neighbours in enumerate(self.regions["adjacent"].fillna("").astype(str)):
            for code in neighbours.split():
                matrix[i, self.index_of[code.zfill(2)]] = True
        return matrix

    def _by_region(self, table: pd.DataFrame, column: str, name: str) -> np.ndarray:
        series = table.assign(region=table["region"].astype(str).str.zfill(2)).set_index("region")[column]
        missing = [code for code in self.codes if code not in series.index]
        if missing:
            raise DataError(f"data table {name}: no value for region(s) {', '.join(missing)}")
        return series.reindex(self.codes).to_numpy(float)

    def _matrix(self, name: str, column: str) -> np.ndarray:
        table = read_table(name, self.country, required=("origin", "destination", column))
        matrix = np.zeros((self.n_regions, self.n_regions))
        origin = table["origin"].astype(str).str.zfill(2).map(self.index_of)
        destination = table["destination"].astype(str).str.zfill(2).map(self.index_of)
        if origin.isna().any() or destination.isna().any():
            raise DataError(f"data table {name}: unknown region code")
        matrix[origin.to_numpy(int), destination.to_numpy(int)] = table[column].to_numpy(float)
        return matrix

    # --- demography ----------------------------------------------------------------------
    @cached_property
    def start_population(self) -> np.ndarray:
        """Persons [n_regions, 2, 101] at 31 December of the start year."""
        table = read_table(f"population_{self.start_year}", self.country, required=("region", "sex", "age", "persons"))
        return self._pyramid(table, "persons", f"population_{self.start_year}").astype(np.int64)

    def _pyramid(self, table: pd.DataFrame, column: str, name: str) -> np.ndarray:
        region = table["region"].astype(str).str.zfill(2).map(self.index_of)
        if region.isna().any():
            raise DataError(f"data table {name}: unknown region code(s) {sorted(set(table['region'][region.isna()]))}")
        sex = table["sex"].map({s: i for i, s in enumerate(SEXES)})
        cube = np.zeros((self.n_regions, 2, AGES))
        cube[region.to_numpy(int), sex.to_numpy(int), table["age"].to_numpy(int)] = table[column].to_numpy(float)
        return cube

    @cached_property
    def _fertility(self) -> pd.DataFrame:
        return read_table("fertility", self.country, required=("region", "year", "mother_age", "asfr"))

    def observed_asfr(self, year: int) -> np.ndarray:
        """Births per woman [n_regions, 101] by mother's age in an observed year."""
        rows = self._fertility[self._fertility["year"] == year]
        if rows.empty:
            raise DataError(f"data table fertility: no rates for {year}")
        asfr = np.zeros((self.n_regions, AGES))
        region = rows["region"].astype(str).str.zfill(2).map(self.index_of).to_numpy(int)
        asfr[region, rows["mother_age"].to_numpy(int)] = rows["asfr"].to_numpy(float)
        return asfr

    @cached_property
    def official_tfr_path(self) -> dict[int, float]:
        table = read_table("tfr_path", self.country, required=("year", "tfr"))
        return dict(zip(table["year"].astype(int), table["tfr"].astype(float)))

    @cached_property
    def _mortality(self) -> dict[int, np.ndarray]:
        table = read_table("mortality", self.country, required=("year", "sex", "age", "qx"))
        qx: dict[int, np.ndarray] = {}
        for year, rows in table.groupby("year"):
            grid = np.zeros((2, AGES))
            grid[rows["sex"].map({s: i for i, s in enumerate(SEXES)}).to_numpy(int), rows["age"].to_numpy(int)] = rows["qx"]
            qx[int(year)] = grid
        return qx

    def qx(self, year: int) -> np.ndarray:
        """Probability of dying within the year [2, 101] by sex and age at the start of the year."""
        if year not in self._mortality:
            raise DataError(f"data table mortality: no life table for {year}")
        return self._mortality[year]

    @cached_property
    def _mortality_factors(self) -> dict[int, np.ndarray]:
        table = read_table("mortality_region_factor", self.country, required=("region", "year", "factor"))
        return {int(year): self._by_region(rows, "factor", "mortality_region_factor") for year, rows in table.groupby("year")}

    def mortality_factor(self, year: int) -> np.ndarray:
        """Regional hazard multipliers: observed in data years; afterwards the last observed
        regional pattern, normalised so that national deaths follow the national life table."""
        if year in self._mortality_factors:
            return self._mortality_factors[year]
        return self._projected_mortality_factor

    @cached_property
    def _projected_mortality_factor(self) -> np.ndarray:
        last = self._mortality_factors[LAST_OBSERVED_YEAR]
        table = read_table(f"population_{LAST_OBSERVED_YEAR}", self.country, required=("region", "sex", "age", "persons"))
        population = self._pyramid(table, "persons", f"population_{LAST_OBSERVED_YEAR}")
        expected = (population * self.qx(LAST_OBSERVED_YEAR)[None]).sum(axis=(1, 2))
        return last * expected.sum() / (last * expected).sum()

    @cached_property
    def _international(self) -> dict[int, float]:
        table = read_table("international_migration", self.country, required=("year", "net_persons"))
        return dict(zip(table["year"].astype(int), table["net_persons"].astype(float)))

    def international_net_migration(self, year: int) -> float:
        """Net international migration (persons per year): observed residual or official assumption."""
        if year not in self._international:
            raise DataError(f"data table international_migration: no value for {year}")
        return self._international[year]

    # --- labour, firms, output -----------------------------------------------------------
    def labour(self, year: int) -> pd.DataFrame:
        """EAPS figures by region (persons): economically_active, employed, unemployed, pop_15plus."""
        table = read_table("labour", self.country, required=("region", "year", "employed", "unemployed"))
        rows = table[table["year"] == year]
        if rows.empty:
            raise DataError(f"data table labour: no figures for {year}")
        return rows.assign(region=rows["region"].astype(str).str.zfill(2)).set_index("region").reindex(self.codes)

    @cached_property
    def establishments(self) -> tuple[np.ndarray, np.ndarray]:
        """Establishments and workers [n_regions, n_industries] (Census on Establishments 2023)."""
        table = read_table("establishments_2023", self.country, required=("region", "industry", "establishments", "workers"))
        count = np.zeros((self.n_regions, len(INDUSTRIES)))
        workers = np.zeros_like(count)
        region = table["region"].astype(str).str.zfill(2).map(self.index_of).to_numpy(int)
        industry = table["industry"].map({s: i for i, s in enumerate(INDUSTRIES)}).to_numpy(int)
        count[region, industry] = table["establishments"]
        workers[region, industry] = table["workers"]
        return count, workers

    def mean_unemployment_rate(self, year: int, window: int = 3) -> np.ndarray:
        """Unemployment rate by region, mean of the ``window`` years up to ``year`` (fraction)."""
        table = read_table("labour", self.country, required=("region", "year", "unemployed", "economically_active"))
        rows = table[(table["year"] > year - window) & (table["year"] <= year)]
        totals = rows.assign(region=rows["region"].astype(str).str.zfill(2)).groupby("region")[["unemployed", "economically_active"]].sum()
        totals = totals.reindex(self.codes)
        return (totals["unemployed"] / totals["economically_active"]).to_numpy(float)

    @cached_property
    def gva_share_by_industry(self) -> np.ndarray:
        """Share of gross value added [n_regions, n_industries] (2023), manufacturing groups summed to C."""
        table = read_table("grdp_sector_shares_2023", self.country, required=("region", "sector_code", "share"))
        section = table["sector_code"].str[0].map({s: i for i, s in enumerate(INDUSTRIES)})
        region = table["region"].astype(str).str.zfill(2).map(self.index_of)
        shares = np.zeros((self.n_regions, len(INDUSTRIES)))
        np.add.at(shares, (region.to_numpy(int), section.to_numpy(int)), table["share"].to_numpy(float))
        return shares

    @cached_property
    def grdp_krw(self) -> np.ndarray:
        """Gross regional domestic product in the start year (KRW, nominal)."""
        table = read_table("grdp", self.country, required=("region", "year", "grdp_krw"))
        return self._by_region(table[table["year"] == self.start_year], "grdp_krw", "grdp")

    @cached_property
    def rd_krw(self) -> np.ndarray:
        """Total R&D expenditure by region (KRW per year, 2022)."""
        return self._by_region(read_table("rnd_2022", self.country, required=("region", "rd_krw")), "rd_krw", "rnd_2022")

    # --- migration -----------------------------------------------------------------------
    @cached_property
    def distance_km(self) -> np.ndarray:
        return self._matrix("distances", "distance_km")

    @cached_property
    def ties_persons(self) -> np.ndarray:
        return self._matrix("migration_ties", "ties_persons")

    @cached_property
    def outflow_rate(self) -> np.ndarray:
        """Inter-provincial out-migrants per resident per year (mean 2011–2020)."""
        table = read_table("migration_outflow_rates", self.country, required=("region", "outflow_rate"))
        return self._by_region(table, "outflow_rate", "migration_outflow_rates")

    @cached_property
    def destination_constants(self) -> np.ndarray:
        table = read_table("migration_logit", self.country, required=("region", "destination_constant"))
        return self._by_region(table, "destination_constant", "migration_logit")

    @cached_property
    def migration_fit(self) -> dict:
        path = pack_dir(self.country) / "migration_fit.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"data file missing or malformed: {path}: {exc}") from None
