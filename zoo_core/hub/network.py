"""How zoo talks to servers: timeouts, an overall deadline, bounded retries with backoff, a size cap.

Every request zoo makes (Hub downloads and plain-URL downloads alike) uses these limits; each one
has a default and an environment variable:

=========================  ========  ==================================================================
variable                   default   meaning
=========================  ========  ==================================================================
``ZOO_CONNECT_TIMEOUT``    10 s      to open a connection (TCP and TLS)
``ZOO_READ_TIMEOUT``       30 s      at most between two reads of an answer (a silent server)
``ZOO_DOWNLOAD_DEADLINE``  3600 s    for a whole download, retries included
``ZOO_MAX_DOWNLOAD_BYTES`` 4 GiB     the most bytes a download may have when the registry records no size
=========================  ========  ==================================================================

Without ``ZOO_READ_TIMEOUT``, huggingface_hub's ``HF_HUB_ETAG_TIMEOUT`` (metadata requests) and
``HF_HUB_DOWNLOAD_TIMEOUT`` (file downloads) set the read timeout of Hub requests, if set.
A request that times out, breaks off or gets a 408, 429 or 5xx answer is tried again, at most
``ATTEMPTS`` times, after ``backoff(n)`` seconds (doubling, capped); a refused connection or a
name that does not resolve is reported at once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .._errors import ZooError

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "ATTEMPTS",
    "Deadline",
    "Limits",
    "backoff",
    "client",
    "describe",
    "limits",
    "retryable_status",
    "zoo_version",
]

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
DOWNLOAD_DEADLINE = 3600.0
MAX_DOWNLOAD_BYTES = 4 << 30
ATTEMPTS = 3  # requests per download (or metadata query) before zoo gives up
BACKOFF_BASE = 0.5  # seconds before the second attempt; doubled for each further one
BACKOFF_CAP = 8.0


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ZooError(f"{name}={raw!r} is not a positive number of seconds; set it to e.g. {default:g} or unset it.")
    return value


def _bytes(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ZooError(f"{name}={raw!r} is not a positive whole number of bytes; set it to e.g. {default} or unset it.")
    return int(raw)


@dataclass(frozen=True)
class Limits:
    """The timeouts (seconds) and size cap (bytes) of one download."""

    connect: float
    read: float
    deadline: float
    max_bytes: int

    def timeout(self) -> httpx2.Timeout:
        import httpx2

        return httpx2.Timeout(connect=self.connect, read=self.read, write=self.read, pool=self.connect)


def limits(hf_read_variable: str | None = None) -> Limits:
    """The limits the environment sets; ``hf_read_variable``: the huggingface_hub variable that applies, if any."""
    read = READ_TIMEOUT
    if hf_read_variable and not os.environ.get("ZOO_READ_TIMEOUT", "").strip():
        read = _seconds(hf_read_variable, READ_TIMEOUT)
    return Limits(
        connect=_seconds("ZOO_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
        read=_seconds("ZOO_READ_TIMEOUT", read),
        deadline=_seconds("ZOO_DOWNLOAD_DEADLINE", DOWNLOAD_DEADLINE),
        max_bytes=_bytes("ZOO_MAX_DOWNLOAD_BYTES", MAX_DOWNLOAD_BYTES),
    )


class Deadline:
    """A point in time after which a download gives up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def allows(self, wait: float) -> bool:
        """Whether waiting ``wait`` seconds (and trying once more) fits before the deadline."""
        return self.remaining() > wait


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...): 0.5, 1, 2, ... up to 8."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))


def retryable_status(code: int) -> bool:
    """An answer that may change if asked again: request timeout, too many requests, a server error."""
    return code in (408, 429) or 500 <= code <= 599


def client(lim: Limits) -> httpx2.Client:
    """An HTTP client with the limits' timeouts that follows redirects (dropping credentials off the origin)."""
    import httpx2

    return httpx2.Client(follow_redirects=True, timeout=lim.timeout())


def host(url: str) -> str:
    return urlsplit(url).netloc or url


def is_transient(exc: BaseException) -> bool:
    """Whether trying again may help: a timeout or a connection that broke, not a refusal or an unknown name."""
    import httpx2

    return isinstance(exc, (httpx2.TimeoutException, httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError))


def describe(exc: BaseException, url: str, lim: Limits) -> str:
    """What went wrong with a request, in words: refused, unknown name, silent server, broken connection."""
    import httpx2

    where = host(url)
    text = str(exc)
    if isinstance(exc, httpx2.ConnectTimeout):
        return f"the server at {where} did not accept a connection within {lim.connect:g} s (ZOO_CONNECT_TIMEOUT)"
    if isinstance(exc, (httpx2.ReadTimeout, httpx2.WriteTimeout, httpx2.PoolTimeout)):
        return (
            f"the server at {where} accepted the connection but did not answer within {lim.read:g} s (ZOO_READ_TIMEOUT)"
        )
    if isinstance(exc, httpx2.ConnectError):
        lowered = text.lower()
        if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
            return f"the name {urlsplit(url).hostname} does not resolve (DNS)"
        if "refused" in lowered:
            return f"nothing accepts connections at {where} (connection refused)"
        return f"cannot connect to {where} ({text or type(exc).__name__})"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return f"the server at {where} closed the connection early ({text or 'no reason given'})"
    return f"the connection to {where} failed ({text or type(exc).__name__})"


def zoo_version() -> str:
    """zoo's version, as requests name it (``User-Agent: zoo/<version>``)."""
    from .. import __version__

    return __version__
