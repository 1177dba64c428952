"""Files of Hub repositories (the Hugging Face Hub, a mirror of it, or ``zoo hub serve``), downloaded into the
Hugging Face cache; every failure is one sentence.

Downloads land in the Hugging Face cache in ``huggingface_hub``'s layout, and its metadata requests are
huggingface_hub's, so ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_TOKEN`` and
revisions behave as users expect; zoo streams the file itself, with the timeouts, deadline, retries and
size cap of ``zoo_core.hub.network``, and resumes ``blobs/<etag>.incomplete``.

Example:
    >>> download_file("zoo-models/vae-mnist", "model.safetensors", revision="8c1c...")
    PosixPath('.../models--zoo-models--vae-mnist/snapshots/8c1c.../model.safetensors')
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._errors import HubUnavailableError, ZooError
from . import network
from .cache import cache_dir, file_size, repo_cache_folder
from .urls import fetch_resumable, forget_part, too_big_error

__all__ = ["download_file"]


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _hub_fix() -> str:
    return "check the network or HF_ENDPOINT (`zoo hub serve` runs a local mirror)"


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


def download_file(
    repo_id: str, filename: str, *, revision: str | None = None, what: str = "", size: int | None = None
) -> Path:
    """A file of a Hub repository, from the Hugging Face cache or downloaded into it; failures are one sentence.

    The file lands where ``hf_hub_download`` puts it (``blobs/<etag>`` and a ``snapshots/<commit>/``
    link), so every huggingface_hub tool sees it; zoo makes the requests itself so that each has
    the timeouts, deadline, backoff and size cap of ``zoo_core.hub.network``, and an interrupted
    download resumes its ``blobs/<etag>.incomplete`` in the next run (huggingface_hub 2.x starts
    over). ``size``: the bytes the registry records for the file, if any.
    """
    import re

    from huggingface_hub import constants, try_to_load_from_cache

    revision = revision or constants.DEFAULT_REVISION
    what = what or f"{repo_id}/{filename}"
    found = try_to_load_from_cache(repo_id, filename, revision=revision)
    cached = Path(found) if isinstance(found, str) else None
    if cached is not None and (constants.HF_HUB_OFFLINE or re.fullmatch(r"[0-9a-f]{40}", revision)):
        return cached  # a commit never changes: no request
    if constants.HF_HUB_OFFLINE:
        raise HubUnavailableError(
            f"Cannot find {what} in the local cache, and HF_HUB_OFFLINE is set; "
            "unset HF_HUB_OFFLINE and connect to the Hub (or a mirror: HF_ENDPOINT) to download it once."
        )
    meta = _hub_metadata(repo_id, filename, revision, what=what, cached=cached is not None)
    if meta is None:  # the Hub did not answer and the cache has the branch's file: use it, as huggingface_hub does
        return cached  # type: ignore[return-value]
    return _hub_blob(repo_id, filename, revision, meta, what=what, size=size)


def _hub_metadata(repo_id: str, filename: str, revision: str, *, what: str, cached: bool) -> Any:
    """The file's ``HfFileMetadata`` (commit, etag, size, location); None if the Hub is down and ``cached``."""
    import time

    import httpx2
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    lim = network.limits("HF_HUB_ETAG_TIMEOUT")
    endpoint = _endpoint()
    where = f"{repo_id!r} at revision {revision!r} on {endpoint}"
    missing = {
        "file": f"{where} has no file {filename!r}, so {what} cannot be downloaded; check the entry's filename.",
        "revision": (
            f"{endpoint} has the repository {repo_id!r} but not its revision {revision!r} (this mirror lacks that "
            f"commit or branch), so {what} cannot be downloaded; update the mirror, or check the entry's revision."
        ),
        "repository": (
            f"{endpoint} has no repository {repo_id!r} (or it is private: set HF_TOKEN), so {what} cannot be "
            "downloaded; check HF_ENDPOINT and the registry entry's repo_id."
        ),
    }
    url = hf_hub_url(repo_id, filename, revision=revision)
    deadline = network.Deadline(lim.deadline)
    attempt = 0
    while True:
        attempt += 1
        try:
            with _quiet_hub_logs():
                timeout: Any = lim.timeout()  # httpx2.Timeout: separate connect and read timeouts
                meta = get_hf_file_metadata(
                    url, timeout=timeout, library_name="zoo", library_version=network.zoo_version()
                )
            if not meta.etag or not meta.commit_hash:
                raise ZooError(
                    f"{endpoint} answered the request for {what} without the ETag and X-Repo-Commit headers that a "
                    "Hub sends; check HF_ENDPOINT."
                )
            return meta
        except GatedRepoError:
            raise ZooError(f"{where} is gated; accept its terms on the Hub and set HF_TOKEN.") from None
        except EntryNotFoundError:  # olah answers 404 for a file in a repository it does not have, too
            kind = _hub_missing(repo_id, revision, lim)
            raise ZooError(missing[kind if kind in ("repository", "revision") else "file"]) from None
        except RevisionNotFoundError:
            raise ZooError(missing["revision"]) from None
        except RepositoryNotFoundError:  # olah answers 401 for a missing branch and a missing repository alike
            raise ZooError(missing[_hub_missing(repo_id, revision, lim) or "repository"]) from None
        except HfHubHTTPError as exc:
            code = exc.response.status_code if exc.response is not None else 0
            if not network.retryable_status(code):
                raise ZooError(f"{endpoint} answered {code} to the request for {what}; check HF_ENDPOINT.") from None
            kind = _hub_missing(repo_id, revision, lim)  # olah answers 500 for a commit it lacks
            if kind == "revision":
                raise ZooError(missing["revision"]) from None
            reason = f"the Hub at {endpoint} answered {code}"
        except httpx2.TransportError as exc:
            if cached:
                return None
            if not network.is_transient(exc):
                raise HubUnavailableError(
                    f"Cannot reach the Hub at {endpoint} to download {what}, and the local cache does not have it "
                    f"({network.describe(exc, url, lim)}); {_hub_fix()}."
                ) from None
            reason = network.describe(exc, url, lim)
        if cached:
            return None
        wait = network.backoff(attempt)
        if attempt >= network.ATTEMPTS or not deadline.allows(wait):
            tries = f"{attempt} attempts" if attempt > 1 else "1 attempt"
            raise HubUnavailableError(
                f"{reason[:1].upper()}{reason[1:]} ({tries}), so {what} was not downloaded and the local cache does "
                f"not have it; {_hub_fix()}, or try again later."
            )
        time.sleep(wait)


def _hub_missing(repo_id: str, revision: str, lim: network.Limits) -> str | None:
    """What the Hub lacks, asked of its API: the "file" (the revision exists), the "revision" (the repository
    exists), the "repository"; None if the API does not say."""
    from urllib.parse import quote

    import httpx2
    from huggingface_hub.utils import build_hf_headers, get_session

    headers = build_hf_headers(library_name="zoo", library_version=network.zoo_version())
    base = f"{_endpoint()}/api/models/{repo_id}"

    def status(url: str) -> int:
        try:
            return get_session().get(url, headers=headers, timeout=lim.timeout()).status_code
        except httpx2.HTTPError:
            return 0

    if status(f"{base}/revision/{quote(revision, safe='')}") == 200:
        return "file"
    main = status(f"{base}/revision/main")
    if main == 200 or status(base) == 200:  # olah answers 401 (or nothing) to the second
        return "revision"
    return "repository" if main in (401, 403, 404) else None


def _hub_blob(repo_id: str, filename: str, revision: str, meta: Any, *, what: str, size: int | None) -> Path:
    """Download the file ``meta`` describes into the Hugging Face cache (resuming ``<etag>.incomplete``)."""
    from urllib.parse import urlsplit

    from filelock import FileLock
    from huggingface_hub.file_download import _cache_commit_hash_for_specific_revision, _create_symlink

    lim = network.limits("HF_HUB_DOWNLOAD_TIMEOUT")
    storage = repo_cache_folder(repo_id)
    pointer = storage / "snapshots" / meta.commit_hash / filename
    blob = storage / "blobs" / meta.etag
    location = meta.location
    if not pointer.exists():
        if meta.size is not None and meta.size > (size if size is not None else lim.max_bytes):
            raise too_big_error(what, location, meta.size, size, lim)
        lock = cache_dir() / ".locks" / storage.name / f"{meta.etag}.lock"  # huggingface_hub's lock of this blob
        for folder in (blob.parent, pointer.parent, lock.parent):
            folder.mkdir(parents=True, exist_ok=True)
        with FileLock(lock):
            if not blob.exists():
                part = blob.with_name(blob.name + ".incomplete")
                same_origin = urlsplit(location)[:2] == urlsplit(_endpoint())[:2]
                headers = _hub_headers() if same_origin else {}  # credentials stay on the Hub
                fetch_resumable(
                    location, part, what=what, fix=_hub_fix(), size=size, progress=None, lim=lim, headers=headers
                )
                if meta.size is not None and file_size(part) != meta.size:
                    forget_part(part)
                    raise HubUnavailableError(
                        f"The download of {what} from {location} has {file_size(part):,} bytes, not the {meta.size:,} "
                        f"that {_endpoint()} announced; it was deleted: run the same command again."
                    )
                os.replace(part, blob)
                forget_part(part)
            if not pointer.exists():
                _create_symlink(str(blob), str(pointer), new_blob=True)
    with contextlib.suppress(OSError):
        _cache_commit_hash_for_specific_revision(str(storage), revision, meta.commit_hash)
    return pointer


def _hub_headers() -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return dict(build_hf_headers(library_name="zoo", library_version=network.zoo_version()))
