"""The estimates Dataset: one checked contract for every route.

Every route (microdata through :func:`scorecard.estimate`, published tables
through :func:`scorecard.read_acs_tables`, any tidy table through
:func:`estimates_from_frame`) builds its Dataset with :func:`build_estimates`,
and every layer above (cohorts, scores, ranks, charts, report) reads only it.
:func:`validate_estimates` checks the contract and names every problem at once.

Dims ``("indicator", "place", "year", "cohort")`` plus any extra grouping dims
(e.g. ``age_band``); ``replicate`` (0 = full sample, 1..R) only on
``replicate_estimate``. Data variables:

| variable | what it holds |
|---|---|
| ``estimate`` | the point estimate (shares as proportions 0-1) |
| ``se`` | standard error (>= 0) |
| ``moe90`` | 90% margin of error, ``1.645 * se`` |
| ``cv`` | coefficient of variation ``se / abs(estimate)`` (see below) |
| ``n_unweighted`` | unweighted records in the universe (NaN for published figures) |
| ``universe_weighted`` | weighted size of the universe (denominator) |
| ``reliable`` | ``"reliable"``, ``"caution"``, ``"unreliable"`` (also when no SE can be computed) or ``"missing"`` |
| ``reason`` | why an estimate is missing (empty string when it is not) |

Coordinates: ``indicator_label``, ``statistic``, ``higher_is_better`` (1.0 /
0.0; NaN for context figures, such as a population count, that are never
scored), ``unit`` (``share``,
``dollars``, ``count``, ``number``) and ``domain`` on ``indicator``;
``place_name`` on ``place``; ``cohort_kind``, ``entry_first``, ``entry_last`` on
``cohort``; and per ``year`` (an integer): ``period_start`` (= year for 1-year
data, year − 4 for 5-year), ``puma_vintage`` (NaN where not applicable) and
``experimental_weights`` (the 2020 ACS 1-year caveat travels with the numbers,
through caches, NetCDF files and merges). Attributes: ``route`` (``microdata``,
``tables``, ``frame``), ``survey``, ``dollars_year``, ``variance_method``,
``sources`` (JSON list), ``library``, ``reliability`` (JSON); any other
attribute whose value is a dict, list or dataclass is stored as JSON text
(:func:`attribute` decodes it).

CV convention: for every statistic the CV is ``se / |estimate|``. For
proportions this is the CV of the share itself, as the Census Bureau computes
it for published percentages; a share near 0 therefore has a large CV and is
flagged, which is the intended warning (``Reliability(complement_cv=True)``
judges a share by ``se / min(p, 1 − p)``).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"indicator": "naturalized", "place": ["Boston", "Lowell"], "year": 2024,
...                       "estimate": [0.52, 0.47], "moe90": [0.0329, 0.0658]})
>>> est = estimates_from_frame(frame, survey="acs5")
>>> est["se"].sel(place="Lowell").item(), int(est["period_start"].item())
(0.04, 2020)
>>> validate_estimates(est) is est
True
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cohorts.labels import cohort_order, label_coords
from scorecard.errors import CohortDefinitionError, EstimatesContractError
from scorecard.uncertainty import Z90, z90

__all__ = [
    "Reliability",
    "IndicatorMeta",
    "finish",
    "build_estimates",
    "validate_estimates",
    "estimates_from_frame",
    "to_frame",
    "merge_estimates",
    "attribute",
    "Z90",
    "DIMS",
    "VARIABLES",
    "ROUTES",
    "UNITS",
    "RELIABILITY_LABELS",
]

#: Core dims, in order.
DIMS = ("indicator", "place", "year", "cohort")
#: Data variables every estimates Dataset carries.
VARIABLES = ("estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted", "reliable", "reason")
#: Values of the ``route`` attribute.
ROUTES = ("microdata", "tables", "frame")
#: Values of the ``unit`` coordinate.
UNITS = ("share", "dollars", "count", "number")
#: Values of the ``reliable`` variable.
RELIABILITY_LABELS = ("reliable", "caution", "unreliable", "missing")
#: Years a survey's period spans (period_start = year - span + 1).
_PERIOD_YEARS = {"acs1": 1, "acs3": 3, "acs5": 5}
#: Coordinates the contract requires: name -> (dim, kind) with kind one of str, float, int, bool.
_COORDS = {
    "indicator_label": ("indicator", "str"),
    "statistic": ("indicator", "str"),
    "higher_is_better": ("indicator", "float"),
    "unit": ("indicator", "str"),
    "domain": ("indicator", "str"),
    "place_name": ("place", "str"),
    "cohort_kind": ("cohort", "str"),
    "entry_first": ("cohort", "float"),
    "entry_last": ("cohort", "float"),
    "period_start": ("year", "int"),
    "puma_vintage": ("year", "float"),
    "experimental_weights": ("year", "bool"),
}
_NUMERIC_VARIABLES = ("estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted")
_TEXT_VARIABLES = ("reliable", "reason")
_ATTRS = ("route", "survey", "dollars_year", "variance_method", "sources", "library", "reliability")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reliability:
    """Thresholds that flag estimates.

    Parameters
    ----------
    caution_cv : float, default=0.15
        CV above which an estimate is flagged ``"caution"``.
    unreliable_cv : float, default=0.30
        CV above which an estimate is flagged ``"unreliable"``.
    min_n : int, default=30
        Fewer unweighted records in the universe than this is ``"unreliable"``.
    complement_cv : bool, default=False
        For proportions, judge by ``se / min(p, 1-p)`` instead of ``se / p``.

    Examples
    --------
    >>> Reliability.from_json(Reliability(min_n=50).to_json()).min_n
    50
    """

    caution_cv: float = 0.15
    unreliable_cv: float = 0.30
    min_n: int = 30
    complement_cv: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.caution_cv <= self.unreliable_cv:
            raise ValueError(
                "The 'caution_cv' and 'unreliable_cv' parameters of Reliability must satisfy "
                f"0 < caution_cv <= unreliable_cv. Got {self.caution_cv} and {self.unreliable_cv} instead."
            )
        if self.min_n < 0:
            raise ValueError(f"The 'min_n' parameter of Reliability must be >= 0. Got {self.min_n} instead.")

    def to_json(self) -> str:
        """The thresholds as JSON text (how they travel in a Dataset's attrs)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Reliability:
        """Thresholds back from :meth:`to_json` (e.g. ``ds.attrs["reliability"]``)."""
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorMeta:
    """What the estimates Dataset says about one indicator (its coordinates on ``indicator``).

    Parameters
    ----------
    key : str
    label : str
        What a chart or report shows.
    statistic : str
        ``proportion``, ``mean``, ``median``, ``ratio``, ``total``, ...
    higher_is_better : bool or None
        Direction for scores and ranks; ``None`` for a context figure (a count, a
        mean age) that scores and ranks refuse unless given a direction.
    unit : {"share", "dollars", "count", "number"}
    domain : str, default=""
        Scorecard domain (english, income, housing, civic, ...).

    Examples
    --------
    >>> import indicators
    >>> IndicatorMeta.of(indicators.get("median_household_income")).unit
    'dollars'
    """

    key: str
    label: str
    statistic: str
    higher_is_better: bool | None
    unit: str
    domain: str = ""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise EstimatesContractError(
                f"indicator {self.key!r}: unit {self.unit!r} is not one of {list(UNITS)}; give 'share' for "
                "proportions (0-1), 'dollars', 'count' or 'number'."
            )
        if self.higher_is_better not in (True, False, None):
            raise EstimatesContractError(
                f"indicator {self.key!r}: higher_is_better must be True, False or None (a context figure that is "
                f"never scored); got {self.higher_is_better!r}."
            )

    @classmethod
    def of(cls, definition) -> IndicatorMeta:
        """Metadata of a registry :class:`indicators.Indicator`."""
        if definition.statistic == "proportion":
            unit = "share"
        elif definition.dollars:
            unit = "dollars"
        elif definition.statistic == "total":
            unit = "count"
        else:
            unit = "number"
        return cls(key=definition.key, label=definition.label, statistic=definition.statistic,
                   higher_is_better=definition.higher_is_better, unit=unit, domain=definition.domain or "")


def finish(ds: xr.Dataset, reliability: Reliability | None = None, *, proportion=None) -> xr.Dataset:
    """Add ``moe90``, ``cv``, ``reliable`` (and an empty ``reason`` if absent).

    Parameters
    ----------
    ds : xarray.Dataset
        Must hold ``estimate`` and ``se``; ``n_unweighted`` is used when present.
    reliability : Reliability, optional
        Thresholds; defaults to ``Reliability()``.
    proportion : xarray.DataArray of bool, optional
        Which entries are proportions (used only with ``complement_cv``).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> ds = xr.Dataset({"estimate": ("indicator", [0.5, 0.02]), "se": ("indicator", [0.01, 0.01]),
    ...                  "n_unweighted": ("indicator", [400.0, 400.0])}, coords={"indicator": ["a", "b"]})
    >>> out = finish(ds)
    >>> out["moe90"].values.round(5).tolist(), out["reliable"].values.tolist()
    ([0.01645, 0.01645], ['reliable', 'unreliable'])
    """
    rel = reliability or Reliability()
    dims = ds["estimate"].dims
    estimate = ds["estimate"].values.astype("float64")
    se = ds["se"].transpose(*dims).values.astype("float64")
    magnitude = np.abs(estimate)
    if rel.complement_cv and proportion is not None:
        is_share = proportion.broadcast_like(ds["estimate"]).transpose(*dims).values.astype(bool)
        magnitude = np.where(is_share, np.minimum(magnitude, np.abs(1 - estimate)), magnitude)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(magnitude > 0, se / magnitude, np.where(se == 0, 0.0, np.inf))
    cv[np.isnan(estimate) | np.isnan(se)] = np.nan
    n = ds["n_unweighted"].transpose(*dims).values if "n_unweighted" in ds else np.full(estimate.shape, np.nan)
    labels = np.full(estimate.shape, "reliable", dtype="<U10")
    with np.errstate(invalid="ignore"):
        labels[cv > rel.caution_cv] = "caution"
        labels[(cv > rel.unreliable_cv) | (n < rel.min_n)] = "unreliable"
    labels[np.isnan(se)] = "unreliable"  # no variance available: never "reliable"
    labels[np.isnan(estimate)] = "missing"
    ds = ds.assign(moe90=(dims, Z90 * se), cv=(dims, cv), reliable=(dims, labels))
    if "reason" not in ds:
        ds = ds.assign(reason=(dims, np.full(estimate.shape, "", dtype="<U1")))
    ds.attrs["reliability"] = rel.to_json()
    return ds


# --- the builder -----------------------------------------------------------------------------------


def _attr_value(value):
    """An attribute value a NetCDF file can hold: str / int / float as they are, anything else as JSON."""
    if isinstance(value, bool | np.bool_):
        return json.dumps(bool(value))
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if value is None:
        return ""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, sort_keys=isinstance(value, dict))


def attribute(ds: xr.Dataset, name: str):
    """An attribute decoded: JSON text back to its list or dict, other values as they are.

    Examples
    --------
    >>> ds = xr.Dataset(attrs={"sources": '["psam_p53.csv"]', "survey": "acs1"})
    >>> attribute(ds, "sources"), attribute(ds, "survey")
    (['psam_p53.csv'], 'acs1')
    """
    value = ds.attrs[name]
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _cohort_coords(labels: Sequence[str]) -> pd.DataFrame:
    try:
        return pd.DataFrame(label_coords(labels), index=list(labels))
    except CohortDefinitionError as err:
        raise EstimatesContractError(
            f"{err} Give the cohort coordinates yourself (columns cohort_kind, entry_first, entry_last) for cohorts "
            "of your own."
        ) from None


def _period_start(years: np.ndarray, survey: str) -> np.ndarray:
    return years - (_PERIOD_YEARS.get(survey, 1) - 1)


def build_estimates(
    data: xr.Dataset,
    *,
    indicators: Sequence[IndicatorMeta],
    route: str,
    variance_method: str,
    survey: str = "",
    dollars_year: int | str = "",
    sources: Sequence[str] = (),
    place_names: Mapping[str, str] | None = None,
    years: pd.DataFrame | None = None,
    attrs: Mapping[str, object] | None = None,
    reliability: Reliability | None = None,
) -> xr.Dataset:
    """The one builder of estimates Datasets: every route ends here.

    Parameters
    ----------
    data : xarray.Dataset
        ``estimate`` and ``se`` over at least ``DIMS``; optional
        ``n_unweighted``, ``universe_weighted``, ``reason``,
        ``replicate_estimate`` (with a ``replicate`` dim) and any further
        variable over the same dims (e.g. ``source``). Existing ``place_name``
        or cohort coordinates are kept.
    indicators : sequence of IndicatorMeta
        One per entry of ``data.indicator`` (by key).
    route : {"microdata", "tables", "frame"}
    variance_method : str
        ``sdr``, ``linearization``, ``published_moe``, ``supplied_se``, ``none``.
    survey : str, default=""
        ``acs1``, ``acs3``, ``acs5``, ``census``, ... (sets ``period_start`` and the 2020 caveat).
    dollars_year : int or str, default=""
        Constant-dollar year, or a description such as ``"nominal"``.
    sources : sequence of str
        Files or tables the figures come from.
    place_names : mapping, optional
        Place code -> name (default: an existing ``place_name`` coord, else the code).
    years : pandas.DataFrame, optional
        Indexed by year, any of the columns ``period_start``, ``puma_vintage``,
        ``experimental_weights``; missing ones take the survey's defaults
        (``experimental_weights`` is True for ACS 2020 1-year).
    attrs : mapping, optional
        Further provenance; dicts, lists and dataclasses are stored as JSON.
    reliability : Reliability, optional

    Returns
    -------
    xarray.Dataset
        Checked by :func:`validate_estimates`.
    """
    if route not in ROUTES:
        raise EstimatesContractError(f"route {route!r} is not one of {list(ROUTES)}.")
    missing = [v for v in ("estimate", "se") if v not in data]
    if missing:
        raise EstimatesContractError(f"build_estimates needs the variables {missing}; got {sorted(data.data_vars)}.")
    extra = [d for d in data["estimate"].dims if d not in DIMS]
    dims = (*DIMS, *extra)
    absent = [d for d in DIMS if d not in data["estimate"].dims]
    if absent:
        raise EstimatesContractError(f"'estimate' lacks the dims {absent}; it has {list(data['estimate'].dims)}.")
    ds = data.copy()
    shape = tuple(ds.sizes[d] for d in dims)
    for name in ("n_unweighted", "universe_weighted"):
        if name not in ds:
            ds[name] = (dims, np.full(shape, np.nan))
    if "reason" not in ds:
        ds["reason"] = (dims, np.full(shape, "", dtype="<U1"))
    order = [d for d in dims] + ["replicate"]
    ds = ds.transpose(*[d for d in order if d in ds.dims])
    ds["year"] = ds["year"].astype("int64")

    by_key = {m.key: m for m in indicators}
    keys = [str(k) for k in ds["indicator"].values]
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise EstimatesContractError(f"build_estimates got no IndicatorMeta for the indicators {unknown}.")
    metas = [by_key[k] for k in keys]
    places = [str(p) for p in ds["place"].values]
    if place_names is not None:
        names = [str(place_names.get(p, p)) or p for p in places]
    elif "place_name" in ds.coords:
        names = [str(n) or p for n, p in zip(ds["place_name"].values, places)]
    else:
        names = places
    cohort_labels = [str(c) for c in ds["cohort"].values]
    if all(c in ds.coords for c in ("cohort_kind", "entry_first", "entry_last")):
        cohort_table = pd.DataFrame({c: ds[c].values for c in ("cohort_kind", "entry_first", "entry_last")},
                                    index=cohort_labels)
    else:
        cohort_table = _cohort_coords(cohort_labels)
    year_values = ds["year"].values.astype("int64")
    year_table = pd.DataFrame(index=pd.Index(year_values, name="year"))
    if years is not None:
        year_table = year_table.join(years.reindex(year_values))
    for name in ("period_start", "puma_vintage", "experimental_weights"):
        if name not in year_table and name in ds.coords:
            year_table[name] = ds[name].values
    if "period_start" not in year_table or year_table["period_start"].isna().any():
        default = pd.Series(_period_start(year_values, survey), index=year_table.index)
        year_table["period_start"] = year_table.get("period_start", default).fillna(default)
    if "puma_vintage" not in year_table:
        year_table["puma_vintage"] = np.nan
    if "experimental_weights" not in year_table or year_table["experimental_weights"].isna().any():
        default = pd.Series((survey == "acs1") & (year_values == 2020), index=year_table.index)
        year_table["experimental_weights"] = year_table.get("experimental_weights", default).fillna(default)

    ds = ds.assign_coords(
        indicator=keys,
        indicator_label=("indicator", np.array([m.label for m in metas], dtype=object)),
        statistic=("indicator", np.array([m.statistic for m in metas], dtype=object)),
        higher_is_better=("indicator", np.array([np.nan if m.higher_is_better is None else float(m.higher_is_better)
                                                 for m in metas])),
        unit=("indicator", np.array([m.unit for m in metas], dtype=object)),
        domain=("indicator", np.array([m.domain for m in metas], dtype=object)),
        place=places,
        place_name=("place", np.array(names, dtype=object)),
        cohort=cohort_labels,
        cohort_kind=("cohort", cohort_table["cohort_kind"].astype(str).to_numpy(dtype=object)),
        entry_first=("cohort", cohort_table["entry_first"].to_numpy(dtype=float)),
        entry_last=("cohort", cohort_table["entry_last"].to_numpy(dtype=float)),
        period_start=("year", year_table["period_start"].to_numpy().astype("int64")),
        puma_vintage=("year", year_table["puma_vintage"].to_numpy(dtype=float)),
        experimental_weights=("year", year_table["experimental_weights"].to_numpy().astype(bool)),
    )
    proportion = xr.DataArray(np.array([m.statistic == "proportion" for m in metas]), dims="indicator")
    ds = finish(ds, reliability, proportion=proportion)
    ds.attrs = {
        **{k: _attr_value(v) for k, v in (attrs or {}).items()},
        "route": route,
        "survey": survey or "",
        "dollars_year": _attr_value(dollars_year),
        "variance_method": variance_method,
        "sources": json.dumps([str(s) for s in sources]),
        "library": f"integration-scorecard {_library_version()}",
        "reliability": (reliability or Reliability()).to_json(),
    }
    variables = [*VARIABLES, *[v for v in ds.data_vars if v not in VARIABLES]]
    return validate_estimates(ds[variables])


def _library_version() -> str:
    from scorecard import __version__

    return __version__


# --- the check -------------------------------------------------------------------------------------


def _kind_of(values: np.ndarray) -> str:
    if values.dtype == bool:
        return "bool"
    if np.issubdtype(values.dtype, np.integer):
        return "int"
    if np.issubdtype(values.dtype, np.floating):
        return "float"
    if values.dtype.kind == "U" or (values.dtype == object and all(isinstance(v, str) for v in values.ravel())):
        return "str"
    return str(values.dtype)


def _matches(kind: str, wanted: str) -> bool:
    return kind == wanted or (wanted == "float" and kind == "int")


def validate_estimates(ds: xr.Dataset) -> xr.Dataset:
    """Check an estimates Dataset against the contract; return it unchanged.

    Checks dims, variables, dtypes, coordinates and attributes as the module
    docstring lists them, and the values that would make every layer above
    wrong: negative SEs, ``moe90`` not ``1.645 · se``, unknown reliability
    labels, shares outside 0-1, a direction missing on a scored indicator,
    duplicate labels, replicate 0 differing from ``estimate``.

    Raises
    ------
    EstimatesContractError
        Naming every problem found, at once.

    Examples
    --------
    >>> bad = xr.Dataset({"estimate": (("indicator", "place", "year", "cohort"), [[[[0.5]]]])})
    >>> try:
    ...     validate_estimates(bad)
    ... except EstimatesContractError as err:
    ...     print(str(err).splitlines()[1])
    - missing variable 'se'; build estimates with scorecard.estimates_from_frame (or sc.estimate / sc.read_acs_tables), ...
    """
    if not isinstance(ds, xr.Dataset):
        raise EstimatesContractError(
            f"An estimates Dataset (xarray.Dataset) was expected; got {type(ds).__name__}. Build one with "
            "sc.estimate, sc.read_acs_tables or sc.estimates_from_frame."
        )
    problems: list[str] = []
    how = "build estimates with scorecard.estimates_from_frame (or sc.estimate / sc.read_acs_tables), which add it"
    for name in VARIABLES:
        if name not in ds:
            problems.append(f"missing variable {name!r}; {how}")
    if "estimate" in ds:
        dims = ds["estimate"].dims
        for d in DIMS:
            if d not in dims:
                problems.append(f"'estimate' lacks the dim {d!r} (it has {list(dims)}); every estimates Dataset has "
                                f"dims {list(DIMS)} (use size-1 dims, e.g. cohort 'all')")
        if "replicate" in dims:
            problems.append("'estimate' has a 'replicate' dim; replicates belong in 'replicate_estimate'")
        for name in VARIABLES:
            if name in ds and set(ds[name].dims) != set(dims):
                problems.append(f"variable {name!r} has dims {list(ds[name].dims)}, expected those of 'estimate' {list(dims)}")
        if "replicate_estimate" in ds:
            rep = ds["replicate_estimate"]
            if set(rep.dims) != {*dims, "replicate"}:
                problems.append(f"'replicate_estimate' has dims {list(rep.dims)}, expected {[*dims, 'replicate']}")
            elif "replicate" not in ds.coords or not np.array_equal(ds["replicate"].values, np.arange(ds.sizes["replicate"])):
                problems.append("coord 'replicate' must number the columns 0 (full sample), 1..R")
            else:
                full = rep.isel(replicate=0).transpose(*dims).values
                est = ds["estimate"].values
                differs = ~np.isclose(full, est, rtol=1e-12, atol=0, equal_nan=True) & ~np.isnan(est)
                if differs.any():
                    problems.append(f"'replicate_estimate' at replicate 0 differs from 'estimate' in {int(differs.sum())} cells")
    for d in DIMS:
        if d in ds.dims and d in ds.coords:
            values = ds[d].values
            if len(pd.unique(values)) != len(values):
                duplicated = pd.Series(values)[pd.Series(values).duplicated()].unique().tolist()
                problems.append(f"dim {d!r} has duplicate labels {duplicated[:5]}")
        elif d in ds.dims:
            problems.append(f"dim {d!r} has no coordinate labels")
    if "year" in ds.coords and not np.issubdtype(ds["year"].dtype, np.integer):
        problems.append(f"coord 'year' must be integers; got dtype {ds['year'].dtype} (e.g. {ds['year'].values[:3].tolist()}): "
                        "convert with ds.assign_coords(year=ds.year.astype(int))")
    for name in _NUMERIC_VARIABLES:
        if name in ds and not np.issubdtype(ds[name].dtype, np.number):
            problems.append(f"variable {name!r} must be numeric; got dtype {ds[name].dtype}")
    for name in _TEXT_VARIABLES:
        if name in ds and _kind_of(ds[name].values) != "str":
            problems.append(f"variable {name!r} must hold text; got dtype {ds[name].dtype}")
    for name, (dim, kind) in _COORDS.items():
        if name not in ds.coords:
            problems.append(f"coord {name!r} missing on {dim}")
        elif ds[name].dims != (dim,):
            problems.append(f"coord {name!r} must lie along {dim!r}; it lies along {list(ds[name].dims)}")
        elif not _matches(_kind_of(ds[name].values), kind):
            problems.append(f"coord {name!r} must be {kind}; got dtype {ds[name].dtype}")
    if not problems:
        problems += _value_problems(ds)
    for name in _ATTRS:
        if name not in ds.attrs:
            problems.append(f"attribute {name!r} missing")
    if "route" in ds.attrs and ds.attrs["route"] not in ROUTES:
        problems.append(f"attribute 'route' is {ds.attrs['route']!r}, expected one of {list(ROUTES)}")
    if problems:
        raise EstimatesContractError(
            f"The estimates Dataset breaks the contract ({len(problems)} problem{'s' * (len(problems) > 1)}):\n"
            + "\n".join(f"- {p}" for p in problems)
        )
    return ds


def _value_problems(ds: xr.Dataset) -> list[str]:
    problems = []
    se = ds["se"].values
    with np.errstate(invalid="ignore"):
        negative = se < 0
    if negative.any():
        where = _first_cells(ds, negative)
        problems.append(f"'se' has {int(negative.sum())} negative values (first at {where}); SEs are >= 0")
    moe = ds["moe90"].transpose(*ds["se"].dims).values
    off = ~np.isclose(moe, Z90 * se, rtol=1e-9, atol=0, equal_nan=True)
    if off.any():
        problems.append(f"'moe90' is not 1.645 * se in {int(off.sum())} cells (first at {_first_cells(ds, off)}); "
                        "recompute it with scorecard.estimates.finish")
    labels = {str(v) for v in pd.unique(ds["reliable"].values.ravel())}
    if labels - set(RELIABILITY_LABELS):
        problems.append(f"'reliable' holds {sorted(labels - set(RELIABILITY_LABELS))}; allowed {list(RELIABILITY_LABELS)}")
    units = ds["unit"].values.astype(str)
    if set(units) - set(UNITS):
        problems.append(f"coord 'unit' holds {sorted(set(units) - set(UNITS))}; allowed {list(UNITS)}")
    direction = ds["higher_is_better"].values.astype(float)
    if (~np.isnan(direction) & ~np.isin(direction, [0.0, 1.0])).any():
        problems.append(f"coord 'higher_is_better' must be 1.0, 0.0 or NaN; got {sorted(set(direction[~np.isnan(direction)]))}")
    share = xr.DataArray(units == "share", dims="indicator")
    estimate = ds["estimate"]
    with np.errstate(invalid="ignore"):
        outside = (share & ((estimate < -1e-12) | (estimate > 1 + 1e-12))).transpose(*estimate.dims).values
    if outside.any():
        problems.append(f"{int(outside.sum())} share estimates lie outside 0-1 (first at {_first_cells(ds, outside)}); "
                        "shares are proportions: divide percentages by 100")
    if (ds["period_start"].values > ds["year"].values).any():
        problems.append("coord 'period_start' is after its year for some years")
    return problems


def _first_cells(ds: xr.Dataset, mask: np.ndarray) -> str:
    dims = ds["estimate"].dims
    index = np.argwhere(mask)[0]
    return ", ".join(f"{d}={ds[d].values[i].item()!r}" for d, i in zip(dims, index))


# --- tidy tables in and out --------------------------------------------------------------------------

#: Columns estimates_from_frame reads besides the dims, and the coordinate or variable each becomes.
_FRAME_COLUMNS = {
    "estimate": "estimate", "se": "se", "moe90": "moe90", "moe": "moe",
    "n_unweighted": "n_unweighted", "universe_weighted": "universe_weighted", "reason": "reason", "source": "source",
    "place_name": "place_name", "label": "indicator_label", "indicator_label": "indicator_label",
    "statistic": "statistic", "higher_is_better": "higher_is_better", "unit": "unit", "domain": "domain",
    "cohort_kind": "cohort_kind", "entry_first": "entry_first", "entry_last": "entry_last",
    "period_start": "period_start", "puma_vintage": "puma_vintage", "experimental_weights": "experimental_weights",
}
#: Columns to_frame writes that estimates_from_frame recomputes.
_DERIVED = ("cv", "reliable")


def _decimals(values: np.ndarray) -> int:
    """Fewest decimals (0-6) at which every value is round: the rounding of a published column."""
    finite = values[np.isfinite(values)]
    for decimals in range(7):
        scaled = finite * 10**decimals
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return decimals
    return 6


def _frame_indicators(frame: pd.DataFrame, keys: list[str]) -> list[IndicatorMeta]:
    import indicators as registry

    known = set(registry.available().index)
    metas, problems = [], []
    first = frame.drop_duplicates("indicator").set_index("indicator")
    for key in keys:
        if key in known:
            metas.append(IndicatorMeta.of(registry.get(key)))
            continue
        row = first.loc[key]
        label = row.get("label", row.get("indicator_label", np.nan))
        direction = row.get("higher_is_better", np.nan)
        unit = row.get("unit", np.nan)
        if pd.isna(label) or pd.isna(direction):
            close = difflib.get_close_matches(key, sorted(known), n=3)
            problems.append(
                f"indicator {key!r} is not in the registry (closest: {close}); give its 'label' and "
                "'higher_is_better' columns (true, false, or none for a context figure never scored; and 'unit': "
                "share, dollars, count or number) for your own figures"
            )
            continue
        statistic = row.get("statistic", np.nan)
        unit = "share" if pd.isna(unit) else str(unit)
        metas.append(IndicatorMeta(
            key=key, label=str(label), unit=unit,
            statistic=("proportion" if unit == "share" else "value") if pd.isna(statistic) else str(statistic),
            higher_is_better=_direction(direction, key),
            domain="" if pd.isna(row.get("domain", np.nan)) else str(row.get("domain")),
        ))
    if problems:
        raise EstimatesContractError("estimates_from_frame:\n" + "\n".join(f"- {p}" for p in problems))
    return metas


def _direction(value, key: str) -> bool | None:
    return None if str(value).strip().lower() in {"none", "nan", ""} else _as_bool(value, key)


def _as_bool(value, key: str) -> bool:
    text = str(value).strip().lower()
    if text in {"1", "1.0", "true", "yes"}:
        return True
    if text in {"0", "0.0", "false", "no"}:
        return False
    raise EstimatesContractError(f"indicator {key!r}: higher_is_better {value!r} is not true/false (or 1/0).")


def estimates_from_frame(
    frame: pd.DataFrame,
    *,
    survey: str | None = None,
    moe_level: float = 0.90,
    by: Sequence[str] = (),
    dollars_year: int | str = "",
    sources: Sequence[str] = ("(table given to estimates_from_frame)",),
    reliability: Reliability | None = None,
    route: str = "frame",
) -> xr.Dataset:
    """An estimates Dataset from any tidy table of figures with their SEs or MOEs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per figure: ``indicator, place, year`` (``cohort`` optional,
        default ``"all"``), ``estimate``, and ``se`` or ``moe90`` (or ``moe``
        at ``moe_level``). Optional: ``place_name``, ``n_unweighted``,
        ``universe_weighted``, ``reason``, ``source``, ``label``,
        ``higher_is_better``, ``statistic``, ``unit``, ``domain``, the cohort
        coords and the per-year coords (``period_start``, ``puma_vintage``,
        ``experimental_weights``). Registry indicators take their definition's
        label, direction and unit; your own indicators need ``label`` and
        ``higher_is_better`` (and ``unit``: default ``share``). Shares are
        proportions 0-1. ``cv`` and ``reliable`` columns (as :func:`to_frame`
        writes them) are recomputed.
    survey : str, optional
        ``acs1``, ``acs5``, ...: sets ``period_start`` (year − 4 for acs5) and
        the 2020 caveat. ``None``: single-year figures unless the frame has
        ``period_start``.
    moe_level : float, default=0.90
        Confidence level of a ``moe`` column (``moe90`` is always 90%).
        90% MOEs of survey years 2005 and earlier use z = 1.65 (Census Bureau).
    by : sequence of str
        Further columns that are dims (e.g. ``["age_band"]``).
    dollars_year, sources, reliability, route
        Provenance; see :func:`build_estimates`.

    Returns
    -------
    xarray.Dataset
        The contract's Dataset; cells absent from the frame are NaN with
        reason ``"not in the table"``.

    Raises
    ------
    EstimatesContractError
        Missing or unknown columns, duplicate figures, non-integer years,
        negative SEs or MOEs, ``se`` and ``moe90`` that disagree beyond
        rounding, shares above 1, unknown indicators without label or direction.

    Examples
    --------
    >>> frame = pd.DataFrame({"indicator": "esl_seats_per_1000", "place": "Boston", "year": [2022, 2024],
    ...     "estimate": [3.1, 4.0], "se": [0.2, 0.2], "label": "ESL seats per 1,000 immigrants",
    ...     "higher_is_better": True, "unit": "number"})
    >>> est = estimates_from_frame(frame)
    >>> est["estimate"].sel(year=2024).item(), str(est["indicator_label"].item())
    (4.0, 'ESL seats per 1,000 immigrants')
    """
    if not isinstance(frame, pd.DataFrame):
        raise EstimatesContractError(f"estimates_from_frame takes a pandas DataFrame; got {type(frame).__name__}.")
    frame = frame.copy()
    if "cohort" not in frame:
        frame["cohort"] = "all"
    dims = [*DIMS, *by]
    problems = []
    missing = [c for c in (*dims, "estimate") if c not in frame]
    if missing:
        problems.append(f"missing columns {missing} (has {list(frame.columns)})")
    if not {"se", "moe90", "moe"} & set(frame.columns):
        problems.append("no uncertainty column: give 'se', 'moe90' (a 90% MOE) or 'moe' with moe_level")
    unknown = [c for c in frame.columns if c not in dims and c not in _FRAME_COLUMNS and c not in _DERIVED]
    if unknown:
        problems.append(f"unknown columns {unknown}: drop them, or name them in by=[...] if they are dims; known "
                        f"columns are {sorted(_FRAME_COLUMNS)}")
    if problems:
        raise EstimatesContractError("estimates_from_frame:\n" + "\n".join(f"- {p}" for p in problems))
    for name in ("indicator", "place", "cohort", *by):
        frame[name] = frame[name].astype(str)
    year = pd.to_numeric(frame["year"], errors="coerce")
    bad_year = year.isna() | (year != year.round())
    if bad_year.any():
        problems.append(f"'year' must be whole numbers; rows {frame.index[bad_year][:5].tolist()} hold "
                        f"{frame.loc[bad_year, 'year'].head().tolist()}")
    else:
        frame["year"] = year.astype("int64")
    numeric = {}
    for name in ("estimate", "se", "moe90", "moe", "n_unweighted", "universe_weighted"):
        if name in frame:
            values = pd.to_numeric(frame[name], errors="coerce")
            text = frame[name].notna() & values.isna()
            if text.any():
                problems.append(f"column {name!r} has values that are not numbers in rows {frame.index[text][:5].tolist()} "
                                f"({frame.loc[text, name].head().tolist()})")
            numeric[name] = values.to_numpy(dtype=float)
    duplicated = frame.duplicated(dims, keep=False)
    if duplicated.any():
        problems.append(f"{int(duplicated.sum())} rows repeat the same {dims} (rows {frame.index[duplicated][:6].tolist()}); "
                        "keep one figure per cell")
    if problems:
        raise EstimatesContractError("estimates_from_frame:\n" + "\n".join(f"- {p}" for p in problems))

    years_column = frame["year"].to_numpy()
    if "moe90" in numeric:
        moe, z = numeric["moe90"], z90(years_column)
    elif "moe" in numeric:
        if not 0 < moe_level < 1:
            raise EstimatesContractError(f"The 'moe_level' parameter must be in (0, 1). Got {moe_level!r} instead.")
        from scipy import stats

        moe = numeric["moe"]
        z = z90(years_column) if np.isclose(moe_level, 0.90) else np.full(len(frame), stats.norm.ppf(0.5 + moe_level / 2))
    else:
        moe, z = None, None
    for name, values in (("se", numeric.get("se")), ("moe", moe)):
        if values is not None:
            with np.errstate(invalid="ignore"):
                negative = values < 0
            if negative.any():
                problems.append(f"column {'moe90' if name == 'moe' and 'moe90' in frame else name!r} has negative values "
                                f"in rows {frame.index[negative][:5].tolist()} ({values[negative][:5].tolist()}); "
                                "SEs and MOEs are >= 0 (Census special codes such as -555555555 must be decoded first)")
    se = numeric.get("se")
    if se is not None and moe is not None:
        resolution = 0.5 * 10.0 ** -_decimals(moe)
        with np.errstate(invalid="ignore"):
            disagree = np.abs(moe - z * se) > np.maximum(resolution, 1e-9 * np.abs(moe)) + 1e-12
        if disagree.any():
            rows = frame.index[disagree][:5].tolist()
            problems.append(f"'se' and the MOE disagree beyond rounding in rows {rows} (e.g. se {se[disagree][0]!r} x "
                            f"{z if np.ndim(z) == 0 else z[disagree][0]} != moe {moe[disagree][0]!r}); give one of them")
    if problems:
        raise EstimatesContractError("estimates_from_frame:\n" + "\n".join(f"- {p}" for p in problems))
    frame["se"] = se if se is not None else moe / z
    frame["estimate"] = numeric["estimate"]
    for name in ("n_unweighted", "universe_weighted"):
        if name in numeric:
            frame[name] = numeric[name]

    keys = list(dict.fromkeys(frame["indicator"]))
    metas = _frame_indicators(frame, keys)
    indexed = frame.set_index(dims)
    index = pd.MultiIndex.from_product(
        [keys, list(dict.fromkeys(frame["place"])), sorted(frame["year"].unique()), _cohort_order(frame["cohort"], frame),
         *[list(dict.fromkeys(frame[b])) for b in by]],
        names=dims,
    )
    full = indexed.reindex(index)
    shape = tuple(len(index.unique(level=i)) for i in range(len(dims)))
    variables = {
        "estimate": (dims, full["estimate"].to_numpy(dtype=float).reshape(shape)),
        "se": (dims, full["se"].to_numpy(dtype=float).reshape(shape)),
    }
    for name in ("n_unweighted", "universe_weighted"):
        if name in full:
            variables[name] = (dims, full[name].to_numpy(dtype=float).reshape(shape))
    reason = full["reason"].fillna("").astype(str).to_numpy() if "reason" in full else np.full(len(full), "", dtype=object)
    reason = np.where(~full.index.isin(indexed.index), "not in the table", reason)
    variables["reason"] = (dims, reason.astype(str).reshape(shape))
    if "source" in full:
        variables["source"] = (dims, full["source"].fillna("").astype(str).to_numpy().reshape(shape))
    coords = {d: index.unique(level=i).tolist() for i, d in enumerate(dims)}
    data = xr.Dataset(variables, coords=coords)
    if all(c in frame for c in ("cohort_kind", "entry_first", "entry_last")):
        cohort_table = frame.drop_duplicates("cohort").set_index("cohort").reindex(coords["cohort"])
        data = data.assign_coords(cohort_kind=("cohort", cohort_table["cohort_kind"].astype(str).to_numpy()),
                                  entry_first=("cohort", cohort_table["entry_first"].to_numpy(dtype=float)),
                                  entry_last=("cohort", cohort_table["entry_last"].to_numpy(dtype=float)))
    place_names = None
    if "place_name" in frame:
        named = frame.dropna(subset=["place_name"]).drop_duplicates("place")
        place_names = dict(zip(named["place"], named["place_name"].astype(str)))
    year_columns = [c for c in ("period_start", "puma_vintage", "experimental_weights") if c in frame]
    years = None
    if year_columns:
        years = frame.drop_duplicates("year").set_index("year")[year_columns]
        if "experimental_weights" in years:
            years["experimental_weights"] = years["experimental_weights"].map(
                lambda v: v if pd.isna(v) else _as_bool(v, "experimental_weights"))
    if "moe90" in frame or "moe" in frame:
        variance_method = "published_moe"
    else:
        variance_method = "supplied_se"
    return build_estimates(
        data, indicators=metas, route=route, variance_method=variance_method, survey=survey or "",
        dollars_year=dollars_year, sources=sources, place_names=place_names, years=years, reliability=reliability,
    )


def _cohort_order(labels: pd.Series, frame: pd.DataFrame) -> list[str]:
    distinct = list(dict.fromkeys(labels))
    if "cohort_kind" in frame:  # cohorts of the user's own, described by their coordinates: keep their order
        return distinct
    return cohort_order(distinct)


def merge_estimates(*datasets: xr.Dataset) -> xr.Dataset:
    """Several estimates Datasets (e.g. one read per year or per source) as one.

    ``xr.merge`` pads a year's coordinates with NaN while aligning, which turns
    ``period_start`` into floats and ``experimental_weights`` into 0/1 floats;
    this merges, restores their types, keeps every year's caveat, and lists
    every source. Attributes must otherwise agree (route, survey,
    variance_method, dollars_year).

    Examples
    --------
    >>> frame = pd.DataFrame({"indicator": "naturalized", "place": ["Boston"], "year": 2019, "estimate": 0.5, "se": 0.02})
    >>> both = merge_estimates(estimates_from_frame(frame, survey="acs1"),
    ...                        estimates_from_frame(frame.assign(year=2020), survey="acs1"))
    >>> both["experimental_weights"].values.tolist(), both["period_start"].dtype.kind
    ([False, True], 'i')
    """
    if not datasets:
        raise EstimatesContractError("merge_estimates got no Datasets.")
    for ds in datasets:
        validate_estimates(ds)
    problems = []
    for name in ("route", "survey", "variance_method", "dollars_year"):
        values = sorted({str(ds.attrs[name]) for ds in datasets})
        if len(values) > 1:
            problems.append(f"attribute {name!r} differs between the Datasets: {values}")
    if problems:
        raise EstimatesContractError("merge_estimates cannot merge estimates of different kinds:\n"
                                     + "\n".join(f"- {p}" for p in problems))
    merged = xr.merge(datasets, join="outer", combine_attrs="override", compat="no_conflicts")
    merged = merged.assign_coords(
        period_start=merged["period_start"].astype("int64"),
        experimental_weights=merged["experimental_weights"].astype(bool),
    )
    for name in ("reliable", "reason"):
        merged[name] = merged[name].where(merged[name].notnull(), "missing" if name == "reliable" else "not in the table")
    merged.attrs["sources"] = json.dumps(sorted({s for ds in datasets for s in json.loads(ds.attrs["sources"])}))
    return validate_estimates(merged)


def to_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The estimates as a tidy table: one row per cell, dims, labels and every uncertainty column.

    Replicate estimates are left out. :func:`estimates_from_frame` reads the
    table back (pass ``by=`` for extra dims and the original ``survey``).

    Examples
    --------
    >>> est = estimates_from_frame(pd.DataFrame({"indicator": "naturalized", "place": ["Boston"], "year": 2024,
    ...                                          "estimate": 0.52, "se": 0.02}))
    >>> table = to_frame(est)
    >>> table[["indicator", "year", "estimate", "moe90", "reliable"]].to_dict("records")
    [{'indicator': 'naturalized', 'year': 2024, 'estimate': 0.52, 'moe90': 0.0329, 'reliable': 'reliable'}]
    """
    validate_estimates(ds)
    variables = [v for v in ds.data_vars if "replicate" not in ds[v].dims]
    dims = list(ds["estimate"].dims)
    table = ds[variables].drop_vars([c for c in ds[variables].coords if "replicate" in ds[c].dims]).to_dataframe()
    table = table.reset_index()
    labels = [c for c in table.columns if c not in dims and c not in variables]
    table = table[dims + labels + [v for v in VARIABLES if v in variables] + [v for v in variables if v not in VARIABLES]]
    return table
