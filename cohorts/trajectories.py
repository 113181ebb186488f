"""Each cohort's estimates followed over time, aligned by survey year, years since arrival or age.

A cohort seen in repeated cross-sections is a *synthetic* cohort: the people
interviewed in 2010 and 2020 are different samples, and the cohort itself
changes between the years (emigration, return migration, deaths, people
moving in or out of the place, and, for open-ended cohorts, new arrivals).
A change of a cohort's estimate mixes individual progress with such changes
of composition. :func:`trajectories` therefore puts the cohort's weighted
size beside every estimate and warns (:class:`CohortDriftWarning`) when the
size of a closed cohort changes by more than ``size_threshold`` between two
survey years.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": "53", "year": [2010, 2010, 2020, 2020],
...     "cohort": ["1990-1999", "foreign_born"] * 2, "estimate": [0.40, 0.5, 0.50, 0.55], "se": 0.02,
...     "universe_weighted": [1000.0, 9000.0, 950.0, 9900.0]}), survey="acs1")
>>> out = trajectories(est, align="years_since_arrival").sel(indicator="naturalized", place="53")
>>> out["years_since_arrival"].values.tolist(), out["estimate"].sel(cohort="1990-1999").values.tolist()
([20, 30], [0.4, 0.5])
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import xarray as xr

from cohorts._common import checked, cohorts_by_year, followable, periods
from scorecard.errors import CohortDataError

__all__ = ["trajectories", "CohortDriftWarning", "ALIGNMENTS"]

#: Ways to line up cohorts.
ALIGNMENTS = ("survey_year", "years_since_arrival", "age")

_CAVEAT = ("Synthetic cohorts: each survey year is a new sample, and the cohort's membership changes between years "
           "(emigration, deaths, moves in and out of the place; open-ended cohorts gain new arrivals), so a change "
           "mixes progress of the same people with changes of composition. See cohort_size and size_change.")


class CohortDriftWarning(UserWarning):
    """A closed cohort's weighted size changed beyond the threshold between two survey years."""


def _size_change(est: xr.Dataset, size_threshold: float) -> tuple[xr.DataArray, xr.DataArray, list[dict]]:
    """Weighted size of each cell, its relative change from the previous year, and the drifts beyond the threshold."""
    size = est["universe_weighted"] if "universe_weighted" in est else xr.full_like(est["estimate"], np.nan)
    previous = size.shift(year=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = size / previous - 1
    spans = periods(est)
    # A cohort is closed in a year when its entry window ended before the year's data period began.
    if "entry_last" in est.coords:
        entry_last = est["entry_last"]
        period_start = xr.DataArray(spans[:, 0], dims="year", coords={"year": est["year"]})
        closed = (entry_last < period_start.shift(year=1)) & (est["cohort_kind"] == "arrival") if "cohort_kind" in est.coords \
            else entry_last < period_start.shift(year=1)
    else:
        closed = xr.zeros_like(est["year"], dtype=bool)
    flagged = (np.abs(relative) > size_threshold) & closed
    drifts = []
    if bool(flagged.any()):
        stacked = relative.where(flagged).to_series().dropna()
        years = est["year"].values.tolist()
        for key in stacked.abs().sort_values(ascending=False).head(10).index:
            labels = dict(zip(stacked.index.names, key if isinstance(key, tuple) else (key,)))
            year = int(labels.pop("year"))
            drifts.append({**{k: str(v) for k, v in labels.items()}, "from": years[years.index(year) - 1], "to": year,
                           "relative_change": round(float(stacked.loc[key]), 4)})
    return size, relative, drifts


def _realign(est: xr.Dataset, position: xr.DataArray, new_dim: str, along: str) -> xr.Dataset:
    """Re-index ``year`` by ``position`` (dims ``along`` × year): one new dim holding every (along, year) observation."""
    keys = np.unique(position.values[np.isfinite(position.values)]).astype(np.int64)
    if not len(keys):
        raise CohortDataError(f"cohorts.trajectories: no {along} can be aligned by {new_dim}.")
    pos = position.transpose(along, "year").values
    years = est["year"].values
    # index[a, k] = year index of the observation of `along` a with key k, -1 where there is none
    index = np.full((pos.shape[0], len(keys)), -1, dtype=np.int64)
    a, y = np.nonzero(np.isfinite(pos))
    index[a, np.searchsorted(keys, pos[a, y].astype(np.int64))] = y
    indexer = xr.DataArray(np.clip(index, 0, None), dims=(along, new_dim))
    out = est.isel(year=indexer)
    valid = xr.DataArray(index >= 0, dims=(along, new_dim))
    for name, variable in list(out.data_vars.items()):
        if variable.dtype.kind == "f":
            out[name] = variable.where(valid)
        elif variable.dtype.kind in "US":
            out[name] = variable.where(valid, "missing" if name == "reliable" else "")
    survey_year = np.where(index >= 0, years[np.clip(index, 0, None)], -1)
    out = out.drop_vars([c for c in out.coords if "year" in c and c != new_dim], errors="ignore")
    out = out.assign_coords({new_dim: keys, "survey_year": ((along, new_dim), survey_year)})
    return out


def trajectories(est: xr.Dataset, *, align: str = "survey_year", size_threshold: float = 0.25,
                 cohorts=None) -> xr.Dataset:
    """Each cohort's estimates over time, with its weighted size, aligned as asked.

    Parameters
    ----------
    est : xarray.Dataset
        An estimates Dataset.
    align : {"survey_year", "years_since_arrival", "age"}, default="survey_year"
        ``"survey_year"``: the Dataset's own years. ``"years_since_arrival"``:
        arrival cohorts with a closed start (``entry_first``) lined up by
        ``year − entry_first`` (years since the cohort's first year of entry),
        a new dim replacing ``year``; other cohorts are left out and listed in
        the attr ``cohorts_not_aligned``. ``"age"``: birth cohorts
        (:class:`cohorts.AgeBands` advancing, dim ``birth_cohort``) lined up by
        their lower age in the survey year, dim ``age``.
    size_threshold : float, default=0.25
        Relative change of a closed arrival cohort's weighted size between two
        consecutive survey years above which a :class:`CohortDriftWarning` is
        issued (and the cells are listed in the attr ``size_drift``).
    cohorts : str or list of str, optional
        Only these cohorts.

    Returns
    -------
    xarray.Dataset
        ``est``'s variables plus ``cohort_size`` (the weighted size of the
        indicator's universe in the cohort) and ``size_change`` (relative change
        from the previous survey year). With ``align="survey_year"`` the dims
        are the contract's; otherwise ``year`` is replaced by the alignment dim
        and a ``survey_year`` coord (-1 where a cohort was not observed) says
        when each value was measured. Attrs ``alignment``, ``caveat``,
        ``cohorts_by_year``, ``followable_cohorts`` (cohorts with estimates in
        every year), ``size_drift``.
    """
    est = checked(est, "cohorts.trajectories")
    if align not in ALIGNMENTS:
        raise CohortDataError(f"The 'align' parameter of cohorts.trajectories must be one of {list(ALIGNMENTS)}. "
                              f"Got {align!r} instead.")
    if not 0 < size_threshold:
        raise CohortDataError(f"The 'size_threshold' parameter of cohorts.trajectories must be > 0. Got {size_threshold!r}.")
    if cohorts is not None:
        wanted = [cohorts] if isinstance(cohorts, str) else list(cohorts)
        unknown = [c for c in wanted if c not in est["cohort"].values]
        if unknown:
            raise CohortDataError(f"cohorts.trajectories: cohort(s) {unknown} are not in the Dataset "
                                  f"{est['cohort'].values.tolist()}.")
        est = est.sel(cohort=wanted)
    size, relative, drifts = _size_change(est, size_threshold)
    out = est.assign(cohort_size=size, size_change=relative)
    if drifts:
        shown = "; ".join(" ".join(v for k, v in d.items() if k not in ("from", "to", "relative_change"))
                          + f" {d['from']}->{d['to']}: {d['relative_change']:+.0%}" for d in drifts[:5])
        warnings.warn(f"Cohort sizes drift beyond {size_threshold:.0%} between survey years ({shown}). The synthetic cohort "
                      "is not the same people: compare with care (attr size_drift).", CohortDriftWarning, stacklevel=2)
    by_year = cohorts_by_year(est)
    out.attrs.update({"alignment": align, "caveat": _CAVEAT, "size_threshold": size_threshold,
                      "size_drift": json.dumps(drifts),
                      "cohorts_by_year": json.dumps({str(y): cs for y, cs in by_year.items()}),
                      "followable_cohorts": json.dumps(followable(est))})
    if align == "years_since_arrival":
        first = est["entry_first"] if "entry_first" in est.coords else None
        if first is None or not np.isfinite(first.values).any():
            raise CohortDataError("cohorts.trajectories(align='years_since_arrival') needs arrival cohorts with an "
                                  f"'entry_first' coord; the Dataset's cohorts are {est['cohort'].values.tolist()}.")
        keep = np.isfinite(first.values)
        out.attrs["cohorts_not_aligned"] = json.dumps([str(c) for c in est["cohort"].values[~keep]])
        out = out.isel(cohort=np.flatnonzero(keep))
        position = out["year"] - out["entry_first"]
        return _realign(out, position, "years_since_arrival", "cohort")
    if align == "age":
        if "birth_cohort" not in est.dims:
            raise CohortDataError("cohorts.trajectories(align='age') needs birth cohorts: estimate with "
                                  "by=[cohorts.AgeBands.tens(..., base_year=...)] (dim 'birth_cohort').")
        position = out["age_first_at_base"] + (out["year"] - out["base_year"])
        return _realign(out, position, "age", "birth_cohort")
    return out
