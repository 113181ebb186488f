"""Invariants of the estimator (hypothesis): row order, chunking, weight scale, degenerate replicates."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scorecard as sc
from cohorts import ArrivalCohorts
from tests.estimation_data import split_places, synthetic_micro

KEYS = ["naturalized", "english_well_or_better", "homeownership", "median_household_income", "population"]
SCHEME = ArrivalCohorts.decades(1990, 2010, open_start=True)
BASE = synthetic_micro(n=600, seed=3)
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _estimate(micro):
    return sc.estimate(micro, KEYS, places=split_places(), cohorts=SCHEME)


REFERENCE = _estimate(BASE)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(seed):
    permuted = BASE.take(np.random.default_rng(seed).permutation(len(BASE)))
    result = _estimate(permuted)
    for name in ["estimate", "se", "n_unweighted"]:
        np.testing.assert_allclose(result[name].values, REFERENCE[name].values, rtol=1e-12, equal_nan=True)


@SETTINGS
@given(cuts=st.lists(st.integers(1, len(BASE) - 1), min_size=1, max_size=6, unique=True))
def test_chunks_give_the_same_numbers(cuts):
    bounds = [0, *sorted(cuts), len(BASE)]
    pieces = [BASE.take(np.arange(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
    result = sc.estimate(pieces, KEYS, places=split_places(), cohorts=SCHEME)
    for name in ["estimate", "se", "universe_weighted"]:
        # atol: an SE of exactly 0 may come back as 1e-17 after summing pieces with fractional allocation factors
        np.testing.assert_allclose(result[name].values, REFERENCE[name].values, rtol=1e-10, atol=1e-12, equal_nan=True)


@SETTINGS
@given(scale=st.sampled_from([0.5, 2.0, 3.0, 10.0, 0.125]))
def test_scaling_all_weights_leaves_shares_and_medians_unchanged(scale):
    frame = BASE.frame.copy()
    frame["person_weight"] *= scale
    frame["household_weight"] *= scale
    scaled = sc.Microdata(frame, BASE.person_replicates * np.float32(scale), BASE.household_replicates * np.float32(scale),
                          attrs=BASE.attrs)
    result = _estimate(scaled)
    shares = [k for k in KEYS if k != "population"]
    for name in ["estimate", "se"]:
        np.testing.assert_allclose(result[name].sel(indicator=shares).values, REFERENCE[name].sel(indicator=shares).values,
                                   rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(result["estimate"].sel(indicator="population").values,
                               scale * REFERENCE["estimate"].sel(indicator="population").values, rtol=1e-12, equal_nan=True)


def test_se_is_zero_when_every_replicate_equals_the_full_weight():
    frame = BASE.frame
    person = np.repeat(frame["person_weight"].to_numpy(np.float32)[:, None], 80, axis=1)
    household = np.repeat(frame["household_weight"].to_numpy(np.float32)[:, None], 80, axis=1)
    flat = sc.Microdata(frame, person, household, attrs=BASE.attrs)
    result = _estimate(flat)
    present = result["estimate"].notnull()
    assert (result["se"].where(present) == 0).sum() == present.sum()
