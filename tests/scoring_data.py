"""Small estimates Datasets with known numbers for the scoring tests, built by the contract's own
``scorecard.estimates_from_frame``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

import scorecard as sc

DIMS = ("indicator", "place", "year", "cohort")


def frame_dataset(
    frame: pd.DataFrame,
    *,
    directions: dict | None = None,
    replicates: np.ndarray | None = None,
    survey: str = "acs1",
    n_unweighted: float = 1000.0,
) -> xr.Dataset:
    """Contract Dataset from a tidy frame (cohort default "foreign_born", year 2020, place names "<code> city").

    ``directions`` gives ``higher_is_better`` (and a label) for indicators the registry does not know;
    ``replicates`` (indicator, place, year, cohort, 81) become ``replicate_estimate``.
    """
    frame = frame.copy()
    frame["cohort"] = frame["cohort"] if "cohort" in frame else "foreign_born"
    frame["year"] = frame["year"] if "year" in frame else 2020
    frame["place_name"] = frame["place"].astype(str) + " city"
    frame["n_unweighted"] = n_unweighted
    for key, direction in (directions or {}).items():
        rows = frame["indicator"] == key
        frame.loc[rows, "higher_is_better"] = bool(direction)
        frame.loc[rows, "label"] = key
        frame.loc[rows, "unit"] = "number"
    ds = sc.estimates_from_frame(frame, survey=survey)
    if replicates is not None:
        ds["replicate_estimate"] = (DIMS + ("replicate",), replicates)
        ds = ds.assign_coords(replicate=np.arange(replicates.shape[-1]))
    return ds
