"""Per-cell weight sums: every exactness path (float32 proven before or after the product, float64) equals float64."""

from __future__ import annotations

import numpy as np
import pytest

from scorecard.estimation.sums import cell_weight_sums, split_cell_sums
from scorecard.microdata import profile_replicates

CASES = {
    # name: (replicate weights, scales) -> which path the cells take
    "ACS-like integers": dict(low=1, high=400, scale="ones"),  # float32, proven after the product
    "sums past 2**24": dict(low=200_000, high=400_000, scale="ones"),  # some cells redone in float64
    "negative replicate weights": dict(low=-50, high=400, scale="ones"),  # float32 proven before, by a bound
    "negative and large": dict(low=-400_000, high=400_000, scale="ones"),  # running sums not monotone: float64
    "fractional allocation factors": dict(low=1, high=400, scale="fractions"),  # float64 for those cells
    "fractional weights": dict(low=1, high=400, scale="ones", fractional=True),  # float64 throughout
}


def _case(name, seed=0):
    spec = CASES[name]
    rng = np.random.default_rng(seed)
    n_records, n_cells = 5_000, 40
    replicates = rng.integers(spec["low"], spec["high"], size=(n_records, 80)).astype(np.float32)
    if spec.get("fractional"):
        replicates += np.float32(0.25)
    full = rng.integers(1, 400, size=n_records).astype(float)
    # Entries in record order; some records in two cells, some in none; a few big cells.
    rows = np.sort(np.concatenate([rng.integers(0, n_records, 6_000), np.arange(0, n_records, 3)]))
    cells = np.where(rng.random(len(rows)) < 0.5, rng.integers(0, 4, len(rows)), rng.integers(0, n_cells, len(rows)))
    scale = np.ones(len(rows)) if spec["scale"] == "ones" else rng.choice([1.0, 0.3, 2.0], size=len(rows))
    return cells, n_cells, rows, scale, full, replicates


def _reference(cells, n_cells, rows, scale, full, replicates):
    """Entry by entry in float64 (np.add.at), no float32 anywhere."""
    weights = np.column_stack([full, replicates.astype(np.float64)])
    out = np.zeros((n_cells, 81))
    np.add.at(out, cells, scale[:, None] * weights[rows])
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_cell_sums_equal_float64_entry_by_entry(name):
    cells, n_cells, rows, scale, full, replicates = _case(name)
    got = cell_weight_sums(cells, n_cells, rows, scale, full, replicates, profile=profile_replicates(replicates))
    expected = _reference(cells, n_cells, rows, scale, full, replicates)
    if name in ("fractional allocation factors", "fractional weights"):
        np.testing.assert_allclose(got, expected, rtol=1e-13)
    else:  # integers: every path must be exact
        np.testing.assert_array_equal(got, expected)


def test_float32_result_only_when_exact():
    cells, n_cells, rows, scale, full, replicates = _case("ACS-like integers")
    assert split_cell_sums(cells, n_cells, rows, scale, full, replicates)[1].dtype == np.float32
    cells, n_cells, rows, scale, full, replicates = _case("sums past 2**24")
    replicate = split_cell_sums(cells, n_cells, rows, scale, full, replicates)[1]
    assert replicate.dtype == np.float64 and replicate.max() > 2**24  # the big cells were redone in float64
