"""Run partial estimates on a dask.distributed cluster (``pip install integration-scorecard[dask]``).

Each piece (a Microdata or a function that reads one, e.g. one state-year
file) is reduced to additive sums on a worker; only the small sums travel
back and are added on the client, so the numbers are identical to a local run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scorecard.estimation.partials import partial_estimate
from scorecard.estimation.spec import EstimateSpec, Partial
from scorecard.microdata import Microdata

__all__ = ["partials_on_cluster"]


def _reduce(piece: Microdata | Callable[[], Microdata], spec: EstimateSpec) -> Partial:
    return partial_estimate(piece() if callable(piece) else piece, spec).detached()


def partials_on_cluster(client, pieces: Iterable[Microdata | Callable[[], Microdata]], spec: EstimateSpec) -> list[Partial]:
    """Partial sums of every piece, computed on ``client``'s workers, in input order."""
    futures = [client.submit(_reduce, piece, spec, pure=False) for piece in pieces]
    return client.gather(futures)
