"""Places: cities (or counties, metros) as sets of PUMAs with allocation factors.

PUMS identifies only PUMAs, so a city is approximated by the PUMAs that
overlap it. A :class:`Places` holds, for each place and each PUMA vintage
(2000, 2010, 2020 boundaries), the PUMAs it draws on and the **allocation
factor**: the share of the PUMA's population that lives in the place. A record
of PUMA *p* counts toward place *c* with its weight times that factor.

Crosswalks are read from the files users have: MCDC Geocorr CSV exports (a
second label row, latin-1, ``afact``/``AFACT2`` columns, leading zeros
sometimes stripped) and IPUMS's PUMA-to-MSA crosswalk. Factors and coverage
are recomputed from the population column, because Geocorr's ``AFACT2`` is
wrong in some published files.

Examples
--------
>>> import io
>>> csv = io.StringIO(
...     '"state","puma22","place","stab","PlaceName","PUMA22name","pop20","afact2","afact"\\n'
...     '"State code","PUMA (2022)","Place code","State abbr.","Place name","PUMA22 name","Pop","a2","a"\\n'
...     '"53","23314","63000","WA","Seattle city, WA","Seattle Central",102741,0.1394,1\\n'
...     '"53","23311","63000","WA","Seattle city, WA","Burien",100,0.0001,0.0007\\n'
...     '"53","23311","99999","WA","(not in a place)","Burien",142000,0.1,0.9993\\n')
>>> places = Places.from_crosswalk(csv, source="geocorr.csv")
>>> places.table[["place", "puma", "puma_vintage", "factor"]].round(4).to_string(index=False)
'  place  puma  puma_vintage  factor\\n5363000 23311          2020  0.0007\\n5363000 23314          2020  1.0000'
>>> places.names
{'5363000': 'Seattle city, WA'}
"""

from __future__ import annotations

import difflib
import io
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scorecard._join import match_sorted
from scorecard.errors import MissingColumnsError, PlaceError, UnreadableFileError

__all__ = ["Places", "CoverageWarning"]

# Column names of known crosswalk layouts, kept as data: role -> candidates in order.
_PUMA_COLUMNS = {"puma2k": 2000, "puma12": 2010, "puma22": 2020, "PUMA Code": 2010, "puma": None}
_ROLE_COLUMNS = {
    "state": ("state", "statefip", "State FIPS Code", "STATEFP"),
    "target": ("place", "placefp14", "placefp", "county14", "county", "cbsa20", "cbsa", "MSA Code"),
    "name": ("PlaceName", "placenm14", "placenm", "place_name", "cntyname2", "cntyname", "CountyName", "CBSAName20", "MSA Title"),
    "population": ("pop20", "pop10", "population", "Intersection 2010 Population"),
    "afact": ("afact",),
    "percent_puma": ("Percent PUMA Population",),
}
# Target columns whose codes are unique only within a state (place ids get the state prefix).
_STATE_LOCAL_TARGETS = {"place", "placefp14", "placefp"}
_NOT_IN_TARGET = {"99999", "9999"}
_ALL = "all"


class CoverageWarning(UserWarning):
    """A place is poorly covered by the PUMAs kept for it."""


def _first(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    present = list(columns)
    return next((c for c in candidates if c in present), None)


def _read_crosswalk(path, source: str) -> pd.DataFrame:
    try:
        if isinstance(path, (str, os.PathLike)):
            with open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read()
            raw = raw.encode("latin-1") if isinstance(raw, str) else raw
    except OSError as exc:
        raise UnreadableFileError(f"{source}: cannot read the crosswalk ({exc}). Check the path.") from exc
    if not raw.strip():
        raise UnreadableFileError(f"{source}: the crosswalk file is empty. Download it again from Geocorr.")
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("latin-1")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    # Geocorr's second row holds labels ("State code", "PUMA (2022)", ...): drop it.
    if len(frame) and not any(ch.isdigit() for ch in str(frame.iloc[0, 0])):
        frame = frame.iloc[1:].reset_index(drop=True)
    return frame


@dataclass(frozen=True, eq=False)
class Places:
    """Places as PUMA sets with allocation factors, one set per PUMA vintage.

    ``table`` has columns ``place, place_name, state, puma, puma_vintage,
    factor, population`` (``population``: census population of the
    PUMA-place intersection, NaN if unknown). ``coverage`` has, per place and
    vintage, the share of the place's population in the PUMAs kept.
    """

    table: pd.DataFrame
    coverage: pd.DataFrame

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_crosswalk(
        cls,
        paths,
        *,
        places: Sequence[str] | None = None,
        vintage: int | None = None,
        min_factor: float = 0.0,
        method: str = "allocate",
        warn_below: float = 0.9,
        source: str | None = None,
    ) -> Places:
        """Read one or more crosswalk files (e.g. one per PUMA vintage).

        Parameters
        ----------
        paths : path, file-like, or sequence of them
            Geocorr CSV exports (PUMA to place/county/CBSA) or the IPUMS
            MSA2013-PUMA2010 crosswalk.
        places : sequence of str, optional
            Keep only these places, given by id (``"5363000"``) or name
            (``"Seattle city, WA"``). Default: every place in the file.
        vintage : int, optional
            PUMA vintage when the file's PUMA column does not say (``puma``).
        min_factor : float, default=0.0
            Drop PUMA-place pieces whose factor is below this (slivers).
        method : {"allocate", "core"}
            ``"allocate"``: every PUMA counts with its allocation factor.
            ``"core"``: PUMAs with at least half their population in the place
            count fully; the rest are left out.
        warn_below : float, default=0.9
            Warn (:class:`CoverageWarning`) when less than this share of a
            place's population lies in the PUMAs kept.
        source : str, optional
            Name for messages (defaults to the file name).
        """
        if method not in ("allocate", "core"):
            raise PlaceError(f"The 'method' parameter of Places.from_crosswalk must be 'allocate' or 'core'. Got {method!r} instead.")
        if isinstance(paths, (str, os.PathLike)) or hasattr(paths, "read"):
            paths = [paths]
        pieces = [cls._parse(p, vintage=vintage, source=source or str(getattr(p, "name", p))) for p in paths]
        pieces_table = pd.concat(pieces, ignore_index=True)
        if places is not None:
            pieces_table = cls._select(pieces_table, places)
        if method == "core":
            pieces_table = pieces_table[pieces_table["factor"] >= 0.5].assign(factor=1.0)
        pieces_table = pieces_table[pieces_table["factor"] >= min_factor] if min_factor > 0 else pieces_table
        kept_population = pieces_table.groupby(["place", "puma_vintage"])["population"].sum()
        coverage = cls._coverage(pieces, places, kept_population)
        poor = coverage[coverage["covered_share"] < warn_below]
        if len(poor):
            listed = ", ".join(f"{r.place_name} ({r.puma_vintage}): {r.covered_share:.0%}" for r in poor.itertuples())
            warnings.warn(
                f"PUMAs kept cover less than {warn_below:.0%} of these places' population: {listed}. "
                "Estimates describe the PUMA approximation, not the whole place.",
                CoverageWarning,
                stacklevel=2,
            )
        table = pieces_table.sort_values(["place", "puma_vintage", "state", "puma"]).reset_index(drop=True)
        return cls(table=table, coverage=coverage)

    @staticmethod
    def _parse(path, *, vintage: int | None, source: str) -> pd.DataFrame:
        frame = _read_crosswalk(path, source)
        puma_column = _first(frame.columns, list(_PUMA_COLUMNS))
        roles = {role: _first(frame.columns, names) for role, names in _ROLE_COLUMNS.items()}
        needed = {"state": roles["state"], "target": roles["target"], "puma": puma_column}
        missing = {role for role, column in needed.items() if column is None}
        if roles["population"] is None and roles["afact"] is None and roles["percent_puma"] is None:
            missing.add("population or afact")
        if missing:
            raise MissingColumnsError(
                source,
                missing,
                "Expected a Geocorr PUMA crosswalk (state, puma12/puma22/puma2k, place/county/cbsa, pop10/pop20, afact) "
                "or the IPUMS MSA2013_PUMA2010 crosswalk.",
            )
        puma_vintage = _PUMA_COLUMNS[puma_column] or vintage
        if puma_vintage is None:
            raise PlaceError(f"{source}: column {puma_column!r} does not say which PUMA vintage it uses; pass vintage=2010 (or 2000, 2020).")
        state = frame[roles["state"]].str.strip().str.zfill(2)
        target = frame[roles["target"]].str.strip()
        target_id = (state + target.str.zfill(5)) if roles["target"] in _STATE_LOCAL_TARGETS else target
        population = (
            pd.to_numeric(frame[roles["population"]].str.replace(",", ""), errors="coerce")
            if roles["population"]
            else pd.Series(np.nan, index=frame.index)
        )
        out = pd.DataFrame(
            {
                "place": target_id,
                "place_name": frame[roles["name"]].str.strip() if roles["name"] else target_id,
                "state": state,
                "puma": frame[puma_column].str.strip().str.zfill(5),
                "puma_vintage": np.int16(puma_vintage),
                "population": population.astype(float),
            }
        )
        out = out[~target.isin(_NOT_IN_TARGET) & (target != "")]
        if roles["population"] and out["population"].notna().all():
            # Share of each PUMA's population inside the target, from the population column.
            puma_total = pd.to_numeric(frame[roles["population"]].str.replace(",", ""), errors="coerce").groupby(
                [state, frame[puma_column].str.strip().str.zfill(5)]
            ).transform("sum")
            out["factor"] = (out["population"] / puma_total.loc[out.index]).to_numpy()
        elif roles["afact"]:
            out["factor"] = pd.to_numeric(frame.loc[out.index, roles["afact"]], errors="coerce")
        else:
            out["factor"] = pd.to_numeric(frame.loc[out.index, roles["percent_puma"]], errors="coerce") / 100
        bad = out["factor"].isna() | (out["factor"] < 0) | (out["factor"] > 1 + 1e-6)
        if bad.any():
            row = out.index[bad.to_numpy()][0]
            raise PlaceError(
                f"{source}: allocation factor of row {row + 1} (place {out.loc[row, 'place']}, PUMA {out.loc[row, 'puma']}) "
                f"is {out.loc[row, 'factor']!r}; factors must be between 0 and 1. Is the population column numeric?"
            )
        return out.reset_index(drop=True)

    @staticmethod
    def _select(table: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
        ids, names = set(table["place"]), set(table["place_name"])
        lowered = {n.lower(): n for n in names}
        keep, unknown = set(), []
        for item in wanted:
            if item in ids:
                keep.add(item)
            elif item.lower() in lowered:
                keep |= set(table.loc[table["place_name"] == lowered[item.lower()], "place"])
            else:
                unknown.append(item)
        if unknown:
            hints = {u: difflib.get_close_matches(u, list(names) + list(ids), n=3) for u in unknown}
            raise PlaceError(f"Places not in the crosswalk: {hints} (closest matches shown). Use a place id or its exact name.")
        return table[table["place"].isin(keep)]

    @staticmethod
    def _coverage(pieces, wanted, kept_population: pd.Series) -> pd.DataFrame:
        full = pd.concat(pieces, ignore_index=True)
        totals = full.groupby(["place", "puma_vintage"]).agg(place_name=("place_name", "first"), population=("population", "sum"))
        totals = totals.loc[totals.index.intersection(kept_population.index)] if len(kept_population) else totals.iloc[:0]
        covered = kept_population.reindex(totals.index).fillna(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(totals["population"] > 0, covered / totals["population"], np.nan)
        out = totals.assign(covered_population=covered, covered_share=share).reset_index()
        n = full.groupby(["place", "puma_vintage"])["puma"].nunique().rename("n_pumas")
        return out.merge(n.reset_index(), on=["place", "puma_vintage"], how="left")

    @classmethod
    def everywhere(cls) -> Places:
        """One place, ``"all"``, holding every record with factor 1."""
        table = pd.DataFrame(
            {"place": [_ALL], "place_name": ["All records"], "state": [None], "puma": [None], "puma_vintage": [None],
             "factor": [1.0], "population": [np.nan]}
        )
        return cls(table=table, coverage=pd.DataFrame())

    @classmethod
    def from_pumas(cls, rows: pd.DataFrame) -> Places:
        """Places from a table with ``place, state, puma, puma_vintage`` (+ ``factor``, ``place_name``).

        Examples
        --------
        >>> p = Places.from_pumas(pd.DataFrame({"place": ["sea"], "state": ["53"], "puma": ["11601"],
        ...                                     "puma_vintage": [2010]}))
        >>> float(p.table.loc[0, "factor"])
        1.0
        """
        missing = {"place", "state", "puma", "puma_vintage"} - set(rows.columns)
        if missing:
            raise MissingColumnsError("Places.from_pumas", missing, "Give each place's state, PUMA and PUMA vintage.")
        table = rows.assign(
            factor=rows["factor"] if "factor" in rows else 1.0,
            place_name=rows["place_name"] if "place_name" in rows else rows["place"],
            population=rows["population"] if "population" in rows else np.nan,
            state=rows["state"].astype(str).str.zfill(2),
            puma=rows["puma"].astype(str).str.zfill(5),
            puma_vintage=rows["puma_vintage"].astype("int16"),
        )[["place", "place_name", "state", "puma", "puma_vintage", "factor", "population"]]
        return cls(table=table.reset_index(drop=True), coverage=pd.DataFrame())

    # ------------------------------------------------------------------ use
    @property
    def ids(self) -> list[str]:
        """Place ids in a stable order."""
        return list(dict.fromkeys(self.table["place"]))

    @property
    def names(self) -> dict[str, str]:
        """Place id -> display name."""
        return dict(zip(self.table["place"], self.table["place_name"]))

    @property
    def is_everywhere(self) -> bool:
        return self.ids == [_ALL] and self.table["puma"].isna().all()

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        vintages = sorted(pd.unique(self.table["puma_vintage"].dropna()).tolist())
        return f"<Places {len(self)} places, PUMA vintages {vintages}>"

    def memberships(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(record row, place index, factor) for every record inside some place.

        A record whose PUMA lies in two places appears twice. Vectorized merge
        on (state, puma, puma_vintage).
        """
        if self.is_everywhere:
            rows = np.arange(len(frame))
            return rows, np.zeros(len(frame), dtype=np.int64), np.ones(len(frame))
        index = {p: i for i, p in enumerate(self.ids)}
        table = self.table
        table_keys = _puma_keys(table["state"], table["puma"], table["puma_vintage"])
        record_keys = _puma_keys(frame["state"], frame["puma"], frame["puma_vintage"])
        # Integer join: each record matches the crosswalk rows of its (vintage, state, PUMA) key.
        order = np.argsort(table_keys, kind="stable")
        rows, position = match_sorted(record_keys, table_keys[order])
        matched = order[position]
        place_index = table["place"].map(index).to_numpy(dtype=np.int64)
        return rows, place_index[matched], table["factor"].to_numpy(dtype="float64")[matched]


def _puma_keys(state: pd.Series, puma: pd.Series, vintage: pd.Series) -> np.ndarray:
    """One int64 per (PUMA vintage, state, PUMA) — codes are digits in every Census and IPUMS file."""
    numbers = []
    for codes in (state, puma):
        text = pa.Array.from_pandas(codes.astype("string"))
        try:
            numbers.append(pc.fill_null(pc.cast(text, pa.int64()), -1).to_numpy(zero_copy_only=False))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise PlaceError(f"State and PUMA codes must be digits; found {error}.") from None
    years = vintage.to_numpy(dtype="float64", na_value=-1.0).astype(np.int64)
    return years * 10**8 + numbers[0] * 10**5 + numbers[1]
