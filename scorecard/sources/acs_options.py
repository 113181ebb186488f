"""Options of :func:`scorecard.sources.acs_pums.read_acs_pums`, checked once.

Both :mod:`scorecard.sources.acs_pums` (the entry point) and
:mod:`scorecard.sources.acs_records` (one person/housing pair) use them, so they
live here, below both.
"""

from __future__ import annotations

from dataclasses import dataclass

from scorecard.errors import MissingColumnsError, UnknownCodeError
from scorecard.sources.acs_layout import HOUSING_COLUMNS, PERSON_COLUMNS

__all__: list[str] = []  # helpers of read_acs_pums only


@dataclass(frozen=True)
class _Options:
    dollars_year: int | None
    survey: str | None
    survey_year: int | None
    state: str | None
    columns: tuple[str, ...]
    keep: tuple[str, ...]
    on_orphans: str

    @classmethod
    def make(cls, *, dollars_year, survey, survey_year, state, columns, keep, on_orphans, with_housing,
             with_persons=True):
        if on_orphans not in ("raise", "drop"):
            raise ValueError(
                f"The 'on_orphans' parameter of read_acs_pums must be 'raise' or 'drop'. Got {on_orphans!r} instead."
            )
        if survey not in (None, "acs1", "acs5"):
            raise ValueError(
                f"The 'survey' parameter of read_acs_pums must be 'acs1', 'acs5' or None. Got {survey!r} instead."
            )
        known = PERSON_COLUMNS + HOUSING_COLUMNS
        if columns is None:
            columns = (PERSON_COLUMNS if with_persons else ()) + (HOUSING_COLUMNS if with_housing else ())
        if isinstance(columns, str):
            columns = (columns,)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UnknownCodeError(
                "read_acs_pums", "columns", unknown, allowed=list(known),
                hint="Geography, ids and weights are always built; list only harmonized columns.",
            )
        if not with_housing and any(c in HOUSING_COLUMNS for c in columns):
            raise MissingColumnsError(
                "read_acs_pums(housing=None)",
                {c for c in columns if c in HOUSING_COLUMNS},
                "tenure and household_income come from the housing file: pass housing=... or leave them out "
                "of columns.",
            )
        if not with_persons and any(c in PERSON_COLUMNS for c in columns):
            raise MissingColumnsError(
                "read_acs_pums(person=None)",
                {c for c in columns if c in PERSON_COLUMNS},
                "These columns come from the person file: pass person=... or leave them out of columns.",
            )
        state = None if state is None else str(state).strip().zfill(2)
        return cls(
            dollars_year=None if dollars_year is None else int(dollars_year),
            survey=survey,
            survey_year=None if survey_year is None else int(survey_year),
            state=state,
            columns=tuple(dict.fromkeys(columns)),
            keep=tuple(keep),
            on_orphans=on_orphans,
        )

    def key(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
