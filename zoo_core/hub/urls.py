"""Resumable downloads from a plain http(s) address, for upstream weights that their authors serve outside the Hub.

A registry entry with ``url`` instead of ``repo_id`` / ``revision`` is downloaded (with the limits of
``zoo_core.hub.network``) into zoo's own cache, ``$ZOO_CACHE/urls/<sha1 of the url>/<filename>``: atomically
(``<filename>.part``, renamed once complete) and resumably (``Range: bytes=N-`` on the ``.part`` an
interrupted download left). Hub downloads stream their blobs through ``fetch_resumable`` too.

Example:
    >>> download_url("https://example.org/weights.pth", "/tmp/weights.pth", size=1234)
    PosixPath('/tmp/weights.pth')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import HubUnavailableError, ZooError
from . import network
from .cache import file_size, zoo_cache_dir

if TYPE_CHECKING:
    import httpx2

__all__ = ["download_url", "fetch_resumable", "forget_part", "too_big_error", "url_download_path"]


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
    tried again after a backoff (see ``zoo_core.hub.network`` for the timeouts, the deadline and their
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

    lim = network.limits()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # another process downloading the same file: wait for it, then use it
        if target.is_file():
            return target
        part = target.with_name(target.name + ".part")
        fetch_resumable(url, part, what=what, fix=fix, size=size, progress=progress, lim=lim)
        os.replace(part, target)
        forget_part(part)
    return target


def too_big_error(what: str, url: str, got: int, size: int | None, lim: network.Limits) -> ZooError:
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


def fetch_resumable(
    url: str,
    part: Path,
    *,
    what: str,
    fix: str,
    size: int | None,
    progress: bool | None,
    lim: network.Limits,
    headers: dict[str, str] | None = None,
) -> None:
    """Fill ``part`` with the whole file at ``url``, resuming what it holds; retries within the limits."""
    import time

    if file_size(part) > (size if size is not None else lim.max_bytes):
        forget_part(part)
    deadline = network.Deadline(lim.deadline)
    with network.client(lim) as http:
        attempt = 0
        while True:
            attempt += 1
            before = file_size(part)
            try:
                _request_into(http, url, part, what, fix, size, lim, deadline, progress, headers)
                break
            except _Interrupted as exc:
                got = file_size(part)
                wait = 0.0 if got > before else network.backoff(attempt)
                if attempt < network.ATTEMPTS and deadline.allows(wait):
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
    got = file_size(part)
    if size is not None and got != size:
        forget_part(part)
        raise ZooError(
            f"The download of {what} from {url} has {got:,} bytes, not the {size:,} that the registry records; "
            "it was deleted: check the entry's url and size, or whether its authors replaced the file."
        )


def forget_part(part: Path) -> None:
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
    lim: network.Limits,
    deadline: network.Deadline,
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
        if network.is_transient(exc):
            raise _Interrupted(network.describe(exc, url, lim), None) from exc
        raise HubUnavailableError(
            f"Cannot reach {network.host(url)} to download {what} from {url} ({network.describe(exc, url, lim)}); "
            f"check the network, or {fix}."
        ) from None


def _stream_into(
    http: httpx2.Client,
    url: str,
    part: Path,
    what: str,
    fix: str,
    size: int | None,
    lim: network.Limits,
    deadline: network.Deadline,
    progress: bool | None,
    headers: dict[str, str] | None,
) -> None:
    import httpx2

    limit = size if size is not None else lim.max_bytes
    offset = file_size(part)
    validator_file = part.with_name(part.name + ".validator")  # the ETag / Last-Modified the .part was begun with
    sent = {"User-Agent": f"zoo/{network.zoo_version()}", **(headers or {}), "Accept-Encoding": "identity"}
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
                forget_part(part)
                raise _Restart
            if network.retryable_status(code):
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
            forget_part(part)
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
            forget_part(part)
            raise too_big_error(what, url, total, size, lim)
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
                        forget_part(part)
                        raise too_big_error(what, url, got, size, lim)
                    handle.write(chunk)
                    bar.update(len(chunk))
                    if deadline.remaining() <= 0:
                        raise _Interrupted(
                            f"the download did not finish within {lim.deadline:g} s (ZOO_DOWNLOAD_DEADLINE)", total
                        )
            except httpx2.TransportError as exc:
                if not network.is_transient(exc):
                    raise
                raise _Interrupted(network.describe(exc, url, lim), total) from exc
    got = file_size(part)
    if total is not None and got != total:
        if got > total:  # more than the server announced: nothing to resume from
            forget_part(part)
        raise _Interrupted("the connection closed early", total)
