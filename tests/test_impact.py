"""Office impact (staggered difference-in-differences): hand-computed 2x2, a second implementation
(the ``differences`` package), sampling SEs from replicates, coverage on planted truth, words, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scorecard as sc
from scorecard.datasets import simulate_impact
from scorecard.errors import ImpactError, ScorecardError
from scorecard.estimates import estimates_from_frame, to_frame
from scorecard.impact import MIN_TREATED_FOR_CLAIM, impact_statement, office_impact
from scorecard.places import Places
from scorecard.uncertainty import SDR_SCALE
from tests.estimation_data import synthetic_micro

# ---------------------------------------------------------------------------------------------- a 2x2 by hand


@pytest.fixture(scope="module")
def two_by_two():
    # Places A, B open in 2011; C, D never. Changes 2010 -> 2011: A +0.06, B +0.10, C +0.01, D +0.03.
    frame = pd.DataFrame({
        "indicator": "naturalized", "cohort": "foreign_born",
        "place": list("AABBCCDD"), "year": [2010, 2011] * 4,
        "estimate": [0.40, 0.46, 0.50, 0.60, 0.30, 0.31, 0.45, 0.48],
        "se": [0.010, 0.012, 0.020, 0.022, 0.015, 0.011, 0.013, 0.017],
    })
    return frame, estimates_from_frame(frame, survey="acs1")


def test_two_by_two_matches_the_hand_computation(two_by_two):
    frame, est = two_by_two
    result = office_impact(est, {"A": 2011, "B": 2011}, indicator="naturalized", window=(-1, 0))
    # (mean treated change) - (mean comparison change) = (0.06 + 0.10) / 2 - (0.01 + 0.03) / 2 = 0.06
    assert result["att"].item() == pytest.approx(0.06, abs=1e-12)
    assert result["effect"].sel(event_time=0).item() == pytest.approx(0.06, abs=1e-12)
    assert np.isnan(result["effect"].sel(event_time=-1).item())  # no year before 2010
    assert result["n_treated"].sel(event_time=0).item() == 2 and result["n_comparison"].sel(event_time=0).item() == 2
    # Welch SE of a difference of two means of 2: sqrt(var(0.06, 0.10) / 2 + var(0.01, 0.03) / 2)
    welch = np.sqrt(np.var([0.06, 0.10], ddof=1) / 2 + np.var([0.01, 0.03], ddof=1) / 2)
    assert result["att_gt_se"].sel(group=2011, year=2011).item() == pytest.approx(welch, rel=1e-12)
    # Sampling only: every cell enters with coefficient +-1/2 and cells are independent.
    assert result["att_se_sampling"].item() == pytest.approx(np.sqrt((frame["se"] ** 2).sum() / 4), rel=1e-12)
    assert result.attrs["sampling_method"].startswith("se")
    # Rademacher multipliers over 4 places: the draws take values 0.06 +- (0.02 +- 0.01)/sqrt(2)-type steps;
    # the bootstrap SE is of the size of the Welch SE.
    assert 0.5 * welch < result["att_se"].item() < 1.5 * welch


# ------------------------------------------------------------------------------ a second implementation


def _differences_panel(est, events):
    frame = to_frame(est)[["place", "year", "estimate"]]
    frame["cohort"] = frame["place"].map(dict(zip(events["place"], events["year"]))).astype(float)
    frame["unit"] = frame["place"].str[1:].astype(int)
    return frame.set_index(["unit", "year"])[["estimate", "cohort"]]


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # raised inside differences 0.3.0 under pandas 3
@pytest.mark.parametrize("comparison", ["not_yet_treated", "never_treated"])
def test_group_time_and_event_effects_equal_the_differences_package(comparison):
    differences = pytest.importorskip("differences", reason="pip install -e '.[impact]' (the cross-check implementation)")
    est, events = simulate_impact(effect=0.05, seed=3)
    ours = office_impact(est, events, indicator="naturalized", comparison=comparison, window=(-8, 8))
    model = differences.ATTgt(data=_differences_panel(est, events), cohort_column="cohort")  # base period "varying"
    theirs = model.fit(formula="estimate", control_group=comparison, n_jobs=1, progress_bar=False).to_pandas()
    theirs.columns = [c[-1] for c in theirs.columns]
    theirs = theirs.reset_index().set_index(["cohort", "time"])
    mine = ours["att_gt"].to_series().dropna()
    assert len(mine) == len(theirs) == 39  # 3 groups x 13 years (the first year has no base)
    np.testing.assert_allclose(mine.to_numpy(), theirs.loc[list(mine.index), "ATT"].to_numpy(), rtol=0, atol=1e-12)
    # Their analytic SE uses CS's influence function (squares sum to (n - 1) / n of s^2 / n per group); ours is s^2 / n.
    # Both follow from the same group sizes: check the ratio for one post-opening cell, by hand.
    panel = _differences_panel(est, events)["estimate"].unstack()
    g, t, base = 2013, 2015, 2012
    change = panel[t] - panel[base]
    group = np.array([dict(zip(events["place"], events["year"])).get(f"S{u:02d}", np.inf) for u in change.index])
    treated = group == g
    control = np.isinf(group) if comparison == "never_treated" else (group > t) & (group != g)
    s_t, s_c, n_t, n_c = change[treated].var(ddof=1), change[control].var(ddof=1), treated.sum(), control.sum()
    assert ours["att_gt_se"].sel(group=g, year=t).item() == pytest.approx(np.sqrt(s_t / n_t + s_c / n_c), rel=1e-10)
    cs = np.sqrt(s_t * (n_t - 1) / n_t**2 + s_c * (n_c - 1) / n_c**2)
    assert theirs.loc[(g, t), "std_error"] == pytest.approx(cs, rel=1e-6)
    events_theirs = model.aggregate("event")
    events_theirs.columns = [c[-1] for c in events_theirs.columns]
    shared = ours["effect"].to_series().dropna().index.intersection(events_theirs.index)
    assert len(shared) == 17
    np.testing.assert_allclose(ours["effect"].sel(event_time=list(shared)).values,
                               events_theirs.loc[shared, "ATT"].to_numpy(), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- sampling SE from replicates


def test_sampling_se_from_replicates_differences_inside_each_year_only():
    # Four places of one PUMA each plus an overlapping fifth: places of one year share replicate weights.
    rows = [("P1", "00001"), ("P2", "00002"), ("P3", "00003"), ("P4", "00004"), ("P5", "00001"), ("P5", "00003")]
    places = Places.from_pumas(pd.DataFrame({"place": [p for p, _ in rows], "state": "53", "puma": [q for _, q in rows],
                                             "puma_vintage": 2010, "factor": 1.0}))
    est = sc.estimate(synthetic_micro(n=4000, years=(2018, 2019, 2020)), ["naturalized"], places=places,
                      cohorts=None, keep_replicates=True)
    cohort = str(est["cohort"].values[0])
    result = office_impact(est, {"P1": 2020, "P5": 2020}, indicator="naturalized", cohort=cohort, window=(-1, 0),
                           comparison="never_treated")
    assert result.attrs["sampling_method"].startswith("replicates")
    reps = est["replicate_estimate"].sel(indicator="naturalized", cohort=cohort)
    weights = {"P1": 0.5, "P5": 0.5, "P2": -1 / 3, "P3": -1 / 3, "P4": -1 / 3}
    variance = 0.0
    for year, sign in ((2020, 1.0), (2019, -1.0)):  # att = sum_i w_i (Y_i,2020 - Y_i,2019); years independent
        combination = sum(sign * w * reps.sel(place=p, year=year).values for p, w in weights.items())
        variance += SDR_SCALE * np.sum((combination[1:] - combination[0]) ** 2)
    assert result["att_se_sampling"].item() == pytest.approx(np.sqrt(variance), rel=1e-10)
    independent = np.sqrt(sum(w**2 * est["se"].sel(indicator="naturalized", cohort=cohort, place=p, year=y).item() ** 2
                              for p, w in weights.items() for y in (2019, 2020)))
    assert result["att_se_sampling"].item() != pytest.approx(independent, rel=1e-3)  # P5 overlaps P1 and P3


# ----------------------------------------------------------------------------------------- known truth


def test_interval_covers_a_planted_effect_and_rejects_zero_at_nominal_rates():
    repeats, covered, rejected, flagged_null, ratio = 300, [], [], [], []
    for i in range(repeats):
        est, events = simulate_impact(effect=0.05, seed=i)
        result = office_impact(est, events, indicator="naturalized", draws=499, seed=i)
        covered.append(result["att_lower"].item() < 0.05 < result["att_upper"].item())
        flagged_null.append(result["pretrend_p"].item() < 0.10)
        ratio.append(result["att_se"].item() / result["att_se_sampling"].item())
        est, events = simulate_impact(effect=0.0, seed=10_000 + i)
        result = office_impact(est, events, indicator="naturalized", draws=499, seed=i)
        rejected.append(not result["att_lower"].item() < 0 < result["att_upper"].item())
    coverage, rejection, size = np.mean(covered), np.mean(rejected), np.mean(flagged_null)
    print(f"\n{repeats} draws: 90% interval covers the planted 0.05 in {coverage:.3f}; zero effect rejected in "
          f"{rejection:.3f}; pre-trend test rejects parallel trends in {size:.3f} (nominal 0.10); "
          f"bootstrap SE / sampling-only SE = {np.mean(ratio):.2f}")
    # Binomial SD at 300 draws is 0.017: bands of about 3 SD around 0.90 and 0.10.
    assert 0.85 <= coverage <= 0.95
    assert 0.05 <= rejection <= 0.15
    assert size <= 0.15  # the Hotelling F reference is conservative (measured 0.05)
    assert np.mean(ratio) > 1.0  # city-year shocks are variation beyond sampling error


def test_planted_pretrend_is_flagged():
    flagged = [office_impact(*simulate_impact(effect=0.05, pretrend=0.02, seed=i), indicator="naturalized",
                             draws=199, seed=i)["pretrend_p"].item() < 0.10 for i in range(40)]
    print(f"\npre-trend of 2 points a year flagged in {np.mean(flagged):.2f} of 40 draws")
    assert np.mean(flagged) >= 0.9


# ---------------------------------------------------------------------------------------------- words


def _statement(effect, seed=3, **kwargs):
    est, events = simulate_impact(effect=effect, seed=seed, **kwargs)
    return impact_statement(office_impact(est, events, indicator="naturalized"))


CAVEATS = ("moved alike", "cities opened an office", "Other things happened in those years")


def test_statement_significant_positive():
    text = _statement(0.05)
    assert "rose by 4.6 percentage points more than in comparison cities" in text and "(90% interval: 3." in text
    assert all(c in text for c in CAVEATS) and "fell" not in text and "no measurable" not in text


def test_statement_significant_negative():
    text = _statement(-0.05)
    assert "fell by 5.4 percentage points" in text and "90% interval: -6." in text
    assert all(c in text for c in CAVEATS) and "rose" not in text


def test_statement_not_significant_never_claims_a_change():
    text = _statement(0.0)
    assert "showed no measurable change" in text and "includes zero" in text
    assert "rose" not in text and "fell" not in text and "no effect" not in text


def test_statement_too_few_places_draws_no_conclusion():
    treated = {"S01": 2011, "S02": 2013, "S03": 2015}
    est, events = simulate_impact(effect=0.10, treated=treated, seed=3)
    result = office_impact(est, events, indicator="naturalized")
    assert result["att_lower"].item() > 0 and len(treated) < MIN_TREATED_FOR_CLAIM
    text = impact_statement(result)
    assert text.startswith("Only 3 cities in the data opened an office") and "no conclusion is drawn" in text
    assert "rose" not in text


def test_statement_flags_a_failed_pretrend_check():
    text = _statement(0.05, pretrend=0.03)
    assert "parallel-trends assumption is in doubt" in text and "should not be read as the offices' effect" in text


# ------------------------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def simulated():
    return simulate_impact(effect=0.05, seed=1)


@pytest.mark.parametrize(
    ("events", "kwargs", "words"),
    [
        ({"S01": 2011, "Nowhere": 2012}, {}, "Events name places not in the estimates Dataset: ['Nowhere']"),
        ({"S01": 2011, "S02": 2006, "S03": 2021}, {}, "Events outside the years of the data (2006-2019): S02 (2006), S03 (2021)"),
        ({"S01": 2011}, {}, "Fewer than two treated places: 1 place(s)"),
        ({f"S{i:02d}": 2011 + i % 3 for i in range(1, 31)}, {"comparison": "never_treated"},
         "No comparison places left for event time"),
        ({f"S{i:02d}": 2011 + i % 3 for i in range(1, 31)}, {}, "No comparison places left for event time 2"),
        (pd.DataFrame({"city": ["Atlantis"], "state": ["GA"], "place": [pd.NA], "year_established": [2011]}), {},
         "Events without a place code: ['Atlantis, GA']"),
        ({"S01": 2011, "S01 ": 2011}, {}, "Events name places not in the estimates Dataset: ['S01 ']"),
        (pd.DataFrame({"place": ["S01"], "when": [2011]}), {}, "it needs 'place'"),
    ],
)
def test_bad_input_names_what_is_missing(simulated, events, kwargs, words):
    est, _ = simulated
    with pytest.raises(ImpactError) as caught:
        office_impact(est, events, indicator="naturalized", **kwargs)
    assert isinstance(caught.value, ScorecardError)
    assert words in str(caught.value), str(caught.value)


def test_unknown_opening_year_excludes_the_place_from_both_groups(simulated):
    est, events = simulated
    events = pd.concat([events, pd.DataFrame({"place": ["S30"], "year": [np.nan]})], ignore_index=True)
    result = office_impact(est, events, indicator="naturalized")
    assert result.attrs["n_places"] == 29 and '"S30": "opening year unknown"' in result.attrs["excluded"]
    assert result["n_comparison"].max().item() == 29 - 0  # every kept place serves as a comparison somewhere


def test_bad_parameters(simulated):
    est, events = simulated
    with pytest.raises(ImpactError, match="'comparison' parameter"):
        office_impact(est, events, indicator="naturalized", comparison="later")
    with pytest.raises(ImpactError, match="cohort 'native' is not in"):
        office_impact(est, events, indicator="naturalized", cohort="native")


def test_five_year_periods_warn(simulated):
    est, events = simulated
    frame = to_frame(est)
    five_year = estimates_from_frame(frame[["indicator", "place", "year", "cohort", "estimate", "se"]], survey="acs5")
    with pytest.warns(UserWarning, match="multi-year"):
        office_impact(five_year, events, indicator="naturalized")


# ---------------------------------------------------------------------------------------------- chart


def test_event_study_chart_draws_the_result(simulated):
    from scorecard.charts import chart
    from scorecard.charts.export import data_values, spec_of
    from scorecard.errors import ChartError

    result = office_impact(*simulated, indicator="naturalized")
    drawn = chart("event_study", result)
    points = data_values(drawn, layer=2)
    np.testing.assert_allclose([row["effect"] for row in points], result["effect"].values, rtol=1e-12)
    np.testing.assert_allclose([row["lower"] for row in data_values(drawn, layer=1)], result["lower"].values, rtol=1e-12)
    marks = data_values(drawn, layer=0)[0]
    assert marks["value"] == 0.0 and marks["x"] == -0.5 and marks["label"] == "office opens"
    assert [row["period"] for row in points].count("before opening") == 4
    subtitle = " ".join(spec_of(drawn)["title"]["subtitle"])
    assert "Average effect after opening: +" in subtitle and "pre-opening check p = " in subtitle
    with pytest.raises(ChartError, match="office_impact"):
        chart("event_study", to_frame(simulated[0]))


def test_city_report_has_the_impact_section(simulated):
    from scorecard.report.html import render_html

    est, events = simulated
    result = office_impact(est, events, indicator="naturalized")
    page = render_html(place="S01", estimates=est, impact=result, indicators=["naturalized"])
    assert '<section id="impact">' in page and impact_statement(result).split(". ")[0].replace("'", "&#39;") in page
    assert 'id="event-study"' in page and "<svg" in page.split('id="impact"')[1]
    assert '<section id="impact">' not in render_html(place="S01", estimates=est, draw_charts=False)
