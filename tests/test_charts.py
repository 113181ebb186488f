"""Chart specifications (encodings, data values, titles) and offline export (PNG size, SVG, HTML, PDF)."""

from __future__ import annotations

import json
import re
import struct
import zlib

import numpy as np
import pandas as pd
import pytest

import scorecard as sc
from scorecard import charts
from scorecard.charts.export import data_values
from scorecard.errors import ChartError, EstimatesContractError
from tests import chart_data

FOCUS = "5390100"  # Alderport city, WA


@pytest.fixture(scope="module")
def est():
    return chart_data.demo_estimates()


@pytest.fixture(scope="module")
def peer_est():
    """Three places with numbers chosen by hand; C's SE makes it unreliable (CV 0.2/0.6 > 0.30)."""
    frame = pd.DataFrame({"indicator": "naturalized", "place": ["a", "b", "c"],
                          "place_name": ["A city", "B city", "C city"], "year": 2022, "cohort": "foreign_born",
                          "estimate": [0.5, 0.7, 0.6], "se": [0.03, 0.02, 0.2]})
    return sc.estimates_from_frame(frame, survey="acs1")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def png_busy_share(data: bytes) -> float:
    """Share of bytes in the decompressed scanlines that are neither 0 nor 255: ~0 for a blank image."""
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + length])
        at += 12 + length
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8)
    return float(np.mean((raw != 0) & (raw != 255)))


# ---------------------------------------------------------------------------------------------- peers
def test_peers_intervals_order_focus_and_titles(peer_est):
    chart = charts.chart("peers", peer_est, indicator="naturalized", focus="A city")
    spec = chart.to_dict()
    rows = {row["place"]: row for row in data_values(chart, layer=0)}
    for place, value, se in (("a", 0.5, 0.03), ("b", 0.7, 0.02), ("c", 0.6, 0.2)):
        assert rows[place]["lower"] == pytest.approx(value - 1.645 * se)
        assert rows[place]["upper"] == pytest.approx(value + 1.645 * se)
    assert rows["a"]["colour"] == charts.theme.FOCUS and rows["b"]["colour"] == charts.theme.OTHER
    assert rows["c"]["fill"] == "white" and rows["b"]["fill"] == charts.theme.OTHER  # unreliable is hollow
    assert rows["a"]["label"] == "50.0% ±4.9 pts"
    rule = spec["layer"][0]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["x"]["field"] == "lower"
    assert rule["encoding"]["x2"]["field"] == "upper"
    assert rule["encoding"]["y"]["sort"] == ["B city", "C city", "A city"]  # higher is better: best on top
    assert spec["layer"][1]["encoding"]["x"]["axis"]["format"] == ".0%"
    assert spec["title"]["text"] == "Naturalized citizens among the foreign-born: peer places"
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "American Community Survey 1-year" in subtitle and "2022" in subtitle and "90% margin of error" in subtitle
    assert "unreliable" in subtitle
    assert '"ci"' not in json.dumps(spec)  # intervals are precomputed, never altair's extent="ci"


def test_peers_refuses_broken_estimates_and_unknown_place(peer_est):
    with pytest.raises(EstimatesContractError):
        charts.peers(peer_est.drop_vars("se"), indicator="naturalized")
    with pytest.raises(ChartError, match="Did you mean"):
        charts.peers(peer_est, indicator="naturalised")


# ---------------------------------------------------------------------------------------------- trajectory
def test_trajectory_data_bands_and_reference(est):
    chart = charts.chart("trajectory", est, place=FOCUS, indicator="english_very_well")
    spec = chart.to_dict()
    band, line = spec["layer"][0], spec["layer"][1]
    assert band["mark"]["type"] == "area"
    assert (band["encoding"]["y"]["field"], band["encoding"]["y2"]["field"]) == ("lower", "upper")
    assert line["encoding"]["x"]["field"] == "x" and line["encoding"]["y"]["field"] == "estimate"
    rows = pd.DataFrame(data_values(chart, layer=1))
    arrival = [str(c) for c, k in zip(est["cohort"].values, est["cohort_kind"].values) if k == "arrival"]
    assert set(rows["cohort"]) <= set(arrival) and "native" not in set(rows["cohort"])
    cell = est.sel(indicator="english_very_well", place=FOCUS, year=2016, cohort="1990-1999")
    row = rows[(rows["cohort"] == "1990-1999") & (rows["x"] == 2016)].iloc[0]
    assert row["estimate"] == pytest.approx(float(cell["estimate"]))
    assert row["lower"] == pytest.approx(float(cell["estimate"] - cell["moe90"]))
    assert row["upper"] == pytest.approx(float(cell["estimate"] + cell["se"] * 1.645))
    dashed = [i for i, layer in enumerate(spec["layer"]) if layer["mark"].get("strokeDash") == [6, 4]]
    assert len(dashed) == 1 and spec["layer"][dashed[0]]["mark"]["type"] == "line"
    reference = pd.DataFrame(data_values(chart, layer=dashed[0]))
    assert set(reference["cohort"]) == {"native"}
    assert "Alderport city, WA" in spec["title"]["subtitle"][0]
    assert spec["layer"][1]["encoding"]["y"]["axis"]["format"] == ".0%"


def test_trajectory_dollar_axis_and_too_many_dims(est):
    spec = charts.trajectory(est, place=FOCUS, indicator="median_household_income").to_dict()
    assert spec["layer"][1]["encoding"]["y"]["axis"]["format"] == "$,.3~s"
    assert any("dollars of 2022" in line for line in spec["title"]["subtitle"])
    with pytest.raises(ChartError, match="place"):
        charts.trajectory(est, place=["5390100", "5390200"], indicator="naturalized")


# ---------------------------------------------------------------------------------------------- heatmap
def test_heatmap_colour_score_text_estimate_grey_unreliable(est):
    scores = chart_data.scores_like(est, year=2022)
    scores["included"].loc[{"indicator": "homeownership", "place": "2790600"}] = False
    chart = charts.chart("heatmap", scores, estimates=est, focus=FOCUS)
    spec = chart.to_dict()
    rows = pd.DataFrame(data_values(chart, layer=0)).set_index(["indicator", "place"])
    income = float(est["estimate"].sel(indicator="median_household_income", place=FOCUS, year=2022, cohort="foreign_born"))
    assert rows.loc[("median_household_income", FOCUS), "text"].rstrip("†") == f"${round(income):,}"
    share = float(est["estimate"].sel(indicator="naturalized", place=FOCUS, year=2022, cohort="foreign_born"))
    assert rows.loc[("naturalized", FOCUS), "text"].rstrip("†") == f"{100 * share:.1f}%"
    assert (rows["text"].str.endswith("†") == ~rows["included"].astype(bool)).all()
    assert rows.loc[("homeownership", "2790600"), "text"].endswith("†")
    assert not rows.loc[("homeownership", "2790600"), "included"]
    # place names on two lines (name / state), long indicator labels wrapped at a word, so the card fits a page
    axis_x = spec["layer"][0]["encoding"]["x"]["axis"]
    assert '"Alderport city, WA": ["Alderport city", "WA"]' in axis_x["labelExpr"]
    assert axis_x["labelPadding"] == 13 + 4
    svg = charts.to_svg(chart)
    assert ">Alderport city</tspan>" in svg and ">WA</tspan>" in svg
    assert float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1)) < 900
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["field"] == "score" and colour["condition"] == {"test": "!datum.included",
                                                                  "value": charts.theme.UNRELIABLE}
    assert spec["layer"][0]["encoding"]["x"]["sort"][0] == "Alderport city, WA"
    assert any("†" in line for line in spec["title"]["subtitle"])


# ---------------------------------------------------------------------------------------------- rank set
def test_rank_set_bars_and_ties(est):
    ranks = chart_data.ranks_like(est, indicator="naturalized", year=2022)
    chart = charts.chart("rank_set", ranks, focus=FOCUS, label="Naturalized")
    rows = pd.DataFrame(data_values(chart, layer=0))
    assert (rows["low_edge"] == rows["rank_lower"] - 0.4).all() and (rows["high_edge"] == rows["rank_upper"] + 0.4).all()
    assert list(rows["rank"]) == sorted(rows["rank"])
    tied = rows[rows["rank_lower"] < rows["rank_upper"]].iloc[0]
    assert tied["rank_text"].startswith("tied for ")
    from scorecard.charts.rank_set import rank_text

    assert rank_text([1, 4], [1, 2], [1, 6]).tolist() == ["1st", "tied for 2nd-6th"]
    assert chart.to_dict()["title"]["text"] == "Rank among peers: Naturalized"


# ---------------------------------------------------------------------------------------------- progress
def test_progress_slopes_significance_and_labels(est):
    frame = chart_data.progress_like(est, start=2016, end=2022)
    chart = charts.chart("progress", frame, indicator="naturalized", focus=FOCUS, rule="")
    spec = chart.to_dict()
    rows = pd.DataFrame(data_values(chart, layer=0))
    mine = frame[(frame["indicator"] == "naturalized") & (frame["place"] == FOCUS)].iloc[0]
    assert rows[(rows["place"] == FOCUS) & (rows["year"] == 2016)]["value"].item() == pytest.approx(mine["estimate_start"])
    assert rows[(rows["place"] == FOCUS) & (rows["year"] == 2022)]["value"].item() == pytest.approx(mine["estimate_end"])
    assert spec["layer"][0]["encoding"]["strokeDash"]["field"] == "significance"
    labels = pd.DataFrame(data_values(chart, layer=2))
    gaps = np.diff(np.sort(labels["label_y"].to_numpy()))
    domain = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert (gaps >= (domain[1] - domain[0]) * 15 / 300 - 1e-12).all()  # labels never overlap
    assert labels["label_y"].max() <= domain[1] + 1e-12
    with pytest.raises(ChartError, match="indicator"):
        charts.progress(frame)


# ---------------------------------------------------------------------------------------------- gap
def test_gap_panels_per_indicator_with_units(est):
    gaps = chart_data.gap_like(est)
    chart = charts.chart("gap", gaps, place=FOCUS, year=2022, indicators=["english_very_well", "median_household_income"])
    spec = chart.to_dict()
    assert len(spec["vconcat"]) == 2
    rows = pd.DataFrame(data_values(chart, panel=1, layer=1))
    cell = gaps.sel(indicator="median_household_income", place=FOCUS, year=2022, cohort="1990-1999")
    row = rows[rows["cohort"] == "1990-1999"].iloc[0]
    assert row["lower"] == pytest.approx(float(cell["gap"] - cell["moe90"]))
    assert "pts" in spec["vconcat"][0]["layer"][2]["encoding"]["x"]["axis"]["labelExpr"]
    assert "$" in spec["vconcat"][1]["layer"][2]["encoding"]["x"]["axis"]["labelExpr"]


# ---------------------------------------------------------------------------------------------- export
def test_registry_names_and_unknown_kind(peer_est):
    assert sorted(charts.available()) == ["event_study", "gap", "heatmap", "peers", "progress", "rank_set", "trajectory"]
    assert charts.chart("peers", peer_est, indicator="naturalized").to_dict() == charts.peers(
        peer_est, indicator="naturalized").to_dict()
    with pytest.raises(ChartError, match="Did you mean"):
        charts.chart("heatmp", peer_est)


def test_save_png_svg_html_pdf_json(peer_est, tmp_path):
    chart = charts.peers(peer_est, indicator="naturalized", focus="a")
    svg = charts.save(chart, tmp_path / "peers.svg").read_text()
    width, height = (float(v) for v in re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', svg).groups())
    png = charts.save(chart, tmp_path / "peers.png", scale=2).read_bytes()
    assert png_size(png) == (round(2 * width), round(2 * height))
    assert png_busy_share(png) > 0.01
    assert "<text" in svg and "A city" in svg and "50.0% ±4.9 pts" in svg
    html = charts.save(chart, tmp_path / "peers.html").read_text()
    assert "vega" in html and not re.search(r"<script[^>]+src=", html)
    assert charts.save(chart, tmp_path / "peers.pdf").read_bytes()[:5] == b"%PDF-"
    assert json.loads(charts.save(chart, tmp_path / "peers.json").read_text())["title"]["text"].startswith("Naturalized")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["peers.html", "peers.json", "peers.pdf", "peers.png", "peers.svg"]
    with pytest.raises(ChartError, match="suffix"):
        charts.save(chart, tmp_path / "peers.gif")


@pytest.mark.parametrize("kind", ["trajectory", "heatmap", "rank_set", "progress", "gap"])
def test_every_kind_renders_to_png(kind, est, tmp_path, caplog):
    data, options = {
        "trajectory": (est, {"place": FOCUS, "indicator": "naturalized"}),
        "heatmap": (chart_data.scores_like(est, year=2022), {"estimates": est}),
        "rank_set": (chart_data.ranks_like(est, indicator="naturalized", year=2022), {"focus": FOCUS}),
        "progress": (chart_data.progress_like(est, start=2016, end=2022), {"indicator": "homeownership"}),
        "gap": (chart_data.gap_like(est), {"place": FOCUS}),
    }[kind]
    with caplog.at_level("WARNING"):
        png = charts.to_png(charts.chart(kind, data, **options), scale=1)
    width, height = png_size(png)
    assert width > 300 and height > 150
    assert png_busy_share(png) > 0.01
    # Neither Vega (a chart problem) nor the rasterizer (legend-symbol noise) says anything.
    assert [f"{r.name}: {r.getMessage()}" for r in caplog.records] == []


def test_every_card_chart_kind_draws_from_a_scorecard():
    """card.chart(kind) forwards the card's own data to each chart kind (the wiring, on demo estimates)."""
    from scorecard.charts.export import data_values

    est = chart_data.demo_estimates()
    focus = str(est["place"].values[0])
    card = sc.Scorecard(est, year=2022, cohort="foreign_born", focus=focus, reliability="include", draws=200)
    for kind in ("heatmap", "peers", "rank_set", "trajectory", "progress", "gap"):
        chart = card.chart(kind, indicator="naturalized")
        assert chart.to_dict()  # a valid Vega-Lite specification
    peers = data_values(card.chart("peers", indicator="naturalized"))
    cell = est["estimate"].sel(indicator="naturalized", year=2022, cohort="foreign_born")
    by_place = {row["place"]: row["estimate"] for row in peers}
    assert by_place[focus] == pytest.approx(float(cell.sel(place=focus)))
    other = str(est["place"].values[1])
    highlighted = data_values(card.chart("peers", place=other, indicator="naturalized"))
    assert highlighted != peers  # the place asked for is the one highlighted
