"""Region pack: the packaged statistics of one country as arrays indexed by region, sex and age.

Indexing conventions used throughout the model: region index = row of ``regions.csv``; sex 0 =
female, 1 = male; age 0..100 (100 = 100+). Every value is in persons, KRW or per-year rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.inputs.data import pack_dir, read_table

INDUSTRIES = tuple("ABCDEFGHIJKLMNOPQRS")
"""KSIC sections, in the order used for the ``industry`` index of region tables and firm agents."""

LAST_OBSERVED_YEAR = 2023
SEXES = ("F", "M")
AGES = 101
MIGRATION_CALIBRATION_PERIODS = ("2011-2020", "2016-2020", "2017-2021", "2019-2023")
"""Windows with packaged migration constants and outflow rates (``migration.calibration_period``); each is a
window of observed origin–destination flows (to 2023). 2016-2020 and 2017-2021 are the rolling origins of the
migration back-test (``sim.experiments.validation.migration_backtest``): fitted on the years before Dec 2020 and Dec 2021."""
DECADE_PERIOD = "2011-2020"
"""The full decade of origin–destination data; its tables keep the unsuffixed file names."""


def migration_table_name(stem: str, period: str) -> str:
    """File stem of a migration table calibrated on ``period`` (``"YYYY-YYYY"``).

    The decade window keeps the unsuffixed names (``migration_logit``); other windows add the years
    (``migration_logit_2016_2020``). An unknown window is a DataError listing the packaged ones.
    """
    if period not in MIGRATION_CALIBRATION_PERIODS:
        raise DataError(
            f"migration.calibration_period: unknown window {period!r}; packaged windows: "
            + ", ".join(repr(valid) for valid in MIGRATION_CALIBRATION_PERIODS)
        )
    return stem if period == DECADE_PERIOD else f"{stem}_{period.replace('-', '_')}"


def capital_regions() -> list[str]:
    """KOSIS codes of the capital-region provinces (Seoul, Incheon, Gyeonggi), from the packaged regions.csv."""
    table = pd.read_csv(pack_dir("korea") / "regions.csv", dtype={"region": str})
    return table.loc[table["capital_region"] == 1, "region"].tolist()


@dataclass(frozen=True)
class RegionPack:
    """All inputs of one country for one start year."""

    country: str
    start_year: int
    folder: Path
    regions: pd.DataFrame

    @classmethod
    def load(cls, country: str, start_year: int, folder: Path | None = None) -> RegionPack:
        """The packaged pack of ``country``, or the tables in ``folder`` (same file names)."""
        folder = Path(folder) if folder is not None else pack_dir(country)
        if not folder.is_dir():
            raise DataError(f"data pack folder not found: {folder}")
        regions = read_table("regions", required=("region", "region_name", "capital_region", "adjacent"), folder=folder)
        pack = cls(country=country, start_year=start_year, folder=folder, regions=regions)
        _ = pack.start_population  # read now: fail early on a missing or malformed population table
        return pack

    def table(self, name: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
        """A table of this pack (``<folder>/<name>.csv``)."""
        return read_table(name, required=required, folder=self.folder)

    # --- regions -------------------------------------------------------------------------
    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self.regions)

    @cached_property
    def codes(self) -> list[str]:
        """KOSIS region codes, two digits, in region order."""
        return self.regions["region"].astype(str).str.zfill(2).tolist()

    @cached_property
    def index_of(self) -> dict[str, int]:
        """Region code -> region index."""
        return {code: i for i, code in enumerate(self.codes)}

    @cached_property
    def capital(self) -> np.ndarray:
        """[regions] bool: in the capital region."""
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
        self._region_index(table["region"], name)
        series = table.assign(region=table["region"].astype(str).str.zfill(2)).set_index("region")[column]
        missing = [code for code in self.codes if code not in series.index]
        if missing:
            raise DataError(f"{self.folder / (name + '.csv')}: no value for region(s) {', '.join(missing)}")
        return series.reindex(self.codes).to_numpy(float)

    def _matrix(self, name: str, column: str) -> np.ndarray:
        table = self.table(name, required=("origin", "destination", column))
        matrix = np.zeros((self.n_regions, self.n_regions))
        origin = self._region_index(table["origin"], name)
        destination = self._region_index(table["destination"], name)
        matrix[origin, destination] = table[column].to_numpy(float)
        return matrix

    def _region_index(self, codes: pd.Series, name: str) -> np.ndarray:
        """Region indices of a column of codes; an unknown code is a DataError naming the table."""
        normalised = codes.astype(str).str.zfill(2)
        unknown = sorted(set(normalised[~normalised.isin(self.index_of)]))
        if unknown:
            raise DataError(f"{self.folder / (name + '.csv')}: unknown region code(s) {', '.join(unknown)}; known: {', '.join(self.codes)}")
        return normalised.map(self.index_of).to_numpy(int)

    # --- demography ----------------------------------------------------------------------
    @cached_property
    def start_population(self) -> np.ndarray:
        """Persons [n_regions, 2, 101] at 31 December of the start year."""
        table = self.table(f"population_{self.start_year}", required=("region", "sex", "age", "persons"))
        return self._pyramid(table, "persons", f"population_{self.start_year}").astype(np.int64)

    def _pyramid(self, table: pd.DataFrame, column: str, name: str) -> np.ndarray:
        region = self._region_index(table["region"], name)
        sex = table["sex"].map({s: i for i, s in enumerate(SEXES)})
        if sex.isna().any() or not table["age"].between(0, AGES - 1).all():
            raise DataError(f"{self.folder / (name + '.csv')}: sex must be F or M and age 0..{AGES - 1}")
        cube = np.zeros((self.n_regions, 2, AGES))
        cube[region, sex.to_numpy(int), table["age"].to_numpy(int)] = table[column].to_numpy(float)
        return cube

    @cached_property
    def _fertility(self) -> pd.DataFrame:
        return self.table("fertility", required=("region", "year", "mother_age", "asfr"))

    @cached_property
    def _observed_asfr(self) -> dict[int, np.ndarray]:
        """Each observed year's schedule, built once: the model reads one every simulated year, and
        selecting it from the table with pandas took a twentieth of a 1:100 run."""
        table = self._fertility
        region = self._region_index(table["region"], "fertility")
        age = table["mother_age"].to_numpy(int)
        rates = table["asfr"].to_numpy(float)
        years = table["year"].to_numpy(int)
        schedules: dict[int, np.ndarray] = {}
        for year in np.unique(years):
            rows = years == year
            schedules[int(year)] = np.zeros((self.n_regions, AGES))
            schedules[int(year)][region[rows], age[rows]] = rates[rows]
        return schedules

    def observed_asfr(self, year: int) -> np.ndarray:
        """Births per woman [n_regions, 101] by mother's age in an observed year (a new array)."""
        if year not in self._observed_asfr:
            raise DataError(f"{self.folder / 'fertility.csv'}: no rates for {year}")
        return self._observed_asfr[year].copy()

    @cached_property
    def official_tfr_path(self) -> dict[int, float]:
        """Year -> national TFR of the official medium assumption (children per woman)."""
        table = self.table("tfr_path", required=("year", "tfr"))
        return dict(zip(table["year"].astype(int), table["tfr"].astype(float)))

    @cached_property
    def _mortality(self) -> dict[int, np.ndarray]:
        """Each year's life table [2, 101], from columns read once (a pandas group per year took a
        twentieth of a 1:100 run)."""
        table = self.table("mortality", required=("year", "sex", "age", "qx"))
        sex = table["sex"].map({s: i for i, s in enumerate(SEXES)}).to_numpy(int)
        age, years, rates = table["age"].to_numpy(int), table["year"].to_numpy(int), table["qx"].to_numpy(float)
        qx: dict[int, np.ndarray] = {}
        for year in np.unique(years):
            rows = years == year
            qx[int(year)] = np.zeros((2, AGES))
            qx[int(year)][sex[rows], age[rows]] = rates[rows]
        return qx

    def qx(self, year: int) -> np.ndarray:
        """Probability of dying within the year [2, 101] by sex and age at the start of the year."""
        if year not in self._mortality:
            raise DataError(f"{self.folder / 'mortality.csv'}: no life table for {year}")
        return self._mortality[year]

    @cached_property
    def _mortality_factors(self) -> dict[int, np.ndarray]:
        """Each year's factor by region, from columns read once; a year without some region is a DataError."""
        name = "mortality_region_factor"
        table = self.table(name, required=("region", "year", "factor"))
        region = self._region_index(table["region"], name)
        years, values = table["year"].to_numpy(int), table["factor"].to_numpy(float)
        factors: dict[int, np.ndarray] = {}
        for year in np.unique(years):
            rows = years == year
            missing = np.setdiff1d(np.arange(self.n_regions), region[rows])
            if missing.size:
                raise DataError(f"{self.folder / (name + '.csv')}: no value for region(s) {', '.join(self.codes[i] for i in missing)}")
            factors[int(year)] = np.zeros(self.n_regions)
            factors[int(year)][region[rows]] = values[rows]
        return factors

    def mortality_factor(self, year: int) -> np.ndarray:
        """Regional hazard multipliers: observed in data years; afterwards the last observed
        regional pattern, normalised so that national deaths follow the national life table."""
        if year in self._mortality_factors:
            return self._mortality_factors[year]
        return self._projected_mortality_factor

    @cached_property
    def _projected_mortality_factor(self) -> np.ndarray:
        last = self._mortality_factors[LAST_OBSERVED_YEAR]
        table = self.table(f"population_{LAST_OBSERVED_YEAR}", required=("region", "sex", "age", "persons"))
        population = self._pyramid(table, "persons", f"population_{LAST_OBSERVED_YEAR}")
        expected = (population * self.qx(LAST_OBSERVED_YEAR)[None]).sum(axis=(1, 2))
        return last * expected.sum() / (last * expected).sum()

    @cached_property
    def _international(self) -> dict[int, float]:
        table = self.table("international_migration", required=("year", "net_persons"))
        return dict(zip(table["year"].astype(int), table["net_persons"].astype(float)))

    def international_net_migration(self, year: int) -> float:
        """Net international migration (persons per year): observed residual or official assumption."""
        if year not in self._international:
            raise DataError(f"{self.folder / 'international_migration.csv'}: no value for {year}")
        return self._international[year]

    # --- labour, firms, output -----------------------------------------------------------
    def labour(self, year: int) -> pd.DataFrame:
        """EAPS figures by region (persons): economically_active, employed, unemployed, pop_15plus."""
        table = self.table("labour", required=("region", "year", "employed", "unemployed"))
        rows = table[table["year"] == year]
        if rows.empty:
            raise DataError(f"{self.folder / 'labour.csv'}: no figures for {year}")
        return rows.assign(region=rows["region"].astype(str).str.zfill(2)).set_index("region").reindex(self.codes)

    @cached_property
    def establishments(self) -> tuple[np.ndarray, np.ndarray]:
        """Establishments and workers [n_regions, n_industries] (Census on Establishments 2023)."""
        table = self.table("establishments_2023", required=("region", "industry", "establishments", "workers"))
        count = np.zeros((self.n_regions, len(INDUSTRIES)))
        workers = np.zeros_like(count)
        region = self._region_index(table["region"], "establishments_2023")
        industry = table["industry"].map({s: i for i, s in enumerate(INDUSTRIES)}).to_numpy(int)
        count[region, industry] = table["establishments"]
        workers[region, industry] = table["workers"]
        return count, workers

    def mean_unemployment_rate(self, year: int, window: int = 3) -> np.ndarray:
        """Unemployment rate by region, mean of the ``window`` years up to ``year`` (fraction)."""
        table = self.table("labour", required=("region", "year", "unemployed", "economically_active"))
        rows = table[(table["year"] > year - window) & (table["year"] <= year)]
        totals = rows.assign(region=rows["region"].astype(str).str.zfill(2)).groupby("region")[["unemployed", "economically_active"]].sum()
        totals = totals.reindex(self.codes)
        return (totals["unemployed"] / totals["economically_active"]).to_numpy(float)

    @cached_property
    def gva_share_by_industry(self) -> np.ndarray:
        """Share of gross value added [n_regions, n_industries] (2023), manufacturing groups summed to C."""
        table = self.table("grdp_sector_shares_2023", required=("region", "sector_code", "share"))
        section = table["sector_code"].str[0].map({s: i for i, s in enumerate(INDUSTRIES)})
        region = self._region_index(table["region"], "grdp_sector_shares_2023")
        shares = np.zeros((self.n_regions, len(INDUSTRIES)))
        np.add.at(shares, (region, section.to_numpy(int)), table["share"].to_numpy(float))
        return shares

    @cached_property
    def grdp_krw(self) -> np.ndarray:
        """Gross regional domestic product in the start year (KRW, nominal)."""
        table = self.table("grdp", required=("region", "year", "grdp_krw"))
        return self._by_region(table[table["year"] == self.start_year], "grdp_krw", "grdp")

    @cached_property
    def rd_krw(self) -> np.ndarray:
        """Total R&D expenditure by region (KRW per year, 2022)."""
        return self._by_region(self.table("rnd_2022", required=("region", "rd_krw")), "rd_krw", "rnd_2022")

    @cached_property
    def decline_area_share(self) -> np.ndarray:
        """Share of each province's population living in designated population-decline areas (2023)."""
        table = self.table("population_decline_areas", required=("region", "share"))
        return self._by_region(table, "share", "population_decline_areas")

    @cached_property
    def municipalities(self) -> MunicipalPack:
        """The pack's si-gun-gu (``resolution: sigungu``); a DataError if the pack has no municipal tables."""
        return MunicipalPack.load(self)

    # --- migration -----------------------------------------------------------------------
    @cached_property
    def distance_km(self) -> np.ndarray:
        """[regions, regions] distance between regions (km)."""
        return self._matrix("distances", "distance_km")

    @cached_property
    def ties_persons(self) -> np.ndarray:
        """[origin, destination] earlier migrants from i to j (persons, cumulative 2001–2010 flows): the ties of migration networks."""
        return self._matrix("migration_ties", "ties_persons")

    def migration_outflow_rate(self, period: str) -> np.ndarray:
        """Inter-provincial out-migrants per resident per year, mean over the window ``period``."""
        name = migration_table_name("migration_outflow_rates", period)
        return self._by_region(self.table(name, required=("region", "outflow_rate")), "outflow_rate", name)

    def migration_constants_by_age(self, period: str) -> tuple[np.ndarray, np.ndarray]:
        """Age-group destination constants of the window ``period``: (group index by age 0..100, α [n_groups, n_regions]).

        Groups are the age bands of ``migration_logit_by_age[_YYYY_YYYY]`` (age at 31 Dec of the year of
        the move); they must cover every age exactly once.
        """
        name = migration_table_name("migration_logit_by_age", period)
        table = self.table(name, required=("region", "age_min", "age_max", "destination_constant"))
        bands = table[["age_min", "age_max"]].drop_duplicates().sort_values("age_min").to_numpy(int)
        group_of_age = np.full(AGES, -1)
        for g, (low, high) in enumerate(bands):
            if np.any(group_of_age[low : high + 1] >= 0):
                raise DataError(f"{self.folder / (name + '.csv')}: age bands overlap at {low}-{high}")
            group_of_age[low : high + 1] = g
        if np.any(group_of_age < 0):
            raise DataError(f"{self.folder / (name + '.csv')}: ages {np.flatnonzero(group_of_age < 0).tolist()} have no band")
        constants = np.stack(
            [
                self._by_region(table[(table["age_min"] == low) & (table["age_max"] == high)], "destination_constant", name)
                for low, high in bands
            ]
        )
        return group_of_age, constants


MUNICIPAL_TABLES = ("municipalities", "municipal_population_2023", "municipal_moves")
"""Tables a region pack needs for ``resolution: sigungu`` (built by ``sim/tools/build/municipalities.py``)."""


def has_municipal_tables(folder: Path) -> bool:
    """Whether a pack folder holds the municipal tables."""
    return all((Path(folder) / f"{name}.csv").is_file() for name in MUNICIPAL_TABLES)


@dataclass(frozen=True)
class MunicipalPack:
    """The 229 si-gun-gu of a region pack: index = row of ``municipalities.csv`` (province order, then code).

    ``codes`` are the 10-digit MOIS codes of Dec 2023 (strings); ``region`` the province index of each
    municipality in the region pack's order.
    """

    table: pd.DataFrame
    region: np.ndarray
    start_population: np.ndarray  # persons [n_municipalities, 2, 101] at 31 Dec 2023
    within_province_rate: np.ndarray  # [n_regions] moves inside the province per resident (2023)

    @classmethod
    def load(cls, pack: RegionPack) -> MunicipalPack:
        """The municipal tables of ``pack``; a DataError when the pack has none or they disagree with it."""
        if not has_municipal_tables(pack.folder):
            raise DataError(
                f"{pack.folder}: no municipal tables ({', '.join(n + '.csv' for n in MUNICIPAL_TABLES)}): resolution sigungu is not available"
            )
        if pack.start_year != LAST_OBSERVED_YEAR:
            raise DataError(
                f"resolution sigungu: municipal populations exist for 31 Dec {LAST_OBSERVED_YEAR} only, not start_year {pack.start_year}"
            )
        table = pack.table(
            "municipalities",
            required=(
                "municipality",
                "region",
                "municipality_name",
                "population_2023",
                "fertility_relative",
                "net_migration_2023",
                "decline_area",
            ),
        )
        table = table.assign(municipality=table["municipality"].astype(str), region=table["region"].astype(str).str.zfill(2))
        region = pack._region_index(table["region"], "municipalities")
        index = {code: i for i, code in enumerate(table["municipality"])}
        cells = pack.table("municipal_population_2023", required=("municipality", "sex", "age", "persons"))
        codes = cells["municipality"].astype(str)
        unknown = sorted(set(codes) - set(index))
        if unknown:
            raise DataError(f"{pack.folder / 'municipal_population_2023.csv'}: unknown municipality code(s) {', '.join(unknown[:5])}")
        population = np.zeros((len(table), 2, AGES), np.int64)
        population[codes.map(index).to_numpy(int), cells["sex"].map(SEXES.index).to_numpy(int), cells["age"].to_numpy(int)] = cells[
            "persons"
        ]
        moves = pack.table("municipal_moves", required=("region", "within_province_rate"))
        rate = pack._by_region(moves, "within_province_rate", "municipal_moves")
        return cls(table.reset_index(drop=True), region, population, rate)

    @property
    def n(self) -> int:
        """Number of municipalities (si-gun-gu)."""
        return len(self.table)

    @cached_property
    def codes(self) -> list[str]:
        """Municipality codes, in municipality order."""
        return self.table["municipality"].tolist()

    @cached_property
    def index_of(self) -> dict[str, int]:
        """Municipality code -> municipality index."""
        return {code: i for i, code in enumerate(self.codes)}

    @cached_property
    def names(self) -> list[str]:
        """Municipality names, in municipality order."""
        return self.table["municipality_name"].tolist()

    @cached_property
    def fertility_relative(self) -> np.ndarray:
        """TFR 2020 of the municipality ÷ its province's (children per woman ratio)."""
        return self.table["fertility_relative"].to_numpy(float)

    @cached_property
    def net_migration_2023(self) -> np.ndarray:
        """Residual net migration of 2023 (persons): change − estimated births + estimated deaths."""
        return self.table["net_migration_2023"].to_numpy(float)

    @cached_property
    def decline_area(self) -> np.ndarray:
        """The 89 population-decline areas designated on 2021-10-19 (boolean)."""
        return self.table["decline_area"].to_numpy(int) == 1
