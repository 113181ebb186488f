"""sc.datasets.city_offices: the 26 offices, Census place codes from crosswalk names (never guessed)."""

from __future__ import annotations

import io

import pytest

import scorecard as sc
from scorecard.errors import MissingColumnsError, ScorecardError, UnreadableFileError
from tests.conftest import shared_file

OFFICES = "real/city_offices/offices.csv"
# The place codes listed in that folder's MANIFEST.md ("Priority-city check"), state + place.
MANIFEST_CODES = {
    "Atlanta": "1304000", "Aurora": "0804000", "Austin": "4805000", "Baltimore": "2404000", "Boston": "2507000",
    "Buffalo": "3611000", "Chicago": "1714000", "Columbus": "3918000", "Dayton": "3921000", "Denver": "0820000",
    "Houston": "4835000", "Indianapolis": "1836003", "Jersey City": "3436000", "Los Angeles": "0644000",
    "Louisville": "2148006", "Nashville": "4752006", "Newark": "3451000", "New York City": "3651000",
    "Orlando": "1253000", "Philadelphia": "4260000", "Pittsburgh": "4261000", "Portland": "4159000",
    "Richmond": "5167000", "San Francisco": "0667000", "San Jose": "0668000", "Seattle": "5363000",
}


@pytest.mark.shared
@pytest.mark.parametrize("crosswalk", ["geography/urban_mobility_geocorr/geocorr2022_puma_place_2020.csv",
                                       "geography/urban_mobility_geocorr/geocorr2018_puma_place_2010.csv"])
def test_the_26_offices_match_the_manifest_codes(shared_data, crosswalk):
    table = sc.datasets.city_offices(shared_file(shared_data, OFFICES), crosswalk=shared_file(shared_data, crosswalk))
    assert len(table) == 26 and table.attrs["unmatched"] == {}
    assert dict(zip(table["city"], table["place"])) == MANIFEST_CODES
    assert table.loc[table["city"] == "Chicago", "year_established"].item() == 2011
    assert table["year_established"].isna().sum() == 1  # Orlando: blank in the source
    assert table.loc[table["city"] == "Nashville", "place_name"].item() == (
        "Nashville-Davidson metropolitan government (balance), TN")


@pytest.mark.shared
def test_without_a_crosswalk_nothing_is_matched(shared_data):
    table = sc.datasets.city_offices(shared_file(shared_data, OFFICES))
    assert table["place"].isna().all() and len(table.attrs["unmatched"]) == 26


def _offices(*rows: str) -> io.StringIO:
    return io.StringIO("city,state,office,year_established\n" + "\n".join(rows) + "\n")


def test_unmatched_and_ambiguous_names_are_listed_not_guessed():
    names = {"1304000": "Atlanta city, GA", "0804000": "Aurora city, CO", "0804001": "Aurora town, CO",
             "4805000": "Austin city, TX"}
    table = sc.datasets.city_offices(
        _offices("Atlanta,GA,Office,2015", "Aurora,CO,Office,2015", "Austin,MN,Office,2013", "Boston,MA,Office,1998"),
        crosswalk=names,
    )
    assert table["place"].tolist()[:1] == ["1304000"] and table["place"].isna().sum() == 3
    assert table.attrs["unmatched"] == {
        "Aurora, CO": "several crosswalk places match: ['Aurora city, CO', 'Aurora town, CO']",
        "Austin, MN": "no crosswalk place is named Austin <kind>, MN",
        "Boston, MA": "no crosswalk place is named Boston <kind>, MA",
    }


def test_unmatched_offices_cannot_enter_an_impact_study():
    est, _ = sc.datasets.simulate_impact(seed=1)
    table = sc.datasets.city_offices(_offices("Atlanta,GA,Office,2015", "Atlantis,GA,Office,2012"),
                                     crosswalk={"S01": "Atlanta city, GA"})
    with pytest.raises(ScorecardError, match=r"Events without a place code: \['Atlantis, GA'\]"):
        sc.office_impact(est, table, indicator="naturalized")


def test_bad_tables():
    with pytest.raises(UnreadableFileError, match="needs the path of the offices table"):
        sc.datasets.city_offices()
    with pytest.raises(MissingColumnsError, match="year_established"):
        sc.datasets.city_offices(io.StringIO("city,state,office\nAtlanta,GA,Office\n"))
    with pytest.raises(UnreadableFileError, match=r"non-year values \['soon'\] \(rows \[3\]\)"):
        sc.datasets.city_offices(_offices("Atlanta,GA,Office,2015", "Aurora,CO,Office,soon"))
