"""Read IPUMS USA extracts (DDI codebook + fixed-width or CSV data) into :class:`Microdata`.

An IPUMS USA extract is a DDI 2.5 XML codebook (``usa_00012.xml``) and a data
file (``usa_00012.dat.gz`` fixed-width, or ``usa_00012.csv.gz``). The codebook
is parsed and the data read in chunks with :mod:`ipumspy`; every chunk is
mapped to the harmonized schema (:mod:`scorecard.schema`) with vectorized
look-ups in the code tables under ``scorecard/sources/codes/ipums_*.csv``.

Decisions a researcher should know (details in ``docs/sources_ipums.md``):

* ``puma_vintage`` comes from the survey year of each interview: 1980 and
  1990 samples keep their own census vintage, 2000-2011 -> 2000, 2012-2021
  -> 2010, 2022 on -> 2020. Multi-year ACS samples that span a PUMA change
  report each interview's contemporary PUMA, so MULTYEAR is then required.
* CITIZEN 5/8/9 (foreign-born, citizenship not reported / illegible /
  missing) stay foreign-born with ``citizenship`` <NA>, and are counted as
  notes in :attr:`Microdata.report`.
* Tenure needs OWNERSHPD (the detailed version of OWNERSHP): OWNERSHP alone
  cannot tell owners with a mortgage from owners free and clear.
* Income stays in nominal dollars (``dollars_year=None``) unless
  ``dollars_year`` is given.

This module holds the entry point, the cache and the steps across chunks
(duplicates, weights, constant dollars, provenance); the files are read in
:mod:`scorecard.sources.ipums_files` and each chunk is harmonized in
:mod:`scorecard.sources.ipums_harmonize`.

Examples
--------
>>> import tempfile, warnings, sys, pathlib
>>> sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
>>> from ipums_fixture import acs_records, write_extract
>>> folder = tempfile.mkdtemp()
>>> ddi, _ = write_extract(folder, acs_records())
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     micro = read_ipums(ddi, cache=False)
>>> len(micro), micro.variance_method, micro.person_replicates.shape
(9, 'sdr', (9, 80))
>>> print(*micro.frame.loc[0, ["household_id", "state", "puma", "puma_vintage", "citizenship", "english"]])
201901-1001 53 11601 2010 naturalized very_well
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard import schema
from scorecard.errors import UnreadableFileError
from scorecard.microdata import Microdata, RecordReport, check_weights
from scorecard.ranges import check_ranges
from scorecard.sources import cache as _cache
from scorecard.sources import dollars as _dollars
from scorecard.sources.ipums_files import _chunks, _read_codebook, _resolve_data_path
from scorecard.sources.ipums_harmonize import (
    OPTIONAL_VARIABLES,
    REQUIRED_VARIABLES,
    _check_duplicates,
    _Chunk,
    _harmonize,
    _plan,
    _Recoder,
    code_table,
)

__all__ = ["read_ipums", "REQUIRED_VARIABLES", "OPTIONAL_VARIABLES", "code_table"]

_INCOME = {"person_income": "INCTOT", "earnings": "INCEARN", "household_income": "HHINCOME"}

#: Parse fixed-width data with numpy (about 50x faster than ipumspy's pandas.read_fwf); False uses ipumspy.
_FAST_FIXED_WIDTH = True


def _income_years(frame: pd.DataFrame, labels: Mapping[int, str], samples: np.ndarray) -> np.ndarray:
    """Year whose dollars the income columns are in: the previous calendar year for censuses, YEAR for ACS."""
    unique = pd.unique(samples)
    is_survey = {s: bool(re.search(r"\b(?:ACS|PRCS)\b", labels.get(int(s), ""))) for s in unique}
    survey = pd.Series(samples).map(is_survey).fillna(True).to_numpy(dtype=bool)
    year = frame["survey_year"].to_numpy(dtype="int64")
    return np.where(survey, year, year - 1)


def _to_constant_dollars(frame: pd.DataFrame, income_years: np.ndarray, dollars_year: int) -> pd.DataFrame:
    frame = frame.copy()
    for column in _INCOME:
        if column in frame:
            values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
            frame[column] = _dollars.to_constant_dollars(values, income_years, dollars_year)
    return frame


def _code_tables_digest() -> str:
    """Digest of the IPUMS code tables, so editing one invalidates cached reads."""
    folder = files("scorecard.sources") / "codes"
    parts = sorted((entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.startswith("ipums_"))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def read_ipums(
    ddi_path: str | Path,
    *,
    data_path: str | Path | None = None,
    dollars_year: int | None = None,
    cache: bool = True,
    cache_dir: str | Path | bool | None = None,
    chunksize: int = 100_000,
) -> Microdata:
    """Read an IPUMS USA extract into harmonized :class:`~scorecard.microdata.Microdata`.

    Parameters
    ----------
    ddi_path : str or Path
        The extract's DDI codebook (``usa_00012.xml``), a rectangular person
        extract.
    data_path : str or Path, optional
        The data file (``.dat``, ``.dat.gz``, ``.csv`` or ``.csv.gz``). By
        default the file the DDI names, looked up next to the DDI (with or
        without ``.gz``).
    dollars_year : int, optional
        Express income in constant dollars of this year (CPI-U-RS, via
        :func:`scorecard.sources.dollars.to_constant_dollars`). Census income
        refers to the previous calendar year, ACS income to the survey year
        (the last year for multi-year samples, which IPUMS already states in
        that year's dollars). By default income stays in nominal dollars and
        ``attrs["dollars_year"]`` is None.
    cache : bool, default=True
        Load from / save to the Parquet cache (:mod:`scorecard.sources.cache`),
        keyed by the content of the DDI and data file, the options and the
        code tables.
    cache_dir : path, optional
        Cache folder; default ``$SCORECARD_CACHE_DIR`` or the platform cache
        directory. ``False`` also disables the cache.
    chunksize : int, default=100_000
        Records read and harmonized at a time.

    Returns
    -------
    Microdata
        One row per person; person / household replicate matrices (N, 80)
        when the extract has REPWTP1-80 / REPWT1-80, else ``variance_strata``
        and ``variance_cluster`` from STRATA and CLUSTER.

    Raises
    ------
    MissingColumnsError
        The extract lacks needed variables (the message lists which to add).
    UnknownCodeError
        A variable holds a code the code tables do not know, or one that
        cannot be harmonized (names the file, variable, codes and rows).
    InvalidWeightError, ReplicateCountError, DuplicateRecordError, UnreadableFileError
        Each names the file, variable and value, and what to do.
    scorecard.sources.dollars.DollarsYearError
        ``dollars_year`` or an income year has no verified CPI-U-RS value.

    Warns
    -----
    UserWarning
        When the extract has neither replicate weights nor STRATA and CLUSTER.
    ipumspy.readers.CitationWarning
        ipumspy's reminder of the IPUMS citation conditions, each time the
        DDI is parsed; ``attrs["citation"]`` holds the citation to use.

    Examples
    --------
    >>> import tempfile, warnings, sys, pathlib
    >>> sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
    >>> from ipums_fixture import census2000_records, write_extract
    >>> ddi, data = write_extract(tempfile.mkdtemp(), census2000_records(), fmt="csv")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     micro = read_ipums(ddi, data_path=data, cache=False)
    >>> micro.variance_method, micro.frame["puma_vintage"].unique().tolist()
    ('linearization', [2000])
    >>> micro.report.read == micro.report.kept + sum(micro.report.dropped.values())
    True
    """
    ddi_path = Path(ddi_path)
    if dollars_year is not None and (not isinstance(dollars_year, int | np.integer) or isinstance(dollars_year, bool)):
        raise TypeError(
            f"The 'dollars_year' parameter of read_ipums must be an int or None. Got {dollars_year!r} instead."
        )
    if not isinstance(chunksize, int | np.integer) or chunksize < 1:
        raise ValueError(f"The 'chunksize' parameter of read_ipums must be a positive int. Got {chunksize!r} instead.")
    codebook = _read_codebook(ddi_path)
    data_path = _resolve_data_path(ddi_path, codebook, data_path)

    def build() -> Microdata:
        return _read_uncached(ddi_path, codebook, data_path, dollars_year, chunksize)

    if not cache or cache_dir is False:
        micro = _cache.cached(None, build, enabled=False)
    else:
        key = [
            "read_ipums",
            [ddi_path.name, _cache.file_digest(ddi_path)],
            [data_path.name, _cache.file_digest(data_path)],
            dollars_year,
            _code_tables_digest(),
            None if dollars_year is None else _dollars.load_cpi_u_rs().to_json(),
        ]
        micro = _cache.cached(key, build, cache_dir=cache_dir)
    if micro.variance_method == "none":
        warnings.warn(
            f"{data_path.name}: the extract has neither replicate weights (REPWTP1-80 / REPWT1-80) nor STRATA and "
            "CLUSTER, so no standard errors can be computed. Add REPWTP and REPWT (ACS samples) or STRATA and "
            "CLUSTER to the extract.",
            UserWarning,
            stacklevel=2,
        )
    return micro


def _read_uncached(ddi_path: Path, codebook, data_path: Path, dollars_year: int | None, chunksize: int) -> Microdata:
    source = data_path.name
    plan = _plan(codebook, source)
    recoder = _Recoder(source)
    pieces: list[_Chunk] = []
    offset = 0
    for raw in _chunks(codebook, data_path, plan.subset, chunksize, fast=_FAST_FIXED_WIDTH):
        pieces.append(_harmonize(raw.reset_index(drop=True), plan, recoder, offset))
        offset += len(raw)
    if offset == 0:
        raise UnreadableFileError(f"{data_path}: the data file holds no records. Download the extract again.")

    keys = pd.concat([p.keys for p in pieces], ignore_index=True)
    _check_duplicates(keys, source)
    check_weights(np.concatenate([p.weights for p in pieces]), source=source, columns=["PERWT", "HHWT"],
                  what="Full-sample weights")  # fmt: skip
    replicates = {}
    for name, columns in (
        ("person_replicates", plan.person_replicates),
        ("household_replicates", plan.household_replicates),
    ):
        if not columns:
            replicates[name] = None
            continue
        matrix = np.concatenate([getattr(p, name) for p in pieces])
        # Negative replicate weights occur in real ACS data: kept, counted by Microdata.negative_replicate_weights.
        check_weights(matrix, source=source, columns=columns, what="Replicate weights", allow_negative=True)
        replicates[name] = matrix.astype(np.float32)

    keep = np.concatenate([p.keep for p in pieces])
    frame = pd.concat([p.frame for p in pieces], ignore_index=True)
    samples = keys["SAMPLE"].to_numpy()
    if not keep.all():
        frame = frame.loc[keep].reset_index(drop=True)
        samples = samples[keep]
        replicates = {k: None if v is None else v[keep] for k, v in replicates.items()}
    if dollars_year is not None:
        frame = _to_constant_dollars(frame, _income_years(frame, plan.sample_labels, samples), int(dollars_year))
    frame = schema.coerce(frame, source=source)
    check_ranges(frame, source="ipums", name=source)

    report = RecordReport.single(source, read=offset, dropped=dict(recoder.drops), notes=dict(recoder.notes))
    present_samples = sorted(int(s) for s in pd.unique(samples))
    attrs = {
        "source": source,
        "sources": [str(data_path)],
        "survey": "IPUMS USA",
        "ddi": str(ddi_path),
        "samples": {str(s): plan.sample_labels.get(s, str(s)) for s in present_samples},
        "dollars_year": None if dollars_year is None else int(dollars_year),
        "dollars": "nominal (income year of each sample)" if dollars_year is None else f"constant {dollars_year}",
        "citation": codebook.ipums_citation,
    }
    return Microdata(frame, report=report, attrs=attrs, **replicates)
