"""Read Census Data API table responses and their LEGEND (label) files.

A ``get=group(TABLE)`` call to the Census Data API returns, for each
geography, the estimate ``<TABLE>_<line>E`` and margin of error ``..M`` of
every line, annotation columns ``..EA`` / ``..MA``, ``GEO_ID``, ``NAME`` and the
geography columns (``state``, ``place``, ``county``, ...). It comes as JSON (an
array of arrays whose first row is the header) or saved as CSV. The labels
come separately: a LEGEND CSV (``VARIABLE, TYPE, LABEL, GROUP``) or the API's
``groups/<TABLE>.json`` answer (``{"variables": {name: {"label": ...}}}``).

:func:`read_acs_table` turns one response into an :class:`AcsTable`: a long
frame of cells (place × line × column) with numeric ``estimate`` and ``moe``
and the *reason* of every value that is not a number, and the parsed legend.
Special values never become numbers:

=====================  ===================================================================
``-555555555`` (MOE)   controlled estimate: MOE 0
``-666666666``         too few sample observations to compute the estimate
``-999999999``         not displayed: too few sample cases in the geography
``-888888888``         not applicable or not available
``-222222222`` (MOE)   too few sample observations to compute the MOE
``-333333333`` (MOE)   median in an open-ended interval: no MOE
``null``, ``N``,       (annotations) the same meanings; ``*****`` on an MOE is "controlled"
``(X)``, ``**``, ...
``250,000+``           median in the open upper (or ``-`` lower) interval: missing
=====================  ===================================================================

Codes may carry a trailing ``.0`` (``-999999999.0``). When an annotation
column (``EA``/``MA``) holds a value, it replaces the number, as the Census
Bureau's API notes prescribe.

Examples
--------
>>> import pandas as pd
>>> data = pd.DataFrame({"NAME": ["Washington"], "B05003_001E": ["7294336"], "B05003_001M": ["-555555555"],
...                      "state": ["53"]})
>>> legend = {"B05003_001E": "Estimate!!Total"}
>>> t = read_acs_table(data, legend=legend, year=2016, survey="acs1")
>>> t.table, t.year, t.geography
('B05003', 2016, ('state',))
>>> t.cells[["place", "place_name", "line", "estimate", "moe"]].to_dict("records")
[{'place': '53', 'place_name': 'Washington', 'line': 'Total', 'estimate': 7294336.0, 'moe': 0.0}]
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.errors import (
    MismatchedSourcesError,
    MissingColumnsError,
    OutOfRangeError,
    TableError,
    UnreadableFileError,
)
from scorecard.ranges import valid_ranges

__all__ = ["AcsTable", "read_acs_table", "read_legend", "parse_values", "normalize_label", "GEOGRAPHY_LEVELS"]

#: Geography columns of API responses, most detailed level first; a GEOID is the
#: concatenation of a level's columns (``state`` + ``place`` = ``"5363000"``).
GEOGRAPHY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("state", "county", "tract", "block group"),
    ("state", "county", "tract"),
    ("state", "county", "county subdivision"),
    ("state", "place"),
    ("state", "public use microdata area"),
    ("state", "congressional district"),
    ("state", "county"),
    ("state",),
    ("metropolitan statistical area/micropolitan statistical area",),
    ("zip code tabulation area",),
    ("us",),
)
_GEO_COLUMNS = {c for level in GEOGRAPHY_LEVELS for c in level}
_NON_LINE_COLUMNS = _GEO_COLUMNS | {"GEO_ID", "NAME", "ucgid"}

_VARIABLE = re.compile(r"^(?P<stem>(?P<table>[A-Z]+\d+[A-Z0-9]*?)_(?:(?P<column>C\d+)_)?\d+P?)(?P<kind>E|M|EA|MA)$")
_KIND_TOKENS = ("Estimate", "Margin of Error", "Percent", "Percent Estimate", "Percent Margin of Error")

# Numeric special values (the integer part) -> reason; MOE code -555555555 means "controlled" (MOE 0).
_CODES = {
    -111111111: "code -111111111: no value (the median or statistic cannot be computed)",
    -222222222: "code -222222222: too few sample observations to compute the margin of error",
    -333333333: "code -333333333: the median falls in an open-ended interval (no margin of error)",
    -444444444: "code -444444444: no value",
    -555555555: "code -555555555: controlled estimate",
    -666666666: "code -666666666: too few sample observations to compute the estimate",
    -888888888: "code -888888888: not applicable or not available",
    -999999999: "code -999999999: not displayed, too few sample cases in this geography",
}
_CONTROLLED = -555555555
# Annotation / text values -> reason ("" = controlled, MOE 0).
_TEXT = {
    "null": "null: no value published (suppressed or not tabulated for this geography)",
    "": "empty cell: no value published",
    "N": "'N': not displayed, too few sample cases in this geography",
    "(X)": "'(X)': not applicable or not available",
    "-": "'-': too few sample observations to compute the estimate",
    "**": "'**': too few sample observations to compute the margin of error",
    "***": "'***': the median falls in an open-ended interval (no margin of error)",
    "*****": "'*****': controlled estimate",
}


def normalize_label(label: str) -> str:
    """Label text as it is compared: components stripped of spaces and a trailing ``:``, case-folded.

    The Census Bureau added colons to parent lines in 2019 (``Total:!!Native:``)
    and changes capitalization now and then; neither changes the meaning.

    Examples
    --------
    >>> normalize_label("Total:!!Foreign born: ")
    'total!!foreign born'
    """
    return "!!".join(part.strip().rstrip(":").strip() for part in str(label).split("!!")).casefold()


def parse_values(values: pd.Series, *, moe: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Numbers and reasons of a column of API values (strings).

    Parameters
    ----------
    values : pandas.Series
        Cells as published (strings, possibly ``None``).
    moe : bool, default=False
        The cells are margins of error: the code ``-555555555`` (or ``*****``)
        means "controlled" and becomes 0.

    Returns
    -------
    numbers : numpy.ndarray of float
        NaN wherever the cell is not a usable number.
    reasons : numpy.ndarray of str
        Empty where the number is usable, else which code or text it was.

    Examples
    --------
    >>> import pandas as pd
    >>> n, r = parse_values(pd.Series(["12.5", "-666666666.0", "null", "250,000+"]))
    >>> n.tolist()
    [12.5, nan, nan, nan]
    >>> str(r[1]), str(r[3])
    ('code -666666666: too few sample observations to compute the estimate', "'250,000+': the median falls in an open-ended interval")
    >>> parse_values(pd.Series(["-555555555", "*****"]), moe=True)[0].tolist()
    [0.0, 0.0]
    """
    text = values.astype("string").fillna("null").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    special = np.isnan(numbers) | (numbers <= -111111111)
    reasons = np.full(len(text), "", dtype=object)
    if special.any():
        lookup = {value: _reason(value, moe=moe) for value in pd.unique(text[special])}
        keys = text[special].to_numpy(dtype=object)
        reasons[special] = pd.Series(keys).map({k: r for k, (r, _) in lookup.items()}).to_numpy(dtype=object)
        numbers[special] = pd.Series(keys).map({k: n for k, (_, n) in lookup.items()}).to_numpy(dtype=float)
    return numbers, reasons.astype(str)


def _reason(value: str, *, moe: bool) -> tuple[str, float]:
    """(reason, number) of one special value; reason "" means usable (controlled MOE 0)."""
    try:
        code = int(float(value))
    except ValueError:
        code = None
    if code is not None and code in _CODES:
        if moe and code == _CONTROLLED:
            return "", 0.0
        return _CODES[code], np.nan
    if value in _TEXT:
        if moe and value == "*****":
            return "", 0.0
        return _TEXT[value], np.nan
    if value[-1:] in "+-" and re.fullmatch(r"[\d,.]+[+-]", value):
        return f"{value!r}: the median falls in an open-ended interval", np.nan
    if code is not None:
        return f"code {code}: special value, not an estimate", np.nan
    return f"{value!r}: not a number", np.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class AcsTable:
    """One published table read from one API response.

    Attributes
    ----------
    table : str
        Table id (``"S0502"``).
    year : int
        ACS data year.
    survey : str
        ``"acs1"`` or ``"acs5"``.
    geography : tuple of str
        The geography columns the GEOIDs were built from.
    cells : pandas.DataFrame
        One row per place × variable stem: ``place`` (GEOID), ``place_name``,
        ``stem`` (``S0502_C02_002``), ``column`` (column header, ``""`` for
        detailed tables), ``line`` (label path), ``estimate``, ``moe``,
        ``estimate_reason``, ``moe_reason``.
    source : str
        File name or description.
    """

    table: str
    year: int
    survey: str
    geography: tuple[str, ...]
    cells: pd.DataFrame = field(repr=False)
    source: str = ""


def read_legend(legend, *, source: str = "legend") -> pd.DataFrame:
    """Parse labels into ``stem, column, line`` for the estimate variables.

    Parameters
    ----------
    legend : path, DataFrame or mapping
        A LEGEND CSV (``VARIABLE, TYPE, LABEL, GROUP``; ``.gz`` is fine), the API's
        ``groups/<TABLE>.json`` (``{"variables": {...}}``), a frame with
        ``VARIABLE`` and ``LABEL`` columns, or a mapping ``{variable: label}``.

    Returns
    -------
    pandas.DataFrame
        ``variable, stem, table, column, line``: ``column`` is the subject-table
        column header (``"Foreign born"``; ``""`` in detailed tables) and ``line``
        the label path below it (``"Total population"``). Estimate variables only.

    Examples
    --------
    >>> read_legend({"S0502_C02_002E": "Foreign born; Entered 2010 or later!!Estimate!!CITIZENSHIP!!Naturalized citizen",
    ...              "S0502_C02_002M": "Margin of Error!!Foreign born; Entered 2010 or later MOE!!CITIZENSHIP!!Naturalized citizen",
    ...              "S0502_C01_001E": "Estimate!!Total!!Foreign-born population"})[["stem", "column", "line"]].values.tolist()
    [['S0502_C02_002', 'Foreign born; Entered 2010 or later', 'CITIZENSHIP!!Naturalized citizen'], ['S0502_C01_001', 'Total', 'Foreign-born population']]
    """
    frame = _legend_frame(legend, source)
    names = frame["VARIABLE"].astype(str)
    parts = names.str.extract(_VARIABLE)
    keep = parts["kind"].eq("E").to_numpy()
    frame, parts = frame[keep], parts[keep]
    rows = [_split_label(label, column_id, source, variable) for variable, label, column_id in
            zip(frame["VARIABLE"], frame["LABEL"], parts["column"])]
    out = pd.DataFrame(rows, columns=["column", "line"], index=frame.index)
    out.insert(0, "table", parts["table"])
    out.insert(0, "stem", parts["stem"])
    out.insert(0, "variable", frame["VARIABLE"].astype(str))
    first_parts = frame["LABEL"].astype(str).str.split("!!").str[:2].str.join("!!")
    out["percent"] = (first_parts.str.contains(r"(?:^|!!)\s*Percent", regex=True) | parts["stem"].str.endswith("P")).to_numpy()
    return out.reset_index(drop=True)


def _legend_frame(legend, source: str) -> pd.DataFrame:
    if isinstance(legend, pd.DataFrame):
        frame = legend
    elif isinstance(legend, Mapping):
        variables = legend.get("variables", legend)
        frame = pd.DataFrame(
            {"VARIABLE": list(variables),
             "LABEL": [v["label"] if isinstance(v, Mapping) else v for v in variables.values()]}
        )
    else:
        path = Path(legend)
        text = _read_text(path)
        if text.lstrip().startswith("{"):
            return _legend_frame(json.loads(text), str(path))
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        source = path.name
    missing = {"VARIABLE", "LABEL"} - set(frame.columns)
    if missing:
        raise MissingColumnsError(source, missing, "A LEGEND file has the columns VARIABLE, TYPE, LABEL, GROUP.")
    return frame


def _split_label(label: str, column_id, source: str, variable: str) -> tuple[str, str]:
    parts = [p.strip() for p in str(label).split("!!")]
    index = next((i for i, p in enumerate(parts[:2]) if p.rstrip(":") in _KIND_TOKENS), None)
    if index is None:
        raise TableError(
            f"{source}: label {label!r} of {variable} names neither 'Estimate' nor 'Percent' in its first two parts; "
            "is this a Census API LEGEND file?"
        )
    if index == 1:  # 2012-2017 subject tables: "<column>!!Estimate!!<line>"
        return parts[0], "!!".join(parts[2:])
    if isinstance(column_id, str) and len(parts) > 2:  # 2018+: "Estimate!!<column>!!<line>"
        return re.sub(r"\s+MOE$", "", parts[1]), "!!".join(parts[2:])
    return "", "!!".join(parts[1:])


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise UnreadableFileError(
                f"{path}: the gzip file is truncated or damaged ({exc}). Download it again."
            ) from None
    if not raw.strip():
        raise UnreadableFileError(f"{path}: the file is empty.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnreadableFileError(
            f"{path}: line {line} holds bytes that are not UTF-8 ({raw[exc.start:exc.start + 4]!r}); Census API and "
            "data.census.gov files are UTF-8. Save the file as UTF-8 or download it again."
        ) from None


class _Raw:
    """Cells of a response as one object array (thousands of string columns are slow as a DataFrame)."""

    def __init__(self, header: list[str], values: np.ndarray) -> None:
        self.columns, self.values = header, values
        self._position = {name: i for i, name in enumerate(header)}
        self.index = pd.RangeIndex(values.shape[0])

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, name: str) -> pd.Series:
        return pd.Series(self.values[:, self._position[name]], index=self.index, dtype=object).astype(str)

    def block(self, names: list[str]) -> np.ndarray:
        """Columns ``names`` as an object array; absent columns are ``"null"``."""
        out = np.full((len(self), len(names)), "null", dtype=object)
        have = [(j, self._position[n]) for j, n in enumerate(names) if n in self._position]
        if have:
            target, source = zip(*have)
            out[:, list(target)] = self.values[:, list(source)]
        return out


def _data_frame(data, source: str) -> _Raw:
    """Strings of an API response (JSON array of arrays or CSV); identical duplicate columns dropped."""
    if isinstance(data, pd.DataFrame):
        header = [str(c) for c in data.columns]
        values = data.astype(object).where(data.notna(), "null").to_numpy(dtype=object)
        return _dedupe(header, values.astype(str).astype(object), source)
    if isinstance(data, list):
        rows = data
    else:
        text = _read_text(Path(data))
        if text.lstrip().startswith("["):
            try:
                rows = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UnreadableFileError(f"{source}: not valid JSON ({exc}).") from exc
        else:
            rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 1 or not all(isinstance(r, list) for r in rows):
        raise UnreadableFileError(f"{source}: expected a header row and data rows (the Census API's array of arrays).")
    header = [str(c) for c in rows[0]]
    body = [["null" if v is None else str(v) for v in r] for r in rows[1:]]
    if any(len(r) != len(header) for r in body):
        raise UnreadableFileError(f"{source}: rows have a different number of cells than the header ({len(header)}).")
    values = np.empty((len(body), len(header)), dtype=object)
    if body:
        values[:] = body
    return _dedupe(header, values, source)


def _dedupe(header: list[str], values: np.ndarray, source: str) -> _Raw:
    # 2015-2016 subject-table files repeat every MOE column; keep one copy if the copies agree.
    first: dict[str, int] = {}
    keep = []
    for position, name in enumerate(header):
        if name in first:
            if not np.array_equal(values[:, position], values[:, first[name]]):
                raise TableError(f"{source}: column {name} appears twice with different values; which one is right?")
        else:
            first[name] = position
            keep.append(position)
    return _Raw([header[p] for p in keep], values[:, keep])


def _geoids(frame: _Raw, source: str) -> tuple[pd.Series, tuple[str, ...]]:
    present = [c for c in frame.columns if c in _GEO_COLUMNS]
    level = next((lvl for lvl in GEOGRAPHY_LEVELS if set(lvl) == set(present)), None)
    if level is None and present:
        near = min(GEOGRAPHY_LEVELS, key=lambda lvl: len(set(lvl) ^ set(present)))
        raise MissingColumnsError(
            source, set(near) - set(present),
            f"Geography columns {present} do not form a Census geography; a GEOID needs {list(near)}.",
        )
    if level is None:
        if "GEO_ID" in frame.columns and frame["GEO_ID"].str.contains("US").all():
            return frame["GEO_ID"].str.split("US").str[-1].rename("place"), ("GEO_ID",)
        raise MissingColumnsError(
            source, {"state"},
            "No geography column (state, place, county, ...) or GEO_ID: save the API response with its "
            "geography columns (the 'for=' part of the call adds them).",
        )
    geoid = frame[level[0]]
    for column in level[1:]:
        geoid = geoid + frame[column]
    if level == ("us",):
        geoid = pd.Series("1", index=frame.index) if len(frame) else geoid
    return geoid.rename("place"), level


def read_acs_table(
    data,
    *,
    legend=None,
    year: int | None = None,
    survey: str | None = None,
    table: str | None = None,
) -> AcsTable:
    """Read one Census Data API table response.

    Parameters
    ----------
    data : path, DataFrame or list of lists
        The response: a CSV (``.csv`` / ``.csv.gz``) or JSON file, the parsed JSON
        array of arrays, or a frame of its cells.
    legend : path, DataFrame or mapping, optional
        Labels (see :func:`read_legend`). When ``data`` is a path and this is
        omitted, a sibling ``*_LEGEND.csv[.gz]`` (for ``*_DATA.*``) or
        ``*_LEGEND.json`` / ``*.labels.json`` is used.
    year : int, optional
        ACS data year; taken from the file's path (``.../2016/...``) when omitted.
    survey : {"acs1", "acs5"}, optional
        Taken from the file's path (``acs1``/``acs5``) when omitted.
    table : str, optional
        The table the file must hold; a file of another table raises
        :class:`~scorecard.errors.TableError`.

    Returns
    -------
    AcsTable

    Raises
    ------
    TableError
        A file of another table, estimate columns of several tables, a legend
        of another table, an MOE column without estimate.
    MissingColumnsError
        No geography column.
    """
    source = data.name if isinstance(data, Path) else (Path(data).name if isinstance(data, str) else "table frame")
    path = Path(data) if isinstance(data, str | Path) else None
    frame = _data_frame(data, source)
    year = year if year is not None else _from_path(path, r"(?<!\d)((?:19|20)\d\d)(?!\d)", source, "year")
    survey = survey or _from_path(path, r"(acs[135])", source, "survey")
    survey = str(survey).lower()
    if survey not in {"acs1", "acs3", "acs5"}:
        raise TableError(f"{source}: survey must be 'acs1' or 'acs5'. Got {survey!r} instead.")

    variables = pd.Series([c for c in frame.columns if c not in _NON_LINE_COLUMNS], dtype=object)
    parts = variables.str.extract(_VARIABLE)
    unknown = variables[parts["stem"].isna()]
    if len(unknown):
        raise TableError(
            f"{source}: columns {unknown.tolist()[:5]} are neither table variables (<TABLE>_<line>E/M/EA/MA) nor "
            "geography columns; is this a Census Data API table response?"
        )
    tables = sorted(parts["table"].unique())
    if not tables:
        raise TableError(f"{source}: no table variables (<TABLE>_<line>E) in the file.")
    if len(tables) > 1:
        raise TableError(f"{source}: holds variables of several tables {tables}; read one table per file.")
    found = tables[0]
    if table is not None and found != table:
        raise TableError(f"{source}: expected table {table}, found table {found}. Is this the right file?")

    if legend is None and path is not None:
        legend = _sibling_legend(path, source)
    labels = read_legend(legend, source=f"legend of {source}")
    other = sorted(set(labels["table"].dropna()) - {found})
    if other:
        raise TableError(f"{source}: the legend is of table {other[0]}, the data of table {found}.")

    geoid, level = _geoids(frame, source)
    if "GEO_ID" in frame.columns and level != ("GEO_ID",) and level != ("us",):
        suffix = frame["GEO_ID"].str.split("US").str[-1]
        if not (suffix == geoid).all():
            bad = frame.loc[suffix != geoid, "GEO_ID"].tolist()[:3]
            raise TableError(f"{source}: GEO_ID {bad} does not match the geography columns {list(level)}.")
    if geoid.duplicated().any():
        raise TableError(f"{source}: places {geoid[geoid.duplicated()].unique().tolist()[:5]} appear more than once.")

    cells = _cells(frame, parts.set_index(variables.to_numpy()), geoid, source)
    _check_published_ranges(cells, set(labels.loc[labels["percent"], "stem"]), source)
    cells = cells.merge(labels[["stem", "column", "line"]], on="stem", how="left")
    unlabelled = cells.loc[cells["line"].isna(), "stem"].unique()
    if len(unlabelled):
        raise TableError(
            f"{source}: variables {[s + 'E' for s in unlabelled[:5]]} are not in the legend; use the LEGEND of the "
            f"same table and year ({found}, {year})."
        )
    return AcsTable(table=found, year=int(year), survey=survey, geography=level, cells=cells, source=source)


def _check_published_ranges(cells: pd.DataFrame, percent_stems: set[str], source: str) -> None:
    """Percents within 0..100 and margins of error >= 0 (special codes are already NaN or 0), as valid_ranges.csv says."""
    rules = valid_ranges().loc["published"]
    percent = cells["stem"].isin(percent_stems).to_numpy().copy()
    # Profile tables (DP02, ...) publish the base count of a universe line in its percent column
    # (DP02_0001PE = DP02_0001E = total households): such a cell equals its count and is no percent.
    stems = cells["stem"].astype(str)
    counts = pd.Series(cells["estimate"].to_numpy(dtype="float64"), index=pd.MultiIndex.from_arrays([stems, cells["place"]]))
    counts = counts[~counts.index.duplicated()]
    base = pd.MultiIndex.from_arrays([stems.str.replace(r"P$", "", regex=True), cells["place"]])
    count_of_line = counts.reindex(base).to_numpy()
    percent &= ~(stems.str.endswith("P").to_numpy() & (count_of_line == cells["estimate"].to_numpy(dtype="float64")))
    checks = [
        ("estimate", "percent", percent),
        ("moe", "moe", np.ones(len(cells), dtype=bool)),
    ]
    for figure, kind, applies in checks:
        values = cells[figure].to_numpy(dtype="float64")
        low, high = rules.loc[kind, "minimum"], rules.loc[kind, "maximum"]
        bad = applies & ~np.isnan(values) & ((values < low) | ((values > high) if not np.isnan(high) else False))
        if bad.any():
            rows = np.flatnonzero(bad)
            shown = ", ".join(
                f"{cells['stem'].iat[r]}{'E' if figure == 'estimate' else 'M'} = {values[r]:g} for place {cells['place'].iat[r]}"
                for r in rows[:3]
            )
            raise OutOfRangeError(
                f"{source}: {len(rows)} {'margins of error' if figure == 'moe' else 'estimates'} outside "
                f"{low:g}..{'' if np.isnan(high) else f'{high:g}'} ({shown}). {rules.loc[kind, 'why']}; "
                "was the file edited? Download it again."
            )


def _cells(frame: _Raw, parts: pd.DataFrame, geoid: pd.Series, source: str) -> pd.DataFrame:
    """Long cells (place x stem): a reshape of the E/M/EA/MA column blocks, no per-cell loop."""
    stems = pd.unique(parts["stem"])
    have = set(parts.index)
    no_estimate = [s for s in stems if f"{s}E" not in have]
    if no_estimate:
        raise TableError(f"{source}: {[s + 'M' for s in no_estimate[:5]]} have no estimate column "
                         f"({[s + 'E' for s in no_estimate[:5]]}).")
    n_places, n_stems = len(frame), len(stems)

    def block(kind: str) -> pd.Series:
        return pd.Series(frame.block([f"{s}{kind}" for s in stems]).ravel(), dtype=object)

    estimate, estimate_reason = _with_annotation(block("E"), block("EA"), moe=False)
    moe, moe_reason = _with_annotation(block("M"), block("MA"), moe=True)
    name = frame["NAME"] if "NAME" in frame.columns else pd.Series("", index=frame.index)
    return pd.DataFrame({
        "place": np.repeat(geoid.astype(str).to_numpy(), n_stems),
        "place_name": np.repeat(name.astype(str).to_numpy(), n_stems),
        "stem": np.tile(np.asarray(stems, dtype=object), n_places),
        "estimate": estimate, "moe": moe, "estimate_reason": estimate_reason, "moe_reason": moe_reason,
    })


def _with_annotation(values: pd.Series, annotation: pd.Series, *, moe: bool) -> tuple[np.ndarray, np.ndarray]:
    numbers, reasons = parse_values(values, moe=moe)
    reasons = reasons.astype(object)  # a '<U1' array would truncate the annotation's reason
    note = annotation.astype("string").fillna("null").str.strip()
    active = ~note.isin(["null", ""]).to_numpy()
    if active.any():
        a_numbers, a_reasons = parse_values(note[active], moe=moe)
        numbers[active], reasons[active] = a_numbers, a_reasons
    return numbers, reasons


def _from_path(path: Path | None, pattern: str, source: str, what: str):
    if path is not None:
        for part in [path.name, *reversed(path.parent.parts)]:
            match = re.search(pattern, part)
            if match:
                return int(match.group(1)) if what == "year" else match.group(1)
    raise TableError(f"{source}: cannot tell the {what} from the file's path; pass {what}=... .")


def _sibling_legend(path: Path, source: str) -> Path:
    name = path.name
    candidates = []
    if "_DATA" in name:
        stem = name.split("_DATA")[0]
        candidates += [path.with_name(f"{stem}_LEGEND{ext}") for ext in (".csv.gz", ".csv", ".json")]
    group = re.match(r"(.*GROUP_[A-Za-z0-9]+)", name)
    if group:  # fetch_acs_table: one legend per table and year, beside every geography's data
        candidates += [path.with_name(f"{group.group(1)}_LEGEND{ext}") for ext in (".json", ".csv.gz", ".csv")]
    base = re.sub(r"(\.csv|\.json)(\.gz)?$", "", name)
    candidates += [path.with_name(f"{base}.labels.json")]
    candidates = list(dict.fromkeys(candidates))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise TableError(
        f"{source}: no legend found (looked for {[c.name for c in candidates]}). Lines are matched by their labels, "
        "so pass legend=... (a LEGEND CSV or the API's groups/<TABLE>.json)."
    )


def _check_same_survey(tables: list[AcsTable]) -> str:
    surveys = sorted({t.survey for t in tables})
    if len(surveys) > 1:
        raise MismatchedSourcesError(f"Tables of different surveys {surveys} cannot share one Dataset; read them apart.")
    return surveys[0]
