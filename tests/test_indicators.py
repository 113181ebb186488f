"""Indicator definitions, built-ins evaluated by hand, the registry and plugins."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import indicators
from indicators import Indicator, col
from scorecard import schema
from scorecard.errors import IndicatorDefinitionError, MissingColumnsError, UnknownIndicatorError


@pytest.fixture
def people() -> pd.DataFrame:
    """Ten hand-made harmonized records; expected values below are read off this table."""
    frame = pd.DataFrame(
        {
            #                 0        1           2        3          4             5       6       7        8        9
            "age": [3, 30, 45, 70, 17, 26, 64, 40, 19, 33],
            "survey_year": [2020] * 10,
            "nativity": ["native", "foreign_born", "foreign_born", "foreign_born", "foreign_born", "native",
                         "foreign_born", "foreign_born", "foreign_born", "foreign_born"],
            "citizenship": ["born_citizen", "naturalized", "not_citizen", "naturalized", "not_citizen",
                            "born_citizen", "naturalized", "not_citizen", None, "naturalized"],
            "year_of_entry": [None, 2010, 2017, 1980, 2012, None, 2016, 2000, 2018, 2015],
            "english": [None, "very_well", "well", "not_well", "only", "only", "not_at_all", "very_well", "well", "well"],
            "poverty_ratio": [0.5, 1.49, 1.5, 2.0, np.nan, 3.0, 0.99, 1.0, 5.01, 1.99],
            "earnings": [0, 50000, 0, 10000, 2000, 60000, 30000, np.nan, 1000, 45000],
            "household_income": [40000, 90000, np.nan, 30000, 80000, 120000, 20000, 55000, np.nan, 70000],
            "is_householder": [False, True, False, True, False, True, True, True, False, True],
            "tenure": ["owned_free", "owned_mortgage", None, "rented", "owned_mortgage", "owned_free", "rented",
                       "no_rent", None, "owned_mortgage"],
            "full_time_year_round": [False, True, False, False, False, True, True, False, False, True],
        }
    )
    return schema.coerce(frame, source="people")


# key -> (universe rows, measure-true rows among them) derived by reading the table above
EXPECTED = {
    "english_very_well": ([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 4, 5, 7]),
    "english_well_or_better": ([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 4, 5, 7, 8, 9]),
    "limited_english": ([1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 3, 6, 8, 9]),
    "above_150pct_poverty": ([0, 1, 2, 3, 5, 6, 7, 8, 9], [2, 3, 5, 8, 9]),
    "above_200pct_poverty": ([0, 1, 2, 3, 5, 6, 7, 8, 9], [3, 5, 8]),
    "in_poverty": ([0, 1, 2, 3, 5, 6, 7, 8, 9], [0, 6]),
    "homeownership": ([1, 3, 5, 6, 7, 9], [1, 5, 9]),
    "in_owner_household": ([0, 1, 3, 4, 5, 6, 7, 9], [0, 1, 4, 5, 9]),
    "naturalized": ([1, 2, 3, 4, 6, 7, 9], [1, 3, 6, 9]),
    # foreign-born, 18+, entered 5+ years before 2020 (<= 2015), citizenship known
    "naturalized_among_eligible": ([1, 3, 7, 9], [1, 3, 9]),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_builtin_universe_and_measure_by_hand(key, people):
    universe_rows, true_rows = EXPECTED[key]
    result = indicators.get(key).evaluate(people)
    assert np.flatnonzero(result.universe).tolist() == universe_rows
    assert np.flatnonzero(result.value).tolist() == true_rows


@pytest.mark.parametrize("order", ["registry order", "reversed"])
def test_shared_cache_gives_the_same_evaluations(order, people):
    """Evaluating every built-in through one cache (as estimate does) equals evaluating each alone."""
    keys = sorted(indicators.available().index)
    keys = keys if order == "registry order" else keys[::-1]
    cache: dict = {}
    for key in keys:
        definition = indicators.get(key)
        shared, alone = definition.evaluate(people, cache=cache), definition.evaluate(people)
        assert shared.universe.tolist() == alone.universe.tolist(), key
        np.testing.assert_array_equal(shared.value, alone.value)
        assert shared.missing_value == alone.missing_value
    assert len(cache) > len(keys)  # sub-expressions were stored, and shared ones only once


def test_shared_cache_keeps_functions_printed_alike_apart(people):
    """Two researcher functions with the same text are different expressions, also inside larger formulas."""
    from indicators import where

    older = where(lambda f: f["age"] + 0, columns=["age"], text="age in years")
    doubled = where(lambda f: f["age"] * 2, columns=["age"], text="age in years")
    cache: dict = {}
    first = (older >= 40).evaluate(people, cache)
    second = (doubled >= 40).evaluate(people, cache)
    assert first.tolist() == (people["age"] >= 40).tolist()
    assert second.tolist() == (people["age"] >= 20).tolist()


def test_median_indicators_select_and_value(people):
    earnings = indicators.get("median_personal_earnings").evaluate(people)
    # ages 25-64 with positive earnings: rows 1 (30), 5 (26), 6 (64), 9 (33); row 2 has 0, row 7 missing
    assert np.flatnonzero(earnings.universe).tolist() == [1, 5, 6, 9]
    assert earnings.value[[1, 5, 6, 9]].tolist() == [50000, 60000, 30000, 45000]
    assert earnings.missing_value == 0  # row 7 (earnings missing) fails "earnings > 0", so it is outside the universe
    mean_earnings = Indicator(key="mean_earnings", label="x", domain="income", universe=col("age") >= 25,
                              measure=col("earnings"), statistic="mean")
    evaluated = mean_earnings.evaluate(people)
    assert evaluated.missing_value == 1  # row 7 is in the universe but has no value: excluded and counted
    assert np.flatnonzero(evaluated.universe).tolist() == [1, 2, 3, 5, 6, 9]
    ftyr = indicators.median_personal_earnings(full_time_year_round=True).evaluate(people)
    assert np.flatnonzero(ftyr.universe).tolist() == [1, 5, 6, 9]
    household = indicators.get("median_household_income").evaluate(people)
    assert np.flatnonzero(household.universe).tolist() == [1, 3, 5, 6, 7, 9]


def test_population_counts_everyone(people):
    result = indicators.get("population").evaluate(people)
    assert result.universe.all() and (result.value == 1).all()


@pytest.mark.parametrize(
    ("factory", "kwargs", "key", "universe_rows"),
    [
        (indicators.english_ability, {"level": "very_well", "min_age": 18}, "english_very_well_18plus", [1, 2, 3, 5, 6, 7, 8, 9]),
        (indicators.naturalized_among_eligible, {"min_years": 10, "key": "nat10"}, "nat10", [1, 3, 7]),
        (indicators.median_personal_earnings, {"min_age": 16, "max_age": 24}, "median_personal_earnings_16_24", [4, 8]),
    ],
)
def test_factories_make_parameterised_variants(factory, kwargs, key, universe_rows, people):
    variant = factory(**kwargs)
    assert variant.key == key
    assert np.flatnonzero(variant.evaluate(people).universe).tolist() == universe_rows


def test_variants_by_replace_are_new_frozen_objects():
    base = indicators.get("naturalized")
    adults = dataclasses.replace(base, key="naturalized_adults", universe=base.universe & (col("age") >= 18))
    assert adults.key == "naturalized_adults" and base.key == "naturalized"
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.key = "x"  # type: ignore[misc]


def test_definitions_see_only_harmonized_columns():
    for key in indicators.BUILTIN_KEYS:
        assert indicators.get(key).columns <= set(schema.COLUMNS), key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "bad key"}, "Python identifier"),
        ({"statistic": "mode"}, "not supported"),
        ({"universe": col("CIT") == 4}, "not harmonized columns"),
        ({"universe": col("age")}, "universe must be a condition"),
        ({"measure": col("english") == "fluent"}, "not one of its categories"),
        ({"measure": col("age")}, "a proportion needs a condition"),
        ({"statistic": "ratio"}, "needs a denominator"),
        ({"weight": "family"}, "weight must be one of"),
        ({"measure": col("english"), "statistic": "mean"}, "numeric or a condition"),
    ],
)
def test_bad_definitions_fail_when_created(kwargs, message):
    base = {"key": "ok", "label": "x", "domain": "civic", "universe": col("age") >= 0, "measure": col("age") > 5}
    with pytest.raises(IndicatorDefinitionError, match=message):
        Indicator(**{**base, **kwargs})


def test_duplicate_key_raises_unless_replace():
    first = Indicator(key="tmp_dup", label="a", domain="x", universe=col("age") >= 0)
    indicators.register(first)
    try:
        with pytest.raises(IndicatorDefinitionError, match="already registered"):
            indicators.register(dataclasses.replace(first, label="b"))
        indicators.register(dataclasses.replace(first, label="b"), replace=True)
        assert indicators.get("tmp_dup").label == "b"
    finally:
        indicators.unregister("tmp_dup")


def test_unknown_key_suggests_close_names():
    with pytest.raises(UnknownIndicatorError) as info:
        indicators.get("homeownershp")
    assert "homeownership" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_available_lists_metadata():
    table = indicators.available()
    assert set(indicators.BUILTIN_KEYS) <= set(table.index)
    assert table.loc["limited_english", "higher_is_better"] is False or table.loc["limited_english", "higher_is_better"] == False  # noqa: E712
    assert table.loc["homeownership", "weight"] == "household"
    assert "english" in table.loc["english_very_well", "columns"]


def test_missing_column_at_evaluation_names_indicator(people):
    with pytest.raises(MissingColumnsError, match="english_very_well"):
        indicators.get("english_very_well").evaluate(people.drop(columns=["english"]), source="psam_p06.csv")


def _install_plugin(tmp_path, monkeypatch, name: str, module_source: str, target: str) -> None:
    """A throwaway distribution: a module plus a dist-info with entry_points.txt, on sys.path."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(module_source))
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[integration_scorecard.indicators]\n{name} = {target}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    indicators.refresh()


def test_plugin_distribution_is_discovered(tmp_path, monkeypatch):
    _install_plugin(
        tmp_path,
        monkeypatch,
        "scorecard_plugin_demo",
        """
        from indicators import Indicator, col
        INDICATORS = [Indicator(key="plugin_seniors", label="Seniors", domain="demography",
                                universe=col("age") >= 0, measure=col("age") >= 65)]
        """,
        "scorecard_plugin_demo:INDICATORS",
    )
    try:
        assert indicators.get("plugin_seniors").label == "Seniors"
        assert "plugin_seniors" in indicators.available().index
    finally:
        sys.modules.pop("scorecard_plugin_demo", None)
        monkeypatch.undo()
        indicators.refresh()
    with pytest.raises(UnknownIndicatorError):
        indicators.get("plugin_seniors")


def test_broken_plugin_warns_and_is_skipped(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "scorecard_plugin_broken", "raise RuntimeError('boom')\n",
                    "scorecard_plugin_broken:INDICATORS")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = indicators.available()
        assert any(issubclass(w.category, indicators.PluginWarning) and "boom" in str(w.message) for w in caught)
        assert "naturalized" in table.index
    finally:
        sys.modules.pop("scorecard_plugin_broken", None)
        monkeypatch.undo()
        indicators.refresh()


def test_registering_the_same_definition_again_is_no_conflict():
    def cell() -> Indicator:  # a notebook cell, run twice: two equal but distinct objects
        return Indicator(key="rerun_cell_naturalized", label="Naturalized (cell)", domain="civic",
                         universe=col("nativity") == "foreign_born", measure=col("citizenship") == "naturalized")

    try:
        first = indicators.register(cell)
        second = indicators.register(cell)
        assert second is not first and indicators.get("rerun_cell_naturalized") is second
        changed = dataclasses.replace(cell(), label="Naturalized (edited)")
        with pytest.raises(IndicatorDefinitionError, match="already registered"):
            indicators.register(changed)
        changed_universe = dataclasses.replace(cell(), universe=col("nativity") == "native")
        with pytest.raises(IndicatorDefinitionError, match="already registered"):
            indicators.register(changed_universe)
    finally:
        indicators.unregister("rerun_cell_naturalized")
