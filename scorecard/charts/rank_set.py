"""Rank-set plot: each place's 90% rank interval as a bar, the point rank on it, ties spelled out.

The display of the Census Bureau's ranking project (Wright, Klein & Wieczorek): a
bar from the best to the worst rank a place could hold; places whose bars overlap
cannot be told apart.

Examples
--------
>>> import xarray as xr
>>> ranks = xr.Dataset({"rank": ("place", [1, 2, 3]), "rank_lower": ("place", [1, 1, 2]),
...                     "rank_upper": ("place", [2, 3, 3])},
...                    coords={"place": ["a", "b", "c"], "place_name": ("place", ["A", "B", "C"])},
...                    attrs={"method": "joint", "coverage": 0.9, "indicator": "naturalized", "year": 2020})
>>> from scorecard.charts.export import data_values
>>> values = data_values(rank_set(ranks), layer=0)
>>> [(row["place_name"], row["rank_text"]) for row in values]
[('A', 'tied for 1st-2nd'), ('B', 'tied for 1st-3rd'), ('C', 'tied for 2nd-3rd')]
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import xarray as xr

from scorecard.charts import _frames, theme
from scorecard.errors import ChartError

__all__ = ["rank_set"]

_METHODS = {"joint": "Klein, Wright & Wieczorek (2020) joint intervals",
            "marginal": "Mogstad et al. (2024) marginal intervals",
            "simultaneous": "Mogstad et al. (2024) simultaneous intervals"}


def rank_text(rank, lower, upper) -> np.ndarray:
    """'3rd' when the interval is one rank, else 'tied for 2nd-5th' (vectorized).

    Examples
    --------
    >>> rank_text([3, 2], [3, 1], [3, 4]).tolist()
    ['3rd', 'tied for 1st-4th']
    """
    lower, upper = np.asarray(lower), np.asarray(upper)
    span = np.char.add(np.char.add("tied for ", _frames.ordinal(lower)), np.char.add("-", _frames.ordinal(upper)))
    return np.where(lower == upper, _frames.ordinal(rank), span)


@theme.quiet_build
def rank_set(
    ranks: xr.Dataset,
    *,
    focus: str | None = None,
    label: str | None = None,
    width: int = 360,
    title: str | None = None,
) -> alt.LayerChart:
    """Rank intervals as horizontal bars, best rank first.

    Parameters
    ----------
    ranks : xarray.Dataset
        ``sc.rank_intervals(...)`` or ``Scorecard.ranks()``: ``rank``, ``rank_lower``, ``rank_upper`` along
        ``place`` (+ ``p_top_k`` with attr ``k``); attrs ``method``, ``coverage``, ``indicator``, ``year``.
    focus : str, optional
        Place code or name to highlight.
    label : str, optional
        What was ranked, for the title; default the ``indicator`` attr or "composite score".
    width : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
        Layers: interval bars (``x=rank_lower - 0.4``, ``x2=rank_upper + 0.4``), rank ticks, text.
    """
    needed = {"rank", "rank_lower", "rank_upper"}
    if not isinstance(ranks, xr.Dataset) or not needed <= set(ranks.data_vars):
        raise ChartError(f"rank_set takes a rank-intervals Dataset with {sorted(needed)} along 'place'.")
    if set(ranks["rank"].dims) != {"place"}:
        raise ChartError(f"rank_set draws one ranking; 'rank' has dims {ranks['rank'].dims}, select down to 'place'.")
    variables = sorted(needed | ({"p_top_k"} & set(ranks.data_vars)))
    frame = ranks[variables].to_dataframe().reset_index()
    if "place_name" not in frame:
        frame["place_name"] = frame["place"]
    frame = frame.sort_values(["rank", "rank_lower", "rank_upper"], kind="stable")
    frame["low_edge"], frame["high_edge"] = frame["rank_lower"] - 0.4, frame["rank_upper"] + 0.4
    frame["rank_text"] = rank_text(frame["rank"], frame["rank_lower"], frame["rank_upper"])
    k = ranks.attrs.get("k")
    if "p_top_k" in frame and k is not None:
        frame["rank_text"] = frame["rank_text"] + "; P(top " + str(k) + ") " + (100 * frame["p_top_k"]).round().astype(int).astype(str) + "%"
    focus_code = _frames._pick(ranks, "place", focus, "rank_set") if focus is not None else None
    frame["colour"] = np.where(frame["place"].astype(str).eq(str(focus_code)), theme.FOCUS, theme.OTHER)
    focus_name = frame.loc[frame["colour"].eq(theme.FOCUS), "place_name"].astype(str).tolist()
    order = frame["place_name"].astype(str).tolist()
    n = len(frame)
    y = alt.Y("place_name:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, labelFontWeight=alt.expr(
        f"datum.value == {json.dumps(focus_name[0] if focus_name else '')} ? 'bold' : 'normal'")))
    x = alt.X("low_edge:Q", title="Rank (1 = best)", scale=alt.Scale(domain=[0.5, n + 0.5], nice=False),
              axis=alt.Axis(values=list(range(1, n + 1)), format="d", grid=False))
    base = alt.Chart(frame)
    colour = alt.Color("colour:N", scale=None)
    bars = base.mark_bar(height=14, opacity=0.45, cornerRadius=3).encode(y=y, x=x, x2=alt.X2("high_edge"), color=colour,
                                                                          tooltip=[alt.Tooltip("place_name:N"), alt.Tooltip("rank_text:N")])
    ticks = base.mark_tick(thickness=3, size=20).encode(y=y, x=alt.X("rank:Q"), color=colour)
    text = alt.Chart(frame).mark_text(align="left", dx=8, fontSize=11, color="#222222").encode(
        y=y, x=alt.XDatum(n + 0.5), text=alt.Text("rank_text:N"))
    layered = alt.layer(bars, ticks, text).properties(width=width, height=max(110, 28 * n))
    what = label or ranks.attrs.get("indicator") or "composite score"
    coverage = ranks.attrs.get("coverage")
    method = str(ranks.attrs.get("method", ""))
    subtitle = [
        f"{n} places; dark tick: point rank; bar: {int(round(100 * float(coverage))) if coverage else 90}% rank interval"
        + (f" ({_METHODS.get(method, method)})" if method else ""),
        f"Year {ranks.attrs['year']}" + (
            f", {_frames.cohort_name(ranks.attrs['cohort']).lower()}"
            if ranks.attrs.get("cohort") else "")
        if ranks.attrs.get("year") not in (None, "") else "",
        theme.moe_caption("rank"),
    ]
    return theme.finish(layered, title=title or f"Rank among peers: {what}", subtitle=subtitle)
