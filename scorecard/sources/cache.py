"""A content-addressed on-disk cache of harmonized :class:`~scorecard.Microdata`.

Readers of large source files (ACS PUMS CSVs, IPUMS extracts) harmonize once
and load the result from Parquet afterwards. An entry is keyed by a hash of

* the full bytes of every source file (:func:`file_digest`, BLAKE2b streamed in
  1 MiB blocks; any changed byte gives a new key),
* the reader's name and options (anything JSON-serializable),
* the library version and :data:`FORMAT_VERSION` of this cache layout.

API for readers
---------------
``cached(key_parts, build, *, cache_dir=None, enabled=True) -> Microdata``
    Return the entry for ``key_parts`` if present, else call ``build()``,
    store its result and return it. ``key_parts`` is any JSON-serializable
    value; put ``file_digest(path)`` of each source in it (do not put paths
    only, they do not change when the content does).
``file_digest(path) -> str``
    Hex BLAKE2b digest of a file's full content.
``resolve_cache_dir(cache_dir) -> Path | None``
    ``None`` -> the default directory, ``False`` -> caching off, else the path.
``default_cache_dir() -> Path``
    ``$SCORECARD_CACHE_DIR`` if set, else the platform cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on
    macOS, ``%LOCALAPPDATA%`` on Windows) plus ``integration-scorecard``.
``save_microdata(micro, directory, key)`` / ``load_microdata(directory, key)``
    The storage itself, if a reader needs it directly.

Layout of one entry (``<key>`` is a 32-hex-digit digest)::

    <key>.frame.parquet          harmonized frame (dtypes kept: categoricals, Int16, string)
    <key>.person_replicates.npy  float32 (N, 80), if present
    <key>.household_replicates.npy
    <key>.report.parquet         RecordReport entries
    <key>.json                   attrs + list of the files above; written last

Every file is written to a temporary file in the same directory and moved
into place with :func:`os.replace`, and the JSON manifest is written last, so
a reader never sees a half-written entry (an interrupted write leaves only
orphan files that a later write replaces).

Examples
--------
>>> import tempfile, pandas as pd
>>> from scorecard.microdata import Microdata
>>> calls = []
>>> def build():
...     calls.append(1)
...     frame = pd.DataFrame({"survey_year": [2019], "state": ["53"], "puma": ["11601"],
...                           "puma_vintage": [2010], "household_id": ["a"], "person_weight": [10.0]})
...     return Microdata.from_frame(frame)
>>> folder = tempfile.mkdtemp()
>>> first = cached(["example", 1], build, cache_dir=folder)
>>> again = cached(["example", 1], build, cache_dir=folder)
>>> len(calls), again.frame.equals(first.frame)
(1, True)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.atomic import atomic_write
from scorecard.microdata import Microdata, RecordReport

__all__ = [
    "FORMAT_VERSION",
    "cache_key",
    "cached",
    "default_cache_dir",
    "file_digest",
    "load_microdata",
    "resolve_cache_dir",
    "save_microdata",
]

#: Version of the on-disk layout; bump it when the layout or harmonization changes.
FORMAT_VERSION = 1
_BLOCK = 1 << 20
_MATRICES = ("person_replicates", "household_replicates")


def default_cache_dir() -> Path:
    """The cache directory used when a reader is given ``cache_dir=None``.

    Examples
    --------
    >>> default_cache_dir().name in {"integration-scorecard"} or "SCORECARD_CACHE_DIR" in os.environ
    True
    """
    override = os.environ.get("SCORECARD_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "integration-scorecard"


def resolve_cache_dir(cache_dir: str | os.PathLike | bool | None) -> Path | None:
    """``None``/``True`` -> default directory, ``False`` -> ``None`` (off), else the path.

    Examples
    --------
    >>> resolve_cache_dir(False) is None
    True
    >>> resolve_cache_dir("/tmp/x").as_posix()
    '/tmp/x'
    """
    if cache_dir is False:
        return None
    if cache_dir is None or cache_dir is True:
        return default_cache_dir()
    return Path(cache_dir).expanduser()


def file_digest(path: str | os.PathLike, *, memo_dir: str | os.PathLike | None = None) -> str:
    """Hex BLAKE2b digest of the full content of ``path``, read in 1 MiB blocks.

    With ``memo_dir`` (a cache folder), the digest is remembered under the file's identity (absolute
    path, inode, size, modification and status-change times in nanoseconds) in ``memo_dir/digests/``, so
    a cache hit on a 1 GB CSV does not read the CSV again; any change of the file (a rewrite, a copy over it,
    an edit) changes its identity and the content is read and hashed again. A file changed in the last
    two seconds is not remembered (timestamps are coarser than a fast rewrite; as git's "racy" entries).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
    ...     _ = handle.write(b"SERIALNO\\n1\\n")
    >>> len(file_digest(handle.name))
    32
    >>> folder = tempfile.mkdtemp()
    >>> file_digest(handle.name, memo_dir=folder) == file_digest(handle.name) == file_digest(handle.name, memo_dir=folder)
    True
    """
    memo = None
    if memo_dir is not None:
        info = os.stat(path)
        identity = json.dumps([str(Path(path).resolve()), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns])
        memo = Path(memo_dir) / "digests" / f"{hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()}.txt"
        try:
            known = memo.read_text(encoding="ascii").strip()
        except OSError:
            known = ""
        if len(known) == 32:
            return known
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    value = digest.hexdigest()
    settled = memo is not None and time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > 2_000_000_000
    if settled:
        with contextlib.suppress(OSError):  # a read-only cache folder: the digest is just not remembered
            memo.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(memo, lambda target: Path(target).write_text(value, encoding="ascii"))
    return value


def cache_key(key_parts: object) -> str:
    """Digest of ``key_parts`` (JSON-serializable), the library version and the layout version.

    Examples
    --------
    >>> cache_key(["a", 1]) == cache_key(["a", 1]) != cache_key(["a", 2])
    True
    """
    from scorecard import __version__

    payload = json.dumps([FORMAT_VERSION, __version__, key_parts], sort_keys=True, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def cached(
    key_parts: object,
    build: Callable[[], Microdata],
    *,
    cache_dir: str | os.PathLike | bool | None = None,
    enabled: bool = True,
) -> Microdata:
    """Load the entry for ``key_parts`` or build, store and return it.

    Parameters
    ----------
    key_parts : JSON-serializable
        Everything the result depends on: content digests of the sources
        (:func:`file_digest`), the reader name, its options.
    build : callable
        Makes the :class:`~scorecard.Microdata` when there is no entry.
    cache_dir : path, bool or None
        See :func:`resolve_cache_dir`.
    enabled : bool, default=True
        ``False`` bypasses the cache entirely (neither reads nor writes).

    Returns
    -------
    Microdata
        With ``attrs["cache"]`` set to ``"hit"``, ``"miss"`` or ``"off"``.
    """
    directory = resolve_cache_dir(cache_dir) if enabled else None
    if directory is None:
        return _with_cache_attr(build(), "off")
    key = cache_key(key_parts)
    entry = load_microdata(directory, key)
    if entry is not None:
        return _with_cache_attr(entry, "hit")
    micro = build()
    save_microdata(micro, directory, key)
    return _with_cache_attr(micro, "miss")


def save_microdata(micro: Microdata, directory: str | os.PathLike, key: str) -> None:
    """Write ``micro`` as entry ``key`` in ``directory`` (atomically, manifest last)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {"frame": f"{key}.frame.parquet", "report": f"{key}.report.parquet"}
    atomic_write(directory / files["frame"], lambda path: micro.frame.to_parquet(path, index=False))
    report = micro.report.entries.astype({"count": "int64"})
    atomic_write(directory / files["report"], lambda path: report.to_parquet(path, index=False))
    for name in _MATRICES:
        matrix = getattr(micro, name)
        if matrix is not None:
            files[name] = f"{key}.{name}.npy"
            atomic_write(directory / files[name], lambda path, m=matrix: _save_npy(path, m))
    attrs = {k: v for k, v in micro.attrs.items() if k != "cache"}
    manifest = json.dumps({"format": FORMAT_VERSION, "files": files, "attrs": attrs}, default=str, indent=1)
    atomic_write(directory / f"{key}.json", lambda path: Path(path).write_text(manifest, encoding="utf-8"))


def load_microdata(directory: str | os.PathLike, key: str) -> Microdata | None:
    """Entry ``key`` from ``directory``, or ``None`` if absent or incomplete."""
    directory = Path(directory)
    manifest_path = directory / f"{key}.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        frame = pd.read_parquet(directory / files["frame"])
        entries = pd.read_parquet(directory / files["report"])
        matrices = {name: np.load(directory / files[name]) if name in files else None for name in _MATRICES}
    except (OSError, ValueError, KeyError):
        return None
    return Microdata(frame, report=RecordReport(entries), attrs=manifest["attrs"], **matrices)


def _save_npy(path: str, matrix: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32))


def _with_cache_attr(micro: Microdata, state: str) -> Microdata:
    from dataclasses import replace

    return replace(micro, attrs={**micro.attrs, "cache": state})
