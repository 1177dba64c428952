"""`zoo convert`: foreign checkpoints are read with weights_only=True, mapped by a converter, loaded strictly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo_core as zoo
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core.checkpoints import read_checkpoint
from zoo_core.cli import cli


def strip_module_prefix(state_dict: dict, config: dict) -> dict:
    """A DataParallel-style checkpoint: every key carries `module.`; the real one is under "state_dict"."""
    return {k.removeprefix("module."): v for k, v in state_dict["state_dict"].items()}


class ConverterPlugin:
    @zoo.hookimpl
    def register_converters(self, register):
        register(zoo.Converter("vae-dataparallel", architecture="vae", convert=strip_module_prefix, source="test"))


@pytest.fixture
def converter() -> None:
    get_plugin_manager().register(ConverterPlugin(), name="converter-plugin")
    reset_catalog()  # a catalog built before the plugin registered would not know its converter


@pytest.fixture
def foreign(tmp_path: Path) -> tuple[Path, zoo.ZooModel]:
    torch.manual_seed(0)
    model = zoo.create("vae", latent_dim=4)
    path = tmp_path / "checkpoint.pth.tar"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "epoch": 3}, path)
    return path, model


def test_convert_writes_a_hub_folder_that_loads_strictly(converter, foreign, tmp_path: Path) -> None:
    path, original = foreign
    out = tmp_path / "converted"
    result = CliRunner().invoke(
        cli, ["convert", "vae-dataparallel", str(path), "-o", str(out), "--config", "latent_dim=4"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["latent_dim"] == 4
    assert "vae-dataparallel" in (out / "README.md").read_text()
    loaded = zoo.load(str(out))
    z = torch.randn(3, 4)
    assert torch.equal(loaded.decode(z), original.eval().decode(z))


def test_convert_with_the_wrong_config_fails_strictly(converter, foreign, tmp_path: Path) -> None:
    path, _ = foreign
    result = CliRunner().invoke(cli, ["convert", "vae-dataparallel", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "do not fit VAE's config" in result.output
    assert not (tmp_path / "o").exists()  # nothing written half


class RunsCode:
    """Unpickling this calls os.getcwd: the shape of every malicious checkpoint."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"state": RunsCode()}, path)
    with pytest.raises(zoo.ZooError, match="unpickling it would run code"):
        read_checkpoint(path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(zoo.ZooError, match="not a readable PyTorch checkpoint"):
        read_checkpoint(tmp_path / "junk.pth")


def test_unknown_converter_suggests(foreign, tmp_path: Path, converter) -> None:
    path, _ = foreign
    result = CliRunner().invoke(cli, ["convert", "vae-dataparalel", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "did you mean vae-dataparallel" in result.output
    result = CliRunner().invoke(cli, ["convert", "vae-dataparallel", str(path), "-o", "x", "--config", "latent_dim"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output
