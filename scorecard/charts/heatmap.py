"""Scorecard heatmap: places x indicators, colour = score, text = the estimate; cells not scored are grey and marked.

Examples
--------
>>> import numpy as np, xarray as xr
>>> scores = xr.Dataset(
...     {"score": (("indicator", "place"), [[0.0, 1.0], [0.5, np.nan]]),
...      "included": (("indicator", "place"), [[True, True], [True, False]])},
...     coords={"indicator": ["a", "b"], "place": ["p", "q"], "place_name": ("place", ["P city", "Q city"]),
...             "domain": ("indicator", ["civic", "income"])}, attrs={"method": "minmax", "year": 2020})
>>> from scorecard.charts.export import data_values
>>> values = data_values(heatmap(scores), layer=1)
>>> [(row["place_name"], row["indicator"], row["text"]) for row in values]
[('P city', 'a', '0.00'), ('Q city', 'a', '1.00'), ('P city', 'b', '0.50'), ('Q city', 'b', '–†')]
"""

from __future__ import annotations

import json
import textwrap

import altair as alt
import numpy as np
import pandas as pd
import xarray as xr

from scorecard.charts import _frames, theme
from scorecard.errors import ChartError

__all__ = ["heatmap"]

_METHODS = {
    "minmax": "{low:g} = worst place, {high:g} = best (direction-adjusted)",
    "zscore": "standard deviations from the mean of the places",
    "percentile": "percentile among the places",
}


#: Line height of axis labels on several lines (11 px font), in pixels.
_LINE = 13
#: A blank line that lifts a shorter label level with the longest: a zero-width space, since Vega writes a
#: blank line as an empty tspan, whose offset browsers skip.
_BLANK = "\u200b"


def _top_labels(lines: dict[str, list[str]]) -> dict:
    """Axis options that draw labels of several lines above the cells, level and bottom-aligned.

    Vega stacks a label's extra lines downwards from its first, so every label is topped up with blank lines
    to the longest and the padding lifts the stack clear of the cells.
    """
    stacked = max(len(parts) for parts in lines.values())
    padded = {label: [_BLANK] * (stacked - len(parts)) + list(parts) for label, parts in lines.items()}
    return {"orient": "top", "labelAngle": 0, "labelExpr": theme.lines_expr(padded), "labelBaseline": "bottom",
            "labelLineHeight": _LINE, "labelPadding": (stacked - 1) * _LINE + 4}


def _text(values: pd.Series, units: pd.Series) -> pd.Series:
    """Each value formatted in its own row's unit."""
    out = pd.Series("", index=values.index, dtype=object)
    for unit in units.unique():  # at most the four contract units
        mask = units.eq(unit)
        out[mask] = theme.format_values(values[mask], unit)
    return out


@theme.quiet_build
def heatmap(
    scores: xr.Dataset,
    *,
    estimates: xr.Dataset | None = None,
    focus: str | None = None,
    cell_width: int = 100,
    cell_height: int = 34,
    title: str | None = None,
) -> alt.LayerChart:
    """Places (columns) x indicators (rows), coloured by score, labelled with the estimate.

    Parameters
    ----------
    scores : xarray.Dataset
        ``Scorecard.scores``: ``score`` and ``included`` by ``(indicator, place)``, coords ``domain`` and
        ``place_name``; attrs ``method``, ``year``, ``cohort``, ``focus``.
    estimates : xarray.Dataset, optional
        ``Scorecard.estimates``: cell text is the estimate in its unit (percent, dollars); without it the
        text is the score.
    focus : str, optional
        Place code drawn first and in bold; default ``scores.attrs["focus"]``.
    cell_width, cell_height : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
        Layers: cells (``rect``, colour = score, grey where ``included`` is False) and text.
    """
    if not isinstance(scores, xr.Dataset) or "score" not in scores:
        raise ChartError("heatmap takes Scorecard.scores: an xarray.Dataset with 'score' by (indicator, place).")
    grid = scores[["score"] + (["included"] if "included" in scores else [])]
    frame = grid.to_dataframe().reset_index()
    if "included" not in frame:
        frame["included"] = frame["score"].notna()
    frame["included"] = frame["included"].astype(bool) & frame["score"].notna()
    if "place_name" not in frame:
        frame["place_name"] = frame["place"]
    focus = focus if focus is not None else scores.attrs.get("focus") or None
    labels = pd.Series(frame["indicator"].astype(str).values, index=frame.index)
    source = scores.attrs
    if estimates is not None:
        estimates = _frames.check_estimates(estimates, "heatmap")
        picked = _frames.select(estimates, "heatmap", keep=["indicator", "place"],
                                year=scores.attrs.get("year"), cohort=scores.attrs.get("cohort"),
                                indicator=list(scores["indicator"].values), place=list(scores["place"].values))
        values = picked[["estimate", "reliable"]].to_dataframe().reset_index()[["indicator", "place", "estimate", "reliable"]]
        frame = frame.merge(values, on=["indicator", "place"], how="left", validate="one_to_one")
        units = frame["indicator"].map(_frames.units_of(estimates))
        labels = frame["indicator"].map(_frames.labels_of(estimates))
        frame["text"] = _text(frame["estimate"], units)
        source = estimates.attrs
    else:
        frame["text"] = frame["score"].map("{:.2f}".format).where(frame["score"].notna(), "–")
    frame["indicator_label"] = labels.values
    frame["text"] = frame["text"].where(frame["included"], frame["text"] + "†")
    frame["score_text"] = frame["score"].map("{:.2f}".format).where(frame["score"].notna(), "not scored")
    low, high = np.nanmin(frame["score"].to_numpy(dtype=float)), np.nanmax(frame["score"].to_numpy(dtype=float))
    frame["dark"] = frame["included"] & (frame["score"] > low + 0.6 * (high - low))

    places = frame.drop_duplicates("place")[["place", "place_name"]]
    if focus is not None:
        focus_code = _frames._pick(scores, "place", focus, "heatmap")
        places = pd.concat([places[places["place"].eq(focus_code)], places[~places["place"].eq(focus_code)]])
        focus_name = str(places["place_name"].iloc[0])
    else:
        focus_name = ""
    place_order = places["place_name"].astype(str).tolist()
    rows = frame.drop_duplicates("indicator")
    domain = next((c for c in ("indicator_domain", "domain") if c in frame), None)  # Scorecard.scores: indicator_domain
    if domain is not None:
        rows = rows.sort_values(domain, kind="stable")
    row_order = rows["indicator_label"].astype(str).tolist()

    bold = alt.expr(f"datum.value == {json.dumps(focus_name)} ? 'bold' : 'normal'")
    tall = len(place_order) > 7  # many places: one row per place, indicators as columns (a wide card is unreadable)
    if tall:
        # Indicator labels across the top, level and wrapped to the column width (slanted text reads badly);
        # about 6.2 px a character at 11 px.
        x = alt.X("indicator_label:N", sort=row_order, title=None, axis=alt.Axis(**_top_labels(
            {label: textwrap.wrap(label, max(8, int(cell_width / 6.2)), max_lines=4, placeholder=" …")
             for label in row_order}), labelLimit=cell_width - 4))
        y = alt.Y("place_name:N", sort=place_order, title=None, axis=alt.Axis(labelLimit=300, labelFontWeight=bold))
    else:
        # Place names on two lines ("Bramblewick city" / "TX") and indicator labels wrapped at a word: the card
        # stays narrow enough to print on a letter page at a readable size.
        row_lines = {label: textwrap.wrap(label, 40, max_lines=3, placeholder=" …") for label in row_order}
        cell_height = max(cell_height, max(len(lines) for lines in row_lines.values()) * _LINE + 8)
        x = alt.X("place_name:N", sort=place_order, title=None, axis=alt.Axis(**_top_labels(
            {name: name.rsplit(", ", 1) for name in place_order}), labelLimit=cell_width - 4, labelFontWeight=bold))
        y = alt.Y("indicator_label:N", sort=row_order, title=None,
                  axis=alt.Axis(labelLimit=230, labelExpr=theme.lines_expr(row_lines), labelLineHeight=_LINE))
    drawn = ["indicator", "place", "place_name", "indicator_label", "score", "included", "text", "score_text", "dark"]
    base = alt.Chart(frame[drawn + [c for c in ("estimate", "reliable") if c in frame]])  # only what is drawn
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("score:Q", title="Score", scale=alt.Scale(scheme="blues", domain=[low, high]),
                        legend=alt.Legend(orient="right", direction="vertical", gradientLength=120),
                        condition={"test": "!datum.included", "value": theme.UNRELIABLE}),
        tooltip=[alt.Tooltip("place_name:N", title="Place"), alt.Tooltip("indicator_label:N", title="Indicator"),
                 alt.Tooltip("text:N", title="Estimate"), alt.Tooltip("score_text:N", title="Score")])
    text = base.mark_text(fontSize=11, fontStyle=alt.expr("datum.included ? 'normal' : 'italic'")).encode(
        x=x, y=y, text=alt.Text("text:N"),
        color=alt.ColorValue("#1A1A1A", condition={"test": "datum.dark", "value": "white"}))
    columns, rows_drawn = (len(row_order), len(place_order)) if tall else (len(place_order), len(row_order))
    layered = alt.layer(cells, text).properties(width=cell_width * columns, height=cell_height * rows_drawn)
    method = str(scores.attrs.get("method", ""))
    scale = json.loads(scores.attrs["scale"]) if isinstance(scores.attrs.get("scale"), str) else None
    scale = scale if isinstance(scale, list) and len(scale) == 2 else [0, 1]
    meaning = _METHODS.get(method, "see method notes").format(low=scale[0], high=scale[-1])
    subtitle = [
        f"Colour: {method} score ({meaning}); text: the estimate"
        if estimates is not None else f"Colour and text: {method} score",
        theme.source_line(source, [int(scores.attrs["year"])] if scores.attrs.get("year") not in (None, "") else None,
                          dollars=False),
        "† grey: estimate flagged unreliable or missing; left out of the scores." if (~frame["included"]).any() else "",
    ]
    cohort = scores.attrs.get("cohort")
    who = f", {_frames.cohort_name(cohort).lower()}" if cohort else ""
    when = f", {scores.attrs['year']}" if scores.attrs.get("year") not in (None, "") else ""
    return theme.finish(layered, title=title or f"Scorecard{who}{when}", subtitle=subtitle)
