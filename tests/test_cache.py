"""The Parquet cache: hits, invalidation by content, atomic writes, dtype round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scorecard.microdata import Microdata
from scorecard.sources import acs_pums, cache
from tests.test_acs_pums import housing, person, with_replicates, write


def small_microdata() -> Microdata:
    frame = pd.DataFrame({
        "survey_year": [2019, 2019], "state": ["53", "53"], "puma": ["11601", "11602"], "puma_vintage": [2010, 2010],
        "household_id": ["a", "b"], "person_weight": [10.0, 20.0], "english": ["only", None], "age": [30, 4],
    })
    reps = pd.DataFrame(np.arange(160, dtype="float64").reshape(2, 80), columns=[f"PWGTP{i}" for i in range(1, 81)])
    return Microdata.from_frame(pd.concat([frame, reps], axis=1), person_replicates="PWGTP",
                                attrs={"survey": "acs1", "dollars_year": 2019})


def test_cached_builds_once_then_hits(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return small_microdata()

    first = cache.cached({"reader": "x", "digest": "1"}, build, cache_dir=tmp_path)
    second = cache.cached({"reader": "x", "digest": "1"}, build, cache_dir=tmp_path)
    assert len(calls) == 1
    assert (first.attrs["cache"], second.attrs["cache"]) == ("miss", "hit")
    pd.testing.assert_frame_equal(second.frame, first.frame)
    assert second.frame["english"].dtype == first.frame["english"].dtype  # categorical kept
    assert str(second.frame["state"].dtype) == str(first.frame["state"].dtype)
    np.testing.assert_array_equal(second.person_replicates, first.person_replicates)
    assert second.person_replicates.dtype == np.float32 and second.household_replicates is None
    pd.testing.assert_frame_equal(second.report.to_frame(), first.report.to_frame())
    assert second.attrs["dollars_year"] == 2019
    cache.cached({"reader": "x", "digest": "2"}, build, cache_dir=tmp_path)
    assert len(calls) == 2
    # no temporary files left behind; manifest per entry
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_cache_disabled_never_writes(tmp_path):
    result = cache.cached(["x"], small_microdata, cache_dir=False)
    assert result.attrs["cache"] == "off"
    assert cache.cached(["x"], small_microdata, cache_dir=tmp_path, enabled=False).attrs["cache"] == "off"
    assert list(tmp_path.iterdir()) == []


def test_incomplete_entry_is_rebuilt(tmp_path):
    cache.cached(["y"], small_microdata, cache_dir=tmp_path)
    next(tmp_path.glob("*.frame.parquet")).unlink()
    assert cache.cached(["y"], small_microdata, cache_dir=tmp_path).attrs["cache"] == "miss"


def test_default_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "c"))
    assert cache.default_cache_dir() == tmp_path / "c"
    assert cache.resolve_cache_dir(None) == tmp_path / "c"
    monkeypatch.delenv("SCORECARD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if cache.sys.platform.startswith("linux"):
        assert cache.default_cache_dir() == tmp_path / "xdg" / "integration-scorecard"


def test_file_digest_hashes_full_content(tmp_path):
    big = tmp_path / "big.bin"
    payload = bytearray(3 * (1 << 20) + 17)
    big.write_bytes(payload)
    before = cache.file_digest(big)
    payload[2 * (1 << 20) + 5] = 1  # one byte in the middle of the third block
    big.write_bytes(payload)
    assert cache.file_digest(big) != before


@pytest.fixture
def pums_pair(tmp_path):
    p = write(tmp_path / "ss16p53.csv", with_replicates([person("127", 1), person("128", 1)], "pwgtp"))
    h = write(tmp_path / "ss16h53.csv", with_replicates([housing("127"), housing("128")], "wgtp"))
    return p, h


def test_read_acs_pums_second_read_from_cache(pums_pair, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    first = acs_pums.read_acs_pums(*pums_pair, cache_dir=folder)
    assert first.attrs["cache"] == "miss"

    def fail(*args, **kwargs):
        raise AssertionError("the CSV files were read again")

    monkeypatch.setattr(acs_pums, "_read_uncached", fail)
    second = acs_pums.read_acs_pums(*pums_pair, cache_dir=folder)
    assert second.attrs["cache"] == "hit"
    pd.testing.assert_frame_equal(second.frame, first.frame)
    np.testing.assert_array_equal(second.household_replicates, first.household_replicates)
    assert second.report.read == first.report.read == 2
    # other options -> another entry
    with pytest.raises(AssertionError, match="read again"):
        acs_pums.read_acs_pums(*pums_pair, cache_dir=folder, columns=["age"])


def test_read_acs_pums_changed_file_invalidates(pums_pair, tmp_path):
    folder = tmp_path / "cache"
    first = acs_pums.read_acs_pums(*pums_pair, cache_dir=folder)
    write(pums_pair[0], with_replicates([person("127", 1, AGEP="41"), person("128", 1)], "pwgtp"))
    second = acs_pums.read_acs_pums(*pums_pair, cache_dir=folder)
    assert second.attrs["cache"] == "miss"
    assert (first.frame["age"].iloc[0], second.frame["age"].iloc[0]) == (40, 41)


def test_read_acs_pums_uses_env_cache_dir(pums_pair, tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "env"))
    acs_pums.read_acs_pums(*pums_pair)
    assert list((tmp_path / "env").glob("*.json"))
    assert acs_pums.read_acs_pums(*pums_pair, cache=False).attrs["cache"] == "off"


def test_file_digest_is_remembered_for_a_settled_file_and_recomputed_when_it_changes(tmp_path, monkeypatch):
    import time

    from scorecard.sources import cache as cache_module

    source = tmp_path / "psam_p53.csv"
    source.write_bytes(b"SERIALNO\n1\n")
    memo = tmp_path / "cache"
    content = cache_module.file_digest(source)
    # just written: not remembered (a rewrite within the timestamp granularity would keep the same identity)
    assert cache_module.file_digest(source, memo_dir=memo) == content
    assert not list(memo.glob("digests/*.txt"))
    # two seconds later it is remembered, and the remembered value is what a second call returns
    later = time.time_ns() + 3_000_000_000
    monkeypatch.setattr(cache_module.time, "time_ns", lambda: later)
    assert cache_module.file_digest(source, memo_dir=memo) == content
    (remembered,) = (memo / "digests").glob("*.txt")
    assert remembered.read_text() == content
    remembered.write_text("f" * 32)  # proves the memo is read instead of the file
    assert cache_module.file_digest(source, memo_dir=memo) == "f" * 32
    source.write_bytes(b"SERIALNO\n2\n3\n")  # another size (and times): another identity, hashed again
    assert cache_module.file_digest(source, memo_dir=memo) == cache_module.file_digest(source) != content
