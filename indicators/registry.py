"""The indicator registry: built-ins by decorator, third-party plugins by entry point.

Built-in definitions are registered with :func:`register` when
:mod:`indicators.builtin` is imported. Third-party packages declare

.. code-block:: toml

    [project.entry-points."integration_scorecard.indicators"]
    my_measures = "my_package.measures:INDICATORS"

where the object is an :class:`~indicators.Indicator`, an iterable of them, or
a function returning either. :func:`available` merges built-ins and plugins
once (cached); :func:`refresh` forgets the cache so newly installed plugins are
found. A plugin that fails to import warns and is skipped; it never breaks the
library. A plugin key that clashes with an existing one warns and is skipped.

Examples
--------
>>> import indicators
>>> indicators.get("naturalized").label
'Naturalized citizens among the foreign-born'
>>> indicators.get("englsh_very_well")
Traceback (most recent call last):
...
scorecard.errors.UnknownIndicatorError: No indicator is registered as 'englsh_very_well'. Did you mean 'english_very_well'? See indicators.available() for the full list.
"""

from __future__ import annotations

import difflib
import functools
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

import pandas as pd

from indicators.definition import Indicator
from scorecard.errors import IndicatorDefinitionError, UnknownIndicatorError

__all__ = ["register", "unregister", "get", "resolve", "available", "refresh", "ENTRY_POINT_GROUP", "PluginWarning"]

#: Entry-point group third-party packages use to add indicators.
ENTRY_POINT_GROUP = "integration_scorecard.indicators"

_REGISTERED: dict[str, Indicator] = {}


class PluginWarning(UserWarning):
    """A third-party indicator plugin could not be loaded and was skipped."""


def register(
    definition: Indicator | Callable[[], Indicator] | None = None, *, replace: bool = False
) -> Indicator | Callable:
    """Add an indicator to the registry (function call or decorator).

    Parameters
    ----------
    definition : Indicator or callable returning one
        The definition. Used as a decorator on a function without arguments,
        the function is called once and its result registered; the decorated
        name then holds the :class:`Indicator`.
    replace : bool, default=False
        Allow replacing an existing definition with the same key. Registering
        a definition equal to the one held (a re-run notebook cell) needs no
        ``replace``.

    Returns
    -------
    Indicator

    Examples
    --------
    >>> from indicators import Indicator, col
    >>> @register(replace=True)
    ... def seniors_naturalized() -> Indicator:
    ...     return Indicator(key="seniors_naturalized", label="Naturalized, 65+", domain="civic",
    ...                      universe=(col("nativity") == "foreign_born") & (col("age") >= 65),
    ...                      measure=col("citizenship") == "naturalized")
    >>> get("seniors_naturalized").label
    'Naturalized, 65+'
    >>> unregister("seniors_naturalized")
    """
    if definition is None:
        return functools.partial(register, replace=replace)
    indicator = definition() if callable(definition) and not isinstance(definition, Indicator) else definition
    if not isinstance(indicator, Indicator):
        raise IndicatorDefinitionError(
            getattr(definition, "__name__", "?"),
            f"register() needs an Indicator (or a function returning one); got {type(indicator).__name__}.",
        )
    existing = _REGISTERED.get(indicator.key) or _plugins().get(indicator.key)
    if existing is not None and existing is not indicator and not replace and not _same_definition(existing, indicator):
        raise IndicatorDefinitionError(
            indicator.key, "this key is already registered; choose another key or pass replace=True."
        )
    _REGISTERED[indicator.key] = indicator
    return indicator


def _same_definition(a: Indicator, b: Indicator) -> bool:
    """Same type and same fields (expressions compared by their text): re-running a notebook cell is no conflict."""
    return type(a) is type(b) and a.describe() == b.describe()


def unregister(key: str) -> None:
    """Remove a registered indicator (mainly for tests and notebooks)."""
    _REGISTERED.pop(key, None)


def _load_entry_point(ep) -> list[Indicator]:
    obj = ep.load()
    if callable(obj) and not isinstance(obj, Indicator):
        obj = obj()
    items = [obj] if isinstance(obj, Indicator) else list(obj)
    bad = [type(i).__name__ for i in items if not isinstance(i, Indicator)]
    if bad:
        raise TypeError(f"expected Indicator definitions, got {bad}")
    return items


@functools.lru_cache(maxsize=1)
def _plugins() -> dict[str, Indicator]:
    found: dict[str, Indicator] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            items = _load_entry_point(ep)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the library
            warnings.warn(
                f"Indicator plugin {ep.name!r} ({ep.value}) could not be loaded and was skipped: {exc!r}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        for item in items:
            if item.key in _REGISTERED or item.key in found:
                warnings.warn(
                    f"Indicator plugin {ep.name!r} defines {item.key!r}, which is already registered; skipped.",
                    PluginWarning,
                    stacklevel=2,
                )
                continue
            found[item.key] = item
    return found


def refresh() -> None:
    """Forget loaded plugins, so the next look-up scans entry points again."""
    _plugins.cache_clear()


def _all() -> dict[str, Indicator]:
    return {**_plugins(), **_REGISTERED}


def get(key: str) -> Indicator:
    """The indicator registered as ``key``; an unknown key suggests the closest names."""
    everything = _all()
    if key in everything:
        return everything[key]
    raise UnknownIndicatorError(key, difflib.get_close_matches(key, list(everything), n=3, cutoff=0.6))


def resolve(items: str | Indicator | Iterable[str | Indicator]) -> list[Indicator]:
    """Keys or definitions as a list of definitions (one key each, in order).

    Examples
    --------
    >>> [i.key for i in resolve(["naturalized", get("homeownership")])]
    ['naturalized', 'homeownership']
    """
    if isinstance(items, (str, Indicator)):
        items = [items]
    out = [get(i) if isinstance(i, str) else i for i in items]
    keys = [i.key for i in out]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise IndicatorDefinitionError(duplicated[0], "is requested more than once.")
    if not out:
        raise IndicatorDefinitionError("(none)", "at least one indicator is needed.")
    return out


def available() -> pd.DataFrame:
    """Metadata of every registered indicator, one row each, sorted by domain and key.

    Examples
    --------
    >>> table = available()
    >>> {"english_very_well", "homeownership", "naturalized"} <= set(table.index)
    True
    """
    rows = [ind.describe() for ind in _all().values()]
    return pd.DataFrame(rows).sort_values(["domain", "key"]).set_index("key")
