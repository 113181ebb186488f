"""Grouped weighted quantiles, for the full-sample weight and every replicate weight at once.

Rule (documented convention): the *p*-quantile of a group is the smallest
value ``x`` whose weighted cumulative share reaches *p*,
``Q(p) = min{x : Σ_{v ≤ x} w / Σ w ≥ p}`` — the inverse of the weighted
empirical CDF, with no interpolation between values. It is R ``survey``'s
``svyquantile(..., qrule = "math")`` and Hyndman-Fan type 1 with weights. The
Census Bureau computes PUMS-based medians the same way for each of the 81
weights (the published *tables* instead interpolate within income brackets;
our estimates are not bracketed, so they do not interpolate). The ACS's rare
negative replicate weights are treated as zero inside medians only.

All groups and all weight columns are searched in one ``np.searchsorted``:
records are sorted by (group, value), weights are cumulated down each column,
and each column is shifted by a constant larger than any cumulative sum so
that the 81 columns laid end to end form one non-decreasing array.

Examples
--------
>>> import numpy as np
>>> group = np.array([0, 0, 0, 1, 1])
>>> value = np.array([5.0, 1.0, 3.0, 7.0, 9.0])
>>> weights = np.array([[1.0, 1.0], [1.0, 3.0], [1.0, 1.0], [2.0, 1.0], [1.0, 1.0]])
>>> grouped_quantile(group, value, weights, n_groups=3, p=0.5).tolist()
[[3.0, 1.0], [7.0, 7.0], [nan, nan]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["grouped_quantile"]


def grouped_quantile(
    group: np.ndarray, value: np.ndarray, weights: np.ndarray, *, n_groups: int, p: float | np.ndarray = 0.5
) -> np.ndarray:
    """The ``p``-quantile of ``value`` in each group for each weight column.

    Parameters
    ----------
    group : int array (E,)
        Group of each entry (0 .. n_groups-1).
    value : float array (E,)
    weights : float array (E, R)
        Non-negative weights (already multiplied by allocation factors).
    n_groups : int
    p : float or float array (n_groups,), default=0.5
        The probability, one for all groups or one per group.

    Returns
    -------
    float64 array (n_groups, R); NaN where a group has no positive weight.
    """
    n_columns = weights.shape[1]
    out = np.full((n_groups, n_columns), np.nan)
    if len(group) == 0:
        return out
    order = np.lexsort((value, group))
    group, value = group[order], value[order]
    # Negative replicate weights (rare but real in ACS files) would make the CDF non-monotone: they count as 0 here.
    cumulative = np.cumsum(np.maximum(weights[order], 0.0), axis=0, dtype="float64")  # (E, R)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)] - 1
    before = np.where(starts[:, None] > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)  # (G', R)
    totals = cumulative[ends] - before
    share = np.asarray(p, dtype="float64")
    share = share[group[starts], None] if share.ndim else share
    targets = before + share * totals
    # Lay the R columns end to end: shift column r by r × (grand total + 1).
    shift = (np.arange(n_columns) * (cumulative[-1].max() + 1.0))[None, :]
    flat = (cumulative + shift).T.ravel()
    position = np.searchsorted(flat, (targets + shift).T.ravel(), side="left")
    position = position.reshape(n_columns, len(starts)).T - np.arange(n_columns)[None, :] * len(group)
    position = np.clip(position, starts[:, None], ends[:, None])
    result = np.where(totals > 0, value[position], np.nan)
    out[group[starts]] = result
    return out
