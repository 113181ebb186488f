"""Places: cities (or counties, metros) as sets of PUMAs with allocation factors.

PUMS identifies only PUMAs, so a city is approximated by the PUMAs that
overlap it. A :class:`Places` holds, for each place and each PUMA vintage
(2000, 2010, 2020 boundaries), the PUMAs it draws on and the **allocation
factor**: the share of the PUMA's population that lives in the place. A record
of PUMA *p* counts toward place *c* with its weight times that factor.

Crosswalks are read from the files users have: MCDC Geocorr CSV exports (a
second label row, latin-1, ``afact``/``AFACT2`` columns, leading zeros
sometimes stripped), Urban Institute's stacked 2010/2020 copies and IPUMS's
PUMA-to-MSA crosswalk. Factors and coverage are recomputed from the population
column, because Geocorr's ``AFACT2`` is wrong in some published files; where a
file lists only part of a PUMA (a subset of places), Geocorr's ``afact`` is the
factor. Either way ``afact`` and the population column must agree within
``afact``'s rounding, or the rows are named in a :class:`PlaceError`.

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

__all__ = ["Places", "CoverageWarning", "UnlistedPumaWarning"]

# Column names of known crosswalk layouts, kept as data: role -> candidates in order.
_PUMA_COLUMNS = {"puma2k": 2000, "puma12": 2010, "puma22": 2020, "PUMA Code": 2010, "puma": None}
_ROLE_COLUMNS = {
    "state": ("state", "statefip", "State FIPS Code", "STATEFP"),
    "target": ("place", "placefp14", "placefp", "county14", "county", "cbsa20", "cbsa", "MSA Code"),
    "name": ("PlaceName", "placenm14", "placenm", "place_name", "cntyname2", "cntyname", "CountyName", "CBSAName20", "MSA Title"),
    "population": ("pop20", "pop10", "population", "Intersection 2010 Population"),
    "afact": ("afact",),
    "percent_puma": ("Percent PUMA Population",),
    "vintage": ("crosswalk_period",),
}
# Columns that say each row's PUMA vintage, and what their values mean (Urban Institute's processed
# Geocorr crosswalks stack 2010 PUMAs, "pre-2022", and 2020 PUMAs, "2022", in one file).
_VINTAGE_VALUES = {"crosswalk_period": {"pre-2022": 2010, "2022": 2020}}
# Geocorr rounds afact to 4 decimals: a factor recomputed from the population may differ by half a unit.
_AFACT_ROUNDING = 0.5e-4
# Target columns whose codes are unique only within a state (place ids get the state prefix).
_STATE_LOCAL_TARGETS = {"place", "placefp14", "placefp"}
_NOT_IN_TARGET = {"99999", "9999"}
_ALL = "all"


class CoverageWarning(UserWarning):
    """A place is poorly covered by the PUMAs kept for it."""


class UnlistedPumaWarning(UserWarning):
    """Records lie in PUMAs (of a place's state) that the crosswalk does not list, so they are in no place."""


def _place_list(places) -> list[str]:
    """``places=`` as a list of str; one str or number alone, or other types, are refused."""
    if isinstance(places, (str, bytes, int, np.integer)):
        raise PlaceError(
            f"The 'places' parameter of Places.from_crosswalk must be a list of place ids or names. Got "
            f"{places!r} instead; write places=[{str(places)!r}]."
        )
    places = list(places)
    wrong = [p for p in places if not isinstance(p, str)]
    if wrong:
        raise PlaceError(
            f"The 'places' parameter of Places.from_crosswalk must hold place ids or names as text "
            f"(ids keep their leading zeros, e.g. '0103076'). Got {wrong[:5]!r}; write them in quotes."
        )
    return places


def _first(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    present = list(columns)
    return next((c for c in candidates if c in present), None)


def _read_crosswalk(path, source: str) -> pd.DataFrame:
    try:
        if isinstance(path, (str, os.PathLike)):
            with open(path, "rb") as handle:
                raw = handle.read()
        elif hasattr(path, "buffer"):
            raw = path.buffer.read()  # a file opened as text: read its bytes, whatever encoding it was opened with
        else:
            raw = path.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(
            f"{source}: cannot read the crosswalk ({exc}). Check the path, or pass the file's path (or open it with 'rb')."
        ) from exc
    if not raw.strip():
        raise UnreadableFileError(f"{source}: the crosswalk file is empty. Download it again from Geocorr.")
    if isinstance(raw, str):
        text = raw
    elif raw.startswith(b"\xef\xbb\xbf"):
        # Geocorr files mix Latin-1 and UTF-8 names; codes and numbers are ASCII either way.
        text = raw[3:].decode("utf-8", errors="replace")
    else:
        text = raw.decode("latin-1")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, 2 + len(frame))  # line numbers in the file (line 1 is the header)
    # Geocorr's second row holds labels ("State code", "PUMA (2022)", ...): drop it.
    if len(frame) and not any(ch.isdigit() for ch in str(frame.iloc[0, 0])):
        frame = frame.iloc[1:]
    return frame


def _file_row(line: int) -> str:
    return f"line {line}"


def _lines(index: Iterable[int], limit: int = 5) -> str:
    index = list(index)
    shown = ", ".join(str(i) for i in index[:limit])
    return f"lines {shown}" + (f" and {len(index) - limit} more" if len(index) > limit else "")


def _numeric(column: pd.Series, source: str, name: str) -> pd.Series:
    """A numeric crosswalk column (thousands separators allowed); text values are an error naming lines."""
    text = column.str.strip().str.replace(",", "")
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        raise PlaceError(
            f"{source}: column {name!r} holds non-numbers ({', '.join(map(repr, pd.unique(column[bad])[:5]))}; "
            f"{_lines(column.index[bad.to_numpy()])}). Export the crosswalk again from Geocorr."
        )
    return values


def _row_vintages(frame: pd.DataFrame, puma_column: str, vintage: int | None, source: str) -> np.ndarray:
    """PUMA vintage of every row (-1 = a row of another vintage than ``vintage``, left out).

    The vintage comes from the PUMA column's name (``puma12``), else from a column that says it per row
    (``crosswalk_period``), else from ``vintage=``; rows of another vintage are never relabelled.
    """
    named = _PUMA_COLUMNS[puma_column]
    if vintage is not None and vintage not in (2000, 2010, 2020):
        raise PlaceError(f"The 'vintage' parameter of Places.from_crosswalk must be 2000, 2010 or 2020. Got {vintage!r} instead.")
    if named is not None and vintage is not None and vintage != named:
        raise PlaceError(
            f"{source}: column {puma_column!r} holds {named}-vintage PUMAs but vintage={vintage} was asked for. "
            f"Use a crosswalk of {vintage} PUMAs (or leave vintage out)."
        )
    column = _first(frame.columns, list(_VINTAGE_VALUES))
    if column is not None:
        codes = _VINTAGE_VALUES[column]
        values = frame[column].str.strip()
        per_row = values.map(codes)
        unknown = per_row.isna()
        if unknown.any():
            raise PlaceError(
                f"{source}: column {column!r} has values {sorted(pd.unique(values[unknown]))[:5]} "
                f"({_lines(frame.index[unknown.to_numpy()])}) that do not say a PUMA vintage; expected one of "
                f"{sorted(codes)}. Remove those rows or fix the column."
            )
        per_row = per_row.to_numpy(dtype=np.int64)
        if named is not None and (per_row != named).any():
            lines = frame.index[per_row != named]
            raise PlaceError(
                f"{source}: column {puma_column!r} says {named}-vintage PUMAs but column {column!r} says otherwise "
                f"on {_lines(lines)}. The file mixes vintages; keep one vintage per PUMA column."
            )
        if vintage is not None:
            if not (per_row == vintage).any():
                raise PlaceError(
                    f"{source}: no row of column {column!r} is of PUMA vintage {vintage} (found "
                    f"{sorted(set(per_row.tolist()))}). Pass one of those vintages, or leave vintage out."
                )
            per_row = np.where(per_row == vintage, per_row, -1)
        return per_row
    if named is None and vintage is None:
        raise PlaceError(
            f"{source}: column {puma_column!r} does not say which PUMA vintage it uses and no column says it per row; "
            "pass vintage=2010 (or 2000, 2020) if every row is of that vintage."
        )
    return np.full(len(frame), named or vintage, dtype=np.int64)


def _refuse_repeated_pieces(state: pd.Series, puma: pd.Series, target: pd.Series, source: str) -> None:
    """A PUMA-place pair listed twice in a file without vintages means two vintages were stacked."""
    repeated = pd.DataFrame({"s": state, "p": puma, "t": target}).duplicated(keep=False).to_numpy()
    if repeated.any():
        raise PlaceError(
            f"{source}: {int(repeated.sum())} rows repeat a (state, PUMA, place) pair ({_lines(state.index[repeated])}), "
            "so the file stacks more than one PUMA vintage and its column 'puma' cannot tell them apart. "
            "Split the file by vintage (or add a column saying each row's vintage) and read each with its vintage=."
        )


def _refuse_repeated_files(table: pd.DataFrame) -> None:
    """Two files giving the same PUMA-place piece of one vintage would count its records twice."""
    key = ["place", "state", "puma", "puma_vintage"]
    repeated = table.duplicated(key, keep=False).to_numpy()
    if repeated.any():
        files = sorted(set(table.loc[repeated, "_file"]))
        first = table[repeated].iloc[0]
        raise PlaceError(
            f"{' and '.join(files) if len(files) > 1 else files[0] + ' (passed twice)'} both list PUMA "
            f"{first['state']}-{first['puma']} (vintage {first['puma_vintage']}) in place {first['place']} "
            f"({int(repeated.sum())} rows in all), so its records would count twice. Pass one crosswalk per PUMA vintage."
        )


def _factors(out: pd.DataFrame, afact: pd.Series | None, frame: pd.DataFrame, roles: dict, source: str) -> pd.Series:
    """Allocation factor of every row, checked against every column that tells it.

    With the population of each PUMA-place piece, a PUMA's factor is its piece over the PUMA's total, when the
    file lists the whole PUMA (Geocorr's ``afact`` of the PUMA sums to 1, or there is no ``afact``); it must then
    agree with ``afact`` within rounding. When the file lists only part of a PUMA (a subset of places),
    ``afact`` is the factor and the populations must agree with it: ``population / afact`` estimates the PUMA's
    total, and every row of the PUMA must give the same total within ``afact``'s rounding.
    """
    groups = [out["puma_vintage"], out["state"], out["puma"]]
    population = out["population"]
    if roles["population"] is None or population.isna().any():
        if afact is not None:
            return afact
        if roles["percent_puma"] is not None:
            return _numeric(frame[roles["percent_puma"]], source, roles["percent_puma"]) / 100
        raise PlaceError(f"{source}: column {roles['population']!r} has blanks and the file has no 'afact'; fill it in.")
    from_population = population / population.groupby(groups).transform("sum")
    if afact is None:
        return from_population
    afact_sum = afact.groupby(groups).transform("sum")
    pieces = afact.groupby(groups).transform("size")
    whole = (afact_sum - 1).abs() <= _AFACT_ROUNDING * pieces + 1e-9
    # Each row implies the PUMA's total population, population / afact, within afact's rounding; the ranges
    # of one PUMA's rows must overlap, and the pieces listed cannot hold more people than that total.
    with np.errstate(divide="ignore", invalid="ignore"):
        low = population / (afact + _AFACT_ROUNDING)
        high = pd.Series(
            np.where(afact > _AFACT_ROUNDING, population / (afact - _AFACT_ROUNDING), np.inf), index=out.index
        )
    lowest_high = high.groupby(groups).transform("min")
    highest_low = low.groupby(groups).transform("max")
    listed_total = population.groupby(groups).transform("sum")
    clash = (highest_low > lowest_high * (1 + 1e-9)) | (listed_total > lowest_high * (1 + 1e-9))
    if clash.any():
        lines = out.index[clash.to_numpy()]
        first = lines[0]
        key = tuple(out.loc[first, ["puma_vintage", "state", "puma"]])
        same = out.index[(out[["puma_vintage", "state", "puma"]].apply(tuple, axis=1) == key).to_numpy()]
        implied = "; ".join(
            f"line {line}: {population.loc[line]:,.0f} / {afact.loc[line]} = {population.loc[line] / afact.loc[line]:,.0f}"
            if afact.loc[line] > 0 else f"line {line}: {population.loc[line]:,.0f} people, afact 0"
            for line in same[:5]
        )
        raise PlaceError(
            f"{source}: column {roles['afact']!r} disagrees with column {roles['population']!r} beyond rounding on "
            f"{_lines(lines)}. PUMA {key[1]}-{key[2]} (vintage {key[0]}) listing {listed_total.loc[first]:,.0f} people: "
            f"population / afact gives its total as {implied}. One of the columns was edited, or rows of two PUMA "
            "vintages share the PUMA code; download the crosswalk again."
        )
    return from_population.where(whole, afact)


@dataclass(frozen=True, eq=False)
class Places:
    """Places as PUMA sets with allocation factors, one set per PUMA vintage.

    ``table`` has columns ``place, place_name, state, puma, puma_vintage,
    factor, population`` (``population``: census population of the
    PUMA-place intersection, NaN if unknown). ``coverage`` has, per place and
    vintage, the share of the place's population in the PUMAs kept.
    ``listed_pumas`` (``state, puma, puma_vintage``) holds every PUMA the
    crosswalk lists, in a place or not; records of the places' states in a
    PUMA it does not list are counted by :meth:`unlisted_pumas` and warned
    about (:class:`UnlistedPumaWarning`) by :meth:`memberships`.
    """

    table: pd.DataFrame
    coverage: pd.DataFrame
    listed_pumas: pd.DataFrame | None = None

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
            PUMA vintage to read. The vintage of each row comes from the file:
            the PUMA column's name (``puma12``, ``puma22``) or a column saying it
            per row (Urban Institute's ``crosswalk_period``: ``pre-2022`` = 2010,
            ``2022`` = 2020), and only rows of ``vintage`` are kept; rows are
            never relabelled. Needed only when the file cannot tell (a plain
            ``puma`` column): then every row is taken to be of this vintage,
            and a (state, PUMA, place) repeated in the file is refused.
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
        if places is not None:
            places = _place_list(places)
        parsed = [cls._parse(p, vintage=vintage, source=source or str(getattr(p, "name", p))) for p in paths]
        pieces = [piece for piece, _ in parsed]
        listed = pd.concat([pumas for _, pumas in parsed], ignore_index=True).drop_duplicates()
        sources = [source or str(getattr(p, "name", p)) for p in paths]
        pieces_table = pd.concat([piece.assign(_file=name) for piece, name in zip(pieces, sources)], ignore_index=True)
        _refuse_repeated_files(pieces_table)
        pieces_table = pieces_table.drop(columns="_file")
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
        return cls(table=table, coverage=coverage, listed_pumas=listed.reset_index(drop=True))

    @staticmethod
    def _parse(path, *, vintage: int | None, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = _read_crosswalk(path, source)
        puma_column = _first(frame.columns, list(_PUMA_COLUMNS))
        roles = {role: _first(frame.columns, names) for role, names in _ROLE_COLUMNS.items()}
        needed = {"state": roles["state"], "target": roles["target"], "puma": puma_column}
        missing = {role for role, column in needed.items() if column is None}
        if roles["population"] is None and roles["afact"] is None and roles["percent_puma"] is None:
            missing.add("population or afact")
        if missing:
            hint = (
                "Expected a Geocorr PUMA crosswalk (state, puma12/puma22/puma2k, place/county/cbsa, pop10/pop20, afact) "
                "or the IPUMS MSA2013_PUMA2010 crosswalk."
            )
            if len(frame.columns) == 1 and any(sep in frame.columns[0] for sep in ";\t|"):
                hint += f" The header {frame.columns[0]!r} is one column: save the file comma-separated."
            raise MissingColumnsError(source, missing, hint)
        row_vintage = _row_vintages(frame, puma_column, vintage, source)
        frame = frame[row_vintage >= 0]
        row_vintage = row_vintage[row_vintage >= 0]
        state = frame[roles["state"]].str.strip().str.zfill(2)
        puma = frame[puma_column].str.strip().str.zfill(5)
        target = frame[roles["target"]].str.strip()
        target_id = (state + target.str.zfill(5)) if roles["target"] in _STATE_LOCAL_TARGETS else target
        if roles["vintage"] is None and _PUMA_COLUMNS[puma_column] is None:
            _refuse_repeated_pieces(state, puma, target, source)
        population = (
            _numeric(frame[roles["population"]], source, roles["population"])
            if roles["population"]
            else pd.Series(np.nan, index=frame.index)
        )
        out = pd.DataFrame(
            {
                "place": target_id,
                "place_name": frame[roles["name"]].str.strip() if roles["name"] else target_id,
                "state": state,
                "puma": puma,
                "puma_vintage": row_vintage.astype(np.int16),
                "population": population.astype(float),
            }
        )
        afact = _numeric(frame[roles["afact"]], source, roles["afact"]) if roles["afact"] else None
        out["factor"] = _factors(out, afact, frame, roles, source)
        inside = (~target.isin(_NOT_IN_TARGET) & (target != "")).to_numpy()
        listed = out[["state", "puma", "puma_vintage"]].drop_duplicates()
        out = out[inside]
        bad = out["factor"].isna() | (out["factor"] < 0) | (out["factor"] > 1 + 1e-6)
        if bad.any():
            row = out.index[bad.to_numpy()][0]
            raise PlaceError(
                f"{source}: allocation factor of row {_file_row(row)} (place {out.loc[row, 'place']}, PUMA "
                f"{out.loc[row, 'puma']}) is {out.loc[row, 'factor']!r}; factors must be between 0 and 1. "
                "Is the population column numeric?"
            )
        return out.reset_index(drop=True), listed.reset_index(drop=True)

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
        unlisted = self.unlisted_pumas(frame)
        if len(unlisted):
            shown = ", ".join(
                f"{r.state}-{r.puma} ({r.puma_vintage}): {r.records}" for r in unlisted.head(10).itertuples()
            )
            more = f" and {len(unlisted) - 10} more PUMAs" if len(unlisted) > 10 else ""
            warnings.warn(
                f"{int(unlisted['records'].sum())} records lie in {len(unlisted)} PUMAs of the places' states that "
                f"the crosswalk does not list, so they count toward no place (records by PUMA: {shown}{more}). "
                "Check that the crosswalk's PUMA vintage matches the data's and that the file is complete; "
                "Places.unlisted_pumas(frame) gives the full count.",
                UnlistedPumaWarning,
                stacklevel=2,
            )
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

    def unlisted_pumas(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Records in PUMAs of the places' states that the crosswalk does not list, counted by PUMA.

        Such records count toward no place, though one of the places might hold them (a PUMA missing
        from the file, or data of another PUMA vintage than the crosswalk's).

        Returns
        -------
        pandas.DataFrame
            ``state, puma, puma_vintage, records``, most records first; empty when every record's
            PUMA is listed (or the places were not read from a crosswalk).

        Examples
        --------
        >>> p = Places(table=pd.DataFrame({"place": ["sea"], "place_name": ["Seattle"], "state": ["53"],
        ...                                "puma": ["11601"], "puma_vintage": [2010], "factor": [1.0],
        ...                                "population": [np.nan]}), coverage=pd.DataFrame(),
        ...            listed_pumas=pd.DataFrame({"state": ["53", "53"], "puma": ["11601", "11602"],
        ...                                       "puma_vintage": [2010, 2010]}))
        >>> records = pd.DataFrame({"state": ["53", "53", "53", "06"], "puma": ["11601", "11602", "11700", "00101"],
        ...                         "puma_vintage": [2010, 2010, 2010, 2010]})
        >>> p.unlisted_pumas(records).to_dict("records")
        [{'state': '53', 'puma': '11700', 'puma_vintage': 2010, 'records': 1}]
        """
        columns = ["state", "puma", "puma_vintage", "records"]
        if self.listed_pumas is None or self.is_everywhere or not len(frame):
            return pd.DataFrame(columns=columns)
        listed = self.listed_pumas
        listed_keys = np.unique(_puma_keys(listed["state"], listed["puma"], listed["puma_vintage"]))
        record_keys = _puma_keys(frame["state"], frame["puma"], frame["puma_vintage"])
        states = pd.unique(self.table["state"].dropna().astype(str).str.zfill(2))
        in_states = frame["state"].astype("string").str.zfill(2).isin(states).to_numpy(dtype=bool, na_value=False)
        unlisted = in_states & ~np.isin(record_keys, listed_keys)
        if not unlisted.any():
            return pd.DataFrame(columns=columns)
        counts = (
            frame.loc[unlisted, ["state", "puma", "puma_vintage"]]
            .astype({"state": str, "puma": str})
            .value_counts(sort=True)
            .rename("records")
            .reset_index()
        )
        counts["puma_vintage"] = counts["puma_vintage"].astype(int)
        return counts[columns]


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
