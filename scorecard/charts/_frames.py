"""From contract Datasets to the tidy frames the charts draw (private helpers shared by every chart kind).

Examples
--------
>>> import xarray as xr
>>> ds = xr.Dataset({"estimate": ("place", [0.5, 0.2]), "moe90": ("place", [0.1, 0.05])},
...                 coords={"place": ["a", "b"]})
>>> frame = with_bounds(tidy(ds, ["estimate", "moe90"]))
>>> frame[["lower", "upper"]].round(2).values.tolist()
[[0.4, 0.6], [0.15, 0.25]]
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.errors import ChartError

__all__ = [
    "check_estimates", "units_of", "labels_of", "select", "tidy", "with_bounds", "years_of", "ordinal",
    "cohort_names", "cohort_name", "experimental_years", "caveat_2020",
]

def check_estimates(ds: xr.Dataset, who: str) -> xr.Dataset:
    """Validate an estimates Dataset with the contract's validator (raises EstimatesContractError)."""
    if not isinstance(ds, xr.Dataset):
        raise ChartError(f"{who} takes an estimates xarray.Dataset; got {type(ds).__name__}. "
                         "Pass the output of scorecard.estimate, read_acs_tables or estimates_from_frame.")
    from scorecard.estimates import validate_estimates

    return validate_estimates(ds)


def units_of(ds: xr.Dataset) -> pd.Series:
    """Indicator -> unit (``share``, ``dollars``, ``count``, ``number``), the contract's ``unit`` coord."""
    index = pd.Index(ds["indicator"].values, name="indicator")
    if "unit" not in ds.coords:
        raise ChartError("The data has no 'unit' coord on indicator; build it with the estimates contract "
                         "(scorecard.estimate, read_acs_tables or estimates_from_frame), or pass estimates=.")
    return pd.Series(np.atleast_1d(ds["unit"].values).astype(str), index=index, name="unit")


def labels_of(ds: xr.Dataset) -> pd.Series:
    """Indicator -> label (``indicator_label`` coord, else the key)."""
    index = pd.Index(ds["indicator"].values, name="indicator")
    values = ds["indicator_label"].values.astype(str) if "indicator_label" in ds.coords else index.astype(str)
    return pd.Series(values, index=index, name="indicator_label")


def years_of(ds: xr.Dataset) -> list[int]:
    """Survey years present (empty when there is no ``year``)."""
    return [int(y) for y in np.atleast_1d(ds["year"].values)] if "year" in ds.coords else []


def _pick(ds: xr.Dataset, dim: str, value, who: str):
    values = list(np.atleast_1d(ds[dim].values))
    wanted = list(value) if isinstance(value, list | tuple) else [value]
    names = {str(v) for v in values}
    if dim == "place" and "place_name" in ds.coords:
        by_name = dict(zip(np.atleast_1d(ds["place_name"].values).astype(str), values))
        wanted = [by_name.get(str(w), w) for w in wanted]
    absent = [w for w in wanted if str(w) not in names]
    if absent:
        known = sorted(names | (set(by_name) if dim == "place" and "place_name" in ds.coords else set()))
        close = difflib.get_close_matches(str(absent[0]), known, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ChartError(f"{who}: {dim} {absent} is not in the data; it has {known[:14]}.{hint}")
    typed = [values[[str(v) for v in values].index(str(w))] for w in wanted]
    return typed if isinstance(value, list | tuple) else typed[0]


def select(ds: xr.Dataset, who: str, *, keep: Sequence[str], **selectors) -> xr.Dataset:
    """Select coordinates by value (places also by name), drop length-1 dims, refuse any other leftover dim.

    Parameters
    ----------
    ds : xarray.Dataset
    who : str
        Chart name, for error messages.
    keep : sequence of str
        Dims the chart draws along (kept even when of length 1).
    **selectors
        dim -> value or list of values; ``None`` skips the dim.
    """
    # Charts draw full-sample figures: replicate estimates (kept for within-year contrasts) are not drawn.
    ds = ds.drop_vars([name for name in ds.variables if "replicate" in ds[name].dims and name != "replicate"])
    ds = ds.drop_dims([dim for dim in ("replicate",) if dim in ds.dims])
    for dim, value in selectors.items():
        if value is None or dim not in ds.dims and dim not in ds.coords:
            continue
        ds = ds.sel({dim: _pick(ds, dim, value, who)})
    extra = [dim for dim in ds.dims if dim not in keep]
    too_long = [dim for dim in extra if ds.sizes[dim] > 1]
    if too_long:
        sizes = {dim: ds.sizes[dim] for dim in too_long}
        raise ChartError(f"{who} draws along {list(keep)} but the data also varies along {sizes}; "
                         f"choose one value of each, e.g. {too_long[0]}={ds[too_long[0]].values[0]!r}.")
    return ds.squeeze([dim for dim in extra], drop=False) if extra else ds


def tidy(ds: xr.Dataset, variables: Sequence[str]) -> pd.DataFrame:
    """One row per cell with the variables and every coord as columns."""
    present = [name for name in variables if name in ds.data_vars]
    frame = ds[present].to_dataframe()
    return frame.reset_index() if frame.index.names != [None] else frame


def with_bounds(frame: pd.DataFrame, value: str = "estimate", moe: str = "moe90", *, unit: str | None = None) -> pd.DataFrame:
    """Add ``lower``/``upper`` = value -/+ MOE (precomputed bounds the charts pass to y/y2).

    With ``unit`` the drawn interval stays inside what the quantity can be: shares in [0, 1], dollars and
    counts >= 0 (the MOE itself is reported unchanged in labels and tooltips).

    Examples
    --------
    >>> with_bounds(pd.DataFrame({"estimate": [0.98], "moe90": [0.05]}), unit="share")["upper"].tolist()
    [1.0]
    """
    lower, upper = frame[value] - frame[moe], frame[value] + frame[moe]
    if unit in ("share", "dollars", "count"):
        lower = lower.clip(lower=0.0)
    if unit == "share":
        upper = upper.clip(upper=1.0)
    return frame.assign(lower=lower, upper=upper)


def ordinal(numbers) -> np.ndarray:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd' (vectorized).

    Examples
    --------
    >>> ordinal([1, 2, 3, 4, 11, 12, 13, 21, 102]).tolist()
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '102nd']
    """
    n = np.asarray(numbers).astype(int)
    last, teen = n % 10, (n % 100 >= 11) & (n % 100 <= 13)
    suffix = np.where(teen, "th", np.select([last == 1, last == 2, last == 3], ["st", "nd", "rd"], "th"))
    return np.char.add(n.astype(str), suffix)


def cohort_names(ds: xr.Dataset) -> pd.Series:
    """Cohort code -> words for legends: ``"1990-1999"`` -> ``"Arrived 1990-1999"``, ``"native"`` -> ``"Native-born"``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(coords={"cohort": ["native", "foreign_born", "all", "-1979", "1980-1989", "2010-"]})
    >>> cohort_names(ds).tolist()
    ['Native-born', 'All foreign-born', 'Everyone', 'Arrived before 1980', 'Arrived 1980-1989', 'Arrived 2010 or later']
    """
    codes = pd.Series(np.atleast_1d(ds["cohort"].values).astype(str))
    fixed = {"native": "Native-born", "foreign_born": "All foreign-born", "all": "Everyone"}
    before = codes.str.startswith("-")
    after = codes.str.endswith("-") & ~before
    upper = pd.to_numeric(codes.str.lstrip("-"), errors="coerce") + 1
    words = np.select(
        [codes.isin(list(fixed)), before, after],
        [codes.map(fixed), "Arrived before " + upper.astype("Int64").astype(str), "Arrived " + codes.str.rstrip("-") + " or later"],
        "Arrived " + codes,
    )
    return pd.Series(words, index=pd.Index(codes, name="cohort"), name="cohort_name")


def cohort_name(code: str) -> str:
    """Words for one cohort code (see :func:`cohort_names`)."""
    return str(cohort_names(xr.Dataset(coords={"cohort": [str(code)]})).iloc[0])


def experimental_years(ds: xr.Dataset) -> list[int]:
    """Years whose weights are experimental (the ACS 2020 1-year), from the ``experimental_weights`` year coord."""
    if "experimental_weights" not in ds.coords or "year" not in ds.coords:
        return []
    flags = np.atleast_1d(ds["experimental_weights"].values).astype(bool)
    return [int(y) for y in np.atleast_1d(ds["year"].values)[flags]]


def caveat_2020(years: Sequence[int]) -> str:
    """Subtitle/report line for years with experimental weights ('' when none)."""
    if not years:
        return ""
    listed = ", ".join(map(str, years))
    return (f"{listed}: ACS 1-year data released with experimental weights (pandemic nonresponse); "
            "compare with other years with care.")
