"""Embedded default data: seeded synthetic ACS PUMS files with known truth.

No public file has immigrant microdata for a set of cities with a known
answer, so :func:`write_pums` generates one: genuine-layout Census ACS 1-year
person and housing files for six fictional cities (2006-2023, PUMA vintages
2000/2010/2020), Geocorr-format crosswalks, 80 successive-difference
replicate weights, and the finite-population value of every built-in
indicator by place, year and arrival cohort. :func:`demo` caches and reads
them; :func:`write_national` writes a national-size file for benchmarks.

Examples
--------
>>> import scorecard.datasets as ds
>>> [c.name for c in ds.DEFAULT_CITIES][:3]
['Alderport', 'Cindermoor', 'Bramblewick']
>>> ds.hadamard().shape
(80, 80)
"""

from __future__ import annotations

from scorecard.datasets.demo import cache_directory, demo, demo_paths, demo_truth
from scorecard.datasets.design import COHORTS, INDICATORS
from scorecard.datasets.geography import DEFAULT_CITIES, City, puma_vintage
from scorecard.datasets.impact import simulate_impact
from scorecard.datasets.offices import city_offices
from scorecard.datasets.population import ADJINC
from scorecard.datasets.replication import hadamard, sdr_factors
from scorecard.datasets.synthetic import (
    DEFAULT_SEED,
    SCALES,
    GeneratedFiles,
    Scale,
    read_truth,
    write_national,
    write_pums,
)

__all__ = [
    "ADJINC",
    "COHORTS",
    "City",
    "DEFAULT_CITIES",
    "DEFAULT_SEED",
    "GeneratedFiles",
    "INDICATORS",
    "SCALES",
    "Scale",
    "cache_directory",
    "city_offices",
    "demo",
    "demo_paths",
    "demo_truth",
    "hadamard",
    "puma_vintage",
    "read_truth",
    "sdr_factors",
    "simulate_impact",
    "write_national",
    "write_pums",
]
