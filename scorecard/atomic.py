"""Atomic file writes: the one way this library writes output files.

A file is written to a temporary file in the target's directory and moved into
place with :func:`os.replace`, so readers never see a half-written file and an
interrupted run leaves the previous version intact. The file gets the permissions
a plain ``open(target, "w")`` would give it (``0o666`` less the user's umask), not
the ``0o600`` of a temporary file.

Examples
--------
>>> import pathlib, tempfile
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> atomic_write(target, lambda path: pathlib.Path(path).write_text("done"))
PosixPath('...out.txt')
>>> target.read_text()
'done'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes"]


def atomic_write(target: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, then move the result onto ``target``.

    Parameters
    ----------
    target : path
        Final location; its directory is created if needed.
    write : callable
        Writes the whole file to the path it is given.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def _umask() -> int:
    """The process umask (read by setting it and setting it back; no other way in the standard library)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(target: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically."""
    return atomic_write(target, lambda path: Path(path).write_text(text, encoding=encoding))


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    return atomic_write(target, lambda path: Path(path).write_bytes(data))
