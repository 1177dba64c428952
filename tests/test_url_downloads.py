"""Upstream weights at a plain http(s) address (registry ``weights.url``), against a real HTTP server on loopback.

Downloaded on first use into ``$ZOO_CACHE/urls/<sha1 of the url>/``, through a ``.part`` file that an interrupted
download resumes with ``Range`` (or restarts, when the server ignores it), pinned on the first verified download,
converted once to safetensors, and every failure reported in one sentence.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import zoo_core as zoo
from conftest import REPO_ROOT, run_zoo, zoo_env
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core._registry import validate_registry
from zoo_core.cli import cli
from zoo_core.hub import network as _network
from zoo_core.hub import verify as _verify
from zoo_core.hub.cache import zoo_cache_dir
from zoo_core.hub.urls import download_url, url_download_path
from zoo_core.hub_server import free_port
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel

NAME = "tinygen.authors"
PATH = "/cyclegan/pretrained_models/tiny.pth"


# -- a tiny architecture, and a converter from its "authors'" DataParallel layout ---------------------
@dataclass
class TinyGenConfig(ModelConfig):
    latent_dim: int = 16
    image_size: int = 16


class TinyGen(UnconditionalGenerator, ZooModel):
    architecture = "tinygen"
    config_class = TinyGenConfig

    def __init__(self, config: TinyGenConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(nn.Linear(config.latent_dim, 3 * config.image_size**2), nn.Sigmoid())

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        return self.net(z).reshape(n, 3, self.config.image_size, self.config.image_size)


conversions: list[int] = []


def from_dataparallel(state_dict: dict, config: dict) -> dict:
    conversions.append(1)
    return {k.removeprefix("module."): v for k, v in state_dict.items()}


class TinyGenPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register(zoo.Architecture("tinygen", model=TinyGen, tasks=("unconditional",)))

    @zoo.hookimpl
    def register_converters(self, register):
        register(zoo.Converter("tinygen-authors", architecture="tinygen", convert=from_dataparallel))


def checkpoint(seed: int) -> tuple[bytes, TinyGen]:
    """A pickled state dict in the authors' layout (``module.`` prefix), and the model it holds."""
    torch.manual_seed(seed)
    model = zoo.create("tinygen").eval()
    buffer = io.BytesIO()
    torch.save({f"module.{k}": v for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue(), model


# -- the HTTP server ----------------------------------------------------------------------------------
@dataclass
class Served:
    """What the server holds and how it misbehaves; ``requests`` records (path, Range, body bytes sent)."""

    files: dict[str, bytes] = field(default_factory=dict)
    honour_range: bool = True
    drops: int = 0  # the next `drops` responses stop after `drop_after` bytes of their body
    drop_after: int = 10_000
    requests: list[dict[str, Any]] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        state: Served = self.server.state
        record = {"path": self.path, "range": self.headers.get("Range"), "sent": 0}
        state.requests.append(record)
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        etag = f'"{hashlib.sha1(data).hexdigest()}"'
        match = re.fullmatch(r"bytes=(\d+)-", record["range"] or "")
        if_range = self.headers.get("If-Range")
        start = 0
        if match and state.honour_range and if_range in (None, etag):
            start = int(match[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", etag)
        self.end_headers()
        body = data[start:]
        if state.drops:
            state.drops -= 1
            body = body[: state.drop_after]
        self.wfile.write(body)
        record["sent"] = len(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.state = Served()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def entry(url: str, **weights: Any) -> dict[str, Any]:
    return {
        "architecture": "tinygen",
        "plugin": "tinygen-plugin",
        "tasks": ["unconditional"],
        "source": "upstream",
        "config": {"latent_dim": 16, "image_size": 16},
        "weights": {
            "url": url,
            "filename": "tiny.pth",
            "sha256": None,
            "format": "pickle",
            "converter": "tinygen-authors",
            **weights,
        },
        "dataset": {"name": "horse2zebra"},
        "metrics": [],
        "paper": {"title": "Tiny", "url": "https://arxiv.org/abs/1703.10593"},
        "license": "BSD",
        "made_by": {"command": "the authors' training script"},
    }


def use_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: dict[str, Any]) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"version": 1, "models": models}))
    monkeypatch.setenv("ZOO_REGISTRY", str(path))
    reset_catalog()


@pytest.fixture
def upstream(server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Served, bytes, TinyGen, str]:
    """The authors' checkpoint served at PATH, and a registry entry for it with no sha256."""
    base, served = server
    get_plugin_manager().register(TinyGenPlugin(), name="tinygen-plugin")
    reset_catalog()
    data, original = checkpoint(0)
    served.files[PATH] = data
    use_registry(tmp_path, monkeypatch, {NAME: entry(base + PATH)})
    conversions.clear()
    _verify.forget_verified()
    return served, data, original, base + PATH


def same_outputs(model: ZooModel, original: TinyGen) -> bool:
    z = torch.randn(2, 16)
    return torch.equal(model.net(z), original.net(z))


def download(url: str) -> Path:
    return url_download_path(url, "tiny.pth")


def leftovers(url: str) -> list[str]:
    """The download or its .part (the lock file of the download stays)."""
    return sorted(p.name for p in download(url).parent.glob("tiny.pth*") if p.suffix != ".lock")


def one_error_line(output: str) -> str:
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    return lines[0]


# -- first download, pinning, conversion ---------------------------------------------------------------
def test_first_download_converts_pins_and_loads(upstream, capsys: pytest.CaptureFixture[str]) -> None:
    served, data, original, url = upstream
    model = zoo.load(NAME)
    assert same_outputs(model, original)
    sha = hashlib.sha256(data).hexdigest()
    assert f"pinned {sha}" in capsys.readouterr().err
    assert json.loads((zoo_cache_dir() / "pins.json").read_text()) == {f"{NAME} {url}": sha}
    cached = zoo_cache_dir() / "urls" / hashlib.sha1(url.encode()).hexdigest() / "tiny.pth"
    assert cached.read_bytes() == data and not cached.with_name("tiny.pth.part").exists()
    assert model.weights_path == zoo_cache_dir() / "converted" / f"{sha}-tinygen.safetensors"
    assert [r["range"] for r in served.requests] == [None]

    again = zoo.load(NAME)  # from the cache: no request, no second conversion, no new pin
    assert same_outputs(again, original)
    assert len(served.requests) == 1 and conversions == [1]
    assert "pinned" not in capsys.readouterr().err


def test_a_changed_file_is_refused_after_pinning(upstream) -> None:
    served, data, _, url = upstream
    zoo.load(NAME)
    removed = CliRunner().invoke(cli, ["cache", "rm", NAME, "--yes"])
    assert removed.exit_code == 0, removed.output
    assert f"removed {NAME}: {download(url).parent}" in removed.output and "converted" in removed.output
    assert not download(url).parent.exists() and not list((zoo_cache_dir() / "converted").iterdir())

    served.files[PATH], _ = checkpoint(1)  # the authors replace the file
    with pytest.raises(zoo.ChecksumMismatchError) as info:
        zoo.load(NAME)
    message = str(info.value)
    assert hashlib.sha256(data).hexdigest() in message and hashlib.sha256(served.files[PATH]).hexdigest() in message
    assert "pins.json" in message and not download(url).exists()
    assert conversions == [1]  # the new file was never unpickled


# -- interrupted downloads -----------------------------------------------------------------------------
def test_an_interrupted_download_resumes_where_it_stopped(upstream) -> None:
    served, data, original, url = upstream
    n = served.drop_after
    served.drops = _network.ATTEMPTS  # every request of the first run is cut off after n bytes
    with pytest.raises(zoo.HubUnavailableError) as info:
        zoo.load(NAME)
    assert f"stopped after {3 * n:,} of {len(data):,} bytes" in str(info.value) and "again to resume" in str(info.value)
    # within the run, each cut-off request was resumed at once from where it stopped
    assert [(r["range"], r["sent"]) for r in served.requests] == [(None, n), (f"bytes={n}-", n), (f"bytes={2 * n}-", n)]
    part = download(url).with_name("tiny.pth.part")
    assert part.read_bytes() == data[: 3 * n] and not download(url).exists()

    model = zoo.load(NAME)  # the next run asks for the rest only
    assert served.requests[-1] == {"path": PATH, "range": f"bytes={3 * n}-", "sent": len(data) - 3 * n}
    assert download(url).read_bytes() == data and not part.exists()
    assert same_outputs(model, original)


def test_a_server_that_ignores_range_restarts_from_zero(upstream) -> None:
    served, data, original, url = upstream
    served.honour_range, served.drops = False, 1
    model = zoo.load(NAME)
    assert [(r["range"], r["sent"]) for r in served.requests] == [
        (None, served.drop_after),
        (f"bytes={served.drop_after}-", len(data)),  # answered 200 with the whole file: written from zero
    ]
    assert download(url).read_bytes() == data
    assert same_outputs(model, original)


def test_a_file_replaced_between_two_attempts_is_downloaded_afresh(server, tmp_path: Path) -> None:
    """If-Range: the resumed request names the version the .part began with; a new version comes whole."""
    base, served = server
    served.files["/f.bin"] = old = bytes(range(256)) * 200
    served.drops = _network.ATTEMPTS
    target = tmp_path / "f.bin"
    with pytest.raises(zoo.HubUnavailableError, match="stopped after"):
        download_url(base + "/f.bin", target)
    served.files["/f.bin"] = new = old[::-1]
    download_url(base + "/f.bin", target)
    assert served.requests[-1]["range"] == f"bytes={3 * served.drop_after}-"
    assert target.read_bytes() == new


def test_a_complete_part_file_is_finished_without_downloading_again(server, tmp_path: Path) -> None:
    """A run that stopped between the last byte and the rename: the server answers 416 to the Range, total = size."""
    base, served = server
    served.files["/f.bin"] = data = b"y" * 30_000
    (tmp_path / "f.bin.part").write_bytes(data)
    assert download_url(base + "/f.bin", tmp_path / "f.bin").read_bytes() == data
    assert served.requests == [{"path": "/f.bin", "range": "bytes=30000-", "sent": 0}]
    assert not (tmp_path / "f.bin.part").exists()


def test_progress_bar_in_bytes_when_asked(server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, served = server
    served.files["/f.bin"] = b"x" * 50_000
    download_url(base + "/f.bin", tmp_path / "f.bin", progress=True)
    err = capsys.readouterr().err
    assert "f.bin" in err and "100%" in err and "48.8k" in err  # 50,000 B in units of 1,024
    download_url(base + "/f.bin", tmp_path / "g.bin")  # stderr is not a terminal: no bar
    assert capsys.readouterr().err == ""


# -- bad downloads and failures: one sentence each -------------------------------------------------------
def test_an_unreadable_download_is_deleted_and_not_pinned(upstream) -> None:
    served, data, original, url = upstream
    served.files[PATH] = data[: len(data) // 2]  # a complete response holding half a checkpoint
    with pytest.raises(zoo.ZooError, match=r"not a readable PyTorch checkpoint.*deleted from the cache"):
        zoo.load(NAME)
    assert not download(url).exists() and not (zoo_cache_dir() / "pins.json").exists()
    served.files[PATH] = data
    assert same_outputs(zoo.load(NAME), original)


def test_a_download_of_the_wrong_size_is_deleted(upstream, tmp_path, monkeypatch) -> None:
    _, data, _, url = upstream
    use_registry(tmp_path, monkeypatch, {NAME: entry(url, size=len(data) + 1)})
    with pytest.raises(zoo.ZooError, match=f"has {len(data):,} bytes, not the {len(data) + 1:,}"):
        zoo.load(NAME)
    assert leftovers(url) == []


def test_a_missing_file_is_one_sentence_from_the_cli(upstream) -> None:
    served, _, _, url = upstream
    del served.files[PATH]
    result = CliRunner().invoke(cli, ["load", NAME])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    line = one_error_line(result.output)
    assert f"{url} answered 404 Not Found" in line and "`zoo convert tinygen-authors FILE -o DIR`" in line
    assert leftovers(url) == []


@pytest.mark.slow
def test_an_unreachable_host_fails_fast_in_one_sentence(tmp_path: Path) -> None:
    """`zoo sample` in a fresh process, as a user runs it: nothing listens at the url's port."""
    registry = json.loads((REPO_ROOT / "registry.json").read_text())
    vae = copy.deepcopy(registry["models"]["vae.mnist"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/pretrained_models/vae.pth"
    vae.update(source="upstream", weights=entry(url, converter="vae-authors")["weights"])
    (tmp_path / "registry.json").write_text(json.dumps({"version": 1, "models": {"vae.authors": vae}}))
    env = zoo_env(tmp_path / "home", ZOO_REGISTRY=str(tmp_path / "registry.json"))
    start = time.monotonic()
    result = run_zoo("sample", "vae.authors", "-n", "1", "-o", str(tmp_path / "grid.png"), env=env)
    assert result.returncode == 1 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert f"Cannot reach 127.0.0.1:{port}" in line and url in line
    assert "`zoo convert vae-authors FILE -o DIR`" in line
    assert time.monotonic() - start < 20 and not (tmp_path / "grid.png").exists()


def test_offline_mode_does_not_download(upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    served = upstream[0]
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(zoo.HubUnavailableError, match="HF_HUB_OFFLINE is set"):
        zoo.load(NAME)
    assert served.requests == []


# -- zoo list / info / cache ------------------------------------------------------------------------------
def test_list_info_and_cache_commands_show_url_entries(upstream) -> None:
    _, data, _, url = upstream
    runner = CliRunner()
    listed = runner.invoke(cli, ["list"]).output
    assert re.search(rf"{re.escape(NAME)} .* downloaded from the authors \(127\.0\.0\.1\)", listed), listed
    info = runner.invoke(cli, ["info", NAME]).output
    assert re.search(rf"weights: +{re.escape(url)}\n", info) and "pinned on the first verified download" in info
    assert runner.invoke(cli, ["cache", "ls", "--json"]).output.strip() == "[]"

    zoo.load(NAME)
    sha = hashlib.sha256(data).hexdigest()
    assert f"{sha} (not in the registry: pinned here" in runner.invoke(cli, ["info", NAME]).output
    rows = json.loads(runner.invoke(cli, ["cache", "ls", "--json"]).output)
    assert rows == [{"name": NAME, "path": str(download(url)), "size": len(data)}]
    ok = runner.invoke(cli, ["cache", "verify"])
    assert ok.exit_code == 0 and f"ok   {NAME}" in ok.output

    with open(download(url), "r+b") as handle:
        handle.seek(100)
        handle.write(b"tampered")
    bad = runner.invoke(cli, ["cache", "verify", NAME])
    # two files: the download, deleted, and the safetensors converted from it (checked against its sidecar: ok)
    assert bad.exit_code == 1 and "BAD" in bad.output and "1 of 2 cached file(s) failed" in bad.output
    assert f"ok   {NAME} (converted: " in bad.output
    assert not download(url).exists()


# -- the registry schema ----------------------------------------------------------------------------------
URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth"


def validate(weights: dict[str, Any], source: str = "upstream") -> None:
    model = {**entry(URL), "source": source, "weights": weights}
    validate_registry({"version": 1, "models": {"tinygen.horse2zebra": model}})


@pytest.mark.parametrize(
    "weights",
    [
        entry(URL)["weights"],
        {**entry(URL)["weights"], "size": None},
        {**entry(URL)["weights"], "size": 45_575_747, "sha256": "0" * 64},
        {"url": "https://example.org/m.safetensors", "filename": "m.safetensors", "sha256": "0" * 64},
        {
            "repo_id": "a/b",
            "revision": "main",
            "filename": "m.bin",
            "sha256": None,
            "format": "pickle",
            "converter": "x",
        },
    ],
)
def test_schema_accepts_both_forms(weights: dict[str, Any]) -> None:
    validate(weights)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"repo_id": "a/b"}, 'give either "url" or "repo_id" and "revision", not both'),
        ({"revision": "main"}, 'give either "url" or "repo_id" and "revision", not both'),
        ({"url": None}, 'either "url" (an http(s) address) or "repo_id" and "revision"'),
        ({"url": "ftp://example.org/m.pth"}, '.weights.url: "ftp://example.org/m.pth" is not an http:// or https://'),
        ({"url": "efrosgans.eecs.berkeley.edu/m.pth"}, "is not an http:// or https:// URL"),
        ({"filename": "../m.pth"}, '.weights.filename: "../m.pth" must be a plain file name'),
        ({"converter": None}, "'converter' is a required property"),
        ({"size": -1}, ".weights.size"),
        ({"sha256": "abc"}, ".weights.sha256"),
    ],
)
def test_schema_rejects_bad_weights_with_a_clear_message(change: dict[str, Any], words: str) -> None:
    weights = {k: v for k, v in {**entry(URL)["weights"], **change}.items() if v is not None or k == "sha256"}
    with pytest.raises(zoo.RegistryError) as info:
        validate(weights)
    assert words in str(info.value)


def test_schema_keeps_sha256_required_for_our_own_models() -> None:
    with pytest.raises(zoo.RegistryError, match="sha256"):
        validate({"url": URL, "filename": "m.safetensors", "sha256": None}, source="zoo")


# -- files a person downloads (file-sharing sites) -------------------------------------------------------
def test_a_manual_entry_asks_for_the_file_then_pins_and_converts_it(
    server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`manual: true`: zoo never requests the url; it names where to save the file, then takes it from there."""
    base, served = server
    get_plugin_manager().register(TinyGenPlugin(), name="tinygen-plugin")
    url = base + PATH  # would serve the file, but a manual entry must not ask
    data, original = checkpoint(0)
    served.files[PATH] = data
    use_registry(tmp_path, monkeypatch, {NAME: entry(url, manual=True)})
    conversions.clear()
    _verify.forget_verified()
    runner = CliRunner()
    result = runner.invoke(cli, ["load", NAME])
    target = download(url)
    assert result.exit_code == 1 and served.requests == []
    assert one_error_line(result.output) == (
        f"Error: The weights of {NAME!r} cannot be downloaded automatically: get tiny.pth from {url} in a "
        f"browser and save it as {target}, then run the command again (or convert it yourself: `zoo convert "
        f"{entry(url)['weights']['converter']} tiny.pth -o DIR`, then `zoo load DIR`)."
    )
    listed = runner.invoke(cli, ["list"]).output
    assert "from the authors, file saved by you (127.0.0.1)" in listed

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    assert same_outputs(zoo.load(NAME), original) and served.requests == [] and conversions == [1]
    assert json.loads((zoo_cache_dir() / "pins.json").read_text()) == {
        f"{NAME} {url}": hashlib.sha256(data).hexdigest()
    }
    with pytest.raises(zoo.RegistryError, match='"manual" goes with a "url"'):
        validate({"repo_id": "a/b", "revision": "main", "filename": "m.safetensors", "sha256": None, "manual": True})
