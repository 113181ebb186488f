"""Find and read the files of an IPUMS USA extract: the DDI codebook and the data, in chunks.

File handling for :func:`scorecard.sources.ipums.read_ipums`: parsing the DDI
codebook (with :mod:`ipumspy`), finding the data file next to it, and reading
the data ``chunksize`` records at a time, fixed-width files with a numpy
parser driven by the DDI layout, CSV files (or fixed width on request) with
:mod:`ipumspy`.
"""

from __future__ import annotations

import gzip
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.errors import UnreadableFileError

__all__: list[str] = []  # helpers of read_ipums only


# ---------------------------------------------------------------------------- files
def _read_codebook(ddi_path: Path):
    from ipumspy import readers

    if not ddi_path.is_file():
        raise UnreadableFileError(f"{ddi_path}: the DDI codebook does not exist. Pass the .xml file IPUMS delivered.")
    if ddi_path.stat().st_size == 0:
        raise UnreadableFileError(f"{ddi_path}: the DDI codebook is empty. Download it again from IPUMS USA.")
    try:
        codebook = readers.read_ipums_ddi(ddi_path)
    except (ET.ParseError, AttributeError, KeyError, ValueError, RuntimeError, OSError) as error:  # RuntimeError: ipumspy refuses some layouts
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


def _chunks(codebook, data_path: Path, subset: list[str], chunksize: int, *, fast: bool) -> Iterator[pd.DataFrame]:
    """Chunks of raw records; ``fast`` parses fixed-width files with numpy (see ``ipums._FAST_FIXED_WIDTH``)."""
    from ipumspy import readers

    if fast and ".dat" in data_path.suffixes:
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
