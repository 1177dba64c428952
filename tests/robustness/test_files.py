"""Issue 13, group 6 (files stay where they belong) and the registry files of group 7.

- A Hub filename from a registry entry is a relative path inside its repository: the schema says so
  (one sentence naming the field) and the code that joins it to ``ZOO_HUB_DIR`` checks it again.
- ``zoo hub serve`` never serves a symbolic link that points outside its folder, and killing it with
  SIGTERM or SIGKILL leaves no olah process behind.
- ``ZOO_REGISTRY`` naming a folder, binary garbage, JSON with a duplicate key, or a top level that is
  not an object: one sentence, exit 1, for ``zoo list`` and ``zoo info`` alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import assert_clean_failure, run_zoo, zoo_env
from zoo_core._catalog import ModelInfo
from zoo_core._errors import RegistryError
from zoo_core._registry import REPO_FILENAME, check_repo_filename

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = json.loads((REPO_ROOT / "zoo_core" / "registry.json").read_text())
VAE = SHIPPED["models"]["vae.mnist"]


def zoo(*args: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return run_zoo(*args, env=zoo_env(tmp_path / "hf-home", **extra))


def registry_with(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "registry.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# -- group 6: filenames are relative paths inside the repository --------------------------------
GOOD_NAMES = ["model.safetensors", "weights/model.safetensors", ".hidden", "a..b", "unet/v1.0/model.bin"]
BAD_NAMES = [
    "/etc/passwd",
    "../../etc/passwd",
    "weights/../../x",
    "..",
    ".",
    "a/./b",
    "a//b",
    "a/",
    "weights\\model.bin",
    "C:/weights.bin",
    "c:weights.bin",
    "model.bin\n",
    "",
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_relative_names_inside_the_repository_are_accepted(name: str) -> None:
    assert check_repo_filename(name, "vae.mnist") == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_leaving_the_repository_are_refused_by_code_and_schema(name: str) -> None:
    with pytest.raises(RegistryError, match="relative path inside"):
        check_repo_filename(name, "vae.mnist")
    from zoo_core._registry import validate_registry

    document = {"version": 1, "models": {"vae.mnist": {**VAE, "weights": {**VAE["weights"], "filename": name}}}}
    with pytest.raises(RegistryError, match=r"weights\.filename.*relative path inside the repository"):
        validate_registry(document)


def test_the_schema_and_the_code_share_one_pattern() -> None:
    schema = json.loads((REPO_ROOT / "zoo_core" / "schema" / "registry.schema.json").read_text())
    assert schema["$defs"]["weights"]["properties"]["filename"]["pattern"] == REPO_FILENAME.pattern


@pytest.mark.parametrize("name", ["../../secret.bin", "/etc/passwd"])
def test_a_registry_filename_outside_the_repository_fails_in_one_sentence(tmp_path: Path, name: str) -> None:
    """`zoo list` and `zoo info` on a registry whose filename leaves the repository: exit 1, the field named."""
    document = {"version": 1, "models": {"vae.mnist": {**VAE, "weights": {**VAE["weights"], "filename": name}}}}
    registry = registry_with(tmp_path, json.dumps(document, indent=2))
    for args in (("list",), ("info", "vae.mnist")):
        result = zoo(*args, tmp_path=tmp_path, ZOO_REGISTRY=str(registry))
        message = assert_clean_failure(result, mentions="weights.filename")
        assert json.dumps(name) in message and "relative path inside the repository" in message


def test_zoo_hub_dir_never_reads_outside_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that did not go through the schema still cannot reach a file outside ZOO_HUB_DIR."""
    from zoo_core.hub.weights import local_hub_file

    (tmp_path / "secret.bin").write_bytes(b"secret")
    hub = tmp_path / "hub" / "zoo" / "vae-mnist"
    hub.mkdir(parents=True)
    monkeypatch.setenv("ZOO_HUB_DIR", str(tmp_path / "hub"))
    fields = {**VAE, "weights": {**VAE["weights"], "filename": "../../../secret.bin"}}
    info = ModelInfo.from_entry("vae.mnist", fields, "test")
    assert (hub / "../../../secret.bin").resolve().is_file()  # the join alone would reach it
    with pytest.raises(RegistryError, match="relative path inside"):
        local_hub_file(info)


# -- group 6: zoo hub serve: symbolic links and orphans ---------------------------------------------
def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: {pid: start time} (to tell a recycled pid apart)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found[int(entry.name)] = fields[19]
    return found


def _alive(pid: int, start: str) -> bool:
    """``pid`` is still the same process and not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] != "Z"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def linked_hub(tmp_path: Path) -> Path:
    """A tiny Hub folder whose repository holds a link inside it and links (file, folder) to outside it."""
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text("TOP SECRET, outside the served folder\n")
    (outside / "dir" / "more.txt").write_text("TOP SECRET too\n")
    repo = tmp_path / "hub" / "me" / "tiny"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text('{"architecture": "vae", "note": "served"}\n')
    (repo / "model.bin").write_bytes(bytes(range(256)) * 2)
    (repo / "alias.json").symlink_to("config.json")  # inside: served
    (repo / "secret.txt").symlink_to(outside / "secret.txt")
    (repo / "relative.txt").symlink_to(Path("..", "..", "..", "outside", "secret.txt"))
    (repo / "dir").symlink_to(outside / "dir", target_is_directory=True)
    return tmp_path / "hub"


@pytest.mark.hub
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the server's processes")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_hub_serve_refuses_outside_links_and_leaves_no_orphan(tmp_path: Path, linked_hub: Path, signum: int) -> None:
    """Links out of the folder are not served (and named on stderr); killing zoo kills olah with it."""
    env = zoo_env(tmp_path / "server-home")
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo_core", "hub", "serve", str(linked_hub)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    children: dict[int, str] = {}
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
        endpoint = None
        deadline = time.monotonic() + 90
        while endpoint is None:
            assert process.poll() is None, f"zoo hub serve exited: {process.stderr.read()}"
            assert time.monotonic() < deadline, "no HF_ENDPOINT line within 90 s"
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.5).strip()
                if line.startswith("export HF_ENDPOINT="):
                    endpoint = line.split("=", 1)[1]
        children = _children(process.pid)
        assert children, "olah is not a child of zoo hub serve"

        status, body = _get(f"{endpoint}/me/tiny/resolve/main/config.json")
        assert status == 200 and b'"served"' in body
        assert _get(f"{endpoint}/me/tiny/resolve/main/alias.json") == (200, body)
        for name in ("secret.txt", "relative.txt", "dir/more.txt"):
            status, body = _get(f"{endpoint}/me/tiny/resolve/main/{name}")
            assert status != 200 and b"TOP SECRET" not in body, (name, status)

        process.send_signal(signum)
        process.wait(timeout=30)
        stderr = process.stderr.read()
        for name in ("secret.txt", "relative.txt", "dir"):
            assert f"not serving {linked_hub / 'me' / 'tiny' / name} (a symbolic link to" in stderr, stderr
        if signum == signal.SIGTERM:
            assert process.returncode == 0 and "Hub stopped." in stderr, stderr

        deadline = time.monotonic() + 30  # a bounded wait for the kernel to deliver the parent-death signal
        while any(_alive(pid, start) for pid, start in children.items()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid, start in children.items() if _alive(pid, start)], "an orphan server is left"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid, start in children.items():  # never leave one behind, even when the test failed
            if _alive(pid, start):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


# -- group 7: the registry file named by ZOO_REGISTRY ---------------------------------------------
def _duplicated(key: str, value: Any) -> tuple[str, int]:
    """The vae.mnist registry with ``key`` written twice in its entry; and the line of the second one."""
    text = json.dumps({"version": 1, "models": {"vae.mnist": VAE}}, indent=2)
    first = f"{json.dumps(key)}: {json.dumps(value)}"
    assert text.count(first) == 1
    text = text.replace(first, f"{first},\n      {first}")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith(first)) + 1
    return text, line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (bytes(range(256)) * 4, ["not a text file", "UTF-8", "ZOO_REGISTRY"]),
        (b"\xff\xfe{\x00}\x00", ["not a text file"]),
        ('{"version": 1, "version": 1, "models": {}}', ['"version" twice in $ (line 1)']),
        ("[]", ["holds a list, not a JSON object"]),
        ("null", ["holds null, not a JSON object"]),
        ('"registry"', ["holds a string, not a JSON object"]),
        ("", ["is empty"]),
        ('{"version": 1, "models": {', ["not valid JSON (line 1"]),
        ("[" * 100_000, ["not valid JSON"]),
    ],
    ids=["binary", "utf16", "duplicate-top", "list", "null", "string", "empty", "truncated", "deep"],
)
def test_a_bad_registry_file_fails_in_one_sentence(tmp_path: Path, content: str | bytes, words: list[str]) -> None:
    registry = registry_with(tmp_path, content)
    for args in (("list",), ("info", "vae.mnist")):
        result = zoo(*args, tmp_path=tmp_path, ZOO_REGISTRY=str(registry))
        message = assert_clean_failure(result, mentions=str(registry))
        assert result.stdout == ""
        for word in words:
            assert word in message, message


def test_a_registry_folder_fails_in_one_sentence(tmp_path: Path) -> None:
    for args in (("list",), ("info", "vae.mnist")):
        result = zoo(*args, tmp_path=tmp_path, ZOO_REGISTRY=str(tmp_path))
        message = assert_clean_failure(result, mentions="ZOO_REGISTRY")
        assert f"{tmp_path} (from ZOO_REGISTRY) is a folder" in message


@pytest.mark.parametrize(("key", "field"), [("license", None), ("sha256", "weights")])
def test_a_duplicate_key_is_named_with_its_path_and_line(tmp_path: Path, key: str, field: str | None) -> None:
    """JSON keeps the last of two equal keys silently; zoo names the key, where it is, and its line."""
    value = VAE[field][key] if field else VAE[key]
    text, line = _duplicated(key, value)
    registry = registry_with(tmp_path, text)
    where = '$.models["vae.mnist"]' + (f".{field}" if field else "")
    for args in (("list",), ("info", "vae.mnist")):
        message = assert_clean_failure(zoo(*args, tmp_path=tmp_path, ZOO_REGISTRY=str(registry)))
        assert f'has the key "{key}" twice in {where} (line {line})' in message, message


def test_the_same_registry_without_the_duplicate_works(tmp_path: Path) -> None:
    """The control: the registry the duplicate tests start from is valid."""
    registry = registry_with(tmp_path, json.dumps({"version": 1, "models": {"vae.mnist": VAE}}, indent=2))
    result = zoo("list", tmp_path=tmp_path, ZOO_REGISTRY=str(registry))
    assert result.returncode == 0 and "vae.mnist" in result.stdout, result.stderr


def test_a_link_outside_the_repository_does_not_change_its_revision(tmp_path: Path) -> None:
    """`zoo hub revisions` (and registry pins) leave outside links out, and name them on stderr."""
    from zoo_core.hub_server import repo_revision

    repo = tmp_path / "hub" / "me" / "tiny"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text('{"architecture": "vae"}\n')
    before = repo_revision(repo, "me/tiny")
    (tmp_path / "secret.txt").write_text("TOP SECRET\n")
    (repo / "secret.txt").symlink_to(tmp_path / "secret.txt")
    assert repo_revision(repo, "me/tiny") == before
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.json").write_text('{"architecture": "vae"}\n')
    (repo.parent / "linked").symlink_to(elsewhere, target_is_directory=True)  # a whole repository outside
    result = zoo("hub", "revisions", str(tmp_path / "hub"), tmp_path=tmp_path)
    assert result.returncode == 0 and result.stdout == f"me/tiny {before}\n", result.stderr
    assert f"not serving {repo / 'secret.txt'} (a symbolic link to {tmp_path / 'secret.txt'}" in result.stderr
    assert f"not serving {repo.parent / 'linked'} (a symbolic link to {elsewhere}" in result.stderr
