"""Known-answer tests of the demography mechanisms and the packaged demography tables."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.mechanisms import demography as dm
from sim.tools.build.demography import life_expectancy

PACK = Path(__file__).parents[1] / "sim" / "inputs" / "data" / "korea"
SHARED = Path(__file__).parents[2] / "shared" / "data"
N_REGIONS = 17
SEED = 20240101


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def population(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    age = rng.integers(0, dm.MAX_AGE + 1, n).astype(np.int16)
    sex = rng.integers(0, 2, n).astype(np.int8)
    region = rng.integers(0, N_REGIONS, n).astype(np.int16)
    return age, sex, region


def shared_file(name: str) -> pd.DataFrame:
    if not (SHARED / name).is_file():
        pytest.skip(f"raw shared data not available ({SHARED})")
    return pd.read_csv(SHARED / name, dtype={"region_code": str})


def pack_table(name: str) -> pd.DataFrame:
    return pd.read_csv(PACK / f"{name}.csv", dtype={"region": str})


# --- mechanisms -----------------------------------------------------------------------------


def test_ageing_moves_everyone_up_one_year_capped():
    age = np.array([0, 1, 50, 99, 100], dtype=np.int16)
    dm.age_one_year(age)
    assert age.tolist() == [1, 2, 51, 100, 100]


def test_zero_qx_no_deaths_and_unit_qx_all_die(rng):
    age, sex, region = population(10_000, rng)
    factor = np.full(N_REGIONS, 1.3)
    assert not dm.death_mask(age, sex, region, np.zeros((2, 101)), factor, rng).any()
    assert dm.death_mask(age, sex, region, np.ones((2, 101)), factor, rng).all()


def test_death_rate_matches_qx_within_sampling_error(rng):
    n = 1_000_000
    age = np.full(n, 80, dtype=np.int16)
    sex = np.repeat(np.array([0, 1], dtype=np.int8), n // 2)
    region = np.zeros(n, dtype=np.int16)
    qx = np.zeros((2, 101))
    qx[0, 80], qx[1, 80] = 0.03, 0.05
    factor = np.ones(N_REGIONS)
    factor[0] = 1.5
    dead = dm.death_mask(age, sex, region, qx, factor, rng)
    for code in (0, 1):
        expected = 1 - (1 - qx[code, 80]) ** 1.5
        standard_error = np.sqrt(expected * (1 - expected) / (n // 2))
        assert abs(dead[sex == code].mean() - expected) < 5 * standard_error


def test_zero_asfr_no_births(rng):
    age, sex, region = population(10_000, rng)
    assert not dm.birth_mask(age, sex, region, np.zeros((N_REGIONS, 101)), lambda women: rng.random(len(women))).any()


def test_only_women_give_birth(rng):
    age, sex, region = population(10_000, rng)
    births = dm.birth_mask(age, sex, region, np.ones((N_REGIONS, 101)), lambda women: rng.random(len(women)))
    assert births.sum() == (sex == dm.FEMALE).sum()


def test_births_draw_only_for_women_who_can_give_birth():
    """Women aged 30 (rate 0.5) with draws 0.2 and 0.7: the first gives birth; a man of 30 and a woman
    of 60 (rate 0) are not drawn for at all."""
    asfr = np.zeros((N_REGIONS, 101))
    asfr[:, 30] = 0.5
    asked = []

    def uniforms(women: np.ndarray) -> np.ndarray:
        asked.append(women.tolist())
        return np.array([0.2, 0.7])

    age, sex = np.array([30, 30, 30, 60]), np.array([dm.FEMALE, dm.FEMALE, dm.MALE, dm.FEMALE])
    births = dm.birth_mask(age, sex, np.zeros(4, np.int16), asfr, uniforms)
    assert births.tolist() == [True, False, False, False]
    assert asked == [[0, 1]]


def test_scale_asfr_hits_target_and_keeps_regional_ratios(rng):
    asfr = np.zeros((N_REGIONS, 101))
    asfr[:, 15:50] = rng.uniform(0.001, 0.08, (N_REGIONS, 35))
    women = rng.integers(1_000, 100_000, (N_REGIONS, 101)).astype(float)
    scaled = dm.scale_asfr_to_tfr(asfr, women, 1.08)
    assert dm.national_tfr(scaled, women) == pytest.approx(1.08, abs=1e-12)
    fertile = asfr > 0
    ratio = scaled[fertile] / asfr[fertile]
    assert np.allclose(ratio, ratio[0])


def test_newborn_sex_ratio(rng):
    sexes = dm.newborn_sex(1_000_000, rng, 105.1)
    assert sexes.dtype == np.int8
    male_share = 105.1 / 205.1
    assert abs(sexes.mean() - male_share) < 5 * np.sqrt(male_share * (1 - male_share) / 1_000_000)


def test_migrant_profile_sums_to_one_with_its_male_share_and_labour_ages():
    profile = dm.labour_migration_age_profile(0.55, 22.0, 0.4, 0.12, 0.15, 0.005)
    assert profile.sum() == pytest.approx(1.0)
    assert profile[dm.MALE].sum() == pytest.approx(0.55)
    assert 0.65 < profile[:, 20:40].sum() < 0.75


def test_systematic_counts_hand_computed():
    """Cumulative expectations 0.4, 1.0, 2.7 with offset 0.5: floor(0.9)=0, floor(1.5)=1, floor(3.2)=3."""
    assert dm.systematic_counts(np.array([0.4, 0.6, 1.7]), 0.5).tolist() == [0, 1, 2]
    assert dm.systematic_counts(np.array([0.4, 0.6, 1.7]), 0.0).tolist() == [0, 1, 1]


def test_systematic_counts_total_within_one_and_each_cell_within_one(rng):
    expected = rng.random(3_000) * 3
    for offset in rng.random(50):
        counts = dm.systematic_counts(expected, offset)
        assert abs(counts.sum() - expected.sum()) < 1
        assert (np.abs(counts - expected) < 1).all()


def test_international_departures_remove_requested_agents(rng):
    age, sex, region = population(2_000_000, rng)
    departures = np.zeros((N_REGIONS, 2, 101))
    departures[:, :, 20:40] = 50_000 / departures[:, :, 20:40].size
    leaving = dm.departure_mask(age, sex, region, departures, rng.random(len(age)))
    assert abs(leaving.sum() - 50_000) < 5 * np.sqrt(50_000)
    assert not leaving[(age < 20) | (age >= 40)].any()


# --- packaged tables (must exist; never skipped) --------------------------------------------


def test_population_tables_are_complete():
    for year in (2015, 2020, 2021, 2023):
        table = pack_table(f"population_{year}")
        assert len(table) == N_REGIONS * 2 * 101
        assert (table["persons"] >= 0).all()
    assert pack_table("population_2023")["persons"].sum() == 51_325_329


def test_fertility_table_national_tfr_2023():
    fertility = pack_table("fertility")
    assert set(fertility["year"]) == set(range(2012, 2024))
    assert set(fertility["mother_age"]) == set(range(15, 50))
    women = pack_table("population_2023").query("sex == 'F'").pivot(index="region", columns="age", values="persons")
    schedules = fertility[fertility["year"] == 2023].pivot(index="region", columns="mother_age", values="asfr")
    asfr = np.zeros((N_REGIONS, 101))
    asfr[:, 15:50] = schedules.loc[women.index].to_numpy()
    assert dm.national_tfr(asfr, women.to_numpy(dtype=float)) == pytest.approx(0.714, abs=0.01)


def test_mortality_e0_2023_matches_life_table_release():
    mortality = pack_table("mortality")
    for sex, e0 in (("M", 80.6), ("F", 86.4)):
        rows = mortality[(mortality["year"] == 2023) & (mortality["sex"] == sex)]
        qx = rows.sort_values("age")["qx"].to_numpy()
        assert life_expectancy(qx) == pytest.approx(e0, abs=0.05)
        assert (qx[:100] < 1).all() and qx[100] == 1


def test_tfr_path_and_migration_tables():
    path = pack_table("tfr_path").set_index("year")
    assert list(path.index) == list(range(2023, 2073))
    assert path.loc[2025, "tfr"] == pytest.approx(0.65) and not path.loc[2025, "interpolated"]
    assert path.loc[2040, "interpolated"]
    migration = pack_table("international_migration").set_index("year")
    assert list(migration.index) == list(range(2015, 2073))
    projected = migration.loc[2024:, "net_persons"]
    assert (projected > 0).all()
    # The path is implied by the official population series (not published year by year); its
    # last year must stay consistent with the one published value, +61,000 in 2072, within 30 %.
    assert migration.loc[2072, "net_persons"] == pytest.approx(61_000, rel=0.3)


def test_region_factor_table_is_plausible():
    factor = pack_table("mortality_region_factor")
    assert len(factor) == N_REGIONS * 12
    assert factor["factor"].between(0.6, 1.5).all()


# --- packaged tables against the raw statistics (skip without shared/data) -------------------


def test_population_tables_sum_to_raw_groups():
    raw = shared_file("kr_province_population_age_sex_2011_2023.csv")
    raw = raw[raw["sex"].isin(["Male", "Female"])]
    for year in (2015, 2020, 2021, 2023):
        table = pack_table(f"population_{year}")
        table["group"] = np.where(table["age"] == 100, "100+", [f"{a - a % 5}-{a - a % 5 + 4}" for a in table["age"]])
        table["sex"] = table["sex"].map({"F": "Female", "M": "Male"})
        packaged = table.groupby(["region", "sex", "group"])["persons"].sum()
        source = raw[raw["year"] == year].set_index(["region_code", "sex", "age_group"])["population"]
        assert (packaged - source.reindex(packaged.index)).abs().max() == 0


def test_fertility_tfr_matches_derived_file():
    derived = shared_file("kr_province_tfr_derived_2012_2023.csv")
    derived = derived[derived["region_code"] != "00"].set_index(["region_code", "year"])["tfr_derived"]
    tfr = pack_table("fertility").groupby(["region", "year"])["asfr"].sum()
    assert (tfr - derived.reindex(tfr.index)).abs().max() < 0.005


def test_migration_residual_matches_accounting_identity():
    annual = shared_file("kr_province_population_annual_1992_2023.csv").query("region_code == '00'").set_index("year")
    vital = shared_file("kr_province_deaths_tfr_eaps_2000_2023.csv").query("region_code == '00'").set_index("year")
    expected_2023 = annual.loc[2023, "population"] - annual.loc[2022, "population"] - vital.loc[2023, "births"] + vital.loc[2023, "deaths"]
    assert pack_table("international_migration").set_index("year").loc[2023, "net_persons"] == expected_2023


def test_pack_year_tables_hold_the_csv_rows(tmp_path):
    """Life tables, regional mortality factors and fertility schedules are built per year from the
    CSV rows: each value sits in its cell, and a year without some province is a one-line DataError."""
    from sim.errors import DataError
    from sim.inputs.pack import RegionPack

    pack = RegionPack.load("korea", 2023)
    mortality, factors, fertility = pack_table("mortality"), pack_table("mortality_region_factor"), pack_table("fertility")
    row = mortality[(mortality["year"] == 2030) & (mortality["sex"] == "M") & (mortality["age"] == 80)].iloc[0]
    assert pack.qx(2030)[1, 80] == row["qx"]
    busan = factors[(factors["year"] == factors["year"].max()) & (factors["region"] == "26")].iloc[0]
    assert pack.mortality_factor(int(busan["year"]))[pack.index_of["26"]] == busan["factor"]
    births = fertility[(fertility["year"] == 2023) & (fertility["region"] == "50") & (fertility["mother_age"] == 31)].iloc[0]
    schedule = pack.observed_asfr(2023)
    assert schedule[pack.index_of["50"], 31] == births["asfr"]
    schedule[:] = 0.0  # a copy: the pack's schedule is unchanged
    assert pack.observed_asfr(2023)[pack.index_of["50"], 31] == births["asfr"]
    for path in PACK.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    factors[~((factors["year"] == 2020) & (factors["region"] == "11"))].to_csv(tmp_path / "mortality_region_factor.csv", index=False)
    with pytest.raises(DataError, match=r"mortality_region_factor\.csv: no value for region\(s\) 11$"):
        RegionPack.load("korea", 2023, tmp_path).mortality_factor(2020)
