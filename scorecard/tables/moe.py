"""Census Bureau approximation formulas for the MOE of derived estimates.

Published ACS tables give each estimate with a 90% margin of error (MOE). A
figure derived from several published cells (a sum of categories, a share, a
ratio, a difference, a product) needs its own MOE; without the replicate
estimates, the Census Bureau's *ACS General Handbook* (2020, ch. 8,
"Calculating Measures of Error for Derived Estimates") gives these
approximations, which assume the cells are uncorrelated:

===============  ==============================================================
sum / difference ``MOE(ΣX_i) = sqrt(Σ MOE_i²)`` (the same for ``X - Y``)
proportion       ``p = X/Y`` with X a subset of Y:
                 ``MOE_p = sqrt(MOE_X² - p²·MOE_Y²) / Y``; when the radicand is
                 negative, the ratio formula is used instead
ratio            ``r = X/Y`` (X not a subset of Y):
                 ``MOE_r = sqrt(MOE_X² + r²·MOE_Y²) / Y``
product          ``X·Y``: ``MOE = sqrt(X²·MOE_Y² + Y²·MOE_X²)``
===============  ==============================================================

The handbook also warns that the sum formula overstates the MOE when many
cells are summed, most of all when several are zero (each zero cell carries
the same, sometimes large, MOE); for such sums it suggests keeping only the
largest zero-cell MOE. :func:`moe_sum` implements that as
``zero_rule="largest"`` (default: ``"all"``, the plain formula).

All functions are vectorized over numpy arrays (or anything array-like) and
propagate NaN. A controlled cell (published MOE code ``-555555555``) enters
with MOE 0.

Examples
--------
>>> round(float(moe_sum([100.0, 200.0])), 3)        # two cells with MOE 100 and 200
223.607
>>> float(moe_proportion(60.0, 200.0, 10.0, 20.0))  # p = 0.3: sqrt(100 - 0.09*400) / 200
0.04
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["moe_sum", "moe_difference", "moe_proportion", "moe_ratio", "moe_product", "moe_to_se", "se_to_moe"]

#: z-value of the 90% interval the Census Bureau publishes.
_Z90 = 1.645


def moe_to_se(moe: ArrayLike) -> np.ndarray:
    """Standard error from a published 90% MOE (``MOE / 1.645``).

    Examples
    --------
    >>> float(moe_to_se(1.645))
    1.0
    """
    return np.asarray(moe, dtype=float) / _Z90


def se_to_moe(se: ArrayLike) -> np.ndarray:
    """90% MOE from a standard error (``1.645 · SE``).

    Examples
    --------
    >>> float(se_to_moe(2.0))
    3.29
    """
    return np.asarray(se, dtype=float) * _Z90


def moe_sum(moes: ArrayLike, *, estimates: ArrayLike | None = None, zero_rule: str = "all", axis: int = -1) -> np.ndarray:
    """MOE of a sum of estimates: ``sqrt(Σ MOE_i²)``.

    Parameters
    ----------
    moes : array-like
        MOEs of the summed cells along ``axis``.
    estimates : array-like, optional
        The summed estimates (same shape); needed only for ``zero_rule="largest"``.
    zero_rule : {"all", "largest"}, default="all"
        ``"all"``: every cell's MOE enters. ``"largest"``: of the cells whose
        estimate is 0, only the largest MOE enters (ACS handbook advice for sums
        of many cells).
    axis : int, default=-1
        Axis along which cells are summed.

    Returns
    -------
    numpy.ndarray
        NaN where any cell's MOE is NaN.

    Examples
    --------
    >>> float(moe_sum([3.0, 4.0]))
    5.0
    >>> float(moe_sum([3.0, 4.0, 4.0], estimates=[10.0, 0.0, 0.0], zero_rule="largest"))
    5.0
    """
    moes = np.asarray(moes, dtype=float)
    if zero_rule == "all":
        return np.sqrt(np.sum(moes**2, axis=axis))
    if zero_rule != "largest":
        raise ValueError(f"The 'zero_rule' parameter of moe_sum must be 'all' or 'largest'. Got {zero_rule!r} instead.")
    if estimates is None:
        raise ValueError("The 'estimates' parameter of moe_sum is required when zero_rule='largest'. Got None instead.")
    estimates = np.asarray(estimates, dtype=float)
    zero = estimates == 0
    nonzero_part = np.sum(np.where(zero, 0.0, moes**2), axis=axis)
    largest_zero = np.max(np.where(zero, moes, 0.0), axis=axis)
    return np.sqrt(nonzero_part + largest_zero**2)


def moe_difference(moe_x: ArrayLike, moe_y: ArrayLike) -> np.ndarray:
    """MOE of ``X - Y``: ``sqrt(MOE_X² + MOE_Y²)`` (the same as for a sum).

    Examples
    --------
    >>> float(moe_difference(6.0, 8.0))
    10.0
    """
    return np.hypot(np.asarray(moe_x, dtype=float), np.asarray(moe_y, dtype=float))


def moe_ratio(x: ArrayLike, y: ArrayLike, moe_x: ArrayLike, moe_y: ArrayLike) -> np.ndarray:
    """MOE of the ratio ``X / Y`` when X is not a subset of Y.

    ``MOE = sqrt(MOE_X² + (X/Y)²·MOE_Y²) / Y``.

    Examples
    --------
    >>> round(float(moe_ratio(50.0, 100.0, 5.0, 10.0)), 6)
    0.070711
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    moe_x, moe_y = np.asarray(moe_x, dtype=float), np.asarray(moe_y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = x / y
        return np.sqrt(moe_x**2 + r**2 * moe_y**2) / np.abs(y)


def moe_proportion(x: ArrayLike, y: ArrayLike, moe_x: ArrayLike, moe_y: ArrayLike) -> np.ndarray:
    """MOE of the proportion ``p = X / Y`` when X is a subset of Y.

    ``MOE_p = sqrt(MOE_X² - p²·MOE_Y²) / Y``; where the radicand is negative the
    ratio formula :func:`moe_ratio` is used instead, as the ACS handbook says.
    The result is on the proportion scale (0-1): multiply by 100 for a
    percentage.

    Examples
    --------
    Radicand positive (``100 - 0.09·400 = 64``):

    >>> float(moe_proportion(30.0, 100.0, 10.0, 20.0))
    0.08

    Radicand negative (``25 - 0.25·400 < 0``), so the ratio formula:

    >>> round(float(moe_proportion(50.0, 100.0, 5.0, 20.0)), 6)
    0.111803
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    moe_x, moe_y = np.asarray(moe_x, dtype=float), np.asarray(moe_y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / y
        radicand = moe_x**2 - p**2 * moe_y**2
        fallback = moe_x**2 + p**2 * moe_y**2
        return np.sqrt(np.where(radicand < 0, fallback, radicand)) / np.abs(y)


def moe_product(x: ArrayLike, y: ArrayLike, moe_x: ArrayLike, moe_y: ArrayLike) -> np.ndarray:
    """MOE of the product ``X · Y``: ``sqrt(X²·MOE_Y² + Y²·MOE_X²)``.

    Examples
    --------
    >>> float(moe_product(0.5, 1000.0, 0.01, 30.0))
    18.027756377319946
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    moe_x, moe_y = np.asarray(moe_x, dtype=float), np.asarray(moe_y, dtype=float)
    return np.sqrt(x**2 * moe_y**2 + y**2 * moe_x**2)
