"""``zoo edit`` (zoo_icgan.cli): the written images equal the Python verb's edits, inputs are never overwritten,
errors are one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from PIL import Image

import zoo_core as zoo
from zoo_core._images import make_grid
from zoo_core._plugins import get_plugin_manager
from zoo_core.cli import cli
from zoo_core.translate import read_image

TINY = {"image_size": 16, "nz": 8, "ngf": 8, "ndf": 8, "encoder_layers": 2, "encoder_nf": 4, "encoder_y_fc": 16}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny icgan model folder, a model without the task (mnistnet), and images: 16x16 grey, RGB, wrong size."""
    root = tmp_path_factory.mktemp("edit")
    torch.manual_seed(0)
    zoo.create("icgan", **TINY).save_pretrained(root / "icgan")
    zoo.create("mnistnet").save_pretrained(root / "mnistnet")
    rng = np.random.default_rng(0)
    (root / "digits" / "more").mkdir(parents=True)
    for name in ["b.png", "a.png", "more/c.png"]:
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(root / "digits" / name)
    Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(root / "rgb.png")
    Image.fromarray((rng.random((16, 20)) * 255).astype(np.uint8)).save(root / "wide.png")
    return {"root": root, "model": root / "icgan", "other": root / "mnistnet"}


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, ["edit", *map(str, args)])


def one_sentence_error(result: Result) -> str:
    """The error line of a failed run: exit code 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not an exception escaping the command
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1 and text.startswith("Error: "), text
    return text


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int16)


def as_uint8(images: torch.Tensor) -> np.ndarray:
    """What the PNG of float images in [0, 1] holds: round to the nearest of 256 levels."""
    return (images.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy().astype(np.int16)


def test_a_folder_and_a_file_edited_to_a_class_equal_the_verb(folders: dict[str, Path], tmp_path: Path) -> None:
    root = folders["root"]
    model = zoo.load(str(folders["model"]))
    out = tmp_path / "out"
    result = run(folders["model"], root / "digits", "--to", 3, "-o", out)
    assert result.exit_code == 0, result.output
    names = ["a.png", "b.png", "more/c.png"]  # a folder's sub-folders are kept under -o
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == names
    x = torch.stack([read_image(root / "digits" / name, 1) for name in names])
    expected = as_uint8(model.edit(x, 3, seed=0)[:, 0])
    written = np.stack([pixels(out / name) for name in names])
    assert written.shape == (3, 16, 16)
    assert np.abs(written - expected).max() <= 1  # a batch and single images may round one level apart
    assert (written != as_uint8(model.edit(x, 5)[:, 0])).any()  # the class matters

    # one input image and -o FILE.png: that file; an RGB input is read as grey (PIL's luma)
    single = tmp_path / "single.png"
    assert run(folders["model"], root / "rgb.png", "--to", 7, "-o", single).exit_code == 0
    grey = read_image(root / "rgb.png", 1)
    assert torch.equal(grey[0], torch.from_numpy(np.asarray(Image.open(root / "rgb.png").convert("L")) / 255).float())
    assert np.abs(pixels(single) - as_uint8(model.edit(grey[None], 7)[0, 0])).max() <= 1
    written_here = sorted(p.name for p in tmp_path.iterdir() if p.name != "zoo-cache")  # zoo-cache: conftest's
    assert written_here == ["out", "single.png"]  # no temporary file left


def test_grid_holds_each_input_and_its_edits_to_every_class(folders: dict[str, Path], tmp_path: Path) -> None:
    root = folders["root"]
    model = zoo.load(str(folders["model"]))
    grid = tmp_path / "edits.png"
    result = run(folders["model"], root / "digits" / "a.png", root / "rgb.png", "--grid", "-o", grid)
    assert result.exit_code == 0, result.output
    rows = []
    for path in [root / "digits" / "a.png", root / "rgb.png"]:
        x = read_image(path, 1)[None]
        rows += [x, model.edit(x.expand(10, -1, -1, -1), torch.arange(10))]
    expected = make_grid(torch.cat(rows), nrow=11)[:, :, 0].astype(np.int16)
    written = pixels(grid)
    assert written.shape == expected.shape == (2 + 2 * 18, 2 + 11 * 18)
    assert np.abs(written - expected).max() <= 1


def test_an_output_that_is_an_input_is_refused(folders: dict[str, Path], tmp_path: Path) -> None:
    digits = tmp_path / "digits"
    digits.mkdir()
    source = folders["root"] / "digits" / "a.png"
    (digits / "a.png").write_bytes(source.read_bytes())
    text = one_sentence_error(run(folders["model"], digits / "a.png", "--to", 1, "-o", digits / "a.png"))
    assert "would destroy the input" in text
    text = one_sentence_error(run(folders["model"], digits, "--to", 1, "-o", digits))
    assert "is the input folder" in text
    text = one_sentence_error(run(folders["model"], digits, "--grid", "-o", digits / "a.png"))
    assert "the grid would destroy it" in text
    assert (digits / "a.png").read_bytes() == source.read_bytes() and len(list(digits.iterdir())) == 1


def test_errors_are_one_sentence(folders: dict[str, Path], tmp_path: Path) -> None:
    root, model, out = folders["root"], folders["model"], tmp_path / "out"
    text = one_sentence_error(run(folders["other"], root / "digits", "--to", 1, "-o", out))
    assert "does not edit images" in text and "classification" in text
    for wrong in (10, -1):
        text = one_sentence_error(run(model, root / "digits", "--to", wrong, "-o", out))
        assert f"--to {wrong} is not a class" in text and "0 to 9" in text
    text = one_sentence_error(run(model, root / "missing.png", "--to", 1, "-o", out))
    assert "missing.png does not exist" in text
    text = one_sentence_error(run(model, root / "wide.png", "--to", 1, "-o", out))
    assert "16x20" in text and "16x16 images" in text
    text = one_sentence_error(run(model, root / "digits", "--grid", "-o", tmp_path / "edits.jpg"))
    assert "ending in .png" in text
    assert [p.name for p in tmp_path.iterdir() if p.name != "zoo-cache"] == []  # nothing written by a failed run
    # usage errors: exit 2
    assert run(model, root / "digits", "-o", out).exit_code == 2  # neither --to nor --grid
    assert run(model, root / "digits", "--to", 1, "--grid", "-o", out).exit_code == 2
    assert run(model, "--to", 1, "-o", out).exit_code == 2  # no input
    assert run(model, root / "digits", "--to", "seven", "-o", out).exit_code == 2


def test_the_hook_adds_edit_and_plugin_stays_torch_free() -> None:
    group = click.Group("zoo")
    get_plugin_manager().hook.register_commands(cli=group)
    assert "edit" in group.commands
    code = "import sys, zoo_icgan.plugin, zoo_icgan.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
