"""registry.json: the schema is enforced, errors carry a JSON path, names resolve or suggest."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

import zoo_core as zoo
from zoo_core._registry import load_registry, validate_registry
from zoo_core.publish import card_metadata, to_yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def document() -> dict:
    return json.loads((REPO_ROOT / "registry.json").read_text())


def test_shipped_registry_is_valid_and_is_the_packaged_one(document: dict) -> None:
    """The package reads the top-level registry.json (through its symlink) and it validates."""
    assert load_registry() == validate_registry(document)
    assert "vae.mnist" in document["models"]


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda d: d["models"]["vae.mnist"]["weights"].update(sha256="abc"), "$.models", "sha256"),
        (lambda d: d["models"]["vae.mnist"].pop("license"), '$.models["vae.mnist"]', "license"),
        (
            lambda d: d["models"]["vae.mnist"].update(tasks=["Dance!"]),
            '$.models["vae.mnist"].tasks[0]',
            "Dance!",
        ),
        (lambda d: d.update(version=2), "$.version", "1"),
        (
            lambda d: d["models"]["vae.mnist"].update(architecture="gan"),
            '$.models["vae.mnist"].architecture',
            "gan",
        ),
    ],
)
def test_broken_registry_fails_with_json_path(document: dict, mutate, path: str, words: str) -> None:
    broken = copy.deepcopy(document)
    mutate(broken)
    with pytest.raises(zoo.RegistryError) as info:
        validate_registry(broken)
    message = str(info.value)
    assert path in message and words in message


def test_a_task_nobody_declares_fails_with_json_path(document: dict, tmp_path: Path, monkeypatch) -> None:
    """A well-formed task name passes the schema (plugins declare tasks); the catalog refuses one that zoo_core and
    the installed plugins do not declare."""
    from zoo_core._plugins import reset_plugins

    entry = copy.deepcopy(document["models"]["vae.mnist"])
    entry["tasks"] = ["unconditional", "dance"]
    validate_registry({"version": 1, "models": {"vae.mnist": entry}})
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"version": 1, "models": {"vae.mnist": entry}}))
    monkeypatch.setenv("ZOO_REGISTRY", str(mine))
    reset_plugins()
    try:
        with pytest.raises(zoo.RegistryError, match=r'mine.json is invalid at \$.models\["vae.mnist"\].tasks\[1\]'):
            zoo.info("vae.mnist")
    finally:
        monkeypatch.delenv("ZOO_REGISTRY")
        reset_plugins()


def test_registry_file_errors_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "registry.json"
    bad.write_text('{"version": 1, "models": {')
    monkeypatch.setenv("ZOO_REGISTRY", str(bad))
    with pytest.raises(zoo.RegistryError, match=r"not valid JSON \(line 1"):
        zoo.list_models()
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "missing.json"))
    from zoo_core._plugins import reset_plugins

    reset_plugins()
    # issue 14: a user catalog that does not exist yet is an empty one (`zoo registry add` creates it)
    assert "vae.mnist" in zoo.list_models()
    assert not (tmp_path / "missing.json").exists()


def test_list_and_info() -> None:
    assert zoo.list_models() == sorted(zoo.list_models())
    assert "vae.mnist" in zoo.list_models("vae.*")
    assert "vae.mnist" in zoo.list_models("mnist")  # a bare word is a substring
    assert zoo.list_models("nothing*") == []
    assert "vae.mnist" in zoo.list_models(task="latent")
    assert "vae.mnist" not in zoo.list_models(task="image-to-image")
    info = zoo.info("vae.mnist")
    assert info.architecture == "vae" and info.num_params == 652_824
    assert zoo.info("vae") == info  # an architecture alone is its default model


def test_an_architecture_alone_prefers_a_model_zoo_trained(
    document: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``zoo.load("dcgan")`` is our dcgan.mnist, not an upstream model that sorts first and needs a download."""
    upstream = copy.deepcopy(document["models"]["dcgan.mnist-huggan"])
    document["models"]["dcgan.aaa-upstream"] = upstream  # sorts before dcgan.mnist
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(document))
    monkeypatch.setenv("ZOO_REGISTRY", str(path))
    assert zoo.info("dcgan").name == "dcgan.mnist"
    # with no model of ours, the first upstream one (a user catalog cannot remove a shipped model since issue 14's
    # layering, but it overrides one: here dcgan.mnist becomes an upstream entry)
    document["models"]["dcgan.mnist"] = copy.deepcopy(upstream)
    path.write_text(json.dumps(document))
    from zoo_core._catalog import reset_catalog

    reset_catalog()
    assert zoo.info("dcgan").name == "dcgan.aaa-upstream"


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(zoo.UnknownNameError) as info:
        zoo.info("vae.mnsit")
    assert "did you mean vae.mnist" in str(info.value)  # the closest first (dcgan.mnist may follow)
    with pytest.raises(zoo.UnknownNameError, match="zoo list"):
        zoo.info("completely-different")


def test_card_metadata_is_hub_yaml(document: dict) -> None:
    entry = document["models"]["vae.mnist"]
    meta = card_metadata("vae.mnist", entry)
    assert meta["pipeline_tag"] == "unconditional-image-generation"
    assert meta["model-index"][0]["results"][0]["metrics"][0]["type"] == "elbo"
    assert yaml.safe_load(to_yaml(meta)) == meta


def test_published_card_matches_registry(document: dict) -> None:
    """The card in our Hub folder carries the registry's numbers (it is generated, not typed)."""
    entry = document["models"]["vae.mnist"]
    card = (REPO_ROOT / "hub" / "zoo" / "vae-mnist" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["license"] == entry["license"]
    elbo = next(m for m in entry["metrics"] if m["name"] == "elbo")
    assert header["model-index"][0]["results"][0]["metrics"][0]["value"] == elbo["value"]
    assert entry["made_by"]["command"] in card
