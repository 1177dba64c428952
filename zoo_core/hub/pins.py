"""sha256 pins of upstream weights: the registry pins no sha256 for a file nobody here could fetch, so its
first verified download pins one in ``$ZOO_CACHE/pins.json``, and every later download must match it.

Example:
    >>> expected_sha256(zoo.info("dcgan.huggan-pokemon"))  # the registry's, else the pin, else None
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ZooError
from .cache import zoo_cache_dir

if TYPE_CHECKING:
    from .._catalog import ModelInfo

__all__ = ["expected_sha256", "pin_sha256", "pins_path"]


def pins_path() -> Path:
    """``$ZOO_CACHE/pins.json``: the sha256 pinned on the first download of each upstream file."""
    return zoo_cache_dir() / "pins.json"


def _pin_key(info: ModelInfo) -> str:
    w = info.weights
    if "url" in w:
        return f"{info.name} {w['url']}"
    return f"{info.name} {w['repo_id']}/{w['filename']}@{w['revision']}"


def _pins() -> dict[str, str]:
    path = pins_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ZooError(f"{path} is damaged ({exc.msg}); delete it to pin upstream weights afresh.") from exc


def expected_sha256(info: ModelInfo) -> str | None:
    """The registry's sha256, or the one pinned here on the first verified download of upstream weights."""
    return info.weights["sha256"] or _pins().get(_pin_key(info))


def pin_sha256(info: ModelInfo, sha256: str) -> None:
    """Pin ``sha256`` as the one every later download of ``info``'s upstream weights must match (and say so)."""
    from .._atomic import atomic_write_text

    pins = {**_pins(), _pin_key(info): sha256}
    atomic_write_text(pins_path(), json.dumps(pins, indent=2, sort_keys=True) + "\n")
    sys.stderr.write(
        f"zoo: {info.name}: the registry pins no sha256 for these upstream weights; pinned {sha256} on this "
        "first download, and every later download must match it.\n"
    )
