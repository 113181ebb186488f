"""Output files keep the user's umask (issue 11): atomic writes used to leave them 0600."""

from __future__ import annotations

import os
import stat

import pytest

from scorecard.atomic import atomic_write_bytes, atomic_write_text


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_write_gives_the_permissions_of_a_plain_open(tmp_path, umask):
    previous = os.umask(umask)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")  # what open(..., "w") gives: 0o666 & ~umask
        written = atomic_write_text(tmp_path / "atomic.txt", "x")
        also = atomic_write_bytes(tmp_path / "atomic.bin", b"x")
    finally:
        os.umask(previous)
    expected = stat.S_IMODE(plain.stat().st_mode)
    assert expected == 0o666 & ~umask
    assert stat.S_IMODE(written.stat().st_mode) == expected
    assert stat.S_IMODE(also.stat().st_mode) == expected
