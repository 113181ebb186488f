"""Cohort engine: arrival cohorts and other groupings followed across survey years.

Examples
--------
>>> import cohorts
>>> cohorts.ArrivalCohorts.decades(1990, 2010).labels
('native', 'foreign_born', '1990-1999', '2000-2009', '2010-')
"""

from __future__ import annotations

from cohorts.schemes import AllRecords, ArrivalCohorts, ByCategory, Grouping, as_grouping, cohort_label

__all__ = ["Grouping", "ArrivalCohorts", "ByCategory", "AllRecords", "cohort_label", "as_grouping"]
