"""Upstream weights: no sha256 in the registry means pinned on the first verified download; pickles are
converted once (torch.load weights_only=True) and never unpickled again."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

import zoo_core as zoo
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core._registry import validate_registry
from zoo_core.hub import verify as _verify
from zoo_core.hub.cache import zoo_cache_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
calls: list[int] = []


def strip_module(state_dict: dict, config: dict) -> dict:
    calls.append(1)
    return {k.removeprefix("module."): v for k, v in state_dict.items()}


class ConverterPlugin:
    @zoo.hookimpl
    def register_converters(self, register):
        register(zoo.Converter("vae-dataparallel", architecture="vae", convert=strip_module))


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, zoo.ZooModel]:
    """An authors' pickled checkpoint in a local Hub folder, and a registry entry with no sha256 for it."""
    torch.manual_seed(0)
    original = zoo.create("vae", latent_dim=3).eval()
    weights = tmp_path / "hub" / "authors" / "vae-dp" / "pytorch_model.bin"
    weights.parent.mkdir(parents=True)
    torch.save({f"module.{k}": v for k, v in original.state_dict().items()}, weights)
    registry = json.loads((REPO_ROOT / "registry.json").read_text())
    entry = copy.deepcopy(registry["models"]["vae.mnist"])
    entry.update(source="upstream", config={**entry["config"], "latent_dim": 3})
    entry["weights"] = {"repo_id": "authors/vae-dp", "filename": "pytorch_model.bin", "revision": "main",
                        "sha256": None, "format": "pickle", "converter": "vae-dataparallel"}  # fmt: skip
    registry["models"]["vae.authors"] = entry
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "registry.json"))
    monkeypatch.setenv("ZOO_HUB_DIR", str(tmp_path / "hub"))
    get_plugin_manager().register(ConverterPlugin(), name="converter-plugin")
    reset_catalog()  # built by zoo.create above, before the registry and the converter changed
    calls.clear()
    return weights, original


def test_first_download_pins_then_verifies(upstream, capsys: pytest.CaptureFixture[str]) -> None:
    weights, original = upstream
    model = zoo.load("vae.authors")
    z = torch.randn(2, 3)
    assert torch.equal(model.decode(z), original.decode(z))
    sha = _verify.sha256_file(weights)
    assert f"pinned {sha}" in capsys.readouterr().err
    pins = json.loads((zoo_cache_dir() / "pins.json").read_text())
    assert list(pins.values()) == [sha]
    assert model.weights_path.suffix == ".safetensors" and model.weights_path.parent.name == "converted"
    zoo.load("vae.authors")  # converted once: the pickle is not opened again
    assert calls == [1]
    assert "pinned" not in capsys.readouterr().err


def test_a_changed_file_after_pinning_is_refused(upstream) -> None:
    weights, _ = upstream
    zoo.load("vae.authors")
    _verify.forget_verified()
    state = torch.load(weights, weights_only=True)
    state["module.fc4.bias"] += 1
    torch.save(state, weights)
    with pytest.raises(zoo.ChecksumMismatchError, match="failed their sha256 check"):
        zoo.load("vae.authors")
    assert weights.exists()  # a local Hub folder is the user's: refused, not deleted


def test_schema_rules_for_upstream_entries() -> None:
    registry = json.loads((REPO_ROOT / "registry.json").read_text())
    ours = registry["models"]["vae.mnist"]
    unpinned_ours = copy.deepcopy(registry)
    unpinned_ours["models"]["vae.mnist"]["weights"]["sha256"] = None
    with pytest.raises(zoo.RegistryError, match="sha256"):
        validate_registry(unpinned_ours)
    no_converter = copy.deepcopy(registry)
    no_converter["models"]["vae.authors"] = {
        **ours,
        "source": "upstream",
        "weights": {**ours["weights"], "sha256": None, "format": "pickle"},
    }
    with pytest.raises(zoo.RegistryError, match="converter"):
        validate_registry(no_converter)


def test_info_says_how_upstream_weights_are_pinned(upstream) -> None:
    from click.testing import CliRunner

    from zoo_core.cli import cli

    result = CliRunner().invoke(cli, ["info", "vae.authors"])
    assert "pinned on the first verified download" in result.output
    assert "downloaded from the authors" in CliRunner().invoke(cli, ["list"]).output
