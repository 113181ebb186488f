"""Command line: ``scorecard demo``, ``scorecard indicators``.

Examples
--------
>>> parser = build_parser()
>>> parser.parse_args(["demo", "--output", "out"]).output
'out'
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["main", "build_parser", "run_demo"]


def run_demo(output: str | Path, *, scale: str = "demo", refresh: bool = False, echo=print) -> dict[str, Path]:
    """Build the demo estimates on the embedded synthetic data and write them to ``output``.

    Runs the whole pipeline that exists: synthetic ACS PUMS files -> reader ->
    harmonized microdata -> places from the Geocorr-format crosswalks ->
    every built-in indicator by place, survey year and arrival cohort with
    replicate-weight SEs -> tidy files.

    Returns
    -------
    dict
        Kind -> path of each file written.
    """
    import indicators
    import scorecard as sc
    from cohorts import ArrivalCohorts
    from scorecard.output import write_estimates

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
    keys = [k for k in indicators.BUILTIN_KEYS]
    est = sc.estimate(micro, keys, places=places, cohorts=ArrivalCohorts.decades(1970, 2020))
    written = write_estimates(est, output)
    _print_summary(est, echo)
    echo(f"\nEstimated {len(keys)} indicators x {est.sizes['place']} places x {est.sizes['year']} years x "
         f"{est.sizes['cohort']} cohorts in {time.perf_counter() - started:.1f} s.")
    for kind, path in written.items():
        echo(f"wrote {kind}: {Path(path).resolve()}")
    return written


def _print_summary(est, echo) -> None:
    latest = int(est["year"].max())
    keys = [k for k in ("english_very_well", "naturalized", "homeownership", "above_200pct_poverty") if k in est["indicator"]]
    cell = est.sel(year=latest, cohort="foreign_born", indicator=keys)
    rows = []
    for place in cell["place"].values:
        row = {"place": str(cell["place_name"].sel(place=place).values)}
        for key in keys:
            value = cell.sel(place=place, indicator=key)
            row[key] = f"{100 * float(value['estimate']):.1f} ± {100 * float(value['moe90']):.1f} ({value['reliable'].values})"
        rows.append(row)
    echo(f"\nForeign-born residents, {latest} (percent ± 90% MOE, reliability):")
    echo(pd.DataFrame(rows).to_string(index=False))


def _indicators(args) -> int:
    import indicators

    table = indicators.available()[["label", "domain", "statistic", "weight", "universe", "measure"]]
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(table.to_string())
    return 0


def _demo(args) -> int:
    run_demo(args.output, scale=args.scale, refresh=args.refresh)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``scorecard`` argument parser."""
    parser = argparse.ArgumentParser(prog="scorecard", description="Immigrant-integration scorecards for cities.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="build the demo on the embedded synthetic data")
    demo.add_argument("--output", default="demo-output", help="folder for the files written (default: demo-output)")
    demo.add_argument("--scale", default="demo", choices=["demo", "small"], help="size of the synthetic data")
    demo.add_argument("--refresh", action="store_true", help="regenerate the synthetic files")
    demo.set_defaults(run=_demo)
    listing = commands.add_parser("indicators", help="list the registered indicators")
    listing.set_defaults(run=_indicators)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scorecard`` command."""
    from scorecard.errors import ScorecardError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ScorecardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
