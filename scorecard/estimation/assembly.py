"""Assembly: the estimates Dataset from (combined) partial sums.

:func:`finalize` is the one place where the microdata route builds its
``xarray.Dataset`` (dims, variables, coords, attrs; see docs/architecture.md).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from scorecard import __version__ as _version
from scorecard.estimates import Reliability, finish
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
    coords["indicator_label"] = ("indicator", [i.label for i in spec.indicators])
    coords["statistic"] = ("indicator", [i.statistic for i in spec.indicators])
    coords["higher_is_better"] = (
        "indicator",
        np.array([np.nan if i.higher_is_better is None else float(i.higher_is_better) for i in spec.indicators]),
    )
    if keep_replicates:
        coords["replicate"] = np.arange(partial.n_columns)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        {
            "survey": str(partial.attrs.get("survey", "")),
            "dollars_year": partial.attrs.get("dollars_year") if partial.attrs.get("dollars_year") is not None else "",
            "sources": json.dumps([str(s) for s in partial.attrs.get("sources") or [partial.attrs.get("source")]]),
            "library": f"integration-scorecard {_version}",
            "variance_method": variance_method,
            "variance_scale": SDR_SCALE if variance_method == "sdr" else "",
            "quantile_rule": "inverse weighted CDF, no interpolation (R survey qrule='math')",
            "records": partial.records,
            "records_outside_places_and_cohorts": partial.records_outside,
            "excluded_missing_value": json.dumps(partial.missing_value),
            "indicators": json.dumps([i.describe() for i in spec.indicators]),
            "route": "microdata",
        }
    )
    proportion = xr.DataArray(np.array([i.statistic == "proportion" for i in spec.indicators]), dims="indicator")
    return finish(ds, reliability, proportion=proportion)

