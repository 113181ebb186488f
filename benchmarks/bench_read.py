"""Time reading national-size ACS PUMS person files: scorecard vs pyarrow vs pandas.

Usage::

    python benchmarks/bench_read.py [--persons 3400000] [--files N] [--repeat R] [--data-dir DIR] [--housing]

Generates the synthetic national person files once (``write_national``; cached
in ``DIR``, default ``$SCORECARD_CACHE_DIR`` or ``~/.cache/integration-scorecard``
then ``bench-national-<persons>``), then runs each variant in its own
subprocess and reports wall seconds, CSV MB/s and peak memory (``ru_maxrss``
of the finished child, read with ``resource.getrusage(RUSAGE_CHILDREN)`` in a
wrapper process that runs nothing else):

a. ``scorecard.read_acs_pums`` from CSV with the cache off (parse, harmonize, check),
b. the same with an empty Parquet cache (cold: a. plus writing the cache),
c. the same call again (Parquet cache hit),
d. ``pyarrow.parquet.read_table`` of the cache's frame file plus ``numpy.load`` of its replicate matrices,
e. ``pyarrow.csv.read_csv`` of the whole file (every column, types inferred),
f. ``pandas.read_csv`` of the same columns (``usecols``, codes as ``str``).

The files are read once before the variants, so every variant reads them from the page cache.
``--repeat R`` runs R rounds of all variants and keeps the fastest of each (the cold read starts from an
empty cache in every round). ``--files 1`` reads only the first person file (half the persons: ``--persons 800000 --files 1`` is one
file of the size of the largest state). Ratios are computed from the timings of this one run. Not part of
the test suite.
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

import numpy as np

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
    """Body of one measured child: time one read and print the seconds as JSON.

    Each child first reads the first 2,000 records of the first file the same way, so that imports and
    first-call set-up are not timed (they are constant, and would dominate a small file).
    """
    _warm_up(variant, person[0], housing[0] if housing else None)
    extra = {}
    if variant == "pandas":
        import pandas as pd

        started = time.perf_counter()
        frames = [pd.read_csv(p, usecols=CODE_COLUMNS + NUMBER_COLUMNS, dtype={c: str for c in CODE_COLUMNS})
                  for p in person]
        rows = sum(len(f) for f in frames)
    elif variant == "pyarrow":
        import pyarrow.csv as pacsv

        started = time.perf_counter()
        rows = sum(pacsv.read_csv(p).num_rows for p in person)
    elif variant == "parquet":
        import numpy as np
        import pyarrow.parquet as pq

        frames = sorted(Path(cache_dir).glob("*.frame.parquet"))
        matrices = sorted(Path(cache_dir).glob("*_replicates.npy"))
        started = time.perf_counter()
        rows = sum(pq.read_table(f).num_rows for f in frames)
        extra["frame_seconds"] = time.perf_counter() - started
        loaded = [np.load(m) for m in matrices]
        extra["matrix_mb"] = sum(m.nbytes for m in loaded) / 2**20
    else:
        import scorecard

        started = time.perf_counter()
        micro = scorecard.read_acs_pums(person=person, housing=housing or None,
                                        cache_dir=False if variant == "nocache" else cache_dir)
        rows = len(micro)
        seconds = time.perf_counter() - started
        matrices = [m for m in (micro.person_replicates, micro.household_replicates) if m is not None]
        extra["result_mb"] = (micro.frame.memory_usage(deep=True).sum() + sum(m.nbytes for m in matrices)) / 2**20
        extra["cache"] = micro.attrs.get("cache")
        print(json.dumps({"seconds": seconds, "rows": rows, **extra}))
        return
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows, **extra}))


def _warm_up(variant: str, person: str, housing: str | None) -> None:
    import itertools

    import numpy as np
    import pandas as pd
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    import scorecard

    folder = Path(tempfile.mkdtemp(prefix="scorecard-bench-warm-"))
    try:
        small = folder / Path(person).name
        with open(person) as source, open(small, "w") as target:
            target.writelines(itertools.islice(source, 2001))
        if variant == "pandas":
            pd.read_csv(small, usecols=CODE_COLUMNS + NUMBER_COLUMNS, dtype={c: str for c in CODE_COLUMNS})
        elif variant == "pyarrow":
            pacsv.read_csv(small)
        elif variant == "parquet":
            table = pacsv.read_csv(small)
            pq.write_table(table, folder / "warm.parquet")
            pq.read_table(folder / "warm.parquet")
            np.save(folder / "warm.npy", np.zeros((10, 80), np.float32))
            np.load(folder / "warm.npy")
        else:
            scorecard.read_acs_pums(small, cache_dir=folder / "cache")
            scorecard.read_acs_pums(small, cache_dir=folder / "cache")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
    parser.add_argument("--files", type=int, help="read only the first N person (and housing) files")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all variants; the fastest of each is kept")
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
    if args.files:
        person, housing = person[: args.files], housing[: args.files]
    csv_mb = sum(p.stat().st_size for p in person) / 2**20
    housing_args = [str(h) for h in housing] if args.housing else []
    csv_mb += sum(h.stat().st_size for h in housing) / 2**20 if args.housing else 0
    cache_dir = tempfile.mkdtemp(prefix="scorecard-bench-cache-")
    variants = (("scorecard, CSV, cache off", "nocache"), ("scorecard, CSV (cold cache)", "scorecard"),
                ("scorecard, Parquet cache hit", "scorecard"), ("pyarrow.parquet + np.load, cache files", "parquet"),
                ("pyarrow.csv.read_csv, all columns", "pyarrow"), ("pandas.read_csv, usecols", "pandas"))
    rows: dict[str, dict] = {}
    for path in [*person, *(housing if args.housing else [])]:  # every variant reads the files from the page cache
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
    load = os.getloadavg()[0]
    try:
        for _ in range(args.repeat):  # rounds of all variants; the fastest of each is kept
            for label, variant in variants:
                if label == variants[1][0]:  # the cold read starts from an empty cache every round
                    shutil.rmtree(cache_dir, ignore_errors=True)
                command = [sys.executable, __file__, "--measure", variant, "--cache-dir", cache_dir,
                           "--person-files", *map(str, person), "--housing-files", *housing_args]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                if label not in rows or result.get("seconds", np.inf) < rows[label].get("seconds", np.inf):
                    rows[label] = result
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    print(f"synthetic PUMS: {args.persons:,} persons requested, {csv_mb:,.0f} MB of CSV read "
          f"({len(person)} person files{' + housing' if args.housing else ''}); generation {generate_seconds:.1f} s "
          f"(cached in {folder}); {os.cpu_count()} CPUs, load average {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"{'variant':40} {'rows':>10} {'seconds':>9} {'MB/s':>8} {'peak MB':>9}")
    for label, r in rows.items():
        if "error" in r:
            print(f"{label:40} failed: {r['error']}")
            continue
        print(f"{label:40} {r['rows']:>10,} {r['seconds']:>9.2f} {csv_mb / r['seconds']:>8.0f} {r['peak_mb']:>9.0f}")
    if all("error" not in r for r in rows.values()):
        off, cold, hit, parquet, arrow, pandas = (rows[label]["seconds"] for label, _ in variants)
        result = rows[variants[0][0]]["result_mb"]
        print(f"harmonized result {result:,.0f} MB; peak of the cold read (cache off) / result = "
              f"{rows[variants[0][0]]['peak_mb'] / result:.2f}; parquet frame alone {rows[variants[3][0]]['frame_seconds']:.2f} s, "
              f"replicate matrices {rows[variants[3][0]]['matrix_mb']:,.0f} MB")
        print(f"ratios (same run): cache off / pyarrow = {off / arrow:.2f}, cache off / pandas = {off / pandas:.2f}, "
              f"cold / pyarrow = {cold / arrow:.2f}, cold / pandas = {cold / pandas:.2f}, "
              f"cache hit / (parquet + np.load) = {hit / parquet:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
