"""Scorecards on real published tables, with the numbers checked by hand from the raw files.

* Boston and 14 Massachusetts gateway cities, ACS 5-year 2020-2024, S0501 as downloaded from
  data.census.gov (../shared/data/real/ma_places_acs5_2012_2024/raw_2024_with_moe; codes in row 1,
  labels in row 2). The MANIFEST's checked values: Boston foreign-born owner-occupied 28.5% +/-1.3,
  below poverty 21.2% +/-1.0.
* The 50 states and DC, ACS 1-year 2012 and 2018, S0501 Census API files
  (../shared/data/real/acs1_state_tables_ncnw).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scorecard as sc
from tests.conftest import shared_file

CITIES = [
    "Boston",
    "Brockton",
    "Chelsea",
    "Everett",
    "Fall River",
    "Haverhill",
    "Lawrence",
    "Lowell",
    "Lynn",
    "Malden",
    "New Bedford",
    "Quincy",
    "Revere",
    "Springfield",
    "Worcester",
]
MA_S0501 = "real/ma_places_acs5_2012_2024/raw_2024_with_moe/ACSST5Y2024.S0501-Data.csv.gz"
STATES = "real/acs1_state_tables_ncnw"


def _raw_download(path):
    """The download read the plain way: codes as header, labels row dropped."""
    raw = pd.read_csv(path, skiprows=[1], dtype=str)
    return raw.set_index("NAME")


@pytest.fixture(scope="module")
def ma(shared_data):
    path = shared_file(shared_data, MA_S0501)
    return path, sc.read_acs_tables(path)


def test_ma_gateway_cities_scorecard_by_hand(ma):
    path, est = ma
    names = [f"{c} city, Massachusetts" for c in CITIES]
    card = sc.Scorecard(
        est, year=2024, cohort="foreign_born", places=names, focus="Boston city, Massachusetts", draws=500, seed=1
    )
    assert card.scores.attrs["focus"] == "2507000" and card.scores.attrs["uncertainty"] == "independent draws"
    raw = _raw_download(path).loc[names]
    # S0501 column C03 = foreign born; line 117 = owner-occupied housing units (percent), line 104 = below poverty
    owner = raw["S0501_C03_117E"].astype(float).to_numpy() / 100
    owner_moe = raw["S0501_C03_117M"].astype(float).to_numpy() / 100
    boston = CITIES.index("Boston")
    assert owner[boston] == pytest.approx(0.285) and owner_moe[boston] == pytest.approx(0.013)  # MANIFEST
    np.testing.assert_allclose(card.estimates["estimate"].sel(indicator="homeownership").squeeze().values, owner)
    np.testing.assert_allclose(card.estimates["moe90"].sel(indicator="homeownership").squeeze().values, owner_moe)
    # min-max 1-5 by hand: (x - min) / (max - min) * 4 + 1
    by_hand = 1 + 4 * (owner - owner.min()) / (owner.max() - owner.min())
    np.testing.assert_allclose(card.scores["score"].sel(indicator="homeownership").values, by_hand)
    assert float(card.scores["score"].sel(indicator="homeownership", place="2507000")) == pytest.approx(by_hand[boston])
    # poverty: lower is better, so the city with the highest poverty share scores 1
    poverty = raw["S0501_C03_104E"].astype(float).to_numpy() / 100
    assert poverty[boston] == pytest.approx(0.212)
    by_hand = 1 + 4 * (poverty.max() - poverty) / (poverty.max() - poverty.min())
    np.testing.assert_allclose(card.scores["score"].sel(indicator="in_poverty").values, by_hand)
    # every composite present (no input unreliable or missing), bounds around it
    s = card.scores
    assert np.isfinite(s["composite"]).all()
    assert ((s["composite_lower"] <= s["composite"]) & (s["composite"] <= s["composite_upper"])).all()
    ranks = card.ranks(k=3)
    assert (ranks["rank_lower"] <= ranks["rank"]).all() and (ranks["rank"] <= ranks["rank_upper"]).all()
    np.testing.assert_allclose(float(ranks["p_top_k"].sum()), 3.0)


def test_ma_homeownership_rank_interval_by_hand(ma):
    path, est = ma
    names = [f"{c} city, Massachusetts" for c in CITIES]
    out = sc.rank_intervals(est, indicator="homeownership", year=2024, cohort="foreign_born", places=names)
    raw = _raw_download(path).loc[names]
    x = raw["S0501_C03_117E"].astype(float).to_numpy() / 100
    se = raw["S0501_C03_117M"].astype(float).to_numpy() / 100 / 1.645
    z = stats.norm.ppf(0.5 + 0.9 ** (1 / 15) / 2)  # Sidak level for 15 cities
    lower, upper = x - z * se, x + z * se
    for k in range(15):  # the obvious loop over pairs
        better = sum(lower[j] >= upper[k] for j in range(15) if j != k)
        worse = sum(upper[j] <= lower[k] for j in range(15) if j != k)
        assert (int(out["rank_lower"][k]), int(out["rank_upper"][k])) == (1 + better, 15 - worse)


@pytest.fixture(scope="module")
def states(shared_data):
    files = [
        shared_file(shared_data, f"{STATES}/{y}/acs-acs1-subject-{y}-GROUP_S0501_DATA.csv.gz") for y in (2012, 2018)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = sc.read_acs_tables(files)
    return files, est


def test_fifty_state_scorecard_and_progress_by_hand(states):
    files, est = states
    places = [p for p in est["place"].values.tolist() if p != "72"]  # 50 states and DC, not Puerto Rico
    assert len(places) == 51
    card = sc.Scorecard(est, year=2018, places=places, focus="Washington", draws=300, seed=2)
    raw = pd.read_csv(files[1], dtype=str).set_index("state").loc[places]
    # English 'very well' or only English = 100 - % speaking English less than "very well" (S0501_C03_047)
    english = 1 - raw["S0501_C03_047E"].astype(float).to_numpy() / 100
    np.testing.assert_allclose(card.estimates["estimate"].sel(indicator="english_very_well").squeeze().values, english)
    wa = places.index("53")
    assert english[wa] == pytest.approx(0.582)
    # Alaska's file cell is empty (NaN): left out of the scores, and its composite has one input missing
    assert np.isnan(english[places.index("02")])
    by_hand = 1 + 4 * (english - np.nanmin(english)) / (np.nanmax(english) - np.nanmin(english))
    np.testing.assert_allclose(card.scores["score"].sel(indicator="english_very_well").values, by_hand)
    assert int(card.scores["missing_inputs"].sel(place="02")) >= 1
    # progress 2012 -> 2018 for Washington: independent 1-year samples, se = sqrt(se1^2 + se2^2)
    table = card.progress(start=2012, end=2018, fdr=0.10, cohorts=["foreign_born"])
    row = table.set_index(["place", "indicator"]).loc[("53", "english_very_well")]
    old = pd.read_csv(files[0], dtype=str).set_index("state").loc["53"]
    moe_2012 = float(old["S0501_C03_047M"]) / 100
    moe_2018 = float(raw.loc["53", "S0501_C03_047M"]) / 100
    assert row["estimate_start"] == pytest.approx(0.538) and row["estimate_end"] == pytest.approx(0.582)
    assert row["se"] == pytest.approx(np.hypot(moe_2012, moe_2018) / 1.645)
    assert row["direction"] == "gain"
    assert row["sentence"] == (
        "Speak only English or English 'very well' of immigrants in Washington rose from 54% in 2012 to 58% in 2018 "
        f"(+{(0.582 - 0.538) * 100:.0f} ± {np.hypot(moe_2012, moe_2018) * 100:.0f} points), a significant gain."
    )
    assert len(table) == 51 * len(card.indicators)


def test_download_provenance_names_the_file(ma):
    """The report's provenance names the data.census.gov file read (it said "table frame")."""
    path, est = ma
    assert sc.estimates.attribute(est, "sources") == [path.name]


def test_download_layout_errors_name_the_file(tmp_path):
    from scorecard.errors import TableError
    from scorecard.tables.download_files import read_download_table

    path = tmp_path / "ACSST5Y2024.S0501-Data.csv"
    path.write_text("GEO_ID,NAME,S0501_C01_001E\n1600000US2507000,Boston city,666442\n")
    with pytest.raises(TableError, match="ACSST5Y2024.S0501-Data.csv: row 1 should hold the variable codes"):
        read_download_table(path)
