"""What every cohort function needs from an estimates Dataset: checks, periods, which cohorts each year has.

Reads the estimates Dataset only (never the estimation or sources
packages), so it works the same on microdata, published tables and
:func:`scorecard.estimates_from_frame` figures.

Examples
--------
>>> import xarray as xr
>>> ds = xr.Dataset(coords={"year": [2016, 2020]}, attrs={"survey": "acs5"})
>>> periods(ds).tolist()
[[2012, 2016], [2016, 2020]]
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from scorecard.errors import CohortDataError

__all__ = ["checked", "periods", "require_year", "cohorts_by_year", "followable", "require_cohorts", "other_dims", "provenance", "json_list"]

#: Dims that are neither the year nor the replicates: what a per-year result keeps.
_NOT_CARRIED = ("year", "replicate")


def checked(est: xr.Dataset, who: str) -> xr.Dataset:
    """The Dataset, after the estimates contract check (``scorecard.validate_estimates``) when it exists."""
    if not isinstance(est, xr.Dataset):
        raise CohortDataError(f"The 'est' parameter of {who} must be an estimates xarray.Dataset. Got {type(est).__name__} instead.")
    try:
        from scorecard.estimates import validate_estimates
    except ImportError:  # the contract check lands on main separately
        missing = [name for name in ("estimate", "se") if name not in est] + [d for d in ("year", "cohort") if d not in est.dims]
        if missing:
            raise CohortDataError(f"{who}: the estimates Dataset lacks {missing}; pass the output of scorecard.estimate, "
                                  "read_acs_tables or estimates_from_frame.") from None
        return est
    return validate_estimates(est)


def periods(est: xr.Dataset) -> np.ndarray:
    """First and last survey year of each ``year``'s data period, shape (n_years, 2).

    From the ``period_start`` coord; without it, ``survey == "acs5"`` means
    ``year - 4`` and anything else one-year data.
    """
    years = est["year"].values.astype(np.int64)
    if "period_start" in est.coords:
        start = est["period_start"].values.astype(np.int64)
    else:
        start = years - 4 if str(est.attrs.get("survey", "")) == "acs5" else years.copy()
    return np.stack([start, years], axis=1)


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
    >>> ds = xr.Dataset({"estimate": (("year", "cohort"), [[0.5, 0.2, np.nan], [0.6, np.nan, 0.3]]),
    ...                  "se": (("year", "cohort"), [[0.01] * 3] * 2)},
    ...                 coords={"year": [2011, 2012], "cohort": ["2000-2009", "1990-1999", "2010-"]})
    >>> followable(ds)
    ['2000-2009']
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
