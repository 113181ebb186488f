"""Vectorized equality join of integer keys (the one helper both places and groupings use).

Examples
--------
>>> import numpy as np
>>> left, right = match_sorted(np.array([5, 7, 9]), np.array([5, 5, 9]))
>>> left.tolist(), right.tolist()
([0, 0, 2], [0, 1, 2])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["match_sorted"]


def match_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with ``keys[i] == sorted_keys[j]``; ``sorted_keys`` must be sorted.

    Pairs come ordered by i, then j. Linear in the output: the first match and
    the number of matches of each key come from a counting table when the
    sorted keys are small non-negative integers (record numbers), else from a
    binary search per *distinct* key (keys such as PUMAs repeat millions of
    times but have a few thousand values).
    """
    first, counts = _first_and_count(np.asarray(keys), np.asarray(sorted_keys))
    if len(counts) and counts.max(initial=0) <= 1:  # the usual one-to-one (or one-to-none) join
        left = np.flatnonzero(counts) if not counts.all() else np.arange(len(keys))
        return left, first[left]
    left = np.repeat(np.arange(len(keys)), counts)
    within = np.arange(len(left)) - np.repeat(np.cumsum(counts) - counts, counts)
    return left, np.repeat(first, counts) + within


def _first_and_count(keys: np.ndarray, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of the first equal sorted key, number of equal sorted keys) for each key."""
    if len(keys) == 0 or len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
    integral = keys.dtype.kind in "iu" and sorted_keys.dtype.kind in "iu"
    if integral and sorted_keys[0] >= 0 and sorted_keys[-1] < 4 * (len(sorted_keys) + len(keys)):
        per_value = np.bincount(sorted_keys, minlength=int(sorted_keys[-1]) + 1)
        first_of_value = np.cumsum(per_value) - per_value
        inside = (keys >= 0) & (keys < len(per_value))
        where = np.where(inside, keys, 0)
        return first_of_value[where], np.where(inside, per_value[where], 0)
    code, distinct = pd.factorize(keys, sort=False)  # hashing: a binary search per distinct key only
    distinct = np.asarray(distinct)
    first = np.searchsorted(sorted_keys, distinct, side="left")
    counts = np.searchsorted(sorted_keys, distinct, side="right") - first
    return first[code], counts[code]
