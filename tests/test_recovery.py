"""On the embedded synthetic data, estimates recover the generator's truth at about the nominal rate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scorecard as sc
from cohorts import ArrivalCohorts
from scorecard.sources.dollars import to_constant_dollars


@pytest.fixture(scope="module")
def recovered():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = sc.datasets.demo_paths(scale="small")
        micro = sc.datasets.demo(scale="small")
        places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    truth = sc.datasets.demo_truth(scale="small")
    keys = [k for k in truth["indicator"].unique() if k != "population"]
    est = sc.estimate(micro, keys, places=places, cohorts=ArrivalCohorts.decades(1960, 2020, everyone=True))
    table = est[["estimate", "moe90", "n_unweighted"]].to_dataframe().reset_index()
    table = table[["place", "year", "cohort", "indicator", "estimate", "moe90", "n_unweighted"]]
    merged = table.merge(truth, on=["place", "year", "cohort", "indicator"], validate="one_to_one")
    # Truth dollars are survey-year dollars; the reader put incomes in dollars of the latest survey year.
    dollars = merged["statistic"] == "median"
    merged.loc[dollars, "value"] = to_constant_dollars(
        merged.loc[dollars, "value"].to_numpy(), merged.loc[dollars, "year"].to_numpy(), micro.dollars_year
    )
    merged = merged[merged["n_unweighted"] >= 50]
    merged["covered"] = (merged["estimate"] - merged["value"]).abs() <= merged["moe90"]
    return merged


def test_every_truth_cell_has_an_estimate(recovered):
    assert len(recovered) > 400
    assert recovered["estimate"].notna().all()


@pytest.mark.parametrize("statistic", ["proportion", "median"])
def test_90_percent_intervals_cover_truth_at_about_the_nominal_rate(recovered, statistic):
    cells = recovered[recovered["statistic"] == statistic]
    rate = cells["covered"].mean()
    # Cells share one sample (not independent), so the band is wider than a binomial one.
    assert 0.82 <= rate <= 0.97, f"{statistic}: {rate:.3f} of {len(cells)} cells covered"


def test_errors_are_centred(recovered):
    shares = recovered[(recovered["statistic"] == "proportion") & (recovered["moe90"] > 1e-6)]
    z = (shares["estimate"] - shares["value"]) / (shares["moe90"] / 1.645)
    z = z[np.isfinite(z)]
    assert abs(z.mean()) < 0.25 and 0.7 < z.std() < 1.3
