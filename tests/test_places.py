"""Crosswalks: vintages never mixed, allocation factors checked, unlisted PUMAs counted (issue 11).

The golden numbers come from MCDC Geocorr 2022 itself: Auburn AL (01-03076) holds 0.5953 of 2020 PUMA
01-02101 and Seattle (53-63000) 0.0007 of 2020 PUMA 53-23311. Before the fix, reading Urban's stacked
crosswalk with ``vintage=2010`` gave 1.0 and 0.1075 (the 2020 rows relabelled 2010, factors recomputed
over the few places the file lists).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from scorecard.errors import PlaceError, ScorecardError, UnreadableFileError
from scorecard.places import Places, UnlistedPumaWarning
from tests.conftest import shared_file

URBAN = "geography/urban_mobility_geocorr/crosswalk_puma_to_place.csv"
GEOCORR_2022 = "geography/urban_mobility_geocorr/geocorr2022_puma_place_2020.csv"
AUBURN, SEATTLE = "0103076", "5363000"


@pytest.fixture(scope="module")
def urban(shared_data):
    return shared_file(shared_data, URBAN)


def _factor(places: Places, place: str, puma: str, vintage: int) -> float:
    table = places.table
    row = table[(table["place"] == place) & (table["puma"] == puma) & (table["puma_vintage"] == vintage)]
    assert len(row) == 1, row
    return float(row["factor"].iloc[0])


def test_geocorr_factors_of_the_stacked_urban_file(urban, shared_data):
    places = Places.from_crosswalk(urban, places=[AUBURN, SEATTLE], vintage=2020)
    assert _factor(places, AUBURN, "02101", 2020) == pytest.approx(0.5953, abs=1e-12)
    assert _factor(places, SEATTLE, "23311", 2020) == pytest.approx(0.0007, abs=1e-12)
    # Second method: the PUMA's population share in Geocorr's complete 2020 file (every place + "not in a place").
    raw = pd.read_csv(shared_file(shared_data, GEOCORR_2022), dtype=str, skiprows=[1], encoding="latin-1")
    raw["pop20"] = raw["pop20"].astype(float)
    share = raw["pop20"] / raw.groupby(["state", "puma22"])["pop20"].transform("sum")
    auburn = share[(raw["state"] == "01") & (raw["puma22"] == "02101") & (raw["place"] == "03076")]
    seattle = share[(raw["state"] == "53") & (raw["puma22"] == "23311") & (raw["place"] == "63000")]
    assert float(auburn.iloc[0]) == pytest.approx(0.5953, abs=0.5e-4)
    assert float(seattle.iloc[0]) == pytest.approx(0.0007, abs=0.5e-4)


def test_vintage_2010_takes_only_pre_2022_rows(urban):
    places = Places.from_crosswalk(urban, places=[AUBURN, SEATTLE], vintage=2010)
    assert set(places.table["puma_vintage"]) == {2010}
    raw = pd.read_csv(urban, dtype=str)
    raw = raw[raw["crosswalk_period"] == "pre-2022"]
    expected = set(zip(raw["statefip"] + raw["place"], raw["puma"]))
    got = set(zip(places.table["place"], places.table["puma"]))
    assert got == {pair for pair in expected if pair[0] in (AUBURN, SEATTLE)}
    # 2020 PUMA 53-23312 (Seattle, 0.9997) is not a 2010 Seattle PUMA; 2010 Seattle is 53-11601..11605 and more.
    assert "23312" not in set(places.table["puma"])
    # Seattle's 2010 factors are Geocorr's afact where the file lists only part of a PUMA.
    for row in raw[raw["statefip"] + raw["place"] == SEATTLE].itertuples():
        assert _factor(places, SEATTLE, row.puma, 2010) == pytest.approx(float(row.afact), abs=0.5e-4)


def test_both_vintages_when_no_vintage_is_asked(urban):
    places = Places.from_crosswalk(urban, places=[SEATTLE])
    raw = pd.read_csv(urban, dtype=str)
    raw = raw[raw["statefip"] + raw["place"] == SEATTLE]
    counts = raw["crosswalk_period"].map({"pre-2022": 2010, "2022": 2020}).value_counts().sort_index()
    assert places.table["puma_vintage"].value_counts().sort_index().to_dict() == counts.to_dict()


GEOCORR_HEADER = (
    '"state","puma22","place","stab","PlaceName","PUMA22name","pop20","afact2","afact"\n'
    '"State code","PUMA (2022)","Place code","State abbr.","Place name","PUMA22 name","Pop","a2","a"\n'
)
GEOCORR_ROWS = (
    '"53","23311","63000","WA","Seattle city, WA","Burien",100,0.0001,0.0007\n'
    '"53","23311","57745","WA","Renton city, WA","Burien",44,0.0004,0.0003\n'
    '"53","23311","99999","WA","(not in a place)","Burien",142000,0.1,0.9990\n'
    '"53","23314","63000","WA","Seattle city, WA","Seattle Central",102741,0.1394,1\n'
)


def test_complete_file_factor_is_the_population_share():
    places = Places.from_crosswalk(io.StringIO(GEOCORR_HEADER + GEOCORR_ROWS), source="g.csv")
    assert _factor(places, SEATTLE, "23311", 2020) == pytest.approx(100 / (100 + 44 + 142000), rel=1e-12)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (("142000,0.1,0.9990", "142000,0.1,0.9000"), "142,000 / 0.9 = 157,778"),  # afact edited
        (('"Burien",100,', '"Burien",10000,'), "line 3"),  # population edited
    ],
)
def test_afact_and_population_must_agree(edit, where):
    text = GEOCORR_HEADER + GEOCORR_ROWS.replace(*edit)
    expected = f"g.csv: column 'afact' disagrees with column 'pop20' beyond rounding on lines 3, 4, 5.*{where}"
    with pytest.raises(PlaceError, match=expected):
        Places.from_crosswalk(io.StringIO(text), source="g.csv")


def test_stacked_vintages_without_a_vintage_column_are_refused():
    text = (
        "state,puma,place,PlaceName,pop10,afact\n"
        "48,02101,30464,Grand Prairie,45,0.0003\n"
        "48,02101,30464,Grand Prairie,24,0.0001\n"
    )
    with pytest.raises(PlaceError, match=r"x.csv: 2 rows repeat a \(state, PUMA, place\) pair \(lines 2, 3\)"):
        Places.from_crosswalk(io.StringIO(text), vintage=2010, source="x.csv")


def test_vintage_not_told_is_refused():
    text = "state,puma,place,PlaceName,pop10,afact\n53,23311,63000,Seattle,100,0.0007\n"
    with pytest.raises(PlaceError, match="does not say which PUMA vintage"):
        Places.from_crosswalk(io.StringIO(text), source="x.csv")


def test_unknown_period_value_names_its_line():
    text = (
        "statefip,place,place_name,puma,population,afact,crosswalk_period\n"
        "53,63000,Seattle,23311,100,0.0007,2022\n"
        "53,63000,Seattle,11601,100,1,2015\n"
    )
    with pytest.raises(PlaceError, match=r"column 'crosswalk_period' has values \['2015'\] \(lines 3\)"):
        Places.from_crosswalk(io.StringIO(text), source="x.csv")


def test_named_vintage_column_against_another_vintage_is_refused():
    with pytest.raises(PlaceError, match="2020-vintage PUMAs but vintage=2010"):
        Places.from_crosswalk(io.StringIO(GEOCORR_HEADER + GEOCORR_ROWS), vintage=2010, source="g.csv")


@pytest.mark.parametrize("places", [5363000, "5363000", [5363000]])
def test_places_must_be_a_list_of_text(places):
    with pytest.raises(PlaceError, match="The 'places' parameter of Places.from_crosswalk"):
        Places.from_crosswalk(io.StringIO(GEOCORR_HEADER + GEOCORR_ROWS), places=places, source="g.csv")


def test_latin1_crosswalk_opened_as_utf8_text_reads(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((GEOCORR_HEADER + GEOCORR_ROWS.replace("Renton", "Pe\xf1a")).encode("latin-1"))
    with open(path, encoding="utf-8") as handle:
        places = Places.from_crosswalk(handle, source="latin1.csv")
    assert "Pe\xf1a city, WA" in set(places.table["place_name"])


def test_unreadable_crosswalk_is_named(tmp_path):
    with pytest.raises(UnreadableFileError, match="nothere.csv: cannot read the crosswalk"):
        Places.from_crosswalk(tmp_path / "nothere.csv")


def test_unlisted_pumas_are_counted_and_warned():
    places = Places.from_crosswalk(io.StringIO(GEOCORR_HEADER + GEOCORR_ROWS), places=[SEATTLE], source="g.csv")
    frame = pd.DataFrame(
        {
            "state": ["53"] * 5 + ["06"],
            "puma": ["23311", "23314", "23399", "23399", "23398", "00101"],
            "puma_vintage": [2020, 2020, 2020, 2020, 2010, 2020],
        }
    )
    counted = places.unlisted_pumas(frame)
    assert counted.to_dict("records") == [
        {"state": "53", "puma": "23399", "puma_vintage": 2020, "records": 2},
        {"state": "53", "puma": "23398", "puma_vintage": 2010, "records": 1},
    ]
    with pytest.warns(UnlistedPumaWarning, match=r"3 records lie in 2 PUMAs .* 53-23399 \(2020\): 2"):
        rows, place_index, factor = places.memberships(frame)
    np.testing.assert_array_equal(rows, [0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        places.memberships(frame.iloc[:2])


def test_every_error_here_is_a_scorecard_error():
    assert issubclass(PlaceError, ScorecardError) and issubclass(UnreadableFileError, ScorecardError)


def test_the_same_crosswalk_twice_is_refused(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(GEOCORR_HEADER + GEOCORR_ROWS)
    with pytest.raises(PlaceError, match=r"g.csv \(passed twice\) both list PUMA 53-23311 \(vintage 2020\)"):
        Places.from_crosswalk([path, path])
    copy = tmp_path / "copy.csv"
    copy.write_text(GEOCORR_HEADER + GEOCORR_ROWS)
    with pytest.raises(PlaceError, match="copy.csv and g.csv both list PUMA"):
        Places.from_crosswalk([path, copy])


def test_semicolon_crosswalk_says_so():
    text = (GEOCORR_HEADER + GEOCORR_ROWS).replace(",", ";")
    with pytest.raises(ScorecardError, match="is one column: save the file comma-separated"):
        Places.from_crosswalk(io.StringIO(text), source="g.csv")


def test_text_in_the_population_column_names_its_line():
    text = GEOCORR_HEADER + GEOCORR_ROWS.replace('"Burien",44,', '"Burien",n/a,')
    with pytest.raises(PlaceError, match=r"g.csv: column 'pop20' holds non-numbers \('n/a'; lines 4\)"):
        Places.from_crosswalk(io.StringIO(text), source="g.csv")
