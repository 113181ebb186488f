"""The harmonized person schema every source is mapped to.

One row per person (or, for housing-only files, one row per housing unit).
The schema is data: :data:`COLUMNS` lists each column with its dtype and, for
categoricals, its ordered categories. Readers build frames with
:func:`empty_frame` / :func:`coerce`, and indicators see only these names.

Examples
--------
>>> COLUMNS["english"].categories
('only', 'very_well', 'well', 'not_well', 'not_at_all')
>>> sorted(REQUIRED)[:3]
['household_id', 'puma', 'puma_vintage']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scorecard.errors import MissingColumnsError, UnknownCodeError

__all__ = [
    "Column",
    "COLUMNS",
    "REQUIRED",
    "WEIGHT_COLUMNS",
    "DESIGN_COLUMNS",
    "N_REPLICATES",
    "coerce",
    "example_frame",
]

#: Number of ACS successive-difference replicate weights.
N_REPLICATES = 80


@dataclass(frozen=True, slots=True)
class Column:
    """One harmonized column: its name, dtype, categories and meaning."""

    name: str
    dtype: str  # "category", "Int16", "Int32", "float64", "boolean", "string"
    description: str
    categories: tuple[str, ...] = ()

    def pandas_dtype(self):
        """The pandas dtype used to store the column."""
        if self.dtype == "category":
            return pd.CategoricalDtype(list(self.categories), ordered=False)
        return self.dtype


_C = Column
COLUMNS: dict[str, Column] = {
    c.name: c
    for c in [
        _C("survey_year", "Int16", "ACS/IPUMS survey (data) year; for 5-year files the last year"),
        _C("state", "string", "2-digit state FIPS code, zero-padded ('53')"),
        _C("puma", "string", "5-digit PUMA code, zero-padded ('11601')"),
        _C("puma_vintage", "Int16", "Census decade whose PUMA boundaries `puma` uses: 2000, 2010, 2020"),
        _C("household_id", "string", "household identifier, unique within survey_year"),
        _C("person_id", "Int16", "person number within the household (PUMS SPORDER, IPUMS PERNUM)"),
        _C("is_householder", "boolean", "person is the reference person of an occupied housing unit"),
        _C("age", "Int16", "age in years"),
        _C("sex", "category", "sex", ("male", "female")),
        _C("nativity", "category", "born in the US (or abroad to US parents) or not", ("native", "foreign_born")),
        _C(
            "citizenship",
            "category",
            "citizenship status",
            ("born_citizen", "naturalized", "not_citizen"),
        ),
        _C("year_of_entry", "Int16", "year the person came to live in the US; <NA> for the native-born"),
        _C(
            "english",
            "category",
            "ability to speak English; 'only' = speaks only English at home; <NA> under age 5",
            ("only", "very_well", "well", "not_well", "not_at_all"),
        ),
        _C("poverty_ratio", "float64", "income-to-poverty ratio (PUMS POVPIP/100); NaN outside the poverty universe"),
        _C("person_income", "float64", "total personal income, constant dollars"),
        _C("earnings", "float64", "personal earnings, constant dollars"),
        _C("household_income", "float64", "household income, constant dollars; NaN in group quarters and vacant units"),
        _C("full_time_year_round", "boolean", "worked 35+ hours a week and 50-52 weeks last year"),
        _C(
            "tenure",
            "category",
            "tenure of the housing unit; <NA> in group quarters and vacant units",
            ("owned_mortgage", "owned_free", "rented", "no_rent"),
        ),
        _C("person_weight", "float64", "person full-sample weight (PWGTP, PERWT)"),
        _C("household_weight", "float64", "household full-sample weight (WGTP, HHWT)"),
        _C("variance_strata", "Int64", "design stratum for linearized variance (IPUMS STRATA)"),
        _C("variance_cluster", "Int64", "design cluster (PSU) for linearized variance (IPUMS CLUSTER)"),
    ]
}

#: Columns every Microdata must have.
REQUIRED = frozenset({"survey_year", "state", "puma", "puma_vintage", "household_id"})
#: Full-sample weight columns; a Microdata has at least one of them.
WEIGHT_COLUMNS = ("person_weight", "household_weight")
#: Columns that describe a strata/cluster design instead of replicate weights.
DESIGN_COLUMNS = ("variance_strata", "variance_cluster")


def coerce(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Cast every harmonized column of ``frame`` to its schema dtype.

    Columns that are not in the schema are kept unchanged (researchers' extra
    columns). Categorical columns must hold only schema categories or missing
    values; anything else raises :class:`UnknownCodeError` naming the values.

    Parameters
    ----------
    frame : pandas.DataFrame
        Frame with harmonized column names.
    source : str
        Name used in error messages (a file name or ``"frame"``).

    Returns
    -------
    pandas.DataFrame
        A new frame with schema dtypes.

    Examples
    --------
    >>> out = coerce(pd.DataFrame({"english": ["only", None], "age": [30, 3]}), source="frame")
    >>> out.dtypes.astype(str).tolist()
    ['category', 'Int16']
    >>> coerce(pd.DataFrame({"english": ["fluent"]}), source="frame")
    Traceback (most recent call last):
    ...
    scorecard.errors.UnknownCodeError: frame: column english has unknown codes ['fluent'] (rows 0); expected one of ['only', 'very_well', 'well', 'not_well', 'not_at_all']. Map source codes to the harmonized categories.
    """
    out = {}
    for name in frame.columns:
        spec = COLUMNS.get(name)
        values = frame[name]
        if spec is None:
            out[name] = values
        elif spec.dtype == "category":
            out[name] = _as_category(values, spec, source)
        elif spec.dtype == "string":
            out[name] = values.astype("string")
        else:
            out[name] = _as_numeric(values, spec, source)
    return pd.DataFrame(out, index=frame.index)


def _as_category(values: pd.Series, spec: Column, source: str) -> pd.Series:
    dtype = spec.pandas_dtype()
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == list(spec.categories):
        return values
    as_object = values.astype(object)
    present = as_object.notna().to_numpy()
    known = as_object.isin(spec.categories).to_numpy()
    bad = present & ~known
    if bad.any():
        positions = np.flatnonzero(bad)
        raise UnknownCodeError(
            source,
            spec.name,
            pd.unique(as_object.to_numpy()[positions]).tolist(),
            rows=positions[:5].tolist(),
            allowed=list(spec.categories),
            hint="Map source codes to the harmonized categories.",
        )
    return pd.Series(pd.Categorical(as_object, dtype=dtype), index=values.index, name=spec.name)


def _as_numeric(values: pd.Series, spec: Column, source: str) -> pd.Series:
    if spec.dtype == "boolean":
        return values.astype("boolean")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy() & values.notna().to_numpy()
    if bad.any():
        positions = np.flatnonzero(bad)
        raise UnknownCodeError(
            source,
            spec.name,
            pd.unique(values.to_numpy()[positions]).tolist(),
            rows=positions[:5].tolist(),
            allowed=["numbers"],
            hint="The column must be numeric.",
        )
    if spec.dtype == "float64":
        return numbers.astype("float64")
    return numbers.astype(spec.dtype)


def require(frame: pd.DataFrame, columns, *, source: str, hint: str) -> None:
    """Raise :class:`MissingColumnsError` unless ``frame`` has ``columns``.

    Examples
    --------
    >>> require(pd.DataFrame({"age": [1]}), ["age", "sex"], source="frame", hint="Map 'sex'.")
    Traceback (most recent call last):
    ...
    scorecard.errors.MissingColumnsError: frame is missing columns ['sex']. Map 'sex'.
    """
    missing = set(columns) - set(frame.columns)
    if missing:
        raise MissingColumnsError(source, missing, hint)


def example_frame() -> pd.DataFrame:
    """A small frame covering every harmonized category, for probing definitions.

    Indicator definitions are evaluated on it when they are registered, so a
    broken universe fails then, not later during estimation.

    Examples
    --------
    >>> frame = example_frame()
    >>> set(COLUMNS) <= set(frame.columns)
    True
    """
    rows = 12
    rng = np.random.default_rng(0)
    data: dict[str, object] = {}
    for name, spec in COLUMNS.items():
        if spec.dtype == "category":
            cats = list(spec.categories) + [None]
            data[name] = [cats[i % len(cats)] for i in range(rows)]
        elif spec.dtype == "string":
            data[name] = [f"{i:05d}" for i in range(rows)]
        elif spec.dtype == "boolean":
            data[name] = [bool(i % 2) for i in range(rows)]
        elif spec.dtype == "float64":
            data[name] = rng.uniform(0, 5, rows) * (1000 if "income" in name or name == "earnings" else 1)
        else:
            data[name] = list(range(rows))
    data["age"] = [0, 3, 5, 17, 18, 25, 40, 64, 65, 80, 30, 50]
    data["survey_year"] = [2010] * 6 + [2020] * 6
    data["year_of_entry"] = [None, 1990, 2005, 2008, 2019, 1975, None, 2001, 1960, 2015, 2012, None]
    return coerce(pd.DataFrame(data), source="example_frame")
