"""Survey-weighted estimation: replicate-weight (SDR) or linearized variance, vectorized over groups.

One module per job: :mod:`~scorecard.estimation.spec` (what is estimated,
the pieces passed between jobs), :mod:`~scorecard.estimation.partials`
(records to additive sums), :mod:`~scorecard.estimation.reduction` (sums
added, replicate estimates and SDR SEs), :mod:`~scorecard.estimation.linearization`
(Taylor SEs), :mod:`~scorecard.estimation.assembly` (the Dataset) and
:mod:`~scorecard.estimation.core` (:func:`estimate`, which runs them).

Examples
--------
>>> from scorecard.estimation import estimate
>>> estimate.__name__
'estimate'
"""

from __future__ import annotations

from scorecard.estimation.assembly import finalize
from scorecard.estimation.core import estimate
from scorecard.estimation.partials import PumaVintageWarning, partial_estimate
from scorecard.estimation.reduction import combine
from scorecard.estimation.spec import EstimateSpec, Partial

__all__ = ["estimate", "partial_estimate", "combine", "finalize", "Partial", "EstimateSpec", "PumaVintageWarning"]
