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

import xarray as xr

from scorecard.cli.config import ConfigError, RunConfig, key_path, resolved_toml
from scorecard.errors import PlaceError

__all__ = ["load_estimates", "select_places", "run", "progress_bar"]


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
    codes = [str(p) for p in est["place"].values]
    labels = [str(n) for n in est["place_name"].values]
    by_name = dict(zip(labels, codes))
    found, problems = [], []
    for i, name in enumerate(names):
        if not isinstance(name, str):
            problems.append(f"{where}[{i}]: {name!r} is not a string; give a place name or Census code in quotes")
        elif name in codes:
            found.append(name)
        elif name in by_name:
            found.append(by_name[name])
        else:
            close = difflib.get_close_matches(name, labels, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
                f" (the data has {len(labels)} places, e.g. {labels[:3]})"
            problems.append(f"{where}[{i}]: {name!r} is not in the data{hint}")
    if problems:
        raise PlaceError("\n".join(problems))
    return found


def _demo_estimates(config: RunConfig, indicator_keys: list[str], echo: Callable) -> xr.Dataset:
    import scorecard as sc
    from cohorts import ArrivalCohorts

    scale = config.data["demo"]
    paths = sc.datasets.demo_paths(scale=scale)
    micro = sc.datasets.demo(scale=scale)
    echo(f"read {micro!r}")
    places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    cohorts = ArrivalCohorts.decades(config.cohorts["arrival_first"], config.cohorts["arrival_last"])
    return sc.estimate(micro, indicator_keys, places=places, cohorts=cohorts, keep_replicates=True)


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
    return sc.estimate(progress_bar(pieces, description="PUMS files", quiet=quiet), indicator_keys,
                       places=places, cohorts=cohorts, keep_replicates=True)


def load_estimates(config: RunConfig, *, echo: Callable = print, quiet: bool = False) -> xr.Dataset:
    """The estimates Dataset a config describes (tables, PUMS files with crosswalks, or the demo data)."""
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
    if config.data["tables"]:
        est = sc.read_acs_tables([str(p) for p in config.data["tables"]], indicators=keys or None)
    elif config.data["person"]:
        est = _pums_estimates(config, keys or list(indicators.BUILTIN_KEYS), echo, quiet)
    else:
        est = _demo_estimates(config, keys or list(indicators.BUILTIN_KEYS), echo)
    if keys:
        missing = [k for k in keys if k not in est["indicator"].values]
        if missing:
            raise config.error("scorecard", "indicators", f"{missing} are not in the data (it has "
                               f"{est['indicator'].values.tolist()}); add the tables that supply them")
    return est


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
    est = load_estimates(config, echo=echo, quiet=quiet)
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
    written["config"] = atomic_write_text(out / "run-config.toml", resolved_toml(
        config, extra={"places": ", ".join(places), "year": year, "cohort": cohort}))
    echo(f"estimated {est.sizes['indicator']} indicators x {est.sizes['place']} places x {est.sizes['year']} years "
         f"x {est.sizes['cohort']} cohorts in {time.perf_counter() - started:.1f} s")
    return written
