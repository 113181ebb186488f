"""The estimates contract: three routes, one Dataset; round trips; bad Datasets and tables named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import scorecard as sc
from scorecard.errors import EstimatesContractError, ScorecardError
from scorecard.estimates import VARIABLES, Reliability, attribute, estimates_from_frame, to_frame, validate_estimates
from scorecard.tables import read_acs_table, read_acs_tables
from tests.estimation_data import split_places, synthetic_micro
from tests.test_tables import B17025_LEGEND, _b17025

REQUIRED_COORDS = {"indicator_label", "statistic", "higher_is_better", "unit", "domain", "place_name", "cohort_kind",
                   "entry_first", "entry_last", "period_start", "puma_vintage", "experimental_weights"}
REQUIRED_ATTRS = {"route", "survey", "dollars_year", "variance_method", "sources", "library", "reliability"}


@pytest.fixture(scope="module")
def microdata_route() -> xr.Dataset:
    return sc.estimate(synthetic_micro(years=(2019, 2020)), ["naturalized", "homeownership", "median_household_income"],
                       places=split_places(), keep_replicates=True)


@pytest.fixture(scope="module")
def tables_route() -> xr.Dataset:
    return read_acs_tables(read_acs_table(_b17025(), legend=B17025_LEGEND, year=2017, survey="acs5"))


@pytest.fixture(scope="module")
def frame_route() -> xr.Dataset:
    frame = pd.DataFrame({
        "indicator": ["naturalized"] * 4 + ["esl_seats"] * 2,
        "place": ["Boston", "Lowell"] * 3,
        "year": [2019, 2019, 2024, 2024, 2024, 2024],
        "cohort": ["foreign_born"] * 6,
        "estimate": [0.50, 0.45, 0.52, 0.47, 12.0, 8.0],
        "moe90": [0.0329, 0.0658, 0.0329, 0.0658, 1.645, 3.29],
        "label": [None] * 4 + ["ESL seats per 1,000"] * 2,
        "higher_is_better": [None] * 4 + [True] * 2,
        "unit": [None] * 4 + ["number"] * 2,
    })
    return estimates_from_frame(frame, survey="acs5")


def test_three_routes_one_contract(microdata_route, tables_route, frame_route):
    routes = {"microdata": microdata_route, "tables": tables_route, "frame": frame_route}
    for route, ds in routes.items():
        assert validate_estimates(ds) is ds
        assert ds.attrs["route"] == route
        assert set(VARIABLES) <= set(ds.data_vars)
        assert REQUIRED_COORDS <= set(ds.coords), route
        assert REQUIRED_ATTRS <= set(ds.attrs), route
        assert tuple(ds["estimate"].dims[:4]) == ("indicator", "place", "year", "cohort")
        assert ds["year"].dtype.kind == "i" and ds["period_start"].dtype.kind == "i"
        assert ds["experimental_weights"].dtype == bool
    # names of coordinates and attributes are the same on every route (no 'dollars' vs 'dollars_year')
    assert {frozenset(ds.coords) & REQUIRED_COORDS for ds in routes.values()} == {frozenset(REQUIRED_COORDS)}
    assert {frozenset(REQUIRED_ATTRS & set(ds.attrs)) for ds in routes.values()} == {frozenset(REQUIRED_ATTRS)}


def test_microdata_route_metadata(microdata_route):
    ds = microdata_route
    # acs1: the period is the year; 2020 1-year carries the experimental-weights caveat as a coordinate
    assert ds["period_start"].values.tolist() == [2019, 2020]
    assert ds["experimental_weights"].values.tolist() == [False, True]
    assert ds["puma_vintage"].values.tolist() == [2010.0, 2010.0]
    assert ds["unit"].values.tolist() == ["share", "share", "dollars"]
    assert ds["higher_is_better"].values.tolist() == [1.0, 1.0, 1.0]
    assert ds.attrs["variance_method"] == "sdr" and attribute(ds, "records") == ds.attrs["records"]
    assert Reliability.from_json(ds.attrs["reliability"]) == Reliability()
    assert isinstance(attribute(ds, "indicators"), list)


def test_tables_route_se_and_period(tables_route):
    ds = tables_route
    assert ds["period_start"].values.tolist() == [2013]  # acs5 2017 = 2013-2017
    assert not ds["experimental_weights"].any()
    np.testing.assert_allclose(ds["moe90"], 1.645 * ds["se"])


def test_frame_route_reads_moe_and_own_indicators(frame_route):
    ds = frame_route
    se = ds["se"].sel(indicator="naturalized", cohort="foreign_born", year=2024)
    np.testing.assert_allclose(se.values, [0.02, 0.04])  # 0.0329 / 1.645, 0.0658 / 1.645
    assert str(ds["indicator_label"].sel(indicator="esl_seats").item()) == "ESL seats per 1,000"
    assert str(ds["unit"].sel(indicator="esl_seats").item()) == "number"
    # the registry's own metadata for registry keys
    assert str(ds["indicator_label"].sel(indicator="naturalized").item()) == sc.estimates.IndicatorMeta.of(
        __import__("indicators").get("naturalized")).label
    # a cell absent from the table is NaN with a reason, never a silent zero
    absent = ds.sel(indicator="esl_seats", place="Boston", year=2019, cohort="foreign_born")
    assert np.isnan(absent["estimate"].item()) and absent["reason"].item() == "not in the table"
    assert absent["reliable"].item() == "missing"
    assert ds["period_start"].values.tolist() == [2015, 2020]


def test_2005_moes_use_z_165():
    frame = pd.DataFrame({"indicator": "naturalized", "place": "53", "year": [2005, 2006], "estimate": 0.4,
                          "moe90": [1.65, 1.645]})
    ds = estimates_from_frame(frame, survey="acs1")
    np.testing.assert_allclose(ds["se"].squeeze().values, [1.0, 1.0])


@pytest.mark.parametrize("name", ["microdata_route", "tables_route", "frame_route"])
def test_netcdf_round_trip(name, request, tmp_path):
    ds = request.getfixturevalue(name)
    path = tmp_path / "est.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as opened:
        back = opened.load()
    validate_estimates(back)
    for variable in ds.data_vars:
        if ds[variable].dtype.kind == "f":
            np.testing.assert_array_equal(back[variable].values, ds[variable].values)
        else:
            assert back[variable].values.astype(str).tolist() == ds[variable].values.astype(str).tolist()
    assert back["experimental_weights"].values.tolist() == ds["experimental_weights"].values.tolist()
    assert back.attrs == ds.attrs
    assert Reliability.from_json(back.attrs["reliability"]) == Reliability()


@pytest.mark.parametrize("name", ["microdata_route", "tables_route", "frame_route"])
def test_tidy_frame_round_trip(name, request):
    ds = request.getfixturevalue(name)
    table = to_frame(ds)
    assert "replicate_estimate" not in table
    back = estimates_from_frame(table, survey=ds.attrs["survey"], route=ds.attrs["route"])
    validate_estimates(back)
    for variable in ("estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted"):
        xr.testing.assert_allclose(back[variable].transpose(*ds[variable].dims).reset_coords(drop=True),
                                   ds[variable].reset_coords(drop=True), rtol=1e-12)
    xr.testing.assert_equal(back["reliable"].reset_coords(drop=True), ds["reliable"].reset_coords(drop=True))
    for coord in REQUIRED_COORDS:
        np.testing.assert_array_equal(back[coord].values, ds[coord].values)


def test_caveat_survives_a_merge_of_reads(microdata_route):
    early = microdata_route.sel(year=[2019]).drop_vars("replicate_estimate")
    late = microdata_route.sel(year=[2020]).drop_vars("replicate_estimate")
    merged = sc.merge_estimates(early, late)
    assert merged["experimental_weights"].values.tolist() == [False, True]
    assert merged["period_start"].values.tolist() == [2019, 2020]
    xr.testing.assert_equal(merged["estimate"], microdata_route["estimate"])
    concatenated = validate_estimates(xr.concat([early, late], dim="year", combine_attrs="override"))
    assert concatenated["experimental_weights"].values.tolist() == [False, True]


def test_caveat_survives_a_cache_hit(tmp_path):
    from scorecard.datasets.synthetic import write_pums

    files = write_pums(tmp_path / "pums", scale="small", years=[2019, 2020])
    flagged = []
    for expected_cache in ("miss", "hit"):  # the first read fills the cache, the second hits it
        with pytest.warns(UserWarning, match="experimental weights") if expected_cache == "miss" else _no_warning():
            micro = sc.read_acs_pums(files.person, files.housing, cache_dir=tmp_path / "cache")
        assert micro.attrs["cache"] == expected_cache
        est = sc.estimate(micro, "naturalized")
        flagged.append(dict(zip(est["year"].values.tolist(), est["experimental_weights"].values.tolist())))
    assert flagged[0] == flagged[1] == {2019: False, 2020: True}


def _no_warning():
    import contextlib

    return contextlib.nullcontext()


# --- bad input --------------------------------------------------------------------------------------


def _messages(excinfo) -> str:
    return str(excinfo.value)


def test_every_problem_named_at_once(frame_route):
    broken = frame_route.drop_vars(["se", "higher_is_better"]).assign_coords(year=frame_route["year"].astype(float))
    with pytest.raises(EstimatesContractError) as excinfo:
        validate_estimates(broken)
    message = _messages(excinfo)
    assert "missing variable 'se'" in message
    assert "coord 'higher_is_better' missing on indicator" in message
    assert "coord 'year' must be integers" in message
    assert isinstance(excinfo.value, ScorecardError) and isinstance(excinfo.value, ValueError)


def test_negative_se_and_inconsistent_moe(frame_route):
    broken = frame_route.copy()
    broken["se"] = -broken["se"]
    with pytest.raises(EstimatesContractError, match="'se' has .* negative values .*indicator='naturalized'"):
        validate_estimates(broken)
    broken = frame_route.copy()
    broken["moe90"] = broken["moe90"] * 2
    with pytest.raises(EstimatesContractError, match="'moe90' is not 1.645 \\* se"):
        validate_estimates(broken)


def test_not_a_dataset():
    with pytest.raises(EstimatesContractError, match="got DataFrame"):
        validate_estimates(pd.DataFrame())


def test_unknown_reliability_label_and_share_above_one(frame_route):
    broken = frame_route.copy()
    broken["reliable"] = broken["reliable"].where(broken["reliable"] != "reliable", "good")
    with pytest.raises(EstimatesContractError, match="'reliable' holds \\['good'\\]"):
        validate_estimates(broken)
    broken = frame_route.copy()
    broken["estimate"] = broken["estimate"] * 100
    with pytest.raises(EstimatesContractError, match="share estimates lie outside 0-1.*divide percentages by 100"):
        validate_estimates(broken)


def test_replicate_zero_must_be_the_estimate(microdata_route):
    broken = microdata_route.copy()
    broken["replicate_estimate"] = broken["replicate_estimate"] + 0.01
    with pytest.raises(EstimatesContractError, match="replicate 0 differs"):
        validate_estimates(broken)


BASE = {"indicator": "naturalized", "place": ["Boston"], "year": 2024, "estimate": 0.5}


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"se": 0.02, "moe90": 0.05}, "'se' and the MOE disagree beyond rounding in rows \\[0\\]"),
        ({"se": -0.02}, "column 'se' has negative values in rows \\[0\\]"),
        ({"moe90": -0.02}, "column 'moe90' has negative values"),
        ({}, "no uncertainty column"),
        ({"se": 0.02, "notes": "x"}, "unknown columns \\['notes'\\]"),
        ({"se": 0.02, "year": 2024.5}, "'year' must be whole numbers; rows \\[0\\] hold \\[2024.5\\]"),
        ({"se": 0.02, "indicator": "esl_seats"}, "indicator 'esl_seats' is not in the registry"),
        ({"se": 0.02, "estimate": 52.0}, "share estimates lie outside 0-1"),
        ({"se": "n/a"}, "column 'se' has values that are not numbers"),
    ],
)
def test_bad_frames(columns, message):
    frame = pd.DataFrame({**BASE, **columns})
    with pytest.raises(EstimatesContractError, match=message):
        estimates_from_frame(frame)


def test_se_and_moe_that_agree_within_rounding_are_accepted():
    # published MOE 3.3 (one decimal) for se 2.0: 1.645 * 2 = 3.29 rounds to 3.3
    frame = pd.DataFrame({**BASE, "indicator": "population", "estimate": [1000.0], "se": 2.0, "moe90": 3.3})
    ds = estimates_from_frame(frame)
    assert ds["se"].item() == 2.0


def test_duplicate_rows_are_refused():
    frame = pd.DataFrame({**BASE, "place": ["Boston", "Boston"], "se": 0.02})
    with pytest.raises(EstimatesContractError, match="2 rows repeat the same"):
        estimates_from_frame(frame)
