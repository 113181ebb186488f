"""The one-page city report: headline figures with MOEs, charts as inline SVG, progress, ranks, methods, provenance.

The page is self-contained: charts are SVG drawn by vl-convert at build time,
styles are inline, and a Content-Security-Policy of ``default-src 'none'``
forbids the browser to load anything, so it opens offline and leaks nothing.
Inputs are plain Datasets and DataFrames (the Scorecard forwards its own).

Examples
--------
>>> import pandas as pd, scorecard as sc
>>> est = sc.estimates_from_frame(pd.DataFrame({"indicator": "english_very_well", "place": "p",
...     "place_name": "P city, WA", "year": 2020, "cohort": ["foreign_born", "native"],
...     "estimate": [0.52, 0.97], "se": [0.02, 0.01]}), survey="acs1")
>>> page = render_html(place="P city, WA", estimates=est, draw_charts=False)
>>> "52.0%" in page and "±3.3 pts" in page and "default-src 'none'" in page and "experimental weights" in page
True
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import xarray as xr

from scorecard import charts
from scorecard.atomic import atomic_write, atomic_write_text
from scorecard.charts import _frames, theme
from scorecard.errors import ChartError, ReportError
from scorecard.impact import impact_statement
from scorecard.report import browser

__all__ = ["render_html", "write_html", "write_pdf", "write_index", "CSP", "chart_timings"]

#: The page's Content-Security-Policy: nothing may be fetched; inline styles and data: images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

#: Seconds per chart of the last rendered report: chart key -> (spec building, vl-convert to SVG).
chart_timings: dict[str, tuple[float, float]] = {}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("scorecard.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _svg(chart, key: str, built: float) -> str:
    """Chart as inline SVG with its ids prefixed, so several SVGs on one page never share an id."""
    spec = charts.export.spec_of(chart)
    converting = time.perf_counter()
    markup = charts.to_svg(spec)
    chart_timings[key] = (converting - built, time.perf_counter() - converting)
    prefix = re.sub(r"[^A-Za-z0-9]", "-", key)
    markup = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', markup)
    markup = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", markup)
    return markup.replace("<svg ", f'<svg role="img" aria-label="{prefix}" ', 1)


def _place(est: xr.Dataset, place: str) -> tuple[str, str]:
    code = _frames._pick(est, "place", place, "report")
    name = str(est["place_name"].sel(place=code).item()) if "place_name" in est.coords else str(code)
    return code, name


def _by_unit(values, units: pd.Series, **options) -> list[str]:
    """Format each value in its own unit (the contract has four units)."""
    values = pd.Series(np.asarray(values, dtype=float), index=units.index)
    out = pd.Series("", index=units.index, dtype=object)
    for unit in units.unique():
        mask = units.eq(unit)
        out[mask] = theme.format_values(values[mask], unit, **options)
    return out.tolist()


def _headline(est: xr.Dataset, code: str, year: int, cohort: str, reference: str) -> list[dict]:
    """One row per indicator: the cohort's and the reference's estimate ± MOE and reliability."""
    wanted = [c for c in (cohort, reference) if c in set(est["cohort"].values.astype(str))]
    one = est.sel(place=code, year=year, cohort=wanted)
    units, labels = _frames.units_of(est), _frames.labels_of(est)
    rows = pd.DataFrame({"indicator": one["indicator"].values.astype(str)})
    rows["label"] = rows["indicator"].map(labels)
    rows["unit"] = rows["indicator"].map(units)
    unit = rows["unit"].reset_index(drop=True)
    for role, name in (("focus", cohort), ("reference", reference)):
        if name not in wanted:
            rows[f"{role}_value"], rows[f"{role}_moe"], rows[f"{role}_reliable"] = "–", "", "missing"
            continue
        cell = one.sel(cohort=name)
        rows[f"{role}_value"] = _by_unit(cell["estimate"].values, unit)
        moe = pd.Series(_by_unit(cell["moe90"].values, unit, moe=True))
        rows[f"{role}_moe"] = moe.where(np.isfinite(cell["estimate"].values), "").tolist()
        label = cell["reliable"].values.astype(str)
        # An indicator about immigrants (naturalized) has no universe among the native-born: say "n/a".
        empty = np.char.find(cell["reason"].values.astype(str), "no records in the universe") >= 0
        rows[f"{role}_reliable"] = np.where((label == "missing") & empty, "n/a", label)
    return rows.to_dict("records")


def _provenance(est: xr.Dataset, code: str, coverage: pd.DataFrame | None) -> dict:
    attrs = est.attrs
    try:
        sources = json.loads(attrs.get("sources", "[]"))
    except json.JSONDecodeError:
        sources = [attrs.get("sources")]
    sources = sources if isinstance(sources, list) else [sources]
    unique_sources = list(dict.fromkeys(map(str, sources)))
    years = _frames.years_of(est)
    rows = []
    if coverage is not None and not coverage.empty:
        mine = coverage[coverage["place"].astype(str).eq(str(code))]
        rows = [{"vintage": int(r.puma_vintage), "pumas": int(r.n_pumas) if "n_pumas" in mine and pd.notna(r.n_pumas) else "–",
                 "covered": f"{float(r.covered_share):.1%}" if pd.notna(r.covered_share) else "unknown"}
                for r in mine.itertuples()]
    vintages = []
    if "puma_vintage" in est.coords:
        v = pd.Series(np.atleast_1d(est["puma_vintage"].values), index=years)
        vintages = [{"vintage": int(k), "years": f"{min(g.index)}-{max(g.index)}"}
                    for k, g in v.dropna().groupby(v.dropna().astype(int))]
    return {
        "source": theme.source_line(attrs, years),
        "survey": attrs.get("survey", "not stated"),
        "route": attrs.get("route", "not stated"),
        "variance_method": attrs.get("variance_method", "not stated"),
        "dollars_year": attrs.get("dollars_year", ""),
        "dollars_note": _dollars_note(attrs.get("dollars_year", "")),
        "library": attrs.get("library", ""),
        "files": unique_sources[:40],
        "more_files": max(0, len(unique_sources) - 40),
        "years": f"{min(years)}-{max(years)}" if years else "",
        "coverage": rows,
        "vintages": vintages,
        "caveat_2020": _frames.caveat_2020(_frames.experimental_years(est)),
        "reliability": theme.reliability_note(attrs).replace("Hollow points: estimate", "Badges and hollow points mark estimates"),
    }


def _dollars_note(dollars_year) -> str:
    """How dollar amounts are stated: constant dollars of a year, or as the source published them.

    Examples
    --------
    >>> _dollars_note(2023), _dollars_note("nominal (each year's dollars)")
    ('Dollar amounts are in constant 2023 dollars.', "Dollar amounts are nominal (each year's dollars).")
    """
    text = str(dollars_year).strip()
    if not text:
        return ""
    return f"Dollar amounts are in constant {text} dollars." if text.isdigit() else f"Dollar amounts are {text}."


def _rank_rows(ranks, code: str) -> list[dict]:
    if ranks is None:
        return []
    items = ranks.items() if isinstance(ranks, Mapping) else [(ranks.attrs.get("indicator") or "composite score", ranks)]
    rows = []
    for label, ds in items:  # one row per ranking shown (a handful)
        if code not in set(ds["place"].values.astype(str)):
            continue
        me = ds.sel(place=code)
        from scorecard.charts.rank_set import rank_text

        text = str(rank_text([int(me["rank"])], [int(me["rank_lower"])], [int(me["rank_upper"])])[0])
        rows.append({"label": str(label), "rank": int(me["rank"]), "text": text, "n": int(ds.sizes["place"]),
                     "method": ds.attrs.get("method", ""), "coverage": ds.attrs.get("coverage", 0.9)})
    return rows


def render_html(
    *,
    place: str,
    estimates: xr.Dataset,
    scores: xr.Dataset | None = None,
    ranks: xr.Dataset | Mapping[str, xr.Dataset] | None = None,
    progress: pd.DataFrame | None = None,
    trajectories: xr.Dataset | None = None,
    gaps: xr.Dataset | None = None,
    impact: xr.Dataset | None = None,
    coverage: pd.DataFrame | None = None,
    year: int | None = None,
    cohort: str = "foreign_born",
    reference: str = "native",
    indicators=None,
    title: str | None = None,
    draw_charts: bool = True,
) -> str:
    """The report page as HTML text (see :func:`write_html`)."""
    est = _frames.check_estimates(estimates, "report")
    code, name = _place(est, place)
    year = int(np.max(est["year"].values)) if year is None else int(year)
    if year not in set(_frames.years_of(est)):
        raise ReportError(f"report: year {year} is not in the estimates (years {_frames.years_of(est)}).")
    direction = est["higher_is_better"].to_series() if "higher_is_better" in est.coords else None
    if indicators is None:
        indicators = [k for k in est["indicator"].values.astype(str) if direction is None or not np.isnan(direction[k])]
    indicators = list(indicators)
    chart_timings.clear()
    figures = []
    if draw_charts:
        figures = _figures(est, code, year, cohort, reference, indicators, scores, ranks, progress, trajectories, gaps)
        if impact is not None:
            started = time.perf_counter()
            figures.append({"section": "impact", "key": "event-study", "svg": _svg(charts.event_study(impact), "event-study", started)})
    statements, rule, omitted = [], "", ""
    if progress is not None and len(progress):
        mine = progress[progress["place"].astype(str).eq(str(code))]
        if "cohort" in mine:
            # Every statement of the card's cohort; of the reference all but "missing" (an indicator about
            # immigrants, such as naturalization, has no native-born value to compare); of other cohorts
            # (arrival cohorts) only the gains and losses. The rest are counted in one line; all of them are
            # in the progress table.
            named = mine["cohort"].astype(str)
            shown = (named.eq(str(cohort)) | (named.eq(str(reference)) & mine["direction"].ne("missing"))
                     | mine["direction"].isin(["gain", "loss"]))
            rest = mine.loc[~shown, "direction"].value_counts()
            if len(rest):
                omitted = (f"{int(rest.sum())} further statements (arrival cohorts, and indicators with no "
                           f"{_frames.cohort_name(reference).lower()} value) are not listed: "
                           + ", ".join(f"{n} {d}" for d, n in rest.items()) + ".")
            mine = mine[shown]
        # The sentence states the change with its 90% MOE; the page adds nothing to it.
        statements = [{"sentence": s, "direction": d} for s, d in zip(mine["sentence"], mine["direction"])]
        rule = progress.attrs.get("rule") or "each change tested at the 90% level"
    context = {
        "title": title or f"{name}: immigrant integration scorecard",
        "place_name": name,
        "year": year,
        "cohort_name": _frames.cohort_name(cohort),
        "reference_name": _frames.cohort_name(reference),
        "headline": _headline(est.sel(indicator=indicators + [k for k in est["indicator"].values.astype(str)
                                                              if k not in indicators]), code, year, cohort, reference),
        "figures": figures,
        "statements": statements,
        "rule": rule,
        "omitted": omitted,
        "impact": impact_statement(impact) if impact is not None else "",
        "ranks": _rank_rows(ranks, code),
        "scoring": scores.attrs.get("method") if scores is not None else None,
        "provenance": _provenance(est, code, coverage),
        "csp": CSP,
        "moe_caption": theme.moe_caption("bar"),
        "generated": est.attrs.get("library", "integration-scorecard"),
    }
    return _environment().get_template("report.html.j2").render(**context)


def _figures(est, code, year, cohort, reference, indicators, scores, ranks, progress, trajectories, gaps) -> list[dict]:
    """The charts of the page, each as {section, title, svg}. A chart without data for this place is skipped."""
    figures = []

    def add(section: str, key: str, make) -> None:
        try:
            started = time.perf_counter()
            figures.append({"section": section, "key": key, "svg": _svg(make(), key, started)})
        except ChartError as err:  # e.g. no estimates for this place's cohorts: say so on the page
            figures.append({"section": section, "key": key, "svg": "", "note": str(err)})

    if scores is not None:
        add("scorecard", "heatmap", lambda: charts.heatmap(scores, estimates=est, focus=code))
    source = trajectories if trajectories is not None else est
    for key in (indicators if len(_frames.years_of(est)) > 1 else []):  # a trajectory needs two survey years
        add("trajectories", f"trajectory-{key}",
            lambda key=key: charts.trajectory(source, place=code, indicator=key, reference=reference, width=330, height=210,
                                              notes=False))
    for key in indicators:
        add("peers", f"peers-{key}",
            lambda key=key: charts.peers(est, indicator=key, year=year, cohort=cohort, focus=code, width=300, notes=False))
    if ranks is not None:
        items = ranks.items() if isinstance(ranks, Mapping) else [(None, ranks)]
        for number, (label, ds) in enumerate(items):
            add("ranks", f"ranks-{number}", lambda ds=ds, label=label: charts.rank_set(ds, focus=code, label=label))
    if progress is not None and len(progress):
        units = _frames.units_of(est)
        for key in [k for k in indicators if k in set(progress["indicator"].astype(str))]:
            add("progress", f"progress-{key}", lambda key=key: charts.progress(
                progress, indicator=key, cohort=cohort if "cohort" in progress else None, unit=units[key], focus=code,
                title=str(_frames.labels_of(est)[key]), rule="", width=240, height=240))
    if gaps is not None:
        add("gaps", "gap", lambda: charts.gap(gaps, place=code, year=year, indicators=[
            k for k in indicators if k in set(gaps["indicator"].values.astype(str))], estimates=est, width=320))
    return figures


def write_html(path: str | os.PathLike, **inputs) -> Path:
    """Write the self-contained one-page city report, atomically.

    Parameters
    ----------
    path : path
        Output ``.html`` file.
    place : str
        Place code or name.
    estimates : xarray.Dataset
        Estimates (contract shape) for the place and its peers.
    scores : xarray.Dataset, optional
        ``Scorecard.scores``: adds the heatmap.
    ranks : xarray.Dataset or mapping of label -> Dataset, optional
        Rank intervals (``sc.rank_intervals`` / ``Scorecard.ranks()``): rank-set plots and sentences.
    progress : pandas.DataFrame, optional
        ``Scorecard.progress(...)``: statements (with ``frame.attrs["rule"]``, the multiple-comparison rule)
        and slope charts.
    trajectories : xarray.Dataset, optional
        ``cohorts.trajectories(...)`` output drawn instead of the raw estimates.
    gaps : xarray.Dataset, optional
        ``cohorts.gap(...)``: the gap small multiples.
    impact : xarray.Dataset, optional
        ``sc.office_impact(...)``: the office-impact section (the result in plain words with its caveats,
        and the event-study chart).
    coverage : pandas.DataFrame, optional
        ``Places.coverage``: how much of the city its PUMAs cover, by vintage.
    year : int, optional
        Headline year; default the latest.
    cohort, reference : str
        Focus cohort (default ``"foreign_born"``) and benchmark (``"native"``).
    indicators : sequence of str, optional
        Indicators charted; default those with a direction (``higher_is_better`` not NaN).
    title : str, optional
    draw_charts : bool, default=True
        False leaves charts out (fast; for tests of the text).

    Returns
    -------
    pathlib.Path
    """
    return atomic_write_text(path, render_html(**inputs))


def write_pdf(path: str | os.PathLike, *, html: str | os.PathLike | None = None, chromium: str | None = None,
              **inputs) -> Path:
    """The report as PDF (headless Chromium's print), atomically.

    Parameters
    ----------
    path : path
        Output ``.pdf``.
    html : path, optional
        An already written report to print; otherwise the report is rendered from ``inputs``
        (the keywords of :func:`write_html`).
    chromium : str, optional
        Browser executable (default: found on PATH or ``$SCORECARD_CHROMIUM``).
    """
    import tempfile

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="scorecard-report-") as folder:
        source = Path(html) if html is not None else write_html(Path(folder) / "report.html", **inputs)
        return atomic_write(path, lambda temporary: browser.print_pdf(source, temporary, chromium=chromium))


def write_index(path: str | os.PathLike, pages: Mapping[str, str | os.PathLike], *,
                title: str = "Immigrant integration scorecards", note: str = "",
                summary: Mapping | None = None, pdfs: Mapping[str, str | os.PathLike] | None = None) -> Path:
    """An index page linking the cities' report pages (relative links), atomically.

    Parameters
    ----------
    path : path
        Output ``index.html``.
    pages : mapping of str -> path
        Place name -> its report (HTML, or PDF) file.
    title, note : str
    summary : mapping, optional
        ``{"caption": str, "columns": [...], "rows": {place name: {column: text}}}``: a table of
        headline figures (e.g. each place's composite score and rank interval) instead of a plain list.
    pdfs : mapping of str -> path, optional
        Place name -> its PDF, linked beside the page.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> index = write_index(folder / "index.html", {"Alderport city, WA": folder / "alderport.html"})
    >>> 'href="alderport.html"' in index.read_text()
    True
    """
    path = Path(path)
    base = path.parent.resolve()
    def relative(target) -> str:
        return Path(os.path.relpath(Path(target).resolve(), base)).as_posix()

    links = [{"name": name, "href": relative(target), "pdf": relative(pdfs[name]) if pdfs and name in pdfs else ""}
             for name, target in sorted(pages.items())]
    page = _environment().get_template("index.html.j2").render(title=title, note=note, links=links, csp=CSP,
                                                               summary=summary)
    return atomic_write_text(path, page)
