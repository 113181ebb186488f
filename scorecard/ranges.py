"""Valid ranges of values, checked once at the door: one table per source, kept as data.

``scorecard/data/valid_ranges.csv`` lists, for each source (``acs_pums``, ``ipums``,
``frame`` for :meth:`Microdata.from_frame`, ``published`` for published tables,
``parameter`` for arguments), each harmonized column's smallest and largest value,
a column it may not exceed (``year_of_entry`` <= ``survey_year``), whether its
values are integers, and why. Readers call :func:`check_ranges` on the harmonized
frame they build; a value outside its range raises :class:`~scorecard.errors.OutOfRangeError`
naming the file, column, values and rows.

Examples
--------
>>> import pandas as pd
>>> check_ranges(pd.DataFrame({"age": [34, 150], "survey_year": [2016, 2016]}), source="acs_pums", name="psam_p53.csv")
Traceback (most recent call last):
...
scorecard.errors.OutOfRangeError: psam_p53.csv: column age has 1 values outside 0..99 (150 at row 1). ACS PUMS AGEP runs 00..99 (top-coded at 99; PUMS data dictionary). Was the file edited, or is it another survey's?
>>> check_value(0.5, source="parameter", column="quantile", name="estimate")
"""

from __future__ import annotations

import functools
import math
import os
from importlib import resources

import numpy as np
import pandas as pd

from scorecard.errors import EstimationError, OutOfRangeError

__all__ = ["valid_ranges", "check_ranges", "check_matrix", "check_value", "check_estimate_input"]


@functools.lru_cache(maxsize=1)
def valid_ranges() -> pd.DataFrame:
    """The table of valid ranges (one row per source and column)."""
    with resources.files("scorecard").joinpath("data/valid_ranges.csv").open("r", encoding="utf-8") as handle:
        table = pd.read_csv(
            handle, dtype={"at_most_column": "string", "why": "string", "required_when": "string", "must_hold": "string"}
        )
    return table.set_index(["source", "column"]).sort_index()


def _rule(source: str, column: str) -> pd.Series | None:
    table = valid_ranges()
    return table.loc[(source, column)] if (source, column) in table.index else None


def _bounds(rule: pd.Series) -> str:
    low = "" if pd.isna(rule["minimum"]) else f"{rule['minimum']:g}"
    high = "" if pd.isna(rule["maximum"]) else f"{rule['maximum']:g}"
    return f"{low}..{high}"


def check_ranges(frame: pd.DataFrame, *, source: str, name: str) -> None:
    """Raise :class:`OutOfRangeError` for the first column of ``frame`` with a value outside its range.

    Parameters
    ----------
    frame : pandas.DataFrame
        Harmonized columns; only those the table lists for ``source`` are checked (missing values pass).
    source : str
        Row group of the table: ``"acs_pums"``, ``"ipums"``, ``"frame"``.
    name : str
        File (or description) for the message.
    """
    table = valid_ranges()
    if source not in table.index.get_level_values(0):
        raise KeyError(f"valid_ranges.csv has no rows for source {source!r}")
    for column, rule in table.loc[source].iterrows():  # a handful of columns, not rows
        if column not in frame:
            continue
        _check_required(frame, column, rule, name)
        numeric = any(not pd.isna(rule[k]) for k in ("minimum", "maximum", "at_most_column")) or bool(rule["integer"])
        if not numeric:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(values)
        bad = np.zeros(len(values), dtype=bool)
        if not pd.isna(rule["minimum"]):
            bad |= present & (values < rule["minimum"])
        if not pd.isna(rule["maximum"]):
            bad |= present & (values > rule["maximum"])
        limit = rule["at_most_column"]
        if not pd.isna(limit) and limit in frame:
            ceiling = frame[limit].to_numpy(dtype="float64", na_value=np.nan)
            bad |= present & (values > ceiling)
        fractional = present & (values != np.round(values)) if bool(rule["integer"]) else np.zeros_like(bad)
        if bad.any() or fractional.any():
            problem = bad if bad.any() else fractional
            rows = np.flatnonzero(problem)
            shown = ", ".join(f"{values[r]:g} at row {r}" for r in rows[:5])
            if bad.any():
                where = f"outside {_bounds(rule)}" + (f" or above {limit}" if not pd.isna(limit) else "")
            else:
                where = "that are not whole numbers"
            raise OutOfRangeError(
                f"{name}: column {column} has {len(rows)} values {where} ({shown}). {rule['why']}. "
                "Was the file edited, or is it another survey's?"
            )


def _condition(frame: pd.DataFrame, expression: str) -> np.ndarray | None:
    """Rows where a table expression holds (missing values count as False); None if its columns were not read."""
    if expression == "always":
        return np.ones(len(frame), dtype=bool)
    try:
        result = frame.eval(expression, engine="python")
    except (KeyError, NameError, pd.errors.UndefinedVariableError):
        return None
    return pd.Series(result, index=frame.index).astype("boolean").fillna(False).to_numpy(dtype=bool)


def _check_required(frame: pd.DataFrame, column: str, rule: pd.Series, name: str) -> None:
    checks = []
    if not pd.isna(rule["required_when"]):
        needed = _condition(frame, rule["required_when"])
        if needed is not None:
            when = "" if rule["required_when"] == "always" else f" where {rule['required_when']}"
            checks.append((needed & frame[column].isna().to_numpy(dtype=bool), f"blank{when}"))
    if not pd.isna(rule["must_hold"]):
        holds = _condition(frame, rule["must_hold"])
        if holds is not None:
            checks.append((~holds & frame[column].notna().to_numpy(dtype=bool), f"values where not {rule['must_hold']}"))
    for bad, what in checks:
        if bad.any():
            rows = np.flatnonzero(bad)
            shown = ", ".join(f"row {r}" for r in rows[:5])
            raise OutOfRangeError(
                f"{name}: column {column} has {len(rows)} {what} ({shown}). {rule['why']}. "
                "Was the file edited, or is it another survey's?"
            )


def check_matrix(matrix: np.ndarray, *, source: str, column: str, names: list[str], name: str) -> None:
    """:func:`check_ranges` for a matrix of like columns (replicate weights), ``names`` naming its columns.

    Examples
    --------
    >>> check_matrix(np.array([[1.0, 2.5]]), source="acs_pums", column="replicate_weights",
    ...              names=["PWGTP1", "PWGTP2"], name="psam_p53.csv")
    Traceback (most recent call last):
    ...
    scorecard.errors.OutOfRangeError: psam_p53.csv: column PWGTP2 has 1 values that are not whole numbers (2.5 at row 0). PWGTP1-80 and WGTP1-80 are integer weights (a few are negative). Was the file edited, or is it another survey's?
    """
    rule = _rule(source, column)
    if rule is None:
        return
    present = np.isfinite(matrix)
    bad = np.zeros(matrix.shape, dtype=bool)
    if not pd.isna(rule["minimum"]):
        bad |= present & (matrix < rule["minimum"])
    if not pd.isna(rule["maximum"]):
        bad |= present & (matrix > rule["maximum"])
    fractional = present & (matrix != np.round(matrix)) if bool(rule["integer"]) else np.zeros_like(bad)
    problem = bad if bad.any() else fractional
    if problem.any():
        rows, cols = np.nonzero(problem)
        first = cols[0]
        in_column = rows[cols == first]
        shown = ", ".join(f"{matrix[r, first]:g} at row {r}" for r in in_column[:5])
        where = f"outside {_bounds(rule)}" if bad.any() else "that are not whole numbers"
        raise OutOfRangeError(
            f"{name}: column {names[first]} has {len(in_column)} values {where} ({shown}). {rule['why']}. "
            "Was the file edited, or is it another survey's?"
        )


def check_value(value: float, *, source: str, column: str, name: str, open_interval: bool = True) -> None:
    """Raise :class:`OutOfRangeError` for one argument outside its range (open interval by default)."""
    rule = _rule(source, column)
    number = float(value) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else math.nan
    low, high = rule["minimum"], rule["maximum"]
    inside = not math.isnan(number) and (
        (low < number < high) if open_interval else (low <= number <= high)
    )
    if not inside:
        raise OutOfRangeError(
            f"The '{column}' parameter of {name} must be a number strictly between {low:g} and {high:g}. "
            f"Got {value!r} instead ({rule['why']})."
        )


def check_estimate_input(micro: object, *, quantile: float) -> None:
    """Arguments of :func:`scorecard.estimate` checked at its door: data (not a path) and the quantile.

    Examples
    --------
    >>> check_estimate_input("psam_p53.csv", quantile=0.5)
    Traceback (most recent call last):
    ...
    scorecard.errors.EstimationError: estimate() needs Microdata (or an iterable of Microdata pieces); got the path 'psam_p53.csv'. Read the file first: micro = scorecard.read_acs_pums('psam_p53.csv').
    """
    if isinstance(micro, (str, bytes, os.PathLike)):
        raise EstimationError(
            f"estimate() needs Microdata (or an iterable of Microdata pieces); got the path {str(micro)!r}. "
            f"Read the file first: micro = scorecard.read_acs_pums({str(micro)!r})."
        )
    check_value(quantile, source="parameter", column="quantile", name="estimate")
