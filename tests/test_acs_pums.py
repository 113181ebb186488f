"""read_acs_pums on tiny PUMS-layout files written here, and on the real Seattle 2016 subset.

Every expected number is worked out by hand from the rows written in the test.
"""

from __future__ import annotations

import gzip
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorecard.errors import (
    DuplicateRecordError,
    InvalidWeightError,
    MismatchedSourcesError,
    MissingColumnsError,
    OrphanRecordError,
    ReplicateCountError,
    ScorecardError,
    UnknownCodeError,
    UnreadableFileError,
)
from scorecard.microdata import Microdata
from scorecard.sources.acs_pums import ExperimentalWeightsWarning, SurveyYearError, read_acs_pums
from scorecard.sources.dollars import DollarsYearError, load_cpi_u_rs, to_constant_dollars
from tests.conftest import shared_file

# --------------------------------------------------------------------------- writers


def person(serial, sporder, *, rel=("RELP", "0"), weeks=("WKW", "1"), **values) -> dict:
    record = {
        "SERIALNO": serial, "SPORDER": str(sporder), "ST": "53", "PUMA": "11601", "PWGTP": "100",
        "AGEP": "40", "SEX": "1", "NATIVITY": "1", "CIT": "1", "YOEP": "", "ENG": "", "LANX": "2",
        "POVPIP": "250", "PINCP": "50000", "PERNP": "40000", "ADJINC": "1007588", "WKHP": "40",
        rel[0]: rel[1], weeks[0]: weeks[1],
    }
    record.update(values)
    return record


def housing(serial, **values) -> dict:
    record = {"SERIALNO": serial, "ST": "53", "TYPE": "1", "NP": "1", "WGTP": "90", "TEN": "1",
              "HINCP": "80000", "ADJINC": "1007588"}
    record.update(values)
    return record


def with_replicates(records: list[dict], prefix: str, start: float = 1.0, count: int = 80) -> list[dict]:
    """Replicate r of record i = start + i + r (distinct, easy to check)."""
    return [{**rec, **{f"{prefix}{r}": str(start + i + r) for r in range(1, count + 1)}}
            for i, rec in enumerate(records)]


def write(path: Path, records: list[dict]) -> Path:
    frame = pd.DataFrame(records).fillna("")
    text = frame.to_csv(index=False)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    elif path.suffix == ".zip":
        inner = path.name.replace("csv_", "psam_").replace(".zip", ".csv")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(inner, text)
    else:
        path.write_text(text)
    return path


def read(person_path, housing_path=None, **options):
    options.setdefault("cache", False)
    return read_acs_pums(person_path, housing_path, **options)


# --------------------------------------------------------------------------- fixtures: one file pair per vintage


@pytest.fixture
def pums_2016(tmp_path):
    """2016 1-year layout: numeric SERIALNO, lower-case replicates, RELP, WKW, TYPE, a GQ person, a vacant unit."""
    persons = [
        person("127", 1, AGEP="45", SEX="2", PINCP="50000", PERNP="40000"),
        person("127", 2, rel=("RELP", "2"), AGEP="3", LANX="", ENG="", PINCP="", PERNP="", POVPIP="250",
               WKHP="", weeks=("WKW", "")),
        person("128", 1, NATIVITY="2", CIT="4", YOEP="1999", LANX="1", ENG="3", WKHP="20", weeks=("WKW", "1")),
        person("129", 1, rel=("RELP", "16"), NATIVITY="2", CIT="5", YOEP="2010", LANX="1", ENG="1",
               POVPIP="", WKHP="", weeks=("WKW", ""), AGEP="70", PWGTP="55"),
    ]
    units = [
        housing("127", NP="2", TEN="3", HINCP="60000"),
        housing("128", TEN="1", HINCP="100000", WGTP="70"),
        housing("129", TYPE="2", TEN="", HINCP="", WGTP="0"),
        housing("130", NP="0", TEN="", HINCP=""),  # vacant
    ]
    p = write(tmp_path / "ss16p53.csv", with_replicates(persons, "pwgtp"))
    h = write(tmp_path / "ss16h53.csv", with_replicates(units, "wgtp", start=1000.0))
    return p, h


def test_2016_layout_harmonized_by_hand(pums_2016):
    micro = read(*pums_2016)
    f = micro.frame
    assert f["survey_year"].tolist() == [2016] * 4
    assert f["state"].tolist() == ["53"] * 4
    assert f["puma"].tolist() == ["11601"] * 4
    assert f["puma_vintage"].tolist() == [2010] * 4
    assert f["household_id"].tolist() == ["127", "127", "128", "129"]
    assert f["person_id"].tolist() == [1, 2, 1, 1]
    assert f["is_householder"].tolist() == [True, False, True, False]
    assert f["sex"].astype(object).tolist() == ["female", "male", "male", "male"]
    assert f["nativity"].astype(object).tolist() == ["native", "native", "foreign_born", "foreign_born"]
    assert f["citizenship"].astype(object).tolist() == ["born_citizen", "born_citizen", "naturalized", "not_citizen"]
    assert f["year_of_entry"].astype(object).tolist() == [pd.NA, pd.NA, 1999, 2010]
    # LANX 2 -> only; age 3 with LANX/ENG blank -> <NA>; ENG 3 -> not_well; ENG 1 -> very_well
    assert f["english"].astype(object).fillna("NA").tolist() == ["only", "NA", "not_well", "very_well"]
    np.testing.assert_allclose(f["poverty_ratio"], [2.5, 2.5, 2.5, np.nan])
    # ADJINC 1007588 -> x 1.007588, dollars_year defaults to 2016 (no CPI step)
    np.testing.assert_allclose(f["person_income"], [50379.4, np.nan, 50379.4, 50379.4])
    np.testing.assert_allclose(f["earnings"], [40303.52, np.nan, 40303.52, 40303.52])
    # 40 h + WKW 1 -> True; age 3 -> <NA>; 20 h -> False; 70 and did not work -> False
    assert f["full_time_year_round"].astype(object).tolist() == [True, pd.NA, False, False]
    # housing joined per person; GQ person: tenure <NA>, household income NaN
    assert f["tenure"].astype(object).fillna("NA").tolist() == ["rented", "rented", "owned_mortgage", "NA"]
    np.testing.assert_allclose(f["household_income"], [60455.28, 60455.28, 100758.8, np.nan])
    assert f["person_weight"].tolist() == [100.0, 100.0, 100.0, 55.0]
    assert f["household_weight"].tolist() == [90.0, 90.0, 70.0, 0.0]
    # replicates: person i, replicate r = 1 + i + r ; housing unit j -> 1000 + j + r, repeated per person
    r = np.arange(1, 81)
    np.testing.assert_array_equal(micro.person_replicates[3], 1 + 3 + r)
    np.testing.assert_array_equal(micro.household_replicates[1], 1000 + 0 + r)
    np.testing.assert_array_equal(micro.household_replicates[3], 1000 + 2 + r)
    assert micro.person_replicates.dtype == np.float32 and micro.person_replicates.shape == (4, 80)
    assert micro.attrs["survey"] == "acs1" and micro.attrs["dollars_year"] == 2016
    assert micro.attrs["sources"] == ["ss16p53.csv", "ss16h53.csv"]
    assert micro.variance_method == "sdr"


def test_report_accounts_for_every_record(pums_2016):
    micro = read(*pums_2016)
    report = micro.report.to_frame()
    assert micro.report.read == micro.report.kept + sum(micro.report.dropped.values()) == 4
    housing_rows = report[report["record_type"] == "housing"].set_index("outcome")["count"]
    assert housing_rows["read"] == 4
    notes = report[report["outcome"] == "note"]
    assert notes["count"].tolist() == [1] and "vacant" in notes["reason"].iloc[0]


def test_2019_layout_string_serial_relshipp_wkwn(tmp_path):
    persons = [
        person("2019HU0000001", 1, rel=("RELSHIPP", "20"), weeks=("WKWN", "52"), ADJINC="1010145"),
        person("2019HU0000001", 2, rel=("RELSHIPP", "25"), weeks=("WKWN", "49"), ADJINC="1010145"),
        person("2019GQ0000002", 1, rel=("RELSHIPP", "38"), weeks=("WKWN", ""), WKHP="", ADJINC="1010145"),
    ]
    units = [
        {"SERIALNO": "2019HU0000001", "TYPEHUGQ": "1", "WGTP": "40", "TEN": "2", "HINCP": "1000", "ADJINC": "1010145"},
        {"SERIALNO": "2019GQ0000002", "TYPEHUGQ": "3", "WGTP": "0", "TEN": "", "HINCP": "", "ADJINC": "1010145"},
    ]
    p = write(tmp_path / "psam_p53.csv", with_replicates(persons, "PWGTP"))
    h = write(tmp_path / "psam_h53.csv", with_replicates(units, "WGTP"))
    micro = read(p, h)
    f = micro.frame
    assert f["survey_year"].tolist() == [2019] * 3
    assert f["household_id"].tolist() == ["2019HU0000001", "2019HU0000001", "2019GQ0000002"]
    assert f["is_householder"].tolist() == [True, False, False]
    assert f["full_time_year_round"].tolist() == [True, False, False]
    assert f["tenure"].astype(object).fillna("NA").tolist() == ["owned_free", "owned_free", "NA"]
    np.testing.assert_allclose(f["household_income"], [1010.145, 1010.145, np.nan])
    assert micro.person_replicates.shape == (3, 80)


def test_2006_adjust_and_2000_pumas(tmp_path):
    records = [person("55", 1, PUMA="1801", PINCP="20000")]
    for r in records:
        r["ADJUST"] = r.pop("ADJINC")
        r["ADJUST"] = "1015675"
    micro = read(write(tmp_path / "ss06p53.csv", records), columns=["person_income"])
    assert micro.frame["survey_year"].tolist() == [2006]
    assert micro.frame["puma"].tolist() == ["01801"]
    assert micro.frame["puma_vintage"].tolist() == [2000]
    np.testing.assert_allclose(micro.frame["person_income"], [20313.5])
    assert micro.person_replicates is None


def test_mixed_vintage_5year_puma00_puma10(tmp_path):
    records = [
        person("2010000000001", 1, PUMA00="1801", PUMA10="-9", ADJINC="1085467"),
        person("2012000000002", 1, PUMA00="-0009", PUMA10="11601", ADJINC="1024887"),
    ]
    for r in records:
        del r["PUMA"]
    micro = read(write(tmp_path / "ss12p53.csv", records), columns=["person_income"])
    f = micro.frame
    assert micro.attrs["survey"] == "acs5"
    assert f["survey_year"].tolist() == [2012, 2012]  # 5-year: the last year
    assert f["puma"].tolist() == ["01801", "11601"]
    assert f["puma_vintage"].tolist() == [2000, 2010]
    # ADJINC of each sample year brings incomes to 2012 dollars
    np.testing.assert_allclose(f["person_income"], [50000 * 1.085467, 50000 * 1.024887])


def test_mixed_puma_with_no_applicable_code_raises(tmp_path):
    records = [person("2010000000001", 1, PUMA00="-9", PUMA10="-9")]
    del records[0]["PUMA"]
    with pytest.raises(UnknownCodeError, match=r"ss12p53.csv: column PUMA00 / PUMA10 .*-9/-9"):
        read(write(tmp_path / "ss12p53.csv", records), columns=["age"])


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".zip"])
def test_compressed_and_zipped_inputs_read_the_same(tmp_path, pums_2016, suffix):
    plain = read(*pums_2016)
    person_records = pd.read_csv(pums_2016[0], dtype=str, keep_default_na=False).to_dict("records")
    housing_records = pd.read_csv(pums_2016[1], dtype=str, keep_default_na=False).to_dict("records")
    stem = {".zip": ("csv_p53", "csv_h53")}.get(suffix, ("ss16p53", "ss16h53"))
    folder = tmp_path / "copy"
    folder.mkdir()
    p = write(folder / f"{stem[0]}{suffix}", person_records)
    h = write(folder / f"{stem[1]}{suffix}", housing_records)
    # the zip member psam_p53.csv carries no year: SERIALNO is numeric, so pass it
    other = read(p, h, survey_year=2016 if suffix == ".zip" else None)
    pd.testing.assert_frame_equal(other.frame, plain.frame)
    np.testing.assert_array_equal(other.household_replicates, plain.household_replicates)
    if suffix == ".zip":
        assert other.attrs["sources"] == ["csv_p53.zip/psam_p53.csv", "csv_h53.zip/psam_h53.csv"]


def test_housing_none_is_valid(pums_2016):
    micro = read(pums_2016[0])
    assert "tenure" not in micro.frame and "household_weight" not in micro.frame
    assert micro.household_replicates is None and len(micro) == 4


def test_several_years_concatenate_in_latest_dollars(tmp_path):
    old = write(tmp_path / "ss16p53.csv", [person("127", 1)])
    new = write(tmp_path / "psam_p06.csv", [person("2019HU0000009", 1, ST="6", ADJINC="1010145")])
    micro = read([old, new], columns=["person_income"])
    assert micro.attrs["dollars_year"] == 2019
    assert micro.frame["state"].tolist() == ["53", "06"]
    expected_2016 = 50000 * 1.007588 * 375.8 / 352.8  # R-CPI-U-RS 2019 / 2016 (BLS release through 2024)
    np.testing.assert_allclose(micro.frame["person_income"], [expected_2016, 50000 * 1.010145])
    assert micro.report.read == 2


def test_dollars_year_argument_converts_by_hand(pums_2016):
    micro = read(pums_2016[0], columns=["person_income"], dollars_year=2010)
    np.testing.assert_allclose(micro.frame["person_income"].iloc[0], 50379.4 * 319.8 / 352.8)
    assert micro.attrs["dollars_year"] == 2010


def test_constant_dollars_by_hand():
    np.testing.assert_allclose(to_constant_dollars([100.0, 200.0], [2009, 2018], 2018),
                               [100.0 * 369.1 / 314.7, 200.0])
    assert load_cpi_u_rs().loc[2016] == 352.8
    assert load_cpi_u_rs().loc[2024] == 462.5
    assert load_cpi_u_rs().loc[1999] == 244.2  # IPUMS 2000 census incomes are 1999 dollars


def test_year_outside_the_cpi_table_refuses_to_guess():
    with pytest.raises(DollarsYearError, match=r"no verified CPI-U-RS value for \[1970\]"):
        to_constant_dollars([1.0], 1970, 2016)


def test_2020_one_year_warns_experimental_weights(tmp_path):
    p = write(tmp_path / "psam_p53.csv", [person("2020HU0000001", 1)])
    with pytest.warns(ExperimentalWeightsWarning, match="experimental weights"):
        read(p, columns=["age"])


# --------------------------------------------------------------------------- errors name file, column and value


def test_missing_required_column(tmp_path):
    records = [person("127", 1)]
    del records[0]["PWGTP"]
    with pytest.raises(MissingColumnsError, match=r"ss16p53.csv is missing columns \['PWGTP'\]"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_missing_harmonized_source_column_names_alternatives(tmp_path):
    records = [person("127", 1)]
    del records[0]["RELP"]
    with pytest.raises(MissingColumnsError, match="RELSHIPP or RELP"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_unknown_code(tmp_path):
    records = [person("127", 1), person("127", 2, CIT="7")]
    with pytest.raises(UnknownCodeError, match=r"ss16p53.csv: column CIT has unknown codes \['7'\] \(rows 1\)"):
        read(write(tmp_path / "ss16p53.csv", records))


@pytest.mark.parametrize(("value", "kind"), [("-3", "negative"), ("", "missing")])
def test_invalid_person_weight(tmp_path, value, kind):
    records = [person("127", 1), person("127", 2, PWGTP=value)]
    with pytest.raises(InvalidWeightError, match=rf"ss16p53.csv: column PWGTP has 1 {kind} values \(rows 1\)"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_negative_replicate_weight_is_kept_and_counted(tmp_path):
    """Real ACS files carry negative replicate weights (16 in one 2015 WA housing record): not an error."""
    records = with_replicates([person("127", 1), person("127", 2)], "pwgtp")
    records[0]["pwgtp37"] = "-1"
    micro = read(write(tmp_path / "ss16p53.csv", records))
    assert micro.person_replicates[0, 36] == -1
    assert micro.negative_replicate_weights == {"person": 1}


def test_missing_replicate_weight(tmp_path):
    records = with_replicates([person("127", 1)], "pwgtp")
    records[0]["pwgtp37"] = ""
    with pytest.raises(InvalidWeightError, match="column pwgtp37 has 1 missing"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_replicate_count_must_be_0_or_80(tmp_path):
    records = with_replicates([person("127", 1)], "PWGTP", count=79)
    with pytest.raises(ReplicateCountError, match=r"ss16p53.csv: found 79 replicate-weight columns \(PWGTP1..PWGTP79\)"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_duplicate_person(tmp_path):
    records = [person("127", 1), person("127", 1)]
    with pytest.raises(DuplicateRecordError, match=r"columns SERIALNO, SPORDER .*\('127', 1\).*rows 0, 1"):
        read(write(tmp_path / "ss16p53.csv", records))


def test_duplicate_housing(tmp_path, pums_2016):
    h = write(tmp_path / "ss16h53_dup.csv", [housing("127"), housing("127")])
    with pytest.raises(DuplicateRecordError, match=r"ss16h53_dup.csv: column SERIALNO .*'127'"):
        read(pums_2016[0], h)


def test_orphans_raise_or_drop_and_count(tmp_path):
    p = write(tmp_path / "ss16p53.csv", [person("127", 1), person("999", 1), person("998", 1)])
    h = write(tmp_path / "ss16h53.csv", [housing("127")])
    with pytest.raises(OrphanRecordError, match=r"ss16p53.csv: column SERIALNO has 2 .*'999'.*ss16h53.csv.*rows 1, 2"):
        read(p, h)
    micro = read(p, h, on_orphans="drop")
    assert len(micro) == 1 and micro.frame["household_id"].tolist() == ["127"]
    assert micro.report.read == 3 and micro.report.kept == 1
    assert micro.report.dropped == {"no housing record with the same SERIALNO": 2}


@pytest.mark.parametrize("content", ["", "SERIALNO,SPORDER,ST,PUMA,PWGTP\n"])
def test_empty_file(tmp_path, content):
    p = tmp_path / "ss16p53.csv"
    p.write_text(content)
    with pytest.raises(UnreadableFileError, match="ss16p53.csv"):
        read(p, columns=[])


def test_bad_zip_is_unreadable(tmp_path):
    p = tmp_path / "csv_p53.zip"
    p.write_bytes(b"not a zip")
    with pytest.raises(UnreadableFileError, match="csv_p53.zip: not a readable zip archive"):
        read(p)


def test_person_and_housing_of_different_years(tmp_path):
    p = write(tmp_path / "ss16p53.csv", [person("127", 1)])
    h = write(tmp_path / "ss17h53.csv", [housing("127")])
    with pytest.raises(MismatchedSourcesError, match=r"ss16p53.csv is survey year 2016 but ss17h53.csv is 2017"):
        read(p, h)


def test_survey_year_unknown_raises_then_argument_works(tmp_path):
    p = write(tmp_path / "persons.csv", [person("127", 1)])
    with pytest.raises(SurveyYearError, match="persons.csv: cannot tell the survey year"):
        read(p, columns=["age"])
    assert read(p, columns=["age"], survey_year=2014).frame["survey_year"].tolist() == [2014]


def test_errors_are_scorecard_errors_and_pickle(tmp_path):
    p = write(tmp_path / "ss16p53.csv", [person("127", 1, CIT="9")])
    with pytest.raises(ScorecardError) as info:
        read(p)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)


# --------------------------------------------------------------------------- real data: Seattle 2016 person subset

N_REPLICATES = 80


def sdr_se(full: float, replicates: np.ndarray) -> float:
    return float(np.sqrt(4 / N_REPLICATES * np.sum((replicates - full) ** 2)))


@pytest.mark.shared
def test_seattle_subset_via_from_frame(shared_data):
    path = shared_file(shared_data, "real/pumsutils_wa/seattle_2016_person_pums_subset.csv.gz")
    raw = pd.read_csv(path, dtype={"SERIALNO": str, "PUMA": str})
    micro = Microdata.from_frame(
        raw,
        {"household_id": "SERIALNO", "puma": "PUMA", "age": "AGEP", "person_weight": "PWGTP"},
        person_replicates="PWGTP",
        defaults={"survey_year": 2016, "state": "53", "puma_vintage": 2010},
        source=path.name,
    )
    total = micro.frame["person_weight"].sum()
    replicate_totals = micro.person_replicates.astype("float64").sum(axis=0)
    assert total == 704_616
    assert sdr_se(total, replicate_totals) == pytest.approx(993, abs=1)


@pytest.mark.shared
def test_seattle_subset_via_reader(shared_data):
    path = shared_file(shared_data, "real/pumsutils_wa/seattle_2016_person_pums_subset.csv.gz")
    micro = read_acs_pums(path, survey_year=2016, state="53", columns=["age", "sex", "is_householder"],
                          keep=["RAC1P"], cache=False)
    assert len(micro) == 6053 and micro.report.read == 6053
    assert micro.frame["household_id"].nunique() == 3073
    assert set(micro.frame["puma"]) == {"11601", "11602", "11603", "11604", "11605"}
    total = micro.frame["person_weight"].sum()
    assert total == 704_616
    se = sdr_se(total, micro.person_replicates.astype("float64").sum(axis=0))
    assert se == pytest.approx(993, abs=1)
    # every occupied household has exactly one reference person (RELP 0); GQ persons (16/17) are not householders
    householders = micro.frame.groupby("household_id")["is_householder"].sum()
    assert set(householders.unique()) <= {0, 1}
    assert micro.frame["RAC1P"].notna().all()
