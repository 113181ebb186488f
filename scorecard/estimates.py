"""The estimates Dataset: one layout for every route (microdata or published tables).

Dims are ``("indicator", "place", "year", "cohort")`` plus any extra grouping
dims; data variables are

=====================  ==========================================================
``estimate``           the point estimate (shares as proportions 0-1)
``se``                 standard error
``moe90``              90% margin of error, ``1.645 * se``
``cv``                 coefficient of variation ``se / |estimate|`` (see below)
``n_unweighted``       unweighted records in the universe (NaN for tables)
``universe_weighted``  weighted size of the universe (denominator)
``reliable``           ``"reliable"``, ``"caution"``, ``"unreliable"`` (also when no SE
                       can be computed) or ``"missing"`` (no estimate)
``reason``             why an estimate is missing (empty string when it is not)
=====================  ==========================================================

CV convention: for every statistic the CV is ``se / |estimate|``. For
proportions this is the CV of the share itself, as the Census Bureau computes
it for published percentages; a share near 0 therefore has a large CV and is
flagged, which is the intended warning (a share near 1 is judged by the same
rule applied to its complement, ``se / min(p, 1 - p)``, when
``complement_cv=True``).

:func:`finish` is the one place that derives ``moe90``, ``cv`` and
``reliable``; both routes call it.

Examples
--------
>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset({"estimate": ("indicator", [0.5, 0.02]), "se": ("indicator", [0.01, 0.01]),
...                  "n_unweighted": ("indicator", [400.0, 400.0])}, coords={"indicator": ["a", "b"]})
>>> out = finish(ds)
>>> out["moe90"].values.round(5).tolist(), out["reliable"].values.tolist()
([0.01645, 0.01645], ['reliable', 'unreliable'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["Reliability", "finish", "Z90", "DIMS", "VARIABLES"]

#: z-value of a two-sided 90% interval, as the Census Bureau uses it.
Z90 = 1.645
#: Core dims, in order.
DIMS = ("indicator", "place", "year", "cohort")
#: Data variables every estimates Dataset carries.
VARIABLES = ("estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted", "reliable", "reason")


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
    ds.attrs.setdefault("reliability", repr(rel))
    return ds
