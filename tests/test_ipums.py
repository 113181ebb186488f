"""Tests of scorecard.read_ipums on IPUMS USA extracts written by tests/ipums_fixture.py.

Expected values are read off the fixture's records by hand (see the record
tables in ipums_fixture.py), not computed with the reader's code tables.
"""

from __future__ import annotations

import gzip
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipums_fixture import (  # noqa: E402
    acs_records,
    census2000_records,
    multiyear_records,
    replicate_factor,
    write_extract,
)

import scorecard  # noqa: E402
from scorecard.errors import (  # noqa: E402
    DuplicateRecordError,
    InvalidWeightError,
    MissingColumnsError,
    ReplicateCountError,
    UnknownCodeError,
    UnreadableFileError,
)
from scorecard.sources.ipums import read_ipums  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::ipumspy.readers.CitationWarning")


def _read(path, records, **kwargs):
    fmt = kwargs.pop("fmt", "dat")
    compress = kwargs.pop("compress", True)
    kwargs.setdefault("cache", False)
    ddi, data = write_extract(path, records, fmt=fmt, compress=compress)
    return read_ipums(ddi, **kwargs)


@pytest.fixture(scope="module")
def acs(tmp_path_factory):
    return _read(tmp_path_factory.mktemp("acs"), acs_records())


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    return _read(tmp_path_factory.mktemp("census"), census2000_records())


# ---------------------------------------------------------------------------- harmonized values
def test_lazy_export():
    assert scorecard.read_ipums is read_ipums


def test_acs_naturalized_householder(acs):
    row = acs.frame.iloc[0]
    assert row["household_id"] == "201901-1001"
    assert row["person_id"] == 1 and bool(row["is_householder"])
    assert (row["survey_year"], row["state"], row["puma"], row["puma_vintage"]) == (2019, "53", "11601", 2010)
    assert (row["age"], row["sex"], row["nativity"], row["citizenship"]) == (40, "male", "foreign_born", "naturalized")
    assert row["year_of_entry"] == 1995 and row["english"] == "very_well"
    assert row["poverty_ratio"] == pytest.approx(3.5)
    assert (row["person_income"], row["earnings"], row["household_income"]) == (60000, 60000, 85000)
    assert bool(row["full_time_year_round"]) and row["tenure"] == "owned_mortgage"
    assert (row["person_weight"], row["household_weight"]) == (120.0, 100.0)
    assert (row["CITY"], row["MET2013"]) == (7230, 42660)


def test_acs_other_records(acs):
    f = acs.frame
    # spouse: not a citizen, speaks English not well, part time
    assert (f.at[1, "citizenship"], f.at[1, "english"], bool(f.at[1, "full_time_year_round"])) == (
        "not_citizen",
        "not_well",
        False,
    )
    assert f.at[1, "person_weight"] == 110.5 and not f.at[1, "is_householder"]
    # child aged 3: native, no year of entry, no English item, INCTOT N/A
    assert (f.at[2, "nativity"], f.at[2, "citizenship"]) == ("native", "born_citizen")
    assert pd.isna(f.at[2, "year_of_entry"]) and pd.isna(f.at[2, "english"]) and np.isnan(f.at[2, "person_income"])
    # renter householder with a loss
    assert (f.at[3, "tenure"], f.at[3, "person_income"], f.at[3, "puma"], f.at[3, "english"]) == (
        "rented",
        -1500,
        "10100",
        "only",
    )
    assert f.at[3, "poverty_ratio"] == pytest.approx(0.8)
    # born abroad of American parents: native, year of entry dropped although YRIMMIG = 1999
    assert (f.at[4, "nativity"], f.at[4, "citizenship"], f.at[4, "english"]) == ("native", "born_citizen", "well")
    assert pd.isna(f.at[4, "year_of_entry"]) and bool(f.at[4, "full_time_year_round"])
    # CITIZEN 5: foreign-born, citizenship unknown; POVERTY 501 top code; owned free; 48 weeks
    assert (f.at[5, "nativity"], f.at[5, "year_of_entry"], f.at[5, "english"]) == ("foreign_born", 1980, "not_at_all")
    assert pd.isna(f.at[5, "citizenship"]) and f.at[5, "poverty_ratio"] == pytest.approx(5.01)
    assert f.at[5, "tenure"] == "owned_free" and not f.at[5, "full_time_year_round"]
    assert f.at[5, "earnings"] == 240000 and bool(f.at[5, "is_householder"])  # GQ 2 is a household
    # SPEAKENG 7 unknown; no cash rent; 35 hours x 50 weeks is full-time year-round
    assert pd.isna(f.at[7, "english"]) and f.at[7, "tenure"] == "no_rent" and bool(f.at[7, "full_time_year_round"])
    # institution (GQ 3): no householder, no tenure, no household income, no poverty ratio
    assert not f.at[8, "is_householder"] and pd.isna(f.at[8, "tenure"])
    assert np.isnan(f.at[8, "household_income"]) and np.isnan(f.at[8, "poverty_ratio"])


def test_acs_dtypes_follow_schema(acs):
    for name, spec in scorecard.schema.COLUMNS.items():
        if name in acs.frame and spec.dtype != "category":
            assert str(acs.frame[name].dtype) == spec.dtype, name
    assert list(acs.frame["english"].cat.categories) == list(scorecard.schema.COLUMNS["english"].categories)


def test_acs_replicate_matrices(acs):
    records = acs_records()
    person = np.column_stack([records["PERWT"] * replicate_factor(r, "person") for r in range(1, 81)])
    household = np.column_stack([records["HHWT"] * replicate_factor(r, "household") for r in range(1, 81)])
    assert acs.person_replicates.dtype == np.float32 and acs.person_replicates.shape == (9, 80)
    assert acs.household_replicates.dtype == np.float32 and acs.household_replicates.shape == (9, 80)
    np.testing.assert_allclose(acs.person_replicates, person, atol=0.006)
    np.testing.assert_allclose(acs.household_replicates, household, atol=0.006)
    assert acs.person_replicates[1, 2] == np.float32(55.25)  # 110.50 x 0.5
    assert acs.variance_method == "sdr"


def test_acs_report_and_attrs(acs):
    report = acs.report
    assert (report.read, report.kept, report.dropped) == (9, 9, {})
    notes = report.entries[report.entries["outcome"] == "note"].set_index("reason")["count"]
    assert notes[notes.index.str.startswith("CITIZEN 5")].tolist() == [1]
    assert notes[notes.index.str.startswith("SPEAKENG 7")].tolist() == [1]
    assert acs.attrs["dollars_year"] is None and acs.attrs["samples"] == {"201901": "2019 ACS"}
    assert acs.attrs["source"] == "usa_00001.dat.gz" and "IPUMS USA" in acs.attrs["citation"]


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("fmt", ["dat", "csv"])
@pytest.mark.parametrize("chunksize", [2, 100_000])
def test_formats_and_chunking_agree(tmp_path, acs, fmt, compress, chunksize):
    micro = _read(tmp_path, acs_records(), fmt=fmt, compress=compress, chunksize=chunksize)
    pd.testing.assert_frame_equal(micro.frame, acs.frame)
    np.testing.assert_array_equal(micro.person_replicates, acs.person_replicates)
    np.testing.assert_array_equal(micro.household_replicates, acs.household_replicates)
    assert micro.report.read == 9


def test_census_linearization_design(census):
    f = census.frame
    assert census.person_replicates is None and census.household_replicates is None
    assert census.variance_method == "linearization"
    assert f["variance_strata"].tolist() == [10153, 10153, 10153, 20153, 20153]
    assert f["variance_cluster"].tolist() == [2000000000201] * 3 + [2000000000202, 2000000000203]
    assert str(f["variance_cluster"].dtype) == "Int64"
    assert (f.at[0, "state"], f.at[0, "puma"], f.at[0, "puma_vintage"], f.at[0, "household_id"]) == (
        "06",
        "03701",
        2000,
        "200001-201",
    )
    # WKSWORK2 = 6 (50-52 weeks) and 35+ hours
    assert f["full_time_year_round"].tolist() == [True, False, False, True, False]
    assert f.at[3, "citizenship"] == "not_citizen"  # CITIZEN 4, first papers
    assert pd.isna(f.at[4, "tenure"]) and not f.at[4, "is_householder"]  # GQ 4


def test_census_without_design_warns(tmp_path):
    records = census2000_records().drop(columns=["STRATA", "CLUSTER"])
    with pytest.warns(UserWarning, match="no standard errors can be computed"):
        micro = _read(tmp_path, records)
    assert micro.variance_method == "none"


def test_design_present_does_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", category=Warning, module="ipumspy")
        _read(tmp_path, census2000_records())


# ---------------------------------------------------------------------------- PUMA vintages
def test_multiyear_sample_uses_multyear(tmp_path):
    micro = _read(tmp_path, multiyear_records())
    assert micro.frame["puma_vintage"].tolist() == [2000, 2000, 2010]
    assert micro.frame["survey_year"].tolist() == [2012] * 3


def test_multiyear_sample_without_multyear_refused(tmp_path):
    records = multiyear_records().drop(columns=["MULTYEAR"])
    with pytest.raises(MissingColumnsError, match="MULTYEAR") as info:
        _read(tmp_path, records)
    assert "201205" in str(info.value) and "2008-2012" in str(info.value)


@pytest.mark.parametrize(("year", "sample", "vintage"), [(2023, 202301, 2020), (2019, 201901, 2010)])
def test_single_year_vintages(tmp_path, year, sample, vintage):
    records = acs_records().assign(YEAR=year, SAMPLE=sample)
    assert _read(tmp_path, records).frame["puma_vintage"].unique().tolist() == [vintage]


def test_year_without_pumas_refused(tmp_path):
    records = census2000_records().assign(YEAR=1970)
    with pytest.raises(UnknownCodeError, match=r"column YEAR has unknown codes \[1970\]"):
        _read(tmp_path, records)


# ---------------------------------------------------------------------------- record report
def test_vacant_unit_records_dropped_and_counted(tmp_path):
    records = acs_records()
    vacant = records.iloc[[8]].assign(SERIAL=1006, GQ=0, PERNUM=0, RELATE=1)
    micro = _read(tmp_path, pd.concat([records, vacant], ignore_index=True))
    assert len(micro) == 9 and micro.person_replicates.shape == (9, 80)
    assert micro.report.read == 10
    assert micro.report.dropped == {"vacant housing unit record (GQ 0) with no person": 1}
    assert micro.report.read == micro.report.kept + sum(micro.report.dropped.values())


def test_foreign_born_without_year_of_entry_is_noted(tmp_path):
    records = acs_records()
    records.loc[1, "YRIMMIG"] = 0
    micro = _read(tmp_path, records)
    assert pd.isna(micro.frame.at[1, "year_of_entry"])
    assert any(r.startswith("YRIMMIG 0/996") for r in micro.report.entries["reason"])


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("variable", "code", "table"),
    [("CITIZEN", 7, "ipums_citizen.csv"), ("SPEAKENG", 9, "ipums_speakeng.csv"), ("GQ", 8, "ipums_gq.csv")],
)
def test_unknown_code(tmp_path, variable, code, table):
    records = acs_records()
    records.loc[4, variable] = code
    with pytest.raises(UnknownCodeError) as info:
        _read(tmp_path, records)
    message = str(info.value)
    assert message.startswith(f"usa_00001.dat.gz: column {variable} has unknown codes [{code}] (rows 4)")
    assert table in message
    assert pickle.loads(pickle.dumps(info.value)).codes == [code]


def test_unknown_code_row_counts_across_chunks(tmp_path):
    records = acs_records()
    records.loc[7, "SEX"] = 3
    with pytest.raises(UnknownCodeError, match=r"column SEX has unknown codes \[3\] \(rows 7\)"):
        _read(tmp_path, records, chunksize=3)


def test_owner_without_mortgage_status_refused(tmp_path):
    records = acs_records()
    records.loc[records["SERIAL"] == 1003, "OWNERSHPD"] = 10
    with pytest.raises(UnknownCodeError, match=r"column OWNERSHPD has unknown codes \[10\] \(rows 5, 6\).*mortgage"):
        _read(tmp_path, records)


def test_missing_variables_listed(tmp_path):
    with pytest.raises(MissingColumnsError) as info:
        _read(tmp_path, acs_records().drop(columns=["SPEAKENG", "PERWT"]))
    assert info.value.missing == {"SPEAKENG", "PERWT"}
    assert "usa_00001.dat.gz is missing columns ['PERWT', 'SPEAKENG']" in str(info.value)
    assert "IPUMS USA extract system" in str(info.value)


def test_ownershp_without_detailed_version(tmp_path):
    with pytest.raises(MissingColumnsError, match=r"\['OWNERSHPD'\].*detailed version of OWNERSHP"):
        _read(tmp_path, acs_records().drop(columns=["OWNERSHPD"]))


def test_weeks_worked_needed(tmp_path):
    with pytest.raises(MissingColumnsError, match="WKSWORK1"):
        _read(tmp_path, acs_records().drop(columns=["WKSWORK1", "WKSWORK2"]))


@pytest.mark.parametrize("column", ["REPWTP7", "REPWT80"])
def test_negative_replicate_weight_is_kept_and_counted(tmp_path, column):
    records = acs_records()
    records.loc[6, column] = -10.0
    micro = _read(tmp_path, records)
    kind = "person" if column.startswith("REPWTP") else "household"
    assert micro.negative_replicate_weights[kind] >= 1


@pytest.mark.parametrize("column", ["PERWT", "HHWT"])
def test_negative_weight(tmp_path, column):
    records = acs_records()
    records.loc[6, column] = -10.0
    with pytest.raises(
        InvalidWeightError, match=rf"usa_00001.dat.gz: column {column} has 1 negative values \(rows 6\)"
    ):
        _read(tmp_path, records)


def test_missing_weight_in_csv(tmp_path):
    records = acs_records().astype({"PERWT": "float64"})
    records.loc[2, "PERWT"] = np.nan
    with pytest.raises(InvalidWeightError, match=r"column PERWT has 1 missing values \(rows 2\)"):
        _read(tmp_path, records, fmt="csv")


def test_replicate_count(tmp_path):
    with pytest.raises(ReplicateCountError, match=r"found 79 REPWTP replicate-weight variables \(REPWTP1..REPWTP79\)"):
        _read(tmp_path, acs_records().drop(columns=["REPWTP80"]))


def test_duplicate_person(tmp_path):
    records = acs_records()
    records.loc[1, "PERNUM"] = 1
    with pytest.raises(
        DuplicateRecordError, match=r"2 records share .*rows 0, 1; e.g. SAMPLE 201901, SERIAL 1001, PERNUM 1"
    ):
        _read(tmp_path, records)


def test_missing_ddi(tmp_path):
    with pytest.raises(UnreadableFileError, match="does not exist"):
        read_ipums(tmp_path / "usa_00009.xml")


@pytest.mark.parametrize("content", ["", "<codeBook>not closed", "<?xml version='1.0'?><codeBook/>"])
def test_unreadable_ddi(tmp_path, content):
    path = tmp_path / "usa_00009.xml"
    path.write_text(content)
    with pytest.raises(UnreadableFileError, match="usa_00009.xml"):
        read_ipums(path)


def test_missing_data_file(tmp_path):
    ddi, data = write_extract(tmp_path, acs_records())
    data.unlink()
    with pytest.raises(UnreadableFileError, match=r"data file usa_00001.dat .*data_path="):
        read_ipums(ddi)


@pytest.mark.parametrize("payload", [b"", gzip.compress(b""), b"\x1f\x8b\x08 truncated"])
def test_unreadable_data_file(tmp_path, payload):
    ddi, data = write_extract(tmp_path, acs_records())
    data.write_bytes(payload)
    with pytest.raises(UnreadableFileError, match="usa_00001.dat.gz"):
        read_ipums(ddi)


def test_csv_not_matching_ddi(tmp_path):
    ddi, data = write_extract(tmp_path, acs_records(), fmt="csv")
    acs_records().drop(columns=["AGE"]).to_csv(data, index=False, compression="gzip")
    with pytest.raises(UnreadableFileError, match="cannot be read as the data file its DDI describes"):
        read_ipums(ddi)


def test_explicit_data_path(tmp_path):
    ddi, data = write_extract(tmp_path / "a", acs_records())
    moved = tmp_path / "elsewhere.dat.gz"
    data.rename(moved)
    micro = read_ipums(ddi, data_path=moved, cache=False)
    assert len(micro) == 9 and micro.attrs["source"] == "elsewhere.dat.gz"


def test_parquet_cache_hit_and_invalidation(tmp_path, acs):
    ddi, data = write_extract(tmp_path / "x", acs_records())
    first = read_ipums(ddi, cache_dir=tmp_path / "cache")
    again = read_ipums(ddi, cache_dir=tmp_path / "cache")
    assert (first.attrs["cache"], again.attrs["cache"]) == ("miss", "hit")
    pd.testing.assert_frame_equal(again.frame, acs.frame)
    np.testing.assert_array_equal(again.person_replicates, acs.person_replicates)
    assert again.report.read == 9 and again.report.kept == 9
    records = acs_records()
    records.loc[0, "AGE"] = 41
    write_extract(tmp_path / "x", records)  # same names, new content
    changed = read_ipums(ddi, cache_dir=tmp_path / "cache")
    assert changed.attrs["cache"] == "miss" and changed.frame.at[0, "age"] == 41
    assert read_ipums(ddi, cache=False).attrs["cache"] == "off"


# ---------------------------------------------------------------------------- constant dollars
def test_dollars_year_uses_income_year(tmp_path, monkeypatch):
    import scorecard.sources.ipums as ipums

    calls = []

    def to_constant_dollars(values, from_year, to_year):
        calls.append((sorted(set(np.atleast_1d(from_year).tolist())), to_year))
        return np.asarray(values) * 2.0

    monkeypatch.setattr(ipums._dollars, "to_constant_dollars", to_constant_dollars)
    micro = _read(tmp_path, census2000_records(), dollars_year=2022)
    assert calls and all(c == ([1999], 2022) for c in calls)  # 2000 Census income refers to 1999
    assert micro.frame.at[0, "person_income"] == 80000 and micro.frame.at[0, "household_income"] == 144000
    assert micro.attrs["dollars_year"] == 2022 and micro.dollars_year == 2022
    acs = _read(tmp_path / "acs", acs_records(), dollars_year=2022)
    assert acs.frame.at[0, "earnings"] == 120000 and ([2019], 2022) in calls


def test_dollars_year_with_cpi_u_rs(tmp_path, acs):
    from scorecard.sources.dollars import load_cpi_u_rs

    table = load_cpi_u_rs().dropna()
    if not {2016, 2019} <= set(table.index):
        pytest.skip("CPI-U-RS for 2016 and 2019 not in the table")
    micro = _read(tmp_path, acs_records(), dollars_year=2016)
    factor = table[2016] / table[2019]
    assert micro.frame.at[0, "household_income"] == pytest.approx(85000 * factor)
    assert micro.frame.at[3, "person_income"] == pytest.approx(-1500 * factor)
    assert np.isnan(micro.frame.at[2, "person_income"])
    pd.testing.assert_series_equal(micro.frame["age"], acs.frame["age"])


def test_dollars_year_type_checked(tmp_path):
    with pytest.raises(TypeError, match="'dollars_year' parameter of read_ipums must be an int"):
        _read(tmp_path, acs_records(), dollars_year="2020")


# ---------------------------------------------------------------------------- fixed-width engines
def test_numpy_and_ipumspy_fixed_width_agree(tmp_path, acs, monkeypatch):
    import scorecard.sources.ipums as ipums

    monkeypatch.setattr(ipums, "_FAST_FIXED_WIDTH", False)
    micro = _read(tmp_path, acs_records(), chunksize=4)
    pd.testing.assert_frame_equal(micro.frame, acs.frame)
    np.testing.assert_array_equal(micro.person_replicates, acs.person_replicates)


def test_fixed_width_garbage_character(tmp_path):
    ddi, data = write_extract(tmp_path, acs_records(), compress=False)
    lines = data.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3][:10] + b"X" + lines[3][11:]  # inside SERIAL (columns 11-18)
    data.write_bytes(b"".join(lines))
    with pytest.raises(UnreadableFileError, match=r"variable SERIAL of record 3 is 'X0001002'"):
        read_ipums(ddi)


def test_fixed_width_truncated_record(tmp_path):
    ddi, data = write_extract(tmp_path, acs_records(), compress=False)
    lines = data.read_bytes().splitlines(keepends=True)
    lines[5] = lines[5][:40] + b"\n"
    data.write_bytes(b"".join(lines))
    with pytest.raises(UnreadableFileError, match="record 5 has 40 characters"):
        read_ipums(ddi)


def test_year_of_immigration_after_the_survey_year_is_refused(tmp_path):
    from scorecard.errors import OutOfRangeError

    records = acs_records()
    records.loc[0, "YRIMMIG"] = 2030  # a 2019 sample
    with pytest.raises(OutOfRangeError, match=r"column year_of_entry has 1 values outside 1790.. or above survey_year"):
        _read(tmp_path, records)
