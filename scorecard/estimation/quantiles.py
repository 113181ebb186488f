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

Records are sorted once by (group, value). Then, in blocks of whole groups
(small enough to stay in cache), the weights of a block are laid out one entry
per row and cumulated down the rows; a vectorized binary search inside each
group's own range (about log2 of the largest group's size steps, each over all
groups and weight columns of the block at once) finds every group's quantile
under every weight.

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

from collections.abc import Callable

import numpy as np

__all__ = ["grouped_quantile", "BLOCK"]

#: Entries per block (whole groups); temporaries are about BLOCK × columns × 8 bytes (cache-sized).
BLOCK = 16_384

#: Relative slack under which a cumulative weight counts as having reached its target (far above float64
#: rounding of block running sums, far below any real difference in shares).
_TIE = 2.0**-40


def grouped_quantile(
    group: np.ndarray,
    value: np.ndarray,
    weights: np.ndarray | Callable[[np.ndarray], np.ndarray],
    *,
    n_groups: int,
    p: float | np.ndarray = 0.5,
    block: int = BLOCK,
) -> np.ndarray:
    """The ``p``-quantile of ``value`` in each group for each weight column.

    Parameters
    ----------
    group : int array (E,)
        Group of each entry (0 .. n_groups-1).
    value : float array (E,)
    weights : float array (E, R), or callable
        Weights (already multiplied by allocation factors), or a function
        that returns the float64 weights of the entries at positions ``take``,
        shape (len(take), R), as a fresh array it may modify — so a caller
        can gather them from a larger matrix one block at a time instead of
        materializing them.
    n_groups : int
    p : float or float array (n_groups,), default=0.5
        The probability, one for all groups or one per group.
    block : int
        Entries per block.

    Returns
    -------
    float64 array (n_groups, R); NaN where a group has no positive weight.
    """
    weights_of = weights if callable(weights) else (lambda take: np.asarray(weights[take], dtype="float64"))
    if len(group) == 0:
        n_columns = 1 if callable(weights) else weights.shape[1]
        return np.full((n_groups, n_columns), np.nan)
    # (group, value) order as np.lexsort gives it, but faster: a stable sort by value, then a stable sort by group,
    # which numpy does by radix when the groups fit 16 bits.
    by_value = np.argsort(value, kind="stable")
    group_by_value = group[by_value]
    if len(group) and group_by_value.min() >= 0 and group_by_value.max() < 1 << 16:
        group_by_value = group_by_value.astype(np.uint16)
    order = by_value[np.argsort(group_by_value, kind="stable")]
    sorted_group, sorted_value = group[order], value[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    share = np.asarray(p, dtype="float64")
    share = share[sorted_group[starts]] if share.ndim else np.full(len(starts), float(share))
    # Blocks end on group boundaries: the first group starting at or after each multiple of `block`.
    cuts = np.unique(np.r_[0, np.searchsorted(starts, np.arange(block, len(group), block)), len(starts)])
    out = None
    for first, last in zip(cuts[:-1], cuts[1:]):  # blocks of groups, for bounded memory
        lo, hi = starts[first], ends[last - 1]
        rows = weights_of(order[lo:hi])  # (B, R) float64, ours
        np.maximum(rows, 0.0, out=rows)
        n_columns = rows.shape[1]
        if out is None:
            out = np.full((n_groups, n_columns), np.nan)
        np.cumsum(rows, axis=0, out=rows)
        local_start, local_end = starts[first:last] - lo, ends[first:last] - lo - 1
        before = np.where(local_start[:, None] > 0, rows[np.maximum(local_start - 1, 0)], 0.0)  # (G_b, R)
        totals = rows[local_end] - before
        # A cumulative share within rounding of p has reached it (exact ties in exact arithmetic, e.g. half of
        # an even count of equal weights, must not depend on the block's running-sum rounding).
        targets = before + share[first:last, None] * totals - _TIE * (before + totals)
        # Smallest position in [start, end] whose cumulative weight reaches the target (else end), per group
        # and column: a binary search over every group's own range at once (loops over halving steps only).
        flat = rows.ravel()
        column = np.arange(n_columns)
        low = np.repeat(local_start[:, None], n_columns, axis=1)
        high = np.repeat(local_end[:, None], n_columns, axis=1)
        for _ in range(int(np.max(local_end - local_start)).bit_length()):
            mid = (low + high) >> 1
            below = flat[mid * n_columns + column] < targets
            low = np.where(below, mid + 1, low)
            high = np.where(below, high, mid)
        result = np.where(totals > 0, sorted_value[lo:hi][low], np.nan)
        out[sorted_group[starts[first:last]]] = result
    return out
