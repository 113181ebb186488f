"""Which published table supports which indicator and cohort, kept as data.

The catalog is four small CSV files in ``scorecard/tables/catalog/``:

``tables.csv``
    ``table, priority, title, supports``: the tables the route reads. When two
    tables give the same figure, a published figure beats a derived one, then
    the lower ``priority`` wins.
``columns.csv``
    ``table, column, cohort``: subject-table column headers (as the LEGEND
    labels spell them) and the cohort each one is (``S0502`` "Foreign born;
    Entered 2000 to 2009" is cohort ``"2000-2009"``). A blank cohort means the
    column is used only where a line names it.
``lines.csv``
    ``table, indicator, cohort, column, role, term, sign, unit, label, note``:
    one row per LEGEND label. ``label`` is the label text below the
    "Estimate" part and the column header (``{year}`` stands for the data year,
    as in "IN {year} INFLATION-ADJUSTED DOLLARS"). ``role`` is

    - ``value``: the published figure itself (``unit`` ``percent`` is divided by 100);
    - ``complement``: 100 minus a published percentage (same MOE);
    - ``numerator`` / ``denominator``: counts summed (``sign`` -1 subtracts) into
      ``X`` and ``Y``; the estimate is ``X / Y`` (or ``X`` alone when there is no
      denominator), with the ACS approximation MOE formulas;
    - ``universe``: the published count of the universe (``universe_weighted``).

    Rows that share ``table, indicator, cohort, column, role, term`` are
    alternative spellings of one line across years: exactly one must be in a
    year's LEGEND. A blank ``cohort`` means "every cohort column of
    ``columns.csv``"; a blank ``column`` in a detailed table means the table has
    no columns.
``states.csv``
    ``fips, abbreviation, name``: names of states for files without ``NAME``.

Examples
--------
>>> cat = load_catalog()
>>> sorted(cat.lines.loc[cat.lines["table"] == "S0502", "indicator"].unique())[:3]
['above_200pct_poverty', 'english_very_well', 'homeownership']
>>> cohort_coords(["all", "foreign_born", "2000-2009", "2010-", "-1999"])["entry_last"].tolist()
[nan, nan, 2009.0, nan, 1999.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cohorts.labels import cohort_order as labels_order
from cohorts.labels import label_coords
from scorecard.errors import CohortDefinitionError, TableError

__all__ = ["Catalog", "load_catalog", "cohort_coords", "cohort_order", "expand_cohorts", "supported", "ROLES", "UNITS"]

ROLES = ("value", "complement", "numerator", "denominator", "universe")
UNITS = ("count", "percent", "dollars")


@dataclass(frozen=True, slots=True)
class Catalog:
    """The four catalog tables (see the module docstring)."""

    tables: pd.DataFrame
    columns: pd.DataFrame
    lines: pd.DataFrame
    states: pd.DataFrame

    def __post_init__(self) -> None:
        lines = self.lines
        bad_role = sorted(set(lines["role"]) - set(ROLES))
        if bad_role:
            raise TableError(f"catalog lines.csv: roles {bad_role} are unknown; expected one of {list(ROLES)}.")
        bad_unit = sorted(set(lines["unit"]) - set(UNITS))
        if bad_unit:
            raise TableError(f"catalog lines.csv: units {bad_unit} are unknown; expected one of {list(UNITS)}.")
        unknown = sorted(set(lines["table"]) - set(self.tables["table"]))
        if unknown:
            raise TableError(f"catalog lines.csv: tables {unknown} are not in tables.csv.")
        bad_key = sorted(k for k in set(lines["indicator"]) if not k.isidentifier())
        if bad_key:
            raise TableError(f"catalog lines.csv: indicator keys {bad_key} are not identifiers.")
        cohorts = set(lines["cohort"]) | set(self.columns["cohort"])
        cohort_coords(sorted(c for c in cohorts if c))  # raises on a malformed label


def _read(directory: Path | None, name: str, **kwargs) -> pd.DataFrame:
    if directory is None:
        with resources.files("scorecard.tables").joinpath("catalog", name).open("r", encoding="utf-8") as f:
            return pd.read_csv(f, dtype=str, keep_default_na=False, **kwargs)
    return pd.read_csv(Path(directory) / name, dtype=str, keep_default_na=False, **kwargs)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load the catalog (the built-in one, or a copy a user edited).

    Parameters
    ----------
    directory : path, optional
        Folder with ``tables.csv``, ``columns.csv``, ``lines.csv`` and
        ``states.csv``; defaults to the package's own.

    Returns
    -------
    Catalog

    Examples
    --------
    >>> load_catalog().columns.query("table == 'S0502'")["cohort"].tolist()
    ['foreign_born', '2010-', '2000-2009', '-1999']
    """
    directory = Path(directory) if directory is not None else None
    tables = _read(directory, "tables.csv")
    tables["priority"] = tables["priority"].astype(int)
    lines = _read(directory, "lines.csv")
    lines["term"] = lines["term"].astype(int)
    lines["sign"] = lines["sign"].astype(int)
    return Catalog(tables=tables, columns=_read(directory, "columns.csv"), lines=lines,
                   states=_read(directory, "states.csv"))


def cohort_order(labels) -> list[str]:
    """Cohorts in display order (:func:`cohorts.labels.cohort_order`), malformed labels as :class:`TableError`.

    Examples
    --------
    >>> cohort_order(["2010-", "all", "-1999", "foreign_born", "2000-2009"])
    ['all', 'foreign_born', '-1999', '2000-2009', '2010-']
    """
    cohort_coords(list(dict.fromkeys(labels)))  # a malformed label is a TableError here
    return labels_order(labels)


def cohort_coords(labels) -> pd.DataFrame:
    """``cohort_kind``, ``entry_first``, ``entry_last`` of cohort labels.

    Labels are ``"all"``, ``"native"``, ``"foreign_born"`` or an arrival range
    ``"first-last"`` with open ends (``"-1999"``: entered before 2000;
    ``"2010-"``: entered 2010 or later), read by
    :func:`cohorts.labels.parse_cohort_label`; a malformed label raises
    :class:`~scorecard.errors.TableError`.

    Examples
    --------
    >>> cohort_coords(["native", "2010-"]).to_dict("index")
    {'native': {'cohort_kind': 'nativity', 'entry_first': nan, 'entry_last': nan}, '2010-': {'cohort_kind': 'arrival', 'entry_first': 2010.0, 'entry_last': nan}}
    """
    labels = list(labels)
    try:
        coords = label_coords(labels)
    except CohortDefinitionError as err:
        raise TableError(str(err)) from err
    return pd.DataFrame(coords, index=pd.Index(labels, dtype=object), columns=["cohort_kind", "entry_first", "entry_last"])


def supported(catalog: Catalog | None = None) -> pd.DataFrame:
    """Which indicator and cohort each table supports, and how.

    Returns
    -------
    pandas.DataFrame
        ``table, indicator, cohort, method`` (``"published"`` or ``"derived"``).

    Examples
    --------
    >>> s = supported()
    >>> s.query("table == 'S0502' and indicator == 'naturalized'")["cohort"].tolist()
    ['foreign_born', '2010-', '2000-2009', '-1999']
    """
    catalog = catalog or load_catalog()
    lines = catalog.lines[catalog.lines["role"] != "universe"]
    expanded = expand_cohorts(lines, catalog)
    expanded["method"] = np.where(expanded["role"].isin(["value", "complement"]), "published", "derived")
    out = expanded.drop_duplicates(["table", "indicator", "cohort"])[["table", "indicator", "cohort", "method"]]
    return out.reset_index(drop=True)


def expand_cohorts(lines: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Rows with a blank cohort become one row per cohort column of their table."""
    blank = lines["cohort"] == ""
    columns = catalog.columns[catalog.columns["cohort"] != ""].rename(columns={"column": "_column", "cohort": "_cohort"})
    per_column = lines[blank].merge(columns, on="table", how="inner")
    per_column["cohort"], per_column["column"] = per_column["_cohort"], per_column["_column"]
    per_column = per_column.drop(columns=["_cohort", "_column"])
    fixed = lines[~blank]
    # a fixed-cohort row in a subject table without a column names the cohort's own column
    subject = fixed["table"].isin(catalog.columns["table"]) & (fixed["column"] == "")
    if subject.any():
        own = catalog.columns.rename(columns={"column": "_column"})
        merged = fixed[subject].merge(own, on=["table", "cohort"], how="left")
        merged["column"] = merged["_column"].fillna("")
        fixed = pd.concat([fixed[~subject], merged.drop(columns="_column")], ignore_index=True)
    return pd.concat([per_column, fixed], ignore_index=True)
