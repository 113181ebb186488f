"""Progress between two survey years, in plain language, from templates.

For each place, indicator and cohort, :func:`cohorts.change` gives ``change = θ_end − θ_start`` with

* ``se = sqrt(se_start² + se_end²)`` (different survey years are independent samples;
  replicates are never differenced across years), or
* ``se = sqrt(1 − C) · sqrt(se_start² + se_end²)`` when the two multi-year periods overlap
  (C = share of common years, from the ``period_start`` coord; C = 1 is refused),

``z = change / se``, two-sided p-value, and significance at 90% or, with ``fdr``, by
Benjamini-Hochberg over every test in the table. The wording comes from
:data:`TEMPLATES` (one per direction) and :data:`RANK_TEMPLATES`; there is no
if-chain per case.

Examples
--------
>>> print(rank_statement(3, 7, 12))
statistically tied for 3rd-7th of 12
>>> print(rank_statement(1, 1, 12))
1st of 12
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cohorts.change import change as cohorts_change
from scorecard.errors import ScoringError
from scorecard.uncertainty import Z90, UncertaintyError, benjamini_hochberg, significance

__all__ = ["progress_table", "rank_statement", "ordinal", "TEMPLATES", "RANK_TEMPLATES", "cohort_phrase", "year_label"]

#: Sentence per direction. Fields: what, who, where, verb, start_value, end_value, start, end, change (the
#: change with its 90% MOE, e.g. "+12 ± 7 points"), moe (the MOE alone), missing_years.
TEMPLATES = {
    "gain": "{what} of {who} in {where} {verb} from {start_value} in {start} to {end_value} in {end} ({change}), a significant gain.",
    "loss": "{what} of {who} in {where} {verb} from {start_value} in {start} to {end_value} in {end} ({change}), a significant loss.",
    "no measurable change": "{what} of {who} in {where} went from {start_value} in {start} to {end_value} in {end} ({change}): no measurable change.",
    "unreliable": "{what} of {who} in {where}: the {start}-{end} change cannot be told; the estimates are unreliable (high CV or too few records).",
    "missing": "{what} of {who} in {where}: no estimate for {missing_years}, so no change can be given.",
}
#: Verb by the sign of the change.
VERBS = {1: "rose", -1: "fell", 0: "stayed the same"}
#: Rank wording: tied when the interval holds more than one rank.
RANK_TEMPLATES = {True: "statistically tied for {lower}-{upper} of {n}", False: "{lower} of {n}"}
#: How each unit is written: (value format, change ± MOE format, MOE format, scale). The change is written
#: with its sign in front of the unit ("+$4,969", "-3"), so the formats take its absolute value.
FORMATS = {
    "share": ("{:.0f}%", "{sign}{change:.0f} ± {moe:.0f} points", "{:.0f} points", 100.0),
    "dollars": ("${:,.0f}", "{sign}${change:,.0f} ± ${moe:,.0f}", "${:,.0f}", 1.0),
    "count": ("{:,.0f}", "{sign}{change:,.0f} ± {moe:,.0f}", "{:,.0f}", 1.0),
    "number": ("{:.3g}", "{sign}{change:.3g} ± {moe:.3g}", "{:.3g}", 1.0),
}
#: Who a cohort is, by which entry bounds it has (first, last).
COHORT_PHRASES = {
    (True, True): "immigrants who arrived {first}-{last}",
    (True, False): "immigrants who arrived in {first} or later",
    (False, True): "immigrants who arrived before {next}",
}
NAMED_COHORTS = {"foreign_born": "immigrants", "native": "U.S.-born residents", "all": "all residents"}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd ...

    Examples
    --------
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 22, 101)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '22nd', '101st']
    """
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n % 100 not in (11, 12, 13) else 0, "th")
    return f"{n}{suffix}"


def rank_statement(lower: int, upper: int, n: int) -> str:
    """A rank interval in words: "statistically tied for 3rd-7th of 12" or "1st of 12"."""
    return RANK_TEMPLATES[bool(upper > lower)].format(lower=ordinal(int(lower)), upper=ordinal(int(upper)), n=int(n))


def cohort_phrase(label: str, first: float = np.nan, last: float = np.nan) -> str:
    """Who a cohort is in words.

    Examples
    --------
    >>> cohort_phrase("2000-2009", 2000, 2009), cohort_phrase("-1979", np.nan, 1979), cohort_phrase("foreign_born")
    ('immigrants who arrived 2000-2009', 'immigrants who arrived before 1980', 'immigrants')
    """
    if label in NAMED_COHORTS:
        return NAMED_COHORTS[label]
    key = (bool(np.isfinite(first)), bool(np.isfinite(last)))
    template = COHORT_PHRASES.get(key, "the cohort {label}")
    return template.format(first=_int(first), last=_int(last), next=_int(last + 1), label=label)


def _int(value: float) -> str:
    return str(int(value)) if np.isfinite(value) else ""


def year_label(year: int, period_start: int | float | None = None) -> str:
    """ "2020" for 1-year data, "2016-2020" for a 5-year period."""
    if period_start is None or not np.isfinite(period_start) or int(period_start) == int(year):
        return str(int(year))
    return f"{int(period_start)}-{int(year)}"


def progress_table(
    est: xr.Dataset,
    *,
    start,
    end,
    places,
    indicators,
    cohorts,
    fdr: float | None = 0.10,
    reliability: str = "exclude",
) -> pd.DataFrame:
    """One row per (place, indicator, cohort): change, SE, MOE, p-value, significance, direction, sentence.

    ``fdr=None`` tests each change at 90% on its own; otherwise the
    Benjamini-Hochberg discoveries at that false discovery rate.
    ``reliability="exclude"`` says "unreliable" for changes with an
    unreliable end; ``"include"`` tests them too.
    """
    for year in (start, end):
        if year not in est["year"].values.tolist():
            raise ScoringError(f"progress: year {year} is not in the estimates (years: {est['year'].values.tolist()}).")
    if start == end:
        raise ScoringError(f"progress: start and end are both {start}; choose two different years.")
    sub = est.sel(place=list(places), indicator=list(indicators), cohort=list(cohorts))
    a, b = sub.sel(year=start), sub.sel(year=end)
    order = ("place", "indicator", "cohort")
    value_a, value_b = (x["estimate"].transpose(*order).values.astype(float) for x in (a, b))
    shape = value_a.shape
    reliable_a = a["reliable"].transpose(*order).values.astype(str) if "reliable" in a else np.full(shape, "reliable")
    reliable_b = b["reliable"].transpose(*order).values.astype(str) if "reliable" in b else np.full(shape, "reliable")
    # the change and its SE (independent years, or overlapping periods x sqrt(1 - C)): the cohort engine's rule
    try:
        changed = cohorts_change(sub, start=start, end=end)
    except UncertaintyError as err:
        raise ScoringError(f"progress: {err}") from None
    change = changed["change"].transpose(*order).values.astype(float)
    se = changed["se"].transpose(*order).values.astype(float)
    se_method = changed.attrs["se_method"]
    missing = np.isnan(value_a) | np.isnan(value_b)
    unreliable = ~missing & (
        np.isnan(se) | ((reliability == "exclude") & ((reliable_a == "unreliable") | (reliable_b == "unreliable")))
    )
    tested = ~missing & ~unreliable
    z, p, significant = significance(np.where(tested, change, np.nan), np.where(tested, se, np.nan))
    if fdr is not None:
        _, significant = benjamini_hochberg(p, rate=fdr)
    direction_sign = (
        sub["higher_is_better"].values.astype(float) * 2 - 1
        if "higher_is_better" in sub.coords
        else np.ones(len(indicators))
    )
    improving = np.sign(change) * direction_sign[None, :, None] > 0
    direction = np.select(
        [missing, unreliable, significant & improving, significant & ~improving],
        ["missing", "unreliable", "gain", "loss"],
        "no measurable change",
    )
    index = pd.MultiIndex.from_product(
        [sub["place"].values, sub["indicator"].values, sub["cohort"].values], names=list(order)
    )
    frame = pd.DataFrame(
        {
            "estimate_start": value_a.ravel(),
            "estimate_end": value_b.ravel(),
            "change": change.ravel(),
            "se": se.ravel(),
            "moe90": (Z90 * se).ravel(),
            "p_value": p.ravel(),
            "significant": np.asarray(significant, dtype=bool).ravel() & tested.ravel(),
            "direction": direction.ravel(),
        },
        index=index,
    ).reset_index()
    names = dict(
        zip(
            sub["place"].values,
            sub["place_name"].values if "place_name" in sub.coords else sub["place"].values,
            strict=True,
        )
    )
    labels = dict(
        zip(
            sub["indicator"].values,
            sub["indicator_label"].values if "indicator_label" in sub.coords else sub["indicator"].values,
            strict=True,
        )
    )
    units = dict(
        zip(
            sub["indicator"].values,
            sub["unit"].values if "unit" in sub.coords else ["number"] * len(indicators),
            strict=True,
        )
    )
    first = dict(
        zip(
            sub["cohort"].values,
            sub["entry_first"].values if "entry_first" in sub.coords else [np.nan] * len(cohorts),
            strict=True,
        )
    )
    last = dict(
        zip(
            sub["cohort"].values,
            sub["entry_last"].values if "entry_last" in sub.coords else [np.nan] * len(cohorts),
            strict=True,
        )
    )
    period = est["period_start"] if "period_start" in est.coords else None
    start_label = year_label(start, None if period is None else float(period.sel(year=start)))
    end_label = year_label(end, None if period is None else float(period.sel(year=end)))
    frame.insert(1, "place_name", frame["place"].map(names))
    frame.insert(3, "indicator_label", frame["indicator"].map(labels))
    frame.insert(5, "start", start)
    frame.insert(6, "end", end)
    frame["sentence"] = [
        _sentence(row, labels, units, first, last, start_label, end_label) for row in frame.itertuples(index=False)
    ]
    tested = int(np.isfinite(frame["p_value"].to_numpy(dtype=float)).sum()) if "p_value" in frame else len(frame)
    frame.attrs.update(
        se_method=se_method,
        fdr="none (each change at 90%)" if fdr is None else f"Benjamini-Hochberg at {fdr}",
        rule=("each change tested on its own at the 90% level" if fdr is None else
              f"false discovery rate held at {fdr:.0%} over the {tested} changes tested together "
              "(Benjamini-Hochberg)"),
    )
    return frame


def _sentence(row, labels, units, first, last, start_label: str, end_label: str) -> str:
    """Fill the direction's template (the one loop over output rows: formatting text)."""
    value_format, change_format, moe_format, factor = FORMATS.get(units[row.indicator], FORMATS["number"])
    missing_years = " and ".join(
        label for label, value in ((start_label, row.estimate_start), (end_label, row.estimate_end)) if np.isnan(value)
    )
    fields = {
        "what": row.indicator_label,
        "who": cohort_phrase(str(row.cohort), float(first[row.cohort]), float(last[row.cohort])),
        "where": row.place_name,
        "verb": VERBS[int(np.sign(np.nan_to_num(row.change)))],
        "start_value": value_format.format(row.estimate_start * factor) if np.isfinite(row.estimate_start) else "",
        "end_value": value_format.format(row.estimate_end * factor) if np.isfinite(row.estimate_end) else "",
        "start": start_label,
        "end": end_label,
        "moe": moe_format.format(row.moe90 * factor) if np.isfinite(row.moe90) else "",
        "change": change_format.format(sign={1: "+", -1: "-", 0: ""}[int(np.sign(row.change))],
                                       change=abs(row.change) * factor, moe=row.moe90 * factor)
        if np.isfinite(row.change) and np.isfinite(row.moe90) else "",
        "missing_years": missing_years,
    }
    return TEMPLATES[row.direction].format(**fields)
