"""Scoring, composites, ranks and progress: the floor above the estimates Dataset.

Reads only the estimates Dataset and :mod:`scorecard.uncertainty`; never
imports :mod:`scorecard.estimation` or :mod:`scorecard.sources`.
See ``docs/scoring.md`` for every formula.
"""

from __future__ import annotations

from scorecard.scoring.ranks import rank_intervals, top_k_set

__all__ = ["rank_intervals", "top_k_set"]
