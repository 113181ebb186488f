"""One look for every chart: palette, fonts, titles, subtitles naming the source, unit formats, the MOE caption.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); yellow is left out because it cannot be read on white. Formats
follow the estimates contract's ``unit`` coord on ``indicator``: ``"share"``
(proportions 0-1, shown as percent), ``"dollars"``, ``"count"`` and ``"number"``.

Examples
--------
>>> axis_format("share"), axis_format("dollars"), value_format("share")
('.0%', '$,.3~s', '.1%')
>>> format_values([0.4321, 0.05], "share")
['43.2%', '5.0%']
>>> format_values([0.0123], "share", moe=True)
['±1.2 pts']
>>> format_values([51234.4, float("nan")], "dollars")
['$51,234', '–']
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from altair.utils.schemapi import debug_mode

from scorecard.errors import ChartError

__all__ = [
    "PALETTE",
    "FOCUS",
    "OTHER",
    "REFERENCE",
    "UNRELIABLE",
    "FONT",
    "UNITS",
    "axis_format",
    "value_format",
    "moe_format",
    "format_values",
    "unit_label",
    "source_line",
    "moe_caption",
    "reliability_note",
    "finish",
    "lines_expr",
    "CONFIG",
    "quiet_build",
]

#: Okabe-Ito colours without yellow, in the order series take them.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
#: Highlight of the focus city.
FOCUS = "#D55E00"
#: Every other place when one is highlighted.
OTHER = "#5B7A99"
#: The native-born reference series.
REFERENCE = "#4D4D4D"
#: Fill of cells and marks flagged unreliable.
UNRELIABLE = "#D9D9D9"
#: Font stack: vl-convert measures text with the first font it finds; browsers do the same.
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"

#: unit -> (axis format, value format, MOE format, MOE multiplier, MOE suffix) in d3-format syntax.
UNITS = {
    "share": (".0%", ".1%", ".1f", 100.0, " pts"),
    "dollars": ("$,.3~s", "$,.0f", "$,.0f", 1.0, ""),
    "count": (",.0f", ",.0f", ",.0f", 1.0, ""),
    "number": (",.3~g", ",.3~g", ",.3~g", 1.0, ""),
}
_SURVEYS = {
    "acs1": "American Community Survey 1-year",
    "acs5": "American Community Survey 5-year",
    "acs3": "American Community Survey 3-year",
    "census": "Decennial census",
}
_ROUTES = {"microdata": "public use microdata (PUMS)", "tables": "published tables", "frame": "user-supplied figures"}


#: Vega expressions labelling a signed difference axis in each unit (gaps, effects): +5 pts, +$1,000.
DIFFERENCE_AXIS_LABELS = {
    "share": "(datum.value > 0 ? '+' : '') + format(datum.value * 100, '.0f') + ' pts'",
    "dollars": "format(datum.value, '+$,.0f')",
    "count": "format(datum.value, '+,.0f')",
    "number": "format(datum.value, '+,.3~g')",
}


def _unit(unit: str) -> tuple:
    if unit not in UNITS:
        raise ChartError(f"Unknown unit {unit!r}; the estimates contract's 'unit' coord takes one of {sorted(UNITS)}.")
    return UNITS[unit]


def axis_format(unit: str) -> str:
    """d3 format of an axis showing values in ``unit``."""
    return _unit(unit)[0]


def value_format(unit: str) -> str:
    """d3 format of a single value in ``unit`` (one decimal more than axes for shares)."""
    return _unit(unit)[1]


def moe_format(unit: str) -> str:
    """d3 format of a margin of error in ``unit`` (shares: percentage points after ``x 100``)."""
    return _unit(unit)[2]


def unit_label(unit: str) -> str:
    """Words for an axis title suffix: ``"share"`` -> ``"%"``, ``"dollars"`` -> ``"$"``."""
    _unit(unit)
    return {"share": "%", "dollars": "$", "count": "number", "number": ""}[unit]


def format_values(values: Sequence[float], unit: str, *, moe: bool = False, signed: bool = False) -> list[str]:
    """Format numbers for text (report tables, headline figures) the way the charts' axes do.

    Parameters
    ----------
    values : sequence of float
    unit : str
        ``"share"``, ``"dollars"``, ``"count"`` or ``"number"``.
    moe : bool, default=False
        Values are margins of error: prefixed ``±``, shares in percentage points.
    signed : bool, default=False
        Prefix ``+`` on positive values (changes, gaps); shares then in points.

    Returns
    -------
    list of str
        ``"–"`` for NaN.
    """
    _unit(unit)
    numbers = pd.Series(np.asarray(values, dtype="float64"))
    if numbers.empty:
        return []
    points = moe or signed
    if unit == "share":
        text = (numbers * 100.0).map("{:.1f}".format) + (" pts" if points else "%")
    elif unit == "dollars":
        text = "$" + numbers.abs().round().map("{:,.0f}".format)
        text = text.where(numbers >= 0, "-" + text) if not moe else text
    elif unit == "count":
        text = numbers.round().map("{:,.0f}".format)
    else:
        text = numbers.map("{:,.3g}".format)
    if moe:
        text = "±" + text.str.lstrip("-")
    elif signed:
        text = text.where(numbers <= 0, "+" + text)
    return text.where(numbers.notna(), "–").tolist()


def _json_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        return parsed if isinstance(parsed, list) else [parsed]
    return list(value)


def source_line(attrs: dict, years: Sequence[int] | None = None, *, dollars: bool = True) -> str:
    """One subtitle line naming the source, the survey, the years and the dollars year.

    Examples
    --------
    >>> source_line({"survey": "acs1", "route": "microdata", "dollars_year": 2022}, [2016, 2019, 2022])
    'Source: American Community Survey 1-year, public use microdata (PUMS), 2016-2022; dollars of 2022'
    """
    survey = _SURVEYS.get(str(attrs.get("survey", "")), str(attrs.get("survey", "survey not stated")))
    parts = [f"Source: {survey}"]
    route = _ROUTES.get(str(attrs.get("route", "")))
    if route:
        parts.append(f", {route}")
    if years is not None and len(years):
        low, high = int(np.min(years)), int(np.max(years))
        parts.append(f", {low}" if low == high else f", {low}-{high}")
    text = "".join(parts)
    dollars_year = attrs.get("dollars_year")
    if dollars and dollars_year not in (None, ""):
        text += f"; dollars of {dollars_year}" if str(dollars_year).isdigit() else f"; dollars: {dollars_year}"
    return text


def moe_caption(kind: str = "band") -> str:
    """The sentence that explains the intervals drawn.

    Examples
    --------
    >>> moe_caption("bar")[:38]
    'Bars: 90% margin of error (estimate ± '
    """
    lead = {"band": "Shaded bands", "bar": "Bars", "rank": "Bars"}[kind]
    if kind == "rank":
        return f"{lead}: 90% interval of each place's rank; places whose bars overlap are statistically tied."
    return f"{lead}: 90% margin of error (estimate ± 1.645 standard errors), the survey's sampling uncertainty."


def reliability_note(attrs: dict) -> str:
    """Explain "caution" and "unreliable" with the thresholds the estimates used (the ``reliability`` attr).

    Examples
    --------
    >>> reliability_note({"reliability": '{"caution_cv": 0.15, "unreliable_cv": 0.3, "min_n": 30}'})
    'Hollow points: estimate flagged caution (CV above 15%) or unreliable (CV above 30% or fewer than 30 sample records); read with care.'
    """
    try:
        rule = json.loads(str(attrs.get("reliability", "")))
        caution = f" (CV above {rule['caution_cv']:.0%})"
        unreliable = f" (CV above {rule['unreliable_cv']:.0%} or fewer than {rule['min_n']} sample records)"
    except (json.JSONDecodeError, KeyError, TypeError):
        caution = unreliable = ""
    return f"Hollow points: estimate flagged caution{caution} or unreliable{unreliable}; read with care."


def lines_expr(lines: dict[str, Sequence[str]]) -> str:
    """A Vega ``labelExpr`` that draws each label on the lines given (labels not listed stay as they are).

    Vega wraps no text itself; a label given as a list of strings is drawn one string per line.

    Examples
    --------
    >>> lines_expr({"Bramblewick city, TX": ["Bramblewick city", "TX"]})
    '{"Bramblewick city, TX": ["Bramblewick city", "TX"]}[datum.label] || datum.label'
    """
    listed = {str(label): [str(line) for line in parts] for label, parts in lines.items() if len(parts) > 1}
    return f"{json.dumps(listed, ensure_ascii=False)}[datum.label] || datum.label" if listed else "datum.label"


def finish(chart, *, title: str, subtitle: Sequence[str] = ()):
    """Title, subtitle lines and the shared configuration (fonts, axes, legend) on a top-level chart.

    Parameters
    ----------
    chart : altair chart (any top-level kind)
    title : str
    subtitle : sequence of str
        One line each: what is shown, the source line, the MOE caption, notes.

    Returns
    -------
    altair chart
        A shallow copy, configured; it can be saved or displayed but no longer concatenated.
    """
    lines = [line for line in subtitle if line]
    # altair's .properties() and .configure() deep-copy the whole chart each; one shallow copy whose
    # top-level attributes are set directly gives the same specification for a fraction of the time.
    chart = chart.copy(deep=False)
    chart.title = alt.TitleParams(text=title, subtitle=lines, anchor="start", fontSize=15, subtitleFontSize=11,
                                  subtitleColor="#333333", offset=10, subtitlePadding=4)
    chart.padding = {"left": 10, "right": 16, "top": 10, "bottom": 10}
    chart.background = "white"
    chart.config = CONFIG.copy()
    return chart


#: The shared configuration: fonts, axes, legends, the categorical palette.
CONFIG = alt.Config(
    font=FONT,
    range={"category": list(PALETTE)},
    axis={"labelFontSize": 11, "titleFontSize": 12, "labelColor": "#222222", "titleColor": "#222222",
          "gridColor": "#E6E6E6", "domainColor": "#888888", "tickColor": "#888888", "labelLimit": 260},
    legend={"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom", "direction": "horizontal",
            "labelLimit": 260, "columns": 4, "symbolStrokeWidth": 2},
    view={"stroke": None},
    header={"labelFontSize": 12, "titleFontSize": 12},
)


def quiet_build(function):
    """Build a chart without altair validating every object as it is made (its debug mode).

    Each chart function's specification is validated whole against the Vega-Lite schema by the tests
    (``chart.to_dict()``), so checking each piece again on every call only costs time (about a sixth of
    building a report's charts).
    """
    @functools.wraps(function)
    def build(*args, **kwargs):
        with debug_mode(False):
            return function(*args, **kwargs)

    return build
