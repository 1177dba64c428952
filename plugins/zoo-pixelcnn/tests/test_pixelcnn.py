"""zoo-pixelcnn: the paper's layers and masks (causality, grey and RGB), the Bernoulli likelihood and its input
checks, naive and cached sampling drawing the same images, and the published model.

Golden outputs (``golden/pixelcnn.safetensors``) are written by running this module:
``python plugins/zoo-pixelcnn/tests/test_pixelcnn.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from zoo_pixelcnn.model import PixelCNN
from zoo_pixelcnn.sampling import CachedPixelCNN, draw_noise, sample_cached, sample_naive

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.layers import MaskedConv2d

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
GOLDEN = HERE / "golden" / "pixelcnn.safetensors"
TINY = {"image_size": 8, "n_residual": 2, "residual_channels": 4, "head_channels": 8}
TINY_RGB = {"image_size": 6, "channels": 3, "n_residual": 2, "residual_channels": 6, "head_channels": 6}

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def tiny(seed: int = 0, **config) -> PixelCNN:
    torch.manual_seed(seed)
    model = PixelCNN.from_config(config or TINY).double().eval()
    with torch.no_grad():  # larger weights than the default init, so that no logit is near 0 or 1 everywhere
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    return model


def binary(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) > 0.5).double()


# -- the paper's network -------------------------------------------------------------------------------
def test_layers_are_the_papers() -> None:
    """7x7 mask A in, residual blocks 2h -> h (1x1) -> h (3x3 mask B) -> 2h (1x1), a 1x1 mask-B head to one logit."""
    model = PixelCNN.from_config({})
    c = model.config
    assert (c.n_residual, c.residual_channels, c.head_channels) == (15, 16, 32)
    first = model.input_conv
    assert isinstance(first, MaskedConv2d) and first.mask_type == "A" and first.kernel_size == (7, 7)
    assert (first.in_channels, first.out_channels) == (1, 32)
    block = model.blocks[0]
    shapes = [
        (m.in_channels, m.out_channels, m.kernel_size, m.mask_type) for m in (block.conv_in, block.conv, block.conv_out)
    ]
    assert shapes == [(32, 16, (1, 1), "B"), (16, 16, (3, 3), "B"), (16, 32, (1, 1), "B")]
    assert (model.head_in.out_channels, model.head_out.out_channels) == (32, 1)
    assert sorted(model.state_dict())[:4] == [
        "blocks.0.conv.bias",
        "blocks.0.conv.weight",
        "blocks.0.conv_in.bias",
        "blocks.0.conv_in.weight",
    ]
    assert not any("mask" in key for key in model.state_dict())  # masks are rebuilt, never stored


def test_a_block_is_the_input_plus_its_branch() -> None:
    """Figure 5: x + conv_out(relu(conv(relu(conv_in(relu(x)))))) (the input once, not twice)."""
    block = tiny().blocks[0]
    x = torch.randn(2, 8, 5, 5, dtype=torch.float64)
    branch = block.conv_out(F.relu(block.conv(F.relu(block.conv_in(F.relu(x))))))
    torch.testing.assert_close(block(x), x + branch, rtol=0, atol=1e-12)


@pytest.mark.parametrize("config", [TINY, TINY_RGB])
def test_every_output_sees_only_earlier_pixels(config: dict) -> None:
    """The gradient of logit (k, i, j) is zero for every later pixel, and for colours >= k of pixel (i, j)."""
    model = tiny(**config)
    size, channels = model.config.image_size, model.config.channels
    x = binary((1, channels, size, size)).requires_grad_(True)
    out = model(x)
    order = torch.arange(size * size).view(size, size)
    for i, j in [(0, 0), (0, 5), (3, 0), (3, 4), (5, 5), (size - 1, size - 1)]:
        for k in range(channels):
            (grad,) = torch.autograd.grad(out[0, k, i, j], x, retain_graph=True)
            seen = grad[0] != 0  # (C, H, W)
            assert not seen[:, order > i * size + j].any(), f"logit {k} of ({i}, {j}) sees a later pixel"
            assert seen[:k, i, j].all() and not seen[k:, i, j].any(), f"colour {k} of ({i}, {j}): wrong colours"
            if i > 0 and j > 0:  # and it sees the pixels just before it (the receptive field is not empty)
                assert seen[:, i - 1, j].all() and seen[:, i, j - 1].all()


def test_the_masked_network_has_the_papers_blind_spot() -> None:
    """Stacked masked kernels leave a blind spot up and to the right (what Gated PixelCNN fixes): with 7x7 in and
    two 3x3 blocks, pixel (i, j) sees (i - 2, j + 4) but not (i - 1, j + 4), which is nearer."""
    model = tiny(image_size=12, n_residual=2, residual_channels=4, head_channels=8)
    x = binary((1, 1, 12, 12)).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[0, 0, 6, 3], x)
    assert grad[0, 0, 4, 7] != 0 and grad[0, 0, 5, 7] == 0


# -- the likelihood -----------------------------------------------------------------------------------
def test_log_prob_is_the_sum_of_the_pixels_bernoulli_log_probabilities() -> None:
    model = tiny()
    x = binary((3, 1, 8, 8))
    with torch.inference_mode():
        p = torch.sigmoid(model(x))
        expected = torch.where(x == 1, p, 1 - p).log().sum(dim=(1, 2, 3))
        torch.testing.assert_close(model.log_prob(x), expected, rtol=1e-10, atol=1e-10)
        assert torch.allclose(model.bits_per_dim(x), -expected / (64 * math.log(2)))


def test_log_prob_refuses_grey_or_misshapen_images_in_one_sentence() -> None:
    model = tiny()
    with pytest.raises(ZooError, match=r"binary pixels .* binarize=stochastic"):
        model.log_prob(torch.full((1, 1, 8, 8), 0.5))
    with pytest.raises(ZooError, match="8x8 images, got 9x9"):
        model.log_prob(torch.zeros(1, 1, 9, 9))
    with pytest.raises(ZooError, match="1 channel"):
        model.log_prob(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"channels": 2}, "grey .* or RGB"),
        ({"input_kernel": 6}, "must be odd"),
        ({"channels": 3, "residual_channels": 16}, "multiples of 3"),
        ({"n_residual": 65}, "n_residual"),
    ],
)
def test_bad_configs_are_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(ZooError, match=match):
        PixelCNN.from_config(config)


# -- sampling -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [TINY, TINY_RGB, {**TINY, "input_kernel": 5, "n_residual": 0}])
def test_cached_sampling_draws_the_naive_loops_images(config: dict) -> None:
    model = tiny(**config)
    with torch.inference_mode():
        naive = sample_naive(model, 3, torch.Generator().manual_seed(7))
        cached = sample_cached(model, 3, torch.Generator().manual_seed(7))
    assert torch.equal(naive, cached)
    assert 0.1 < float(naive.mean()) < 0.9  # real draws, not a constant image


def test_cached_logits_equal_the_full_forward_pass() -> None:
    """Every pixel's logits from the caches equal those of one forward pass over the final image."""
    model = tiny(image_size=10, n_residual=3, residual_channels=4, head_channels=8)
    noise = draw_noise(model, 2, torch.Generator().manual_seed(0))
    sampler = CachedPixelCNN(model, 2)
    got = torch.zeros(2, 1, 10, 10, dtype=torch.float64)
    with torch.inference_mode():
        for i in range(10):
            sampler.start_row(i)
            for j in range(10):
                got[:, :, i, j] = sampler.logits(j)
                sampler.set_pixel(i, j, 0, (noise[:, 0, i, j] < torch.sigmoid(got[:, 0, i, j])).double())
        torch.testing.assert_close(got, model(sampler.image()), rtol=0, atol=1e-11)


def test_sample_api_and_its_errors() -> None:
    model = tiny()
    a, b = model.sample(3, seed=4), model.sample(3, seed=4)
    assert a.shape == (3, 1, 8, 8) and a.dtype == torch.float32 and torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, model.sample(3, seed=5))
    with pytest.raises(ZooError, match="sampling method 'slow'"):
        model.sample(1, method="slow")
    with pytest.raises(ZooError, match="at least 1"):
        model.sample(0)


# -- the published model ------------------------------------------------------------------------------
@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> PixelCNN:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    return zoo.load("pixelcnn.mnist")


def golden_outputs(model: PixelCNN) -> dict[str, torch.Tensor]:
    digits = load_dataset("mnist5k", split="test", binarize="stochastic")
    x = torch.stack([digits[i]["image"] for i in range(8)])
    with torch.inference_mode():
        tiny_model = tiny()
        return {
            "tiny_forward": tiny_model(binary((2, 1, 8, 8), seed=1)),
            "tiny_samples": tiny_model.sample(2, seed=0),
            "mnist_log_prob": model.log_prob(x),
            "mnist_samples": model.sample(2, seed=0),
        }


def test_published_model_matches_its_golden_outputs(published: PixelCNN) -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs(published)
    torch.testing.assert_close(got["tiny_forward"], golden["tiny_forward"], rtol=0, atol=1e-10)
    assert torch.equal(got["tiny_samples"], golden["tiny_samples"])
    torch.testing.assert_close(got["mnist_log_prob"], golden["mnist_log_prob"], rtol=1e-5, atol=1e-3)
    assert (got["mnist_samples"] != golden["mnist_samples"]).float().mean() < 0.01  # float32 noise may flip a pixel


def test_published_model_card_and_cli(published: PixelCNN, tmp_path: Path) -> None:
    entry = zoo.info("pixelcnn.mnist")
    nll = next(m for m in entry.metrics if m["name"] == "nll-binarized")
    assert nll["split"] == "test" and nll["dataset_options"] == {"binarize": "stochastic"}
    assert 60 < nll["value"] < 150  # nats; the independent-pixel baseline is about 206
    assert "zoo train pixelcnn" in entry.made_by["command"] and published.pixel_levels == 2
    result = CliRunner().invoke(
        cli, ["sample", "pixelcnn.mnist", "-n", "4", "--seed", "1", "-o", str(tmp_path / "g.png")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").stat().st_size > 100


@pytest.mark.slow
def test_zoo_eval_reproduces_the_card(published: PixelCNN) -> None:
    """`zoo eval pixelcnn.mnist --metric nll-binarized` gives the held-out NLL in nats recorded in the card."""
    result = CliRunner().invoke(cli, ["eval", "pixelcnn.mnist", "--metric", "nll-binarized", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("pixelcnn.mnist").metrics if m["name"] == "nll-binarized")
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)  # recorded on another CPU: float32 noise


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs(zoo.load("pixelcnn.mnist")).items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
