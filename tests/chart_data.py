"""Test inputs for charts and reports, in the shapes of notes/contract.md, with numbers computed here in plain steps.

The Scorecard, rank intervals, progress and cohort gaps are built by other
modules; the charts and the report only read Datasets/DataFrames of the
contract's shapes. These builders make such objects from an estimates Dataset
with simple, obvious formulas, so tests know every number drawn.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from scorecard import uncertainty

DEMO_INDICATORS = ["english_very_well", "naturalized", "homeownership", "median_household_income", "population"]


@lru_cache(maxsize=2)
def demo_estimates(scale: str = "small") -> xr.Dataset:
    """``sc.estimate`` on the demo data: five indicators, six cities, decade arrival cohorts."""
    import cohorts
    import scorecard as sc

    paths = sc.datasets.demo_paths(scale=scale)
    micro = sc.datasets.demo(scale=scale)
    places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    est = sc.estimate(micro, DEMO_INDICATORS, places=places,
                      cohorts=cohorts.ArrivalCohorts.decades(1970, 2010, open_start=True))
    return est


def demo_coverage(scale: str = "small") -> pd.DataFrame:
    import scorecard as sc

    paths = sc.datasets.demo_paths(scale=scale)
    return sc.Places.from_crosswalk(list(paths["crosswalks"].values())).coverage


def scores_like(est: xr.Dataset, *, year: int, cohort: str = "foreign_born") -> xr.Dataset:
    """Min-max scores (0 = worst place, 1 = best) over reliable cells, in ``Scorecard.scores``' shape."""
    one = est.sel(year=year, cohort=cohort)
    one = one.sel(indicator=[k for k in one["indicator"].values if one["higher_is_better"].sel(indicator=k) in (0.0, 1.0)])
    included = one["reliable"] == "reliable"
    value = one["estimate"].where(included)
    low, high = value.min("place"), value.max("place")
    score = (value - low) / (high - low)
    score = xr.where(one["higher_is_better"] == 0.0, 1 - score, score)
    domains = {item["key"]: item["domain"] for item in json.loads(est.attrs.get("indicators", "[]"))}
    return xr.Dataset({"score": score, "included": included},
                      coords={"domain": ("indicator", [domains.get(str(k), "other") for k in one["indicator"].values])},
                      attrs={"method": "minmax", "year": year, "cohort": cohort, "focus": "", "scale": "{}"}).drop_vars(
                          ["year", "cohort"], errors="ignore")


def ranks_like(est: xr.Dataset, *, indicator: str, year: int, cohort: str = "foreign_born") -> xr.Dataset:
    """Point ranks and a simple overlap rank set: place i can be no better than 1 + #(places surely above it)."""
    one = est.sel(indicator=indicator, year=year, cohort=cohort)
    value, moe = one["estimate"].values, one["moe90"].values
    lower, upper = value - moe, value + moe
    surely_above = (lower[None, :] > upper[:, None]).sum(axis=1)
    surely_below = (upper[None, :] < lower[:, None]).sum(axis=1)
    rank = (-value).argsort().argsort() + 1
    n = len(value)
    return xr.Dataset(
        {"rank": ("place", rank), "rank_lower": ("place", 1 + surely_above), "rank_upper": ("place", n - surely_below),
         "estimate": ("place", value), "se": ("place", one["se"].values)},
        coords={"place": one["place"].values, "place_name": ("place", one["place_name"].values)},
        attrs={"method": "overlap (test)", "coverage": 0.9, "indicator": indicator, "year": year, "cohort": cohort,
               "higher_is_better": 1.0},
    )


def progress_like(est: xr.Dataset, *, start: int, end: int, cohort: str = "foreign_born", fdr: float = 0.10) -> pd.DataFrame:
    """``Scorecard.progress`` shape: independent-years SE, BH over all rows."""
    a, b = est.sel(year=start, cohort=cohort), est.sel(year=end, cohort=cohort)
    frame = pd.DataFrame({
        "place": np.repeat(a["place"].values[None, :], a.sizes["indicator"], 0).ravel(),
        "place_name": np.repeat(a["place_name"].values[None, :], a.sizes["indicator"], 0).ravel(),
        "indicator": np.repeat(a["indicator"].values, a.sizes["place"]),
        "indicator_label": np.repeat(a["indicator_label"].values, a.sizes["place"]),
        "unit": np.repeat(a["unit"].values, a.sizes["place"]),
        "cohort": cohort, "start": start, "end": end,
        "estimate_start": a["estimate"].transpose("indicator", "place").values.ravel(),
        "estimate_end": b["estimate"].transpose("indicator", "place").values.ravel(),
        "reliable_start": a["reliable"].transpose("indicator", "place").values.ravel(),
        "reliable_end": b["reliable"].transpose("indicator", "place").values.ravel(),
    })
    se = uncertainty.se_independent(a["se"].transpose("indicator", "place").values.ravel(),
                                    b["se"].transpose("indicator", "place").values.ravel())
    frame["change"] = frame["estimate_end"] - frame["estimate_start"]
    frame["se"], frame["moe90"] = se, 1.645 * se
    _, p, _ = uncertainty.significance(frame["change"].to_numpy(), se)
    frame["p_value"] = p
    _, discovery = uncertainty.benjamini_hochberg(np.nan_to_num(p, nan=1.0), rate=fdr)
    frame["significant"] = discovery
    unreliable = frame["reliable_start"].ne("reliable") | frame["reliable_end"].ne("reliable")
    frame["direction"] = np.select([frame["change"].isna(), unreliable, ~discovery, frame["change"] > 0],
                                   ["missing", "unreliable", "no measurable change", "gain"], "loss")
    frame["sentence"] = (frame["place_name"] + ": " + frame["indicator_label"] + " " + frame["direction"]
                         + " from " + frame["start"].astype(str) + " to " + frame["end"].astype(str) + ".")
    frame.attrs["rule"] = f"Benjamini-Hochberg false discovery rate {fdr:.0%} over {len(frame)} changes"
    return frame.drop(columns=["reliable_start", "reliable_end"])


def gap_like(est: xr.Dataset, *, reference: str = "native") -> xr.Dataset:
    """``cohorts.gap`` shape: estimate minus the reference cohort (independent-samples SE, for tests only)."""
    ref = est.sel(cohort=reference, drop=True)
    cohorts_kept = [c for c in est["cohort"].values if c != reference]
    other = est.sel(cohort=cohorts_kept)
    gap = other["estimate"] - ref["estimate"]
    se = xr.apply_ufunc(uncertainty.se_independent, other["se"], ref["se"])
    z, p, significant = uncertainty.significance(gap.values, se.values)
    return xr.Dataset({"gap": gap, "se": se, "moe90": 1.645 * se, "z": (gap.dims, z), "p_value": (gap.dims, p),
                       "significant": (gap.dims, significant)},
                      attrs={**est.attrs, "se_method": "independent samples (test fixture)", "reference": reference})
