"""Tests of the synthetic ACS PUMS generator (scorecard.datasets).

Numbers are checked another way: layouts against the Census rules, truth
against a pandas recomputation from the finite population, and replicate
weights by the coverage of 90% intervals over repeated draws, with SEs
computed here in plain numpy.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

import scorecard
from scorecard.datasets import design, geography, hadamard, sdr_factors, write_pums
from scorecard.datasets.population import generate_population
from scorecard.datasets.synthetic import SCALES, Scale, _generate_year

LAYOUT_YEARS = [2007, 2008, 2011, 2012, 2016, 2017, 2019, 2020, 2022]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> scorecard.datasets.GeneratedFiles:
    return write_pums(tmp_path_factory.mktemp("small"), seed=7, scale="small", years=LAYOUT_YEARS)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _year_frames(files, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    person = pd.concat([_read(p) for p in files.person if p.parent.name == str(year)], ignore_index=True)
    housing = pd.concat([_read(p) for p in files.housing if p.parent.name == str(year)], ignore_index=True)
    return person, housing


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.csv")):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------------- Hadamard / SDR
def test_hadamard_is_order_80():
    H = hadamard().astype(np.int64)
    assert H.shape == (80, 80)
    assert set(np.unique(H)) == {-1, 1}
    np.testing.assert_array_equal(H @ H.T, 80 * np.eye(80, dtype=np.int64))
    truncated = scipy.linalg.hadamard(128)[:80, :80]
    assert not np.array_equal(truncated @ truncated.T, 80 * np.eye(80))  # why a real order-80 matrix is needed


def test_sdr_factors_follow_acs_formula():
    H = hadamard().astype(float)
    f = sdr_factors(200, start=5)
    k = 17
    i1, i2 = (5 + k) % 80, (5 + k + 1) % 80
    np.testing.assert_allclose(f[k], 1 + 2**-1.5 * H[i1] - 2**-1.5 * H[i2])
    np.testing.assert_allclose(np.unique(f.round(6)), [1 - 2**-0.5, 1, 1 + 2**-0.5], atol=1e-6)


# ----------------------------------------------------------------- determinism
def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = write_pums(tmp_path / "a", seed=3, scale="small", years=[2016])
    b = write_pums(tmp_path / "b", seed=3, scale="small", years=[2016])
    c = write_pums(tmp_path / "c", seed=4, scale="small", years=[2016])
    assert _digest(a.directory) == _digest(b.directory)
    assert a.truth.read_bytes() == b.truth.read_bytes()
    assert _digest(a.directory) != _digest(c.directory)


# ----------------------------------------------------------------- layouts
@pytest.mark.parametrize("year", LAYOUT_YEARS)
def test_file_layout_of_vintage(small, year):
    person_files = [p for p in small.person if p.parent.name == str(year)]
    names = sorted(p.name for p in person_files)
    if year <= 2016:
        assert names == [f"ss{year % 100:02d}p{s}.csv" for s in ("ga", "mn", "tx", "wa")]
    else:
        assert names == [f"psam_p{s}.csv" for s in ("13", "27", "48", "53")]
    person, housing = _year_frames(small, year)
    header = person_files[0].read_text().splitlines()[0]
    assert '"' not in header and header.startswith("RT,SERIALNO,")

    rep = "pwgtp" if year <= 2016 else "PWGTP"
    assert [c for c in person.columns if c.lower().startswith("pwgtp") and c != "PWGTP"] == [
        f"{rep}{r}" for r in range(1, 81)
    ]
    assert f"{'wgtp' if year <= 2016 else 'WGTP'}80" in housing.columns
    adj = "ADJUST" if year <= 2007 else "ADJINC"
    assert adj in person.columns and adj in housing.columns
    assert ("RELP" in person.columns) == (year <= 2018) and ("RELSHIPP" in person.columns) == (year >= 2019)
    assert ("WKW" in person.columns) == (year <= 2018) and ("WKWN" in person.columns) == (year >= 2019)
    assert ("TYPE" in housing.columns) == (year <= 2019) and ("TYPEHUGQ" in housing.columns) == (year >= 2020)
    pattern = r"\d{1,7}" if year <= 2016 else rf"{year}(HU|GQ)\d{{7}}"
    assert housing["SERIALNO"].str.fullmatch(pattern).all()
    assert not housing["SERIALNO"].duplicated().any()
    assert not person.duplicated(["SERIALNO", "SPORDER"]).any()

    # PUMA codes of the year's vintage, all listed in that vintage's crosswalk
    vintage = geography.puma_vintage(year)
    crosswalk = pd.read_csv(small.crosswalks[vintage], dtype=str, skiprows=[1], encoding="latin-1")
    puma_column = {2000: "puma2k", 2010: "puma12", 2020: "puma22"}[vintage]
    assert set(zip(housing["ST"], housing["PUMA"])) <= set(zip(crosswalk["state"], crosswalk[puma_column]))

    # blanks mean "not in universe"
    age = person["AGEP"].astype(int)
    assert ((person["LANX"] == "") == (age < 5)).all()
    assert ((person["ENG"] == "") == ((age < 5) | (person["LANX"] == "2"))).all()
    assert ((person["PINCP"] == "") == (age < 15)).all() and ((person["PERNP"] == "") == (age < 15)).all()
    native = person["NATIVITY"] == "1"
    assert (person.loc[native & (person["CIT"] == "1"), "YOEP"] == "").all()
    assert (person.loc[~native, "YOEP"] != "").all() and person.loc[~native, "CIT"].isin(["4", "5"]).all()
    relationship = person["RELP" if year <= 2018 else "RELSHIPP"].astype(int)
    group_quarters = relationship.isin([16, 17] if year <= 2018 else [37, 38])
    assert group_quarters.any() and (person.loc[group_quarters, "POVPIP"] == "").all()
    assert ((relationship == (0 if year <= 2018 else 20)) | group_quarters).sum() == (housing["NP"] != "0").sum()

    unit_type = housing["TYPE" if year <= 2019 else "TYPEHUGQ"]
    vacant = housing["NP"] == "0"
    hu_occupied = (unit_type == "1") & ~vacant
    assert vacant.any() and (unit_type != "1").any()
    assert ((housing["TEN"] == "") == ~hu_occupied).all() and ((housing["HINCP"] == "") == ~hu_occupied).all()
    assert (housing.loc[unit_type != "1", "WGTP"] == "0").all()

    # person and housing replicate weights agree within a housing unit
    occupied = housing[hu_occupied].set_index("SERIALNO")
    members = person[person["SERIALNO"].isin(occupied.index)]
    h_rep = "wgtp" if year <= 2016 else "WGTP"
    np.testing.assert_array_equal(
        members[[f"{rep}{r}" for r in range(1, 81)]].to_numpy(int),
        occupied.loc[members["SERIALNO"], [f"{h_rep}{r}" for r in range(1, 81)]].to_numpy(int),
    )
    assert (members["PWGTP"].to_numpy() == occupied.loc[members["SERIALNO"], "WGTP"].to_numpy()).all()
    assert person[[f"{rep}{r}" for r in range(1, 81)]].astype(int).to_numpy().min() >= 0


def test_crosswalks_look_like_geocorr_and_read_as_places(small):
    for vintage, path in small.crosswalks.items():
        lines = path.read_bytes().decode("latin-1").splitlines()
        assert lines[1].startswith('"State code",')
        assert all(line.endswith(" ") for line in lines[2:])
        places = scorecard.Places.from_crosswalk(path)
        members = geography.place_members(geography.DEFAULT_CITIES, vintage)
        expected = members[members["city"] >= 0].set_index(["place_id", "puma"])["factor"].sort_index()
        table = places.table.set_index(["place", "puma"])["factor"].sort_index()
        np.testing.assert_allclose(table.to_numpy(), expected.to_numpy())
        assert "Brisaleña city, TX" in places.names.values()
    assert (geography.place_members(geography.DEFAULT_CITIES, 2010)["factor"] < 1).sum() >= 6


# ----------------------------------------------------------------- truth
def test_truth_equals_recomputation_from_finite_population(small):
    year, city_index = 2019, 2
    city = geography.DEFAULT_CITIES[city_index]
    pop, _ = _generate_year(geography.DEFAULT_CITIES, year, SCALES["small"], 7)
    frame = design.person_frame(pop)
    members = geography.place_members(geography.DEFAULT_CITIES, 2010)
    mine = members[members["city"] == city_index]
    factor = dict(zip(mine["state"] + mine["puma"], mine["factor"]))  # PUMA codes repeat across states
    frame["w"] = (pop.layout["state"] + pop.layout["puma"]).map(factor).fillna(0).to_numpy()[frame["puma"]]
    frame = frame[frame["w"] > 0]
    truth = small.read_truth()
    truth = truth[(truth["place"] == city.place_id) & (truth["year"] == year)].set_index(["indicator", "cohort"])["value"]

    fb = frame[frame["foreign"]]
    assert truth["naturalized", "foreign_born"] == pytest.approx((fb["w"] * (fb["cit"] == 4)).sum() / fb["w"].sum())
    nineties = frame[frame["foreign"] & frame["year_of_entry"].between(1990, 1999) & (frame["age"] >= 5)]
    assert truth["english_very_well", "1990-1999"] == pytest.approx(
        (nineties["w"] * (nineties["english"] <= 1)).sum() / nineties["w"].sum()
    )
    assert truth["population", "all"] == pytest.approx(frame["w"].sum())
    native = frame[~frame["foreign"] & frame["poverty_ratio"].notna()]
    assert truth["in_poverty", "native"] == pytest.approx((native["w"] * (native["poverty_ratio"] < 1)).sum() / native["w"].sum())
    heads = frame[frame["is_householder"]].sort_values("household_income", kind="stable")
    cum = heads["w"].cumsum() / heads["w"].sum()
    assert truth["median_household_income", "all"] == pytest.approx(heads["household_income"][cum >= 0.5].iloc[0])


def test_truth_cohorts_and_immigrant_gradients(small):
    truth = small.read_truth()
    assert set(truth["cohort"]) == set(design.COHORTS)
    assert set(truth["indicator"]) == set(design.INDICATORS)
    assert truth["place"].nunique() == 6
    fb = truth.query("cohort == 'foreign_born'").set_index(["place", "year", "indicator"])["value"]
    native = truth.query("cohort == 'native'").set_index(["place", "year", "indicator"])["value"]
    assert (fb.xs("english_very_well", level="indicator") < native.xs("english_very_well", level="indicator")).all()
    # naturalization rises with time in the US: 1990s arrivals ahead of 2010s arrivals everywhere in 2022
    late = truth.query("year == 2022 and indicator == 'naturalized'").pivot(index="place", columns="cohort", values="value")
    assert (late["1990-1999"] > late["2010-2019"] + 0.2).all()


def test_sample_estimates_are_close_to_truth(small):
    """Weighted estimates from the CSV files land within a few SDR SEs of the truth."""
    year = 2016
    person, _ = _year_frames(small, year)
    crosswalk = pd.read_csv(small.crosswalks[2010], dtype=str, skiprows=[1], encoding="latin-1")
    crosswalk["factor"] = crosswalk["pop10"].astype(float) / crosswalk.groupby(["state", "puma12"])["pop10"].transform(
        lambda s: s.astype(float).sum()
    )
    truth = small.read_truth().query("year == @year and cohort == 'foreign_born' and indicator == 'naturalized'")
    weights = person[["PWGTP"] + [f"pwgtp{r}" for r in range(1, 81)]].to_numpy(float)
    fb = (person["NATIVITY"] == "2").to_numpy()
    nat = (person["CIT"] == "4").to_numpy()
    z = []
    for row in truth.itertuples():
        sub = crosswalk[(crosswalk["state"] + crosswalk["placefp14"]) == row.place]
        factor = person.set_index(["ST", "PUMA"]).index.map(dict(zip(zip(sub["state"], sub["puma12"]), sub["factor"])))
        w = weights * np.nan_to_num(np.asarray(factor, dtype=float))[:, None]
        theta = (w * (fb & nat)[:, None]).sum(0) / (w * fb[:, None]).sum(0)
        se = np.sqrt(4 / 80 * ((theta[1:] - theta[0]) ** 2).sum())
        z.append((theta[0] - row.value) / se)
    assert np.all(np.abs(z) < 4), z


def test_replicate_intervals_cover_finite_population_truth():
    """90% intervals θ ± 1.645·SE over 200 draws cover the finite-population value ~90% of the time."""
    cities = geography.DEFAULT_CITIES[:1]
    layout = geography.puma_layout(cities, 2010).query("model == 0").reset_index(drop=True)
    layout = layout.assign(n_units=4000, base_weight=20)
    pop = generate_population(layout, 2018, cities, np.random.default_rng(11))
    p = pop.persons
    unit_of_person = p["unit"]
    foreign_by_unit = np.bincount(unit_of_person, weights=p["foreign"], minlength=len(pop.units["kind"]))
    persons_by_unit = np.bincount(unit_of_person, minlength=len(pop.units["kind"]))
    true_total = foreign_by_unit.sum()
    true_share = true_total / persons_by_unit.sum()

    covered = {"total": [], "proportion": []}
    for seed in range(200):
        sample = design.draw_sample(pop, np.random.default_rng(seed))
        weights = np.rint(sample.weight[:, None] * np.column_stack([np.ones(len(sample.units)), sample.factors]))
        totals = weights.T @ foreign_by_unit[sample.units]
        people = weights.T @ persons_by_unit[sample.units]
        for name, theta, truth in (("total", totals, true_total), ("proportion", totals / people, true_share)):
            se = np.sqrt(4 / 80 * np.sum((theta[1:] - theta[0]) ** 2))
            covered[name].append(abs(theta[0] - truth) <= 1.645 * se)
    for name, hits in covered.items():
        assert 0.85 <= np.mean(hits) <= 0.95, (name, np.mean(hits))


# ----------------------------------------------------------------- scale, demo
def test_small_scale_has_a_few_hundred_persons_per_city_year(small):
    truth = small.read_truth().query("indicator == 'population' and cohort == 'all'")
    per_city = truth["n_persons"] / SCALES["small"].base_weight[0]
    assert per_city.min() > 100 and (truth["n_persons"] / SCALES["small"].base_weight[1]).max() < 1500


def test_write_pums_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'scale' parameter"):
        write_pums(tmp_path, scale="huge")
    with pytest.raises(ValueError, match="'years' parameter"):
        write_pums(tmp_path, scale="small", years=[1999])
    assert isinstance(SCALES["demo"], Scale)


def test_demo_paths_and_truth_use_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path))
    paths = scorecard.datasets.demo_paths(scale="small")
    assert str(paths["truth"]).startswith(str(tmp_path)) and all(p.exists() for p in paths["person"])
    stamp = paths["truth"].stat().st_mtime_ns
    assert scorecard.datasets.demo_paths(scale="small")["truth"].stat().st_mtime_ns == stamp
    truth = scorecard.datasets.demo_truth(scale="small")
    assert re.fullmatch(r"\d{7}", truth["place"].iloc[0])
    assert sorted(paths["crosswalks"]) == [2000, 2010, 2020]


def test_demo_reads_with_read_acs_pums(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path))
    micro = scorecard.datasets.demo(scale="small")
    assert micro.variance_method == "sdr"
    assert set(micro.frame["survey_year"].unique()) == set(SCALES["small"].years)
    assert (micro.frame["nativity"] == "foreign_born").mean() > 0.05
