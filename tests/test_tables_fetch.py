"""fetch_acs_table against a local HTTP server on 127.0.0.1 serving saved responses (no internet)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

import scorecard
from scorecard.tables import CensusApiError, fetch_acs_table, read_acs_tables

LEGEND = {
    "variables": {
        "B17025_001E": {"label": "Estimate!!Total", "group": "B17025"},
        "B17025_002E": {"label": "Estimate!!Total!!Income in the past 12 months below poverty level"},
        "B17025_003E": {"label": "Estimate!!Total!!Income in the past 12 months below poverty level!!Native"},
        "B17025_006E": {"label": "Estimate!!Total!!Income in the past 12 months below poverty level!!Foreign born"},
        "B17025_010E": {"label": "Estimate!!Total!!Income in the past 12 months at or above poverty level!!Native"},
        "B17025_013E": {"label": "Estimate!!Total!!Income in the past 12 months at or above poverty level!!Foreign born"},
    }
}
DATA = [
    ["NAME", "B17025_001E", "B17025_001M", "B17025_002E", "B17025_002M", "B17025_003E", "B17025_003M",
     "B17025_006E", "B17025_006M", "B17025_010E", "B17025_010M", "B17025_013E", "B17025_013M", "state", "place"],
    ["Seattle city, Washington", "700000", "2000", "70000", "3000", "50000", "2600", "20000", "1500",
     "530000", "3500", "100000", "2500", "53", "63000"],
]


class _Census(BaseHTTPRequestHandler):
    """Serves the saved responses; records every request."""

    requests: list[tuple[str, dict]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).requests.append((url.path, query))
        if url.path == "/data/2016/acs/acs1/groups/B17025.json":
            body, status = json.dumps(LEGEND), 200
        elif url.path == "/data/2016/acs/acs1" and query.get("get") == ["group(B17025)"]:
            body, status = json.dumps(DATA), 200
        elif url.path == "/data/2016/acs/acs1/groups/B99999.json":
            body, status = "error: unknown/unsupported group B99999", 400
        elif url.path == "/data/2016/acs/acs1/subject/groups/S0502.json":
            body, status = "<html>maintenance</html>", 200
        else:
            body, status = "error: not found", 404
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def census():
    _Census.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Census)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data", _Census.requests
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_saves_data_and_legend_and_reads_back(census, tmp_path):
    base_url, requests = census
    path = fetch_acs_table("B17025", 2016, "place:63000", within="state:53", cache_dir=tmp_path, base_url=base_url,
                           api_key="SECRET")
    assert path.exists() and path.parent == tmp_path / "acs1" / "2016"
    assert (path.parent / "acs1-2016-GROUP_B17025_LEGEND.json").exists()
    data_request = next(q for p, q in requests if p == "/data/2016/acs/acs1")
    assert data_request["for"] == ["place:63000"] and data_request["in"] == ["state:53"]
    assert data_request["key"] == ["SECRET"]
    assert "SECRET" not in path.read_text() and "SECRET" not in path.name
    ds = read_acs_tables(path)
    assert ds["place"].values.tolist() == ["5363000"]
    fb = ds.sel(indicator="in_poverty", cohort="foreign_born", year=2016, place="5363000")
    assert float(fb["estimate"]) == pytest.approx(20000 / 120000)
    assert ds.attrs["survey"] == "acs1"
    assert scorecard.fetch_acs_table is fetch_acs_table


def test_cache_is_used_without_requests_and_refresh_downloads(census, tmp_path):
    base_url, requests = census
    first = fetch_acs_table("B17025", 2016, "place:63000", within="state:53", cache_dir=tmp_path, base_url=base_url)
    n = len(requests)
    again = fetch_acs_table("B17025", 2016, "place:63000", within="state:53", cache_dir=tmp_path, base_url=base_url)
    assert again == first and len(requests) == n
    fetch_acs_table("B17025", 2016, "place:63000", within="state:53", cache_dir=tmp_path, base_url=base_url,
                    refresh=True)
    assert len(requests) == n + 2
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_api_error_is_reported_and_nothing_is_cached(census, tmp_path):
    base_url, _ = census
    with pytest.raises(CensusApiError, match="HTTP 400: error: unknown/unsupported group B99999"):
        fetch_acs_table("B99999", 2016, "state:*", cache_dir=tmp_path, base_url=base_url, api_key="SECRET")
    with pytest.raises(CensusApiError, match="not JSON") as info:
        fetch_acs_table("S0502", 2016, "state:*", cache_dir=tmp_path, base_url=base_url, api_key="SECRET")
    assert "SECRET" not in str(info.value)
    assert not list(tmp_path.rglob("*.json"))


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(CensusApiError, match="no answer from the Census API"):
        fetch_acs_table("B17025", 2016, "state:*", cache_dir=tmp_path, base_url="http://127.0.0.1:9/data", timeout=2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'table' parameter"):
        fetch_acs_table("s0502; drop", 2016, "state:*")
    with pytest.raises(ValueError, match="'survey' parameter"):
        fetch_acs_table("S0502", 2016, "state:*", survey="acs2")
