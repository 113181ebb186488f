"""Map raw IPUMS USA records to the harmonized schema with the code tables ``codes/ipums_*.csv``.

The harmonizing step of :func:`scorecard.sources.ipums.read_ipums`: which
variables an extract must hold (the read plan), the code tables and the
look-ups in them (counting notes and drops across chunks), the PUMA vintage of
each interview, and the harmonized columns built from each chunk of records.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from scorecard import schema
from scorecard.errors import DuplicateRecordError, MissingColumnsError, ReplicateCountError, UnknownCodeError
from scorecard.microdata import find_replicate_columns

__all__ = ["REQUIRED_VARIABLES", "OPTIONAL_VARIABLES", "code_table"]

#: IPUMS USA variables every extract must include.
REQUIRED_VARIABLES = (
    "YEAR", "SAMPLE", "SERIAL", "PERNUM", "STATEFIP", "PUMA", "GQ", "RELATE", "AGE", "SEX", "CITIZEN",
    "YRIMMIG", "SPEAKENG", "POVERTY", "INCTOT", "HHINCOME", "OWNERSHPD", "UHRSWORK", "PERWT", "HHWT",
)  # fmt: skip
#: Variables used when present (WKSWORK1 or WKSWORK2 is required; replicate weights are REPWTP1-80 / REPWT1-80).
OPTIONAL_VARIABLES = ("MULTYEAR", "CITY", "MET2013", "OWNERSHP", "INCEARN", "WKSWORK1", "WKSWORK2", "STRATA", "CLUSTER")
#: Extra IPUMS columns carried unchanged into ``Microdata.frame`` when present.
_KEEP = ("CITY", "MET2013")
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
