"""Groupings of records along one dimension: arrival cohorts, age bands, any category.

A grouping tells :func:`scorecard.estimate` which labels a dimension has and
which records belong to each label. Membership may overlap (a person who
arrived in 1995 is in ``"1990-1999"`` and in ``"foreign_born"``), so it is
given as pairs ``(record row, label index)``.

Cohort labels follow one convention in every route (microdata and published
tables), written and read by :mod:`cohorts.labels`: ``"all"``, ``"native"``,
``"foreign_born"``, and arrival ranges ``"first-last"`` with open ends written
``"-1999"`` (entered before 2000) and ``"2010-"`` (entered 2010 or later).
Coordinates ``cohort_kind``, ``entry_first`` and ``entry_last`` (NaN for an
open end) are read from the labels.

Examples
--------
>>> scheme = ArrivalCohorts.decades(1970, 2020)
>>> scheme.labels
('native', 'foreign_born', '1970-1979', '1980-1989', '1990-1999', '2000-2009', '2010-2019', '2020-')
>>> import pandas as pd
>>> frame = pd.DataFrame({"nativity": pd.Categorical(["native", "foreign_born", "foreign_born"]),
...                       "year_of_entry": pd.array([None, 1995, 1950], dtype="Int16")})
>>> rows, labels = scheme.membership(frame)
>>> [(int(r), scheme.labels[i]) for r, i in zip(rows, labels)]
[(0, 'native'), (1, 'foreign_born'), (2, 'foreign_born'), (1, '1990-1999')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cohorts.labels import cohort_label, label_coords
from scorecard.errors import CohortDefinitionError, MissingColumnsError

__all__ = ["Grouping", "ArrivalCohorts", "ByCategory", "AllRecords", "cohort_label", "as_grouping"]


class Grouping:
    """Protocol of a grouping: ``dimension``, ``labels``, ``coords``, ``columns``, ``membership``."""

    dimension: str
    labels: tuple[str, ...]
    columns: frozenset[str]

    @property
    def coords(self) -> dict[str, list]:
        """Extra coordinates along the dimension."""
        return {}

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        """(record rows, label indices) of every membership."""
        raise TypeError(f"{type(self).__name__} must define membership()")


def _require(frame: pd.DataFrame, columns, who: str) -> None:
    missing = set(columns) - set(frame.columns)
    if missing:
        raise MissingColumnsError("microdata", missing, f"{who} needs them.")


@dataclass(frozen=True, slots=True)
class AllRecords(Grouping):
    """A one-label grouping holding every record (the default cohort ``"all"``)."""

    dimension: str = "cohort"
    labels: tuple[str, ...] = ("all",)
    columns: frozenset[str] = frozenset()

    @property
    def coords(self) -> dict[str, list]:
        return label_coords(self.labels) if self.dimension == "cohort" else {}

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(frame))
        return rows, np.zeros(len(frame), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ArrivalCohorts(Grouping):
    """Arrival cohorts (ranges of year of entry), with native-born and all-foreign-born benchmarks.

    Parameters
    ----------
    ranges : sequence of (first, last)
        Inclusive year-of-entry ranges; ``None`` leaves an end open. Ranges
        must not overlap.
    native : bool, default=True
        Add the native-born benchmark cohort ``"native"``.
    foreign_born : bool, default=True
        Add ``"foreign_born"`` (every foreign-born person).
    everyone : bool, default=False
        Add ``"all"`` (every record).
    """

    ranges: tuple[tuple[int | None, int | None], ...]
    native: bool = True
    foreign_born: bool = True
    everyone: bool = False
    dimension: str = "cohort"
    columns: frozenset[str] = frozenset({"nativity", "year_of_entry"})

    def __post_init__(self) -> None:
        ordered = sorted(self.ranges, key=lambda r: -np.inf if r[0] is None else r[0])
        for first, last in ordered:
            if first is not None and last is not None and first > last:
                raise CohortDefinitionError(f"Arrival range ({first}, {last}) ends before it starts.")
        for (f1, l1), (f2, _) in zip(ordered, ordered[1:]):
            if l1 is None or (f2 is None) or f2 <= l1:
                raise CohortDefinitionError(
                    f"Arrival ranges {cohort_label(f1, l1)} and the next one overlap; give disjoint ranges."
                )

    @classmethod
    def decades(cls, start: int, end: int, *, open_start: bool = False, **options) -> ArrivalCohorts:
        """Ten-year cohorts from ``start`` up to the open-ended cohort starting at ``end``.

        ``open_start=True`` makes the first cohort "before ``start`` + 10".
        """
        if start % 10 or end % 10 or end <= start:
            raise CohortDefinitionError(
                f"decades() needs decade years with start < end (e.g. 1970, 2020). Got {start} and {end} instead."
            )
        ranges = [(None if (open_start and y == start) else y, y + 9) for y in range(start, end, 10)]
        return cls(tuple(ranges) + ((end, None),), **options)

    @property
    def labels(self) -> tuple[str, ...]:
        fixed = [name for flag, name in ((self.native, "native"), (self.foreign_born, "foreign_born"), (self.everyone, "all")) if flag]
        return tuple(fixed) + tuple(cohort_label(f, last) for f, last in self.ranges)

    @property
    def coords(self) -> dict[str, list]:
        return label_coords(self.labels)

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        _require(frame, self.columns, "ArrivalCohorts")
        foreign = (frame["nativity"] == "foreign_born").fillna(False).to_numpy(dtype=bool)
        native = (frame["nativity"] == "native").fillna(False).to_numpy(dtype=bool)
        entry = frame["year_of_entry"].to_numpy(dtype="float64", na_value=np.nan)
        rows, labels = [], []
        fixed = [(self.native, native), (self.foreign_born, foreign), (self.everyone, np.ones(len(frame), dtype=bool))]
        label_index = 0
        for flag, mask in fixed:
            if flag:
                rows.append(np.flatnonzero(mask))
                labels.append(np.full(len(rows[-1]), label_index))
                label_index += 1
        # Arrival ranges do not overlap: one vectorized lookup of each record's range.
        firsts = np.array([-np.inf if f is None else f for f, _ in self.ranges])
        lasts = np.array([np.inf if last is None else last for _, last in self.ranges])
        order = np.argsort(firsts)
        position = np.searchsorted(firsts[order], entry, side="right") - 1
        valid = foreign & ~np.isnan(entry) & (position >= 0)
        candidate = order[np.clip(position, 0, None)]
        valid &= entry <= lasts[candidate]
        rows.append(np.flatnonzero(valid))
        labels.append(label_index + candidate[valid])
        return np.concatenate(rows), np.concatenate(labels).astype(np.int64)


@dataclass(frozen=True, slots=True)
class ByCategory(Grouping):
    """One label per category of a harmonized categorical column (e.g. ``sex``).

    Examples
    --------
    >>> g = ByCategory.of(pd.DataFrame({"sex": pd.Categorical(["female", "male", None],
    ...                                 categories=["male", "female"])}), "sex")
    >>> g.labels, [x.tolist() for x in g.membership(pd.DataFrame({"sex": ["female", "male", None]}))]
    (('male', 'female'), [[0, 1], [1, 0]])
    """

    column: str
    labels: tuple[str, ...]

    @classmethod
    def of(cls, frame: pd.DataFrame, column: str) -> ByCategory:
        """Grouping by ``column`` with its categories (or sorted distinct values) as labels."""
        _require(frame, [column], f"Grouping by {column!r}")
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            labels = tuple(str(c) for c in values.cat.categories)
        else:
            labels = tuple(str(v) for v in sorted(pd.unique(values.dropna())))
        return cls(column, labels)

    @property
    def dimension(self) -> str:
        return self.column

    @property
    def columns(self) -> frozenset[str]:
        return frozenset({self.column})

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        _require(frame, [self.column], f"Grouping by {self.column!r}")
        codes = pd.Categorical(frame[self.column].astype(object).astype(str).where(frame[self.column].notna()),
                               categories=list(self.labels)).codes
        rows = np.flatnonzero(codes >= 0)
        return rows, codes[rows].astype(np.int64)


def as_grouping(item: Grouping | str, frame: pd.DataFrame) -> Grouping:
    """A grouping from a grouping object or a column name."""
    if isinstance(item, Grouping):
        return item
    if isinstance(item, str):
        return ByCategory.of(frame, item)
    kinds = ", ".join(f"cohorts.{kind.__name__}" for kind in Grouping.__subclasses__())
    raise CohortDefinitionError(f"Cannot group by {item!r}; give a column name or a grouping ({kinds}).")

