"""Group 3 of issue 13: the network can fail in every way, and `zoo` still answers in one sentence.

Every server here is on 127.0.0.1 and answers a bounded number of connections; the timeouts are set small
through the environment (ZOO_CONNECT_TIMEOUT / ZOO_READ_TIMEOUT), so each case takes seconds. The elapsed-time
bounds are safety bounds against a hang (generous for a loaded CI machine), not performance assertions.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import zoo_core
from conftest import assert_clean_failure, in_cache_index, snapshot_tree
from zoo_core.hub import network as _network

REPO_ROOT = Path(zoo_core.__file__).resolve().parent.parent
REGISTRY = json.loads((Path(zoo_core.__file__).resolve().parent / "registry.json").read_text())
VAE = REGISTRY["models"]["vae.mnist"]
WEIGHTS = VAE["weights"]
DATA = (REPO_ROOT / "hub" / WEIGHTS["repo_id"] / WEIGHTS["filename"]).read_bytes()
SAFETY_BOUND = 30.0  # seconds: far above what each case needs; only a hang would pass it
FAST = {"ZOO_CONNECT_TIMEOUT": "1", "ZOO_READ_TIMEOUT": "1"}


# -- running zoo -------------------------------------------------------------------------------------------
def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "HF_", "HUGGINGFACE_"))}
    env.update(
        HF_HOME=str(home / "hf"),
        ZOO_CACHE=str(home / "zoo-cache"),
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def zoo(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """`python -m zoo_core ARGS` in a fresh process; returns the result and the seconds it took."""
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "zoo_core", *args], env=env, capture_output=True, text=True, timeout=120
    )
    return result, time.monotonic() - start


def registry(tmp_path: Path, **weights: Any) -> str:
    """A registry with one model, ``vae.net``: vae.mnist with its weights entry changed."""
    entry = json.loads(json.dumps(VAE))
    entry["weights"] = {k: v for k, v in {**WEIGHTS, **weights}.items() if v is not None}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"version": 1, "models": {"vae.net": entry}}))
    return str(path)


def url_registry(tmp_path: Path, url: str, **weights: Any) -> str:
    """``vae.net`` with its safetensors served at a plain url (sha256 and size as published)."""
    return registry(tmp_path, url=url, repo_id=None, revision=None, **weights)


# -- loopback servers --------------------------------------------------------------------------------------
@dataclass
class Script:
    """How the loopback HTTP server behaves; ``requests`` records each request (method, path, Range, time)."""

    data: bytes = DATA
    revision: str = WEIGHTS["revision"]
    cut_after: int | None = None  # the body of a GET stops after this many bytes, while `cuts` > 0
    cuts: int = 0
    status: int | None = None  # answer every request with this status and no body
    length: int | None = None  # the Content-Length to announce (default: the true one); -1 for none
    stream_forever: bool = False  # a GET sends bytes without end (up to `limit`) and no Content-Length
    limit: int = 64 << 20
    delay: float = 0.0  # seconds between two 64 KiB pieces of a stream
    sent: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    """A file server that speaks enough of the Hub: HEAD /…/resolve/REV/FILE gives X-Repo-Commit and ETag."""

    server: Any
    protocol_version = "HTTP/1.1"

    def _head(self, body: bool) -> None:
        script: Script = self.server.script
        script.requests.append(
            {"method": self.command, "path": self.path, "range": self.headers.get("Range"), "time": time.monotonic()}
        )
        if script.status:
            self.send_response(script.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = script.data
        if script.stream_forever:
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            if body:
                with contextlib.suppress(OSError):
                    while script.sent < script.limit:
                        self.wfile.write(b"\0" * 65536)
                        script.sent += 65536
                        time.sleep(script.delay)
            self.close_connection = True
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and body:
            start = int(match[1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        length = len(data) - start if script.length is None else script.length
        if length >= 0:
            self.send_header("Content-Length", str(length))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", script.revision)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if not body:
            return
        payload = data[start:]
        if script.cuts and script.cut_after is not None:
            script.cuts -= 1
            payload = payload[: script.cut_after]
        with contextlib.suppress(OSError):
            self.wfile.write(payload)
            script.sent += len(payload)

    def do_HEAD(self) -> None:
        self._head(body=False)

    def do_GET(self) -> None:
        self._head(body=True)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def http_server(script: Script) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.script = script  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def silent_server(max_connections: int = 20) -> Iterator[tuple[str, list[float]]]:
    """Accepts connections (at most ``max_connections``) and never answers; yields its url and accept times."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[float] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set() and len(held) < max_connections:
            with contextlib.suppress(TimeoutError):
                conn, _ = listener.accept()
                held.append(conn)
                accepted.append(time.monotonic())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hub_blobs(home: Path, repo_id: str = WEIGHTS["repo_id"]) -> Path:
    return home / "hf" / "hub" / f"models--{repo_id.replace('/', '--')}" / "blobs"


def url_folder(home: Path, url: str) -> Path:
    return home / "zoo-cache" / "urls" / hashlib.sha1(url.encode()).hexdigest()


# -- 1: timeouts -------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hub", "url"])
def test_a_server_that_never_answers_fails_within_the_timeouts(tmp_path: Path, kind: str) -> None:
    with silent_server() as (base, accepted):
        if kind == "hub":
            env = env_for(tmp_path, HF_ENDPOINT=base, **FAST)
        else:
            env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, base + "/vae.safetensors"), **FAST)
        result, took = zoo("load", "vae.mnist" if kind == "hub" else "vae.net", env=env)
    message = assert_clean_failure(result)
    assert f"The server at {base.removeprefix('http://')} accepted the connection but did not answer within 1 s" in (
        message
    )
    assert "ZOO_READ_TIMEOUT" in message and f"{_network.ATTEMPTS} attempts" in message
    assert len(accepted) == _network.ATTEMPTS  # a bounded number of tries, not a loop
    assert took < SAFETY_BOUND


@pytest.mark.slow
def test_a_bad_timeout_variable_is_one_sentence(tmp_path: Path) -> None:
    env = env_for(tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}", ZOO_READ_TIMEOUT="soon")
    message = assert_clean_failure(zoo("load", "vae.mnist", env=env)[0])
    assert "ZOO_READ_TIMEOUT='soon' is not a positive number of seconds" in message


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _network.limits() == _network.Limits(10.0, 30.0, 3600.0, 4 << 30)
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "7")
    assert _network.limits("HF_HUB_DOWNLOAD_TIMEOUT").read == 7.0  # huggingface_hub's variable applies to the Hub
    monkeypatch.setenv("ZOO_READ_TIMEOUT", "3")
    monkeypatch.setenv("ZOO_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("ZOO_DOWNLOAD_DEADLINE", "60")
    monkeypatch.setenv("ZOO_MAX_DOWNLOAD_BYTES", "1000")
    assert _network.limits("HF_HUB_DOWNLOAD_TIMEOUT") == _network.Limits(2.0, 3.0, 60.0, 1000)  # zoo's own wins


# -- 2: backoff and resuming -------------------------------------------------------------------------------
@pytest.mark.slow
def test_retries_back_off_and_stop(tmp_path: Path) -> None:
    script = Script(status=503)
    with http_server(script) as base:
        env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, base + "/vae.safetensors"), **FAST)
        result, took = zoo("load", "vae.net", env=env)
    message = assert_clean_failure(result)
    assert "answered 503" in message and f"({_network.ATTEMPTS} attempts)" in message
    times = [r["time"] for r in script.requests]
    assert len(times) == _network.ATTEMPTS
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # each wait is at least the backoff (lower bounds only: a slow machine waits longer, never shorter)
    assert all(gap >= _network.backoff(n + 1) * 0.9 for n, gap in enumerate(gaps)), gaps
    assert [_network.backoff(n) for n in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, _network.BACKOFF_CAP]
    assert took < SAFETY_BOUND


@pytest.mark.slow
def test_an_interrupted_url_download_resumes_its_part_file(tmp_path: Path) -> None:
    cut = 100_000
    script = Script(cut_after=cut, cuts=_network.ATTEMPTS)
    with http_server(script) as base:
        url = base + "/vae.safetensors"
        env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, url, filename="vae.safetensors"), **FAST)
        first, _ = zoo("load", "vae.net", env=env)
        message = assert_clean_failure(first)
        assert f"stopped after {3 * cut:,} of {len(DATA):,} bytes" in message and "again to resume" in message
        part = url_folder(tmp_path, url) / "vae.safetensors.part"
        assert part.read_bytes() == DATA[: 3 * cut]
        listed, _ = zoo("cache", "ls", env=env)
        assert "Partial downloads: 1 (0.3 MB)" in listed.stdout
        second, _ = zoo("load", "vae.net", env=env)
    assert second.returncode == 0, second.stderr
    ranges = [r["range"] for r in script.requests]
    assert ranges == [None, f"bytes={cut}-", f"bytes={2 * cut}-", f"bytes={3 * cut}-"]  # never from zero again
    assert (url_folder(tmp_path, url) / "vae.safetensors").read_bytes() == DATA and not part.exists()


@pytest.mark.slow
def test_an_interrupted_hub_download_resumes_its_incomplete_file(tmp_path: Path) -> None:
    """huggingface_hub 2.4 restarts from zero in each process (its .incomplete name is unique per process);
    zoo keeps ``blobs/<etag>.incomplete`` and asks for the rest with Range."""
    cut = 100_000
    script = Script(cut_after=cut, cuts=_network.ATTEMPTS)
    etag = hashlib.sha256(DATA).hexdigest()
    with http_server(script) as base:
        env = env_for(tmp_path, HF_ENDPOINT=base, **FAST)
        first, _ = zoo("load", "vae.mnist", env=env)
        assert "again to resume" in assert_clean_failure(first)
        incomplete = hub_blobs(tmp_path) / f"{etag}.incomplete"
        assert incomplete.read_bytes() == DATA[: 3 * cut]
        second, _ = zoo("load", "vae.mnist", env=env)
    assert second.returncode == 0, second.stderr
    gets = [r["range"] for r in script.requests if r["method"] == "GET"]
    assert gets == [None, f"bytes={cut}-", f"bytes={2 * cut}-", f"bytes={3 * cut}-"]
    snapshot = hub_blobs(tmp_path).parent / "snapshots" / WEIGHTS["revision"] / WEIGHTS["filename"]
    assert snapshot.read_bytes() == DATA and not incomplete.exists()  # in huggingface_hub's layout


# -- 3: size caps ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_url_response_longer_than_the_registry_size_is_refused_unread(tmp_path: Path) -> None:
    script = Script(data=DATA + b"\0" * 1000)
    with http_server(script) as base:
        url = base + "/vae.safetensors"
        env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, url), **FAST)
        message = assert_clean_failure(zoo("load", "vae.net", env=env)[0])
    assert f"has {len(DATA) + 1000:,} bytes or more, more than the {len(DATA):,} that the registry records" in message
    assert [p.name for p in url_folder(tmp_path, url).iterdir()] == ["model.safetensors.lock"]  # no .part


@pytest.mark.slow
def test_a_stream_without_length_stops_at_the_cap(tmp_path: Path) -> None:
    """No Content-Length and no registry size: reading stops once ZOO_MAX_DOWNLOAD_BYTES is passed."""
    script = Script(stream_forever=True, limit=64 << 20)
    with http_server(script) as base:
        url = base + "/vae.safetensors"
        env = env_for(
            tmp_path,
            ZOO_REGISTRY=url_registry(tmp_path, url, size=None),
            ZOO_MAX_DOWNLOAD_BYTES=str(1 << 20),
            **FAST,
        )
        message = assert_clean_failure(zoo("load", "vae.net", env=env)[0])
        time.sleep(0.2)
        sent = script.sent
    assert "more than ZOO_MAX_DOWNLOAD_BYTES (1,048,576 bytes)" in message
    assert sent < script.limit  # the server was cut off, not read to its end
    assert [p.name for p in url_folder(tmp_path, url).iterdir()] == ["model.safetensors.lock"]  # no .part


@pytest.mark.slow
def test_a_download_stops_at_the_deadline_and_keeps_what_came(tmp_path: Path) -> None:
    script = Script(stream_forever=True, delay=0.05, limit=8 << 20)  # about 1.3 MB a second
    with http_server(script) as base:
        url = base + "/vae.safetensors"
        env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, url), ZOO_DOWNLOAD_DEADLINE="1", **FAST)
        result, took = zoo("load", "vae.net", env=env)
    message = assert_clean_failure(result)
    assert "did not finish within 1 s (ZOO_DOWNLOAD_DEADLINE)" in message and "again to resume" in message
    part = url_folder(tmp_path, url) / "model.safetensors.part"
    assert 0 < part.stat().st_size < len(DATA)  # what came is kept for the next run
    assert took < SAFETY_BOUND


@pytest.mark.slow
def test_a_hub_file_larger_than_the_registry_size_is_not_downloaded(tmp_path: Path) -> None:
    script = Script(data=DATA + b"\0" * 1000)
    with http_server(script) as base:
        env = env_for(tmp_path, HF_ENDPOINT=base, **FAST)
        message = assert_clean_failure(zoo("load", "vae.mnist", env=env)[0])
    assert f"more than the {len(DATA):,} that the registry records" in message
    assert [r["method"] for r in script.requests] == ["HEAD"]  # refused on the announced size: no GET


# -- 4: zoo cache ls / prune -------------------------------------------------------------------------------
@pytest.mark.slow
def test_cache_prune_removes_leftovers_and_keeps_what_a_process_holds(tmp_path: Path) -> None:
    from filelock import FileLock

    env = env_for(tmp_path)
    hub = tmp_path / "hf" / "hub" / "models--zoo--vae-mnist"
    (hub / "blobs").mkdir(parents=True)
    (hub / "blobs" / "abc.incomplete").write_bytes(b"x" * 1000)
    (hub / "blobs" / "def.1234abcd.incomplete").write_bytes(b"y" * 500)  # huggingface_hub's own name
    (hub / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (hub / "snapshots" / ("0" * 40) / "model.safetensors").symlink_to("../../blobs/gone")
    locks = tmp_path / "hf" / "hub" / ".locks" / "models--zoo--vae-mnist"
    locks.mkdir(parents=True)
    (locks / "abc.lock").touch()
    urls = tmp_path / "zoo-cache" / "urls"
    (urls / "1").mkdir(parents=True)
    (urls / "1" / "w.pth.part").write_bytes(b"z" * 2000)
    (urls / "1" / "w.pth.part.validator").write_text('"etag"')
    (urls / "2").mkdir()
    (urls / "2" / "v.pth.part").write_bytes(b"held")
    (urls / "3").mkdir()
    (urls / "3" / "kept.pth").write_bytes(b"a finished download")

    listed, _ = zoo("cache", "ls", env=env)
    assert listed.returncode == 0 and "Partial downloads: 4 (0.0 MB)" in listed.stdout

    before = snapshot_tree(tmp_path)
    dry, _ = zoo("cache", "prune", "--dry-run", env=env)
    assert dry.returncode == 0 and "would remove partial download" in dry.stdout
    assert snapshot_tree(tmp_path) == before and (hub / "snapshots" / ("0" * 40) / "model.safetensors").is_symlink()

    with FileLock(urls / "2" / "v.pth.lock"):  # a running download holds its lock: its .part stays
        pruned, _ = zoo("cache", "prune", env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert "kept partial download" in pruned.stdout and str(urls / "2" / "v.pth.part") in pruned.stdout
    left = sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if (p.is_file() or p.is_symlink()) and not in_cache_index(p, tmp_path)  # the listing index is no leftover
    )
    assert left == ["zoo-cache/urls/2/v.pth.lock", "zoo-cache/urls/2/v.pth.part", "zoo-cache/urls/3/kept.pth"]
    assert "removed broken link" in pruned.stdout and "removed unused lock" in pruned.stdout
    again, _ = zoo("cache", "prune", env=env)  # the lock is free now: its partial download goes too
    assert f"removed partial download: {urls / '2' / 'v.pth.part'}" in again.stdout
    assert "Nothing to prune." in zoo("cache", "prune", env=env)[0].stdout


# -- 5: the message names what happened --------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.hub
@pytest.mark.parametrize(
    ("weights", "words"),
    [
        ({"revision": "a" * 40}, "has the repository 'zoo/vae-mnist' but not its revision 'aaaa"),
        ({"revision": "no-such-branch"}, "but not its revision 'no-such-branch'"),
        ({"filename": "missing.safetensors"}, "has no file 'missing.safetensors'"),
        ({"repo_id": "zoo/no-such-model"}, "has no repository 'zoo/no-such-model'"),
    ],
)
def test_what_the_mirror_lacks_is_named(hub_server: Any, tmp_path: Path, weights: dict[str, str], words: str) -> None:
    env = env_for(tmp_path, HF_ENDPOINT=hub_server.endpoint, ZOO_REGISTRY=registry(tmp_path, **weights), **FAST)
    result, took = zoo("load", "vae.net", env=env)
    message = assert_clean_failure(result)
    assert words in message and "Cannot reach" not in message
    assert took < SAFETY_BOUND  # today's 31 s of retries is gone; this bound only catches a hang


@pytest.mark.slow
@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        (f"http://127.0.0.1:{closed_port()}", "(nothing accepts connections at 127.0.0.1:"),
        ("http://no-such-host.invalid", "(the name no-such-host.invalid does not resolve (DNS))"),
    ],
    ids=["closed-port", "no-dns"],  # not the port: every process collecting the tests must name them alike
)
def test_an_unreachable_server_is_named(tmp_path: Path, endpoint: str, words: str) -> None:
    for kind in ("hub", "url"):
        if kind == "hub":
            env = env_for(tmp_path, HF_ENDPOINT=endpoint, **FAST)
        else:
            env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, endpoint + "/w.safetensors"), **FAST)
        result, took = zoo("load", "vae.mnist" if kind == "hub" else "vae.net", env=env)
        message = assert_clean_failure(result)
        assert message.startswith("Cannot reach") and words in message, message
        assert took < SAFETY_BOUND


@pytest.mark.slow
def test_a_missing_url_file_is_named(tmp_path: Path) -> None:
    with http_server(Script(status=404)) as base:
        env = env_for(tmp_path, ZOO_REGISTRY=url_registry(tmp_path, base + "/w.safetensors"), **FAST)
        message = assert_clean_failure(zoo("load", "vae.net", env=env)[0])
    assert f"{base}/w.safetensors answered 404" in message
