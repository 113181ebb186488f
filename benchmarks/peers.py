"""Python peers (samplics, svy) on the table that ``r_bench.R`` computes with R ``survey``.

Usage::

    python benchmarks/peers.py DIR N OUT_PREFIX [--peers svy,samplics] [--repeat K]

``DIR`` holds the raw binary columns that ``bench_estimate.py`` writes for
``r_bench.R`` (``age``, ``english``, ``foreign`` int32; ``year_of_entry``,
``weight`` float64; ``place`` int32; ``replicates`` float32, N x 80, row-major),
``N`` is the number of records. The script does not import the project
(``scorecard``): it runs under any Python that has samplics and/or svy.

For each peer that is installed it derives, exactly as ``r_bench.R`` does, the
universe (age >= 5 with a known English code), the measure (English only or
"very well") and the cohorts (``native`` / ``foreign_born``; arrival decades
``1970-1979`` ... ``2010-2019`` and ``2020-`` from the year of entry of the
foreign-born), and estimates the proportion (weighted mean of the 0/1 measure)
by (place, nativity) on the universe and by (place, decade) on the universe
members with an arrival decade, with the ACS successive-difference replicate
variance centred on the full-sample estimate,
``Var = 4/80 * sum_r (theta_r - theta_0)^2`` (R: ``svrepdesign(type="JK1",
scale=4/80, rscales=1, mse=TRUE)``). It writes ``OUT_PREFIX_<peer>.csv`` with
the columns of ``r_bench.R`` (``place, cohort, estimate, se``) and prints one
JSON line per peer::

    {"peer": "samplics", "version": "0.6.1", "seconds": 1.81, "cpu_seconds": 1.78,
     "all_seconds": [1.81], "method": "...", "records": 44393, "groups": 248}

``seconds`` is wall time for building the design and estimating both tables,
as ``r_bench.R`` times ``svrepdesign`` + ``svyby``; reading the files, deriving
the columns and turning the peer's results into the CSV are not timed, and
neither is a first run on 2,000 records that absorbs imports and first-call
costs. With ``--repeat K`` the best of K runs is kept (``all_seconds`` lists
them; R is timed once). ``cpu_seconds`` is the process CPU time of that run
(above ``seconds`` when the peer uses several threads). A peer that is
not installed prints ``{"peer": ..., "skipped": ...}``; one that fails prints
``{"peer": ..., "error": ...}`` and the script exits with status 1 after the
others ran.

How each peer is configured
---------------------------
samplics
    ``ReplicateEstimator(RepMethod.bootstrap, PopParam.mean).estimate(y,
    samp_weight, rep_weights, rep_coefs=4/80, domain=place x cohort,
    conservative=True)`` on the universe rows (the decade-cohort rows for the
    decade table; taking those rows and numbering the domains are timed, as
    R's ``subset()`` and ``svyby`` grouping are). samplics has no SDR method;
    with ``conservative=True`` its non-jackknife variance is
    ``sum_r rep_coefs * (theta_r - theta_0)^2``, which with ``rep_coefs=4/80``
    is the SDR formula. The default (``conservative=False``) centres on the
    mean of the replicate estimates instead. samplics loops over the domains
    in Python, each pass multiplying all N x 80 replicate weights, so its cost
    grows with records x groups (about 40 s for 200,000 records and 1,120
    groups on 2 CPUs). It also raises ``ZeroDivisionError`` for any domain
    whose estimate is exactly 0 (it divides the SE by the estimate for the CV,
    in Python floats), which small cohorts hit; so it estimates the mean of
    ``very_well + 1`` and 1 is subtracted: the replicate differences, hence
    the SE, are the same, and estimates move by ~1e-16 in absolute terms.
svy
    ``Sample(frame, Design(wgt="weight", rep_wgts=SdrWgts(prefix="rw",
    n_reps=80)))`` (SDR coefficients 4/80 per replicate) and
    ``sample.estimation.mean("very_well", by=["place", cohort],
    where=col("universe" | "in_decade"), method="replication",
    variance_center="estimate")``: one call per table, grouped in svy's Rust
    kernel (which also returns the covariance of all groups of the table).
    The default ``variance_center="rep_mean"`` centres on the mean of the
    replicate estimates instead.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

__all__ = ["Columns", "Domains", "PEERS", "Table", "derive", "main", "read_columns"]

N_REPLICATES = 80
SDR_SCALE = 4 / N_REPLICATES
FIRST_DECADE = 1970
OPEN_DECADE = 2020  # arrivals from this year on form one cohort, "2020-"
WARM_UP_RECORDS = 2_000  # untimed first run, as bench_estimate.py warms ours up on 2,000 records
SAMPLICS_SHIFT = 1.0  # samplics cannot return a domain estimate of 0 (see the module docstring)
_LAYOUT = {  # file stem -> dtype, as bench_estimate.py writes them (tofile, native byte order)
    "age": np.int32,
    "english": np.int32,
    "foreign": np.int32,
    "year_of_entry": np.float64,
    "place": np.int32,
    "weight": np.float64,
}


class InputError(ValueError):
    """The binary columns in DIR do not have the layout ``bench_estimate.py`` writes."""


# ---------------------------------------------------------------------------------------------- input
@dataclass(frozen=True, slots=True, kw_only=True)
class Columns:
    """The raw columns of DIR, one entry per record (``replicates``: records x 80, float32)."""

    age: np.ndarray
    english: np.ndarray
    foreign: np.ndarray
    year_of_entry: np.ndarray
    place: np.ndarray
    weight: np.ndarray
    replicates: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.place)
        lengths = {name: len(getattr(self, name)) for name in (*_LAYOUT, "replicates")}
        wrong = {name: length for name, length in lengths.items() if length != n}
        if wrong:
            raise InputError(f"Every column must have {n} records (as place has); found {wrong}.")
        if self.replicates.ndim != 2 or self.replicates.shape[1] != N_REPLICATES:
            raise InputError(f"replicates must be records x {N_REPLICATES}; found shape {self.replicates.shape}.")

    def take(self, rows: np.ndarray) -> Columns:
        """The same columns for ``rows`` only (an index or a boolean mask)."""
        return Columns(**{name: getattr(self, name)[rows] for name in (*_LAYOUT, "replicates")})


def read_columns(directory: Path, n: int) -> Columns:
    """The first ``n`` records of the binary columns in ``directory``."""
    values = {name: _read(directory / f"{name}.bin", dtype, n) for name, dtype in _LAYOUT.items()}
    replicates = _read(directory / "replicates.bin", np.float32, n * N_REPLICATES)
    return Columns(**values, replicates=replicates.reshape(n, N_REPLICATES))


def _read(path: Path, dtype: type, count: int) -> np.ndarray:
    if not path.exists():
        raise InputError(f"{path} does not exist. DIR must hold the columns bench_estimate.py writes for r_bench.R.")
    values = np.fromfile(path, dtype=dtype, count=count)
    if len(values) < count:
        raise InputError(f"{path} holds {len(values)} values of {np.dtype(dtype).name}; {count} were expected. "
                         "Is N the number of records the files were written with?")
    return values


# ---------------------------------------------------------------------------------------------- derivation
@dataclass(frozen=True, slots=True, kw_only=True)
class Domains:
    """Universe, measure and cohorts, derived from the raw codes as ``r_bench.R`` derives them."""

    place: np.ndarray  # int32 place code
    very_well: np.ndarray  # float64, 1 = English only or "very well"
    nativity: np.ndarray  # str, "native" or "foreign_born"
    decade: np.ndarray  # str, "1970-1979" ... "2020-"; "" outside the decade cohorts
    universe: np.ndarray  # bool, age >= 5 with a known English code
    in_decade: np.ndarray  # bool, in the universe and in a decade cohort
    weight: np.ndarray  # float64 full-sample weight
    replicates: np.ndarray  # float64, records x 80 (R reads the float32 file as double too)

    @property
    def records(self) -> int:
        return len(self.place)


def derive(columns: Columns) -> Domains:
    """The inputs every peer estimates from (``r_bench.R``'s ``universe``, ``very_well``, ``nativity``, ``decade``)."""
    universe = (columns.age >= 5) & (columns.english >= 0)
    foreign = columns.foreign == 1
    decade, has_decade = arrival_decades(columns.year_of_entry, foreign)
    return Domains(
        place=columns.place,
        very_well=np.isin(columns.english, (0, 1)).astype(np.float64),
        nativity=np.where(foreign, "foreign_born", "native"),
        decade=decade,
        universe=universe,
        in_decade=universe & has_decade,
        weight=columns.weight.astype(np.float64),
        replicates=columns.replicates.astype(np.float64),
    )


def arrival_decades(year_of_entry: np.ndarray, foreign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decade labels of the foreign-born who arrived from 1970 on ("" for everyone else), and who has one."""
    with np.errstate(invalid="ignore"):
        has_decade = foreign & ~np.isnan(year_of_entry) & (year_of_entry >= FIRST_DECADE)
    start = np.where(has_decade, 10 * np.floor(np.nan_to_num(year_of_entry) / 10), 0).astype(np.int64)
    start = np.minimum(start, OPEN_DECADE)
    labels = {int(s): _decade_label(int(s)) for s in np.unique(start[has_decade])}
    decade = np.full(len(year_of_entry), "", dtype=object)
    for first_year, label in labels.items():
        decade[has_decade & (start == first_year)] = label
    return decade.astype(str), has_decade


def _decade_label(first_year: int) -> str:
    return f"{OPEN_DECADE}-" if first_year >= OPEN_DECADE else f"{first_year}-{first_year + 9}"


# ---------------------------------------------------------------------------------------------- output
@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """Estimates by place and cohort, in the columns ``r_bench.R`` writes."""

    place: np.ndarray
    cohort: np.ndarray
    estimate: np.ndarray
    se: np.ndarray

    @classmethod
    def concat(cls, tables: list[Table]) -> Table:
        return cls(**{name: np.concatenate([getattr(t, name) for t in tables])
                      for name in ("place", "cohort", "estimate", "se")})

    def __len__(self) -> int:
        return len(self.place)

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["place", "cohort", "estimate", "se"])
            for place, cohort, estimate, se in zip(self.place, self.cohort, self.estimate, self.se, strict=True):
                writer.writerow([int(place), str(cohort), _number(estimate), _number(se)])


def _number(value: float) -> str:
    return "NA" if np.isnan(value) else repr(float(value))


# ---------------------------------------------------------------------------------------------- peers
class Peer(Protocol):
    """A peer library: ``setup`` (not timed), ``run`` (timed: design + estimation), ``table`` (not timed)."""

    name: ClassVar[str]
    distribution: ClassVar[str]
    method: ClassVar[str]

    def setup(self, domains: Domains) -> None: ...

    def run(self) -> None: ...

    def table(self) -> Table: ...


@dataclass
class SamplicsPeer:
    """samplics ``ReplicateEstimator``: full-sample centring through ``conservative=True``."""

    name: ClassVar[str] = "samplics"
    distribution: ClassVar[str] = "samplics"
    method: ClassVar[str] = (
        "ReplicateEstimator(method=RepMethod.bootstrap, param=PopParam.mean).estimate(y=very_well, "
        "samp_weight=weight, rep_weights=N x 80 float64, rep_coefs=4/80, domain=place x cohort code, "
        "conservative=True) on the universe rows (decade-cohort rows for the decade table); samplics has no SDR "
        "method, and conservative=True makes its variance sum_r rep_coefs * (theta_r - theta_0)^2, i.e. SDR "
        "centred on the full-sample estimate (conservative=False would centre on the replicate mean); "
        "domains are looped over in Python, each pass over all N x 80 replicate weights; y is very_well + 1 and 1 "
        "is subtracted from the estimates (same SE), because samplics raises ZeroDivisionError computing the CV "
        "of a domain whose estimate is exactly 0"
    )
    domains: Domains | None = None
    results: list[tuple[Any, np.ndarray, np.ndarray]] = field(default_factory=list)

    def setup(self, domains: Domains) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "samplics is archived", at import
            import samplics  # noqa: F401
        self.domains = domains

    def run(self) -> None:
        from samplics import PopParam, ReplicateEstimator, RepMethod

        domains = self.domains
        self.results = []
        for rows, cohort in ((domains.universe, domains.nativity), (domains.in_decade, domains.decade)):
            keys, domain = _group_codes(domains.place[rows], cohort[rows])
            estimator = ReplicateEstimator(method=RepMethod.bootstrap, param=PopParam.mean).estimate(
                y=domains.very_well[rows] + SAMPLICS_SHIFT,
                samp_weight=domains.weight[rows],
                rep_weights=domains.replicates[rows],
                rep_coefs=SDR_SCALE,
                domain=domain,
                conservative=True,
            )
            self.results.append((estimator, *keys))

    def table(self) -> Table:
        parts = []
        for estimator, place, cohort in self.results:
            codes = range(len(place))
            parts.append(Table(place=place, cohort=cohort,
                               estimate=np.array([estimator.point_est[c] for c in codes]) - SAMPLICS_SHIFT,
                               se=np.array([estimator.stderror[c] for c in codes], dtype=np.float64)))
        return Table.concat(parts)


def _group_codes(place: np.ndarray, cohort: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((place, cohort) of each group, sorted), and each record's group number 0..G-1."""
    labels, label_code = np.unique(cohort, return_inverse=True)
    key = place.astype(np.int64) * len(labels) + label_code
    keys, group = np.unique(key, return_inverse=True)
    return (keys // len(labels), labels[keys % len(labels)]), group


@dataclass
class SvyPeer:
    """svy ``Sample`` with ``SdrWgts``: full-sample centring through ``variance_center="estimate"``."""

    name: ClassVar[str] = "svy"
    distribution: ClassVar[str] = "svy"
    method: ClassVar[str] = (
        "Sample(frame, Design(wgt='weight', rep_wgts=SdrWgts(prefix='rw', n_reps=80))) (coefficients 4/80); "
        "estimation.mean('very_well', by=['place', cohort], where=col('universe' | 'in_decade'), "
        "method='replication', variance_center='estimate'), one call per table, groups in svy's Rust kernel "
        "(the default variance_center='rep_mean' would centre on the replicate mean)"
    )
    frame: Any = None
    results: list[tuple[str, Any]] = field(default_factory=list)

    def setup(self, domains: Domains) -> None:
        import polars as pl
        import svy  # noqa: F401  (imported here, so that the timed run does not pay for it)

        columns = pl.DataFrame({
            "place": domains.place,
            "nativity": domains.nativity,
            "decade": domains.decade,
            "very_well": domains.very_well,
            "universe": domains.universe,
            "in_decade": domains.in_decade,
            "weight": domains.weight,
        }).with_columns(pl.when(pl.col("decade") != "").then(pl.col("decade")).alias("decade"))
        names = [f"rw{r}" for r in range(1, N_REPLICATES + 1)]
        self.frame = columns.hstack(pl.from_numpy(domains.replicates, schema=names))

    def run(self) -> None:
        import svy

        design = svy.Design(wgt="weight", rep_wgts=svy.SdrWgts(prefix="rw", n_reps=N_REPLICATES))
        sample = svy.Sample(self.frame, design)
        self.results = [
            (cohort, sample.estimation.mean("very_well", by=["place", cohort], where=svy.col(domain),
                                            method="replication", variance_center="estimate"))
            for cohort, domain in (("nativity", "universe"), ("decade", "in_decade"))
        ]

    def table(self) -> Table:
        parts = []
        for cohort, estimate in self.results:
            out = estimate.to_polars()
            parts.append(Table(place=out["place"].to_numpy(), cohort=out[cohort].to_numpy().astype(str),
                               estimate=out["est"].to_numpy(), se=out["se"].to_numpy()))
        return Table.concat(parts)


PEERS: dict[str, type[Peer]] = {peer.name: peer for peer in (SvyPeer, SamplicsPeer)}  # the fast one first


# ---------------------------------------------------------------------------------------------- driver
def measure(peer: Peer, columns: Columns, out_prefix: str, *, repeat: int = 1) -> dict:
    """Run ``peer`` on ``columns``, write its CSV, return its JSON record.

    The peer first runs once on the first ``WARM_UP_RECORDS`` records (not timed), so that imports and
    first-call costs inside it are not counted; then ``repeat`` timed runs on all the records, best kept.
    """
    peer.setup(derive(columns.take(slice(0, WARM_UP_RECORDS))))
    peer.run()
    domains = derive(columns)
    peer.setup(domains)
    times = [_timed(peer.run) for _ in range(repeat)]
    wall, cpu = min(times)
    table = peer.table()
    table.write_csv(Path(f"{out_prefix}_{peer.name}.csv"))
    return {
        "peer": peer.name,
        "version": importlib.metadata.version(peer.distribution),
        "seconds": round(wall, 4),
        "cpu_seconds": round(cpu, 4),
        "all_seconds": [round(t, 4) for t, _ in times],
        "method": peer.method,
        "records": domains.records,
        "groups": len(table),
    }


def _timed(run: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="folder with the binary columns bench_estimate.py writes")
    parser.add_argument("n", type=int, help="number of records in the files")
    parser.add_argument("out_prefix", help="CSV files are written to OUT_PREFIX_<peer>.csv")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers to run (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per peer, best kept (default: 1, as R)")
    args = parser.parse_args(argv)
    columns = read_columns(args.directory, args.n)
    failed = False
    for name in args.peers.split(","):
        if name not in PEERS:
            raise SystemExit(f"Unknown peer {name!r}; choose from {sorted(PEERS)}.")
        if importlib.util.find_spec(PEERS[name].distribution) is None:
            print(json.dumps({"peer": name, "skipped": f"not installed in {sys.executable}"}), flush=True)
            continue
        try:
            record = measure(PEERS[name](), columns, args.out_prefix, repeat=max(1, args.repeat))
        except Exception as error:  # one broken peer must not hide the other
            record, failed = {"peer": name, "error": f"{type(error).__name__}: {error}"}, True
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
