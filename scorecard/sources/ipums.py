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

import gzip
import hashlib
import itertools
import re
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard import schema
from scorecard.errors import (
    DuplicateRecordError,
    MissingColumnsError,
    ReplicateCountError,
    UnknownCodeError,
    UnreadableFileError,
)
from scorecard.microdata import Microdata, RecordReport, check_weights, find_replicate_columns
from scorecard.sources import cache as _cache
from scorecard.sources import dollars as _dollars

__all__ = ["read_ipums", "REQUIRED_VARIABLES", "OPTIONAL_VARIABLES", "code_table"]

#: IPUMS USA variables every extract must include.
REQUIRED_VARIABLES = (
    "YEAR", "SAMPLE", "SERIAL", "PERNUM", "STATEFIP", "PUMA", "GQ", "RELATE", "AGE", "SEX", "CITIZEN",
    "YRIMMIG", "SPEAKENG", "POVERTY", "INCTOT", "HHINCOME", "OWNERSHPD", "UHRSWORK", "PERWT", "HHWT",
)  # fmt: skip
#: Variables used when present (WKSWORK1 or WKSWORK2 is required; replicate weights are REPWTP1-80 / REPWT1-80).
OPTIONAL_VARIABLES = ("MULTYEAR", "CITY", "MET2013", "OWNERSHP", "INCEARN", "WKSWORK1", "WKSWORK2", "STRATA", "CLUSTER")
#: Extra IPUMS columns carried unchanged into ``Microdata.frame`` when present.
_KEEP = ("CITY", "MET2013")
_INCOME = {"person_income": "INCTOT", "earnings": "INCEARN", "household_income": "HHINCOME"}
_MULTIYEAR_LABEL = re.compile(r"(?P<first>\d{4})-(?P<last>\d{4}),\s*(?:ACS|PRCS)\s+\d-year")
_ADD_HINT = (
    "Add them to the extract in the IPUMS USA extract system (usa.ipums.org, 'Select data'), "
    "then download the new .dat.gz and its DDI .xml."
)


# ---------------------------------------------------------------------------- code tables
@cache
def code_table(name: str) -> pd.DataFrame:
    """The IPUMS code table ``scorecard/sources/codes/ipums_<name>.csv``.

    Tables with a ``code`` column map each IPUMS code to harmonized values and
    a ``status``: ``ok``, ``note`` (kept, counted in the report with
    ``reason``), ``drop`` (record dropped for ``reason``) or ``refuse`` (the
    code cannot be harmonized; reading fails with ``reason``).

    Examples
    --------
    >>> code_table("speakeng").set_index("code").loc[4, "english"]
    'very_well'
    >>> code_table("puma_vintage")["puma_vintage"].tolist()
    [1980, 1990, 2000, 2010, 2020]
    """
    path = files("scorecard.sources") / "codes" / f"ipums_{name}.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("code", "first_year", "last_year", "puma_vintage"):
        if column in table:
            table[column] = table[column].astype("int64")
    return table


def _table_file(name: str) -> str:
    return f"scorecard/sources/codes/ipums_{name}.csv"


def _as_float(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="float64", na_value=np.nan)


@dataclass
class _Chunk:
    """One harmonized chunk plus what the report needs."""

    frame: pd.DataFrame
    keep: np.ndarray
    person_replicates: np.ndarray | None
    household_replicates: np.ndarray | None
    weights: np.ndarray
    keys: pd.DataFrame


class _Recoder:
    """Looks codes up in the code tables and counts notes and drops across chunks."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.notes: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()

    def lookup(
        self, values: pd.Series, table_name: str, *, variable: str, offset: int
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Row index into the code table for every value (raises on unknown/refused codes)."""
        table = code_table(table_name)
        codes = _as_float(values)
        index = pd.Index(table["code"].astype("float64")).get_indexer(codes)
        unknown = index < 0
        if unknown.any():
            positions = np.flatnonzero(unknown)
            found = pd.unique(codes[positions])
            raise UnknownCodeError(
                self.source,
                variable,
                [None if np.isnan(c) else int(c) for c in found],
                rows=(positions + offset).tolist(),
                allowed=table["code"].tolist(),
                hint=f"Known {variable} codes are listed in {_table_file(table_name)}; "
                "is this an IPUMS USA extract, and is the data file the one its DDI describes?",
            )
        status = table["status"].to_numpy()[index]
        refused = status == "refuse"
        if refused.any():
            positions = np.flatnonzero(refused)
            first = table.iloc[index[positions[0]]]
            raise UnknownCodeError(
                self.source,
                variable,
                pd.unique(table["code"].to_numpy()[index[positions]]).tolist(),
                rows=(positions + offset).tolist(),
                allowed=table.loc[table["status"] != "refuse", "code"].tolist(),
                hint=f"{first['reason']} (see {_table_file(table_name)}).",
            )
        counts = np.bincount(index, minlength=len(table))
        for row in np.flatnonzero(counts):
            if table["status"].iat[row] == "note":
                self.notes[table["reason"].iat[row]] += int(counts[row])
            elif table["status"].iat[row] == "drop":
                self.drops[table["reason"].iat[row]] += int(counts[row])
        return table, index


def _special_to_nan(values: pd.Series, variable: str) -> np.ndarray:
    """Numbers of ``variable`` with its N/A codes (ipums_special_values.csv) set to NaN."""
    numbers = _as_float(values)
    table = code_table("special_values")
    missing = table.loc[(table["variable"] == variable) & (table["meaning"] == "missing"), "code"]
    return np.where(np.isin(numbers, missing.astype("float64").to_numpy()), np.nan, numbers)


# ---------------------------------------------------------------------------- files
def _read_codebook(ddi_path: Path):
    from ipumspy import readers

    if not ddi_path.is_file():
        raise UnreadableFileError(f"{ddi_path}: the DDI codebook does not exist. Pass the .xml file IPUMS delivered.")
    if ddi_path.stat().st_size == 0:
        raise UnreadableFileError(f"{ddi_path}: the DDI codebook is empty. Download it again from IPUMS USA.")
    try:
        codebook = readers.read_ipums_ddi(ddi_path)
    except (ET.ParseError, AttributeError, KeyError, ValueError, NotImplementedError, OSError) as error:
        raise UnreadableFileError(
            f"{ddi_path}: not a readable IPUMS DDI codebook ({type(error).__name__}: {error}). "
            "Pass the .xml codebook delivered with the extract."
        ) from error
    if codebook.file_description.structure != "rectangular":
        raise UnreadableFileError(
            f"{ddi_path}: the extract is {codebook.file_description.structure}; read_ipums needs a rectangular "
            "(person-level) extract. Choose 'Rectangular (person)' structure in the IPUMS extract options."
        )
    return codebook


def _resolve_data_path(ddi_path: Path, codebook, data_path: str | Path | None) -> Path:
    if data_path is not None:
        path = Path(data_path)
        if not path.is_file():
            raise UnreadableFileError(f"{path}: the data file does not exist.")
        candidates = [path]
    else:
        name = Path(codebook.file_description.filename).name
        stem = name.split(".")[0]
        names = [name + ".gz", name] + [f"{stem}{suffix}" for suffix in (".dat.gz", ".dat", ".csv.gz", ".csv")]
        candidates = [ddi_path.parent / n for n in dict.fromkeys(names) if (ddi_path.parent / n).is_file()]
        if not candidates:
            raise UnreadableFileError(
                f"{ddi_path}: its data file {name} (or {name}.gz) is not next to it in {ddi_path.parent}. "
                "Pass data_path= with the .dat.gz or .csv.gz file of the extract."
            )
    path = candidates[0]
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{path}: the data file is empty. Download the extract again.")
    if ".dat" not in path.suffixes and ".csv" not in path.suffixes:
        raise UnreadableFileError(
            f"{path}: unsupported data file type {''.join(path.suffixes)!r}; IPUMS extracts are .dat(.gz) or .csv(.gz)."
        )
    return path


#: Parse fixed-width data with numpy (about 50x faster than ipumspy's pandas.read_fwf); False uses ipumspy.
_FAST_FIXED_WIDTH = True


def _fixed_width_chunks(codebook, data_path: Path, subset: list[str], chunksize: int) -> Iterator[pd.DataFrame]:
    """Fixed-width records parsed with numpy, ``chunksize`` lines at a time, from the DDI layout.

    Fields are decimal integers, zero- or blank-padded, optionally signed;
    an all-blank field is missing (NaN); ``dcml`` implied decimals are applied.
    """
    layout = sorted(
        (v.start, v.end - v.start, v.shift or 0, v.name) for v in codebook.data_description if v.name in set(subset)
    )
    needed = max(start + width for start, width, _, _ in layout)
    # Runs of adjacent fields with the same width and decimals (e.g. REPWTP1-80) are parsed as one block.
    runs: list[tuple[list[str], int, int, int]] = []
    for start, width, decimals, name in layout:
        last = runs[-1] if runs else None
        if last and last[2] == width and last[3] == decimals and last[1] + len(last[0]) * width == start:
            last[0].append(name)
        else:
            runs.append(([name], start, width, decimals))
    opener = gzip.open if data_path.suffix == ".gz" else open
    offset = 0
    with opener(data_path, "rb") as stream:
        while True:
            lines = [line.rstrip(b"\r\n") for line in itertools.islice(stream, chunksize)]
            if not lines:
                return
            lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
            short = np.flatnonzero(lengths < needed)
            if len(short):
                raise UnreadableFileError(
                    f"{data_path}: record {offset + short[0]} has {lengths[short[0]]} characters; the DDI layout needs "
                    f"{needed}. Was the file truncated, or does it belong to another extract?"
                )
            width = int(lengths.max())
            text = b"".join(line.ljust(width) for line in lines) if (lengths != width).any() else b"".join(lines)
            buffer = np.frombuffer(text, dtype=np.uint8).reshape(len(lines), width)
            columns = {}
            for names, start, field_width, decimals in runs:
                values = _parse_fields(buffer[:, start : start + len(names) * field_width], len(names), field_width)
                if isinstance(values, int):
                    row, field = divmod(values, len(names))
                    shown = bytes(buffer[row, start + field * field_width : start + (field + 1) * field_width])
                    raise UnreadableFileError(
                        f"{data_path}: variable {names[field]} of record {offset + row} is "
                        f"{shown.decode('latin-1')!r}, not a number. Does the data file belong to this DDI?"
                    )
                if decimals:
                    values /= 10**decimals
                columns.update(zip(names, values.T))
            offset += len(lines)
            yield pd.DataFrame(columns)


def _parse_fields(block: np.ndarray, count: int, width: int) -> np.ndarray | int:
    """Numbers in ``count`` adjacent fields of ``width`` bytes: (rows, count) float64, NaN where blank.

    Returns the flat position (row * count + field) of the first field holding a
    character other than a digit, a blank or a minus sign instead.
    """
    fields = block.reshape(len(block), count, width)
    value = np.zeros(fields.shape[:2], dtype=np.int64)
    negative = np.zeros(fields.shape[:2], dtype=bool)
    blank = np.ones(fields.shape[:2], dtype=bool)
    bad = np.zeros(fields.shape[:2], dtype=bool)
    for position in range(width):
        character = fields[:, :, position]
        digit = (character >= 48) & (character <= 57)
        space = character == 32
        minus = character == 45
        value = value * 10 + np.where(digit, character, 48).astype(np.int64) - 48
        negative |= minus
        blank &= space
        bad |= ~(digit | space | minus)
    if bad.any():
        return int(np.flatnonzero(bad)[0])
    numbers = np.where(negative, -value, value).astype("float64")
    numbers[blank] = np.nan
    return numbers


def _chunks(codebook, data_path: Path, subset: list[str], chunksize: int) -> Iterator[pd.DataFrame]:
    from ipumspy import readers

    if _FAST_FIXED_WIDTH and ".dat" in data_path.suffixes:
        reader = _fixed_width_chunks(codebook, data_path, subset, chunksize)
    else:
        reader = readers.read_microdata_chunked(codebook, filename=data_path, subset=subset, chunksize=chunksize)
    while True:
        try:
            chunk = next(reader)
        except StopIteration:
            return
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError, OSError, EOFError,
                UnicodeDecodeError, gzip.BadGzipFile) as error:  # fmt: skip
            raise UnreadableFileError(
                f"{data_path}: cannot be read as the data file its DDI describes ({type(error).__name__}: {error}). "
                "Was it truncated, or does it belong to another extract?"
            ) from error
        yield chunk


# ---------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class _Plan:
    subset: list[str]
    person_replicates: list[str]
    household_replicates: list[str]
    has: frozenset[str]
    sample_labels: Mapping[int, str]


def _plan(codebook, source: str) -> _Plan:
    names = [v.name.upper() for v in codebook.data_description]
    present = set(names)
    missing = set(REQUIRED_VARIABLES) - present
    if not present & {"WKSWORK1", "WKSWORK2"}:
        missing.add("WKSWORK1")
    if missing:
        hint = _ADD_HINT
        if "OWNERSHPD" in missing and "OWNERSHP" in present:
            hint = (
                "OWNERSHPD (the detailed version of OWNERSHP) is needed because OWNERSHP alone cannot tell owners "
                "with a mortgage from owners free and clear; select detailed codes for OWNERSHP. " + _ADD_HINT
            )
        raise MissingColumnsError(source, missing, hint)
    replicates = {}
    for prefix in ("REPWTP", "REPWT"):
        columns = find_replicate_columns(names, prefix)
        if len(columns) not in (0, schema.N_REPLICATES):
            raise ReplicateCountError(
                f"{source}: found {len(columns)} {prefix} replicate-weight variables ({columns[0]}..{columns[-1]}); "
                f"expected 0 or {schema.N_REPLICATES}. Include all 80 ({prefix}1-{prefix}80) or none in the extract."
            )
        replicates[prefix] = columns
    optional = [v for v in OPTIONAL_VARIABLES if v in present]
    subset = [*REQUIRED_VARIABLES, *optional, *replicates["REPWTP"], *replicates["REPWT"]]
    sample = next(v for v in codebook.data_description if v.name.upper() == "SAMPLE")
    labels = {int(code): str(label) for label, code in sample.codes.items() if str(code).lstrip("-").isdigit()}
    return _Plan(subset, replicates["REPWTP"], replicates["REPWT"], frozenset(present), labels)


# ---------------------------------------------------------------------------- harmonizing
def _puma_vintage(raw: pd.DataFrame, plan: _Plan, recoder: _Recoder, offset: int) -> np.ndarray:
    year = _as_float(raw["YEAR"])
    table = code_table("puma_vintage")
    for sample in pd.unique(_as_float(raw["SAMPLE"])):
        match = _MULTIYEAR_LABEL.search(plan.sample_labels.get(int(sample), "")) if np.isfinite(sample) else None
        if match is None or "MULTYEAR" in plan.has:
            continue
        first, last = int(match["first"]), int(match["last"])
        spans = np.searchsorted(table["first_year"].to_numpy(), [first, last], side="right")
        if spans[0] != spans[1] and last < 2023:
            raise MissingColumnsError(
                recoder.source,
                {"MULTYEAR"},
                f"Sample {int(sample)} ({match[0]}) spans a change of PUMA boundaries, and IPUMS reports each "
                "interview's PUMA in the boundaries of its survey year (MULTYEAR). " + _ADD_HINT,
            )
    interview = year
    if "MULTYEAR" in plan.has:
        multyear = _as_float(raw["MULTYEAR"])
        # From the 2023 5-year sample on, the Census Bureau reports 2020 PUMAs for every survey year.
        interview = np.where((multyear > 0) & (year < 2023), multyear, year)
    position = np.searchsorted(table["first_year"].to_numpy(), interview, side="right") - 1
    valid = (position >= 0) & np.isfinite(interview)
    valid[valid] &= interview[valid] <= table["last_year"].to_numpy()[position[valid]]
    if not valid.all():
        rows = np.flatnonzero(~valid)
        raise UnknownCodeError(
            recoder.source,
            "YEAR",
            [None if np.isnan(y) else int(y) for y in pd.unique(interview[rows])],
            rows=(rows + offset).tolist(),
            allowed=[f"{a}-{b}" for a, b in zip(table["first_year"], table["last_year"])],
            hint=f"PUMA vintages are known for these survey years only ({_table_file('puma_vintage')}).",
        )
    return table["puma_vintage"].to_numpy()[position]


def _identifiers(raw: pd.DataFrame, source: str, offset: int) -> dict[str, np.ndarray]:
    numbers = {}
    for variable in ("YEAR", "SAMPLE", "SERIAL", "PERNUM", "STATEFIP", "PUMA"):
        values = _as_float(raw[variable])
        bad = ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise UnknownCodeError(
                source,
                variable,
                [None],
                rows=(rows + offset).tolist(),
                allowed=["integers"],
                hint=f"{variable} must be present on every record; was the data file truncated or edited?",
            )
        numbers[variable] = values.astype(np.int64)
    return numbers


def _harmonize(raw: pd.DataFrame, plan: _Plan, recoder: _Recoder, offset: int) -> _Chunk:
    source = recoder.source
    ids = _identifiers(raw, source, offset)
    gq_table, gq = recoder.lookup(raw["GQ"], "gq", variable="GQ", offset=offset)
    in_household = gq_table["in_household"].to_numpy()[gq] == "true"
    keep = gq_table["status"].to_numpy()[gq] != "drop"
    relate_table, relate = recoder.lookup(raw["RELATE"], "relate", variable="RELATE", offset=offset)
    sex_table, sex = recoder.lookup(raw["SEX"], "sex", variable="SEX", offset=offset)
    cit_table, cit = recoder.lookup(raw["CITIZEN"], "citizen", variable="CITIZEN", offset=offset)
    eng_table, eng = recoder.lookup(raw["SPEAKENG"], "speakeng", variable="SPEAKENG", offset=offset)
    own_table, own = recoder.lookup(raw["OWNERSHPD"], "ownershpd", variable="OWNERSHPD", offset=offset)

    def categories(table: pd.DataFrame, index: np.ndarray, column: str, where: np.ndarray | None = None):
        values = table[column].replace("", None).to_numpy(dtype=object)[index]
        return values if where is None else np.where(where, values, None)

    nativity = categories(cit_table, cit, "nativity")
    foreign_born = nativity == "foreign_born"
    year_of_entry = np.where(foreign_born, _special_to_nan(raw["YRIMMIG"], "YRIMMIG"), np.nan)
    unknown_entry = int((foreign_born & np.isnan(year_of_entry) & keep).sum())
    if unknown_entry:
        recoder.notes["YRIMMIG 0/996: foreign-born without a year of immigration; year_of_entry set to <NA>"] += (
            unknown_entry
        )
    hours = _as_float(raw["UHRSWORK"])
    if "WKSWORK1" in plan.has:
        full_year = _as_float(raw["WKSWORK1"]) >= 50
    else:
        full_year = _as_float(raw["WKSWORK2"]) == 6
    poverty = _special_to_nan(raw["POVERTY"], "POVERTY") / 100.0
    data: dict[str, object] = {
        "survey_year": ids["YEAR"],
        "state": pd.Series(ids["STATEFIP"]).astype(str).str.zfill(2).to_numpy(),
        "puma": pd.Series(ids["PUMA"]).astype(str).str.zfill(5).to_numpy(),
        "puma_vintage": _puma_vintage(raw, plan, recoder, offset),
        "household_id": (pd.Series(ids["SAMPLE"]).astype(str) + "-" + pd.Series(ids["SERIAL"]).astype(str)).to_numpy(),
        "person_id": ids["PERNUM"],
        "is_householder": (relate_table["is_reference_person"].to_numpy()[relate] == "true") & in_household,
        "age": _special_to_nan(raw["AGE"], "AGE"),
        "sex": categories(sex_table, sex, "sex"),
        "nativity": nativity,
        "citizenship": categories(cit_table, cit, "citizenship"),
        "year_of_entry": year_of_entry,
        "english": categories(eng_table, eng, "english"),
        "poverty_ratio": poverty,
        "person_income": _special_to_nan(raw["INCTOT"], "INCTOT"),
        "household_income": np.where(in_household, _special_to_nan(raw["HHINCOME"], "HHINCOME"), np.nan),
        "full_time_year_round": (hours >= 35) & full_year,
        "tenure": categories(own_table, own, "tenure", where=in_household),
        "person_weight": _as_float(raw["PERWT"]),
        "household_weight": _as_float(raw["HHWT"]),
    }
    if "INCEARN" in plan.has:
        data["earnings"] = _special_to_nan(raw["INCEARN"], "INCEARN")
    for variable, column in (("STRATA", "variance_strata"), ("CLUSTER", "variance_cluster"), *((v, v) for v in _KEEP)):
        if variable in plan.has:
            data[column] = raw[variable].astype("Int64").array
    frame = pd.DataFrame(data)

    def matrix(columns: list[str]) -> np.ndarray | None:
        if not columns:
            return None
        return raw[columns].to_numpy(dtype="float64", na_value=np.nan)

    return _Chunk(
        frame=frame,
        keep=keep,
        person_replicates=matrix(plan.person_replicates),
        household_replicates=matrix(plan.household_replicates),
        weights=np.column_stack([data["person_weight"], data["household_weight"]]),
        keys=pd.DataFrame({"SAMPLE": ids["SAMPLE"], "SERIAL": ids["SERIAL"], "PERNUM": ids["PERNUM"]}),
    )


def _check_duplicates(keys: pd.DataFrame, source: str) -> None:
    duplicated = keys.duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        first = keys.iloc[rows[0]]
        shown = ", ".join(str(r) for r in rows[:5])
        raise DuplicateRecordError(
            f"{source}: {len(rows)} records share (SAMPLE, SERIAL, PERNUM) with another record (rows {shown}; "
            f"e.g. SAMPLE {first['SAMPLE']}, SERIAL {first['SERIAL']}, PERNUM {first['PERNUM']}). "
            "Each person appears once in an IPUMS extract; were two extracts concatenated?"
        )


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
    for raw in _chunks(codebook, data_path, plan.subset, chunksize):
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
