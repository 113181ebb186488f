"""Errors raised by integration-scorecard.

Every error names what was expected, what was found and what to do. Each is a
:class:`ScorecardError` and also subclasses the built-in exception a caller
would naturally catch (``KeyError`` for a missing column, ``ValueError`` for a
bad value, ``OSError`` for an unreadable file). All of them pickle cleanly, so
they cross ``dask.distributed`` worker boundaries intact.

Examples
--------
>>> err = MissingColumnsError("psam_p53.csv", {"PWGTP", "AGEP"}, "Download the full person file.")
>>> str(err)
"psam_p53.csv is missing columns ['AGEP', 'PWGTP']. Download the full person file."
>>> isinstance(err, KeyError) and isinstance(err, ScorecardError)
True
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ScorecardError",
    "MessageError",
    "MissingColumnsError",
    "UnknownCodeError",
    "InvalidWeightError",
    "ReplicateCountError",
    "DuplicateRecordError",
    "OrphanRecordError",
    "UnreadableFileError",
    "MismatchedSourcesError",
    "IndicatorDefinitionError",
    "UnknownIndicatorError",
    "EstimationError",
    "PlaceError",
    "CohortDefinitionError",
    "TableError",
    "EstimatesContractError",
    "ScoringError",
    "ChartError",
    "ReportError",
    "OutOfRangeError",
    "ImpactError",
    "CohortDataError",
]


def _preview(values: Iterable[object], limit: int = 5) -> str:
    """Up to ``limit`` values, then how many more."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


class ScorecardError(Exception):
    """Base class of every error this library raises on purpose."""


class MessageError(ScorecardError):
    """Base of errors that carry one finished message (pickles by its message).

    Subclass it together with the built-in a caller would catch, e.g.
    ``class MyError(MessageError, ValueError)``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return type(self), (self.message,)


class MissingColumnsError(KeyError, ScorecardError):
    """A source or frame lacks columns that are needed.

    Parameters
    ----------
    source : str
        File name or description of the table.
    missing : set of str
        Names of the missing columns.
    hint : str
        What the user should do.
    """

    def __init__(self, source: str, missing: Iterable[str], hint: str = "") -> None:
        self.source = source
        self.missing = set(missing)
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.source} is missing columns {sorted(self.missing)}. {self.hint}".rstrip()

    def __reduce__(self):
        return type(self), (self.source, set(self.missing), self.hint)


class UnknownCodeError(ValueError, ScorecardError):
    """A column holds codes that its code table does not know.

    Examples
    --------
    >>> print(UnknownCodeError("psam_p53.csv", "CIT", [7, 9], rows=[3, 18], allowed=[1, 2, 3, 4, 5]))
    psam_p53.csv: column CIT has unknown codes [7, 9] (rows 3, 18); expected one of [1, 2, 3, 4, 5]. Check that the file is an ACS PUMS file of a supported vintage.
    """

    def __init__(
        self,
        source: str,
        column: str,
        codes: Iterable[object],
        *,
        rows: Iterable[int] = (),
        allowed: Iterable[object] = (),
        hint: str = "Check that the file is an ACS PUMS file of a supported vintage.",
    ) -> None:
        self.source, self.column, self.hint = source, column, hint
        self.codes, self.rows, self.allowed = list(codes), list(rows), list(allowed)
        super().__init__(str(self))

    def __str__(self) -> str:
        rows = f" (rows {_preview(self.rows)})" if self.rows else ""
        return (
            f"{self.source}: column {self.column} has unknown codes {self.codes[:10]}{rows}; "
            f"expected one of {self.allowed}. {self.hint}"
        )

    def __reduce__(self):
        return _rebuild_kw, (
            type(self),
            (self.source, self.column, self.codes),
            {"rows": self.rows, "allowed": self.allowed, "hint": self.hint},
        )


def _rebuild_kw(cls, args, kwargs):
    return cls(*args, **kwargs)


class InvalidWeightError(MessageError, ValueError):
    """A weight column holds negative, missing or non-numeric values."""


class ReplicateCountError(MessageError, ValueError):
    """The number of replicate-weight columns is neither 0 nor 80."""


class DuplicateRecordError(MessageError, ValueError):
    """Two records share a key that must be unique (e.g. SERIALNO, SPORDER)."""


class OrphanRecordError(MessageError, ValueError):
    """A person record has no matching housing record."""


class UnreadableFileError(MessageError, OSError):
    """A file is missing, empty, or cannot be parsed."""


class MismatchedSourcesError(MessageError, ValueError):
    """Files that must go together do not (different years, layouts, vintages)."""


class IndicatorDefinitionError(MessageError, ValueError):
    """An indicator definition is invalid. Raised when it is created or registered."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"Indicator {key!r}: {problem}")

    def __reduce__(self):
        return type(self), (self.key, self.problem)


class UnknownIndicatorError(KeyError, ScorecardError):
    """No indicator is registered under the requested key."""

    def __init__(self, key: str, suggestions: Iterable[str] = ()) -> None:
        self.key, self.suggestions = key, list(suggestions)
        super().__init__(str(self))

    def __str__(self) -> str:
        close = f" Did you mean {', '.join(map(repr, self.suggestions))}?" if self.suggestions else ""
        return (
            f"No indicator is registered as {self.key!r}.{close} "
            "See indicators.available() for the full list."
        )

    def __reduce__(self):
        return type(self), (self.key, self.suggestions)


class EstimationError(MessageError, ValueError):
    """Estimation cannot proceed with the inputs given."""


class PlaceError(MessageError, ValueError):
    """A crosswalk or place definition is invalid."""


class CohortDefinitionError(MessageError, ValueError):
    """A cohort scheme is invalid."""


class TableError(MessageError, ValueError):
    """A published ACS table file is malformed or lacks a needed line."""


class EstimatesContractError(MessageError, ValueError):
    """An estimates Dataset (or the table it is built from) breaks the contract of :mod:`scorecard.estimates`.

    The message lists every problem found at once, each naming the variable,
    coordinate or attribute and what to do.
    """


class ScoringError(MessageError, ValueError):
    """A scorecard, score or rank cannot be computed with the inputs given (names the input and what to do)."""


class ChartError(MessageError, ValueError):
    """Data handed to a chart lacks what the chart draws, or an option is invalid."""


class ReportError(MessageError, ValueError):
    """A report cannot be written with the inputs given (or its PDF renderer failed)."""


class OutOfRangeError(MessageError, ValueError):
    """A value lies outside the range its source allows (see ``scorecard/data/valid_ranges.csv``)."""


class ImpactError(MessageError, ValueError):
    """An office-impact analysis cannot be run with the events and estimates given.

    The message names the places, years or event times that are missing and what to do.
    """


class CohortDataError(MessageError, ValueError):
    """An estimates Dataset cannot answer a cohort question (a year, cohort or period is not there)."""
