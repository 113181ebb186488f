"""Rank intervals: the published examples of the methods' authors, and properties.

* ``joint`` (Klein, Wright & Wieczorek 2020): Figure 1 of the paper as reproduced in the RankingProject
  vignette "joint" (the 90% joint confidence region for the 51 states' 2011 mean travel times); the
  expected rank sets are in tests/data/ranking/travel_time_2011_joint.csv, read off the figure.
* ``marginal`` / ``simultaneous`` / ``top_k_set`` (Mogstad, Romano, Shaikh & Wilhelm 2024): the csranks
  1.2.3 vignette "Inference for Ranks" on PISA 2018 math (inst/doc/Inference-for-Ranks.html):
  United Kingdom rank 13, 95% marginal interval [8, 23]; 95% top-5 set of 13 countries, 90% of 11.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scorecard as sc
from scorecard.errors import ScorecardError
from scorecard.scoring.ranks import draw_ranks, joint_rank_sets, sidak_intervals, stepdown_rank_bounds
from scorecard.uncertainty import moe_to_se
from tests.scoring_data import frame_dataset

DATA = Path(__file__).parent / "data" / "ranking"


def _travel_time():
    table = pd.read_csv(DATA / "travel_time_2011_joint.csv", comment="#")
    frame = pd.DataFrame(
        {
            "indicator": "travel_time",
            "place": table["abbreviation"],
            "estimate": table["estimate"],
            "se": moe_to_se(table["moe90"]),
            "cohort": "all",
            "year": 2011,
        }
    )
    return table, frame_dataset(frame, directions={"travel_time": 0.0})


def _pisa():
    table = pd.read_csv(DATA / "pisa2018_math.csv", comment="#")
    frame = pd.DataFrame(
        {
            "indicator": "math",
            "place": table["jurisdiction"],
            "estimate": table["math_score"],
            "se": table["math_se"],
            "cohort": "all",
            "year": 2018,
        }
    )
    return table, frame_dataset(frame, directions={"math": 1.0})


def test_joint_reproduces_klein_wright_wieczorek_figure_1():
    table, _ = _travel_time()
    # The vignette's steps: SE = MOE / qnorm(0.95); Sidak z = qnorm(1 - (1 - 0.9^(1/51))/2) = 3.081;
    # interval endpoints rounded to 1 decimal; touching endpoints count as separated.
    se = table["moe90"].to_numpy() / 1.6448536269514722
    lower, upper = sidak_intervals(table["estimate"].to_numpy(), se, 0.90)
    rank_lower, rank_upper = joint_rank_sets(np.round(lower, 1), np.round(upper, 1), higher_is_better=False)
    np.testing.assert_array_equal(rank_lower, table["published_rank_lower"])
    np.testing.assert_array_equal(rank_upper, table["published_rank_upper"])


def test_rank_intervals_joint_on_the_dataset_matches_the_figure_up_to_rounding():
    table, est = _travel_time()
    out = sc.rank_intervals(est, indicator="travel_time", cohort="all", method="joint", coverage=0.90)
    out = out.sel(place=table["abbreviation"].to_numpy())
    assert out.attrs["higher_is_better"] == 0 and out.attrs["covariance"] == "independent"
    # unrounded endpoints (SE = MOE/1.645): 9 of 51 sets differ by one rank at a touching endpoint
    low_diff = np.abs(out["rank_lower"].values - table["published_rank_lower"].to_numpy())
    up_diff = np.abs(out["rank_upper"].values - table["published_rank_upper"].to_numpy())
    assert low_diff.max() <= 1 and up_diff.max() <= 1
    assert ((low_diff > 0) | (up_diff > 0)).sum() == 9
    # the point ranks: South Dakota and North Dakota tie at 16.9 and share rank 1
    assert out["rank"].sel(place="SD") == 1 and out["rank"].sel(place="ND") == 1
    assert out["rank"].sel(place="MD") == 51


def test_marginal_reproduces_csranks_vignette_uk():
    # The vignette prints L = 8, rank 13, U = 23 (R = 1000 draws) and its text says "anywhere between 7 and 23".
    # The lower bound sits on a knife edge: Canada's t = (512.02 - 501.77) / sqrt(2.357^2 + 2.564^2) = 2.942
    # against a step-2 critical value of 2.948 (400,000 draws, computed separately), so Canada is proven
    # better than the UK in some runs of 1,000 draws (L = 8) and not in the limit (L = 7).
    _, est = _pisa()
    out = sc.rank_intervals(est, indicator="math", method="marginal", coverage=0.95, draws=20_000, seed=1)
    uk = out.sel(place="United Kingdom")
    assert int(uk["rank"]) == 13
    assert (int(uk["rank_lower"]), int(uk["rank_upper"])) == (7, 23)
    few = sc.rank_intervals(est, indicator="math", method="marginal", coverage=0.95, draws=1000, seed=0)
    assert int(few["rank_lower"].sel(place="United Kingdom")) in (7, 8)
    assert int(few["rank_upper"].sel(place="United Kingdom")) == 23


TOP5_95 = [
    "Belgium",
    "Canada",
    "Denmark",
    "Estonia",
    "Finland",
    "Japan",
    "Korea",
    "Netherlands",
    "Poland",
    "Slovenia",
    "Sweden",
    "Switzerland",
]


@pytest.mark.parametrize(
    ("coverage", "expected"),
    [
        # Vignette text: "The confidence set contains 12 countries"; its printed output (R = 1000 draws) also
        # lists the United Kingdom, a knife edge: Poland - UK t = 3.799 against a final critical value of 3.735
        # (100,000 draws, computed separately) whose 1,000-draw estimate ranges 3.67-3.80, so in some runs
        # Poland is not proven better than the UK and the UK enters the set.
        (0.95, TOP5_95),
        # Vignette: "At the 90% level, we can now exclude Sweden" - printed output, 11 countries.
        (0.90, [c for c in TOP5_95 if c != "Sweden"]),
    ],
)
def test_top_k_reproduces_csranks_vignette(coverage, expected):
    _, est = _pisa()
    out = sc.top_k_set(est, 5, indicator="math", coverage=coverage, draws=20_000, seed=2)
    assert sorted(out["place"].values[out["in_top_k"].values].tolist()) == expected
    assert out.attrs["k"] == 5


def test_simultaneous_is_wider_than_marginal_and_covers_the_point_rank():
    _, est = _pisa()
    marginal = sc.rank_intervals(est, indicator="math", method="marginal", coverage=0.95, draws=2000, seed=3)
    simultaneous = sc.rank_intervals(est, indicator="math", method="simultaneous", coverage=0.95, draws=2000, seed=3)
    assert (simultaneous["rank_lower"] <= marginal["rank_lower"]).all()
    assert (simultaneous["rank_upper"] >= marginal["rank_upper"]).all()
    for out in (marginal, simultaneous):
        assert (out["rank_lower"] <= out["rank"]).all() and (out["rank"] <= out["rank_upper"]).all()
    # Colombia (391) and Mexico (409) lie far below everyone else but each other and Costa Rica (402)
    assert int(simultaneous["rank_lower"].sel(place="Colombia")) >= 36


def test_stepdown_by_hand_two_places():
    # Two independent places, difference 1 with s = sqrt(2) * 0.1: t = 7.07, far above any critical value.
    theta = np.array([1.0, 0.0])
    dev = np.random.default_rng(0).standard_normal((5000, 2)) * 0.1
    lower, upper = stepdown_rank_bounds(theta, dev, np.diag([0.01, 0.01]), coverage=0.9, simultaneous=True)
    assert lower.tolist() == [1, 2] and upper.tolist() == [1, 2]
    # with SE 1 the same difference is not significant: both could be first or second
    lower, upper = stepdown_rank_bounds(theta, dev * 10, np.diag([1.0, 1.0]), coverage=0.9, simultaneous=False)
    assert lower.tolist() == [1, 1] and upper.tolist() == [2, 2]


def test_replicate_covariance_narrows_intervals_of_correlated_places():
    # Three places whose replicates move together: differences have small SEs though each SE is large.
    rng = np.random.default_rng(5)
    common = rng.standard_normal(80) * 0.05
    base = np.array([0.50, 0.52, 0.54])
    reps = np.concatenate([base[:, None], base[:, None] + common[None, :] + rng.standard_normal((3, 80)) * 0.001], 1)
    frame = pd.DataFrame(
        {
            "indicator": "x",
            "place": ["a", "b", "c"],
            "estimate": base,
            "se": np.sqrt(0.05 * ((reps[:, 1:] - reps[:, :1]) ** 2).sum(1)),
        }
    )
    with_reps = frame_dataset(frame, replicates=reps.reshape(1, 3, 1, 1, 81), directions={"x": 1.0})
    without = frame_dataset(frame, directions={"x": 1.0})
    a = sc.rank_intervals(with_reps, method="simultaneous", draws=2000, seed=0)
    b = sc.rank_intervals(without, method="simultaneous", draws=2000, seed=0)
    assert a.attrs["covariance"] == "replicates" and b.attrs["covariance"] == "independent"
    assert a["rank_lower"].values.tolist() == [3, 2, 1] and a["rank_upper"].values.tolist() == [3, 2, 1]
    assert b["rank_lower"].values.tolist() == [1, 1, 1] and b["rank_upper"].values.tolist() == [3, 3, 3]


def test_draw_ranks_matches_a_loop():
    draws = np.random.default_rng(1).standard_normal((50, 7))
    expected = np.array([[1 + (row > row[k]).sum() for k in range(7)] for row in draws])
    np.testing.assert_array_equal(draw_ranks(draws), expected)


def test_bad_input_raises():
    _, est = _pisa()
    with pytest.raises(ScorecardError, match="method"):
        sc.rank_intervals(est, method="bayes")
    with pytest.raises(ScorecardError, match="closest: 'Canada'"):
        sc.rank_intervals(est, places=["Canda", "Japan", "Korea"])
    with pytest.raises(ScorecardError, match="at least 3"):
        sc.rank_intervals(est, places=["Canada", "Japan"])
    with pytest.raises(ScorecardError, match="year"):
        sc.rank_intervals(est, year=1999)
    with pytest.raises(ScorecardError, match="'k' parameter"):
        sc.top_k_set(est, 0)
