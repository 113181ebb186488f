"""Gap of each cohort to a reference cohort (the native-born) in the same place, year and age band.

The SE of a gap within one survey year must carry the covariance of the
two estimates (the same sample; a cohort inside the reference):

* with ``replicate_estimate`` (``keep_replicates=True`` on the microdata
  route) the gap is computed inside each of the 80 replicates and the SDR
  formula applied to it (:func:`~scorecard.uncertainty.se_within_replicates`);
* without replicates (published tables, ``estimates_from_frame``) the only
  choice is ``sqrt(se_cohort² + se_reference²)``
  (:func:`~scorecard.uncertainty.se_independent`), which ignores the
  covariance; the ``se_method`` attr says so.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> est = estimates_from_frame(pd.DataFrame({"indicator": "english_very_well", "place": "53", "year": 2020,
...     "cohort": ["native", "foreign_born", "1990-1999"], "estimate": [0.90, 0.60, 0.50], "se": [0.01, 0.03, 0.04]}))
>>> out = gap(est)
>>> out["cohort"].values.tolist(), out["gap"].round(3).values.ravel().tolist()
(['foreign_born', '1990-1999'], [-0.3, -0.4])
>>> out.attrs["se_method"].split(":")[0]
'independent SEs'
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cohorts._common import checked, cohorts_by_year, provenance
from cohorts.change import _carry_coords, _tests
from scorecard.errors import CohortDataError
from scorecard.uncertainty import se_independent, se_to_moe, se_within_replicates

__all__ = ["gap"]

_WITHIN = "within replicates: the gap computed in each replicate, SDR formula (carries the covariance)"
_INDEPENDENT = ("independent SEs: sqrt(se_cohort^2 + se_reference^2); no replicates, so the covariance of the two "
                "estimates is ignored (for a cohort inside the reference the SE is overstated)")


def gap(est: xr.Dataset, *, reference: str = "native", level: float = 0.90, fdr: float | None = None) -> xr.Dataset:
    """Gap ``cohort − reference`` of every other cohort, with SE and significance test.

    Parameters
    ----------
    est : xarray.Dataset
        An estimates Dataset. Other dims (``age_band``, ``birth_cohort``)
        are kept, so with age bands each cohort is compared with the
        reference **of the same age band** (the double-cohort benchmark).
    reference : str, default="native"
        The reference cohort (e.g. ``"native"``, ``"foreign_born"``).
    level : float, default=0.90
        Confidence level of ``significant``.
    fdr : float, optional
        Benjamini-Hochberg over every gap returned (see :func:`cohorts.change`).

    Returns
    -------
    xarray.Dataset
        Dims of ``est`` with ``cohort`` less the reference; variables
        ``estimate, reference_estimate, gap, se, moe90, z, p_value,
        significant`` (+ ``p_adjusted``), ``reason``; attrs ``reference``,
        ``se_method``.
    """
    est = checked(est, "cohorts.gap")
    labels = [str(c) for c in est["cohort"].values]
    if reference not in labels:
        raise CohortDataError(f"The 'reference' parameter of cohorts.gap must be a cohort of the Dataset {labels}. "
                              f"Got {reference!r} instead. Estimate it too (e.g. ArrivalCohorts(..., native=True)).")
    others = [c for c in labels if c != reference]
    if not others:
        raise CohortDataError(f"cohorts.gap: the Dataset has only the reference cohort {reference!r}; nothing to compare.")
    cohort_part = est.sel(cohort=others)
    base = est.sel(cohort=reference, drop=True)
    dims = [d for d in est["estimate"].dims]
    difference = (cohort_part["estimate"] - base["estimate"]).transpose(*dims)
    if "replicate_estimate" in est:
        theta = cohort_part["replicate_estimate"].transpose(*dims, "replicate")
        theta_reference = base["replicate_estimate"].broadcast_like(theta).transpose(*dims, "replicate")
        se = xr.DataArray(se_within_replicates(theta.values, theta_reference.values), dims=dims)
        method = _WITHIN
    else:
        se = xr.DataArray(se_independent(cohort_part["se"].transpose(*dims).values, base["se"].broadcast_like(
            cohort_part["se"]).transpose(*dims).values), dims=dims)
        method = _INDEPENDENT
    reason = np.full(difference.shape, "", dtype=object)
    reason[np.isnan(base["estimate"].broadcast_like(difference).transpose(*dims).values)] = f"no estimate for {reference}"
    reason[np.isnan(cohort_part["estimate"].transpose(*dims).values)] = "no estimate for the cohort"
    out = xr.Dataset(
        {
            "estimate": cohort_part["estimate"].transpose(*dims),
            "reference_estimate": base["estimate"].broadcast_like(difference).transpose(*dims),
            "gap": difference,
            "se": se,
            "moe90": (dims, se_to_moe(se.values)),
            **_tests(difference, se, level=level, fdr=fdr),
            "reason": (dims, reason.astype(str)),
        },
        coords=_carry_coords(cohort_part, dims),
    )
    out.attrs.update(provenance(est))
    present = cohorts_by_year(est)
    missing_reference = [y for y, cs in present.items() if reference not in cs]
    out.attrs.update({"reference": reference, "se_method": method, "level": level,
                      "years_without_reference": str(missing_reference),
                      "fdr": "none" if fdr is None else f"Benjamini-Hochberg at {fdr:g}"})
    return out
