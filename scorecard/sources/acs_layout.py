"""Where the harmonized ACS PUMS columns come from, vintage by vintage, and how raw values become them.

The layout rules :func:`scorecard.sources.acs_pums.read_acs_pums` relies on:
which source columns (and which alternative per vintage, e.g. ``RELSHIPP`` or
``RELP``) build each harmonized column, how text cells become numbers, how codes
are recoded with the tables in ``scorecard/sources/codes/acs_*.csv``, the survey
year and 1-year / 5-year detection, and the PUMA vintage of each record.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scorecard.errors import DuplicateRecordError, MessageError, MismatchedSourcesError, UnknownCodeError
from scorecard.sources.acs_files import _Member

__all__ = ["ExperimentalWeightsWarning", "SurveyYearError", "PERSON_COLUMNS", "HOUSING_COLUMNS"]

#: Harmonized columns built from the person file (beyond geography, ids and weights).
PERSON_COLUMNS = (
    "person_id",
    "is_householder",
    "age",
    "sex",
    "nativity",
    "citizenship",
    "year_of_entry",
    "english",
    "poverty_ratio",
    "person_income",
    "earnings",
    "full_time_year_round",
)
#: Harmonized columns built from the housing file.
HOUSING_COLUMNS = ("household_income", "tenure")

# harmonized column -> groups of source columns; in each group the first present alternative is used
_PERSON_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "person_id": (("SPORDER",),),
    "is_householder": (("RELSHIPP", "RELP"),),
    "age": (("AGEP",),),
    "sex": (("SEX",),),
    "nativity": (("NATIVITY",),),
    "citizenship": (("CIT",),),
    "year_of_entry": (("YOEP",),),
    "english": (("ENG",), ("LANX",)),
    "poverty_ratio": (("POVPIP",),),
    "person_income": (("PINCP",), ("ADJINC", "ADJUST")),
    "earnings": (("PERNP",), ("ADJINC", "ADJUST")),
    "full_time_year_round": (("WKHP",), ("WKWN", "WKW"), ("AGEP",)),
}
_HOUSING_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "tenure": (("TEN",),),
    "household_income": (("HINCP",), ("ADJINC", "ADJUST")),
}
_PUMA_COLUMNS = ("PUMA", "PUMA00", "PUMA10", "PUMA20")
_OPTIONAL_PERSON = ("ADJINC", "ADJUST", "SPORDER", "RELSHIPP", "RELP")
_OPTIONAL_HOUSING = ("TYPEHUGQ", "TYPE", "NP", "ST")


class IncompleteHouseholdWarning(UserWarning):
    """Occupied housing units have no person records in the person file (counted in ``Microdata.report``)."""

    __module__ = "scorecard.sources.acs_pums"


class ExperimentalWeightsWarning(UserWarning):
    """The 2020 ACS 1-year PUMS carries experimental weights; estimates are not comparable."""

    __module__ = "scorecard.sources.acs_pums"  # its public home (re-exported there): same repr and pickle path


class SurveyYearError(MessageError, ValueError):
    """The survey year of a file cannot be determined."""

    __module__ = "scorecard.sources.acs_pums"  # its public home (re-exported there): same repr and pickle path


# --------------------------------------------------------------------------- values
def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def _arrow_text(values: pd.Series) -> pa.Array:
    """The text of a string Series as one Arrow array (no copy for Arrow-backed strings)."""
    array = pa.array(values.array, type=pa.string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _strip_leading_zeros(serial: pd.Series) -> pd.Series:
    """All-digit serials without leading zeros ('000000127' -> '127'); others unchanged (Arrow kernels, no rows in Python).

    Examples
    --------
    >>> _strip_leading_zeros(pd.Series(["000127", "0", "2019HU0000001", None], dtype="string")).tolist()
    ['127', '0', '2019HU0000001', <NA>]
    """
    text = _arrow_text(serial)
    digits = pc.match_substring_regex(text, r"^\d+$")
    if not pc.any(digits).as_py():
        return serial
    stripped = pc.utf8_ltrim(text, "0")
    stripped = pc.if_else(pc.equal(stripped, ""), "0", stripped)
    out = pc.if_else(pc.fill_null(digits, False), stripped, text)
    return pd.Series(pd.arrays.ArrowStringArray(out), index=serial.index, name=serial.name)


def _numbers(frame: pd.DataFrame, canonical: str, source: str, cols: dict[str, str]) -> pd.Series:
    values = frame[canonical]
    if values.dtype == "Float64":  # parsed as float64 by the CSV reader (same Arrow parser as below)
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):  # dictionary-encoded codes: parse each distinct text once
        distinct = pd.DataFrame({canonical: pd.Series(values.cat.categories, dtype="string")})
        try:
            parsed = _numbers(distinct, canonical, source, cols).to_numpy(dtype="float64", na_value=np.nan)
        except UnknownCodeError:  # the rows of the bad values are found on the text below
            frame = pd.DataFrame({canonical: values.astype("string")})
        else:
            codes = values.cat.codes.to_numpy()
            taken = np.append(parsed, np.nan)[codes]  # code -1 (blank) picks the trailing NaN
            return pd.Series(pd.arrays.FloatingArray(taken, np.isnan(taken)), index=values.index)
    try:  # fast path: Arrow parses the text; any non-number falls through to the explanatory path below
        parsed = pc.cast(pc.utf8_trim_whitespace(pa.Array.from_pandas(frame[canonical].astype("string"))), pa.float64())
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=frame.index, dtype="Float64")
    except pa.ArrowException:  # any Arrow failure: the slow path explains it
        pass
    text = _text(frame[canonical])
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() & text.notna()).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise UnknownCodeError(
            source, cols[canonical], pd.unique(text.to_numpy()[rows]).tolist(), rows=rows[:5].tolist(),
            allowed=["numbers or blank"], hint="This column holds numbers; was the file edited?",
        )
    return pd.Series(numbers, dtype="Float64")


@functools.cache
def _code_table(file: str) -> dict[str, str | None]:
    with resources.as_file(resources.files("scorecard.sources").joinpath("codes", file)) as path:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    harmonized = table["harmonized"].where(table["harmonized"] != "", None)
    return dict(zip(table["code"].str.strip(), harmonized))


def _normalize_codes(values: pd.Series) -> pd.Series:
    """Codes without leading zeros ('01' -> '1', '-0009' -> '-9'), worked out once per distinct code."""
    positions, uniques = pd.factorize(_text(values), use_na_sentinel=True)
    normalized = pd.Series(uniques, dtype="string").str.replace(r"^(-?)0+(?=\d)", r"\1", regex=True).to_numpy()
    out = np.where(positions >= 0, normalized[np.maximum(positions, 0)] if len(normalized) else pd.NA, pd.NA)
    return pd.Series(out, index=values.index, dtype="string")


def _recode(values: pd.Series, file: str, source: str, column: str) -> pd.Series:
    """Harmonized value of each raw code (``<NA>`` for blanks), from code table ``file``.

    A categorical of raw codes (the CSV reader dictionary-encodes code columns) is recoded through its few
    distinct codes and stays categorical; other input gives an object Series.
    """
    table = _code_table(file)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _recode_categorical(values, table, file, source, column)
    codes = _normalize_codes(values)
    known = codes.isin(list(table)).to_numpy()
    present = codes.notna().to_numpy()
    unknown = present & ~known
    if unknown.any():
        rows = np.flatnonzero(unknown)
        raise UnknownCodeError(
            source, column, pd.unique(codes.to_numpy()[rows]).tolist(), rows=rows[:5].tolist(), allowed=list(table),
            hint=f"Codes come from scorecard/sources/codes/{file}; check that the file is an ACS PUMS file of a "
            "supported vintage (add new codes to that table).",
        )
    return codes.map(table).astype(object).where(present, None)


def _survey_year(key: pd.Series, source: _Member, given: int | None) -> tuple[int, set[int]]:
    """Survey (last) year and the set of sample years found in SERIALNO prefixes."""
    prefix = pc.struct_field(pc.extract_regex(_arrow_text(key),
                                              r"^(?P<year>20\d{2})(?:HU|GQ|\d{9}$)"), [0])
    sample_years: set[int] = set()
    if prefix.null_count == 0:
        sample_years = {int(y) for y in pc.unique(prefix).to_pylist()}
        year, how = max(sample_years), "its SERIALNO prefix"
    elif (found := _year_from_name(source.name)) is not None:
        year, how = found, "its file name"
    elif given is not None:
        return given, sample_years
    else:
        raise SurveyYearError(
            f"{source.name}: cannot tell the survey year (SERIALNO {key.iloc[0]!r} has no year prefix and the file "
            "name no year, e.g. 'ss16p53.csv'). Pass survey_year=."
        )
    if given is not None and given != year:
        raise MismatchedSourcesError(
            f"{source.name} is survey year {year} (from {how}) but survey_year={given} was passed; "
            "leave survey_year out or pass the right file."
        )
    return year, sample_years


def _year_from_name(name: str) -> int | None:
    base = name.lower()
    match = re.search(r"(?:^|[^a-z0-9])ss(\d{2})[ph]", base) or re.search(r"(?:^|/)ss(\d{2})[ph]", base)
    if match:
        return 2000 + int(match.group(1))
    match = re.search(r"(?<!\d)(20\d{2})(?!\d)", base)
    return int(match.group(1)) if match else None


def _detect_survey(sample_years: set[int], cols: dict[str, str], frame: pd.DataFrame) -> str:
    if len(sample_years) > 1 or any(c in cols for c in ("PUMA00", "PUMA10", "PUMA20")):
        return "acs5"
    adjust = "ADJINC" if "ADJINC" in cols else "ADJUST" if "ADJUST" in cols else None
    if adjust and (frame[adjust] if frame[adjust].dtype == "Float64" else _text(frame[adjust])).nunique(dropna=True) > 1:
        return "acs5"
    return "acs1"


@functools.lru_cache(maxsize=1)
def _vintage_table() -> pd.DataFrame:
    with resources.as_file(resources.files("scorecard.sources").joinpath("codes", "acs_puma_vintage.csv")) as path:
        return pd.read_csv(path)


def _vintage(column: str, year: int, source: str) -> int:
    table = _vintage_table()
    row = table[(table["variable"] == column) & (table["first_year"] <= year) & (table["last_year"] >= year)]
    if row.empty:
        raise UnknownCodeError(
            source, column, [year], allowed=sorted(set(table["first_year"])),
            hint="No PUMA vintage is known for this survey year (scorecard/sources/codes/acs_puma_vintage.csv).",
        )
    return int(row["puma_vintage"].iloc[0])


def _puma(frame: pd.DataFrame, cols: dict[str, str], year: int, source: str) -> tuple[pd.Series, np.ndarray]:
    present = [c for c in _PUMA_COLUMNS if c in cols]
    n = len(frame)
    puma = pd.Series(pd.NA, index=range(n), dtype="string")
    vintage = np.zeros(n, dtype="int64")
    assigned = np.zeros(n, dtype="int64")
    for column in present:
        numbers = _numbers(frame, column, source, cols)
        applicable = (numbers.notna() & (numbers >= 0)).to_numpy(dtype=bool, na_value=False)
        if not applicable.any():
            continue
        # zero-padded text of each distinct code, spread back by position (no per-row formatting)
        distinct, where = np.unique(numbers.to_numpy(dtype="float64", na_value=np.nan)[applicable].astype("int64"),
                                    return_inverse=True)
        text = pc.utf8_lpad(pa.array(distinct).cast(pa.string()), 5, "0")
        puma[applicable] = pd.array(pc.take(text, pa.array(where)), dtype="string")
        vintage[applicable] = _vintage(column, year, source)
        assigned += applicable
    bad = assigned != 1
    if bad.any():
        rows = np.flatnonzero(bad)
        columns = " / ".join(cols[c] for c in present)
        values = frame.loc[rows[:5], present].astype("string").fillna("(blank)").agg("/".join, axis=1).tolist()
        raise UnknownCodeError(
            source, columns, values, rows=rows[:5].tolist(), allowed=["exactly one PUMA code per record (-9 = n/a)"],
            hint="Each record needs one applicable PUMA; was the file edited?",
        )
    return puma, vintage


def _recode_categorical(values: pd.Series, table: dict[str, str | None], file: str, source: str,
                        column: str) -> pd.Series:
    """:func:`_recode` of a categorical: normalize and look up the distinct raw codes, then index by code."""
    codes = values.cat.codes.to_numpy()
    normalized = _normalize_codes(pd.Series(values.cat.categories, dtype="string")).to_numpy(dtype=object)
    known = np.array([code in table for code in normalized], dtype=bool)  # distinct codes, not rows
    unknown = (codes >= 0) & ~known[np.maximum(codes, 0)] if len(known) else np.zeros(len(codes), dtype=bool)
    if unknown.any():
        rows = np.flatnonzero(unknown)
        raise UnknownCodeError(
            source, column, pd.unique(normalized[codes[rows]]).tolist(), rows=rows[:5].tolist(), allowed=list(table),
            hint=f"Codes come from scorecard/sources/codes/{file}; check that the file is an ACS PUMS file of a "
            "supported vintage (add new codes to that table).",
        )
    categories = list(dict.fromkeys(v for v in table.values() if isinstance(v, str)))  # blank harmonized = NaN
    position = {value: i for i, value in enumerate(categories)}
    lookup = np.array([position.get(table.get(code), -1) for code in normalized] + [-1], dtype=np.int16)
    recoded = pd.Categorical.from_codes(lookup[codes], categories=categories)  # code -1 picks the trailing -1
    return pd.Series(recoded, index=values.index)


def _full_time_year_round(frame: pd.DataFrame, cols: dict[str, str], age: pd.Series, source: str) -> pd.Series:
    hours = _numbers(frame, "WKHP", source, cols)
    if "WKWN" in cols:
        year_round = _numbers(frame, "WKWN", source, cols) >= 50
    else:
        coded = _recode(frame["WKW"], "acs_wkw.csv", source, cols["WKW"])
        year_round = pd.Series(coded.map({"true": True, "false": False}), dtype="boolean")
    worked = ((hours >= 35) & year_round).fillna(False).astype("boolean")
    # blank hours/weeks = "less than 16 years old / did not work": False from 16 on, <NA> below
    return worked.mask((age < 16).fillna(True).to_numpy(dtype=bool), pd.NA)


def _check_unique(source: str, key: pd.Series, sporder: pd.Series, cols: dict[str, str]) -> None:
    serial = pc.dictionary_encode(_arrow_text(key)).indices.to_numpy(zero_copy_only=False)
    order = sporder.to_numpy(dtype="float64", na_value=-1.0)
    whole = (order == np.round(order)) & (order >= -1) & (order < 2**20)
    if whole.all():  # one int64 per (household, person): sorted, neighbours equal = repeated
        combined = np.sort(serial.astype(np.int64) * 2**21 + (order.astype(np.int64) + 1))
        if not (combined[1:] == combined[:-1]).any():
            return
    pairs = pd.DataFrame({"serial": key.to_numpy(), "sporder": sporder.to_numpy()})
    duplicated = pairs.duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        shown = ", ".join(f"({s!r}, {int(o) if pd.notna(o) else o})" for s, o in pairs.iloc[rows[:4]].itertuples(index=False))
        raise DuplicateRecordError(
            f"{source}: columns {cols['SERIALNO']}, {cols['SPORDER']} have {int(duplicated.sum())} records sharing "
            f"a value ({shown}; rows {', '.join(map(str, rows[:5]))}). Each person appears once; was the file "
            "concatenated twice?"
        )
