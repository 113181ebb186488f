"""What an estimate is of, and the additive pieces that travel between the estimation jobs.

* :class:`EstimateSpec`: indicators and groupings (everything but the data);
* :class:`Partial`: the additive weighted sums of one set of records, the
  unit that :mod:`~scorecard.estimation.partials` makes,
  :mod:`~scorecard.estimation.reduction` adds and
  :mod:`~scorecard.estimation.assembly` turns into the estimates Dataset;
* :class:`MedianInput`: what a median needs (medians are not additive, so a
  partial carries its records' values and weights instead of sums).

Examples
--------
>>> import indicators
>>> spec = EstimateSpec(tuple(indicators.resolve(["median_household_income", "naturalized"])))
>>> [i.key for i in additive_indicators(spec.indicators)]
['naturalized']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cohorts.schemes import Grouping, as_grouping
from indicators.definition import Indicator
from scorecard.estimation.groups import GroupLayout
from scorecard.estimation.quantiles import grouped_quantile, sum_by_segment
from scorecard.estimation.sums import FLOAT32_EXACT, cell_weight_sums
from scorecard.microdata import ReplicateProfile, profile_replicates
from scorecard.places import Places

__all__ = ["EstimateSpec", "MedianInput", "Partial", "additive_indicators"]

_ADDITIVE = ("proportion", "total", "mean", "ratio")

#: Fewest entries per block worth a float32 median pass (below it, blocks would be too small to pay off).
_FLOAT32_BLOCK_MIN = 1_024


def additive_indicators(indicators: Sequence[Indicator]) -> list[Indicator]:
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

    def quantiles(self, n_cells: int, p: float) -> np.ndarray:
        """The p-quantile of every cell under every weight column (n_cells, 1 + R)."""
        return grouped_quantile(self.cells, self.values, self, n_groups=n_cells, p=p)

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

