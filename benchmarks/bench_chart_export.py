"""vl-convert's time per chart on one demo city report's charts, in this Python and optionally others (e.g. another
vl-convert version), one run.

Usage::

    python benchmarks/bench_chart_export.py [--compare /path/to/other/venv/bin/python ...] [--repeat 3]

Writes the Vega-Lite specifications of the first demo city's report (the charts
``make demo`` draws) to a temporary JSON file, then each interpreter times
``vegalite_to_svg`` on every specification (``--repeat`` times, after one
warm-up conversion) and ``vegalite_to_png`` at scale 2 once. The other
interpreter needs only ``vl-convert-python``. Prints one line per interpreter
and the ratios to the first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_TIMER = r"""
import json, logging, re, statistics, sys, time
logging.getLogger("vl_convert").setLevel(logging.ERROR)
logging.getLogger("tiny_skia").setLevel(logging.ERROR)
import vl_convert as vlc
from importlib.metadata import version
specs = list(json.load(open(sys.argv[1])).values())
repeat = int(sys.argv[2])
def vl(spec):
    found = re.search(r"/v(\d+)\.(\d+)", spec.get("$schema", ""))
    wanted = f"{found.group(1)}.{found.group(2)}"
    return wanted if wanted in vlc.get_vegalite_versions() else vlc.get_vegalite_versions()[-1]
vlc.vegalite_to_svg(specs[0], vl_version=vl(specs[0]))
svg, png = [], []
for _ in range(repeat):
    for spec in specs:
        tick = time.perf_counter(); vlc.vegalite_to_svg(spec, vl_version=vl(spec)); svg.append(time.perf_counter() - tick)
for spec in specs:
    tick = time.perf_counter(); vlc.vegalite_to_png(spec, vl_version=vl(spec), scale=2); png.append(time.perf_counter() - tick)
print(json.dumps({"version": version("vl-convert-python"), "charts": len(specs),
                  "svg_mean": statistics.mean(svg), "svg_median": statistics.median(svg),
                  "png_mean": statistics.mean(png)}))
"""


def report_specs(path: Path) -> int:
    """The first demo city's report charts as {key: Vega-Lite spec}, written to ``path``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import scorecard as sc
    from cohorts import ArrivalCohorts
    from scorecard import pipeline
    from scorecard.charts import export
    from scorecard.report import html as report_html

    micro = sc.datasets.demo()
    places = sc.Places.from_crosswalk(list(sc.datasets.demo_paths()["crosswalks"].values()))
    est = sc.estimate(micro, list(pipeline.DEMO_INDICATORS), places=places,
                      cohorts=ArrivalCohorts.decades(1970, 2020), keep_replicates=True)
    year = int(est["year"].max())
    card = sc.Scorecard(est, year=year, cohort="foreign_born", indicators=list(pipeline.DEMO_CARD))
    specs = {}
    drawn = report_html._svg

    def keep(chart, key, built):  # the report's own charts, as it draws them
        specs[key] = export.spec_of(chart)
        return drawn(chart, key, built)

    report_html._svg = keep
    try:
        report_html.render_html(**card.report_inputs(place=card.places[0], progress_from=year - 10))
    finally:
        report_html._svg = drawn
    path.write_text(json.dumps(specs))
    return len(specs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs="*", default=[], help="other Python interpreters with vl-convert-python")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        specs = Path(folder) / "specs.json"
        print(f"{report_specs(specs)} charts of one demo city report")
        results = []
        for python in [sys.executable, *args.compare]:
            done = subprocess.run([python, "-c", _TIMER, str(specs), str(args.repeat)], capture_output=True, text=True,
                                  check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = results[0]
    for result in results:
        print(f"vl-convert {result['version']:14s} SVG mean {result['svg_mean'] * 1000:5.1f} ms "
              f"(median {result['svg_median'] * 1000:5.1f}), PNG scale 2 mean {result['png_mean'] * 1000:5.1f} ms; "
              f"= {result['svg_mean'] / first['svg_mean']:.2f}x (SVG) and {result['png_mean'] / first['png_mean']:.2f}x "
              f"(PNG) the first line's time")


if __name__ == "__main__":
    main()
