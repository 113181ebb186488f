"""One run from a config: sources -> estimates -> scorecard -> outputs.

The CLI calls only this module. Each step is a function of the validated
:class:`~scorecard.cli.config.RunConfig`, so a notebook can run the same steps:

1. :func:`load_estimates`: the estimates Dataset from published tables, ACS
   PUMS files with a crosswalk, or the embedded demo data;
2. :func:`select_places`: the config's place names or codes, matched against
   the data (an unknown name is an error naming its key path, with the
   closest names in the data);
3. :func:`run`: writes the estimates, the scorecard and the report, and the
   resolved config beside them.

Examples
--------
>>> import pandas as pd, scorecard as sc
>>> est = sc.estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": ["2507000", "2537000"],
...     "place_name": ["Boston city, Massachusetts", "Lowell city, Massachusetts"], "year": 2024,
...     "estimate": [0.54, 0.47], "moe90": [0.02, 0.03]}), survey="acs5")
>>> select_places(est, ["Lowell city, Massachusetts", "2507000"])
['2537000', '2507000']
"""

from __future__ import annotations

import difflib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from scorecard.cli.config import ConfigError, RunConfig, key_path, resolved_toml
from scorecard.errors import ChartError, PlaceError, ScoringError

__all__ = ["load_estimates", "select_places", "run", "progress_bar", "write_reports", "run_demo", "slug"]

#: Charts written as PNG beside each city's report: (file stem, kind, options).
REPORT_CHARTS = (
    ("scorecard-heatmap", "heatmap", {}),
    ("rank-set", "rank_set", {}),
    ("peers", "peers", {}),
)


def progress_bar(items: Sequence, *, description: str, quiet: bool = False):
    """``tqdm`` over ``items`` on a terminal; the items unchanged when quiet or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="file", leave=False)


def select_places(est: xr.Dataset, names: Sequence[str], *, where: str = "places") -> list[str]:
    """Place codes of ``names`` (codes or names as in the Dataset's ``place_name``), in the order given.

    Raises
    ------
    PlaceError
        Naming every name not in the data, each with the closest names that are.
    """
    from scorecard.scoring._select import match_places

    labels = [str(n) for n in est["place_name"].values]
    found, unknown = match_places(est, names)
    problems = []
    for i, name in unknown:
        if not isinstance(name, str):
            problems.append(f"{where}[{i}]: {name!r} is not a string; give a place name or Census code in quotes")
            continue
        close = difflib.get_close_matches(name, labels, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
            f" (the data has {len(labels)} places, e.g. {labels[:3]})"
        problems.append(f"{where}[{i}]: {name!r} is not in the data{hint}")
    if problems:
        raise PlaceError("\n".join(problems))
    return found


def slug(name: str) -> str:
    """A file-name-safe form of a place name.

    Examples
    --------
    >>> slug("Brisaleña city, TX")
    'brisalena-city-tx'
    """
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "place"


def write_reports(
    card,
    out: Path,
    *,
    places: Sequence[str],
    formats: Sequence[str] = ("html", "pdf", "png"),
    progress_from: int | None = None,
    coverage=None,
    echo: Callable = print,
    quiet: bool = False,
    title: str = "Immigrant integration scorecards",
    note: str = "",
) -> dict[str, Path]:
    """Each place's one-page report (HTML, PDF) and its charts (PNG), and an index page linking them.

    Headless Chromium prints each PDF in a background thread while the next page and its charts are built
    (a subprocess that mostly leaves Python waiting); one printer at a time, so at most one browser runs.
    A failure in either is raised here, after the other work has stopped.

    Returns kind -> path of every file written (``index`` is the index page).
    """
    from concurrent.futures import ThreadPoolExecutor

    from scorecard.charts import save
    from scorecard.report import write_html, write_index, write_pdf

    written: dict[str, Path] = {}
    pages: dict[str, Path] = {}
    printing: dict[str, object] = {}  # place name -> Future of its PDF
    names = dict(zip(card.scores["place"].values.tolist(), card.scores["place_name"].values.astype(str)))
    timings: dict[str, float] = {"html": 0.0, "pdf": 0.0, "png": 0.0}
    skipped: dict[str, str] = {}

    def print_pdf(path: Path, **options) -> Path:
        started = time.perf_counter()
        try:
            return write_pdf(path, **options)
        finally:
            timings["pdf"] += time.perf_counter() - started

    run_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scorecard-pdf") as printer:
        try:
            for code in progress_bar(list(places), description="reports", quiet=quiet):
                for future in printing.values():  # a PDF that failed stops the run now, not after every page
                    if future.done() and future.exception() is not None:
                        raise future.exception()
                name = names.get(code, code)
                folder = out / slug(name)
                started = time.perf_counter()
                inputs = card.report_inputs(place=code, progress_from=progress_from)
                if coverage is not None:
                    inputs["coverage"] = coverage
                if "html" in formats:
                    pages[name] = written[f"{slug(name)}_html"] = write_html(folder / "report.html", **inputs)
                    timings["html"] += time.perf_counter() - started
                if "pdf" in formats:
                    printing[name] = printer.submit(print_pdf, folder / "report.pdf",
                                                    **({"html": pages[name]} if name in pages else inputs))
                if "png" in formats:
                    started = time.perf_counter()
                    charts_wanted = [(stem, kind, options) for stem, kind, options in REPORT_CHARTS]
                    if card.estimates_all_years().sizes["year"] > 1:  # trajectories need more than one survey year
                        charts_wanted += [(f"trajectory-{key}", "trajectory", {"indicator": key})
                                          for key in card.indicators[:2]]
                    for stem, kind, options in charts_wanted:
                        try:
                            chart = card.chart(kind, place=code, **options)
                        except (ScoringError, ChartError) as err:  # e.g. fewer than 3 composites to rank
                            skipped.setdefault(stem, str(err))
                            continue
                        written[f"{slug(name)}_{stem}"] = save(chart, folder / "charts" / f"{stem}.png")
                    timings["png"] += time.perf_counter() - started
        except BaseException:
            for future in printing.values():
                future.cancel()
            raise
        for name, future in printing.items():  # in place order; the first failure is raised
            written[f"{slug(name)}_pdf"] = future.result()
            pages.setdefault(name, written[f"{slug(name)}_pdf"])
    for stem, why in skipped.items():
        echo(f"note: no {stem} chart: {why}")
    if pages:
        pdfs = {name: written[f"{slug(name)}_pdf"] for name in pages if f"{slug(name)}_pdf" in written}
        written["index"] = write_index(out / "index.html", pages, title=title, note=note, summary=_summary(card),
                                       pdfs=pdfs)
    parts = [f"{kind} {seconds:.1f}" + (" (printed alongside)" if kind == "pdf" else "")
             for kind, seconds in timings.items() if seconds]
    echo(f"report seconds: {', '.join(parts)}; {time.perf_counter() - run_started:.1f} s in all")
    return written


def _summary(card) -> dict:
    """The index page's table: each place's composite score (90% bounds) and rank interval."""
    scores = card.scores
    try:
        ranks = card.ranks()
        statements = dict(zip(ranks["place"].values.tolist(), ranks["statement"].values.astype(str)))
    except ScoringError:
        statements = {}
    rows = {}
    for i, code in enumerate(scores["place"].values.tolist()):
        value = float(scores["composite"].values[i])
        lower, upper = float(scores["composite_lower"].values[i]), float(scores["composite_upper"].values[i])
        rows[str(scores["place_name"].values[i])] = {
            "Composite score (90% bounds)": f"{value:.2f} ({lower:.2f}-{upper:.2f})" if np.isfinite(value) else
            "withheld: too many inputs missing or unreliable",
            "Rank among these places": statements.get(code, "–"),
        }
    return {"caption": f"{card.method} scores {card.scale[0]:g} (worst) to {card.scale[1]:g} (best) of the "
                       f"{card.cohort.replace('_', '-')} population, {card.year}, across "
                       f"{len(card.indicators)} indicators; ranks with 90% intervals (ties are statistical ties).",
            "columns": ["Composite score (90% bounds)", "Rank among these places"], "rows": rows}


def run_demo(output: str | Path, *, scale: str = "demo", refresh: bool = False, reports: bool = True,
             formats: Sequence[str] = ("html", "pdf", "png"), echo: Callable = print,
             quiet: bool = False) -> dict[str, Path]:
    """The demo: synthetic ACS PUMS files -> estimates -> a scorecard of the six demo cities -> their reports.

    Writes ``estimates.{csv,parquet,json,nc}``, ``scorecard.csv`` and, with ``reports``, each city's
    ``<city>/report.html``, ``report.pdf`` and ``charts/*.png``, and ``index.html``.
    """
    import warnings

    import scorecard as sc
    from cohorts import ArrivalCohorts
    from scorecard.atomic import atomic_write
    from scorecard.output import write_estimates

    out = Path(output)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = sc.datasets.demo_paths(scale=scale, refresh=refresh)
        micro = sc.datasets.demo(scale=scale)
        places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    echo(f"Read {micro!r}")
    echo(str(micro.report))
    negative = {k: n for k, n in micro.negative_replicate_weights.items() if n}
    if negative:
        echo(f"  records with a negative replicate weight (kept, as published): {negative}")
    for message in dict.fromkeys(f"{type(w.message).__name__}: {w.message}" for w in caught):
        echo(f"warning: {message}")
    est = sc.estimate(micro, list(DEMO_INDICATORS), places=places, cohorts=ArrivalCohorts.decades(1970, 2020),
                      keep_replicates=True)
    written = {f"estimates_{k}": v for k, v in write_estimates(est, out).items()}
    written["estimates_netcdf"] = atomic_write(out / "estimates.nc", lambda p: est.to_netcdf(p))
    echo(f"Estimated {est.sizes['indicator']} indicators x {est.sizes['place']} places x {est.sizes['year']} years "
         f"x {est.sizes['cohort']} cohorts in {time.perf_counter() - started:.1f} s.")
    year = int(est["year"].max())
    card = sc.Scorecard(est, year=year, cohort="foreign_born", indicators=list(DEMO_CARD))
    written["scorecard_csv"] = card.to_csv(out / "scorecard.csv")
    _print_card(card, echo)
    if reports:
        started = time.perf_counter()
        years = [int(y) for y in est["year"].values]
        progress_from = max([y for y in years if y <= year - 10] or [min(years)])  # a decade of progress
        written.update(write_reports(card, out, places=card.places, formats=formats, progress_from=progress_from,
                                     coverage=places.coverage, echo=echo, quiet=quiet,
                                     title="Immigrant integration scorecards: demo cities (synthetic data)",
                                     note="Synthetic ACS PUMS files with known truth; see docs/demo_data.md."))
        echo(f"Wrote {len(card.places)} city reports in {time.perf_counter() - started:.1f} s.")
    return written


#: Indicators the demo estimates, and those on its scorecard (one per idea: no complements).
DEMO_INDICATORS = ("english_very_well", "limited_english", "naturalized", "naturalized_among_eligible",
                   "homeownership", "above_200pct_poverty", "in_poverty", "median_household_income",
                   "median_personal_earnings", "population")
DEMO_CARD = ("english_very_well", "naturalized_among_eligible", "homeownership", "above_200pct_poverty",
             "median_household_income")


def _print_card(card, echo: Callable) -> None:
    scores = card.scores
    import pandas as pd

    rows = []
    for i, code in enumerate(scores["place"].values):
        row = {"place": str(scores["place_name"].values[i])}
        for key in card.indicators:
            value = card.estimates.sel(indicator=key, place=code).squeeze()
            estimate, moe = float(value["estimate"]), float(value["moe90"])
            unit = str(value["unit"].values)
            row[key] = (f"${estimate:,.0f} ± {moe:,.0f}" if unit == "dollars" else
                        f"{100 * estimate:.1f} ± {100 * moe:.1f}")
        lower, upper = float(scores["composite_lower"].values[i]), float(scores["composite_upper"].values[i])
        value = float(scores["composite"].values[i])
        row["composite"] = f"{value:.2f} ({lower:.2f}-{upper:.2f})" if np.isfinite(value) else \
            f"withheld ({int(scores['missing_inputs'].values[i])} inputs missing or unreliable)"
        rows.append(row)
    caveat = " (2020: experimental weights)" if bool(card.estimates["experimental_weights"].any()) else ""
    echo(f"\nForeign-born residents, {card.year}{caveat}: estimate ± 90% MOE (percent or dollars), composite "
         f"{card.method} score {card.scale[0]:g}-{card.scale[1]:g} with its 90% bounds:")
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        echo(pd.DataFrame(rows).to_string(index=False))


def _demo_estimates(config: RunConfig, indicator_keys: list[str], echo: Callable) -> xr.Dataset:
    import scorecard as sc
    from cohorts import ArrivalCohorts

    scale = config.data["demo"]
    paths = sc.datasets.demo_paths(scale=scale)
    micro = sc.datasets.demo(scale=scale)
    echo(f"read {micro!r}")
    places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    cohorts = ArrivalCohorts.decades(config.cohorts["arrival_first"], config.cohorts["arrival_last"])
    est = sc.estimate(micro, indicator_keys, places=places, cohorts=cohorts, keep_replicates=True)
    return est, places.coverage


def _pums_estimates(config: RunConfig, indicator_keys: list[str], echo: Callable, quiet: bool) -> xr.Dataset:
    import scorecard as sc
    from cohorts import ArrivalCohorts

    data = config.data
    if not data["crosswalk"]:
        raise config.error("data", "crosswalk", "PUMS files need a Geocorr PUMA-to-place crosswalk to make places; "
                           "download one per PUMA vintage (see docs/quickstart.md)")
    places = sc.Places.from_crosswalk(data["crosswalk"], places=config.places["names"] or None)
    housing = data["housing"] or [None] * len(data["person"])
    pairs = list(zip(data["person"], housing))
    survey = data["survey"] or None

    def reader(person, house):
        return lambda: sc.read_acs_pums(person, house, survey=survey)

    pieces = [reader(p, h) for p, h in pairs]
    cohorts = ArrivalCohorts.decades(config.cohorts["arrival_first"], config.cohorts["arrival_last"])
    echo(f"reading and estimating {len(pieces)} PUMS file pair(s)")
    est = sc.estimate(progress_bar(pieces, description="PUMS files", quiet=quiet), indicator_keys,
                      places=places, cohorts=cohorts, keep_replicates=True)
    return est, places.coverage


def load_estimates(config: RunConfig, *, echo: Callable = print, quiet: bool = False):
    """The estimates Dataset a config describes (tables, PUMS files with crosswalks, or the demo data).

    Returns
    -------
    (xarray.Dataset, pandas.DataFrame or None)
        The estimates, and how much of each place its PUMAs cover (``Places.coverage``; None for
        published tables, which are for the place itself).
    """
    import indicators
    import scorecard as sc

    keys = config.scorecard["indicators"]
    unknown = [k for k in keys if k not in indicators.available().index]
    for i, key in enumerate(keys):
        if key in unknown:
            close = difflib.get_close_matches(key, list(indicators.available().index), n=2)
            raise config.error("scorecard", "indicators", f"{key!r} is not a registered indicator"
                               + (f"; did you mean {' or '.join(map(repr, close))}?" if close else
                                  " (list them with: scorecard indicators)"), i)
    coverage = None
    if config.data["tables"]:
        est = sc.read_acs_tables([str(p) for p in config.data["tables"]], indicators=keys or None)
    elif config.data["person"]:
        est, coverage = _pums_estimates(config, keys or list(indicators.BUILTIN_KEYS), echo, quiet)
    else:
        est, coverage = _demo_estimates(config, keys or list(indicators.BUILTIN_KEYS), echo)
    if keys:
        missing = [k for k in keys if k not in est["indicator"].values]
        if missing:
            raise config.error("scorecard", "indicators", f"{missing} are not in the data (it has "
                               f"{est['indicator'].values.tolist()}); add the tables that supply them")
    return est, coverage


def _configured_places(config: RunConfig, est: xr.Dataset) -> list[str]:
    names = config.places["names"]
    if not names:
        return [str(p) for p in est["place"].values]
    try:
        return select_places(est, names, where=f"{config.source}: {key_path('places', 'names')}")
    except PlaceError as err:
        raise ConfigError(str(err)) from None


def run(config: RunConfig, *, echo: Callable = print, quiet: bool = False) -> dict[str, Path]:
    """Run a config end to end; return kind -> path of every file written."""
    from scorecard.atomic import atomic_write, atomic_write_text
    from scorecard.output import write_estimates

    started = time.perf_counter()
    est, coverage = load_estimates(config, echo=echo, quiet=quiet)

    places = _configured_places(config, est)
    if config.places["focus"]:
        focus = select_places(est, [config.places["focus"]], where=f"{config.source}: {key_path('places', 'focus')}")
        if focus[0] not in places:
            places = [*places, focus[0]]
    est = est.sel(place=places)
    year = config.scorecard["year"] or int(est["year"].max())
    if year not in est["year"].values:
        raise config.error("scorecard", "year", f"{year} is not in the data (years: {est['year'].values.tolist()})")
    cohort = config.scorecard["cohort"]
    if cohort not in est["cohort"].values:
        close = difflib.get_close_matches(cohort, [str(c) for c in est["cohort"].values], n=2)
        raise config.error("scorecard", "cohort", f"{cohort!r} is not in the data (cohorts: "
                           f"{est['cohort'].values.tolist()})" + (f"; did you mean {close[0]!r}?" if close else ""))
    out = config.output_dir
    formats = config.output["formats"]
    written: dict[str, Path] = {}
    if "csv" in formats or "parquet" in formats:
        files = write_estimates(est, out)
        written.update({f"estimates_{k}": v for k, v in files.items() if k in formats or k == "json"})
        for kind in ("csv", "parquet"):
            if kind not in formats and kind in files:
                os.remove(files[kind])
    if "netcdf" in formats:
        written["estimates_netcdf"] = atomic_write(out / "estimates.nc", lambda p: est.to_netcdf(p))
    echo(f"estimated {est.sizes['indicator']} indicators x {est.sizes['place']} places x {est.sizes['year']} years "
         f"x {est.sizes['cohort']} cohorts in {time.perf_counter() - started:.1f} s")
    if len(places) >= 3:
        card = _card(config, est, places, year, cohort)
        if "csv" in formats:
            written["scorecard_csv"] = card.to_csv(out / "scorecard.csv")
        if "parquet" in formats:
            written["scorecard_parquet"] = card.to_parquet(out / "scorecard.parquet")
        if "netcdf" in formats:
            written["scorecard_netcdf"] = card.to_netcdf(out / "scorecard.nc")
        report_formats = [f for f in ("html", "pdf", "png") if f in formats]
        if report_formats:
            focus = [card.focus] if card.focus else list(card.places)
            progress_from = config.scorecard["progress_from"] or None
            written.update(write_reports(card, out, places=focus, formats=report_formats, progress_from=progress_from,
                                         coverage=coverage, echo=echo, quiet=quiet))
    else:
        echo(f"note: no scorecard: it compares at least 3 places and [places].names gives {len(places)}")
    written["config"] = atomic_write_text(out / "run-config.toml", resolved_toml(
        config, extra={"places": ", ".join(places), "year": year, "cohort": cohort}))
    return written


def _card(config: RunConfig, est: xr.Dataset, places: list[str], year: int, cohort: str):
    """The Scorecard a config describes ([scorecard] keys; [places].focus)."""
    import scorecard as sc

    settings = config.scorecard
    focus = select_places(est, [config.places["focus"]])[0] if config.places["focus"] else None
    if focus is None and config.places["names"]:
        focus = places[0]
    domains = None
    if settings["domains"]:
        domains = {}
        for indicator, domain in settings["domains"].items():
            domains.setdefault(str(domain), []).append(indicator)
    try:
        return sc.Scorecard(
            est, year=year, cohort=cohort, places=places, focus=focus, method=settings["method"],
            scale=tuple(settings["scale"]), weights=settings["weights"] or None, domains=domains,
            indicators=settings["indicators"] or None, reliability=settings["reliability"],
            max_missing=None if settings["max_missing"] < 0 else settings["max_missing"],
            targets=settings["targets"] or None,
            goalposts={k: tuple(v) for k, v in settings["goalposts"].items()} or None,
        )
    except ScoringError as err:
        raise ConfigError(f"{config.source}: [scorecard]: {err}") from None
