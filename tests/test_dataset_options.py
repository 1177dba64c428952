"""Dataset options: mnist5k's ``size`` and ``zoo train --dataset-option`` (kept by resume, in the command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.datasets.offline import _resize_uint8
from zoo_core.training import TrainConfig


def test_mnist5k_size_resizes_the_uint8_digits() -> None:
    native = load_dataset("mnist5k", split="test")
    resized = load_dataset("mnist5k", split="test", size=32)
    assert native.image_size == (28, 28) and resized.image_size == (32, 32) and len(resized) == 500
    assert torch.equal(resized.images, _resize_uint8(native.images, 32))
    assert torch.equal(resized.labels, native.labels)
    with pytest.raises(zoo.ZooError, match="mnist5k's size must be from 1 to 256 pixels"):
        load_dataset("mnist5k", split="test", size="big")


def test_dataset_options_are_part_of_the_command() -> None:
    config = TrainConfig("dcgan", "mnist5k", "runs/d", dataset_options={"size": 32}, steps=5)
    assert config.to_command() == "zoo train dcgan --dataset mnist5k --out runs/d --dataset-option size=32 --steps 5"


def test_zoo_train_dataset_option_and_resume(tmp_path: Path) -> None:
    out = str(tmp_path / "run")
    base = ["train", "vae", "--dataset", "mnist5k", "--out", out, "--no-eval", "--batch-size", "32"]
    small = ["--config", "image_size=32", "--config", "hidden_dim=8", "--config", "latent_dim=2"]
    result = CliRunner().invoke(cli, [*base, *small, "--dataset-option", "size=32", "--steps", "2"])
    assert result.exit_code == 0, result.output
    state = json.loads(sorted((tmp_path / "run" / "checkpoints").glob("*/state.json"))[-1].read_text())
    assert state["train_config"]["dataset_options"] == {"size": 32}
    # resumed without the option: the run's own options are used
    result = CliRunner().invoke(cli, [*base, "--resume", "--steps", "3"])
    assert result.exit_code == 0, result.output
    # resumed with other options: refused in one sentence
    result = CliRunner().invoke(cli, [*base, "--resume", "--steps", "4", "--dataset-option", "size=64"])
    assert result.exit_code == 1 and "was made with the dataset options {'size': 32}" in result.output
    result = CliRunner().invoke(cli, [*base, "--dataset-option", "size"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output
