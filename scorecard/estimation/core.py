"""Survey-weighted estimates with replicate (or linearized) standard errors, as an xarray Dataset.

The work is split by job so that it streams and scales out:

* :func:`~scorecard.estimation.partials.partial_estimate` reduces one
  :class:`~scorecard.Microdata` (one file, one chunk, one dask partition) to
  additive weighted sums per cell and weight column, plus the compact inputs
  medians need;
* :func:`~scorecard.estimation.reduction.combine` adds partials (sums are
  additive); :func:`~scorecard.estimation.assembly.finalize` turns the total
  into estimates, SEs (:mod:`~scorecard.estimation.reduction` for replicates,
  :mod:`~scorecard.estimation.linearization` without them) and the Dataset.

:func:`estimate` runs them for one Microdata or for many pieces read one
at a time; :mod:`scorecard.estimation.distributed` runs the same partials on
a dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import xarray as xr

import indicators as indicator_registry
from cohorts.schemes import Grouping
from indicators.definition import Indicator
from scorecard.estimates import Reliability
from scorecard.estimation.assembly import finalize
from scorecard.estimation.distributed import partials_on_cluster
from scorecard.estimation.partials import partial_estimate
from scorecard.estimation.reduction import combine
from scorecard.estimation.spec import EstimateSpec
from scorecard.microdata import Microdata
from scorecard.places import Places
from scorecard.ranges import check_estimate_input

__all__ = ["estimate"]


def estimate(
    micro: Microdata | Iterable[Microdata | Callable[[], Microdata]],
    indicators: str | Indicator | Sequence[str | Indicator],
    *,
    by: Sequence[Grouping | str] = (),
    places: Places | None = None,
    cohorts: Grouping | None = None,
    keep_replicates: bool = False,
    reliability: Reliability | None = None,
    quantile: float = 0.5,
    client=None,
) -> xr.Dataset:
    """Survey-weighted estimates with standard errors for indicators by place, year and cohort.

    Parameters
    ----------
    micro : Microdata, or iterable of Microdata / functions returning one
        The records. Several pieces (e.g. one per state and year file) are
        reduced one at a time, so memory holds one piece plus small sums;
        functions are called only when their piece is needed.
    indicators : str, Indicator, or sequence of them
        Registry keys or definitions.
    by : sequence of str or Grouping
        Extra dimensions: harmonized categorical columns (``"sex"``) or
        groupings (e.g. age bands).
    places : Places, optional
        Places with allocation factors; default one place ``"all"``.
    cohorts : Grouping, optional
        E.g. ``cohorts.ArrivalCohorts.decades(1970, 2020)``; default one
        cohort ``"all"``.
    keep_replicates : bool, default=False
        Keep ``replicate_estimate`` with a ``replicate`` dim (0 = full sample,
        1-80), so later contrasts are computed inside each replicate.
    reliability : Reliability, optional
        CV and sample-size thresholds for the ``reliable`` flag.
    quantile : float, default=0.5
        Quantile computed by ``"median"`` indicators.
    client : dask.distributed.Client, optional
        Run the pieces' partial sums on a dask cluster.

    Returns
    -------
    xarray.Dataset
        Dims ``(indicator, place, year, cohort, *by)``; variables ``estimate,
        se, moe90, cv, n_unweighted, universe_weighted, reliable, reason``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, scorecard, indicators
    >>> frame = pd.DataFrame({"survey_year": 2020, "state": "53", "puma": "11601", "puma_vintage": 2010,
    ...     "household_id": ["1", "2", "3", "4"], "person_id": 1, "age": [30, 40, 50, 60],
    ...     "nativity": ["foreign_born"] * 4, "citizenship": ["naturalized", "not_citizen", "naturalized", "naturalized"],
    ...     "person_weight": [10.0, 20.0, 30.0, 40.0]})
    >>> micro = scorecard.Microdata.from_frame(frame)
    >>> est = scorecard.estimate(micro, "naturalized")
    >>> float(est["estimate"].sel(indicator="naturalized", place="all", year=2020, cohort="all"))
    0.8
    """
    check_estimate_input(micro, quantile=quantile)  # issue 11: paths and quantiles outside (0, 1) refused
    inds = tuple(indicator_registry.resolve(indicators))
    spec = EstimateSpec(inds, places=places, cohorts=cohorts, by=tuple(by), quantile=quantile)
    if isinstance(micro, Microdata):
        partial = partial_estimate(micro, spec, quantiles=True)
    elif client is not None:
        partial = combine(partials_on_cluster(client, micro, spec))
    else:
        partial = combine([partial_estimate(piece() if callable(piece) else piece, spec).detached() for piece in micro])
    return finalize(partial, keep_replicates=keep_replicates, reliability=reliability)
