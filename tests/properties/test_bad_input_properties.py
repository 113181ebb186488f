"""Mutated Census-layout PUMS files read to the same numbers or end in a named error (issue 11, point 5).

A small valid person/housing pair (the synthetic 2016 Minnesota files of :mod:`scorecard.datasets`,
cut to 40 households) is mutated in one way at a time, and read with ``read_acs_pums``. Every
mutation must end in one of three ways: the same numbers as the original (harmonized frame, weights
and replicate weights, compared order-free), a :class:`~scorecard.errors.ScorecardError`, or an
accounted warning (:class:`~scorecard.sources.acs_pums.IncompleteHouseholdWarning`, with the records
counted in ``report``). No other exception escapes and no number changes silently.

Kinds of bad input the tests try (figures for issue 11), counted across the test files:

* this file: 42 kinds of mutation (``MUTATIONS``), each run once at a fixed position in
  ``test_each_kind_ends_as_expected`` and at random positions by hypothesis: 37 end in a named error,
  1 in an accounted warning, 4 leave the numbers unchanged (row order, CRLF line ends, a UTF-8
  byte-order mark, every field quoted);
* tests/test_bad_input.py: 33 kinds, 32 named errors and 1 accounted warning (occupied housing units
  without persons, counted in ``report``);
* tests/test_places.py: 17 crosswalk kinds, 14 named errors, 1 accounted warning (PUMAs the crosswalk
  does not list, counted by ``Places.unlisted_pumas``) and 2 that now read correctly (Urban's stacked
  2010/2020 file gives Geocorr's factors per vintage; a Latin-1 file opened as UTF-8 text);
* tests/test_housing_only.py: 2 named errors (housing-only files themselves now read);
* tests/test_ipums.py: 1 named error (year of immigration after the survey year).

In all 95 kinds: 86 named errors, 3 accounted warnings, 6 read to the right numbers.
"""

from __future__ import annotations

import gzip
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorecard.datasets.synthetic import write_pums
from scorecard.errors import ScorecardError
from scorecard.sources.acs_pums import IncompleteHouseholdWarning, read_acs_pums

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOUSEHOLDS = 40


def _base() -> tuple[bytes, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        files = write_pums(Path(folder), seed=11, scale="small", years=[2016])
        person = next(p for p in files.person if p.name == "ss16pmn.csv")
        housing = next(h for h in files.housing if h.name == "ss16hmn.csv")
        p = pd.read_csv(person, dtype=str, keep_default_na=False)
        h = pd.read_csv(housing, dtype=str, keep_default_na=False)
    h = h.iloc[:HOUSEHOLDS]
    p = p[p["SERIALNO"].isin(h["SERIALNO"])]
    return p.to_csv(index=False).encode(), h.to_csv(index=False).encode()


PERSON, HOUSING = _base()


def _read(person: bytes, housing: bytes, *, person_name: str = "ss16pmn.csv"):
    with tempfile.TemporaryDirectory() as folder:
        p, h = Path(folder) / person_name, Path(folder) / "ss16hmn.csv"
        p.write_bytes(person)
        h.write_bytes(housing)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            micro = read_acs_pums(p, h, cache=False)
    return micro, [w.category for w in caught]


def _numbers(micro) -> str:
    """Everything read, order-free: frame + replicate-weight row sums, sorted by household and person."""
    frame = micro.frame.copy()
    frame["person_replicates"] = micro.person_replicates.astype("float64").sum(axis=1)
    frame["household_replicates"] = micro.household_replicates.astype("float64").sum(axis=1)
    return frame.sort_values(["household_id", "person_id"]).to_csv(index=False)


REFERENCE = _numbers(_read(PERSON, HOUSING)[0])


# --------------------------------------------------------------------------- mutations: (person, housing, pick) -> ...
def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(pd.io.common.BytesIO(data), dtype=str, keep_default_na=False)


def _csv(frame: pd.DataFrame, **options) -> bytes:
    return frame.to_csv(index=False, **options).encode()


def _set_cell(column: str, value: str, file: str = "person"):
    def mutate(person: bytes, housing: bytes, pick: int):
        frame = _frame(person if file == "person" else housing)
        frame.loc[pick % len(frame), column] = value
        return (_csv(frame), housing) if file == "person" else (person, _csv(frame))
    return mutate


def _drop_column(column: str, file: str = "person"):
    def mutate(person, housing, pick):
        frame = _frame(person if file == "person" else housing).drop(columns=[column])
        return (_csv(frame), housing) if file == "person" else (person, _csv(frame))
    return mutate


def _rename_column(column: str, new: str):
    def mutate(person, housing, pick):
        return _csv(_frame(person).rename(columns={column: new})), housing
    return mutate


def _duplicate_column(person, housing, pick):
    frame = _frame(person)
    column = frame.columns[pick % len(frame.columns)]
    header, *rows = _lines(person)
    cells = [line.rstrip(b"\r\n").split(b",") for line in [header, *rows]]
    position = list(frame.columns).index(column)
    doubled = [b",".join([*row, row[position]]) + b"\n" for row in cells]
    return b"".join(doubled), housing


def _drop_person_row(person, housing, pick):
    header, *rows = _lines(person)
    serials = _frame(person)["SERIALNO"]
    sizes = serials.map(serials.value_counts())
    in_big = np.flatnonzero(sizes.to_numpy() > 1)  # a person of a household with others: NP no longer matches
    drop = in_big[pick % len(in_big)]
    return b"".join([header, *rows[:drop], *rows[drop + 1:]]), housing


def _drop_single_person_household(person, housing, pick):
    header, *rows = _lines(person)
    serials = _frame(person)["SERIALNO"]
    sizes = serials.map(serials.value_counts())
    alone = np.flatnonzero(sizes.to_numpy() == 1)
    drop = alone[pick % len(alone)]
    return b"".join([header, *rows[:drop], *rows[drop + 1:]]), housing


def _drop_housing_row(person, housing, pick):
    header, *rows = _lines(housing)
    occupied = np.flatnonzero(_frame(housing)["NP"].astype(int).to_numpy() > 0)
    drop = occupied[pick % len(occupied)]
    return person, b"".join([header, *rows[:drop], *rows[drop + 1:]])


def _duplicate_row(file: str):
    def mutate(person, housing, pick):
        header, *rows = _lines(person if file == "person" else housing)
        row = rows[pick % len(rows)]
        doubled = b"".join([header, *rows, row])
        return (doubled, housing) if file == "person" else (person, doubled)
    return mutate


def _shuffle_rows(person, housing, pick):
    header, *rows = _lines(person)
    order = np.random.default_rng(pick).permutation(len(rows))
    return b"".join([header, *[rows[i] for i in order]]), housing


def _latin1_byte(person, housing, pick):
    header, *rows = _lines(person)
    index = pick % len(rows)
    rows[index] = rows[index].replace(b",", b",\xe9", 1)
    return b"".join([header, *rows]), housing


def _truncate_mid_line(person, housing, pick):
    header, *rows = _lines(person)
    index = 1 + pick % (len(rows) - 1)
    cut = b"".join([header, *rows[:index]]) + rows[index][: max(3, len(rows[index]) // 3)]
    return cut, housing


def _semicolons(person, housing, pick):
    return _csv(_frame(person), sep=";"), housing


def _tabs(person, housing, pick):
    return _csv(_frame(person), sep="\t"), housing


def _crlf(person, housing, pick):
    return person.replace(b"\n", b"\r\n"), housing


def _bom(person, housing, pick):
    return b"\xef\xbb\xbf" + person, housing


def _quoted(person, housing, pick):
    import csv

    return _csv(_frame(person), quoting=csv.QUOTE_ALL), housing


def _blank_tenure_of_an_occupied_unit(person, housing, pick):
    frame = _frame(housing)
    occupied = np.flatnonzero(((frame["NP"].astype(int) > 0) & (frame["TEN"] != "")).to_numpy())
    frame.loc[occupied[pick % len(occupied)], "TEN"] = ""
    return person, _csv(frame)


def _citizen_by_birth_but_foreign_born(person, housing, pick):
    frame = _frame(person)
    foreign = np.flatnonzero((frame["NATIVITY"] == "2").to_numpy())
    frame.loc[foreign[pick % len(foreign)], "CIT"] = "1"
    return _csv(frame), housing


def _gzip_truncated(person, housing, pick):
    packed = gzip.compress(person)
    return packed[: len(packed) // 2 + pick % 50], housing


# name -> (mutation, expected outcome of the fixed run: "error", "warning" or "same")
MUTATIONS = {
    "drop column PWGTP": (_drop_column("PWGTP"), "error"),
    "drop column SERIALNO (person)": (_drop_column("SERIALNO"), "error"),
    "drop column WGTP": (_drop_column("WGTP", "housing"), "error"),
    "rename column AGEP": (_rename_column("AGEP", "AGE"), "error"),
    "duplicate a column": (_duplicate_column, "error"),
    "drop a person of a larger household": (_drop_person_row, "error"),
    "drop the person of a one-person household": (_drop_single_person_household, "warning"),
    "drop an occupied housing row": (_drop_housing_row, "error"),
    "duplicate a person row": (_duplicate_row("person"), "error"),
    "duplicate a housing row": (_duplicate_row("housing"), "error"),
    "unknown CIT code": (_set_cell("CIT", "9"), "error"),
    "AGEP 150": (_set_cell("AGEP", "150"), "error"),
    "YOEP after the survey year": (_set_cell("YOEP", "2030"), "error"),
    "negative PWGTP": (_set_cell("PWGTP", "-5"), "error"),
    "fractional PWGTP": (_set_cell("PWGTP", "12.5"), "error"),
    "text in PWGTP": (_set_cell("PWGTP", "abc"), "error"),
    "fractional replicate weight": (_set_cell("pwgtp17", "3.5"), "error"),
    "Latin-1 byte in a cell": (_latin1_byte, "error"),
    "file cut mid-line": (_truncate_mid_line, "error"),
    "semicolon delimiter": (_semicolons, "error"),
    "gzip cut short": (_gzip_truncated, "error"),
    "tab delimiter": (_tabs, "error"),
    "blank CIT": (_set_cell("CIT", ""), "error"),
    "blank NATIVITY": (_set_cell("NATIVITY", ""), "error"),
    "blank SEX": (_set_cell("SEX", ""), "error"),
    "blank AGEP": (_set_cell("AGEP", ""), "error"),
    "blank ST": (_set_cell("ST", ""), "error"),
    "blank PUMA": (_set_cell("PUMA", ""), "error"),
    "blank SPORDER": (_set_cell("SPORDER", ""), "error"),
    "blank RELP": (_set_cell("RELP", ""), "error"),
    "blank SERIALNO": (_set_cell("SERIALNO", ""), "error"),
    "blank PWGTP": (_set_cell("PWGTP", ""), "error"),
    "blank WGTP": (_set_cell("WGTP", "", "housing"), "error"),
    "blank TEN of an occupied unit": (_blank_tenure_of_an_occupied_unit, "error"),
    "CIT 1 (born a citizen) for a foreign-born person": (_citizen_by_birth_but_foreign_born, "error"),
    "person ST other than the housing unit's": (_set_cell("ST", "06"), "error"),
    "person PUMA other than the housing unit's": (_set_cell("PUMA", "99999"), "error"),
    "NP other than the persons listed": (_set_cell("NP", "7", "housing"), "error"),
    "rows shuffled": (_shuffle_rows, "same"),
    "CRLF line ends": (_crlf, "same"),
    "UTF-8 byte-order mark": (_bom, "same"),
    "every field quoted": (_quoted, "same"),
}


def _outcome(name: str, pick: int) -> str:
    mutate, _ = MUTATIONS[name]
    person, housing = mutate(PERSON, HOUSING, pick)
    person_name = "ss16pmn.csv.gz" if name == "gzip cut short" else "ss16pmn.csv"
    try:
        micro, categories = _read(person, housing, person_name=person_name)
    except ScorecardError:
        return "error"
    if IncompleteHouseholdWarning in categories:
        counted = micro.report.to_frame().query("outcome == 'note'")["count"].sum()
        assert counted > 0, f"{name}: warned but counted nothing"
        return "warning"
    assert _numbers(micro) == REFERENCE, f"{name} (pick {pick}) changed the numbers without an error or warning"
    return "same"


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_kind_ends_as_expected(name):
    assert _outcome(name, pick=3) == MUTATIONS[name][1]


def test_the_figures_in_the_docstring():
    outcomes = pd.Series([expected for _, expected in MUTATIONS.values()]).value_counts().to_dict()
    assert outcomes == {"error": 37, "warning": 1, "same": 4}


@SETTINGS
@given(name=st.sampled_from(sorted(MUTATIONS)), pick=st.integers(0, 10_000))
def test_every_mutation_reads_the_same_or_is_named(name, pick):
    """No exception other than ScorecardError escapes, and no number changes without an error or a warning."""
    assert _outcome(name, pick) in ("error", "warning", "same")
