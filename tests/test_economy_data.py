"""Known-answer checks on the packaged economy tables and the parameter file."""

import pytest
import yaml

from sim.inputs.data import DATA_DIR, read_table

PROVINCES = 17
HALF_A_THOUSAND = 500  # EAPS is published in thousands: each province can be off by 500 persons


def test_labour_employed_2023_matches_official_national_total():
    labour = read_table("labour")
    employed_2023 = labour.loc[labour.year == 2023, "employed"]
    assert len(employed_2023) == PROVINCES
    assert employed_2023.sum() == pytest.approx(28_416_000, abs=PROVINCES * HALF_A_THOUSAND)


def test_labour_is_complete_and_consistent():
    labour = read_table("labour")
    assert len(labour) == PROVINCES * len(range(2015, 2024))
    assert (labour.economically_active - labour.employed == labour.unemployed).all()
    assert (labour.economically_active <= labour.pop_15plus).all()


def test_sejong_split_keeps_the_published_chungnam_total():
    labour = read_table("labour").set_index(["region", "year"])
    for year in (2015, 2016):
        combined = labour.loc[("36", year), "employed"] + labour.loc[("44", year), "employed"]
        published_chungnam_incl_sejong = {2015: 1_199_000, 2016: 1_226_000}[year]
        assert combined == published_chungnam_incl_sejong
        assert isinstance(labour.loc[("36", year), "note"], str)


def test_establishments_match_census_totals():
    census = read_table("establishments_2023")
    assert census.industry.nunique() == 19
    assert census.establishments.sum() == 6_246_489
    assert census.workers.sum() == 25_445_897


def test_grdp_2023_sums_to_national_headline():
    grdp = read_table("grdp")
    latest = grdp[grdp.year == 2023]
    assert len(latest) == PROVINCES
    assert latest.grdp_krw.sum() == pytest.approx(2_404e12, rel=0.005)
    capital = latest[latest.region.isin(["11", "28", "41"])].grdp_krw.sum()
    assert capital == pytest.approx(1_258e12, rel=0.005)


def test_grdp_sector_shares_sum_to_one():
    shares = read_table("grdp_sector_shares_2023")
    totals = shares.groupby("region").share.sum()
    assert len(totals) == PROVINCES
    assert totals.between(0.999, 1.001).all()


def test_rnd_sums_to_national_2022_total():
    rnd = read_table("rnd_2022")
    assert len(rnd) == PROVINCES
    assert rnd.rd_krw.sum() == pytest.approx(112_646e9, abs=PROVINCES)  # rounding to whole KRW


def _parameter_entries():
    parameters = yaml.safe_load((DATA_DIR / "parameters.yaml").read_text(encoding="utf-8"))
    return [(f"{section}.{name}", entry) for section, entries in parameters.items() for name, entry in (entries or {}).items()]


@pytest.mark.parametrize("name, entry", _parameter_entries())
def test_every_parameter_has_value_unit_and_provenance(name, entry):
    assert isinstance(entry, dict), f"{name}: entry must be a mapping"
    assert "value" in entry, f"{name}: no value"
    assert entry.get("unit"), f"{name}: no unit"
    cited = bool(entry.get("source"))
    assumed = entry.get("assumption") is True and bool(entry.get("note"))
    assert cited or assumed, f"{name}: needs a source, or assumption: true with a note"
