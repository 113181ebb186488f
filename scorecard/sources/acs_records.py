"""Build one harmonized piece of ACS PUMS microdata from a person file and its housing file.

:func:`scorecard.sources.acs_pums.read_acs_pums` reads each person CSV (with the
housing CSV paired with it) here: the person columns are harmonized, every
person is linked to the housing record with the same ``SERIALNO``, and the
housing columns, weights and replicate weights are carried over to the persons.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scorecard.errors import (
    DuplicateRecordError,
    MismatchedSourcesError,
    MissingColumnsError,
    OrphanRecordError,
    UnknownCodeError,
)
from scorecard.microdata import RecordReport, check_weights, find_replicate_columns
from scorecard.ranges import check_ranges
from scorecard.sources.acs_files import _check_replicate_count, _header, _Member, _read_table, _resolve
from scorecard.sources.acs_layout import (
    _HOUSING_SOURCES,
    _OPTIONAL_HOUSING,
    _OPTIONAL_PERSON,
    _PERSON_SOURCES,
    _PUMA_COLUMNS,
    HOUSING_COLUMNS,
    ExperimentalWeightsWarning,
    IncompleteHouseholdWarning,
    _check_unique,
    _detect_survey,
    _full_time_year_round,
    _numbers,
    _puma,
    _recode,
    _strip_leading_zeros,
    _survey_year,
    _text,
)
from scorecard.sources.acs_options import _Options

__all__: list[str] = []  # helpers of read_acs_pums only


@dataclass
class _Piece:
    name: str
    sources: list[str]
    survey: str
    frame: pd.DataFrame
    person_replicates: np.ndarray | None
    household_replicates: np.ndarray | None
    report: RecordReport


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
    if "ST" in p_cols:
        _check_state(person.name, out["state"], options.state)
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
    check_ranges(frame, source="acs_pums", name=person.name)
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
        _check_household_sizes(person.name, housing.name, h, position)
        _check_same_place(person.name, housing.name, frame, h, position)
        housing_report = RecordReport.single(housing.name, read=len(h.key), record_type="housing",
                                             notes=h.unlinked_notes(~linked))
        person_report = person_report.combine(housing_report)
    if person_replicates is not None:
        person_replicates = person_replicates.astype(np.float32)
    if household_replicates is not None:
        household_replicates = household_replicates.astype(np.float32)
    return _Piece(person.name, sources, survey, frame, person_replicates, household_replicates, person_report)


def _check_household_sizes(person_name: str, housing_name: str, h: _Housing, position: np.ndarray) -> None:
    """Each linked household has NP person records; occupied units with none are warned about (and counted)."""
    if h.occupants is None:
        return
    persons = np.bincount(position, minlength=len(h.key))
    known = ~np.isnan(h.occupants)
    wrong = known & (persons > 0) & (persons != h.occupants)
    if wrong.any():
        rows = np.flatnonzero(wrong)
        shown = ", ".join(f"{h.key[r]!r}: {persons[r]} persons, NP {h.occupants[r]:g}" for r in rows[:5])
        raise MismatchedSourcesError(
            f"{person_name} and {housing_name}: {len(rows)} households have another number of person records "
            f"than column NP of the housing file says ({shown}). Was the person file cut short, edited, or "
            "concatenated with another?"
        )
    missing = known & (persons == 0) & (h.occupants > 0)
    if missing.any():
        warnings.warn(
            f"{housing_name}: {int(missing.sum())} occupied housing units (NP > 0) have no person records in "
            f"{person_name} (e.g. SERIALNO {h.key[np.flatnonzero(missing)[0]]!r}); they are counted in the report. "
            "Expected when the person file is cut to some PUMAs; otherwise check that the files are complete.",
            IncompleteHouseholdWarning,
            stacklevel=5,
        )


def _check_same_place(person_name: str, housing_name: str, frame: pd.DataFrame, h: _Housing, position: np.ndarray) -> None:
    """A person lives where their housing unit is: ST and PUMA of both files agree record by record."""
    pairs = [("ST", frame["state"].to_numpy(dtype=object), h.state)]
    if h.puma is not None:
        pairs.append(("PUMA", frame["puma"].to_numpy(dtype=object), h.puma.to_numpy(dtype=object)))
    for column, person_values, housing_values in pairs:
        if housing_values is None:
            continue
        theirs = housing_values[position]
        differ = pd.Series(person_values).ne(pd.Series(theirs)).to_numpy(dtype=bool)
        if differ.any():
            rows = np.flatnonzero(differ)
            shown = ", ".join(
                f"{frame['household_id'].iat[r]!r}: {person_values[r]} vs {theirs[r]}" for r in rows[:5]
            )
            raise MismatchedSourcesError(
                f"{person_name} and {housing_name}: column {column} differs between {len(rows)} persons and their "
                f"housing records ({shown}; rows {', '.join(map(str, rows[:5]))}). A person's {column} is the "
                "housing unit's; was one of the files edited?"
            )


def _check_state(name: str, states: pd.Series, asked: str | None) -> None:
    """``state=`` fills a missing ST column; on a file with ST it must agree (else it would be ignored)."""
    if asked is None:
        return
    other = states[states.notna() & (states != asked)]
    if len(other):
        raise MismatchedSourcesError(
            f"{name}: column ST holds state {sorted(pd.unique(other))[:5]} but state={asked!r} was passed. "
            "state= is for files without an ST column; leave it out, or pass the files of that state."
        )


@dataclass
class _Housing:
    key: np.ndarray
    year: int
    state: np.ndarray | None
    weight: np.ndarray
    replicates: np.ndarray | None
    columns: dict[str, np.ndarray]
    occupants: np.ndarray | None  # NP, number of person records
    # Read only for housing-only reads (no person file to take them from):
    survey: str = ""
    puma: pd.Series | None = None
    puma_vintage: np.ndarray | None = None
    kept: dict[str, pd.Series] = field(default_factory=dict)

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


def _read_housing_only(housing: _Member, options: _Options) -> _Piece:
    """One harmonized row per housing record, for ``read_acs_pums(person=None, housing=[...])``."""
    h = _read_housing(housing, options, standalone=True)
    n = len(h.key)
    if h.state is None and options.state is None:
        raise MissingColumnsError(housing.name, {"ST"}, "Pass state='53' (2-digit FIPS) for files without ST.")
    out: dict[str, object] = {
        "survey_year": np.full(n, h.year, dtype="int64"),
        "state": pd.Series(h.state if h.state is not None else [options.state] * n, dtype="string"),
        "puma": h.puma,
        "puma_vintage": h.puma_vintage,
        "household_id": h.key,
        "household_weight": h.weight,
    }
    for column in HOUSING_COLUMNS:
        if column in h.columns:
            out[column] = h.columns[column]
    out.update(h.kept)
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    replicates = None if h.replicates is None else h.replicates.astype(np.float32)
    report = RecordReport.single(housing.name, read=n, record_type="housing")
    return _Piece(housing.name, [housing.name], h.survey, frame, None, replicates, report)


def _read_housing(housing: _Member, options: _Options, *, standalone: bool = False) -> _Housing:
    header = _header(housing)
    groups = {"SERIALNO": ("SERIALNO",), "WGTP": ("WGTP",)}
    for column in options.columns:
        for alternatives in _HOUSING_SOURCES.get(column, ()):
            groups[alternatives[0]] = alternatives
    optional = _OPTIONAL_HOUSING + _PUMA_COLUMNS + (("ADJINC", "ADJUST") if standalone else ())
    cols = _resolve(housing.name, header, groups, optional=optional, extra=options.keep if standalone else ())
    if standalone and not any(c in cols for c in _PUMA_COLUMNS):
        raise MissingColumnsError(housing.name, {"PUMA"}, "ACS PUMS housing files carry PUMA (or PUMA00/PUMA10/PUMA20).")
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
    year, sample_years = _survey_year(key, housing, options.survey_year)
    weight = h["WGTP"].to_numpy(dtype="float64", na_value=np.nan)
    check_weights(weight, source=housing.name, columns=[cols["WGTP"]], what="Housing weights")
    check_ranges(pd.DataFrame({"household_weight": weight}), source="acs_pums", name=housing.name)
    kind = "TYPEHUGQ" if "TYPEHUGQ" in cols else "TYPE" if "TYPE" in cols else None
    group_quarters = np.zeros(len(h), dtype=bool)
    if kind:
        group_quarters = (_recode(h[kind], "acs_type.csv", housing.name, cols[kind]) == "group_quarters").to_numpy(
            dtype=bool, na_value=False)
    columns: dict[str, np.ndarray] = {}
    if "tenure" in options.columns:
        tenure = _recode(h["TEN"], "acs_ten.csv", housing.name, cols["TEN"]).astype(object)
        if "NP" in cols and kind:  # without TYPE, group quarters (TEN blank, NP 1) cannot be told apart
            size = _numbers(h, "NP", housing.name, cols).to_numpy(dtype="float64", na_value=np.nan)
            blank = (tenure.isna().to_numpy() & ~group_quarters & (size > 0))
            if blank.any():
                rows = np.flatnonzero(blank)
                raise UnknownCodeError(
                    housing.name, cols["TEN"], ["(blank)"], rows=rows[:5].tolist(), allowed=["1", "2", "3", "4"],
                    hint="TEN is blank only for vacant units (NP 0) and group quarters; was the file edited?",
                )
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
    if state is not None:
        _check_state(housing.name, pd.Series(state), options.state)
    built = _Housing(key.to_numpy(), year, state, weight, table.replicates, columns, occupants)
    if any(c in cols for c in _PUMA_COLUMNS):
        built.puma, built.puma_vintage = _puma(h, cols, year, housing.name)
    if standalone:
        built.survey = options.survey or _detect_survey(sample_years, cols, h)
        built.kept = {column: _text(h[column]) for column in options.keep}
        if built.survey == "acs1" and year == 2020:
            warnings.warn(
                f"{housing.name}: the 2020 ACS 1-year PUMS uses experimental weights (COVID-19 data collection); "
                "the Census Bureau advises against comparing its estimates with other years.",
                ExperimentalWeightsWarning,
                stacklevel=5,
            )
    return built
