"""Taylor-linearized standard errors, for sources with strata and clusters but no replicate weights.

Influence values of each additive estimate (ratio estimator: ``w (y - θ x) / X``)
go through :func:`~scorecard.estimation.variance.linearized_variance`;
quantiles use Woodruff's interval, as R ``survey::svyquantile``. Clusters may
span pieces, so this runs on one piece holding all the records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scorecard.errors import EstimationError
from scorecard.estimation.quantiles import grouped_quantile
from scorecard.estimation.spec import additive_indicators
from scorecard.estimation.variance import linearized_variance

__all__ = ["linearized_se", "woodruff_se"]


def linearized_se(micro, spec, entries, evaluations, partial) -> np.ndarray:
    """Taylor-linearized SEs (K, cells) of the additive and median indicators (single piece only)."""
    frame = micro.frame
    design = pd.DataFrame({"s": frame["variance_strata"].to_numpy(), "c": frame["variance_cluster"].to_numpy()})
    if design.isna().any().any():
        raise EstimationError(
            f"{micro.attrs.get('source', 'microdata')}: variance_strata / variance_cluster have missing values; "
            "every record needs its stratum and cluster for linearized variance."
        )
    cluster_id, clusters = pd.factorize(pd.MultiIndex.from_frame(design))
    stratum_of_cluster, strata = pd.factorize(clusters.get_level_values(0))
    clusters_per_stratum = np.bincount(stratum_of_cluster, minlength=len(strata))
    out = np.full((len(spec.indicators), partial.layout.size), np.nan)
    additive = additive_indicators(spec.indicators)
    for slot, ind in enumerate(additive):  # loop over indicators (a handful), not rows or groups
        k = spec.indicators.index(ind)
        ev = evaluations[ind.key]
        full = micro.weights(ind.weight)[0]
        numerator, denominator = partial.sums[2 * slot, :, 0], partial.sums[2 * slot + 1, :, 0]
        inside = ev.universe[entries.row] & (entries.factor > 0)
        rows, groups = entries.row[inside], entries.group[inside]
        weight = entries.factor[inside] * full[rows]
        y = ev.value[rows].astype("float64")
        if ind.statistic == "total":
            influence = weight * y
        else:
            x = ev.denominator[rows] if ind.statistic == "ratio" else np.ones(len(rows))
            with np.errstate(divide="ignore", invalid="ignore"):
                theta = numerator / denominator
            influence = weight * (y - theta[groups] * x) / denominator[groups]
        variance = linearized_variance(
            influence, groups, cluster_id[rows], stratum_of_cluster, clusters_per_stratum, partial.layout.size
        )
        out[k] = np.sqrt(variance)
    for ind in (i for i in spec.indicators if i.statistic == "median"):
        ev = evaluations[ind.key]
        inside = ev.universe[entries.row] & (entries.factor > 0)
        rows, groups = entries.row[inside], entries.group[inside]
        weight = entries.factor[inside] * micro.weights(ind.weight)[0][rows]
        out[spec.indicators.index(ind)] = woodruff_se(
            ev.value[rows], weight, groups, cluster_id[rows], stratum_of_cluster, clusters_per_stratum,
            partial.layout.size, spec.quantile,
        )
    return out


#: Two-sided 95% normal quantile used by Woodruff intervals (R survey's default alpha = 0.05).
_Z95 = 1.959963984540054


def woodruff_se(values, weight, groups, cluster, stratum_of_cluster, clusters_per_stratum, n_groups, p) -> np.ndarray:
    """Linearized SE of a quantile by Woodruff's method, as R ``survey::svyquantile(df = Inf)``.

    The share of the domain at or below the estimated quantile, F, gets a
    linearized SE; the 95% interval F ± 1.96·SE is mapped back through the
    weighted quantile function, and SE = (upper − lower) / (2 · 1.96).
    """
    quantile = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=p)[:, 0]
    below = (values <= quantile[groups]).astype("float64")
    total = np.bincount(groups, weights=weight, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.bincount(groups, weights=weight * below, minlength=n_groups) / total
        influence = weight * (below - share[groups]) / total[groups]
    se_share = np.sqrt(linearized_variance(influence, groups, cluster, stratum_of_cluster, clusters_per_stratum, n_groups))
    low, high = share - _Z95 * se_share, share + _Z95 * se_share
    lower = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=np.clip(low, 0, 1))[:, 0]
    upper = grouped_quantile(groups, values, weight[:, None], n_groups=n_groups, p=np.clip(high, 0, 1))[:, 0]
    lower[low < 0] = np.nan
    upper[high > 1] = np.nan
    return (upper - lower) / (2 * _Z95)

