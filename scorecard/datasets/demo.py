"""The embedded default data: synthetic ACS PUMS files, generated once and cached.

Examples
--------
>>> paths = demo_paths(scale="small")
>>> sorted(paths)
['crosswalks', 'housing', 'metadata', 'person', 'truth']
>>> truth = demo_truth(scale="small")
>>> truth.query("indicator == 'naturalized' and cohort == 'foreign_born'")["value"].between(0, 1).all()
np.True_
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

import scorecard
from scorecard.datasets.synthetic import DEFAULT_SEED, GENERATOR_VERSION, SCALES, read_truth, write_pums

__all__ = ["demo", "demo_paths", "demo_truth", "cache_directory"]


def cache_directory(*, scale: str = "demo", seed: int = DEFAULT_SEED) -> Path:
    """Folder of the cached demo files.

    ``$SCORECARD_CACHE_DIR`` if set, else ``~/.cache/integration-scorecard``,
    then ``demo-<library version>.<generator version>-<seed>-<scale>``.
    """
    base = os.environ.get("SCORECARD_CACHE_DIR") or Path.home() / ".cache" / "integration-scorecard"
    return Path(base) / f"demo-{scorecard.__version__}.{GENERATOR_VERSION}-{seed}-{scale}"


def _ensure(scale: str, refresh: bool) -> Path:
    if scale not in SCALES:
        raise ValueError(f"The 'scale' parameter must be one of {sorted(SCALES)}. Got {scale!r} instead.")
    folder = cache_directory(scale=scale)
    manifest = folder / "manifest.json"
    if refresh or not manifest.exists():
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        files = write_pums(tmp, seed=DEFAULT_SEED, scale=scale)
        relative = {
            "person": [str(p.relative_to(tmp)) for p in files.person],
            "housing": [str(p.relative_to(tmp)) for p in files.housing],
            "crosswalks": {str(v): str(p.relative_to(tmp)) for v, p in files.crosswalks.items()},
            "truth": files.truth.name,
            "metadata": files.metadata.name,
        }
        (tmp / "manifest.json").write_text(json.dumps(relative, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def demo_paths(*, scale: str = "demo", refresh: bool = False) -> dict:
    """Paths of the demo files, generating them on first use.

    Returns
    -------
    dict
        ``person`` and ``housing`` (lists of Path), ``crosswalks`` (PUMA
        vintage -> Path), ``truth`` and ``metadata`` (Path).
    """
    folder = _ensure(scale, refresh)
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "person": [folder / p for p in manifest["person"]],
        "housing": [folder / p for p in manifest["housing"]],
        "crosswalks": {int(v): folder / p for v, p in manifest["crosswalks"].items()},
        "truth": folder / manifest["truth"],
        "metadata": folder / manifest["metadata"],
    }


def demo_truth(*, scale: str = "demo", refresh: bool = False) -> pd.DataFrame:
    """The generating truth of the demo data, one row per place, year, cohort and indicator.

    Columns: ``place, place_name, year, puma_vintage, cohort, indicator,
    statistic, value, numerator, denominator, n_persons``. Dollar values are
    in survey-year dollars (PUMS amount × ADJINC).
    """
    return read_truth(demo_paths(scale=scale, refresh=refresh)["truth"])


def demo(*, scale: str = "demo", refresh: bool = False) -> scorecard.Microdata:
    """The embedded default microdata: synthetic ACS PUMS for six fictional cities.

    Generates the files once into the cache folder (see
    :func:`cache_directory`), then reads them with
    :func:`scorecard.read_acs_pums`.

    Parameters
    ----------
    scale : {"demo", "small"}, default="demo"
        ``"demo"``: 2006-2023, about 1,500-3,000 sampled persons per
        city-year; ``"small"``: four years, a few hundred persons per city-year.
    refresh : bool, default=False
        Regenerate the files even if they are cached.

    Returns
    -------
    scorecard.Microdata
    """
    paths = demo_paths(scale=scale, refresh=refresh)
    return scorecard.read_acs_pums(person=paths["person"], housing=paths["housing"])
