"""Write small IPUMS USA extracts (DDI codebook + data file) for the tests.

The files follow what the IPUMS USA extract system delivers: a DDI 2.5
codebook (``usa_NNNNN.xml``) whose ``var`` elements give each variable's
``location`` (StartPos / EndPos / width), implied decimals (``dcml``) and
``catgry`` code lists, plus the data either as a fixed-width
``usa_NNNNN.dat.gz`` (weights written with two implied decimals) or as a
``usa_NNNNN.csv(.gz)`` with a header row and explicit decimals.

Two record sets are provided:

* :func:`acs_records`: the 2019 ACS (``us2019a``, SAMPLE 201901) with 80
  person and 80 household replicate weights;
* :func:`census2000_records`: the 2000 Census 5% sample (``us2000a``,
  SAMPLE 200001) with STRATA / CLUSTER and no replicate weights, and
  WKSWORK2 instead of WKSWORK1.

Tests edit the returned frames (a bad code, a negative weight, a dropped
variable) and write them with :func:`write_extract`.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     ddi, data = write_extract(folder, acs_records())
...     (ddi.name, data.name, data.stat().st_size > 0)
('usa_00001.xml', 'usa_00001.dat.gz', True)
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

__all__ = ["acs_records", "census2000_records", "multiyear_records", "replicate_factor", "write_extract", "WIDTHS"]

#: Field widths (and implied decimals) of IPUMS USA variables, in extract order.
WIDTHS: dict[str, tuple[int, int]] = {
    "YEAR": (4, 0),
    "MULTYEAR": (4, 0),
    "SAMPLE": (6, 0),
    "SERIAL": (8, 0),
    "HHWT": (10, 2),
    "CLUSTER": (13, 0),
    "STATEFIP": (2, 0),
    "PUMA": (5, 0),
    "MET2013": (5, 0),
    "CITY": (4, 0),
    "STRATA": (12, 0),
    "GQ": (1, 0),
    "OWNERSHP": (1, 0),
    "OWNERSHPD": (2, 0),
    "HHINCOME": (7, 0),
    "PERNUM": (4, 0),
    "PERWT": (10, 2),
    "RELATE": (2, 0),
    "SEX": (1, 0),
    "AGE": (3, 0),
    "CITIZEN": (1, 0),
    "YRIMMIG": (4, 0),
    "SPEAKENG": (1, 0),
    "UHRSWORK": (2, 0),
    "WKSWORK1": (2, 0),
    "WKSWORK2": (1, 0),
    "INCTOT": (7, 0),
    "INCEARN": (7, 0),
    "POVERTY": (3, 0),
    **{f"REPWT{r}": (10, 2) for r in range(1, 81)},
    **{f"REPWTP{r}": (10, 2) for r in range(1, 81)},
}

_LABELS = {
    "YEAR": "Census year",
    "MULTYEAR": "Actual year of survey, multi-year ACS/PRCS",
    "SAMPLE": "IPUMS sample identifier",
    "SERIAL": "Household serial number",
    "HHWT": "Household weight",
    "CLUSTER": "Household cluster for variance estimation",
    "STATEFIP": "State (FIPS code)",
    "PUMA": "Public Use Microdata Area",
    "MET2013": "Metropolitan area (2013 delineations)",
    "CITY": "City",
    "STRATA": "Household strata for variance estimation",
    "GQ": "Group quarters status",
    "OWNERSHP": "Ownership of dwelling (tenure) [general version]",
    "OWNERSHPD": "Ownership of dwelling (tenure) [detailed version]",
    "HHINCOME": "Total household income",
    "PERNUM": "Person number in sample unit",
    "PERWT": "Person weight",
    "RELATE": "Relationship to household head [general version]",
    "SEX": "Sex",
    "AGE": "Age",
    "CITIZEN": "Citizenship status",
    "YRIMMIG": "Year of immigration",
    "SPEAKENG": "Speaks English",
    "UHRSWORK": "Usual hours worked per week",
    "WKSWORK1": "Weeks worked last year",
    "WKSWORK2": "Weeks worked last year, intervalled",
    "INCTOT": "Total personal income",
    "INCEARN": "Total personal earned income",
    "POVERTY": "Poverty status",
}

_CODES: dict[str, dict[int, str]] = {
    "SAMPLE": {202301: "2023 ACS", 201901: "2019 ACS", 201205: "2008-2012, ACS 5-year", 200001: "2000 5%"},
    "GQ": {
        0: "Vacant unit",
        1: "Households under 1970 definition",
        2: "Additional households under 1990 definition",
        3: "Group quarters--Institutions",
        4: "Other group quarters",
        5: "Additional households under 2000 definition",
        6: "Fragment",
    },
    "OWNERSHP": {0: "N/A", 1: "Owned or being bought (loan)", 2: "Rented"},
    "OWNERSHPD": {
        0: "N/A",
        10: "Owned or being bought",
        11: "Check mark (owns?)",
        12: "Owned free and clear",
        13: "Owned with mortgage or loan",
        20: "Rented",
        21: "No cash rent",
        22: "With cash rent",
    },
    "SEX": {1: "Male", 2: "Female"},
    "CITIZEN": {
        0: "N/A",
        1: "Born abroad of American parents",
        2: "Naturalized citizen",
        3: "Not a citizen",
        4: "Not a citizen, but has received first papers",
        5: "Foreign born, citizenship status not reported",
    },
    "SPEAKENG": {
        0: "N/A (Blank)",
        1: "Does not speak English",
        2: "Yes, speaks English...",
        3: "Yes, speaks only English",
        4: "Yes, speaks very well",
        5: "Yes, speaks well",
        6: "Yes, but not well",
        7: "Unknown",
        8: "Illegible",
    },
    "INCTOT": {9999999: "N/A"},
    "HHINCOME": {9999999: "N/A"},
    "POVERTY": {0: "N/A", 501: "501 percent or more of poverty threshold"},
    "WKSWORK2": {
        0: "N/A",
        1: "1-13 weeks",
        2: "14-26 weeks",
        3: "27-39 weeks",
        4: "40-47 weeks",
        5: "48-49 weeks",
        6: "50-52 weeks",
    },
}

_HOUSEHOLD_VARIABLES = {
    "YEAR",
    "MULTYEAR",
    "SAMPLE",
    "SERIAL",
    "HHWT",
    "CLUSTER",
    "STATEFIP",
    "PUMA",
    "MET2013",
    "CITY",
    "STRATA",
    "GQ",
    "OWNERSHP",
    "OWNERSHPD",
    "HHINCOME",
}


def replicate_factor(replicate: int, kind: str) -> float:
    """Factor that turns a full-sample weight into replicate ``replicate`` (1-80).

    Household and person replicates use different patterns so a swap is caught.

    Examples
    --------
    >>> replicate_factor(1, "person"), replicate_factor(1, "household")
    (0.95, 1.2)
    """
    if kind == "person":
        return [0.95, 1.05, 0.5, 1.5][(replicate - 1) % 4]
    return [1.2, 0.8, 1.0, 1.1, 0.9][(replicate - 1) % 5]


def _households(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["SERIAL", "STATEFIP", "PUMA", "GQ", "OWNERSHP", "OWNERSHPD", "HHINCOME", "HHWT"],
    )


_PERSON_COLUMNS = [
    "SERIAL",
    "PERNUM",
    "RELATE",
    "AGE",
    "SEX",
    "CITIZEN",
    "YRIMMIG",
    "SPEAKENG",
    "POVERTY",
    "INCTOT",
    "INCEARN",
    "UHRSWORK",
    "WKSWORK1",
    "WKSWORK2",
    "PERWT",
]


def _join(households: pd.DataFrame, persons: list[tuple], **constants: object) -> pd.DataFrame:
    people = pd.DataFrame(persons, columns=_PERSON_COLUMNS)
    frame = people.merge(households, on="SERIAL", how="left", validate="many_to_one")
    for name, value in constants.items():
        frame[name] = value
    order = [c for c in WIDTHS if c in frame.columns]
    return frame[order]


def _add_replicates(frame: pd.DataFrame) -> pd.DataFrame:
    person = {f"REPWTP{r}": (frame["PERWT"] * replicate_factor(r, "person")).round(2) for r in range(1, 81)}
    household = {f"REPWT{r}": (frame["HHWT"] * replicate_factor(r, "household")).round(2) for r in range(1, 81)}
    return pd.concat([frame, pd.DataFrame({**household, **person})], axis=1)


def acs_records() -> pd.DataFrame:
    """Nine persons of the 2019 ACS in five units (one in group quarters), with replicate weights.

    Examples
    --------
    >>> frame = acs_records()
    >>> frame.shape, int(frame["SERIAL"].nunique())
    ((9, 186), 5)
    """
    households = _households(
        [
            (1001, 53, 11601, 1, 1, 13, 85000, 100.0),
            (1002, 53, 10100, 1, 2, 22, 15000, 150.0),
            (1003, 53, 11601, 2, 1, 12, 250000, 90.0),
            (1004, 53, 11601, 5, 2, 21, 30000, 75.0),
            (1005, 53, 10100, 3, 0, 0, 9999999, 50.0),
        ]
    )
    persons = [
        # SERIAL PERNUM RELATE AGE SEX CIT YRIMMIG SPEAKENG POVERTY INCTOT INCEARN UHRS WKS1 WKS2 PERWT
        (1001, 1, 1, 40, 1, 2, 1995, 4, 350, 60000, 60000, 40, 52, 6, 120.0),
        (1001, 2, 2, 38, 2, 3, 2001, 6, 350, 25000, 25000, 20, 52, 6, 110.5),
        (1001, 3, 3, 3, 1, 0, 0, 0, 350, 9999999, 0, 0, 0, 0, 95.0),
        (1002, 1, 1, 67, 2, 0, 0, 3, 80, -1500, 0, 0, 0, 0, 200.0),
        (1002, 2, 11, 30, 1, 1, 1999, 5, 80, 16500, 16500, 50, 50, 6, 180.0),
        (1003, 1, 1, 55, 1, 5, 1980, 1, 501, 250000, 240000, 60, 48, 5, 90.0),
        (1003, 2, 3, 19, 2, 0, 0, 3, 501, 0, 0, 0, 0, 0, 85.25),
        (1004, 1, 1, 25, 2, 3, 2018, 7, 120, 30000, 30000, 35, 50, 6, 75.0),
        (1005, 1, 13, 80, 2, 0, 0, 3, 0, 12000, 0, 0, 0, 0, 50.0),
    ]
    frame = _join(households, persons, YEAR=2019, SAMPLE=201901, MET2013=42660, CITY=7230)
    return _add_replicates(frame)


def census2000_records() -> pd.DataFrame:
    """Five persons of the 2000 Census 5% sample with STRATA and CLUSTER, no replicate weights, WKSWORK2 only.

    Examples
    --------
    >>> frame = census2000_records()
    >>> "REPWTP1" in frame.columns, "WKSWORK1" in frame.columns, sorted(frame["STRATA"].unique().tolist())
    (False, False, [10153, 20153])
    """
    households = _households(
        [
            (201, 6, 3701, 1, 1, 13, 72000, 20.0),
            (202, 6, 3702, 1, 2, 22, 31000, 21.0),
            (203, 6, 3702, 4, 0, 0, 9999999, 19.0),
        ]
    )
    persons = [
        (201, 1, 1, 45, 1, 3, 1990, 6, 220, 40000, 40000, 45, 0, 6, 20.0),
        (201, 2, 2, 44, 2, 2, 1985, 5, 220, 32000, 32000, 40, 0, 4, 22.0),
        (201, 3, 3, 12, 2, 0, 0, 3, 220, 9999999, 0, 0, 0, 0, 18.0),
        (202, 1, 1, 33, 1, 4, 1998, 1, 95, 31000, 31000, 38, 0, 6, 21.0),
        (203, 1, 12, 21, 1, 0, 0, 3, 0, 4000, 4000, 10, 0, 2, 19.0),
    ]
    frame = _join(households, persons, YEAR=2000, SAMPLE=200001)
    frame = frame.drop(columns=["WKSWORK1"])
    frame["STRATA"] = np.where(frame["SERIAL"] == 201, 10153, 20153)
    frame["CLUSTER"] = 2000000000000 + frame["SERIAL"]
    return frame[[c for c in WIDTHS if c in frame.columns]]


def multiyear_records() -> pd.DataFrame:
    """Three persons of the 2008-2012 ACS 5-year sample (SAMPLE 201205), interviewed in 2010 and 2012.

    The sample spans the change from 2000 to 2010 PUMAs, so its PUMA vintage
    depends on MULTYEAR.

    Examples
    --------
    >>> multiyear_records()["MULTYEAR"].tolist()
    [2010, 2010, 2012]
    """
    frame = acs_records().iloc[[0, 1, 3]].reset_index(drop=True)
    frame["YEAR"], frame["SAMPLE"] = 2012, 201205
    frame.insert(1, "MULTYEAR", [2010, 2010, 2012])
    return frame


# ---------------------------------------------------------------------------- writing
def _var_xml(name: str, start: int, width: int, decimals: int) -> str:
    codes = _CODES.get(name, {})
    categories = "".join(
        f"      <catgry>\n        <catValu>{code}</catValu>\n        <labl>{escape(label)}</labl>\n      </catgry>\n"
        for code, label in codes.items()
    )
    label = _LABELS.get(name) or f"Replicate {'person' if name.startswith('REPWTP') else 'household'} weight"
    concept = (
        "HOUSEHOLD"
        if name in _HOUSEHOLD_VARIABLES or name.startswith("REPWT") and not name.startswith("REPWTP")
        else "PERSON"
    )
    interval = "contin" if name.endswith("WT") or "WT" in name or name.startswith("INC") else "discrete"
    return (
        f'    <var ID="{name}" dcml="{decimals}" files="ExtractData" intrvl="{interval}" name="{name}">\n'
        f'      <location EndPos="{start + width - 1}" StartPos="{start}" width="{width}"/>\n'
        f"      <labl>{escape(label)}</labl>\n"
        f"      <txt><![CDATA[{escape(label)} (test fixture).]]></txt>\n"
        f"{categories}"
        f'      <concept vocab="IPUMS">Technical Variables -- {concept}</concept>\n'
        f'      <varFormat schema="other" type="numeric"/>\n'
        f"    </var>\n"
    )


def _ddi_xml(name: str, data_name: str, variables: list[str], years: list[int], samples: list[int], fmt: str) -> str:
    start = 1
    var_elements = []
    for variable in variables:
        width, decimals = WIDTHS[variable]
        var_elements.append(_var_xml(variable, start, width, decimals))
        start += width
    notes = "".join(
        f"      <notes><![CDATA[Additional notes on a sample that is part of this study:  "
        f"{_CODES['SAMPLE'].get(s, str(s))}\n]]></notes>\n"
        for s in samples
    )
    file_format = "fixed length fields" if fmt == "dat" else "comma separated values"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="ipums-ddi-xslt.xsl"?>
<codeBook ID="ddi2-test-{name}.dat-usa.ipums.org" version="2.5" xmlns="ddi:codebook:2_5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="ddi:codebook:2_5 http://www.ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd">
  <docDscr>
    <citation>
      <titlStmt>
        <titl>Codebook for an IPUMS-USA Data Extract</titl>
        <subTitl>DDI 2.5 metadata describing the extract file  '{data_name}'</subTitl>
      </titlStmt>
    </citation>
  </docDscr>
  <stdyDscr>
    <citation>
      <titlStmt>
        <titl>User Extract {data_name}</titl>
      </titlStmt>
      <serStmt>
        <serName abbr="usa">IPUMS USA</serName>
        <serInfo>DOI:10.18128/D010.V15.0</serInfo>
      </serStmt>
    </citation>
    <stdyInfo>
      <sumDscr>
        {"".join(f'<timePrd date="{y}" event="single">{y}</timePrd>' for y in years)}
        <nation abbr="us">United States</nation>
      </sumDscr>
{notes}    </stdyInfo>
    <dataAccs>
      <useStmt>
        <citReq><![CDATA[Steven Ruggles et al. IPUMS USA: Version 15.0 [dataset]. Minneapolis, MN: IPUMS, 2024. https://doi.org/10.18128/D010.V15.0 (test fixture)]]></citReq>
        <conditions><![CDATA[Users of IPUMS-USA data must agree to abide by the conditions of use (test fixture).]]></conditions>
      </useStmt>
    </dataAccs>
  </stdyDscr>
  <fileDscr ID="ExtractData">
    <fileTxt>
      <fileName>{data_name}</fileName>
      <fileCont>Microdata records</fileCont>
      <fileStrc type="rectangular"/>
      <fileType charset="ISO-8859-1">ISO-8859-1 data file</fileType>
      <format>{file_format}</format>
      <filePlac>IPUMS, University of Minnesota</filePlac>
    </fileTxt>
  </fileDscr>
  <dataDscr>
{"".join(var_elements)}  </dataDscr>
</codeBook>
"""


def _fixed_width_lines(frame: pd.DataFrame, variables: list[str]) -> str:
    columns = []
    for variable in variables:
        width, decimals = WIDTHS[variable]
        values = frame[variable]
        if values.isna().any():
            text = [" " * width if pd.isna(v) else None for v in values]
        else:
            text = [None] * len(values)
        numbers = np.rint(values.fillna(0).to_numpy(dtype="float64") * 10**decimals).astype(np.int64)
        formatted = [t if t is not None else f"{n:0{width}d}" for t, n in zip(text, numbers)]
        too_wide = [f for f in formatted if len(f) != width]
        if too_wide:
            raise ValueError(f"{variable}: values {too_wide} do not fit width {width}")
        columns.append(formatted)
    return "".join("".join(parts) + "\n" for parts in zip(*columns))


def write_extract(
    directory: str | Path,
    records: pd.DataFrame,
    *,
    name: str = "usa_00001",
    fmt: str = "dat",
    compress: bool = True,
) -> tuple[Path, Path]:
    """Write ``records`` as an IPUMS USA extract: ``<name>.xml`` plus the data file.

    Parameters
    ----------
    directory : str or Path
        Folder to write into.
    records : pandas.DataFrame
        One row per person, columns named like IPUMS variables (see :data:`WIDTHS`).
    name : str
        Extract name (``usa_00001``).
    fmt : {"dat", "csv"}
        Fixed-width (implied decimals) or CSV (explicit decimals).
    compress : bool
        Gzip the data file (``.dat.gz`` / ``.csv.gz``), as IPUMS delivers it.

    Returns
    -------
    tuple of Path
        The DDI path and the data path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    variables = [c for c in WIDTHS if c in records.columns]
    data_name = f"{name}.{fmt}" + (".gz" if compress else "")
    years = sorted(pd.unique(records["YEAR"]).tolist()) if "YEAR" in records else []
    samples = sorted(pd.unique(records["SAMPLE"]).tolist()) if "SAMPLE" in records else []
    ddi_path = directory / f"{name}.xml"
    ddi_path.write_text(_ddi_xml(name, f"{name}.{fmt}", variables, years, samples, fmt), encoding="utf-8")
    if fmt == "dat":
        text = _fixed_width_lines(records, variables)
    elif fmt == "csv":
        text = records[variables].to_csv(index=False)
    else:
        raise ValueError(f"fmt must be 'dat' or 'csv'; got {fmt!r}")
    data_path = directory / data_name
    payload = text.encode("latin-1")
    data_path.write_bytes(gzip.compress(payload) if compress else payload)
    return ddi_path, data_path
