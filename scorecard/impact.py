"""Office impact: staggered difference-in-differences on an estimates Dataset.

Did an indicator for immigrants change after a city opened its office for
immigrant integration, compared with cities that had no office (yet)? Offices
opened in different years, so this is a staggered adoption design. A two-way
fixed-effects regression is biased there when effects differ across cities or
grow over time; :func:`office_impact` uses the group-time average treatment
effects of Callaway and Sant'Anna (2021) instead:

* **Groups** ``g``: the places that opened their office in year ``g``. Places
  without an event are never treated.
* **ATT(g, t)**: for a post-opening year ``t >= g``, the mean change of the
  group from the last data year before ``g`` (the base year) to ``t``, minus
  the mean change of the comparison places over the same years. Before the
  opening (``t < g``) the base is the data year before ``t`` (the "varying"
  base period of Callaway and Sant'Anna and of R's ``did``), so each pre-period
  effect is a one-step placebo.
* **Comparison**: ``"not_yet_treated"`` = places whose office opens after
  ``t`` (and after the base year) or never, other than group ``g`` itself;
  ``"never_treated"`` = places without an event.
* **Event time** ``e = t - g``: ATT(g, g + e) averaged over groups, weighted by
  the number of treated places with data (CS "dynamic" aggregation); ``att`` is
  the mean of the event-time effects ``0 <= e <= window[1]`` (``did``'s
  overall dynamic effect).

Places count equally. Inference is a Rademacher multiplier bootstrap of the
place-level influence functions (one multiplier per place, shared by all its
years: clustered by place); each group's deviations are scaled so that their
squares sum to the unbiased ``s² / n`` (Callaway and Sant'Anna's ``/ n`` is
too small with four places in a group). A place's observed change includes
its survey sampling error, so the bootstrap SE carries sampling error *and*
city-level variation; ``se_sampling`` beside it is the survey sampling error
alone, from the replicate estimates when the Dataset has them (places of one
year share replicates; years are independent) and from ``se`` with
independence otherwise. Intervals use t critical values with (treated places
- 1) degrees of freedom, the usual reference with few clusters; ``moe90`` is
that 90% half-width. ``pretrend_p`` tests that all pre-opening effects are 0:
the Wald statistic with the bootstrap's covariance read as Hotelling's T² with
the number of treated places as sample size (conservative: it rejected 5% of
simulated panels without a pre-trend at the 10% level).

Examples
--------
>>> from scorecard.datasets import simulate_impact
>>> est, events = simulate_impact(effect=0.05, seed=3)
>>> result = office_impact(est, events, indicator="naturalized", draws=499, seed=1)
>>> result["effect"].sizes["event_time"], result.attrs["comparison"]
(9, 'not_yet_treated')
>>> bool(result["att_lower"] < 0.05 < result["att_upper"])
True
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from scorecard.errors import ImpactError
from scorecard.estimates import validate_estimates
from scorecard.uncertainty import SDR_SCALE, sdr_variance

__all__ = ["office_impact", "impact_statement", "MIN_TREATED_FOR_CLAIM"]

COMPARISONS = ("not_yet_treated", "never_treated")
#: Below this many treated places :func:`impact_statement` draws no conclusion.
MIN_TREATED_FOR_CLAIM = 5


def _events_series(events, places: list[str]) -> tuple[pd.Series, list[str]]:
    """Opening year by place (float, NaN = unknown) and the places whose year is unknown."""
    if isinstance(events, Mapping):
        frame = pd.DataFrame({"place": list(events), "year": list(events.values())})
    elif isinstance(events, pd.Series):
        frame = pd.DataFrame({"place": events.index, "year": events.to_numpy()})
    elif isinstance(events, pd.DataFrame):
        year_column = next((c for c in ("year", "year_established") if c in events.columns), None)
        if "place" not in events.columns or year_column is None:
            raise ImpactError(
                f"The events table has columns {list(events.columns)}; it needs 'place' (a place code of the estimates) "
                "and 'year' or 'year_established' (the year the office opened). sc.datasets.city_offices() returns one."
            )
        frame = pd.DataFrame({"place": events["place"], "year": events[year_column]})
        if "city" in events.columns:
            frame["city"] = events["city"].astype(str) + ((", " + events["state"].astype(str)) if "state" in events.columns else "")
    else:
        raise ImpactError(
            f"The 'events' parameter of office_impact must be a DataFrame (place, year), a Series or a dict "
            f"{{place: year}}. Got {type(events).__name__} instead."
        )
    names = frame["city"] if "city" in frame else frame["place"].astype(str)
    no_place = frame["place"].isna().to_numpy()
    if no_place.any():
        raise ImpactError(
            f"Events without a place code: {sorted(names[no_place].tolist())}. Match them to Census place codes "
            "(sc.datasets.city_offices(path, crosswalk=...)) or drop them from the events."
        )
    frame["place"] = frame["place"].astype(str)
    unknown = sorted(set(frame["place"]) - set(places))
    if unknown:
        raise ImpactError(
            f"Events name places not in the estimates Dataset: {unknown}. The Dataset has {len(places)} places "
            f"(e.g. {places[:5]}); estimate these places too, or drop their events."
        )
    year = pd.to_numeric(frame["year"], errors="coerce").astype(float)
    if frame["place"].duplicated().any():
        twice = sorted(frame.loc[frame["place"].duplicated(), "place"].unique())
        raise ImpactError(f"Places with more than one event: {twice}. Keep one opening year per place (the first).")
    series = pd.Series(year.to_numpy(), index=frame["place"].to_numpy())
    return series, sorted(series.index[series.isna()].tolist())


def _panel(est: xr.Dataset, indicator: str, cohort: str, select: Mapping | None) -> xr.Dataset:
    """The (place, year) cells of one indicator and cohort."""
    for dim, value in (("indicator", indicator), ("cohort", cohort)):
        if value not in est[dim].values:
            raise ImpactError(f"{dim} {value!r} is not in the estimates Dataset; it has {est[dim].values.tolist()}.")
    cells = est.sel(indicator=indicator, cohort=cohort, **dict(select or {}))
    extra = [d for d in cells["estimate"].dims if d not in ("place", "year")]
    wide = [d for d in extra if cells.sizes[d] > 1]
    if wide:
        raise ImpactError(
            f"The estimates have further dims {wide}; pick one value of each with select={{...}} "
            f"(e.g. select={{{wide[0]!r}: {cells[wide[0]].values[0]!r}}})."
        )
    return cells.squeeze([d for d in extra], drop=True) if extra else cells


def _pairs(group_year: np.ndarray, years: np.ndarray, window: tuple[int, int]):
    """(g, t, base) of every group-time effect inside the window."""
    out = []
    for g in np.unique(group_year[np.isfinite(group_year)]).astype(int):
        before = years[years < g]
        for t in years:
            if not window[0] <= t - g <= window[1]:
                continue
            base = before[-1] if t >= g else (years[years < t][-1] if (years < t).any() else None)
            if base is not None:
                out.append((int(g), int(t), int(base)))
    return out


def _deviations(change: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Each member's contribution to the error of the members' mean change: ``(x_i - mean) / sqrt(n (n - 1))``.

    Their sum of squares is ``s² / n`` with the unbiased ``s²`` (Callaway and Sant'Anna's influence
    function has ``/ n``, whose squares sum to ``(n - 1) / n`` of it: too small with 4 places in a group).
    A lone member contributes 0 (its mean has no estimable spread).
    """
    n = members.sum()
    if n < 2:
        return np.zeros_like(change)
    return np.where(members, (change - change[members].mean()) / np.sqrt(n * (n - 1)), 0.0)


def _sampling_variance(coef: np.ndarray, cells: xr.Dataset) -> tuple[np.ndarray, str]:
    """Sampling variance of linear combinations ``coef`` (k, place, year) of the estimates."""
    if "replicate_estimate" in cells:
        rep = np.nan_to_num(cells["replicate_estimate"].transpose("place", "year", "replicate").values)
        by_year = np.einsum("kpy,pyr->kyr", coef, rep)  # each year's combination inside every replicate
        return sdr_variance(by_year, scale=SDR_SCALE).sum(axis=1), "replicates (within each year; years independent)"
    se = np.nan_to_num(cells["se"].transpose("place", "year").values)
    return np.einsum("kpy,py->k", coef**2, se**2), "se (places and years independent)"


def office_impact(
    est: xr.Dataset,
    events,
    *,
    indicator: str,
    cohort: str = "foreign_born",
    window: tuple[int, int] = (-4, 4),
    comparison: str = "not_yet_treated",
    level: float = 0.90,
    draws: int = 999,
    seed=0,
    select: Mapping | None = None,
) -> xr.Dataset:
    """Event-study effect of opening an office on one indicator (Callaway and Sant'Anna 2021).

    Parameters
    ----------
    est : xarray.Dataset
        An estimates Dataset (the contract of :mod:`scorecard.estimates`), ideally
        1-year figures for many places and years.
    events : pandas.DataFrame, Series or dict
        Opening year by place code: columns ``place`` and ``year`` (or
        ``year_established``, as :func:`scorecard.datasets.city_offices` returns),
        or ``{place: year}``. Places of ``est`` without an event are never
        treated; an event with an unknown year (NaN) removes its place from both
        groups (listed in ``attrs["excluded"]``).
    indicator, cohort : str
        The cells studied. ``select`` picks one value of any further dim.
    window : (int, int), default=(-4, 4)
        First and last event time (years relative to the opening year, 0 = the
        opening year).
    comparison : {"not_yet_treated", "never_treated"}
    level : float, default=0.90
        Confidence level of the intervals.
    draws : int, default=999
        Multiplier-bootstrap draws.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    xarray.Dataset
        By ``event_time``: ``effect, se, moe90, lower, upper, se_sampling,
        n_treated, n_comparison``; scalars ``att, att_se, att_moe90, att_lower,
        att_upper, att_p, att_se_sampling, pretrend_p, pretrend_stat,
        pretrend_df``; by ``(group, year)``: ``att_gt`` and its analytic
        ``att_gt_se``. Attrs name the indicator, cohort, comparison, method,
        treated places and exclusions.

    Raises
    ------
    ImpactError
        Events naming places not in ``est``, events outside its years (no year
        of data before the opening, or opening after the last year), fewer than
        two treated places, an event time with no comparison place.
    """
    validate_estimates(est)
    if comparison not in COMPARISONS:
        raise ImpactError(f"The 'comparison' parameter of office_impact must be one of {list(COMPARISONS)}. Got {comparison!r} instead.")
    if len(window) != 2 or window[0] > -1 or window[1] < 0:
        raise ImpactError(f"The 'window' parameter must be (first, last) event times with first <= -1 <= 0 <= last. Got {window!r}.")
    cells = _panel(est, indicator, cohort, select)
    places = [str(p) for p in cells["place"].values]
    years = np.sort(cells["year"].values.astype(int))
    cells = cells.sel(year=years)
    if "period_start" in cells.coords and (cells["year"].values != cells["period_start"].values).any():
        warnings.warn(
            "The estimates are multi-year (5-year ACS) periods: an opening year falls inside several overlapping "
            "periods, so effects are smeared over event times, and se_sampling treats the periods as independent, "
            "which understates it. Use 1-year estimates where the places have them.",
            UserWarning,
            stacklevel=2,
        )
    opening, unknown_year = _events_series(events, places)
    outside = opening[(opening <= years[0]) | (opening > years[-1])]
    if len(outside):
        listed = ", ".join(f"{p} ({int(y)})" for p, y in outside.items())
        raise ImpactError(
            f"Events outside the years of the data ({years[0]}-{years[-1]}): {listed}. An opening needs at least one year "
            f"of data before it and must fall by {years[-1]}; drop these events (a place that opened before "
            f"{years[0] + 1} is neither treated nor a valid comparison here: drop it from the Dataset too) or add years."
        )
    keep = np.array([p not in unknown_year for p in places])
    group_year = np.array([opening.get(p, np.inf) for p in places], dtype=float)[keep]
    kept_places = np.array(places)[keep]
    if np.isfinite(group_year).sum() < 2:
        raise ImpactError(
            f"Fewer than two treated places: {int(np.isfinite(group_year).sum())} place(s) of the Dataset have an opening "
            f"year ({sorted(kept_places[np.isfinite(group_year)].tolist())}). A difference-in-differences needs at least two; "
            "add events or places."
        )
    y = cells["estimate"].transpose("place", "year").values[keep]
    has = np.isfinite(y)
    col = {int(v): i for i, v in enumerate(years)}
    pairs = _pairs(group_year, years, window)

    # One row per (g, t): contributions of every place (influence functions) and coefficients on Y.
    n_pairs, n_places = len(pairs), len(kept_places)
    att_gt = np.empty(n_pairs)
    psi = np.zeros((n_pairs, n_places))
    coef = np.zeros((n_pairs, n_places, len(years)))
    n_treated = np.zeros(n_pairs, dtype=int)
    comparison_sets = np.zeros((n_pairs, n_places), dtype=bool)
    for k, (g, t, base) in enumerate(pairs):
        both = has[:, col[t]] & has[:, col[base]]
        change = np.where(both, y[:, col[t]] - y[:, col[base]], 0.0)
        treated = (group_year == g) & both
        later = group_year > max(t, base)
        control = (np.isinf(group_year) if comparison == "never_treated" else later & (group_year != g)) & both
        if not control.any():
            switch = ", use comparison='not_yet_treated'," if comparison == "never_treated" else ""
            raise ImpactError(
                f"No comparison places left for event time {t - g} (places opening in {g}, year {t}, base year {base}) "
                f"with comparison={comparison!r}: every other place has opened by {t} or lacks data. Add places without "
                f"an office{switch} or narrow the window."
            )
        if not treated.any():
            att_gt[k] = np.nan
            continue
        weights = treated / treated.sum() - control / control.sum()
        att_gt[k] = weights @ change
        psi[k] = _deviations(change, treated) - _deviations(change, control)
        coef[k, :, col[t]], coef[k, :, col[base]] = weights, -weights
        n_treated[k], comparison_sets[k] = treated.sum(), control

    # Aggregate to event time (weights = treated places with data) and to the overall post-opening effect.
    event_times = np.arange(window[0], window[1] + 1)
    pair_event = np.array([t - g for g, t, _ in pairs])
    agg = (pair_event[None, :] == event_times[:, None]) * n_treated[None, :]
    totals = agg.sum(axis=1, keepdims=True)
    agg = np.divide(agg, totals, out=np.zeros(agg.shape), where=totals > 0)
    post = (event_times >= 0) & (totals[:, 0] > 0)
    overall = np.where(post, 1.0 / max(post.sum(), 1), 0.0) @ agg
    matrix = np.vstack([agg, overall])  # (event times + 1, pairs)
    safe_att_gt = np.nan_to_num(att_gt)
    point = matrix @ safe_att_gt
    point[:-1][totals[:, 0] == 0] = np.nan
    influence = matrix @ psi  # (event times + 1, places)

    rng = np.random.default_rng(seed)
    multipliers = rng.choice(np.array([-1.0, 1.0]), size=(draws, n_places))
    boot = multipliers @ influence.T  # (draws, event times + 1): deviations from the point estimates
    se = boot.std(axis=0)
    se[np.isnan(point)] = np.nan
    sampling_var, sampling_method = _sampling_variance(np.einsum("qk,kpy->qpy", matrix, coef), cells.isel(place=np.flatnonzero(keep)))
    se_sampling = np.where(np.isnan(point), np.nan, np.sqrt(sampling_var))
    # Few treated places: t reference with (treated places - 1) degrees of freedom, as for few clusters.
    n_treated_places = int(np.isfinite(group_year).sum())
    z, z90 = (stats.t.ppf(0.5 + lv / 2, n_treated_places - 1) for lv in (level, 0.90))

    # Joint pre-trend test: Wald statistic with the multiplier bootstrap's covariance (exactly Ψ Ψ'), read as
    # Hotelling's T² with the number of treated places as sample size (F reference; conservative with few places).
    pre = (event_times < 0) & (totals[:, 0] > 0)
    if pre.any():
        theta, contributions = point[:-1][pre], influence[:-1][pre]
        covariance = contributions @ contributions.T
        stat = float(theta @ np.linalg.pinv(covariance) @ theta)
        df = int(np.linalg.matrix_rank(covariance))
        dof = n_treated_places - df
        pretrend_p = float(stats.f.sf(stat * dof / (df * (n_treated_places - 1)), df, dof)) if df and dof > 0 else np.nan
    else:
        stat, df, pretrend_p = np.nan, 0, np.nan

    n_comparison = np.array([comparison_sets[pair_event == e].any(axis=0).sum() for e in event_times])
    treated_by_event = np.array([n_treated[pair_event == e].sum() for e in event_times])
    groups = np.unique(group_year[np.isfinite(group_year)]).astype(int)
    gt = np.full((len(groups), len(years)), np.nan)
    gt_se = np.full_like(gt, np.nan)
    for k, (g, t, _) in enumerate(pairs):
        gt[np.searchsorted(groups, g), col[t]] = att_gt[k]
        gt_se[np.searchsorted(groups, g), col[t]] = np.sqrt((psi[k] ** 2).sum()) if n_treated[k] else np.nan
    att, att_se = point[-1], se[-1]
    names = cells["place_name"].values[keep] if "place_name" in cells.coords else kept_places
    meta = est["indicator"].sel(indicator=indicator)
    result = xr.Dataset(
        {
            "effect": ("event_time", point[:-1]),
            "se": ("event_time", se[:-1]),
            "moe90": ("event_time", z90 * se[:-1]),
            "lower": ("event_time", point[:-1] - z * se[:-1]),
            "upper": ("event_time", point[:-1] + z * se[:-1]),
            "se_sampling": ("event_time", se_sampling[:-1]),
            "n_treated": ("event_time", treated_by_event),
            "n_comparison": ("event_time", n_comparison),
            "att": att,
            "att_se": att_se,
            "att_moe90": z90 * att_se,
            "att_lower": att - z * att_se,
            "att_upper": att + z * att_se,
            "att_p": float(2 * stats.t.sf(abs(att / att_se), n_treated_places - 1)) if att_se > 0 else np.nan,
            "att_se_sampling": se_sampling[-1],
            "pretrend_p": pretrend_p,
            "pretrend_stat": stat,
            "pretrend_df": df,
            "att_gt": (("group", "year"), gt),
            "att_gt_se": (("group", "year"), gt_se),
        },
        coords={"event_time": event_times, "group": groups, "year": years},
        attrs={
            "indicator": indicator,
            "indicator_label": str(meta["indicator_label"].item()) if "indicator_label" in meta.coords else indicator,
            "unit": str(meta["unit"].item()) if "unit" in meta.coords else "",
            "higher_is_better": float(meta["higher_is_better"].item()) if "higher_is_better" in meta.coords else np.nan,
            "cohort": cohort,
            "comparison": comparison,
            "level": level,
            "window": json.dumps(list(window)),
            "years": json.dumps(years.tolist()),
            "draws": draws,
            "method": "Callaway-Sant'Anna (2021) group-time ATT, varying base period, places weighted equally; "
            "Rademacher multiplier bootstrap clustered by place (SE = SD of the draws), intervals with t critical values "
            "on (treated places - 1) degrees of freedom",
            "sampling_method": sampling_method,
            "n_places": n_places,
            "n_treated_places": int(np.isfinite(group_year).sum()),
            "treated": json.dumps({str(p): int(g) for p, g in zip(kept_places, group_year) if np.isfinite(g)}),
            "treated_names": json.dumps([str(n) for n, g in zip(names, group_year) if np.isfinite(g)]),
            "excluded": json.dumps({str(p): "opening year unknown" for p in unknown_year}),
            "route": str(est.attrs.get("route", "")),
            "survey": str(est.attrs.get("survey", "")),
        },
    )
    return result


# --- plain words -----------------------------------------------------------------------------------------------

_COHORT_WORDS = {"foreign_born": "foreign-born residents", "native": "native-born residents", "all": "all residents"}


def _amount(value: float, unit: str) -> str:
    if unit == "share":
        return f"{abs(value) * 100:.1f} percentage points"
    if unit == "dollars":
        return f"${abs(value):,.0f}"
    return f"{abs(value):,.3g}"


def _signed(value: float, unit: str) -> str:
    return ("-" if value < 0 else "") + _amount(value, unit)


def impact_statement(result: xr.Dataset) -> str:
    """The result of :func:`office_impact` in plain words, with the caveats the method demands.

    The words follow the interval: a rise or fall is stated only when the
    interval of ``att`` excludes zero; otherwise "no measurable change", never
    "no effect". With fewer than :data:`MIN_TREATED_FOR_CLAIM` treated places no
    conclusion is drawn. Every statement names the comparison, the pre-trend
    check (parallel trends), the number of treated cities and what else happened
    in those years; estimates built from PUMS add the PUMA approximation.

    Examples
    --------
    >>> from scorecard.datasets import simulate_impact
    >>> est, events = simulate_impact(effect=0.05, seed=3)
    >>> text = impact_statement(office_impact(est, events, indicator="naturalized"))
    >>> text.split(". ")[0]
    "After the offices opened, 'Naturalized citizens among the foreign-born' (foreign-born residents) rose by 4.6 percentage points more than in comparison cities (90% interval: 3.4 to 5.8 percentage points)"
    """
    attrs = result.attrs
    unit, level = attrs.get("unit", ""), float(attrs.get("level", 0.90))
    label = attrs.get("indicator_label") or attrs.get("indicator", "the indicator")
    cohort = attrs.get("cohort", "")
    who = _COHORT_WORDS.get(cohort, f"the {cohort} arrival cohort")
    n = int(attrs.get("n_treated_places", 0))
    att, lower, upper = float(result["att"]), float(result["att_lower"]), float(result["att_upper"])
    bounds = f"{_signed(lower, unit)} to {_signed(upper, unit)}"
    bounds = bounds.replace(" percentage points to", " to") if unit == "share" else bounds
    what = f"'{label}' ({who})"
    comparison = "cities that had not opened one yet" if attrs.get("comparison") == "not_yet_treated" else "cities without an office"
    if n < MIN_TREATED_FOR_CLAIM:
        head = (
            f"Only {n} cities in the data opened an office, too few to tell an office's effect apart from what else "
            f"happened in them, so no conclusion is drawn about {what} (estimate {_signed(att, unit)}, {level:.0%} interval "
            f"{bounds})."
        )
    elif lower > 0 or upper < 0:
        verb = "rose" if att > 0 else "fell"
        head = (
            f"After the offices opened, {what} {verb} by {_amount(att, unit)} more than in comparison "
            f"cities ({level:.0%} interval: {bounds}). The change is measurable; it can be read as the offices' effect only under the "
            "assumptions below."
        )
    else:
        head = (
            f"After the offices opened, {what} showed no measurable change relative to comparison cities: the "
            f"estimate is {_signed(att, unit)} and its {level:.0%} interval, {bounds}, includes zero. The data cannot tell an "
            "effect of this size from none."
        )
    p = float(result["pretrend_p"])
    if np.isnan(p):
        trends = "There were no years before the openings to check that the cities moved alike before (parallel trends)."
    elif p < 0.10:
        trends = (
            f"Before the openings, these cities already moved differently from the comparison cities (joint test "
            f"p = {p:.2f}): the parallel-trends assumption is in doubt, and the estimate should not be read as the "
            "offices' effect."
        )
    else:
        trends = (
            f"Before the openings the two groups moved alike as far as the data can tell (joint test p = {p:.2f}); "
            "this supports, but cannot prove, that they would have kept moving alike without the offices."
        )
    caveats = [
        trends,
        f"The comparison is with {comparison}; {n} cities opened an office, and with so few, one city's own events "
        "can move the result.",
        "Other things happened in those years (the economy, immigration policy, other city programs); the comparison "
        "removes only what the comparison cities shared.",
    ]
    if attrs.get("route") == "microdata":
        caveats.append("City figures are built from PUMAs, which only approximate city boundaries.")
    return " ".join([head, *caveats])
