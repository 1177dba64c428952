"""Shared fixtures of the core and plugin tests: a clean environment per test, olah serving a Hub folder on loopback."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# huggingface_hub reads HF_HOME, HF_ENDPOINT, HF_HUB_OFFLINE ... once, at import: import it now, before any test
# sets them in this process, so that no test's environment freezes into its constants for the tests after it.
import huggingface_hub.constants  # noqa: F401
import pytest
import torch

from zoo_core._plugins import reset_plugins

REPO_ROOT = Path(__file__).resolve().parent
HUB_FOLDER = REPO_ROOT / "hub"
_ENV_PREFIXES = ("ZOO_", "HF_", "HUGGINGFACE_")
#: the folder of zoo's cache (``$ZOO_CACHE``; ``zoo-cache/`` in the tests' homes) that holds its listing index:
#: the validated catalogs (``catalog.json``) and the entry-point scan, rebuilt from their sources whenever those
#: change (``zoo_core._catalog``, ``zoo_core._plugins``), so any command may refresh it
CACHE_INDEX = "index"


@pytest.fixture(autouse=True)
def clean_zoo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No ZOO_* / HF_* variable leaks into a test; plugins are discovered afresh."""
    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "zoo-cache"))
    reset_plugins()
    yield
    reset_plugins()


def zoo_env(home: Path, endpoint: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: a private HF_HOME, an optional mirror, no inherited HF_*/ZOO_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    env["HF_HOME"] = str(home)
    env["ZOO_CACHE"] = str(home / "zoo-cache")
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    env.update(extra)
    return env


def write_dist_info(site: Path, dist: str, entry_points: dict[str, str], version: str = "0.1") -> Path:
    """What pip leaves for an installed distribution ``dist``: ``site/<dist>-<version>.dist-info`` with its
    ``METADATA`` and its entry points in the group ``zoo`` (name -> ``module`` or ``module:object``)."""
    dist_info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist_info / "entry_points.txt").write_text(f"[zoo]\n{lines}")
    return dist_info


def run_zoo(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``zoo`` command as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "zoo_core", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory: pytest.TempPathFactory):
    """olah serving a copy of the project's Hub folder for the whole session."""
    from zoo_core.hub_server import HubServer

    folder = tmp_path_factory.mktemp("hub-folder")
    shutil.copytree(HUB_FOLDER, folder, dirs_exist_ok=True)
    with HubServer(folder, workdir=tmp_path_factory.mktemp("hub-work")) as server:
        yield server


@pytest.fixture(scope="module")
def one_blas_thread() -> Iterator[None]:
    """One thread for torch and scipy's BLAS in this module: on the project's 2-core machines, shared with other
    jobs, two threads per library spin on each other and these tests run 2-3x slower, not faster."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency; without it scipy keeps its threads
        limits: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    with limits:
        yield
    torch.set_num_threads(previous)


class _ServedFiles(BaseHTTPRequestHandler):
    """GET of the server's ``files`` (path -> bytes), 404 otherwise; ``requests`` records each path."""

    server: Any

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_files() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """A loopback HTTP server standing in for an author's file server (efrosgans.eecs.berkeley.edu ...):
    put bytes in ``server.files[path]``; yields its base url and the server."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ServedFiles)
    httpd.files, httpd.requests = {}, []  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- the robustness suite: every bad input ends in one sentence, the right exit code, and no changed file --
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "Error: Error")


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int = 1, *, mentions: str = "") -> str:
    """The command failed with ``code``, said why on stderr in one sentence, and printed no traceback.

    Returns the message (``Error: `` stripped) so that a test can check what it names.
    """
    stderr = result.stderr.strip()
    assert result.returncode == code, f"exit {result.returncode}, wanted {code}; stderr: {stderr!r}"
    for marker in TRACEBACK_MARKERS:
        assert marker not in stderr, f"a traceback reached the user: {stderr!r}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "the command failed without saying why"
    message = lines[-1].removeprefix("Error: ").strip()
    if code == 1:
        assert len(lines) == 1 or all(not line.startswith("Error:") for line in lines[:-1]), stderr
    if mentions:
        assert mentions.lower() in stderr.lower(), f"{mentions!r} not named in {stderr!r}"
    return message


def in_cache_index(path: Path, root: Path) -> bool:
    """Whether ``path`` (under ``root``) lies in a zoo cache's listing index: ``zoo-cache/CACHE_INDEX/`` below
    ``root``, or ``CACHE_INDEX/`` when ``root`` is the cache itself."""
    parts = Path(path).relative_to(root).parts
    if Path(root).name == "zoo-cache" and parts[:1] == (CACHE_INDEX,):
        return True
    return any(a == "zoo-cache" and b == CACHE_INDEX for a, b in itertools.pairwise(parts))


def snapshot_tree(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root`` with its size and sha256: compare two snapshots to prove nothing changed.

    zoo's listing index (``in_cache_index``) is left out: any command may refresh it, and nothing trusts it blindly.
    """
    files: dict[str, tuple[int, str]] = {}
    for path in sorted(Path(root).rglob("*")):
        if in_cache_index(path, root):
            continue
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            files[str(path.relative_to(root))] = (len(data), hashlib.sha256(data).hexdigest())
    return files
