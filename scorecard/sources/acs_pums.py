"""Read Census ACS PUMS person and housing CSV files into harmonized :class:`~scorecard.Microdata`.

:func:`read_acs_pums` reads the files the Census Bureau publishes (``psam_p53.csv``,
``ss16p53.csv``, gzip-compressed copies, or the ``csv_p53.zip`` archives), for one
or many states and survey years, 1-year and 5-year. It reads only the columns it
needs, with every code column as text (so blanks and leading zeros survive),
matches each person to the housing record with the same ``SERIALNO``, maps raw
codes to the harmonized schema with the code tables in
``scorecard/sources/codes/acs_*.csv``, puts incomes in constant dollars
(``ADJINC`` then the CPI-U-RS, see :mod:`scorecard.sources.dollars`) and caches
the result as Parquet (:mod:`scorecard.sources.cache`).

Vintage rules handled
---------------------
* ``SERIALNO`` is always text: numeric (``127``, ``2012000000001``) in older
  files, ``2019HU0000001`` / ``2019GQ0000001`` from 2017 on. Leading zeros of
  all-digit serials are dropped so files written by different tools match.
* Survey year: the year prefix of ``SERIALNO`` when it has one (the last one in
  5-year files), else the file name (``ss16p53`` -> 2016, or a 4-digit year),
  else the ``survey_year=`` argument.
* ``ADJINC`` (``ADJUST`` in 2005-2007), 6 implied decimals.
* Replicate weights ``pwgtp1..80`` (2005-2016) or ``PWGTP1..80``: either case.
* ``PUMA`` (vintage by survey year) or the mixed-vintage 5-year pairs
  ``PUMA00``/``PUMA10`` and ``PUMA10``/``PUMA20`` (``-9`` = not applicable).
* ``RELP`` (to 2018) or ``RELSHIPP`` (2019 on); ``TYPE`` or ``TYPEHUGQ``;
  ``WKW`` (to 2018) or ``WKWN`` (2019 on).

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "ss16p53.csv").write_text(
...     "SERIALNO,SPORDER,ST,PUMA,PWGTP,AGEP\\n127,1,53,11601,120,45\\n127,2,53,11601,80,12\\n")
>>> micro = read_acs_pums(folder / "ss16p53.csv", columns=["person_id", "age"], cache=False)
>>> micro.frame[["survey_year", "state", "puma", "household_id", "age"]].to_dict("list")
{'survey_year': [2016, 2016], 'state': ['53', '53'], 'puma': ['11601', '11601'], 'household_id': ['127', '127'], 'age': [45, 12]}
>>> micro.attrs["survey"], micro.report.read
('acs1', 2)
"""

from __future__ import annotations

import functools
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from scorecard import schema
from scorecard.errors import (
    DuplicateRecordError,
    MessageError,
    MismatchedSourcesError,
    MissingColumnsError,
    OrphanRecordError,
    ReplicateCountError,
    UnknownCodeError,
    UnreadableFileError,
)
from scorecard.microdata import Microdata, RecordReport, check_weights, find_replicate_columns
from scorecard.sources import cache as _cache
from scorecard.sources.dollars import to_constant_dollars

__all__ = [
    "ExperimentalWeightsWarning",
    "SurveyYearError",
    "PERSON_COLUMNS",
    "HOUSING_COLUMNS",
    "read_acs_pums",
]

PathLike = str | os.PathLike

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
_INCOME_COLUMNS = ("person_income", "earnings", "household_income")
_OPTIONAL_PERSON = ("ADJINC", "ADJUST", "SPORDER", "RELSHIPP", "RELP")
_OPTIONAL_HOUSING = ("TYPEHUGQ", "TYPE", "NP", "ST")


class ExperimentalWeightsWarning(UserWarning):
    """The 2020 ACS 1-year PUMS carries experimental weights; estimates are not comparable."""


class SurveyYearError(MessageError, ValueError):
    """The survey year of a file cannot be determined."""


# --------------------------------------------------------------------------- public entry point
def read_acs_pums(
    person: PathLike | Sequence[PathLike],
    housing: PathLike | Sequence[PathLike] | None = None,
    *,
    dollars_year: int | None = None,
    survey: str | None = None,
    survey_year: int | None = None,
    state: str | int | None = None,
    columns: Sequence[str] | None = None,
    keep: Sequence[str] = (),
    on_orphans: str = "raise",
    cache: bool = True,
    cache_dir: PathLike | bool | None = None,
) -> Microdata:
    """Read ACS PUMS person (and housing) CSV files into harmonized microdata.

    Parameters
    ----------
    person : path or sequence of paths
        Person files: ``.csv``, ``.csv.gz`` or a Census ``.zip`` (every
        ``.csv`` inside is read, e.g. ``psam_p53.csv``). One per state and year.
    housing : path or sequence of paths, optional
        Housing files, paired with ``person`` by position (same length). Without
        them ``tenure``, ``household_income``, ``household_weight`` and the
        household replicate weights are absent.
    dollars_year : int, optional
        Year of the constant dollars for incomes. Default: the latest survey
        year read.
    survey : {"acs1", "acs5"}, optional
        Default: detected (5-year files have several sample years in
        ``SERIALNO`` or ``ADJINC``, or split ``PUMA00``/``PUMA10`` columns).
    survey_year : int, optional
        Survey year for files whose ``SERIALNO`` and name do not tell it
        (e.g. column subsets saved under another name).
    state : str or int, optional
        2-digit state FIPS code for files without an ``ST`` column.
    columns : sequence of str, optional
        Harmonized columns to build besides geography, ids and weights.
        Default: all of :data:`PERSON_COLUMNS` (plus :data:`HOUSING_COLUMNS`
        when ``housing`` is given). Only the source columns they need are read.
    keep : sequence of str
        Extra person-file columns (e.g. ``"RAC1P"``) to carry along as text.
    on_orphans : {"raise", "drop"}, default="raise"
        What to do with person records whose ``SERIALNO`` has no housing record.
        ``"drop"`` drops and counts them in ``report``.
    cache : bool, default=True
        Load from / save to the Parquet cache.
    cache_dir : path, optional
        Cache folder; default ``$SCORECARD_CACHE_DIR`` or the platform cache
        directory. ``False`` also disables the cache.

    Returns
    -------
    Microdata
        ``attrs`` holds ``survey``, ``dollars_year``, ``sources``, ``source``,
        ``puma_vintages`` and ``cache``.

    Raises
    ------
    MissingColumnsError, UnknownCodeError, InvalidWeightError, ReplicateCountError,
    DuplicateRecordError, OrphanRecordError, UnreadableFileError, MismatchedSourcesError,
    SurveyYearError
        Each names the file, column and value, and what to do.

    Warns
    -----
    ExperimentalWeightsWarning
        For the 2020 1-year file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "psam_p53.csv").write_text("SERIALNO,SPORDER,ST,PUMA,PWGTP,SEX\\n"
    ...     "2019HU0000001,1,53,11601,50,2\\n2019GQ0000002,1,53,11601,30,1\\n")
    >>> _ = (folder / "psam_h53.csv").write_text("SERIALNO,ST,TYPEHUGQ,WGTP,TEN,HINCP,ADJINC,NP\\n"
    ...     "2019HU0000001,53,1,50,3,40000,1010145,1\\n2019GQ0000002,53,3,0,,,1010145,1\\n"
    ...     "2019HU0000003,53,1,20,,,1010145,0\\n")
    >>> micro = read_acs_pums(folder / "psam_p53.csv", folder / "psam_h53.csv",
    ...                       columns=["sex", "tenure", "household_income"], cache=False)
    >>> micro.frame[["sex", "tenure", "household_income"]].astype(object).to_dict("list")
    {'sex': ['female', 'male'], 'tenure': ['rented', nan], 'household_income': [40405.8, nan]}
    >>> print(micro.report.to_frame().query("outcome == 'note'")[["record_type", "reason", "count"]].to_string(index=False))
    record_type                                    reason  count
        housing housing units with no person records (vacant)      1
    """
    persons = _as_paths(person, "person")
    housings = None if housing is None else _as_paths(housing, "housing")
    options = _Options.make(
        dollars_year=dollars_year,
        survey=survey,
        survey_year=survey_year,
        state=state,
        columns=columns,
        keep=keep,
        on_orphans=on_orphans,
        with_housing=housings is not None,
    )
    if housings is not None and len(housings) != len(persons):
        raise MismatchedSourcesError(
            f"read_acs_pums got {len(persons)} person files and {len(housings)} housing files; "
            "pass one housing file per person file, in the same order (or housing=None)."
        )

    def build() -> Microdata:
        return _read_uncached(persons, housings, options)

    if not cache or cache_dir is False:
        return _cache.cached(None, build, enabled=False)
    key = [
        "read_acs_pums",
        [[p.name, _digest(p)] for p in persons],
        None if housings is None else [[h.name, _digest(h)] for h in housings],
        options.key(),
    ]
    return _cache.cached(key, build, cache_dir=cache_dir)


# --------------------------------------------------------------------------- options
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
    def make(cls, *, dollars_year, survey, survey_year, state, columns, keep, on_orphans, with_housing):
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
            columns = PERSON_COLUMNS + (HOUSING_COLUMNS if with_housing else ())
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


# --------------------------------------------------------------------------- the read itself
def _read_uncached(persons: list[Path], housings: list[Path] | None, options: _Options) -> Microdata:
    person_sources = [source for path in persons for source in _members(path)]
    housing_sources = None if housings is None else [source for path in housings for source in _members(path)]
    if housing_sources is not None and len(housing_sources) != len(person_sources):
        raise MismatchedSourcesError(
            f"The person files hold {len(person_sources)} CSV files ({[s.name for s in person_sources]}) but the "
            f"housing files hold {len(housing_sources)} ({[s.name for s in housing_sources]}); they must pair up."
        )
    pieces = []
    for index, source in enumerate(person_sources):
        pieces.append(_read_pair(source, None if housing_sources is None else housing_sources[index], options))

    surveys = {piece.survey for piece in pieces}
    if len(surveys) > 1:
        raise MismatchedSourcesError(
            "Cannot mix 1-year and 5-year files in one read: "
            + ", ".join(f"{p.name} is {p.survey}" for p in pieces)
            + ". Read them separately (or pass survey= if the detection is wrong)."
        )
    latest = max(int(p.frame["survey_year"].iloc[0]) for p in pieces)
    dollars_year = options.dollars_year if options.dollars_year is not None else latest
    built = []
    for piece in pieces:
        frame = piece.frame
        for column in _INCOME_COLUMNS:
            if column in frame:
                frame[column] = to_constant_dollars(frame[column].to_numpy(dtype="float64", na_value=np.nan),
                                                    frame["survey_year"].to_numpy(dtype="int64"), dollars_year)
        ordered = [c for c in schema.COLUMNS if c in frame] + [c for c in frame if c not in schema.COLUMNS]
        harmonized = schema.coerce(frame[ordered], source=piece.name)
        attrs = {"source": piece.name, "sources": piece.sources, "survey": piece.survey,
                 "dollars_year": dollars_year}
        built.append(Microdata(harmonized, person_replicates=piece.person_replicates,
                               household_replicates=piece.household_replicates, report=piece.report, attrs=attrs))
    micro = built[0] if len(built) == 1 else Microdata.concat(built)
    sources = [s for piece in pieces for s in piece.sources]
    vintages = sorted(int(v) for v in pd.unique(micro.frame["puma_vintage"].dropna()))
    attrs = {
        "survey": surveys.pop(),
        "dollars_year": dollars_year,
        "sources": sources,
        "source": ", ".join(sources),
        "puma_vintages": vintages,
        "reader": "scorecard.read_acs_pums",
    }
    return replace(micro, attrs=attrs)


@dataclass
class _Piece:
    name: str
    sources: list[str]
    survey: str
    frame: pd.DataFrame
    person_replicates: np.ndarray | None
    household_replicates: np.ndarray | None
    report: RecordReport


@dataclass(frozen=True)
class _Member:
    """One CSV: a plain/gzip file, or a member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.member is None else f"{self.path.name}/{self.member}"


def _read_pair(person: _Member, housing: _Member | None, options: _Options) -> _Piece:
    wanted = options.columns
    p_header = _header(person)
    groups = {"SERIALNO": ("SERIALNO",), "PWGTP": ("PWGTP",)}
    for column in wanted:
        for alternatives in _PERSON_SOURCES.get(column, ()):
            groups[alternatives[0]] = alternatives
    p_cols = _resolve(person.name, p_header, groups, optional=_OPTIONAL_PERSON + ("ST",) + _PUMA_COLUMNS,
                      extra=options.keep)
    if not any(c in p_cols for c in _PUMA_COLUMNS):
        raise MissingColumnsError(person.name, {"PUMA"}, "ACS PUMS person files carry PUMA (or PUMA00/PUMA10/PUMA20).")
    if "ST" not in p_cols and options.state is None:
        raise MissingColumnsError(person.name, {"ST"}, "Pass state='53' (2-digit FIPS) for files without ST.")
    p_reps = find_replicate_columns(p_header, "PWGTP")
    _check_replicate_count(person.name, p_reps)
    table = _read_table(person, p_cols, p_reps, floats={"PWGTP"})
    p = table.frame
    n = len(p)

    serial = _text(p["SERIALNO"])
    key = _strip_leading_zeros(serial)
    year, sample_years = _survey_year(key, person, options.survey_year)
    survey = options.survey or _detect_survey(sample_years, p_cols, p)
    if survey == "acs1" and year == 2020:
        warnings.warn(
            f"{person.name}: the 2020 ACS 1-year PUMS uses experimental weights (COVID-19 data collection); "
            "the Census Bureau advises against comparing its estimates with other years.",
            ExperimentalWeightsWarning,
            stacklevel=4,
        )
    out: dict[str, object] = {"survey_year": np.full(n, year, dtype="int64")}
    out["state"] = _text(p["ST"]).str.zfill(2) if "ST" in p_cols else pd.Series([options.state] * n, dtype="string")
    out["puma"], out["puma_vintage"] = _puma(p, p_cols, year, person.name)
    out["household_id"] = key
    weight = p["PWGTP"].to_numpy(dtype="float64", na_value=np.nan)
    check_weights(weight, source=person.name, columns=[p_cols["PWGTP"]], what="Person weights")
    out["person_weight"] = weight
    if "SPORDER" in p_cols:
        sporder = _numbers(p, "SPORDER", person.name, p_cols)
        _check_unique(person.name, key, sporder, p_cols)
        if "person_id" in wanted:
            out["person_id"] = sporder
    elif "person_id" in wanted:
        raise MissingColumnsError(person.name, {"SPORDER"}, "Leave 'person_id' out of columns for files without it.")
    relationship = None
    if "RELSHIPP" in p_cols or "RELP" in p_cols:
        rel = "RELSHIPP" if "RELSHIPP" in p_cols else "RELP"
        relationship = _recode(p[rel], f"acs_{rel.lower()}.csv", person.name, p_cols[rel])
    if "is_householder" in wanted:
        out["is_householder"] = pd.array(relationship == "reference_person", dtype="boolean")
        out["is_householder"][relationship.isna().to_numpy()] = pd.NA
    age = _numbers(p, "AGEP", person.name, p_cols) if "AGEP" in p_cols else None
    if "age" in wanted:
        out["age"] = age
    for column, variable in (("sex", "SEX"), ("nativity", "NATIVITY"), ("citizenship", "CIT")):
        if column in wanted:
            out[column] = _recode(p[variable], f"acs_{variable.lower()}.csv", person.name, p_cols[variable])
    if "year_of_entry" in wanted:
        out["year_of_entry"] = _numbers(p, "YOEP", person.name, p_cols)
    if "english" in wanted:
        english = _recode(p["ENG"], "acs_eng.csv", person.name, p_cols["ENG"])
        only = _recode(p["LANX"], "acs_lanx.csv", person.name, p_cols["LANX"]) == "only"
        out["english"] = english.mask(only.fillna(False).to_numpy(dtype=bool), "only")
    if "poverty_ratio" in wanted:
        out["poverty_ratio"] = _numbers(p, "POVPIP", person.name, p_cols) / 100.0
    adjust = "ADJINC" if "ADJINC" in p_cols else "ADJUST" if "ADJUST" in p_cols else None
    factor = _numbers(p, adjust, person.name, p_cols) / 1e6 if adjust else None
    for column, variable in (("person_income", "PINCP"), ("earnings", "PERNP")):
        if column in wanted:
            out[column] = _numbers(p, variable, person.name, p_cols) * factor
    if "full_time_year_round" in wanted:
        out["full_time_year_round"] = _full_time_year_round(p, p_cols, age, person.name)
    for column in options.keep:
        out[column] = _text(p[column])
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    person_replicates = table.replicates
    household_replicates = None
    person_report = RecordReport.single(person.name, read=n)
    sources = [person.name]

    if housing is not None:
        sources.append(housing.name)
        h = _read_housing(housing, options)
        if h.year != year:
            raise MismatchedSourcesError(
                f"{person.name} is survey year {year} but {housing.name} is {h.year}; pass person and housing "
                "files of the same year and state, in the same order."
            )
        if "ST" in p_cols and h.state is not None:
            p_states, h_states = set(pd.unique(frame["state"])), set(pd.unique(h.state))
            if not p_states & h_states:
                raise MismatchedSourcesError(
                    f"{person.name} holds state {sorted(p_states)} but {housing.name} holds {sorted(h_states)}; "
                    "pair files of the same state."
                )
        position = pd.Index(h.key).get_indexer(frame["household_id"].to_numpy())
        orphan = position < 0
        if orphan.any():
            rows = np.flatnonzero(orphan)
            if options.on_orphans == "raise":
                values = pd.unique(frame["household_id"].to_numpy()[rows]).tolist()
                raise OrphanRecordError(
                    f"{person.name}: column {p_cols['SERIALNO']} has {int(orphan.sum())} person records whose "
                    f"value ({', '.join(map(repr, values[:5]))}) is not in {housing.name} (rows "
                    f"{', '.join(map(str, rows[:5]))}). Pair files of the same state and year, or pass "
                    "on_orphans='drop' to drop and count them."
                )
            keep_rows = np.flatnonzero(~orphan)
            frame = frame.iloc[keep_rows].reset_index(drop=True)
            position = position[keep_rows]
            person_replicates = None if person_replicates is None else person_replicates[keep_rows]
            person_report = RecordReport.single(
                person.name, read=n, dropped={"no housing record with the same SERIALNO": int(orphan.sum())}
            )
        frame["household_weight"] = h.weight[position]
        for column in HOUSING_COLUMNS:
            if column in h.columns:
                frame[column] = h.columns[column][position]
        if h.replicates is not None:
            household_replicates = h.replicates[position]
        linked = np.zeros(len(h.key), dtype=bool)
        linked[position] = True
        housing_report = RecordReport.single(housing.name, read=len(h.key), record_type="housing",
                                             notes=h.unlinked_notes(~linked))
        person_report = person_report.combine(housing_report)
    if person_replicates is not None:
        person_replicates = person_replicates.astype(np.float32)
    if household_replicates is not None:
        household_replicates = household_replicates.astype(np.float32)
    return _Piece(person.name, sources, survey, frame, person_replicates, household_replicates, person_report)


@dataclass
class _Housing:
    key: np.ndarray
    year: int
    state: np.ndarray | None
    weight: np.ndarray
    replicates: np.ndarray | None
    columns: dict[str, np.ndarray]
    occupants: np.ndarray | None  # NP, number of person records

    def unlinked_notes(self, unlinked: np.ndarray) -> dict[str, int]:
        if not unlinked.any():
            return {}
        if self.occupants is None:
            return {"housing records with no person records (vacant units)": int(unlinked.sum())}
        vacant = unlinked & (self.occupants == 0)
        other = unlinked & ~(self.occupants == 0)
        notes = {"housing units with no person records (vacant)": int(vacant.sum())}
        if other.any():
            notes["occupied housing records whose persons are not in the person file"] = int(other.sum())
        return {k: v for k, v in notes.items() if v}


def _read_housing(housing: _Member, options: _Options) -> _Housing:
    header = _header(housing)
    groups = {"SERIALNO": ("SERIALNO",), "WGTP": ("WGTP",)}
    for column in options.columns:
        for alternatives in _HOUSING_SOURCES.get(column, ()):
            groups[alternatives[0]] = alternatives
    cols = _resolve(housing.name, header, groups, optional=_OPTIONAL_HOUSING)
    reps = find_replicate_columns(header, "WGTP")
    _check_replicate_count(housing.name, reps)
    table = _read_table(housing, cols, reps, floats={"WGTP"})
    h = table.frame
    key = _strip_leading_zeros(_text(h["SERIALNO"]))
    duplicated = key.duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        raise DuplicateRecordError(
            f"{housing.name}: column {cols['SERIALNO']} has {int(duplicated.sum())} records sharing a value "
            f"({', '.join(map(repr, pd.unique(key.to_numpy()[rows])[:5].tolist()))}; rows "
            f"{', '.join(map(str, rows[:5]))}). A housing file has one record per SERIALNO; was it concatenated twice?"
        )
    year, _ = _survey_year(key, housing, options.survey_year)
    weight = h["WGTP"].to_numpy(dtype="float64", na_value=np.nan)
    check_weights(weight, source=housing.name, columns=[cols["WGTP"]], what="Housing weights")
    kind = "TYPEHUGQ" if "TYPEHUGQ" in cols else "TYPE" if "TYPE" in cols else None
    group_quarters = np.zeros(len(h), dtype=bool)
    if kind:
        group_quarters = (_recode(h[kind], "acs_type.csv", housing.name, cols[kind]) == "group_quarters").to_numpy(
            dtype=bool, na_value=False)
    columns: dict[str, np.ndarray] = {}
    if "tenure" in options.columns:
        tenure = _recode(h["TEN"], "acs_ten.csv", housing.name, cols["TEN"]).astype(object)
        tenure[group_quarters] = None
        columns["tenure"] = tenure.to_numpy()
    if "household_income" in options.columns:
        adjust = "ADJINC" if "ADJINC" in cols else "ADJUST"
        income = (_numbers(h, "HINCP", housing.name, cols) * (_numbers(h, adjust, housing.name, cols) / 1e6))
        income = income.to_numpy(dtype="float64", na_value=np.nan)
        income[group_quarters] = np.nan
        columns["household_income"] = income
    occupants = None
    if "NP" in cols:
        occupants = _numbers(h, "NP", housing.name, cols).to_numpy(dtype="float64", na_value=np.nan)
    state = _text(h["ST"]).str.zfill(2).to_numpy() if "ST" in cols else None
    return _Housing(key.to_numpy(), year, state, weight, table.replicates, columns, occupants)


# --------------------------------------------------------------------------- files
def _as_paths(value, what: str) -> list[Path]:
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    if not items:
        raise UnreadableFileError(f"read_acs_pums got no {what} files; pass at least one path.")
    paths = [Path(item) for item in items]
    for path in paths:
        if not path.is_file():
            raise UnreadableFileError(f"{path}: no such file. Check the path of the {what} file.")
    return paths


def _digest(path: Path) -> str:
    return _cache.file_digest(path)


def _members(path: Path) -> list[_Member]:
    if path.suffix.lower() != ".zip":
        return [_Member(path)]
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv") and not n.endswith("/"))
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableFileError(f"{path.name}: not a readable zip archive ({error}). Download it again.") from None
    if not names:
        raise UnreadableFileError(f"{path.name}: the zip archive holds no .csv file. Download the CSV archive.")
    return [_Member(path, name) for name in names]


def _open_binary(source: _Member):
    if source.member is not None:
        archive = zipfile.ZipFile(source.path)
        return archive.open(source.member)
    if source.path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(source.path, "rb")
    return open(source.path, "rb")


def _header(source: _Member) -> list[str]:
    try:
        with _open_binary(source) as handle, io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace") as text:
            line = text.readline()
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise UnreadableFileError(f"{source.name}: cannot be read ({error}). Download the file again.") from None
    names = [name.strip().strip('"') for name in line.strip().split(",")]
    if not line.strip() or not any(names):
        raise UnreadableFileError(f"{source.name} is empty (no header line). Download the file again.")
    return names


def _resolve(name: str, header: Sequence[str], groups: dict[str, tuple[str, ...]], *, optional: Iterable[str] = (),
             extra: Iterable[str] = ()) -> dict[str, str]:
    """Canonical (upper-case) column -> name in the file, for the needed groups and present optional columns."""
    by_upper = {column.upper(): column for column in header}
    found: dict[str, str] = {}
    missing = set()
    for alternatives in groups.values():
        present = [alt for alt in alternatives if alt in by_upper]
        if present:
            found[present[0]] = by_upper[present[0]]
        else:
            missing.add(" or ".join(alternatives))
    for column in optional:
        if column in by_upper:
            found.setdefault(column, by_upper[column])
    for column in extra:
        if column.upper() not in by_upper:
            missing.add(column)
        else:
            found[column] = by_upper[column.upper()]
    if missing:
        raise MissingColumnsError(
            name, missing,
            "Download the full Census PUMS file, or leave the harmonized columns that need them out of `columns`.",
        )
    return found


@dataclass
class _Table:
    frame: pd.DataFrame  # canonical names; text columns as strings (<NA> for blanks), weights float64
    replicates: np.ndarray | None


def _read_table(source: _Member, cols: dict[str, str], replicate_columns: list[str], *, floats: set[str]) -> _Table:
    types = {actual: (pa.float64() if canonical in floats else pa.string()) for canonical, actual in cols.items()}
    types.update({column: pa.float32() for column in replicate_columns})  # Census replicate weights are integers
    convert = pacsv.ConvertOptions(
        include_columns=list(dict.fromkeys([*cols.values(), *replicate_columns])),
        column_types=types,
        strings_can_be_null=True,
        null_values=[""],
    )
    try:
        if source.member is None:  # pyarrow opens plain and .gz files itself (multi-threaded reads)
            table = pacsv.read_csv(str(source.path), convert_options=convert)
        else:
            with _open_binary(source) as handle:
                table = pacsv.read_csv(handle, convert_options=convert)
    except pa.ArrowInvalid as error:
        raise UnreadableFileError(
            f"{source.name}: cannot be parsed as a PUMS CSV ({error}). Weight columns must be numbers; "
            "check that the file is complete and unedited."
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise UnreadableFileError(f"{source.name}: cannot be read ({error}). Download the file again.") from None
    if table.num_rows == 0:
        raise UnreadableFileError(f"{source.name} has a header but no records. Download the file again.")
    frame = pd.DataFrame(
        {canonical: table.column(actual).to_pandas() for canonical, actual in cols.items()}
    )
    replicates = None
    if replicate_columns:
        replicates = np.empty((table.num_rows, len(replicate_columns)), dtype=np.float32)
        for j, column in enumerate(replicate_columns):  # one column at a time: no float64 copy of the matrix
            replicates[:, j] = table.column(column).to_numpy()
        # Negative replicate weights are real in ACS files (e.g. 2015 WA housing): kept, counted by Microdata.
        check_weights(replicates, source=source.name, columns=replicate_columns, what="Replicate weights",
                      allow_negative=True)
    return _Table(frame, replicates)


def _check_replicate_count(name: str, columns: list[str]) -> None:
    if len(columns) not in (0, schema.N_REPLICATES):
        raise ReplicateCountError(
            f"{name}: found {len(columns)} replicate-weight columns ({columns[0]}..{columns[-1]}); expected 0 or "
            f"{schema.N_REPLICATES}. Use the complete Census file (all 80 replicate weights) or drop them all."
        )


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
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
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
        values = frame.loc[rows[:5], present].astype(str).agg("/".join, axis=1).tolist()
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
