"""Variance formulas: ACS successive difference replication and Taylor linearization.

SDR (ACS Design and Methodology, ch. 12): with the full-sample estimate
``θ0`` and the 80 replicate estimates ``θr``,

    Var(θ) = 4/80 · Σ_r (θr − θ0)²

centred on the full-sample estimate (not on the replicate mean). It equals R
``survey``'s ``svrepdesign(type = "JK1", scale = 4/80, rscales = 1, mse = TRUE)``.

Linearization (decennial IPUMS samples: strata and clusters, no replicate
weights): for a ratio ``θ = Y/X`` the influence of record j is
``z_j = w_j (y_j − θ x_j) / X`` (for a total, ``z_j = w_j y_j``); with
cluster totals ``z_hi`` and ``n_h`` clusters in stratum h (counted over the
whole sample, as domain estimation requires),

    Var(θ) = Σ_h n_h/(n_h − 1) · Σ_i (z_hi − z̄_h)²,

R ``survey``'s ``svydesign(ids = ~cluster, strata = ~strata, weights = ~w)``
with ``svyratio``/``svymean``/``svytotal`` (with-replacement first-stage
approximation). A stratum with a single cluster contributes nothing (R's
``options(survey.lonely.psu = "certainty")``). Medians get Woodruff's
interval (R ``svyquantile(..., qrule = "math", df = Inf)``): the linearized
95% interval of the share at or below the median, mapped back through the
quantile function, with SE = interval width / (2 × 1.96).

Examples
--------
>>> import numpy as np
>>> theta = np.array([[10.0] + [10.0] * 40 + [12.0] * 40])
>>> sdr_se(theta).round(6).tolist()
[2.828427]
"""

from __future__ import annotations

import numpy as np

__all__ = ["SDR_SCALE", "sdr_se", "linearized_variance"]

#: Multiplier of the squared replicate deviations in the ACS SDR formula.
SDR_SCALE = 4.0 / 80.0


#: Estimates per block in :func:`sdr_se` (temporaries of about BLOCK × 80 × 8 bytes, cache-sized).
BLOCK = 8_192


def sdr_se(theta: np.ndarray) -> np.ndarray:
    """SE from estimates along the last axis (0 = full sample, 1..80 = replicates)."""
    flat = theta.reshape(-1, theta.shape[-1])
    squares = np.empty(len(flat))
    deviations = np.empty((min(BLOCK, len(flat)), flat.shape[1] - 1))
    for start in range(0, len(flat), BLOCK):  # blocks of estimates: no full-size temporaries
        part = flat[start : start + BLOCK]
        step = deviations[: len(part)]
        np.subtract(part[:, 1:], part[:, :1], out=step)
        squares[start : start + len(part)] = np.einsum("ij,ij->i", step, step)
    return np.sqrt(SDR_SCALE * squares).reshape(theta.shape[:-1])


def linearized_variance(
    influence: np.ndarray,
    group: np.ndarray,
    cluster: np.ndarray,
    stratum_of_cluster: np.ndarray,
    clusters_per_stratum: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """Σ_h n_h/(n_h−1) Σ_i (z_hi − z̄_h)² for every group at once.

    Parameters
    ----------
    influence : float array (E,)
        Weighted influence value of each entry.
    group : int array (E,)
        Group of each entry.
    cluster : int array (E,)
        Cluster (PSU) id of each entry, 0 .. C-1 over the whole sample.
    stratum_of_cluster : int array (C,)
        Stratum of each cluster, 0 .. H-1.
    clusters_per_stratum : int array (H,)
        Number of clusters in each stratum in the whole sample.
    n_groups : int

    Returns
    -------
    float64 array (n_groups,)
    """
    n_strata = len(clusters_per_stratum)
    # Cluster totals z_hi per (group, cluster): one bincount over combined keys.
    keys, inverse = np.unique(group.astype(np.int64) * len(stratum_of_cluster) + cluster, return_inverse=True)
    z = np.bincount(inverse.ravel(), weights=influence, minlength=len(keys))
    key_group, key_cluster = np.divmod(keys, len(stratum_of_cluster))
    key_stratum = stratum_of_cluster[key_cluster]
    cell = key_group * n_strata + key_stratum
    sum_z = np.bincount(cell, weights=z, minlength=n_groups * n_strata).reshape(n_groups, n_strata)
    sum_z2 = np.bincount(cell, weights=z * z, minlength=n_groups * n_strata).reshape(n_groups, n_strata)
    n_h = clusters_per_stratum.astype("float64")[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        within = sum_z2 - sum_z * sum_z / n_h
        per_stratum = np.where(n_h > 1, n_h / (n_h - 1) * within, 0.0)
    return per_stratum.sum(axis=1)
