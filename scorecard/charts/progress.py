"""Progress slope chart: each place from year A to year B, significant changes solid, the rest dashed.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"place": ["a", "b"], "place_name": ["A city", "B city"], "indicator": "naturalized",
...     "indicator_label": "Naturalized", "cohort": "foreign_born", "start": 2010, "end": 2020,
...     "estimate_start": [0.40, 0.50], "estimate_end": [0.48, 0.49], "change": [0.08, -0.01],
...     "moe90": [0.03, 0.04], "significant": [True, False], "direction": ["gain", "no measurable change"]})
>>> from scorecard.charts.export import data_values
>>> rows = data_values(progress(frame, unit="share"), layer=0)
>>> sorted((row["place_name"], row["year"], row["value"]) for row in rows)[:2]
[('A city', 2010, 0.4), ('A city', 2020, 0.48)]
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from scorecard.charts import _frames, theme
from scorecard.errors import ChartError

__all__ = ["progress"]

#: direction -> colour
DIRECTIONS = {"gain": theme.PALETTE[0], "loss": theme.FOCUS, "no measurable change": "#7F7F7F",
              "unreliable": "#BDBDBD"}
_COLUMNS = ("place", "place_name", "indicator", "start", "end", "estimate_start", "estimate_end", "change",
            "moe90", "significant", "direction")


def _spread(values: np.ndarray, gap: float, top: float | None = None) -> np.ndarray:
    """Label positions at least ``gap`` apart, each as close to its value as a one-pass sweep allows (vectorized).

    Examples
    --------
    >>> _spread(np.array([0.0, 0.01, 0.5]), 0.1).round(2).tolist()
    [0.0, 0.1, 0.5]
    >>> _spread(np.array([0.0, 0.49, 0.5]), 0.1, top=0.5).round(2).tolist()
    [0.0, 0.4, 0.5]
    """
    order = np.argsort(values, kind="stable")
    steps = gap * np.arange(len(values))
    placed = np.maximum.accumulate(values[order] - steps) + steps
    if top is not None:  # then push down from the top so no label leaves the plot
        from_top = gap * np.arange(len(values))[::-1]
        placed = np.minimum(placed, top - from_top)
    out = np.empty_like(placed)
    out[order] = placed
    return out


@theme.quiet_build
def progress(
    frame: pd.DataFrame,
    *,
    indicator: str | None = None,
    cohort: str | None = None,
    unit: str | None = None,
    focus: str | None = None,
    rule: str | None = None,
    width: int = 300,
    height: int = 300,
    title: str | None = None,
) -> alt.LayerChart:
    """Year A -> year B per place for one indicator.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``Scorecard.progress(...)``: one row per (place, indicator, cohort) with ``start, end,
        estimate_start, estimate_end, change, moe90, significant, direction`` (+ ``unit`` if present).
    indicator, cohort : str, optional
        Needed when the frame holds several.
    unit : str, optional
        ``"share"``, ``"dollars"``, ... (default the frame's ``unit`` column, else ``"number"``).
    focus : str, optional
        Place code or name drawn thicker and bold.
    rule : str, optional
        The significance rule, for the subtitle; default ``frame.attrs["rule"]`` or a generic 90% sentence.
    width, height : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
        Layers: lines (``strokeDash`` by ``significant``), points, end labels.
    """
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ChartError(f"progress: the frame lacks columns {missing}; pass Scorecard.progress(start=, end=).")
    chosen = frame
    for column, value in (("indicator", indicator), ("cohort", cohort)):
        if column in chosen and value is not None:
            chosen = chosen[chosen[column].astype(str).eq(str(value))]
        if column in chosen and chosen[column].nunique() > 1:
            raise ChartError(f"progress draws one {column}; the frame has {sorted(chosen[column].unique())}. "
                             f"Pass {column}=...")
    chosen = chosen[chosen["direction"].ne("missing") & chosen["estimate_start"].notna() & chosen["estimate_end"].notna()]
    if chosen.empty:
        raise ChartError(f"progress: no place has both estimates for indicator={indicator!r}, cohort={cohort!r}.")
    unit = unit or (str(chosen["unit"].iloc[0]) if "unit" in chosen else "number")
    start, end = int(chosen["start"].iloc[0]), int(chosen["end"].iloc[0])
    focus_mask = chosen["place"].astype(str).eq(str(focus)) | chosen["place_name"].astype(str).eq(str(focus))
    wide = chosen.assign(is_focus=focus_mask.to_numpy(),
                         change_text=theme.format_values(chosen["change"], unit, signed=True),
                         moe_text=theme.format_values(chosen["moe90"], unit, moe=True),
                         significance=np.where(chosen["significant"].astype(bool), "significant", "not significant"))
    long = pd.concat([
        wide.assign(year=start, value=wide["estimate_start"]),
        wide.assign(year=end, value=wide["estimate_end"]),
    ], ignore_index=True)[["place", "place_name", "year", "value", "direction", "significance", "is_focus",
                           "change_text", "moe_text"]]
    values = np.concatenate([wide["estimate_start"], wide["estimate_end"]]).astype(float)
    low, high = float(values.min()), float(values.max())
    pad = 0.06 * (high - low or abs(high) or 1.0)
    domain = [low - pad, high + pad]
    ends = long[long["year"].eq(end)].copy()
    ends["label_y"] = _spread(ends["value"].to_numpy(float), (domain[1] - domain[0]) * 15 / height, top=domain[1])
    ends["label"] = ends["place_name"].astype(str) + "  " + ends["change_text"] + ends["significance"].map(
        {"significant": "*", "not significant": ""})

    colours = {k: v for k, v in DIRECTIONS.items() if k in set(long["direction"])}
    colour = alt.Color("direction:N", title="Change", scale=alt.Scale(domain=list(colours), range=list(colours.values())),
                       legend=alt.Legend(orient="bottom"))
    x = alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=12, labelFontWeight="bold"),
              scale=alt.Scale(padding=0.1))
    # The chart's title names the indicator; a long label repeated on the axis would be clipped.
    label = str(chosen["indicator_label"].iloc[0]) if "indicator_label" in chosen else None
    y = alt.Y("value:Q", title=None if title or (label and len(label) > 32) else label,
              scale=alt.Scale(domain=domain, zero=False, nice=False), axis=alt.Axis(format=theme.axis_format(unit)))
    tooltip = [alt.Tooltip("place_name:N", title="Place"), alt.Tooltip("change_text:N", title="Change"),
               alt.Tooltip("moe_text:N", title="90% MOE"), alt.Tooltip("significance:N", title="Significance")]
    base = alt.Chart(long)
    lines = base.mark_line().encode(
        x=x, y=y, detail=alt.Detail("place:N"), color=colour,
        strokeDash=alt.StrokeDash("significance:N", title="Significance",
                                  scale=alt.Scale(domain=["significant", "not significant"], range=[[1, 0], [5, 4]]),
                                  legend=alt.Legend(orient="bottom", symbolType="stroke")),
        strokeWidth=alt.StrokeWidthValue(2, condition={"test": "datum.is_focus", "value": 3.5}), tooltip=tooltip)
    points = base.mark_point(filled=True, size=45, opacity=1).encode(x=x, y=y, color=colour, tooltip=tooltip)
    labels = alt.Chart(ends).mark_text(align="left", dx=10, fontSize=11,
                                       fontWeight=alt.expr("datum.is_focus ? 'bold' : 'normal'")).encode(
        x=x, y=alt.Y("label_y:Q", scale=alt.Scale(domain=domain, zero=False, nice=False)), text=alt.Text("label:N"),
        color=colour)
    layered = alt.layer(lines, points, labels).properties(width=width, height=height)
    cohort_name = str(chosen["cohort"].iloc[0]) if "cohort" in chosen else ""
    if rule is None:
        rule = frame.attrs.get("rule") or "each change tested at the 90% level"
    subtitle = [
        f"{start} to {end}" + (f", {_frames.cohort_name(cohort_name).lower()}" if cohort_name else ""),
        "Solid line and *: significant change; dashed: no measurable change.",
        f"Significance rule: {rule}." if rule else "",
        "Grey: an estimate is unreliable." if "unreliable" in colours else "",
    ]
    return theme.finish(layered, title=title or "Progress", subtitle=subtitle)
