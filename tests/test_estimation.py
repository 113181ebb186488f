"""The estimation engine against a textbook loop, the Census verification file, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import indicators
import scorecard as sc
from cohorts import ArrivalCohorts
from indicators import ALWAYS, Indicator, col, where
from scorecard.errors import MissingColumnsError
from tests.conftest import shared_file
from tests.estimation_data import split_places, synthetic_micro, textbook_estimate

RATIO = Indicator(
    key="earnings_to_income",
    label="Earnings per dollar of household income",
    domain="income",
    universe=col("earnings").notna() & col("household_income").notna(),
    measure=col("earnings"),
    denominator=col("household_income"),
    statistic="ratio",
)
MEAN_AGE = Indicator(key="mean_age", label="Mean age", domain="demography", universe=ALWAYS,
                     measure=col("age"), statistic="mean", higher_is_better=None)
CASES = ["naturalized", "english_very_well", "homeownership", "in_poverty", "population", "median_household_income",
         "median_personal_earnings", MEAN_AGE, RATIO]


@pytest.fixture(scope="module")
def micro():
    return synthetic_micro()


@pytest.fixture(scope="module")
def scheme():
    return ArrivalCohorts.decades(1980, 2010, open_start=True)


def _textbook(micro, indicator, places, scheme, place, year, cohort):
    frame = micro.frame
    table = places.table[places.table["place"] == place]
    factor = frame["puma"].map(dict(zip(table["puma"], table["factor"]))).fillna(0).to_numpy()
    rows, labels = scheme.membership(frame)
    in_cohort = np.zeros(len(frame), bool)
    in_cohort[rows[np.array(scheme.labels)[labels] == cohort]] = True
    member = (factor > 0) & in_cohort & (frame["survey_year"].to_numpy() == year)
    evaluated = indicator.evaluate(frame)
    full, reps = micro.weights(indicator.weight)
    weights = np.column_stack([full, reps]) * factor[:, None]
    idx = np.flatnonzero(member)
    denominator = None if evaluated.denominator is None else evaluated.denominator[idx]
    return textbook_estimate(evaluated.value[idx], evaluated.universe[idx], denominator, indicator.statistic, weights[idx])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c if isinstance(c, str) else c.key)
def test_matches_textbook_sdr_for_every_group(case, micro, scheme):
    indicator = indicators.get(case) if isinstance(case, str) else case
    places = split_places()
    est = sc.estimate(micro, [indicator], places=places, cohorts=scheme)
    checked = 0
    for place in ["A", "B"]:
        for year in [2019, 2020]:
            for cohort in scheme.labels:
                expected, expected_se = _textbook(micro, indicator, places, scheme, place, year, cohort)
                cell = est.sel(indicator=indicator.key, place=place, year=year, cohort=cohort)
                if np.isnan(expected):
                    assert np.isnan(float(cell["estimate"]))
                    continue
                np.testing.assert_allclose(float(cell["estimate"]), expected, rtol=1e-10)
                np.testing.assert_allclose(float(cell["se"]), expected_se, rtol=1e-9, atol=1e-12)
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize("n_pieces", [1, 3, 7])
def test_streaming_pieces_give_identical_numbers(n_pieces, micro, scheme):
    keys = ["naturalized", "median_household_income", "population", RATIO]
    whole = sc.estimate(micro, keys, places=split_places(), cohorts=scheme)
    bounds = np.linspace(0, len(micro), n_pieces + 1).astype(int)
    pieces = [(lambda a=a, b=b: micro.take(np.arange(a, b))) for a, b in zip(bounds[:-1], bounds[1:])]
    streamed = sc.estimate(pieces, keys, places=split_places(), cohorts=scheme)
    for name in ["estimate", "se", "n_unweighted", "universe_weighted"]:
        np.testing.assert_allclose(streamed[name].values, whole[name].values, rtol=1e-12, equal_nan=True)


def test_pieces_with_different_years_line_up(micro):
    years = micro.frame["survey_year"].to_numpy()
    pieces = [micro.take(np.flatnonzero(years == 2020)), micro.take(np.flatnonzero(years == 2019))]
    streamed = sc.estimate(pieces, ["english_very_well"])
    whole = sc.estimate(micro, ["english_very_well"])
    assert streamed["year"].values.tolist() == [2019, 2020]
    np.testing.assert_allclose(streamed["se"].values, whole["se"].values, rtol=1e-12)


def test_dask_cluster_gives_identical_numbers(micro, scheme):
    distributed = pytest.importorskip("dask.distributed")
    keys = ["naturalized", "median_household_income"]
    bounds = np.linspace(0, len(micro), 4).astype(int)
    pieces = [micro.take(np.arange(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
    local = sc.estimate(pieces, keys, cohorts=scheme)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = sc.estimate(pieces, keys, cohorts=scheme, client=client)
    for name in ["estimate", "se", "n_unweighted"]:
        np.testing.assert_array_equal(remote[name].values, local[name].values)


def test_keep_replicates_carries_all_81(micro):
    est = sc.estimate(micro, ["naturalized"], keep_replicates=True)
    reps = est["replicate_estimate"]
    assert reps.sizes["replicate"] == 81
    np.testing.assert_array_equal(reps.sel(replicate=0).values, est["estimate"].values)
    se = np.sqrt(0.05 * ((reps.isel(replicate=slice(1, None)) - reps.sel(replicate=0)) ** 2).sum("replicate"))
    np.testing.assert_allclose(se.values, est["se"].values, rtol=1e-12)


def test_dataset_layout_and_uncertainty(micro, scheme):
    est = sc.estimate(micro, ["naturalized", "homeownership"], places=split_places(), cohorts=scheme, by=["sex"])
    assert est["estimate"].dims == ("indicator", "place", "year", "cohort", "sex")
    for name in ["estimate", "se", "moe90", "cv", "n_unweighted", "universe_weighted", "reliable", "reason"]:
        assert name in est
    np.testing.assert_allclose(est["moe90"].values, 1.645 * est["se"].values)
    ok = est["estimate"].notnull() & (est["estimate"] > 0)
    np.testing.assert_allclose(est["cv"].where(ok).values, (est["se"] / est["estimate"]).where(ok).values)
    assert est.attrs["variance_method"] == "sdr" and est.attrs["variance_scale"] == 0.05
    assert set(np.unique(est["reliable"].values)) <= {"reliable", "caution", "unreliable", "missing"}


def test_reliability_thresholds_are_parameters(micro):
    strict = sc.estimate(micro, ["naturalized"], reliability=sc.Reliability(caution_cv=0.001, unreliable_cv=0.002))
    lenient = sc.estimate(micro, ["naturalized"], reliability=sc.Reliability(caution_cv=5, unreliable_cv=10, min_n=0))
    assert (strict["reliable"] == "unreliable").all()
    assert (lenient["reliable"] == "reliable").all()
    tiny = sc.estimate(micro.take(np.arange(40)), ["naturalized"], reliability=sc.Reliability(min_n=1000))
    assert (tiny["reliable"].values != "reliable").all()


def test_empty_group_is_nan_with_reason_never_zero(micro):
    native_only = micro.take(np.flatnonzero(micro.frame["nativity"].to_numpy() == "native"))
    est = sc.estimate(native_only, ["naturalized", "population"])
    cell = est.sel(indicator="naturalized").isel(year=0).squeeze()
    assert np.isnan(float(cell["estimate"])) and np.isnan(float(cell["se"]))
    assert "no records" in str(cell["reason"].values)
    assert str(cell["reliable"].values) == "missing"
    assert (est.sel(indicator="population")["estimate"] > 0).all()


def test_place_with_zero_weight_is_nan_with_reason(micro):
    frame = micro.frame.copy()
    frame.loc[frame["puma"] == "00004", "person_weight"] = 0.0
    zeroed = sc.Microdata(frame, micro.person_replicates, micro.household_replicates, attrs=micro.attrs)
    est = sc.estimate(zeroed, ["english_very_well"], places=split_places())
    only_b4 = sc.Places.from_pumas(pd.DataFrame({"place": ["Z"], "state": "53", "puma": ["00004"], "puma_vintage": 2010}))
    est = sc.estimate(zeroed, ["english_very_well"], places=only_b4)
    reasons = set(np.unique(est["reason"].values))
    assert "universe has zero weight in this group" in reasons
    assert est["estimate"].isnull().all()


def test_missing_indicator_columns_raise_naming_indicator(micro):
    frame = micro.frame.drop(columns=["english"])
    crippled = sc.Microdata(frame, micro.person_replicates, micro.household_replicates, attrs={"source": "psam_p53.csv"})
    with pytest.raises(MissingColumnsError, match=r"psam_p53.csv is missing columns \['english'\].*english_very_well"):
        sc.estimate(crippled, ["english_very_well"])


def test_missing_measure_values_are_counted_not_zeroed(micro):
    frame = micro.frame.copy()
    frame.loc[:9, "age"] = pd.NA
    est = sc.estimate(sc.Microdata(frame, micro.person_replicates, micro.household_replicates, attrs=micro.attrs), [MEAN_AGE])
    assert '"mean_age": 10' in est.attrs["excluded_missing_value"]


def test_no_variance_information_means_unknown_se_flagged():
    frame = synthetic_micro().frame
    plain = sc.Microdata(frame, attrs={"source": "no-reps"})
    est = sc.estimate(plain, ["naturalized"])
    assert est["se"].isnull().all() and (est["reliable"] == "unreliable").all()
    assert "SE unknown" in str(est["reason"].values.ravel()[0])


# --------------------------------------------------------------------------- official Census figures
VERIFICATION_LINES = {
    "Total housing units (TYPE=1)": ALWAYS,
    "Total occupied units": col("tenure").notna(),
    "Owner occupied units (TEN in 1,2)": col("tenure").isin(["owned_mortgage", "owned_free"]),
    "Renter occupied units (TEN in 3,4)": col("tenure").isin(["rented", "no_rent"]),
    "Owned with a mortgage (TEN=1)": col("tenure") == "owned_mortgage",
    "Owned free and clear (TEN=2)": col("tenure") == "owned_free",
    "Rented for cash (TEN=3)": col("tenure") == "rented",
    "No cash rent (TEN=4)": col("tenure") == "no_rent",
    "Total vacant units": col("tenure").isna(),
    "For rent (VACS=1)": col("VACS") == 1,
    "For sale only (VACS=3)": col("VACS") == 3,
    "All Other Vacant (VACS in 2,4,5,6,7)": col("VACS").isin([2, 4, 5, 6, 7]),
}


@pytest.mark.shared
def test_census_pums_verification_wa_2015_all_12_lines(shared_data):
    """Census 'PUMS estimates for user verification', WA 2015 housing: estimate and SE to published rounding."""
    raw = pd.read_csv(shared_file(shared_data, "real/pumsutils_wa/wa_2015_housing_pums_subset.csv.gz"))
    official = pd.read_csv(shared_file(shared_data, "real/pumsutils_wa/wa_2015_pums_verification_estimates_housing.csv"))
    tenure_codes = {1: "owned_mortgage", 2: "owned_free", 3: "rented", 4: "no_rent"}
    micro = sc.Microdata.from_frame(
        raw,
        {"household_weight": "WGTP", "tenure": lambda f: f["TEN"].map(tenure_codes),
         "household_id": lambda f: f.index.astype(str)},
        household_replicates="WGTP",
        defaults={"survey_year": 2015, "state": "53", "puma": "00000", "puma_vintage": 2010},
        keep=["VACS"],
        source="wa_2015_housing_pums_subset.csv.gz",
    )
    lines = [
        Indicator(key=f"line{i}", label=label, domain="housing", universe=ALWAYS, measure=measure, statistic="total",
                  unit="household", weight="household", higher_is_better=None, extra_columns=("VACS",))
        for i, (label, measure) in enumerate(VERIFICATION_LINES.items())
    ]
    est = sc.estimate(micro, lines).squeeze()
    assert len(official) == 12
    for _i, row in official.reset_index(drop=True).iterrows():
        key = f"line{list(VERIFICATION_LINES).index(row['characteristic'])}"
        assert float(est["estimate"].sel(indicator=key)) == row["pums_est_15"], row["characteristic"]
        assert round(float(est["se"].sel(indicator=key))) == row["pums_se_15"], row["characteristic"]
        assert round(float(est["moe90"].sel(indicator=key))) == pytest.approx(row["pums_moe_15"], abs=1), row["characteristic"]


def test_many_indicators_at_once_equal_one_at_a_time(micro, scheme):
    keys = ["homeownership", "naturalized", "median_household_income", "in_owner_household", "population",
            "english_very_well", "limited_english", MEAN_AGE, RATIO, "median_personal_earnings"]
    together = sc.estimate(micro, keys, places=split_places(), cohorts=scheme)
    for key in keys:
        alone = sc.estimate(micro, [key], places=split_places(), cohorts=scheme)
        name = key if isinstance(key, str) else key.key
        for variable in ["estimate", "se", "n_unweighted"]:
            np.testing.assert_allclose(together[variable].sel(indicator=name).values,
                                       alone[variable].sel(indicator=name).values, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("n_bits", [1, 3, 12, 20, 21, 63, 64, 130])
def test_signatures_round_trip(n_bits):
    from scorecard.estimation.sums import _signatures

    rng = np.random.default_rng(n_bits)
    binary = rng.random((500, n_bits)) < 0.3
    binary[:5] = False  # an all-zero signature
    signature, bits = _signatures(binary)
    np.testing.assert_array_equal(bits[signature], binary)
    assert len(np.unique(signature)) == len(bits) == len(np.unique(binary, axis=0))


def test_all_missing_values_give_nan_with_reason_and_a_count(micro):
    frame = micro.frame.copy()
    frame["earnings"] = np.nan
    blank = sc.Microdata(frame, micro.person_replicates, micro.household_replicates, attrs=micro.attrs)
    mean_earnings = Indicator(key="mean_earnings", label="Mean earnings", domain="income", universe=col("age") >= 16,
                              measure=col("earnings"), statistic="mean")
    est = sc.estimate(blank, [mean_earnings, "median_personal_earnings"])
    assert est["estimate"].isnull().all() and est["se"].isnull().all()
    assert set(np.unique(est["reason"].values)) == {"no records in the universe for this group"}
    assert (est["reliable"] == "missing").all()
    assert f'"mean_earnings": {int((frame["age"] >= 16).sum())}' in est.attrs["excluded_missing_value"]


def test_places_without_the_data_vintage_warn_and_records_outside_are_counted(micro):
    from scorecard.estimation import PumaVintageWarning

    only_2020 = sc.Places.from_pumas(pd.DataFrame({"place": ["A"], "state": "53", "puma": ["00001"], "puma_vintage": 2020}))
    with pytest.warns(PumaVintageWarning, match=r"2019 \(2010 PUMAs\), 2020 \(2010 PUMAs\)"):
        est = sc.estimate(micro, ["naturalized"], places=only_2020)
    assert est["estimate"].isnull().all()
    assert est.attrs["records_outside_places_and_cohorts"] == len(micro)
    inside = sc.estimate(micro, ["naturalized"], places=split_places())
    assert inside.attrs["records_outside_places_and_cohorts"] == 0


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_threads_do_not_change_numbers(threads, micro, scheme, monkeypatch):
    keys = ["naturalized", "homeownership", "median_household_income", "median_personal_earnings", MEAN_AGE]
    monkeypatch.setenv("SCORECARD_THREADS", "1")
    alone = sc.estimate(micro, keys, places=split_places(), cohorts=scheme)
    monkeypatch.setenv("SCORECARD_THREADS", threads)
    threaded = sc.estimate(micro, keys, places=split_places(), cohorts=scheme)
    for name in ("estimate", "se", "n_unweighted", "universe_weighted"):
        np.testing.assert_array_equal(threaded[name].values, alone[name].values)


def test_bad_thread_setting_is_a_clear_error(micro, monkeypatch):
    monkeypatch.setenv("SCORECARD_THREADS", "many")
    with pytest.raises(sc.ScorecardError, match="SCORECARD_THREADS must be a positive whole number; found 'many'"):
        sc.estimate(micro, ["naturalized", "homeownership"])


@pytest.mark.parametrize("threads", ["1", "2"])
def test_an_error_in_a_background_evaluation_reaches_the_caller(threads, micro, monkeypatch):
    """Indicators are evaluated in a thread while records are joined; their errors must surface, not hang."""

    def universe(frame):
        if len(frame) > 100:  # passes the small probe at definition time, fails on real data
            raise ValueError("age column could not be read")
        return frame["age"] >= 0

    broken = Indicator(key="broken", label="Broken", domain="test", universe=where(universe, columns=["age"], text="odd"),
                       measure=col("age"), statistic="mean", higher_is_better=None)
    monkeypatch.setenv("SCORECARD_THREADS", threads)
    with pytest.raises(ValueError, match="age column could not be read"):
        sc.estimate(micro, [broken, "naturalized"])


def _all_at_once(pieces, keys, **options):
    """The reference: every piece's partial kept, added once with combine(), then finalized (no early finish)."""
    from scorecard.estimation.assembly import finalize
    from scorecard.estimation.partials import partial_estimate
    from scorecard.estimation.reduction import combine
    from scorecard.estimation.spec import EstimateSpec

    keep = options.pop("keep_replicates", False)
    spec = EstimateSpec(tuple(indicators.resolve(keys)), places=options.get("places"), cohorts=options.get("cohorts"),
                        by=(), quantile=0.5)
    return finalize(combine([partial_estimate(p, spec).detached() for p in pieces]), keep_replicates=keep)


def _by_year(micro, pieces_per_year):
    years = micro.frame["survey_year"].to_numpy()
    pieces = []
    for year in sorted(set(years.tolist())):
        rows = np.flatnonzero(years == year)
        pieces += [micro.take(part) for part in np.array_split(rows, pieces_per_year)]
    return pieces


@pytest.mark.parametrize("pieces_per_year", [1, 3])
def test_years_finished_early_are_identical_to_adding_everything(pieces_per_year, micro, scheme):
    # Pieces in year order: each year is finished (estimates, SEs) when the next year's first piece comes and
    # its sums dropped; the result must be the one of keeping every partial and adding them at the end, to the bit.
    keys = ["naturalized", "median_household_income", "median_personal_earnings", "population", RATIO, MEAN_AGE]
    pieces = _by_year(micro, pieces_per_year)
    options = {"places": split_places(), "cohorts": scheme, "keep_replicates": True}
    streamed = sc.estimate(pieces, keys, **options)
    reference = _all_at_once(pieces, keys, **options)
    import xarray as xr

    xr.testing.assert_identical(streamed, reference)
    assert streamed.attrs["records"] == len(micro)


def test_a_finished_year_coming_back_is_refused(micro):
    from scorecard.errors import EstimationError

    pieces = _by_year(micro, 2)
    with pytest.raises(EstimationError, match=r"survey year 2019 came after pieces of other years"):
        sc.estimate([pieces[0], pieces[2], pieces[1]], ["naturalized"])


def test_reduction_holds_one_group_of_years():
    # 6 one-year pieces: after each year moves on, the previous year's sums are gone (one open group at a time).
    from scorecard.estimation.partials import partial_estimate
    from scorecard.estimation.reduction import Reduction
    from scorecard.estimation.spec import EstimateSpec

    base = synthetic_micro()
    first = base.take(np.flatnonzero(base.frame["survey_year"].to_numpy() == 2019))
    spec = EstimateSpec(tuple(indicators.resolve(["naturalized"])), places=None, cohorts=None, by=(), quantile=0.5)
    reduction = Reduction(keep_replicates=False)
    for year in range(2010, 2016):
        piece = sc.Microdata(first.frame.assign(survey_year=pd.array([year] * len(first), dtype="Int16")),
                             person_replicates=first.person_replicates,
                             household_replicates=first.household_replicates, attrs=first.attrs)
        reduction.add(partial_estimate(piece, spec).detached())
        assert reduction._open.layout.years == (year,)
    partial, (estimate, se, _) = reduction.result()
    assert partial.layout.years == tuple(range(2010, 2016))
    # the same records under six labels: six equal estimates and SEs
    assert np.all(estimate == estimate[:, :1]) and np.all(se == se[:, :1])


def test_what_travels_back_from_a_worker_is_the_touched_cells_and_unpacks_to_the_bit(micro, scheme):
    from scorecard.estimation.distributed import _Packed
    from scorecard.estimation.partials import partial_estimate
    from scorecard.estimation.spec import EstimateSpec

    spec = EstimateSpec(tuple(indicators.resolve(["naturalized", "median_household_income", RATIO])),
                        places=split_places(), cohorts=scheme, by=(), quantile=0.5)
    only_a = micro.take(np.flatnonzero(micro.frame["puma"].isin(["00001", "00002"]).to_numpy()))  # place A only
    partial = partial_estimate(only_a, spec).detached()
    partial.sums[0, -1, 0] = -0.0  # a negative zero in a cell of place B must come back as -0.0
    packed = _Packed.pack(partial)
    assert 0 < len(packed.cells) <= partial.layout.size // 2 + 1  # place A's cells (+ the -0.0 one), not B's
    back = packed.unpack()
    for name in ("sums", "n_unweighted", "universe_weighted"):
        np.testing.assert_array_equal(getattr(back, name), getattr(partial, name))
        np.testing.assert_array_equal(np.signbit(getattr(back, name)), np.signbit(getattr(partial, name)))


def test_dask_one_piece_per_year_uses_the_workers_medians_and_gives_identical_numbers(micro, scheme):
    # one piece per survey year: each worker finishes its year's medians; the numbers are the local ones, to the bit
    distributed = pytest.importorskip("dask.distributed")
    keys = ["naturalized", "median_household_income", "median_personal_earnings"]
    pieces = _by_year(micro, 1)
    local = sc.estimate(pieces, keys, places=split_places(), cohorts=scheme, keep_replicates=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = sc.estimate(pieces, keys, places=split_places(), cohorts=scheme, keep_replicates=True,
                                 client=client)
    import xarray as xr

    xr.testing.assert_identical(remote, local)
