"""The indicator definition: an immutable, self-checking description of one measure.

Definitions see harmonized columns only (:mod:`scorecard.schema`), never raw
PUMS or IPUMS codes. A definition is checked when it is created: its key, its
statistic, the columns it reads, the categories it compares against, and that
its universe evaluates to booleans. A broken definition therefore fails where
it is written, not later inside an estimation.

Examples
--------
>>> from indicators.expr import col
>>> owners = Indicator(
...     key="owner_share",
...     label="Householders who own",
...     domain="housing",
...     universe=col("is_householder").is_true(),
...     measure=col("tenure").isin(["owned_mortgage", "owned_free"]),
...     unit="household",
...     weight="household",
... )
>>> sorted(owners.columns)
['is_householder', 'tenure']
>>> Indicator(key="typo", label="x", domain="english", universe=col("age") >= 5,
...           measure=col("english") == "very well")
Traceback (most recent call last):
...
scorecard.errors.IndicatorDefinitionError: Indicator 'typo': compares column 'english' with 'very well', which is not one of its categories ['only', 'very_well', 'well', 'not_well', 'not_at_all'].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from indicators.expr import ALWAYS, Expr
from scorecard import schema
from scorecard.errors import IndicatorDefinitionError, MissingColumnsError

__all__ = ["Indicator", "Evaluation", "STATISTICS", "Statistic"]

Statistic = Literal["proportion", "total", "mean", "median", "ratio"]
#: Statistics the estimator computes, with what each needs.
STATISTICS: dict[str, str] = {
    "proportion": "weighted share of the universe where `measure` is true",
    "total": "weighted sum of `measure` over the universe (a count when `measure` is a condition)",
    "mean": "weighted mean of `measure` over the universe",
    "median": "weighted median of `measure` over the universe",
    "ratio": "weighted sum of `measure` over weighted sum of `denominator`, both over the universe",
}
_UNITS = ("person", "household")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-record result of evaluating an indicator.

    ``universe`` (bool) marks records counted; ``value`` is the measure
    (float; bool for conditions), zero outside the universe; ``denominator``
    is set for ratios.
    ``missing_value`` counts universe records whose measure was missing; they
    are excluded from the universe (and reported), never counted as zero.
    """

    universe: np.ndarray
    value: np.ndarray
    denominator: np.ndarray | None
    missing_value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Indicator:
    """One documented measure of immigrant integration.

    Parameters
    ----------
    key : str
        Identifier, unique in the registry (a Python identifier).
    label : str
        Short text a chart shows.
    domain : str
        Family: ``"english"``, ``"income"``, ``"housing"``, ``"civic"`` or a
        researcher's own.
    universe : Expr
        Condition selecting the records counted (harmonized columns only).
    measure : Expr, optional
        Condition (proportion, count) or numeric value (mean, median, total,
        ratio numerator). Defaults to "always true" (a count of the universe).
    statistic : {"proportion", "total", "mean", "median", "ratio"}
    denominator : Expr, optional
        Denominator of a ``"ratio"``.
    unit : {"person", "household"}
        What one record of the universe is.
    weight : {"person", "household"}
        Which weights (full-sample and replicate) to use.
    higher_is_better : bool or None
        Direction for scoring; None for descriptive counts.
    dollars : bool
        Whether the value is money in constant dollars.
    description : str
        Formula, universe and convention in words.
    references : tuple of str
        Published conventions followed.
    extra_columns : tuple of str
        Non-schema columns the definition reads (researchers' own columns);
        they must be present in the microdata at estimation time.
    parameters : dict
        Parameters the definition was built with (e.g. ``{"min_age": 5}``),
        for documentation and provenance.
    """

    key: str
    label: str
    domain: str
    universe: Expr
    measure: Expr = ALWAYS
    statistic: Statistic = "proportion"
    denominator: Expr | None = None
    unit: Literal["person", "household"] = "person"
    weight: Literal["person", "household"] = "person"
    higher_is_better: bool | None = True
    dollars: bool = False
    description: str = ""
    references: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    parameters: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        fail = lambda problem: IndicatorDefinitionError(str(self.key), problem)  # noqa: E731
        if not isinstance(self.key, str) or not self.key.isidentifier():
            raise fail("the key must be a Python identifier (letters, digits, underscores).")
        if self.statistic not in STATISTICS:
            raise fail(f"statistic {self.statistic!r} is not supported; use one of {sorted(STATISTICS)}.")
        for name in ("unit", "weight"):
            if getattr(self, name) not in _UNITS:
                raise fail(f"{name} must be one of {list(_UNITS)}; got {getattr(self, name)!r}.")
        for name in ("universe", "measure"):
            if not isinstance(getattr(self, name), Expr):
                raise fail(f"{name} must be an expression built with indicators.col(...); got {type(getattr(self, name)).__name__}.")
        if (self.statistic == "ratio") != (self.denominator is not None):
            raise fail("a 'ratio' needs a denominator expression, and only a ratio may have one.")
        known = set(schema.COLUMNS) | set(self.extra_columns)
        unknown = self.columns - known
        if unknown:
            raise fail(
                f"reads columns {sorted(unknown)} that are not harmonized columns; use harmonized names "
                f"({', '.join(sorted(schema.COLUMNS))}) or declare your own in extra_columns."
            )
        for column, value in self._literals():
            spec = schema.COLUMNS.get(column)
            if spec is not None and spec.dtype == "category" and value is not None and value not in spec.categories:
                raise fail(
                    f"compares column {column!r} with {value!r}, which is not one of its categories {list(spec.categories)}."
                )
        self._probe()

    # ------------------------------------------------------------------ helpers
    @property
    def columns(self) -> frozenset[str]:
        """Every column the definition reads."""
        parts = [self.universe, self.measure] + ([self.denominator] if self.denominator is not None else [])
        return frozenset().union(*(p.columns for p in parts))

    @property
    def weight_column(self) -> str:
        """Name of the full-sample weight column used."""
        return f"{self.weight}_weight"

    def _literals(self):
        for part in (self.universe, self.measure, self.denominator):
            if part is not None:
                yield from part.literals_against()

    def _probe(self) -> None:
        """Evaluate on a small frame covering every category, to catch type errors now."""
        frame = schema.example_frame()
        for name in self.extra_columns:
            frame[name] = np.zeros(len(frame))
        try:
            universe = self.universe.evaluate(frame)
            measure = self.measure.evaluate(frame)
            denominator = None if self.denominator is None else self.denominator.evaluate(frame)
        except Exception as exc:  # noqa: BLE001 - re-raised with the definition named
            raise IndicatorDefinitionError(self.key, f"cannot be evaluated on harmonized data: {exc}") from exc
        if universe.dtype != bool:
            raise IndicatorDefinitionError(
                self.key, f"the universe must be a condition (true/false per record); {self.universe} gives {universe.dtype} values."
            )
        if self.statistic == "proportion" and measure.dtype != bool:
            raise IndicatorDefinitionError(
                self.key, f"a proportion needs a condition as measure; {self.measure} gives {measure.dtype} values."
            )
        for part, values in (("measure", measure), ("denominator", denominator)):
            if values is not None and values.dtype == object:
                raise IndicatorDefinitionError(self.key, f"the {part} must be numeric or a condition, not text/categories.")

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, frame: pd.DataFrame, *, source: str = "microdata", cache: dict | None = None) -> Evaluation:
        """Universe mask and per-record value over ``frame`` (vectorized).

        Records of the universe whose measure (or denominator) is missing are
        taken out of the universe and counted in ``missing_value``. Pass the
        same ``cache`` dict when evaluating several indicators on one frame so
        that shared sub-expressions are computed once.

        Examples
        --------
        >>> import pandas as pd
        >>> from indicators.expr import col
        >>> mean_age = Indicator(key="mean_age", label="Mean age", domain="demography",
        ...     universe=col("age") >= 0, measure=col("age"), statistic="mean", higher_is_better=None)
        >>> result = mean_age.evaluate(pd.DataFrame({"age": pd.array([10, None, 30], dtype="Int16")}))
        >>> result.universe.tolist(), result.value.tolist()
        ([True, False, True], [10.0, 0.0, 30.0])
        """
        missing = self.columns - set(frame.columns)
        if missing:
            raise MissingColumnsError(
                source,
                missing,
                f"Indicator {self.key!r} reads them; map them in the reader or choose indicators this source supports.",
            )
        universe = self.universe.evaluate(frame, cache).copy()
        measure = self.measure.evaluate(frame, cache)
        if measure.dtype == bool and self.denominator is None:  # a condition is never missing: no float copies
            return Evaluation(universe=universe, value=measure & universe, denominator=None, missing_value=0)
        value = measure.astype("float64")
        present = ~np.isnan(value)
        denominator = None
        if self.denominator is not None:
            denominator = self.denominator.evaluate(frame, cache).astype("float64")
            present &= ~np.isnan(denominator)
            denominator = np.where(universe & present, denominator, 0.0)
        missing_value = int((universe & ~present).sum())
        universe &= present
        value = np.where(universe, value, 0.0)
        return Evaluation(universe=universe, value=value, denominator=denominator, missing_value=missing_value)

    def describe(self) -> dict[str, object]:
        """Metadata as plain values (a row of :func:`indicators.available`)."""
        return {
            "key": self.key,
            "label": self.label,
            "domain": self.domain,
            "statistic": self.statistic,
            "unit": self.unit,
            "weight": self.weight,
            "universe": str(self.universe),
            "measure": str(self.measure),
            "denominator": None if self.denominator is None else str(self.denominator),
            "higher_is_better": self.higher_is_better,
            "dollars": self.dollars,
            "columns": ", ".join(sorted(self.columns)),
            "description": self.description,
            "references": "; ".join(self.references),
        }
