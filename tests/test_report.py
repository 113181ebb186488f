"""The one-page city report: its text and numbers, offline by construction, and rendered in headless Chromium.

Chromium tests skip when no Chromium is installed, unless SCORECARD_REQUIRE_CHROMIUM=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import scorecard as sc
from scorecard import report
from scorecard.report import browser
from scorecard.report.html import CSP
from tests import chart_data
from tests.test_charts import png_busy_share, png_size

FOCUS = "5390100"


@pytest.fixture(scope="module")
def est():
    return chart_data.demo_estimates()


@pytest.fixture(scope="module")
def inputs(est):
    return {
        "place": FOCUS, "estimates": est, "year": 2022,
        "scores": chart_data.scores_like(est, year=2022),
        "ranks": {"Naturalized citizens": chart_data.ranks_like(est, indicator="naturalized", year=2022)},
        "progress": chart_data.progress_like(est, start=2016, end=2022),
        "gaps": chart_data.gap_like(est),
        "coverage": chart_data.demo_coverage(),
    }


@pytest.fixture(scope="module")
def page(inputs, tmp_path_factory):
    return report.write_html(tmp_path_factory.mktemp("report") / "alderport.html", **inputs)


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = browser.find_chromium()
    if exe is None:
        message = "Chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("SCORECARD_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{message} (SCORECARD_REQUIRE_CHROMIUM=1, so this is an error, not a skip)")
        pytest.skip(message)
    return exe


def external_urls(html: str) -> list[str]:
    """Every src/href/url(...)/@import that points off the page (namespace URIs in xmlns are not requests)."""
    found = re.findall(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*((?:https?:)?//[^"' >]+)""", html, flags=re.I)
    found += re.findall(r"""url\(\s*["']?((?:https?:)?//[^"')]+)""", html, flags=re.I)
    found += re.findall(r"""@import\s+["']?((?:https?:)?//[^"';]+)""", html, flags=re.I)
    return found


def test_headline_numbers_are_the_estimates_formatted(page, est):
    text = page.read_text()
    cell = est.sel(indicator="naturalized", place=FOCUS, year=2022, cohort="foreign_born")
    assert f"{100 * float(cell['estimate']):.1f}%" in text
    assert f"±{100 * 1.645 * float(cell['se']):.1f} pts" in text
    income = est.sel(indicator="median_household_income", place=FOCUS, year=2022, cohort="native")
    assert f"${round(float(income['estimate'])):,}" in text
    assert "Alderport city, WA: immigrant integration scorecard" in text
    native = est.sel(indicator="naturalized", place=FOCUS, year=2022, cohort="native")
    assert np.isnan(float(native["estimate"])) and "no records in the universe" in str(native["reason"].values)
    assert 'badge missing">n/a' in text  # naturalized has no universe among the native-born


def test_every_chart_of_the_page_draws_without_a_vega_warning(inputs, caplog):
    # vl-convert forwards Vega's console warnings to the "vl_convert" logger: a dropped encoding or a layer
    # with no data (infinite extent) is a chart that does not draw what its specification says.
    with caplog.at_level("WARNING", logger="vl_convert"):
        html = report.render_html(**inputs)
    assert html.count("<svg ") >= 14
    assert [r.getMessage() for r in caplog.records if r.name.startswith("vl_convert")] == []


def test_page_is_self_contained(page):
    text = page.read_text()
    assert f'content="{CSP}"' in text and "default-src 'none'" in CSP
    assert external_urls(text) == []
    assert external_urls('<img src="https://example.org/x.png">') == ["https://example.org/x.png"]  # the check works
    assert "<script" not in text  # charts are inline SVG: nothing to run, nothing to fetch
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # SVG ids prefixed per chart: no clashes on one page


def test_sections_rule_ranks_and_provenance(page, inputs):
    text = page.read_text()
    assert inputs["progress"].attrs["rule"] in text  # the multiple-comparison rule is stated
    mine = inputs["progress"][inputs["progress"]["place"] == FOCUS]
    assert all(sentence.replace("'", "&#39;") in text for sentence in mine["sentence"])
    ranks = inputs["ranks"]["Naturalized citizens"].sel(place=FOCUS)
    assert f"of {inputs['ranks']['Naturalized citizens'].sizes['place']} places" in text
    assert "rank interval" in text and int(ranks["rank_lower"]) >= 1
    coverage = inputs["coverage"]
    share = coverage[(coverage["place"] == FOCUS)]["covered_share"]
    assert all(f"{v:.1%}" in text for v in share)
    assert "psam_p53.csv" in text and "2010 PUMAs for" in text
    for key in ("heatmap", "trajectory-naturalized", "peers-naturalized", "ranks-0", "progress-naturalized", "gap"):
        assert f'id="{key}"' in text


def test_2020_caveat_follows_the_year_coord(est, tmp_path):
    plain = report.render_html(place=FOCUS, estimates=est, draw_charts=False)
    assert "experimental weights" not in plain
    flagged = est.assign_coords(experimental_weights=("year", est["year"].values == 2019))
    assert "2019: ACS 1-year data released with experimental weights" in report.render_html(
        place=FOCUS, estimates=flagged, draw_charts=False)


def test_bad_inputs_raise(est, tmp_path):
    with pytest.raises(sc.errors.ChartError, match="Alderport"):
        report.write_html(tmp_path / "x.html", place="Alderprt city, WA", estimates=est, draw_charts=False)
    with pytest.raises(sc.errors.ReportError, match="year 1999"):
        report.render_html(place=FOCUS, estimates=est, year=1999, draw_charts=False)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_index_links_relative(tmp_path):
    (tmp_path / "cities").mkdir()
    index = report.write_index(tmp_path / "index.html", {"B city": tmp_path / "cities" / "b.html",
                                                          "A city": tmp_path / "cities" / "a.html"})
    text = index.read_text()
    assert re.findall(r'href="([^"]+)">([^<]+)<', text) == [("cities/a.html", "A city"), ("cities/b.html", "B city")]


# ---------------------------------------------------------------------------------------------- in a real browser
def _hosts(net_log: Path) -> set[str]:
    """Hosts of every request the page's network service started (Chromium's CORS_REQUEST events)."""
    log = json.loads(net_log.read_text())
    types = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    urls = [e["params"]["url"] for e in log["events"] if types[e["type"]] == "CORS_REQUEST" and "url" in e.get("params", {})]
    return {re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", url) for url in urls if not url.startswith(("file:", "data:"))}


@pytest.mark.slow
def test_report_renders_offline_in_chromium(page, chromium, tmp_path):
    dom = browser.dump_dom(page, chromium=chromium)
    figures = len(re.findall(r'<figure ', page.read_text()))
    assert figures >= 10
    assert len(re.findall(r"<svg", dom)) >= figures  # charts are in the rendered DOM
    assert len(re.findall(r'class="mark-', dom)) > 50  # with their marks
    assert external_urls(dom) == []

    shot = browser.screenshot(page, tmp_path / "page.png", width=1280, height=2000, chromium=chromium)
    blank_html = tmp_path / "blank.html"
    blank_html.write_text("<!DOCTYPE html><html><body></body></html>")
    blank = browser.screenshot(blank_html, tmp_path / "blank.png", width=1280, height=2000, chromium=chromium)
    assert png_size(shot.read_bytes()) == png_size(blank.read_bytes())
    assert png_busy_share(blank.read_bytes()) < 0.001  # the measure says "blank" for a blank page ...
    assert png_busy_share(shot.read_bytes()) > 0.02  # ... and not for the report

    # No request left the page: the hosts it contacts are those Chromium contacts for an empty page (its own
    # background services, all resolved to nothing by --host-resolver-rules), and a leaking page is caught.
    browser.run(["--dump-dom", "--virtual-time-budget=3000", blank_html.as_uri()], chromium=chromium,
                net_log=tmp_path / "blank.json")
    browser.run(["--dump-dom", "--virtual-time-budget=3000", page.as_uri()], chromium=chromium,
                net_log=tmp_path / "page.json")
    leak = tmp_path / "leak.html"
    leak.write_text('<!DOCTYPE html><html><body><img src="http://leak.example.org/x.png"></body></html>')
    browser.run(["--dump-dom", "--virtual-time-budget=3000", leak.as_uri()], chromium=chromium,
                net_log=tmp_path / "leak.json")
    baseline = _hosts(tmp_path / "blank.json")
    assert "leak.example.org" in _hosts(tmp_path / "leak.json") - baseline
    assert _hosts(tmp_path / "page.json") - baseline == set()


@pytest.mark.slow
def test_pdf_print(page, chromium, tmp_path):
    pdf = report.write_pdf(tmp_path / "alderport.pdf", html=page, chromium=chromium)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 1 <= pages <= 12
    assert [p.name for p in tmp_path.iterdir()] == ["alderport.pdf"]  # atomic: no temporary left


def test_pdf_without_chromium_says_what_to_do(page, tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(sc.errors.ReportError, match="Install it"):
        report.write_pdf(tmp_path / "x.pdf", html=page)
    assert not (tmp_path / "x.pdf").exists()
