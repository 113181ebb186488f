"""The command line: demo, build from a config, estimate, ingest; exit codes and one-line errors."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from scorecard.cli import main
from scorecard.cli.config import ConfigError, load_config


def test_demo_writes_estimates_scorecard_and_reports(tmp_path, capsys):
    assert main(["demo", "--scale", "small", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "records read" in printed and "wrote estimates_csv" in printed
    assert f"Open the demo scorecards: {(tmp_path / 'index.html').resolve()}" in printed
    table = pd.read_csv(tmp_path / "estimates.csv")
    for column in ["indicator", "place", "year", "cohort", "estimate", "se", "moe90", "cv", "n_unweighted", "reliable",
                   "experimental_weights", "period_start", "place_name"]:
        assert column in table.columns
    assert set(table["cohort"]) >= {"native", "foreign_born", "2000-2009"}
    assert (table["moe90"].dropna() > 0).any()
    scores = pd.read_csv(tmp_path / "scorecard.csv")
    assert set(scores["level"]) == {"indicator", "domain", "composite"} and scores["place"].nunique() == 6
    index = (tmp_path / "index.html").read_text()
    cities = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(cities) == 6
    for city in cities:
        assert f'href="{city.name}/report.html"' in index
        page = (city / "report.html").read_text()
        assert "<svg" in page and "Scorecard among peer cities" in page
        assert (city / "report.pdf").read_bytes()[:5] == b"%PDF-"
        pngs = sorted((city / "charts").glob("*.png"))
        assert len(pngs) >= 4 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert not list(tmp_path.rglob(".*.tmp")), "temporary files left behind"


def test_indicators_lists_builtins(capsys):
    assert main(["indicators"]) == 0
    assert "naturalized_among_eligible" in capsys.readouterr().out


def _config(tmp_path, body: str):
    path = tmp_path / "run.toml"
    path.write_text(body)
    return path


DEMO_CONFIG = """
[data]
demo = "small"
[places]
names = ["Alderport city, WA", "Dunmere city, GA"]
[scorecard]
indicators = ["naturalized", "homeownership", "limited_english"]
[output]
dir = "out"
formats = ["csv", "netcdf"]
"""


def _place_names():
    import scorecard as sc

    paths = sc.datasets.demo_paths(scale="small")
    places = sc.Places.from_crosswalk(list(paths["crosswalks"].values()))
    return sorted(set(places.table["place_name"]))


def test_build_runs_a_config_and_writes_the_resolved_config(tmp_path, capsys):
    names = ["Alderport city, WA", "Dunmere city, GA"]
    assert set(names) <= set(_place_names())
    config = _config(tmp_path, DEMO_CONFIG)
    assert main(["build", str(config), "--quiet"]) == 0
    out = tmp_path / "out"
    est = xr.open_dataset(out / "estimates.nc")
    assert sorted(est["place_name"].values.tolist()) == sorted(names)
    assert est["indicator"].values.tolist() == ["naturalized", "homeownership", "limited_english"]
    table = pd.read_csv(out / "estimates.csv")
    assert len(table) == est["estimate"].size
    resolved = tomllib.loads((out / "run-config.toml").read_text())
    assert resolved["scorecard"]["method"] == "minmax" and resolved["data"]["demo"] == "small"
    assert "integration-scorecard" in (out / "run-config.toml").read_text()
    # the resolved config runs again to the same numbers
    again = load_config(out / "run-config.toml")
    assert again.places == load_config(config).places


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[data]\ndemo = "small"\n[scorecard]\nyaer = 2022\n[output]\ndir = "o"', "[scorecard].yaer: unknown key; did you mean 'year'?"),
        ('[data]\ndemo = "small"\n[scorecard]\nyear = "2022"\n[output]\ndir = "o"', "[scorecard].year: expected a whole number; got '2022'"),
        ('[data]\ntables = ["nope.csv"]\n[output]\ndir = "o"', "[data].tables[0]: no such file"),
        ('[data]\ndemo = "small"\n', "[output].dir: required"),
        ('[data]\ndemo = "small"\n[output]\ndir = "o"\nformats = ["csv", "docx"]', "[output].formats[1]: 'docx' is not one of"),
        ('[dta]\ndemo = "small"\n[output]\ndir = "o"', "[dta]: unknown section; did you mean [data]?"),
        ('[data]\ndemo = "small"\n[output\ndir = "o"', "not valid TOML"),
        ('[output]\ndir = "o"', "[data]: give tables = [...]"),
    ],
)
def test_config_errors_name_the_key_path(tmp_path, capsys, body, expected):
    config = _config(tmp_path, body)
    with pytest.raises(ConfigError, match=None) as excinfo:
        load_config(config)
    assert expected in str(excinfo.value)
    assert main(["build", str(config)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert all(line.startswith("error: ") for line in err.strip().splitlines())


def test_place_not_in_the_data_suggests_the_closest(tmp_path, capsys):
    name = _place_names()[0]
    typo = name[:3] + name[4:]  # one letter dropped
    config = _config(tmp_path, DEMO_CONFIG.replace('["Alderport city, WA", "Dunmere city, GA"]', f'["{name}", "{typo}"]'))
    assert main(["build", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f'[places].names[1]: {typo!r} is not in the data; did you mean {name!r}' in err


def test_unknown_indicator_and_bad_year(tmp_path, capsys):
    config = _config(tmp_path, DEMO_CONFIG.replace('"naturalized", ', '"naturalised", '))
    assert main(["build", str(config), "--quiet"]) == 2
    assert "[scorecard].indicators[0]: 'naturalised' is not a registered indicator; did you mean 'naturalized'" in capsys.readouterr().err
    config = _config(tmp_path, DEMO_CONFIG.replace("[scorecard]\n", "[scorecard]\nyear = 1999\n"))
    assert main(["build", str(config), "--quiet"]) == 2
    assert "[scorecard].year: 1999 is not in the data" in capsys.readouterr().err


def test_parameter_errors_exit_2_and_internal_errors_exit_1(tmp_path, capsys, monkeypatch):
    assert main(["estimate", "--out", str(tmp_path / "x.csv")]) == 2
    assert "give --tables FILES" in capsys.readouterr().err
    cli_main = importlib.import_module("scorecard.cli.main")

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_main, "_indicators", broken)
    assert main(["indicators"]) == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: boom); rerun with --debug" in err and "Traceback" not in err
    assert main(["--debug", "indicators"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_estimate_from_published_tables(tmp_path, capsys, shared_data):
    from tests.conftest import shared_file

    folder = shared_file(shared_data, "real/acs1_state_tables_ncnw/2016")
    out = tmp_path / "table.csv"
    code = main(["estimate", "--tables", str(folder), "--indicators", "in_poverty", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    assert {"estimate", "moe90", "reliable", "period_start", "experimental_weights"} <= set(table.columns)
    assert set(table["indicator"]) == {"in_poverty"} and table["place"].nunique() >= 50


def test_boston_gateway_cities_example_builds(tmp_path, capsys, shared_data):
    """The shipped example config, on the real 2020-2024 data.census.gov download (numbers from the MANIFEST)."""
    from tests.conftest import shared_file

    download = shared_file(shared_data, "real/ma_places_acs5_2012_2024/raw_2024_with_moe/ACSST5Y2024.S0501-Data.csv.gz")
    example = (Path(__file__).resolve().parents[1] / "examples" / "boston-gateway-cities.toml").read_text()
    config = tomllib.loads(example)
    assert Path(config["data"]["tables"][0]).name == download.name
    text = example.replace(config["data"]["tables"][0], str(download)).replace('"../boston-scorecard"', '"out"')
    path = _config(tmp_path, text)
    assert main(["build", str(path), "--quiet"]) == 0, capsys.readouterr().err
    out = tmp_path / "out"
    est = xr.open_dataset(out / "estimates.nc")
    boston = est.sel(place="2507000", year=2024, cohort="foreign_born")
    assert float(boston["estimate"].sel(indicator="homeownership")) == pytest.approx(0.285)  # MANIFEST: 28.5% +/-1.3
    assert float(boston["moe90"].sel(indicator="homeownership")) == pytest.approx(0.013)
    assert float(boston["estimate"].sel(indicator="in_poverty")) == pytest.approx(0.212)
    scores = pd.read_csv(out / "scorecard.csv")
    assert scores["place"].nunique() == 15
    page = (out / "boston-city-massachusetts" / "report.html").read_text()
    assert "28.5%" in page and "Rank among peers" in page
    assert (out / "boston-city-massachusetts" / "report.pdf").exists()


def test_report_from_an_estimates_file(tmp_path, capsys):
    config = _config(tmp_path, DEMO_CONFIG.replace('names = ["Alderport city, WA", "Dunmere city, GA"]', "names = []"))
    assert main(["build", str(config), "--quiet"]) == 0
    capsys.readouterr()
    estimates = tmp_path / "out" / "estimates.nc"
    code = main(["report", str(estimates), "--focus", "Alderport city, WA", "--out", str(tmp_path / "rep"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    page = (tmp_path / "rep" / "alderport-city-wa" / "report.html").read_text()
    assert "Alderport city, WA: immigrant integration scorecard" in page
    assert (tmp_path / "rep" / "index.html").exists() and (tmp_path / "rep" / "scorecard.csv").exists()
    assert main(["report", str(estimates), "--focus", "Aldrport city, WA", "--out", str(tmp_path / "x")]) == 2
    assert "did you mean 'Alderport city, WA'" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_config_targets_and_goalposts_reach_the_scorecard(tmp_path, capsys):
    body = DEMO_CONFIG.replace('names = ["Alderport city, WA", "Dunmere city, GA"]', "names = []").replace(
        "[scorecard]\n", '[scorecard]\nmethod = "goalposts"\ngoalposts = { naturalized = [0.0, 1.0], homeownership = [0.2, 0.8] }\n'
        "reliability = \"include\"\n")
    config = _config(tmp_path, body.replace('formats = ["csv", "netcdf"]', 'formats = ["csv", "netcdf"]'))
    assert main(["build", str(config), "--quiet"]) == 0, capsys.readouterr().err
    est = xr.open_dataset(tmp_path / "out" / "estimates.nc")
    scores = xr.open_dataset(tmp_path / "out" / "scorecard.nc")
    year = int(scores.attrs["year"])
    owner = est["estimate"].sel(indicator="homeownership", year=year, cohort="foreign_born").values
    # goalposts [0.2, 0.8] on the 1-5 scale, clipped: 1 + 4 (x - 0.2) / 0.6
    expected = np.clip(1 + 4 * (owner - 0.2) / 0.6, 1, 5)
    np.testing.assert_allclose(scores["score"].sel(indicator="homeownership").values, expected)
    bad = _config(tmp_path, body.replace("homeownership = [0.2, 0.8]", "homeownership = [0.2]"))
    assert main(["build", str(bad), "--quiet"]) == 2
    assert "[scorecard].goalposts: expected a table of [low, high] pairs" in capsys.readouterr().err


def test_ingest_with_jobs_prints_the_same_table_and_fills_the_cache(tmp_path, capsys):
    from scorecard.datasets import write_national

    person, housing = write_national(tmp_path / "data", persons=3000)
    files = [*map(str, person), "--housing", *map(str, housing)]
    assert main(["ingest", *files, "--cache-dir", str(tmp_path / "one")]) == 0
    serial = capsys.readouterr().out
    assert main(["ingest", *files, "--cache-dir", str(tmp_path / "two"), "--jobs", "2"]) == 0
    parallel = capsys.readouterr().out
    assert parallel == serial
    rows = serial.strip().splitlines()[1:]
    assert all(row.endswith("miss") for row in rows) and "psam_pusa.csv" in serial and "psam_husb.csv" in serial
    assert main(["ingest", *files, "--cache-dir", str(tmp_path / "two"), "--jobs", "2"]) == 0
    again = capsys.readouterr().out
    assert all(row.endswith(" hit") for row in again.strip().splitlines()[1:])
    assert again.replace(" hit", "miss") == serial


def test_ingest_with_jobs_reports_a_bad_file_like_one_job(tmp_path, capsys):
    from scorecard.datasets import write_national

    person, housing = write_national(tmp_path / "data", persons=3000)
    text = person[1].read_text().splitlines()
    text[5] = text[5].replace(",", ",x", 1)  # a letter in the second column (SPORDER) of one record
    person[1].write_text("\n".join(text) + "\n")
    files = [*map(str, person), "--housing", *map(str, housing)]
    codes, errors = [], []
    for jobs in ("1", "2"):
        codes.append(main(["ingest", *files, "--cache-dir", str(tmp_path / jobs), "--jobs", jobs]))
        errors.append(capsys.readouterr().err)
    assert codes[0] == codes[1] == 2
    assert errors[0] == errors[1] and "psam_pusb.csv" in errors[0]


def test_a_pdf_that_fails_to_print_stops_the_run_with_its_reason(tmp_path, capsys, monkeypatch):
    # PDFs print in a background thread while the next pages are built: a failure there must still reach the
    # user as the one-line error, and leave no PDF (not even a partial one) behind.
    monkeypatch.setenv("SCORECARD_CHROMIUM", "/bin/false")
    assert main(["demo", "--scale", "small", "--output", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Chromium failed (exit 1)" in err and "report.html" in err
    assert 1 <= len(list(tmp_path.rglob("report.html"))) < 6  # stopped early, the pages written are kept
    assert not list(tmp_path.rglob("report.pdf")) and not list(tmp_path.rglob(".*.tmp"))
    assert not (tmp_path / "index.html").exists()
