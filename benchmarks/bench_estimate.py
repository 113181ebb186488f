"""National-scale benchmark of :func:`scorecard.estimate`, with R ``survey`` and a numpy lower bound.

Usage::

    python benchmarks/bench_estimate.py [--persons 3400000] [--r-subsample 200000] [--skip-r] [--order state|random]

Builds a national-size synthetic 1-year person file in memory (numpy; about
2,400 PUMAs in 51 states, ~14% foreign-born with years of entry, the
harmonized columns the built-in indicators read, float32 80 person and 80
household replicate weights) and times, each in its own subprocess so that
peak memory is measured per variant:

* ``ours``: ``scorecard.estimate`` of 10 built-in indicators x every PUMA as a
  place (``Places.from_pumas``) x ``ArrivalCohorts.decades(1970, 2020)``
  (6 arrival cohorts + native + foreign_born): the first call on the national
  Microdata, then the same call twice more (best of 2);
* ``numpy``: the lower bound, one sparse matmul ``G @ W`` (``G``: cells x
  persons, one-hot with allocation factors, float32; ``W``: N x 81 float32)
  for the person weights, and the same for the household weights, best of 3,
  with ``G`` in CSR (scipy's default), in CSC, and in CSC split over 2 threads;
* ``r``: R ``survey`` (svrepdesign JK1 4/80, svyby/svymean) on a subsample of
  whole states, one indicator by PUMA x cohort, against ours on the same
  subsample and table, with the numbers compared;
* ``samplics`` / ``svy`` (``benchmarks/peers.py``, installed by the ``bench``
  extra): the same subsample and table, SDR variance centred on the
  full-sample estimate, numbers compared; skipped and reported as such when
  not installed.

Peak memory: each child resets its resident-set high-water mark after the data
are built (``/proc/self/clear_refs``), so "peak during" is the largest RSS
while the variant runs; "extra" is that peak minus the RSS before it ran.
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
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

INDICATORS = (
    "english_very_well",
    "english_well_or_better",
    "limited_english",
    "above_150pct_poverty",
    "above_200pct_poverty",
    "in_poverty",
    "median_household_income",
    "median_personal_earnings",
    "homeownership",
    "naturalized",
)
SURVEY_YEAR = 2021
N_STATES = 51
N_PUMAS = 2400
R_SCRIPT = Path(__file__).resolve().parent / "r_bench.R"
PEERS_SCRIPT = Path(__file__).resolve().parent / "peers.py"


# ---------------------------------------------------------------------------------------------- data
def _replicates(rng: np.random.Generator, weight: np.ndarray, block: int = 250_000) -> np.ndarray:
    """80 SDR-like replicate weights (full weight x 1, 1 - 0.707 or 1 + 0.707), float32, filled in row blocks."""
    out = np.empty((len(weight), 80), dtype=np.float32)
    factors = np.array([1 - 0.7071, 1.0, 1 + 0.7071], dtype=np.float32)
    for start in range(0, len(weight), block):
        stop = min(start + block, len(weight))
        pick = rng.integers(0, 3, size=(stop - start, 80), dtype=np.int8)
        np.multiply(factors[pick], weight[start:stop, None].astype(np.float32), out=out[start:stop])
        np.rint(out[start:stop], out=out[start:stop])
    return out


def build_national(persons: int, seed: int = 2021, order: str = "state"):
    """(harmonized frame, person replicates, household replicates) for ``persons`` synthetic records.

    ``order="state"`` lays the households out state by state, with PUMAs in
    random order within a state, as a national Microdata read one state file
    at a time is and as ``scorecard.datasets.write_national`` writes national
    files; ``"random"`` scatters them over the nation.
    """
    from scorecard import schema

    rng = np.random.default_rng(seed)
    # Households of 1-7 persons in 2,400 PUMAs spread over 51 states (PUMA counts ~ population).
    sizes = rng.choice(np.arange(1, 8), size=persons // 2 + 10, p=[0.28, 0.34, 0.15, 0.13, 0.06, 0.025, 0.015])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), persons) + 1]
    sizes[-1] -= sizes.sum() - persons
    n_households = len(sizes)
    household = np.repeat(np.arange(n_households), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    is_householder = np.zeros(persons, dtype=bool)
    is_householder[first] = True
    state_share = rng.dirichlet(np.full(N_STATES, 1.5))
    pumas_per_state = np.maximum(1, np.round(state_share * N_PUMAS)).astype(int)
    puma_state = np.repeat(np.arange(N_STATES), pumas_per_state)
    puma_number = np.concatenate([np.arange(1, k + 1) * 100 for k in pumas_per_state])
    n_pumas = len(puma_state)
    household_puma = rng.integers(0, n_pumas, size=n_households)
    if order == "state":  # the same PUMAs, households grouped by state (the rest of each household is drawn later)
        household_puma = household_puma[np.argsort(puma_state[household_puma], kind="stable")]
    elif order != "random":
        raise ValueError(f"order must be 'state' or 'random'; found {order!r}")
    puma_index = household_puma[household]
    state_codes = np.array([f"{s:02d}" for s in range(1, 100) if s not in (3, 7, 14, 43, 52)][:N_STATES])
    puma_codes = np.array([f"{p:05d}" for p in puma_number])

    # Foreign-born share varies by PUMA around 14%; years of entry skew recent.
    puma_foreign = rng.beta(1.4, 8.6, size=n_pumas)
    age = np.where(is_householder, rng.integers(18, 91, size=persons), rng.integers(0, 91, size=persons)).astype(np.int16)
    foreign = rng.random(persons) < puma_foreign[puma_index]
    entry_age = np.minimum(age, rng.integers(0, 60, size=persons))
    year_of_entry = (SURVEY_YEAR - age + entry_age).astype(np.float64)
    year_of_entry = np.clip(year_of_entry, 1930, SURVEY_YEAR)
    years_here = SURVEY_YEAR - year_of_entry
    naturalized = foreign & (rng.random(persons) < np.clip(years_here / 30, 0, 0.85))
    citizenship = np.where(foreign, np.where(naturalized, 1, 2), 0).astype(np.int8)
    english_p_native = np.array([0.88, 0.08, 0.025, 0.01, 0.005])
    english_p_foreign = np.array([0.16, 0.34, 0.22, 0.18, 0.10])
    english = np.where(
        foreign,
        rng.choice(5, size=persons, p=english_p_foreign),
        rng.choice(5, size=persons, p=english_p_native),
    ).astype(np.int8)
    english[age < 5] = -1
    income = np.round(np.exp(rng.normal(10.2, 1.1, size=persons)), -1)
    income[age < 15] = np.nan
    earnings = np.where(rng.random(persons) < 0.35, 0.0, np.round(income * rng.uniform(0.3, 1.0, size=persons), -1))
    household_income = np.round(np.exp(rng.normal(11.0, 0.9, size=n_households)), -1)
    group_quarters = (sizes == 1) & (rng.random(n_households) < 0.08)
    household_income[group_quarters] = np.nan
    tenure = rng.choice(4, size=n_households, p=[0.42, 0.22, 0.34, 0.02]).astype(np.int8)
    tenure[group_quarters] = -1
    poverty_ratio = np.round(np.exp(rng.normal(1.0, 0.9, size=persons)), 2)
    poverty_ratio[rng.random(persons) < 0.025] = np.nan

    person_weight = rng.integers(20, 200, size=persons).astype(np.float64)
    household_weight = rng.integers(20, 200, size=n_households).astype(np.float64)

    def categorical(codes, column):
        return pd.Categorical.from_codes(codes, categories=list(schema.COLUMNS[column].categories))

    frame = pd.DataFrame(
        {
            "survey_year": pd.array(np.full(persons, SURVEY_YEAR), dtype="Int16"),
            "state": pd.array(state_codes[puma_state[puma_index]], dtype="string"),
            "puma": pd.array(puma_codes[puma_index], dtype="string"),
            "puma_vintage": pd.array(np.full(persons, 2010), dtype="Int16"),
            "household_id": pd.array(household.astype(str), dtype="string"),
            "person_id": pd.array((np.arange(persons) - first[household] + 1).astype(np.int16), dtype="Int16"),
            "is_householder": pd.array(is_householder, dtype="boolean"),
            "age": pd.array(age, dtype="Int16"),
            "sex": categorical(rng.integers(0, 2, size=persons), "sex"),
            "nativity": categorical(foreign.astype(np.int8), "nativity"),
            "citizenship": categorical(citizenship, "citizenship"),
            "year_of_entry": pd.array(np.where(foreign, year_of_entry, np.nan), dtype="Int16"),
            "english": categorical(english, "english"),
            "poverty_ratio": poverty_ratio,
            "person_income": income,
            "earnings": earnings,
            "household_income": household_income[household],
            "tenure": categorical(tenure[household], "tenure"),
            "person_weight": person_weight,
            "household_weight": household_weight[household],
        }
    )
    person_replicates = _replicates(rng, person_weight)
    household_replicates = _replicates(rng, household_weight)[household]
    return frame, person_replicates, household_replicates


def as_microdata(frame, person_replicates, household_replicates):
    from scorecard.microdata import Microdata

    return Microdata(frame, person_replicates=person_replicates, household_replicates=household_replicates,
                     attrs={"source": "synthetic national", "survey": "ACS 1-year (synthetic)"})


def puma_places(frame: pd.DataFrame):
    from scorecard.places import Places

    pumas = frame[["state", "puma"]].drop_duplicates().astype(str).sort_values(["state", "puma"])
    ids = (pumas["state"] + pumas["puma"]).to_numpy()
    return Places.from_pumas(pd.DataFrame({"place": ids, "state": pumas["state"].to_numpy(),
                                           "puma": pumas["puma"].to_numpy(), "puma_vintage": 2010}))


# ---------------------------------------------------------------------------------------------- memory
def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    return float("nan")


def _mb(kb: float) -> float:
    return kb / 1024


# ---------------------------------------------------------------------------------------------- variants
#: What the estimator's tasks (functions handed to its thread runners) do, by function name.
_STEP_LABELS = {
    "sums_of": "additive sums (signature product, spread), weights:",
    "median_of": "median (universe, sort, windows, search):",
    "_evaluate_all": "evaluate the 10 indicators",
    "replicate_profile": "profile replicate weights (once per Microdata):",
}


def _step_name(task) -> str:
    """A readable name of a task handed to the estimator's run_all / start_all."""
    func = getattr(task, "func", task)
    first = (getattr(task, "args", None) or ("",))[0]
    label = first if isinstance(first, str) else getattr(first, "key", "")
    name = getattr(func, "__name__", "task")
    return f"{_STEP_LABELS.get(name, name)} {label}".strip()


def serial_steps(call) -> dict:
    """Seconds of each step of one ``call()`` of scorecard.estimate run in one thread (where the time goes).

    Wraps the estimator's task runners and its two main-thread steps for the duration of the call; the
    numbers do not depend on the thread count, so this is the same computation, laid out in sequence.
    """
    from scorecard.estimation import core, partials, reduction
    from scorecard.estimation.groups import GroupLayout

    steps: dict[str, float] = {}

    def timed(name, func):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - t0
        return run

    saved = (partials.run_all, partials.start_all, reduction.run_all, GroupLayout.entries, core.finalize,
             os.environ.get("SCORECARD_THREADS"))
    partials.run_all = lambda tasks, run=saved[0]: run([timed(_step_name(t), t) for t in tasks])
    partials.start_all = lambda tasks, start=saved[1]: start([timed(_step_name(t), t) for t in tasks])
    reduction.run_all = lambda tasks, run=saved[2]: run([timed(_step_name(t), t) for t in tasks])
    GroupLayout.entries = timed("join records to places and cohorts", saved[3])
    core.finalize = timed("finalize (estimates, SDR SEs, Dataset)", saved[4])
    os.environ["SCORECARD_THREADS"] = "1"
    try:
        t0 = time.perf_counter()
        call()
        steps["total"] = time.perf_counter() - t0
    finally:
        partials.run_all, partials.start_all, reduction.run_all, GroupLayout.entries, core.finalize = saved[:5]
        if saved[5] is None:
            os.environ.pop("SCORECARD_THREADS")
        else:
            os.environ["SCORECARD_THREADS"] = saved[5]
    steps["other"] = steps["total"] - sum(v for k, v in steps.items() if k != "total")
    return steps


def variant_ours(args) -> dict:
    import scorecard
    from cohorts import ArrivalCohorts

    t0 = time.perf_counter()
    frame, person_replicates, household_replicates = build_national(args.persons, args.seed, args.order)
    micro = as_microdata(frame, person_replicates, household_replicates)
    places = puma_places(frame)
    build_seconds = time.perf_counter() - t0
    # Warm-up on 2,000 records so that imports and first-call costs are not timed.
    cohorts = ArrivalCohorts.decades(1970, 2020)
    scorecard.estimate(micro.take(np.arange(2000)), list(INDICATORS), places=places, cohorts=cohorts)
    before = _status_kb("VmRSS")
    reset = _reset_peak()
    t0 = time.perf_counter()
    est = scorecard.estimate(micro, list(INDICATORS), places=places, cohorts=cohorts)
    seconds = time.perf_counter() - t0
    peak = _status_kb("VmHWM")
    # The same call twice more on the same Microdata (its weight profile is kept; memory is reused), as the bound
    # is timed: best of repeated runs.
    again = []
    for _ in range(2):
        t0 = time.perf_counter()
        scorecard.estimate(micro, list(INDICATORS), places=places, cohorts=cohorts)
        again.append(time.perf_counter() - t0)
    steps = serial_steps(lambda: scorecard.estimate(micro, list(INDICATORS), places=places, cohorts=cohorts))
    from scorecard.estimation.threads import thread_count

    return {
        "seconds": seconds,
        "repeat_seconds": again,
        "steps": steps,
        "threads": thread_count(),
        "build_seconds": build_seconds,
        "rss_before_mb": _mb(before),
        "peak_during_mb": _mb(peak) if reset else float("nan"),
        "peak_reset": reset,
        "cells": int(est["estimate"].size),
        "places": len(places),
        "cohorts": int(est.sizes["cohort"]),
        "finite": int(np.isfinite(est["estimate"].values).sum()),
        "weight_matrix_mb": person_replicates.nbytes / 2**20,
        "weight_matrix_81_mb": len(frame) * 81 * 4 / 2**20,
        "foreign_share": float((frame["nativity"] == "foreign_born").mean()),
        "persons": len(frame),
    }


def _group_matrix(frame: pd.DataFrame, places, cohorts):
    """G: (places x cohorts) x persons, CSR float32 with allocation factors."""
    import scipy.sparse as sp

    rows, place_index, factor = places.memberships(frame)
    member_rows, labels = cohorts.membership(frame)
    table = pd.DataFrame({"row": rows, "place": place_index, "factor": factor}).merge(
        pd.DataFrame({"row": member_rows, "cohort": labels}), on="row")
    cell = table["place"].to_numpy() * len(cohorts.labels) + table["cohort"].to_numpy()
    return sp.csr_matrix(
        (table["factor"].to_numpy(np.float32), (cell, table["row"].to_numpy())),
        shape=(len(places) * len(cohorts.labels), len(frame)),
    )


def variant_numpy(args) -> dict:
    from cohorts import ArrivalCohorts

    frame, person_replicates, household_replicates = build_national(args.persons, args.seed, args.order)
    places = puma_places(frame)
    t0 = time.perf_counter()
    group = _group_matrix(frame, places, ArrivalCohorts.decades(1970, 2020))
    group_seconds = time.perf_counter() - t0
    by_record = group.tocsc()  # the same matrix in compressed-column form: the product then reads W in order
    half = len(frame) // 2
    halves = [(by_record[:, :half], slice(0, half)), (by_record[:, half:], slice(half, None))]
    out = {"group_seconds": group_seconds, "nnz": int(group.nnz)}
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(2)
    for kind, replicates in (("person", person_replicates), ("household", household_replicates)):
        weights = np.empty((len(frame), 81), dtype=np.float32)
        weights[:, 0] = frame[f"{kind}_weight"].to_numpy(np.float32)
        weights[:, 1:] = replicates
        before = _status_kb("VmRSS")
        _reset_peak()
        products = {
            "": lambda w=weights: group @ w,
            "_csc": lambda w=weights: by_record @ w,
            "_csc2": lambda w=weights: sum(pool.map(lambda part: part[0] @ w[part[1]], halves)),
        }
        reference = None
        for name, product in products.items():
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                result = product()
                times.append(time.perf_counter() - t0)
            reference = result if reference is None else reference
            assert np.allclose(result, reference, rtol=1e-5), name  # the three layouts compute the same product
            out[f"{kind}{name}_seconds"] = min(times)
        out[f"{kind}_extra_mb"] = _mb(_status_kb("VmHWM") - before)
        del weights, result, reference, products
    return out


def _subsample_states(frame: pd.DataFrame, target: int, seed: int) -> np.ndarray:
    """Rows of whole states, in a random state order, until about ``target`` records (at most 1.2x)."""
    counts = frame["state"].astype(str).value_counts()
    order = np.random.default_rng(seed).permutation(counts.index.to_numpy())
    chosen, total = [], 0
    for state in order:  # skip states that would overshoot the target by more than 20%
        if total >= target:
            break
        if total + counts[state] <= 1.2 * target:
            chosen.append(state)
            total += counts[state]
    return np.flatnonzero(frame["state"].astype(str).isin(chosen).to_numpy())


def variant_r(args) -> dict:
    import scorecard
    from cohorts import ArrivalCohorts

    frame, person_replicates, household_replicates = build_national(args.persons, args.seed, args.order)
    rows = _subsample_states(frame, args.r_subsample, args.seed)
    sub = frame.iloc[rows].reset_index(drop=True)
    micro = as_microdata(sub, person_replicates[rows], household_replicates[rows])
    del frame, person_replicates, household_replicates
    places = puma_places(sub)
    cohorts = ArrivalCohorts.decades(1970, 2020)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        est = scorecard.estimate(micro, ["english_very_well"], places=places, cohorts=cohorts)
        times.append(time.perf_counter() - t0)
    ours = est[["estimate", "se"]].sel(indicator="english_very_well", year=SURVEY_YEAR).to_dataframe().reset_index()
    out = {"records": len(sub), "states": int(sub["state"].nunique()), "places": len(places),
           "ours_seconds": min(times)}
    ours["place"] = ours["place"].astype(str).str.lstrip("0")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        english = sub["english"].cat.codes.to_numpy(np.int32)  # -1 = missing; 0 only, 1 very_well, ...
        columns = {
            "age": sub["age"].to_numpy(np.int32),
            "english": english,
            "foreign": (sub["nativity"] == "foreign_born").to_numpy(np.int32),
            "year_of_entry": sub["year_of_entry"].to_numpy("float64", na_value=np.nan),
            "place": (sub["state"].astype(str) + sub["puma"].astype(str)).astype(int).to_numpy(np.int32),
            "weight": sub["person_weight"].to_numpy(np.float64),
        }
        for name, values in columns.items():
            values.tofile(tmp / f"{name}.bin")
        micro.person_replicates.astype(np.float32).tofile(tmp / "replicates.bin")
        out.update(_run_r(tmp, len(sub), ours))
        out["peers"] = _run_peers(tmp, len(sub), ours)
    return out


def _agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    """Groups compared and the largest relative differences of estimate and SE (exact zeros on both sides agree)."""
    theirs = theirs.assign(place=theirs["place"].astype(str), cohort=theirs["cohort"].astype(str))
    merged = theirs.merge(ours, on=["place", "cohort"], suffixes=("_peer", "_ours"), how="left")
    found = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for v in ("estimate", "se"):
            rel = np.abs(merged[f"{v}_ours"] - merged[f"{v}_peer"]) / np.abs(merged[f"{v}_peer"])
            found[f"max_rel_{v}"] = float(np.nanmax(np.where(merged[f"{v}_ours"] == merged[f"{v}_peer"], 0, rel)))
    return {"groups": len(theirs), "compared": int(merged["estimate_ours"].notna().sum()), **found}


def _run_r(tmp: Path, n: int, ours: pd.DataFrame) -> dict:
    if shutil.which("Rscript") is None:
        return {"r_error": "Rscript not installed"}
    command = ["Rscript", "--vanilla", str(R_SCRIPT), str(tmp), str(n), str(tmp / "r.csv")]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"r_error": completed.stderr[-2000:]}
    timing = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"r_seconds": timing["seconds"], "r_version": timing.get("survey"),
            **_agreement(ours, pd.read_csv(tmp / "r.csv", dtype={"place": str, "cohort": str}))}


def _run_peers(tmp: Path, n: int, ours: pd.DataFrame) -> list[dict]:
    """samplics and svy (benchmarks/peers.py) on the same files and table as R, when installed (``.[bench]``)."""
    completed = subprocess.run([sys.executable, str(PEERS_SCRIPT), str(tmp), str(n), str(tmp / "peer")],
                               capture_output=True, text=True)
    found = []
    for line in completed.stdout.splitlines():
        if not line.startswith("{"):
            continue
        peer = json.loads(line)
        csv = tmp / f"peer_{peer['peer']}.csv"
        if "seconds" in peer and csv.exists():
            peer.update(_agreement(ours, pd.read_csv(csv, dtype={"place": str, "cohort": str})))
        found.append(peer)
    if not found:
        found.append({"peer": "samplics / svy", "error": completed.stderr[-2000:] or "peers.py printed nothing"})
    return found


VARIANTS = {"ours": variant_ours, "numpy": variant_numpy, "r": variant_r}


# ---------------------------------------------------------------------------------------------- driver
def run_child(variant: str, args) -> dict:
    command = [sys.executable, __file__, "--variant", variant, "--persons", str(args.persons),
               "--r-subsample", str(args.r_subsample), "--seed", str(args.seed), "--order", args.order]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"variant {variant} failed:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["child_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3_400_000)
    parser.add_argument("--r-subsample", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--skip-r", action="store_true", help="skip the subsample run against R survey, samplics, svy")
    parser.add_argument("--order", choices=("state", "random"), default="state",
                        help="record order: state by state, as state files read in turn (default), or scattered over the nation")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(VARIANTS[args.variant](args)))
        return

    print(f"python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}")
    ours = run_child("ours", args)
    lower = run_child("numpy", args)
    rbench = None if args.skip_r else run_child("r", args)

    matrix = ours["weight_matrix_mb"]
    print(f"\ndata ({args.order} order): {ours['persons']:,} persons, {ours['places']:,} PUMAs as places, {ours['cohorts']} cohorts, "
          f"foreign-born {ours['foreign_share']:.1%}; built in {ours['build_seconds']:.1f} s")
    print(f"table: {len(INDICATORS)} indicators x {ours['places']:,} places x {ours['cohorts']} cohorts = "
          f"{ours['cells']:,} estimates ({ours['finite']:,} non-missing), each with its 80-replicate SE")
    print(f"float32 replicate matrix (N x 80): {matrix:,.0f} MB per weight kind "
          f"(person + household = {2 * matrix:,.0f} MB; N x 81 with the full weight: {ours['weight_matrix_81_mb']:,.0f} MB)")
    warm = min(ours["repeat_seconds"])
    rows = [
        (f"scorecard.estimate (10 indicators, full table), first call, {ours['threads']} threads", ours["seconds"], ""),
        ("  the same call again on the same Microdata, best of 2 "
         f"({', '.join(f'{t:.2f}' for t in ours['repeat_seconds'])})", warm, ""),
    ]
    for name, label in (("", "CSR (scipy's default layout), 1 thread"), ("_csc", "CSC, 1 thread"),
                        ("_csc2", "CSC, 2 threads (halves of the records)")):
        person, both = lower[f"person{name}_seconds"], lower[f"person{name}_seconds"] + lower[f"household{name}_seconds"]
        rows += [
            (f"numpy bound: G @ W person, {label}", person, ""),
            (f"numpy bound: G @ W person + household, {label}", both,
             f"first / bound = {ours['seconds'] / both:.1f}x, again / bound = {warm / both:.1f}x"),
        ]
    rows.append(("  (building G itself, not in the bounds)", lower["group_seconds"], ""))
    if rbench is not None:
        rows.append((f"subsample {rbench['records']:,} rec, {rbench['states']} states, 1 indicator by PUMA x cohort: ours",
                     rbench["ours_seconds"], ""))
        if "r_error" not in rbench:
            rows.append((f"  same table, R survey {rbench['r_version']} (svrepdesign + svyby)", rbench["r_seconds"],
                         f"R / ours = {rbench['r_seconds'] / rbench['ours_seconds']:.0f}x"))
        for peer in rbench["peers"]:
            if "seconds" in peer:
                rows.append((f"  same table, {peer['peer']} {peer['version']}", peer["seconds"],
                             f"{peer['peer']} / ours = {peer['seconds'] / rbench['ours_seconds']:.0f}x"))
    print(f"\n{'variant':<84} {'seconds':>9}  ratio")
    for name, seconds, note in rows:
        print(f"{name:<84} {seconds:>9.3f}  {note}")
    if rbench is not None:
        if "r_error" in rbench:
            print(f"\nR: {rbench['r_error']}")
        else:
            print(f"\nR vs ours on the subsample: {rbench['compared']} of {rbench['groups']} groups compared; "
                  f"max relative difference estimate {rbench['max_rel_estimate']:.1e}, se {rbench['max_rel_se']:.1e}")
            per_ours = ours["seconds"] / (ours["persons"] * len(INDICATORS) * ours["places"] * ours["cohorts"])
            per_r = rbench["r_seconds"] / (rbench["records"] * 1 * rbench["groups"])
            print(f"per record x indicator x group: ours (full table) {per_ours:.2e} s, R (subsample) {per_r:.2e} s, "
                  f"ratio {per_r / per_ours:,.0f}x (R's svyby cost grows with groups x records; ours with records)")
    for peer in [] if rbench is None else rbench["peers"]:
        if "seconds" in peer:
            print(f"{peer['peer']} vs ours on the subsample: {peer['compared']} of {peer['groups']} groups compared; "
                  f"max relative difference estimate {peer['max_rel_estimate']:.1e}, se {peer['max_rel_se']:.1e}\n"
                  f"  configured as: {peer['method']}")
        else:
            print(f"{peer['peer']}: not measured ({peer.get('skipped') or peer.get('error')}); "
                  "install them with pip install -e '.[bench]' (make bench does)")
    bound = lower["person_csc_seconds"] + lower["household_csc_seconds"]
    print(f"\nwhere the time goes: the same call in 1 thread, by step (seconds; x = / CSC bound {bound:.3f} s)")
    for name, seconds in sorted(ours["steps"].items(), key=lambda item: (item[0] == "total", -item[1])):
        if seconds < 5e-4 and name != "total":
            continue
        print(f"  {name:<72} {seconds:>7.3f}  {seconds / bound:5.1f}x")
    print("\nmemory (resident set, MB)")
    print(f"  ours: before estimate {ours['rss_before_mb']:,.0f}, peak during {ours['peak_during_mb']:,.0f}, "
          f"extra {ours['peak_during_mb'] - ours['rss_before_mb']:,.0f} "
          f"= {(ours['peak_during_mb'] - ours['rss_before_mb']) / matrix:.2f}x one float32 replicate matrix; "
          f"whole process peak {ours['peak_during_mb'] / matrix:.2f}x one matrix, "
          f"{ours['peak_during_mb'] / (2 * matrix):.2f}x both")
    print(f"  numpy bound: extra during G @ W {lower['person_extra_mb']:,.0f} (person), "
          f"{lower['household_extra_mb']:,.0f} (household)")
    print(f"  largest child ru_maxrss (includes data generation): {max(r['child_maxrss_mb'] for r in (ours, lower)):,.0f}")


if __name__ == "__main__":
    main()
