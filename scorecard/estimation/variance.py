"""Variance formulas used by estimation: re-exported from :mod:`scorecard.uncertainty`.

SDR (ACS Design and Methodology, ch. 12): ``Var(θ) = 4/80 · Σ_r (θr − θ0)²``,
centred on the full-sample estimate (R ``survey``'s ``svrepdesign(type = "JK1",
scale = 4/80, rscales = 1, mse = TRUE)``). Linearization (strata and clusters):
``Var(θ) = Σ_h n_h/(n_h − 1) · Σ_i (z_hi − z̄_h)²`` (R ``svydesign`` with the
with-replacement first-stage approximation; lonely PSUs contribute nothing).
Medians get Woodruff's interval (R ``svyquantile(..., qrule = "math", df = Inf)``).
The formulas live once, in :mod:`scorecard.uncertainty`.

Examples
--------
>>> import numpy as np
>>> theta = np.array([[10.0] + [10.0] * 40 + [12.0] * 40])
>>> sdr_se(theta).round(6).tolist()
[2.828427]
"""

from __future__ import annotations

from scorecard.uncertainty import SDR_SCALE, linearized_variance, sdr_se

__all__ = ["SDR_SCALE", "sdr_se", "linearized_variance"]
