"""Sample design and generating truth.

:func:`draw_sample` draws a systematic sample of housing units and
group-quarters persons from a :class:`~scorecard.datasets.population.Population`:
units are sorted by PUMA, unit kind, householder arrival decade (serpentine:
ascending in even PUMAs, descending in odd ones) and a random key, and every
``B``-th unit from a random start is taken in each PUMA (``B`` = the PUMA's
integer base weight). Sampled units get ACS successive-difference replicate
factors in that order (:func:`~scorecard.datasets.replication.sdr_factors`).

:func:`truth_table` computes, from the whole finite population, the value of
each built-in indicator for each place, cohort and the survey year. A place
is, as :class:`scorecard.Places` assumes, the allocation-weighted union of its
PUMAs: every resident of PUMA *p* counts with the factor ``pop_in / census_pop``
of the crosswalk, so a weighted sample estimate targets exactly this value.

Examples
--------
>>> from scorecard.datasets.geography import DEFAULT_CITIES, puma_layout, place_members
>>> from scorecard.datasets.population import generate_population
>>> layout = puma_layout(DEFAULT_CITIES, 2010).assign(n_units=300, base_weight=6)
>>> pop = generate_population(layout, 2015, DEFAULT_CITIES, np.random.default_rng(2))
>>> sample = draw_sample(pop, np.random.default_rng(3))
>>> bool(abs(len(sample.units) * 6 - len(pop.units["kind"])) < 6 * len(layout))
True
>>> truth = truth_table(pop, place_members(DEFAULT_CITIES, 2010), DEFAULT_CITIES)
>>> sorted(set(truth["cohort"]))[:3]
['1960-1969', '1970-1979', '1980-1989']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scorecard.datasets.geography import City
from scorecard.datasets.population import FIRST_ARRIVAL, Population
from scorecard.datasets.replication import sdr_factors

__all__ = ["Sample", "draw_sample", "truth_table", "COHORTS", "INDICATORS", "person_frame"]

#: Cohort labels of the truth table (the library's convention: open end "2020-").
COHORTS = (
    "all", "native", "foreign_born",
    "1960-1969", "1970-1979", "1980-1989", "1990-1999", "2000-2009", "2010-2019", "2020-",
)
_DECADES = COHORTS[3:]

#: Indicator definitions used for the truth: key -> (statistic, weight unit, description).
INDICATORS: dict[str, tuple[str, str, str]] = {
    "population": ("total", "person", "number of residents, group quarters included"),
    "english_very_well": ("proportion", "person", "persons 5+: speak only English or English 'very well'"),
    "english_well_or_better": ("proportion", "person", "persons 5+: only English, 'very well' or 'well'"),
    "limited_english": ("proportion", "person", "persons 5+: English 'well', 'not well' or 'not at all'"),
    "above_150pct_poverty": ("proportion", "person", "poverty universe (POVPIP not blank): POVPIP >= 150"),
    "above_200pct_poverty": ("proportion", "person", "poverty universe (POVPIP not blank): POVPIP >= 200"),
    "in_poverty": ("proportion", "person", "poverty universe (POVPIP not blank): POVPIP < 100"),
    "median_household_income": ("median", "household", "householders of occupied units: HINCP x ADJINC, survey-year dollars"),
    "median_personal_earnings": ("median", "person", "persons 25-64 with PERNP > 0: PERNP x ADJINC, survey-year dollars"),
    "homeownership": ("proportion", "household", "householders of occupied units: TEN in (1, 2)"),
    "in_owner_household": ("proportion", "person", "persons in occupied units: TEN in (1, 2)"),
    "naturalized": ("proportion", "person", "foreign-born: CIT = 4"),
    "naturalized_among_eligible": ("proportion", "person", "foreign-born 18+ with survey year - YOEP >= 5: CIT = 4"),
}


@dataclass(frozen=True)
class Sample:
    """Sampled units (indices into ``Population.units``) in frame (SDR) order."""

    units: np.ndarray
    weight: np.ndarray
    factors: np.ndarray


def _sort_order(pop: Population, rng: np.random.Generator) -> np.ndarray:
    u = pop.units
    decade = np.where(u["head_foreign"], 1 + (u["head_entry"] - FIRST_ARRIVAL) // 10, 0)
    serpentine = np.where(u["puma"] % 2 == 1, -decade, decade)
    return np.lexsort((rng.random(len(decade)), serpentine, u["kind"], u["puma"]))


def draw_sample(pop: Population, rng: np.random.Generator, *, start_row: int = 0) -> Sample:
    """Systematic sample of units with probability ``1/base_weight`` per PUMA.

    Parameters
    ----------
    pop : Population
        Finite population; ``pop.layout["base_weight"]`` holds integer weights.
    rng : numpy.random.Generator
        Draws the random sort keys and the random starts.
    start_row : int, default=0
        Hadamard row given to the first sampled unit.

    Returns
    -------
    Sample
    """
    order = _sort_order(pop, rng)
    puma = pop.units["puma"][order]
    base = pop.layout["base_weight"].to_numpy(dtype=np.int64)
    counts = np.bincount(puma, minlength=len(base))
    first = np.cumsum(counts) - counts
    position = np.arange(len(order)) - first[puma]
    start = np.floor(rng.random(len(base)) * base).astype(np.int64)
    chosen = order[(position % base[puma]) == start[puma]]
    return Sample(units=chosen, weight=base[pop.units["puma"][chosen]], factors=sdr_factors(len(chosen), start=start_row))


def person_frame(pop: Population) -> pd.DataFrame:
    """Harmonized view of every person of the finite population (for truth and tests)."""
    u, p = pop.units, pop.persons
    unit = p["unit"]
    kind = u["kind"][unit]
    foreign = p["foreign"]
    decade = np.where(foreign, np.clip((p["yoep"] - FIRST_ARRIVAL) // 10, 0, len(_DECADES) - 1), -1)
    return pd.DataFrame(
        {
            "puma": u["puma"][unit],
            "is_householder": (p["sporder"] == 1) & (kind == 0),
            "age": p["age"],
            "foreign": foreign,
            "decade": decade,
            "year_of_entry": np.where(foreign, p["yoep"], -1),
            "english": p["eng"],
            "poverty_ratio": np.where(p["povpip"] >= 0, p["povpip"] / 100.0, np.nan),
            "household_income": np.where(kind == 0, u["hincp"][unit] * pop.adjinc, np.nan),
            "earnings": np.where(p["age"] >= 15, p["pernp"] * pop.adjinc, np.nan),
            "tenure": u["ten"][unit],
            "cit": p["cit"],
        }
    )


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1] * (1 - 1e-12))])


def _measures(frame: pd.DataFrame, year: int) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """indicator -> (universe mask, measure) ; medians: measure holds the values."""
    age, eng = frame["age"].to_numpy(), frame["english"].to_numpy()
    ratio = frame["poverty_ratio"].to_numpy()
    has_ratio = ~np.isnan(ratio)
    householder = frame["is_householder"].to_numpy()
    tenure = frame["tenure"].to_numpy()
    foreign = frame["foreign"].to_numpy()
    cit = frame["cit"].to_numpy()
    earnings = frame["earnings"].to_numpy()
    spoken = (age >= 5) & (eng >= 0)
    owned = (tenure == 1) | (tenure == 2)
    everyone = np.ones(len(frame), dtype=bool)
    return {
        "population": (everyone, None),
        "english_very_well": (spoken, eng <= 1),
        "english_well_or_better": (spoken, eng <= 2),
        "limited_english": (spoken, eng >= 2),
        "above_150pct_poverty": (has_ratio, ratio >= 1.5),
        "above_200pct_poverty": (has_ratio, ratio >= 2.0),
        "in_poverty": (has_ratio, ratio < 1.0),
        "median_household_income": (householder, frame["household_income"].to_numpy()),
        "median_personal_earnings": ((age >= 25) & (age <= 64) & (earnings > 0), earnings),
        "homeownership": (householder & (tenure > 0), owned),
        "in_owner_household": (tenure > 0, owned),
        "naturalized": (foreign, cit == 4),
        "naturalized_among_eligible": (foreign & (age >= 18) & (year - frame["year_of_entry"].to_numpy() >= 5), cit == 4),
    }


def _cohort_masks(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    foreign = frame["foreign"].to_numpy()
    decade = frame["decade"].to_numpy()
    masks = {"all": np.ones(len(frame), dtype=bool), "native": ~foreign, "foreign_born": foreign}
    masks.update({label: decade == i for i, label in enumerate(_DECADES)})
    return masks


def truth_table(pop: Population, members: pd.DataFrame, cities: tuple[City, ...]) -> pd.DataFrame:
    """Finite-population value of every indicator by place and cohort.

    Parameters
    ----------
    pop : Population
        The finite population of one survey year.
    members : pandas.DataFrame
        :func:`~scorecard.datasets.geography.place_members` of the year's PUMA vintage.
    cities : tuple of City
        The cities; one place each.

    Returns
    -------
    pandas.DataFrame
        Columns ``place, place_name, year, puma_vintage, cohort, indicator,
        statistic, value, numerator, denominator, n_persons``. For a
        proportion ``value = numerator / denominator`` (allocation-weighted
        counts); for a total ``value = numerator``; for a median ``numerator``
        is NaN. ``n_persons`` counts universe records with a positive factor.
    """
    everyone = person_frame(pop)
    layout = pop.layout
    key = layout["state"] + ":" + layout["puma"]
    rows = []
    vintage = int(layout["vintage"].iloc[0])
    for index, city in enumerate(cities):
        mine = members[members["city"] == index]
        factor_by_puma = pd.Series(mine["factor"].to_numpy(), index=mine["state"] + ":" + mine["puma"])
        puma_factor = key.map(factor_by_puma).fillna(0.0).to_numpy()
        weight = puma_factor[everyone["puma"].to_numpy()]
        inside = weight > 0
        frame, weight = everyone[inside], weight[inside]
        measures = _measures(frame, pop.year)
        for cohort, sel in _cohort_masks(frame).items():
            for name, (universe, measure) in measures.items():
                statistic = INDICATORS[name][0]
                in_universe = sel & universe
                denominator = float(weight[in_universe].sum())
                if statistic == "total":
                    numerator, value = denominator, denominator
                elif statistic == "proportion":
                    numerator = float(weight[in_universe & measure].sum())
                    value = numerator / denominator if denominator > 0 else float("nan")
                else:
                    numerator = float("nan")
                    value = _weighted_median(measure[in_universe], weight[in_universe])
                rows.append((city.place_id, city.place_name, pop.year, vintage, cohort, name, statistic, value,
                             numerator, denominator, int(in_universe.sum())))
    return pd.DataFrame(rows, columns=["place", "place_name", "year", "puma_vintage", "cohort", "indicator",
                                       "statistic", "value", "numerator", "denominator", "n_persons"])
