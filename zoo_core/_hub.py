"""Weights from the Hugging Face Hub (or a mirror, or a local folder), checked against their sha256.

Downloads go through ``huggingface_hub.hf_hub_download``, so ``HF_ENDPOINT``, ``HF_HOME``,
``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_TOKEN`` and revisions behave as users expect.
``ZOO_HUB_DIR`` names a local folder in Hub layout (``org/name/file``), used instead of the
network by air-gapped users; its files are verified all the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ChecksumMismatchError, HubUnavailableError, ZooError

if TYPE_CHECKING:
    from ._catalog import ModelInfo

__all__ = ["cached_weights", "download_file", "fetch_weights", "sha256_file", "verify_file"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _version() -> str:
    from . import __version__

    return __version__


def _reachable(endpoint: str, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to the endpoint's host opens (no request is sent)."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet_hub_logs() -> Iterator[None]:
    """huggingface_hub logs each retry on stderr; zoo reports failures in one sentence instead."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def download_file(repo_id: str, filename: str, *, revision: str | None = None, what: str = "") -> Path:
    """``hf_hub_download`` with failures turned into one clear sentence."""
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    what = what or f"{repo_id}/{filename}"
    where = f"{repo_id!r} at revision {revision or 'main'!r} on {_endpoint()}"
    unreachable = HubUnavailableError(
        f"Cannot reach the Hub at {_endpoint()} to download {what}, and the local cache does not have it; "
        "check the network or HF_ENDPOINT (`zoo hub serve` runs a local mirror)."
    )
    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    if not constants.HF_HUB_OFFLINE and not isinstance(cached, str) and not _reachable(_endpoint()):
        raise unreachable  # fail now, rather than after huggingface_hub's ~25 s of retries
    try:
        with _quiet_hub_logs():
            return Path(
                hf_hub_download(repo_id, filename, revision=revision, library_name="zoo", library_version=_version())
            )
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        if constants.HF_HUB_OFFLINE:
            raise HubUnavailableError(
                f"Cannot find {what} in the local cache, and HF_HUB_OFFLINE is set; "
                "unset HF_HUB_OFFLINE and connect to the Hub (or a mirror: HF_ENDPOINT) to download it once."
            ) from exc
        raise unreachable from exc
    except GatedRepoError as exc:
        raise ZooError(f"{where} is gated; accept its terms on the Hub and set HF_TOKEN.") from exc
    except EntryNotFoundError as exc:
        raise ZooError(f"{where} has no file {filename!r}; check the registry entry.") from exc
    except RevisionNotFoundError as exc:
        raise ZooError(f"{where}: no such revision; check the registry entry's revision.") from exc
    except RepositoryNotFoundError as exc:
        # Some mirrors (olah) answer 401 for a missing file, branch or repository alike.
        raise ZooError(
            f"The Hub has no file {filename!r} in {where} (or the repository is private: set HF_TOKEN); "
            "check HF_ENDPOINT and the registry entry."
        ) from exc
    except (HfHubHTTPError, OSError) as exc:
        raise HubUnavailableError(f"Downloading {what} from {_endpoint()} failed ({exc}); try again.") from exc


def _discard(path: Path) -> None:
    """Delete a cached file: the snapshot link and the blob it points at."""
    blob = path.resolve()
    for item in {path, blob}:
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


# Files this process has already hashed, keyed by what changes when a file is rewritten.
_verified: dict[tuple[str, int, int, int], str] = {}


def _identity(path: Path) -> tuple[str, int, int, int]:
    real = path.resolve()
    stat = real.stat()
    return (str(real), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def verify_file(path: Path, expected: str, name: str, *, discard: bool) -> Path:
    """Check ``path`` against ``expected`` sha256; on a mismatch, refuse it (and drop it from the cache).

    A file is hashed once per process: a later load of the same unchanged file (same inode, size
    and modification time) reuses the result. ``zoo cache verify`` always re-hashes.
    """
    identity = _identity(path)
    if _verified.get(identity) == expected:
        return path
    actual = sha256_file(path)
    if actual != expected:
        if discard:
            _discard(path)
        fate = (
            "it was deleted from the cache; run again to download it afresh, and report the mirror if this repeats"
            if discard
            else "it was not used; replace it with the published file"
        )
        raise ChecksumMismatchError(
            f"The weights of {name!r} failed their sha256 check: expected {expected}, got {actual} for {path}; {fate}."
        )
    _verified[identity] = actual
    return path


def forget_verified() -> None:
    """Make the next ``verify_file`` of every file hash it again."""
    _verified.clear()


def _local_hub_file(info: ModelInfo) -> Path | None:
    local = os.environ.get("ZOO_HUB_DIR")
    if not local:
        return None
    path = Path(local) / info.weights["repo_id"] / info.weights["filename"]
    return path if path.is_file() else None


def zoo_cache_dir() -> Path:
    """zoo's own cache (pins, converted checkpoints).

    ``$ZOO_CACHE``, else ``$XDG_CACHE_HOME/zoo`` or ``~/.cache/zoo``.
    """
    if os.environ.get("ZOO_CACHE"):
        return Path(os.environ["ZOO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zoo"


def _pin_key(info: ModelInfo) -> str:
    w = info.weights
    return f"{info.name} {w['repo_id']}/{w['filename']}@{w['revision']}"


def _pins() -> dict[str, str]:
    path = zoo_cache_dir() / "pins.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ZooError(f"{path} is damaged ({exc.msg}); delete it to pin upstream weights afresh.") from exc


def expected_sha256(info: ModelInfo) -> str | None:
    """The registry's sha256, or the one pinned here on the first verified download of upstream weights."""
    return info.weights["sha256"] or _pins().get(_pin_key(info))


def _pin(info: ModelInfo, sha256: str) -> None:
    from ._atomic import atomic_write_text

    pins = {**_pins(), _pin_key(info): sha256}
    atomic_write_text(zoo_cache_dir() / "pins.json", json.dumps(pins, indent=2, sort_keys=True) + "\n")
    sys.stderr.write(
        f"zoo: {info.name}: the registry pins no sha256 for these upstream weights; pinned {sha256} on this "
        "first download, and every later download must match it.\n"
    )


def _converted(info: ModelInfo, path: Path, sha256: str) -> Path:
    """A foreign pickle converted once to safetensors in zoo's cache (then never unpickled again)."""
    target = zoo_cache_dir() / "converted" / f"{sha256}-{info.architecture}.safetensors"
    if target.is_file():
        return target
    from safetensors.torch import save

    from ._atomic import atomic_write_bytes
    from .convert import convert_state, converter_spec

    spec = converter_spec(info.weights["converter"], needed_by=f"{info.name} (plugin {info.plugin})")
    state = convert_state(spec, path, dict(info.config))
    atomic_write_bytes(target, save({k: v.contiguous() for k, v in state.items()}, metadata={"format": "pt"}))
    return target


def fetch_weights(info: ModelInfo) -> Path:
    """Download (or find in the cache) a model's weights file and verify its sha256 before use.

    Upstream weights that nobody here could fetch carry no sha256 in the registry: the first
    download pins its hash in zoo's cache (``pins.json``) and later downloads must match it.
    A pickled upstream checkpoint is read with ``torch.load(weights_only=True)`` and converted
    once to safetensors; the safetensors file is what gets loaded.
    """
    weights = info.weights
    local = _local_hub_file(info)
    if local is not None:
        path = local
    else:
        path = download_file(
            weights["repo_id"],
            weights["filename"],
            revision=weights["revision"],
            what=f"the weights of {info.name!r}",
        )
    expected = expected_sha256(info)
    if expected is None:
        expected = sha256_file(path)
        _pin(info, expected)
    verify_file(path, expected, info.name, discard=local is None)
    if weights.get("format", "safetensors") == "pickle":
        return _converted(info, path, expected)
    return path


def cached_weights(info: ModelInfo) -> Path | None:
    """The cached weights file of a model, if any (no network)."""
    from huggingface_hub import try_to_load_from_cache

    weights = info.weights
    found: Any = try_to_load_from_cache(weights["repo_id"], weights["filename"], revision=weights["revision"])
    return Path(found) if isinstance(found, str) else None


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_cache_folder(repo_id: str) -> Path:
    return cache_dir() / f"models--{repo_id.replace('/', '--')}"
