"""Change of each cohort between two survey years, and its pace per decade.

Which standard error (``scorecard.uncertainty`` computes every one):

* **independent years** (1-year data, or 5-year periods that do not overlap):
  ``se = sqrt(se_start² + se_end²)`` (:func:`~scorecard.uncertainty.se_independent`);
* **overlapping periods** (5-year ACS 2016-2020 vs 2018-2022): that times
  ``sqrt(1 − C)``, C = share of overlapping years, from the years'
  ``period_start`` (:func:`~scorecard.uncertainty.se_overlapping`; C = 1 is
  refused).

Replicates are never paired across years: replicate r of one year has
nothing to do with replicate r of another (measured: such SEs are off by
0.68-1.20x), so ``replicate_estimate`` is not used here.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": "53", "year": [2010, 2010, 2020, 2020],
...     "cohort": ["2000-2009", "native", "2000-2009", "native"], "estimate": [0.41, 0.70, 0.52, 0.71],
...     "se": [0.020, 0.01, 0.025, 0.01]}), survey="acs1")
>>> out = change(est, start=2010, end=2020).sel(indicator="naturalized", place="53", cohort=["2000-2009", "native"])
>>> out["change"].round(3).values.tolist(), out["se"].round(5).values.tolist(), out["significant"].values.tolist()
([0.11, 0.01], [0.03202, 0.01414], [True, False])
>>> out.attrs["se_method"]
'independent years: sqrt(se_start^2 + se_end^2)'
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cohorts._common import checked, other_dims, periods, provenance, require_cohorts, require_year
from scorecard.errors import CohortDataError
from scorecard.uncertainty import (
    UncertaintyError,
    benjamini_hochberg,
    overlap_share,
    se_independent,
    se_overlapping,
    se_to_moe,
    significance,
)

__all__ = ["change", "pace"]


def _tests(difference: xr.DataArray, se: xr.DataArray, *, level: float, fdr: float | None) -> dict:
    """z, p_value, significant (and p_adjusted with fdr) as DataArrays shaped like ``difference``."""
    z, p, significant = significance(difference.values, se.values, level=level)
    dims = difference.dims
    out = {"z": (dims, z), "p_value": (dims, p), "significant": (dims, significant)}
    if fdr is not None:
        adjusted, discovery = benjamini_hochberg(p, rate=fdr)
        out["p_adjusted"] = (dims, adjusted)
        out["significant"] = (dims, discovery)
    return out


def _carry_coords(est: xr.Dataset, dims) -> dict:
    """Non-index coords of ``est`` that live on the kept dims only (labels, cohort bounds, place names)."""
    return {name: c for name, c in est.coords.items() if name not in est.dims and set(c.dims) <= set(dims)}


def change(est: xr.Dataset, *, start: int, end: int, level: float = 0.90, fdr: float | None = None,
           cohorts=None) -> xr.Dataset:
    """Change of each estimate between two survey years, with its SE and a significance test.

    Parameters
    ----------
    est : xarray.Dataset
        An estimates Dataset (any route).
    start, end : int
        Survey years to compare (``end − start``); both must be in ``est.year``
        and differ. For 5-year data a year is the last of its period.
    level : float, default=0.90
        Confidence level of ``significant`` (1.645 at 0.90, the Census Bureau's rule).
    fdr : float, optional
        Control the false discovery rate at this level over every change
        returned (Benjamini-Hochberg): ``significant`` then means "a discovery",
        and ``p_adjusted`` holds the adjusted p-values.
    cohorts : str or list of str, optional
        Only these cohorts; each must have estimates in both years (error
        otherwise, naming the cohorts each year has). Default: every cohort;
        a cohort without estimates in a year gets NaN and a ``reason``.

    Returns
    -------
    xarray.Dataset
        Dims of ``est`` without ``year`` (and ``replicate``); variables
        ``estimate_start, estimate_end, change, se, moe90, z, p_value,
        significant`` (+ ``p_adjusted``), ``reason``; attrs ``se_method``,
        ``overlap`` (C), ``start``, ``end``, ``level``, ``fdr``.

    Raises
    ------
    CohortDataError
        A year not in the data, ``start == end``, a cohort missing in a year.
    scorecard.uncertainty.UncertaintyError
        Periods that overlap fully (C = 1) or differ in length.
    """
    est = checked(est, "cohorts.change")
    start = require_year(est, start, "start", "cohorts.change")
    end = require_year(est, end, "end", "cohorts.change")
    if start == end:
        raise CohortDataError(f"cohorts.change needs two different survey years; got start = end = {start}. "
                              f"Years in the Dataset: {[int(y) for y in est['year'].values]}.")
    if cohorts is not None:
        est = est.sel(cohort=require_cohorts(est, cohorts, [start, end], "cohorts.change"))
    spans = dict(zip(est["year"].values.tolist(), periods(est).tolist()))
    (s0, s1), (e0, e1) = spans[start], spans[end]
    overlap = float(overlap_share(s0, s1, e0, e1))
    per_year = est.drop_vars([n for n, c in est.coords.items() if "year" in c.dims and n != "year"])
    first, second = per_year.sel(year=start, drop=True), per_year.sel(year=end, drop=True)
    if overlap > 0:
        if overlap >= 1:
            raise UncertaintyError(f"cohorts.change: the periods of {start} ({s0}-{s1}) and {end} ({e0}-{e1}) are the "
                                   "same years (C = 1); there is no change to test.")
        se = se_overlapping(first["se"].values, second["se"].values, overlap)
        method = (f"overlapping periods {s0}-{s1} and {e0}-{e1}: sqrt(1 - C) * sqrt(se_start^2 + se_end^2), "
                  f"C = {overlap:g}")
    else:
        se = se_independent(first["se"].values, second["se"].values)
        method = "independent years: sqrt(se_start^2 + se_end^2)"
    dims = other_dims(est)
    first_estimate = first["estimate"].transpose(*dims)
    second_estimate = second["estimate"].transpose(*dims)
    difference = second_estimate - first_estimate
    se = xr.DataArray(se, dims=first["se"].dims).transpose(*dims)
    reason = np.full(difference.shape, "", dtype=object)
    reason[np.isnan(se.values)] = "no standard error in one of the years"
    reason[np.isnan(second_estimate.values)] = f"no estimate in {end}"
    reason[np.isnan(first_estimate.values)] = f"no estimate in {start}"
    reason[np.isnan(first_estimate.values) & np.isnan(second_estimate.values)] = f"no estimate in {start} or {end}"
    out = xr.Dataset(
        {
            "estimate_start": first_estimate,
            "estimate_end": second_estimate,
            "change": difference,
            "se": se,
            "moe90": (dims, se_to_moe(se.values)),
            **_tests(difference, se, level=level, fdr=fdr),
            "reason": (dims, reason.astype(str)),
        },
        coords=_carry_coords(est, dims),
    )
    out.attrs.update(provenance(est))
    out.attrs.update({"se_method": method, "overlap": overlap, "start": start, "end": end, "level": level,
                      "fdr": "none" if fdr is None else f"Benjamini-Hochberg at {fdr:g} over {int(np.sum(~np.isnan(out['p_value'].values)))} changes"})
    return out


def pace(est: xr.Dataset, *, years=None, per: int = 10, level: float = 0.90, fdr: float | None = None) -> xr.Dataset:
    """Pace of each estimate: weighted least-squares slope over the survey years, per ``per`` years.

    For a share this is the gain per decade (multiply by 100 for percentage
    points). Each year's estimate is weighted by ``1 / se²``; the slope's SE
    is ``sqrt(1 / Σ w (t − t̄_w)²)``, which treats the years as independent
    samples (true of 1-year ACS years and of 5-year periods that do not
    overlap) and the straight line as the model (a curved path still has a
    slope; its SE does not include lack of fit).

    Parameters
    ----------
    est : xarray.Dataset
        An estimates Dataset.
    years : sequence of int, optional
        Survey years to fit (default all); their data periods must not overlap.
    per : int, default=10
        Slope per this many years.
    level, fdr : float
        As in :func:`change`.

    Returns
    -------
    xarray.Dataset
        ``pace, se, moe90, z, p_value, significant, n_years``; attr ``se_method``.

    Examples
    --------
    >>> import pandas as pd
    >>> from scorecard.estimates import estimates_from_frame
    >>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": "53", "year": [2006, 2011, 2016],
    ...     "cohort": "1990-1999", "estimate": [0.40, 0.45, 0.50], "se": 0.02}), survey="acs1")
    >>> out = pace(est).sel(indicator="naturalized", place="53", cohort="1990-1999")
    >>> round(float(out["pace"]), 6), round(float(out["se"]), 6)   # 0.1 per decade; 0.02 / sqrt(50) * 10
    (0.1, 0.028284)
    """
    est = checked(est, "cohorts.pace")
    if years is not None:
        est = est.sel(year=[require_year(est, y, "years", "cohorts.pace") for y in years])
    spans = periods(est)
    order = np.argsort(spans[:, 0])
    overlapping = spans[order][1:, 0] <= spans[order][:-1, 1]
    if overlapping.any():
        i = int(np.flatnonzero(overlapping)[0])
        a, b = spans[order][i], spans[order][i + 1]
        raise UncertaintyError(
            f"cohorts.pace fits independent years, but the periods {a[0]}-{a[1]} and {b[0]}-{b[1]} overlap. "
            f"Pass years= whose periods do not overlap (for 5-year data, years 5 apart)."
        )
    dims = other_dims(est)
    estimate = est["estimate"].transpose(*dims, "year").values
    se = est["se"].transpose(*dims, "year").values
    t = est["year"].values.astype("float64")
    usable = np.isfinite(estimate) & np.isfinite(se) & (se > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(usable, 1.0 / np.where(usable, se, 1.0) ** 2, 0.0)
        total = w.sum(-1)
        t_mean = (w * t).sum(-1) / total
        centred = t - t_mean[..., None]
        sxx = (w * centred**2).sum(-1)
        y = np.where(usable, estimate, 0.0)
        slope = (w * centred * y).sum(-1) / sxx
        slope_se = np.sqrt(1.0 / sxx)
    n_years = usable.sum(-1)
    slope = np.where(n_years >= 2, slope * per, np.nan)
    slope_se = np.where(n_years >= 2, slope_se * per, np.nan)
    pace_values = xr.DataArray(slope, dims=dims)
    se_values = xr.DataArray(slope_se, dims=dims)
    out = xr.Dataset(
        {
            "pace": pace_values,
            "se": se_values,
            "moe90": (dims, se_to_moe(slope_se)),
            **_tests(pace_values, se_values, level=level, fdr=fdr),
            "n_years": (dims, n_years),
        },
        coords={**{d: est[d] for d in dims}, **_carry_coords(est, dims)},
    )
    out.attrs.update(provenance(est))
    out.attrs.update({
        "se_method": "weighted least squares, weights 1/se^2, independent years: se = sqrt(1 / sum w (t - mean_w t)^2)",
        "per_years": per, "years": [int(y) for y in est["year"].values], "level": level,
        "fdr": "none" if fdr is None else f"Benjamini-Hochberg at {fdr:g}",
    })
    return out
