"""The same numbers as R's ``survey`` package, computed independently from the same records.

Each test writes records to CSV, runs an R script from ``tests/r/`` that builds
its own design from the raw columns (universes, cohorts and place allocation
are recomputed in R), and compares R's estimates and standard errors with
:func:`scorecard.estimate` to 1e-9 relative.

* SDR (ACS replicate weights): ``svrepdesign(type = "JK1", scale = 4/80,
  rscales = 1, mse = TRUE)``, which is ``Var = 4/80 Σ_r (θ_r − θ_0)²``;
  proportions and means with ``svymean``, totals with ``svytotal``, ratios with
  ``svyratio``, medians with ``svyquantile(qrule = "math", interval.type =
  "quantile")`` (the quantile under each replicate weight), all by group with
  ``svyby`` on ``subset()`` domains (never by dropping rows before the design
  is built).
* Linearization: ``svydesign(ids = ~cluster, strata = ~strata, weights = ~w)``
  with ``options(survey.lonely.psu = "certainty")``.

Places that split a PUMA (allocation factors 0.3 / 0.7) are reproduced in R by
stacking: one row per (record, place) with every weight multiplied by the
factor; each place is a domain of that design.

The tests use the ``rscript`` fixture: they skip without R and its survey
package, and fail instead when ``SCORECARD_REQUIRE_R=1`` (CI).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scorecard
from cohorts import ArrivalCohorts
from indicators import get as get_indicator
from indicators.definition import Indicator
from indicators.expr import ALWAYS, col
from scorecard.microdata import Microdata
from scorecard.places import Places
from tests.conftest import shared_file

R_DIR = Path(__file__).parent / "r"
RTOL = 1e-9
REPLICATES = [f"rep{r}" for r in range(1, 81)]
SEATTLE = "real/pumsutils_wa/seattle_2016_person_pums_subset.csv.gz"

#: Largest relative difference seen per (test, statistic), printed with ``pytest -s``.
AGREEMENT: dict[tuple[str, str], dict[str, float]] = {}


# ---------------------------------------------------------------------------------------------- helpers
def run_r(rscript: str, script: str, *args: Path) -> pd.DataFrame:
    """Run ``tests/r/<script>`` with file arguments; return the CSV it writes (the last argument)."""
    completed = subprocess.run(
        [rscript, "--vanilla", str(R_DIR / script), *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        pytest.fail(f"Rscript {script} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    return pd.read_csv(args[-1], dtype={"place": str, "cohort": str, "group": str}, keep_default_na=False,
                       na_values=["NA"])


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|ours − theirs| / |theirs| (0 where both are 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.abs(ours - theirs) / np.abs(theirs)
    return np.where((ours == theirs), 0.0, diff)


def compare(name: str, est, expected: pd.DataFrame, *, year: int, group_dim: str, statistics: dict[str, str]):
    """Assert that ``est`` holds R's estimate and SE for every row of ``expected``."""
    ours = est[["estimate", "se"]].sel(year=year).to_dataframe().reset_index()
    ours = ours.rename(columns={group_dim: "group"})[["indicator", "place", "cohort", "group", "estimate", "se"]]
    ours["group"] = ours["group"].astype(str)
    merged = expected.merge(ours, on=["indicator", "place", "cohort", "group"], how="left",
                            suffixes=("_r", "_ours"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, f"R groups missing from our Dataset:\n{unmatched.head()}"
    assert len(merged) == len(expected)
    for key, rows in merged.groupby("indicator"):
        summary = {}
        for variable in ("estimate", "se"):
            theirs, mine = rows[f"{variable}_r"].to_numpy(float), rows[f"{variable}_ours"].to_numpy(float)
            np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs), err_msg=f"{name} {key} {variable}: NaN pattern")
            finite = ~np.isnan(theirs)
            np.testing.assert_allclose(mine[finite], theirs[finite], rtol=RTOL, atol=1e-12,
                                       err_msg=f"{name} {key} {variable}")
            summary[variable] = float(relative_difference(mine[finite], theirs[finite]).max(initial=0.0))
        summary["groups"] = float(len(rows))
        AGREEMENT[(name, f"{key} ({statistics[key]})")] = summary
        print(f"{name:<22} {key:<20} {statistics[key]:<10} groups={len(rows):4d} "
              f"max rel diff estimate={summary['estimate']:.2e} se={summary['se']:.2e}")


# ---------------------------------------------------------------------------------------------- Seattle 2016
def seattle_indicators() -> list[Indicator]:
    """Custom indicators on the Seattle subset (ESR kept as an extra column)."""
    worker_universe = (col("age") >= 16) & col("ESR").notna()
    common = {"domain": "test", "higher_is_better": None}
    return [
        Indicator(key="employed_16plus", label="Employed, 16+", universe=worker_universe,
                  measure=col("ESR").isin([1, 2, 4, 5]), extra_columns=("ESR",), **common),
        Indicator(key="mean_age", label="Mean age", universe=ALWAYS, measure=col("age"), statistic="mean", **common),
        Indicator(key="median_age", label="Median age", universe=ALWAYS, measure=col("age"), statistic="median",
                  **common),
        Indicator(key="persons", label="Persons", universe=ALWAYS, statistic="total", **common),
        Indicator(key="employed_count", label="Employed persons", universe=worker_universe,
                  measure=col("ESR").isin([1, 2, 4, 5]), statistic="total", extra_columns=("ESR",), **common),
        Indicator(key="old_age_ratio", label="65+ per person 18-64", universe=ALWAYS, measure=col("age") >= 65,
                  denominator=col("age").between(18, 64), statistic="ratio", **common),
    ]


def read_seattle(path: Path) -> Microdata:
    frame = pd.read_csv(path)
    return Microdata.from_frame(
        frame,
        mapping={
            "household_id": "SERIALNO",
            "puma": lambda f: f["PUMA"].astype(str).str.zfill(5),
            "age": "AGEP",
            "sex": lambda f: np.where(f["SEX"] == 1, "male", "female"),
            "person_weight": "PWGTP",
        },
        defaults={"survey_year": 2016, "state": "53", "puma_vintage": 2010, "person_id": 1},
        person_replicates="pwgtp",
        keep=["ESR"],
        source=path.name,
    )


def test_seattle_sdr_matches_r(rscript, shared_data, tmp_path):
    path = shared_file(shared_data, SEATTLE)
    expected = run_r(rscript, "seattle_sdr.R", path, tmp_path / "r.csv")
    micro = read_seattle(path)
    inds = seattle_indicators()
    pumas = sorted(micro.frame["puma"].unique())
    by_puma = Places.from_pumas(pd.DataFrame({"place": pumas, "state": "53", "puma": pumas, "puma_vintage": 2010}))
    statistics = {i.key: i.statistic for i in inds}
    for places in (by_puma, None):
        est = scorecard.estimate(micro, inds, places=places, by=["sex"])
        subset = expected[expected["place"].isin(est["place"].values.tolist())]
        assert len(subset) == len(inds) * len(est["place"]) * 2
        compare("seattle_2016_sdr", est, subset, year=2016, group_dim="sex", statistics=statistics)


# ---------------------------------------------------------------------------------------------- synthetic
def synthetic_records(seed: int, n: int = 4000, *, design: str = "sdr") -> pd.DataFrame:
    """Person records in harmonized categories with integer weights.

    Four PUMAs (one small), ~25% foreign-born with years of entry 1950-2022
    (so the 2020- cohort is small), incomes for ages 16+ with some missing,
    and either 80 SDR-like replicate weights (``design="sdr"``) or strata and
    clusters (``design="linearization"``, one stratum with a single cluster).
    """
    rng = np.random.default_rng(seed)
    puma = rng.choice(["00100", "00200", "00300", "00400"], size=n, p=[0.36, 0.31, 0.29, 0.04])
    age = rng.integers(0, 91, size=n)
    foreign = rng.random(n) < 0.25
    entry = np.where(foreign, np.minimum(rng.integers(1950, 2023, size=n), 2022), -1)
    english_levels = np.array(["only", "very_well", "well", "not_well", "not_at_all"])
    english = np.where(
        foreign,
        english_levels[rng.choice(5, size=n, p=[0.15, 0.35, 0.25, 0.15, 0.10])],
        english_levels[rng.choice(5, size=n, p=[0.85, 0.10, 0.03, 0.015, 0.005])],
    ).astype(object)
    english[age < 5] = None
    income = np.round(np.exp(rng.normal(10.3, 1.0, size=n)), -1)
    income[(age < 16) | (rng.random(n) < 0.05)] = np.nan
    earnings = np.where(rng.random(n) < 0.3, 0.0, np.round(income * rng.uniform(0.2, 1.0, size=n), -1))
    earnings[rng.random(n) < 0.03] = np.nan
    weight = rng.integers(5, 200, size=n).astype(float)
    frame = pd.DataFrame(
        {
            "survey_year": 2022,  # years of entry run to 2022, so the survey is 2022 (issue 11: entry <= survey year)
            "state": "01",
            "puma": puma,
            "puma_vintage": 2010,
            "household_id": [f"h{i}" for i in range(n)],
            "person_id": 1,
            "age": age,
            "sex": rng.choice(["male", "female"], size=n),
            "nativity": np.where(foreign, "foreign_born", "native"),
            "year_of_entry": pd.array(np.where(foreign, entry, 0), dtype="Int16"),
            "english": english,
            "person_income": income,
            "earnings": earnings,
            "person_weight": weight,
        }
    )
    frame.loc[~foreign, "year_of_entry"] = pd.NA
    if design == "sdr":
        # Successive-difference-like factors 1 ± 0.707 or 1, rounded to integer weights of at least 1.
        factors = rng.choice([1 - 0.7071, 1.0, 1 + 0.7071], size=(n, 80), p=[0.4, 0.2, 0.4])
        replicates = np.maximum(np.round(weight[:, None] * factors), 1.0)
        frame = pd.concat([frame, pd.DataFrame(replicates, columns=REPLICATES)], axis=1)
    else:
        stratum = rng.integers(1, 12, size=n)  # strata 1..11, ~6 clusters each
        cluster = stratum * 100 + rng.integers(0, 6, size=n)
        lonely = puma == "00400"  # stratum 12: one cluster (certainty PSU)
        stratum[lonely], cluster[lonely] = 12, 1200
        frame["variance_strata"], frame["variance_cluster"] = stratum, cluster
    return frame


SYNTHETIC_PLACES = pd.DataFrame(
    {
        "place": ["A", "A", "B", "B", "C"],
        "state": "01",
        "puma": ["00100", "00300", "00200", "00300", "00400"],
        "puma_vintage": 2010,
        "factor": [1.0, 0.3, 1.0, 0.7, 1.0],
    }
)


def synthetic_indicators(*, median: bool) -> list[Indicator]:
    adults = (col("age") >= 16) & col("person_income").notna()
    common = {"domain": "test", "higher_is_better": None}
    inds = [
        get_indicator("english_very_well"),
        get_indicator("population"),
        Indicator(key="mean_income", label="Mean income", universe=adults, measure=col("person_income"),
                  statistic="mean", **common),
        Indicator(key="total_income", label="Aggregate income", universe=adults, measure=col("person_income"),
                  statistic="total", **common),
        Indicator(key="earnings_to_income", label="Earnings / income", universe=adults, measure=col("earnings"),
                  denominator=col("person_income"), statistic="ratio", **common),
    ]
    if median:
        inds.append(Indicator(key="median_income", label="Median income", universe=adults,
                              measure=col("person_income"), statistic="median", **common))
    return inds


def write_for_r(frame: pd.DataFrame, tmp_path: Path) -> tuple[Path, Path]:
    records, places = tmp_path / "records.csv", tmp_path / "places.csv"
    columns = ["puma", "sex", "age", "nativity", "year_of_entry", "english", "person_income", "earnings",
               "person_weight"]
    columns += [c for c in ("variance_strata", "variance_cluster") if c in frame] + [c for c in REPLICATES if c in frame]
    out = frame[columns].rename(columns={"variance_strata": "strata", "variance_cluster": "cluster"})
    out.to_csv(records, index=False, na_rep="")
    SYNTHETIC_PLACES[["puma", "place", "factor"]].to_csv(places, index=False)
    return records, places


@pytest.mark.parametrize("seed", [11, 2024])
def test_synthetic_sdr_with_split_puma_matches_r(rscript, tmp_path, seed):
    frame = synthetic_records(seed)
    records, places_csv = write_for_r(frame, tmp_path)
    expected = run_r(rscript, "synthetic_sdr.R", records, places_csv, tmp_path / "r.csv")
    micro = Microdata.from_frame(frame, person_replicates=REPLICATES, source="synthetic")
    inds = synthetic_indicators(median=True)
    est = scorecard.estimate(micro, inds, places=Places.from_pumas(SYNTHETIC_PLACES),
                             cohorts=ArrivalCohorts.decades(1970, 2020), by=["sex"])
    assert set(expected["cohort"]) == set(est["cohort"].values.tolist())
    compare(f"synthetic_sdr[{seed}]", est, expected, year=2022, group_dim="sex",
            statistics={i.key: i.statistic for i in inds})
    # Groups R does not list (no record in the domain) must be explicit NaN with a reason, not 0.
    n = est["n_unweighted"].sel(year=2022)
    assert bool((est["estimate"].sel(year=2022).isnull() == (n == 0)).all())


@pytest.mark.parametrize("seed", [5, 77])
def test_synthetic_linearized_matches_r(rscript, tmp_path, seed):
    frame = synthetic_records(seed, design="linearization")
    records, places_csv = write_for_r(frame, tmp_path)
    expected = run_r(rscript, "synthetic_linearized.R", records, places_csv, tmp_path / "r.csv")
    micro = Microdata.from_frame(frame, source="synthetic-linearized")
    assert micro.variance_method == "linearization"
    inds = synthetic_indicators(median=False)
    est = scorecard.estimate(micro, inds, places=Places.from_pumas(SYNTHETIC_PLACES),
                             cohorts=ArrivalCohorts.decades(1970, 2020), by=["sex"])
    assert est.attrs["variance_method"] == "linearization"
    compare(f"synthetic_linearized[{seed}]", est, expected, year=2022, group_dim="sex",
            statistics={i.key: i.statistic for i in inds})


def test_median_when_smallest_value_holds_half_the_weight(rscript, tmp_path):
    """Hand-computed edge case where survey 4.1's ``qrule_math`` itself is off by one value.

    Values 1, 2, 3 with weights 10, 1, 1: F(1) = 10/12 ≥ 0.5, so the median
    (smallest x with F(x) ≥ 0.5) is 1. ``survey:::qrule_math`` returns 2
    (``survey:::last()`` falls back to position 1 when no cumulative weight is
    ≤ p·total, and the rule then takes the next value). The synthetic tests use
    ``qrule_math_checked`` (tests/r/common.R), which differs only there.
    """
    frame = pd.DataFrame({"survey_year": 2020, "state": "01", "puma": "00100", "puma_vintage": 2010,
                          "household_id": ["a", "b", "c"], "person_id": 1, "age": [1, 2, 3],
                          "person_weight": [10.0, 1.0, 1.0]})
    median_age = Indicator(key="median_age", label="Median age", domain="test", universe=ALWAYS,
                           measure=col("age"), statistic="median", higher_is_better=None)
    est = scorecard.estimate(Microdata.from_frame(frame), median_age)
    assert float(est["estimate"].squeeze()) == 1.0
    script = tmp_path / "edge.R"
    script.write_text(
        f'source("{R_DIR / "common.R"}")\n'
        "cat(survey:::qrule_math(c(1, 2, 3), c(10, 1, 1), 0.5), qrule_math_checked(c(1, 2, 3), c(10, 1, 1), 0.5))\n"
    )
    completed = subprocess.run([rscript, "--vanilla", str(script)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    stock, checked = map(float, completed.stdout.split()[-2:])
    assert checked == 1.0
    assert stock in (1.0, 2.0)  # 2.0 in survey 4.1.1; 1.0 if survey corrects the rule
