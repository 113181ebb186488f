"""Built-in indicators: English acquisition, income, homeownership and naturalization.

Each family has a small factory whose parameters (age limits, thresholds) have
documented defaults; the registered built-ins are the factories' defaults. A
variant is one call away, e.g. ``english_ability("very_well", min_age=18)``,
or ``dataclasses.replace(get("naturalized"), key=..., universe=...)``.

Universes say who is counted; cohorts (native-born, foreign-born, arrival
decades) are applied on top by :func:`scorecard.estimate`, so the same
``english_very_well`` serves the native-born benchmark and every arrival
cohort.

Examples
--------
>>> print(english_ability("well_or_better").measure)
english in ['only', 'very_well', 'well']
>>> poverty_share(2.0).key
'above_200pct_poverty'
"""

from __future__ import annotations

from indicators.definition import Indicator
from indicators.expr import ALWAYS, col
from indicators.registry import register

__all__ = [
    "english_ability",
    "poverty_share",
    "median_household_income",
    "median_personal_earnings",
    "homeownership",
    "in_owner_household",
    "naturalized",
    "naturalized_among_eligible",
    "population",
    "BUILTIN_KEYS",
]

_ACS_ENG = "ACS question ENG/LANX, 'How well does this person speak English?' (persons 5+)"
_LEVELS = {
    # level -> (categories counted, label, higher_is_better, default key, convention)
    "very_well": (
        ("only", "very_well"),
        "Speak only English or English 'very well'",
        True,
        "english_very_well",
        "Census Bureau: the complement of 'speaks English less than very well'.",
    ),
    "well_or_better": (
        ("only", "very_well", "well"),
        "Speak English 'well' or better",
        True,
        "english_well_or_better",
        "California Immigrant Integration Scorecard (Pastor et al., USC CSII 2012): English 'well' or better.",
    ),
    "limited": (
        ("well", "not_well", "not_at_all"),
        "Limited English proficiency (less than 'very well')",
        False,
        "limited_english",
        "Census Bureau / federal LEP definition (Executive Order 13166 guidance): speaks English less than 'very well'.",
    ),
}


def english_ability(level: str = "very_well", *, min_age: int = 5, key: str | None = None) -> Indicator:
    """Share of persons ``min_age``+ at an English-ability level.

    Parameters
    ----------
    level : {"very_well", "well_or_better", "limited"}
        ``"very_well"``: speaks only English or very well; ``"well_or_better"``:
        adds "well"; ``"limited"``: less than "very well" (well, not well, not at all).
    min_age : int, default=5
        The ACS asks English ability of persons 5 and older; raise it for adults.
    key : str, optional
        Registry key; defaults to the built-in key of the level (with
        ``_{min_age}plus`` appended when ``min_age`` is not 5).
    """
    if level not in _LEVELS:
        raise ValueError(f"The 'level' parameter of english_ability must be one of {sorted(_LEVELS)}. Got {level!r} instead.")
    categories, label, better, default_key, convention = _LEVELS[level]
    return Indicator(
        key=key or (default_key if min_age == 5 else f"{default_key}_{min_age}plus"),
        label=label if min_age == 5 else f"{label}, ages {min_age}+",
        domain="english",
        universe=(col("age") >= min_age) & col("english").notna(),
        measure=col("english").isin(categories),
        higher_is_better=better,
        description=(
            f"Persons aged {min_age}+ with a reported English ability; share whose ability is one of "
            f"{list(categories)} ('only' = speaks only English at home). Person weights."
        ),
        references=(_ACS_ENG, convention),
        parameters={"level": level, "min_age": min_age},
    )


def poverty_share(threshold: float, *, below: bool = False, key: str | None = None) -> Indicator:
    """Share of the poverty universe at or above (or below) ``threshold`` × the poverty line.

    Parameters
    ----------
    threshold : float
        Income-to-poverty ratio, e.g. 1.5 for 150% of the poverty threshold.
    below : bool, default=False
        Count persons strictly below the threshold instead (``in_poverty`` is
        ``threshold=1.0, below=True``).
    key : str, optional
        Registry key; defaults to ``above_{pct}pct_poverty`` / ``below_{pct}pct_poverty``
        (``in_poverty`` for 100% below).
    """
    percent = round(threshold * 100)
    default_key = "in_poverty" if (below and percent == 100) else f"{'below' if below else 'above'}_{percent}pct_poverty"
    measure = col("poverty_ratio") < threshold if below else col("poverty_ratio") >= threshold
    words = "below" if below else "at or above"
    return Indicator(
        key=key or default_key,
        label="In poverty" if default_key == "in_poverty" else f"Income {words} {percent}% of poverty",
        domain="income",
        universe=col("poverty_ratio").notna(),
        measure=measure,
        higher_is_better=below is False,
        description=(
            f"Persons for whom poverty status is determined (PUMS POVPIP not blank: excludes institutional group "
            f"quarters, college dormitories and unrelated children under 15); share with income {words} "
            f"{percent}% of their official poverty threshold (POVPIP {'<' if below else '>='} {percent})."
        ),
        references=("Census Bureau official poverty measure, ACS table B17001 / B17025 universe.",),
        parameters={"threshold": threshold, "below": below},
    )


def median_household_income(*, key: str = "median_household_income") -> Indicator:
    """Median household income of occupied housing units, in constant dollars (household weights)."""
    return Indicator(
        key=key,
        label="Median household income",
        domain="income",
        universe=col("is_householder").is_true() & col("household_income").notna(),
        measure=col("household_income"),
        statistic="median",
        unit="household",
        weight="household",
        dollars=True,
        description=(
            "Median of household income (PUMS HINCP × ADJINC, then CPI-U-RS to constant dollars) over occupied "
            "housing units, one record per household (the householder), weighted by the household weight WGTP; "
            "group quarters excluded. Cohorts apply to the householder."
        ),
        references=("ACS table B19013 (median household income) universe: households.",),
    )


def median_personal_earnings(
    *, min_age: int = 25, max_age: int = 64, full_time_year_round: bool = False, key: str | None = None
) -> Indicator:
    """Median earnings of persons with earnings in an age range, constant dollars.

    Parameters
    ----------
    min_age, max_age : int, default 25 and 64
        Prime working ages, so that schooling and retirement do not drive the comparison.
    full_time_year_round : bool, default=False
        Restrict to full-time (35+ hours), year-round (50-52 weeks) workers, as
        in ACS table B20017's FTYR lines.
    """
    universe = col("age").between(min_age, max_age) & (col("earnings") > 0)
    if full_time_year_round:
        universe = universe & col("full_time_year_round").is_true()
    suffix = "_ftyr" if full_time_year_round else ""
    ages = "" if (min_age, max_age) == (25, 64) else f"_{min_age}_{max_age}"
    return Indicator(
        key=key or f"median_personal_earnings{ages}{suffix}",
        label="Median earnings" + (", full-time year-round workers" if full_time_year_round else ""),
        domain="income",
        universe=universe,
        measure=col("earnings"),
        statistic="median",
        dollars=True,
        description=(
            f"Median of personal earnings (PUMS PERNP × ADJINC, constant dollars) over persons aged {min_age}-{max_age} "
            "with positive earnings" + (", working 35+ hours a week and 50-52 weeks" if full_time_year_round else "")
            + ". Person weights."
        ),
        references=("ACS table B20017 (median earnings by work experience).",),
        parameters={"min_age": min_age, "max_age": max_age, "full_time_year_round": full_time_year_round},
    )


_OWNED = ("owned_mortgage", "owned_free")


def homeownership(*, key: str = "homeownership") -> Indicator:
    """Share of householders who own their home (household weights)."""
    return Indicator(
        key=key,
        label="Homeownership rate (householders)",
        domain="housing",
        universe=col("is_householder").is_true() & col("tenure").notna(),
        measure=col("tenure").isin(_OWNED),
        unit="household",
        weight="household",
        description=(
            "Occupied housing units whose householder owns (with a mortgage or free and clear) among all occupied "
            "units, one record per household, household weight WGTP. Cohorts apply to the householder: "
            "'foreign-born homeownership' is the rate of foreign-born householders, as in ACS table S0501/S0502."
        ),
        references=("Census Bureau homeownership rate (ACS B25003 by householder nativity, S0502).",),
    )


def in_owner_household(*, key: str = "in_owner_household") -> Indicator:
    """Share of persons who live in an owner-occupied home (person weights)."""
    return Indicator(
        key=key,
        label="Persons living in owner-occupied homes",
        domain="housing",
        universe=col("tenure").notna(),
        measure=col("tenure").isin(_OWNED),
        description=(
            "Persons in occupied housing units (group quarters excluded) whose unit is owned, person weight PWGTP. "
            "Differs from the homeownership rate: it counts people, so large owner households weigh more."
        ),
        references=("Used by person-level integration studies, e.g. Myers & Pitkin (Demographic futures).",),
    )


def naturalized(*, key: str = "naturalized") -> Indicator:
    """Share of the foreign-born who are naturalized US citizens."""
    return Indicator(
        key=key,
        label="Naturalized citizens among the foreign-born",
        domain="civic",
        universe=(col("nativity") == "foreign_born") & col("citizenship").notna(),
        measure=col("citizenship") == "naturalized",
        description="Foreign-born persons (all ages); share who are naturalized citizens (PUMS CIT = 4).",
        references=("ACS table B05001/B05003; S0502 'percent naturalized'.",),
    )


def naturalized_among_eligible(*, min_age: int = 18, min_years: int = 5, key: str = "naturalized_among_eligible") -> Indicator:
    """Naturalized share among foreign-born adults with ``min_years``+ years in the US.

    This is a **proxy** for the naturalization rate among the eligible: the
    ACS has no legal-status question, so non-citizens who are not lawful
    permanent residents (and so not eligible) are in the denominator. Most
    residents need 5 years as permanent residents (3 if married to a citizen);
    time since entry is used as a stand-in for time as a permanent resident.
    """
    return Indicator(
        key=key,
        label=f"Naturalized among foreign-born adults {min_years}+ years in the US (proxy for eligible)",
        domain="civic",
        universe=(col("nativity") == "foreign_born")
        & (col("age") >= min_age)
        & ((col("survey_year") - col("year_of_entry")) >= min_years)
        & col("citizenship").notna(),
        measure=col("citizenship") == "naturalized",
        description=(
            f"Foreign-born persons aged {min_age}+ who entered the US at least {min_years} years before the survey "
            "year; share naturalized. A proxy: the ACS does not record legal status, so the denominator includes "
            "residents who are not eligible to naturalize."
        ),
        references=("Migration Policy Institute / Center for Migration Studies eligibility estimates (method differs).",),
        parameters={"min_age": min_age, "min_years": min_years},
    )


def population(*, key: str = "population") -> Indicator:
    """Weighted count of persons (context for every scorecard)."""
    return Indicator(
        key=key,
        label="Population",
        domain="population",
        universe=ALWAYS,
        statistic="total",
        higher_is_better=None,
        description="Sum of person weights: the estimated number of residents (including group quarters).",
    )


_BUILTINS = [
    english_ability("very_well"),
    english_ability("well_or_better"),
    english_ability("limited"),
    poverty_share(1.5),
    poverty_share(2.0),
    poverty_share(1.0, below=True),
    median_household_income(),
    median_personal_earnings(),
    homeownership(),
    in_owner_household(),
    naturalized(),
    naturalized_among_eligible(),
    population(),
]
for _definition in _BUILTINS:
    register(_definition, replace=True)

#: Keys of the built-in indicators, in documentation order.
BUILTIN_KEYS = tuple(d.key for d in _BUILTINS)
