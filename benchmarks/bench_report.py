"""Time building the six demo city reports with every chart, and chart export's (vl-convert's) share of it.

Usage::

    python benchmarks/bench_report.py [--out DIR] [--scale demo|small] [--no-pdf]

The same path as ``make demo``: the embedded synthetic PUMS files are estimated
(ten indicators, decade arrival cohorts, replicate weights kept), a Scorecard of
the six demo cities is built, and for each city its one-page report (a heatmap,
five trajectories, five peer plots, a rank set, five progress slopes, the gap
small multiples) is written, then its five PNG charts, then its PDF. Each step
is timed on its own, in sequence, so the shares add up; chart timings split
building the specification (altair) from vl-convert's SVG / PNG export.
Finally ``pipeline.write_reports`` does the whole again as ``make demo`` does
(PDFs printed by Chromium in a background thread while the next pages are
built) and its wall time is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import scorecard as sc  # noqa: E402
from cohorts import ArrivalCohorts  # noqa: E402
from scorecard import pipeline, report  # noqa: E402
from scorecard.charts import export  # noqa: E402
from scorecard.report import html as report_html  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="scorecard-reports-")))
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    micro = sc.datasets.demo(scale=args.scale)
    places = sc.Places.from_crosswalk(list(sc.datasets.demo_paths(scale=args.scale)["crosswalks"].values()))
    est = sc.estimate(micro, list(pipeline.DEMO_INDICATORS), places=places,
                      cohorts=ArrivalCohorts.decades(1970, 2020), keep_replicates=True)
    year = int(est["year"].max())
    card = sc.Scorecard(est, year=year, cohort="foreign_born", indicators=list(pipeline.DEMO_CARD))
    years = [int(y) for y in est["year"].values]
    progress_from = max([y for y in years if y <= year - 10] or [min(years)])
    print(f"read + estimate + scorecard: {time.perf_counter() - started:.2f} s ({args.scale} scale, "
          f"{est.sizes['indicator']} indicators x {est.sizes['place']} places x {est.sizes['year']} years)")
    export.to_svg(card.chart("peers"))  # vl-convert starts its JavaScript engine once per process: not a report's cost

    steps: dict[str, float] = defaultdict(float)
    svg_kind: dict[str, list[float]] = defaultdict(list)
    spec_kind: dict[str, list[float]] = defaultdict(list)
    png_spec, png_export = [], []
    pages = {}
    for code in card.places:
        name = str(card.scores["place_name"].sel(place=code).item())
        folder = args.out / pipeline.slug(name)
        tick = time.perf_counter()
        inputs = card.report_inputs(place=code, progress_from=progress_from)
        inputs["coverage"] = places.coverage
        steps["report inputs (progress, ranks, gaps)"] += time.perf_counter() - tick
        tick = time.perf_counter()
        pages[name] = report.write_html(folder / "report.html", **inputs)
        steps["HTML page"] += time.perf_counter() - tick
        for key, (building, converting) in report_html.chart_timings.items():
            svg_kind[key.split("-")[0]].append(converting)
            spec_kind[key.split("-")[0]].append(building)
        wanted = list(pipeline.REPORT_CHARTS) + [(f"trajectory-{k}", "trajectory", {"indicator": k})
                                                 for k in card.indicators[:2]]
        for stem, kind, options in wanted:
            tick = time.perf_counter()
            spec = export.spec_of(card.chart(kind, place=code, **options))
            middle = time.perf_counter()
            export.save(spec, folder / "charts" / f"{stem}.png")
            png_spec.append(middle - tick)
            png_export.append(time.perf_counter() - middle)
        steps["PNG charts"] += sum(png_spec[-len(wanted):]) + sum(png_export[-len(wanted):])
        if not args.no_pdf:
            tick = time.perf_counter()
            report.write_pdf(folder / "report.pdf", html=pages[name])
            steps["PDF (headless Chromium)"] += time.perf_counter() - tick
    svg = sum(map(sum, svg_kind.values()))
    spec = sum(map(sum, spec_kind.values()))
    charts = sum(map(len, svg_kind.values()))
    total = sum(steps.values())
    print(f"\n{len(pages)} reports, one step after another:")
    for step, seconds in steps.items():
        print(f"  {step:40s} {seconds:6.2f} s  {seconds / total:5.1%}")
    print(f"  {'all':40s} {total:6.2f} s")
    print(f"\nHTML pages: {charts} charts; specifications (altair) {spec:.2f} s, vl-convert SVG {svg:.2f} s "
          f"= {svg / steps['HTML page']:.0%} of the HTML step ({svg / max(1, charts) * 1000:.0f} ms a chart)")
    for kind in sorted(svg_kind):
        print(f"  {kind:11s} n={len(svg_kind[kind]):3d}  vl-convert median {np.median(svg_kind[kind]) * 1000:4.0f} ms"
              f" max {np.max(svg_kind[kind]) * 1000:4.0f} ms; specification median "
              f"{np.median(spec_kind[kind]) * 1000:4.0f} ms")
    print(f"PNG charts: {len(png_export)}; specifications {sum(png_spec):.2f} s, vl-convert PNG (scale 2) "
          f"{sum(png_export):.2f} s ({np.median(png_export) * 1000:.0f} ms median a chart)")
    exported = svg + sum(png_export)
    print(f"chart export (vl-convert SVG + PNG) {exported:.2f} s = {exported / total:.0%} of all steps")

    tick = time.perf_counter()
    written = pipeline.write_reports(card, args.out / "pipelined", places=card.places, progress_from=progress_from,
                                     coverage=places.coverage, quiet=True, echo=lambda line: None,
                                     formats=("html", "png") if args.no_pdf else ("html", "pdf", "png"))
    print(f"\npipeline.write_reports (as make demo, PDFs printed alongside): {time.perf_counter() - tick:.2f} s; "
          f"index: {written['index']}")


if __name__ == "__main__":
    main()
