"""The installed entry points of the group ``zoo``, found without importing a plugin (or pluggy).

The scan of the installed distributions (``importlib.metadata``, the slowest part of starting ``zoo``) is
cached in ``$ZOO_CACHE/index/entry-points.json``, keyed by the names of the distributions' metadata folders in
every ``sys.path`` folder and each plugin's ``entry_points.txt``: installing, upgrading or removing a
distribution changes them, so the next run scans again.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._index_files import index_path, read_document, write_document

__all__ = ["ENTRY_POINT_GROUP", "EntryPoint", "entry_point_files", "scan_entry_points", "scan_key", "stat_key"]

ENTRY_POINT_GROUP = "zoo"


@dataclass(frozen=True)
class EntryPoint:
    """What the scan keeps of one entry point of the group ``zoo`` (loaded without importlib.metadata)."""

    name: str  # the entry point's name
    value: str  # "module" or "module:attribute"
    dist: str | None  # the distribution's name
    version: str | None

    def load(self) -> Any:
        module_name, _, attribute = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for part in attribute.split("[", 1)[0].strip().split(".") if attribute.strip() else []:
            obj = getattr(obj, part)
        return obj


_SCAN_FORMAT = 2


def stat_key(path: str | os.PathLike[str]) -> list[int] | None:
    """The stat of ``path`` that caches are keyed by (modification and change times, size, inode); ``None``: absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def _distributions_in(folder: str) -> str | None:
    """The names of the distributions' metadata folders in one ``sys.path`` folder (``None``: none there).

    Installing, upgrading (a new version's folder name) or removing a distribution changes it; other files
    written in the folder (the current directory is on sys.path) do not.
    """
    try:
        with os.scandir(folder or ".") as entries:
            names = sorted(e.name for e in entries if e.name.endswith((".dist-info", ".egg-info", ".egg-link")))
    except OSError:
        return None
    return "/".join(names) if names else None


def scan_key() -> list[Any]:
    """What the installed entry points depend on: the distributions in every ``sys.path`` folder.

    Folders without any (the script's folder, the current one as a rule) are left out, so that ``zoo`` and
    ``python -m zoo_core`` share one scan; a distribution installed into one of them adds it.
    """
    digests = [[entry, _distributions_in(entry)] for entry in sys.path]
    return [_SCAN_FORMAT, sys.version, [item for item in digests if item[1] is not None]]


_last_files: list[str] = []  # the entry_points.txt files behind the last scan


def entry_point_files() -> list[str]:
    """The ``entry_points.txt`` files the last ``scan_entry_points`` read (or found in its cache)."""
    return list(_last_files)


def scan_entry_points() -> list[EntryPoint]:
    """The entry points of the group ``zoo``, sorted by name: from the cache when nothing on sys.path changed."""
    key = scan_key()
    cache = index_path("entry-points.json")
    cached = read_document(cache, key)
    try:
        if cached is not None and all(stat_key(f) == stat for f, stat in cached["files"]):
            _last_files[:] = [f for f, _ in cached["files"]]
            return [EntryPoint(**ep) for ep in cached["entry_points"]]
    except (KeyError, TypeError, ValueError):
        pass
    from importlib.metadata import entry_points

    found, files = [], []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = getattr(ep, "dist", None)
        found.append(
            EntryPoint(
                ep.name, ep.value, dist.metadata["Name"] if dist is not None else None, getattr(dist, "version", None)
            )
        )
        where = getattr(dist, "_path", None)  # a dist-info folder: its entry_points.txt can change in place
        if where is not None:
            files.append([str(Path(where) / "entry_points.txt"), stat_key(Path(where) / "entry_points.txt")])
    write_document(cache, {"key": key, "files": files, "entry_points": [asdict(ep) for ep in found]})
    _last_files[:] = [f for f, _ in files]
    return found
