"""Seeded synthetic ACS PUMS files with a known generating truth.

No public file holds immigrant microdata for fictional cities, so this
generator stands in: for each survey year it draws a finite population over
the PUMAs of a few fictional cities (:mod:`~scorecard.datasets.population`),
samples it with a systematic design and ACS successive-difference replicate
weights (:mod:`~scorecard.datasets.design`), writes genuine-layout Census
person and housing CSV files (:mod:`~scorecard.datasets.pums_files`), one
Geocorr-format crosswalk per PUMA vintage, and the finite-population value of
every built-in indicator (``truth.csv`` + ``truth.json``).

Examples
--------
>>> import tempfile
>>> files = write_pums(tempfile.mkdtemp(), scale="small", years=[2016, 2019])
>>> [p.name for p in files.person][:2]
['ss16pga.csv', 'ss16pmn.csv']
>>> sorted(files.crosswalks)
[2010]
>>> truth = files.read_truth()
>>> sorted(truth["year"].unique().tolist())
[2016, 2019]
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from scorecard.datasets.design import COHORTS, INDICATORS, draw_sample, truth_table
from scorecard.datasets.geography import (
    BALANCE,
    CROSSWALK_NAMES,
    DEFAULT_CITIES,
    STATES,
    City,
    place_members,
    puma_layout,
    puma_vintage,
    write_crosswalk,
)
from scorecard.datasets.population import ADJINC, Population, generate_population
from scorecard.datasets.pums_files import CSV_OPTIONS, header_line, state_tables, write_year
from scorecard.datasets.replication import sdr_factors

__all__ = ["Scale", "SCALES", "GeneratedFiles", "write_pums", "write_national", "DEFAULT_SEED", "GENERATOR_VERSION"]

#: Seed of the embedded demo data.
DEFAULT_SEED = 20240917
#: Bumped whenever the model changes what a seed produces.
GENERATOR_VERSION = "1"
_PERSONS_PER_UNIT = 2.3


@dataclass(frozen=True, slots=True)
class Scale:
    """Size of the generated data.

    Parameters
    ----------
    persons_per_puma : int
        Expected sampled persons in a PUMA of average size.
    base_weight : tuple of int
        Range (inclusive) of the PUMAs' integer base weights (1 / sampling rate).
    years : tuple of int
        Default survey years.
    """

    persons_per_puma: int
    base_weight: tuple[int, int]
    years: tuple[int, ...] = tuple(range(2006, 2024))


SCALES: dict[str, Scale] = {
    "demo": Scale(persons_per_puma=480, base_weight=(8, 12)),
    "small": Scale(persons_per_puma=70, base_weight=(4, 6), years=(2007, 2016, 2019, 2022)),
}


@dataclass(frozen=True)
class GeneratedFiles:
    """Paths written by :func:`write_pums`."""

    directory: Path
    person: list[Path]
    housing: list[Path]
    crosswalks: dict[int, Path]
    truth: Path
    metadata: Path
    years: tuple[int, ...] = field(default=())

    def read_truth(self) -> pd.DataFrame:
        """The truth table (see :func:`scorecard.datasets.demo_truth`)."""
        return read_truth(self.truth)


def read_truth(path: str | Path) -> pd.DataFrame:
    """Read ``truth.csv`` with string place codes."""
    return pd.read_csv(path, dtype={"place": str, "place_name": str, "cohort": str, "indicator": str, "statistic": str})


def _scale(scale: str | Scale) -> Scale:
    if isinstance(scale, Scale):
        return scale
    if scale not in SCALES:
        raise ValueError(f"The 'scale' parameter must be one of {sorted(SCALES)} or a Scale. Got {scale!r} instead.")
    return SCALES[scale]


def _year_layout(cities: tuple[City, ...], year: int, scale: Scale, rng: np.random.Generator) -> pd.DataFrame:
    layout = puma_layout(cities, puma_vintage(year))
    low, high = scale.base_weight
    base = rng.integers(low, high + 1, len(layout))
    units = np.rint(scale.persons_per_puma * base * layout["base_share"].to_numpy() / _PERSONS_PER_UNIT)
    return layout.assign(base_weight=base, n_units=units.astype(np.int64))


def _generate_year(cities, year, scale, seed) -> tuple[Population, np.random.Generator]:
    population_seed, sample_seed, file_seed = np.random.SeedSequence([seed, year]).spawn(3)
    rng = np.random.default_rng(population_seed)
    layout = _year_layout(cities, year, scale, rng)
    return generate_population(layout, year, cities, rng), (np.random.default_rng(sample_seed), np.random.default_rng(file_seed))


def write_pums(
    directory: str | os.PathLike,
    *,
    seed: int = DEFAULT_SEED,
    scale: str | Scale = "demo",
    years: Iterable[int] | None = None,
    cities: tuple[City, ...] = DEFAULT_CITIES,
) -> GeneratedFiles:
    """Generate synthetic ACS 1-year PUMS files with known truth.

    Parameters
    ----------
    directory : path
        Output folder; one subfolder per survey year holds that year's
        person and housing CSV files (one pair per state, Census names).
    seed : int, default=DEFAULT_SEED
        Everything written is a deterministic function of the seed (and
        the other arguments).
    scale : {"demo", "small"} or Scale, default="demo"
        ``"demo"`` has about 1,500-3,000 sampled persons per city-year,
        ``"small"`` a few hundred and, by default, the years 2007, 2016,
        2019 and 2022.
    years : iterable of int, optional
        Survey years (2006-2023); default: the scale's years.
    cities : tuple of City, default=DEFAULT_CITIES
        The fictional cities and their model parameters.

    Returns
    -------
    GeneratedFiles
        Paths of the person files, housing files, crosswalks (by PUMA
        vintage), ``truth.csv`` and ``truth.json``.
    """
    scale_spec = _scale(scale)
    years = tuple(sorted(set(int(y) for y in (scale_spec.years if years is None else years))))
    bad = [y for y in years if y not in ADJINC or y < 2006]
    if bad:
        raise ValueError(f"The 'years' parameter of write_pums must hold years 2006-2023. Got {bad} instead.")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    person, housing, truths = [], [], []
    for year in years:
        pop, (sample_rng, file_rng) = _generate_year(cities, year, scale_spec, seed)
        sample = draw_sample(pop, sample_rng)
        p, h = write_year(pop, sample.units, sample.weight, sample.factors, root / str(year), file_rng)
        person += p
        housing += h
        truths.append(truth_table(pop, place_members(cities, puma_vintage(year)), cities))
    vintages = sorted({puma_vintage(y) for y in years})
    crosswalks = {v: write_crosswalk(cities, v, root / CROSSWALK_NAMES[v]) for v in vintages}
    truth = pd.concat(truths, ignore_index=True)
    truth_path = root / "truth.csv"
    tmp = truth_path.with_name("truth.csv.tmp")
    truth.to_csv(tmp, index=False)
    tmp.replace(truth_path)
    metadata = {
        "generator": "scorecard.datasets.write_pums",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": asdict(scale_spec) | {"name": scale if isinstance(scale, str) else "custom"},
        "years": list(years),
        "adjinc": {str(y): ADJINC[y] for y in years},
        "dollars": "survey-year dollars: PUMS amount x ADJINC (ADJUST up to 2007) / 1e6, no CPI conversion",
        "cohorts": list(COHORTS),
        "indicators": {k: {"statistic": s, "weight": w, "definition": d} for k, (s, w, d) in INDICATORS.items()},
        "places": {c.place_id: {"name": c.place_name, **asdict(c)} for c in cities},
        "balance_model": asdict(BALANCE),
        "design": (
            "Finite population per survey year; systematic sample per PUMA with probability 1/base_weight after "
            "sorting units by PUMA, kind, householder arrival decade (serpentine) and a random key; base weights are "
            "integers, equal for the housing record and its persons; replicate weights = round(base weight x SDR "
            "factor) with an order-80 Paley Hadamard matrix; group-quarters housing records have weight 0."
        ),
        "truth": (
            "Value of each indicator in the finite population. A place is the allocation-weighted union of its "
            "PUMAs: residents of PUMA p count with factor pop_in/census_pop from the crosswalk of the year's "
            "PUMA vintage. Medians: smallest value whose weighted cumulative share reaches 0.5."
        ),
        "crosswalks": {str(v): p.name for v, p in crosswalks.items()},
        "seconds": round(time.perf_counter() - started, 2),
    }
    meta_path = root / "truth.json"
    meta_path.write_text(json.dumps(metadata, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return GeneratedFiles(root, person, housing, crosswalks, truth_path, meta_path, years)


def _national_layout(persons: int, rng: np.random.Generator) -> pd.DataFrame:
    states = sorted(STATES)
    population = np.array([STATES[s][2] for s in states])
    n_pumas = np.maximum(1, np.rint(population / 0.138)).astype(np.int64)
    rows = []
    for state, count in zip(states, n_pumas):
        for k in range(count):
            rows.append((state, f"{20101 + k:05d}"))
    layout = pd.DataFrame(rows, columns=["state", "puma"])
    layout["vintage"] = 2020
    layout["model"] = -1
    per_puma = persons / len(layout)
    layout["n_units"] = np.rint(per_puma / 2.15 * rng.uniform(0.85, 1.15, len(layout))).astype(np.int64)
    layout["base_weight"] = rng.integers(60, 140, len(layout))
    return layout


def write_national(
    directory: str | os.PathLike,
    *,
    persons: int = 3_400_000,
    seed: int = DEFAULT_SEED,
    year: int = 2023,
) -> tuple[list[Path], list[Path]]:
    """Write a national-size 1-year person and housing file (about ``persons`` rows).

    About 2,400 PUMAs over the 50 states and DC, the columns of
    :func:`write_pums` and 80 replicate weights. Like the Census national
    files, persons go to ``psam_pusa.csv``/``psam_pusb.csv`` and housing
    units to ``psam_husa.csv``/``psam_husb.csv`` (states split in two
    halves). Every generated unit is "sampled" (no finite population and no
    truth), and states are generated and appended in chunks to bound memory.

    Returns
    -------
    (list of Path, list of Path)
        Person files and housing files.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, year, 1]))
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    layout = _national_layout(persons, rng)
    states = sorted(STATES)
    halves = {"a": states[: len(states) // 2], "b": states[len(states) // 2:]}
    models = tuple(
        City(name=f"State {s}", state=s, stab=STATES[s][0], place="99999", foreign_born_share=STATES[s][3])
        for s in states
    )
    layout["model"] = [states.index(s) for s in layout["state"]]
    person_paths, housing_paths = [], []
    serial = {"HU": 1, "GQ": 1}
    row = 0
    for part, part_states in halves.items():
        person_path, housing_path = root / f"psam_pus{part}.csv", root / f"psam_hus{part}.csv"
        writers: dict[str, pacsv.CSVWriter] = {}
        sinks = {"person": pa.OSFile(str(person_path) + ".tmp", "wb"), "housing": pa.OSFile(str(housing_path) + ".tmp", "wb")}
        try:
            for start in range(0, len(part_states), 4):
                chunk = layout[layout["state"].isin(part_states[start:start + 4])].reset_index(drop=True)
                pop = generate_population(chunk, year, models, rng)
                units = np.flatnonzero(np.ones(len(pop.units["kind"]), dtype=bool))
                units = units[rng.permutation(len(units))]
                units = units[np.argsort(pop.units["puma"][units], kind="stable")]
                weight = chunk["base_weight"].to_numpy()[pop.units["puma"][units]]
                factors = sdr_factors(len(units), start=row % 80)
                row += len(units)
                gq = pop.units["kind"][units] == 2
                numbers = np.empty(len(units), dtype=np.int64)
                for label, mask in (("HU", ~gq), ("GQ", gq)):
                    numbers[mask] = serial[label] + np.arange(mask.sum())
                    serial[label] += int(mask.sum())
                tables = dict(zip(("person", "housing"), state_tables(pop, units, weight, factors, numbers)))
                for kind, table in tables.items():
                    if kind not in writers:
                        sinks[kind].write(header_line(table))
                        writers[kind] = pacsv.CSVWriter(sinks[kind], table.schema, write_options=CSV_OPTIONS)
                    writers[kind].write_table(table)
        finally:
            for writer in writers.values():
                writer.close()
            for sink in sinks.values():
                sink.close()
        os.replace(str(person_path) + ".tmp", person_path)
        os.replace(str(housing_path) + ".tmp", housing_path)
        person_paths.append(person_path)
        housing_paths.append(housing_path)
    return person_paths, housing_paths
