"""Housing-only ACS PUMS reads, ``read_acs_pums(person=None, housing=[...])`` (issue 11, point 4).

Checked against the Census Bureau's "PUMS estimates for user verification" (WA 2015 housing), which come
from housing files alone. The shared subset kept only the housing columns (no SERIALNO, ST, PUMA), so the
test restores the Census layout: SERIALNO numbered as in 2015 files, ST = 53 and one PUMA code (every
verification line is statewide, so the PUMA does not enter the numbers).
"""

from __future__ import annotations

import pandas as pd
import pytest

import scorecard as sc
from scorecard.errors import MissingColumnsError, ScorecardError
from scorecard.sources.acs_pums import read_acs_pums
from tests.conftest import shared_file
from tests.test_estimation import VERIFICATION_LINES, Indicator


@pytest.fixture(scope="module")
def wa_2015_housing(shared_data, tmp_path_factory):
    raw = pd.read_csv(shared_file(shared_data, "real/pumsutils_wa/wa_2015_housing_pums_subset.csv.gz"), dtype=str)
    census = pd.concat(
        [pd.DataFrame({"SERIALNO": [str(2015000000001 + i) for i in range(len(raw))], "ST": "53", "PUMA": "11601"}),
         raw],
        axis=1,
    )
    path = tmp_path_factory.mktemp("housing") / "ss15h53.csv"
    census.to_csv(path, index=False)
    return path


@pytest.mark.shared
def test_housing_only_read_gives_the_census_verification_lines(shared_data, wa_2015_housing):
    micro = read_acs_pums(None, [wa_2015_housing], columns=["tenure"], keep=["VACS"], cache=False)
    assert len(micro.frame) == 32_821 and micro.person_replicates is None
    assert micro.household_replicates.shape == (32_821, 80)
    assert micro.frame["survey_year"].unique().tolist() == [2015]
    assert micro.report.read == 32_821
    micro = sc.Microdata(
        micro.frame.assign(VACS=pd.to_numeric(micro.frame["VACS"])),
        household_replicates=micro.household_replicates, report=micro.report, attrs=micro.attrs,
    )
    official = pd.read_csv(shared_file(shared_data, "real/pumsutils_wa/wa_2015_pums_verification_estimates_housing.csv"))
    always = next(iter(VERIFICATION_LINES.values()))
    lines = [
        Indicator(key=f"line{i}", label=label, domain="housing", universe=always, measure=measure, statistic="total",
                  unit="household", weight="household", higher_is_better=None, extra_columns=("VACS",))
        for i, (label, measure) in enumerate(VERIFICATION_LINES.items())
    ]
    est = sc.estimate(micro, lines).squeeze()
    for row in official.itertuples():
        key = f"line{list(VERIFICATION_LINES).index(row.characteristic)}"
        assert float(est["estimate"].sel(indicator=key)) == row.pums_est_15, row.characteristic
        assert round(float(est["se"].sel(indicator=key))) == row.pums_se_15, row.characteristic
    # The tenure lines agree with the TEN codes read straight from the file.
    raw = pd.read_csv(wa_2015_housing, usecols=["TEN", "WGTP"])
    owned = raw.loc[raw["TEN"].isin([1, 2]), "WGTP"].sum()
    assert float(est["estimate"].sel(indicator="line2")) == owned


def test_housing_only_refuses_person_columns(tmp_path):
    path = tmp_path / "ss16h53.csv"
    path.write_text("SERIALNO,ST,PUMA,WGTP,TEN\n1,53,11601,10,1\n")
    with pytest.raises(MissingColumnsError, match=r"read_acs_pums\(person=None\) is missing columns \['age'\]"):
        read_acs_pums(None, [path], columns=["age"], cache=False)
    micro = read_acs_pums(None, path, cache=False, columns=["tenure"])
    assert micro.frame["tenure"].tolist() == ["owned_mortgage"]
    assert micro.frame["household_weight"].tolist() == [10.0] and "person_weight" not in micro.frame


def test_neither_person_nor_housing_is_a_named_error():
    with pytest.raises(ScorecardError, match="neither person nor housing files"):
        read_acs_pums(None, None, cache=False)
