"""Time rank intervals and scores for 2,400 places x 10 indicators with 1,000 draws.

Usage::

    python benchmarks/bench_scores.py [--places 2400] [--indicators 10] [--draws 1000] [--replicates]

Builds a synthetic estimates Dataset (``estimates_from_frame``; with
``--replicates`` 80 SDR replicates per figure), then times, each as the best of
``--repeat`` runs, with the peak of traced memory (``tracemalloc``):

a. the lower bound: one numpy pass producing the ``draws x places`` matrix of
   every indicator (``independent_draws`` of all figures at once);
b. ``rank_intervals(method="joint")`` for every indicator;
c. ``Scorecard(...).scores`` (indicator, domain and composite scores with SE and
   90% bounds from the draws) and ``card.ranks()``;
d. for scale, ``rank_intervals(method="simultaneous")`` (the csranks bootstrap over
   all ``K(K-1)`` pairs) on ``--pairs-places`` places.

Ratios are to (a), from this one run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

import scorecard as sc
from scorecard.uncertainty import independent_draws

DOMAINS = ("english", "income", "housing", "civic")


def build(places: int, indicators: int, replicates: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    keys = [f"indicator_{i}" for i in range(indicators)]
    frame = pd.DataFrame(
        {
            "indicator": np.repeat(keys, places),
            "place": np.tile([f"P{p:05d}" for p in range(places)], indicators),
            "year": 2022,
            "cohort": "foreign_born",
            "estimate": rng.uniform(0.2, 0.8, places * indicators),
            "se": rng.uniform(0.005, 0.04, places * indicators),
            "n_unweighted": 500.0,
            "label": np.repeat(keys, places),
            "higher_is_better": True,
            "unit": "share",
            "domain": np.repeat([DOMAINS[i % 4] for i in range(indicators)], places),
        }
    )
    est = sc.estimates_from_frame(frame, survey="acs5")
    if replicates:
        theta = est["estimate"].values[..., None]
        spread = est["se"].values[..., None] / np.sqrt(4.0) * rng.standard_normal(theta.shape[:-1] + (80,))
        est["replicate_estimate"] = (est["estimate"].dims + ("replicate",), np.concatenate([theta, theta + spread], -1))
        est = est.assign_coords(replicate=np.arange(81))
    return est


def timed(function, repeat: int):
    best, peak, result = np.inf, 0, None
    for _ in range(repeat):
        tracemalloc.start()
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, peak / 2**20, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=2400)
    parser.add_argument("--indicators", type=int, default=10)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs-places", type=int, default=300)
    parser.add_argument("--replicates", action="store_true")
    args = parser.parse_args()
    est = build(args.places, args.indicators, args.replicates)
    keys = est["indicator"].values.tolist()
    estimate = est["estimate"].values.squeeze()
    se = est["se"].values.squeeze()

    rows = []
    base, base_mb, _ = timed(lambda: independent_draws(estimate, se, args.draws, seed=0), args.repeat)
    rows.append(("numpy pass: draws x places x indicators", base, base_mb))
    joint, joint_mb, _ = timed(lambda: [sc.rank_intervals(est, indicator=k, method="joint") for k in keys], args.repeat)
    rows.append((f"rank_intervals joint, {len(keys)} indicators", joint, joint_mb))

    def scores():
        card = sc.Scorecard(est, year=2022, draws=args.draws, seed=0)
        _ = card.scores
        return card

    score, score_mb, card = timed(scores, args.repeat)
    rows.append(("Scorecard.scores (SE, bounds from draws)", score, score_mb))
    rank, rank_mb, _ = timed(lambda: card.ranks(k=10), args.repeat)
    rows.append(("card.ranks (rank interval, P(top 10))", rank, rank_mb))
    small = est.isel(place=slice(0, args.pairs_places))
    pairs, pairs_mb, _ = timed(
        lambda: sc.rank_intervals(small, indicator=keys[0], method="simultaneous", draws=args.draws, seed=0), 1
    )
    rows.append((f"rank_intervals simultaneous, {args.pairs_places} places, 1 indicator", pairs, pairs_mb))

    kind = "replicates" if args.replicates else "independent SEs"
    print(f"{args.places} places x {args.indicators} indicators, {args.draws} draws, {kind}")
    print(f"{'step':58s} {'seconds':>9s} {'peak MB':>9s} {'x numpy':>8s}")
    for name, seconds, peak in rows:
        print(f"{name:58s} {seconds:9.3f} {peak:9.1f} {seconds / base:8.1f}")
    total = joint + score + rank
    print(f"{'joint ranks + scores + composite ranks':58s} {total:9.3f} {'':9s} {total / base:8.1f}")


if __name__ == "__main__":
    main()
