"""Cohort engine: arrival cohorts and other groupings followed across survey years.

Examples
--------
>>> import cohorts
>>> cohorts.ArrivalCohorts.decades(1990, 2010).labels
('native', 'foreign_born', '1990-1999', '2000-2009', '2010-')
"""

from __future__ import annotations

from cohorts._common import cohorts_by_year, followable
from cohorts.change import change, pace
from cohorts.gap import gap
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
from cohorts.trajectories import ALIGNMENTS, CohortDriftWarning, trajectories

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
    "trajectories",
    "change",
    "pace",
    "gap",
    "followable",
    "cohorts_by_year",
    "CohortDriftWarning",
    "ALIGNMENTS",
]
