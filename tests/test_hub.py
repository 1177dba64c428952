"""Weights from a Hub, end to end: `zoo` in a fresh process against olah on loopback.

huggingface_hub reads HF_ENDPOINT / HF_HOME / HF_HUB_OFFLINE at import time, so every test that
depends on them runs `zoo` in a subprocess with its own environment, as a user would.
Downloading once costs a subprocess that imports torch, so one module-scoped download warms a
cache that the other tests copy (`warm_home`) instead of downloading again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zoo_core
from conftest import HUB_FOLDER, run_zoo, zoo_env
from zoo_core import ZooError
from zoo_core.hub_server import HubServer, build_mirror, free_port, repo_revision

PACKAGED_REGISTRY = Path(zoo_core.__file__).resolve().parent / "registry.json"
MODEL = "vae.mnist"
WEIGHTS: dict[str, Any] = json.loads(PACKAGED_REGISTRY.read_text())["models"][MODEL]["weights"]
REPO_ID: str = WEIGHTS["repo_id"]
REVISION: str = WEIGHTS["revision"]
SHA256: str = WEIGHTS["sha256"]


# -- helpers ---------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def repo_cache(home: Path) -> Path:
    """The huggingface_hub cache folder of the model's repository inside HF_HOME."""
    return home / "hub" / f"models--{REPO_ID.replace('/', '--')}"


def snapshot_file(home: Path, revision: str = REVISION) -> Path:
    return repo_cache(home) / "snapshots" / revision / WEIGHTS["filename"]


def closed_endpoint() -> str:
    """An endpoint on loopback where nothing listens (connections are refused at once)."""
    return f"http://127.0.0.1:{free_port()}"


def tamper(path: Path, offset: int = 4096, length: int = 16) -> str:
    """Flip some bytes of a file in place; return its new sha256."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        chunk = handle.read(length)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in chunk))
    return sha256_of(path)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failing `zoo` prints: exit code 1, no traceback, a single 'Error:' line on stderr."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    # a test catalog (ZOO_REGISTRY) that redefines a shipped model is reported on a line of its own (layered catalogs)
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("Warning: the model ")]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    return lines[0]


def hub_requests(server: HubServer, needle: str = f"/{REPO_ID}/") -> int:
    """How many requests for the model's repository olah has logged so far.

    olah logs a request after answering it, so first send a sentinel request and wait until it
    shows in the log: every earlier request is then logged too.
    """
    sentinel = f"zoo-sentinel-{uuid.uuid4().hex}"
    # olah answers 401 for an unknown repository; the request is logged all the same.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server.endpoint}/api/models/zoo/{sentinel}/revision/main", timeout=10).close()
    deadline = time.monotonic() + 10
    while True:
        log = server.log_path.read_text(errors="replace")
        if sentinel in log:
            break
        assert time.monotonic() < deadline, f"olah did not log the sentinel request; see {server.log_path}"
        time.sleep(0.05)
    return sum(1 for line in log.splitlines() if needle in line and ('"GET ' in line or '"HEAD ' in line))


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def first_download(
    hub_server: HubServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`zoo load` once into a fresh HF_HOME; the other tests copy that warm cache."""
    home = tmp_path_factory.mktemp("first-download") / "hf-home"
    result = run_zoo("load", MODEL, env=zoo_env(home, hub_server.endpoint))
    return home, result


@pytest.fixture
def warm_home(first_download: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> Path:
    """A private copy of the warm cache (relative symlinks kept), safe to tamper with."""
    source, result = first_download
    assert result.returncode == 0, result.stdout + result.stderr
    home = tmp_path / "warm-home"
    shutil.copytree(source, home, symlinks=True)
    snapshot = snapshot_file(home)
    assert snapshot.is_symlink() and snapshot.resolve().is_relative_to(home.resolve())
    return home


@pytest.fixture
def private_hub(tmp_path: Path) -> Iterator[HubServer]:
    """olah over a private copy of the Hub folder, for tests that change what it serves."""
    folder = tmp_path / "hub-folder"
    shutil.copytree(HUB_FOLDER, folder)
    with HubServer(folder, workdir=tmp_path / "hub-work") as server:
        yield server


# -- 1, 2: first download, then a cache hit --------------------------------------------------
@pytest.mark.slow
@pytest.mark.hub
def test_first_download_is_verified_and_cached_at_the_pinned_revision(
    first_download: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """A fresh HF_HOME downloads the pinned revision's file, checks it and keeps it in the HF cache."""
    home, result = first_download
    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = snapshot_file(home)
    assert f"{snapshot} (sha256 verified)" in result.stdout
    assert snapshot.is_file()
    assert sha256_of(snapshot) == SHA256
    assert snapshot.stat().st_size == WEIGHTS["size"]


@pytest.mark.slow
@pytest.mark.hub
def test_second_load_is_a_cache_hit_without_requests(hub_server: HubServer, warm_home: Path) -> None:
    """With the file cached at a pinned commit, `zoo load` does not contact the Hub at all."""
    before = hub_requests(hub_server)
    result = run_zoo("load", MODEL, env=zoo_env(warm_home, hub_server.endpoint))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sha256 verified" in result.stdout
    assert hub_requests(hub_server) == before


# -- 3: the registry pins a commit, not a branch ---------------------------------------------
@pytest.mark.slow
@pytest.mark.hub
def test_registry_revision_is_what_the_hub_folder_commits_to(hub_server: HubServer) -> None:
    """The registry's revision and sha256 are those of hub/zoo/vae-mnist as `zoo hub serve` commits it."""
    folder = HUB_FOLDER / REPO_ID
    assert repo_revision(folder, REPO_ID) == REVISION
    assert hub_server.revisions[REPO_ID] == REVISION
    assert sha256_of(folder / WEIGHTS["filename"]) == SHA256


@pytest.mark.slow
@pytest.mark.hub
def test_pinned_revision_survives_a_new_commit_on_main(private_hub: HubServer, tmp_path: Path) -> None:
    """After a new commit on main, zoo still gets the pinned file; only revision="main" sees the new one."""
    repo = private_hub.workdir / "mirrors" / "models" / REPO_ID
    new_bytes = b"not the published weights\n" * 1000
    (repo / WEIGHTS["filename"]).write_bytes(new_bytes)
    git = ["git", "-c", "user.name=x", "-c", "user.email=x@x", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "commit", "-qam", "new weights"], cwd=repo, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert head != REVISION

    home = tmp_path / "hf-home"
    env = zoo_env(home, private_hub.endpoint)
    result = run_zoo("load", MODEL, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{snapshot_file(home)} (sha256 verified)" in result.stdout
    assert sha256_of(snapshot_file(home)) == SHA256

    code = (
        "import sys\n"
        "from huggingface_hub import hf_hub_download\n"
        "print(hf_hub_download(sys.argv[1], sys.argv[2], revision='main'))\n"
    )
    main = subprocess.run(
        [sys.executable, "-c", code, REPO_ID, WEIGHTS["filename"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert main.returncode == 0, main.stderr
    main_path = Path(main.stdout.strip().splitlines()[-1])
    assert main_path == snapshot_file(home, head)
    assert main_path.read_bytes() == new_bytes
    assert sha256_of(snapshot_file(home)) == SHA256  # the pinned snapshot is untouched


# -- 4, 5: offline --------------------------------------------------
@pytest.mark.slow
@pytest.mark.hub
@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE", "endpoint-down"])
def test_warm_cache_loads_without_the_hub(warm_home: Path, offline: bool) -> None:
    """A cached pinned file loads with HF_HUB_OFFLINE=1, and also with nothing listening at HF_ENDPOINT."""
    extra = {"HF_HUB_OFFLINE": "1"} if offline else {}
    result = run_zoo("load", MODEL, env=zoo_env(warm_home, closed_endpoint(), **extra), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{snapshot_file(warm_home)} (sha256 verified)" in result.stdout


@pytest.mark.slow
def test_offline_with_a_cold_cache_fails_in_one_line(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE=1 and nothing cached: exit 1 and one sentence that names HF_HUB_OFFLINE."""
    home = tmp_path / "cold"
    result = run_zoo("load", MODEL, env=zoo_env(home, closed_endpoint(), HF_HUB_OFFLINE="1"), timeout=60)
    line = error_line(result)
    assert "HF_HUB_OFFLINE" in line
    assert MODEL in line
    assert not snapshot_file(home).exists()


# -- 7: tampered or mis-registered weights are refused ---------------------------------------
@pytest.mark.slow
@pytest.mark.hub
def test_tampered_cached_file_is_refused_deleted_and_fetched_again(hub_server: HubServer, warm_home: Path) -> None:
    """A cached blob that changed fails its sha256 check, is deleted, and the next load downloads it anew."""
    snapshot = snapshot_file(warm_home)
    blob = snapshot.resolve()
    bad_sha = tamper(blob)
    env = zoo_env(warm_home, hub_server.endpoint)

    line = error_line(run_zoo("load", MODEL, env=env))
    assert "sha256" in line
    assert SHA256 in line and bad_sha in line
    assert str(snapshot) in line
    assert not snapshot.exists() and not snapshot.is_symlink()
    assert not blob.exists()

    again = run_zoo("load", MODEL, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "sha256 verified" in again.stdout
    assert sha256_of(snapshot) == SHA256


@pytest.mark.slow
@pytest.mark.hub
def test_wrong_registry_sha256_is_refused_and_not_cached(hub_server: HubServer, tmp_path: Path) -> None:
    """If the registry's sha256 does not match the served file, the download is refused and discarded."""
    registry = json.loads(PACKAGED_REGISTRY.read_text())
    wrong = hashlib.sha256(b"some other file").hexdigest()
    registry["models"][MODEL]["weights"]["sha256"] = wrong
    registry_file = tmp_path / "registry.json"
    registry_file.write_text(json.dumps(registry))
    home = tmp_path / "hf-home"

    result = run_zoo("load", MODEL, env=zoo_env(home, hub_server.endpoint, ZOO_REGISTRY=str(registry_file)))
    line = error_line(result)
    assert wrong in line and SHA256 in line
    assert not snapshot_file(home).exists() and not snapshot_file(home).is_symlink()
    blobs = repo_cache(home) / "blobs"
    assert not blobs.exists() or [p.name for p in blobs.iterdir()] == []


@pytest.mark.slow
@pytest.mark.hub
def test_cache_verify_passes_a_good_file_and_deletes_a_tampered_one(warm_home: Path) -> None:
    """`zoo cache verify` says ok for the published file; after tampering it exits 1 and drops the file."""
    env = zoo_env(warm_home, closed_endpoint())
    good = run_zoo("cache", "verify", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"ok   {MODEL}" in good.stdout
    assert "1 cached file(s) verified." in good.stdout

    bad_sha = tamper(snapshot_file(warm_home).resolve())
    bad = run_zoo("cache", "verify", MODEL, env=env)
    line = error_line(bad)
    assert "1 of 1" in line
    assert "BAD" in bad.stdout and bad_sha in bad.stdout
    assert not snapshot_file(warm_home).exists()


# -- 8: `zoo hub serve` as users run it ------------------------------------------------------
def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.mark.slow
@pytest.mark.hub
def test_zoo_hub_serve_serves_the_folder_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`zoo hub serve` prints the HF_ENDPOINT to export, serves downloads there, and exits 0 on SIGTERM."""
    port = free_port()
    env = zoo_env(tmp_path / "server-home")
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo_core", "hub", "serve", str(HUB_FOLDER), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("export HF_ENDPOINT=") for line in seen):
            assert process.poll() is None, f"zoo hub serve exited: {seen} {process.stderr.read()}"
            assert time.monotonic() < deadline, f"no HF_ENDPOINT line within 60 s: {seen}"
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=0.5).strip())
        endpoint = f"http://127.0.0.1:{port}"
        assert f"export HF_ENDPOINT={endpoint}" in seen
        assert f"serving {REPO_ID} @ {REVISION}" in seen

        home = tmp_path / "hf-home"
        result = run_zoo("load", MODEL, env=zoo_env(home, endpoint))
        assert result.returncode == 0, result.stdout + result.stderr
        assert sha256_of(snapshot_file(home)) == SHA256

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "Hub stopped." in process.stderr.read()
        with pytest.raises(ConnectionRefusedError):  # olah went down with it
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if process.poll() is None:  # a failed assertion: stop it the gentle way, so that olah stops too
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- 9: the olah defect is caught before serving ---------------------------------------------
def _hub_folder_with(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "hub"
    repo = folder / "org" / "model"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text('{"image_size": 28}\n')
    (repo / name).write_bytes(content)
    return folder


@pytest.mark.parametrize("size", [121, 130, 149])
def test_build_mirror_refuses_binary_files_olah_cannot_serve(tmp_path: Path, size: int) -> None:
    """A binary file of 121-149 bytes would make olah answer 500: building the mirror fails, naming it."""
    folder = _hub_folder_with(tmp_path, "weights.bin", b"\xff" * size)
    with pytest.raises(ZooError, match="121-149") as caught:
        build_mirror(folder, tmp_path / "work")
    assert "org/model/weights.bin" in str(caught.value)
    assert f"{size} bytes" in str(caught.value)


@pytest.mark.parametrize(
    ("size", "binary"), [(130, False), (120, True), (150, True)], ids=["text-130", "binary-120", "binary-150"]
)
def test_build_mirror_accepts_text_of_that_size_and_binaries_outside_it(
    tmp_path: Path, size: int, binary: bool
) -> None:
    """A 130-byte text file is fine for olah, and so are binaries of 120 or 150 bytes."""
    content = b"\xff" * size if binary else b"x" * (size - 1) + b"\n"
    folder = _hub_folder_with(tmp_path, "notes.bin" if binary else "notes.txt", content)
    revisions = build_mirror(folder, tmp_path / "work")
    assert list(revisions) == ["org/model"]
    assert len(revisions["org/model"]) == 40
    mirrored = tmp_path / "work" / "mirrors" / "models" / "org" / "model"
    assert (mirrored / ("notes.bin" if binary else "notes.txt")).read_bytes() == content


# -- 10: zoo cache ls / rm -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.hub
def test_cache_ls_and_rm(warm_home: Path) -> None:
    """`zoo cache ls --json` lists the cached model with its path; `zoo cache rm --yes` removes it."""
    env = zoo_env(warm_home, closed_endpoint())
    listed = run_zoo("cache", "ls", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"name": MODEL, "path": str(snapshot_file(warm_home)), "size": WEIGHTS["size"]}
    ]

    removed = run_zoo("cache", "rm", MODEL, "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert f"removed {MODEL}" in removed.stdout
    assert not repo_cache(warm_home).exists()

    empty = run_zoo("cache", "ls", "--json", env=env)
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []


# -- 6: no network ------------------------------------------------------------------------
@pytest.mark.slow
def test_unreachable_hub_with_a_cold_cache_fails_in_one_line(tmp_path: Path) -> None:
    """Nothing listening at HF_ENDPOINT and nothing cached: exit 1 at once, one 'Error:' line naming the endpoint."""
    endpoint = closed_endpoint()
    result = run_zoo("load", MODEL, env=zoo_env(tmp_path / "cold", endpoint))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Cannot reach the Hub"), result.stderr
    assert endpoint in lines[0] and "HF_ENDPOINT" in lines[0] and MODEL in lines[0]
