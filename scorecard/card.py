"""The Scorecard: a city's indicators scored against its peers, with sampling error carried through.

``Scorecard(est, year=..., cohort=..., places=[...])`` holds the card's
estimates and computes, lazily:

* ``card.scores``: indicator scores, domain scores and the composite, each with an SE and 90%
  bounds (see ``docs/scoring.md``);
* ``card.ranks()``: the composite's rank with an interval and P(top k), from the same draws;
* ``card.sensitivity()``: how often ranks change when the normalisation method and weights vary
  together with sampling error;
* ``card.progress(start=, end=)``: changes between survey years in plain language;
* ``card.to_frame()`` / ``to_csv`` / ``to_parquet`` / ``to_netcdf`` (atomic writes).

How uncertainty is carried. Scores are computed inside every column of an
``(indicator, place, column)`` array whose column 0 is the estimate:

* with ``replicate_estimate`` (microdata with ``keep_replicates=True``), the SEs come from the
  scores computed inside each of the 80 replicates with the SDR formula
  (:func:`scorecard.uncertainty.sdr_se`) - the design-based rule for a statistic of one
  year's sample - and the 90% bounds and rank distributions from Gaussian draws with exactly
  the replicate covariance (:func:`scorecard.uncertainty.replicate_draws`): replicates are not
  draws (their deviations have half the sampling SD), so quantiles need draws;
* without replicates (published tables), draws from ``N(estimate, diag(se²))``
  (:func:`scorecard.uncertainty.independent_draws`) give the SE (SD of the draws) and the bounds.

The 90% bounds are the 5th and 95th percentiles of the draws.

Examples
--------
>>> import pandas as pd
>>> from scorecard.estimates import estimates_from_frame
>>> frame = pd.DataFrame({"indicator": ["naturalized"] * 3 + ["english_very_well"] * 3,
...                       "place": ["a", "b", "c"] * 2, "estimate": [0.4, 0.5, 0.6, 0.7, 0.6, 0.5],
...                       "se": 0.01, "year": 2020, "cohort": "foreign_born", "n_unweighted": 500})
>>> est = estimates_from_frame(frame)
>>> card = Scorecard(est, year=2020, method="minmax", draws=200, seed=0)
>>> card.scores["composite"].values.round(2).tolist()
[3.0, 3.0, 3.0]
>>> card.scores["domain_score"].sel(domain="civic").values.tolist()
[1.0, 3.0, 5.0]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from scorecard.atomic import atomic_write
from scorecard.errors import ScoringError
from scorecard.scoring._select import check_estimates, choose, closest, resolve_places
from scorecard.scoring.composites import composite, default_max_missing, domain_scores, missing_count
from scorecard.scoring.methods import _quiet, get_method
from scorecard.scoring.progress import progress_table, rank_statement
from scorecard.scoring.ranks import draw_ranks, point_ranks
from scorecard.uncertainty import draw_interval, independent_draws, replicate_draws, sdr_se

__all__ = ["Scorecard", "indicator_domains", "RELIABILITY_OPTIONS"]

#: What ``reliability=`` accepts: which ``reliable`` labels enter the scores.
RELIABILITY_OPTIONS = {"exclude": ("reliable", "caution"), "include": ("reliable", "caution", "unreliable")}
#: Domains of indicators the registry does not know, by key prefix (tables route keys are registry keys).
_OTHER = "other"


def indicator_domains(keys: Sequence[str], est: xr.Dataset | None = None) -> list[str]:
    """Domain of each indicator: the ``domain`` coord if the Dataset has one, else the registry's, else "other".

    Examples
    --------
    >>> indicator_domains(["english_very_well", "homeownership", "naturalized", "in_poverty", "my_measure"])
    ['english', 'housing', 'civic', 'income', 'other']
    """
    if est is not None and "domain" in est.coords and est["domain"].dims == ("indicator",):
        lookup = dict(zip(est["indicator"].values.tolist(), est["domain"].values.tolist(), strict=True))
        return [str(lookup.get(key) or _OTHER) for key in keys]
    import indicators

    known = indicators.available()
    column = known["domain"] if "domain" in known else pd.Series(dtype=str)
    return [str(column.get(key, _OTHER)) for key in keys]


class Scorecard:
    """A place's scorecard among its peers for one survey year and cohort.

    Parameters
    ----------
    est : xarray.Dataset
        Estimates Dataset (microdata, tables or frame route).
    year : int
        Survey year (the last year of a multi-year period).
    cohort : str, default="foreign_born"
    places : sequence of str, optional
        Peer places (codes or names); default all places. At least 3.
    focus : str, optional
        The place the card is for (must be among ``places``).
    method : str, default="minmax"
        A registered normalisation method (:func:`scorecard.scoring.methods.available_methods`).
    scale : (low, high), default=(1, 5)
    weights : mapping indicator -> weight, optional
        Non-negative, summing to 1; indicators not named get 0. Default: each domain
        the same total weight, split equally among its indicators.
    domains : mapping domain -> list of indicators, optional
        Default: each indicator's domain (english, income, housing, civic) from the
        indicator registry; indicators without a direction (population) are left out.
    indicators : sequence of str, optional
        Indicators on the card (default: every indicator with a direction that ``domains`` covers).
    reliability : {"exclude", "include"}, default="exclude"
        ``"exclude"`` leaves estimates flagged ``"unreliable"`` (CV over the threshold or
        too few records) out of every score; ``"include"`` opts them in.
    max_missing : int, optional
        A composite is withheld when more than this many of the card's indicators are
        missing or left out for a place. Default: a quarter of the indicators, rounded
        down (:func:`~scorecard.scoring.composites.default_max_missing`; Race for Results
        withholds when more than 3 of 12 are missing).
    targets : mapping indicator -> goal, optional
        For ``method="target"``.
    goalposts : mapping indicator -> (low, high), optional
        For ``method="goalposts"``; shares default to (0, 1).
    local : xarray.Dataset, optional
        The office's own figures (:func:`scorecard.scoring.local.read_local`), one domain of their own.
    draws : int, default=1000
    seed : int, default=0
    """

    def __init__(
        self,
        est: xr.Dataset,
        *,
        year,
        cohort: str = "foreign_born",
        places: Sequence[str] | None = None,
        focus: str | None = None,
        method: str = "minmax",
        scale: tuple[float, float] = (1, 5),
        weights: Mapping[str, float] | None = None,
        domains: Mapping[str, Sequence[str]] | None = None,
        indicators: Sequence[str] | None = None,
        reliability: str = "exclude",
        max_missing: int | None = None,
        targets: Mapping[str, float] | None = None,
        goalposts: Mapping[str, tuple[float, float]] | None = None,
        local: xr.Dataset | None = None,
        draws: int = 1000,
        seed: int = 0,
    ) -> None:
        where = "Scorecard"
        est = check_estimates(est, where)
        self.year = choose(est, "year", year, where)
        self.cohort = choose(est, "cohort", cohort, where)
        self.places = resolve_places(est, places, where)
        if len(self.places) < 3:
            raise ScoringError(
                f"{where}: a scorecard compares at least 3 places; got {len(self.places)} ({self.places})."
            )
        self.focus = ""
        if focus is not None:
            (self.focus,) = resolve_places(est, [focus], where)
            if self.focus not in self.places:
                raise ScoringError(f"{where}: the focus place {focus!r} is not among the card's places {self.places}.")
        get_method(method)
        self.method = method
        if len(scale) != 2 or not scale[1] > scale[0]:
            raise ScoringError(
                f"The 'scale' parameter of Scorecard must be (low, high) with low < high. Got {scale!r} instead."
            )
        self.scale = (float(scale[0]), float(scale[1]))
        if reliability not in RELIABILITY_OPTIONS:
            raise ScoringError(
                f"The 'reliability' parameter of Scorecard must be one of {list(RELIABILITY_OPTIONS)}. Got {reliability!r} instead."
            )
        self.reliability = reliability
        self.draws, self.seed = int(draws), seed
        self.targets, self.goalposts = dict(targets or {}), dict(goalposts or {})
        if local is not None:
            from scorecard.scoring.local import join_local

            est = join_local(est, local, places=self.places, year=self.year, cohort=self.cohort)
        self._full = est
        self.indicators, self.domain_of = self._choose_indicators(est, indicators, domains)
        self.weights = self._weights(weights)
        n_inputs = int((self.weights > 0).sum())
        self.max_missing = default_max_missing(n_inputs) if max_missing is None else int(max_missing)
        if self.max_missing < 0:
            raise ScoringError(f"The 'max_missing' parameter of Scorecard must be >= 0. Got {max_missing!r} instead.")
        self._scores: xr.Dataset | None = None
        self._columns: dict | None = None
        if not self._included().any():
            raise ScoringError(
                f"Scorecard: every input of {self.cohort!r} in {self.year} is missing or unreliable "
                f"(reliability={reliability!r}); pass reliability='include' to opt unreliable estimates in, "
                "or choose a larger cohort or a 5-year survey."
            )

    # --- set-up ---------------------------------------------------------------------------------

    def _choose_indicators(self, est, indicators, domains):
        keys = est["indicator"].values.tolist()
        direction = (
            est["higher_is_better"].values.astype(float) if "higher_is_better" in est.coords else np.ones(len(keys))
        )
        if domains is not None:
            domain_of = {}
            for domain, members in domains.items():
                unknown = [m for m in members if m not in keys]
                if unknown:
                    raise ScoringError(
                        f"Scorecard: domain {domain!r} names indicators not in the estimates: {closest(unknown, keys)}."
                    )
                domain_of.update({m: str(domain) for m in members})
        else:
            domain_of = dict(zip(keys, indicator_domains(keys, est), strict=True))
        if indicators is None:
            chosen = [
                k
                for k, d in zip(keys, direction, strict=True)
                if np.isfinite(d) and k in domain_of and domain_of[k] != "population"
            ]
        else:
            unknown = [k for k in indicators if k not in keys]
            if unknown:
                raise ScoringError(f"Scorecard: indicators not in the estimates: {closest(unknown, keys)}.")
            undirected = [k for k in indicators if not np.isfinite(direction[keys.index(k)])]
            if undirected:
                raise ScoringError(
                    f"Scorecard: indicators {undirected} have no direction (higher_is_better NaN) and cannot be scored."
                )
            chosen = list(indicators)
        if not chosen:
            raise ScoringError("Scorecard: no indicator with a direction and a domain is in the estimates.")
        return chosen, np.array([domain_of.get(k, _OTHER) for k in chosen])

    def _weights(self, weights) -> np.ndarray:
        if weights is None:
            domains, counts = np.unique(self.domain_of, return_counts=True)
            per_domain = dict(zip(domains, 1.0 / (len(domains) * counts), strict=True))
            return np.array([per_domain[d] for d in self.domain_of])
        unknown = [k for k in weights if k not in self.indicators]
        if unknown:
            raise ScoringError(
                f"Scorecard: weights name indicators not on the card: {closest(unknown, self.indicators)}."
            )
        values = np.array([float(weights.get(k, 0.0)) for k in self.indicators])
        if (values < 0).any() or not math.isclose(values.sum(), 1.0, abs_tol=1e-6):
            raise ScoringError(
                f"Scorecard: weights must be >= 0 and sum to 1; they sum to {values.sum():.6g} ({dict(weights)}). "
                "Divide each weight by their total."
            )
        return values

    # --- the card's estimates and scores ----------------------------------------------------------

    @property
    def estimates(self) -> xr.Dataset:
        """The estimates Dataset restricted to the card's indicators, places, year and cohort."""
        return self._full.sel(indicator=self.indicators, place=self.places, year=[self.year], cohort=[self.cohort])

    def estimates_all_years(self) -> xr.Dataset:
        """The estimates of the card's indicators and places in every survey year and cohort."""
        return self._full.sel(indicator=self.indicators, place=self.places)

    def _slice(self, cohort) -> xr.Dataset:
        return self._full.sel(indicator=self.indicators, place=self.places, year=self.year, cohort=cohort)

    def _included(self) -> np.ndarray:
        sub = self._slice(self.cohort)
        labels = sub["reliable"].transpose("indicator", "place").values.astype(str) if "reliable" in sub else None
        present = np.isfinite(sub["estimate"].transpose("indicator", "place").values.astype(float))
        if labels is None:
            return present
        return present & np.isin(labels, RELIABILITY_OPTIONS[self.reliability])

    def _values(self) -> dict:
        """Columns ``(indicator, place, column)`` of the cohort (and the native-born, for parity)."""
        if self._columns is not None:
            return self._columns
        cohorts = [self.cohort] + (["native"] if self.method == "parity" else [])
        if self.method == "parity" and "native" not in self._full["cohort"].values.tolist():
            raise ScoringError(
                "Scorecard: method='parity' compares with the native-born; the estimates hold no cohort 'native'."
            )
        stack = self._full.sel(indicator=self.indicators, place=self.places, year=self.year, cohort=cohorts)
        order = ("cohort", "indicator", "place")
        point = stack["estimate"].transpose(*order).values.astype(float)
        se = stack["se"].transpose(*order).values.astype(float)
        if "replicate_estimate" in stack:
            theta = stack["replicate_estimate"].transpose(*order, "replicate").values.astype(float)
            replicates = theta
            drawn = np.moveaxis(replicate_draws(np.nan_to_num(theta), self.draws, seed=self.seed), 0, -1)
        else:
            replicates = None
            drawn = np.moveaxis(
                independent_draws(np.nan_to_num(point), np.nan_to_num(se), self.draws, seed=self.seed), 0, -1
            )
        drawn = np.ascontiguousarray(drawn)  # (cohort, indicator, place, draw): reductions run along memory
        drawn[np.isnan(point)] = np.nan
        self._columns = {"point": point, "replicates": replicates, "draws": drawn}
        return self._columns

    def _score_columns(self, columns: np.ndarray, method: str | None = None) -> np.ndarray:
        """Indicator scores ``(indicator, place, column)`` for value columns ``(cohort, indicator, place, column)``."""
        method = method or self.method
        function = get_method(method)
        included = self._included()
        everything = bool(included.all())
        values = columns[0] if everything else np.where(included[:, :, None], columns[0], np.nan)
        reference = columns[1] if columns.shape[0] > 1 else None
        units = (
            self._slice(self.cohort)["unit"].values
            if "unit" in self._full.coords
            else np.array(["share"] * len(self.indicators))
        )
        direction = self._full["higher_is_better"].sel(indicator=self.indicators).values.astype(float)
        out = np.empty_like(values)
        for position, key in enumerate(self.indicators):  # a loop over the card's indicators (about 10)
            context = {
                "reference": None if reference is None else reference[position],
                "target": self.targets.get(key),
                "bounds": self.goalposts.get(key, (0.0, 1.0) if units[position] == "share" else None),
            }
            out[position] = function(
                values[position], higher_is_better=bool(direction[position]), scale=self.scale, **context
            )
        return out if everything else np.where(included[:, :, None], out, np.nan)

    def _levels(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        domains = sorted(set(self.domain_of.tolist()))
        return {
            "score": scores,
            "domain_score": domain_scores(scores, self.weights, self.domain_of, domains),
            "composite": composite(scores, self.weights, max_missing=self.max_missing),
        }

    @property
    def scores(self) -> xr.Dataset:
        """Scores with SE and 90% bounds: ``score``, ``domain_score``, ``composite`` (+ ``_se``, ``_lower``, ``_upper``)."""
        if self._scores is not None:
            return self._scores
        columns = self._values()
        point = self._levels(self._score_columns(columns["point"][..., None]))
        drawn = self._levels(self._score_columns(columns["draws"]))
        replicate_levels = None
        if columns["replicates"] is not None:
            replicate_levels = self._levels(self._score_columns(columns["replicates"]))
        domains = sorted(set(self.domain_of.tolist()))
        dims = {"score": ("indicator", "place"), "domain_score": ("domain", "place"), "composite": ("place",)}
        variables = {}
        with _quiet():
            for name, value in point.items():
                centre = value[..., 0]
                # a score missing in one column is missing in all (inputs are left out by the point), so
                # plain reductions suffice: NaN stays NaN without the slow nan-aware versions
                if replicate_levels is not None:
                    se = sdr_se(replicate_levels[name])
                else:
                    se = np.std(drawn[name], axis=-1)
                lower, upper = draw_interval(drawn[name], level=0.90)
                missing = np.isnan(centre)
                variables[name] = (dims[name], centre)
                variables[f"{name}_se"] = (dims[name], np.where(missing, np.nan, se))
                variables[f"{name}_lower"] = (dims[name], np.where(missing, np.nan, lower))
                variables[f"{name}_upper"] = (dims[name], np.where(missing, np.nan, upper))
        variables["included"] = (("indicator", "place"), self._included())
        variables["missing_inputs"] = (("place",), missing_count(point["score"], self.weights))
        names = (
            self._full["place_name"].sel(place=self.places).values
            if "place_name" in self._full.coords
            else np.array(self.places)
        )
        self._scores = xr.Dataset(
            variables,
            coords={
                "indicator": self.indicators,
                "place": self.places,
                "domain": domains,
                "indicator_domain": ("indicator", self.domain_of),
                "weight": ("indicator", self.weights),
                "place_name": ("place", names),
            },
            attrs={
                "method": self.method,
                "scale": json.dumps(list(self.scale)),
                "year": int(self.year),
                "cohort": str(self.cohort),
                "focus": str(self.focus),
                "reliability": self.reliability,
                "max_missing": self.max_missing,
                "uncertainty": "replicates (SDR) + replicate draws"
                if columns["replicates"] is not None
                else "independent draws",
                "draws": self.draws,
            },
        )
        self._drawn_composite = drawn["composite"]
        return self._scores

    # --- ranks and sensitivity ------------------------------------------------------------------

    def ranks(self, k: int = 3, *, coverage: float = 0.90) -> xr.Dataset:
        """Composite rank (1 = best) with a ``coverage`` interval and P(top k), from the score draws.

        The interval is the central ``coverage`` range of each place's rank over
        the draws (Marshall & Spiegelhalter 1998); places whose composite is
        withheld are left out (listed in attrs ``withheld``).
        """
        scores = self.scores
        centre = scores["composite"].values
        ranked = np.isfinite(centre)
        if ranked.sum() < 3:
            raise ScoringError(
                f"Scorecard.ranks: only {int(ranked.sum())} place(s) have a composite; ranking needs at least 3."
            )
        if not 1 <= k < ranked.sum():
            raise ScoringError(
                f"The 'k' parameter of Scorecard.ranks must be in 1..{int(ranked.sum()) - 1}. Got {k!r} instead."
            )
        drawn = self._drawn_composite[ranked].T  # (draws, place)
        drawn = np.where(np.isnan(drawn), -np.inf, drawn)
        by_draw = draw_ranks(drawn)
        tail = (1 - coverage) / 2
        lower, upper = np.quantile(by_draw, [tail, 1 - tail], axis=0, method="inverted_cdf")
        rank = point_ranks(centre[ranked])
        n = int(ranked.sum())
        out = xr.Dataset(
            {
                "rank": ("place", rank),
                "rank_lower": ("place", lower.astype(int)),
                "rank_upper": ("place", upper.astype(int)),
                "p_top_k": ("place", (by_draw <= k).mean(axis=0)),
                "composite": ("place", centre[ranked]),
                "statement": ("place", [rank_statement(a, b, n) for a, b in zip(lower, upper, strict=True)]),
            },
            coords={
                "place": np.asarray(self.places)[ranked],
                "place_name": ("place", scores["place_name"].values[ranked]),
            },
            attrs={
                "k": int(k),
                "coverage": coverage,
                "method": "draws",
                "withheld": json.dumps(np.asarray(self.places)[~ranked].tolist()),
            },
        )
        return out

    def sensitivity(
        self,
        *,
        methods: Sequence[str] = ("minmax", "zscore", "percentile"),
        weight_spread: float = 0.25,
        coverage: float = 0.90,
    ) -> xr.Dataset:
        """How often each place's composite rank changes when method, weights and sampling error vary together.

        Each draw takes the sampling draw of the same index, a normalisation method
        chosen uniformly from ``methods`` and weights ``w_i · U_i`` with ``U_i ~ Uniform(1 − s, 1 + s)``
        (renormalised; the COINr / JRC practice). Reported per place: the nominal rank, the
        ``coverage`` range of ranks, and the share of draws whose rank differs from the nominal one
        under all three sources together (``p_rank_change``), sampling alone
        (``p_rank_change_sampling``) and method and weights alone (``p_rank_change_choices``).
        """
        for name in methods:
            get_method(name)
        if not 0 <= weight_spread < 1:
            raise ScoringError(
                f"The 'weight_spread' parameter of sensitivity must be in [0, 1). Got {weight_spread!r} instead."
            )
        scores = self.scores
        nominal_centre = scores["composite"].values
        ranked = np.isfinite(nominal_centre)
        nominal = point_ranks(nominal_centre[ranked])
        columns = self._values()
        rng = np.random.default_rng(self.seed)
        pick = rng.integers(0, len(methods), self.draws)
        factors = rng.uniform(1 - weight_spread, 1 + weight_spread, (self.draws, len(self.indicators))) * self.weights
        factors /= factors.sum(axis=1, keepdims=True)
        together = np.full((len(self.places), self.draws), np.nan)
        choices = np.full((len(self.places), self.draws), np.nan)
        for position, name in enumerate(methods):  # a loop over a few methods
            chosen = pick == position
            drawn_scores = self._score_columns(columns["draws"][..., chosen], method=name)
            point_scores = self._score_columns(
                np.repeat(columns["point"][..., None], chosen.sum(), axis=-1), method=name
            )
            together[:, chosen] = _composite_with_weights(drawn_scores, factors[chosen], self.max_missing)
            choices[:, chosen] = _composite_with_weights(point_scores, factors[chosen], self.max_missing)
        sampling = self._drawn_composite
        results = {}
        for label, drawn in (("", together), ("_sampling", sampling), ("_choices", choices)):
            by_draw = draw_ranks(np.where(np.isnan(drawn[ranked]), -np.inf, drawn[ranked]).T)
            results[label] = by_draw
        tail = (1 - coverage) / 2
        lower, upper = np.quantile(results[""], [tail, 1 - tail], axis=0, method="inverted_cdf")
        return xr.Dataset(
            {
                "rank": ("place", nominal),
                "rank_lower": ("place", lower.astype(int)),
                "rank_upper": ("place", upper.astype(int)),
                "p_rank_change": ("place", (results[""] != nominal).mean(axis=0)),
                "p_rank_change_sampling": ("place", (results["_sampling"] != nominal).mean(axis=0)),
                "p_rank_change_choices": ("place", (results["_choices"] != nominal).mean(axis=0)),
            },
            coords={
                "place": np.asarray(self.places)[ranked],
                "place_name": ("place", scores["place_name"].values[ranked]),
            },
            attrs={
                "methods": json.dumps(list(methods)),
                "weight_spread": weight_spread,
                "coverage": coverage,
                "draws": self.draws,
            },
        )

    # --- progress -------------------------------------------------------------------------------

    def progress(self, *, start, end, fdr: float | None = 0.10, cohorts: Sequence[str] | None = None) -> pd.DataFrame:
        """Changes between two survey years per place, indicator and cohort, tested and in plain language.

        ``cohorts`` defaults to every cohort in the estimates. See
        :func:`scorecard.scoring.progress.progress_table`.
        """
        cohorts = list(self._full["cohort"].values.tolist() if cohorts is None else cohorts)
        unknown = [c for c in cohorts if c not in self._full["cohort"].values.tolist()]
        if unknown:
            raise ScoringError(
                f"Scorecard.progress: cohorts not in the estimates: {closest(unknown, self._full['cohort'].values.tolist())}."
            )
        return progress_table(
            self._full,
            start=start,
            end=end,
            places=self.places,
            indicators=self.indicators,
            cohorts=cohorts,
            fdr=fdr,
            reliability=self.reliability,
        )

    # --- outputs --------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per place and level (indicator, domain, composite) with value, se, bounds."""
        scores = self.scores
        parts = []
        for level, key_dim in (("score", "indicator"), ("domain_score", "domain"), ("composite", None)):
            names = [level, f"{level}_se", f"{level}_lower", f"{level}_upper"]
            frame = scores[names].to_dataframe().reset_index()
            frame = frame.rename(columns=dict(zip(names, ["score", "se", "lower", "upper"], strict=True)))
            frame["level"] = {"score": "indicator", "domain_score": "domain", "composite": "composite"}[level]
            frame["key"] = frame[key_dim] if key_dim else "composite"
            if level == "score":
                frame["included"] = scores["included"].transpose("indicator", "place").values.ravel()
            parts.append(
                frame[
                    ["place", "place_name", "level", "key", "score", "se", "lower", "upper"]
                    + (["included"] if level == "score" else [])
                ]
            )
        out = pd.concat(parts, ignore_index=True)
        out["included"] = out["included"].astype("boolean")
        out["year"], out["cohort"], out["method"] = int(self.year), str(self.cohort), self.method
        return out

    def to_csv(self, path) -> object:
        """Write :meth:`to_frame` as CSV, atomically."""
        frame = self.to_frame()
        return atomic_write(path, lambda temporary: frame.to_csv(temporary, index=False))

    def to_parquet(self, path) -> object:
        """Write :meth:`to_frame` as Parquet, atomically."""
        frame = self.to_frame()
        return atomic_write(path, lambda temporary: frame.to_parquet(temporary, index=False))

    def to_netcdf(self, path) -> object:
        """Write :attr:`scores` as netCDF, atomically."""
        scores = self.scores
        return atomic_write(path, lambda temporary: scores.to_netcdf(temporary))

    def __repr__(self) -> str:
        return (
            f"Scorecard(year={self.year}, cohort={self.cohort!r}, places={len(self.places)}, "
            f"indicators={len(self.indicators)}, method={self.method!r}, focus={self.focus!r})"
        )

    def _repr_html_(self) -> str:
        """A compact table (composite with 90% bounds, domain scores) and the heatmap, for notebooks."""
        scores = self.scores
        table = pd.DataFrame({"place": scores["place_name"].values})
        table["composite"] = [
            f"{c:.2f} ({lo:.2f}-{hi:.2f})" if np.isfinite(c) else "withheld"
            for c, lo, hi in zip(
                scores["composite"].values,
                scores["composite_lower"].values,
                scores["composite_upper"].values,
                strict=True,
            )
        ]
        for domain in scores["domain"].values:
            table[str(domain)] = scores["domain_score"].sel(domain=domain).values.round(2)
        caption = (f"{self.method} scores {self.scale[0]:g}-{self.scale[1]:g}, {self.year}, {self.cohort}; "
                   "composite with its 90% bounds")
        try:
            from scorecard.charts.export import to_svg

            picture = to_svg(self.chart("heatmap"))
        except Exception as err:  # a notebook still shows the table when the chart cannot be drawn
            picture = f"<p>(heatmap not drawn: {type(err).__name__}: {err})</p>"
        return f"<div><p>{caption}</p>{table.to_html(index=False, na_rep='-')}{picture}</div>"

    # --- charts and the report ------------------------------------------------------------------

    def chart(self, kind: str, *, place: str | None = None, indicator: str | None = None, **options):
        """One chart of this card (an ``altair`` chart; save it with :func:`scorecard.charts.save`).

        Parameters
        ----------
        kind : {"heatmap", "peers", "rank_set", "trajectory", "progress", "gap", ...}
            A registered chart kind (:func:`scorecard.charts.available`).
        place : str, optional
            Place code or name: the place of per-place charts (trajectory, gap) and the one highlighted
            in the others; default the card's focus.
        indicator : str, optional
            For peers, trajectory and progress charts; default the card's first indicator.
        **options
            Passed to the chart function; ``start``/``end`` pick the years of a progress chart
            (default: the earliest year in the estimates and the card's year).
        """
        from scorecard import charts

        code = resolve_places(self._full, [place], "Scorecard.chart")[0] if place is not None else (self.focus or None)
        focus = code  # the place asked for is the one highlighted (default the card's focus)
        key = indicator or self.indicators[0]
        if kind == "heatmap":
            return charts.chart(kind, self.scores, estimates=self.estimates, focus=focus, **options)
        if kind == "peers":
            return charts.chart(kind, self._full.sel(place=self.places), indicator=key, year=self.year,
                                cohort=self.cohort, focus=focus, **options)
        if kind == "rank_set":
            return charts.chart(kind, options.pop("ranks", None) or self.ranks(), focus=focus, **options)
        if kind == "progress":
            start = options.pop("start", int(self._full["year"].min()))
            end = options.pop("end", self.year)
            table = self.progress(start=start, end=end, cohorts=[self.cohort])
            unit = str(self._full["unit"].sel(indicator=key).item())
            return charts.chart(kind, table, indicator=key, cohort=self.cohort, unit=unit, focus=focus,
                                rule=table.attrs.get("rule"), **options)
        if kind in ("trajectory", "gap"):
            if code is None:
                raise ScoringError(f"Scorecard.chart({kind!r}) needs place=... (the card has no focus place).")
            if kind == "trajectory":
                return charts.chart(kind, self._full, place=code, indicator=key, **options)
            return charts.chart(kind, self._gaps(), place=code, year=self.year, estimates=self._full, **options)
        return charts.chart(kind, self._full, **options)

    def _gaps(self) -> xr.Dataset:
        import cohorts

        return cohorts.gap(self._full.sel(place=self.places), reference="native")

    def report_inputs(self, *, place: str | None = None, progress_from: int | None = None) -> dict:
        """The keywords of :func:`scorecard.report.write_html` for ``place`` (default the focus)."""
        code = resolve_places(self._full, [place], "Scorecard.to_html")[0] if place is not None else self.focus
        if not code:
            raise ScoringError("Scorecard.to_html needs place=... (the card has no focus place).")
        est = self._full.sel(place=self.places)
        years = est["year"].values.tolist()
        start = progress_from if progress_from is not None else (min(years) if len(years) > 1 else None)
        inputs = {"place": code, "estimates": est, "scores": self.scores, "year": self.year, "cohort": self.cohort,
                  "indicators": list(self.indicators)}
        try:
            inputs["ranks"] = {"composite score": self.ranks()}
        except ScoringError:
            pass  # fewer than 3 composites: no rank set
        if start is not None and start != self.year:
            inputs["progress"] = self.progress(start=start, end=self.year)
        if "native" in est["cohort"].values and self.cohort != "native":
            try:
                inputs["gaps"] = self._gaps()
            except (ImportError, AttributeError):
                pass
        return inputs

    def to_html(self, path, *, place: str | None = None, progress_from: int | None = None, **options):
        """Write the self-contained one-page report for ``place`` (default the focus), atomically.

        See :func:`scorecard.report.write_html`; ``progress_from`` is the earlier year of the progress
        statements (default the earliest year in the estimates).
        """
        from scorecard.report import write_html

        return write_html(path, **{**self.report_inputs(place=place, progress_from=progress_from), **options})

    def to_pdf(self, path, *, place: str | None = None, progress_from: int | None = None, **options):
        """The same page as :meth:`to_html`, printed to PDF by headless Chromium, atomically."""
        from scorecard.report import write_pdf

        return write_pdf(path, **{**self.report_inputs(place=place, progress_from=progress_from), **options})


def _composite_with_weights(scores: np.ndarray, weights: np.ndarray, max_missing: int) -> np.ndarray:
    """Composite per column with its own weight vector: ``scores`` (indicator, place, column), ``weights`` (column, indicator)."""
    present = ~np.isnan(scores)
    numerator = np.einsum("ipc,ci->pc", np.where(present, scores, 0.0), weights)
    denominator = np.einsum("ipc,ci->pc", present.astype(float), weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(denominator > 0, numerator / denominator, np.nan)
    withheld = (np.isnan(scores[..., 0]) & (weights[0][:, None] > 0)).sum(axis=0) > max_missing
    return np.where(withheld[:, None], np.nan, value)
