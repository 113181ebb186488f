"""The ``scorecard`` command: demo, build, indicators, ingest, estimate, report.

Exit codes: 0 done, 2 bad input (every :class:`~scorecard.errors.ScorecardError`
and every parameter error of the library, one line per problem), 1 internal
error (one line; the traceback only with ``--debug``). Progress bars show on a
terminal for long reads and estimation, and never with ``--quiet`` or when the
output is not a terminal.

Examples
--------
>>> parser = build_parser()
>>> parser.parse_args(["demo", "--output", "out"]).output
'out'
>>> parser.parse_args(["build", "run.toml", "--quiet"]).quiet
True
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from scorecard.errors import MessageError

__all__ = ["main", "build_parser", "run_demo", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_INTERNAL"]

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def run_demo(output: str | Path, *, scale: str = "demo", refresh: bool = False, echo=print, reports: bool = True,
             quiet: bool = False) -> dict[str, Path]:
    """Build the demo on the embedded synthetic data (see :func:`scorecard.pipeline.run_demo`)."""
    from scorecard.pipeline import run_demo as pipeline_demo

    written = pipeline_demo(output, scale=scale, refresh=refresh, reports=reports, echo=echo, quiet=quiet)
    for kind, path in written.items():
        if not kind.startswith(("estimates", "scorecard", "index")):
            continue
        echo(f"wrote {kind}: {Path(path).resolve()}")
    if "index" in written:
        print(f"\nOpen the demo scorecards: {Path(written['index']).resolve()}")
    return written


# --- commands -----------------------------------------------------------------------------------------


def _indicators(args) -> int:
    import indicators

    table = indicators.available()[["label", "domain", "statistic", "weight", "higher_is_better", "universe", "measure"]]
    with pd.option_context("display.max_colwidth", 60, "display.width", 220):
        print(table.to_string())
    return EXIT_OK


def _demo(args) -> int:
    run_demo(args.output, scale=args.scale, refresh=args.refresh, echo=_echo(args), reports=not args.no_reports,
             quiet=args.quiet)
    return EXIT_OK


def _build(args) -> int:
    from scorecard.cli.config import load_config
    from scorecard.pipeline import run

    config = load_config(args.config)
    written = run(config, echo=_echo(args), quiet=args.quiet)
    for kind, path in written.items():
        print(f"wrote {kind}: {Path(path).resolve()}")
    return EXIT_OK


def _ingest_one(person: str, housing: str | None, survey: str | None, cache_dir: str | None):
    """Read one file pair into the cache (in a worker process with --jobs): its report and the warnings raised."""
    import scorecard as sc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        micro = sc.read_acs_pums(person, housing, survey=survey, cache_dir=cache_dir)
    report = micro.report.to_frame().assign(cache=micro.attrs.get("cache", ""))
    return report, [(w.category, str(w.message)) for w in caught]


def _ingest(args) -> int:
    from scorecard.pipeline import progress_bar

    person = list(args.person)
    housing = list(args.housing) if args.housing else [None] * len(person)
    if len(housing) != len(person):
        raise _usage(f"--housing: {len(housing)} files for {len(person)} person files; give one housing file per "
                     "person file, in the same order")
    if args.jobs < 1:
        raise _usage(f"--jobs: {args.jobs}; give 1 or more worker processes")
    cache_dir = args.cache_dir or None
    pairs = list(zip(person, housing))
    if args.jobs == 1 or len(pairs) == 1:
        results = [_ingest_one(p, h, args.survey, cache_dir)
                   for p, h in progress_bar(pairs, description="ingest", quiet=args.quiet)]
    else:  # one file pair per task; the table keeps the order of the files given
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(args.jobs, len(pairs))) as pool:
            futures = [pool.submit(_ingest_one, p, h, args.survey, cache_dir) for p, h in pairs]
            results = [future.result() for future in progress_bar(futures, description="ingest", quiet=args.quiet)]
    for _, caught in results:
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
    table = pd.concat([report for report, _ in results], ignore_index=True)
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(table.to_string(index=False))
    return EXIT_OK


def _estimate(args) -> int:
    import indicators
    import scorecard as sc
    from cohorts import ArrivalCohorts
    from scorecard.output import write_estimates
    from scorecard.pipeline import progress_bar

    keys = args.indicators.split(",") if args.indicators else list(indicators.BUILTIN_KEYS)
    if args.tables:
        est = sc.read_acs_tables(args.tables, indicators=keys if args.indicators else None)
    else:
        if not args.person:
            raise _usage("give --tables FILES, or --person FILES (with --housing and --crosswalk)")
        if not args.crosswalk:
            raise _usage("--crosswalk: PUMS files need a Geocorr PUMA-to-place crosswalk to make places")
        housing = args.housing or [None] * len(args.person)
        if len(housing) != len(args.person):
            raise _usage(f"--housing: {len(housing)} files for {len(args.person)} person files")
        places = sc.Places.from_crosswalk(args.crosswalk, places=args.places.split(",") if args.places else None)
        pieces = [(lambda p=p, h=h: sc.read_acs_pums(p, h, survey=args.survey)) for p, h in zip(args.person, housing)]
        first, last = (int(x) for x in args.arrival.split(":"))
        est = sc.estimate(progress_bar(pieces, description="PUMS files", quiet=args.quiet), keys, places=places,
                          cohorts=ArrivalCohorts.decades(first, last), quantile=args.quantile)
    out = Path(args.out)
    if out.suffix == ".csv":
        from scorecard.atomic import atomic_write

        atomic_write(out, lambda p: sc.to_frame(est).to_csv(p, index=False))
        written = {"csv": out}
    elif out.suffix == ".nc":
        from scorecard.atomic import atomic_write

        written = {"netcdf": atomic_write(out, lambda p: est.to_netcdf(p))}
    else:
        written = write_estimates(est, out)
    for kind, path in written.items():
        print(f"wrote {kind}: {Path(path).resolve()}")
    return EXIT_OK


class UsageError(MessageError, ValueError):
    """Command-line arguments that do not fit together."""


def _report(args) -> int:
    import xarray as xr

    import scorecard as sc
    from scorecard.pipeline import select_places, write_reports

    path = Path(args.estimates)
    if not path.is_file():
        raise _usage(f"{path}: no such file; give the estimates.nc that 'scorecard build' or "
                     "'scorecard estimate --out estimates.nc' wrote")
    try:
        with xr.open_dataset(path) as opened:
            est = sc.validate_estimates(opened.load())
    except (OSError, ValueError) as err:
        if isinstance(err, sc.ScorecardError):
            raise
        raise _usage(f"{path}: not an estimates NetCDF file ({err})") from None
    places = select_places(est, args.places.split("|"), where="--places") if args.places else None
    focus = select_places(est, [args.focus], where="--focus")[0] if args.focus else None
    year = args.year or int(est["year"].max())
    card = sc.Scorecard(est, year=year, cohort=args.cohort, places=places, focus=focus, method=args.method)
    out = Path(args.out)
    card.to_csv(out / "scorecard.csv")
    formats = ["html", "png"] + (["pdf"] if args.pdf else [])
    written = write_reports(card, out, places=[focus] if focus else card.places, formats=formats,
                            progress_from=args.progress_from, echo=_echo(args), quiet=args.quiet)
    print(f"wrote {len(written)} files; open {Path(written['index']).resolve()}")
    return EXIT_OK


def _usage(message: str) -> UsageError:
    return UsageError(message)


def _echo(args) -> Callable:
    return (lambda *a, **k: None) if getattr(args, "quiet", False) else print


def build_parser() -> argparse.ArgumentParser:
    """The ``scorecard`` argument parser."""
    parser = argparse.ArgumentParser(prog="scorecard", description="Immigrant-integration scorecards for cities.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--quiet", action="store_true", help="no progress bars or messages")
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error")
        sub.set_defaults(run=run)
        return sub

    demo = command("demo", _demo, "build the demo on the embedded synthetic data")
    demo.add_argument("--output", default="scorecard-demo", help="folder for the files written (default: scorecard-demo)")
    demo.add_argument("--no-reports", action="store_true", help="estimates and scores only, no HTML/PDF/PNG reports")
    demo.add_argument("--scale", default="demo", choices=["demo", "small"], help="size of the synthetic data")
    demo.add_argument("--refresh", action="store_true", help="regenerate the synthetic files")

    build = command("build", _build, "run one reproducible config (TOML): data -> estimates -> scorecard -> report")
    build.add_argument("config", help="the run config, e.g. boston.toml (keys: docs/cli.md)")

    command("indicators", _indicators, "list the registered indicators")

    ingest = command("ingest", _ingest, "read ACS PUMS files into the Parquet cache and count kept and dropped records")
    ingest.add_argument("person", nargs="+", help="person files (csv, csv.gz, Census zip)")
    ingest.add_argument("--housing", nargs="+", help="housing files, one per person file, same order")
    ingest.add_argument("--survey", choices=["acs1", "acs5"], help="when the file names do not say it")
    ingest.add_argument("--cache-dir", help="cache folder (default: $SCORECARD_CACHE_DIR or ~/.cache)")
    ingest.add_argument("--jobs", type=int, default=1,
                        help="file pairs read at once, each in its own process (default 1; memory grows with it)")

    report = command("report", _report, "scorecard and reports from an estimates NetCDF file (from build or estimate)")
    report.add_argument("estimates", help="estimates.nc written by 'scorecard build' or 'scorecard estimate'")
    report.add_argument("--focus", help="the city the report is about (name or code); default: every place")
    report.add_argument("--places", help="peer places, separated by | (default: every place in the file)")
    report.add_argument("--year", type=int, help="survey year of the card (default: the latest)")
    report.add_argument("--cohort", default="foreign_born", help="cohort scored (default foreign_born)")
    report.add_argument("--method", default="minmax", help="scoring method (default minmax)")
    report.add_argument("--progress-from", type=int, help="earlier year of the progress statements")
    report.add_argument("--pdf", action="store_true", help="also print each report to PDF (headless Chromium)")
    report.add_argument("--out", default="scorecard-report", help="output folder (default scorecard-report)")

    estimate = command("estimate", _estimate, "estimate indicators by place, year and cohort and write a table")
    estimate.add_argument("--tables", nargs="+", help="published ACS tables (data.census.gov downloads or API files)")
    estimate.add_argument("--person", nargs="+", help="ACS PUMS person files")
    estimate.add_argument("--housing", nargs="+", help="ACS PUMS housing files, one per person file")
    estimate.add_argument("--crosswalk", nargs="+", help="Geocorr PUMA-to-place crosswalks (one per PUMA vintage)")
    estimate.add_argument("--places", help="comma-separated place names or codes (default: all in the crosswalk)")
    estimate.add_argument("--indicators", help="comma-separated indicator keys (default: every built-in)")
    estimate.add_argument("--arrival", default="1970:2020", help="arrival decades FIRST:LAST (default 1970:2020)")
    estimate.add_argument("--quantile", type=float, default=0.5, help="quantile of 'median' indicators (default 0.5)")
    estimate.add_argument("--survey", choices=["acs1", "acs5"], help="when the file names do not say it")
    estimate.add_argument("--out", required=True, help="table.csv, estimates.nc, or a folder (csv + parquet + json)")
    return parser


def _one_line_each(message: str) -> list[str]:
    return [line.strip(" -") for line in str(message).splitlines() if line.strip(" -")]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scorecard`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(args, debug)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line each on stderr (they carry record accounting and caveats), never a source line."""
    for text in _one_line_each(str(message)):
        print(f"warning: {text}", file=sys.stderr)


def _run(args, debug: bool) -> int:
    from scorecard.errors import ScorecardError

    try:
        return args.run(args)
    except (ScorecardError, ValueError, KeyError, FileNotFoundError) as exc:
        if debug:
            traceback.print_exc()
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args and not isinstance(exc, ScorecardError) else exc
        for line in _one_line_each(str(message)):
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # the last line of defence: one line, exit 1
        if debug:
            traceback.print_exc()
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback and "
              "report it with the command you ran", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
