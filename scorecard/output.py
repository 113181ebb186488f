"""Writing an estimates Dataset to files people and programs read.

:func:`tidy` flattens the Dataset to one row per (indicator, place, year,
cohort, ...) with every uncertainty column; :func:`write_estimates` writes it
as CSV and Parquet plus the provenance as JSON, each atomically.

Examples
--------
>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset({"estimate": (("indicator", "place"), [[0.5]]), "se": (("indicator", "place"), [[0.1]])},
...                 coords={"indicator": ["naturalized"], "place": ["all"]})
>>> tidy(ds).columns.tolist()
['indicator', 'place', 'estimate', 'se']
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import xarray as xr

from scorecard.atomic import atomic_write, atomic_write_text

__all__ = ["tidy", "write_estimates"]

_ORDER = ["estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted", "reliable", "reason"]


def tidy(est: xr.Dataset) -> pd.DataFrame:
    """One row per cell with label coordinates and every uncertainty column (no replicates)."""
    variables = [v for v in _ORDER if v in est] + [v for v in est.data_vars if v not in _ORDER and "replicate" not in est[v].dims]
    frame = est[variables].to_dataframe().reset_index()
    dims = [d for d in est["estimate"].dims]
    labels = [c for c in frame.columns if c not in dims and c not in variables]
    return frame[dims + labels + variables]


def write_estimates(est: xr.Dataset, directory: str | os.PathLike, *, stem: str = "estimates") -> dict[str, Path]:
    """Write ``{stem}.csv``, ``{stem}.parquet`` and ``{stem}.json`` (provenance) into ``directory``.

    Returns
    -------
    dict
        Kind (``"csv"``, ``"parquet"``, ``"json"``) -> path written.
    """
    directory = Path(directory)
    table = tidy(est)
    paths = {
        "csv": atomic_write(directory / f"{stem}.csv", lambda p: table.to_csv(p, index=False)),
        "parquet": atomic_write(directory / f"{stem}.parquet", lambda p: table.to_parquet(p, index=False)),
    }
    attrs = {k: (json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v) for k, v in est.attrs.items()}
    paths["json"] = atomic_write_text(directory / f"{stem}.json", json.dumps(attrs, indent=2, default=str))
    return paths
