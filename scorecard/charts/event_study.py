"""Event study of an office opening: effect by years since opening with intervals, zero line, opening marked.

Draws the output of :func:`scorecard.office_impact`: one point per event time
(years relative to the opening year; 0 = the year the office opened) with its
interval at the result's level, a dashed zero line (no difference from the
comparison cities) and a vertical line where the offices open. Points before
the opening are the pre-trend check and are drawn in grey.

Examples
--------
>>> from scorecard import office_impact
>>> from scorecard.datasets import simulate_impact
>>> from scorecard.charts.export import data_values
>>> result = office_impact(*simulate_impact(effect=0.05, seed=3), indicator="naturalized")
>>> rows = data_values(event_study(result), layer=2)
>>> [(row["event_time"], row["period"]) for row in rows][3:5]
[(-1, 'before opening'), (0, 'after opening')]
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
import xarray as xr

from scorecard.charts import theme
from scorecard.errors import ChartError

__all__ = ["event_study"]

_PERIODS = ["before opening", "after opening"]
_UNIT_WORDS = {"share": "percentage points", "dollars": "dollars", "count": "people", "number": "number"}


@theme.quiet_build
def event_study(result: xr.Dataset, *, width: int = 420, height: int = 260, title: str | None = None) -> alt.LayerChart:
    """Effect of the opening by event time, with intervals, a zero line and the opening marked.

    Parameters
    ----------
    result : xarray.Dataset
        :func:`scorecard.office_impact` output (``effect, lower, upper, se, n_treated`` by ``event_time``; ``att``).
    width, height : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
    """
    needed = {"effect", "lower", "upper", "n_treated", "att"}
    if not isinstance(result, xr.Dataset) or not needed <= set(result.data_vars) or "event_time" not in result.dims:
        raise ChartError("event_study takes scorecard.office_impact(...) output: a Dataset with "
                         f"{sorted(needed)} along 'event_time'.")
    attrs = result.attrs
    unit = str(attrs.get("unit") or "number")
    level = float(attrs.get("level", 0.90))
    frame = result[["effect", "lower", "upper", "n_treated", "n_comparison"]].to_dataframe().reset_index()
    frame = frame.dropna(subset=["effect"])
    if frame.empty:
        raise ChartError("event_study: no event time has an effect to draw.")
    frame["period"] = np.where(frame["event_time"] < 0, _PERIODS[0], _PERIODS[1])
    frame["effect_text"] = theme.format_values(frame["effect"], unit, signed=True)
    frame["interval_text"] = [f"{a} to {b}" for a, b in zip(theme.format_values(frame["lower"], unit, signed=True),
                                                            theme.format_values(frame["upper"], unit, signed=True))]
    x = alt.X("event_time:Q", title="Years since the office opened (0 = opening year)",
              scale=alt.Scale(domain=[int(result["event_time"].min()) - 0.5, int(result["event_time"].max()) + 0.5]),
              axis=alt.Axis(values=result["event_time"].values.tolist(), format="d"))
    y_title = f"Difference from comparison cities ({_UNIT_WORDS.get(unit, unit)})"
    y = alt.Y("effect:Q", title=y_title, axis=alt.Axis(labelExpr=theme.DIFFERENCE_AXIS_LABELS[unit], tickCount=6))
    colour = alt.Color("period:N", title=None, scale=alt.Scale(domain=_PERIODS, range=["#8C8C8C", theme.PALETTE[0]]))
    base = alt.Chart(frame)
    marks = pd.DataFrame({"value": [0.0], "x": [-0.5], "label": ["office opens"]})
    zero = alt.Chart(marks).mark_rule(color=theme.REFERENCE, strokeDash=[4, 3]).encode(y=alt.Y("value:Q", title=y_title))
    opening = alt.Chart(marks).mark_rule(color=theme.FOCUS, strokeWidth=1.5).encode(x=alt.X("x:Q", title=x.to_dict()["title"]))
    label = alt.Chart(marks).mark_text(align="left", dx=4, dy=-4, baseline="top", color=theme.FOCUS, fontSize=11).encode(
        x=alt.X("x:Q"), y=alt.YValue(2), text=alt.Text("label:N"))
    rules = base.mark_rule(strokeWidth=3, opacity=0.6).encode(x=x, y=alt.Y("lower:Q", title=y_title), y2=alt.Y2("upper"),
                                                               color=colour)
    points = base.mark_point(filled=True, size=70, opacity=1).encode(
        x=x, y=y, color=colour,
        tooltip=[alt.Tooltip("event_time:Q", title="Years since opening"), alt.Tooltip("effect_text:N", title="Effect"),
                 alt.Tooltip("interval_text:N", title=f"{level:.0%} interval"),
                 alt.Tooltip("n_treated:Q", title="Cities with an office"),
                 alt.Tooltip("n_comparison:Q", title="Comparison cities")])
    chart = alt.layer(zero, rules, points, opening, label).properties(width=width, height=height)
    att_text = theme.format_values([float(result["att"])], unit, signed=True)[0]
    bounds = theme.format_values([float(result["att_lower"]), float(result["att_upper"])], unit, signed=True)
    pretrend = float(result["pretrend_p"]) if "pretrend_p" in result else np.nan
    cohort = str(attrs.get("cohort", ""))
    subtitle = [
        f"{attrs.get('indicator_label', attrs.get('indicator', ''))} ({cohort.replace('_', '-')}); "
        f"{attrs.get('n_treated_places', '?')} cities with an office vs "
        f"{'cities without one yet' if attrs.get('comparison') == 'not_yet_treated' else 'cities without one'}",
        f"Average effect after opening: {att_text} ({level:.0%} interval {bounds[0]} to {bounds[1]})"
        + ("" if np.isnan(pretrend) else f"; pre-opening check p = {pretrend:.2f}"),
        theme.source_line({"survey": attrs.get("survey", ""), "route": attrs.get("route", "")},
                          json.loads(attrs["years"]) if "years" in attrs else None, dollars=False),
        f"Bars: {level:.0%} intervals from a place-clustered bootstrap (survey sampling error and city-to-city "
        "variation); dashed line: no difference.",
    ]
    return theme.finish(chart, title=title or "Before and after the offices opened", subtitle=subtitle)
