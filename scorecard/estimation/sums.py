"""Weighted sums over groups for the full-sample weight and all replicate weights at once.

The estimator needs, for every group g, measure m and weight column r
(0 = full sample, 1-80 = replicates), ``S[m, g, r] = Σ_j f_jg · v_jm · W_jr``.
Done naively that is one pass of the (N × 81) weight matrix per measure.
Instead:

1. Measures that are 0/1 (universes, conditions; nearly all indicators) are
   packed into one bit *signature* per record. Records with the same
   signature in the same group are interchangeable, so one pass of the weight
   matrix through the (group, signature) cell matrix — a sparse product, the
   matrix built in compressed-column form straight from the record-ordered
   entries so that the product streams through the weight matrix — gives
   every cell's 81 weight totals.
2. A second, small sparse product spreads each cell's totals onto the
   measures whose bit is set in its signature.
3. Measures with other values (incomes for means and ratios) get their own
   sums, scaled by the value.

Records whose measures are all zero never enter the pass. Replicate sums are
taken in float32, with no copy of the float32 replicate matrix, wherever that
is provably exact (integer weights and scales: see :func:`split_cell_sums`),
and otherwise in float64 from bounded blocks of records, so the whole matrix
is never upcast. Full-sample sums are always float64.

Examples
--------
>>> import numpy as np
>>> keys, sums = segment_weight_sums(np.array([1, 0, 1]), np.array([0, 1, 2]), np.ones(3),
...                                  np.array([10.0, 20.0, 30.0]), np.array([[1.0], [2.0], [3.0]], dtype=np.float32))
>>> keys.tolist(), sums.tolist()
([0, 1], [[20.0, 2.0], [40.0, 4.0]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from scorecard.estimation.groups import Entries
from scorecard.microdata import ReplicateProfile, profile_replicates

__all__ = ["segment_weight_sums", "cell_weight_sums", "split_cell_sums", "grouped_sums"]

#: Entries per block when gathering weight rows (bounds temporary memory to ~block × 81 × 8 bytes).
BLOCK = 200_000


def segment_weight_sums(keys, rows, scale, full_weight, replicates, **options) -> tuple[np.ndarray, np.ndarray]:
    """Σ scale · [full_weight | replicates][row] over entries with equal ``keys``.

    Parameters
    ----------
    keys : int array (E,)
        Cell of each entry.
    rows : int array (E,)
        Record of each entry.
    scale : float array (E,)
        Multiplier of each entry (allocation factor × value).
    full_weight : float64 array (N,)
    replicates : float32 array (N, R) or None
    **options
        ``profile`` and ``block``, as for :func:`split_cell_sums`.

    Returns
    -------
    unique_keys : int array (K,)
    sums : float64 array (K, 1 + R)
    """
    unique_keys, cell = _unique(keys)
    return unique_keys, cell_weight_sums(cell, len(unique_keys), rows, scale, full_weight, replicates, **options)


def cell_weight_sums(cell, n_cells, rows, scale, full_weight, replicates, **options) -> np.ndarray:
    """:func:`split_cell_sums` as one float64 array (n_cells, 1 + R): the full-sample column, then the replicates."""
    full, replicate = split_cell_sums(cell, n_cells, rows, scale, full_weight, replicates, **options)
    sums = np.empty((n_cells, 1 + (0 if replicate is None else replicate.shape[1])))
    sums[:, 0] = full
    if replicate is not None:
        sums[:, 1:] = replicate
    return sums


def split_cell_sums(
    cell: np.ndarray,
    n_cells: int,
    rows: np.ndarray,
    scale: np.ndarray,
    full_weight: np.ndarray,
    replicates: np.ndarray | None,
    *,
    profile: ReplicateProfile | None = None,
    block: int = BLOCK,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-cell sums as (full-sample float64 (n_cells,), replicates (n_cells, R) or None).

    The replicate sums come back as float32 when every one of them is exact
    in float32 (an integer below 2**24), else as float64. Cells whose float32
    sums are provably exact take one float32 sparse product of the replicate
    matrix (no copy of it): the (cells × records) matrix is built in
    compressed-column form straight from the entries, which come sorted by
    record, and the product then reads the weight matrix in order. Other
    cells are summed in float64, in blocks of records.

    Exactness is proven either *after* the product — integer, non-negative
    weights and scales make every running sum non-decreasing, so a float32
    result below 2**24 means no partial sum ever left the integers float32
    holds exactly — or, with negative replicate weights, *before* it, from
    Σ |scale| × max |weight| per cell.
    """
    full = np.bincount(cell, weights=scale * full_weight[rows], minlength=n_cells) if replicates is None else None
    if replicates is None:
        return full, None
    if len(cell) == 0:
        return np.zeros(n_cells), np.zeros((n_cells, replicates.shape[1]), dtype=np.float32)
    profile = profile or profile_replicates(replicates)
    exact = _exact_in_float32(cell, n_cells, scale, replicates, profile)
    if exact is None:
        sums = np.zeros((n_cells, 1 + replicates.shape[1]))
        _blocked_sums(sums, cell, rows, scale, full_weight, replicates, block)
        return sums[:, 0], sums[:, 1:]
    on = None if exact.all() else exact[cell]
    if on is None:  # the usual case: no copies of the entries
        full, replicate = _compressed_column_products(rows, cell, scale, n_cells, full_weight, replicates)
    else:
        full, replicate = _compressed_column_products(rows[on], cell[on], scale[on], n_cells, full_weight, replicates)
    if profile.nonnegative:  # monotone sums: exact unless the float32 result reached 2**24
        exact &= ~np.any(replicate >= FLOAT32_EXACT, axis=1)
    if exact.all():
        return full, replicate
    # The other cells (fractional scales, sums past 2**24) in float64 from the start.
    redo = ~exact[cell]
    sums = np.zeros((n_cells, 1 + replicates.shape[1]))
    sums[exact, 0], sums[exact, 1:] = full[exact], replicate[exact]
    _blocked_sums(sums, cell[redo], rows[redo], scale[redo], full_weight, replicates, block)
    return sums[:, 0], sums[:, 1:]


def _compressed_column_products(rows, cells, scale, n_cells, full_weight, replicates):
    """(cells × records) sparse matrix from entries, times the full weights (float64) and the replicates (float32)."""
    if np.any(rows[1:] < rows[:-1]):
        order = np.argsort(rows, kind="stable")
        rows, cells, scale = rows[order], cells[order], scale[order]
    n_records = len(replicates)
    index = np.int32 if max(n_cells, len(cells)) < 2**31 - 1 else np.int64
    pointer = np.zeros(n_records + 1, dtype=index)
    np.cumsum(np.bincount(rows, minlength=n_records), out=pointer[1:])
    cells = cells.astype(index, copy=False)
    full = sp.csc_matrix((np.asarray(scale, dtype="float64"), cells, pointer), shape=(n_cells, n_records))
    replicate = sp.csc_matrix((scale.astype(np.float32), cells, pointer), shape=(n_cells, n_records))
    return full @ full_weight, replicate @ replicates


#: Integers up to this magnitude are exact in float32, and so is every partial sum that stays below it.
FLOAT32_EXACT = float(2**24)


def _exact_in_float32(
    cell: np.ndarray, n_cells: int, scale: np.ndarray, replicates: np.ndarray, profile: ReplicateProfile
) -> np.ndarray | None:
    """Cells whose replicate sums a float32 product may give exactly (bool per cell), or None if there are none.

    Candidates need integer replicate weights and integer scales in the
    cell. With non-negative weights and scales, the caller then checks the
    result (below 2**24 means exact); otherwise the cell must also have
    Σ |scale| × max |weight| below 2**24, so that every product and partial
    sum is an integer float32 holds. ACS weights are integers, and places
    made of whole PUMAs have scale 1.
    """
    if replicates.dtype != np.float32 or not replicates.flags.c_contiguous or not profile.integral:
        return None
    integral_scale = scale == np.rint(scale)
    if not integral_scale.any():
        return None
    if integral_scale.all():
        exact = np.ones(n_cells, dtype=bool)
    else:
        exact = np.bincount(cell, weights=~integral_scale, minlength=n_cells) == 0
    monotone = profile.nonnegative and not np.any(scale < 0)
    if not monotone:
        bound = np.bincount(cell, weights=np.abs(scale), minlength=n_cells) * max(profile.largest_magnitude, 1.0)
        exact &= bound < FLOAT32_EXACT
    if not exact.any():
        return None
    return exact


def _blocked_sums(sums, cell, rows, scale, full_weight, replicates, block) -> None:
    """Add Σ scale · [full_weight | replicates][row] per ``cell`` into ``sums``, in float64 blocks of records."""
    n_columns = sums.shape[1]
    order = np.argsort(rows, kind="stable") if np.any(rows[1:] < rows[:-1]) else np.arange(len(rows))
    sorted_rows = rows[order]
    first_row, last_row = int(sorted_rows[0]), int(sorted_rows[-1]) + 1
    buffer = np.empty((min(block, last_row - first_row), n_columns))  # reused: no fresh pages per block
    for lo_row in range(first_row, last_row, block):  # blocks of records, for bounded memory
        hi_row = min(lo_row + block, last_row)
        lo, hi = np.searchsorted(sorted_rows, [lo_row, hi_row])
        if lo == hi:
            continue
        take = order[lo:hi]
        block_cells = cell[take]
        lowest = int(block_cells.min())  # a block's cells are mostly a narrow range (files are sorted by place)
        local_cells, local_index = _unique(block_cells - lowest)
        local_cells = local_cells + lowest
        matrix = sp.csr_matrix(
            (scale[take], (local_index.ravel(), rows[take] - lo_row)), shape=(len(local_cells), hi_row - lo_row)
        )
        weights = buffer[: hi_row - lo_row]
        weights[:, 0] = full_weight[lo_row:hi_row]
        if replicates is not None:
            weights[:, 1:] = replicates[lo_row:hi_row]
        sums[local_cells] += matrix @ weights


def _unique(values: np.ndarray, bound: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them) of non-negative integers.

    When the values are below a small bound, a presence table numbers them in
    linear time; otherwise ``np.unique`` sorts.
    """
    if len(values) == 0:
        return values.astype(np.int64), np.zeros(0, dtype=np.int64)
    bound = int(values.max()) + 1 if bound is None else bound
    if bound <= max(4 * len(values), 1 << 20):
        present = np.zeros(bound, dtype=bool)
        present[values] = True
        distinct = np.flatnonzero(present)
        number = np.cumsum(present, dtype=np.int64) - 1
        return distinct, number[values]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.ravel()


def _distinct_columns(binary: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(index of each column's distinct twin, first column of each distinct group); loops over columns only."""
    seen: dict[bytes, int] = {}
    first_of, representative = [], []
    for j, column in enumerate(binary):
        packed = np.packbits(column).tobytes()
        if packed not in seen:
            seen[packed] = len(representative)
            representative.append(j)
        first_of.append(seen[packed])
    return np.array(first_of), np.array(representative)


#: Up to this many distinct bits, signatures are numbered with a bincount instead of a sort.
_DENSE_BITS = 20


def _signatures(binary: Sequence[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signature id per record, bit pattern per signature) of boolean columns (a list, or an (N, M) matrix)."""
    columns = list(binary.T) if isinstance(binary, np.ndarray) else list(binary)
    n_bits = len(columns)
    if n_bits <= _DENSE_BITS:  # few bits: one packed code per record, distinct codes by counting, no sort
        codes = np.zeros(len(columns[0]), dtype=np.uint32)  # bit b = column b; loops over bit columns only
        shifted = np.empty_like(codes)
        for b, column in enumerate(columns):
            np.left_shift(np.asarray(column, dtype=bool).view(np.uint8), b, out=shifted, dtype=np.uint32)
            np.bitwise_or(codes, shifted, out=codes)
        patterns, sig_id = _unique(codes, bound=1 << n_bits)
        bits = ((patterns[:, None] >> np.arange(n_bits)) & 1).astype(bool)
        return sig_id, bits
    words = []
    for start in range(0, n_bits, 63):  # 63 bits per uint64 word; loops over bit columns, not records
        word = np.zeros(len(columns[0]), dtype=np.uint64)
        for b, column in enumerate(columns[start : start + 63]):
            word |= column.astype(np.uint64) << np.uint64(b)
        words.append(word)
    if len(words) == 1:
        patterns, sig_id = np.unique(words[0], return_inverse=True)
        stacked, patterns = words[0][:, None], patterns[:, None]
    else:
        stacked = np.column_stack(words)
        patterns, sig_id = np.unique(stacked, axis=0, return_inverse=True)
    bits = np.concatenate(
        [
            ((patterns[:, w, None] >> np.arange(min(63, n_bits - 63 * w), dtype=np.uint64)) & np.uint64(1)).astype(bool)
            for w in range(stacked.shape[1])
        ],
        axis=1,
    )
    return np.asarray(sig_id).ravel(), bits


def grouped_sums(
    entries: Entries,
    measures: Sequence[np.ndarray],
    full_weight: np.ndarray,
    replicates: np.ndarray | None,
    n_groups: int,
    *,
    out: np.ndarray | None = None,
    counts_out: np.ndarray | None = None,
    profile: ReplicateProfile | None = None,
    block: int = BLOCK,
) -> np.ndarray:
    """``S[m, g, r]`` for every measure column.

    Parameters
    ----------
    measures : sequence of arrays (N,)
        One value per record for each measure; boolean arrays (0/1 measures:
        universes and conditions) take the signature path, others are summed
        with their values.
    out : float64 array (M, n_groups, >= 1 + R), optional
        Buffer the sums are added into (columns past 1 + R are left alone).
    counts_out : float64 array (M, n_groups), optional
        Buffer the unweighted counts of entries with a positive factor are
        added into, for the boolean measures (rows of other measures are left
        alone).
    profile : ReplicateProfile, optional
        Of ``replicates``, when the caller has it.

    Returns
    -------
    float64 array (M, n_groups, 1 + R) (``out`` when given)
    """
    n_measures = len(measures)
    n_columns = 1 + (0 if replicates is None else replicates.shape[1])
    if out is None:
        out = np.zeros((n_measures, n_groups, n_columns))
    target = out[:, :, :n_columns]
    if len(entries) == 0 or n_measures == 0:
        return out
    if replicates is not None and profile is None:
        profile = profile_replicates(replicates)
    binary_columns = np.array([j for j, m in enumerate(measures) if m.dtype == bool], dtype=np.int64)
    other_columns = np.array([j for j, m in enumerate(measures) if m.dtype != bool], dtype=np.int64)

    if len(binary_columns):
        _add_binary_sums(target, counts_out, [measures[j] for j in binary_columns], binary_columns, entries,
                         full_weight, replicates, n_groups, profile, block)

    if len(other_columns):
        values = np.column_stack([measures[j] for j in other_columns]).astype("float64")
        entry_values = values[entries.row]  # (E, M_other)
        entry_index, which = np.nonzero(entry_values * entries.factor[:, None])
        keys = other_columns[which] * n_groups + entries.group[entry_index]
        scale = entries.factor[entry_index] * entry_values[entry_index, which]
        cell_keys, cell_sums = segment_weight_sums(
            keys, entries.row[entry_index], scale, full_weight, replicates, profile=profile, block=block
        )
        column, group = np.divmod(cell_keys, n_groups)
        target[column, group] += cell_sums
    return out


def _add_binary_sums(target, counts_out, binary, columns, entries, full_weight, replicates, n_groups, profile,
                     block) -> None:
    """Add the sums (and counts) of the 0/1 measures ``binary`` (boolean arrays, measure indices ``columns``)."""
    # Identical 0/1 columns (indicators sharing a universe) need one bit, not several.
    first_of, representative = _distinct_columns(binary)
    sig_id, bits = _signatures([binary[j] for j in representative])
    empty_signature = ~bits.any(axis=1)
    n_sig = len(bits)
    keep = (entries.factor != 0) & ~empty_signature[sig_id[entries.row]]
    rows, factor = entries.row[keep], entries.factor[keep]
    cell_keys, cell = _unique(entries.group[keep] * n_sig + sig_id[rows])
    if len(cell_keys) == 0:  # no record with a set bit lies in any group
        return
    full_sums, replicate_sums = split_cell_sums(cell, len(cell_keys), rows, factor, full_weight, replicates,
                                                profile=profile, block=block)
    cell_group, cell_sig = np.divmod(cell_keys, n_sig)
    cell_bits = bits[cell_sig]  # (cells, distinct bits)
    # Each bit's sums are those of the cells with the bit set; for a bit set in most cells, the group total minus
    # the cells *without* it (fewer terms). One sparse product spreads the cell sums onto bits and group totals.
    complement = cell_bits.mean(axis=0) > 0.5
    cell_index, bit = np.nonzero(cell_bits ^ complement[None, :])
    n_bits, n_cells = cell_bits.shape[1], len(cell_keys)
    spread_rows = bit * n_groups + cell_group[cell_index]
    sign = np.where(complement[bit], -1.0, 1.0)
    if complement.any():  # rows n_bits * n_groups + g: the group totals
        spread_rows = np.concatenate([spread_rows, n_bits * n_groups + cell_group])
        cell_index = np.concatenate([cell_index, np.arange(n_cells)])
        sign = np.concatenate([sign, np.ones(n_cells)])
    spread = sp.csr_matrix((sign, (spread_rows, cell_index)), shape=((n_bits + 1) * n_groups, n_cells))
    per_bit_full = (spread @ full_sums).reshape(n_bits + 1, n_groups)
    per_bit = None if replicate_sums is None else _spread_replicates(spread, replicate_sums, profile, factor)
    per_bit_counts = None
    if counts_out is not None:
        counts = np.bincount(cell[factor > 0], minlength=n_cells).astype("float64")
        per_bit_counts = (spread @ counts).reshape(n_bits + 1, n_groups)
    for column, b in zip(columns, first_of):  # loop over measures, not rows or groups
        parts = [b, n_bits] if complement[b] else [b]
        for part in parts:
            target[column, :, 0] += per_bit_full[part]
            if per_bit is not None:
                target[column, :, 1:] += per_bit[part * n_groups : (part + 1) * n_groups]
            if per_bit_counts is not None:
                counts_out[column] += per_bit_counts[part]


def _spread_replicates(spread, replicate_sums, profile, factor) -> np.ndarray:
    """``spread @ replicate_sums``, in float32 when that is provably exact, else in float64.

    Exact float32 cell sums of non-negative weights are non-negative
    integers; every spread row adds them with one sign, so its running sum is
    monotone and a float32 result below 2**24 is exact (as for the cell sums).
    """
    if replicate_sums.dtype == np.float32 and profile is not None and profile.nonnegative and np.all(factor >= 0):
        result = spread.astype(np.float32) @ replicate_sums
        if result.size == 0 or (result.max() < FLOAT32_EXACT and result.min() > -FLOAT32_EXACT):
            return result
    return spread @ np.asarray(replicate_sums, dtype="float64")
