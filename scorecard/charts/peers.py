"""Peer comparison: one dot per place with its 90% interval, sorted best first, the focus city highlighted.

Examples
--------
>>> import pandas as pd, scorecard as sc
>>> est = sc.estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": ["a", "b", "c"],
...     "place_name": ["A city", "B city", "C city"], "year": 2022, "cohort": "foreign_born",
...     "estimate": [0.5, 0.7, 0.6], "se": [0.03, 0.02, 0.2]}), survey="acs1")
>>> spec = peers(est, indicator="naturalized", focus="a").to_dict()
>>> spec["layer"][0]["encoding"]["y"]["sort"]
['B city', 'C city', 'A city']
"""

from __future__ import annotations

import altair as alt
import numpy as np
import xarray as xr

from scorecard.charts import _frames, theme

__all__ = ["peers"]


@theme.quiet_build
def peers(
    est: xr.Dataset,
    *,
    indicator: str,
    year: int | None = None,
    cohort: str = "foreign_born",
    focus: str | None = None,
    places=None,
    width: int = 420,
    title: str | None = None,
    notes: bool = True,
) -> alt.LayerChart:
    """Dot plot of one indicator across places with 90% intervals.

    Parameters
    ----------
    est : xarray.Dataset
        Estimates (contract shape).
    indicator : str
    year : int, optional
        Default: the latest year.
    cohort : str, default="foreign_born"
    focus : str, optional
        Place code or name drawn in the highlight colour and bold.
    places : sequence of str, optional
        Places to show (default all).
    width : int
    title : str, optional
    notes : bool, default=True
        Subtitle lines naming the source, the MOE and caveats (a report states them once and passes False).

    Returns
    -------
    altair.LayerChart
        Layers: interval rules (``x=lower``, ``x2=upper``), points, value labels. Places are sorted
        best first (by ``higher_is_better``; by value, largest first, when it has no direction).
    """
    est = _frames.check_estimates(est, "peers")
    if year is None:
        year = int(np.max(est["year"].values))
    data = _frames.select(est, "peers", keep=["place"], indicator=indicator, year=year, cohort=cohort, place=places)
    one = est.sel(indicator=[data["indicator"].item()])
    unit, label = str(_frames.units_of(one).iloc[0]), str(_frames.labels_of(one).iloc[0])
    direction = float(one["higher_is_better"].values[0]) if "higher_is_better" in one.coords else np.nan
    frame = _frames.with_bounds(_frames.tidy(data, ["estimate", "moe90", "reliable"]), unit=unit)
    if "place_name" not in frame:
        frame["place_name"] = frame["place"]
    focus_code = _frames._pick(data, "place", focus, "peers") if focus is not None else None
    frame["is_focus"] = frame["place"].astype(str).eq(str(focus_code))
    frame = frame.loc[frame["estimate"].notna()]
    ascending = direction == 0.0
    frame = frame.sort_values("estimate", ascending=ascending)
    order = frame["place_name"].astype(str).tolist()
    frame["label"] = theme.format_values(frame["estimate"], unit)
    frame["label"] = frame["label"] + " " + np.asarray(theme.format_values(frame["moe90"], unit, moe=True), dtype=object)
    frame["moe_text"] = theme.format_values(frame["moe90"], unit, moe=True)
    frame["shown"] = np.where(frame["reliable"].eq("reliable"), "reliable", "unreliable or caution")

    y = alt.Y("place_name:N", sort=order, title=None,
              axis=alt.Axis(labelFontWeight=alt.expr(f"datum.value == {_js(frame, focus_code)} ? 'bold' : 'normal'"),
                            labelLimit=220))
    frame["colour"] = np.where(frame["is_focus"], theme.FOCUS, theme.OTHER)
    frame["fill"] = np.where(frame["reliable"].eq("reliable"), frame["colour"], "white")
    colour = alt.Color("colour:N", scale=None)
    x = alt.X("estimate:Q", title=label, axis=alt.Axis(format=theme.axis_format(unit)), scale=alt.Scale(zero=False))
    # Only the columns drawn go into the specification (the contract's coords would triple its data).
    base = alt.Chart(frame[["place", "place_name", "estimate", "moe90", "lower", "upper", "reliable", "is_focus",
                            "label", "colour", "fill"]])
    rules = base.mark_rule(strokeWidth=3, opacity=0.55).encode(y=y, x=alt.X("lower:Q", title=label), x2=alt.X2("upper"),
                                                                color=colour)
    points = base.mark_point(size=70, filled=True, opacity=1, strokeWidth=1.8).encode(
        y=y, x=x, stroke=alt.Stroke("colour:N", scale=None),
        fill=alt.Fill("fill:N", scale=None),
        tooltip=[alt.Tooltip("place_name:N", title="Place"), alt.Tooltip("label:N", title="Estimate ± 90% MOE"),
                 alt.Tooltip("reliable:N", title="Reliability")])
    text = base.mark_text(align="left", dx=6, fontSize=10, color="#333333").encode(
        y=y, x=alt.X("upper:Q"), text=alt.Text("label:N"))
    height = max(120, 26 * len(frame))
    layered = alt.layer(rules, points, text).properties(width=width, height=height)
    names = _frames.cohort_names(data)
    subtitle = [
        f"{names.get(str(data['cohort'].item()), data['cohort'].item())}, {year}; "
        + ("higher is better, best on top" if direction == 1.0 else "lower is better, best on top"
           if direction == 0.0 else "largest on top"),
        theme.source_line(est.attrs, [year], dollars=unit == "dollars"),
        theme.moe_caption("bar"),
        theme.reliability_note(est.attrs) if frame["reliable"].ne("reliable").any() else "",
        _frames.caveat_2020(_frames.experimental_years(data)),
    ]
    return theme.finish(layered, title=title or f"{label}: peer places", subtitle=subtitle if notes else subtitle[:1])


def _js(frame, focus_code) -> str:
    """The focus place's name as a JavaScript string literal ('' when there is no focus)."""
    import json

    names = frame.loc[frame["is_focus"], "place_name"].astype(str).tolist()
    return json.dumps(names[0] if names else "")
