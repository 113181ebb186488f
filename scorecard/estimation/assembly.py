"""Assembly: the estimates Dataset from (combined) partial sums.

:func:`finalize` turns the microdata route's sums into estimates, SEs and
reasons, and hands them to :func:`scorecard.estimates.build_estimates`, the one
builder every route shares (dims, variables, coords, attrs; see
docs/architecture.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.estimates import IndicatorMeta, Reliability, build_estimates
from scorecard.estimation.reduction import replicate_estimates
from scorecard.estimation.spec import Partial
from scorecard.estimation.variance import SDR_SCALE

__all__ = ["finalize"]


def finalize(partial: Partial, *, keep_replicates: bool = False, reliability: Reliability | None = None) -> xr.Dataset:
    """Estimates, SEs and flags from (combined) partial sums, as the estimates Dataset."""
    spec, layout = partial.spec, partial.layout
    estimate_values, se, theta = replicate_estimates(partial, keep_replicates)
    n = partial.n_unweighted
    reason = np.full(estimate_values.shape, "", dtype=object)
    if partial.variance_method == "sdr":
        reason[np.isnan(se) & ~np.isnan(estimate_values)] = "a replicate has an empty universe; SE undefined"
        variance_method = "sdr"
    elif partial.variance_method == "linearization":
        se = partial.linearized_se.copy()
        variance_method = "linearization"
    else:
        reason[:] = "no replicate weights or strata/clusters: SE unknown"
        variance_method = "none"
    zero_weight = (n > 0) & np.isnan(estimate_values)
    reason[zero_weight] = "universe has zero weight in this group"
    reason[n == 0] = "no records in the universe for this group"
    se = np.where(n == 0, np.nan, se)
    estimate_values = np.where(n == 0, np.nan, estimate_values)
    # Totals of empty groups are a true zero only if the universe exists elsewhere: keep NaN, never a silent 0.

    dims = ("indicator", *layout.dims)
    shape = (len(spec.indicators), *layout.shape)
    data = {
        "estimate": (dims, estimate_values.reshape(shape)),
        "se": (dims, se.reshape(shape)),
        "n_unweighted": (dims, n.reshape(shape)),
        "universe_weighted": (dims, partial.universe_weighted.reshape(shape)),
        "reason": (dims, reason.reshape(shape).astype(str)),
    }
    if keep_replicates:
        data["replicate_estimate"] = ((*dims, "replicate"), theta.reshape(shape + (partial.n_columns,)))
    coords = layout.coords()
    coords["indicator"] = [i.key for i in spec.indicators]
    if keep_replicates:
        coords["replicate"] = np.arange(partial.n_columns)
    years = pd.DataFrame({"puma_vintage": [partial.year_vintages.get(int(y), np.nan) for y in layout.years]},
                         index=pd.Index([int(y) for y in layout.years], name="year"))
    return build_estimates(
        xr.Dataset(data, coords=coords),
        indicators=[IndicatorMeta.of(i) for i in spec.indicators],
        route="microdata",
        variance_method=variance_method,
        survey=str(partial.attrs.get("survey", "") or ""),
        dollars_year=partial.attrs.get("dollars_year") if partial.attrs.get("dollars_year") is not None else "",
        sources=[str(s) for s in partial.attrs.get("sources") or [partial.attrs.get("source")]],
        years=years,
        reliability=reliability,
        attrs={
            "variance_scale": SDR_SCALE if variance_method == "sdr" else "",
            "quantile_rule": "inverse weighted CDF, no interpolation (R survey qrule='math')",
            "records": partial.records,
            "records_outside_places_and_cohorts": partial.records_outside,
            "excluded_missing_value": partial.missing_value,
            "indicators": [i.describe() for i in spec.indicators],
        },
    )
