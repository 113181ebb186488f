"""Scorecard: scores by hand, SEs against obvious loops over draws and replicates, composites, ranks,
sensitivity, progress sentences for every case, outputs, bad input."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import scorecard as sc
from scorecard.errors import ScorecardError
from scorecard.uncertainty import independent_draws, replicate_draws, sdr_se
from tests.scoring_data import frame_dataset

INDICATORS = ["english_very_well", "above_200pct_poverty", "homeownership", "naturalized"]


def _card_data(*, se=0.01, year=2020, values=None, se_overrides=None):
    # four places, one indicator per default domain (english, income, housing, civic)
    values = (
        values
        if values is not None
        else {
            "english_very_well": [0.40, 0.50, 0.60, 0.80],
            "above_200pct_poverty": [0.70, 0.60, 0.50, 0.65],
            "homeownership": [0.30, 0.45, 0.35, 0.60],
            "naturalized": [0.50, 0.50, 0.55, 0.45],
        }
    )
    overrides = se_overrides or {}
    rows = [
        {"indicator": k, "place": p, "estimate": v, "se": overrides.get((k, p), se), "year": year}
        for k, vals in values.items()
        for p, v in zip("abcd", vals, strict=True)
    ]
    return frame_dataset(pd.DataFrame(rows))


def _minmax_loop(values):
    """Min-max 1-5 of one column of places, the obvious way."""
    low, high = min(values), max(values)
    return [1 + 4 * (v - low) / (high - low) for v in values]


def test_minmax_scores_domains_and_composite_by_hand():
    card = sc.Scorecard(_card_data(), year=2020, draws=200)
    s = card.scores
    # english: 0.4 .. 0.8 -> 1, 2, 3, 5
    np.testing.assert_allclose(s["score"].sel(indicator="english_very_well").values, [1, 2, 3, 5])
    # naturalized: 0.45 .. 0.55 -> 3, 3, 5, 1
    np.testing.assert_allclose(s["score"].sel(indicator="naturalized").values, [3, 3, 5, 1])
    # one indicator per domain: domain score = indicator score; composite = mean of the four
    np.testing.assert_allclose(s["domain_score"].sel(domain="civic").values, [3, 3, 5, 1])
    expected = np.mean(
        [
            _minmax_loop(v)
            for v in (
                [0.40, 0.50, 0.60, 0.80],
                [0.70, 0.60, 0.50, 0.65],
                [0.30, 0.45, 0.35, 0.60],
                [0.50, 0.50, 0.55, 0.45],
            )
        ],
        axis=0,
    )
    np.testing.assert_allclose(s["composite"].values, expected)
    assert s.attrs["method"] == "minmax" and s.attrs["scale"] == "[1.0, 5.0]" and s.attrs["cohort"] == "foreign_born"
    assert list(s["indicator_domain"].values) == ["income", "english", "housing", "civic"] or set(
        s["domain"].values
    ) == {"english", "income", "housing", "civic"}
    assert s["included"].all()
    assert s.attrs["max_missing"] == 1  # 4 inputs // 4


def test_score_se_and_bounds_match_a_loop_over_independent_draws():
    est = _card_data(se=0.03)
    card = sc.Scorecard(est, year=2020, draws=500, seed=7)
    s = card.scores
    sub = card.estimates.isel(year=0, cohort=0)
    # the same draws the card takes: (cohort, indicator, place) from independent_draws with its seed
    point = sub["estimate"].transpose("indicator", "place").values[None]
    draws = independent_draws(point, sub["se"].transpose("indicator", "place").values[None], 500, seed=7)
    english = list(card.indicators).index("english_very_well")
    by_draw = np.array([_minmax_loop(list(d[0, english])) for d in draws])  # loop over draws: the reference
    np.testing.assert_allclose(s["score_se"].sel(indicator="english_very_well").values, by_draw.std(axis=0), rtol=1e-10)
    np.testing.assert_allclose(
        s["score_lower"].sel(indicator="english_very_well").values, np.percentile(by_draw, 5, axis=0), rtol=1e-10
    )


def test_score_se_inside_replicates_matches_sdr_of_a_loop():
    rng = np.random.default_rng(3)
    est = _card_data()
    base = est["estimate"].values  # (indicator, place, year, cohort)
    reps = np.concatenate([base[..., None], base[..., None] + rng.normal(0, 0.01, base.shape + (80,))], axis=-1)
    est = est.assign(replicate_estimate=(("indicator", "place", "year", "cohort", "replicate"), reps)).assign_coords(
        replicate=np.arange(81)
    )
    card = sc.Scorecard(est, year=2020, draws=300)
    english = card.estimates["replicate_estimate"].sel(indicator="english_very_well").isel(year=0, cohort=0).values
    by_replicate = np.array([_minmax_loop(list(english[:, r])) for r in range(81)]).T  # (place, 81)
    np.testing.assert_allclose(card.scores["score_se"].sel(indicator="english_very_well").values, sdr_se(by_replicate))
    assert card.scores.attrs["uncertainty"].startswith("replicates")
    # bounds come from draws with the replicate covariance (replicate_draws), not from the replicates
    theta = (
        card.estimates["replicate_estimate"].isel(year=0, cohort=0).transpose("indicator", "place", "replicate").values
    )
    draws = replicate_draws(theta[None], 300, seed=0)
    position = list(card.indicators).index("english_very_well")
    by_draw = np.array([_minmax_loop(list(d[0, position])) for d in draws])
    np.testing.assert_allclose(
        card.scores["score_upper"].sel(indicator="english_very_well").values,
        np.percentile(by_draw, 95, axis=0),
        rtol=1e-10,
    )


def test_unreliable_inputs_left_out_unless_opted_in_and_composite_withheld():
    # place d: english and homeownership unreliable (CV = 0.3/0.8 and 0.3/0.6 > 0.30)
    est = _card_data(se_overrides={("english_very_well", "d"): 0.3, ("homeownership", "d"): 0.3})
    card = sc.Scorecard(est, year=2020, draws=100)
    s = card.scores
    assert not bool(s["included"].sel(indicator="english_very_well", place="d"))
    assert np.isnan(float(s["score"].sel(indicator="english_very_well", place="d")))
    # english min-max among a, b, c only: 0.4, 0.5, 0.6 -> 1, 3, 5
    np.testing.assert_allclose(s["score"].sel(indicator="english_very_well").values[:3], [1, 3, 5])
    assert int(s["missing_inputs"].sel(place="d")) == 2
    assert np.isnan(float(s["composite"].sel(place="d")))  # 2 missing > max_missing 1
    kept = sc.Scorecard(est, year=2020, draws=100, max_missing=2).scores
    # composite from the two present inputs: income (0.65 -> 1 + 4 * 0.15/0.2 = 4) and civic (0.45 -> 1)
    np.testing.assert_allclose(float(kept["composite"].sel(place="d")), 2.5)
    opted = sc.Scorecard(est, year=2020, draws=100, reliability="include").scores
    assert bool(opted["included"].sel(indicator="english_very_well", place="d"))
    assert np.isfinite(float(opted["composite"].sel(place="d")))


@pytest.mark.parametrize(
    ("method", "options", "indicator", "expected"),
    [
        ("zscore", {}, "english_very_well", (np.array([0.4, 0.5, 0.6, 0.8]) - 0.575) / np.std([0.4, 0.5, 0.6, 0.8])),
        ("percentile", {}, "naturalized", [3, 3, 5, 1]),  # a, b tied: (1 worse + 1/2 tie) / 3 others = 0.5
        ("target", {"targets": {k: 0.8 for k in INDICATORS}}, "english_very_well", [3, 3.5, 4, 5]),
        ("goalposts", {}, "homeownership", [1 + 4 * 0.3, 1 + 4 * 0.45, 1 + 4 * 0.35, 1 + 4 * 0.6]),
    ],
)
def test_methods_by_hand(method, options, indicator, expected):
    card = sc.Scorecard(_card_data(), year=2020, method=method, draws=50, **options)
    np.testing.assert_allclose(card.scores["score"].sel(indicator=indicator).values, expected)


def test_parity_against_the_native_born():
    fb = _card_data()
    native = _card_data(values={k: [0.8, 0.5, 0.6, 0.4] for k in INDICATORS}).assign_coords(cohort=["native"])
    est = xr.concat([fb, native], dim="cohort")
    card = sc.Scorecard(est, year=2020, method="parity", draws=50)
    # english 0.4/0.8 = 0.5 -> 3; 0.5/0.5 = 1 -> 5; 0.6/0.6 -> 5; 0.8/0.4 capped at 1 -> 5
    np.testing.assert_allclose(card.scores["score"].sel(indicator="english_very_well").values, [3, 5, 5, 5])


def test_registry_accepts_a_new_method():
    from scorecard.scoring.methods import register_method

    @register_method("halves", replace=True)
    def halves(values, *, higher_is_better, scale, **context):
        return np.where(np.isnan(values), np.nan, np.where(values >= 0.5, scale[1], scale[0]))

    card = sc.Scorecard(_card_data(), year=2020, method="halves", draws=20)
    np.testing.assert_allclose(card.scores["score"].sel(indicator="english_very_well").values, [1, 5, 5, 5])


def test_ranks_and_p_top_k_from_the_same_draws():
    values = {k: [0.2, 0.4, 0.6, 0.8] for k in INDICATORS}
    card = sc.Scorecard(_card_data(values=values, se=0.001), year=2020, draws=400)
    ranks = card.ranks(k=1)
    assert ranks["rank"].values.tolist() == [4, 3, 2, 1]
    assert ranks["rank_lower"].values.tolist() == [4, 3, 2, 1] and ranks["rank_upper"].values.tolist() == [4, 3, 2, 1]
    np.testing.assert_allclose(ranks["p_top_k"].values, [0, 0, 0, 1])
    assert ranks["statement"].values.tolist()[3] == "1st of 4"
    noisy = sc.Scorecard(
        _card_data(values={k: [0.50, 0.51, 0.52, 0.8] for k in INDICATORS}, se=0.05), year=2020, draws=2000
    ).ranks(k=1)
    assert noisy["rank_upper"].sel(place="a") > noisy["rank_lower"].sel(place="a")
    assert noisy["statement"].sel(place="a").item().startswith("statistically tied for 2nd-")
    assert float(noisy["p_top_k"].sum()) == pytest.approx(1.0)


def test_sensitivity_separates_sampling_from_choices():
    card = sc.Scorecard(_card_data(se=0.02), year=2020, draws=400)
    only_sampling = card.sensitivity(methods=("minmax",), weight_spread=0.0)
    np.testing.assert_array_equal(only_sampling["p_rank_change_choices"].values, 0.0)
    np.testing.assert_allclose(only_sampling["p_rank_change"].values, only_sampling["p_rank_change_sampling"].values)
    both = card.sensitivity(methods=("minmax", "zscore", "percentile"), weight_spread=0.5)
    assert set(both.data_vars) >= {
        "rank",
        "rank_lower",
        "rank_upper",
        "p_rank_change",
        "p_rank_change_sampling",
        "p_rank_change_choices",
    }
    assert (both["rank_lower"] <= both["rank"]).all() and (both["rank"] <= both["rank_upper"]).all()


def _two_years(survey="acs1"):
    start = {
        "english_very_well": [0.41, 0.50, 0.60, 0.70],
        "above_200pct_poverty": [0.70, 0.60, 0.50, 0.65],
        "homeownership": [0.30, 0.45, 0.35, 0.60],
        "naturalized": [0.50, 0.50, 0.55, np.nan],
    }
    end = {
        "english_very_well": [0.52, 0.40, 0.61, 0.70],
        "above_200pct_poverty": [0.70, 0.60, 0.50, 0.65],
        "homeownership": [0.30, 0.45, 0.35, 0.60],
        "naturalized": [0.50, 0.50, 0.55, 0.45],
    }
    rows = []
    for year, values in ((2010, start), (2020, end)):
        for key, vals in values.items():
            for place, value in zip("abcd", vals, strict=True):
                se = 0.3 if (key == "homeownership" and place == "c") else 0.02
                rows.append({"indicator": key, "place": place, "year": year, "estimate": value, "se": se})
    return frame_dataset(pd.DataFrame(rows), survey=survey)


def test_progress_every_case_with_its_sentence():
    card = sc.Scorecard(_two_years(), year=2020, draws=50)
    raw = card.progress(start=2010, end=2020, fdr=None)
    assert list(raw.columns) == [
        "place",
        "place_name",
        "indicator",
        "indicator_label",
        "cohort",
        "start",
        "end",
        "estimate_start",
        "estimate_end",
        "change",
        "se",
        "moe90",
        "p_value",
        "significant",
        "direction",
        "sentence",
    ]
    assert len(raw) == 4 * 4  # one row per (place, indicator, cohort)
    table = raw.set_index(["place", "indicator"])
    gain = table.loc[("a", "english_very_well")]
    se = np.hypot(0.02, 0.02)
    assert gain["se"] == pytest.approx(se) and gain["change"] == pytest.approx(0.11)
    assert gain["direction"] == "gain" and bool(gain["significant"])
    assert gain["sentence"] == (
        "Speak only English or English 'very well' of immigrants in a city rose from 41% in 2010 "
        "to 52% in 2020 (+11 ± 5 points), a significant gain."
    )
    loss = table.loc[("b", "english_very_well")]
    assert loss["direction"] == "loss" and loss["sentence"].endswith(
        "fell from 50% in 2010 to 40% in 2020 (-10 ± 5 points), a significant loss."
    )
    flat = table.loc[("c", "english_very_well")]
    assert flat["direction"] == "no measurable change" and not bool(flat["significant"])
    assert flat["sentence"].endswith("went from 60% in 2010 to 61% in 2020 (+1 ± 5 points): no measurable change.")
    shaky = table.loc[("c", "homeownership")]
    assert shaky["direction"] == "unreliable" and np.isnan(shaky["p_value"])
    assert "cannot be told; the estimates are unreliable" in shaky["sentence"]
    missing = table.loc[("d", "naturalized")]
    assert missing["direction"] == "missing" and missing["sentence"].endswith(
        "no estimate for 2010, so no change can be given."
    )


def test_progress_fdr_and_overlapping_periods():
    card = sc.Scorecard(_two_years(), year=2020, draws=50)
    table = card.progress(start=2010, end=2020, fdr=0.10)
    assert table.attrs["fdr"] == "Benjamini-Hochberg at 0.1"
    p = table["p_value"].to_numpy()
    from scorecard.uncertainty import benjamini_hochberg

    np.testing.assert_array_equal(table["significant"].to_numpy(), benjamini_hochberg(p, rate=0.10)[1])
    five = _two_years(survey="acs5").assign_coords(year=[2018, 2020], period_start=("year", [2014, 2016]))
    table5 = sc.Scorecard(five, year=2020, draws=50).progress(start=2018, end=2020)
    # 2014-2018 vs 2016-2020 share 3 of 5 years: se x sqrt(1 - 0.6)
    row = table5.set_index(["place", "indicator"]).loc[("a", "english_very_well")]
    assert row["se"] == pytest.approx(np.sqrt(0.4) * np.hypot(0.02, 0.02))
    assert table5.attrs["se_method"].startswith("overlapping")
    assert "2014-2018" in row["sentence"] and "2016-2020" in row["sentence"]


def test_outputs_round_trip(tmp_path):
    card = sc.Scorecard(_card_data(), year=2020, focus="b city", draws=100)
    frame = card.to_frame()
    assert len(frame) == 4 * 4 + 4 * 4 + 4  # indicator, domain and composite rows
    assert set(frame["level"]) == {"indicator", "domain", "composite"}
    back = pd.read_csv(card.to_csv(tmp_path / "card.csv"))
    np.testing.assert_allclose(back["score"], frame["score"])
    pd.testing.assert_frame_equal(pd.read_parquet(card.to_parquet(tmp_path / "card.parquet")), frame)
    with xr.open_dataset(card.to_netcdf(tmp_path / "card.nc")) as stored:
        np.testing.assert_allclose(stored["composite"].values, card.scores["composite"].values)
        assert stored.attrs["focus"] == "b"
    html = card._repr_html_()
    assert "<table" in html and "b city" in html and "withheld" not in html
    assert "<svg" in html and "heatmap not drawn" not in html  # the notebook view shows the heatmap too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.csv", "card.nc", "card.parquet"]  # no temporaries left


def test_bad_input_each_raises_a_scorecard_error():
    est = _card_data()
    with pytest.raises(ScorecardError, match="'x cty' \\(closest: 'd city'"):
        sc.Scorecard(est, year=2020, places=["a city", "b city", "x cty"])
    with pytest.raises(ScorecardError, match="year"):
        sc.Scorecard(est, year=1999)
    with pytest.raises(ScorecardError, match="cohort"):
        sc.Scorecard(est, year=2020, cohort="native")
    with pytest.raises(ScorecardError, match="at least 3"):
        sc.Scorecard(est, year=2020, places=["a", "b"])
    with pytest.raises(ScorecardError, match="sum to 1"):
        sc.Scorecard(est, year=2020, weights={"english_very_well": 0.5, "naturalized": 0.4})
    with pytest.raises(ScorecardError, match="closest: 'naturalized'"):
        sc.Scorecard(est, year=2020, weights={"naturalised": 1.0})
    with pytest.raises(ScorecardError, match="closest: 'minmax'"):
        sc.Scorecard(est, year=2020, method="minmaks")
    with pytest.raises(ScorecardError, match="unreliable"):
        sc.Scorecard(_card_data(se=0.5), year=2020)
    with pytest.raises(ScorecardError, match="target"):
        _ = sc.Scorecard(est, year=2020, method="target").scores


def test_scoring_never_imports_estimation_or_sources():
    root = Path(sc.__file__).parent
    files = [*sorted((root / "scoring").glob("*.py")), root / "card.py"]
    for path in files:
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.startswith(("scorecard.estimation", "scorecard.sources"))], path
    code = "import sys, scorecard.card, scorecard.scoring; print(sorted(m for m in sys.modules if m.startswith(('scorecard.estimation', 'scorecard.sources'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_local_figures_join_as_their_own_domain(tmp_path):
    path = tmp_path / "office.csv"
    path.write_text(
        "place,indicator,estimate,label,higher_is_better,unit\n"
        "a city,workshops,2,Citizenship workshops held,true,count\n"
        "b city,workshops,6,Citizenship workshops held,true,count\n"
        "c,workshops,10,Citizenship workshops held,true,count\n"
        "d city,workshops,4,Citizenship workshops held,true,count\n"
    )
    card = sc.Scorecard(_card_data(), year=2020, local=path, draws=200)
    s = card.scores
    assert "local" in s["domain"].values.tolist()
    # min-max of 2, 6, 10, 4 -> 1, 3, 5, 2; exact figures (no SE): score SE 0
    np.testing.assert_allclose(s["domain_score"].sel(domain="local").values, [1, 3, 5, 2])
    np.testing.assert_allclose(s["score_se"].sel(indicator="workshops").values, 0.0)
    # five domains now, each 1/5 of the composite
    np.testing.assert_allclose(s["weight"].values, 0.2)
    assert "taken as exact" in str(card.estimates["reason"].sel(indicator="workshops").values.ravel()[0])
    path.write_text("place,indicator,estimate,label,higher_is_better\nBostn,workshops,2,Workshops,true\n")
    with pytest.raises(ScorecardError, match="'Bostn'"):
        sc.Scorecard(_card_data(), year=2020, local=path)
