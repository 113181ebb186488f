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

Records are sorted once by (group, value). A replicate's quantile lies close
to the full-sample one (replicate weights perturb each weight by a factor
near 1), so each group is searched in a *window* of sorted positions around
its full-sample quantile, about ``1.5 √n + 8`` wide on each side: the
weights before and after the window enter only as two sums per group (one
sparse product of the weight matrix, no cumulative sums), and only the
window's weights are cumulated. Then, in blocks of whole windows (small
enough to stay in cache), a vectorized binary search inside each window
(about log2 of the widest window steps, each over all groups and weight
columns of the block at once) finds every group's quantile under every
weight. The search is exact, not an approximation: a group whose quantile
under some weight falls outside its window (the cumulative sum before the
window already reaches the target, or the window does not) is searched again
over its whole range.

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

from typing import Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["grouped_quantile", "QuantileWeights", "BLOCK"]

#: Entries per block (whole windows); temporaries are about BLOCK × columns × 8 bytes (cache-sized).
BLOCK = 4_096

#: Relative slack under which a cumulative weight counts as having reached its target (far above float64
#: rounding of block running sums, far below any real difference in shares).
_TIE = 2.0**-40

#: Window half-width around the full-sample quantile: WINDOW_SCALE * sqrt(group size) + WINDOW_PAD positions.
#: A replicate's quantile moves by about 0.4 sqrt(n) positions for ACS-like replicate factors (1 ± 0.71).
WINDOW_SCALE = 1.5
WINDOW_PAD = 8


class QuantileWeights(Protocol):
    """Where the weights of the entries come from (allocation factors applied, negatives as zero).

    A plain (E, R) array is wrapped as one; :class:`~scorecard.estimation.spec.MedianInput`
    is another, gathering rows of a large float32 replicate matrix only when asked. A source may
    also have ``float32_entries``: how many entries' running sums its float32 gathers keep exact
    (blocks are then kept within half of it).
    """

    n_columns: int

    def first_column(self, take: np.ndarray) -> np.ndarray:
        """float64 (len(take),): the full-sample (first) column of the entries at ``take``."""

    def gather(self, take: np.ndarray) -> np.ndarray:
        """(len(take), n_columns), a fresh array the caller may modify: float64, or float32 when the source
        guarantees that every running sum over ``take`` is exact in float32 (see ``float32_entries``)."""

    def segment_sums(self, take: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
        """float64 (n_segments, n_columns): Σ of the rows of ``take`` by ``segment`` (``take`` sorted)."""


class _ArrayWeights:
    """:class:`QuantileWeights` over an in-memory (E, R) array."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = np.asarray(weights)
        self.n_columns = self.weights.shape[1]

    def first_column(self, take: np.ndarray) -> np.ndarray:
        return np.maximum(self.weights[take, 0].astype("float64"), 0.0)

    def gather(self, take: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(self.weights[take], dtype="float64"), 0.0)

    def segment_sums(self, take: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
        return sum_by_segment(self.gather(take), segment, n_segments)


def sum_by_segment(rows: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
    """Σ of ``rows`` (E, R) by ``segment`` (E,) as a sparse product, float64 (n_segments, R)."""
    matrix = sp.csr_matrix((np.ones(len(segment)), (segment, np.arange(len(segment)))), shape=(n_segments, len(segment)))
    return np.asarray(matrix @ rows)


def grouped_quantile(
    group: np.ndarray,
    value: np.ndarray,
    weights: np.ndarray | QuantileWeights,
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
    weights : float array (E, R), or QuantileWeights
        Weights (already multiplied by allocation factors), or an object that
        supplies them on demand (see :class:`QuantileWeights`) so a caller
        can gather them from a larger matrix one block at a time instead of
        materializing them. Column 0 is the full-sample weight: the windows
        are placed around its quantile.
    n_groups : int
    p : float or float array (n_groups,), default=0.5
        The probability, one for all groups or one per group.
    block : int
        Entries per block.

    Returns
    -------
    float64 array (n_groups, R); NaN where a group has no positive weight.
    """
    source = weights if hasattr(weights, "segment_sums") else _ArrayWeights(weights)
    out = np.full((n_groups, source.n_columns), np.nan)
    if getattr(source, "float32_entries", 0):  # blocks small enough for the source's exact float32 running sums
        block = max(1, min(block, source.float32_entries // 2))
    if len(group) == 0:
        return out
    order = _group_value_order(group, value)
    sorted_group, sorted_value = group[order], value[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    groups = sorted_group[starts]
    share = np.asarray(p, dtype="float64")
    share = share[groups] if share.ndim else np.full(len(starts), float(share))

    if source.n_columns > 1:
        low, high = _windows(source.first_column(order), starts, ends, share)
        before, after = _outside_sums(source, order, starts, ends, low, high)
    else:  # one weight column: the window would be the whole group
        low, high, before, after = starts, ends, None, None
    found, missed = _search(source, order, sorted_value, starts, ends, low, high, before, after, share, block)
    out[groups] = found
    if missed.any():  # exact fallback: these groups again, each over its whole range
        redo = np.flatnonzero(missed)
        again, _ = _search(source, order, sorted_value, starts[redo], ends[redo], starts[redo], ends[redo],
                           None, None, share[redo], block)
        out[groups[redo]] = again
    return out


def _group_value_order(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Positions in (group, value) order.

    Values first (the fast unstable sort: the order among equal values of a
    group does not change any quantile), then a stable sort by group, which
    numpy does by radix when the groups fit 16 bits.
    """
    by_value = np.argsort(value)
    group_by_value = group[by_value]
    if group_by_value.min() >= 0 and group_by_value.max() < 1 << 16:
        group_by_value = group_by_value.astype(np.uint16)
    return by_value[np.argsort(group_by_value, kind="stable")]


def _windows(first: np.ndarray, starts, ends, share) -> tuple[np.ndarray, np.ndarray]:
    """[low, high) window of sorted positions per group around its full-sample quantile."""
    cumulative = np.cumsum(first)
    base = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
    total = cumulative[ends - 1] - base
    center = np.searchsorted(cumulative, base + share * total - _TIE * (base + total), side="left")
    center = np.clip(center, starts, ends - 1)
    half = np.ceil(WINDOW_SCALE * np.sqrt(ends - starts)).astype(np.int64) + WINDOW_PAD
    return np.maximum(starts, center - half), np.minimum(ends, center + half + 1)


def _ranges(first: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(first[i], stop[i])`` over i, vectorized."""
    lengths = stop - first
    offsets = np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(int(lengths.sum())) + offsets


def _outside_sums(source, order, starts, ends, low, high) -> tuple[np.ndarray, np.ndarray]:
    """Weight sums (groups × columns) of each group's entries before and after its window."""
    n = len(starts)
    segment_at = np.full(len(order), -1, dtype=np.int64)  # indexed by position in `order`
    for first, stop, offset in ((starts, low, 0), (high, ends, n)):
        positions = _ranges(first, stop)
        segment_at[positions] = np.repeat(np.arange(n) + offset, stop - first)
    segment = np.full(len(order), -1, dtype=np.int64)  # the same, indexed by entry
    segment[order] = segment_at
    take = np.flatnonzero(segment >= 0)
    if len(take) == 0:
        zeros = np.zeros((n, source.n_columns))
        return zeros, zeros
    sums = source.segment_sums(take, segment[take], 2 * n)
    return sums[:n], sums[n:]


def _search(source, order, sorted_value, starts, ends, low, high, before, after, share, block):
    """(quantile per group and column, group missed its window) for windows [low, high) of groups [start, end).

    ``before`` / ``after`` are the groups' weight sums outside their windows
    (None: the windows are the whole groups).
    """
    n_columns = source.n_columns
    found = np.full((len(starts), n_columns), np.nan)
    missed = np.zeros(len(starts), dtype=bool)
    positions = _ranges(low, high)  # windows laid end to end
    window_end = np.cumsum(high - low)
    window_start = window_end - (high - low)
    # Blocks end on window boundaries: the first window starting at or after each multiple of `block`.
    cuts = np.unique(np.r_[0, np.searchsorted(window_start, np.arange(block, len(positions), block)), len(starts)])
    column = np.arange(n_columns)
    for first, last in zip(cuts[:-1], cuts[1:]):  # blocks of windows, for bounded memory
        lo, hi = window_start[first], window_end[last - 1]
        rows = source.gather(order[positions[lo:hi]])  # (B, R) float64, ours
        np.cumsum(rows, axis=0, out=rows)
        local_start, local_end = window_start[first:last] - lo, window_end[first:last] - lo - 1
        running = np.where(local_start[:, None] > 0, rows[np.maximum(local_start - 1, 0)], 0.0)  # (G_b, R)
        inside = rows[local_end] - running
        if before is None:
            outside_before, total = 0.0, inside
        else:
            outside_before = before[first:last]
            total = outside_before + inside + after[first:last]
        # A cumulative share within rounding of p has reached it (exact ties in exact arithmetic, e.g. half of
        # an even count of equal weights, must not depend on the running sums' rounding).
        targets = running + share[first:last, None] * total - outside_before - _TIE * (running + total)
        # Smallest position in the window whose cumulative weight reaches the target (else its last), per group
        # and column: a binary search over every window at once (loops over halving steps only).
        flat = rows.ravel()
        below_start = np.repeat(local_start[:, None], n_columns, axis=1)
        above = np.repeat(local_end[:, None], n_columns, axis=1)
        for _ in range(int(np.max(local_end - local_start)).bit_length()):
            middle = (below_start + above) >> 1
            short = flat[middle * n_columns + column] < targets
            below_start = np.where(short, middle + 1, below_start)
            above = np.where(short, above, middle)
        reached = flat[above * n_columns + column] >= targets
        # Outside the window: reached already before it, or not yet at its end (and entries remain after it).
        early = (above == local_start[:, None]) & (running >= targets) & (low[first:last] > starts[first:last])[:, None]
        late = ~reached & (high[first:last] < ends[first:last])[:, None]
        missed[first:last] = np.any((early | late) & (total > 0), axis=1)
        found[first:last] = np.where(total > 0, sorted_value[positions[lo:hi]][above], np.nan)
    return found, missed
