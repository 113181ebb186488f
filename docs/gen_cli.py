"""Regenerate the generated parts of docs/cli.md from the code: ``python docs/gen_cli.py``.

Two parts are written between markers in docs/cli.md: the config key reference (from
:data:`scorecard.cli.config.SCHEMA`) and the command options (from the ``scorecard`` argument parser).
tests/test_cli_docs.py fails when docs/cli.md differs from what this script writes, so a key or an
option added without its documentation line fails the tests.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
_KIND = {"paths": "list of file paths", "str|false": "string or false"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def config_keys(schema=None) -> str:
    """The config key reference as a markdown table, one row per key of ``schema``."""
    from scorecard.cli.config import _KIND_WORDS, SCHEMA, _toml_value

    schema = SCHEMA if schema is None else schema
    rows = ["| key | type | default | what it does |", "|---|---|---|---|"]
    for section, keys in schema.items():
        for name, key in keys.items():
            kind = _KIND.get(key.kind, _KIND_WORDS.get(key.kind, key.kind))
            default = "(required)" if key.required else f"`{_toml_value(key.default)}`"
            doc = key.doc + (f"; one of {', '.join(f'`{_toml_value(c)}`' for c in key.choices)}" if key.choices else "")
            rows.append(f"| `[{section}].{name}` | {kind} | {_cell(default)} | {_cell(doc)} |")
    return "\n".join(rows)


def commands(parser: argparse.ArgumentParser | None = None) -> str:
    """Every ``scorecard`` command and its arguments, as markdown sections."""
    from scorecard.cli.main import build_parser

    parser = parser or build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, command in sub.choices.items():
        out += [f"### `scorecard {name}`", "", command.description or "", "",
                "| argument | what it does |", "|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flag = ", ".join(action.option_strings) or action.dest
            if action.nargs in ("+", "*"):
                flag += " FILE ..." if action.option_strings else " ..."
            elif action.option_strings and action.nargs != 0:
                flag += f" {action.metavar or action.dest.upper()}"
            help_text = action.help or ""
            if action.choices:
                help_text += f" (one of: {', '.join(map(str, action.choices))})"
            if action.required and action.option_strings:
                help_text += " (required)"
            out.append(f"| `{flag}` | {_cell(help_text)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render(text: str, *, schema=None, parser=None) -> str:
    """``text`` (docs/cli.md) with its generated parts rewritten."""
    for marker, body in (("config-keys", config_keys(schema)), ("commands", commands(parser))):
        pattern = re.compile(rf"(<!-- {marker}:start[^>]*-->\n).*?(<!-- {marker}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{PAGE}: the markers <!-- {marker}:start --> ... <!-- {marker}:end --> are missing")
        text = pattern.sub(lambda m, body=body: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    PAGE.write_text(render(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PAGE}")
