"""The 26 city offices for immigrant integration and the year each opened: the events of an impact study.

The table is printed at the end of *Opening Minds, Opening Doors, Opening
Communities: Cities Leading for Immigrant Integration* (Americas
Society/Council of the Americas and USC CSII, 2016). The project does not ship
a copy: the transcription's MANIFEST calls the content public facts but states
no licence for the file, so :func:`city_offices` reads the CSV you have
(columns ``city, state, office, year_established``; see docs/impact.md).

Census place codes come from a crosswalk's place names, by one written rule
and never by guessing: an office's city ``C`` in state ``ST`` matches the
crosswalk place named ``"C <kind>, ST"`` where ``<kind>`` is a Census place
description (``city``, ``town``, ``city (balance)``, ``metropolitan government
(balance)``, ...). Three printed names differ from the Census name of the same
government, as the table's MANIFEST documents; they are kept here as data
(:data:`CENSUS_NAMES`). A name that matches no place, or more than one, is left
unmatched and listed in ``frame.attrs["unmatched"]``.

Examples
--------
>>> import io
>>> offices = io.StringIO("city,state,office,year_established\\n"
...     "Seattle,WA,Office of Immigrant and Refugee Affairs,2008\\n"
...     "Nashville,TN,Mayors Office of New Americans,2013\\n"
...     "Orlando,FL,Office of Multicultural Affairs,\\n")
>>> names = {"5363000": "Seattle city, WA", "4752006": "Nashville-Davidson metropolitan government (balance), TN"}
>>> table = city_offices(offices, crosswalk=names)
>>> table[["city", "year_established", "place"]].to_string(index=False)
'     city  year_established   place\\n  Seattle              2008 5363000\\nNashville              2013 4752006\\n  Orlando              <NA>    <NA>'
>>> table.attrs["unmatched"]
{'Orlando, FL': 'no crosswalk place is named Orlando <kind>, FL'}
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scorecard.errors import MissingColumnsError, UnreadableFileError

__all__ = ["city_offices", "CENSUS_NAMES", "PLACE_KINDS"]

#: Printed city name -> the Census name of the same government (from the table's MANIFEST).
CENSUS_NAMES = {
    ("New York City", "NY"): "New York",
    ("Nashville", "TN"): "Nashville-Davidson",
    ("Louisville", "KY"): "Louisville/Jefferson County",
}
#: Census place descriptions that may follow a city's name ("Atlanta city, GA").
PLACE_KINDS = (
    "city",
    "town",
    "village",
    "borough",
    "municipality",
    "city (balance)",
    "metropolitan government (balance)",
    "metro government (balance)",
    "unified government (balance)",
    "consolidated government (balance)",
    "city and borough",
    "urban county",
)
_COLUMNS = ("city", "state", "office", "year_established")


def _place_names(crosswalk) -> dict[str, str]:
    """Place code -> name from a Places, a {code: name} mapping or crosswalk file path(s)."""
    from scorecard.places import Places

    if isinstance(crosswalk, Mapping):
        return {str(k): str(v) for k, v in crosswalk.items()}
    places = crosswalk if isinstance(crosswalk, Places) else Places.from_crosswalk(crosswalk, warn_below=0.0)
    return places.names


def city_offices(path: str | os.PathLike | None = None, *, crosswalk=None) -> pd.DataFrame:
    """The offices for immigrant integration, with Census place codes where a crosswalk name matches.

    Parameters
    ----------
    path : path or file-like
        The offices table (``offices.csv``: ``city, state, office,
        year_established``; a blank year is kept as missing).
    crosswalk : Places, mapping {place code: name}, or crosswalk path(s), optional
        Where place codes come from (e.g. a Geocorr PUMA-to-place file). Without
        it, ``place`` is missing everywhere.

    Returns
    -------
    pandas.DataFrame
        ``city, state, office, year_established`` (Int64, <NA> when not
        printed), ``place`` and ``place_name`` (<NA> when unmatched).
        ``attrs["unmatched"]`` maps each unmatched ``"city, ST"`` to the reason.
    """
    if path is None:
        raise UnreadableFileError(
            "city_offices needs the path of the offices table (city, state, office, year_established), e.g. "
            "../shared/data/real/city_offices/offices.csv; docs/impact.md says where the table comes from."
        )
    source = str(getattr(path, "name", path))
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        raise UnreadableFileError(f"{source}: cannot read the offices table ({exc}). Check the path.") from exc
    missing = set(_COLUMNS) - set(table.columns)
    if missing:
        raise MissingColumnsError(source, missing, "Expected columns city, state, office, year_established.")
    table = table[list(_COLUMNS)].apply(lambda column: column.str.strip())
    year = pd.to_numeric(table["year_established"].replace("", None), errors="coerce")
    bad = table["year_established"].ne("") & year.isna()
    if bad.any():
        raise UnreadableFileError(
            f"{source}: column year_established has non-year values {table.loc[bad, 'year_established'].tolist()[:5]} "
            f"(rows {(table.index[bad] + 2).tolist()[:5]}). Use a four-digit year or leave it blank."
        )
    table["year_established"] = year.astype("Int64")
    table["place"] = pd.Series(pd.NA, index=table.index, dtype="string")
    table["place_name"] = pd.Series(pd.NA, index=table.index, dtype="string")
    unmatched: dict[str, str] = {}
    if crosswalk is not None:
        names = pd.Series(_place_names(crosswalk), name="place_name").rename_axis("place").reset_index()
        base = [CENSUS_NAMES.get(key, key[0]) for key in zip(table["city"], table["state"])]
        wanted = pd.DataFrame({"office": np.repeat(table.index, len(PLACE_KINDS)),
                               "place_name": [f"{b} {kind}, {s}" for b, s in zip(base, table["state"]) for kind in PLACE_KINDS]})
        found = wanted.merge(names, on="place_name")
        count = found.groupby("office").size().reindex(table.index, fill_value=0)
        single = found[found["office"].map(count).eq(1)].set_index("office")
        table.loc[single.index, "place"] = single["place"]
        table.loc[single.index, "place_name"] = single["place_name"]
        several = found[found["office"].map(count).gt(1)].groupby("office")["place_name"].agg(sorted)
        label = table["city"] + ", " + table["state"]
        reasons = {i: f"no crosswalk place is named {base[i]} <kind>, {table.loc[i, 'state']}" for i in table.index[count.eq(0)]}
        reasons |= {i: f"several crosswalk places match: {matches}" for i, matches in several.items()}
        unmatched = {label[i]: reasons[i] for i in sorted(reasons)}  # in the table's order
    else:
        unmatched = {f"{c}, {s}": "no crosswalk given" for c, s in zip(table["city"], table["state"])}
    table.attrs["unmatched"] = unmatched
    return table
