"""Weighted domain scores and composites, with NaN (left-out inputs) handled by renormalising.

``scores`` are ``(indicator, place, column)``: column 0 the point, then
replicates or draws. With indicator weights ``w_i`` (summing to 1):

* domain score ``D_dp = Σ_{i∈d} w_i s_ip / Σ_{i∈d, s_ip present} w_i`` (NaN when none present);
* composite ``C_p = Σ_i w_i s_ip / Σ_{i: s_ip present} w_i``, withheld (NaN) when more than
  ``max_missing`` of the card's indicators are missing for place p.

Examples
--------
>>> s = np.array([[[1.0], [5.0]], [[3.0], [np.nan]]])          # 2 indicators x 2 places x 1 column
>>> w = np.array([0.5, 0.5])
>>> composite(s, w, max_missing=1)[:, 0].tolist()
[2.0, 5.0]
>>> composite(s, w, max_missing=0)[:, 0].tolist()
[2.0, nan]
"""

from __future__ import annotations

import numpy as np

__all__ = ["domain_scores", "composite", "missing_count", "default_max_missing"]


def default_max_missing(n_inputs: int) -> int:
    """Default ``max_missing``: a quarter of the inputs, rounded down (Race for Results: 3 of 12).

    Examples
    --------
    >>> default_max_missing(12), default_max_missing(5), default_max_missing(3)
    (3, 1, 0)
    """
    return n_inputs // 4


def missing_count(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Number of weighted indicators without a point score, per place."""
    return (np.isnan(scores[..., 0]) & (weights[:, None] > 0)).sum(axis=0)


def _weighted_mean(scores: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """``Σ_i m_gi s_i.. / Σ_i m_gi [s_i.. present]`` for groups g; one einsum for numerator and denominator."""
    missing = np.isnan(scores[..., :1])  # a score missing in one column is missing in all
    if not missing.any():
        numerator = np.tensordot(membership, scores, axes=(1, 0))
        denominator = membership.sum(axis=1)[:, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / denominator, np.nan)
    present = ~np.isnan(scores)
    filled = np.where(present, scores, 0.0)
    numerator = np.tensordot(membership, filled, axes=(1, 0))
    denominator = np.tensordot(membership, present.astype(float), axes=(1, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def domain_scores(scores: np.ndarray, weights: np.ndarray, domain_of: np.ndarray, domains: list[str]) -> np.ndarray:
    """Domain scores ``(domain, place, column)``: weighted means of each domain's present indicator scores.

    Examples
    --------
    >>> s = np.array([[[1.0]], [[3.0]], [[4.0]]])
    >>> domain_scores(s, np.array([0.25, 0.25, 0.5]), np.array(["a", "a", "b"]), ["a", "b"])[:, 0, 0].tolist()
    [2.0, 4.0]
    """
    membership = (np.asarray(domain_of)[None, :] == np.asarray(domains)[:, None]) * weights[None, :]
    return _weighted_mean(scores, membership)


def composite(scores: np.ndarray, weights: np.ndarray, *, max_missing: int) -> np.ndarray:
    """Composite ``(place, column)``: weighted mean of present scores, NaN where too many are missing."""
    value = _weighted_mean(scores, weights[None, :])[0]
    withheld = missing_count(scores, weights) > max_missing
    return np.where(withheld[:, None], np.nan, value)
