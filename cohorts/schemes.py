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



# --- Age bands (fixed or advancing: the double cohort), years since arrival, source windows ---------------


def _check_ranges(ranges, what: str) -> tuple[tuple[int | None, int | None], ...]:
    """Validated disjoint inclusive ranges (``None`` = open end), as a tuple of pairs."""
    ranges = tuple((None if f is None else int(f), None if last is None else int(last)) for f, last in ranges)
    if not ranges:
        raise CohortDefinitionError(f"{what} needs at least one range. Got none.")
    ordered = sorted(ranges, key=lambda r: -np.inf if r[0] is None else r[0])
    for first, last in ordered:
        if first is not None and last is not None and first > last:
            raise CohortDefinitionError(f"{what}: range ({first}, {last}) ends before it starts.")
    for (f1, l1), (f2, l2) in zip(ordered, ordered[1:]):
        if l1 is None or f2 is None or f2 <= l1:
            raise CohortDefinitionError(
                f"{what}: ranges {cohort_label(f1, l1)} and {cohort_label(f2, l2)} overlap; give disjoint ranges."
            )
    return ranges


def _range_index(values: np.ndarray, ranges) -> np.ndarray:
    """Index of the range holding each value (-1 where none does, NaN included); vectorized."""
    firsts = np.array([-np.inf if f is None else f for f, _ in ranges], dtype="float64")
    lasts = np.array([np.inf if last is None else last for _, last in ranges], dtype="float64")
    order = np.argsort(firsts)
    position = np.searchsorted(firsts[order], values, side="right") - 1
    candidate = order[np.clip(position, 0, None)]
    with np.errstate(invalid="ignore"):
        inside = ~np.isnan(values) & (position >= 0) & (values <= lasts[candidate])
    return np.where(inside, candidate, -1)


def _ten_year_bands(start: int, stop: int, width: int) -> tuple[tuple[int, int | None], ...]:
    if width <= 0 or stop <= start or (stop - start) % width:
        raise CohortDefinitionError(
            f"Bands need start < stop and (stop - start) a multiple of width. Got start={start}, stop={stop}, "
            f"width={width} instead."
        )
    return tuple((a, a + width - 1) for a in range(start, stop, width)) + ((stop, None),)


@dataclass(frozen=True, slots=True)
class AgeBands(Grouping):
    """Age bands, fixed or advancing with the survey year (the double cohort).

    Fixed bands (``base_year=None``) put each record in the band of its age in
    its survey year: dimension ``age_band``, labels ``"25-34"``, ``"65-"``.

    Advancing bands follow a **birth cohort**: the band is the age in
    ``base_year`` and moves with time, so the people aged 25-34 in 2000 are
    those aged 35-44 in 2010 (age minus ``survey_year - base_year``). Crossed
    with arrival cohorts this is Myers' double cohort: the same arrival cohort
    and birth cohort seen in every survey year. Dimension ``birth_cohort``,
    labels ``"25-34 in 2000"``; coords ``age_first_at_base``,
    ``age_last_at_base``, ``base_year`` and the approximate birth years
    ``birth_first``, ``birth_last`` (``base_year - age``: ages are in whole
    years at the interview, so a birth year is uncertain by one).

    Records outside every band (e.g. children with bands from 25) are in no
    cell and :func:`scorecard.estimate` counts them in the attr
    ``records_outside_places_and_cohorts``.

    Parameters
    ----------
    bands : sequence of (first, last)
        Inclusive age ranges, disjoint; ``None`` leaves the upper end open.
    base_year : int, optional
        Year in which the ages of advancing bands hold; ``None`` for fixed bands.

    Examples
    --------
    >>> fixed = AgeBands.tens(25, 65)
    >>> fixed.dimension, fixed.labels
    ('age_band', ('25-34', '35-44', '45-54', '55-64', '65-'))
    >>> double = AgeBands.tens(25, 45, base_year=2000)
    >>> double.dimension, double.labels
    ('birth_cohort', ('25-34 in 2000', '35-44 in 2000', '45- in 2000'))
    >>> frame = pd.DataFrame({"survey_year": [2000, 2010, 2010, 2010], "age": [30, 40, 30, 12]})
    >>> rows, labels = double.membership(frame)
    >>> [(int(r), double.labels[i]) for r, i in zip(rows, labels)]
    [(0, '25-34 in 2000'), (1, '25-34 in 2000')]
    """

    bands: tuple[tuple[int | None, int | None], ...]
    base_year: int | None = None
    columns: frozenset[str] = frozenset({"age", "survey_year"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", _check_ranges(self.bands, "AgeBands"))
        if any(first is None for first, _ in self.bands):
            raise CohortDefinitionError("AgeBands: give a lower age for every band (e.g. (0, 4), not (None, 4)).")

    @classmethod
    def tens(cls, start: int = 25, stop: int = 65, *, width: int = 10, base_year: int | None = None) -> AgeBands:
        """Bands of ``width`` years from ``start`` and an open band from ``stop`` (fixed, or advancing from ``base_year``)."""
        return cls(_ten_year_bands(start, stop, width), base_year=base_year)

    @classmethod
    def fixed(cls, bands) -> AgeBands:
        """Fixed age bands, e.g. ``[(25, 34), (35, 44)]``."""
        return cls(tuple(bands))

    @classmethod
    def advancing(cls, bands, *, base_year: int) -> AgeBands:
        """Bands of ages in ``base_year`` that advance with the survey year (birth cohorts)."""
        return cls(tuple(bands), base_year=int(base_year))

    @property
    def dimension(self) -> str:
        return "age_band" if self.base_year is None else "birth_cohort"

    @property
    def labels(self) -> tuple[str, ...]:
        plain = tuple(cohort_label(f, last) for f, last in self.bands)
        return plain if self.base_year is None else tuple(f"{label} in {self.base_year}" for label in plain)

    @property
    def coords(self) -> dict[str, list]:
        first = [float(f) for f, _ in self.bands]
        last = [np.nan if v is None else float(v) for _, v in self.bands]
        if self.base_year is None:
            return {"age_first": first, "age_last": last}
        base = float(self.base_year)
        return {
            "age_first_at_base": first,
            "age_last_at_base": last,
            "base_year": [base] * len(self.bands),
            "birth_first": [base - v for v in last],
            "birth_last": [base - v for v in first],
        }

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        _require(frame, self.columns if self.base_year is not None else {"age"}, "AgeBands")
        age = frame["age"].to_numpy(dtype="float64", na_value=np.nan)
        if self.base_year is not None:
            age = age - (frame["survey_year"].to_numpy(dtype="float64", na_value=np.nan) - self.base_year)
        index = _range_index(age, self.bands)
        rows = np.flatnonzero(index >= 0)
        return rows, index[rows].astype(np.int64)


@dataclass(frozen=True, slots=True)
class YearsSinceArrival(Grouping):
    """Foreign-born persons by years since arrival (survey year minus year of entry).

    Dimension ``years_since_arrival`` (labels ``"0-4"``, ``"5-9"``, ...,
    ``"30-"``), coords ``ysa_first``, ``ysa_last``. The native-born, and
    foreign-born persons without a year of entry, are in no band (counted by
    :func:`scorecard.estimate` as outside every cell); a year of entry after
    the survey year is in no band either.

    Examples
    --------
    >>> ysa = YearsSinceArrival.every(5, stop=15)
    >>> ysa.labels
    ('0-4', '5-9', '10-14', '15-')
    >>> frame = pd.DataFrame({"survey_year": [2020, 2020, 2020], "year_of_entry": pd.array([2018, 1990, None], dtype="Int16"),
    ...                       "nativity": pd.Categorical(["foreign_born", "foreign_born", "native"])})
    >>> rows, labels = ysa.membership(frame)
    >>> [(int(r), ysa.labels[i]) for r, i in zip(rows, labels)]
    [(0, '0-4'), (1, '15-')]
    """

    bands: tuple[tuple[int | None, int | None], ...]
    dimension: str = "years_since_arrival"
    columns: frozenset[str] = frozenset({"nativity", "year_of_entry", "survey_year"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", _check_ranges(self.bands, "YearsSinceArrival"))
        if any(first is None or first < 0 for first, _ in self.bands):
            raise CohortDefinitionError("YearsSinceArrival: every band needs a lower bound >= 0 (e.g. (0, 4)).")

    @classmethod
    def every(cls, width: int = 5, *, stop: int = 30) -> YearsSinceArrival:
        """Bands of ``width`` years from 0 and an open band from ``stop``."""
        return cls(_ten_year_bands(0, stop, width))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(cohort_label(f, last) for f, last in self.bands)

    @property
    def coords(self) -> dict[str, list]:
        return {"ysa_first": [float(f) for f, _ in self.bands],
                "ysa_last": [np.nan if v is None else float(v) for _, v in self.bands]}

    def membership(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        _require(frame, self.columns, "YearsSinceArrival")
        foreign = (frame["nativity"] == "foreign_born").fillna(False).to_numpy(dtype=bool)
        since = (frame["survey_year"].to_numpy(dtype="float64", na_value=np.nan)
                 - frame["year_of_entry"].to_numpy(dtype="float64", na_value=np.nan))
        index = np.where(foreign, _range_index(since, self.bands), -1)
        rows = np.flatnonzero(index >= 0)
        return rows, index[rows].astype(np.int64)


#: Periods of entry the published S0502 table forms, by first survey year of each layout.
S0502_WINDOWS: dict[int, tuple[tuple[int | None, int | None], ...]] = {
    2010: ((None, 1989), (1990, 1999), (2000, None)),
    2012: ((None, 1999), (2000, 2009), (2010, None)),
}


def s0502_windows(year: int) -> tuple[tuple[int | None, int | None], ...]:
    """Periods of entry of the published S0502 table of a survey year (2010-2011 and 2012 on differ).

    Examples
    --------
    >>> [cohort_label(f, last) for f, last in s0502_windows(2011)]
    ['-1989', '1990-1999', '2000-']
    >>> [cohort_label(f, last) for f, last in s0502_windows(2016)]
    ['-1999', '2000-2009', '2010-']
    """
    starts = [y for y in S0502_WINDOWS if y <= year]
    if not starts:
        raise CohortDefinitionError(f"S0502 is published from 2010 on (subject tables in the Census API). Got {year}.")
    return S0502_WINDOWS[max(starts)]


def require_windows(scheme: ArrivalCohorts, windows, *, source: str) -> None:
    """Raise unless every arrival range of ``scheme`` is a union of the source's entry ``windows``.

    A source that records the period of entry in intervals (published S0502
    periods, IPUMS ``YRIMMIG`` intervals of early censuses) can only form
    cohorts whose bounds are interval bounds.

    Parameters
    ----------
    scheme : ArrivalCohorts
    windows : sequence of (first, last)
        The source's periods of entry (``None`` = open end), disjoint.
    source : str
        Named in the error (e.g. ``"S0502 2016"``).

    Raises
    ------
    CohortDefinitionError
        Naming the ranges that cannot be formed and the windows there are.

    Examples
    --------
    >>> require_windows(ArrivalCohorts(((2000, 2009),)), s0502_windows(2016), source="S0502 2016")
    >>> require_windows(ArrivalCohorts(((1990, 1999),)), s0502_windows(2016), source="S0502 2016")
    Traceback (most recent call last):
    ...
    scorecard.errors.CohortDefinitionError: S0502 2016 cannot form the arrival cohort(s) ['1990-1999']: its periods of entry are ['-1999', '2000-2009', '2010-']. Use cohorts whose first and last years are bounds of these periods.
    """
    windows = _check_ranges(windows, f"{source} windows")
    starts = {f for f, _ in windows}
    ends = {last for _, last in windows}
    bad = [cohort_label(f, last) for f, last in scheme.ranges if f not in starts or last not in ends]
    if bad:
        raise CohortDefinitionError(
            f"{source} cannot form the arrival cohort(s) {bad}: its periods of entry are "
            f"{[cohort_label(f, last) for f, last in windows]}. Use cohorts whose first and last years are bounds "
            "of these periods."
        )
