"""Cohort trajectory: one line per arrival cohort over survey years (or years since arrival), 90% bands, native-born reference.

Examples
--------
>>> import pandas as pd, scorecard as sc
>>> frame = pd.DataFrame({"indicator": "english_very_well", "place": "p", "year": [2010, 2010, 2020, 2020],
...     "cohort": ["2000-2009", "native", "2000-2009", "native"], "estimate": [0.30, 0.96, 0.45, 0.97], "se": 0.02})
>>> est = sc.estimates_from_frame(frame, survey="acs1")
>>> spec = trajectory(est, place="p", indicator="english_very_well").to_dict()
>>> [layer["mark"]["type"] for layer in spec["layer"]]
['area', 'line', 'point', 'line', 'text']
"""

from __future__ import annotations

import altair as alt
import xarray as xr

from scorecard.charts import _frames, theme
from scorecard.errors import ChartError

__all__ = ["trajectory"]

_X_TITLES = {"year": "Survey year", "years_since_arrival": "Years since arrival"}


@theme.quiet_build
def trajectory(
    est: xr.Dataset,
    *,
    place: str,
    indicator: str,
    cohorts=None,
    reference: str | None = "native",
    x: str | None = None,
    width: int = 440,
    height: int = 260,
    title: str | None = None,
    notes: bool = True,
) -> alt.LayerChart:
    """Each arrival cohort's estimate over time with its 90% margin of error, and the native-born line.

    Parameters
    ----------
    est : xarray.Dataset
        Estimates (contract shape) or the output of ``cohorts.trajectories``; dims ``indicator, place,
        cohort`` and the time dim ``x``.
    place : str
        Place code or ``place_name``.
    indicator : str
    cohorts : sequence of str, optional
        Cohorts drawn as coloured lines; default every ``cohort_kind == "arrival"`` cohort (every cohort but
        ``reference`` when there is no ``cohort_kind``).
    reference : str or None, default="native"
        Cohort drawn as a dashed grey reference line; ``None`` for none. Skipped if absent.
    x : str, optional
        Time dim: ``"years_since_arrival"`` when the data has it, else ``"year"``.
    width, height : int
        Plot size in pixels.
    title : str, optional
        Default: the indicator's label and the place name.
    notes : bool, default=True
        Subtitle lines naming the source, the MOE and caveats (a report states them once and passes False);
        the count of cells without an estimate is always kept.

    Returns
    -------
    altair.LayerChart
        Layers: band (area, ``y=lower``, ``y2=upper``), line, reliable points (filled), points flagged
        caution/unreliable (hollow), reference line, reference label. A layer with nothing to draw is left
        out (no hollow points when every estimate is reliable, no reference without reference rows).
    """
    est = _frames.check_estimates(est, "trajectory")
    if x is None:
        x = "years_since_arrival" if "years_since_arrival" in est.dims else "year"
    if x not in est.dims:
        raise ChartError(f"trajectory: x={x!r} is not a dim of the data; it has {list(est.dims)}.")
    all_cohorts = [str(c) for c in est["cohort"].values]
    if cohorts is None:
        if "cohort_kind" in est.coords:
            kinds = est["cohort_kind"].values.astype(str)
            cohorts = [c for c, k in zip(all_cohorts, kinds) if k == "arrival"]
        else:
            cohorts = [c for c in all_cohorts if c != reference]
    cohorts = list(cohorts)
    drawn = cohorts + ([reference] if reference in all_cohorts and reference not in cohorts else [])
    data = _frames.select(est, "trajectory", keep=["cohort", x], place=place, indicator=indicator, cohort=drawn)
    unit = str(_frames.units_of(est.sel(indicator=[data["indicator"].item()])).iloc[0])
    label = str(_frames.labels_of(est.sel(indicator=[data["indicator"].item()])).iloc[0])
    place_name = str(data["place_name"].item()) if "place_name" in data.coords else str(data["place"].item())

    frame = _frames.with_bounds(_frames.tidy(data, ["estimate", "moe90", "reliable"]), unit=unit)
    frame = frame.assign(cohort=frame["cohort"].astype(str), x=frame[x].astype(float))
    names = _frames.cohort_names(data)
    frame["cohort_name"] = frame["cohort"].map(names)
    missing = int(frame["estimate"].isna().sum())
    frame = frame.loc[frame["estimate"].notna(), ["x", "cohort", "cohort_name", "estimate", "moe90", "lower",
                                                   "upper", "reliable"]]
    frame["estimate_text"] = theme.format_values(frame["estimate"], unit)
    frame["moe_text"] = theme.format_values(frame["moe90"], unit, moe=True)
    is_ref = frame["cohort"].eq(reference)
    lines, ref = frame.loc[~is_ref], frame.loc[is_ref]
    if lines.empty:
        raise ChartError(f"trajectory: no estimates for cohorts {cohorts} of {indicator!r} in {place_name}.")

    order = [names[c] for c in cohorts if c in set(lines["cohort"])]
    if len(order) > len(theme.PALETTE):
        raise ChartError(f"trajectory draws at most {len(theme.PALETTE)} cohorts in distinguishable colours; "
                         f"got {len(order)}. Pass cohorts=[...] to choose.")
    scale = alt.Scale(domain=order, range=list(theme.PALETTE[: len(order)]))
    legend = alt.Legend(title="Arrival cohort", symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3,
                        symbolFillColor="transparent", columns=3 if width < 420 else 4)
    colour = alt.Color("cohort_name:N", sort=order, scale=scale, legend=legend)
    x_enc = alt.X("x:Q", title=_X_TITLES.get(x, x), axis=alt.Axis(format="d", tickMinStep=1),
                  scale=alt.Scale(zero=False, nice=False))
    # The title names the indicator; a long label on the vertical axis would stretch or clip the chart.
    y_title = label if len(str(label)) <= 32 else {"share": "Percent", "dollars": "Dollars"}.get(unit, "")
    y_enc = alt.Y("estimate:Q", title=y_title, axis=alt.Axis(format=theme.axis_format(unit)), scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("cohort_name:N", title="Cohort"), alt.Tooltip("x:Q", title=_X_TITLES.get(x, x)),
               alt.Tooltip("estimate_text:N", title="Estimate"), alt.Tooltip("moe_text:N", title="90% MOE"),
               alt.Tooltip("reliable:N", title="Reliability")]
    base = alt.Chart(lines)
    band = base.mark_area(opacity=0.16).encode(x=x_enc, y=alt.Y("lower:Q", title=y_title), y2=alt.Y2("upper"),
                                                fill=alt.Fill("cohort_name:N", sort=order, scale=scale, legend=legend))
    line = base.mark_line(strokeWidth=2.2).encode(x=x_enc, y=y_enc, color=colour)
    solid = base.transform_filter(alt.datum.reliable == "reliable").mark_point(filled=True, size=40, opacity=1).encode(
        x=x_enc, y=y_enc, color=colour, tooltip=tooltip)
    hollow = base.transform_filter(alt.datum.reliable != "reliable").mark_point(
        filled=True, fill="white", size=46, strokeWidth=1.8, opacity=1).encode(
        x=x_enc, y=y_enc, stroke=alt.Stroke("cohort_name:N", sort=order, scale=scale, legend=legend), tooltip=tooltip)
    ref_base = alt.Chart(ref)
    ref_line = ref_base.mark_line(strokeDash=[6, 4], strokeWidth=2, color=theme.REFERENCE).encode(
        x=x_enc, y=y_enc, tooltip=tooltip)
    last = ref.loc[ref["x"].eq(ref["x"].max())] if not ref.empty else ref
    ref_label = alt.Chart(last).mark_text(align="left", dx=6, dy=-8, fontSize=11, color=theme.REFERENCE).encode(
        x=x_enc, y=y_enc, text=alt.TextValue(names.get(reference, str(reference)) if reference else ""))

    years = sorted(set(_frames.years_of(data)))
    subtitle = [
        f"{place_name}: {len(order)} arrival cohort{'s' if len(order) > 1 else ''}"
        + (f"; dashed line: {names[reference].lower()} residents" if not ref.empty else ""),
        theme.source_line(est.attrs, years, dollars=unit == "dollars"),
        theme.moe_caption("band"),
        theme.reliability_note(est.attrs) if (frame["reliable"] != "reliable").any() else "",
        f"{missing} cohort-year cells have no estimate and are not drawn." if missing else "",
        _frames.caveat_2020(_frames.experimental_years(data)),
    ]
    if not notes:
        subtitle = [subtitle[0], subtitle[4]]
    # No empty layers (their infinite extents make Vega warn): no reference line when the reference has no
    # rows (e.g. "naturalized" has no native-born universe), no hollow points when every point is reliable.
    flagged = lines["reliable"].ne("reliable")
    layers = ([band, line] + ([solid] if not flagged.all() else []) + ([hollow] if flagged.any() else [])
              + ([ref_line, ref_label] if not ref.empty else []))
    layered = alt.layer(*layers).properties(width=width, height=height)
    return theme.finish(layered, title=title or f"{label}, by arrival cohort", subtitle=subtitle)

