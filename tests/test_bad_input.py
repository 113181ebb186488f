"""Bad input tried as a new user would (issue 11): each case ends in a named ScorecardError.

Crosswalk cases are in tests/test_places.py, housing-only reads in tests/test_housing_only.py, and
random mutations of whole Census files in tests/properties/test_bad_input_properties.py.
"""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

import scorecard as sc
from cohorts.schemes import as_grouping
from scorecard.errors import (
    DuplicateRecordError,
    EstimationError,
    InvalidWeightError,
    MismatchedSourcesError,
    MissingColumnsError,
    OutOfRangeError,
    ScorecardError,
    UnreadableFileError,
)
from scorecard.tables.api_files import read_acs_table
from scorecard.tables.errors import MissingLineError
from scorecard.tables.reader import read_acs_tables
from tests.test_acs_pums import housing, person, read, with_replicates, write
from tests.test_tables import B17025_LEGEND, _b17025


@pytest.fixture
def pair(tmp_path):
    persons = [person("127", 1), person("127", 2, AGEP="8", rel=("RELP", "2")),
               person("128", 1, NATIVITY="2", CIT="4", YOEP="1999", LANX="1", ENG="3")]
    p = write(tmp_path / "ss16p53.csv", with_replicates(persons, "pwgtp"))
    h = write(tmp_path / "ss16h53.csv", with_replicates([housing("127", NP="2"), housing("128")], "wgtp"))
    return p, h


def _edit(path, column, row, value):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- ranges at the door
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("AGEP", "150", r"ss16p53.csv: column age has 1 values outside 0..99 \(150 at row 0\)"),
        ("AGEP", "-3", r"column age has 1 values outside 0..99 \(-3 at row 0\)"),
        ("YOEP", "2030", r"column year_of_entry has 1 values outside 1900.. or above survey_year \(2030 at row 2\)"),
        ("PWGTP", "12.5", r"column person_weight has 1 values that are not whole numbers \(12.5 at row 0\)"),
    ],
)
def test_census_values_out_of_range_are_refused(pair, column, value, message):
    p, h = pair
    row = 2 if column == "YOEP" else 0
    _edit(p, column, row, value)
    with pytest.raises(OutOfRangeError, match=message):
        read(p, h)


def test_fractional_housing_weight_is_refused(pair):
    p, h = pair
    _edit(h, "WGTP", 1, "70.25")
    with pytest.raises(OutOfRangeError, match=r"ss16h53.csv: column household_weight .* not whole numbers \(70.25"):
        read(p, h)


def test_fractional_weights_are_allowed_from_a_frame_but_ages_still_checked():
    frame = pd.DataFrame({"YEAR": [2016, 2016], "ST": ["53", "53"], "PUMA": ["11601", "11601"], "ID": ["1", "2"],
                          "AGE": [30, 40], "WT": [10.5, 2.25]})
    mapping = {"survey_year": "YEAR", "state": "ST", "puma": "PUMA", "household_id": "ID", "age": "AGE",
               "person_weight": "WT"}
    micro = sc.Microdata.from_frame(frame, mapping, defaults={"puma_vintage": 2010})
    assert micro.frame["person_weight"].tolist() == [10.5, 2.25]
    with pytest.raises(OutOfRangeError, match=r"frame: column age has 1 values outside 0..120 \(121 at row 1\)"):
        sc.Microdata.from_frame(frame.assign(AGE=[30, 121]), mapping, defaults={"puma_vintage": 2010})


@pytest.mark.parametrize("quantile", [1.5, 0.0, 1.0, -0.1, float("nan"), "0.5"])
def test_quantile_outside_0_1_is_refused(quantile):
    micro = sc.Microdata.from_frame(pd.DataFrame({"survey_year": [2016], "state": ["53"], "puma": ["11601"],
                                                  "puma_vintage": [2010], "household_id": ["1"],
                                                  "person_weight": [10.0]}))
    with pytest.raises(OutOfRangeError, match="The 'quantile' parameter of estimate must be a number strictly between"):
        sc.estimate(micro, ["median_household_income"], quantile=quantile)


def test_estimate_of_a_path_says_read_it_first():
    with pytest.raises(EstimationError, match=r"got the path 'x.csv'. Read the file first"):
        sc.estimate("x.csv", ["naturalized"])


# --------------------------------------------------------------------------- files passed wrongly
def test_same_files_twice_are_refused(pair):
    p, h = pair
    with pytest.raises(UnreadableFileError, match="more than once; every record would be counted twice"):
        read([p, p], [h, h])


def test_a_copy_of_the_same_pair_is_refused(pair, tmp_path):
    p, h = pair
    (tmp_path / "copy").mkdir()
    p2, h2 = shutil.copy(p, tmp_path / "copy" / "ss16p53.csv"), shutil.copy(h, tmp_path / "copy" / "ss16h53.csv")
    with pytest.raises(DuplicateRecordError, match=r"share 2 SERIALNO values of the same survey year \('127', '128'\)"):
        read([p, p2], [h, h2])


def test_state_argument_against_the_files_st_is_refused(pair):
    p, h = pair
    with pytest.raises(MismatchedSourcesError, match=r"ss16p53.csv: column ST holds state \['53'\] but state='06'"):
        read(p, h, state="6")
    assert read(p, h, state="53").frame["state"].unique().tolist() == ["53"]


def test_folder_as_person_file_says_it_is_a_folder(pair, tmp_path):
    with pytest.raises(UnreadableFileError, match="is a folder; read_acs_pums takes the person files themselves"):
        read(tmp_path)


def test_semicolon_file_says_it_is_not_comma_separated(pair):
    p, h = pair
    frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    frame.to_csv(p, index=False, sep=";")
    with pytest.raises(UnreadableFileError, match="ss16p53.csv: the header is one column split by ';'"):
        read(p, h)


def test_latin1_byte_in_age_names_the_column_and_encoding(pair):
    p, h = pair
    raw = p.read_bytes().replace(b",8,", b",\xe9,", 1)
    p.write_bytes(raw)
    with pytest.raises(UnreadableFileError, match="ss16p53.csv: column AGEP holds bytes that are not UTF-8"):
        read(p, h)


def test_text_in_a_weight_column_names_the_column(pair):
    p, h = pair
    _edit(p, "PWGTP", 1, "abc")
    with pytest.raises(UnreadableFileError, match="ss16p53.csv: column PWGTP holds a value that is not a number"):
        read(p, h)


def test_negative_weight_is_still_an_invalid_weight(pair):
    p, h = pair
    _edit(p, "PWGTP", 1, "-5")
    with pytest.raises(InvalidWeightError):
        read(p, h)


# --------------------------------------------------------------------------- published tables
def test_truncated_table_gz_names_the_file(tmp_path):
    data = tmp_path / "ACSDT1Y2017.B17025_DATA.csv.gz"
    data.write_bytes(gzip.compress(_b17025().to_csv(index=False).encode())[:-20])
    with pytest.raises(UnreadableFileError, match="ACSDT1Y2017.B17025_DATA.csv.gz: the gzip file is truncated"):
        read_acs_table(data, legend=B17025_LEGEND, year=2017, survey="acs1")


def test_latin1_table_names_the_line(tmp_path):
    data = tmp_path / "B17025_DATA.csv"
    data.write_bytes(_b17025(NAME=["Seattle city, Washington", "Espa\xf1ola city, New Mexico"]).to_csv(index=False)
                     .encode("latin-1"))
    with pytest.raises(UnreadableFileError, match="B17025_DATA.csv: line 3 holds bytes that are not UTF-8"):
        read_acs_table(data, legend=B17025_LEGEND, year=2017, survey="acs1")


def test_negative_published_moe_is_refused():
    with pytest.raises(OutOfRangeError, match=r"1 margins of error outside 0.. \(B17025_002M = -3000 for place"):
        read_acs_table(_b17025(B17025_002M=["-3000", "2500"]), legend=B17025_LEGEND, year=2017, survey="acs1")


def test_special_moe_codes_still_pass():
    table = read_acs_table(_b17025(B17025_002M=["-555555555", "-222222222"]), legend=B17025_LEGEND, year=2017,
                           survey="acs1")
    moe = table.cells.loc[table.cells["stem"] == "B17025_002", "moe"].to_numpy()
    assert moe[0] == 0.0 and np.isnan(moe[1])


def test_published_percent_above_100_is_refused():
    legend = {"S0501_C01_001E": "Estimate!!Total!!Total population",
              "S0501_C01_002E": "Percent!!Total!!Male"}
    frame = pd.DataFrame({"NAME": ["Seattle city, Washington"], "state": ["53"], "place": ["63000"],
                          "S0501_C01_001E": ["700000"], "S0501_C01_001M": ["100"],
                          "S0501_C01_002E": ["155.4"], "S0501_C01_002M": ["1.2"]})
    with pytest.raises(OutOfRangeError, match=r"1 estimates outside 0..100 \(S0501_C01_002E = 155.4"):
        read_acs_table(frame, legend=legend, year=2016, survey="acs1")
    assert read_acs_table(frame.assign(S0501_C01_002E=["55.4"]), legend=legend, year=2016, survey="acs1")


def test_same_file_name_in_two_folders_says_so(tmp_path):
    legend = pd.DataFrame({"VARIABLE": list(B17025_LEGEND), "LABEL": list(B17025_LEGEND.values())})
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        _b17025().to_csv(tmp_path / folder / "ACSDT1Y2017.B17025_DATA.csv", index=False)
        legend.to_csv(tmp_path / folder / "ACSDT1Y2017.B17025_LEGEND.csv", index=False)
    with pytest.raises(MismatchedSourcesError, match=r"Two files named ACSDT1Y2017.B17025_DATA.csv \(in different"):
        read_acs_tables([tmp_path / "a", tmp_path / "b"], survey="acs1")


def test_missing_line_message_first_suspects_the_legend():
    message = str(MissingLineError("S0501", 2016, ["Total population"], source="S0501_DATA.csv"))
    assert "the one downloaded with this data file (same table and year)" in message


def test_as_grouping_suggests_groupings_that_exist():
    import cohorts

    with pytest.raises(ScorecardError) as caught:
        as_grouping(3, pd.DataFrame())
    names = [part.strip(" ).") for part in str(caught.value).split("(")[1].split(",")]
    assert names and all(hasattr(cohorts, name.removeprefix("cohorts.")) for name in names)


def test_every_error_above_is_a_scorecard_error():
    for kind in (DuplicateRecordError, EstimationError, InvalidWeightError, MismatchedSourcesError,
                 MissingColumnsError, OutOfRangeError, UnreadableFileError):
        assert issubclass(kind, ScorecardError)


def test_person_dropped_from_a_household_is_refused(pair):
    p, h = pair
    lines = p.read_text().splitlines(keepends=True)
    p.write_text("".join(lines[:2] + lines[3:]))  # person 2 of household 127 (NP 2) removed
    with pytest.raises(MismatchedSourcesError, match=r"1 households have another number of person records .*'127': 1 "):
        read(p, h)


def test_occupied_unit_without_persons_warns_and_is_counted(pair):
    from scorecard.sources.acs_pums import IncompleteHouseholdWarning

    p, h = pair
    lines = p.read_text().splitlines(keepends=True)
    p.write_text("".join(lines[:3]))  # household 128's only person removed
    with pytest.warns(IncompleteHouseholdWarning, match="1 occupied housing units"):
        micro = read(p, h)
    notes = micro.report.to_frame().query("outcome == 'note'").set_index("reason")["count"]
    assert notes["occupied housing records whose persons are not in the person file"] == 1


def test_microdata_concat_refuses_the_same_records_twice(pair, tmp_path):
    p, h = pair
    micro = read(p, h)
    with pytest.raises(DuplicateRecordError, match=r"got ss16p53.csv, ss16h53.csv twice \(pieces 0 and 1\)"):
        sc.Microdata.concat([micro, micro])
    copy = sc.Microdata(micro.frame.copy(), person_replicates=micro.person_replicates,
                        household_replicates=micro.household_replicates, attrs={**micro.attrs, "source": "copy.csv",
                                                                                  "sources": ["copy.csv"]})
    with pytest.raises(DuplicateRecordError, match=r"copy.csv and ss16p53.csv, ss16h53.csv hold the same 3 persons"):
        sc.Microdata.concat([micro, copy])


def test_fractional_replicate_weight_is_refused(pair):
    p, h = pair
    _edit(p, "pwgtp17", 1, "3.5")
    with pytest.raises(OutOfRangeError, match=r"ss16p53.csv: column pwgtp17 has 1 values that are not whole numbers"):
        read(p, h)
