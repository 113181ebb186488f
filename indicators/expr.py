"""Column expressions: how indicator universes and measures are written.

An expression is a small, immutable tree over harmonized columns. It knows
which columns it reads (so a definition can be checked when it is created),
prints as the formula a city analyst reads in the documentation and in a
Dataset's provenance, and evaluates vectorized over a whole frame.

Missing values follow one rule: a comparison with a missing value is False, and
arithmetic with a missing value is NaN. So ``col("english") == "well"`` is
False for children under 5, whose ``english`` is missing.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"age": [3, 30, 70], "english": pd.Categorical([None, "well", "only"])})
>>> adults = (col("age") >= 18) & col("english").isin(["only", "very_well"])
>>> print(adults)
(age >= 18) & (english in ['only', 'very_well'])
>>> adults.evaluate(frame).tolist()
[False, False, True]
>>> sorted(adults.columns)
['age', 'english']
>>> (col("age") - 5).evaluate(frame).tolist()
[-2.0, 25.0, 65.0]
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Expr", "col", "lit", "where", "ALWAYS"]


class Expr(ABC):
    """Base class of expressions; build them with :func:`col`, :func:`lit`, :func:`where`."""

    __slots__ = ()

    # --- to be provided by subclasses
    @property
    @abstractmethod
    def columns(self) -> frozenset[str]:
        """Names of the columns the expression reads."""

    @abstractmethod
    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        """Values for every row of ``frame``; sub-expressions evaluated through ``cache``."""

    def evaluate(self, frame: pd.DataFrame, cache: dict | None = None) -> np.ndarray:
        """Values for every row of ``frame`` (bool for conditions, float or object otherwise).

        ``cache`` (a dict kept for one frame) shares the values of equal
        sub-expressions between several expressions, e.g. the universe
        ``age >= 5`` of three English-ability indicators; values taken from
        it must not be modified in place.
        """
        if cache is None:
            return self._compute(frame, None)
        key = self._cache_key()
        if key not in cache:
            cache[key] = self._compute(frame, cache)
        return cache[key]

    def _cache_key(self) -> object:
        """Equal keys, equal values on the same frame: node type and printed formula, with the children's keys
        (so that two functions printed alike, which are told apart by identity, stay apart inside larger trees)."""
        return (type(self).__name__, str(self), tuple(child._cache_key() for child in self._children()))

    def _children(self) -> tuple[Expr, ...]:
        """The sub-expressions this node evaluates."""
        return ()

    def literals_against(self) -> Iterable[tuple[str, object]]:
        """(column, literal) pairs this expression compares, for category checks."""
        return ()

    # --- operators build new trees
    def _cmp(self, op: str, other: object) -> Expr:
        return _Compare(op, self, _wrap(other))

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return self._cmp("==", other)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return self._cmp("!=", other)

    def __lt__(self, other: object) -> Expr:
        return self._cmp("<", other)

    def __le__(self, other: object) -> Expr:
        return self._cmp("<=", other)

    def __gt__(self, other: object) -> Expr:
        return self._cmp(">", other)

    def __ge__(self, other: object) -> Expr:
        return self._cmp(">=", other)

    def __and__(self, other: Expr) -> Expr:
        return _Logical.join("&", self, _wrap(other))

    def __or__(self, other: Expr) -> Expr:
        return _Logical.join("|", self, _wrap(other))

    def __invert__(self) -> Expr:
        return _Not(self)

    def __add__(self, other: object) -> Expr:
        return _Arith("+", self, _wrap(other))

    def __sub__(self, other: object) -> Expr:
        return _Arith("-", self, _wrap(other))

    def __mul__(self, other: object) -> Expr:
        return _Arith("*", self, _wrap(other))

    def __truediv__(self, other: object) -> Expr:
        return _Arith("/", self, _wrap(other))

    def __radd__(self, other: object) -> Expr:
        return _Arith("+", _wrap(other), self)

    def __rsub__(self, other: object) -> Expr:
        return _Arith("-", _wrap(other), self)

    def __rmul__(self, other: object) -> Expr:
        return _Arith("*", _wrap(other), self)

    __hash__ = object.__hash__

    def isin(self, values: Iterable[object]) -> Expr:
        """True where the value is one of ``values``."""
        return _IsIn(self, tuple(values))

    def between(self, low: float, high: float) -> Expr:
        """True where ``low <= value <= high`` (both ends included)."""
        return (self >= low) & (self <= high)

    def is_true(self) -> Expr:
        """True where a yes/no column is yes (missing counts as no)."""
        return _Compare("==", self, _Literal(True))

    def notna(self) -> Expr:
        """True where the value is present."""
        return _NotNA(self)

    def isna(self) -> Expr:
        """True where the value is missing."""
        return _Not(_NotNA(self))

    def __bool__(self) -> bool:
        raise TypeError(
            "An indicator expression has no truth value; combine conditions with & | ~ "
            "(not 'and'/'or'/'not'), and wrap each comparison in parentheses."
        )


def _wrap(value: object) -> Expr:
    return value if isinstance(value, Expr) else _Literal(value)


def _numeric(values: object, length: int) -> np.ndarray:
    """Values as float64 with NaN for missing (booleans become 0/1)."""
    if np.isscalar(values) or values is None:
        return np.full(length, np.nan if values is None else float(values))  # type: ignore[arg-type]
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(series.dtype, pd.CategoricalDtype):
        raise TypeError(f"Arithmetic on the categorical column {series.name!r} is not defined.")
    return pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)


@dataclass(frozen=True, slots=True, eq=False)
class _Column(Expr):
    name: str

    @property
    def columns(self) -> frozenset[str]:
        return frozenset({self.name})

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        series = frame[self.name]
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object or pd.api.types.is_string_dtype(series):
            return series.to_numpy(dtype=object, na_value=None)
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype="float64", na_value=np.nan)
        return _numeric(series, len(series))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class _Literal(Expr):
    value: object

    @property
    def columns(self) -> frozenset[str]:
        return frozenset()

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        return np.full(len(frame), self.value, dtype=object if isinstance(self.value, str) else None)

    def __str__(self) -> str:
        return repr(self.value)


_COMPARE: dict[str, Callable] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable] = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def _category_codes(operand: Expr, frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index] | None:
    """(integer codes, categories) when ``operand`` is a categorical column, else None.

    Comparing codes is the fast path: no object arrays of labels are built.
    """
    if isinstance(operand, _Column) and isinstance(frame[operand.name].dtype, pd.CategoricalDtype):
        values = frame[operand.name]
        return values.cat.codes.to_numpy(), values.cat.categories
    return None


def _codes_of(categories: pd.Index, labels) -> np.ndarray:
    """Codes of the ``labels`` that are categories (others match nothing)."""
    return np.array([categories.get_loc(v) for v in labels if v in categories], dtype=np.int64)


def _present(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return pd.notna(values)
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    return ~np.isnan(values.astype("float64"))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.number))


@dataclass(frozen=True, slots=True, eq=False)
class _Binary(Expr):
    """An operator with two operands (comparisons and arithmetic)."""

    op: str
    left: Expr
    right: Expr

    @property
    def columns(self) -> frozenset[str]:
        return self.left.columns | self.right.columns

    def _children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True, eq=False)
class _Compare(_Binary):
    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        coded = _category_codes(self.left, frame) if isinstance(self.right, _Literal) else None
        if coded is not None and self.op in ("==", "!="):
            codes, categories = coded
            hit = np.isin(codes, _codes_of(categories, [self.right.value]))
            return hit if self.op == "==" else (~hit & (codes >= 0))
        if isinstance(self.right, _Literal) and _is_number(self.right.value):
            left = self.left.evaluate(frame, cache)
            if left.dtype.kind == "f":  # numbers against a number: NaN compares False, as the rule says
                with np.errstate(invalid="ignore"):
                    out = np.asarray(_COMPARE[self.op](left, self.right.value), dtype=bool)
                return out & ~np.isnan(left) if self.op == "!=" else out
        left, right = self.left.evaluate(frame, cache), self.right.evaluate(frame, cache)
        present = _present(left) & _present(right)
        out = np.zeros(len(frame), dtype=bool)
        if present.any():
            out[present] = _COMPARE[self.op](left[present], right[present]).astype(bool)
        return out

    def literals_against(self):
        sides = (self.left, self.right)
        for column, literal in (sides, sides[::-1]):
            if isinstance(column, _Column) and isinstance(literal, _Literal):
                yield column.name, literal.value

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True, slots=True, eq=False)
class _IsIn(Expr):
    operand: Expr
    values: tuple

    @property
    def columns(self) -> frozenset[str]:
        return self.operand.columns

    def _children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        coded = _category_codes(self.operand, frame)
        if coded is not None:
            codes, categories = coded
            return np.isin(codes, _codes_of(categories, self.values))
        values = self.operand.evaluate(frame, cache)
        return np.asarray(pd.Series(values, dtype=object).isin(self.values), dtype=bool)

    def literals_against(self):
        if isinstance(self.operand, _Column):
            yield from ((self.operand.name, v) for v in self.values)

    def __str__(self) -> str:
        return f"{self.operand} in {list(self.values)}"


@dataclass(frozen=True, slots=True, eq=False)
class _NotNA(Expr):
    operand: Expr

    @property
    def columns(self) -> frozenset[str]:
        return self.operand.columns

    def _children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        coded = _category_codes(self.operand, frame)
        if coded is not None:
            return coded[0] >= 0
        return _present(self.operand.evaluate(frame, cache))

    def __str__(self) -> str:
        return f"{self.operand} is present"


@dataclass(frozen=True, slots=True, eq=False)
class _Logical(Expr):
    op: str
    operands: tuple[Expr, ...]

    @classmethod
    def join(cls, op: str, left: Expr, right: Expr) -> _Logical:
        """``left op right``, flattening chains of the same operator."""
        parts = [p for side in (left, right) for p in (side.operands if isinstance(side, _Logical) and side.op == op else (side,))]
        return cls(op, tuple(parts))

    @property
    def columns(self) -> frozenset[str]:
        return frozenset().union(*(o.columns for o in self.operands))

    def _children(self) -> tuple[Expr, ...]:
        return self.operands

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        combine = np.logical_and if self.op == "&" else np.logical_or
        result = _as_bool(self.operands[0].evaluate(frame, cache))
        for operand in self.operands[1:]:
            result = combine(result, _as_bool(operand.evaluate(frame, cache)))
        return result

    def literals_against(self):
        for operand in self.operands:
            yield from operand.literals_against()

    def __str__(self) -> str:
        return f" {self.op} ".join(f"({o})" if isinstance(o, (_Compare, _IsIn, _Logical)) else str(o) for o in self.operands)


@dataclass(frozen=True, slots=True, eq=False)
class _Not(Expr):
    operand: Expr

    @property
    def columns(self) -> frozenset[str]:
        return self.operand.columns

    def _children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        return ~_as_bool(self.operand.evaluate(frame, cache))

    def literals_against(self):
        return self.operand.literals_against()

    def __str__(self) -> str:
        return f"not ({self.operand})"


@dataclass(frozen=True, slots=True, eq=False)
class _Arith(_Binary):
    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        n = len(frame)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ARITH[self.op](_numeric(self.left.evaluate(frame, cache), n), _numeric(self.right.evaluate(frame, cache), n))

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, slots=True, eq=False)
class _Function(Expr):
    function: Callable[[pd.DataFrame], object]
    reads: frozenset[str]
    text: str

    @property
    def columns(self) -> frozenset[str]:
        return self.reads

    def _compute(self, frame: pd.DataFrame, cache: dict | None) -> np.ndarray:
        result = self.function(frame[list(self.reads)])
        values = np.asarray(result)
        if values.shape != (len(frame),):
            raise ValueError(f"{self.text}: returned shape {values.shape}; expected ({len(frame)},).")
        if values.dtype == object:
            return values
        return values if values.dtype == bool else values.astype("float64")

    def __str__(self) -> str:
        return self.text

    def _cache_key(self) -> object:
        return ("function", id(self))  # two functions may share a text


def _as_bool(values: np.ndarray) -> np.ndarray:
    if values.dtype == bool:
        return values
    if values.dtype == object:
        return np.asarray(pd.Series(values).fillna(False).astype(bool))
    return np.nan_to_num(values.astype("float64"), nan=0.0) != 0


def col(name: str) -> Expr:
    """A harmonized column (or a researcher's extra column).

    Examples
    --------
    >>> print(col("survey_year") - col("year_of_entry") >= 5)
    (survey_year - year_of_entry) >= 5
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"The 'name' parameter of col must be a non-empty str. Got {name!r} instead.")
    return _Column(name)


def lit(value: object) -> Expr:
    """A constant.

    Examples
    --------
    >>> import pandas as pd
    >>> lit(True).evaluate(pd.DataFrame({"a": [1, 2]})).tolist()
    [True, True]
    """
    return _Literal(value)


def where(function: Callable[[pd.DataFrame], object], *, columns: Iterable[str], text: str) -> Expr:
    """An expression from any vectorized function of some columns.

    ``function`` receives a frame holding only ``columns`` (so it cannot read a
    column it did not declare) and returns one value per row.

    Examples
    --------
    >>> import pandas as pd
    >>> teen = where(lambda f: f["age"].between(13, 19), columns=["age"], text="teenager")
    >>> teen.evaluate(pd.DataFrame({"age": [12, 15]})).tolist()
    [False, True]
    """
    return _Function(function, frozenset(columns), text)


#: The predicate that is true for every record.
ALWAYS = lit(True)
