"""The zoo command line, in process: output, JSON, exit codes and one-sentence errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo_core as zoo
from zoo_core.cli import _add_plugin_commands, cli

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_list_table_and_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list"])
    assert result.exit_code == 0
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "TASKS", "PARAMS", "DATASET", "SOURCE"]
    assert any(row.startswith("vae.mnist ") and "652.8K" in row and "ours" in row for row in rows)
    as_json = json.loads(runner.invoke(cli, ["list", "--json"]).output)
    assert [m["name"] for m in as_json] == zoo.list_models()
    assert runner.invoke(cli, ["list", "--task", "no-such-task"]).output.strip() == "No models match."
    latent = runner.invoke(cli, ["list", "--task", "latent"]).output.splitlines()[1:]
    assert [row.split()[0] for row in latent] == zoo.list_models(task="latent")


def test_info_text_and_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["info", "vae.mnist"])
    assert result.exit_code == 0
    assert "sha256:" in result.output and zoo.info("vae.mnist").weights["sha256"] in result.output
    assert "elbo:" in result.output and "nats (mnist5k test)" in result.output
    data = json.loads(runner.invoke(cli, ["info", "vae.mnist", "--json"]).output)
    assert data["weights"]["repo_id"] == "zoo/vae-mnist" and data["tasks"] == ["unconditional", "latent"]


def test_unknown_name_is_one_line_exit_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["info", "vae.mnsit"])
    assert result.exit_code == 1
    line = result.output.strip()  # one line: the closest name first (dcgan.mnist may follow), then the hint
    assert line.startswith("Error: Unknown model 'vae.mnsit': did you mean vae.mnist") and "\n" not in line
    assert line.endswith("? Run `zoo list` to see them all.")


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["sample"]).exit_code == 2
    assert runner.invoke(cli, ["sample", "vae.mnist", "-n", "0"]).exit_code == 2
    assert runner.invoke(cli, ["cache", "rm"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_sample_from_a_local_hub_folder(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ZOO_HUB_DIR: air-gapped users point zoo at a Hub-layout folder; the sha256 is still checked."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    out = tmp_path / "grid.png"
    result = runner.invoke(cli, ["sample", "vae.mnist", "-n", "9", "--seed", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    from PIL import Image

    assert Image.open(out).size == (3 * 30 + 2, 3 * 30 + 2)
    result = runner.invoke(cli, ["sample", "vae.mnist", "--text", "a seven", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and result.output == (
        "Error: vae.mnist draws images unconditionally and takes no text; drop --text / --embedding.\n"
    )
    bad = tmp_path / "two.safetensors"
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(3), "b": torch.zeros(3)}, bad)
    result = runner.invoke(cli, ["sample", "vae.mnist", "--embedding", str(bad), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and "holds 2 tensors (a, b); an embedding file holds one." in result.output
    assert not (tmp_path / "x.png").exists()


def test_local_hub_folder_with_a_tampered_file_is_refused_and_kept(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = tmp_path / "hub"
    shutil.copytree(REPO_ROOT / "hub", hub)
    weights = hub / "zoo" / "vae-mnist" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setenv("ZOO_HUB_DIR", str(hub))
    out = tmp_path / "grid.png"
    result = runner.invoke(cli, ["sample", "vae.mnist", "-o", str(out)])
    assert result.exit_code == 1
    assert "failed their sha256 check" in result.output and "it was not used" in result.output
    assert weights.exists() and not out.exists()  # the user's file is kept; nothing half written


def test_load_a_local_folder(runner: CliRunner, tmp_path: Path) -> None:
    zoo.create("vae", latent_dim=3).save_pretrained(tmp_path / "mine")
    result = runner.invoke(cli, ["load", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert "parameters:   632,390" in result.output
    result = runner.invoke(cli, ["load", f"local-dir:{tmp_path / 'nothing'}"])
    assert result.exit_code == 1 and "is not a folder" in result.output


def test_sample_refuses_a_model_without_that_task(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    from zoo_core import _factory

    model = zoo.create("vae")
    monkeypatch.setattr(type(model), "tasks", property(lambda self: ("latent",)))
    monkeypatch.setattr(_factory, "load", lambda *a, **k: model)
    result = runner.invoke(cli, ["sample", "vae.mnist", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and "does not draw images unconditionally" in result.output


def test_datasets_and_plugins(runner: CliRunner) -> None:
    assert "mnist5k" in runner.invoke(cli, ["datasets"]).output
    plugins = json.loads(runner.invoke(cli, ["plugins", "--json"]).output)
    by_name = {p["name"]: p for p in plugins}
    assert by_name["zoo-vae"]["status"] == "loaded" and "register_architectures" in by_name["zoo-vae"]["hooks"]
    assert by_name["zoo_core.builtin.datasets"]["builtin"] is True


@pytest.mark.slow
def test_hub_revisions_match_the_registry(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["hub", "revisions", str(REPO_ROOT / "hub"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["zoo/vae-mnist"] == zoo.info("vae.mnist").weights["revision"]


def test_plugins_add_commands_through_the_hook(runner: CliRunner) -> None:
    import click

    from zoo_core._plugins import get_plugin_manager

    class CommandPlugin:
        @zoo.hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello() -> None:
                click.echo("hello from a plugin")

    pm = get_plugin_manager()
    pm.register(CommandPlugin(), name="command-plugin")
    try:
        _add_plugin_commands()
        assert runner.invoke(cli, ["hello"]).output == "hello from a plugin\n"
    finally:
        cli.commands.pop("hello", None)


def test_torch_hub_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """hubconf.py exposes zoo through torch.hub (source="local" here; a GitHub repo works the same)."""
    import torch

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    model = torch.hub.load(str(REPO_ROOT), "load", "vae.mnist", source="local")
    assert model.sample(2, seed=0).shape == (2, 1, 28, 28)
    untrained = torch.hub.load(str(REPO_ROOT), "create", "vae", source="local", latent_dim=2)
    assert untrained.config.latent_dim == 2 and untrained.training
