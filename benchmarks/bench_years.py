"""Twenty years of national microdata streamed through ``scorecard.estimate``, locally and on dask.

Usage::

    python benchmarks/bench_years.py [--persons 3400000] [--years 20] [--files N] [--data-dir DIR]
                                     [--workers 1,2] [--skip-local]

Uses the synthetic national files of ``bench_read.py`` (same ``--persons`` and ``--data-dir``; generated
once). The harmonized cache is built once (``read_acs_pums`` with an empty cache, timed), then every
"year" is a function that loads the cache entry and labels it with one of ``--years`` survey years
(2005, 2006, ...): the same year's records under twenty labels, as issue 17 allows. ``scorecard.estimate``
takes the list of functions and reduces one year at a time (10 built-in indicators x every PUMA as a place
x 8 arrival cohorts, as in ``bench_estimate.py``).

Measured, each in its own subprocess:

* **local**: wall time, time per year (cache load, reduction), RSS after each year and the peak (flat in
  the number of years if only one year is held at a time), then ``scorecard.output.write_estimates``
  (CSV + Parquet + JSON) of the 20-year table;
* **dask**: the same call with ``client=`` on a ``LocalCluster`` of 1 and 2 single-threaded worker
  processes; each worker loads its years itself and sends back only the partial sums. Numbers are
  compared with the local run (identical, to the bit).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_estimate import INDICATORS  # noqa: E402
from bench_read import _data_dir, _ensure_files  # noqa: E402

FIRST_YEAR = 2005


@dataclass(frozen=True)
class CachedYear:
    """One survey year: the cache entry of the files, labelled ``year`` (picklable, so dask can ship it)."""

    person: tuple[str, ...]
    housing: tuple[str, ...]
    cache_dir: str
    year: int

    def __call__(self):
        import pandas as pd

        import scorecard

        started = time.perf_counter()
        micro = scorecard.read_acs_pums(list(self.person), list(self.housing), cache_dir=self.cache_dir)
        frame = micro.frame.assign(survey_year=pd.array([self.year] * len(micro.frame), dtype="Int16"))
        LOG.append(("read", self.year, started, time.perf_counter(), _rss_mb()))
        return replace(micro, frame=frame)


LOG: list[tuple] = []


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _places(person: list[str], housing: list[str], cache_dir: str):
    import pandas as pd

    import scorecard

    frame = scorecard.read_acs_pums(person, housing, cache_dir=cache_dir).frame
    pumas = frame[["state", "puma", "puma_vintage"]].drop_duplicates().astype(str).sort_values(["state", "puma"])
    return scorecard.Places.from_pumas(pd.DataFrame({"place": (pumas["state"] + pumas["puma"]).to_numpy(),
                                                     "state": pumas["state"].to_numpy(), "puma": pumas["puma"].to_numpy(),
                                                     "puma_vintage": pumas["puma_vintage"].astype(int).to_numpy()}))


def _run(mode: str, person: list[str], housing: list[str], cache_dir: str, years: int, out: str) -> dict:
    """Body of one child: estimate over the years (locally or on a LocalCluster of ``mode`` workers)."""
    import numpy as np

    import scorecard
    from cohorts import ArrivalCohorts
    from scorecard.output import write_estimates

    places = _places(person, housing, cache_dir)
    cohorts = ArrivalCohorts.decades(1970, 2020)
    pieces = [CachedYear(tuple(person), tuple(housing), cache_dir, FIRST_YEAR + i) for i in range(years)]
    result: dict = {"mode": mode, "years": years, "places": len(places.ids)}
    rss_before = _rss_mb()
    started = time.perf_counter()
    if mode == "local":
        est = scorecard.estimate(pieces, list(INDICATORS), places=places, cohorts=cohorts)
    else:
        from dask import distributed

        with distributed.LocalCluster(n_workers=int(mode), threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            cluster_started = time.perf_counter()
            est = scorecard.estimate(pieces, list(INDICATORS), places=places, cohorts=cohorts, client=client)
            result["cluster_start_seconds"] = cluster_started - started
            started = cluster_started
    result["seconds"] = time.perf_counter() - started
    result["rss_before_mb"], result["peak_mb"] = rss_before, _peak_mb()
    if LOG:
        result["per_year"] = [{"year": y, "read": b - a, "rss_mb": rss} for _, y, a, b, rss in LOG]
        starts = [a for _, _, a, _, _ in LOG[1:]] + [started + result["seconds"]]
        for entry, (_, _, _, read_end, _), next_start in zip(result["per_year"], LOG, starts):
            entry["reduce"] = next_start - read_end  # until the next year's read begins (the last: with finalize)
    values = {v: est[v].values for v in ("estimate", "se")}
    np.savez(Path(out) / f"numbers-{mode}.npz", **values)
    if mode == "local":
        written = time.perf_counter()
        table = scorecard.to_frame(est)
        result["to_frame_seconds"] = time.perf_counter() - written
        result["rows"] = len(table)
        written = time.perf_counter()
        paths = write_estimates(est, Path(out) / "tables")
        result["write_seconds"] = time.perf_counter() - written
        result["written_mb"] = {k: Path(p).stat().st_size / 2**20 for k, p in paths.items()}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3_400_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--files", type=int, help="use only the first N person/housing files")
    parser.add_argument("--data-dir")
    parser.add_argument("--workers", default="1,2", help="dask worker counts to time ('' for none)")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--person-files", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--housing-files", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        result = _run(args.run, args.person_files, args.housing_files, args.cache_dir, args.years, args.out)
        print(json.dumps(result))
        return 0

    import numpy as np

    person, housing, _ = _ensure_files(_data_dir(args), args.persons)
    if args.files:
        person, housing = person[: args.files], housing[: args.files]
    person, housing = [str(p) for p in person], [str(h) for h in housing]
    work = Path(tempfile.mkdtemp(prefix="scorecard-bench-years-"))
    cache_dir = str(work / "cache")
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        code = "import json, sys, scorecard; scorecard.read_acs_pums(*map(json.loads, sys.argv[1:3]), cache_dir=sys.argv[3])"
        subprocess.run([sys.executable, "-c", code, json.dumps(person), json.dumps(housing), cache_dir], check=True)
        ingest = time.perf_counter() - started
        modes = ([] if args.skip_local else ["local"]) + [w for w in args.workers.split(",") if w]
        results = {}
        for mode in modes:
            command = [sys.executable, __file__, "--run", mode, "--years", str(args.years), "--cache-dir", cache_dir,
                       "--out", str(work), "--person-files", *person, "--housing-files", *housing]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{mode}: failed\n{done.stderr[-3000:]}")
                continue
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        load_after = os.getloadavg()[0]
        rows = sum(1 for _ in open(person[0])) - 1 + sum(sum(1 for _ in open(p)) - 1 for p in person[1:])
        print(f"{args.years} years x {rows:,} persons (the same national records under {args.years} year labels), "
              f"{len(INDICATORS)} indicators x every PUMA x 8 cohorts; {os.cpu_count()} CPUs, load average "
              f"{load_before:.2f} before, {load_after:.2f} after")
        print(f"building the cache once (read_acs_pums, person + housing, cold): {ingest:.1f} s")
        for mode, r in results.items():
            label = "local (one process, pieces one at a time)" if mode == "local" else f"dask LocalCluster, {mode} worker(s)"
            extra = f", cluster start {r['cluster_start_seconds']:.1f} s not included" if "cluster_start_seconds" in r else ""
            print(f"{label:46} {r['seconds']:8.1f} s  = {r['seconds'] / args.years:6.2f} s per year{extra}; "
                  f"client peak RSS {r['peak_mb']:,.0f} MB")
            if "per_year" in r:
                rss = [e["rss_mb"] for e in r["per_year"]]
                read = np.median([e["read"] for e in r["per_year"]])
                reduce = np.median([e["reduce"] for e in r["per_year"]])
                print(f"  per year (median): load the cache {read:.2f} s, reduce {reduce:.2f} s; RSS after loading year "
                      f"1 / {min(5, len(rss))} / {len(rss)}: {rss[0]:,.0f} / {rss[min(5, len(rss)) - 1]:,.0f} / {rss[-1]:,.0f} MB "
                      f"(before the first: {r['rss_before_mb']:,.0f} MB)")
            if "write_seconds" in r:
                sizes = ", ".join(f"{k} {v:,.0f} MB" for k, v in r["written_mb"].items())
                print(f"  tidy table: {r['rows']:,} rows; to_frame {r['to_frame_seconds']:.1f} s; write_estimates "
                      f"(CSV + Parquet + JSON) {r['write_seconds']:.1f} s ({sizes})")
        if "local" in results:
            local = np.load(work / "numbers-local.npz")
            for mode in results:
                if mode == "local":
                    continue
                other = np.load(work / f"numbers-{mode}.npz")
                same = all(np.array_equal(local[v], other[v], equal_nan=True) for v in ("estimate", "se"))
                print(f"dask {mode} worker(s) vs local: estimate and se {'identical' if same else 'DIFFER'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
