"""Indicator registry: what each scorecard number means, and how researchers add their own.

Examples
--------
>>> import indicators
>>> eng = indicators.get("english_very_well")
>>> eng.statistic, eng.weight
('proportion', 'person')
>>> "homeownership" in indicators.available().index
True
"""

from __future__ import annotations

from indicators import builtin
from indicators.builtin import (
    BUILTIN_KEYS,
    english_ability,
    homeownership,
    in_owner_household,
    median_household_income,
    median_personal_earnings,
    naturalized,
    naturalized_among_eligible,
    population,
    poverty_share,
)
from indicators.definition import STATISTICS, Evaluation, Indicator
from indicators.expr import ALWAYS, Expr, col, lit, where
from indicators.registry import (
    ENTRY_POINT_GROUP,
    PluginWarning,
    available,
    get,
    refresh,
    register,
    resolve,
    unregister,
)

__all__ = [
    "Indicator",
    "Evaluation",
    "STATISTICS",
    "Expr",
    "col",
    "lit",
    "where",
    "ALWAYS",
    "register",
    "unregister",
    "get",
    "resolve",
    "available",
    "refresh",
    "ENTRY_POINT_GROUP",
    "PluginWarning",
    "BUILTIN_KEYS",
    "english_ability",
    "poverty_share",
    "median_household_income",
    "median_personal_earnings",
    "homeownership",
    "in_owner_household",
    "naturalized",
    "naturalized_among_eligible",
    "population",
    "builtin",
]
