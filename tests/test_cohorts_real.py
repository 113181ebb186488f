"""The cohort engine on real published ACS figures (../shared/data/real), checked against numbers
computed by hand from the files: S0502 periods of entry across the 2011/2012 break, and 5-year place
releases whose periods overlap (Massachusetts)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cohorts
import scorecard as sc
from scorecard.errors import CohortDataError, CohortDefinitionError
from tests.conftest import shared_file

STATE = "53"  # Washington
_COLUMN = {"2000 or later": "2000-", "1990 to 1999": "1990-1999", "before 1990": "-1989",
           "2010 or later": "2010-", "2000 to 2009": "2000-2009", "before 2000": "-1999"}


def _naturalized_by_hand(folder, year: int) -> pd.DataFrame:
    """Published naturalized % by period of entry, read with pandas and the LEGEND labels: cohort, percent, moe."""
    stem = f"{folder}/{year}/acs-acs1-subject-{year}-GROUP_S0502"
    data = pd.read_csv(f"{stem}_DATA.csv.gz", dtype=str)
    legend = pd.read_csv(f"{stem}_LEGEND.csv.gz", dtype=str)
    row = data[data["state"] == STATE].iloc[0]
    rows = []
    for variable, label in zip(legend["VARIABLE"], legend["LABEL"]):
        if not variable.endswith("E") or not label.endswith("CITIZENSHIP!!Naturalized citizen") or "Total" in label:
            continue
        period = label.split("Entered ")[1].split("!!")[0]
        rows.append((_COLUMN[period], float(row[variable]), float(row[variable[:-1] + "M"])))
    return pd.DataFrame(rows, columns=["cohort", "percent", "moe"])


@pytest.fixture(scope="module")
def s0502(shared_data):
    early = shared_data / "real" / "acs1_state_tables_ncnw_2005_2011"
    late = shared_data / "real" / "acs1_state_tables_ncnw"
    files = [shared_file(late, f"{y}/acs-acs1-subject-{y}-GROUP_S0502_DATA.csv.gz") for y in range(2012, 2019)]
    published = sc.read_acs_tables(files, indicators=["naturalized"])
    # read_acs_tables does not know the 2010-2011 S0502 columns yet: the hand-parsed figures enter through
    # estimates_from_frame, the route for any published figures.
    frames = [_naturalized_by_hand(early, y).assign(year=y) for y in (2010, 2011)]
    frame = pd.concat(frames).assign(indicator="naturalized", place=STATE, place_name="Washington")
    frame = frame.assign(estimate=frame["percent"] / 100, moe90=frame["moe"] / 100)
    early_ds = sc.estimates_from_frame(frame[["indicator", "place", "place_name", "year", "cohort", "estimate", "moe90"]],
                                       survey="acs1", route="tables", dollars_year=published.attrs["dollars_year"])
    return sc.merge_estimates(published.sel(place=[STATE]), early_ds), late


def test_s0502_says_which_cohorts_can_be_followed_across_the_break(s0502):
    est, _ = s0502
    by_year = cohorts.cohorts_by_year(est)
    assert set(by_year[2011]) >= {"-1989", "1990-1999", "2000-"} and not {"-1999", "2000-2009", "2010-"} & set(by_year[2011])
    assert set(by_year[2016]) >= {"-1999", "2000-2009", "2010-"} and not {"-1989", "1990-1999", "2000-"} & set(by_year[2016])
    assert [c for c in cohorts.followable(est) if c not in ("all", "native")] == []
    assert "2000-2009" in cohorts.followable(est, years=range(2012, 2019))
    assert "1990-1999" in cohorts.followable(est, years=[2010, 2011])
    out = cohorts.trajectories(est)
    assert "2000-2009" not in json.loads(out.attrs["followable_cohorts"])
    with pytest.raises(CohortDataError, match=r"2016 has no estimate for \['1990-1999'\].*2011: \[.*'1990-1999'"):
        cohorts.change(est, start=2011, end=2016, cohorts="1990-1999")
    with pytest.raises(CohortDefinitionError, match=r"\['-1999', '2000-2009', '2010-'\]"):
        cohorts.require_windows(cohorts.ArrivalCohorts(((1990, 1999),)), cohorts.s0502_windows(2016), source="S0502 2016")


def test_s0502_changes_match_the_published_figures_by_hand(s0502):
    est, late = s0502
    # 2012 -> 2016, arrivals of 2000-2009, from the published percentages and MOEs
    a = _naturalized_by_hand(late, 2012).set_index("cohort").loc["2000-2009"]
    b = _naturalized_by_hand(late, 2016).set_index("cohort").loc["2000-2009"]
    assert b["percent"] == 37.9 and b["moe"] == 1.6  # MANIFEST: WA 2016 S0502
    out = cohorts.change(est, start=2012, end=2016, cohorts=["2000-2009"]).sel(place=STATE, indicator="naturalized",
                                                                              cohort="2000-2009")
    assert float(out["change"]) == pytest.approx((b["percent"] - a["percent"]) / 100, abs=1e-12)
    assert float(out["se"]) == pytest.approx(np.hypot(a["moe"], b["moe"]) / 1.645 / 100, rel=1e-9)
    assert bool(out["significant"]) == (abs(b["percent"] - a["percent"]) > 1.645 * np.hypot(a["moe"], b["moe"]) / 1.645)
    assert out.attrs["se_method"].startswith("independent")


def test_overlapping_five_year_place_releases(shared_data):
    folder = shared_data / "real" / "ma_places_acs5_2012_2024"
    raw = pd.read_csv(shared_file(folder, "raw_2024_with_moe/ACSDT5Y2024.B05002-Data.csv.gz"), header=[0, 1], dtype=str)
    raw.columns = [c[0] for c in raw.columns]
    boston = raw[raw["GEO_ID"] == "1600000US2507000"].iloc[0]
    foreign, naturalized = float(boston["B05002_013E"]), float(boston["B05002_014E"])
    assert (foreign, naturalized) == (185498.0, 99769.0)  # MANIFEST
    share_2024 = naturalized / foreign
    moe_2024 = float(sc.tables.moe_proportion(naturalized, foreign, float(boston["B05002_014M"]), float(boston["B05002_013M"])))
    older = {}
    for year in (2019, 2022):
        api = pd.read_parquet(shared_file(folder, f"api_estimates_by_year/{year}/b05002.parquet"))
        row = api[api["GEO_ID"] == "1600000US2507000"].iloc[0]
        older[year] = float(row["B05002_014E"]) / float(row["B05002_013E"])
    # The API files carry no MOEs: 2019 and 2022 get the 2024 MOE as a stand-in so the rule, not the number, is tested.
    frame = pd.DataFrame({"indicator": "naturalized", "place": "2507000", "place_name": "Boston city, Massachusetts",
                          "cohort": "foreign_born", "year": [2019, 2022, 2024],
                          "estimate": [older[2019], older[2022], share_2024], "moe90": moe_2024})
    est = sc.estimates_from_frame(frame, survey="acs5")
    assert est["period_start"].values.tolist() == [2015, 2018, 2020]
    overlap = cohorts.change(est, start=2022, end=2024).sel(place="2507000", indicator="naturalized", cohort="foreign_born")
    se = moe_2024 / 1.645
    assert overlap.attrs["overlap"] == pytest.approx(3 / 5)  # 2018-2022 and 2020-2024 share 2020-2022
    assert float(overlap["se"]) == pytest.approx(np.sqrt(1 - 3 / 5) * np.hypot(se, se), rel=1e-9)
    assert float(overlap["change"]) == pytest.approx(share_2024 - older[2022], abs=1e-12)
    apart = cohorts.change(est, start=2019, end=2024)  # 2015-2019 and 2020-2024 do not overlap
    assert apart.attrs["overlap"] == 0 and apart.attrs["se_method"].startswith("independent")
    with pytest.raises(Exception, match="overlap"):
        cohorts.pace(est)
