"""``zoo score`` (zoo_anogan.cli): the scores of image files equal the Python verb's, errors are one sentence."""

from __future__ import annotations

import json
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
from zoo_core._plugins import get_plugin_manager
from zoo_core.cli import cli
from zoo_core.translate import read_image

TINY = {"image_size": 16, "nz": 8, "ngf": 4, "ndf": 4, "nef": 4}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny anogan model folder, a model without the task (mnistnet), and images: 16x16 grey, RGB, wrong size."""
    root = tmp_path_factory.mktemp("score")
    torch.manual_seed(0)
    zoo.create("anogan", **TINY).save_pretrained(root / "anogan")
    zoo.create("mnistnet").save_pretrained(root / "mnistnet")
    rng = np.random.default_rng(0)
    (root / "digits" / "more").mkdir(parents=True)
    for i, name in enumerate(["b.png", "a.png", "more/c.png"]):
        pixels = (rng.random((16, 16)) * 255).astype(np.uint8)
        pixels[4:12, 6 + i : 9 + i] = 255  # a stroke, so the images differ in more than noise
        Image.fromarray(pixels).save(root / "digits" / name)
    Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(root / "rgb.png")
    Image.fromarray((rng.random((20, 16)) * 255).astype(np.uint8)).save(root / "tall.png")
    (root / "notes.png").write_text("not an image")
    (root / "empty").mkdir()
    return {"root": root, "model": root / "anogan", "other": root / "mnistnet"}


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, ["score", *map(str, args)])


def one_sentence_error(result: Result) -> str:
    """The error line of a failed run: exit code 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not an exception escaping the command
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1 and text.startswith("Error: "), text
    return text


def expected_files(root: Path) -> list[Path]:
    return [root / "digits" / "a.png", root / "digits" / "b.png", root / "digits" / "more" / "c.png", root / "rgb.png"]


def test_lines_and_json_are_the_verbs_scores_in_order(folders: dict[str, Path]) -> None:
    root = folders["root"]
    files = expected_files(root)  # a folder's images sorted (sub-folders included), then the file given
    model = zoo.load(str(folders["model"]))
    x = torch.stack([read_image(path, 1) for path in files])
    # the RGB image is read as grey by PIL's luma ("L"), as `zoo translate` reads it
    grey = np.asarray(Image.open(root / "rgb.png").convert("L"), dtype=np.float32) / 255
    assert torch.equal(x[3, 0], torch.from_numpy(grey))
    expected = model.score(x).tolist()

    result = run(folders["model"], root / "digits", root / "rgb.png")
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [Path(path) for path, _ in lines] == files
    assert [float(value) for _, value in lines] == pytest.approx(expected, rel=1e-5)

    as_json = json.loads(run(folders["model"], root / "digits", root / "rgb.png", "--json").output)
    assert [Path(item["path"]) for item in as_json] == files
    assert [item["score"] for item in as_json] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert len(set(expected)) == len(expected)  # the images are told apart: a constant would not pass


def test_latent_search_uses_steps_and_seed(folders: dict[str, Path]) -> None:
    root = folders["root"]
    files = expected_files(root)[:3]
    model = zoo.load(str(folders["model"]))
    x = torch.stack([read_image(path, 1) for path in files])

    def cli_scores(*options: object) -> list[float]:
        result = run(folders["model"], root / "digits", "--method", "latent-search", "--json", *options)
        assert result.exit_code == 0, result.output
        return [item["score"] for item in json.loads(result.output)]

    seeded = cli_scores("--steps", 3, "--seed", 5)
    assert seeded == pytest.approx(model.score(x, method="latent-search", seed=5, steps=3).tolist(), rel=1e-6)
    assert cli_scores("--steps", 3, "--seed", 5) == seeded  # the same seed, the same scores
    assert cli_scores("--steps", 3, "--seed", 6) != seeded  # another start
    assert cli_scores("--steps", 0) == pytest.approx(model.score(x, method="latent-search", steps=0).tolist())


def test_errors_are_one_sentence(folders: dict[str, Path]) -> None:
    root, model = folders["root"], folders["model"]
    text = one_sentence_error(run(folders["other"], root / "digits"))
    assert "does not score anomalies" in text and "classification" in text
    text = one_sentence_error(run(model, root / "digits", root / "missing.png"))
    assert "missing.png does not exist" in text
    text = one_sentence_error(run(model, root / "tall.png"))
    assert "20x16" in text and "16x16" in text
    assert "not an image" in one_sentence_error(run(model, root / "notes.png"))
    assert "holds no images" in one_sentence_error(run(model, root / "empty"))
    assert "is not a folder" in one_sentence_error(run(root / "no-model", root / "digits"))
    # usage errors: exit 2
    assert run(model).exit_code == 2
    assert run(model, root / "digits", "--steps", 3).exit_code == 2  # --steps without the search
    assert run(model, root / "digits", "--method", "nearest").exit_code == 2


def test_the_hook_adds_score_and_plugin_stays_torch_free() -> None:
    group = click.Group("zoo")
    get_plugin_manager().hook.register_commands(cli=group)
    assert "score" in group.commands
    code = "import sys, zoo_anogan.plugin, zoo_anogan.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
