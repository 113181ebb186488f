"""Open ACS PUMS CSV files (plain, gzip or zip members) and read the needed columns with pyarrow.

File handling for :func:`scorecard.sources.acs_pums.read_acs_pums`: checking the
paths, listing the CSV members of Census zip archives, reading the header,
matching the needed columns to the file's spelling of them, and reading those
columns (codes as text, weights as numbers) into a frame plus a replicate-weight
matrix.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from scorecard import schema
from scorecard.errors import MissingColumnsError, ReplicateCountError, UnreadableFileError
from scorecard.microdata import check_weights
from scorecard.ranges import check_matrix
from scorecard.sources import cache as _cache

__all__: list[str] = []  # helpers of read_acs_pums only


@dataclass(frozen=True)
class _Member:
    """One CSV: a plain/gzip file, or a member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.member is None else f"{self.path.name}/{self.member}"


# --------------------------------------------------------------------------- files
def _as_paths(value, what: str) -> list[Path]:
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    if not items:
        raise UnreadableFileError(f"read_acs_pums got no {what} files; pass at least one path.")
    paths = [Path(item) for item in items]
    for path in paths:
        if path.is_dir():
            raise UnreadableFileError(
                f"{path} is a folder; read_acs_pums takes the {what} files themselves, e.g. "
                f"sorted(Path({str(path)!r}).glob('psam_{what[0]}*.csv'))."
            )
        if not path.is_file():
            raise UnreadableFileError(f"{path}: no such file. Check the path of the {what} file.")
    resolved = [p.resolve() for p in paths]
    repeated = sorted({str(p) for p, r in zip(paths, resolved) if resolved.count(r) > 1})
    if repeated:
        raise UnreadableFileError(
            f"read_acs_pums got the {what} file {repeated[0]} more than once; every record would be counted twice. "
            "Pass each file once."
        )
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


@contextlib.contextmanager
def _open_binary(source: _Member) -> Iterator[BinaryIO]:
    """Binary handle on ``source`` for a ``with`` block; leaving it closes the handle and its zip archive."""
    with contextlib.ExitStack() as stack:
        if source.member is not None:
            archive = stack.enter_context(zipfile.ZipFile(source.path))
            handle = stack.enter_context(archive.open(source.member))
        elif source.path.name.lower().endswith(".gz"):
            handle = stack.enter_context(gzip.open(source.path, "rb"))
        else:
            handle = stack.enter_context(open(source.path, "rb"))
        yield handle


def _header(source: _Member) -> list[str]:
    try:
        with _open_binary(source) as handle, io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace") as text:
            line = text.readline()
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise UnreadableFileError(f"{source.name}: cannot be read ({error}). Download the file again.") from None
    names = [name.strip().strip('"') for name in line.strip().split(",")]
    if not line.strip() or not any(names):
        raise UnreadableFileError(f"{source.name} is empty (no header line). Download the file again.")
    upper = pd.Series([name.upper() for name in names])
    if upper.duplicated().any():
        twice = sorted(set(upper[upper.duplicated()]))
        raise UnreadableFileError(
            f"{source.name}: columns {twice[:5]} appear more than once in the header; Census PUMS files name each "
            "column once. Which one is right? Remove the extra copy (was the file joined with another?)."
        )
    separator = next((sep for sep in (";", "\t", "|") if len(names) == 1 and sep in names[0]), None)
    if separator is not None:
        raise UnreadableFileError(
            f"{source.name}: the header is one column split by {separator!r}, not by commas ({line.strip()[:60]!r}). "
            "Census PUMS files are comma-separated; save the file as CSV with commas (or download it again)."
        )
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
        raise UnreadableFileError(_parse_error_message(source, error, floats)) from None
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
        check_matrix(replicates, source="acs_pums", column="replicate_weights", names=replicate_columns,
                     name=source.name)
    return _Table(frame, replicates)


def _parse_error_message(source: _Member, error: Exception, floats: set[str]) -> str:
    """What pyarrow could not parse, with the column's name (its messages give only a column number)."""
    text = str(error)
    found = re.search(r"CSV column #(\d+)", text)
    column = None
    if found:
        with contextlib.suppress(UnreadableFileError, IndexError):
            column = _header(source)[int(found.group(1))]
    where = f"column {column}" if column else "a column"
    if "invalid UTF8" in text:
        return (
            f"{source.name}: {where} holds bytes that are not UTF-8 text ({text}). Census PUMS files are ASCII; "
            "the file was edited or saved in another encoding (Latin-1?). Download it again."
        )
    if "conversion error to" in text and column is not None:
        kind = "weights" if column.upper() in floats or column.upper().startswith(("PWGTP", "WGTP")) else "values"
        return (
            f"{source.name}: {where} holds a value that is not a number ({text}); its {kind} must be numbers. "
            "Check that the file is complete and unedited."
        )
    return f"{source.name}: cannot be parsed as a PUMS CSV ({text}). Check that the file is complete and unedited."


def _check_replicate_count(name: str, columns: list[str]) -> None:
    if len(columns) not in (0, schema.N_REPLICATES):
        raise ReplicateCountError(
            f"{name}: found {len(columns)} replicate-weight columns ({columns[0]}..{columns[-1]}); expected 0 or "
            f"{schema.N_REPLICATES}. Use the complete Census file (all 80 replicate weights) or drop them all."
        )
