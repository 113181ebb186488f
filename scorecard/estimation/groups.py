"""Group layout: which (place, year, cohort, ...) cells each record counts in.

A :class:`GroupLayout` fixes the output dims and their labels before any data
is seen, so partial sums from different files (or dask workers) line up and
simply add. :meth:`GroupLayout.entries` turns a frame into *entries*: one per
(record, cell) membership with the record's allocation factor. A record in a
PUMA split between two places, or in both ``"foreign_born"`` and
``"1990-1999"``, has several entries.

Examples
--------
>>> import pandas as pd
>>> from cohorts import ArrivalCohorts
>>> from scorecard.places import Places
>>> layout = GroupLayout.build(Places.everywhere(), [2019, 2020], ArrivalCohorts.decades(2000, 2010), [])
>>> layout.dims, layout.shape
(('place', 'year', 'cohort'), (1, 2, 4))
>>> frame = pd.DataFrame({"survey_year": [2020], "nativity": pd.Categorical(["foreign_born"]),
...                       "year_of_entry": pd.array([2004], dtype="Int16")})
>>> e = layout.entries(frame)
>>> [layout.labels_of(int(g)) for g in e.group]
[('all', 2020, 'foreign_born'), ('all', 2020, '2000-2009')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cohorts.schemes import AllRecords, Grouping
from scorecard._join import match_sorted
from scorecard.errors import EstimationError
from scorecard.places import Places

__all__ = ["GroupLayout", "Entries"]


@dataclass(frozen=True, slots=True)
class Entries:
    """Record-to-cell memberships: parallel arrays ``row``, ``group`` (flat cell index), ``factor``."""

    row: np.ndarray
    group: np.ndarray
    factor: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


@dataclass(frozen=True, eq=False)
class GroupLayout:
    """Output dims (place, year, cohort, extra groupings) with their labels."""

    places: Places
    years: tuple[int, ...]
    cohorts: Grouping
    extra: tuple[Grouping, ...]

    @classmethod
    def build(cls, places: Places | None, years: Sequence[int], cohorts: Grouping | None, extra: Sequence[Grouping]):
        """Layout for the given places (default: everywhere), years, cohorts (default: all) and extra groupings."""
        cohorts = cohorts or AllRecords()
        if cohorts.dimension != "cohort":
            raise EstimationError(f"The 'cohorts' grouping must have dimension 'cohort'; got {cohorts.dimension!r}.")
        names = ["place", "year", "cohort", *[g.dimension for g in extra]]
        if len(set(names)) != len(names):
            raise EstimationError(f"Grouping dimensions must be distinct; got {names}.")
        return cls(places or Places.everywhere(), tuple(sorted(int(y) for y in years)), cohorts, tuple(extra))

    @property
    def dims(self) -> tuple[str, ...]:
        return ("place", "year", "cohort", *[g.dimension for g in self.extra])

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.places), len(self.years), len(self.cohorts.labels), *[len(g.labels) for g in self.extra])

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def columns(self) -> frozenset[str]:
        """Harmonized columns the layout reads."""
        extra = frozenset().union(*(g.columns for g in self.extra)) if self.extra else frozenset()
        places = frozenset() if self.places.is_everywhere else frozenset({"state", "puma", "puma_vintage"})
        return frozenset({"survey_year"}) | self.cohorts.columns | extra | places

    def coords(self) -> dict[str, object]:
        """xarray coordinates of the group dims."""
        names = self.places.names
        coords: dict[str, object] = {
            "place": list(self.places.ids),
            "place_name": ("place", [names[p] for p in self.places.ids]),
            "year": list(self.years),
            "cohort": list(self.cohorts.labels),
        }
        coords.update({k: ("cohort", v) for k, v in self.cohorts.coords.items()})
        for g in self.extra:
            coords[g.dimension] = list(g.labels)
            coords.update({k: (g.dimension, v) for k, v in g.coords.items()})
        return coords

    def labels_of(self, flat: int) -> tuple:
        """Labels of one flat cell index (for messages and tests)."""
        index = np.unravel_index(flat, self.shape)
        labels = [self.places.ids, self.years, self.cohorts.labels, *[g.labels for g in self.extra]]
        return tuple(lab[i] for lab, i in zip(labels, index))

    def entries(self, frame: pd.DataFrame) -> Entries:
        """Memberships of ``frame``'s records in the layout's cells (vectorized joins)."""
        years = frame["survey_year"].to_numpy(dtype="float64", na_value=np.nan)
        year_index = np.searchsorted(np.asarray(self.years, dtype="float64"), years)
        known_year = (year_index < len(self.years)) & (
            np.asarray(self.years, dtype="float64")[np.clip(year_index, 0, len(self.years) - 1)] == years
        )
        if not known_year.all():
            unknown = sorted(set(years[~known_year].tolist()))
            raise EstimationError(f"Records have survey years {unknown} that the layout does not list {list(self.years)}.")
        rows, place_index, factor = self.places.memberships(frame)
        columns = {"place": place_index}
        for name, grouping in (("cohort", self.cohorts), *((g.dimension, g) for g in self.extra)):
            member_rows, member_labels = grouping.membership(frame)
            order = _sorting(member_rows)
            member_rows, member_labels = member_rows[order], member_labels[order]
            if len(rows) == len(frame) and (len(rows) == 0 or np.all(np.diff(rows) == 1)):
                # One entry per record, in order (every record in exactly one place): a gather, not a join.
                left, right = member_rows, slice(None)
            else:
                left, right = match_sorted(rows, member_rows)
            rows, factor = rows[left], factor[left]
            columns = {key: values[left] for key, values in columns.items()}
            columns[name] = member_labels[right]
        columns["year"] = year_index[rows]
        index_columns = [np.asarray(columns[d], dtype=np.int64) for d in self.dims]
        group = np.ravel_multi_index(index_columns, self.shape) if len(rows) else np.zeros(0, dtype=np.int64)
        order = _sorting(rows)
        return Entries(row=rows[order].astype(np.int64, copy=False),
                       group=np.asarray(group, dtype=np.int64)[order], factor=factor[order].astype("float64", copy=False))


def _sorting(values: np.ndarray) -> np.ndarray | slice:
    """Stable sorting order of ``values`` (a no-op slice when they are sorted already, as joins usually leave them)."""
    if np.all(values[1:] >= values[:-1]):
        return slice(None)
    return np.argsort(values, kind="stable")
