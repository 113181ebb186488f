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

__all__ = ["combine", "replicate_estimates", "Reduction"]


def _widen(values: np.ndarray, local_shape: tuple, shape: tuple, year_position: np.ndarray,
           fill: float = 0.0) -> np.ndarray:
    """Place arrays laid out over a piece's years into the layout over all years (axis 2 = year)."""
    extra = values.shape[2:]
    local = values.reshape(values.shape[:1] + local_shape + extra)
    wide = np.full(values.shape[:1] + shape + extra, fill)
    wide[:, :, year_position] = local
    return wide.reshape(values.shape[:1] + (int(np.prod(shape)),) + extra)


def _check_combinable(partials: Sequence[Partial]) -> None:
    methods = {p.variance_method for p in partials}
    if len(methods) > 1:
        raise EstimationError(f"Cannot combine pieces with different variance methods {sorted(methods)}.")
    if "linearization" in methods:
        raise EstimationError(
            "Linearized variance needs all records at once (clusters may span pieces); "
            "concatenate the pieces with Microdata.concat and call estimate() on the result."
        )


def combine(partials: Sequence[Partial]) -> Partial:
    """Add partials computed over disjoint record sets (files, chunks, workers)."""
    if len(partials) == 1:
        return partials[0]
    first = partials[0]
    _check_combinable(partials)
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
            median_parts.setdefault(key, []).append(_widen_median(median.detached(), p.layout.shape, shape, position))
    median_inputs = {key: MedianInput.concat(parts) for key, parts in median_parts.items()}
    return Partial(
        spec=first.spec,
        layout=layout,
        sums=sums,
        n_unweighted=n_unweighted,
        universe_weighted=universe_weighted,
        median_inputs=median_inputs,
        n_columns=n_columns,
        variance_method=first.variance_method,
        **_accounting(partials),
    )


def _widen_median(median: MedianInput, local_shape: tuple, shape: tuple, year_position: np.ndarray) -> MedianInput:
    """A (detached) median input with its cells moved into the layout over all years."""
    index = list(np.unravel_index(median.cells, local_shape))
    index[1] = year_position[index[1]]
    return dataclasses.replace(median, cells=np.ravel_multi_index(index, shape))


class Reduction:
    """Partials folded one piece at a time, in bounded memory; each group of survey years finished early.

    Sums are added as pieces arrive (one dense array per open group, not one per piece); median inputs are
    kept per piece and joined once. When a piece shares no survey year with the open group, the open group
    is complete (pieces of one year come together, e.g. one national file or the state files of a year in a
    row): its estimates, SEs (and replicate estimates) are computed and its sums and median inputs dropped,
    so memory holds one group, not every year. A later piece of a finished year raises
    :class:`~scorecard.errors.EstimationError`. The numbers are those of :func:`combine` over all pieces
    followed by :func:`replicate_estimates`, to the bit.

    Examples
    --------
    >>> reduction = Reduction(keep_replicates=False)
    >>> reduction.result() is None
    True
    """

    def __init__(self, *, keep_replicates: bool) -> None:
        self.keep_replicates = keep_replicates
        self.pieces = 0
        self._first: Partial | None = None
        self._open: Partial | None = None  # sums and counts of the open group (no median inputs)
        self._open_owned = False  # the open sums are a private array built from zeros, as combine() builds them
        self._medians: list[tuple[GroupLayout, dict]] = []  # each piece's layout and median inputs (not its sums)
        self._finished: list[tuple[Partial, tuple]] = []
        self._closed: set[int] = set()

    def add(self, partial: Partial) -> None:
        """Fold one piece's (detached) partial in."""
        if self._first is not None:
            _check_combinable([self._first, partial])
        else:
            self._first = partial
        self.pieces += 1
        years = set(partial.layout.years)
        again = sorted(years & self._closed)
        if again:
            raise EstimationError(
                f"A piece of survey year {again[0]} came after pieces of other years, and year {again[0]} was "
                "already finished to keep memory bounded. Give the pieces of each survey year together (e.g. "
                "sorted by year), or stack them with Microdata.concat."
            )
        if self._open is not None and not years & set(self._open.layout.years):
            self._finish()
        self._medians.append((partial.layout, partial.median_inputs))
        bare = dataclasses.replace(partial, median_inputs={})
        if self._open is None:
            self._open, self._open_owned = bare, False
        elif self._open_owned and years <= set(self._open.layout.years) and partial.n_columns <= self._open.n_columns:
            self._add_in_place(bare)
        else:
            self._open, self._open_owned = combine([self._owned(self._open), bare]), True

    def _owned(self, partial: Partial) -> Partial:
        """``partial`` as combine() would leave it: arrays added onto zeros (so -0.0 sums become 0.0)."""
        if self._open_owned:
            return partial
        return dataclasses.replace(partial, sums=partial.sums + 0.0, n_unweighted=partial.n_unweighted + 0.0,
                                   universe_weighted=partial.universe_weighted + 0.0)

    def _add_in_place(self, partial: Partial) -> None:
        target = self._open
        position = np.searchsorted(target.layout.years, partial.layout.years)
        shape = target.layout.shape
        target.sums[..., : partial.n_columns] += _widen(partial.sums, partial.layout.shape, shape, position)
        target.n_unweighted += _widen(partial.n_unweighted, partial.layout.shape, shape, position)
        target.universe_weighted += _widen(partial.universe_weighted, partial.layout.shape, shape, position)
        self._open = dataclasses.replace(target, **_accounting([target, partial]))

    def _group(self) -> Partial:
        """The open group as one partial (as combine() over its pieces would give it)."""
        group = self._owned(self._open) if self.pieces > 1 else self._open
        shape, years = group.layout.shape, group.layout.years
        parts: dict[str, list] = {}
        for layout, medians in self._medians:
            position = np.searchsorted(years, layout.years)
            for key, median in medians.items():
                parts.setdefault(key, []).append(_widen_median(median, layout.shape, shape, position))
        if len(self._medians) == 1:  # one piece: its medians may be finished already (Partial.quantiles)
            return dataclasses.replace(group, median_inputs=self._medians[0][1])
        # several pieces: medians over all their records (a piece's own finished medians do not apply)
        return dataclasses.replace(group, median_inputs={k: MedianInput.concat(v) for k, v in parts.items()},
                                   quantiles={})

    def _finish(self) -> None:
        group = self._group()
        computed = replicate_estimates(group, self.keep_replicates)
        shell = dataclasses.replace(group, sums=np.zeros(group.sums.shape[:2] + (0,)), median_inputs={}, quantiles={})
        self._finished.append((shell, computed))
        self._closed |= set(group.layout.years)
        self._open, self._open_owned, self._medians = None, False, []

    def result(self) -> tuple[Partial, tuple | None] | None:
        """(partial, None) to finalize as usual, or (stitched partial, (estimate, se, theta)) after early finishes."""
        if self._open is None and not self._finished:
            return None
        if not self._finished:
            return self._group(), None
        if self._open is not None:
            self._finish()
        return _stitch(self._finished, self.keep_replicates)


def _stitch(finished: list[tuple[Partial, tuple]], keep_replicates: bool) -> tuple[Partial, tuple]:
    """Finished groups of years side by side in one layout over all their years."""
    first = finished[0][0]
    years = sorted({y for shell, _ in finished for y in shell.layout.years})
    layout = GroupLayout.build(first.spec.places, years, first.layout.cohorts, first.layout.extra)
    shape, n_columns = layout.shape, max(shell.n_columns for shell, _ in finished)
    n_unweighted = np.zeros((first.n_unweighted.shape[0], layout.size))
    universe_weighted = np.zeros_like(n_unweighted)
    estimate, se = np.full((len(first.spec.indicators), layout.size), np.nan), None
    se = np.full_like(estimate, np.nan)
    theta = np.full(estimate.shape + (n_columns,), np.nan) if keep_replicates else None
    for shell, (group_estimate, group_se, group_theta) in finished:
        position = np.searchsorted(years, shell.layout.years)
        n_unweighted += _widen(shell.n_unweighted, shell.layout.shape, shape, position)
        universe_weighted += _widen(shell.universe_weighted, shell.layout.shape, shape, position)
        inside = _widen(np.ones((1, shell.layout.size), dtype=bool), shell.layout.shape, shape, position)[0] > 0
        estimate[:, inside] = group_estimate
        se[:, inside] = group_se
        if theta is not None:
            theta[:, inside, : group_theta.shape[2]] = group_theta
    shells = [shell for shell, _ in finished]
    stitched = Partial(
        spec=first.spec,
        layout=layout,
        sums=np.zeros((first.sums.shape[0], layout.size, 0)),
        n_unweighted=n_unweighted,
        universe_weighted=universe_weighted,
        median_inputs={},
        n_columns=n_columns,
        variance_method=first.variance_method,
        **_accounting(shells),
    )
    return stitched, (estimate, se, theta)


def _accounting(pieces: Sequence[Partial]) -> dict:
    """The record accounting of pieces added up: missing values, records, records outside, sources, vintages."""
    first = pieces[0]
    return {
        "missing_value": {k: sum(p.missing_value.get(k, 0) for p in pieces) for k in first.missing_value},
        "records": sum(p.records for p in pieces),
        "records_outside": sum(p.records_outside for p in pieces),
        "attrs": {**first.attrs, "sources": [s for p in pieces for s in (p.attrs.get("sources") or [p.attrs.get("source")])]},
        "year_vintages": _combine_vintages([p.year_vintages for p in pieces]),
    }


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

