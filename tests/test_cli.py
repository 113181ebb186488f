"""The command line: `scorecard demo` runs the pipeline end to end and writes its files atomically."""

from __future__ import annotations

import pandas as pd

from scorecard.cli import main


def test_demo_writes_estimates_with_uncertainty(tmp_path, capsys):
    assert main(["demo", "--scale", "small", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "records read" in printed and "wrote csv" in printed
    table = pd.read_csv(tmp_path / "estimates.csv")
    for column in ["indicator", "place", "year", "cohort", "estimate", "se", "moe90", "cv", "n_unweighted", "reliable"]:
        assert column in table.columns
    assert set(table["cohort"]) >= {"native", "foreign_born", "2000-2009"}
    assert (table["moe90"].dropna() > 0).any()
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


def test_indicators_lists_builtins(capsys):
    assert main(["indicators"]) == 0
    assert "naturalized_among_eligible" in capsys.readouterr().out
