"""Reduction: partials added across pieces, then turned into estimates under every weight column.

:func:`combine` adds partials of disjoint record sets (sums are additive;
median inputs are concatenated); :func:`replicate_estimates` divides
numerators by denominators (and computes medians) for the full sample and
each replicate, and applies the SDR formula.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial as partial_function

import numpy as np

from scorecard.errors import EstimationError
from scorecard.estimation.groups import GroupLayout
from scorecard.estimation.spec import MedianInput, Partial, additive_indicators
from scorecard.estimation.threads import run_all
from scorecard.estimation.variance import sdr_se

__all__ = ["combine", "replicate_estimates"]


def _widen(values: np.ndarray, local_shape: tuple, shape: tuple, year_position: np.ndarray) -> np.ndarray:
    """Place arrays laid out over a piece's years into the layout over all years (axis 2 = year)."""
    extra = values.shape[2:]
    local = values.reshape(values.shape[:1] + local_shape + extra)
    wide = np.zeros(values.shape[:1] + shape + extra)
    wide[:, :, year_position] = local
    return wide.reshape(values.shape[:1] + (int(np.prod(shape)),) + extra)


def combine(partials: Sequence[Partial]) -> Partial:
    """Add partials computed over disjoint record sets (files, chunks, workers)."""
    if len(partials) == 1:
        return partials[0]
    first = partials[0]
    methods = {p.variance_method for p in partials}
    if len(methods) > 1:
        raise EstimationError(f"Cannot combine pieces with different variance methods {sorted(methods)}.")
    if "linearization" in methods:
        raise EstimationError(
            "Linearized variance needs all records at once (clusters may span pieces); "
            "concatenate the pieces with Microdata.concat and call estimate() on the result."
        )
    years = sorted({y for p in partials for y in p.layout.years})
    layout = GroupLayout.build(first.spec.places, years, first.layout.cohorts, first.layout.extra)
    n_columns = max(p.n_columns for p in partials)
    shape = layout.shape
    sums = np.zeros((first.sums.shape[0], layout.size, n_columns))
    n_unweighted = np.zeros((first.n_unweighted.shape[0], layout.size))
    universe_weighted = np.zeros_like(n_unweighted)
    median_parts: dict[str, list] = {}
    for p in partials:
        position = np.searchsorted(years, p.layout.years)
        sums[..., : p.n_columns] += _widen(p.sums, p.layout.shape, shape, position)
        n_unweighted += _widen(p.n_unweighted, p.layout.shape, shape, position)
        universe_weighted += _widen(p.universe_weighted, p.layout.shape, shape, position)
        for key, median in p.median_inputs.items():
            index = list(np.unravel_index(median.cells, p.layout.shape))
            index[1] = position[index[1]]
            widened = dataclasses.replace(median.detached(), cells=np.ravel_multi_index(index, shape))
            median_parts.setdefault(key, []).append(widened)
    median_inputs = {key: MedianInput.concat(parts) for key, parts in median_parts.items()}
    sources = [s for p in partials for s in (p.attrs.get("sources") or [p.attrs.get("source")])]
    return Partial(
        spec=first.spec,
        layout=layout,
        sums=sums,
        n_unweighted=n_unweighted,
        universe_weighted=universe_weighted,
        median_inputs=median_inputs,
        n_columns=n_columns,
        variance_method=first.variance_method,
        missing_value={k: sum(p.missing_value.get(k, 0) for p in partials) for k in first.missing_value},
        records=sum(p.records for p in partials),
        records_outside=sum(p.records_outside for p in partials),
        attrs={**first.attrs, "sources": sources},
        year_vintages=_combine_vintages([p.year_vintages for p in partials]),
    )


def _combine_vintages(parts: Sequence[dict[int, float]]) -> dict[int, float]:
    """Year -> vintage over pieces; NaN where pieces of one year disagree."""
    combined: dict[int, float] = {}
    for part in parts:
        for year, vintage in part.items():
            before = combined.setdefault(year, vintage)
            if not (before == vintage or (np.isnan(before) and np.isnan(vintage))):
                combined[year] = np.nan
    return combined


def replicate_estimates(partial: Partial, keep_replicates: bool):
    """(full-sample estimates (K, cells), SDR SEs (K, cells), replicate estimates (K, cells, 1+R) if kept).

    One indicator at a time, so that without ``keep_replicates`` no
    (K, cells, 1+R) array is ever built.
    """
    spec = partial.spec
    shape = (len(spec.indicators), partial.layout.size)
    estimate, se = np.full(shape, np.nan), np.full(shape, np.nan)
    theta = np.full(shape + (partial.n_columns,), np.nan) if keep_replicates else None

    def record(k: int, values: np.ndarray) -> None:
        estimate[k] = values[:, 0]
        if partial.variance_method == "sdr":
            se[k] = sdr_se(values)
        if theta is not None:
            theta[k, :, : values.shape[1]] = values

    additive = additive_indicators(spec.indicators)
    with np.errstate(divide="ignore", invalid="ignore"):
        for slot, ind in enumerate(additive):
            numerator, denominator = partial.sums[2 * slot], partial.sums[2 * slot + 1]
            values = numerator if ind.statistic == "total" else np.where(denominator > 0, numerator / denominator, np.nan)
            record(spec.indicators.index(ind), values)
    keys = [i.key for i in spec.indicators]
    pending = [key for key in partial.median_inputs if key not in partial.quantiles]
    computed = run_all([partial_function(partial.median_inputs[key].quantiles, partial.layout.size, spec.quantile)
                        for key in pending])  # one task per median indicator
    for key, quantiles in (*partial.quantiles.items(), *zip(pending, computed)):
        record(keys.index(key), quantiles)
    return estimate, se, theta

