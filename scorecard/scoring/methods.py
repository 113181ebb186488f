"""Normalisation methods: a name -> function registry that turns estimates into scores.

A method is a function ``method(values, *, higher_is_better, scale, **context) -> scores``.
``values`` is ``(..., place, column)``: places of one indicator along the
second-to-last axis, and along the last axis the point estimate (column 0)
followed by replicate estimates or Gaussian draws, so every score is computed
inside each replicate or draw (a min-max score depends on every peer's
estimate). NaN marks an input left out; it stays NaN and is ignored by the
peers' statistics. Context keys: ``reference`` (the native-born values, same
shape, for ``parity``), ``target`` (``target``), ``bounds`` (``goalposts``).

=============  =====================================================================================
``minmax``     ``lo + (hi − lo)·(x − min)/(max − min)`` over the places (best place = top of the
               scale); reversed when lower is better; all equal -> middle of the scale
``zscore``     ``(x − mean)/sd`` over the places (population sd), sign flipped when lower is better;
               not mapped onto ``scale``
``percentile`` ``lo + (hi − lo)·(#places worse)/(n − 1)``
``parity``     ratio to the native-born of the same place and year, ``x/ref`` (``ref/x`` when lower
               is better), capped at 1 (parity) and mapped onto the scale: ``lo + (hi − lo)·min(r, 1)``
``target``     progress toward a goal ``t``: ``x/t`` (``t/x`` when lower is better), capped at 1,
               mapped onto the scale
``goalposts``  fixed bounds ``(g0, g1)`` comparable across years: ``(x − g0)/(g1 − g0)`` clipped to
               [0, 1] (reversed when lower is better), mapped onto the scale
=============  =====================================================================================

A researcher adds a method with :func:`register_method`.

Examples
--------
>>> x = np.array([[0.25], [0.5], [0.75]])          # three places, one column
>>> get_method("minmax")(x, higher_is_better=True, scale=(1, 5))[:, 0].tolist()
[1.0, 3.0, 5.0]
>>> get_method("percentile")(x, higher_is_better=False, scale=(0, 100))[:, 0].tolist()
[100.0, 50.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from scorecard.errors import ScoringError
from scorecard.scoring._select import closest

__all__ = [
    "register_method",
    "get_method",
    "available_methods",
    "minmax",
    "zscore",
    "percentile",
    "parity",
    "target",
    "goalposts",
]

_METHODS: dict[str, Callable[..., np.ndarray]] = {}


def register_method(name: str, *, replace: bool = False):
    """Decorator adding a normalisation method under ``name``.

    Examples
    --------
    >>> @register_method("rank_share", replace=True)
    ... def rank_share(values, *, higher_is_better, scale, **context):
    ...     return percentile(values, higher_is_better=higher_is_better, scale=(0, 1))
    >>> "rank_share" in available_methods()
    True
    """
    if not name.isidentifier():
        raise ScoringError(f"A method name must be a Python identifier. Got {name!r} instead.")

    def decorate(function):
        if name in _METHODS and not replace:
            raise ScoringError(f"A method is already registered as {name!r}; pass replace=True to replace it.")
        _METHODS[name] = function
        return function

    return decorate


def available_methods() -> list[str]:
    """Names of the registered methods."""
    return sorted(_METHODS)


def get_method(name: str) -> Callable[..., np.ndarray]:
    """The method registered as ``name``; unknown names raise with the closest ones."""
    try:
        return _METHODS[name]
    except (KeyError, TypeError):
        raise ScoringError(
            f"No scoring method is registered as {closest([name], list(_METHODS))}. Available: {available_methods()}."
        ) from None


def _oriented(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values if higher_is_better else -values


def _onto(share: np.ndarray, scale) -> np.ndarray:
    low, high = scale
    return low + (high - low) * share


@register_method("minmax")
def minmax(values, *, higher_is_better: bool, scale=(1, 5), **context) -> np.ndarray:
    """Best place = top of the scale, worst = bottom, linear in between (per column)."""
    x = _oriented(values, higher_is_better)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        low, high = np.nanmin(x, axis=-2, keepdims=True), np.nanmax(x, axis=-2, keepdims=True)
        share = np.where(high > low, (x - low) / (high - low), 0.5)
    return np.where(np.isnan(x), np.nan, _onto(share, scale))


@register_method("zscore")
def zscore(values, *, higher_is_better: bool, scale=(1, 5), **context) -> np.ndarray:
    """``(x − mean)/sd`` over the places (population sd); ``scale`` is not applied."""
    x = _oriented(values, higher_is_better)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        mean = np.nanmean(x, axis=-2, keepdims=True)
        sd = np.nanstd(x, axis=-2, keepdims=True)
        return np.where(sd > 0, (x - mean) / sd, 0.0) + np.where(np.isnan(x), np.nan, 0.0)


@register_method("percentile")
def percentile(values, *, higher_is_better: bool, scale=(1, 5), **context) -> np.ndarray:
    """Share of the other places that are worse, mapped onto the scale (ties count half).

    ``(r − 1)/(n − 1)`` with ``r`` the average rank from the worst (``scipy.stats.rankdata``).
    """
    x = _oriented(values, higher_is_better)
    present = ~np.isnan(x)
    n = present.sum(axis=-2, keepdims=True)
    ranks = stats.rankdata(np.where(present, x, np.inf), method="average", axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 1, (ranks - 1) / (n - 1), 0.5)
    return np.where(present, _onto(share, scale), np.nan)


@register_method("parity")
def parity(values, *, higher_is_better: bool, scale=(1, 5), reference=None, **context) -> np.ndarray:
    """Ratio to the native-born of the same place and year, capped at parity (1), on the scale."""
    if reference is None:
        raise ScoringError(
            "The 'parity' method needs the native-born figures: the estimates must hold cohort 'native'."
        )
    x, ref = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = x / ref if higher_is_better else ref / x
    return _onto(np.clip(ratio, 0, 1), scale)


@register_method("target")
def target(values, *, higher_is_better: bool, scale=(1, 5), target=None, **context) -> np.ndarray:
    """Progress toward a goal the office sets: ``x/t`` (``t/x`` when lower is better), capped at 1."""
    if target is None or not np.isfinite(target) or target == 0:
        raise ScoringError(
            "The 'target' method needs a non-zero goal for every indicator: pass targets={indicator: goal}."
        )
    x = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = x / target if higher_is_better else target / x
    return _onto(np.clip(ratio, 0, 1), scale)


@register_method("goalposts")
def goalposts(values, *, higher_is_better: bool, scale=(1, 5), bounds=None, **context) -> np.ndarray:
    """Fixed bounds ``(g0, g1)``: ``(x − g0)/(g1 − g0)`` clipped to [0, 1], reversed when lower is better."""
    if bounds is None or len(bounds) != 2 or not bounds[1] > bounds[0]:
        raise ScoringError(
            f"The 'goalposts' method needs bounds (low, high) with low < high for every indicator. Got {bounds!r}; "
            "pass goalposts={indicator: (low, high)} (shares default to (0, 1))."
        )
    x = np.asarray(values, dtype=float)
    share = np.clip((x - bounds[0]) / (bounds[1] - bounds[0]), 0, 1)
    return _onto(share if higher_is_better else 1 - share, scale)


class _quiet:
    """Silence numpy's all-NaN-slice warnings (an indicator nobody has is NaN, by design)."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)
