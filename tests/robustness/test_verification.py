"""Groups 2 and 4 of issue 13: everything loaded is verified, cheaply; no message advises an unsafe fix.

- Converted weights (``$ZOO_CACHE/converted``) carry a sha256 sidecar, checked on load and by ``zoo cache verify``;
  a mismatch deletes them and converts again from the verified original.
- A failed download or conversion leaves nothing a later command would trust, and says so in one sentence; every
  registered converter, fed random bytes, truncations and bit flips of a real checkpoint, raises ``ZooError`` only.
- The record of verified files (``$ZOO_CACHE/verified.json``) lets a later process trust an untouched file without
  reading it; any change of size, times or inode means a new hash, and a damaged record is never trusted.
- A pickle that would run code is refused, saying why; no message or document suggests switching a safety off.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import pickle
import shutil
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo_core as zoo
from conftest import assert_clean_failure, in_cache_index, run_zoo, serve_files, snapshot_tree, zoo_env
from zoo_core._errors import UNSAFE_ADVICE, unsafe_advice
from zoo_core.hub import verify as _verify
from zoo_core.hub.cache import zoo_cache_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_DCGAN = {"image_size": 16, "channels": 1, "nz": 4, "ngf": 4, "ndf": 4, "with_discriminator": False}
NAME = "dcgan.authors-tiny"
VAE_HUB = REPO_ROOT / "hub"  # hub/zoo/vae-mnist: the published vae.mnist, in Hub layout for ZOO_HUB_DIR


def tiny_generator_checkpoint(seed: int = 0) -> bytes:
    """A generator state dict as pytorch/examples dcgan/main.py saves it (``main.N`` keys), torch.save'd."""
    torch.manual_seed(seed)
    model = zoo.create("dcgan", **TINY_DCGAN)
    buffer = io.BytesIO()
    torch.save({k.removeprefix("generator."): v for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def upstream_registry(tmp_path: Path, url: str) -> Path:
    """A registry whose one model is a pickle at ``url``, converted by dcgan-pytorch-examples, sha256 pinned on use."""
    registry = json.loads((REPO_ROOT / "registry.json").read_text())
    entry = dict(registry["models"]["dcgan.mnist-huggan"])
    entry.update(config=TINY_DCGAN, num_params=zoo.create("dcgan", **TINY_DCGAN).num_parameters())
    entry["weights"] = {"url": url, "filename": "netG.pth", "sha256": None, "format": "pickle",
                        "converter": "dcgan-pytorch-examples"}  # fmt: skip
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"version": 1, "models": {NAME: entry}}))
    return path


def flip_byte(path: Path, offset: int = -100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def converted_files(home: Path) -> list[Path]:
    return sorted((home / "zoo-cache" / "converted").glob("*.safetensors"))


def no_unsafe_advice(text: str) -> None:
    assert unsafe_advice(text) is None, f"advises {unsafe_advice(text)!r}: {text!r}"


# -- 1. converted weights are hashed -----------------------------------------------------------------------
@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The tiny generator's pickle served on loopback, and a registry naming it (in this process)."""
    from zoo_core._catalog import reset_catalog

    with serve_files() as (base, server):
        server.files["/netG.pth"] = tiny_generator_checkpoint()
        monkeypatch.setenv("ZOO_REGISTRY", str(upstream_registry(tmp_path, base + "/netG.pth")))
        reset_catalog()
        yield server
    reset_catalog()


def invoke(*args: str):
    from click.testing import CliRunner

    from zoo_core.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_converted_weights_are_verified_on_load_and_by_cache_verify(upstream) -> None:
    first = invoke("load", NAME)
    assert first.exit_code == 0, first.output
    [converted] = sorted((zoo_cache_dir() / "converted").glob("*.safetensors"))
    sidecar = converted.with_name(converted.name + ".sha256")
    good = converted.read_bytes()
    assert sidecar.read_text().split() == [hashlib.sha256(good).hexdigest(), converted.name]

    flip_byte(converted)  # zoo load: caught, deleted, converted again from the verified download
    again = invoke("load", NAME)
    assert again.exit_code == 0, again.output
    assert "failed their sha256 check" in again.stderr and "converted again" in again.stderr
    assert converted.read_bytes() == good

    flip_byte(converted)  # zoo cache verify: re-hashes it, says so, and repairs it from the cached original
    verify = invoke("cache", "verify", NAME)
    assert verify.exit_code == 1
    assert "1 of 2 cached file(s) failed verification" in verify.stderr
    assert (
        "failed their sha256 check" in verify.stdout and "converted again from the verified original" in verify.stdout
    )
    assert converted.read_bytes() == good
    assert invoke("cache", "verify", NAME).exit_code == 0

    sidecar.unlink()  # a converted file without its sidecar is never trusted
    third = invoke("load", NAME)
    assert third.exit_code == 0 and "no valid sha256 record" in third.stderr, third.output
    assert sidecar.exists() and converted.read_bytes() == good
    assert len(upstream.requests) == 1  # the original was downloaded once, and verified from the cache since


def test_a_bad_converted_file_whose_original_is_gone_is_deleted_and_said_so(upstream) -> None:
    zoo.load(NAME)
    [converted] = sorted((zoo_cache_dir() / "converted").glob("*.safetensors"))
    shutil.rmtree(zoo_cache_dir() / "urls")  # the original download is gone
    flip_byte(converted)
    result = invoke("cache", "verify", NAME)
    assert result.exit_code == 1
    assert "failed their sha256 check" in result.output and "the original is not in the cache" in result.output
    assert f"zoo load {NAME}" in result.output
    assert not converted.exists()


# -- 2. a failed download or conversion leaves nothing trusted ------------------------------------------------
class _RunsCode:
    """Pickles as a call of os.system (nothing here ever unpickles it with code allowed)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_bad_download_leaves_nothing_trusted_and_fails_in_one_sentence(upstream, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    real = upstream.files["/netG.pth"]
    bodies = {
        "garbage": bytes(range(256)) * 8,
        "html": b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>\n",
        "text": b"these are not the weights you are looking for\n",
        "truncated": real[: len(real) // 2],
        "os.system": pickle.dumps({"main.0.weight": _RunsCode(marker)}, protocol=2),
    }
    cache = zoo_cache_dir()
    for kind, body in bodies.items():
        upstream.files["/netG.pth"] = body
        with pytest.raises(zoo.ZooError) as info:
            zoo.load(NAME)
        message = str(info.value)
        assert "\n" not in message and "deleted from the cache" in message, (kind, message)
        no_unsafe_advice(message)
        if kind == "os.system":
            assert "refused" in message and "run code" in message and "system" in message, message
        left = [
            p.relative_to(cache).as_posix()
            for p in cache.rglob("*")
            if p.is_file() and p.suffix != ".lock" and not in_cache_index(p, cache)  # catalogs, plugins: no leftover
        ]
        assert left == [], (kind, left)  # no download, no pin, no converted file, no record
    assert not marker.exists()
    upstream.files["/netG.pth"] = real  # the next command starts afresh and succeeds
    assert zoo.load(NAME).num_parameters() > 0


@pytest.mark.slow
def test_convert_refuses_a_pickle_that_would_run_code_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    for protocol, path in ((2, evil), (pickle.DEFAULT_PROTOCOL, tmp_path / "evil4.pth")):
        path.write_bytes(pickle.dumps({"main.0.weight": _RunsCode(marker)}, protocol=protocol))
    buffer = io.BytesIO()  # and inside a torch.save zip, as a checkpoint would carry it
    torch.save({"main.0.weight": torch.zeros(1)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(tmp_path / "evil.zip.pth", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                data = pickle.dumps({"main.0.weight": _RunsCode(marker)}, protocol=2)
            dst.writestr(info, data)
    from zoo_core._factory import convert_checkpoint

    before = snapshot_tree(tmp_path)
    for path in (evil, tmp_path / "evil.zip.pth"):
        with pytest.raises(zoo.ZooError) as info:
            convert_checkpoint("dcgan-pytorch-examples", path, tmp_path / "out", TINY_DCGAN)
        assert "was refused" in str(info.value) and "system" in str(info.value)
    result = run_zoo(  # pickle.dumps's own protocol, which torch refuses before it reaches the global
        "convert", "dcgan-pytorch-examples", str(tmp_path / "evil4.pth"), "-o", str(tmp_path / "out"),
        env=zoo_env(tmp_path / "home"),
    )  # fmt: skip
    message = assert_clean_failure(result)
    assert "was refused" in message and "would run code" in message, message
    assert "system" in message  # the global it asked for (posix.system / nt.system)
    no_unsafe_advice(result.stderr)
    assert not marker.exists() and not (tmp_path / "out").exists()
    assert snapshot_tree(tmp_path) == before


@pytest.mark.parametrize(
    ("body", "says"),
    [(b"hello\n", "it is text"), (b"<html><body>login</body></html>", "an HTML page"), (b"", "empty")],
)
def test_convert_names_a_file_that_is_not_a_checkpoint(tmp_path: Path, body: bytes, says: str) -> None:
    from zoo_core._factory import convert_checkpoint

    path = tmp_path / "weights.pth"
    path.write_bytes(body)
    with pytest.raises(zoo.ZooError, match="not a readable PyTorch checkpoint") as info:
        convert_checkpoint("dcgan-pytorch-examples", path, tmp_path / "out", TINY_DCGAN)
    assert says in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def _mutations() -> st.SearchStrategy[tuple[str, int, int]]:
    return st.tuples(
        st.sampled_from(["random", "truncate", "flip"]),
        st.integers(min_value=0, max_value=1 << 30),
        st.integers(min_value=1, max_value=8),
    )


@pytest.fixture(scope="module")
def real_checkpoints() -> list[bytes]:
    """Real generator checkpoints in their authors' layouts (DCGAN, CycleGAN, SRGAN; tiny configs), a plain state
    dict in torch's legacy (non-zip) format, and one wrapped in {"state_dict": ...}."""

    def saved(state: dict, **kwargs) -> bytes:
        buffer = io.BytesIO()
        torch.save(state, buffer, **kwargs)
        return buffer.getvalue()

    torch.manual_seed(0)
    cyclegan = zoo.create("cyclegan", ngf=4, netG="resnet_6blocks", with_discriminators=False, image_size=32)
    srgan = zoo.create("srgan", width=8, num_rcb=2, with_discriminator=False)
    return [
        tiny_generator_checkpoint(),
        saved({k.removeprefix("netG_A."): v for k, v in cyclegan.state_dict().items() if k.startswith("netG_A.")}),
        saved({k.removeprefix("generator."): v for k, v in srgan.state_dict().items()}),
        saved(
            {"model.1.weight": torch.ones(2, 3, 7, 7), "model.1.bias": torch.zeros(2)},
            _use_new_zipfile_serialization=False,
        ),
        saved({"state_dict": {"model.model.0.weight": torch.ones(2, 3, 4, 4)}, "epoch": 3}),
    ]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_converter_fails_only_with_zoo_error(real_checkpoints, tmp_path_factory, data) -> None:
    """Random bytes, truncations and bit flips of real checkpoints, to every registered converter."""
    from zoo_core._catalog import get_catalog
    from zoo_core.checkpoints import convert_state

    converters = get_catalog().converters
    spec = converters[data.draw(st.sampled_from(sorted(converters)), label="converter")]
    base = data.draw(st.sampled_from(real_checkpoints), label="checkpoint")
    kind, where, count = data.draw(_mutations(), label="mutation")
    if kind == "random":
        body = data.draw(st.binary(min_size=0, max_size=512), label="bytes")
    elif kind == "truncate":
        body = base[: where % len(base)]
    else:
        body = bytearray(base)
        rng = __import__("random").Random(where)
        for _ in range(count):
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        body = bytes(body)
    path = tmp_path_factory.mktemp("fuzz") / "checkpoint.pth"
    path.write_bytes(body)
    config = dict(spec.options.get("config", {}))
    if spec.name == "dcgan-pytorch-examples" and data.draw(st.booleans(), label="fitting config"):
        config = dict(TINY_DCGAN)  # so that an intact tiny checkpoint converts, and a damaged one goes deep
    try:
        state = convert_state(spec, path, config)
    except zoo.ZooError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        no_unsafe_advice(message)
    else:
        assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())


# -- 3. the record of verified files ---------------------------------------------------------------------
COUNT_HASHES = """
import sys
import zoo_core as zoo
from zoo_core.hub import verify as _verify
from zoo_core.hub.cache import zoo_cache_dir
calls = []
real = _verify.sha256_file
_verify.sha256_file = lambda path: calls.append(path) or real(path)
try:
    zoo.load("vae.mnist")
except zoo.ZooError as exc:
    print("ERROR", exc)
    sys.exit(1)
print(len(calls))
"""


def load_counting_hashes(env: dict[str, str]) -> tuple[int, str]:
    """``zoo.load("vae.mnist")`` in a fresh process: (how many files it hashed, stderr)."""
    import subprocess

    result = subprocess.run([sys.executable, "-c", COUNT_HASHES], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return int(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.fixture
def hub_copy(tmp_path: Path) -> Path:
    """The published vae.mnist in a Hub-layout folder of its own, old enough for the record to keep it."""
    folder = tmp_path / "hub"
    shutil.copytree(VAE_HUB / "zoo" / "vae-mnist", folder / "zoo" / "vae-mnist")
    time.sleep(max(0.0, _verify._RACY_NS / 1e9 + 0.1))  # a file changed just before it is hashed is not recorded
    return folder / "zoo" / "vae-mnist" / "model.safetensors"


@pytest.mark.slow
def test_a_later_process_trusts_an_untouched_file_and_rehashes_a_touched_one(tmp_path: Path, hub_copy: Path) -> None:
    env = zoo_env(tmp_path / "home", ZOO_HUB_DIR=str(tmp_path / "hub"))
    assert load_counting_hashes(env)[0] == 1  # first use: read in full
    record = json.loads((tmp_path / "home" / "zoo-cache" / "verified.json").read_text())
    assert list(record["files"]) == [str(hub_copy.resolve())]
    assert load_counting_hashes(env)[0] == 0  # a later process: trusted without reading it
    stat = hub_copy.stat()
    os.utime(hub_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))  # same bytes, another mtime
    assert load_counting_hashes(env)[0] == 1
    stat = hub_copy.stat()
    flip_byte(hub_copy)  # same size, same inode; the mtime is put back, the ctime cannot be
    os.utime(hub_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    message = assert_clean_failure(run_zoo("load", "vae.mnist", env=env), mentions="failed their sha256 check")
    no_unsafe_advice(message)


def test_the_record_is_consulted_only_for_the_expected_hash_and_never_when_damaged(
    hub_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = _verify.sha256_file
    monkeypatch.setattr(_verify, "sha256_file", lambda p: calls.append(p) or real(p))
    good = real(hub_copy)
    _verify.verify_file(hub_copy, good, "m", discard=False)
    record = _verify.record_path()
    assert json.loads(record.read_text())["files"][str(hub_copy.resolve())]["sha256"] == good

    _verify._verified.clear()  # as a new process: the record alone
    _verify.verify_file(hub_copy, good, "m", discard=False)
    assert len(calls) == 1
    with pytest.raises(zoo.ChecksumMismatchError):  # another expected hash: the file is read, not the record trusted
        _verify.verify_file(hub_copy, "0" * 64, "m", discard=False)
    assert len(calls) == 2

    for damage in ("{not json", json.dumps({"format": "zoo-verified-1", "files": {str(hub_copy.resolve()): "x"}}),
                   json.dumps([1, 2]), "\x00" * 10):  # fmt: skip
        _verify._verified.clear()
        record.write_text(damage)
        _verify.verify_file(hub_copy, good, "m", discard=False)  # hashed again, and the record rebuilt
        assert json.loads(record.read_text())["files"][str(hub_copy.resolve())]["sha256"] == good
    assert len(calls) == 6

    _verify._verified.clear()  # zoo cache verify: always read
    _verify.verify_file(hub_copy, good, "m", discard=False, rehash=True)
    assert len(calls) == 7


def test_a_file_changed_just_before_it_is_hashed_is_remembered_by_this_process_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.bin"
    path.write_bytes(b"fresh" * 100)
    good = _verify.sha256_file(path)
    _verify.verify_file(path, good, "m", discard=False)
    assert _verify._identity(path) in _verify._verified
    assert not _verify.record_path().exists()  # a write in the same clock tick could keep its times: not recorded


# -- 4. no message advises an unsafe fix ---------------------------------------------------------------------
def _message_sources() -> list[Path]:
    files = [*sorted((REPO_ROOT / "zoo_core").rglob("*.py"))]
    for plugin in sorted((REPO_ROOT / "plugins").iterdir()):
        files += [p for p in sorted(plugin.rglob("*.py")) if "tests" not in p.relative_to(plugin).parts]
    return files


def _docs() -> list[Path]:
    docs = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "plugins").glob("*/README.md"))]
    docs += sorted((REPO_ROOT / "docs").rglob("*.md")) if (REPO_ROOT / "docs").is_dir() else []
    return [d for d in docs if d.is_file()]


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal and f-string of a module but its docstrings (which document, and reach no user)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def test_no_message_or_document_advises_an_unsafe_fix() -> None:
    offenders = []
    for path in _message_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for lineno, text in _strings(tree):
            if text in UNSAFE_ADVICE:
                continue  # the list of phrases itself (zoo_core._errors.UNSAFE_ADVICE)
            if unsafe_advice(text) is not None:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{lineno}: {text[:100]!r}")
    for path in _docs():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if unsafe_advice(line) is not None:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{lineno}: {line[:100]!r}")
    assert offenders == []
    assert len(_message_sources()) > 50  # the scan saw the code


def test_the_scan_would_catch_advice() -> None:
    for advice in (
        "re-run torch.load with `weights_only` set to `False`",
        "Please retry with `force_download=True`.",
        "pass trust_remote_code=True",
        "use torch.serialization.add_safe_globals([os.system])",
    ):
        assert unsafe_advice(advice) is not None
    assert unsafe_advice("read with torch.load(weights_only=True)") is None
