"""`zoo push` (against a fake of the HfApi surface it calls; no Hub is reachable here) and
`zoo registry add` (for real: the entry's sha256 is the file's), on the folder a real `zoo train` run wrote."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import huggingface_hub
import pytest
from click.testing import CliRunner

import zoo_core as zoo
from zoo_core._catalog import reset_catalog
from zoo_core.cli import cli
from zoo_core.training import train

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a short real run (no evaluation: the card has no metrics, which is fine here)."""
    out = tmp_path_factory.mktemp("run") / "vae-tiny"
    train(
        "vae", "mnist5k", out, steps=3, config={"hidden_dim": 16, "latent_dim": 4}, evaluate=False,
        name="vae.tiny", repo_id="me/vae-tiny", progress=False, verbose=False,
    )  # fmt: skip
    return out


@pytest.fixture
def run(trained: Path, tmp_path: Path) -> Path:
    """A private copy of the run, for tests that change it."""
    return Path(shutil.copytree(trained, tmp_path / "vae-tiny"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FakeHfApi:
    """Records the calls zoo push makes; optionally fails like the Hub would."""

    calls: ClassVar[list[tuple[str, tuple, dict]]] = []
    fail_with: ClassVar[BaseException | None] = None

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        self.calls.append(("__init__", (), {"token": token, **kwargs}))

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", (repo_id,), kwargs))
        if self.fail_with is not None:
            raise self.fail_with
        return f"https://huggingface.co/{repo_id}"

    def create_branch(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_branch", (repo_id,), kwargs))

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", (), kwargs))

        class CommitInfo:
            commit_url = f"https://huggingface.co/{kwargs['repo_id']}/commit/0123abc"

        return CommitInfo()


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> type[FakeHfApi]:
    FakeHfApi.calls, FakeHfApi.fail_with = [], None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    return FakeHfApi


# -- zoo push ---------------------------------------------------------------------------------
def test_dry_run_lists_every_file_with_size_and_sha256_and_uploads_nothing(run: Path, fake_hub) -> None:
    model = run / "model"
    (model / ".cache").mkdir()
    (model / ".cache" / "junk").write_text("not for the Hub")
    result = CliRunner().invoke(cli, ["push", str(model), "--repo-id", "me/vae-tiny", "--revision", "v1", "--dry-run"])
    assert result.exit_code == 0, result.output
    head, header, *rows = result.output.splitlines()
    assert head.startswith("Dry run: would upload 4 files (")
    assert "to me/vae-tiny (model repository, revision v1, public); nothing was uploaded." in head
    assert header.split() == ["SHA256", "BYTES", "PATH"]
    listed = {path: (digest, int(size)) for digest, size, path in (row.split() for row in rows)}
    assert sorted(listed) == ["README.md", "config.json", "model.safetensors", "samples.png"]
    for path, (digest, size) in listed.items():
        assert digest == sha256(model / path) and size == (model / path).stat().st_size
    assert fake_hub.calls == []  # not even constructed


def test_push_creates_the_repo_and_uploads_exactly_the_listed_files(run: Path, fake_hub) -> None:
    from huggingface_hub.utils import filter_repo_objects

    model = run / "model"
    (model / ".DS_Store").write_text("hidden")
    args = ["push", str(model), "--repo-id", "me/vae-tiny", "--revision", "v1", "--private", "-m", "first"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Uploaded 4 files" in result.output and "https://huggingface.co/me/vae-tiny/commit/0123abc" in result.output
    names = [name for name, _, _ in fake_hub.calls]
    assert names == ["__init__", "create_repo", "create_branch", "upload_folder"]
    assert fake_hub.calls[0][2]["token"] == "hf_fake_token"
    assert fake_hub.calls[1][1:] == (("me/vae-tiny",), {"private": True, "exist_ok": True, "repo_type": "model"})
    assert fake_hub.calls[2][1:] == (("me/vae-tiny",), {"branch": "v1", "exist_ok": True, "repo_type": "model"})
    upload = fake_hub.calls[3][2]
    assert upload["repo_id"] == "me/vae-tiny" and upload["folder_path"] == str(model)
    assert upload["revision"] == "v1" and upload["repo_type"] == "model" and upload["commit_message"] == "first"
    # what huggingface_hub would upload with those patterns: the four files, not the hidden one
    present = [p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()]
    chosen = sorted(filter_repo_objects(present, allow_patterns=upload["allow_patterns"]))
    assert chosen == ["README.md", "config.json", "model.safetensors", "samples.png"]


def test_push_to_main_creates_no_branch(trained: Path, fake_hub) -> None:
    result = CliRunner().invoke(cli, ["push", str(trained / "model"), "--repo-id", "me/vae-tiny"])
    assert result.exit_code == 0, result.output
    assert [name for name, _, _ in fake_hub.calls] == ["__init__", "create_repo", "upload_folder"]
    assert fake_hub.calls[1][2]["private"] is False and fake_hub.calls[2][2]["revision"] == "main"


class _HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"{status} Client Error")
        self.response = type("Response", (), {"status_code": status})()


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (_HTTPError(401), "The Hub refused the upload to me/vae-tiny (401): the token cannot write there"),
        (_HTTPError(500), "The upload to me/vae-tiny failed with HTTP 500: 500 Client Error"),
        (ConnectionError("Name or service not known"), "failed (ConnectionError: Name or service not known); check"),
    ],
)
def test_hub_failures_are_one_sentence(trained: Path, fake_hub, failure: BaseException, message: str) -> None:
    fake_hub.fail_with = failure
    result = CliRunner().invoke(cli, ["push", str(trained / "model"), "--repo-id", "me/vae-tiny"])
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_no_token_is_one_sentence(trained: Path, fake_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    result = CliRunner().invoke(cli, ["push", str(trained / "model"), "--repo-id", "me/vae-tiny"])
    assert result.exit_code == 1 and "No Hugging Face token found" in result.output
    assert fake_hub.calls == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda m: (m / "README.md").unlink(), "it has no README.md"),
        (lambda m: (m / "README.md").write_text("# no metadata\n"), "has no YAML metadata block"),
        (lambda m: (m / "README.md").write_text("---\nlicense: [unclosed\n---\n"), "does not parse"),
        (lambda m: (m / "model.safetensors").write_bytes(b"\x00" * 16), "is not a readable safetensors file"),
        (lambda m: (m / "config.json").write_text("{}"), "names no architecture"),
    ],
)
def test_push_refuses_a_folder_that_is_not_hub_layout(run: Path, fake_hub, breakage: Any, message: str) -> None:
    breakage(run / "model")
    result = CliRunner().invoke(cli, ["push", str(run / "model"), "--repo-id", "me/vae-tiny", "--dry-run"])
    assert result.exit_code == 1 and message in result.output


def test_push_refuses_a_bad_repo_id(trained: Path) -> None:
    result = CliRunner().invoke(cli, ["push", str(trained / "model"), "--repo-id", "vae-tiny", "--dry-run"])
    assert result.exit_code == 1 and "is not a Hub repository id; use ORG/NAME" in result.output


# -- zoo registry add -------------------------------------------------------------------------
@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "registry.json"
    shutil.copy(REPO_ROOT / "registry.json", path)
    monkeypatch.setenv("ZOO_REGISTRY", str(path))
    return path


def test_registry_add_writes_the_files_sha256_and_the_model_loads(
    run: Path, registry: Path, tmp_path, monkeypatch
) -> None:
    from zoo_core.hub_server import repo_revision

    result = CliRunner().invoke(cli, ["registry", "add", "vae.tiny", str(run), "--repo-id", "me/vae-tiny"])
    assert result.exit_code == 0, result.output
    weights = run / "model" / "model.safetensors"
    entry = json.loads(registry.read_text())["models"]["vae.tiny"]
    assert entry["weights"]["sha256"] == sha256(weights) and entry["weights"]["size"] == weights.stat().st_size
    assert entry["weights"]["revision"] == repo_revision(run / "model", "me/vae-tiny")
    assert entry["weights"]["repo_id"] == "me/vae-tiny" and f"sha256 {sha256(weights)}" in result.output
    saved = json.loads((run / "zoo-entry.json").read_text())["entry"]
    assert {k: v for k, v in entry.items() if k != "weights"} == saved  # nothing typed by hand
    assert "zoo-entry.json" not in {p.name for p in (run / "model").iterdir()}  # not for the Hub

    # the registered model loads from a Hub-layout folder, sha256-checked
    hub = tmp_path / "hub"
    shutil.copytree(run / "model", hub / "me" / "vae-tiny")
    monkeypatch.setenv("ZOO_HUB_DIR", str(hub))
    reset_catalog()
    model = zoo.load("vae.tiny")
    assert model.config.latent_dim == 4 and zoo.info("vae.tiny").weights["sha256"] == sha256(weights)


def test_registry_add_under_another_name_renders_the_card_again(run: Path, registry: Path) -> None:
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard import metadata_load

    result = CliRunner().invoke(cli, ["registry", "add", "vae.mnist-tiny", str(run / "model")])  # the model/ folder
    assert result.exit_code == 0, result.output
    entry = json.loads(registry.read_text())["models"]["vae.mnist-tiny"]
    assert entry["weights"]["repo_id"] == "me/vae-tiny"  # the run's suggestion, when --repo-id is not given
    card = ModelCard.load(run / "model" / "README.md")
    assert metadata_load(run / "model" / "README.md")["model-index"][0]["name"] == "vae.mnist-tiny"
    assert 'zoo.load("vae.mnist-tiny")' in card.text and "## Samples" in card.text  # the body is kept
    assert entry["weights"]["sha256"] == sha256(run / "model" / "model.safetensors")
    assert json.loads((run / "zoo-entry.json").read_text())["name"] == "vae.mnist-tiny"


def test_registry_add_errors(run: Path, registry: Path, tmp_path: Path) -> None:
    wrong = CliRunner().invoke(cli, ["registry", "add", "gan.tiny", str(run)])
    assert wrong.exit_code == 1 and "'gan.tiny' is not a name for a model of the architecture 'vae'" in wrong.output
    assert "name it vae.<tag>" in wrong.output  # issue 14: the one name check (zoo_core._registry.check_model_name)
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(cli, ["registry", "add", "vae.tiny", str(tmp_path / "empty")])
    assert empty.exit_code == 1 and "holds no zoo-entry.json" in empty.output
