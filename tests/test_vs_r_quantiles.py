"""Linearized (Woodruff) medians equal R survey's ``svyquantile(qrule = "math", df = Inf)``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scorecard
from indicators import ALWAYS, Indicator, col
from scorecard.microdata import Microdata

R_SCRIPT = Path(__file__).parent / "r" / "median_linearized.R"
MEDIAN_X = Indicator(key="median_x", label="Median x", domain="test", universe=ALWAYS, measure=col("x"),
                     statistic="median", higher_is_better=None, extra_columns=("x",))


@pytest.mark.parametrize("seed", [3, 19])
def test_linearized_medians_match_r(rscript, tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 1500
    strata = rng.integers(0, 12, n)
    cluster = strata * 100 + rng.integers(0, 6, n)
    frame = pd.DataFrame({
        "survey_year": 2000, "state": "17", "puma": "00100", "puma_vintage": 2000, "household_id": np.arange(n).astype(str),
        "sex": rng.choice(["male", "female"], n), "x": np.round(rng.lognormal(10, 1, n), -2),
        "person_weight": rng.integers(10, 60, n).astype(float), "variance_strata": strata, "variance_cluster": cluster,
    })
    micro = Microdata.from_frame(frame, keep=["x"])
    assert micro.variance_method == "linearization"
    ours = scorecard.estimate(micro, [MEDIAN_X], by=["sex"]).squeeze()
    data = tmp_path / "in.csv"
    frame.rename(columns={"person_weight": "w", "variance_strata": "strata", "variance_cluster": "cluster", "sex": "g"})[
        ["x", "w", "strata", "cluster", "g"]].to_csv(data, index=False)
    result = tmp_path / "out.csv"
    run = subprocess.run([rscript, "--vanilla", str(R_SCRIPT), str(data), str(result)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = pd.read_csv(result).set_index("g")
    for group in ["female", "male"]:
        np.testing.assert_allclose(float(ours["estimate"].sel(sex=group)), theirs.loc[group, "estimate"], rtol=1e-12)
        np.testing.assert_allclose(float(ours["se"].sel(sex=group)), theirs.loc[group, "se"], rtol=1e-9)
