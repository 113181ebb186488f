"""The generating model: a finite population of housing units and persons.

For one survey year and a set of PUMAs, :func:`generate_population` builds a
finite population: housing units (occupied or vacant) and group-quarters
persons, household members with ages, nativity, year of entry, citizenship,
English ability, earnings and income, household income, poverty ratio and
tenure. Everything is vectorized over units and persons.

Immigrants' outcomes rise with years since arrival ``ysa`` at a pace set by
their city (:class:`~scorecard.datasets.geography.City`):

* English ability: ordered logit with latent mean
  ``english_base + english_pace·log(1+ysa) − 0.04·max(arrival age − 12, 0)``
  (+1 under 18), cut points −1.5, 0.5, 2, 4.5 for not at all < not well <
  well < very well < only English; natives 6.5 (3.3 in immigrant households).
* Work: logit ``1.7 − 0.0045·(age−40)² − 0.9·exp(−ysa/4)``; log earnings
  ``9.75 + income_level + 0.9·(1−exp(−(age−16)/10)) − 0.12 − income_gap·exp(−ysa/income_pace)
  + 0.25·[English very well]``, sd 0.75, scaled by weeks and hours; other
  income for 20% (75% from age 62, larger). Household income = sum of members' income.
* Poverty ratio = household income / threshold(size, year).
* Homeownership (householders): logit ``ownership_level + 0.04·(age−45) +
  0.55·log(income/55k) − ownership_gap·exp(−ysa/ownership_pace)``.
* Naturalization: ``0.93·logit⁻¹(−2.2 + naturalization_pace·(ysa−5) +
  0.02·(age−35))`` after 5 years, 6% at 3-4 years, ×0.6 under 18.

Examples
--------
>>> from scorecard.datasets.geography import DEFAULT_CITIES, puma_layout
>>> layout = puma_layout(DEFAULT_CITIES, 2010).assign(n_units=200, base_weight=5)
>>> pop = generate_population(layout, 2015, DEFAULT_CITIES, np.random.default_rng(1))
>>> sorted(pop.persons)[:4]
['age', 'cit', 'eng', 'foreign']
>>> bool(((pop.persons["yoep"] > 0) <= (pop.persons["cit"] >= 2)).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scorecard.datasets.geography import BALANCE, City

__all__ = ["Population", "generate_population", "ADJINC", "poverty_threshold", "FIRST_ARRIVAL"]

#: Earliest year of entry generated.
FIRST_ARRIVAL = 1960

#: Income adjustment factor (ADJINC, or ADJUST up to 2007) written for each survey year: it
#: brings reported 12-month incomes to survey-year dollars.
ADJINC: dict[int, float] = {
    2005: 1.025, 2006: 1.015675, 2007: 1.016787, 2008: 1.018389, 2009: 0.999480, 2010: 1.007624,
    2011: 1.018237, 2012: 1.010207, 2013: 1.008425, 2014: 1.008634, 2015: 1.001264, 2016: 1.007588,
    2017: 1.011189, 2018: 1.013097, 2019: 1.010145, 2020: 1.006149, 2021: 1.029928, 2022: 1.042311,
    2023: 1.019518,
}

_CUTS = np.array([-1.5, 0.5, 2.0, 4.5])  # latent English cut points
# english codes: 0 only English, 1 very well, 2 well, 3 not well, 4 not at all, -1 under 5
_ENG_FROM_LATENT = np.array([4, 3, 2, 1, 0])


def poverty_threshold(size: np.ndarray, year: int) -> np.ndarray:
    """Poverty threshold (survey-year dollars) of a household of ``size`` persons.

    Examples
    --------
    >>> poverty_threshold(np.array([1, 4]), 2006).round(-2).tolist()
    [10300.0, 20500.0]
    """
    size = np.clip(np.asarray(size), 1, 9)
    return 10_300.0 * 1.024 ** (year - 2006) * (1.0 + 0.33 * (size - 1))


@dataclass(frozen=True)
class Population:
    """A finite population for one survey year.

    ``units`` (housing units and group-quarters persons) and ``persons`` are
    dicts of equal-length numpy arrays; ``persons["unit"]`` indexes units and
    ``units["puma"]`` indexes ``layout`` rows. Money columns hold the values
    written to PUMS (before ADJINC); ``adjinc`` converts them.
    """

    year: int
    layout: pd.DataFrame
    units: dict[str, np.ndarray]
    persons: dict[str, np.ndarray]
    adjinc: float


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _param(models: list[City], model_index: np.ndarray, name: str) -> np.ndarray:
    values = np.array([getattr(m, name) for m in models], dtype=np.float64)
    return values[model_index]


def _arrival_cdf(models: list[City], year: int) -> np.ndarray:
    """Cumulative distribution of year of entry (FIRST_ARRIVAL..year) per model."""
    years = np.arange(FIRST_ARRIVAL, year + 1, dtype=np.float64)
    rows = []
    for m in models:
        inflow = (0.35 + (years - FIRST_ARRIVAL) / 25.0) * np.exp(-(year - years) / 45.0)
        inflow *= 1.0 + m.wave_size * np.exp(-(((years - m.wave_year) / 5.0) ** 2))
        inflow *= np.where((years >= 2020) & (years <= 2021), 0.55, 1.0)
        inflow *= np.where(years == year, 0.5, 1.0)
        rows.append(np.cumsum(inflow) / inflow.sum())
    return np.vstack(rows)


def _draw_entry(cdf: np.ndarray, model: np.ndarray, earliest: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Years of entry ≥ ``earliest`` from each person's model distribution."""
    n_years = cdf.shape[1]
    low = np.clip(earliest - FIRST_ARRIVAL, 0, n_years - 1).astype(np.int64)
    floor = np.where(low > 0, cdf[model, np.maximum(low - 1, 0)], 0.0)
    u = floor + (1.0 - rng.random(len(model))) * (1.0 - floor)
    flat = (cdf + np.arange(len(cdf))[:, None]).ravel()
    position = np.searchsorted(flat, u + model, side="left") - model * n_years
    return FIRST_ARRIVAL + np.clip(position, low, n_years - 1)


def generate_population(
    layout: pd.DataFrame, year: int, cities: tuple[City, ...], rng: np.random.Generator
) -> Population:
    """Draw a finite population for ``year`` over the PUMAs of ``layout``.

    Parameters
    ----------
    layout : pandas.DataFrame
        One row per PUMA with ``model`` (city index, -1 = rest of state) and
        ``n_units`` (housing units plus group-quarters persons to create).
    year : int
        Survey year.
    cities : tuple of City
        Models indexed by ``layout["model"]``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Population
    """
    models = [*cities, BALANCE]
    puma_model = np.where(layout["model"].to_numpy() < 0, len(cities), layout["model"].to_numpy())
    n_units = layout["n_units"].to_numpy(dtype=np.int64)
    unit_puma = np.repeat(np.arange(len(layout)), n_units)
    u_model = puma_model[unit_puma]
    n = len(unit_puma)
    cdf = _arrival_cdf(models, year)

    # ---- units: occupied, vacant, group quarters person
    kind = np.searchsorted([0.88, 0.96], rng.random(n), side="right")  # 0 occupied, 1 vacant, 2 GQ
    fb_share = np.clip(
        _param(models, u_model, "foreign_born_share") + _param(models, u_model, "foreign_born_trend") * (year - 2006),
        0.01,
        0.8,
    )
    head_foreign = rng.random(n) < np.where(kind == 2, 0.6 * fb_share, fb_share)
    lam = np.where(head_foreign, 1.9, 1.35)
    size = np.where(kind == 0, 1 + np.minimum(rng.poisson(lam), 11), np.where(kind == 2, 1, 0))
    gq_type = np.where(kind == 2, np.where(rng.random(n) < 0.45, 2, 3), 0)

    # householder / GQ person age and entry
    head_entry = _draw_entry(cdf, u_model, np.full(n, FIRST_ARRIVAL), rng)
    arrival_age = 16.0 + rng.gamma(2.0, 7.0, n)
    head_age_fb = np.minimum(arrival_age + (year - head_entry), 95.0)
    head_age_native = np.minimum(18.0 + rng.gamma(3.0, 11.0, n), 95.0)
    head_age = np.floor(np.where(head_foreign, head_age_fb, head_age_native))
    gq_age = np.where(
        gq_type == 2,
        np.where(rng.random(n) < 0.5, 65 + rng.gamma(2, 6, n), 19 + rng.gamma(2, 8, n)),
        np.where(rng.random(n) < 0.65, 18 + rng.integers(0, 6, n), 20 + rng.gamma(2, 12, n)),
    )
    gq_age = np.minimum(np.floor(gq_age), 95)
    head_age = np.where(kind == 2, gq_age, head_age)
    # GQ immigrants: entry no earlier than birth
    gq_entry = _draw_entry(cdf, u_model, year - head_age.astype(np.int64), rng)
    head_entry = np.where(kind == 2, gq_entry, head_entry)

    # ---- persons
    unit = np.repeat(np.arange(n), size)
    p = len(unit)
    first = np.cumsum(size) - size
    sporder = np.arange(p) - first[unit] + 1
    p_model = u_model[unit]
    is_head = sporder == 1
    h_age = head_age[unit]
    h_foreign = head_foreign[unit]
    h_entry = head_entry[unit]
    u = rng.random(p)
    # roles: 0 head, 1 spouse, 2 child, 3 other relative, 4 nonrelative, 5 unmarried partner
    role = np.where(
        sporder == 2,
        np.searchsorted([0.6, 0.68, 0.93, 0.97], u, side="right").choose([1, 5, 2, 3, 4]),
        np.searchsorted([0.82, 0.94], u, side="right").choose([2, 3, 4]),
    )
    role = np.where(is_head, 0, role)
    relp = np.select(
        [role == 0, role == 1, role == 5, role == 2, role == 3, role == 4],
        [0, 1, 13, np.where(rng.random(p) < 0.93, 2, np.where(rng.random(p) < 0.5, 3, 4)),
         rng.choice([5, 6, 7, 8, 9, 10], p), rng.choice([11, 12, 14, 15], p, p=[0.3, 0.5, 0.05, 0.15])],
    )
    relp = np.where(is_head & (kind[unit] == 2), np.where(gq_type[unit] == 2, 16, 17), relp)

    child_span = np.clip(h_age - 17, 1, 35)
    age = np.select(
        [role == 0, (role == 1) | (role == 5), role == 2, role == 3],
        [h_age, np.clip(np.round(h_age + rng.normal(-1.5, 5, p)), 18, 95),
         np.floor(rng.random(p) * child_span), np.floor(rng.random(p) * 90)],
        np.floor(18 + rng.random(p) * 52),
    ).astype(np.int64)
    head_sex = rng.integers(1, 3, n)
    sex = np.where((role == 1) | (role == 5), np.where(rng.random(p) < 0.98, 3 - head_sex[unit], head_sex[unit]),
                   rng.integers(1, 3, p))
    sex = np.where(is_head, head_sex[unit], sex)

    # nativity and year of entry
    ysa_head = year - h_entry
    partner = (role == 1) | (role == 5)
    foreign = np.select(
        [role == 0, partner, role == 2, role == 3],
        [h_foreign, rng.random(p) < np.where(h_foreign, 0.85, 0.06),
         np.where(h_foreign, age > ysa_head, rng.random(p) < 0.02),
         rng.random(p) < np.where(h_foreign, 0.8, 0.05)],
        rng.random(p) < fb_share[unit],
    )
    own_entry = _draw_entry(cdf, p_model, year - age, rng)
    same_as_head = h_foreign & ((role == 2) | (partner & (rng.random(p) < 0.6)))
    entry = np.where(is_head, h_entry, np.where(same_as_head, np.maximum(h_entry, year - age), own_entry))
    cit = np.where(foreign, 5, np.searchsorted([0.975, 0.982], rng.random(p), side="right") + 1)
    yoep = np.where(foreign | (cit >= 2), entry, 0)
    ysa = np.where(foreign, year - entry, 0).astype(np.float64)

    # naturalization
    eligible = np.where(ysa >= 5, 0.93 * _logistic(-2.2 + _param(models, p_model, "naturalization_pace") * (ysa - 5)
                                                  + 0.02 * (age - 35)), np.where(ysa >= 3, 0.06, 0.0))
    eligible = np.where(age < 18, 0.6 * eligible, eligible)
    cit = np.where(foreign & (rng.random(p) < eligible), 4, cit)

    # English ability
    arrival_age = np.maximum(age - ysa, 0)
    eta_fb = (_param(models, p_model, "english_base") + _param(models, p_model, "english_pace") * np.log1p(ysa)
              - 0.04 * np.maximum(arrival_age - 12, 0) + np.where(age < 18, 1.0, 0.0))
    eta = np.where(foreign, eta_fb, np.where(h_foreign, 3.3, 6.5))
    latent = eta + rng.logistic(0, 1, p)
    eng = _ENG_FROM_LATENT[np.searchsorted(_CUTS, latent)]
    eng = np.where(age < 5, -1, eng)

    # work, earnings, income (ages 15+; work from 16)
    growth = 1.027 ** (year - 2006)
    adult = age >= 15
    work_p = _logistic(1.7 - 0.0045 * (age - 40.0) ** 2 - np.where(foreign, 0.9 * np.exp(-ysa / 4), 0.0))
    works = (age >= 16) & (rng.random(p) < work_p)
    weeks = np.where(rng.random(p) < 0.72, 52, rng.integers(1, 52, p))
    weeks = np.where(works, weeks, 0)
    hours = np.where(rng.random(p) < 0.6, 40, np.clip(np.round(rng.normal(34, 12, p)), 1, 99))
    hours = np.where(works, hours, 0).astype(np.int64)
    gap = np.where(foreign, 0.12 + _param(models, p_model, "income_gap")
                   * np.exp(-ysa / _param(models, p_model, "income_pace")), 0.0)
    mu = (9.75 + _param(models, p_model, "income_level") + 0.9 * (1 - np.exp(-(age - 16.0) / 10.0)) - gap
          + 0.25 * (eng <= 1) + np.log(growth))
    earnings = np.exp(mu + rng.normal(0, 0.75, p)) * (weeks / 52.0) ** 0.8 * np.minimum(hours / 40.0, 1.3)
    earnings = np.where(works, earnings, 0.0)
    other = np.where(rng.random(p) < np.where(age >= 62, 0.75, 0.2),
                     np.exp(np.where(age >= 62, 9.6, 8.7) + rng.normal(0, np.where(age >= 62, 0.6, 0.8), p)) * growth, 0.0)
    adjinc = ADJINC[year]
    pernp = np.where(adult, np.rint(earnings / adjinc), 0).astype(np.int64)
    pincp = np.where(adult, pernp + np.rint(np.where(adult, other, 0) / adjinc), 0).astype(np.int64)

    # household income, poverty, tenure
    occupied = kind == 0
    hincp = np.bincount(unit, weights=np.where(adult, pincp, 0), minlength=n).astype(np.int64)
    hinc_dollars = hincp * adjinc
    ratio = np.floor(100.0 * hinc_dollars / poverty_threshold(size, year))
    povpip_unit = np.where(occupied, np.clip(ratio, 0, 501), -1).astype(np.int64)
    povpip = povpip_unit[unit]

    h_ysa = np.where(head_foreign, year - head_entry, 0).astype(np.float64)
    own_logit = (_param(models, u_model, "ownership_level") + 0.04 * (head_age - 45)
                 + 0.55 * np.log(np.maximum(hinc_dollars, 3000) / (55_000 * growth))
                 - np.where(head_foreign, _param(models, u_model, "ownership_gap")
                            * np.exp(-h_ysa / _param(models, u_model, "ownership_pace")), 0.0))
    owns = rng.random(n) < _logistic(own_logit)
    mortgage = rng.random(n) < _logistic(2.5 - 0.08 * (head_age - 40))
    ten = np.where(owns, np.where(mortgage, 1, 2), np.where(rng.random(n) < 0.96, 3, 4))
    ten = np.where(occupied, ten, 0)

    units = {
        "puma": unit_puma,
        "kind": kind,
        "gq_type": gq_type,
        "np": size,
        "first_person": first,
        "hincp": np.where(occupied, hincp, 0),
        "ten": ten,
        "head_foreign": head_foreign,
        "head_entry": np.where(head_foreign, head_entry, 0),
    }
    persons = {
        "unit": unit,
        "sporder": sporder,
        "age": age,
        "sex": sex,
        "relp": relp,
        "foreign": foreign,
        "cit": cit,
        "yoep": yoep,
        "eng": eng,
        "pincp": pincp,
        "pernp": pernp,
        "wkhp": hours,
        "weeks": weeks,
        "povpip": povpip,
    }
    return Population(year=year, layout=layout.reset_index(drop=True), units=units, persons=persons, adjinc=adjinc)
