"""The merged catalog as the last full build saw it: what ``zoo list`` shows without loading a plugin.

Building the catalog imports pluggy and every plugin's module; ``zoo list`` in a fresh process needs none of
that while nothing the catalog is built from has changed. After each build, ``zoo_core._catalog`` keeps in
``$ZOO_CACHE/index/listing.json`` (see ``zoo_core._index_files``; written only when it changed) the models it merged,
the warnings the build wrote (a broken plugin, a name defined twice: written again on every use, so a listing
says what a build would) and the stat of every file it was built from:

- the distributions on ``sys.path`` and each plugin's ``entry_points.txt`` (the entry-point scan's key);
- every module and data file of each loaded plugin's package (its ``registry.json`` included), and folders;
- the shipped ``registry.json``, each catalog named by ``ZOO_REGISTRY`` (a missing one too: creating it
  counts), the registry schema, and zoo_core's own modules;
- the switches ``ZOO_REGISTRY``, ``ZOO_HUB_DIR``, ``ZOO_LOAD_PLUGINS`` and ``ZOO_DISABLE_PLUGIN_AUTOLOAD``.

Any difference, an unreadable file, ``ZOO_RAISE_PLUGIN_ERRORS``, or a process that already loaded its
plugins (a plugin registered by hand is in no file) means a full build instead. What a plugin's hook
computes from anything else (the time, the network) is not seen: hooks should depend on their files only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._entry_points import scan_key, stat_key
from ._index_files import index_path, read_document, write_document
from ._model_info import ModelInfo

__all__ = ["listed_models", "save_snapshot", "watched_package_files"]

_FORMAT = 1
_SWITCHES = ("ZOO_REGISTRY", "ZOO_HUB_DIR", "ZOO_LOAD_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD")
_ZOO_CORE = Path(__file__).resolve().parent


def _key() -> list[Any]:
    from . import __version__

    return [_FORMAT, __version__, scan_key(), [os.environ.get(name) for name in _SWITCHES]]


def _disabled() -> bool:
    return (os.environ.get("ZOO_RAISE_PLUGIN_ERRORS") or "").strip().lower() not in ("", "0", "false", "no", "off")


def watched_package_files(module_file: str | os.PathLike[str]) -> list[str]:
    """The folders, modules and data files of the top-level package holding ``module_file``.

    A single-module plugin (its file directly in ``site-packages``) is that file alone.
    """
    path = Path(module_file).resolve()
    if path.name != "__init__.py" and not (path.parent / "__init__.py").is_file():
        return [str(path)]
    top = path.parent
    while (top.parent / "__init__.py").is_file():
        top = top.parent
    found = [str(top)]
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        found += [os.path.join(folder, d) for d in dirs]
        found += sorted(os.path.join(folder, f) for f in files if f.endswith((".py", ".json")))
    return found


def _zoo_core_files() -> list[str]:
    folders = [_ZOO_CORE, _ZOO_CORE / "builtin", _ZOO_CORE / "schema"]
    files = [str(f) for folder in folders for f in sorted(folder.iterdir()) if f.suffix in (".py", ".json")]
    return [*map(str, folders), *files]


def save_snapshot(models: dict[str, ModelInfo], warnings: list[str], watched: Iterable[str]) -> None:
    """Keep a full build's ``models`` and ``warnings``, valid while every file in ``watched`` stays as it is."""
    if _disabled():
        return
    paths = sorted({*watched, *_zoo_core_files()})
    document = {
        "key": _key(),
        "watched": [[path, stat_key(path)] for path in paths],
        "warnings": warnings,
        "models": [info.to_dict() for info in models.values()],
    }
    write_document(index_path("listing.json"), document)


def _read_snapshot() -> tuple[dict[str, ModelInfo], list[str]] | None:
    if _disabled():
        return None
    document = read_document(index_path("listing.json"), _key())
    if document is None:
        return None
    try:
        if any(stat_key(path) != stat for path, stat in document["watched"]):
            return None
        models = {}
        for fields in document["models"]:
            info = ModelInfo(**{**fields, "tasks": tuple(fields["tasks"]), "tags": tuple(fields["tags"])})
            models[info.name] = info
        return models, [str(line) for line in document["warnings"]]
    except (ValueError, KeyError, TypeError):
        return None


def _process_has_plugins() -> bool:
    plugins = sys.modules.get("zoo_core._plugins")
    catalog = sys.modules.get("zoo_core._catalog")
    return (plugins is not None and plugins._manager is not None) or (
        catalog is not None and catalog._catalog is not None
    )


def listed_models() -> dict[str, ModelInfo]:
    """The catalog's models: from the snapshot when it is valid (its warnings written again), else built.

    Example:
        >>> sorted(listed_models())[:2]
        ['cyclegan.apple2orange', 'cyclegan.cityscapes_label2photo']
    """
    if not _process_has_plugins():
        snapshot = _read_snapshot()
        if snapshot is not None:
            models, warnings = snapshot
            for line in warnings:
                print(line, file=sys.stderr, flush=True)
            return models
    from ._catalog import get_catalog

    return get_catalog().models
