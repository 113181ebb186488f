"""Run partial estimates on a dask.distributed cluster (``pip install integration-scorecard[dask]``).

Each piece (a Microdata or a function that reads one, e.g. one state-year
file) is reduced on a worker to additive sums per cell plus the median
inputs of its records; only these travel back, packed to the cells the piece
touches (a state's file fills its own places only), and are added on the
client in input order, so the numbers are identical to a local run. At most
``window`` pieces are in flight, so neither the workers nor the client hold
more than a few pieces' results at a time.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from scorecard.estimation.partials import partial_estimate
from scorecard.estimation.spec import EstimateSpec, Partial
from scorecard.microdata import Microdata

__all__ = ["partials_on_cluster", "iter_partials_on_cluster"]


def _reduce(piece: Microdata | Callable[[], Microdata], spec: EstimateSpec) -> _Packed:
    # The worker also finishes the piece's medians: used when the piece is the only one of its survey years
    # (e.g. one national file per year), so the client does not compute them; dropped otherwise.
    return _Packed.pack(partial_estimate(piece() if callable(piece) else piece, spec, quantiles=True).detached())


@dataclass
class _Packed:
    """A partial whose dense per-cell arrays keep only the cells with a value (what travels back)."""

    partial: Partial  # sums, n_unweighted and universe_weighted hold the kept cells only
    cells: np.ndarray  # kept cell indices
    size: int  # cells of the layout

    @classmethod
    def pack(cls, partial: Partial) -> _Packed:
        """Keep the cells where any sum or count is not +0.0 (a -0.0 is kept: unpacking is exact to the bit)."""
        def used(values: np.ndarray) -> np.ndarray:
            other_axes = tuple(axis for axis in range(values.ndim) if axis != 1)
            return np.any((values != 0) | np.signbit(values), axis=other_axes)

        cells = np.flatnonzero(used(partial.sums) | used(partial.n_unweighted) | used(partial.universe_weighted))
        kept = dataclasses.replace(partial, sums=partial.sums[:, cells], n_unweighted=partial.n_unweighted[:, cells],
                                   universe_weighted=partial.universe_weighted[:, cells])
        return cls(kept, cells, partial.layout.size)

    def unpack(self) -> Partial:
        def spread(values: np.ndarray) -> np.ndarray:
            full = np.zeros(values.shape[:1] + (self.size,) + values.shape[2:], dtype=values.dtype)
            full[:, self.cells] = values
            return full

        packed = self.partial
        return dataclasses.replace(packed, sums=spread(packed.sums), n_unweighted=spread(packed.n_unweighted),
                                   universe_weighted=spread(packed.universe_weighted))


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
        return future.result().unpack()
    finally:
        future.release()
