"""Cohort engine: arrival cohorts and other groupings followed across survey years.

Examples
--------
>>> import cohorts
>>> cohorts.ArrivalCohorts.decades(1990, 2010).labels
('native', 'foreign_born', '1990-1999', '2000-2009', '2010-')
"""

from __future__ import annotations

from cohorts.schemes import (
    S0502_WINDOWS,
    AgeBands,
    AllRecords,
    ArrivalCohorts,
    ByCategory,
    Grouping,
    YearsSinceArrival,
    as_grouping,
    cohort_label,
    require_windows,
    s0502_windows,
)

__all__ = [
    "Grouping",
    "ArrivalCohorts",
    "ByCategory",
    "AllRecords",
    "AgeBands",
    "YearsSinceArrival",
    "cohort_label",
    "as_grouping",
    "require_windows",
    "s0502_windows",
    "S0502_WINDOWS",
]
