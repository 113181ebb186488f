"""integration-scorecard: longitudinal immigrant-integration scorecards for cities.

Public names are loaded lazily, so ``import scorecard`` stays fast and a
missing optional dependency (ipumspy, dask) only matters when its reader or
engine is used.

Examples
--------
>>> import scorecard
>>> scorecard.Microdata.__name__
'Microdata'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Microdata": "scorecard.microdata",
    "RecordReport": "scorecard.microdata",
    "read_acs_pums": "scorecard.sources.acs_pums",
    "read_ipums": "scorecard.sources.ipums",
    "Places": "scorecard.places",
    "estimate": "scorecard.estimation",
    "Reliability": "scorecard.estimates",
    "read_acs_tables": "scorecard.tables",
    "fetch_acs_table": "scorecard.tables",
    "ScorecardError": "scorecard.errors",
    "EstimatesContractError": "scorecard.errors",
    "validate_estimates": "scorecard.estimates",
    "estimates_from_frame": "scorecard.estimates",
    "build_estimates": "scorecard.estimates",
    "merge_estimates": "scorecard.estimates",
    "to_frame": "scorecard.estimates",
    "rank_intervals": "scorecard.scoring.ranks",
    "top_k_set": "scorecard.scoring.ranks",
    "Scorecard": "scorecard.card",
    "register_method": "scorecard.scoring.methods",
    "available_methods": "scorecard.scoring.methods",
    "ScoringError": "scorecard.errors",
    "office_impact": "scorecard.impact",
    "impact_statement": "scorecard.impact",
}
_SUBMODULES = {
    "datasets",
    "errors",
    "schema",
    "sources",
    "estimates",
    "estimation",
    "tables",
    "places",
    "uncertainty",
    "scoring",
    "card",
    "charts",
    "report",
    "impact",
}

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"scorecard.{name}")
    raise AttributeError(f"module 'scorecard' has no attribute {name!r}")


def __dir__():
    return __all__
