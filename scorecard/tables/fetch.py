"""Download a published ACS table from the Census Data API, with an on-disk cache.

:func:`fetch_acs_table` asks the API for ``get=group(TABLE)`` at one geography
and for the table's labels (``groups/TABLE.json``), checks both, and writes them
atomically into a cache folder, named so that :func:`read_acs_table` finds the
labels next to the data::

    <cache_dir>/<survey>/<year>/<survey>-<year>-GROUP_<TABLE>-<geography>_DATA.json
    <cache_dir>/<survey>/<year>/<survey>-<year>-GROUP_<TABLE>_LEGEND.json

A file already in the cache is returned without a request (``refresh=True``
downloads again). The API key is never written to disk or into an error message.

Examples
--------
>>> _dataset_path("S0502", "acs1"), _dataset_path("B16005", "acs5"), _dataset_path("DP02", "acs1")
('acs/acs1/subject', 'acs/acs5', 'acs/acs1/profile')
>>> _geography_slug("place:63000", "state:53")
'place-63000_in_state-53'
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from scorecard.atomic import atomic_write_text
from scorecard.tables.errors import CensusApiError

__all__ = ["fetch_acs_table", "DEFAULT_BASE_URL", "default_cache_dir"]

DEFAULT_BASE_URL = "https://api.census.gov/data"


def default_cache_dir() -> Path:
    """``$SCORECARD_CACHE/acs_tables``, else ``~/.cache/integration-scorecard/acs_tables``."""
    root = os.environ.get("SCORECARD_CACHE") or Path.home() / ".cache" / "integration-scorecard"
    return Path(root) / "acs_tables"


def fetch_acs_table(
    table: str,
    year: int,
    geography: str,
    *,
    within: str | None = None,
    survey: str = "acs1",
    api_key: str | None = None,
    cache_dir: str | Path | None = None,
    base_url: str = DEFAULT_BASE_URL,
    refresh: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download one table for one geography (or use the cached copy).

    Parameters
    ----------
    table : str
        Table id: ``"S0502"`` (subject), ``"B16005"`` (detailed), ``"DP02"`` (profile).
    year : int
        ACS data year (the last year of a 5-year period).
    geography : str
        The API's ``for=`` clause: ``"state:*"``, ``"place:63000"``, ``"county:033"``.
    within : str, optional
        The API's ``in=`` clause: ``"state:53"``.
    survey : {"acs1", "acs5"}, default="acs1"
    api_key : str, optional
        Census API key (the API allows a few hundred calls a day without one);
        defaults to the ``CENSUS_API_KEY`` environment variable.
    cache_dir : path, optional
        Defaults to :func:`default_cache_dir`.
    base_url : str, default="https://api.census.gov/data"
        Root of the API (tests point it at a local server).
    refresh : bool, default=False
        Download even when the files are cached.
    timeout : float, default=60
        Seconds to wait for the API.

    Returns
    -------
    pathlib.Path
        The cached data file; pass it (or its folder) to :func:`read_acs_tables`.

    Raises
    ------
    CensusApiError
        The API answered with an error, something other than a table, or not at all.
    """
    if not re.fullmatch(r"[A-Z]+\d+[A-Z0-9]*", table):
        raise ValueError(f"The 'table' parameter of fetch_acs_table must be a table id like 'S0502'. Got {table!r} instead.")
    if survey not in {"acs1", "acs5"}:
        raise ValueError(f"The 'survey' parameter of fetch_acs_table must be 'acs1' or 'acs5'. Got {survey!r} instead.")
    year = int(year)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = folder / survey / str(year)
    prefix = f"{survey}-{year}-GROUP_{table}"
    data_path = folder / f"{prefix}-{_geography_slug(geography, within)}_DATA.json"
    legend_path = folder / f"{prefix}_LEGEND.json"
    key = api_key if api_key is not None else os.environ.get("CENSUS_API_KEY")
    root = f"{base_url.rstrip('/')}/{year}/{_dataset_path(table, survey)}"

    if refresh or not legend_path.exists():
        labels = _get_json(f"{root}/groups/{table}.json", {}, key, timeout)
        if not isinstance(labels, dict) or not isinstance(labels.get("variables"), dict):
            raise CensusApiError(f"{root}/groups/{table}.json: expected {{'variables': {{...}}}}, got something else.")
        atomic_write_text(legend_path, json.dumps(labels))
    if refresh or not data_path.exists():
        query = {"get": f"group({table})", "for": geography}
        if within:
            query["in"] = within
        rows = _get_json(root, query, key, timeout)
        if not (isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows)):
            raise CensusApiError(f"{root}: expected the API's array of arrays for group({table}), got something else.")
        atomic_write_text(data_path, json.dumps(rows))
    return data_path


def _dataset_path(table: str, survey: str) -> str:
    if table.startswith("S"):
        return f"acs/{survey}/subject"
    if table.startswith("DP"):
        return f"acs/{survey}/profile"
    if table.startswith("CP"):
        return f"acs/{survey}/cprofile"
    return f"acs/{survey}"


def _geography_slug(geography: str, within: str | None) -> str:
    text = geography + (f"_in_{within}" if within else "")
    return re.sub(r"[^A-Za-z0-9_]+", "-", text.replace("*", "all")).strip("-")


def _get_json(url: str, query: dict[str, str], key: str | None, timeout: float):
    shown = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    params = dict(query, **({"key": key} if key else {}))
    full = url + ("?" + urllib.parse.urlencode(params, safe="():*,") if params else "")
    request = urllib.request.Request(full, headers={"User-Agent": "integration-scorecard"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise CensusApiError(f"{shown}: the Census API answered HTTP {exc.code}: {detail or exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CensusApiError(f"{shown}: no answer from the Census API ({reason}). Check the network or base_url.") from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        raise CensusApiError(f"{shown}: the answer is not JSON ({snippet!r}); is the table, year or geography valid?") from None


