"""Time building the six demo city reports with every chart, and vl-convert's share of it.

Usage::

    python benchmarks/bench_report.py [--out DIR] [--scale demo|small] [--pdf]

Estimates the demo data once (five indicators, decade arrival cohorts), then
for each city writes the one-page report (heatmap, four trajectories, four peer
plots, a rank set, four progress slopes, gap small multiples) and, with
``--pdf``, prints it with headless Chromium; finally the index page. Scores,
ranks, progress and gaps come from the simple builders in ``tests/chart_data.py``
until the Scorecard and the cohort engine are wired in (the chart work is the
same). Prints seconds per step and vl-convert seconds per chart kind.
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

from scorecard import report  # noqa: E402
from scorecard.report import html as report_html  # noqa: E402
from tests import chart_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="scorecard-reports-")))
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--pdf", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    est = chart_data.demo_estimates(args.scale)
    coverage = chart_data.demo_coverage(args.scale)
    year = int(est["year"].max())
    start = int(est["year"].values[-7]) if est.sizes["year"] > 6 else int(est["year"].min())
    inputs = {
        "estimates": est, "year": year, "coverage": coverage,
        "scores": chart_data.scores_like(est, year=year),
        "ranks": {"Naturalized citizens": chart_data.ranks_like(est, indicator="naturalized", year=year)},
        "progress": chart_data.progress_like(est, start=start, end=year),
        "gaps": chart_data.gap_like(est),
    }
    print(f"estimates and inputs: {time.perf_counter() - started:.2f} s ({args.scale} scale)")

    per_kind: dict[str, list[float]] = defaultdict(list)
    build_kind: dict[str, list[float]] = defaultdict(list)
    pages, html_seconds, pdf_seconds = {}, [], []
    for place, name in zip(est["place"].values, est["place_name"].values):
        slug = str(name).split(" city")[0].lower().replace("ñ", "n")
        tick = time.perf_counter()
        pages[str(name)] = report.write_html(args.out / f"{slug}.html", place=str(place), **inputs)
        html_seconds.append(time.perf_counter() - tick)
        for key, (building, converting) in report_html.chart_timings.items():
            per_kind[key.split("-")[0]].append(converting)
            build_kind[key.split("-")[0]].append(building)
        if args.pdf:
            tick = time.perf_counter()
            report.write_pdf(args.out / f"{slug}.pdf", html=pages[str(name)])
            pdf_seconds.append(time.perf_counter() - tick)
    index = report.write_index(args.out / "index.html", pages, note="Synthetic demo data; the cities do not exist.")
    total = time.perf_counter() - started
    charts = sum(len(v) for v in per_kind.values())
    convert = sum(sum(v) for v in per_kind.values())
    build = sum(sum(v) for v in build_kind.values())
    print(f"{len(pages)} reports, {charts} charts: HTML {np.sum(html_seconds):.2f} s "
          f"({np.mean(html_seconds):.2f} s a report); building chart specs {build:.2f} s, vl-convert {convert:.2f} s "
          f"({convert / max(1, charts) * 1000:.0f} ms a chart)")
    for kind in sorted(per_kind):
        seconds, building = per_kind[kind], build_kind[kind]
        print(f"  {kind:11s} n={len(seconds):3d}  vl-convert median {np.median(seconds) * 1000:5.0f} ms "
              f"max {np.max(seconds) * 1000:5.0f} ms; spec median {np.median(building) * 1000:5.0f} ms")
    if pdf_seconds:
        print(f"PDF (headless Chromium): {np.sum(pdf_seconds):.2f} s ({np.mean(pdf_seconds):.2f} s a report)")
    print(f"total {total:.2f} s; index: {index}")


if __name__ == "__main__":
    main()
