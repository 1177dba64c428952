"""Weights from the Hugging Face Hub (or a mirror, or a local folder), checked against their sha256.

Hub downloads land in the Hugging Face cache in ``huggingface_hub``'s layout, and its metadata
requests are huggingface_hub's, so ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``,
``HF_HUB_OFFLINE``, ``HF_TOKEN`` and revisions behave as users expect; zoo streams the file itself,
with the timeouts, deadline, retries and size cap of ``zoo_core._network`` and resuming
``blobs/<etag>.incomplete``.
``ZOO_HUB_DIR`` names a local folder in Hub layout (``org/name/file``), used instead of the
network by air-gapped users; its files are verified all the same.

Upstream weights that their authors serve at a plain http(s) address (a registry entry with
``url`` instead of ``repo_id`` / ``revision``) are downloaded (with the same limits) into zoo's own cache,
``$ZOO_CACHE/urls/<sha1 of the url>/<filename>``: atomically (``<filename>.part``, renamed once
complete) and resumably (``Range: bytes=N-`` on the ``.part`` an interrupted download left).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _network
from ._errors import HubUnavailableError, ZooError
from ._verify import _identity, converted_problem, drop_converted, hash_mismatch, remember_verified, write_converted
from ._verify import _verified as _verified  # verification lives in ._verify; these are imported from here too
from ._verify import forget_verified as forget_verified
from ._verify import sha256_file as sha256_file
from ._verify import verify_file as verify_file

if TYPE_CHECKING:
    import httpx2

    from ._catalog import ModelInfo

__all__ = ["cached_weights", "download_file", "download_url", "fetch_weights", "sha256_file", "verify_file"]


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _version() -> str:
    from . import __version__

    return __version__


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
    the timeouts, deadline, backoff and size cap of ``zoo_core._network``, and an interrupted
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

    lim = _network.limits("HF_HUB_ETAG_TIMEOUT")
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
    deadline = _network.Deadline(lim.deadline)
    attempt = 0
    while True:
        attempt += 1
        try:
            with _quiet_hub_logs():
                timeout: Any = lim.timeout()  # httpx2.Timeout: separate connect and read timeouts
                meta = get_hf_file_metadata(url, timeout=timeout, library_name="zoo", library_version=_version())
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
            if not _network.retryable_status(code):
                raise ZooError(f"{endpoint} answered {code} to the request for {what}; check HF_ENDPOINT.") from None
            kind = _hub_missing(repo_id, revision, lim)  # olah answers 500 for a commit it lacks
            if kind == "revision":
                raise ZooError(missing["revision"]) from None
            reason = f"the Hub at {endpoint} answered {code}"
        except httpx2.TransportError as exc:
            if cached:
                return None
            if not _network.is_transient(exc):
                raise HubUnavailableError(
                    f"Cannot reach the Hub at {endpoint} to download {what}, and the local cache does not have it "
                    f"({_network.describe(exc, url, lim)}); {_hub_fix()}."
                ) from None
            reason = _network.describe(exc, url, lim)
        if cached:
            return None
        wait = _network.backoff(attempt)
        if attempt >= _ATTEMPTS or not deadline.allows(wait):
            tries = f"{attempt} attempts" if attempt > 1 else "1 attempt"
            raise HubUnavailableError(
                f"{reason[:1].upper()}{reason[1:]} ({tries}), so {what} was not downloaded and the local cache does "
                f"not have it; {_hub_fix()}, or try again later."
            )
        time.sleep(wait)


def _hub_missing(repo_id: str, revision: str, lim: _network.Limits) -> str | None:
    """What the Hub lacks, asked of its API: the "file" (the revision exists), the "revision" (the repository
    exists), the "repository"; None if the API does not say."""
    from urllib.parse import quote

    import httpx2
    from huggingface_hub.utils import build_hf_headers, get_session

    headers = build_hf_headers(library_name="zoo", library_version=_version())
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

    lim = _network.limits("HF_HUB_DOWNLOAD_TIMEOUT")
    storage = repo_cache_folder(repo_id)
    pointer = storage / "snapshots" / meta.commit_hash / filename
    blob = storage / "blobs" / meta.etag
    location = meta.location
    if not pointer.exists():
        if meta.size is not None and meta.size > (size if size is not None else lim.max_bytes):
            raise _too_big(what, location, meta.size, size, lim)
        lock = cache_dir() / ".locks" / storage.name / f"{meta.etag}.lock"  # huggingface_hub's lock of this blob
        for folder in (blob.parent, pointer.parent, lock.parent):
            folder.mkdir(parents=True, exist_ok=True)
        with FileLock(lock):
            if not blob.exists():
                part = blob.with_name(blob.name + ".incomplete")
                same_origin = urlsplit(location)[:2] == urlsplit(_endpoint())[:2]
                headers = _hub_headers() if same_origin else {}  # credentials stay on the Hub
                _fetch_resumable(
                    location, part, what=what, fix=_hub_fix(), size=size, progress=None, lim=lim, headers=headers
                )
                if meta.size is not None and _size(part) != meta.size:
                    _forget_part(part)
                    raise HubUnavailableError(
                        f"The download of {what} from {location} has {_size(part):,} bytes, not the {meta.size:,} "
                        f"that {_endpoint()} announced; it was deleted: run the same command again."
                    )
                os.replace(part, blob)
                _forget_part(part)
            if not pointer.exists():
                _create_symlink(str(blob), str(pointer), new_blob=True)
    with contextlib.suppress(OSError):
        _cache_commit_hash_for_specific_revision(str(storage), revision, meta.commit_hash)
    return pointer


def _hub_headers() -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return dict(build_hf_headers(library_name="zoo", library_version=_version()))


def _discard(path: Path) -> None:
    """Delete a cached file: the snapshot link and the blob it points at."""
    blob = path.resolve()
    for item in {path, blob}:
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def _local_hub_file(info: ModelInfo) -> Path | None:
    local = os.environ.get("ZOO_HUB_DIR")
    if not local or "url" in info.weights:
        return None
    from ._registry import check_repo_filename

    filename = check_repo_filename(info.weights["filename"], info.name)  # never a path outside ZOO_HUB_DIR
    path = Path(local) / info.weights["repo_id"] / filename
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
    if "url" in w:
        return f"{info.name} {w['url']}"
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


def _converted_path(info: ModelInfo, sha256: str) -> Path:
    return zoo_cache_dir() / "converted" / f"{sha256}-{info.architecture}.safetensors"


def _converted(info: ModelInfo, path: Path, sha256: str, *, discard: bool = False) -> Path:
    """A foreign pickle converted once to safetensors in zoo's cache (then never unpickled again).

    ``discard``: ``path`` is a download in a cache; if it cannot be read, it is deleted so that the
    next run fetches it afresh.
    """
    target = _converted_path(info, sha256)
    if target.is_file() and converted_problem(target) is None:
        return target  # verified against its sidecar (cheaply, when the record knows it untouched)
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # another process converting the same file: wait for it, then use it
        if target.is_file():
            problem = converted_problem(target)
            if problem is None:
                return target
            drop_converted(target)
            sys.stderr.write(
                f"zoo: {info.name}: {problem}; it was deleted and is converted again from the verified original.\n"
            )
        _convert_into(info, path, target, discard=discard)
    return target


def _convert_into(info: ModelInfo, path: Path, target: Path, *, discard: bool) -> None:
    """Convert the (verified) pickle ``path`` into ``target`` and its sha256 sidecar."""
    from safetensors.torch import save

    from .convert import convert_state, converter_spec

    spec = converter_spec(info.weights["converter"], needed_by=f"{info.name} (plugin {info.plugin})")
    try:
        state = convert_state(spec, path, dict(info.config))
    except ZooError as exc:
        if not discard:
            raise
        _discard(path)
        raise ZooError(
            f"{str(exc).rstrip('.')} (the download was deleted from the cache, so the next run fetches it afresh)."
        ) from exc
    write_converted(target, save({k: v.contiguous() for k, v in state.items()}, metadata={"format": "pt"}))


def check_converted(info: ModelInfo) -> tuple[Path, str | None] | None:
    """``zoo cache verify`` of a model's converted weights: re-hash them against their sidecar.

    None when there are none; else (their path, None when sound, or one sentence saying what was
    wrong and what was done: deleted, and converted again when a verified original is in the cache).
    """
    expected = expected_sha256(info)
    if info.weights.get("format") != "pickle" or expected is None:
        return None
    target = _converted_path(info, expected)
    if not target.is_file():
        return None
    return target, _recheck_converted(info, target, expected)


def _recheck_converted(info: ModelInfo, target: Path, expected: str) -> str | None:
    problem = converted_problem(target, rehash=True)
    if problem is None:
        return None
    drop_converted(target)
    original = cached_weights(info)
    if original is not None and hash_mismatch(original, expected) is None:
        _converted(info, original, expected, discard=True)
        return f"{problem[0].upper()}{problem[1:]}; it was deleted and converted again from the verified original."
    return (
        f"{problem[0].upper()}{problem[1:]}; it was deleted, and the original is not in the cache: "
        f"`zoo load {info.name}` downloads and converts it again."
    )


# -- weights at a plain http(s) address --------------------------------------------------------
_ATTEMPTS = _network.ATTEMPTS  # requests per download; one cut off mid-way is resumed at once from where it stopped


class _Interrupted(Exception):
    """A request failed in a way that trying again may cure (timeout, broken connection, 408/429/5xx).

    What came is kept in the ``.part`` file. ``total``: the size the server announced, if any.
    """

    def __init__(self, reason: str, total: int | None) -> None:
        super().__init__(reason)
        self.total = total


class _Restart(Exception):
    """The ``.part`` file cannot be resumed (it was deleted): ask for the whole file."""


def url_download_path(url: str, filename: str) -> Path:
    """Where the file downloaded from ``url`` lives: ``$ZOO_CACHE/urls/<sha1 of the url>/<filename>``."""
    digest = hashlib.sha1(url.encode("utf-8"), usedforsecurity=False).hexdigest()
    return zoo_cache_dir() / "urls" / digest / filename


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of ``bytes 100-199/1000`` or ``bytes */1000``; None where absent or unknown."""
    import re

    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", header or "")
    if not match:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total and total != "*" else None)


def _progress_disabled(progress: bool | None) -> bool | None:
    """tqdm's ``disable``; None (the default) shows the bar only on a terminal, unless HF_HUB_DISABLE_PROGRESS_BARS."""
    if progress is not None:
        return not progress
    from huggingface_hub.utils import are_progress_bars_disabled

    return True if are_progress_bars_disabled() else None


def download_url(
    url: str,
    target: str | os.PathLike[str],
    *,
    what: str = "",
    size: int | None = None,
    fix: str = "",
    progress: bool | None = None,
) -> Path:
    """Download ``url`` to ``target`` unless it is there already, with a progress bar.

    The bytes go to ``<target>.part``, renamed to ``target`` once complete. A ``.part`` that an
    interrupted download left is resumed with ``Range: bytes=N-`` (and ``If-Range``): a 206 answer
    is appended to it; a server that ignores Range answers 200 and the download starts again from
    zero. A connection cut off mid-way is resumed at once; a timeout or a 408/429/5xx answer is
    tried again after a backoff (see ``zoo_core._network`` for the timeouts, the deadline and their
    environment variables). ``size``: the bytes the file must have, if known; without it, at most
    ``ZOO_MAX_DOWNLOAD_BYTES``. ``fix``: what a user can do when the download fails (the end of
    the error's one sentence). Failures raise ``ZooError``.
    """
    from huggingface_hub import constants

    target = Path(target)
    if target.is_file():
        return target
    what = what or url
    fix = fix or f"download the file yourself and save it as {target}"
    if constants.HF_HUB_OFFLINE:
        raise HubUnavailableError(
            f"Cannot find {what} in zoo's cache ({target}), and HF_HUB_OFFLINE is set; "
            f"unset HF_HUB_OFFLINE to download it once from {url}, or {fix}."
        )
    from filelock import FileLock

    lim = _network.limits()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # another process downloading the same file: wait for it, then use it
        if target.is_file():
            return target
        part = target.with_name(target.name + ".part")
        _fetch_resumable(url, part, what=what, fix=fix, size=size, progress=progress, lim=lim)
        os.replace(part, target)
        _forget_part(part)
    return target


def _too_big(what: str, url: str, got: int, size: int | None, lim: _network.Limits) -> ZooError:
    if size is not None:
        limit = f"the {size:,} that the registry records"
        fix = "check the entry's url and size, or whether its authors replaced the file"
    else:
        limit = f"ZOO_MAX_DOWNLOAD_BYTES ({lim.max_bytes:,} bytes), the most zoo downloads for an entry without a size"
        fix = "check the url, or raise ZOO_MAX_DOWNLOAD_BYTES if the file really is that large"
    return ZooError(
        f"The download of {what} from {url} has {got:,} bytes or more, more than {limit}; "
        f"it was stopped and deleted: {fix}."
    )


def _fetch_resumable(
    url: str,
    part: Path,
    *,
    what: str,
    fix: str,
    size: int | None,
    progress: bool | None,
    lim: _network.Limits,
    headers: dict[str, str] | None = None,
) -> None:
    """Fill ``part`` with the whole file at ``url``, resuming what it holds; retries within the limits."""
    import time

    if _size(part) > (size if size is not None else lim.max_bytes):
        _forget_part(part)
    deadline = _network.Deadline(lim.deadline)
    with _network.client(lim) as http:
        attempt = 0
        while True:
            attempt += 1
            before = _size(part)
            try:
                _request_into(http, url, part, what, fix, size, lim, deadline, progress, headers)
                break
            except _Interrupted as exc:
                got = _size(part)
                wait = 0.0 if got > before else _network.backoff(attempt)
                if attempt < _ATTEMPTS and deadline.allows(wait):
                    time.sleep(wait)
                    continue
                if got:
                    of = f" of {exc.total:,}" if exc.total is not None else ""
                    raise HubUnavailableError(
                        f"Downloading {what} from {url} stopped after {got:,}{of} bytes ({exc}); "
                        "run the same command again to resume it where it stopped."
                    ) from None
                tries = f"{attempt} attempts" if attempt > 1 else "1 attempt"
                raise HubUnavailableError(
                    f"{str(exc)[:1].upper()}{str(exc)[1:]} ({tries}), so {what} was not downloaded from {url}; "
                    f"try again later, or {fix}."
                ) from None
    got = _size(part)
    if size is not None and got != size:
        _forget_part(part)
        raise ZooError(
            f"The download of {what} from {url} has {got:,} bytes, not the {size:,} that the registry records; "
            "it was deleted: check the entry's url and size, or whether its authors replaced the file."
        )


def _forget_part(part: Path) -> None:
    for item in (part, part.with_name(part.name + ".validator")):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def _request_into(
    http: httpx2.Client,
    url: str,
    part: Path,
    what: str,
    fix: str,
    size: int | None,
    lim: _network.Limits,
    deadline: _network.Deadline,
    progress: bool | None,
    headers: dict[str, str] | None,
) -> None:
    """One request: resume ``part`` from its size, or (re)start it; ``_Interrupted`` if trying again may help.

    Stops reading, and deletes ``part``, as soon as the file would pass ``size`` (or ``ZOO_MAX_DOWNLOAD_BYTES``).
    """
    import httpx2

    args = (http, url, part, what, fix, size, lim, deadline, progress, headers)
    try:
        try:
            _stream_into(*args)
        except _Restart:  # the .part was deleted: once more, from zero
            _stream_into(*args)
    except httpx2.TransportError as exc:
        if _network.is_transient(exc):
            raise _Interrupted(_network.describe(exc, url, lim), None) from exc
        raise HubUnavailableError(
            f"Cannot reach {_network.host(url)} to download {what} from {url} ({_network.describe(exc, url, lim)}); "
            f"check the network, or {fix}."
        ) from None


def _stream_into(
    http: httpx2.Client,
    url: str,
    part: Path,
    what: str,
    fix: str,
    size: int | None,
    lim: _network.Limits,
    deadline: _network.Deadline,
    progress: bool | None,
    headers: dict[str, str] | None,
) -> None:
    import httpx2

    limit = size if size is not None else lim.max_bytes
    offset = _size(part)
    validator_file = part.with_name(part.name + ".validator")  # the ETag / Last-Modified the .part was begun with
    sent = {"User-Agent": f"zoo/{_version()}", **(headers or {}), "Accept-Encoding": "identity"}
    if offset:
        sent["Range"] = f"bytes={offset}-"
        with contextlib.suppress(FileNotFoundError):
            sent["If-Range"] = validator_file.read_text(encoding="utf-8").strip()
    total: int | None = None
    with http.stream("GET", url, headers=sent) as response:
        code, reason = response.status_code, response.reason_phrase
        start, total = _content_range(response.headers.get("Content-Range"))
        if code >= 400:
            if code == 416 and offset:  # nothing left after the .part: complete already, or a stale one
                if total == offset:
                    return
                _forget_part(part)
                raise _Restart
            if _network.retryable_status(code):
                raise _Interrupted(f"{url} answered {code} {reason}", total)
            if code in (404, 410):
                raise ZooError(
                    f"{url} answered {code} {reason}, so {what} cannot be downloaded (its authors may have moved "
                    f"the file); check the registry entry's url, or {fix}."
                )
            raise ZooError(f"{url} answered {code} {reason} to the download of {what}; try again later, or {fix}.")
        if code == 206 and start == offset:
            mode = "ab"
        elif code == 206 and offset:  # a range other than the one asked for: start again
            _forget_part(part)
            raise _Restart
        else:  # 200: a first request, a server that ignores Range, or a file changed since (If-Range)
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            validator = response.headers.get("ETag", "")
            validator = response.headers.get("Last-Modified", "") if validator.startswith("W/") else validator
            if validator:
                validator_file.write_text(validator, encoding="utf-8")
            else:
                with contextlib.suppress(FileNotFoundError):
                    validator_file.unlink()
        if total is not None and total > limit:  # refused before a byte is written
            _forget_part(part)
            raise _too_big(what, url, total, size, lim)
        from tqdm.auto import tqdm

        got = offset
        with (
            open(part, mode) as handle,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part").removesuffix(".incomplete"),
                disable=_progress_disabled(progress),
            ) as bar,
        ):
            try:
                for chunk in response.iter_bytes():  # as they come: a cut-off leaves what came on disk
                    got += len(chunk)
                    if got > limit:  # a server that sends more than it announced, or announced nothing
                        handle.close()
                        _forget_part(part)
                        raise _too_big(what, url, got, size, lim)
                    handle.write(chunk)
                    bar.update(len(chunk))
                    if deadline.remaining() <= 0:
                        raise _Interrupted(
                            f"the download did not finish within {lim.deadline:g} s (ZOO_DOWNLOAD_DEADLINE)", total
                        )
            except httpx2.TransportError as exc:
                if not _network.is_transient(exc):
                    raise
                raise _Interrupted(_network.describe(exc, url, lim), total) from exc
    got = _size(part)
    if total is not None and got != total:
        if got > total:  # more than the server announced: nothing to resume from
            _forget_part(part)
        raise _Interrupted("the connection closed early", total)


def _download_url_weights(info: ModelInfo) -> Path:
    weights = info.weights
    target = url_download_path(weights["url"], weights["filename"])
    if weights.get("manual"):  # a file-sharing page: a person downloads it, zoo takes it from its cache
        if target.is_file():
            return target
        raise ZooError(
            f"The weights of {info.name!r} cannot be downloaded automatically: get {weights['filename']} from "
            f"{weights['url']} in a browser and save it as {target}, then run the command again."
        )
    if weights.get("format") == "pickle":
        convert = f"zoo convert {weights['converter']} FILE -o DIR"
        fix = f"download the file yourself and run `{convert}` (then `zoo load DIR`)"
    else:
        fix = f"download the file yourself and save it as {target}"
    return download_url(weights["url"], target, what=f"the weights of {info.name!r}", size=weights.get("size"), fix=fix)


def fetch_weights(info: ModelInfo) -> Path:
    """Download (or find in the cache) a model's weights file and verify its sha256 before use.

    The file comes from the entry's Hub repository (or ``ZOO_HUB_DIR``), or from its ``url``.
    Upstream weights that nobody here could fetch carry no sha256 in the registry: the first
    download pins its hash in zoo's cache (``pins.json``), once the file has proved readable, and
    later downloads must match it. A pickled upstream checkpoint is read with
    ``torch.load(weights_only=True)`` and converted once to safetensors; the safetensors file is
    what gets loaded.
    """
    weights = info.weights
    pickle = weights.get("format", "safetensors") == "pickle"
    local = _local_hub_file(info)
    if "url" in weights:
        path = _download_url_weights(info)
    elif local is not None:
        path = local
    else:
        path = download_file(
            weights["repo_id"],
            weights["filename"],
            revision=weights["revision"],
            what=f"the weights of {info.name!r}",
            size=weights.get("size"),
        )
    owned = local is None  # a download in a cache (deleted when bad), not a file of the user's
    expected = expected_sha256(info)
    if expected is None:
        identity, hashed_at = _identity(path), time.time_ns()
        expected = sha256_file(path)
        usable = _converted(info, path, expected, discard=owned) if pickle else path
        _pin(info, expected)
        remember_verified(path, expected, hashed_at=hashed_at, identity=identity)
        return usable
    pinned_in = None if weights["sha256"] else zoo_cache_dir() / "pins.json"
    verify_file(path, expected, info.name, discard=owned, pinned_in=pinned_in)
    if pickle:
        return _converted(info, path, expected, discard=owned)
    return path


def cached_weights(info: ModelInfo) -> Path | None:
    """The cached weights file of a model, if any (no network)."""
    weights = info.weights
    if "url" in weights:
        path = url_download_path(weights["url"], weights["filename"])
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found: Any = try_to_load_from_cache(weights["repo_id"], weights["filename"], revision=weights["revision"])
    return Path(found) if isinstance(found, str) else None


def cached_paths(info: ModelInfo) -> list[Path]:
    """What ``zoo cache rm`` removes for a model: its download folder (the Hub repository's, or the url's) and
    the safetensors converted from it. The pins stay, so that a new download must match them."""
    weights = info.weights
    if "url" in weights:
        paths = [url_download_path(weights["url"], weights["filename"]).parent]
    else:
        paths = [repo_cache_folder(weights["repo_id"])]
    expected = expected_sha256(info)
    if weights.get("format") == "pickle" and expected:
        from ._verify import sidecar_path

        converted = _converted_path(info, expected)
        paths += [converted, sidecar_path(converted), converted.with_name(converted.name + ".lock")]
    return [path for path in paths if path.exists()]


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_cache_folder(repo_id: str) -> Path:
    return cache_dir() / f"models--{repo_id.replace('/', '--')}"


# -- leftovers: partial downloads, unused locks, broken links ---------------------------------
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
        size = 0 if path.is_symlink() or path.is_dir() else _size(path)
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
