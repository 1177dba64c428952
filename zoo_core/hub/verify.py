"""sha256 verification of weights files, cheap after the first time: a record of what was verified.

A file is hashed in full before its first use. Its sha256 is then remembered, keyed by what changes
when a file is rewritten (as git's index does): its real path, size, ``st_mtime_ns``,
``st_ctime_ns``, inode and device. The record lives in this process (``_verified``) and in zoo's
cache (``$ZOO_CACHE/verified.json``, written atomically), so that a later process trusts an
untouched file without reading it again. The record is consulted only when the sha256 a caller
expects (the registry's, a pin, a converted file's sidecar) equals the recorded one; any change of
size, times or inode means the file is hashed again. A damaged record is ignored and rebuilt, never
trusted. ``zoo cache verify`` always re-hashes.

A file changed within ``_RACY_NS`` of being hashed is remembered in this process only: a write in
the same tick of the file system's clock could leave its times unchanged (git's "racily clean"
entries). What the record cannot see is a change that keeps size, times and inode, i.e. silent
corruption of the disk itself, or someone resetting the times on purpose (the ctime cannot be reset
without root); ``zoo cache verify`` finds those.

Converted checkpoints (``$ZOO_CACHE/converted/*.safetensors``) carry a sidecar ``<file>.sha256``
(``sha256sum`` format), written atomically with them, and are verified against it on every use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from .._errors import ChecksumMismatchError
from .cache import discard_cached, zoo_cache_dir

__all__ = [
    "converted_problem",
    "drop_converted",
    "forget_verified",
    "hash_mismatch",
    "record_path",
    "remember_verified",
    "sha256_file",
    "sidecar_path",
    "verify_file",
    "write_converted",
]

_RACY_NS = 2_000_000_000  # FAT's 2 s time stamps are the coarsest in common use
_MAX_ENTRIES = 4096
_FORMAT = "zoo-verified-1"
_SHA256 = re.compile(r"[0-9a-f]{64}")

Identity = tuple[str, int, int, int, int, int]

# Files this process has already hashed, keyed by what changes when a file is rewritten.
_verified: dict[Identity, str] = {}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(path: Path) -> Identity:
    """(real path, size, mtime_ns, ctime_ns, inode, device): what a rewrite of the file changes."""
    real = Path(path).resolve()
    stat = real.stat()
    return (str(real), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


# -- the record in zoo's cache ---------------------------------------------------------------------
def record_path() -> Path:
    """``$ZOO_CACHE/verified.json``: the files verified by earlier processes."""
    return zoo_cache_dir() / "verified.json"


def _entry_identity(real: str, entry: Any) -> tuple[Identity, str] | None:
    """An entry of the record as (identity, sha256), or None when it is not exactly what zoo writes."""
    keys = ("size", "mtime_ns", "ctime_ns", "ino", "dev")
    if not isinstance(entry, dict) or set(entry) != {*keys, "sha256"}:
        return None
    values = [entry[k] for k in keys]
    if not all(type(v) is int and v >= 0 for v in values):
        return None
    sha256 = entry["sha256"]
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        return None
    return (real, *values), sha256  # type: ignore[return-value]


def _read_record() -> dict[str, tuple[Identity, str]]:
    """The record's valid entries by real path; a missing or damaged record is empty (and rebuilt later)."""
    try:
        data = json.loads(record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("files"), dict):
        return {}
    entries = {}
    for real, entry in data["files"].items():
        parsed = _entry_identity(real, entry)
        if parsed is not None:
            entries[real] = parsed
    return entries


def _recorded(identity: Identity) -> str | None:
    found = _read_record().get(identity[0])
    return found[1] if found is not None and found[0] == identity else None


def _write_record(update: dict[str, tuple[Identity, str] | None]) -> None:
    """Apply ``update`` (None removes a path); entries of files that changed or went away are dropped."""
    from .._atomic import atomic_write_text

    entries = _read_record()
    entries.update(update)
    files = {}
    for real, item in entries.items():
        if item is None:
            continue
        identity, sha256 = item
        with contextlib.suppress(OSError):
            if _identity(Path(real)) == identity:
                size, mtime_ns, ctime_ns, ino, dev = identity[1:]
                files[real] = {
                    "size": size,
                    "mtime_ns": mtime_ns,
                    "ctime_ns": ctime_ns,
                    "ino": ino,
                    "dev": dev,
                    "sha256": sha256,
                }
    files = dict(list(files.items())[-_MAX_ENTRIES:])
    with contextlib.suppress(OSError):  # a read-only or full cache: the record is an optimisation only
        atomic_write_text(record_path(), json.dumps({"format": _FORMAT, "files": files}, indent=1) + "\n")


def remember_verified(path: Path, sha256: str, *, hashed_at: int, identity: Identity | None = None) -> None:
    """Remember that ``path`` (as it is now) has ``sha256``, as found by a hash begun at ``hashed_at`` (ns).

    ``identity``: the file's identity before it was hashed; nothing is remembered if it changed since.
    """
    now = _identity(path)
    if identity is not None and identity != now:
        return  # rewritten while it was hashed: whatever was hashed is not what is there now
    _verified[now] = sha256
    mtime_ns, ctime_ns = now[2], now[3]
    if max(mtime_ns, ctime_ns) + _RACY_NS < hashed_at:
        _write_record({now[0]: (now, sha256)})


def _forget(identity: Identity) -> None:
    _verified.pop(identity, None)
    if identity[0] in _read_record():
        _write_record({identity[0]: None})


def forget_verified() -> None:
    """Make the next ``verify_file`` of every file hash it again (this process's record and zoo's cache's)."""
    _verified.clear()
    with contextlib.suppress(FileNotFoundError):
        record_path().unlink()


# -- checking ------------------------------------------------------------------------------------
def hash_mismatch(path: Path, expected: str, *, rehash: bool = False) -> str | None:
    """None when ``path`` has the sha256 ``expected``, else the sha256 it has.

    An untouched file already verified (by this process or, per the record, an earlier one) with
    that sha256 is not read again, unless ``rehash``.
    """
    identity = _identity(path)
    if not rehash and (_verified.get(identity) == expected or _recorded(identity) == expected):
        _verified[identity] = expected
        return None
    hashed_at = time.time_ns()
    actual = sha256_file(path)
    if actual != expected:
        _forget(identity)
        return actual
    remember_verified(path, actual, hashed_at=hashed_at, identity=identity)
    return None


def verify_file(
    path: Path,
    expected: str,
    name: str,
    *,
    discard: bool,
    pinned_in: Path | None = None,
    rehash: bool = False,
) -> Path:
    """Check ``path`` against ``expected`` sha256; on a mismatch, refuse it (and drop it from the cache).

    A file is hashed once: a later load of the same unchanged file (same inode, size and times), in
    this process or a later one, reuses the result. ``rehash`` (``zoo cache verify``) reads it again.
    ``pinned_in``: the pins file, when ``expected`` was pinned here rather than by the registry.
    """
    actual = hash_mismatch(path, expected, rehash=rehash)
    if actual is None:
        return path
    if discard:
        discard_cached(path)
    fate = (
        "it was deleted from the cache; run again to download it afresh, and report the mirror if this repeats"
        if discard
        else "it was not used; replace it with the published file"
    )
    if pinned_in is not None:
        expected = f"{expected} (pinned in {pinned_in} on its first download)"
        if discard:
            fate = (
                "it was deleted from the cache; if its authors replaced the file on purpose, delete the "
                f"{name!r} line of {pinned_in} and run again to pin the new one"
            )
    raise ChecksumMismatchError(
        f"The weights of {name!r} failed their sha256 check: expected {expected}, got {actual} for {path}; {fate}."
    )


# -- converted checkpoints -------------------------------------------------------------------------
def sidecar_path(path: Path) -> Path:
    """``<file>.sha256`` beside a converted file: its sha256, in ``sha256sum`` format."""
    return path.with_name(path.name + ".sha256")


def _sidecar_sha256(path: Path) -> str | None:
    try:
        text = sidecar_path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    fields = text.split()
    if len(fields) != 2 or not _SHA256.fullmatch(fields[0]) or fields[1].lstrip("*") != path.name:
        return None
    return fields[0]


def write_converted(path: Path, data: bytes) -> None:
    """Write a converted file and its sidecar, each atomically (the sidecar first: a file without one is
    never trusted, and a sidecar without its file is rewritten with it)."""
    from .._atomic import atomic_write_bytes, atomic_write_text

    sha256 = hashlib.sha256(data).hexdigest()
    atomic_write_text(sidecar_path(path), f"{sha256}  {path.name}\n")
    hashed_at = time.time_ns()
    atomic_write_bytes(path, data)
    remember_verified(path, sha256, hashed_at=hashed_at)  # too fresh for the record: this process only


def converted_problem(path: Path, *, rehash: bool = False) -> str | None:
    """None when the converted file ``path`` matches its sidecar, else what is wrong with it (a clause)."""
    expected = _sidecar_sha256(path)
    if expected is None:
        return f"the converted weights {path} have no valid sha256 record ({sidecar_path(path).name})"
    actual = hash_mismatch(path, expected, rehash=rehash)
    if actual is None:
        return None
    return f"the converted weights {path} failed their sha256 check: expected {expected}, got {actual}"


def drop_converted(path: Path) -> None:
    """Delete a converted file and its sidecar."""
    for item in (path, sidecar_path(path)):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()
