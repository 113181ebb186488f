"""Fictional cities, their PUMAs in each PUMA vintage, and Geocorr-style crosswalks.

Cities are synthetic (names that exist nowhere, real 2-digit state FIPS
codes). Each city has *core* PUMAs entirely inside it and one *partial* PUMA
shared with the rest of the state (Geocorr place ``99999``); in the 2010
vintage two Washington cities also share a PUMA. PUMA codes differ between
the 2000, 2010 and 2020 vintages, so a longitudinal city needs one crosswalk
per vintage, exactly as with real data.

Examples
--------
>>> layout = puma_layout(DEFAULT_CITIES, 2010)
>>> sorted(layout.columns)[:4]
['base_share', 'census_pop', 'model', 'puma']
>>> members = place_members(DEFAULT_CITIES, 2010)
>>> float(members.groupby(["state", "puma"])["pop_in"].sum().div(
...     layout.set_index(["state", "puma"])["census_pop"]).max())
1.0
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "City",
    "DEFAULT_CITIES",
    "STATES",
    "PUMA_VINTAGES",
    "puma_vintage",
    "puma_layout",
    "place_members",
    "write_crosswalk",
]

PUMA_VINTAGES = (2000, 2010, 2020)


def puma_vintage(year: int) -> int:
    """PUMA boundaries used by the ACS 1-year file of ``year``.

    Examples
    --------
    >>> puma_vintage(2011), puma_vintage(2012), puma_vintage(2022)
    (2000, 2010, 2020)
    """
    return 2000 if year <= 2011 else (2010 if year <= 2021 else 2020)


@dataclass(frozen=True, slots=True, kw_only=True)
class City:
    """A fictional city and the parameters of its integration model.

    Logistic and log-linear models use years since arrival ``ysa``; each
    ``*_pace`` sets how fast a city's immigrants converge to natives.

    Parameters
    ----------
    name, state, stab, place : str
        Name ("Alderport"), 2-digit state FIPS, state postal code and
        5-digit place code (Geocorr's ``place``/``placefp14``).
    pumas : tuple of int
        Number of core PUMAs in the 2000, 2010 and 2020 vintages.
    partial_share : tuple of float
        Share of the partial PUMA's population inside the city, per vintage.
    foreign_born_share, foreign_born_trend : float
        Share of householders born abroad in 2006 and its yearly change.
    english_base, english_pace : float
        Latent English ability of a new adult arrival and its gain per
        ``log(1 + ysa)`` (ordered logit, cut points -1.5, 0.5, 2, 4.5).
    naturalization_pace : float
        Logit gain per year after the 5-year wait.
    income_level, income_gap, income_pace : float
        City wage level (log dollars), immigrants' initial earnings gap (log)
        and its decay time in years.
    ownership_level, ownership_gap, ownership_pace : float
        Ownership logit of a native householder, immigrants' gap and decay years.
    wave_year, wave_size : float
        An arrival wave (e.g. refugees) centred on ``wave_year``.
    """

    name: str
    state: str
    stab: str
    place: str
    pumas: tuple[int, int, int] = (3, 3, 3)
    partial_share: tuple[float, float, float] = (0.4, 0.5, 0.45)
    foreign_born_share: float = 0.15
    foreign_born_trend: float = 0.002
    english_base: float = 0.3
    english_pace: float = 0.7
    naturalization_pace: float = 0.2
    income_level: float = 0.0
    income_gap: float = 0.6
    income_pace: float = 12.0
    ownership_level: float = 0.6
    ownership_gap: float = 1.2
    ownership_pace: float = 15.0
    wave_year: float = 1995.0
    wave_size: float = 0.0

    def __post_init__(self) -> None:
        if len(self.state) != 2 or not self.state.isdigit():
            raise ValueError(f"The 'state' parameter of City must be a 2-digit FIPS code. Got {self.state!r} instead.")
        if len(self.place) != 5 or not self.place.isdigit():
            raise ValueError(f"The 'place' parameter of City must be a 5-digit place code. Got {self.place!r} instead.")
        if not 0 < self.foreign_born_share < 1:
            raise ValueError(f"The 'foreign_born_share' of City must be in (0, 1). Got {self.foreign_born_share!r} instead.")

    @property
    def place_id(self) -> str:
        """State + place code, the id :class:`scorecard.Places` uses ("5390100")."""
        return self.state + self.place

    @property
    def place_name(self) -> str:
        """Geocorr-style name, "Alderport city, WA"."""
        return f"{self.name} city, {self.stab}"


DEFAULT_CITIES: tuple[City, ...] = (
    City(name="Alderport", state="53", stab="WA", place="90100", pumas=(4, 5, 5), partial_share=(0.35, 0.5, 0.6),
         foreign_born_share=0.22, foreign_born_trend=0.003, english_base=0.6, english_pace=0.8,
         naturalization_pace=0.28, income_level=0.15, income_gap=0.5, income_pace=9.0, ownership_level=0.3,
         ownership_gap=1.0, ownership_pace=12.0, wave_year=2000, wave_size=0.6),
    City(name="Cindermoor", state="53", stab="WA", place="90200", pumas=(3, 3, 4), partial_share=(0.45, 0.3, 0.5),
         foreign_born_share=0.11, english_base=0.2, english_pace=0.7, naturalization_pace=0.2, income_level=0.0,
         income_gap=0.6, income_pace=14.0, ownership_level=0.8, ownership_gap=1.3, ownership_pace=18.0),
    City(name="Bramblewick", state="48", stab="TX", place="90300", pumas=(4, 5, 5), partial_share=(0.5, 0.4, 0.55),
         foreign_born_share=0.30, foreign_born_trend=0.002, english_base=-0.4, english_pace=0.65,
         naturalization_pace=0.12, income_level=-0.1, income_gap=0.7, income_pace=16.0, ownership_level=0.9,
         ownership_gap=0.9, ownership_pace=14.0, wave_year=1990, wave_size=0.8),
    City(name="Brisaleña", state="48", stab="TX", place="90400", pumas=(3, 3, 3), partial_share=(0.3, 0.45, 0.4),
         foreign_born_share=0.17, english_base=0.0, english_pace=0.7, naturalization_pace=0.16, income_level=-0.05,
         income_gap=0.65, income_pace=12.0, ownership_level=0.7, ownership_gap=1.1, ownership_pace=15.0),
    City(name="Dunmere", state="13", stab="GA", place="90500", pumas=(3, 4, 4), partial_share=(0.55, 0.35, 0.5),
         foreign_born_share=0.09, foreign_born_trend=0.003, english_base=0.1, english_pace=0.6,
         naturalization_pace=0.18, income_level=-0.05, income_gap=0.55, income_pace=13.0, ownership_level=0.5,
         ownership_gap=1.4, ownership_pace=20.0, wave_year=2005, wave_size=0.5),
    City(name="Eastholt", state="27", stab="MN", place="90600", pumas=(3, 3, 3), partial_share=(0.4, 0.5, 0.45),
         foreign_born_share=0.13, english_base=-0.6, english_pace=0.9, naturalization_pace=0.32, income_level=0.05,
         income_gap=0.9, income_pace=8.0, ownership_level=0.6, ownership_gap=1.6, ownership_pace=10.0,
         wave_year=1993, wave_size=1.5),
)

# Model of PUMAs outside every city (rest of the state).
BALANCE = City(name="Balance", state="00", stab="ZZ", place="99999", foreign_born_share=0.07,
               foreign_born_trend=0.001, ownership_level=1.1)

# fips: (abbreviation, division, 2020 population in millions, foreign-born share)
STATES: dict[str, tuple[str, int, float, float]] = {
    "01": ("AL", 6, 5.02, 0.04), "02": ("AK", 9, 0.73, 0.08), "04": ("AZ", 8, 7.15, 0.13),
    "05": ("AR", 7, 3.01, 0.05), "06": ("CA", 9, 39.5, 0.27), "08": ("CO", 8, 5.77, 0.10),
    "09": ("CT", 1, 3.61, 0.15), "10": ("DE", 5, 0.99, 0.10), "11": ("DC", 5, 0.69, 0.14),
    "12": ("FL", 5, 21.5, 0.21), "13": ("GA", 5, 10.7, 0.10), "15": ("HI", 9, 1.46, 0.18),
    "16": ("ID", 8, 1.84, 0.06), "17": ("IL", 3, 12.8, 0.14), "18": ("IN", 3, 6.79, 0.05),
    "19": ("IA", 4, 3.19, 0.05), "20": ("KS", 4, 2.94, 0.07), "21": ("KY", 6, 4.51, 0.04),
    "22": ("LA", 7, 4.66, 0.04), "23": ("ME", 1, 1.36, 0.04), "24": ("MD", 5, 6.18, 0.15),
    "25": ("MA", 1, 7.03, 0.17), "26": ("MI", 3, 10.1, 0.07), "27": ("MN", 4, 5.71, 0.08),
    "28": ("MS", 6, 2.96, 0.02), "29": ("MO", 4, 6.15, 0.04), "30": ("MT", 8, 1.08, 0.02),
    "31": ("NE", 4, 1.96, 0.07), "32": ("NV", 8, 3.10, 0.19), "33": ("NH", 1, 1.38, 0.06),
    "34": ("NJ", 2, 9.29, 0.23), "35": ("NM", 8, 2.12, 0.09), "36": ("NY", 2, 20.2, 0.23),
    "37": ("NC", 5, 10.4, 0.08), "38": ("ND", 4, 0.78, 0.04), "39": ("OH", 3, 11.8, 0.05),
    "40": ("OK", 7, 3.96, 0.06), "41": ("OR", 9, 4.24, 0.10), "42": ("PA", 2, 13.0, 0.07),
    "44": ("RI", 1, 1.10, 0.14), "45": ("SC", 5, 5.12, 0.05), "46": ("SD", 4, 0.89, 0.03),
    "47": ("TN", 6, 6.91, 0.05), "48": ("TX", 7, 29.1, 0.17), "49": ("UT", 8, 3.27, 0.09),
    "50": ("VT", 1, 0.64, 0.04), "51": ("VA", 5, 8.63, 0.13), "53": ("WA", 9, 7.71, 0.15),
    "54": ("WV", 5, 1.79, 0.02), "55": ("WI", 3, 5.89, 0.05), "56": ("WY", 8, 0.58, 0.03),
}

_BALANCE_PUMAS = 2
_VINTAGE_BASE = {2000: 100, 2010: 10101, 2020: 20101}
_VINTAGE_STEP = {2000: 100, 2010: 1, 2020: 1}
# In the 2010 vintage these two cities share one PUMA: (city, share) pairs.
_SHARED_2010 = {"53": (("Alderport", 0.4), ("Cindermoor", 0.45))}


def region(division: int) -> int:
    """Census region of a division (1 Northeast, 2 Midwest, 3 South, 4 West)."""
    return (1, 1, 2, 2, 3, 3, 3, 4, 4)[division - 1]


def _layout_rng(cities: tuple[City, ...], vintage: int) -> np.random.Generator:
    digest = hashlib.sha256(("|".join(c.name for c in cities) + str(vintage)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _code(vintage: int, n: int) -> str:
    return f"{_VINTAGE_BASE[vintage] + _VINTAGE_STEP[vintage] * n:05d}"


def _pieces(cities: tuple[City, ...], vintage: int) -> list[tuple[str, str, int, list[tuple[int, float]]]]:
    """(state, puma, model city index or -1, [(city index, share inside)]) per PUMA."""
    slot = PUMA_VINTAGES.index(vintage)
    rows: list[tuple[str, str, int, list[tuple[int, float]]]] = []
    for state in sorted({c.state for c in cities}):
        n = 0
        for index, city in enumerate(cities):
            if city.state != state:
                continue
            for _ in range(city.pumas[slot]):
                rows.append((state, _code(vintage, n), index, [(index, 1.0)]))
                n += 1
            rows.append((state, _code(vintage, n), index, [(index, city.partial_share[slot])]))
            n += 1
        shared = _SHARED_2010.get(state) if vintage == 2010 else None
        names = [c.name for c in cities]
        if shared and all(name in names for name, _ in shared):
            members = [(names.index(name), share) for name, share in shared]
            rows.append((state, _code(vintage, n), members[0][0], members))
            n += 1
        for _ in range(_BALANCE_PUMAS):
            rows.append((state, _code(vintage, n), -1, []))
            n += 1
    return rows


def puma_layout(cities: tuple[City, ...], vintage: int) -> pd.DataFrame:
    """One row per PUMA of the states the cities are in, for one vintage.

    Columns: ``state``, ``puma``, ``vintage``, ``model`` (index of the city
    whose model generates the PUMA, -1 = rest of the state), ``census_pop``
    (the PUMA's census population written to the crosswalk) and
    ``base_share`` (relative size of its finite population).
    """
    rng = _layout_rng(cities, vintage)
    pieces = _pieces(cities, vintage)
    census = rng.integers(100_000, 180_000, len(pieces))
    return pd.DataFrame(
        {
            "state": [p[0] for p in pieces],
            "puma": [p[1] for p in pieces],
            "vintage": vintage,
            "model": np.array([p[2] for p in pieces], dtype=np.int64),
            "census_pop": census,
            "base_share": census / census.mean(),
        }
    )


def place_members(cities: tuple[City, ...], vintage: int) -> pd.DataFrame:
    """PUMA × place intersections with integer populations.

    Columns: ``state``, ``puma``, ``city`` (index, -1 = not in any city),
    ``place_id``, ``pop_in`` (people of the PUMA inside), ``census_pop`` and
    ``factor`` = ``pop_in / census_pop``, the allocation factor used for the
    generating truth and recomputed by :class:`scorecard.Places`.
    """
    layout = puma_layout(cities, vintage)
    rows = []
    for (state, puma, _model, members), census in zip(_pieces(cities, vintage), layout["census_pop"]):
        inside = 0
        for index, share in members:
            pop_in = int(census) if share >= 1.0 else int(round(census * share))
            rows.append((state, puma, index, cities[index].place_id, pop_in, int(census)))
            inside += pop_in
        if inside < census:
            rows.append((state, puma, -1, state + "99999", int(census) - inside, int(census)))
    out = pd.DataFrame(rows, columns=["state", "puma", "city", "place_id", "pop_in", "census_pop"])
    out["factor"] = out["pop_in"] / out["census_pop"]
    return out


# Geocorr layouts: column names, label row, population column.
_GEOCORR = {
    2000: (
        ["state", "puma2k", "placefp14", "stab", "placenm14", "PUMA2kName", "pop10", "afact", "AFACT2"],
        ["State code", "PUMA (2000)", "Place (2014)", "State abbreviation", "Place name 2014", "PUMA 2K Name",
         "Population (2010)", "puma2k to placefp14 allocation factor", "placefp14 to puma2k allocation factor"],
    ),
    2010: (
        ["state", "puma12", "placefp14", "stab", "placenm14", "PUMAname", "pop10", "afact", "AFACT2"],
        ["State code", "PUMA (2012)", "Place (2014)", "State abbreviation", "Place name 2014", "PUMA12 name",
         "Population (2010)", "puma12 to placefp14 allocation factor", "placefp14 to puma12 allocation factor"],
    ),
    2020: (
        ["state", "puma22", "place", "stab", "PlaceName", "PUMA22name", "pop20", "afact2", "afact"],
        ["State code", "PUMA (2022)", "Place code", "State abbr.", "Place name", "PUMA22 name",
         "Total population (2020 Census)", "place-to-puma22 allocation factor", "puma22-to-place allocation factor"],
    ),
}

#: File name of the crosswalk of each vintage.
CROSSWALK_NAMES = {
    2000: "geocorr2014_puma2000_place.csv",
    2010: "geocorr2018_puma_place_2010.csv",
    2020: "geocorr2022_puma_place_2020.csv",
}


def _factor(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def write_crosswalk(cities: tuple[City, ...], vintage: int, path: str | Path) -> Path:
    """Write the PUMA → place crosswalk of ``vintage`` in MCDC Geocorr CSV form.

    The file mimics a Geocorr export byte for byte in layout: quoted header,
    Geocorr's second label row, codes as quoted zero-padded strings, numbers
    unquoted, allocation factors with 4 decimals and a trailing space at the
    end of each data line, Latin-1 encoding, place ``99999`` for the parts of
    PUMAs outside every place.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_crosswalk(DEFAULT_CITIES, 2020, pathlib.Path(tempfile.mkdtemp()) / "x.csv")
    >>> path.read_bytes().decode("latin-1").splitlines()[0]
    '"state","puma22","place","stab","PlaceName","PUMA22name","pop20","afact2","afact"'
    """
    path = Path(path)
    columns, labels = _GEOCORR[vintage]
    members = place_members(cities, vintage)
    place_total = members.groupby("place_id")["pop_in"].transform("sum")
    names = {c.place_id: c.place_name for c in cities}
    lines = [",".join(f'"{c}"' for c in columns), ",".join(f'"{c}"' for c in labels)]
    members = members.sort_values(["state", "puma", "place_id"], kind="stable")
    for row, total in zip(members.itertuples(index=False), place_total.loc[members.index]):
        stab = STATES[row.state][0]
        place = row.place_id[2:]
        name = names.get(row.place_id, "[not in a place]" if vintage == 2020 else " ")
        puma_name = f"Synthetic PUMA {row.puma}, {stab}"
        afact, afact2 = _factor(row.factor), _factor(row.pop_in / total)
        ordered = (afact2, afact) if vintage == 2020 else (afact, afact2)
        lines.append(
            f'"{row.state}","{row.puma}","{place}","{stab}","{name}","{puma_name}",{row.pop_in},'
            f"{ordered[0]},{ordered[1]} "
        )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    tmp.replace(path)
    return path
