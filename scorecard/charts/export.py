"""Offline export with vl-convert: PNG, SVG, PDF, standalone HTML (Vega JavaScript inlined) and the JSON spec.

No network and no browser are used: vl-convert runs Vega in an embedded
JavaScript engine and ships its own copy of the Vega libraries. Files are
written atomically.

Examples
--------
>>> import altair as alt, pandas as pd, pathlib, tempfile
>>> chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x:Q", y="y:Q")
>>> path = save(chart, pathlib.Path(tempfile.mkdtemp()) / "line.png")
>>> path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> to_svg(chart).startswith("<svg")
True
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import vl_convert as vlc

from scorecard.atomic import atomic_write_bytes, atomic_write_text
from scorecard.errors import ChartError

__all__ = ["save", "to_svg", "to_png", "to_html", "to_pdf", "spec_of", "data_values", "FORMATS"]

# vl-convert's rasterizer (resvg / tiny-skia) logs "empty paths and horizontal/vertical lines cannot be filled"
# for every line-shaped legend symbol it draws: nothing is wrong with the image, and the message would bury a
# city analyst's console. Vega's own warnings (logger "vl_convert") stay on: they name real chart problems.
logging.getLogger("tiny_skia").setLevel(logging.ERROR)

#: File suffix -> what is written.
FORMATS = {".png": "PNG image", ".svg": "SVG image", ".pdf": "PDF", ".html": "standalone HTML", ".json": "Vega-Lite JSON"}


def spec_of(chart) -> dict:
    """The Vega-Lite specification (a dict) of an altair chart, or a dict passed through.

    The schema check is skipped here (it costs about as much as the conversion); the tests validate every
    chart kind's specification with ``chart.to_dict()``.
    """
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def data_values(chart, *, layer: int | None = None, panel: int | None = None) -> list[dict]:
    """The inline data rows a chart (or one of its layers / concatenated panels) draws.

    altair moves data shared by layers into the top-level ``datasets``; this follows the reference.

    Parameters
    ----------
    chart : altair chart or Vega-Lite dict
    layer : int, optional
        Index in ``layer`` (of the panel when ``panel`` is given).
    panel : int, optional
        Index in ``vconcat`` / ``hconcat`` / ``concat``.

    Returns
    -------
    list of dict
    """
    spec = spec_of(chart)
    node = spec
    if panel is not None:
        node = next(node[key] for key in ("vconcat", "hconcat", "concat") if key in node)[panel]
    if layer is not None:
        node = node["layer"][layer] if "data" in node["layer"][layer] else {**node["layer"][layer], **{"data": node.get("data", spec.get("data"))}}
    data = node.get("data") or spec.get("data")
    if data is None:
        raise ChartError("This chart (or part) has no inline data.")
    return list(data["values"]) if "values" in data else list(spec["datasets"][data["name"]])


def _version(spec: dict) -> str:
    """vl-convert's Vega-Lite version matching the spec's ``$schema`` (newest available otherwise)."""
    available = vlc.get_vegalite_versions()
    found = re.search(r"/v(\d+)\.(\d+)", spec.get("$schema", ""))
    wanted = f"{found.group(1)}.{found.group(2)}" if found else ""
    return wanted if wanted in available else available[-1]


def to_svg(chart) -> str:
    """SVG markup of a chart."""
    spec = spec_of(chart)
    return vlc.vegalite_to_svg(spec, vl_version=_version(spec))


def to_png(chart, *, scale: float = 2.0) -> bytes:
    """PNG bytes of a chart at ``scale`` x its pixel size (2 gives sharp print)."""
    spec = spec_of(chart)
    return vlc.vegalite_to_png(spec, vl_version=_version(spec), scale=scale)


def to_pdf(chart) -> bytes:
    """PDF bytes of a chart (vector)."""
    spec = spec_of(chart)
    return vlc.vegalite_to_pdf(spec, vl_version=_version(spec))


def to_html(chart) -> str:
    """A standalone HTML page with the Vega, Vega-Lite and vega-embed JavaScript inlined (opens offline)."""
    spec = spec_of(chart)
    return vlc.vegalite_to_html(spec, vl_version=_version(spec), bundle=True, renderer="svg")


def save(chart, path: str | os.PathLike, *, scale: float = 2.0) -> Path:
    """Write a chart to ``path``, the format chosen by its suffix, atomically.

    Parameters
    ----------
    chart : altair chart or Vega-Lite dict
    path : path
        Ends in ``.png``, ``.svg``, ``.pdf``, ``.html`` or ``.json``.
    scale : float, default=2.0
        PNG pixel density (2 = twice the chart's pixel size).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return atomic_write_bytes(path, to_png(chart, scale=scale))
    if suffix == ".svg":
        return atomic_write_text(path, to_svg(chart))
    if suffix == ".pdf":
        return atomic_write_bytes(path, to_pdf(chart))
    if suffix == ".html":
        return atomic_write_text(path, to_html(chart))
    if suffix == ".json":
        return atomic_write_text(path, json.dumps(spec_of(chart), indent=2))
    raise ChartError(f"Cannot save a chart as {path.name!r}: the suffix must be one of {sorted(FORMATS)}.")
