"""Grouped replicate quantiles: the windowed search equals a per-group loop, whatever the window does."""

from __future__ import annotations

import numpy as np
import pytest

from scorecard.estimation import quantiles
from scorecard.estimation.quantiles import grouped_quantile
from scorecard.estimation.spec import MedianInput
from scorecard.microdata import profile_replicates


def _loop_quantile(group, value, weights, n_groups, p):
    """One group and one weight column at a time: sort, cumulate, first position reaching p (negatives as zero)."""
    out = np.full((n_groups, weights.shape[1]), np.nan)
    for g in range(n_groups):
        members = np.flatnonzero(group == g)
        if len(members) == 0:
            continue
        order = members[np.argsort(value[members], kind="stable")]
        share = p[g] if np.ndim(p) else p
        for column in range(weights.shape[1]):
            w = np.maximum(weights[order, column], 0.0)
            total = w.sum()
            if total > 0:
                out[g, column] = value[order][np.searchsorted(np.cumsum(w), share * total, side="left")]
    return out


def _data(seed, n_groups=40, negative=False):
    """Integer weights (so every share is exact), groups from 0 to 3,000 entries, many tied values."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([0, 1, 2, 15, 200, 3000], size=n_groups)
    group = np.repeat(np.arange(n_groups), sizes)
    rng.shuffle(group)
    value = rng.integers(0, 60, size=len(group)).astype(float) * 1000.0
    full = rng.integers(1, 300, size=len(group)).astype(float)
    factors = rng.choice([1 - 0.7071, 1.0, 1 + 0.7071], size=(len(group), 80))
    replicates = np.rint(full[:, None] * factors)
    if negative:
        replicates[rng.random(replicates.shape) < 0.01] *= -1
    replicates[group == 3] = 0.0  # a group with weight only in column 0
    return group, value, np.column_stack([full, replicates]), n_groups


WINDOWS = {"default": None, "none": (0.0, 0), "tiny": (0.2, 1)}  # "none" and "tiny" force the exact fallback


@pytest.fixture(params=list(WINDOWS), ids=list(WINDOWS))
def window(request, monkeypatch):
    if WINDOWS[request.param] is not None:
        scale, pad = WINDOWS[request.param]
        monkeypatch.setattr(quantiles, "WINDOW_SCALE", scale)
        monkeypatch.setattr(quantiles, "WINDOW_PAD", pad)
    return request.param


@pytest.mark.parametrize("p", [0.5, 0.25, "per-group"])
@pytest.mark.parametrize("negative", [False, True], ids=["weights>=0", "negative replicate weights"])
def test_array_weights_equal_the_loop(window, p, negative):
    group, value, weights, n_groups = _data(7, negative=negative)
    shares = np.linspace(0.05, 0.95, n_groups) if p == "per-group" else p
    got = grouped_quantile(group, value, weights, n_groups=n_groups, p=shares, block=512)
    np.testing.assert_array_equal(got, _loop_quantile(group, value, weights, n_groups, shares))


def test_fallback_is_used_when_windows_miss(monkeypatch):
    group, value, weights, n_groups = _data(3)
    monkeypatch.setattr(quantiles, "WINDOW_SCALE", 0.0)
    monkeypatch.setattr(quantiles, "WINDOW_PAD", 0)
    searches = []
    search = quantiles._search

    def counting(*args, **kwargs):
        found, missed = search(*args, **kwargs)
        searches.append(int(missed.sum()))
        return found, missed

    monkeypatch.setattr(quantiles, "_search", counting)
    got = grouped_quantile(group, value, weights, n_groups=n_groups)
    assert len(searches) == 2 and searches[0] > 0  # some windows missed and were searched again
    np.testing.assert_array_equal(got, _loop_quantile(group, value, weights, n_groups, 0.5))


@pytest.mark.parametrize("factor_kind", ["whole places", "split places"])
@pytest.mark.parametrize("negative", [False, True], ids=["weights>=0", "negative replicate weights"])
def test_median_input_from_a_float32_matrix_equals_the_loop(window, factor_kind, negative):
    """The production path: entries gather rows of a float32 replicate matrix; outside sums by sparse product."""
    group, value, weights, n_groups = _data(11, negative=negative)
    rng = np.random.default_rng(5)
    rows = np.arange(len(group))
    factor = np.ones(len(group)) if factor_kind == "whole places" else rng.choice([0.25, 0.5, 1.0], size=len(group))
    replicates = np.ascontiguousarray(weights[:, 1:], dtype=np.float32)
    median = MedianInput(group, value, rows, factor, weights[:, 0].copy(), replicates, profile_replicates(replicates))
    got = grouped_quantile(group, value, median, n_groups=n_groups, block=512)
    expected = _loop_quantile(group, value, weights * factor[:, None], n_groups, 0.5)
    np.testing.assert_array_equal(got, expected)
