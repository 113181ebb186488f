"""Survey-weighted estimates with replicate (or linearized) standard errors, as an xarray Dataset.

The work is split in two so that it streams and scales out:

* :func:`partial_estimate` reduces one :class:`~scorecard.Microdata` (one
  file, one chunk, one dask partition) to additive weighted sums per cell and
  weight column, plus the compact inputs medians need;
* :func:`combine` adds partials (sums are additive) and :func:`finalize`
  turns the total into estimates, replicate SEs and the Dataset.

:func:`estimate` runs the three for one Microdata or for many pieces read one
at a time; :mod:`scorecard.estimation.distributed` runs the same partials on
a dask cluster.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial as partial_function

import numpy as np
import pandas as pd
import xarray as xr

import indicators as indicator_registry
from cohorts.schemes import Grouping, as_grouping
from indicators.definition import Indicator
from scorecard import schema
from scorecard.errors import EstimationError, MissingColumnsError
from scorecard.estimates import IndicatorMeta, Reliability, build_estimates
from scorecard.estimation.groups import GroupLayout
from scorecard.estimation.quantiles import grouped_quantile, sum_by_segment
from scorecard.estimation.sums import FLOAT32_EXACT, cell_weight_sums, grouped_sums
from scorecard.estimation.threads import run_all, start_all
from scorecard.estimation.variance import SDR_SCALE, linearized_variance, sdr_se
from scorecard.microdata import Microdata, ReplicateProfile, profile_replicates
from scorecard.places import Places

__all__ = [
    "estimate",
    "partial_estimate",
    "combine",
    "finalize",
    "Partial",
    "EstimateSpec",
    "MedianInput",
    "PumaVintageWarning",
]

_ADDITIVE = ("proportion", "total", "mean", "ratio")

#: Fewest entries per block worth a float32 median pass (below it, blocks would be too small to pay off).
_FLOAT32_BLOCK_MIN = 1_024


def _additive(indicators: Sequence[Indicator]) -> list[Indicator]:
    """Indicators with additive sums, grouped by weight kind (their rows in ``Partial.sums``)."""
    return sorted((i for i in indicators if i.statistic in _ADDITIVE), key=lambda i: i.weight)


@dataclass(frozen=True, eq=False)
class EstimateSpec:
    """What to estimate: indicators and groupings (everything but the data)."""

    indicators: tuple[Indicator, ...]
    places: Places | None = None
    cohorts: Grouping | None = None
    by: tuple[Grouping | str, ...] = ()
    quantile: float = 0.5

    def layout(self, frame: pd.DataFrame, years: Sequence[int]) -> GroupLayout:
        return GroupLayout.build(self.places, years, self.cohorts, [as_grouping(g, frame) for g in self.by])


@dataclass(frozen=True, eq=False)
class MedianInput:
    """What a median needs: each entry's cell, value, record row and allocation factor.

    ``rows`` index ``full`` (float64 full-sample weights) and ``replicates``
    (float32, or None): the piece's own weight arrays, not copies, so a median
    over a national file gathers weight rows one block at a time. It supplies
    the weights to :func:`~scorecard.estimation.quantiles.grouped_quantile`
    (the :class:`~scorecard.estimation.quantiles.QuantileWeights` protocol).
    Entries come in record order.
    """

    cells: np.ndarray
    values: np.ndarray
    rows: np.ndarray
    factor: np.ndarray
    full: np.ndarray
    replicates: np.ndarray | None
    profile: ReplicateProfile | None = None
    _checked: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_columns(self) -> int:
        return 1 + (0 if self.replicates is None else self.replicates.shape[1])

    def _facts(self) -> dict:
        """Checked once per input: are weights × factors non-negative, and how many fit an exact float32 running sum."""
        if not self._checked:
            if self.replicates is not None and self.profile is None:
                object.__setattr__(self, "profile", profile_replicates(self.replicates))
            factor_ok = bool(np.all(self.factor >= 0))
            nonnegative = (self.profile is None or self.profile.nonnegative) and factor_ok
            self._checked["nonnegative"] = nonnegative
            # Integer, non-negative weights and factors: a float32 running sum of up to 2**24 / (largest weight ×
            # factor) entries is exact, at half the memory traffic of float64.
            full = self.full[self.rows]
            exact = (
                nonnegative and self.replicates is not None and self.replicates.dtype == np.float32
                and self.profile.integral and len(full) > 0 and bool(np.all(full == np.rint(full)))
                and bool(np.all(self.factor == np.rint(self.factor))) and bool(np.all(full >= 0))
            )
            largest = max(self.profile.highest, float(full.max())) * float(self.factor.max()) if exact else np.inf
            entries = int(FLOAT32_EXACT // max(largest, 1.0)) if np.isfinite(largest) else 0
            self._checked["float32_entries"] = entries if entries >= _FLOAT32_BLOCK_MIN else 0
        return self._checked

    @property
    def float32_entries(self) -> int:
        """Most entries whose weights :meth:`gather` returns as float32 (exact running sums); 0 for never."""
        return self._facts()["float32_entries"]

    def first_column(self, take: np.ndarray) -> np.ndarray:
        """Full-sample weights of the entries at ``take``, times their factors."""
        return np.maximum(self.full[self.rows[take]] * self.factor[take], 0.0)

    def gather(self, take: np.ndarray) -> np.ndarray:
        """Weights of the entries at ``take``, times their factors, negatives as zero (len(take), 1 + R).

        float32 when every running sum over ``take`` is provably exact in
        float32, else float64; a fresh array the caller may modify.
        """
        facts = self._facts()
        rows = self.rows[take]
        dtype = np.float32 if len(take) <= facts["float32_entries"] else np.float64
        out = np.empty((len(take), self.n_columns), dtype=dtype)
        out[:, 0] = self.full[rows]
        if self.replicates is not None:
            out[:, 1:] = self.replicates[rows]
        factor = self.factor[take]
        if np.any(factor != 1.0):
            out *= factor[:, None].astype(dtype)
        if not facts["nonnegative"]:
            np.maximum(out, 0.0, out=out)
        return out

    def segment_sums(self, take: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
        """Weight sums of the entries at ``take`` (in record order) by ``segment``, as ``gather`` would give them."""
        if not self._facts()["nonnegative"]:
            return sum_by_segment(np.asarray(self.gather(take), dtype="float64"), segment, n_segments)
        return cell_weight_sums(segment, n_segments, self.rows[take], self.factor[take], self.full, self.replicates,
                                profile=self.profile)

    def detached(self) -> MedianInput:
        """The same input holding only its own rows of the weight arrays (to outlive the piece)."""
        return MedianInput(
            self.cells, self.values, np.arange(len(self.rows)), self.factor, self.full[self.rows],
            None if self.replicates is None else self.replicates[self.rows], self.profile,
        )

    @staticmethod
    def concat(parts: Sequence[MedianInput]) -> MedianInput:
        """One input from detached parts whose cells are already in a common layout."""
        offsets = np.cumsum([0] + [len(p.rows) for p in parts[:-1]])
        replicates = [p.replicates for p in parts]
        profiles = [p.profile for p in parts]
        profile = None
        if all(pr is not None for pr in profiles) and profiles:
            profile = ReplicateProfile(all(pr.integral for pr in profiles), min(pr.lowest for pr in profiles),
                                       max(pr.highest for pr in profiles))
        return MedianInput(
            np.concatenate([p.cells for p in parts]),
            np.concatenate([p.values for p in parts]),
            np.concatenate([p.rows + o for p, o in zip(parts, offsets)]),
            np.concatenate([p.factor for p in parts]),
            np.concatenate([p.full for p in parts]),
            None if any(r is None for r in replicates) else np.concatenate(replicates),
            profile,
        )


@dataclass(eq=False)
class Partial:
    """Additive pieces of an estimate for one set of records.

    Arrays are indexed by a layout over ``years``; ``sums`` is
    (2 × additive indicators, cells, 1 + R): numerator then denominator rows.
    """

    spec: EstimateSpec
    layout: GroupLayout
    sums: np.ndarray
    n_unweighted: np.ndarray  # (K, cells)
    universe_weighted: np.ndarray  # (K, cells)
    median_inputs: dict[str, MedianInput]
    n_columns: int
    variance_method: str
    missing_value: dict[str, int]
    records: int
    records_outside: int = 0  # records in no (place, cohort, ...) cell: outside every place or cohort
    attrs: dict = field(default_factory=dict)
    linearized_se: np.ndarray | None = None  # (K, cells) for single-piece linearization
    quantiles: dict[str, np.ndarray] = field(default_factory=dict)  # finished medians (cells, 1+R), all records only
    year_vintages: dict[int, float] = field(default_factory=dict)  # survey year -> its PUMA vintage (NaN if mixed)

    def detached(self) -> Partial:
        """The partial without references to its piece's weight arrays (keeps only what medians need)."""
        return dataclasses.replace(self, median_inputs={k: m.detached() for k, m in self.median_inputs.items()})


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
    additive = _additive(spec.indicators)
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
        return median, (_quantiles(median, n_cells, spec.quantile) if quantiles else None)

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
        partial.linearized_se = _linearized_se(micro, spec, entries, evaluations, partial)
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


def _linearized_se(micro, spec, entries, evaluations, partial) -> np.ndarray:
    """Taylor-linearized SEs of the additive indicators (single piece only)."""
    frame = micro.frame
    design = pd.DataFrame({"s": frame["variance_strata"].to_numpy(), "c": frame["variance_cluster"].to_numpy()})
    if design.isna().any().any():
        raise EstimationError(
            f"{micro.attrs.get('source', 'microdata')}: variance_strata / variance_cluster have missing values; "
            "every record needs its stratum and cluster for linearized variance."
        )
    cluster_id, clusters = pd.factorize(pd.MultiIndex.from_frame(design))
    stratum_of_cluster, strata = pd.factorize(clusters.get_level_values(0))
    clusters_per_stratum = np.bincount(stratum_of_cluster, minlength=len(strata))
    out = np.full((len(spec.indicators), partial.layout.size), np.nan)
    additive = _additive(spec.indicators)
    for slot, ind in enumerate(additive):  # loop over indicators (a handful), not rows or groups
        k = spec.indicators.index(ind)
        ev = evaluations[ind.key]
        full = micro.weights(ind.weight)[0]
        numerator, denominator = partial.sums[2 * slot, :, 0], partial.sums[2 * slot + 1, :, 0]
        inside = ev.universe[entries.row] & (entries.factor > 0)
        rows, groups = entries.row[inside], entries.group[inside]
        weight = entries.factor[inside] * full[rows]
        y = ev.value[rows].astype("float64")
        if ind.statistic == "total":
            influence = weight * y
        else:
            x = ev.denominator[rows] if ind.statistic == "ratio" else np.ones(len(rows))
            with np.errstate(divide="ignore", invalid="ignore"):
                theta = numerator / denominator
            influence = weight * (y - theta[groups] * x) / denominator[groups]
        variance = linearized_variance(
            influence, groups, cluster_id[rows], stratum_of_cluster, clusters_per_stratum, partial.layout.size
        )
        out[k] = np.sqrt(variance)
    for ind in (i for i in spec.indicators if i.statistic == "median"):
        ev = evaluations[ind.key]
        inside = ev.universe[entries.row] & (entries.factor > 0)
        rows, groups = entries.row[inside], entries.group[inside]
        weight = entries.factor[inside] * micro.weights(ind.weight)[0][rows]
        out[spec.indicators.index(ind)] = _woodruff_se(
            ev.value[rows], weight, groups, cluster_id[rows], stratum_of_cluster, clusters_per_stratum,
            partial.layout.size, spec.quantile,
        )
    return out


#: Two-sided 95% normal quantile used by Woodruff intervals (R survey's default alpha = 0.05).
_Z95 = 1.959963984540054


def _woodruff_se(values, weight, groups, cluster, stratum_of_cluster, clusters_per_stratum, n_groups, p) -> np.ndarray:
    """Linearized SE of a quantile by Woodruff's method, as R ``survey::svyquantile(df = Inf)``.

    The share of the domain at or below the estimated quantile, F, gets a
    linearized SE; the 95% interval F ± 1.96·SE is mapped back through the
    weighted quantile function, and SE = (upper − lower) / (2 · 1.96).
    """
    quantile = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=p)[:, 0]
    below = (values <= quantile[groups]).astype("float64")
    total = np.bincount(groups, weights=weight, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.bincount(groups, weights=weight * below, minlength=n_groups) / total
        influence = weight * (below - share[groups]) / total[groups]
    se_share = np.sqrt(linearized_variance(influence, groups, cluster, stratum_of_cluster, clusters_per_stratum, n_groups))
    low, high = share - _Z95 * se_share, share + _Z95 * se_share
    lower = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=np.clip(low, 0, 1))[:, 0]
    upper = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=np.clip(high, 0, 1))[:, 0]
    lower[low < 0] = np.nan
    upper[high > 1] = np.nan
    return (upper - lower) / (2 * _Z95)


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


def _quantiles(median: MedianInput, n_cells: int, p: float) -> np.ndarray:
    """The p-quantile of every cell under every weight column."""
    return grouped_quantile(median.cells, median.values, median, n_groups=n_cells, p=p)


def _replicate_estimates(partial: Partial, keep_replicates: bool):
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

    additive = _additive(spec.indicators)
    with np.errstate(divide="ignore", invalid="ignore"):
        for slot, ind in enumerate(additive):
            numerator, denominator = partial.sums[2 * slot], partial.sums[2 * slot + 1]
            values = numerator if ind.statistic == "total" else np.where(denominator > 0, numerator / denominator, np.nan)
            record(spec.indicators.index(ind), values)
    keys = [i.key for i in spec.indicators]
    pending = [key for key in partial.median_inputs if key not in partial.quantiles]
    computed = run_all([partial_function(_quantiles, partial.median_inputs[key], partial.layout.size, spec.quantile)
                        for key in pending])  # one task per median indicator
    for key, quantiles in (*partial.quantiles.items(), *zip(pending, computed)):
        record(keys.index(key), quantiles)
    return estimate, se, theta


def finalize(partial: Partial, *, keep_replicates: bool = False, reliability: Reliability | None = None) -> xr.Dataset:
    """Estimates, SEs and flags from (combined) partial sums, as the estimates Dataset."""
    spec, layout = partial.spec, partial.layout
    estimate_values, se, theta = _replicate_estimates(partial, keep_replicates)
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


def estimate(
    micro: Microdata | Iterable[Microdata | Callable[[], Microdata]],
    indicators: str | Indicator | Sequence[str | Indicator],
    *,
    by: Sequence[Grouping | str] = (),
    places: Places | None = None,
    cohorts: Grouping | None = None,
    keep_replicates: bool = False,
    reliability: Reliability | None = None,
    quantile: float = 0.5,
    client=None,
) -> xr.Dataset:
    """Survey-weighted estimates with standard errors for indicators by place, year and cohort.

    Parameters
    ----------
    micro : Microdata, or iterable of Microdata / functions returning one
        The records. Several pieces (e.g. one per state and year file) are
        reduced one at a time, so memory holds one piece plus small sums;
        functions are called only when their piece is needed.
    indicators : str, Indicator, or sequence of them
        Registry keys or definitions.
    by : sequence of str or Grouping
        Extra dimensions: harmonized categorical columns (``"sex"``) or
        groupings (e.g. age bands).
    places : Places, optional
        Places with allocation factors; default one place ``"all"``.
    cohorts : Grouping, optional
        E.g. ``cohorts.ArrivalCohorts.decades(1970, 2020)``; default one
        cohort ``"all"``.
    keep_replicates : bool, default=False
        Keep ``replicate_estimate`` with a ``replicate`` dim (0 = full sample,
        1-80), so later contrasts are computed inside each replicate.
    reliability : Reliability, optional
        CV and sample-size thresholds for the ``reliable`` flag.
    quantile : float, default=0.5
        Quantile computed by ``"median"`` indicators.
    client : dask.distributed.Client, optional
        Run the pieces' partial sums on a dask cluster.

    Returns
    -------
    xarray.Dataset
        Dims ``(indicator, place, year, cohort, *by)``; variables ``estimate,
        se, moe90, cv, n_unweighted, universe_weighted, reliable, reason``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, scorecard, indicators
    >>> frame = pd.DataFrame({"survey_year": 2020, "state": "53", "puma": "11601", "puma_vintage": 2010,
    ...     "household_id": ["1", "2", "3", "4"], "person_id": 1, "age": [30, 40, 50, 60],
    ...     "nativity": ["foreign_born"] * 4, "citizenship": ["naturalized", "not_citizen", "naturalized", "naturalized"],
    ...     "person_weight": [10.0, 20.0, 30.0, 40.0]})
    >>> micro = scorecard.Microdata.from_frame(frame)
    >>> est = scorecard.estimate(micro, "naturalized")
    >>> float(est["estimate"].sel(indicator="naturalized", place="all", year=2020, cohort="all"))
    0.8
    """
    inds = tuple(indicator_registry.resolve(indicators))
    spec = EstimateSpec(inds, places=places, cohorts=cohorts, by=tuple(by), quantile=quantile)
    if isinstance(micro, Microdata):
        partial = partial_estimate(micro, spec, quantiles=True)
    elif client is not None:
        from scorecard.estimation.distributed import partials_on_cluster

        partial = combine(partials_on_cluster(client, micro, spec))
    else:
        partial = combine([partial_estimate(piece() if callable(piece) else piece, spec).detached() for piece in micro])
    return finalize(partial, keep_replicates=keep_replicates, reliability=reliability)
