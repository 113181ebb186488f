"""A city office's own figures (workshops held, ESL seats, language-access budget) as a domain of the card.

The office's CSV has one row per place and figure::

    place,indicator,estimate,se,label,higher_is_better,unit
    Boston,esl_seats_per_1000,4.0,0.2,ESL seats per 1,000 immigrants,true,number

``se`` (or ``moe90``) is optional: a figure without one is a count the office
knows exactly, so its SE is 0 (said in the Dataset's ``reason``). Places are
matched by code or by name; a place the card does not know raises
:class:`~scorecard.errors.ScoringError` listing every unmatched name with the
closest matches. The figures join the card's year and cohort as their own
domain (``domain="local"`` by default; the California scorecard's "warmth of
welcome").

With replicate estimates on the card, the local figures enter every replicate
unchanged (no sampling error in the replicates); their own SEs then do not
reach the score SEs.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"place": ["Boston", "Lowell"], "indicator": "workshops", "estimate": [12, 3],
...                       "label": "Citizenship workshops held", "higher_is_better": True, "unit": "count"})
>>> read_local(frame)[["place", "indicator", "estimate", "se"]].to_dict("records")[0]
{'place': 'Boston', 'indicator': 'workshops', 'estimate': 12.0, 'se': 0.0}
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.errors import ScoringError
from scorecard.estimates import estimates_from_frame, validate_estimates
from scorecard.scoring._select import closest
from scorecard.uncertainty import moe_to_se

__all__ = ["read_local", "join_local"]

_REQUIRED = ("place", "indicator", "estimate")
_OPTIONAL = ("se", "moe90", "label", "higher_is_better", "unit")


def read_local(source: str | os.PathLike | pd.DataFrame, *, domain: str = "local") -> pd.DataFrame:
    """Read and check an office's own figures: a tidy frame with ``se`` filled (0 where none is given).

    Parameters
    ----------
    source : path or DataFrame
        CSV with columns ``place, indicator, estimate`` and optionally ``se`` or
        ``moe90``, ``label``, ``higher_is_better``, ``unit``.
    domain : str, default="local"
        The domain these figures form on the card.
    """
    name = str(source) if not isinstance(source, pd.DataFrame) else "the local figures"
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise ScoringError(f"{path}: local figures file not found.")
        frame = pd.read_csv(path)
    missing = [c for c in _REQUIRED if c not in frame]
    if missing:
        raise ScoringError(
            f"{name} is missing columns {missing} (has {list(frame.columns)}); each row needs place, indicator, estimate."
        )
    unknown = [c for c in frame if c not in _REQUIRED + _OPTIONAL]
    if unknown:
        raise ScoringError(f"{name}: unknown columns {unknown}; known: {list(_REQUIRED + _OPTIONAL)}.")
    values = pd.to_numeric(frame["estimate"], errors="coerce")
    bad = values.isna() & frame["estimate"].notna()
    if bad.any():
        raise ScoringError(
            f"{name}: column estimate has non-numbers {frame.loc[bad, 'estimate'].head().tolist()} "
            f"(rows {frame.index[bad][:5].tolist()}); write plain numbers."
        )
    frame["estimate"] = values.astype(float)
    if "se" not in frame:
        frame["se"] = moe_to_se(pd.to_numeric(frame["moe90"], errors="coerce")) if "moe90" in frame else np.nan
    frame["se"] = pd.to_numeric(frame["se"], errors="coerce").fillna(0.0)
    duplicated = frame.duplicated(["place", "indicator"])
    if duplicated.any():
        raise ScoringError(
            f"{name}: place and indicator repeat in rows {frame.index[duplicated][:5].tolist()}; give each figure once."
        )
    frame["domain"] = domain
    return frame.drop(columns=[c for c in ("moe90",) if c in frame])


def join_local(est: xr.Dataset, local, *, places, year, cohort) -> xr.Dataset:
    """``est`` with the local figures added as indicators of the card's year and cohort."""
    frame = local if isinstance(local, pd.DataFrame) and "domain" in local else read_local(local)
    codes = est["place"].values.astype(str).tolist()
    names = est["place_name"].values.astype(str).tolist()
    by_name = dict(zip(names, codes, strict=True))
    mapped = frame["place"].astype(str).map(lambda p: p if p in codes else by_name.get(p))
    unmatched = sorted(set(frame.loc[mapped.isna(), "place"].astype(str)))
    if unmatched:
        raise ScoringError(
            f"The local figures name {len(unmatched)} place(s) the card does not know: {closest(unmatched, names + codes)}. "
            "Use the card's place codes or names."
        )
    clash = sorted(set(frame["indicator"]) & set(est["indicator"].values.tolist()))
    if clash:
        raise ScoringError(
            f"The local figures reuse indicator keys of the estimates: {clash}; give them their own keys."
        )
    frame = frame.assign(place=mapped, year=int(year), cohort=str(cohort))
    frame["place_name"] = frame["place"].map(dict(zip(codes, names, strict=True)))
    extra = estimates_from_frame(frame, survey=est.attrs.get("survey") or None)
    extra = extra.assign(
        reason=extra["reason"].where(extra["se"] > 0, "local figure without a standard error (taken as exact)")
    )
    extra = extra.reindex(place=est["place"].values)
    if "replicate_estimate" in est:
        extra["replicate_estimate"] = extra["estimate"].expand_dims(replicate=est["replicate"].values, axis=-1)
    merged = xr.merge([est, extra], join="outer", combine_attrs="override", compat="no_conflicts")
    merged = merged.assign_coords(
        period_start=merged["period_start"].astype("int64"),
        experimental_weights=merged["experimental_weights"].astype(bool),
    )
    for variable, fill in (("reliable", "missing"), ("reason", "not in the local figures")):
        merged[variable] = merged[variable].where(merged[variable].notnull(), fill)
    return validate_estimates(merged)
