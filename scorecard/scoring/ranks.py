"""Ranks of places with honest uncertainty: rank intervals and the set of possible top-k places.

=================  ==================================================================================
``joint``          Klein, Wright & Wieczorek (2020, JRSS-C), the Census Bureau's method for ranking ACS
                   estimates: each place gets the interval ``θ_k ± z·SE_k`` with the independence
                   (Šidák) level ``coverage^(1/K)``; place k's rank set runs from 1 + the number of
                   places whose interval lies wholly on the better side of k's to K − the number
                   whose interval lies wholly on the worse side. Šidák's inequality makes the K
                   intervals cover jointly with probability ≥ ``coverage`` for any normal
                   covariance, so the rank sets cover all true ranks jointly.
``marginal``       Mogstad, Romano, Shaikh & Wilhelm (2024, RES), csranks: for each place separately,
                   the pairwise differences with it are tested with the ``coverage`` quantile of
                   ``max |Z_k − Z_j| / s_kj`` (Z ~ N(0, Σ), parametric bootstrap), step-down; the
                   interval covers that place's true rank with probability ``coverage``.
``simultaneous``   the same with all pairs at once: all true ranks covered jointly.
=================  ==================================================================================

``Σ`` is the replicate covariance when the Dataset keeps ``replicate_estimate``
(:func:`scorecard.uncertainty.replicate_covariance`; the bootstrap draws are
:func:`scorecard.uncertainty.replicate_draws`), otherwise ``diag(se²)``
(independence between places, as for published tables). Rank 1 is the best
place; the direction defaults to the indicator's ``higher_is_better``. Ties in
the point estimates share the smallest rank (1, 2, 2, 4).

Examples
--------
Three places far apart and two close together:

>>> theta = np.array([0.9, 0.5, 0.48, 0.2, 0.1])
>>> se = np.full(5, 0.01)
>>> lower, upper = sidak_intervals(theta, se, 0.90)
>>> joint_rank_sets(lower, upper, higher_is_better=True)
(array([1, 2, 2, 4, 5]), array([1, 3, 3, 4, 5]))
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from scorecard.errors import ScoringError
from scorecard.scoring._select import Values, check_estimates, select_values
from scorecard.uncertainty import critical_value

__all__ = [
    "rank_intervals",
    "top_k_set",
    "point_ranks",
    "draw_ranks",
    "sidak_intervals",
    "joint_rank_sets",
    "stepdown_rank_bounds",
    "METHODS",
]

#: Rank-interval methods :func:`rank_intervals` knows.
METHODS = ("joint", "marginal", "simultaneous")
#: Bytes of the pairwise-difference block the bootstrap holds at once.
_BLOCK_BYTES = 64 * 2**20


def point_ranks(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Competition ranks of a 1-D array, 1 = best; ties share the smallest rank; NaN gives rank 0.

    ``rank_k = 1 + #{j : θ_j better than θ_k}``, by one sort and a binary search.

    Examples
    --------
    >>> point_ranks(np.array([3.0, 8.0, 8.0, 1.0])).tolist()
    [3, 1, 1, 4]
    >>> point_ranks(np.array([3.0, np.nan, 9.0]), higher_is_better=False).tolist()
    [1, 0, 2]
    """
    values = np.asarray(values, dtype=float)
    oriented = values if higher_is_better else -values
    present = oriented[~np.isnan(oriented)]
    better = len(present) - np.searchsorted(np.sort(present), oriented, side="right")
    return np.where(np.isnan(oriented), 0, 1 + better).astype(int)


def draw_ranks(draws: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Ranks (1 = best) of the places in each draw: ``draws`` is ``(draws, place)``; two argsorts.

    Ties have probability zero for continuous draws; equal values get distinct
    ranks in place order.

    Examples
    --------
    >>> draw_ranks(np.array([[0.2, 0.9, 0.5], [0.6, 0.1, 0.5]])).tolist()
    [[3, 1, 2], [1, 3, 2]]
    """
    oriented = -draws if higher_is_better else draws
    order = np.argsort(oriented, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, draws.shape[-1] + 1)[None, :].repeat(len(draws), 0), axis=-1)
    return ranks


def sidak_intervals(estimate: np.ndarray, se: np.ndarray, coverage: float = 0.90) -> tuple[np.ndarray, np.ndarray]:
    """Intervals ``θ_k ± z·SE_k`` at the Šidák level ``coverage^(1/K)`` (K = number of places).

    For K = 51 and coverage 0.90, ``z = 3.0809`` (Klein, Wright & Wieczorek 2020).

    Examples
    --------
    >>> lower, upper = sidak_intervals(np.zeros(51), np.ones(51))
    >>> round(float(upper[0]), 4)
    3.0809
    """
    estimate, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    z = critical_value(coverage ** (1.0 / len(estimate)))
    return estimate - z * se, estimate + z * se


def joint_rank_sets(
    lower: np.ndarray, upper: np.ndarray, *, higher_is_better: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rank sets from interval overlaps (Klein, Wright & Wieczorek 2020).

    Ranking from the best: place k is certainly behind every j whose interval
    lies wholly on the better side of k's (``lower_j ≥ upper_k`` when higher is
    better) and certainly ahead of every j wholly on the worse side, so

    ``rank_lower_k = 1 + #{j ≠ k: lower_j ≥ upper_k}``,
    ``rank_upper_k = K − #{j ≠ k: upper_j ≤ lower_k}``.

    Touching endpoints count as separated, as in the authors' RankingProject
    vignette. Two sorts and two binary searches: ``O(K log K)``.

    Examples
    --------
    >>> joint_rank_sets(np.array([1.0, 2.5, 2.0]), np.array([2.0, 3.0, 4.0]), higher_is_better=False)
    (array([1, 2, 2]), array([1, 3, 3]))
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if higher_is_better:  # rank from the smallest of -θ
        lower, upper = -upper, -lower
    n = len(lower)
    self_separated = (upper <= lower).astype(int)  # a zero-width interval touches itself
    ahead = np.searchsorted(np.sort(upper), lower, side="right") - self_separated  # upper_j <= lower_k
    behind = n - np.searchsorted(np.sort(lower), upper, side="left") - self_separated  # lower_j >= upper_k
    return (1 + ahead).astype(int), (n - behind).astype(int)


def _pair_block(n_draws: int, n_places: int) -> int:
    return max(1, min(n_places, _BLOCK_BYTES // max(1, 8 * n_draws * n_places)))


def _max_scaled_differences(
    dev: np.ndarray, s: np.ndarray, forward: np.ndarray, backward: np.ndarray | None
) -> np.ndarray:
    """Per draw and row k: ``max(max_{j∈forward_k} D_kj, max_{j∈backward_k} −D_kj)``, ``D_kj = (Z_k − Z_j)/s_kj``.

    Computed in blocks of rows so the ``(draws, block, places)`` temporary stays small.
    """
    n_draws, n = dev.shape
    out = np.full((n_draws, n), -np.inf)
    step = _pair_block(n_draws, n)
    for start in range(0, n, step):  # blocks of rows, not single places
        rows = slice(start, start + step)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (dev[:, rows, None] - dev[:, None, :]) / s[None, rows, :]
        block = np.where(forward[None, rows, :], scaled, -np.inf).max(axis=2)
        if backward is not None:
            block = np.maximum(block, np.where(backward[None, rows, :], -scaled, -np.inf).max(axis=2))
        out[:, rows] = block
    return out


def stepdown_rank_bounds(
    theta: np.ndarray, dev: np.ndarray, sigma: np.ndarray, *, coverage: float = 0.90, simultaneous: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rank bounds by the csranks procedure (Mogstad, Romano, Shaikh & Wilhelm 2024), higher = better.

    Parameters
    ----------
    theta : (K,)
        Estimates, oriented so that higher is better.
    dev : (draws, K)
        Draws of ``θ* − θ`` from ``N(0, Σ)`` (the parametric bootstrap; the
        same draws serve every step).
    sigma : (K, K)
        ``Σ``; ``s_kj = sqrt(Σ_kk + Σ_jj − 2Σ_kj)``.
    coverage : float
    simultaneous : bool
        ``True``: all directed pairs tested together (joint coverage of all
        ranks); ``False``: for each place, the pairs with it (marginal coverage).

    Returns
    -------
    rank_lower, rank_upper : int arrays (K,)
        ``1 + #{j proven better than k}`` and ``K − #{j proven worse than k}``.

    Notes
    -----
    A directed pair (a, b) is "a better than b". The critical value is the
    ``coverage`` quantile (linear interpolation, as R's ``quantile``) over
    draws of ``max`` over the pairs still open of ``(Z_a − Z_b)/s_ab``; a pair
    is rejected (proven) when ``(θ_a − θ_b)/s_ab`` exceeds it; the step repeats
    on the remaining pairs until nothing new is proven.
    """
    theta, dev = np.asarray(theta, dtype=float), np.asarray(dev, dtype=float)
    n = len(theta)
    variance = np.diag(sigma)
    with np.errstate(invalid="ignore"):
        s = np.sqrt(np.clip(variance[:, None] + variance[None, :] - 2 * sigma, 0, None))
    difference = theta[:, None] - theta[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = np.where(s > 0, difference / s, np.where(difference == 0, 0.0, np.sign(difference) * np.inf))
    off_diagonal = ~np.eye(n, dtype=bool)
    # open[k, j]: "k better than j" not yet proven; for marginal also open_back[k, j]: "j better than k"
    open_fwd = off_diagonal.copy()
    open_back = off_diagonal.copy() if not simultaneous else None
    while True:  # step-down iterations (a handful), not places or draws
        if simultaneous:
            statistic = _max_scaled_differences(dev, s, open_fwd, None).max(axis=1)  # (draws,)
            critical = np.quantile(statistic, coverage)
            proven_fwd = open_fwd & (t_stat > critical)
            new = proven_fwd.any()
            open_fwd &= ~proven_fwd
        else:
            statistic = _max_scaled_differences(dev, s, open_fwd, open_back)  # (draws, K)
            critical = np.quantile(statistic, coverage, axis=0)[:, None]  # one per place
            proven_fwd = open_fwd & (t_stat > critical)
            proven_back = open_back & (-t_stat > critical)
            new = proven_fwd.any() or proven_back.any()
            open_fwd &= ~proven_fwd
            open_back &= ~proven_back
        if not new or not (open_fwd.any() or (open_back is not None and open_back.any())):
            break
    if simultaneous:
        beaten_by = (off_diagonal & ~open_fwd).sum(axis=0)  # a proven better than k
        beats = (off_diagonal & ~open_fwd).sum(axis=1)
    else:
        beaten_by = (off_diagonal & ~open_back).sum(axis=1)
        beats = (off_diagonal & ~open_fwd).sum(axis=1)
    return (1 + beaten_by).astype(int), (n - beats).astype(int)


def _direction(values: Values, higher_is_better, where: str) -> bool:
    if higher_is_better is not None:
        return bool(higher_is_better)
    if np.isnan(values.higher_is_better):
        raise ScoringError(
            f"{where}: indicator {values.indicator!r} has no direction (higher_is_better is NaN, a context "
            "figure); pass higher_is_better=True or False to rank it."
        )
    return bool(values.higher_is_better)


def _check_common(method: str, coverage: float, where: str) -> None:
    if method not in METHODS:
        raise ScoringError(f"The 'method' parameter of {where} must be one of {list(METHODS)}. Got {method!r} instead.")
    if not 0 < coverage < 1:
        raise ScoringError(f"The 'coverage' parameter of {where} must be in (0, 1). Got {coverage!r} instead.")


def _rankable(values: Values, where: str) -> tuple[Values, list]:
    """Drop places without an estimate or SE (counted in the result's attrs); need at least 3."""
    usable = ~np.isnan(values.estimate) & ~np.isnan(values.se)
    if values.replicates is not None:
        usable &= ~np.isnan(values.replicates).any(axis=1)
    excluded = values.places[~usable].tolist()
    if usable.sum() < 3:
        raise ScoringError(
            f"{where}: only {int(usable.sum())} place(s) have an estimate and SE of {values.indicator!r} in "
            f"{values.year}, cohort {values.cohort!r} (excluded: {excluded}); ranking needs at least 3."
        )
    keep = {f: getattr(values, f)[usable] for f in ("places", "place_names", "estimate", "se", "reliable")}
    reps = values.replicates[usable] if values.replicates is not None else None
    return Values(
        values.indicator, values.year, values.cohort, replicates=reps, higher_is_better=values.higher_is_better, **keep
    ), excluded


def rank_intervals(
    est: xr.Dataset,
    *,
    indicator=None,
    year=None,
    cohort=None,
    places=None,
    method: str = "joint",
    coverage: float = 0.90,
    higher_is_better: bool | None = None,
    draws: int = 1000,
    seed=None,
) -> xr.Dataset:
    """Each place's rank with a confidence interval for its true rank.

    Parameters
    ----------
    est : xarray.Dataset
        Estimates Dataset (any route).
    indicator, year, cohort : optional
        Which figures to rank; ``year`` defaults to the latest, ``cohort`` to
        ``"foreign_born"`` (or the only cohort); ``indicator`` is needed when
        there are several.
    places : sequence of str, optional
        Place codes or names to rank among (default: all).
    method : {"joint", "marginal", "simultaneous"}, default="joint"
        See the module docstring.
    coverage : float, default=0.90
    higher_is_better : bool, optional
        Defaults to the indicator's direction.
    draws : int, default=1000
        Bootstrap draws (``marginal`` / ``simultaneous``).
    seed : int, optional

    Returns
    -------
    xarray.Dataset
        Along ``place``: ``rank`` (1 = best), ``rank_lower``, ``rank_upper``,
        ``estimate``, ``se``; coord ``place_name``; attrs ``method``,
        ``coverage``, ``indicator``, ``year``, ``cohort``, ``higher_is_better``
        (1/0), ``covariance`` ("replicates" / "independent"), ``excluded``
        (JSON list of places without an estimate or SE).

    Examples
    --------
    >>> import pandas as pd
    >>> from scorecard.estimates import estimates_from_frame
    >>> ds = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": list("abcd"), "year": 2020,
    ...                                         "estimate": [0.9, 0.5, 0.48, 0.2], "se": 0.01}))
    >>> out = rank_intervals(ds)
    >>> out["rank_lower"].values.tolist(), out["rank_upper"].values.tolist()
    ([1, 2, 2, 4], [1, 3, 3, 4])
    """
    where = "rank_intervals"
    _check_common(method, coverage, where)
    est = check_estimates(est, where)
    values, excluded = _rankable(
        select_values(est, indicator=indicator, year=year, cohort=cohort, places=places, where=where), where
    )
    better = _direction(values, higher_is_better, where)
    rank = point_ranks(values.estimate, higher_is_better=better)
    if method == "joint":
        lower, upper = sidak_intervals(values.estimate, values.se, coverage)
        rank_lower, rank_upper = joint_rank_sets(lower, upper, higher_is_better=better)
    else:
        sign = 1.0 if better else -1.0
        dev = values.draws(draws, seed=seed) - values.estimate
        rank_lower, rank_upper = stepdown_rank_bounds(
            sign * values.estimate, sign * dev, values.sigma(), coverage=coverage, simultaneous=method == "simultaneous"
        )
    return xr.Dataset(
        {
            "rank": ("place", rank),
            "rank_lower": ("place", rank_lower),
            "rank_upper": ("place", rank_upper),
            "estimate": ("place", values.estimate),
            "se": ("place", values.se),
        },
        coords={"place": values.places, "place_name": ("place", values.place_names)},
        attrs={
            "method": method,
            "coverage": coverage,
            "indicator": values.indicator,
            "year": int(values.year) if np.issubdtype(type(values.year), np.integer) else str(values.year),
            "cohort": values.cohort,
            "higher_is_better": int(better),
            "covariance": values.covariance,
            "draws": draws if method != "joint" else 0,
            "excluded": json.dumps([str(p) for p in excluded]),
        },
    )


def top_k_set(
    est: xr.Dataset,
    k: int,
    *,
    indicator=None,
    year=None,
    cohort=None,
    places=None,
    coverage: float = 0.90,
    higher_is_better: bool | None = None,
    draws: int = 1000,
    seed=None,
) -> xr.Dataset:
    """The places that could be among the true top ``k`` (csranks' ``cstaubest``).

    A place is in the set unless at least ``k`` places are proven better than
    it by the simultaneous step-down procedure (one-sided: only "proven
    better" counts), so the set holds all true top-k places with probability
    about ``coverage``.

    Returns
    -------
    xarray.Dataset
        Along ``place``: ``in_top_k`` (bool), ``rank``, ``rank_lower`` (the
        one-sided simultaneous bound), ``estimate``, ``se``; attrs ``k``,
        ``coverage``, ``indicator``, ``year``, ``cohort``, ``higher_is_better``.
    """
    where = "top_k_set"
    _check_common("simultaneous", coverage, where)
    est = check_estimates(est, where)
    values, excluded = _rankable(
        select_values(est, indicator=indicator, year=year, cohort=cohort, places=places, where=where), where
    )
    if not 1 <= int(k) < len(values.places):
        raise ScoringError(f"The 'k' parameter of top_k_set must be in 1..{len(values.places) - 1}. Got {k!r} instead.")
    better = _direction(values, higher_is_better, where)
    sign = 1.0 if better else -1.0
    dev = values.draws(draws, seed=seed) - values.estimate
    rank_lower, _ = stepdown_rank_bounds(
        sign * values.estimate, sign * dev, values.sigma(), coverage=coverage, simultaneous=True
    )
    return xr.Dataset(
        {
            "in_top_k": ("place", rank_lower <= k),
            "rank": ("place", point_ranks(values.estimate, higher_is_better=better)),
            "rank_lower": ("place", rank_lower),
            "estimate": ("place", values.estimate),
            "se": ("place", values.se),
        },
        coords={"place": values.places, "place_name": ("place", values.place_names)},
        attrs={
            "k": int(k),
            "coverage": coverage,
            "indicator": values.indicator,
            "year": int(values.year) if np.issubdtype(type(values.year), np.integer) else str(values.year),
            "cohort": values.cohort,
            "higher_is_better": int(better),
            "covariance": values.covariance,
            "excluded": json.dumps([str(p) for p in excluded]),
        },
    )
