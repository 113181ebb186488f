"""Survey-weighted estimation: replicate-weight (SDR) or linearized variance, vectorized over groups.

Examples
--------
>>> from scorecard.estimation import estimate
>>> estimate.__name__
'estimate'
"""

from __future__ import annotations

from scorecard.estimation.core import (
    EstimateSpec,
    Partial,
    PumaVintageWarning,
    combine,
    estimate,
    finalize,
    partial_estimate,
)

__all__ = ["estimate", "partial_estimate", "combine", "finalize", "Partial", "EstimateSpec", "PumaVintageWarning"]
