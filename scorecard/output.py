"""Writing an estimates Dataset to files people and programs read.

:func:`tidy` flattens the Dataset to one row per (indicator, place, year,
cohort, ...) with every uncertainty column; :func:`write_estimates` writes it
as CSV and Parquet plus the provenance as JSON, each atomically.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": ["all"], "year": 2020,
...                                          "estimate": 0.5, "se": 0.1}), survey="acs1")
>>> table = tidy(est)
>>> table.columns.tolist()[:6], bool(table["experimental_weights"].iloc[0])
(['indicator', 'place', 'year', 'cohort', 'indicator_label', 'statistic'], True)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import xarray as xr

from scorecard.atomic import atomic_write, atomic_write_text
from scorecard.estimates import to_frame

__all__ = ["tidy", "write_estimates"]

_ORDER = ["estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted", "reliable", "reason"]


def tidy(est: xr.Dataset) -> pd.DataFrame:
    """One row per cell with label coordinates and every uncertainty column (no replicates).

    The same table as :func:`scorecard.estimates.to_frame` (the contract's tidy form).
    """
    return to_frame(est)


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
