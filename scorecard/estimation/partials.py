"""Partial estimates: one Microdata (a file, a chunk, a dask partition) reduced to additive sums per cell.

:func:`partial_estimate` joins the records to their cells (place × year ×
cohort × ...), evaluates the indicators and sums every numerator and
denominator under the full-sample and replicate weights at once; medians keep
their inputs (:class:`~scorecard.estimation.spec.MedianInput`). Partials of
disjoint record sets are added by :func:`scorecard.estimation.reduction.combine`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from functools import partial as partial_function

import numpy as np
import pandas as pd

from indicators.definition import Indicator
from scorecard import schema
from scorecard.errors import EstimationError, MissingColumnsError
from scorecard.estimation.groups import GroupLayout
from scorecard.estimation.linearization import linearized_se
from scorecard.estimation.spec import EstimateSpec, MedianInput, Partial, additive_indicators
from scorecard.estimation.sums import grouped_sums
from scorecard.estimation.threads import run_all, start_all
from scorecard.microdata import Microdata

__all__ = ["partial_estimate", "PumaVintageWarning"]


def _check_columns(micro: Microdata, inds: Sequence[Indicator], layout_columns: Iterable[str]) -> None:
    source = str(micro.attrs.get("source", "microdata"))
    available = set(micro.frame.columns)
    for ind in inds:
        missing = (ind.columns | {ind.weight_column}) - available
        if missing:
            raise MissingColumnsError(
                source,
                missing,
                f"Indicator {ind.key!r} needs them; this source does not provide them (choose other indicators, "
                "or map the columns with Microdata.from_frame).",
            )
    missing = set(layout_columns) - available
    if missing:
        raise MissingColumnsError(source, missing, "The places, cohorts or groupings asked for need them.")


class PumaVintageWarning(UserWarning):
    """Survey years whose PUMA vintage the places do not cover: their place estimates will be empty."""


def _year_vintages(frame: pd.DataFrame) -> dict[int, float]:
    """Survey year -> the PUMA vintage of its records (NaN when a year mixes vintages)."""
    if "puma_vintage" not in frame:
        return {}
    years = frame["survey_year"].to_numpy(dtype="float64", na_value=np.nan)
    vintages = frame["puma_vintage"].to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(years) & ~np.isnan(vintages)
    pairs = np.unique(pd.unique(years[known] * 10_000 + vintages[known]))  # hashing, then a sort of a few values
    found: dict[int, float] = {}
    for pair in pairs:  # a few (year, vintage) pairs
        year, vintage = int(pair // 10_000), float(pair % 10_000)
        found[year] = vintage if year not in found else np.nan
    return found


def _warn_missing_vintages(year_vintages: dict[int, float], layout: GroupLayout) -> None:
    if layout.places.is_everywhere:
        return
    covered = set(pd.unique(layout.places.table["puma_vintage"].dropna()).astype(int).tolist())
    uncovered = [(y, int(v)) for y, v in sorted(year_vintages.items()) if not np.isnan(v) and int(v) not in covered]
    if uncovered:
        listed = ", ".join(f"{y} ({v} PUMAs)" for y, v in uncovered)
        warnings.warn(
            f"The places have no PUMAs of the vintage used in survey years {listed}; their place estimates will be "
            f"empty. Add the crosswalk for that PUMA vintage to Places.from_crosswalk (places cover {sorted(covered)}).",
            PumaVintageWarning,
            stacklevel=4,
        )


def _weights(micro: Microdata, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    full, replicates = micro.weights(kind)
    if micro.variance_method == "sdr" and replicates is None:
        raise EstimationError(
            f"{micro.attrs.get('source', 'microdata')}: has person replicate weights but no {kind} replicate weights; "
            f"read the {kind} file with its 80 replicate weights to estimate {kind}-weighted indicators."
        )
    return full, replicates


def partial_estimate(micro: Microdata, spec: EstimateSpec, *, quantiles: bool = False) -> Partial:
    """Reduce one Microdata to additive sums per cell (and median inputs).

    With ``quantiles=True`` the medians are computed too, alongside the sums
    (in threads), for a Microdata that holds all the records: a partial that
    is later combined with others recomputes them from the inputs.
    """
    frame = micro.frame
    years = sorted(int(y) for y in pd.unique(frame["survey_year"].dropna()))
    layout = spec.layout(frame, years)
    _check_columns(micro, spec.indicators, layout.columns)
    year_vintages = _year_vintages(frame)
    _warn_missing_vintages(year_vintages, layout)
    additive = additive_indicators(spec.indicators)
    # Weight kinds, the one with the most sums first (its task is the longest).
    kinds = sorted({i.weight for i in spec.indicators}, key=lambda kind: (-sum(i.weight == kind for i in additive), kind))
    weights = {kind: _weights(micro, kind) for kind in kinds}
    # The weights' profiles (one read of each replicate matrix) are taken while the records are joined and evaluated.
    profiling = start_all([partial_function(micro.replicate_profile, kind) for kind in kinds])
    evaluating = start_all([partial_function(_evaluate_all, spec.indicators, frame, str(micro.attrs.get("source", "microdata")))])
    entries = layout.entries(frame)
    n_cells = layout.size
    replicate_count = {
        kind: (0 if getattr(micro, f"{kind}_replicates") is None else schema.N_REPLICATES)
        for kind in ("person", "household")
    }
    n_columns = 1 + max(replicate_count[i.weight] for i in spec.indicators)
    sums = np.zeros((2 * len(additive), n_cells, n_columns))
    n_unweighted = np.zeros((len(spec.indicators), n_cells))
    universe_weighted = np.zeros((len(spec.indicators), n_cells))
    positive = entries.factor > 0
    (evaluations,) = evaluating()
    missing_value = {ind.key: evaluations[ind.key].missing_value for ind in spec.indicators}
    profiles = dict(zip(kinds, profiling()))

    # Counts of the universes of ratios (the denominator of their sums is another measure).
    for k, ind in enumerate(spec.indicators):
        if ind.statistic == "ratio":
            n_unweighted[k], universe_weighted[k] = _universe_counts(evaluations[ind.key], entries, positive,
                                                                     weights[ind.weight][0], n_cells)[1:]

    def median_of(ind: Indicator) -> tuple[MedianInput, np.ndarray | None]:
        """Counts and inputs of a median indicator, and its quantiles when asked (writes its own rows only)."""
        k, ev, (full, replicates) = spec.indicators.index(ind), evaluations[ind.key], weights[ind.weight]
        inside, n_unweighted[k], universe_weighted[k] = _universe_counts(ev, entries, positive, full, n_cells)
        rows = entries.row[inside]
        median = MedianInput(entries.group[inside], ev.value[rows], rows, entries.factor[inside], full, replicates,
                             profiles[ind.weight])
        return median, (median.quantiles(n_cells, spec.quantile) if quantiles else None)

    def sums_of(kind: str) -> None:
        """Sums and counts of the additive indicators weighted by ``kind`` (writes their own rows only)."""
        full, replicates = weights[kind]
        of_kind = [i for i in additive if i.weight == kind]
        if not of_kind:
            return
        columns = []
        for ind in of_kind:
            ev = evaluations[ind.key]
            numerator = ev.value != 0 if ind.statistic == "proportion" and ev.value.dtype != bool else ev.value
            columns += [numerator, ev.denominator if ind.statistic == "ratio" else ev.universe]
        first = additive.index(of_kind[0])  # one kind's slots are contiguous (see _additive): views, not copies
        counts = np.zeros((len(columns), n_cells))
        grouped_sums(entries, columns, full, replicates, n_cells, out=sums[2 * first : 2 * (first + len(of_kind))],
                     counts_out=counts, profile=profiles[kind])
        for slot, ind in enumerate(of_kind, start=first):
            if ind.statistic != "ratio":  # the denominator is the universe: its counts and full-sample sums
                k = spec.indicators.index(ind)
                n_unweighted[k] = counts[2 * (slot - first) + 1]
                universe_weighted[k] = sums[2 * slot + 1, :, 0]

    # Independent pieces in threads: each kind's sums and each median (the longest first).
    medians = [i for i in spec.indicators if i.statistic == "median"]
    tasks = [partial_function(sums_of, kind) for kind in kinds]
    tasks[1:1] = [partial_function(median_of, ind) for ind in medians]
    results = run_all(tasks)[1 : 1 + len(medians)]
    median_inputs = {ind.key: median for ind, (median, _) in zip(medians, results)}
    finished = {ind.key: found for ind, (_, found) in zip(medians, results) if found is not None}
    partial = Partial(
        spec=spec,
        layout=layout,
        sums=sums,
        n_unweighted=n_unweighted,
        universe_weighted=universe_weighted,
        median_inputs=median_inputs,
        n_columns=n_columns,
        variance_method=micro.variance_method,
        missing_value=missing_value,
        records=len(frame),
        quantiles=finished,
        records_outside=len(frame) - (int(np.count_nonzero(np.diff(entries.row))) + 1 if len(entries) else 0),  # rows sorted
        attrs=dict(micro.attrs),
        year_vintages=year_vintages,
    )
    if micro.variance_method == "linearization":
        partial.linearized_se = linearized_se(micro, spec, entries, evaluations, partial)
    return partial


def _evaluate_all(inds: Sequence[Indicator], frame: pd.DataFrame, source: str) -> dict:
    """Evaluations of the indicators, sharing sub-expressions (e.g. one universe for three) through one cache."""
    shared: dict = {}
    return {ind.key: ind.evaluate(frame, source=source, cache=shared) for ind in inds}


def _universe_counts(ev, entries, positive, full, n_cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entries inside the universe, unweighted count per cell, weighted count per cell)."""
    inside = ev.universe[entries.row] & positive
    group = entries.group[inside]
    weighted = np.bincount(group, weights=entries.factor[inside] * full[entries.row[inside]], minlength=n_cells)
    return inside, np.bincount(group, minlength=n_cells), weighted

