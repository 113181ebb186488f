"""Write sampled units as Census ACS 1-year PUMS CSV files of the right vintage.

Layout rules by survey year (checked against the Census data dictionaries):

=====================  ==========================================================
file names             ``ss{yy}p{st}.csv`` / ``ss{yy}h{st}.csv`` up to 2016,
                       ``psam_p{st}.csv`` / ``psam_h{st}.csv`` from 2017
income adjustment      ``ADJUST`` up to 2007, ``ADJINC`` from 2008 (× 10⁶)
replicate weights      ``pwgtp1..80`` / ``wgtp1..80`` up to 2016, upper case from 2017
SERIALNO               plain numbers up to 2016; ``2017HU0000001`` / ``2017GQ0000001`` from 2017
relationship           ``RELP`` up to 2018 (0 reference person, 16/17 group quarters),
                       ``RELSHIPP`` from 2019 (20 reference person, 37/38 group quarters)
weeks worked           ``WKW`` (codes 1-6) up to 2018, ``WKWN`` (weeks) from 2019
unit type              ``TYPE`` up to 2019, ``TYPEHUGQ`` from 2020
PUMA codes             2000 PUMAs 2006-2011, 2010 PUMAs 2012-2021, 2020 PUMAs from 2022
=====================  ==========================================================

Blank fields mean "not in universe", as in the Census files. Group-quarters
housing records have ``WGTP`` and replicate weights 0.

Examples
--------
>>> person_file_name(2016, "53"), person_file_name(2017, "53")
('ss16pwa.csv', 'psam_p53.csv')
>>> replicate_names("person", 2016)[:2], replicate_names("housing", 2019)[-1]
(['pwgtp1', 'pwgtp2'], 'WGTP80')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from scorecard.atomic import atomic_write
from scorecard.datasets.geography import STATES, region
from scorecard.datasets.population import Population
from scorecard.datasets.replication import N_REPLICATES, replicate_weights

__all__ = ["person_file_name", "housing_file_name", "replicate_names", "write_year", "state_tables", "header_line", "CSV_OPTIONS"]

# RELP (through 2018) -> RELSHIPP (2019+); same-sex spouse/partner are adjusted separately.
_RELSHIPP = np.zeros(18, dtype=np.int64)
for _relp, _code in {0: 20, 1: 21, 13: 22, 2: 25, 3: 26, 4: 27, 5: 28, 6: 29, 7: 30, 8: 31, 9: 32, 10: 33,
                     11: 34, 12: 34, 14: 35, 15: 36, 16: 37, 17: 38}.items():
    _RELSHIPP[_relp] = _code


def person_file_name(year: int, state: str) -> str:
    """Census name of the person CSV of ``year`` and ``state``."""
    return f"ss{year % 100:02d}p{STATES[state][0].lower()}.csv" if year <= 2016 else f"psam_p{state}.csv"


def housing_file_name(year: int, state: str) -> str:
    """Census name of the housing CSV of ``year`` and ``state``."""
    return f"ss{year % 100:02d}h{STATES[state][0].lower()}.csv" if year <= 2016 else f"psam_h{state}.csv"


def replicate_names(record: str, year: int) -> list[str]:
    """Replicate-weight column names of ``record`` ("person"/"housing") in ``year``."""
    stem = "PWGTP" if record == "person" else "WGTP"
    stem = stem.lower() if year <= 2016 else stem
    return [f"{stem}{r}" for r in range(1, N_REPLICATES + 1)]


def _int(values: np.ndarray, blank: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=blank)


def _const(value: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value])).cast(pa.string())


def _padded(codes: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(np.asarray(codes, dtype=np.int64)).cast(pa.string()), width, "0")


def _serials(year: int, numbers: np.ndarray, group_quarters: np.ndarray) -> pa.Array:
    if year <= 2016:
        return pa.array(numbers).cast(pa.string())
    prefix = pa.array(np.where(group_quarters, f"{year}GQ", f"{year}HU"))
    return pc.binary_join_element_wise(prefix, _padded(numbers, 7), "")


def _wkw(weeks: np.ndarray) -> np.ndarray:
    return 6 - np.searchsorted([14, 27, 40, 48, 50], weeks, side="right")


#: Census CSVs quote nothing, not even the header.
CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def header_line(table: pa.Table) -> bytes:
    """The unquoted header line of ``table``, as in Census CSV files."""
    return (",".join(table.column_names) + "\n").encode("ascii")


def _write(table: pa.Table, path: Path) -> None:
    def write(temporary: str) -> None:
        with pa.OSFile(temporary, "wb") as sink:
            sink.write(header_line(table))
            pacsv.write_csv(table, sink, write_options=CSV_OPTIONS)

    atomic_write(path, write)


def state_tables(
    pop: Population,
    units: np.ndarray,
    weight: np.ndarray,
    factors: np.ndarray,
    serial: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    """Person and housing tables of sampled ``units`` (already in file order).

    ``serial`` holds each unit's serial number; replicate weights are
    ``round(weight × factors)``, shared by the housing record and its persons.
    """
    year = pop.year
    u, p = pop.units, pop.persons
    layout = pop.layout
    state_codes = layout["state"].to_numpy()[u["puma"][units]]
    puma_codes = layout["puma"].to_numpy()[u["puma"][units]].astype(np.int64)
    kind = u["kind"][units]
    gq = kind == 2
    division = np.array([STATES[s][1] for s in state_codes], dtype=np.int64)
    regions = np.array([region(d) for d in range(1, 10)])[division - 1]
    adj = int(round(pop.adjinc * 1_000_000))
    adj_name = "ADJUST" if year <= 2007 else "ADJINC"
    n = len(units)

    # housing
    reps = replicate_weights(weight, factors)
    h_weight = np.where(gq, 0, weight)
    h_reps = np.where(gq[:, None], 0, reps)
    occupied = kind == 0
    serials = _serials(year, serial, gq)
    housing = {
        "RT": _const("H", n),
        "SERIALNO": serials,
        "DIVISION": _int(division),
        "PUMA": _padded(puma_codes, 5),
        "REGION": _int(regions),
        "ST": _padded(state_codes.astype(np.int64), 2),
        adj_name: _int(np.full(n, adj)),
        "WGTP": _int(h_weight),
        "NP": _int(u["np"][units]),
        ("TYPE" if year <= 2019 else "TYPEHUGQ"): _int(np.where(gq, u["gq_type"][units], 1)),
        "TEN": _int(u["ten"][units], ~occupied),
        "HINCP": _int(u["hincp"][units], ~occupied),
    }
    for name, column in zip(replicate_names("housing", year), h_reps.T):
        housing[name] = _int(column)

    # persons: every member of each sampled occupied unit or GQ person, in unit order
    size = u["np"][units]
    row_unit = np.repeat(np.arange(n), size)
    person = np.repeat(u["first_person"][units], size) + (np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size))
    age = p["age"][person]
    foreign = p["foreign"][person]
    eng = p["eng"][person]
    relp = p["relp"][person]
    weeks = p["weeks"][person]
    worked = weeks > 0
    m = len(person)
    persons = {
        "RT": _const("P", m),
        "SERIALNO": serials.take(pa.array(row_unit)),
    }
    if year >= 2017:
        persons["DIVISION"] = _int(division[row_unit])
    persons["SPORDER"] = _int(p["sporder"][person])
    persons["PUMA"] = housing["PUMA"].take(pa.array(row_unit))
    if year >= 2017:
        persons["REGION"] = _int(regions[row_unit])
    persons["ST"] = housing["ST"].take(pa.array(row_unit))
    persons[adj_name] = _int(np.full(m, adj))
    persons["PWGTP"] = _int(weight[row_unit])
    persons["AGEP"] = _int(age)
    persons["CIT"] = _int(p["cit"][person])
    persons["ENG"] = _int(eng, eng <= 0)
    persons["LANX"] = _int(np.where(eng == 0, 2, 1), eng < 0)
    if year <= 2018:
        persons["RELP"] = _int(relp)
    else:
        head = np.minimum(u["first_person"][units], len(p["sex"]) - 1)  # vacant units have no persons
        head_sex = p["sex"][head][row_unit]
        same_sex = p["sex"][person] == head_sex
        code = _RELSHIPP[relp]
        code = np.where((relp == 1) & same_sex, 23, np.where((relp == 13) & same_sex, 24, code))
        persons["RELSHIPP"] = _int(code)
    persons["SEX"] = _int(p["sex"][person])
    persons["WKHP"] = _int(p["wkhp"][person], ~worked)
    if year <= 2018:
        persons["WKW"] = _int(_wkw(weeks), ~worked)
    else:
        persons["WKWN"] = _int(weeks, ~worked)
    yoep = p["yoep"][person]
    persons["YOEP"] = _int(yoep, yoep == 0)
    persons["NATIVITY"] = _int(np.where(foreign, 2, 1))
    persons["PERNP"] = _int(p["pernp"][person], age < 15)
    persons["PINCP"] = _int(p["pincp"][person], age < 15)
    povpip = p["povpip"][person]
    persons["POVPIP"] = _int(povpip, povpip < 0)
    p_reps = reps[row_unit]
    for name, column in zip(replicate_names("person", year), p_reps.T):
        persons[name] = _int(column)
    return pa.table(persons), pa.table(housing)


def write_year(
    pop: Population,
    units: np.ndarray,
    weight: np.ndarray,
    factors: np.ndarray,
    directory: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[Path]]:
    """Write one survey year's person and housing files, one pair per state.

    Units are put in a random order within each state before serial numbers
    are assigned, so files do not reveal the sample's sort order (as in the
    Census files). Serial numbers are unique across states within the year;
    from 2017 housing units and group quarters are numbered separately.
    """
    directory.mkdir(parents=True, exist_ok=True)
    year = pop.year
    layout = pop.layout
    state_of_unit = layout["state"].to_numpy()[pop.units["puma"][units]]
    persons_out, housing_out = [], []
    next_serial = {"HU": 1, "GQ": 1}
    for state in sorted(set(state_of_unit)):
        picked = np.flatnonzero(state_of_unit == state)
        picked = picked[rng.permutation(len(picked))]
        gq = pop.units["kind"][units[picked]] == 2
        if year <= 2016:
            serial = next_serial["HU"] + np.arange(len(picked))
            next_serial["HU"] += len(picked)
        else:
            serial = np.empty(len(picked), dtype=np.int64)
            for label, mask in (("HU", ~gq), ("GQ", gq)):
                serial[mask] = next_serial[label] + np.arange(mask.sum())
                next_serial[label] += int(mask.sum())
            order = np.lexsort((serial, ~gq))  # GQ serials sort before HU ("2017GQ" < "2017HU")
            picked, serial = picked[order], serial[order]
        person_table, housing_table = state_tables(pop, units[picked], weight[picked], factors[picked], serial)
        person_path = directory / person_file_name(year, state)
        housing_path = directory / housing_file_name(year, state)
        _write(person_table, person_path)
        _write(housing_table, housing_path)
        persons_out.append(person_path)
        housing_out.append(housing_path)
    return persons_out, housing_out
