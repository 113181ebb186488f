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


def _strip_leading_zeros(serial: pd.Series) -> pd.Series:
    """All-digit serials without leading zeros ('000000127' -> '127'); others unchanged."""
    digits = serial.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    if not digits.any():
        return serial
    out = serial.copy()
    out[digits] = serial[digits].str.lstrip("0").replace("", "0")
    return out


def _numbers(frame: pd.DataFrame, canonical: str, source: str, cols: dict[str, str]) -> pd.Series:
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
    """Harmonized value of each raw code (``<NA>`` for blanks), from code table ``file``."""
    table = _code_table(file)
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
    prefix = key.str.extract(r"^(20\d{2})(?:HU|GQ|\d{9}$)", expand=False)
    sample_years: set[int] = set()
    if prefix.notna().all():
        sample_years = {int(y) for y in pd.unique(prefix.to_numpy())}
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
    if adjust and _text(frame[adjust]).nunique(dropna=True) > 1:
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
        codes = numbers[applicable].astype("int64").astype(str).str.zfill(5)
        puma[applicable] = codes.to_numpy()
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
