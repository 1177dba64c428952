"""The published gan.mnist: loads strictly from its sha256-checked file, samples from Python and the CLI, and
`zoo eval` reproduces its card's FID-MNIST and Parzen-window log-likelihood.

Golden samples (``golden/gan-mnist.safetensors``) are written by running this module:
``python plugins/zoo-gan/tests/test_gan_published.py --write-golden`` (only after publishing new weights).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from zoo_gan.model import GAN

import zoo_core as zoo
from zoo_core.cli import cli

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "gan-mnist"
GOLDEN = HERE / "golden" / "gan-mnist.safetensors"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # the published files, sha256-checked


def _recorded(name: str) -> dict:
    return next(m for m in zoo.info("gan.mnist").metrics if m["name"] == name)


def test_published_weights_load_strictly() -> None:
    """The published file has exactly mnist.yaml's tensors; a missing key or a wrong width is refused."""
    from safetensors.torch import load_file as read

    state = read(PUBLISHED / "model.safetensors")
    info = zoo.info("gan.mnist")
    assert info.config["g_hidden"] == 1200 and info.config["d_units"] == 240 and info.config["noise"] == "uniform"
    model = GAN.from_weights(info.config, state)
    assert model.num_parameters() == info.num_params == 3_735_425
    missing = dict(state)
    missing.pop("discriminator.h0.linear.bias")
    with pytest.raises(zoo.ZooError, match=r"missing 1 key\(s\) such as 'discriminator.h0.linear.bias'"):
        GAN.from_weights(info.config, missing)
    with pytest.raises(zoo.ZooError, match="do not fit GAN's config"):
        GAN.from_weights({**info.config, "g_hidden": 600}, state)


def test_published_golden_samples() -> None:
    """A fixed seed's samples of the published weights equal the stored golden output."""
    samples = zoo.ZooModel.from_pretrained(PUBLISHED).sample(4, seed=0)
    assert samples.shape == (4, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    assert torch.allclose(samples, load_file(GOLDEN)["mnist_samples_seed0"], atol=1e-5)


def test_zoo_sample_gan_mnist(tmp_path: Path, hub: None) -> None:
    """`zoo sample gan.mnist` writes the grid of model.sample(n, seed) from the sha256-checked published file."""
    import numpy as np
    from PIL import Image

    from zoo_core._images import make_grid

    out = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", "gan.mnist", "-n", "16", "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pixels = torch.from_numpy(np.array(Image.open(out)))
    expected = make_grid(zoo.load("gan.mnist").sample(16, seed=3))[:, :, 0]
    assert torch.equal(pixels, torch.from_numpy(expected))


def test_card_carries_the_metrics_beside_their_baselines() -> None:
    card = (PUBLISHED / "README.md").read_text()
    fid, parzen, se = (_recorded(n)["value"] for n in ("fid-mnist", "parzen-ll", "parzen-ll-se"))
    assert f"| {fid:.1f} | 500 real training digits: 23.8" in card
    assert f"{parzen:.1f} ± {se:.1f}" in card and "225 ± 2" in card
    assert zoo.info("gan.mnist").made_by["command"] in card and "| epoch | updates |" in card


@pytest.mark.slow
def test_zoo_eval_reproduces_the_card(hub: None) -> None:
    """`zoo eval gan.mnist` recomputes FID-MNIST (500 samples) and the Parzen LL (10,000 samples, sigma chosen on the
    last 500 training digits) as recorded, to the relative 1e-4 a different CPU's float32 kernels allow."""
    result = CliRunner().invoke(cli, ["eval", "gan.mnist", "--json"])
    assert result.exit_code == 0, result.output
    measured = {m["name"]: m for m in json.loads(result.output)}
    assert set(measured) == {"fid-mnist", "parzen-ll", "parzen-ll-se"}
    for name, m in measured.items():
        assert m["value"] == pytest.approx(_recorded(name)["value"], rel=1e-4), name
    assert measured["parzen-ll"]["samples"] == 10_000 and measured["fid-mnist"]["samples"] == 500
    assert "chosen sigma" in measured["parzen-ll"]["protocol"]


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    samples = zoo.ZooModel.from_pretrained(PUBLISHED).sample(4, seed=0)
    save_file({"mnist_samples_seed0": samples.contiguous()}, GOLDEN)
    print(f"wrote {GOLDEN}")
