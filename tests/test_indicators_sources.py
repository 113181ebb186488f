"""Built-in indicators evaluated on microdata read from ACS PUMS files and from an IPUMS extract.

The expected universes, measures and weighted shares are worked out by hand from the records the
tests write (see the comments next to each record).
"""

from __future__ import annotations

import numpy as np
import pytest

import indicators
import scorecard as sc
from tests.ipums_fixture import acs_records, write_extract
from tests.test_acs_pums import housing, person, read, write


def _by_person(micro):
    frame = micro.frame.assign(key=micro.frame["household_id"].astype(str) + "/" + micro.frame["person_id"].astype(str))
    return frame.set_index("key")


@pytest.fixture(scope="module")
def ipums(tmp_path_factory):
    ddi, _ = write_extract(tmp_path_factory.mktemp("ipums"), acs_records())
    return sc.read_ipums(ddi, cache=False)


# IPUMS fixture (2019 ACS): person -> (age, citizenship, English, poverty, tenure of the household)
#  1001/1 40 naturalized 'very_well' 3.50 owned_mortgage householder   PERWT 120
#  1001/2 38 not_citizen 'not_well'  3.50                              PERWT 110.5
#  1001/3  3 native      <NA>        3.50                              PERWT 95
#  1002/1 67 native      'only'      0.80 rented householder           PERWT 200
#  1002/2 30 native(CIT1)'well'      0.80                              PERWT 180
#  1003/1 55 foreign, citizenship not reported, 'not_at_all' 5.01 owned_free householder PERWT 90
#  1003/2 19 native      'only'      5.01                              PERWT 85.25
#  1004/1 25 not_citizen <NA> (SPEAKENG 7) 1.20 no_rent householder    PERWT 75
#  1005/1 80 native, group quarters 'only', poverty not determined     PERWT 50
IPUMS_EXPECTED = {
    # key: (universe persons, measure-true persons)
    "english_very_well": ({"1/1", "1/2", "2/1", "2/2", "3/1", "3/2", "5/1"}, {"1/1", "2/1", "3/2", "5/1"}),
    "limited_english": ({"1/1", "1/2", "2/1", "2/2", "3/1", "3/2", "5/1"}, {"1/2", "2/2", "3/1"}),
    "in_poverty": ({"1/1", "1/2", "1/3", "2/1", "2/2", "3/1", "3/2", "4/1"}, {"2/1", "2/2"}),
    "above_200pct_poverty": ({"1/1", "1/2", "1/3", "2/1", "2/2", "3/1", "3/2", "4/1"}, {"1/1", "1/2", "1/3", "3/1", "3/2"}),
    "homeownership": ({"1/1", "2/1", "3/1", "4/1"}, {"1/1", "3/1"}),
    "naturalized": ({"1/1", "1/2", "4/1"}, {"1/1"}),
}


def _short(keys):
    """'201901-1003/2' style household ids -> '3/2' (household number within the fixture, person)."""
    return {f"{int(k.split('/')[0][-4:]) - 1000}/{k.split('/')[1]}" for k in keys}


@pytest.mark.parametrize("key", sorted(IPUMS_EXPECTED))
def test_indicators_on_ipums_microdata_by_hand(key, ipums):
    frame = _by_person(ipums)
    result = indicators.get(key).evaluate(frame)
    universe, measure = IPUMS_EXPECTED[key]
    assert _short(frame.index[result.universe]) == universe
    assert _short(frame.index[result.universe & (result.value == 1)]) == measure


def test_weighted_share_on_ipums_by_hand(ipums):
    est = sc.estimate(ipums, ["english_very_well"])
    # universe weights 120 + 110.5 + 200 + 180 + 90 + 85.25 + 50; measure 120 + 200 + 85.25 + 50
    expected = (120 + 200 + 85.25 + 50) / (120 + 110.5 + 200 + 180 + 90 + 85.25 + 50)
    np.testing.assert_allclose(float(est["estimate"].squeeze()), expected, rtol=1e-12)


@pytest.fixture(scope="module")
def pums(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pums")
    people = [
        # household 1: foreign-born naturalized householder (entered 2000, speaks English well, 180% poverty)
        person("2019HU0000001", 1, rel=("RELSHIPP", "20"), weeks=("WKWN", "52"), NATIVITY="2", CIT="4", YOEP="2000",
               LANX="1", ENG="2", POVPIP="180", PWGTP="100"),
        # his daughter, 4 years old, native
        person("2019HU0000001", 2, rel=("RELSHIPP", "25"), weeks=("WKWN", ""), AGEP="4", LANX="", POVPIP="180",
               PINCP="", PERNP="", WKHP="", PWGTP="80"),
        # household 2: non-citizen householder, entered 2017, English 'not well', 90% poverty, renter
        person("2019HU0000002", 1, rel=("RELSHIPP", "20"), weeks=("WKWN", "40"), NATIVITY="2", CIT="5", YOEP="2017",
               LANX="1", ENG="3", POVPIP="90", PWGTP="120"),
        # group-quarters resident, native, speaks only English, poverty not determined
        person("2019GQ0000003", 1, rel=("RELSHIPP", "38"), weeks=("WKWN", ""), POVPIP="", PWGTP="60"),
    ]
    homes = [housing("2019HU0000001", NP="2", TEN="1", WGTP="95"), housing("2019HU0000002", TEN="3", WGTP="115"),
             housing("2019GQ0000003", TYPE="3", TEN="", HINCP="", WGTP="0")]
    return read(write(folder / "psam_p53.csv", people), write(folder / "psam_h53.csv", homes))


PUMS_EXPECTED = {
    "english_very_well": ({"1/1", "2/1", "3/1"}, {"3/1"}),
    "english_well_or_better": ({"1/1", "2/1", "3/1"}, {"1/1", "3/1"}),
    "in_poverty": ({"1/1", "1/2", "2/1"}, {"2/1"}),
    "above_150pct_poverty": ({"1/1", "1/2", "2/1"}, {"1/1", "1/2"}),
    "homeownership": ({"1/1", "2/1"}, {"1/1"}),
    "in_owner_household": ({"1/1", "1/2", "2/1"}, {"1/1", "1/2"}),
    "naturalized": ({"1/1", "2/1"}, {"1/1"}),
    "naturalized_among_eligible": ({"1/1"}, {"1/1"}),
}


@pytest.mark.parametrize("key", sorted(PUMS_EXPECTED))
def test_indicators_on_acs_pums_microdata_by_hand(key, pums):
    frame = _by_person(pums)
    result = indicators.get(key).evaluate(frame)
    short = {k: f"{int(k.split('/')[0][-7:])}/{k.split('/')[1]}" for k in frame.index}
    universe, measure = PUMS_EXPECTED[key]
    assert {short[k] for k in frame.index[result.universe]} == universe
    assert {short[k] for k in frame.index[result.universe & (result.value == 1)]} == measure


def test_household_weighted_share_on_pums_by_hand(pums):
    est = sc.estimate(pums, ["homeownership", "in_owner_household"])
    np.testing.assert_allclose(float(est["estimate"].sel(indicator="homeownership").squeeze()), 95 / (95 + 115))
    np.testing.assert_allclose(float(est["estimate"].sel(indicator="in_owner_household").squeeze()),
                               (100 + 80) / (100 + 80 + 120))
