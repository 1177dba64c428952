"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A write that fails or is interrupted (an ``OSError`` such as a full disk, Ctrl-C's
``KeyboardInterrupt``) removes its temporary file and leaves ``path`` as it was: there is never
a half-written file. ``write_output`` is the same for a file the user asked for (``-o``): its
``OSError`` becomes one sentence (a ``ZooError``); ``check_output_path`` refuses, before any
work, a path that cannot be written (under a file, a folder, a device, a read-only folder).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._errors import ZooError

__all__ = [
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_path",
    "output_error",
    "same_file",
    "write_output",
]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``atomic_write``)."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` are one file (same device and inode: hard links and symlinks included)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _existing_ancestor(path: Path) -> Path:
    for parent in path.parents:
        if os.path.lexists(parent):
            return parent
    return Path(".")


def check_output_path(path: str | os.PathLike[str], flag: str = "-o") -> None:
    """Refuse, in one sentence, a file path that cannot be written: one under a file, an existing folder or
    device (anything but a regular file or a link to one), or a path in a folder this process cannot write to.

    Example:
        >>> check_output_path("notes.txt/grid.png")  # ZooError: notes.txt is a file, so ... cannot be written under it
    """
    path = Path(path)
    folder = _existing_ancestor(path)
    if not folder.is_dir():
        raise ZooError(f"{folder} is a file, so {path} cannot be written under it; choose another {flag}.")
    if os.path.lexists(path):
        try:
            mode = os.stat(path).st_mode
        except OSError:  # a dangling symlink: replaced by the new file
            mode = stat.S_IFREG
        if stat.S_ISDIR(mode):
            raise ZooError(f"{path} is a folder; give a file name with {flag}.")
        if not stat.S_ISREG(mode):
            raise ZooError(f"{path} is not a regular file (a device, pipe or socket); choose a file path with {flag}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ZooError(f"Cannot write in {folder} (permission denied or read-only); choose another {flag}.")


def output_error(path: str | os.PathLike[str], exc: OSError) -> ZooError:
    """One sentence for an ``OSError`` met while writing ``path`` (full disk, permission, read-only ...)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOTDIR: "a folder on its path is a file",
        errno.EISDIR: "it is a folder",
    }
    reason = reasons.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).rstrip(".").lower()
    return ZooError(f"Cannot write {path}: {reason}; nothing was written there, free space or choose another path.")


def write_output(path: str | os.PathLike[str], data: bytes) -> None:
    """``atomic_write_bytes`` for a file the user asked for: a failure is one sentence and leaves no file behind."""
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise output_error(path, exc) from None
