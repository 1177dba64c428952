"""A Hugging Face-compatible Hub of our own, on loopback: a folder in Hub layout served by olah.

Each ``FOLDER/org/name/`` becomes a git repository (branch ``main``) committed with a fixed
author and date, so the same files always give the same revision: the registry pins it.
olah (``pip install 'zoo-core[hub]'``) then serves those repositories offline, and
``huggingface_hub`` talks to it through ``HF_ENDPOINT``.

Files stay where they belong: a symbolic link whose target lies outside its repository folder is never
copied into the repository (it is skipped, and named in ``HubServer.skipped``). olah runs in a process
group of its own and, on Linux, dies with its parent (``PR_SET_PDEATHSIG``), so even a ``zoo hub serve``
killed with SIGKILL leaves no server behind.

Example:
    >>> with HubServer("hub") as hub:
    ...     os.environ["HF_ENDPOINT"] = hub.endpoint
    ...     model = zoo.load("vae.mnist")
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ._errors import ZooError

__all__ = ["HubServer", "build_mirror", "find_repos", "repo_revision"]

# olah reads any file of 121-149 bytes as a possible git-lfs pointer and answers 500 if it is binary.
OLAH_POINTER_SIZES = range(121, 150)
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "zoo",
    "GIT_AUTHOR_EMAIL": "zoo@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "zoo",
    "GIT_COMMITTER_EMAIL": "zoo@localhost",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
_OLAH_CONFIG = """\
[basic]
host = "{host}"
port = {port}
repos-path = "{workdir}/olah-cache"
mirrors-path = ["{workdir}/mirrors"]
mirror-scheme = "http"
mirror-netloc = "{host}:{port}"
mirror-lfs-netloc = "{host}:{port}"

[accessibility]
offline = true

[[accessibility.proxy]]
repo = "*"
allow = true

[[accessibility.cache]]
repo = "*"
allow = true
"""


def find_repos(folder: str | os.PathLike[str], skipped: list[str] | None = None) -> dict[str, Path]:
    """The model repositories of a Hub-layout folder: ``{"org/name": path}``.

    An org or repository folder that is a symbolic link to outside ``folder`` is left out (and
    described in ``skipped``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"{folder} is not a folder; give a folder that holds org/name/ model folders.")
    root = Path(os.path.realpath(folder))

    def inside(path: Path) -> bool:
        target = Path(os.path.realpath(path))
        if _inside(target, root):
            return True
        if skipped is not None:
            skipped.append(f"{path} (a symbolic link to {target}, outside {root})")
        return False

    repos = {
        f"{org.name}/{repo.name}": repo
        for org in sorted(folder.iterdir())
        if org.is_dir() and not org.name.startswith(".") and inside(org)
        for repo in sorted(org.iterdir())
        if repo.is_dir() and inside(repo) and any(p.is_file() for p in repo.iterdir())
    }
    if not repos:
        raise ZooError(f"{folder} holds no model repositories; expected folders like {folder}/org/name/config.json.")
    return repos


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _files(repo: Path, skipped: list[str] | None = None) -> list[Path]:
    """The files of the repository folder ``repo`` to publish, following only links that stay inside it.

    A link that points outside ``repo`` (so the same folder gives the same revision whether it is served
    within a Hub folder or pinned alone by ``repo_revision``), a broken link, or anything that is not a
    regular file is skipped and described in ``skipped``.
    """
    root_real = Path(os.path.realpath(repo))
    files: list[Path] = []
    visited: set[str] = set()

    def skip(path: Path, why: str) -> None:
        if skipped is not None:
            skipped.append(f"{path} ({why})")

    for dirpath, dirnames, filenames in os.walk(repo, followlinks=True):
        real_dir = os.path.realpath(dirpath)
        if real_dir in visited:  # a link back to a folder already walked
            dirnames[:] = []
            continue
        visited.add(real_dir)
        kept = []
        for name in sorted(dirnames):
            path = Path(dirpath) / name
            if name == ".git":
                continue
            target = Path(os.path.realpath(path))
            if path.is_symlink() and not _inside(target, root_real):
                skip(path, f"a symbolic link to {target}, outside {root_real}")
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            path = Path(dirpath) / name
            target = Path(os.path.realpath(path))
            if not _inside(target, root_real):
                skip(path, f"a symbolic link to {target}, outside {root_real}")
            elif not target.is_file():
                skip(path, "not a regular file (a broken link, a pipe or a device)")
            else:
                files.append(path)
    return sorted(files)


def _check_servable(repo_id: str, path: Path, relative: Path) -> None:
    if path.stat().st_size not in OLAH_POINTER_SIZES:
        return
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ZooError(
            f"{repo_id}/{relative.as_posix()} is a binary file of {path.stat().st_size} bytes, a size olah "
            "cannot serve (121-149 bytes); pad it or store it in another format."
        ) from None


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, **_GIT_ENV}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise ZooError("git is not installed; zoo hub needs git to build the repositories it serves.") from None
    except subprocess.CalledProcessError as exc:
        raise ZooError(f"git {args[0]} failed in {cwd}: {exc.stderr.strip()}") from exc
    return done.stdout.strip()


def _commit_repo(repo_id: str, source: Path, destination: Path, skipped: list[str] | None = None) -> str:
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for path in _files(source, skipped):
        _check_servable(repo_id, path, path.relative_to(source))
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)  # content only: the same bytes give the same revision
    _git(["init", "-q", "-b", "main"], destination)
    _git(["add", "-A"], destination)
    _git(["-c", "commit.gpgsign=false", "commit", "-q", "-m", f"{repo_id} (published by zoo)"], destination)
    return _git(["rev-parse", "HEAD"], destination)


def build_mirror(
    folder: str | os.PathLike[str], workdir: str | os.PathLike[str], skipped: list[str] | None = None
) -> dict[str, str]:
    """Turn each model folder into a git repository under ``workdir/mirrors/models``; return revisions.

    Symbolic links that point outside their repository are left out; ``skipped`` (if given) receives each.
    """
    mirrors = Path(workdir) / "mirrors" / "models"
    return {
        repo_id: _commit_repo(repo_id, path, mirrors / repo_id, skipped)
        for repo_id, path in find_repos(folder, skipped).items()
    }


def repo_revision(model_folder: str | os.PathLike[str], repo_id: str = "zoo/model") -> str:
    """The revision ``zoo hub serve`` gives a model folder (to pin it in the registry)."""
    with tempfile.TemporaryDirectory(prefix="zoo-rev-") as tmp:
        return _commit_repo(repo_id, Path(model_folder), Path(tmp) / "repo")


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when this process dies (Linux), else ``None``."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None  # the signal follows the thread that started the child: only the main thread lives long
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded here: the child only calls it
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class HubServer:
    """olah serving a Hub-layout folder on loopback; use as a context manager or ``start``/``stop``."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: str | os.PathLike[str] | None = None,
    ) -> None:
        if importlib.util.find_spec("olah") is None:
            raise ZooError("zoo hub serve needs olah: run `pip install 'zoo-core[hub]'`.")
        self.folder = Path(folder)
        self.host = host
        self.port = port or free_port(host)
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="zoo-hub-")
        self.workdir = Path(workdir or self._tmp.name)  # type: ignore[union-attr]
        self.revisions: dict[str, str] = {}
        self.skipped: list[str] = []  # symbolic links outside the folder, left out of the repositories
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "olah.log"

    def start(self, timeout: float = 60.0) -> HubServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.skipped = []
        self.revisions = build_mirror(self.folder, self.workdir, self.skipped)
        config = self.workdir / "olah.toml"
        config.write_text(_OLAH_CONFIG.format(host=self.host, port=self.port, workdir=self.workdir.as_posix()))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "olah.server", "-c", str(config)],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends olah and whatever it started
                preexec_fn=_die_with_parent(),  # and it dies with us, even when we are killed with SIGKILL
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        repo_id = next(iter(self.revisions))
        url = f"{self.endpoint}/api/models/{repo_id}/revision/main"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise ZooError(f"olah exited at start ({' / '.join(tail)}); is port {self.port} free?")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise ZooError(f"olah did not answer on {self.endpoint} within {timeout:.0f} s; see {self.log_path}.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            self._signal_group(signal.SIGKILL)  # anything olah started and left behind
        self.process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signum)  # start_new_session: the group id is olah's pid
        except (ProcessLookupError, PermissionError):
            pass
        except AttributeError:  # no process groups (Windows)
            if signum == signal.SIGTERM:
                self.process.terminate()
            else:
                self.process.kill()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
