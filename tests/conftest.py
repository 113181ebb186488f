"""Shared test fixtures: the ../shared/data folder and R's survey package.

Tests that need ``../shared/data`` use the ``shared_data`` fixture: it skips
with a message when the folder is absent, and fails instead when
``SCORECARD_REQUIRE_SHARED=1`` (as in CI). Tests that compare with R use
``rscript``: it skips when R or its survey package is missing, and fails
instead when ``SCORECARD_REQUIRE_R=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("SCORECARD_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _missing(message: str, env: str) -> None:
    if os.environ.get(env) == "1":
        pytest.fail(f"{message} ({env}=1, so this is an error, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skip (or fail in CI) when absent."""
    if not SHARED_DATA.is_dir():
        _missing(f"shared data folder {SHARED_DATA} is absent", "SCORECARD_REQUIRE_SHARED")
    return SHARED_DATA


def shared_file(root: Path, relative: str) -> Path:
    """A file under ../shared/data; skip (or fail in CI) when it is absent."""
    path = root / relative
    if not path.exists():
        _missing(f"shared data file {path} is absent", "SCORECARD_REQUIRE_SHARED")
    return path


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path of Rscript with the survey package; skip (or fail) when missing."""
    exe = shutil.which("Rscript")
    if exe is None:
        _missing("Rscript is not installed (apt-get install r-base-core r-cran-survey)", "SCORECARD_REQUIRE_R")
    probe = subprocess.run([exe, "-e", "library(survey)"], capture_output=True, text=True)
    if probe.returncode != 0:
        _missing("R package 'survey' is not installed (apt-get install r-cran-survey)", "SCORECARD_REQUIRE_R")
    return exe
