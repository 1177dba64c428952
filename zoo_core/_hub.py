"""Weights from the Hugging Face Hub (or a mirror, or a local folder), checked against their sha256.

Downloads go through ``huggingface_hub.hf_hub_download``, so ``HF_ENDPOINT``, ``HF_HOME``,
``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_TOKEN`` and revisions behave as users expect.
``ZOO_HUB_DIR`` names a local folder in Hub layout (``org/name/file``), used instead of the
network by air-gapped users; its files are verified all the same.
"""

from __future__ import annotations

import hashlib
import os
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


def download_file(repo_id: str, filename: str, *, revision: str | None = None, what: str = "") -> Path:
    """``hf_hub_download`` with failures turned into one clear sentence."""
    from huggingface_hub import hf_hub_download
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
    try:
        return Path(
            hf_hub_download(
                repo_id, filename, revision=revision, library_name="zoo", library_version=_version()
            )
        )
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            raise HubUnavailableError(
                f"{what} is not in the local cache and HF_HUB_OFFLINE is set; "
                "unset HF_HUB_OFFLINE and connect to the Hub (or a mirror: HF_ENDPOINT) to download it once."
            ) from exc
        raise HubUnavailableError(
            f"Cannot reach the Hub at {_endpoint()} to download {what}, and it is not in the local cache; "
            "check the network or HF_ENDPOINT (`zoo hub serve` runs a local mirror)."
        ) from exc
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
        try:
            item.unlink()
        except FileNotFoundError:
            pass


def verify_file(path: Path, expected: str, name: str, *, discard: bool) -> Path:
    """Check ``path`` against ``expected`` sha256; on a mismatch, refuse it (and drop it from the cache)."""
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
            f"The weights of {name!r} failed their sha256 check: expected {expected}, got {actual} "
            f"for {path}; {fate}."
        )
    return path


def _local_hub_file(info: ModelInfo) -> Path | None:
    local = os.environ.get("ZOO_HUB_DIR")
    if not local:
        return None
    path = Path(local) / info.weights["repo_id"] / info.weights["filename"]
    return path if path.is_file() else None


def fetch_weights(info: ModelInfo) -> Path:
    """Download (or find in the cache) a model's weights file and verify its sha256 before use."""
    weights = info.weights
    local = _local_hub_file(info)
    if local is not None:
        return verify_file(local, weights["sha256"], info.name, discard=False)
    path = download_file(
        weights["repo_id"], weights["filename"], revision=weights["revision"], what=f"the weights of {info.name!r}"
    )
    return verify_file(path, weights["sha256"], info.name, discard=True)


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
