"""The double cohort on known truth: the demo data's generator gives the true arrival-cohort x
birth-cohort paths, and the engine recovers them within their 90% MOE at about the nominal rate.

The demo files hold a sample of a finite population per survey year; the population is a seeded
function of the year (``scorecard.datasets.synthetic._generate_year``), so the test regenerates it and
computes each cell's true value with the generator's own indicator definitions.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import cohorts
import scorecard as sc
from cohorts.schemes import _range_index
from scorecard.datasets.design import _measures, person_frame, truth_table
from scorecard.datasets.geography import DEFAULT_CITIES, place_members, puma_vintage
from scorecard.datasets.synthetic import DEFAULT_SEED, SCALES, _generate_year

YEARS = (2006, 2010, 2014, 2018, 2022)
BASE_YEAR = 2006
INDICATORS = ("english_very_well", "naturalized", "homeownership")
SCHEME = cohorts.ArrivalCohorts.decades(1970, 2010)
BANDS = cohorts.AgeBands.tens(25, 55, base_year=BASE_YEAR)
MIN_N = 50  # cells with fewer records are left out (normal intervals need some size)


def _population(year: int):
    population, _ = _generate_year(DEFAULT_CITIES, year, SCALES["demo"], DEFAULT_SEED)
    return population


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    paths = sc.datasets.demo_paths()
    pick = [p for p in paths["person"] if int(p.parent.name) in YEARS], [p for p in paths["housing"] if int(p.parent.name) in YEARS]
    micro = sc.read_acs_pums(person=pick[0], housing=pick[1])
    return sc.estimate(micro, list(INDICATORS), cohorts=SCHEME, by=[BANDS])


@pytest.fixture(scope="module")
def truth() -> pd.Series:
    rows = []
    for year in YEARS:
        frame = person_frame(_population(year))
        measures = _measures(frame, year)
        entry = np.where(frame["foreign"], frame["year_of_entry"], np.nan).astype("float64")
        arrival = _range_index(entry, SCHEME.ranges)
        birth = _range_index((frame["age"].to_numpy() - (year - BASE_YEAR)).astype("float64"), BANDS.bands)
        for indicator in INDICATORS:
            universe, measure = measures[indicator]
            # one bincount per indicator: cells = arrival cohort x birth cohort
            cell = np.where(universe & (arrival >= 0) & (birth >= 0), arrival * len(BANDS.bands) + birth, -1)
            size = len(SCHEME.ranges) * len(BANDS.bands)
            denominator = np.bincount(cell[cell >= 0], minlength=size)
            numerator = np.bincount(cell[cell >= 0], weights=measure[cell >= 0].astype(float), minlength=size)
            with np.errstate(invalid="ignore", divide="ignore"):
                values = numerator / denominator
            for (a, (first, last)), (b, band) in itertools.product(enumerate(SCHEME.ranges), enumerate(BANDS.labels)):
                rows.append((indicator, year, cohorts.cohort_label(first, last), band, values[a * len(BANDS.bands) + b]))
    table = pd.DataFrame(rows, columns=["indicator", "year", "cohort", "birth_cohort", "truth"])
    return table.set_index(["indicator", "year", "cohort", "birth_cohort"])["truth"]


def test_regenerated_population_is_the_one_the_demo_files_sampled():
    year = YEARS[2]
    mine = truth_table(_population(year), place_members(DEFAULT_CITIES, puma_vintage(year)), DEFAULT_CITIES)
    shipped = sc.datasets.demo_truth().query("year == @year")
    merged = mine.merge(shipped, on=["place", "cohort", "indicator"], suffixes=("", "_shipped"))
    assert len(merged) == len(shipped) > 0
    np.testing.assert_allclose(merged["value"], merged["value_shipped"], rtol=1e-9)


def _cells(est) -> pd.DataFrame:
    keep = ("indicator", "year", "cohort", "birth_cohort")
    return est[["estimate", "se", "n_unweighted"]].drop_vars([c for c in est.coords if c not in keep]).to_dataframe()


def test_double_cohort_paths_cover_the_truth_at_the_nominal_rate(estimates, truth):
    cells = _cells(estimates.sel(place="all", drop=True)).join(truth, how="inner").dropna(subset=["estimate", "truth"])
    cells = cells[cells["n_unweighted"] >= MIN_N]
    covered = (cells["estimate"] - cells["truth"]).abs() <= 1.645 * cells["se"]
    rate = float(covered.mean())
    print(f"\ndouble-cohort paths: {covered.sum()} of {len(cells)} cells inside their 90% MOE ({rate:.3f})")
    assert len(cells) >= 120
    assert 0.80 <= rate <= 0.97


def test_built_in_changes_are_found_and_flat_ones_are_not(estimates, truth):
    parts = []
    n = estimates["n_unweighted"].sel(place="all", drop=True)
    for start, end in itertools.combinations(YEARS, 2):
        out = cohorts.change(estimates, start=start, end=end).sel(place="all", drop=True)
        frame = out[["change", "se", "significant"]].drop_vars(
            [c for c in out.coords if c not in ("indicator", "cohort", "birth_cohort")]).to_dataframe()
        true = truth.xs(end, level="year") - truth.xs(start, level="year")
        smallest = np.minimum(n.sel(year=start, drop=True), n.sel(year=end, drop=True)).drop_vars(
            [c for c in n.coords if c not in ("indicator", "cohort", "birth_cohort")], errors="ignore").to_series()
        parts.append(frame.join(true.rename("true_change"), how="inner").join(smallest.rename("n")))
    changes = pd.concat(parts).dropna()
    changes = changes[changes["n"] >= MIN_N]
    built_in = changes[changes["true_change"].abs() > 3 * changes["se"]]
    flat = changes[changes["true_change"].abs() < 0.25 * changes["se"]]
    covered = float(((changes["change"] - changes["true_change"]).abs() <= 1.645 * changes["se"]).mean())
    print(f"\nchanges: {len(changes)}; built in (|true| > 3 SE): {len(built_in)}, found {built_in['significant'].mean():.3f}; "
          f"flat (|true| < SE/4): {len(flat)}, called significant {flat['significant'].mean():.3f}; "
          f"90% MOE covers the true change {covered:.3f}")
    assert len(built_in) >= 40 and built_in["significant"].mean() >= 0.9
    assert len(flat) >= 15 and flat["significant"].mean() <= 0.25
    assert 0.82 <= covered <= 0.97
