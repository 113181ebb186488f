"""Errors of the published-tables route, all :class:`scorecard.errors.TableError`.

Examples
--------
>>> err = MissingLineError("S0501", 2016, ['Total population'], source="S0501_DATA.csv")
>>> print(err)
S0501_DATA.csv: table S0501 (2016) has no line labelled 'Total population'. First check that the LEGEND read with it is the one downloaded with this data file (same table and year): another year's legend has other labels. If it is, labels changed this year: add the label this year's LEGEND uses to scorecard/tables/catalog/lines.csv, or leave the indicator out with indicators=[...].
>>> import pickle; str(pickle.loads(pickle.dumps(err))) == str(err)
True
"""

from __future__ import annotations

from collections.abc import Iterable

from scorecard.errors import TableError

__all__ = ["MissingLineError", "CensusApiError"]


class MissingLineError(TableError, LookupError):
    """A line the catalog needs is not in a table's LEGEND for that year.

    Parameters
    ----------
    table : str
        Table id, e.g. ``"S0501"``.
    year : int
        Data year of the file.
    labels : iterable of str
        The label (or alternative labels) that were looked for.
    source : str, optional
        File the table came from.
    """

    def __init__(self, table: str, year: int, labels: Iterable[str], source: str = "") -> None:
        self.table, self.year, self.labels, self.source = table, year, list(labels), source
        tried = " or ".join(repr(label) for label in self.labels)
        prefix = f"{source}: " if source else ""
        super().__init__(
            f"{prefix}table {table} ({year}) has no line labelled {tried}. First check that the LEGEND read "
            "with it is the one downloaded with this data file (same table and year): another year's legend "
            "has other labels. If it is, labels changed this year: add the label this year's LEGEND uses to "
            "scorecard/tables/catalog/lines.csv, or leave the indicator out with indicators=[...]."
        )

    def __reduce__(self):
        return type(self), (self.table, self.year, self.labels, self.source)


class CensusApiError(TableError):
    """The Census Data API answered with an error, or not at all."""
