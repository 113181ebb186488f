"""Published ACS tables → the estimates Dataset.

:func:`read_acs_tables` reads Census Data API table responses (see
:mod:`scorecard.tables.api_files`), finds the lines each indicator needs by
their LEGEND labels (:mod:`scorecard.tables.catalog`), and returns the same
Dataset the microdata route returns: dims ``(indicator, place, year, cohort)``,
``estimate, se, moe90, cv, n_unweighted, universe_weighted, reliable, reason``
(and ``source``: the variable or derivation each figure came from).

* Published percentages are divided by 100 (MOE too); SE = MOE / 1.645 (1.65
  for 2005 and earlier, as the Census Bureau published them); a controlled MOE
  (``-555555555``) is SE 0.
* Derived figures (a share from counts, a sum of lines) get their MOE from the
  ACS handbook approximations in :mod:`scorecard.tables.moe`.
* A figure two tables both give is taken from the published one first, then
  from the table of lower ``priority`` in ``catalog/tables.csv`` (``prefer=``
  changes the order); ``source`` says which.
* A value that is not a number (suppressed, too few cases, ...) is NaN with its
  ``reason``; an indicator/cohort no table read supplies is NaN with a reason
  saying so.

Examples
--------
>>> import pandas as pd
>>> data = pd.DataFrame({"NAME": ["Seattle city, Washington"], "state": ["53"], "place": ["63000"],
...     "B17025_001E": ["700000"], "B17025_001M": ["2000"], "B17025_002E": ["70000"], "B17025_002M": ["3000"],
...     "B17025_006E": ["20000"], "B17025_006M": ["1500"], "B17025_013E": ["100000"], "B17025_013M": ["2500"],
...     "B17025_003E": ["50000"], "B17025_003M": ["2600"], "B17025_010E": ["530000"], "B17025_010M": ["3500"]})
>>> legend = {"B17025_001E": "Estimate!!Total", "B17025_002E": "Estimate!!Total!!Income in the past 12 months below poverty level",
...     "B17025_003E": "Estimate!!Total!!Income in the past 12 months below poverty level!!Native",
...     "B17025_006E": "Estimate!!Total!!Income in the past 12 months below poverty level!!Foreign born",
...     "B17025_010E": "Estimate!!Total!!Income in the past 12 months at or above poverty level!!Native",
...     "B17025_013E": "Estimate!!Total!!Income in the past 12 months at or above poverty level!!Foreign born"}
>>> ds = read_acs_tables([read_acs_table(data, legend=legend, year=2016, survey="acs1")])
>>> ds["estimate"].sel(indicator="in_poverty", place="5363000", year=2016).round(4).values.tolist()
[0.1, 0.0862, 0.1667]
>>> ds["cohort"].values.tolist(), str(ds["place_name"].values[0])
(['all', 'native', 'foreign_born'], 'Seattle city, Washington')
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.errors import MismatchedSourcesError, TableError
from scorecard.estimates import DIMS, IndicatorMeta, Reliability, build_estimates
from scorecard.tables.api_files import AcsTable, _check_same_survey, normalize_label, read_acs_table
from scorecard.tables.catalog import Catalog, cohort_coords, cohort_order, expand_cohorts, load_catalog
from scorecard.tables.download_files import download_file_parts, read_download_table
from scorecard.tables.errors import MissingLineError
from scorecard.tables.moe import moe_proportion, moe_to_se

__all__ = ["read_acs_tables", "table_figures"]

_NOT_SUPPLIED = "no table read supplies this indicator for this place, year and cohort"
_GROUP = ["indicator", "cohort", "column", "role", "term"]


def read_acs_tables(
    files_or_frames,
    *,
    indicators: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
    prefer: Sequence[str] | None = None,
    reliability: Reliability | None = None,
    catalog: Catalog | None = None,
    year: int | None = None,
    survey: str | None = None,
) -> xr.Dataset:
    """Read published ACS table responses into the estimates Dataset.

    Parameters
    ----------
    files_or_frames : path, AcsTable, or an iterable of them
        Census Data API responses (CSV, CSV.gz or JSON) with their legends next
        to them (``*_LEGEND.csv[.gz]``, or ``*.labels.json`` as
        :func:`fetch_acs_table` saves them), folders holding such files
        (searched recursively for ``*_DATA.csv*`` and ``*.json`` data files), or
        :class:`AcsTable` objects from :func:`read_acs_table` (the way to pass
        frames).
    indicators : sequence of str, optional
        Indicator keys to build (default: every one the tables support). Only
        their lines are required to be in the legends.
    tables : sequence of str, optional
        Read only these tables (others are skipped).
    prefer : sequence of str, optional
        Table order for figures several tables give (default: published before
        derived, then ``catalog/tables.csv`` priority).
    reliability : Reliability, optional
        Thresholds for the ``reliable`` flag (:func:`scorecard.estimates.finish`).
    catalog : Catalog, optional
        A catalog other than the built-in one (:func:`load_catalog`).
    year, survey : optional
        For files whose path does not say them.

    Returns
    -------
    xarray.Dataset
        The estimates contract (:mod:`scorecard.estimates`, ``route="tables"``,
        ``variance_method="published_moe"``), plus the variable ``source``: the
        table line or derivation each figure came from.

    Raises
    ------
    MissingLineError
        A line a requested indicator needs is not in a table's legend.
    TableError, MissingColumnsError
        Malformed files (see :func:`read_acs_table`).
    MismatchedSourcesError
        Tables of different surveys, or one place twice in one table and year.
    """
    catalog = catalog or load_catalog()
    read = list(_collect(files_or_frames, year=year, survey=survey, tables=tables))
    if not read:
        raise TableError("read_acs_tables got no table files.")
    survey_name = _check_same_survey(read)
    if tables is not None:
        read = [t for t in read if t.table in set(tables)]
        if not read:
            raise TableError(f"None of the files holds the tables {list(tables)}.")
    known = set(catalog.lines["table"])
    for skipped in sorted({t.table for t in read} - known):
        warnings.warn(f"Table {skipped} is not in the catalog (supported: {sorted(known)}); its files are skipped.",
                      UserWarning, stacklevel=2)
    read = [t for t in read if t.table in known]
    if not read:
        raise TableError(f"No file holds a table the catalog supports ({sorted(known)}).")
    _check_unique_places(read)

    figures = pd.concat([table_figures(t, catalog=catalog, indicators=indicators) for t in read], ignore_index=True)
    if figures.empty:
        raise TableError(
            f"no table read supplies the indicators {list(indicators or [])} (tables read: "
            f"{sorted({t.table for t in read})}); see scorecard.tables.supported()."
        )
    figures = _pick(figures, catalog, prefer)
    import indicators as registry

    ds = _to_dataset(figures, catalog, read)
    return build_estimates(
        ds,
        indicators=[IndicatorMeta.of(registry.get(str(k))) for k in ds["indicator"].values],
        route="tables",
        variance_method="published_moe",
        survey=survey_name,
        dollars_year="nominal (each year's dollars)",
        sources=sorted({t.source for t in read}),
        reliability=reliability,
    )


def _collect(items, *, year, survey, tables=None) -> Iterable[AcsTable]:
    if isinstance(items, str | Path | AcsTable):
        items = [items]
    for item in items:
        if isinstance(item, AcsTable):
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted({*path.rglob("*_DATA.csv*"), *path.rglob("*-Data.csv*"),
                            *(p for p in path.rglob("*.json") if _is_data_json(p))})
            if not found:
                raise TableError(f"{path}: the folder holds no table files (*_DATA.csv[.gz] or API *.json).")
            for file in found:
                named = re.search(r"GROUP_([A-Za-z0-9]+)", file.name)
                if tables is not None and named and named.group(1) not in set(tables):
                    continue  # the file name says it is a table not asked for: do not parse it
                yield _read_file(file, year=year, survey=survey)
        else:
            yield _read_file(path, year=year, survey=survey)


def _read_file(path: Path, *, year, survey) -> AcsTable:
    """A Census Data API response, or a data.census.gov download (``ACSST5Y2024.S0501-Data.csv``)."""
    if download_file_parts(path) is not None:
        return read_download_table(path, year=year, survey=survey)
    return read_acs_table(path, year=year, survey=survey)


def _is_data_json(path: Path) -> bool:
    return not (path.name.endswith(".labels.json") or "_LEGEND" in path.name)


def _check_unique_places(read: list[AcsTable]) -> None:
    seen: dict[tuple[str, int], AcsTable] = {}
    for t in read:
        key = (t.table, t.year)
        if key in seen:
            both = set(seen[key].cells["place"]) & set(t.cells["place"])
            if both:
                files = (
                    f"Two files named {t.source} (in different folders)" if seen[key].source == t.source
                    else f"{seen[key].source} and {t.source}"
                )
                raise MismatchedSourcesError(
                    f"{files} both hold table {t.table} ({t.year}) for places "
                    f"{sorted(both)[:5]}; read each table and year once (pass one of the two folders)."
                )
        seen[key] = t


def table_figures(table: AcsTable, *, catalog: Catalog | None = None, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Figures (one row per indicator × place × cohort) one table gives, before tables are combined.

    Parameters
    ----------
    table : AcsTable
        From :func:`read_acs_table`.
    catalog : Catalog, optional
    indicators : sequence of str, optional
        Restrict to these indicator keys.

    Returns
    -------
    pandas.DataFrame
        ``indicator, place, place_name, year, cohort, estimate, moe, universe, reason, source, table,
        method, share`` (``method``: ``"published"`` or ``"derived"``; ``share``: the figure is a proportion).

    Raises
    ------
    MissingLineError
        A needed label is not in the table's legend for its year.
    """
    catalog = catalog or load_catalog()
    lines = catalog.lines[catalog.lines["table"] == table.table]
    if indicators is not None:
        lines = lines[lines["indicator"].isin(indicators)]
    if lines.empty:
        return pd.DataFrame(columns=["indicator", "place", "place_name", "year", "cohort", "estimate", "moe",
                                     "universe", "reason", "source", "table", "method", "share"])
    wanted = expand_cohorts(lines, catalog)
    matched = _match(wanted, table)
    cells = matched.merge(table.cells, on="stem", how="inner")
    scale = np.where(cells["unit"].eq("percent") & cells["role"].isin(["value", "complement"]), 100.0, 1.0)
    # published percentages have one or two decimals: rounding x/100 to 12 places gives the float nearest
    # the published decimal (53.8 -> 0.538, not 0.5379999999999999), so a published figure lands unchanged
    percent = scale == 100.0
    cells["estimate"] = np.where(percent, np.round(cells["estimate"] / scale, 12), cells["estimate"]) * cells["sign"]
    cells["moe"] = np.where(percent, np.round(cells["moe"] / scale, 12), cells["moe"])
    complement = cells["role"] == "complement"
    cells.loc[complement, "estimate"] = np.round(1 - cells.loc[complement, "estimate"], 12)
    cells["reason"] = cells["estimate_reason"].where(cells["estimate_reason"] != "")
    cells["moe_squared"] = cells["moe"] ** 2
    cells["estimate_missing"] = cells["estimate"].isna()
    cells["moe_missing"] = cells["moe"].isna()

    keys = ["indicator", "cohort", "place", "role"]
    grouped = cells.groupby(keys, sort=False)
    per_role = grouped.agg(
        estimate=("estimate", "sum"), moe_squared=("moe_squared", "sum"), reason=("reason", "first"),
        stem=("stem", "first"), n_lines=("stem", "size"), unit=("unit", "first"),
        estimate_missing=("estimate_missing", "max"), moe_missing=("moe_missing", "max"),
    )
    # a sum with one missing term is missing (groupby sums skip NaN)
    per_role["estimate"] = per_role["estimate"].where(~per_role["estimate_missing"])
    per_role["moe"] = np.sqrt(per_role["moe_squared"]).where(~per_role["moe_missing"])
    wide = per_role.drop(columns=["moe_squared", "estimate_missing", "moe_missing"]).unstack("role")
    return _combine_roles(wide, table, cells.groupby(["place"])["place_name"].first())


def _match(wanted: pd.DataFrame, table: AcsTable) -> pd.DataFrame:
    """Catalog rows → variable stems, by normalized label; one line per (indicator, cohort, column, role, term)."""
    legend = table.cells[["stem", "column", "line"]].drop_duplicates("stem")
    legend = legend.assign(column_key=legend["column"].map(normalize_label), line_key=legend["line"].map(normalize_label))
    wanted = wanted.assign(
        label_text=wanted["label"].str.replace("{year}", str(table.year), regex=False),
        column_key=wanted["column"].map(normalize_label),
    )
    wanted["line_key"] = wanted["label_text"].map(normalize_label)
    matched = wanted.merge(legend[["stem", "column_key", "line_key"]], on=["column_key", "line_key"], how="left")
    found = matched.groupby(_GROUP, sort=False)["stem"].agg(lambda s: s.dropna().unique().tolist())
    for key, stems in found.items():
        if len(stems) == 1:
            continue
        rows = wanted.set_index(_GROUP).loc[[key]]
        column = f" (column {key[2]!r})" if key[2] else ""
        if not stems:
            raise MissingLineError(table.table, table.year, [f"{label}{column}" for label in rows["label_text"]],
                                   source=table.source)
        raise TableError(f"{table.source}: table {table.table} ({table.year}) has several lines {stems} matching "
                         f"{rows['label_text'].tolist()}{column}; the catalog must name one line.")
    return matched.dropna(subset=["stem"])[[*_GROUP, "sign", "unit", "stem"]]


def _combine_roles(wide: pd.DataFrame, table: AcsTable, names: pd.Series) -> pd.DataFrame:
    def part(field: str, role: str) -> pd.Series:
        if (field, role) in wide.columns:
            return wide[(field, role)]
        return pd.Series(np.nan if field != "reason" else None, index=wide.index, dtype=object if field in
                         ("reason", "stem", "unit") else float)

    published = part("estimate", "value").notna() | part("stem", "value").notna()
    complement = part("stem", "complement").notna()
    direct_role = np.where(complement, "complement", "value")
    estimate = part("estimate", "value").where(~complement, part("estimate", "complement"))
    moe = part("moe", "value").where(~complement, part("moe", "complement"))
    reason = part("reason", "value").where(~complement, part("reason", "complement"))
    stem = part("stem", "value").where(~complement, part("stem", "complement"))
    is_direct = published | complement

    x, y = part("estimate", "numerator"), part("estimate", "denominator")
    moe_x, moe_y = part("moe", "numerator"), part("moe", "denominator")
    has_y = part("stem", "denominator").notna()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (x / y).where(y != 0)
    derived_estimate = ratio.where(has_y, x)
    derived_moe = pd.Series(moe_proportion(x, y, moe_x, moe_y), index=wide.index).where(has_y & (y != 0), moe_x)
    derived_reason = part("reason", "numerator").fillna(part("reason", "denominator"))
    derived_reason = derived_reason.where(~(has_y & (y == 0)), "the denominator is 0: no share")
    n_x, n_y = part("n_lines", "numerator"), part("n_lines", "denominator")
    derived_source = (
        f"{table.table}_" + "derived from " + n_x.fillna(0).astype(int).astype(str) + " line(s)"
        + np.where(has_y, " / " + n_y.fillna(0).astype(int).astype(str) + " line(s)", "")
    )

    universe = part("estimate", "universe").where(part("stem", "universe").notna(), y.where(has_y))
    out = pd.DataFrame({
        "estimate": estimate.where(is_direct, derived_estimate).astype(float),
        "moe": moe.where(is_direct, derived_moe).astype(float),
        "universe": universe.astype(float),
        "reason": reason.where(is_direct, derived_reason),
        "source": (stem + "E").where(is_direct, derived_source),
        "method": np.where(is_direct, "published", "derived"),
        "share": np.where(is_direct, part("unit", "value").eq("percent") | pd.Series(direct_role == "complement",
                                                                                      index=wide.index), has_y),
    }, index=wide.index).reset_index()
    out["reason"] = out["reason"].fillna("").astype(str)
    out.loc[out["estimate"].notna(), "reason"] = ""
    out.loc[out["estimate"].isna() & (out["reason"] == ""), "reason"] = "no value published"
    out["place_name"] = out["place"].map(names).fillna("")
    out["year"] = table.year
    out["table"] = table.table
    return out[["indicator", "place", "place_name", "year", "cohort", "estimate", "moe", "universe", "reason",
                "source", "table", "method", "share"]]


def _pick(figures: pd.DataFrame, catalog: Catalog, prefer: Sequence[str] | None) -> pd.DataFrame:
    """One figure per (indicator, place, year, cohort): a number before a missing value, published before
    derived, then table priority (or the order of ``prefer``)."""
    if prefer is not None:
        order = {t: i for i, t in enumerate(prefer)}
        rank = figures["table"].map(order).fillna(len(order))
        method_rank = 0
    else:
        rank = figures["table"].map(dict(zip(catalog.tables["table"], catalog.tables["priority"])))
        method_rank = (figures["method"] != "published").astype(int)
    ranked = figures.assign(_missing=figures["estimate"].isna().astype(int), _method=method_rank, _rank=rank)
    ranked = ranked.sort_values(["_missing", "_method", "_rank"], kind="stable")
    return ranked.drop_duplicates(list(DIMS)).drop(columns=["_missing", "_method", "_rank"])


def _to_dataset(figures: pd.DataFrame, catalog: Catalog, read: list[AcsTable]) -> xr.Dataset:
    indicator_order = list(dict.fromkeys(catalog.lines["indicator"]))
    indicators = [k for k in indicator_order if k in set(figures["indicator"])]
    places = sorted(figures["place"].unique())
    years = sorted(int(y) for y in figures["year"].unique())
    cohorts = cohort_order(figures["cohort"].unique())
    index = pd.MultiIndex.from_product([indicators, places, years, cohorts], names=list(DIMS))
    full = figures.set_index(list(DIMS)).reindex(index)
    shape = (len(indicators), len(places), len(years), len(cohorts))

    def grid(column: str, fill) -> np.ndarray:
        values = full[column]
        if fill is not None:
            values = values.fillna(fill)
        return values.to_numpy().reshape(shape)

    ds = xr.Dataset(
        {
            "estimate": (DIMS, grid("estimate", None).astype(float)),
            "se": (DIMS, moe_to_se(grid("moe", None).astype(float), year=np.asarray(years)[None, None, :, None])),
            "n_unweighted": (DIMS, np.full(shape, np.nan)),
            "universe_weighted": (DIMS, grid("universe", None).astype(float)),
            "reason": (DIMS, grid("reason", _NOT_SUPPLIED).astype(str)),
            "source": (DIMS, grid("source", "").astype(str)),
        },
        coords={"indicator": indicators, "place": places, "year": np.asarray(years, dtype=int), "cohort": cohorts},
    )
    names = figures.drop_duplicates("place").set_index("place")["place_name"].reindex(places).fillna("")
    states = dict(zip(catalog.states["fips"], catalog.states["name"]))
    names = names.where(names != "", names.index.map(lambda p: states.get(p, "")))
    coords = cohort_coords(cohorts)
    return ds.assign_coords(
        place_name=("place", names.astype(str).to_numpy()),
        cohort_kind=("cohort", coords["cohort_kind"].astype(str).to_numpy()),
        entry_first=("cohort", coords["entry_first"].to_numpy(dtype=float)),
        entry_last=("cohort", coords["entry_last"].to_numpy(dtype=float)),
    )
