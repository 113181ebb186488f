"""Small estimates Datasets with known numbers for the scoring tests.

``frame_dataset`` builds the contract layout from a tidy frame (indicator,
place, year, cohort, estimate, se) through :func:`scorecard.estimates.finish`,
the builder every route uses for ``moe90``, ``cv`` and ``reliable``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.estimates import finish

DIMS = ("indicator", "place", "year", "cohort")


def _label(key: str) -> str:
    import indicators

    try:
        return indicators.get(key).label
    except KeyError:
        return key


def frame_dataset(
    frame: pd.DataFrame,
    *,
    directions: dict | None = None,
    replicates: np.ndarray | None = None,
    survey: str = "acs1",
    n_unweighted: float = 1000.0,
) -> xr.Dataset:
    """Contract Dataset from a tidy frame; ``replicates`` (indicator, place, year, cohort, 81) optional."""
    frame = frame.copy()
    if "cohort" not in frame:
        frame["cohort"] = "foreign_born"
    if "year" not in frame:
        frame["year"] = 2020
    cube = frame.set_index(list(DIMS))[["estimate", "se"]].to_xarray()
    ds = xr.Dataset({"estimate": cube["estimate"].transpose(*DIMS), "se": cube["se"].transpose(*DIMS)})
    ds["n_unweighted"] = xr.full_like(ds["estimate"], n_unweighted)
    ds["universe_weighted"] = xr.full_like(ds["estimate"], 1e5)
    directions = directions or {}
    ds = ds.assign_coords(
        indicator_label=("indicator", [_label(str(i)) for i in ds["indicator"].values]),
        statistic=("indicator", ["proportion"] * ds.sizes["indicator"]),
        higher_is_better=("indicator", [float(directions.get(i, 1.0)) for i in ds["indicator"].values]),
        unit=("indicator", ["share"] * ds.sizes["indicator"]),
        place_name=("place", [f"{p} city" for p in ds["place"].values]),
        cohort_kind=("cohort", ["nativity" if c in ("native", "foreign_born") else "all" for c in ds["cohort"].values]),
        entry_first=("cohort", [np.nan] * ds.sizes["cohort"]),
        entry_last=("cohort", [np.nan] * ds.sizes["cohort"]),
        period_start=("year", [int(y) - (4 if survey == "acs5" else 0) for y in ds["year"].values]),
        puma_vintage=("year", [np.nan] * ds.sizes["year"]),
        experimental_weights=("year", [False] * ds.sizes["year"]),
    )
    if replicates is not None:
        ds["replicate_estimate"] = (DIMS + ("replicate",), replicates)
        ds = ds.assign_coords(replicate=np.arange(replicates.shape[-1]))
    ds = finish(ds)
    ds.attrs.update(
        route="frame",
        survey=survey,
        dollars_year=2020,
        variance_method="published_moe",
        sources="[]",
        library="integration-scorecard",
    )
    return ds
