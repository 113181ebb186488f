"""Small synthetic harmonized microdata and a textbook estimator for tests.

The textbook estimator loops over groups and replicates in plain Python —
slow and obvious on purpose — so the vectorized engine is checked against an
independent computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scorecard import Microdata, schema
from scorecard.places import Places

PUMAS = ["00001", "00002", "00003", "00004"]


def synthetic_frame(n: int = 2500, seed: int = 7, years=(2019, 2020)) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Harmonized person frame plus person and household replicate matrices (integer-valued)."""
    rng = np.random.default_rng(seed)
    foreign = rng.random(n) < 0.35
    age = rng.integers(0, 90, n)
    entry = np.where(foreign, rng.integers(1960, 2020, n), -1)
    entry = np.minimum(entry, np.where(foreign, rng.choice(years, n), 3000))
    english = np.where(age < 5, None, rng.choice(["only", "very_well", "well", "not_well", "not_at_all"], n,
                                                   p=[0.5, 0.2, 0.15, 0.1, 0.05]))
    citizenship = np.where(foreign, rng.choice(["naturalized", "not_citizen"], n), "born_citizen")
    householder = rng.random(n) < 0.4
    tenure = np.where(rng.random(n) < 0.05, None, rng.choice(["owned_mortgage", "owned_free", "rented", "no_rent"], n,
                                                               p=[0.4, 0.2, 0.35, 0.05]))
    frame = pd.DataFrame(
        {
            "survey_year": rng.choice(years, n),
            "state": "53",
            "puma": rng.choice(PUMAS, n),
            "puma_vintage": 2010,
            "household_id": [f"h{i}" for i in range(n)],
            "person_id": 1,
            "is_householder": householder,
            "age": age,
            "sex": rng.choice(["male", "female"], n),
            "nativity": np.where(foreign, "foreign_born", "native"),
            "citizenship": citizenship,
            "year_of_entry": pd.array(np.where(foreign, entry, pd.NA), dtype="Int16"),
            "english": english,
            "poverty_ratio": np.where(rng.random(n) < 0.03, np.nan, rng.integers(0, 502, n) / 100),
            "earnings": np.where(age < 16, np.nan, np.round(rng.lognormal(10, 1, n), -2)),
            "household_income": np.where(tenure == None, np.nan, np.round(rng.lognormal(11, 0.8, n), -2)),  # noqa: E711
            "tenure": tenure,
            "person_weight": rng.integers(5, 120, n).astype(float),
            "household_weight": rng.integers(5, 120, n).astype(float),
        }
    )
    factors = rng.choice([0.0, 0.29289, 1.0, 1.70711], size=(n, 80), p=[0.02, 0.32, 0.34, 0.32])
    person_reps = np.round(frame["person_weight"].to_numpy()[:, None] * factors).astype(np.float32)
    household_reps = np.round(frame["household_weight"].to_numpy()[:, None] * factors[:, ::-1]).astype(np.float32)
    return schema.coerce(frame, source="synthetic"), person_reps, household_reps


def synthetic_micro(**kwargs) -> Microdata:
    frame, person_reps, household_reps = synthetic_frame(**kwargs)
    return Microdata(frame, person_reps, household_reps, attrs={"source": "synthetic", "survey": "acs1"})


def split_places() -> Places:
    """Place A: PUMAs 1, 2 and 30% of 3; place B: 70% of 3 and 4."""
    return Places.from_pumas(
        pd.DataFrame(
            {
                "place": ["A", "A", "A", "B", "B"],
                "state": "53",
                "puma": ["00001", "00002", "00003", "00003", "00004"],
                "puma_vintage": 2010,
                "factor": [1.0, 1.0, 0.3, 0.7, 1.0],
            }
        )
    )


def textbook_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Smallest value whose weighted cumulative share reaches 1/2 (loops, no tricks)."""
    order = np.argsort(values, kind="stable")
    total = weights.sum()
    if total <= 0:
        return np.nan
    running = 0.0
    for i in order:
        running += weights[i]
        if running >= 0.5 * total:
            return float(values[i])
    return float(values[order[-1]])


def textbook_estimate(values, universe, denominator, statistic, weight_matrix) -> tuple[float, float]:
    """Estimate and SDR SE for one group: ``weight_matrix`` is (n, 81) already times allocation factors."""
    thetas = []
    for r in range(weight_matrix.shape[1]):
        w = weight_matrix[:, r] * universe
        if statistic == "total":
            theta = float(np.sum(w * values))
        elif statistic in ("proportion", "mean"):
            theta = float(np.sum(w * values) / np.sum(w)) if np.sum(w) > 0 else np.nan
        elif statistic == "ratio":
            theta = float(np.sum(w * values) / np.sum(w * denominator))
        else:
            theta = textbook_median(values[universe], np.maximum(weight_matrix[universe, r], 0))
        thetas.append(theta)
    thetas = np.array(thetas)
    se = float(np.sqrt(4 / 80 * np.sum((thetas[1:] - thetas[0]) ** 2))) if len(thetas) > 1 else np.nan
    return thetas[0], se
