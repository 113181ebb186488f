"""What every cohort function needs from an estimates Dataset: checks, periods, which cohorts each year has.

Reads the estimates Dataset only (never the estimation or sources
packages), so it works the same on microdata, published tables and
:func:`scorecard.estimates_from_frame` figures.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": "2507000", "year": [2016, 2020],
...     "cohort": ["2000-2009", "1990-1999"], "estimate": [0.4, 0.7], "moe90": [0.03, 0.03]}), survey="acs5")
>>> periods(est).tolist(), cohorts_by_year(est)
([[2012, 2016], [2016, 2020]], {2016: ['2000-2009'], 2020: ['1990-1999']})
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

import scorecard.estimates as contract  # a module reference: scorecard.estimates imports cohorts.labels (no circle)
from scorecard.errors import CohortDataError

__all__ = ["checked", "periods", "require_year", "cohorts_by_year", "followable", "require_cohorts", "other_dims", "provenance", "json_list"]

#: Dims that are neither the year nor the replicates: what a per-year result keeps.
_NOT_CARRIED = ("year", "replicate")


def checked(est: xr.Dataset, who: str) -> xr.Dataset:
    """The Dataset, after the estimates contract check (:func:`scorecard.validate_estimates`)."""
    return contract.validate_estimates(est)


def periods(est: xr.Dataset) -> np.ndarray:
    """First and last survey year of each ``year``'s data period, shape (n_years, 2), from ``period_start``."""
    return np.stack([est["period_start"].values.astype(np.int64), est["year"].values.astype(np.int64)], axis=1)


def require_year(est: xr.Dataset, year, name: str, who: str) -> int:
    """``year`` as an int, or an error naming the years the Dataset has."""
    there = [int(y) for y in est["year"].values]
    try:
        value = int(year)
    except (TypeError, ValueError):
        value = None
    if value is None or value != year or value not in there:
        raise CohortDataError(f"The '{name}' parameter of {who} must be one of the survey years in the Dataset {there}. "
                              f"Got {year!r} instead.")
    return value


def cohorts_by_year(est: xr.Dataset) -> dict[int, list[str]]:
    """Survey year -> cohorts with at least one estimate (any indicator, place or other group).

    A source with fixed periods of entry (S0502) forms different cohorts in
    different years; this says which each year has.
    """
    present = est["estimate"].notnull().any([d for d in est["estimate"].dims if d not in ("year", "cohort")])
    present = present.transpose("year", "cohort").values
    labels = est["cohort"].values
    return {int(y): [str(c) for c in labels[present[i]]] for i, y in enumerate(est["year"].values)}


def followable(est: xr.Dataset, years=None) -> list[str]:
    """Cohorts with estimates in every one of ``years`` (default: all years of the Dataset).

    Examples
    --------
    >>> import pandas as pd
    >>> from scorecard.estimates import estimates_from_frame
    >>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": "53", "year": [2011, 2011, 2012, 2012],
    ...     "cohort": ["2000-", "1990-1999", "2000-", "2010-"], "estimate": [0.2, 0.5, 0.25, 0.05], "se": 0.01}))
    >>> followable(est)
    ['2000-']
    """
    by_year = cohorts_by_year(est)
    chosen = list(by_year) if years is None else [int(y) for y in years]
    common = set.intersection(*(set(by_year[y]) for y in chosen)) if chosen else set()
    return [str(c) for c in est["cohort"].values if c in common]


def require_cohorts(est: xr.Dataset, cohorts, years, who: str) -> list[str]:
    """The cohorts asked for, or an error naming the cohorts each of ``years`` has."""
    wanted = [cohorts] if isinstance(cohorts, str) else list(cohorts)
    by_year = cohorts_by_year(est)
    unknown = [c for c in wanted if c not in est["cohort"].values]
    absent = {y: [c for c in wanted if c not in by_year[y]] for y in years}
    absent = {y: cs for y, cs in absent.items() if cs}
    if unknown or absent:
        detail = (f"cohort(s) {unknown} are not in the Dataset" if unknown
                  else "; ".join(f"{y} has no estimate for {cs}" for y, cs in absent.items()))
        there = "; ".join(f"{y}: {by_year[y]}" for y in years)
        raise CohortDataError(f"{who}: {detail}. Cohorts by year: {there}. Cohorts followable across "
                              f"{list(years)}: {followable(est, years)}.")
    return wanted


def other_dims(est: xr.Dataset) -> list[str]:
    """Dims of ``estimate`` other than year and replicate, in order."""
    return [d for d in est["estimate"].dims if d not in _NOT_CARRIED]


def provenance(est: xr.Dataset) -> dict:
    """Attrs a derived Dataset carries over from the estimates."""
    keep = ("route", "survey", "dollars_year", "variance_method", "sources", "library")
    return {k: est.attrs[k] for k in keep if k in est.attrs}


def json_list(values) -> str:
    """A JSON string of a list (attrs must be netCDF-serializable)."""
    return json.dumps(list(values))
