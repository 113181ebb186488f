"""Run configs: one TOML file is one reproducible run.

The keys a config may hold are a table (:data:`SCHEMA`), not if-chains: each
key has a type, a default and a line of documentation, and every problem is
reported with its key path in the file, e.g.
``boston.toml: [places].names[2]: "Worcestr city, Massachusetts" is not in the data;
did you mean "Worcester city, Massachusetts"?``. Paths in ``[data]`` are read
relative to the config file. :func:`resolved_toml` writes the config back with
every default filled in and the library version, so the run can be repeated.

Examples
--------
>>> config = parse_config('''
... [data]
... demo = "small"
... [scorecard]
... year = 2022
... [output]
... dir = "out"
... ''', source="run.toml")
>>> config.scorecard["cohort"], config.scorecard["method"], config.data["demo"]
('foreign_born', 'minmax', 'small')
>>> try:
...     parse_config('[scorecard]\\nyaer = 2022\\n[output]\\ndir = "x"', source="run.toml")
... except ConfigError as err:
...     print(err)
run.toml: [scorecard].yaer: unknown key; did you mean 'year'? (keys of [scorecard]: cohort, domains, goalposts, indicators, max_missing, method, progress_from, reliability, scale, targets, weights, year)
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scorecard.errors import MessageError

__all__ = ["ConfigError", "RunConfig", "Key", "SCHEMA", "load_config", "parse_config", "resolved_toml", "key_path"]


class ConfigError(MessageError, ValueError):
    """A run config has an unknown key, a value of the wrong type, a missing file or a place not in the data."""


def key_path(section: str, key: str, index: int | None = None) -> str:
    """The path of a key in a config file, as error messages write it.

    Examples
    --------
    >>> key_path("places", "names", 2)
    '[places].names[2]'
    """
    return f"[{section}].{key}" + ("" if index is None else f"[{index}]")


@dataclass(frozen=True, slots=True)
class Key:
    """One config key: its kind, default and documentation.

    ``kind`` is one of ``str``, ``int``, ``float``, ``bool``, ``list[str]``,
    ``paths`` (list of file paths, a single string allowed), ``pair`` (two
    numbers), ``table`` (a TOML table of numbers or strings) and ``str|false``.
    """

    kind: str
    default: object
    doc: str
    choices: tuple = ()
    required: bool = False


#: Every key a config may hold, by section.
SCHEMA: dict[str, dict[str, Key]] = {
    "data": {
        "tables": Key("paths", [], "published ACS tables: data.census.gov downloads or Census API files"),
        "person": Key("paths", [], "ACS PUMS person files (csv, csv.gz, Census zip), one per state and year"),
        "housing": Key("paths", [], "ACS PUMS housing files, paired with person by position"),
        "crosswalk": Key("paths", [], "Geocorr PUMA-to-place crosswalks (one per PUMA vintage) for PUMS files"),
        "demo": Key("str|false", False, "use the embedded synthetic data instead: \"demo\" or \"small\"",
                    choices=(False, "demo", "small")),
        "survey": Key("str", "", "acs1 or acs5 when the file names do not say it", choices=("", "acs1", "acs5")),
    },
    "places": {
        "names": Key("list[str]", [], "places on the card, by name or Census code (default: every place in the data)"),
        "focus": Key("str", "", "the city the report is about (default: the first of names)"),
    },
    "scorecard": {
        "year": Key("int", 0, "survey year of the card (default: the latest in the data)"),
        "cohort": Key("str", "foreign_born", "cohort scored: foreign_born, native, all, or an arrival cohort"),
        "indicators": Key("list[str]", [], "indicators on the card (default: every indicator in the data)"),
        "method": Key("str", "minmax", "scoring method: minmax, zscore, percentile, parity, target, goalposts"),
        "scale": Key("pair", [1, 5], "score scale, worst to best"),
        "weights": Key("table", {}, "indicator -> weight in the composite (default: equal)"),
        "domains": Key("table", {}, "indicator -> domain name (default: the indicators' own domains)"),
        "targets": Key("table", {}, "indicator -> the goal the office sets, for method = \"target\""),
        "goalposts": Key("pairs", {}, "indicator -> [low, high] fixed bounds, for method = \"goalposts\" "
                         "(shares default to [0, 1])"),
        "reliability": Key("str", "exclude", "unreliable inputs: exclude or include", choices=("exclude", "include")),
        "max_missing": Key("int", -1, "withhold a composite with more missing inputs than this (-1: library default)"),
        "progress_from": Key("int", 0, "earlier survey year for progress statements (0: none)"),
    },
    "cohorts": {
        "arrival_first": Key("int", 1970, "first arrival decade (microdata only)"),
        "arrival_last": Key("int", 2020, "last arrival decade (microdata only; open-ended)"),
    },
    "output": {
        "dir": Key("str", "", "folder for estimates, scorecard tables, report and charts", required=True),
        "formats": Key("list[str]", ["csv", "parquet", "netcdf", "html"], "outputs to write",
                       choices=("csv", "parquet", "netcdf", "html", "pdf", "png")),
    },
}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_paths(value, where: str, base: Path) -> tuple[list[Path], list[str]]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        return [], [f"{where}: expected a list of file paths (strings); got {value!r}"]
    paths, problems = [], []
    for i, item in enumerate(items):
        path = (base / item).expanduser()
        if not path.exists():
            problems.append(f"{where}[{i}]: no such file {str(path)!r}")
        paths.append(path)
    return paths, problems


def _CHECKS_PAIR(value) -> bool:  # noqa: N802 - a check in the table below
    return isinstance(value, list) and len(value) == 2 and all(_is_number(x) for x in value)


_CHECKS: dict[str, Callable[[object], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "pair": lambda v: isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v),
    "table": lambda v: isinstance(v, dict) and all(_is_number(x) or isinstance(x, str) for x in v.values()),
    "str|false": lambda v: v is False or isinstance(v, str),
    "pairs": lambda v: isinstance(v, dict) and all(_CHECKS_PAIR(x) for x in v.values()),
}
_KIND_WORDS = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
               "list[str]": "a list of strings", "pair": "two numbers, e.g. [1, 5]",
               "table": "a table of numbers or strings", "str|false": "a string or false",
               "pairs": "a table of [low, high] pairs, e.g. { homeownership = [0.2, 0.8] }"}


@dataclass(frozen=True)
class RunConfig:
    """A validated run config: one dict per section, every default filled in; ``source`` names the file."""

    data: dict
    places: dict
    scorecard: dict
    cohorts: dict
    output: dict
    source: str = "config"
    base: Path = field(default_factory=Path.cwd)

    def error(self, section: str, key: str, message: str, index: int | None = None) -> ConfigError:
        """A :class:`ConfigError` naming this file and the key path."""
        return ConfigError(f"{self.source}: {key_path(section, key, index)}: {message}")

    @property
    def output_dir(self) -> Path:
        return (self.base / self.output["dir"]).expanduser()


def parse_config(text: str, *, source: str = "config", base: Path | None = None) -> RunConfig:
    """Validate a config's TOML text; raise one :class:`ConfigError` listing every problem with its key path."""
    base = base or Path.cwd()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from None
    problems: list[str] = []
    for section in raw:
        if section not in SCHEMA:
            close = difflib.get_close_matches(section, SCHEMA, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            problems.append(f"{source}: [{section}]: unknown section{hint} (sections: {', '.join(SCHEMA)})")
        elif not isinstance(raw[section], dict):
            problems.append(f"{source}: {section}: expected a section [{section}], got a value")
    resolved: dict[str, dict] = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {}) if isinstance(raw.get(section, {}), dict) else {}
        values: dict = {}
        for name in given:
            if name not in keys:
                close = difflib.get_close_matches(name, keys, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{source}: {key_path(section, name)}: unknown key{hint} (keys of [{section}]: "
                                f"{', '.join(sorted(keys))})")
        for name, key in keys.items():
            where = f"{source}: {key_path(section, name)}"
            if name not in given:
                if key.required:
                    problems.append(f"{where}: required ({key.doc})")
                values[name] = key.default
                continue
            value = given[name]
            if key.kind == "paths":
                values[name], found = _check_paths(value, where, base)
                problems += found
                continue
            if not _CHECKS[key.kind](value):
                problems.append(f"{where}: expected {_KIND_WORDS[key.kind]}; got {value!r}")
                continue
            if key.choices:
                items = value if isinstance(value, list) else [value]
                for i, item in enumerate(items):
                    if item not in key.choices:
                        shown = ", ".join(repr(c) for c in key.choices)
                        suffix = f"[{i}]" if isinstance(value, list) else ""
                        problems.append(f"{where}{suffix}: {item!r} is not one of {shown}")
            values[name] = value
        resolved[section] = values
    data = resolved["data"]
    if not problems and not (data["tables"] or data["person"] or data["demo"]):
        problems.append(f"{source}: [data]: give tables = [...], person = [...] (with housing and crosswalk), "
                        "or demo = \"demo\"")
    if not problems and data["person"] and data["housing"] and len(data["person"]) != len(data["housing"]):
        problems.append(f"{source}: [data].housing: {len(data['housing'])} files for {len(data['person'])} person "
                        "files; give one housing file per person file, in the same order")
    if problems:
        raise ConfigError("\n".join(problems))
    return RunConfig(**resolved, source=source, base=base)


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run config file (paths in it are relative to its folder)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file (expected a TOML file; see docs/cli.md)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save the config as UTF-8") from None
    return parse_config(text, source=path.name, base=path.resolve().parent)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def resolved_toml(config: RunConfig, *, extra: Mapping[str, object] | None = None) -> str:
    """The config with every default filled in and absolute paths, as TOML text (written next to the outputs).

    Examples
    --------
    >>> config = parse_config('[data]\\ndemo = "small"\\n[output]\\ndir = "out"', source="run.toml")
    >>> again = parse_config(resolved_toml(config), source="resolved.toml")
    >>> all(getattr(again, s) == getattr(config, s) for s in SCHEMA)
    True
    """
    from scorecard import __version__

    lines = [f"# Resolved run config ({config.source}), integration-scorecard {__version__}.",
             "# Every default is filled in; run it again with: scorecard build <this file>"]
    for key, value in (extra or {}).items():
        lines.append(f"# {key}: {value}")
    for section in SCHEMA:
        lines.append(f"\n[{section}]")
        for name, value in getattr(config, section).items():
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
