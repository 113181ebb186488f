"""Tried as a new user would: the README, quickstart and researcher guide blocks run as written.

Each page's fenced blocks run in order in one fresh folder (the reader's working folder):

* ```` ```sh ```` blocks through ``bash -euo pipefail``;
* ```` ```console ```` blocks run each ``$ `` line; the lines shown after it must appear in what it prints
  (a line holding ``...`` is left out: paths and timings differ), and a shown ``error:`` line means the
  command must fail with exit code 2 (bad input), else it must succeed;
* ```` ```python ```` blocks in a subprocess (``python block.py``), each on its own;
* a ```` ```toml ```` block with ``<!-- file: NAME -->`` on the line before its fence is written to NAME
  (the config the page tells the reader to save), so the commands after it read exactly what is shown;
* a block with ``<!-- not-run: reason -->`` on the line before its fence is skipped, counted and printed
  (network downloads, installing, the test suite itself). At most :data:`MAX_NOT_RUN` per page.

The ``scorecard`` command and ``python`` are the test interpreter's (the worktree on ``PYTHONPATH``).
Before a page runs, the folder holds the files the page tells the reader to download by hand from
data.census.gov and Geocorr (:data:`DOWNLOADS`): the real files from ``../shared/data``. ``make demo`` is run
as ``scorecard demo --scale small``: the same code as the full-size demo (``scorecard demo``) on the small
synthetic data, because the full size takes minutes.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/quickstart.md", "docs/researcher.md")
MAX_NOT_RUN = 3
TIMEOUT = 600

#: What a reader downloads by hand before following the pages (the quickstart says how): name in the working
#: folder -> the same real file under ../shared/data.
DOWNLOADS = {
    "downloads/ACSST5Y2024.S0501-Data.csv": "real/ma_places_acs5_2012_2024/raw_2024_with_moe/ACSST5Y2024.S0501-Data.csv.gz",
    "geocorr/geocorr2018_puma_place_2010.csv": "geography/urban_mobility_geocorr/geocorr2018_puma_place_2010.csv",
    "geocorr/geocorr2022_puma_place_2020.csv": "geography/urban_mobility_geocorr/geocorr2022_puma_place_2020.csv",
}

#: Commands run in a lighter form (see the module docstring): text in a block -> what runs instead.
SUBSTITUTE = {"make demo": "scorecard demo --scale small --output scorecard-demo"}

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
_MARK = re.compile(r"<!--\s*(not-run|file):\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    text: str
    not_run: str = ""
    file: str = ""

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.lang})"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, with the mark on the line before each fence."""
    text = (ROOT / page).read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = _MARK.search(before)
        kind, value = (mark.group(1), mark.group(2)) if mark else ("", "")
        found.append(Block(page, line, match.group(1), match.group(2), not_run=value if kind == "not-run" else "",
                           file=value if kind == "file" else ""))
    return found


def test_the_block_reader_sees_marks_and_languages(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n<!-- not-run: needs the network -->\n```sh\ncurl x\n```\n\n<!-- file: run.toml -->\n"
                    "```toml\n[data]\n```\n```python\nprint(1)\n```\n")
    found = blocks(str(page))  # an absolute path: ROOT / page is the page itself
    assert [(b.lang, b.not_run, b.file, b.text) for b in found] == [
        ("sh", "needs the network", "", "curl x\n"), ("toml", "", "run.toml", "[data]\n"), ("python", "", "", "print(1)\n")]
    assert [b.line for b in found] == [3, 8, 11]


def _environment() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "MPLBACKEND": "Agg",
            "PYTHONWARNINGS": "ignore::DeprecationWarning"}


def _place_downloads(folder: Path, shared: Path) -> None:
    for name, relative in DOWNLOADS.items():
        source = shared_file(shared, relative)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".gz" and target.suffix != ".gz":
            with gzip.open(source, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(source, target)


def _substituted(text: str) -> str:
    for shown, runs in SUBSTITUTE.items():
        text = re.sub(rf"^{re.escape(shown)}\b", runs, text, flags=re.M)
    return text


def console_steps(text: str) -> list[tuple[str, list[str]]]:
    r"""A console block as (command, lines it must print) pairs.

    Examples
    --------
    >>> console_steps("$ scorecard x\nerror: bad\n... 3 s\n$ ls\n")
    [('scorecard x', ['error: bad']), ('ls', [])]
    """
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and line.strip() and "..." not in line:
            steps[-1][1].append(line.strip())
    return steps


def _run(command: list[str], work: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def _failure(block: Block, done: subprocess.CompletedProcess, why: str) -> str:
    return (f"{block} {why} (exit code {done.returncode}):\n{block.text}\n--- stdout ---\n{done.stdout[-3000:]}\n"
            f"--- stderr ---\n{done.stderr[-3000:]}")


def _run_console(block: Block, work: Path, env: dict) -> None:
    for command, shown in console_steps(block.text):
        done = _run(["bash", "-o", "pipefail", "-c", _substituted(command)], work, env)
        expected = 2 if any(line.startswith("error:") for line in shown) else 0
        assert done.returncode == expected, _failure(block, done, f"`{command}`: expected exit code {expected}")
        printed = " ".join((done.stdout + done.stderr).split())
        for line in shown:
            assert " ".join(line.split()) in printed, _failure(block, done, f"`{command}` did not print {line!r}")


@pytest.mark.parametrize("page", PAGES)
def test_every_block_runs_as_written(page, shared_data, tmp_path, capsys):
    work = tmp_path / "reader"
    work.mkdir()
    _place_downloads(work, shared_data)
    env = _environment()
    ran, skipped = [], []
    for i, block in enumerate(blocks(page)):
        if block.not_run:
            skipped.append(block)
            continue
        if block.file:
            (work / block.file).parent.mkdir(parents=True, exist_ok=True)
            (work / block.file).write_text(block.text, encoding="utf-8")
            ran.append(block)
            continue
        if block.lang == "console":
            _run_console(block, work, env)
            ran.append(block)
            continue
        if block.lang == "sh":
            command = ["bash", "-euo", "pipefail", "-c", _substituted(block.text)]
        elif block.lang == "python":
            script = tmp_path / f"block_{i}.py"
            script.write_text(block.text, encoding="utf-8")
            command = [sys.executable, str(script)]
        else:
            continue
        done = _run(command, work, env)
        assert done.returncode == 0, _failure(block, done, "failed")
        ran.append(block)
    with capsys.disabled():
        print(f"\n{page}: ran {len(ran)} blocks; not run {len(skipped)}:"
              + "".join(f"\n  {b}: {b.not_run}" for b in skipped))
    assert len(skipped) <= MAX_NOT_RUN, f"{page}: {len(skipped)} blocks are not run; at most {MAX_NOT_RUN}"
    assert len(ran) >= 2, f"{page}: only {len(ran)} blocks ran"


def test_config_blocks_in_the_docs_are_valid_configs():
    """Every TOML run config shown in the docs parses against the SCHEMA (only its data files may be absent)."""
    from scorecard.cli.config import SCHEMA, ConfigError, parse_config

    checked = 0
    for page in [*PAGES, *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md")))]:
        for block in blocks(page):
            if block.lang != "toml" or not re.search(r"^\[(data|output)\]", block.text, re.M):
                continue
            if not set(re.findall(r"^\[(\w+)\]", block.text, re.M)) <= set(SCHEMA):
                continue  # a pyproject.toml excerpt, not a run config
            try:
                parse_config(block.text, source=str(block))
            except ConfigError as err:
                problems = [line for line in str(err).splitlines() if "no such file" not in line]
                assert not problems, "\n".join(problems)
            checked += 1
    assert checked >= 2
