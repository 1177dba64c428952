"""The caches zoo reads weights from: huggingface_hub's (Hub downloads) and zoo's own (pins, url downloads,
converted checkpoints, the verified-file record); and ``zoo cache prune``'s cleaning of what interrupted runs left.

``zoo_cache_dir()`` is ``$ZOO_CACHE``, else ``$XDG_CACHE_HOME/zoo`` or ``~/.cache/zoo``; ``cache_dir()`` is
huggingface_hub's ``HF_HUB_CACHE``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "cache_dir",
    "discard_cached",
    "file_size",
    "partial_downloads",
    "prune_cache",
    "repo_cache_folder",
    "zoo_cache_dir",
]


def zoo_cache_dir() -> Path:
    """zoo's own cache (pins, converted checkpoints).

    ``$ZOO_CACHE``, else ``$XDG_CACHE_HOME/zoo`` or ``~/.cache/zoo``.
    """
    if os.environ.get("ZOO_CACHE"):
        return Path(os.environ["ZOO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zoo"


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_cache_folder(repo_id: str) -> Path:
    return cache_dir() / f"models--{repo_id.replace('/', '--')}"


def discard_cached(path: Path) -> None:
    """Delete a cached file: the snapshot link and the blob it points at."""
    blob = path.resolve()
    for item in {path, blob}:
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


_TEMPORARY_AGE = 3600.0  # seconds after which an atomic write's temporary file is surely abandoned


def partial_downloads() -> list[tuple[Path, Path]]:
    """Interrupted downloads and the lock of each: ``blobs/*.incomplete`` in the Hugging Face cache (zoo's and
    huggingface_hub's), ``urls/*/*.part`` in zoo's. A run resumes its own; ``zoo cache prune`` removes them."""
    found = []
    hub = cache_dir()
    for part in sorted(hub.glob("models--*/blobs/*.incomplete")):
        etag = part.name.split(".", 1)[0]
        found.append((part, hub / ".locks" / part.parent.parent.name / f"{etag}.lock"))
    for part in sorted((zoo_cache_dir() / "urls").glob("*/*.part")):
        found.append((part, part.with_name(part.name.removesuffix(".part") + ".lock")))
    return found


@contextlib.contextmanager
def _unheld(lock: Path) -> Iterator[bool]:
    """Whether no process holds ``lock``; while True, this process holds it, so nobody starts using what it guards."""
    from filelock import FileLock, Timeout

    if not lock.exists():
        yield True
        return
    held = FileLock(lock, timeout=0)
    try:
        held.acquire()
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        held.release()


def prune_cache(*, dry_run: bool = False) -> tuple[list[tuple[Path, str, int]], list[Path]]:
    """Remove what no command will use: partial downloads and locks that no process holds, symlinks to
    missing blobs, ``.validator`` files without their ``.part``, temporary files of writes abandoned an hour
    ago or more, empty download folders. Returns (what was removed: path, kind, bytes; partial downloads
    that a running process holds). ``dry_run``: remove nothing, report the same."""
    import time

    removed: list[tuple[Path, str, int]] = []
    busy: list[Path] = []

    def remove(path: Path, kind: str) -> None:
        size = 0 if path.is_symlink() or path.is_dir() else file_size(path)
        if not dry_run:
            with contextlib.suppress(FileNotFoundError):
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        removed.append((path, kind, size))

    hub, zoo, urls = cache_dir(), zoo_cache_dir(), zoo_cache_dir() / "urls"
    for part, lock in partial_downloads():
        with _unheld(lock) as free:
            if not free:
                busy.append(part)
                continue
            remove(part, "partial download")
            validator = part.with_name(part.name + ".validator")
            if validator.exists():
                remove(validator, "partial download")
    for validator in sorted([*urls.glob("*/*.part.validator"), *hub.glob("models--*/blobs/*.incomplete.validator")]):
        if not validator.with_name(validator.name.removesuffix(".validator")).exists():
            remove(validator, "orphan file")
    for link in sorted(hub.glob("models--*/snapshots/**/*")):
        if link.is_symlink() and not link.exists():
            remove(link, "broken link")
    locks = [*hub.glob(".locks/**/*.lock"), *urls.glob("*/*.lock"), *zoo.glob("converted/*.lock")]
    for lock in sorted(locks):
        with _unheld(lock) as free:
            if free:
                remove(lock, "unused lock")
    now = time.time()
    for temporary in sorted([*zoo.rglob(".*.tmp"), *hub.glob("models--*/blobs/.*.tmp")]):
        with contextlib.suppress(FileNotFoundError):
            if now - temporary.stat().st_mtime > _TEMPORARY_AGE:
                remove(temporary, "abandoned temporary file")
    if not dry_run:
        for folder in sorted(urls.glob("*")):
            if folder.is_dir() and not any(folder.iterdir()):
                remove(folder, "empty folder")
    return removed, busy
