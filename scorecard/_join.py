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

__all__ = ["match_sorted"]


def match_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with ``keys[i] == sorted_keys[j]``; ``sorted_keys`` must be sorted.

    Pairs come ordered by i, then j. Linear in the output plus a binary search per key.
    """
    first = np.searchsorted(sorted_keys, keys, side="left")
    counts = np.searchsorted(sorted_keys, keys, side="right") - first
    left = np.repeat(np.arange(len(keys)), counts)
    within = np.arange(len(left)) - np.repeat(np.cumsum(counts) - counts, counts)
    return left, np.repeat(first, counts) + within
