"""data.census.gov download files: ``ACSST5Y2024.S0501-Data.csv[.gz]`` and the like.

The layout differs from a Census Data API response in one way: row 1 holds
the variable codes (``GEO_ID, NAME, S0501_C01_001E, S0501_C01_001M, ...``)
and row 2 their labels (``Geography``, ``Estimate!!Total!!Total population``,
``Margin of Error!!...``); places follow. The labels of the estimate columns
are the legend, so the file is read by :func:`read_acs_table` with a legend
built from its own second row. Survey and year come from the file name
(``ACSST5Y2024`` = ACS 5-year subject table, 2020-2024; ``ACSDT1Y2019`` =
1-year detailed table, 2019).

Examples
--------
>>> download_file_parts("ACSST5Y2024.S0501-Data.csv.gz")
('acs5', 2024, 'S0501')
>>> download_file_parts("psam_p25.csv") is None
True
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd

from scorecard.errors import TableError
from scorecard.tables.api_files import AcsTable, read_acs_table

__all__ = ["read_download_table", "download_file_parts", "DOWNLOAD_PATTERN"]

#: File names data.census.gov gives table downloads.
DOWNLOAD_PATTERN = re.compile(r"ACS(?:DT|ST|DP|SPP|CP)([135])Y(\d{4})\.([A-Z0-9]+)-Data\.csv(?:\.gz)?$", re.IGNORECASE)
_GEOGRAPHY_LABELS = {"GEO_ID": "Geography", "NAME": "Geographic Area Name"}
#: Label text as a CSV reader returns it -> the published label. data.census.gov writes the quotes inside
#: 'less than "very well"' unescaped, so a CSV reader drops the opening one; the 2024 labels also spell the
#: S0501 column "Foreign-born" where the catalog keeps the earlier "Foreign born".
_LABEL_REPAIRS = {'less than very well""': 'less than "very well"', "Foreign-born": "Foreign born"}


def download_file_parts(name: str | Path) -> tuple[str, int, str] | None:
    """``(survey, year, table)`` of a data.census.gov file name, or ``None`` if it is not one."""
    match = DOWNLOAD_PATTERN.search(Path(name).name)
    if match is None:
        return None
    return f"acs{match.group(1)}", int(match.group(2)), match.group(3).upper()


def read_download_table(path: str | Path, *, year: int | None = None, survey: str | None = None) -> AcsTable:
    """Read one data.census.gov table download (codes in row 1, labels in row 2) as an :class:`AcsTable`."""
    path = Path(path)
    parts = download_file_parts(path)
    try:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig", low_memory=False)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise TableError(f"{path.name}: cannot be read as a data.census.gov CSV download ({error}).") from error
    if len(raw) < 2:
        raise TableError(
            f"{path.name}: expected variable codes in row 1 and labels in row 2; the file has {len(raw)} row(s)."
        )
    codes, labels = raw.iloc[0].str.strip(), raw.iloc[1].str.strip()
    if "GEO_ID" not in codes.tolist() or labels.iloc[codes.tolist().index("GEO_ID")] != _GEOGRAPHY_LABELS["GEO_ID"]:
        raise TableError(
            f"{path.name}: row 1 should hold the variable codes (GEO_ID, NAME, ...) and row 2 their labels "
            f"(Geography, ...); found {codes.tolist()[:3]} / {labels.tolist()[:3]}. Is this a data.census.gov download?"
        )
    keep = [i for i, code in enumerate(codes) if code]  # data.census.gov ends rows with a comma: an empty column
    frame = raw.iloc[2:, keep].set_axis(codes.iloc[keep].tolist(), axis=1).reset_index(drop=True)
    for found, published in _LABEL_REPAIRS.items():
        labels = labels.str.replace(found, published, regex=False)
    legend = {
        code: label for code, label in zip(codes.iloc[keep], labels.iloc[keep], strict=True) if code.endswith("E")
    }
    read = read_acs_table(
        frame,
        legend=legend,
        year=year if year is not None else (parts[1] if parts else None),
        survey=survey or (parts[0] if parts else None),
        table=parts[2] if parts else None,
    )
    return dataclasses.replace(read, source=path.name)  # the file, not "table frame", in the provenance
