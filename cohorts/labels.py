"""Cohort labels, written and read in one place.

Every route (microdata and published tables) names cohorts the same way:
``"all"``, ``"native"``, ``"foreign_born"``, and arrival ranges
``"first-last"`` with open ends written ``"-1999"`` (entered before 2000) and
``"2010-"`` (entered 2010 or later). The coordinates ``cohort_kind``
(``all`` / ``nativity`` / ``arrival``), ``entry_first`` and ``entry_last``
(NaN for an open end or a cohort that is not an arrival range) are read from
the label, so a label and its coordinates cannot disagree.

Examples
--------
>>> cohort_label(1990, 1999)
'1990-1999'
>>> parse_cohort_label("1990-1999")
('arrival', 1990.0, 1999.0)
>>> label_coords(["foreign_born", "2010-"])
{'cohort_kind': ['nativity', 'arrival'], 'entry_first': [nan, 2010.0], 'entry_last': [nan, nan]}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from scorecard.errors import CohortDefinitionError

__all__ = ["NAMED_COHORTS", "COHORT_KINDS", "cohort_label", "parse_cohort_label", "label_coords", "cohort_order"]

#: Cohorts named by a word, and their ``cohort_kind``, in display order.
NAMED_COHORTS = {"all": "all", "native": "nativity", "foreign_born": "nativity"}
#: Kinds of cohort, in display order.
COHORT_KINDS = ("all", "nativity", "arrival")

_ARRIVAL = re.compile(r"^(\d{4})?-(\d{4})?$")


def _is_open(bound: float | int | None) -> bool:
    return bound is None or (isinstance(bound, float) and math.isnan(bound))


def cohort_label(first: int | float | None, last: int | float | None) -> str:
    """Label of an arrival range; open ends (None or NaN) are left blank.

    Parameters
    ----------
    first, last : int, float or None
        First and last year of entry, inclusive; None or NaN for an open end
        (whole-number floats, as coordinates hold them, are accepted).

    Returns
    -------
    str

    Examples
    --------
    >>> cohort_label(1990, 1999), cohort_label(None, 1999), cohort_label(2010, None)
    ('1990-1999', '-1999', '2010-')
    >>> cohort_label(*parse_cohort_label("-1989")[1:])
    '-1989'
    """
    return f"{'' if _is_open(first) else int(first)}-{'' if _is_open(last) else int(last)}"


def parse_cohort_label(label: str) -> tuple[str, float, float]:
    """Kind and year-of-entry bounds of a cohort label.

    Parameters
    ----------
    label : str
        ``"all"``, ``"native"``, ``"foreign_born"`` or an arrival range
        ``"first-last"`` (open ends: ``"-1999"``, ``"2010-"``).

    Returns
    -------
    (kind, first, last) : (str, float, float)
        ``kind`` is ``"all"``, ``"nativity"`` or ``"arrival"``; ``first`` and
        ``last`` are the inclusive bounds, NaN where open or not an arrival range.

    Raises
    ------
    CohortDefinitionError
        The label is none of these, or its first year is after its last.

    Examples
    --------
    >>> parse_cohort_label("-1989"), parse_cohort_label("native")
    (('arrival', nan, 1989.0), ('nativity', nan, nan))
    >>> parse_cohort_label("1990s")
    Traceback (most recent call last):
    ...
    scorecard.errors.CohortDefinitionError: cohort label '1990s' is neither 'all', 'native', 'foreign_born' nor an arrival range 'first-last' (open ends: '-1999', '2010-').
    """
    if label in NAMED_COHORTS:
        return NAMED_COHORTS[label], math.nan, math.nan
    match = _ARRIVAL.match(str(label))
    if not match or match.group(1) is None and match.group(2) is None:
        raise CohortDefinitionError(
            f"cohort label {label!r} is neither 'all', 'native', 'foreign_born' nor an arrival range "
            "'first-last' (open ends: '-1999', '2010-')."
        )
    first = float(match.group(1)) if match.group(1) else math.nan
    last = float(match.group(2)) if match.group(2) else math.nan
    if first > last:
        raise CohortDefinitionError(f"cohort label {label!r}: the first year is after the last.")
    return "arrival", first, last


def label_coords(labels: Iterable[str]) -> dict[str, list]:
    """Coordinates ``cohort_kind``, ``entry_first``, ``entry_last`` of cohort labels (lists, in label order).

    Examples
    --------
    >>> label_coords(["all", "1990-1999"])["entry_last"]
    [nan, 1999.0]
    """
    parsed = [parse_cohort_label(label) for label in labels]  # a handful of labels, not records
    return {
        "cohort_kind": [kind for kind, _, _ in parsed],
        "entry_first": [first for _, first, _ in parsed],
        "entry_last": [last for _, _, last in parsed],
    }


def cohort_order(labels: Iterable[str]) -> list[str]:
    """Distinct cohort labels in display order: all, native, foreign-born, then arrival cohorts oldest first.

    Examples
    --------
    >>> cohort_order(["2010-", "all", "-1999", "foreign_born", "2000-2009", "all"])
    ['all', 'foreign_born', '-1999', '2000-2009', '2010-']
    """
    distinct = list(dict.fromkeys(labels))
    parsed = [parse_cohort_label(label) for label in distinct]  # a handful of labels
    named = list(NAMED_COHORTS)

    def key(item):
        label, (kind, first, _) = item
        return (COHORT_KINDS.index(kind), named.index(label) if label in NAMED_COHORTS else 0,
                -math.inf if math.isnan(first) else first)

    return [label for label, _ in sorted(zip(distinct, parsed), key=key)]
