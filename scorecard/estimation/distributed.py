"""Run partial estimates on a dask.distributed cluster (``pip install integration-scorecard[dask]``).

Each piece (a Microdata or a function that reads one, e.g. one state-year
file) is reduced on a worker to additive sums per cell plus the median
inputs of its records; only these travel back and are added on the client in
input order, so the numbers are identical to a local run. At most ``window``
pieces are in flight, so neither the workers nor the client hold more than a
few pieces' results at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator

from scorecard.estimation.partials import partial_estimate
from scorecard.estimation.spec import EstimateSpec, Partial
from scorecard.microdata import Microdata

__all__ = ["partials_on_cluster", "iter_partials_on_cluster"]


def _reduce(piece: Microdata | Callable[[], Microdata], spec: EstimateSpec) -> Partial:
    return partial_estimate(piece() if callable(piece) else piece, spec).detached()


def partials_on_cluster(client, pieces: Iterable[Microdata | Callable[[], Microdata]], spec: EstimateSpec) -> list[Partial]:
    """Partial sums of every piece, computed on ``client``'s workers, in input order."""
    return list(iter_partials_on_cluster(client, pieces, spec))


def iter_partials_on_cluster(client, pieces: Iterable[Microdata | Callable[[], Microdata]], spec: EstimateSpec, *,
                             window: int | None = None) -> Iterator[Partial]:
    """Partial sums of each piece, computed on ``client``'s workers, yielded in input order.

    At most ``window`` pieces (default: twice the number of worker threads) are submitted ahead of the
    one being yielded.
    """
    if window is None:
        window = max(2, 2 * sum(client.nthreads().values()))
    pending: deque = deque()
    for piece in pieces:
        pending.append(client.submit(_reduce, piece, spec, pure=False))
        if len(pending) >= window:
            yield _take(pending.popleft())
    while pending:
        yield _take(pending.popleft())


def _take(future) -> Partial:
    try:
        return future.result()
    finally:
        future.release()
