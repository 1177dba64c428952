"""The files of ``$ZOO_CACHE/index``: caches of what zoo would otherwise compute on every start.

Each file keeps a few JSON documents, each under the key it was computed for (the same checkout seen as
``zoo`` and as ``python -m zoo_core`` differs in ``sys.path``, so two keys take turns). Reading never fails
(anything unreadable is no document); writing is atomic, and a failed write is no error (a cache).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

__all__ = ["index_path", "read_document", "write_document"]

#: documents kept per file: the newest ones
KEPT = 4


def index_path(name: str) -> Path:
    """``$ZOO_CACHE/index/NAME``."""
    from .hub.cache import zoo_cache_dir

    return zoo_cache_dir() / "index" / name


def _documents(path: Path) -> list[dict[str, Any]]:
    try:
        documents = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in documents if isinstance(d, dict)] if isinstance(documents, list) else []


def read_document(path: Path, key: Any) -> dict[str, Any] | None:
    """The document of ``path`` computed for ``key``, or ``None``."""
    return next((d for d in _documents(path) if d.get("key") == key), None)


def write_document(path: Path, document: dict[str, Any]) -> None:
    """Keep ``document`` (which holds its ``key``) in ``path``, replacing one with the same key; unchanged: no write."""
    kept = _documents(path)
    if document in kept:
        return
    others = [d for d in kept if d.get("key") != document["key"]]
    kept = [*others[len(others) - (KEPT - 1) :], document] if len(others) >= KEPT else [*others, document]
    with contextlib.suppress(OSError, ValueError, TypeError):
        from ._atomic import atomic_write_text

        atomic_write_text(path, json.dumps(kept, separators=(",", ":"), default=str) + "\n")
