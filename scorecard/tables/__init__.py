"""Published ACS tables route: real city geographies and period-of-entry cohorts without microdata.

Read Census Data API table responses (``get=group(TABLE)``, CSV or JSON, with
their LEGEND labels) into the same estimates Dataset the microdata route
builds. See ``docs/tables.md``.

=============================  ===============================================
:func:`read_acs_tables`        files, folders or :class:`AcsTable` → Dataset
:func:`read_acs_table`         one response (+ legend) → :class:`AcsTable`
:func:`fetch_acs_table`        download a table from the Census Data API (cached)
:func:`supported`              which table gives which indicator and cohort
:mod:`~scorecard.tables.moe`   ACS handbook MOE formulas for derived figures
=============================  ===============================================

Examples
--------
>>> import scorecard.tables as tables
>>> sorted(set(tables.supported()["table"]))
['B05003', 'B16005', 'B17025', 'S0501', 'S0502']
"""

from __future__ import annotations

from scorecard.tables.api_files import AcsTable, parse_values, read_acs_table, read_legend
from scorecard.tables.catalog import Catalog, cohort_coords, load_catalog, supported
from scorecard.tables.errors import CensusApiError, MissingLineError
from scorecard.tables.fetch import fetch_acs_table
from scorecard.tables.moe import moe_difference, moe_product, moe_proportion, moe_ratio, moe_sum
from scorecard.tables.reader import read_acs_tables, table_figures

__all__ = [
    "AcsTable",
    "Catalog",
    "CensusApiError",
    "MissingLineError",
    "cohort_coords",
    "fetch_acs_table",
    "load_catalog",
    "moe_difference",
    "moe_product",
    "moe_proportion",
    "moe_ratio",
    "moe_sum",
    "parse_values",
    "read_acs_table",
    "read_acs_tables",
    "read_legend",
    "supported",
    "table_figures",
]
