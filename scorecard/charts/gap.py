"""Gap to the native-born with 90% intervals: small multiples, one panel per indicator (each in its own unit).

Examples
--------
>>> import xarray as xr
>>> gaps = xr.Dataset({"gap": (("indicator", "cohort"), [[-0.10, -0.02]]), "moe90": (("indicator", "cohort"), [[0.03, 0.04]]),
...                    "significant": (("indicator", "cohort"), [[True, False]])},
...                   coords={"indicator": ["english_very_well"], "cohort": ["1990-1999", "2000-2009"],
...                           "unit": ("indicator", ["share"])})
>>> from scorecard.charts.export import data_values
>>> rows = data_values(gap(gaps.expand_dims(place=["p"], year=[2020])), layer=1, panel=0)
>>> [(row["cohort_name"], round(row["lower"], 2)) for row in rows]
[('Arrived 1990-1999', -0.13), ('Arrived 2000-2009', -0.06)]
"""

from __future__ import annotations

import altair as alt
import numpy as np
import xarray as xr

from scorecard.charts import _frames, theme
from scorecard.errors import ChartError

__all__ = ["gap"]

#: unit -> Vega expression that labels a gap axis tick (shares in percentage points, signed)


@theme.quiet_build
def gap(
    gaps: xr.Dataset,
    *,
    place: str | None = None,
    year: int | None = None,
    cohorts=None,
    indicators=None,
    estimates: xr.Dataset | None = None,
    width: int = 360,
    title: str | None = None,
) -> alt.VConcatChart:
    """Each cohort's gap to the native-born, one panel per indicator, with 90% intervals and a zero line.

    Parameters
    ----------
    gaps : xarray.Dataset
        ``cohorts.gap(est, reference="native")``: ``gap`` and ``moe90`` (+ ``significant``) by indicator,
        place, year, cohort.
    place : str, optional
        Needed when there are several places.
    year : int, optional
        Default the latest.
    cohorts, indicators : sequence of str, optional
        Default every cohort but the reference, every indicator.
    estimates : xarray.Dataset, optional
        Source of units and labels when ``gaps`` does not carry the ``unit`` coord.
    width : int
    title : str, optional

    Returns
    -------
    altair.VConcatChart
        One layered panel (zero rule, interval rule, point) per indicator.
    """
    if not isinstance(gaps, xr.Dataset) or not {"gap", "moe90"} <= set(gaps.data_vars):
        raise ChartError("gap takes cohorts.gap(...) output: an xarray.Dataset with 'gap' and 'moe90'.")
    meta = estimates if estimates is not None else gaps
    if "year" in gaps.dims and year is None:
        year = int(np.max(gaps["year"].values))
    if cohorts is None:
        cohorts = [c for c in gaps["cohort"].values.astype(str) if c not in ("native", str(gaps.attrs.get("reference")))]
    data = _frames.select(gaps, "gap", keep=["indicator", "cohort"], place=place, year=year, cohort=list(cohorts),
                          indicator=indicators)
    units, labels = _frames.units_of(meta), _frames.labels_of(meta)
    names = _frames.cohort_names(data)
    panels = []
    for key in data["indicator"].values.astype(str):  # one panel per indicator: units differ between panels
        one = data.sel(indicator=key)
        frame = one[[v for v in ("gap", "moe90", "significant") if v in one]].to_dataframe().reset_index()
        frame = _frames.with_bounds(frame, "gap").dropna(subset=["gap"])
        if frame.empty:
            continue
        frame["cohort_name"] = frame["cohort"].astype(str).map(names)
        significant = frame["significant"].astype(bool) if "significant" in frame else frame["lower"].gt(0) | frame["upper"].lt(0)
        frame["significance"] = np.where(significant, "different from native-born", "no measurable gap")
        unit = str(units.get(key, "number"))
        frame["gap_text"] = theme.format_values(frame["gap"], unit, signed=True)
        frame["moe_text"] = theme.format_values(frame["moe90"], unit, moe=True)
        order = [names[c] for c in cohorts if names[c] in set(frame["cohort_name"])]
        y = alt.Y("cohort_name:N", sort=order, title=None, axis=alt.Axis(labelLimit=200))
        x_title = f"{labels.get(key, key)}: gap to native-born"
        x = alt.X("gap:Q", title=x_title,
                  axis=alt.Axis(labelExpr=theme.DIFFERENCE_AXIS_LABELS[unit], tickCount=5))
        colour = alt.Color("significance:N", title=None,
                           scale=alt.Scale(domain=["different from native-born", "no measurable gap"],
                                           range=[theme.PALETTE[0], "#8C8C8C"]))
        frame = frame[["cohort", "cohort_name", "gap", "moe90", "lower", "upper", "significance", "gap_text",
                       "moe_text"]]  # only what is drawn
        base = alt.Chart(frame)
        zero = alt.Chart(frame[["cohort"]].head(1)).mark_rule(color=theme.REFERENCE, strokeDash=[4, 3]).encode(x=alt.XDatum(0))
        rules = base.mark_rule(strokeWidth=3, opacity=0.6).encode(y=y, x=alt.X("lower:Q", title=x_title), x2=alt.X2("upper"),
                                                                   color=colour)
        points = base.mark_point(filled=True, size=60, opacity=1).encode(
            y=y, x=x, color=colour, tooltip=[alt.Tooltip("cohort_name:N", title="Cohort"),
                                             alt.Tooltip("gap_text:N", title="Gap"),
                                             alt.Tooltip("moe_text:N", title="90% MOE")])
        panels.append(alt.layer(zero, rules, points).properties(width=width, height=max(60, 22 * len(order))))
    if not panels:
        raise ChartError("gap: nothing to draw after selection.")
    place_name = str(data["place_name"].item()) if "place_name" in data.coords else str(data["place"].item()) if "place" in data.coords else ""
    subtitle = [
        f"{place_name}{', ' if place_name else ''}{year}: each arrival cohort minus native-born residents; dashed line: no gap",
        theme.source_line(meta.attrs, [year] if year is not None else None),
        theme.moe_caption("bar"),
        f"Gap standard errors: {gaps.attrs['se_method']}." if gaps.attrs.get("se_method") else "",
    ]
    chart = alt.vconcat(*panels, spacing=18).resolve_scale(color="shared")
    return theme.finish(chart, title=title or "Gap to the native-born", subtitle=subtitle)
