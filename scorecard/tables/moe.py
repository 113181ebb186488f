"""Census Bureau approximation formulas for the MOE of derived estimates.

Published ACS tables give each estimate with a 90% margin of error (MOE). A
figure derived from several published cells (a sum of categories, a share, a
ratio, a difference, a product) needs its own MOE; without the replicate
estimates, the Census Bureau's *ACS General Handbook* (2020, ch. 8,
"Calculating Measures of Error for Derived Estimates") gives these
approximations, which assume the cells are uncorrelated:

===============  ==============================================================
sum / difference ``MOE(ΣX_i) = sqrt(Σ MOE_i²)`` (the same for ``X - Y``)
proportion       ``p = X/Y`` with X a subset of Y:
                 ``MOE_p = sqrt(MOE_X² - p²·MOE_Y²) / Y``; when the radicand is
                 negative, the ratio formula is used instead
ratio            ``r = X/Y`` (X not a subset of Y):
                 ``MOE_r = sqrt(MOE_X² + r²·MOE_Y²) / Y``
product          ``X·Y``: ``MOE = sqrt(X²·MOE_Y² + Y²·MOE_X²)``
===============  ==============================================================

The handbook also warns that the sum formula overstates the MOE when many
cells are summed, most of all when several are zero (each zero cell carries
the same, sometimes large, MOE); for such sums it suggests keeping only the
largest zero-cell MOE. :func:`moe_sum` implements that as
``zero_rule="largest"`` (default: ``"all"``, the plain formula).

The formulas live once, in :mod:`scorecard.uncertainty`; this module
re-exports them for the tables route. All functions are vectorized over numpy arrays (or anything array-like) and
propagate NaN. A controlled cell (published MOE code ``-555555555``) enters
with MOE 0.

Examples
--------
>>> round(float(moe_sum([100.0, 200.0])), 3)        # two cells with MOE 100 and 200
223.607
>>> float(moe_proportion(60.0, 200.0, 10.0, 20.0))  # p = 0.3: sqrt(100 - 0.09*400) / 200
0.04
"""

from __future__ import annotations

from scorecard.uncertainty import moe_difference, moe_product, moe_proportion, moe_ratio, moe_sum, moe_to_se, se_to_moe

__all__ = ["moe_sum", "moe_difference", "moe_proportion", "moe_ratio", "moe_product", "moe_to_se", "se_to_moe"]
