"""Cohort labels: one module writes and reads them, for the microdata route and the published-tables route."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cohorts import ArrivalCohorts
from cohorts.labels import cohort_label, parse_cohort_label
from scorecard.errors import CohortDefinitionError, TableError
from scorecard.tables.catalog import cohort_coords, load_catalog


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("all", ("all", None, None)),
        ("native", ("nativity", None, None)),
        ("foreign_born", ("nativity", None, None)),
        ("1990-1999", ("arrival", 1990, 1999)),
        ("-1989", ("arrival", None, 1989)),
        ("2010-", ("arrival", 2010, None)),
        ("2000-2000", ("arrival", 2000, 2000)),
    ],
)
def test_parse_reads_kind_and_bounds(label, expected):
    kind, first, last = parse_cohort_label(label)
    assert kind == expected[0]
    assert (math.isnan(first) if expected[1] is None else first == expected[1])
    assert (math.isnan(last) if expected[2] is None else last == expected[2])
    if kind == "arrival":
        assert cohort_label(first, last) == label  # written back the same way


@pytest.mark.parametrize("label", ["1990s", "-", "", "1999-1990", "1990-99", "Foreign born", " all"])
def test_malformed_labels_are_refused_by_both_routes(label):
    with pytest.raises(CohortDefinitionError, match="cohort label"):
        parse_cohort_label(label)
    with pytest.raises(TableError, match="cohort label"):
        cohort_coords([label])


def test_scheme_coords_match_its_ranges():
    scheme = ArrivalCohorts(((None, 1979), (1980, 1999), (2000, None)), everyone=True)
    assert scheme.labels == ("native", "foreign_born", "all", "-1979", "1980-1999", "2000-")
    coords = scheme.coords
    assert coords["cohort_kind"] == ["nativity", "nativity", "all", "arrival", "arrival", "arrival"]
    np.testing.assert_array_equal(coords["entry_first"], [np.nan, np.nan, np.nan, np.nan, 1980.0, 2000.0])
    np.testing.assert_array_equal(coords["entry_last"], [np.nan, np.nan, np.nan, 1979.0, 1999.0, np.nan])


def test_catalog_labels_are_the_labels_schemes_write():
    catalog = load_catalog()
    labels = sorted({c for c in (*catalog.columns["cohort"], *catalog.lines["cohort"]) if c})
    table = cohort_coords(labels)
    arrival = table[table["cohort_kind"] == "arrival"]
    assert len(arrival) >= 3
    written = [cohort_label(None if math.isnan(f) else int(f), None if math.isnan(l_) else int(l_))
               for f, l_ in zip(arrival["entry_first"], arrival["entry_last"])]
    assert written == arrival.index.tolist()
