"""The cohort engine: schemes in sc.estimate, change, pace, gap and trajectories, checked against
numbers computed another way (slow per-record loops, numpy by hand, np.polyfit)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import cohorts
import scorecard as sc
from scorecard.errors import CohortDataError, CohortDefinitionError, ScorecardError
from scorecard.uncertainty import UncertaintyError

ROOT = Path(__file__).resolve().parents[1]
INDICATORS = ["english_very_well", "naturalized", "population"]


@pytest.fixture(scope="module")
def micro():
    return sc.datasets.demo(scale="small")


@pytest.fixture(scope="module")
def double(micro):
    """Arrival cohorts x birth cohorts (advancing from 2007), with replicates."""
    return sc.estimate(micro, INDICATORS, cohorts=cohorts.ArrivalCohorts.decades(1980, 2010),
                       by=[cohorts.AgeBands.tens(25, 55, base_year=2007)], keep_replicates=True)


def frame_dataset(values: dict, *, survey: str = "acs1", period_start=None) -> xr.Dataset:
    """A small estimates Dataset from {(year, cohort): (estimate, se)} (one indicator, one place)."""
    frame = pd.DataFrame([(y, c, e, s) for (y, c), (e, s) in values.items()], columns=["year", "cohort", "estimate", "se"])
    frame = frame.assign(indicator="naturalized", place="2507000", place_name="Boston city, Massachusetts",
                         n_unweighted=500.0, universe_weighted=1000.0)
    if period_start is not None:
        frame["period_start"] = frame["year"].map(dict(zip(sorted(frame["year"].unique()), period_start)))
    return sc.estimates_from_frame(frame, survey=survey)


# --- schemes ---------------------------------------------------------------------------------------------


def test_advancing_bands_follow_one_birth_cohort(micro):
    frame = micro.frame
    scheme = cohorts.AgeBands.tens(25, 45, base_year=2007)
    rows, labels = scheme.membership(frame)
    # slow obvious loop over records
    expected = []
    for row, (age, year) in enumerate(zip(frame["age"].tolist(), frame["survey_year"].tolist())):
        at_base = age - (year - 2007)
        band = 0 if 25 <= at_base <= 34 else 1 if 35 <= at_base <= 44 else 2 if at_base >= 45 else None
        if band is not None:
            expected.append((row, band))
    assert sorted(zip(rows.tolist(), labels.tolist())) == expected


def test_every_record_outside_every_cell_is_counted(micro):
    frame = micro.frame
    est = sc.estimate(micro, "population", by=[cohorts.AgeBands.tens(25, 65)])
    outside = int(((frame["age"] < 25) | frame["age"].isna()).sum())
    assert est.attrs["records_outside_places_and_cohorts"] == outside > 0
    ysa = sc.estimate(micro, "population", by=[cohorts.YearsSinceArrival.every(5, stop=30)])
    since = frame["survey_year"] - frame["year_of_entry"].astype("float64")
    inside = (frame["nativity"] == "foreign_born") & (since >= 0)
    assert ysa.attrs["records_outside_places_and_cohorts"] == int((~inside).sum())
    # weighted totals: the bands add up to everyone they hold
    total = est["estimate"].sel(indicator="population", cohort="all").sum("age_band")
    by_year = frame[frame["age"] >= 25].groupby("survey_year")["person_weight"].sum()
    np.testing.assert_allclose(total.squeeze("place").values, by_year.to_numpy())


def test_double_cohort_cell_matches_a_hand_weighted_share(micro, double):
    frame = micro.frame
    year = 2019
    at_base = frame["age"] - (frame["survey_year"] - 2007)
    sel = ((frame["survey_year"] == year) & (at_base.between(35, 44)) & (frame["nativity"] == "foreign_born")
           & frame["year_of_entry"].astype("float64").between(1990, 1999))
    w = frame.loc[sel, "person_weight"]
    naturalized = frame.loc[sel, "citizenship"] == "naturalized"
    expected = float((w * naturalized).sum() / w.sum())
    got = double["estimate"].sel(indicator="naturalized", place="all", year=year, cohort="1990-1999",
                                 birth_cohort="35-44 in 2007")
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_bands_refuse_overlaps_and_sources_name_their_windows():
    with pytest.raises(CohortDefinitionError, match="overlap"):
        cohorts.AgeBands.fixed([(25, 34), (30, 44)])
    with pytest.raises(CohortDefinitionError, match="multiple of width"):
        cohorts.AgeBands.tens(25, 60)
    with pytest.raises(CohortDefinitionError, match=r"\['-1989', '1990-1999', '2000-'\]"):
        cohorts.require_windows(cohorts.ArrivalCohorts(((2000, 2009),)), cohorts.s0502_windows(2010), source="S0502 2010")
    cohorts.require_windows(cohorts.ArrivalCohorts(((1990, 1999), (2000, None))), cohorts.s0502_windows(2011),
                            source="S0502 2011")


def test_cohorts_never_import_estimation_or_sources():
    for path in (ROOT / "cohorts").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        bad = [m for m in names if m.startswith(("scorecard.estimation", "scorecard.sources"))]
        assert not bad, f"{path.name} imports {bad}"
    code = ("import sys, cohorts; bad = [m for m in sys.modules if m.startswith(('scorecard.estimation', "
            "'scorecard.sources'))]; print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("module", ["scorecard.estimates", "scorecard.estimation", "cohorts.schemes", "cohorts.labels"])
def test_any_module_imports_first_in_a_fresh_interpreter(module):
    # dask workers unpickle a cohort scheme first: an import circle there hangs a cluster
    run = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# --- change ------------------------------------------------------------------------------------------------


def test_change_independent_years_never_pairs_replicates(double):
    out = cohorts.change(double, start=2007, end=2019)
    first, last = double.sel(year=2007), double.sel(year=2019)
    np.testing.assert_allclose(out["change"], last["estimate"] - first["estimate"])
    np.testing.assert_allclose(out["se"], np.sqrt(first["se"] ** 2 + last["se"] ** 2))
    across = last["replicate_estimate"] - first["replicate_estimate"]  # the wrong way: replicates paired across years
    paired = np.sqrt(0.05 * ((across.isel(replicate=slice(1, None)) - across.isel(replicate=0)) ** 2).sum("replicate"))
    assert not np.allclose(out["se"].fillna(0), paired.fillna(0))
    assert out.attrs["se_method"].startswith("independent")
    z = out["change"] / out["se"]
    np.testing.assert_allclose(out["z"], z)
    np.testing.assert_allclose(out["p_value"], 2 * stats.norm.sf(np.abs(z)))
    assert (out["significant"] == (np.abs(z) > 1.645)).all()
    assert out["significant"].dtype == bool and "year" not in out.dims and "replicate" not in out.dims


def test_change_overlapping_five_year_periods():
    values = {(2020, "1990-1999"): (0.60, 0.020), (2022, "1990-1999"): (0.66, 0.025),
              (2020, "native"): (0.9, 0.01), (2022, "native"): (0.9, 0.01)}
    ds = frame_dataset(values, survey="acs5", period_start=[2016, 2018])
    out = cohorts.change(ds, start=2020, end=2022).sel(indicator="naturalized", place="2507000")
    c = 3 / 5  # 2016-2020 and 2018-2022 share 2018, 2019, 2020
    assert float(out["se"].sel(cohort="1990-1999")) == pytest.approx(np.sqrt(1 - c) * np.hypot(0.020, 0.025))
    assert out.attrs["overlap"] == pytest.approx(0.6) and "sqrt(1 - C)" in out.attrs["se_method"]
    apart = frame_dataset({(2015, "native"): (0.5, 0.02), (2020, "native"): (0.6, 0.02)}, survey="acs5",
                          period_start=[2011, 2016])
    assert cohorts.change(apart, start=2015, end=2020).attrs["se_method"].startswith("independent")


def test_change_fdr_is_benjamini_hochberg_over_all_changes(double):
    plain = cohorts.change(double, start=2007, end=2022)
    out = cohorts.change(double, start=2007, end=2022, fdr=0.10)
    p = plain["p_value"].values.ravel()
    tested = ~np.isnan(p)
    expected = stats.false_discovery_control(p[tested], method="bh")
    np.testing.assert_allclose(out["p_adjusted"].values.ravel()[tested], expected)
    assert (out["significant"].values.ravel()[tested] == (expected <= 0.10)).all()
    assert out["significant"].sum() <= plain["significant"].sum()
    assert "Benjamini-Hochberg" in out.attrs["fdr"]


def test_change_bad_input_names_the_years(double):
    with pytest.raises(CohortDataError, match=r"\[2007, 2016, 2019, 2022\]. Got 2010"):
        cohorts.change(double, start=2010, end=2022)
    with pytest.raises(CohortDataError, match="start = end = 2016"):
        cohorts.change(double, start=2016, end=2016)
    ds = frame_dataset({(2011, "1990-1999"): (0.5, 0.02), (2012, "2000-2009"): (0.3, 0.02),
                        (2011, "2000-2009"): (0.2, 0.02)})
    with pytest.raises(CohortDataError, match=r"2012 has no estimate for \['1990-1999'\].*followable.*\['2000-2009'\]"):
        cohorts.change(ds, start=2011, end=2012, cohorts="1990-1999")
    out = cohorts.change(ds, start=2011, end=2012)
    assert str(out["reason"].sel(cohort="1990-1999").item()) == "no estimate in 2012"
    with pytest.raises(ScorecardError):
        cohorts.change(xr.Dataset(), start=2011, end=2012)


def test_overlapping_periods_refuse_full_overlap():
    with pytest.raises(UncertaintyError, match="C = 1"):
        from scorecard.uncertainty import se_overlapping
        se_overlapping(0.1, 0.1, 1.0)


# --- pace ----------------------------------------------------------------------------------------------------


def test_pace_is_the_weighted_least_squares_slope(double):
    out = cohorts.pace(double)
    cell = dict(indicator="naturalized", place="all", cohort="1990-1999", birth_cohort="25-34 in 2007")
    y = double["estimate"].sel(**cell).values
    s = double["se"].sel(**cell).values
    t = double["year"].values.astype(float)
    coefficients, covariance = np.polyfit(t, y, 1, w=1 / s, cov="unscaled")
    assert float(out["pace"].sel(**cell)) == pytest.approx(10 * coefficients[0], rel=1e-9)
    assert float(out["se"].sel(**cell)) == pytest.approx(10 * np.sqrt(covariance[0, 0]), rel=1e-6)
    assert int(out["n_years"].sel(**cell)) == 4


def test_pace_refuses_overlapping_periods():
    ds = frame_dataset({(2016, "native"): (0.5, 0.02), (2018, "native"): (0.6, 0.02), (2021, "native"): (0.6, 0.02)},
                       survey="acs5", period_start=[2012, 2014, 2017])
    with pytest.raises(UncertaintyError, match="2012-2016 and 2014-2018 overlap"):
        cohorts.pace(ds)
    assert cohorts.pace(ds, years=[2016, 2021])["n_years"].item() == 2


# --- gap -------------------------------------------------------------------------------------------------------


def test_gap_within_replicates_to_natives_of_the_same_birth_cohort(double):
    out = cohorts.gap(double, reference="native")
    assert "native" not in out["cohort"].values and out.attrs["se_method"].startswith("within replicates")
    cell = dict(indicator="english_very_well", place="all", year=2016, birth_cohort="45-54 in 2007")
    theta = (double["replicate_estimate"].sel(cohort="2000-2009", **cell)
             - double["replicate_estimate"].sel(cohort="native", **cell)).values
    by_hand = np.sqrt(4 / 80 * np.sum((theta[1:] - theta[0]) ** 2))
    assert float(out["se"].sel(cohort="2000-2009", **cell)) == pytest.approx(by_hand, rel=1e-12)
    assert float(out["gap"].sel(cohort="2000-2009", **cell)) == pytest.approx(theta[0])
    no_replicates = cohorts.gap(double.drop_vars("replicate_estimate"))
    assert no_replicates.attrs["se_method"].startswith("independent")
    np.testing.assert_allclose(no_replicates["se"].sel(cohort="2000-2009", **cell),
                               np.hypot(double["se"].sel(cohort="2000-2009", **cell), double["se"].sel(cohort="native", **cell)))
    # a cohort inside the reference: the replicates carry the positive covariance, independence overstates the SE
    inside = cohorts.gap(double, reference="foreign_born").sel(indicator="naturalized", cohort="1990-1999")
    apart = cohorts.gap(double.drop_vars("replicate_estimate"), reference="foreign_born").sel(indicator="naturalized",
                                                                                               cohort="1990-1999")
    ok = np.isfinite(inside["se"]) & np.isfinite(apart["se"])
    assert float((inside["se"] < apart["se"]).where(ok).mean()) > 0.8
    with pytest.raises(CohortDataError, match="must be a cohort of the Dataset"):
        cohorts.gap(double, reference="nativ")


# --- trajectories --------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::cohorts.CohortDriftWarning")  # a few hundred persons a city-year: sizes are noisy
def test_trajectories_align_by_years_since_arrival_and_age(double):
    base = cohorts.trajectories(double)
    sc.validate_estimates(base)  # aligned by survey year, the result is still an estimates Dataset
    np.testing.assert_array_equal(base["cohort_size"], double["universe_weighted"])
    by_ysa = cohorts.trajectories(double, align="years_since_arrival")
    assert set(by_ysa["cohort"].values) == {"1980-1989", "1990-1999", "2000-2009", "2010-"}
    # the 1990s arrivals in 2016 are 26 years after 1990; so are the 1980s arrivals in 2006 (not surveyed: NaN)
    cell = dict(indicator="naturalized", place="all", birth_cohort="25-34 in 2007")
    assert float(by_ysa["estimate"].sel(cohort="1990-1999", years_since_arrival=26, **cell)) == float(
        double["estimate"].sel(cohort="1990-1999", year=2016, **cell))
    assert int(by_ysa["survey_year"].sel(cohort="2000-2009", years_since_arrival=19)) == 2019
    assert int(by_ysa["survey_year"].sel(cohort="2000-2009", years_since_arrival=26)) == -1
    assert json.loads(by_ysa.attrs["cohorts_not_aligned"]) == ["native", "foreign_born"]
    by_age = cohorts.trajectories(double, align="age")
    # aged 25-34 in 2007 -> lower age 37 in 2019
    assert float(by_age["estimate"].sel(indicator="english_very_well", place="all", cohort="native",
                                        birth_cohort="25-34 in 2007", age=37)) == float(
        double["estimate"].sel(indicator="english_very_well", place="all", cohort="native",
                               birth_cohort="25-34 in 2007", year=2019))
    with pytest.raises(CohortDataError, match="birth cohorts"):
        cohorts.trajectories(double.isel(birth_cohort=0, drop=True), align="age")


def test_trajectories_warn_when_a_closed_cohort_drifts():
    values = {(2011, "1990-1999"): (0.5, 0.02), (2016, "1990-1999"): (0.6, 0.02)}
    ds = frame_dataset(values)
    ds["universe_weighted"] = ds["universe_weighted"].where(ds["year"] == 2011, 600.0)  # 40% fewer than in 2011
    with pytest.warns(cohorts.CohortDriftWarning, match="naturalized 2507000 1990-1999 2011->2016: -40%"):
        out = cohorts.trajectories(ds)
    assert json.loads(out.attrs["size_drift"])[0]["relative_change"] == pytest.approx(-0.4)
    assert "Synthetic cohorts" in out.attrs["caveat"]
