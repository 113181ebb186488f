"""Successive difference replication (SDR) as the ACS does it.

The ACS assigns each sampled unit, in the order of the sample frame, two rows
of an 80 × 80 Hadamard matrix ``H`` and builds replicate factors

.. math:: f_{r} = 1 + 2^{-3/2} H_{i_1, r} - 2^{-3/2} H_{i_2, r}, \\qquad r = 1..80,

so a replicate weight is the base weight times ``f_r`` (0.29, 1 or 1.71).
Successive units share a row, which makes ``4/80 · Σ_r (θ_r − θ)²`` the
successive-difference variance estimator of a systematic sample.

An order-80 Hadamard matrix is *not* the top-left corner of a larger
Sylvester matrix (80 is not a power of two); :func:`hadamard` builds one by
Paley's first construction on the prime 79 (79 ≡ 3 mod 4).

Examples
--------
>>> H = hadamard()
>>> H.shape, bool((H @ H.T == 80 * np.eye(80)).all())
((80, 80), True)
>>> sorted(set(np.round(sdr_factors(5).ravel(), 4).tolist()))
[0.2929, 1.0, 1.7071]
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["hadamard", "sdr_factors", "replicate_weights", "N_REPLICATES"]

#: Number of replicate weights in ACS PUMS.
N_REPLICATES = 80
_PALEY_PRIME = 79


@lru_cache(maxsize=1)
def _paley_matrix() -> np.ndarray:
    q = _PALEY_PRIME
    residues = np.zeros(q, dtype=np.int8)
    residues[(np.arange(1, q) ** 2) % q] = 1
    chi = np.where(residues == 1, 1, -1).astype(np.int8)
    chi[0] = 0
    index = np.arange(q)
    jacobsthal = chi[(index[None, :] - index[:, None]) % q]  # Q[i, j] = chi(j - i)
    skew = np.zeros((q + 1, q + 1), dtype=np.int8)
    skew[0, 1:] = 1
    skew[1:, 0] = -1
    skew[1:, 1:] = jacobsthal
    matrix = skew + np.eye(q + 1, dtype=np.int8)
    matrix.setflags(write=False)
    return matrix


def hadamard(order: int = N_REPLICATES) -> np.ndarray:
    """A Hadamard matrix of order 80 (entries ±1, ``H @ H.T == 80 I``).

    Parameters
    ----------
    order : int, default=80
        Only 80 is supported: the number of ACS replicate weights.

    Returns
    -------
    numpy.ndarray
        Read-only ``int8`` array of shape (80, 80) from Paley's construction
        on the prime 79: ``H = I + S`` with ``S`` the skew-symmetric bordered
        Jacobsthal matrix of the quadratic-residue character mod 79.

    Examples
    --------
    >>> H = hadamard()
    >>> H.dtype, int(H[0].sum()), bool((H.astype(int) @ H.T == 80 * np.eye(80)).all())
    (dtype('int8'), 80, True)
    """
    if order != N_REPLICATES:
        raise ValueError(f"The 'order' parameter of hadamard must be {N_REPLICATES}. Got {order!r} instead.")
    return _paley_matrix()


def sdr_factors(n_units: int, *, start: int = 0) -> np.ndarray:
    """Replicate factors of ``n_units`` sampled units taken in frame order.

    Unit ``k`` gets Hadamard rows ``i1 = (start + k) mod 80`` and
    ``i2 = (start + k + 1) mod 80``, as in the ACS's cyclic assignment.

    Parameters
    ----------
    n_units : int
        Number of sampled units, already sorted in the (serpentine) frame order.
    start : int, default=0
        Row assigned to the first unit.

    Returns
    -------
    numpy.ndarray
        ``float64`` array (n_units, 80) with values ``1 ± 2^(-1/2)`` or 1.

    Examples
    --------
    >>> f = sdr_factors(160)
    >>> f.shape, bool(np.allclose(f.mean(axis=0), 1.0))
    ((160, 80), True)
    """
    H = hadamard().astype(np.float64)
    k = (start + np.arange(n_units)) % N_REPLICATES
    a = 2.0**-1.5
    return 1.0 + a * H[k] - a * H[(k + 1) % N_REPLICATES]


def replicate_weights(base: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Integer replicate weights ``round(base × f_r)``, never negative.

    Examples
    --------
    >>> w = replicate_weights(np.array([0, 20]), sdr_factors(2))
    >>> int(w[0].max()), sorted(set(w[1].tolist()))
    (0, [6, 20, 34])
    """
    weights = np.rint(np.asarray(base, dtype=np.float64)[:, None] * factors)
    return np.clip(weights, 0, None).astype(np.int32)
