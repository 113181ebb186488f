"""Constant dollars: convert survey-year incomes with the CPI-U-RS.

ACS PUMS income variables (PINCP, PERNP, HINCP, ...) become dollars of the
survey year (for 5-year files, of the last year) once they are multiplied by
``ADJINC / 1e6``. To compare incomes across survey years they are then put in
the dollars of one year, ``dollars_year``, with the ratio of the annual-average
CPI-U-RS (the Bureau of Labor Statistics' research series that the Census
Bureau uses for its own income tables)::

    value_in_to_year = value_in_from_year * CPI_U_RS[to_year] / CPI_U_RS[from_year]

The index is kept as data in ``scorecard/data/cpi_u_rs.csv`` (comment lines
start with ``#`` and name the source). A year whose value could not be verified
is left blank there; converting from or to it raises
:class:`DollarsYearError` instead of guessing. Converting a year into itself
never needs the table.

Examples
--------
>>> to_constant_dollars([100.0, 250.0], 2016, 2016).tolist()
[100.0, 250.0]
>>> table = load_cpi_u_rs()
>>> table.index.name, table.name
('year', 'cpi_u_rs')
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

from scorecard.errors import MessageError

__all__ = ["DollarsYearError", "cpi_ratio", "load_cpi_u_rs", "to_constant_dollars"]

_TABLE = "cpi_u_rs.csv"


class DollarsYearError(MessageError, ValueError):
    """A year has no (verified) CPI-U-RS value, so dollars cannot be converted."""


@functools.lru_cache(maxsize=1)
def load_cpi_u_rs() -> pd.Series:
    """The annual-average CPI-U-RS index by calendar year.

    Returns
    -------
    pandas.Series
        float64 values named ``cpi_u_rs``, indexed by ``year``. Years whose
        value is not verified are absent.

    Examples
    --------
    >>> load_cpi_u_rs().dtype
    dtype('float64')
    """
    text = resources.files("scorecard").joinpath("data", _TABLE)
    with resources.as_file(text) as path:
        table = pd.read_csv(path, comment="#", dtype={"year": "int64", "cpi_u_rs": "float64"})
    table = table.dropna(subset=["cpi_u_rs"])
    return table.set_index("year")["cpi_u_rs"].astype("float64")


def cpi_ratio(from_year: int | Sequence[int] | np.ndarray, to_year: int) -> np.ndarray:
    """Factor that turns dollars of ``from_year`` into dollars of ``to_year``.

    Parameters
    ----------
    from_year : int or array-like of int
        Year(s) the values are expressed in (one per value allowed).
    to_year : int
        Year of the constant dollars wanted.

    Returns
    -------
    numpy.ndarray
        float64 factors, 1.0 where ``from_year == to_year``.

    Raises
    ------
    DollarsYearError
        If a year other than ``to_year`` itself lacks a CPI-U-RS value.

    Examples
    --------
    >>> cpi_ratio([2019, 2019], 2019).tolist()
    [1.0, 1.0]
    """
    years = np.atleast_1d(np.asarray(from_year, dtype="int64"))
    to_year = int(to_year)
    factors = np.ones(len(years), dtype="float64")
    differs = years != to_year
    if not differs.any():
        return factors
    table = load_cpi_u_rs()
    needed = sorted({*np.unique(years[differs]).tolist(), to_year})
    missing = [y for y in needed if y not in table.index]
    if missing:
        raise DollarsYearError(
            f"scorecard/data/{_TABLE} has no verified CPI-U-RS value for {missing}; it covers "
            f"{_span(table)}. Pass dollars_year equal to the survey year (no conversion), or add the "
            "published annual average to the table."
        )
    factors[differs] = table.loc[to_year] / table.reindex(years[differs]).to_numpy()
    return factors


def to_constant_dollars(
    values: Sequence[float] | np.ndarray | pd.Series,
    from_year: int | Sequence[int] | np.ndarray,
    to_year: int,
) -> np.ndarray:
    """Express dollar amounts of ``from_year`` in dollars of ``to_year``.

    Parameters
    ----------
    values : array-like of float
        Dollar amounts (NaN stays NaN).
    from_year : int or array-like of int
        Year of the dollars of each value (a scalar applies to all).
    to_year : int
        Year of the constant dollars wanted.

    Returns
    -------
    numpy.ndarray
        float64 amounts in ``to_year`` dollars.

    Examples
    --------
    >>> table = load_cpi_u_rs()
    >>> a, b = (int(y) for y in table.index[-2:])
    >>> out = to_constant_dollars([1000.0, np.nan], a, b)
    >>> bool(np.isclose(out[0], 1000.0 * table[b] / table[a])), bool(np.isnan(out[1]))
    (True, True)
    """
    amounts = np.asarray(values, dtype="float64")
    years = np.broadcast_to(np.asarray(from_year, dtype="int64"), amounts.shape)
    return amounts * cpi_ratio(years.ravel(), to_year).reshape(amounts.shape)


def _span(table: pd.Series) -> str:
    if table.empty:
        return "no years"
    return f"{int(table.index.min())}-{int(table.index.max())}"
