"""Pick one indicator, year and cohort out of an estimates Dataset, and draw from it.

Every scoring and ranking function reads the estimates Dataset through
:func:`select_values`, so the checks (known indicator, year, cohort and places,
with the closest names when not) and the choice of covariance (replicates
when the Dataset keeps them, otherwise independent SEs) live in one place.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> ds = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": ["a", "b", "c"], "year": 2020,
...                                         "estimate": 0.5, "se": 0.1}))
>>> values = select_values(ds, indicator="naturalized")
>>> values.places.tolist(), values.covariance
(['a', 'b', 'c'], 'independent')
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from scorecard.errors import ScoringError
from scorecard.estimates import validate_estimates
from scorecard.uncertainty import independent_draws, replicate_covariance, replicate_draws

__all__ = ["Values", "select_values", "check_estimates", "choose", "closest"]


def closest(unknown: Sequence[object], known: Sequence[object]) -> str:
    """``'x' (closest: 'y', 'z')`` for each unknown name, for error messages.

    Examples
    --------
    >>> closest(["Bostn"], ["Boston", "Lowell"])
    "'Bostn' (closest: 'Boston')"
    """
    known = [str(k) for k in known]
    parts = []
    for name in unknown:
        near = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
        parts.append(f"{name!r} (closest: {', '.join(map(repr, near))})" if near else f"{name!r} (no close match)")
    return "; ".join(parts)


def check_estimates(est: xr.Dataset, where: str) -> xr.Dataset:
    """The contract check (:func:`scorecard.estimates.validate_estimates`) for a function taking estimates."""
    if not isinstance(est, xr.Dataset):
        raise ScoringError(
            f"The 'est' parameter of {where} must be an estimates xarray.Dataset. Got {type(est).__name__} instead."
        )
    return validate_estimates(est)


def choose(est: xr.Dataset, dim: str, value, where: str, *, default=None):
    """One label of ``dim``: ``value`` if given (checked), else ``default``, else the only one."""
    labels = est[dim].values.tolist()
    if value is None:
        value = default if default is not None and default in labels else None
        if value is None:
            if len(labels) != 1:
                raise ScoringError(
                    f"{where}: the estimates hold {len(labels)} values of {dim!r} ({labels[:8]}...); "
                    f"pass {dim}= to choose one."
                )
            return labels[0]
        return value
    if value not in labels:
        raise ScoringError(
            f"{where}: {dim} {closest([value], labels)} is not in the estimates. Available: {labels[:20]}."
        )
    return value


@dataclass(frozen=True, slots=True)
class Values:
    """One indicator's figures for a set of places in one year and cohort.

    ``replicates`` is ``(place, 1 + R)`` when the Dataset keeps replicate
    estimates (``covariance == "replicates"``), else ``None``.
    """

    indicator: str
    year: object
    cohort: str
    places: np.ndarray
    place_names: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    replicates: np.ndarray | None
    reliable: np.ndarray
    higher_is_better: float

    @property
    def covariance(self) -> str:
        return "replicates" if self.replicates is not None else "independent"

    def sigma(self) -> np.ndarray:
        """Covariance matrix of the estimates: replicate covariance, else ``diag(se²)``."""
        if self.replicates is not None:
            return replicate_covariance(self.replicates)
        return np.diag(self.se**2)

    def draws(self, draws: int, seed=None) -> np.ndarray:
        """Gaussian draws ``(draws, place)``: replicate covariance or independent SEs."""
        if self.replicates is not None:
            return replicate_draws(self.replicates, draws, seed=seed)
        return independent_draws(self.estimate, self.se, draws, seed=seed)


def _place_names(est: xr.Dataset) -> np.ndarray:
    if "place_name" in est.coords:
        return est["place_name"].values.astype(str)
    return est["place"].values.astype(str)


def match_places(est: xr.Dataset, places) -> tuple[list, list[tuple[int, object]]]:
    """Place codes of ``places`` (codes or ``place_name`` values), and the (position, value) of those not found.

    The one matcher of place names: :func:`resolve_places` and the CLI's config check word its errors.

    Examples
    --------
    >>> ds = xr.Dataset(coords={"place": ["2507000"], "place_name": ("place", ["Boston city, Massachusetts"])})
    >>> match_places(ds, ["Boston city, Massachusetts", "2507000", "Bostn"])
    (['2507000', '2507000'], [(2, 'Bostn')])
    """
    codes = est["place"].values.tolist()
    by_name = dict(zip(_place_names(est).tolist(), codes, strict=True))
    found, unknown = [], []
    for position, place in enumerate(places):  # a handful of names from a user
        if place in codes:
            found.append(place)
        elif isinstance(place, str) and place in by_name:
            found.append(by_name[place])
        else:
            unknown.append((position, place))
    return found, unknown


def resolve_places(est: xr.Dataset, places, where: str) -> list:
    """Place codes from codes or names; unknown ones raise with the closest matches."""
    codes = est["place"].values.tolist()
    if places is None:
        return codes
    if isinstance(places, str):
        places = [places]
    out, unknown = match_places(est, places)
    if unknown:
        names = _place_names(est).tolist()
        raise ScoringError(
            f"{where}: {len(unknown)} place(s) are not in the estimates: "
            f"{closest([u for _, u in unknown], names + [str(c) for c in codes])}. "
            "Use the place codes or place_name values of the Dataset."
        )
    if len(set(out)) != len(out):
        raise ScoringError(f"{where}: the place list names a place twice ({out}).")
    return out


def select_values(
    est: xr.Dataset,
    *,
    indicator=None,
    year=None,
    cohort=None,
    places=None,
    where: str = "select_values",
) -> Values:
    """The figures of one indicator, year and cohort for ``places`` (all by default)."""
    indicator = choose(est, "indicator", indicator, where)
    year = choose(est, "year", year, where, default=max(est["year"].values.tolist()))
    cohort = choose(est, "cohort", cohort, where, default="foreign_born")
    codes = resolve_places(est, places, where)
    point = dict(indicator=indicator, year=year, cohort=cohort)
    sub = est.sel(point).sel(place=codes)
    extra = [d for d in sub["estimate"].dims if d != "place"]
    if extra:
        raise ScoringError(
            f"{where}: the estimates have extra dims {extra}; select one value of each first (est.sel(...))."
        )
    replicates = None
    if "replicate_estimate" in sub:
        replicates = sub["replicate_estimate"].transpose("place", "replicate").values.astype(float)
    reliable = sub["reliable"].values.astype(str) if "reliable" in sub else np.full(len(codes), "reliable")
    direction = float(est["higher_is_better"].sel(indicator=indicator)) if "higher_is_better" in est.coords else np.nan
    return Values(
        indicator=str(indicator),
        year=year,
        cohort=str(cohort),
        places=np.asarray(codes),
        place_names=_place_names(est.sel(place=codes)),
        estimate=sub["estimate"].values.astype(float),
        se=sub["se"].values.astype(float),
        replicates=replicates,
        reliable=reliable,
        higher_is_better=direction,
    )
