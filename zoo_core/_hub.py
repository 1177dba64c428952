"""Weights from the Hugging Face Hub (or a mirror, or a local folder), checked against their sha256.

Downloads go through ``huggingface_hub.hf_hub_download``, so ``HF_ENDPOINT``, ``HF_HOME``,
``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_TOKEN`` and revisions behave as users expect.
``ZOO_HUB_DIR`` names a local folder in Hub layout (``org/name/file``), used instead of the
network by air-gapped users; its files are verified all the same.

Upstream weights that their authors serve at a plain http(s) address (a registry entry with
``url`` instead of ``repo_id`` / ``revision``) are downloaded with urllib into zoo's own cache,
``$ZOO_CACHE/urls/<sha1 of the url>/<filename>``: atomically (``<filename>.part``, renamed once
complete) and resumably (``Range: bytes=N-`` on the ``.part`` an interrupted download left).
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

__all__ = ["cached_weights", "download_file", "download_url", "fetch_weights", "sha256_file", "verify_file"]


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


def verify_file(path: Path, expected: str, name: str, *, discard: bool, pinned_in: Path | None = None) -> Path:
    """Check ``path`` against ``expected`` sha256; on a mismatch, refuse it (and drop it from the cache).

    A file is hashed once per process: a later load of the same unchanged file (same inode, size
    and modification time) reuses the result. ``zoo cache verify`` always re-hashes.
    ``pinned_in``: the pins file, when ``expected`` was pinned here rather than by the registry.
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
        if pinned_in is not None:
            expected = f"{expected} (pinned in {pinned_in} on its first download)"
            if discard:
                fate = (
                    "it was deleted from the cache; if its authors replaced the file on purpose, delete the "
                    f"{name!r} line of {pinned_in} and run again to pin the new one"
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
    if not local or "url" in info.weights:
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
    if target.is_file():
        return target
    from safetensors.torch import save

    from ._atomic import atomic_write_bytes
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
    atomic_write_bytes(target, save({k: v.contiguous() for k, v in state.items()}, metadata={"format": "pt"}))
    return target


# -- weights at a plain http(s) address --------------------------------------------------------
_TIMEOUT = 15.0  # seconds to connect, and at most between two reads
_ATTEMPTS = 3  # requests per download while each brings more bytes: a connection cut off mid-way resumes at once
_CHUNK = 1 << 16


class _Interrupted(Exception):
    """The connection ended before the whole file came; what came is kept in the ``.part`` file."""

    def __init__(self, reason: str, total: int | None) -> None:
        super().__init__(reason)
        self.total = total


def url_download_path(url: str, filename: str) -> Path:
    """Where the file downloaded from ``url`` lives: ``$ZOO_CACHE/urls/<sha1 of the url>/<filename>``."""
    digest = hashlib.sha1(url.encode("utf-8"), usedforsecurity=False).hexdigest()
    return zoo_cache_dir() / "urls" / digest / filename


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__


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
    zero. A connection cut off mid-way is resumed at once while each request brings more bytes.
    ``size``: the bytes the file must have, if known. ``fix``: what a user can do when the
    download fails (the end of the error's one sentence). Failures raise ``ZooError``.
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

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # another process downloading the same file: wait for it, then use it
        if target.is_file():
            return target
        part = target.with_name(target.name + ".part")
        if size is not None and _size(part) > size:
            part.unlink()
        for attempt in range(1, _ATTEMPTS + 1):
            before = _size(part)
            try:
                _request_into(url, part, what=what, fix=fix, progress=progress)
                break
            except _Interrupted as exc:
                if attempt == _ATTEMPTS or _size(part) <= before:
                    of = f" of {exc.total:,}" if exc.total is not None else ""
                    raise HubUnavailableError(
                        f"Downloading {what} from {url} stopped after {_size(part):,}{of} bytes ({exc}); "
                        "run the same command again to resume it where it stopped."
                    ) from exc
        got = _size(part)
        if size is not None and got != size:
            _forget_part(part)
            raise ZooError(
                f"The download of {what} from {url} has {got:,} bytes, not the {size:,} that the registry records; "
                "it was deleted: check the entry's url and size, or whether its authors replaced the file."
            )
        os.replace(part, target)
        _forget_part(part)
    return target


def _forget_part(part: Path) -> None:
    for item in (part, part.with_name(part.name + ".validator")):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def _request_into(url: str, part: Path, *, what: str, fix: str, progress: bool | None) -> None:
    """One request: resume ``part`` from its size, or (re)start it; ``_Interrupted`` if the connection ends early."""
    import http.client
    import urllib.error
    import urllib.request

    offset = _size(part)
    validator_file = part.with_name(part.name + ".validator")  # the ETag / Last-Modified the .part was begun with
    headers = {"User-Agent": f"zoo/{_version()}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        with contextlib.suppress(FileNotFoundError):
            headers["If-Range"] = validator_file.read_text(encoding="utf-8").strip()
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=_TIMEOUT)
    except urllib.error.HTTPError as exc:
        with exc:
            total = _content_range(exc.headers.get("Content-Range"))[1]
        if exc.code == 416 and offset:  # nothing left after the .part: complete already, or a stale one
            if total == offset:
                return
            _forget_part(part)
            return _request_into(url, part, what=what, fix=fix, progress=progress)
        if exc.code in (404, 410):
            raise ZooError(
                f"{url} answered {exc.code} {exc.reason}, so {what} cannot be downloaded (its authors may have moved "
                f"the file); check the registry entry's url, or {fix}."
            ) from None
        raise ZooError(
            f"{url} answered {exc.code} {exc.reason} to the download of {what}; try again later, or {fix}."
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        from urllib.parse import urlsplit

        raise HubUnavailableError(
            f"Cannot reach {urlsplit(url).netloc or url} to download {what} from {url} ({_reason(exc)}); "
            f"check the network, or {fix}."
        ) from None

    with response:
        start, total = _content_range(response.headers.get("Content-Range"))
        if response.status == 206 and start == offset:
            mode = "ab"
        elif response.status == 206 and offset:  # a range other than the one asked for: start again
            _forget_part(part)
            return _request_into(url, part, what=what, fix=fix, progress=progress)
        else:  # 200: a first request, a server that ignores Range, or a file changed since (If-Range)
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            validator = response.headers.get("ETag", "")
            validator = response.headers.get("Last-Modified", "") if validator.startswith("W/") else validator
            if validator:
                validator_file.write_text(validator, encoding="utf-8")
        from tqdm.auto import tqdm

        with (
            open(part, mode) as handle,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=_progress_disabled(progress),
            ) as bar,
        ):
            try:
                while chunk := response.read(_CHUNK):
                    handle.write(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as exc:
                raise _Interrupted(_reason(exc), total) from exc
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
        )
    owned = local is None  # a download in a cache (deleted when bad), not a file of the user's
    expected = expected_sha256(info)
    if expected is None:
        expected = sha256_file(path)
        usable = _converted(info, path, expected, discard=owned) if pickle else path
        _pin(info, expected)
        _verified[_identity(path)] = expected
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
        paths.append(_converted_path(info, expected))
    return [path for path in paths if path.exists()]


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_cache_folder(repo_id: str) -> Path:
    return cache_dir() / f"models--{repo_id.replace('/', '--')}"
