"""Simulated estimates with a planted office effect: known truth for :func:`scorecard.office_impact`.

The synthetic PUMS generator has six cities; a staggered difference-in-differences
needs dozens of places and many years, and its inference is about places, not
persons. So the known truth is planted one level up: yearly estimates for many
places are drawn from a known model and carry sampling noise of realistic
size (the SEs of 1-year ACS shares for the foreign-born of a large city, 1-3
percentage points), then go through :func:`scorecard.estimates_from_frame`
like any published table::

    estimate[i, t] = level[i] + trend[t] + effect · 1(t >= g[i])
                     + pretrend · (t - g[i]) · 1(t < g[i])
                     + city-year shock (sd city_sd) + sampling error (sd se[i])

Examples
--------
>>> est, events = simulate_impact(effect=0.04, seed=1)
>>> est.sizes["place"], est.sizes["year"], len(events)
(30, 14, 12)
>>> sorted(events["year"].unique().tolist())
[2011, 2013, 2015]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["simulate_impact"]


def simulate_impact(
    *,
    effect: float = 0.05,
    pretrend: float = 0.0,
    places: int = 30,
    openings: Mapping[int, int] | None = None,
    treated: Mapping[str, int] | None = None,
    years: tuple[int, int] = (2006, 2019),
    se: float = 0.02,
    city_sd: float = 0.01,
    indicator: str = "naturalized",
    seed=None,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Estimates for ``places`` places and the events that planted an effect in some of them.

    Parameters
    ----------
    effect : float, default=0.05
        Effect on the indicator from the opening year on (a share: 0.05 = 5 points).
    pretrend : float, default=0.0
        Extra yearly change of treated places before their opening (a planted
        violation of parallel trends).
    places : int, default=30
        Number of places (codes ``S01``, ``S02``, ...).
    openings : mapping {year: number of places}, optional
        How many places open an office in which year (default 4 each in 2011,
        2013, 2015); the first places get them.
    treated : mapping {place code: year}, optional
        The treated places and their years, instead of ``openings``.
    years : (int, int), default=(2006, 2019)
        First and last survey year.
    se : float, default=0.02
        Typical sampling SE; each place's SE is ``se`` times a factor in 0.6-1.4.
    city_sd : float, default=0.01
        SD of the city-year shocks (variation that is not sampling error).
    indicator : str, default="naturalized"
        A registered indicator (its label and direction come from the registry).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (xarray.Dataset, pandas.DataFrame)
        The estimates (cohort ``foreign_born``, survey ``acs1``) and the events
        (``place, year``).
    """
    from scorecard.estimates import estimates_from_frame

    rng = np.random.default_rng(seed)
    codes = [f"S{i + 1:02d}" for i in range(places)]
    if treated is None:
        openings = dict(openings or {2011: 4, 2013: 4, 2015: 4})
        opening_years = np.repeat(list(openings), list(openings.values()))
        treated = dict(zip(codes, opening_years.tolist()))
    survey_years = np.arange(years[0], years[1] + 1)
    group = np.array([treated.get(c, np.inf) for c in codes], dtype=float)[:, None]
    t = survey_years[None, :]
    place_se = se * rng.uniform(0.6, 1.4, size=(places, 1))
    truth = (
        rng.uniform(0.35, 0.60, size=(places, 1))
        + 0.004 * (t - years[0])
        + effect * (t >= group)
        + pretrend * np.where(t < group, t - np.where(np.isfinite(group), group, t), 0.0)
    )
    observed = truth + rng.normal(0, city_sd, truth.shape) + rng.normal(0, 1, truth.shape) * place_se
    frame = pd.DataFrame(
        {
            "indicator": indicator,
            "place": np.repeat(codes, len(survey_years)),
            "place_name": np.repeat([f"Simulated city {i + 1}" for i in range(places)], len(survey_years)),
            "year": np.tile(survey_years, places),
            "cohort": "foreign_born",
            "estimate": observed.ravel(),
            "se": np.broadcast_to(place_se, observed.shape).ravel(),
        }
    )
    est = estimates_from_frame(frame, survey="acs1", sources=("simulated: scorecard.datasets.simulate_impact",))
    events = pd.DataFrame({"place": list(treated), "year": list(treated.values())})
    return est, events
