"""Charts of estimates, scores and ranks: one function per kind, one theme, offline export.

``chart(kind, data, **options)`` looks a kind up in the registry below and
returns an altair chart; ``save(chart, path)`` writes PNG, SVG, PDF, HTML or
JSON by suffix with vl-convert (no network, no browser).

=============== ===================================== =========================================
kind            data                                  draws
=============== ===================================== =========================================
``trajectory``  estimates (or cohorts.trajectories)   a line + 90% band per arrival cohort
``heatmap``     Scorecard ``scores`` (+ estimates)    places x indicators, colour = score
``peers``       estimates                             dot plot with 90% intervals, focus city
``rank_set``    rank intervals (along place)          each place's rank interval as a bar
``progress``    Scorecard ``progress()`` frame        year A -> year B per place, significance
``gap``         ``cohorts.gap`` output                gap to the native-born, by indicator
``event_study`` ``office_impact`` output              effect by years since opening, intervals
=============== ===================================== =========================================

Examples
--------
>>> sorted(available())
['event_study', 'gap', 'heatmap', 'peers', 'progress', 'rank_set', 'trajectory']
>>> chart("trajectry", None)
Traceback (most recent call last):
...
scorecard.errors.ChartError: No chart kind 'trajectry'. Did you mean ['trajectory']? Kinds: event_study, gap, heatmap, peers, progress, rank_set, trajectory.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from scorecard.charts import theme
from scorecard.charts.event_study import event_study
from scorecard.charts.export import save, to_html, to_pdf, to_png, to_svg
from scorecard.charts.gap import gap
from scorecard.charts.heatmap import heatmap
from scorecard.charts.peers import peers
from scorecard.charts.progress import progress
from scorecard.charts.rank_set import rank_set
from scorecard.charts.trajectory import trajectory
from scorecard.errors import ChartError

__all__ = [
    "chart", "register", "available", "save", "to_svg", "to_png", "to_pdf", "to_html", "theme",
    "trajectory", "heatmap", "peers", "rank_set", "progress", "gap", "event_study",
]

_KINDS: dict[str, Callable] = {
    "trajectory": trajectory,
    "heatmap": heatmap,
    "peers": peers,
    "rank_set": rank_set,
    "progress": progress,
    "gap": gap,
    "event_study": event_study,
}


def available() -> dict[str, Callable]:
    """Kind -> chart function."""
    return dict(_KINDS)


def register(kind: str, function: Callable, *, replace: bool = False) -> None:
    """Add a chart kind (e.g. ``"event_study"``); an existing kind needs ``replace=True``."""
    if kind in _KINDS and not replace:
        raise ChartError(f"Chart kind {kind!r} is already registered; pass replace=True to replace it.")
    _KINDS[kind] = function


def chart(kind: str, data, **options):
    """Draw ``data`` as a chart of ``kind``.

    Parameters
    ----------
    kind : str
        A key of :func:`available`.
    data : xarray.Dataset or pandas.DataFrame
        What that kind draws (see the table above).
    **options
        Keyword options of the kind's function (``place=``, ``indicator=``, ``focus=`` ...).

    Returns
    -------
    altair chart
    """
    if kind not in _KINDS:
        close = difflib.get_close_matches(kind, sorted(_KINDS), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ChartError(f"No chart kind {kind!r}.{hint} Kinds: {', '.join(sorted(_KINDS))}.")
    return _KINDS[kind](data, **options)
