"""Time reading a national-size ACS PUMS person file: scorecard vs pandas.

Usage::

    python benchmarks/bench_read.py [--persons 3400000] [--data-dir DIR] [--housing]

Generates the synthetic national person files once (``write_national``; cached
in ``DIR``, default ``$SCORECARD_CACHE_DIR`` or ``~/.cache/integration-scorecard``
then ``bench-national-<persons>``), then runs each variant in its own
subprocess and reports wall seconds, CSV MB/s and peak memory (``ru_maxrss``
of the finished child, read with ``resource.getrusage(RUSAGE_CHILDREN)`` in a
wrapper process that runs nothing else):

a. ``scorecard.read_acs_pums`` from CSV with an empty Parquet cache (cold),
b. the same call again (Parquet cache hit),
c. ``pandas.read_csv`` of the same columns (``usecols``, codes as ``str``).

Ratios are computed from the timings of this one run. Not part of the test suite.
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
from pathlib import Path

# Columns the harmonized reader needs from a 2023 person file (codes as str, numbers as float).
CODE_COLUMNS = ["SERIALNO", "ST", "PUMA"]
NUMBER_COLUMNS = ["SPORDER", "ADJINC", "AGEP", "SEX", "RELSHIPP", "NATIVITY", "CIT", "YOEP", "LANX", "ENG",
                  "POVPIP", "PINCP", "PERNP", "WKHP", "WKWN", "PWGTP"] + [f"PWGTP{r}" for r in range(1, 81)]


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    base = os.environ.get("SCORECARD_CACHE_DIR") or Path.home() / ".cache" / "integration-scorecard"
    return Path(base) / f"bench-national-{args.persons}"


def _ensure_files(folder: Path, persons: int) -> tuple[list[Path], list[Path], float]:
    stamp = folder / "done.json"
    if stamp.exists():
        info = json.loads(stamp.read_text())
        return [Path(p) for p in info["person"]], [Path(p) for p in info["housing"]], info["seconds"]
    from scorecard.datasets import write_national

    started = time.perf_counter()
    person, housing = write_national(folder, persons=persons)
    seconds = time.perf_counter() - started
    stamp.write_text(json.dumps({"person": [str(p) for p in person], "housing": [str(p) for p in housing],
                                 "seconds": seconds}))
    return person, housing, seconds


def _run_variant(variant: str, person: list[str], housing: list[str], cache_dir: str) -> None:
    """Body of one measured child: time one read and print the seconds as JSON."""
    if variant == "pandas":
        import pandas as pd

        started = time.perf_counter()
        frames = [pd.read_csv(p, usecols=CODE_COLUMNS + NUMBER_COLUMNS, dtype={c: str for c in CODE_COLUMNS})
                  for p in person]
        rows = sum(len(f) for f in frames)
    else:
        import scorecard

        started = time.perf_counter()
        micro = scorecard.read_acs_pums(person=person, housing=housing or None, cache_dir=cache_dir)
        rows = len(micro)
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


def _measure(variant: str, person: list[str], housing: list[str], cache_dir: str) -> None:
    """Run the variant in a child and report its timing and peak RSS (RUSAGE_CHILDREN)."""
    command = [sys.executable, __file__, "--run", variant, "--cache-dir", cache_dir,
               "--person-files", *person, "--housing-files", *housing]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(json.dumps({"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}))
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kB
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3_400_000)
    parser.add_argument("--data-dir")
    parser.add_argument("--housing", action="store_true", help="also read the housing files with scorecard")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("--person-files", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--housing-files", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        _run_variant(args.run, args.person_files, args.housing_files, args.cache_dir)
        return 0
    if args.measure:
        _measure(args.measure, args.person_files, args.housing_files, args.cache_dir)
        return 0

    folder = _data_dir(args)
    person, housing, generate_seconds = _ensure_files(folder, args.persons)
    csv_mb = sum(p.stat().st_size for p in person) / 2**20
    housing_args = [str(h) for h in housing] if args.housing else []
    csv_mb += sum(h.stat().st_size for h in housing) / 2**20 if args.housing else 0
    cache_dir = tempfile.mkdtemp(prefix="scorecard-bench-cache-")
    rows = {}
    try:
        for label, variant in (("scorecard, CSV (cold cache)", "scorecard"), ("scorecard, Parquet cache hit", "scorecard"),
                               ("pandas.read_csv, usecols", "pandas")):
            command = [sys.executable, __file__, "--measure", variant, "--cache-dir", cache_dir,
                       "--person-files", *map(str, person), "--housing-files", *housing_args]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows[label] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    print(f"national synthetic PUMS: {args.persons:,} persons requested, {csv_mb:,.0f} MB of CSV read "
          f"({len(person)} person files{' + housing' if args.housing else ''}); generation {generate_seconds:.1f} s "
          f"(cached in {folder})")
    print(f"{'variant':32} {'rows':>10} {'seconds':>9} {'MB/s':>8} {'peak MB':>9}")
    for label, r in rows.items():
        if "error" in r:
            print(f"{label:32} failed: {r['error']}")
            continue
        print(f"{label:32} {r['rows']:>10,} {r['seconds']:>9.2f} {csv_mb / r['seconds']:>8.0f} {r['peak_mb']:>9.0f}")
    ok = [k for k, r in rows.items() if "error" not in r]
    if len(ok) == 3:
        cold, warm, pandas = (rows[k]["seconds"] for k in rows)
        print(f"ratios (same run): cold / pandas = {cold / pandas:.2f}, pandas / cache hit = {pandas / warm:.1f}, "
              f"cold / cache hit = {cold / warm:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
