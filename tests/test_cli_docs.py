"""docs/cli.md documents every config key and every command option: its generated parts equal what the code gives."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

from scorecard.cli.config import SCHEMA, Key
from scorecard.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_page_is_what_the_generator_writes():
    text = PAGE.read_text(encoding="utf-8")
    assert _generator().render(text) == text, "docs/cli.md is out of date with the code: run python docs/gen_cli.py"


def test_every_config_key_has_a_row():
    text = PAGE.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `\[(\w+)\]\.(\w+)` \|", text, re.M))
    assert rows == {(section, name) for section, keys in SCHEMA.items() for name in keys}


def test_a_key_added_without_docs_fails(monkeypatch):
    """The check above is not vacuous: a new SCHEMA key changes what the page must say."""
    text = PAGE.read_text(encoding="utf-8")
    schema = {**SCHEMA, "output": {**SCHEMA["output"], "title": Key("str", "", "report title")}}
    rendered = _generator().render(text, schema=schema)
    assert rendered != text and "| `[output].title` | a string | `\"\"` | report title |" in rendered


def test_every_command_option_is_listed():
    text = PAGE.read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        section = text.split(f"### `scorecard {name}`", 1)
        assert len(section) == 2, f"docs/cli.md has no section for `scorecard {name}`"
        body = section[1].split("###", 1)[0]
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in body, f"`scorecard {name} {flag}` is not in docs/cli.md"


@pytest.mark.parametrize("marker", ["config-keys", "commands"])
def test_generated_parts_are_marked(marker):
    text = PAGE.read_text(encoding="utf-8")
    assert f"<!-- {marker}:start" in text and f"<!-- {marker}:end -->" in text
