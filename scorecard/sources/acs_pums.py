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

This module holds the entry point and the steps across files (options, cache,
constant dollars, provenance); reading the files is in
:mod:`scorecard.sources.acs_files`, the vintage and code rules are in
:mod:`scorecard.sources.acs_layout`, and building one person/housing pair is in
:mod:`scorecard.sources.acs_records`.

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

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard import schema
from scorecard.errors import DuplicateRecordError, MismatchedSourcesError, UnreadableFileError
from scorecard.microdata import Microdata
from scorecard.sources import cache as _cache
from scorecard.sources.acs_files import _as_paths, _digest, _members
from scorecard.sources.acs_layout import (
    HOUSING_COLUMNS,
    PERSON_COLUMNS,
    ExperimentalWeightsWarning,
    IncompleteHouseholdWarning,
    SurveyYearError,
)
from scorecard.sources.acs_options import _Options
from scorecard.sources.acs_records import _read_housing_only, _read_pair
from scorecard.sources.dollars import to_constant_dollars

__all__ = [
    "ExperimentalWeightsWarning",
    "IncompleteHouseholdWarning",
    "SurveyYearError",
    "PERSON_COLUMNS",
    "HOUSING_COLUMNS",
    "read_acs_pums",
]

PathLike = str | os.PathLike

_INCOME_COLUMNS = ("person_income", "earnings", "household_income")


# --------------------------------------------------------------------------- public entry point
def read_acs_pums(
    person: PathLike | Sequence[PathLike] | None,
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
    person : path or sequence of paths, or None
        Person files: ``.csv``, ``.csv.gz`` or a Census ``.zip`` (every
        ``.csv`` inside is read, e.g. ``psam_p53.csv``). One per state and year.
        ``None`` reads the housing files alone: one record per housing unit
        (vacant units and group quarters included), with ``household_weight``,
        the household replicate weights and the housing columns; ``keep``
        then names housing-file columns.
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
    IncompleteHouseholdWarning
        Occupied housing units (``NP`` > 0) with no person in the person file
        (e.g. a person file cut to some PUMAs); counted in ``report``.

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
    if person is None and housing is None:
        raise UnreadableFileError("read_acs_pums got neither person nor housing files; pass at least one path.")
    persons = None if person is None else _as_paths(person, "person")
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
        with_persons=persons is not None,
    )
    if persons is not None and housings is not None and len(housings) != len(persons):
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
        None if persons is None else [[p.name, _digest(p)] for p in persons],
        None if housings is None else [[h.name, _digest(h)] for h in housings],
        options.key(),
    ]
    return _cache.cached(key, build, cache_dir=cache_dir)


# --------------------------------------------------------------------------- the read itself
def _read_uncached(persons: list[Path] | None, housings: list[Path] | None, options: _Options) -> Microdata:
    housing_sources = None if housings is None else [source for path in housings for source in _members(path)]
    if persons is None:
        return _combine([_read_housing_only(source, options) for source in housing_sources], options)
    person_sources = [source for path in persons for source in _members(path)]
    if housing_sources is not None and len(housing_sources) != len(person_sources):
        raise MismatchedSourcesError(
            f"The person files hold {len(person_sources)} CSV files ({[s.name for s in person_sources]}) but the "
            f"housing files hold {len(housing_sources)} ({[s.name for s in housing_sources]}); they must pair up."
        )
    pieces = []
    for index, source in enumerate(person_sources):
        pieces.append(_read_pair(source, None if housing_sources is None else housing_sources[index], options))
    return _combine(pieces, options)


def _refuse_records_in_two_files(pieces: list) -> None:
    """A SERIALNO (a household, persons and all) lives in one file of its survey year; in two, records repeat."""
    if len(pieces) < 2:
        return
    keys = pd.concat(
        [pd.DataFrame({"year": piece.frame["survey_year"].to_numpy(), "serial": piece.frame["household_id"].to_numpy(),
                       "file": index}).drop_duplicates(["year", "serial"]) for index, piece in enumerate(pieces)],
        ignore_index=True,
    )
    repeated = keys.duplicated(["year", "serial"], keep=False).to_numpy()
    if repeated.any():
        shared = keys[repeated]
        files = sorted({pieces[i].name for i in shared["file"].unique()})
        serials = pd.unique(shared["serial"])
        raise DuplicateRecordError(
            f"{' and '.join(files)} share {len(serials)} SERIALNO values of the same survey year "
            f"({', '.join(map(repr, serials[:5].tolist()))}), so their records would be counted twice. "
            "Pass each file once (one file per state and year)."
        )


def _combine(pieces: list, options: _Options) -> Microdata:
    _refuse_records_in_two_files(pieces)
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
